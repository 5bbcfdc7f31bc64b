"""茂民规〔2018〕3号 二(四) 零星报销 through the service, hand-worked.

A 低保 person settled at a desk in April (1000.00, insurance 0: 住院救助 800.00, and the
200.00 left counts in the year's 二次医疗救助 base), then a stay at a hospital not on the
network: total 25000.00 (全自费 5000.00, policy scope 20000.00), basic insurance 10000.00
paid by the insurer. Settled as the desk would: 住院救助 80% × (20000 − 10000) = 8000.00
(二(二)2, 6万 a year); 二次医疗救助 on all that is left, 25000 − 10000 − 8000 = 7000, base
200 + 7000 = 7200 above its 3000 起付线 at 80%: 3360.00 (二(二)3(2)). Paid to the person:
11360.00; 个人负担 25000 − 10000 − 8000 − 3360 = 3640.00.

The same issuer's bill number a second time is refused, paid or not; so is a bill for a
visit already settled at a desk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from jiuzhu.storage.models import Application, SettlementRecord
from tests.application_api import Desk, hold, make_desk
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim

__all__ = ["db_url"]

D = dt.date
PERSON = make_id(601, "440902")
ACCOUNT = {"holder": "陈低保", "bank": "茂名农商银行", "number": "6217000010203040"}


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "maoming-2018", "440902", D(2019, 4, 1))


def bill(number: str = "FP-0001", day: str = "2019-05-10", **over: Any) -> dict[str, Any]:
    return {
        "issuer": "茂名市某镇卫生院",
        "bill_number": number,
        "visit_type": "inpatient",
        "settlement_date": day,
        "admission_date": day,
        "hospital_level": 2,
        "referred": True,
        "total": "25000.00",
        "full_self_pay": "5000.00",
        "partial_self_pay": "0.00",
        "policy_scope": "20000.00",
        "insurance": {"basic_insurance": "10000.00", "critical_illness_insurance": "0.00"},
        **over,
    }


def submit(desk: Desk, the_bill: dict[str, Any]) -> Any:
    return desk.submit(
        id_number=PERSON,
        kind="scattered_reimbursement",
        applicant_name="陈低保",
        township="袂花镇",
        account=ACCOUNT,
        bill=the_bill,
    )


def test_a_bill_settled_as_the_desk_would_and_its_duplicate_refused(desk: Desk) -> None:
    hold(desk, PERSON, "dibao", "2019-01-01")
    desk.settle(inpatient_claim(1, PERSON, "1000.00", settlement_date="2019-04-01",
                                admission_date="2019-04-01"))  # fmt: skip
    desk.clock.day = D(2019, 5, 20)
    r = submit(desk, bill())
    assert r.status_code == 201, r.text
    aid = r.json()["application"]["id"]
    assert r.json()["bill"]["bill_number"] == "FP-0001"
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept")
    d = desk.ok("reviewer", aid, "assess")
    assert d["assessment"]["amount"] == "11360.00"
    [lines] = d["assessment"]["lines"]
    assert lines["hospital"] == "茂名市某镇卫生院"
    assert [(c["benefit"], c["after"]) for c in lines["changes"]] == [
        ("medical_assistance", "8000.00"),
        ("secondary_assistance", "3360.00"),
    ]
    desk.ok("reviewer", aid, "review", opinion="票据真实")
    with desk.app.state.store.sessions() as s:
        before = s.scalar(select(func.count()).select_from(SettlementRecord))
    d = desk.ok("approver", aid, "approve", opinion="同意报销")
    assert d["application"]["state"] == "payment"
    with desk.app.state.store.sessions() as s:
        rec = s.scalars(select(SettlementRecord).order_by(SettlementRecord.seq.desc())).first()
        assert s.scalar(select(func.count()).select_from(SettlementRecord)) == before + 1
        assert rec is not None
        assert (rec.result["medical_assistance"], rec.result["secondary_assistance"]) == (
            "8000.00",
            "3360.00",
        )
        assert rec.result["personal"] == "3640.00"
    d = desk.ok("approver", aid, "pay", voucher="MM-0001")
    assert d["instructions"][0]["payment"]["account"]["number"].endswith("3040")
    assert d["instructions"][0]["amount"] == "11360.00"

    again = submit(desk, bill())
    assert again.status_code == 409
    [err] = again.json()["errors"]
    assert err["field"] == "bill.bill_number"
    assert "茂名市某镇卫生院 的发票号 FP-0001 已用于申请" in err["message"]
    # the same number in full-width characters is the same bill
    again = submit(desk, bill("ＦＰ-０００１", day="2019-05-11"))
    assert again.status_code == 409

    desk_settled = submit(desk, bill("FP-0002", day="2019-04-01"))
    assert desk_settled.status_code == 409
    assert desk_settled.json()["errors"][0]["field"] == "bill.settlement_date"
    assert "已一站式结算" in desk_settled.json()["errors"][0]["message"]

    # a later desk claim of the year sees the bill's accumulators
    later = desk.settle(inpatient_claim(6, PERSON, "70000.00", settlement_date="2019-06-01",
                                        admission_date="2019-06-01"))  # fmt: skip
    # 住院救助 6万 a year: 60000 − 800 (the April claim) − 8000 (the bill) = 51200 left
    assert later["settlement"]["medical_assistance"] == "51200.00"


def test_a_bad_bill_names_its_field_and_nothing_is_written(desk: Desk) -> None:
    hold(desk, PERSON, "dibao", "2019-01-01")
    desk.clock.day = D(2019, 5, 20)
    r = submit(desk, bill(total="24000.00", issuer=""))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "bill.issuer" in fields
    r = submit(desk, bill(total="24000.00"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bill.total"
    r = submit(desk, bill(category="dibao"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bill.category"
    r = submit(desk, bill(day="2019-06-01"))
    assert r.status_code == 422 and "晚于今天" in r.text
    with desk.app.state.store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0
