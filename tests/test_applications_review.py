"""Benefits decided on review, through the service, hand-worked; and the written refusal.

- 晋医保发〔2019〕46号 三(十一) 低收入救助对象: 住院救助 goes by application (the desk pays
  0.00 and says the route). A stay of 30000.00 with 5000.00 paid by basic insurance leaves
  a burden of 25000.00; the 低收入 schedule (assumed: 起付线 5000, 50% up to 20000 above it)
  pays 50% × (25000 − 5000) = 10000.00 once approved, after 入户调查, 公示 and 县级审批.
- The same route refused at township review: the written notice of 附件5, numbered per
  township and year, with the appeal deadlines as dates: issued 2020-05-06, 行政复议 within
  60 days: until 2020-07-05; a lawsuit within 6 months: until 2020-11-06.
- 三(十一) out of area without 备案 (H-RV-04): 低保 75%, 0.00 at the desk, 7500.00 approved.
- 闽医保〔2021〕93号 二(二)9,10 依申请一次性救助 (H-RV-03): 50% of the accepted 30000.00 =
  15000.00, then all that is left of c2 (12800): F = 6400 but 2万 − 15000 = 5000.00; 20000.00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.application_api import VISIT, Desk, hold, make_desk
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim

__all__ = ["db_url"]

D = dt.date
LOW = make_id(501, "140105")
LOW_B = make_id(502, "140105")
LOW_C = make_id(503, "140105")
AWAY = make_id(504, "140105")
MONITORED = make_id(505, "350102")


@pytest.fixture
def shanxi(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "shanxi-2019", "140105", D(2020, 3, 1))


@pytest.fixture
def fujian(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "fujian-2022", "350102", D(2022, 3, 1))


def stay(person: str, ref: str, day: str, scope: str, basic: str, **over: Any) -> dict[str, Any]:
    over.setdefault("insurance", {"basic_insurance": basic, "critical_illness_insurance": "0.00"})
    return inpatient_claim(
        1, person, scope, claim_id=ref, settlement_date=day, admission_date=day, **over
    )


def to_county(desk: Desk, person: str, kind: str, township: str = "坞城街道") -> str:
    """Submit, papers, 受理, 入户调查, 乡镇审核 and 公示: the application at 县级审核."""
    r = desk.submit(id_number=person, kind=kind, applicant_name="周低收", township=township)
    assert r.status_code == 201, r.text
    aid = str(r.json()["application"]["id"])
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept")
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": desk.clock.day.isoformat()})
    start = desk.clock.day + dt.timedelta(days=1)
    desk.ok(
        "clerk", aid, "township_approve", opinion="同意", publicity_start=start.isoformat(),
        publicity_end=(start + dt.timedelta(days=6)).isoformat(),
    )  # fmt: skip
    desk.clock.day = start + dt.timedelta(days=7)
    desk.ok("clerk", aid, "close_publicity")
    return aid


def test_low_income_inpatient_care_by_application(shanxi: Desk) -> None:
    hold(shanxi, LOW, "low_income", "2019-09-01")
    c1 = shanxi.settle(stay(LOW, "c1", "2020-03-01", "30000.00", "5000.00"))
    assert c1["settlement"]["medical_assistance"] == "0.00"
    [route] = [ln for ln in c1["settlement"]["lines"] if ln["benefit"] == "medical_assistance"]
    assert (
        "一站式结算不予支付" in route["text"] and route["clause"] == "晋医保发〔2019〕46号 三(十一)"
    )

    shanxi.clock.day = D(2020, 3, 5)
    aid = to_county(shanxi, LOW, "low_income")
    d = shanxi.ok("reviewer", aid, "assess", claims=[{"settlement_id": c1["id"]}])
    assert d["assessment"]["amount"] == "10000.00"
    [change] = d["assessment"]["lines"][0]["changes"]
    assert (change["benefit"], change["before"], change["after"]) == (
        "medical_assistance",
        "0.00",
        "10000.00",
    )
    shanxi.ok("reviewer", aid, "review", opinion="同意")
    d = shanxi.ok("approver", aid, "approve", opinion="同意")
    shanxi.clock.day += dt.timedelta(days=7)
    shanxi.ok("approver", aid, "close_publicity")
    missing = shanxi.step("approver", aid, "pay", voucher="SX-1")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "account"
    d = shanxi.ok("approver", aid, "pay", voucher="SX-1", account={
        "holder": "周低收", "bank": "山西农信", "number": "6230000012349876"})  # fmt: skip
    assert d["application"]["state"] == "paid"
    now = shanxi.client.get(f"/settlements/{c1['id']}", headers=shanxi.h("hospital")).json()
    assert now["current"]["medical_assistance"] == "10000.00"
    history = [e["action"] for e in d["history"]]
    assert history[:2] == ["submit", "attach_document"]
    assert history[-1] == "pay" and "approve" in history and "notice" in history


def test_a_refusal_is_a_written_notice_with_the_appeal_deadlines(shanxi: Desk) -> None:
    for person in (LOW_B, LOW_C):
        hold(shanxi, person, "low_income", "2019-09-01")
    shanxi.clock.day = D(2020, 4, 20)
    r = shanxi.submit(
        id_number=LOW_B, kind="low_income", applicant_name="吴某某", township="坞城街道"
    )
    aid = r.json()["application"]["id"]
    shanxi.attach_all("clerk", aid)
    shanxi.ok("clerk", aid, "accept")
    shanxi.clock.day = D(2020, 4, 22)
    shanxi.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": "2020-04-22"})
    shanxi.clock.day = D(2020, 5, 6)
    no_clause = shanxi.step("clerk", aid, "township_refuse", opinion="家庭收入超过低收入标准")
    assert no_clause.status_code == 422 and no_clause.json()["errors"][0]["field"] == "clause"
    d = shanxi.ok(
        "clerk",
        aid,
        "township_refuse",
        opinion="经入户调查，家庭人均收入超过当地低收入家庭认定标准",
        clause="晋医保发〔2019〕46号 三(十一)",
    )
    assert d["application"]["state"] == "refused" and not d["application"]["open"]
    [notice] = d["notices"]
    v = notice["values"]
    assert notice["number"] == "[2020]第 1 号" and notice["kind"] == "refusal"
    assert (v["issued_on"], v["review_until"], v["lawsuit_until"]) == (
        "2020年5月6日",
        "2020年7月5日",
        "2020年11月6日",
    )
    assert v["issuer"] == "坞城街道办事处" and v["decision"] == "不予救助"
    assert v["received_on"] == "2020年4月20日"

    # the next refusal of this township this year is 第 2 号; another township's is its 第 1 号
    r = shanxi.submit(
        id_number=LOW_C, kind="low_income", applicant_name="郑某", township="坞城街道"
    )
    other = r.json()["application"]["id"]
    d = shanxi.ok(
        "civil", other, "not_accept", opinion="非本辖区户籍", clause="晋医保发〔2019〕46号 三(十一)"
    )
    assert d["notices"][0]["number"] == "[2020]第 2 号"
    assert d["notices"][0]["values"]["decision"] == "不予受理"
    r = shanxi.submit(
        id_number=LOW_C, kind="low_income", applicant_name="郑某", township="黄陵街道"
    )
    assert r.status_code == 201  # refused before: not open any more
    third = r.json()["application"]["id"]
    d = shanxi.ok(
        "clerk", third, "not_accept", opinion="材料不实", clause="晋医保发〔2019〕46号 三(十一)"
    )
    assert d["notices"][0]["number"] == "[2020]第 1 号"


def test_care_out_of_area_without_filing_goes_by_application(shanxi: Desk) -> None:
    hold(shanxi, AWAY, "dibao", "2019-09-01")
    c1 = shanxi.settle(stay(AWAY, "c1", "2020-03-01", "12000.00", "2000.00", out_of_area=True))
    assert c1["settlement"]["medical_assistance"] == "0.00"
    shanxi.clock.day = D(2020, 3, 2)
    aid = to_county(shanxi, AWAY, "out_of_area")
    d = shanxi.ok("reviewer", aid, "assess", claims=[{"settlement_id": c1["id"]}])
    assert d["assessment"]["amount"] == "7500.00"  # 75% × (12000 − 2000)


def test_one_off_assistance_in_fujian(fujian: Desk) -> None:
    hold(fujian, MONITORED, "monitored", "2022-01-01")
    c1 = fujian.settle(
        stay(MONITORED, "c1", "2022-03-01", "50000.00", "25000.00", total="80000.00",
             full_self_pay="30000.00",
             insurance={"basic_insurance": "25000.00", "critical_illness_insurance": "5000.00"})
    )  # fmt: skip
    c2 = fujian.settle(
        stay(MONITORED, "c2", "2022-06-01", "20000.00", "12000.00", total="30000.00",
             full_self_pay="10000.00")
    )  # fmt: skip
    assert (c1["settlement"]["medical_assistance"], c2["settlement"]["medical_assistance"]) == (
        "12350.00",
        "5200.00",
    )
    fujian.clock.day = D(2022, 7, 1)
    r = fujian.submit(
        id_number=MONITORED, kind="one_off", applicant_name="林监测", township="鼓东街道"
    )
    aid = r.json()["application"]["id"]
    fujian.attach_all("clerk", aid)
    fujian.ok("clerk", aid, "accept")
    d = fujian.ok(
        "reviewer",
        aid,
        "assess",
        claims=[{"settlement_id": c1["id"], "accepted": "30000.00"}, {"settlement_id": c2["id"]}],
    )
    assert d["assessment"]["amount"] == "20000.00"
    amounts = {
        c["claim_id"]: [(x["benefit"], x["after"]) for x in c["changes"]]
        for c in d["assessment"]["lines"]
    }
    assert amounts == {
        "c1": [("illness_poverty_assistance", "15000.00")],
        "c2": [("illness_poverty_assistance", "5000.00")],
    }
    fujian.ok("reviewer", aid, "review", opinion="同意")
    d = fujian.ok("approver", aid, "approve", opinion="同意")
    assert d["instructions"][0]["amount"] == "20000.00"
    r = fujian.submit(
        id_number=MONITORED, kind="one_off", applicant_name="林监测", township="鼓东街道"
    )
    assert r.status_code == 409  # still open (结果公示)


def test_identifiers_are_not_masked_as_id_numbers(
    shanxi: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settlement's id is 32 hex digits; now and then 15 or more of them in a row are
    decimal, which looks like an ID number to the free-text masking. An identifier field
    (the settlement chosen, a voucher) is taken as typed, so the assessment finds it (CI
    once failed on such an id: 不是申请人的结算)."""
    import uuid

    import jiuzhu.usecases.settle as settle_module

    digits = uuid.UUID("82744ad2-5d7b-4202-1234-567890121434")
    real = uuid.uuid4
    monkeypatch.setattr(settle_module.uuid, "uuid4", lambda: digits)
    hold(shanxi, LOW, "low_income", "2019-09-01")
    c1 = shanxi.settle(stay(LOW, "c1", "2020-03-01", "30000.00", "5000.00"))
    monkeypatch.setattr(settle_module.uuid, "uuid4", real)
    assert c1["id"] == digits.hex
    shanxi.clock.day = D(2020, 3, 5)
    aid = to_county(shanxi, LOW, "low_income")
    d = shanxi.ok("reviewer", aid, "assess", claims=[{"settlement_id": c1["id"]}])
    assert d["assessment"]["amount"] == "10000.00"
