"""聊城实施方案 四(一) through the service, hand-worked: an application for 因病致贫重病患者
identified on 2024-03-10 (applied 2024-02-20) reaches back to 2023-02-01, the first day of
the application month less 12 months; the look-back claims of 2023 and the 2024 claim
form one benefit period of 2024, with one 1万 deductible and one 2万 cap.

Claims settled at the desk as an ordinary insured person (insurance pre-settled at 0, so
the burden is the whole policy scope; 聊城 pays an ordinary person no assistance):

- c0 2023-01-31, 3000.00: a day before the window, stays 2023's ordinary claim: 0.00.
- c1 2023-02-01, 8000.00: the window's first day, joins 2024's period: base 8000,
  F = 60% × max(0, 8000 − 10000) = 0.00.
- c2 2023-11-15, 5000.00: base 13000, F = 60% × 3000 = 1800.00: 补付 1800.00.
- c3 2024-03-09, 40000.00 (the eve of identification): base 53000, F = 60% × 43000 = 25800,
  increment 24000, but 2万 − 1800 = 18200 left: 补付 18200.00.

The difference paid: 0 + 1800 + 18200 = 20000.00, the cap, exactly. A later 2024 claim
finds the cap used up; a 2025 claim is ordinary again (one identification, one natural
year); a second application in 2024 is refused with the clause.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from jiuzhu.storage.models import Accumulator, Adjustment, CategoryMembership, Person
from tests.application_api import VISIT, Desk, make_desk
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim

__all__ = ["db_url"]

PERSON = make_id(301)
D = dt.date


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "liaocheng-2023", "371502", D(2023, 1, 31))


def claim(ref: str, day: str, scope: str) -> dict[str, Any]:
    return inpatient_claim(1, PERSON, scope, claim_id=ref, settlement_date=day, admission_date=day)


def submit(desk: Desk, **over: Any) -> Any:
    body = {
        "id_number": PERSON,
        "kind": "illness_impoverished",
        "applicant_name": "张小三",
        "township": "侯营镇",
        "reason": "肝癌术后，医疗费用负担重",
        "account": {"holder": "张小三", "bank": "聊城农商银行", "number": "6228480012345678"},
        **over,
    }
    return desk.submit(**body)


def test_a_look_back_into_the_previous_year_pays_the_difference_exactly(desk: Desk) -> None:
    settled = {
        ref: desk.settle(claim(ref, day, scope))
        for ref, day, scope in [
            ("c0", "2023-01-31", "3000.00"),
            ("c1", "2023-02-01", "8000.00"),
            ("c2", "2023-11-15", "5000.00"),
        ]
    }
    assert {s["settlement"]["medical_assistance"] for s in settled.values()} == {"0.00"}

    desk.clock.day = D(2024, 2, 20)
    r = submit(desk)
    assert r.status_code == 201, r.text
    app = r.json()["application"]
    assert app["state"] == "received" and app["version"] == 1
    assert app["person"]["id_number"] == PERSON[:4] + "*" * 10 + PERSON[-4:]
    assert app["due"] == "2024-02-25"  # 受理 5 days (assumed)
    aid = app["id"]
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept", opinion="材料齐全，受理")

    desk.clock.day = D(2024, 2, 22)
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": "2024-02-22"})
    desk.clock.day = D(2024, 2, 23)
    desk.ok(
        "clerk",
        aid,
        "township_approve",
        opinion="情况属实，同意上报",
        publicity_start="2024-02-24",
        publicity_end="2024-03-01",
    )
    early = desk.step("clerk", aid, "close_publicity")
    assert early.status_code == 422 and "尚未期满" in early.text
    desk.clock.day = D(2024, 3, 2)
    desk.ok("clerk", aid, "close_publicity")

    settled["c3"] = desk.settle(claim("c3", "2024-03-09", "40000.00"))
    assert settled["c3"]["settlement"]["medical_assistance"] == "0.00"  # not yet identified

    desk.clock.day = D(2024, 3, 10)
    d = desk.ok("reviewer", aid, "assess", opinion="按认定后待遇重新计算")
    assert d["assessment"]["amount"] == "20000.00"
    assert d["assessment"]["identified_on"] == "2024-03-10"
    changed = {c["claim_id"]: c for c in d["assessment"]["lines"]}
    assert set(changed) == {"c2", "c3"}
    assert [(x["benefit"], x["before"], x["after"]) for x in changed["c2"]["changes"]] == [
        ("medical_assistance", "0.00", "1800.00")
    ]
    assert [(x["benefit"], x["delta"]) for x in changed["c3"]["changes"]] == [
        ("medical_assistance", "18200.00")
    ]
    assert "计入 2024 年度的救助待遇和救助限额" in changed["c2"]["category"]
    desk.ok("reviewer", aid, "review", opinion="同意")

    desk.clock.day = D(2024, 3, 12)
    own = desk.step("reviewer", aid, "approve", opinion="同意")
    assert own.status_code == 403  # a reviewer does not approve
    d = desk.ok("approver", aid, "approve", opinion="同意救助")
    assert d["application"]["state"] == "result_publicity"
    [notice] = [n for n in d["notices"] if n["kind"] == "approval"]
    assert notice["number"] == "[2024]第 1 号"
    assert notice["values"]["amount"] == "20000.00"
    assert notice["values"]["amount_words"] == "贰万元整"
    [instruction] = d["instructions"]
    assert instruction["amount"] == "20000.00" and instruction["payee_kind"] == "person"

    current = {
        ref: desk.client.get(f"/settlements/{s['id']}", headers=desk.h("hospital")).json()
        for ref, s in settled.items()
    }
    assert {ref: c["current"]["medical_assistance"] for ref, c in current.items()} == {
        "c0": "0.00",
        "c1": "0.00",
        "c2": "1800.00",
        "c3": "18200.00",
    }
    assert all(c["settlement"]["medical_assistance"] == "0.00" for c in current.values())
    [adj] = current["c2"]["adjustments"]
    assert adj["direction"] == "补付" and adj["cause"]["kind"] == "identification"
    assert "认定为因病致贫重病患者" in adj["lines"][0]["text"]
    store = desk.app.state.store
    with store.sessions() as s:
        pid = s.scalar(select(Person.id).where(Person.id_number == PERSON))
        total = sum(a.amount_fen for a in s.scalars(select(Adjustment)))
        assert total == 2_000_000
        pools = s.get(Accumulator, (pid, 2024))
        assert pools is not None
        assert pools.pools["medical_assistance/main"] == {"base": 5_300_000, "paid": 2_000_000}
        [m] = s.scalars(select(CategoryMembership).where(CategoryMembership.person_id == pid))
        assert (m.category, m.valid_from, m.valid_to, m.applied_on) == (
            "illness_impoverished",
            D(2024, 3, 10),
            D(2024, 12, 31),
            D(2024, 2, 20),
        )

    desk.clock.day = D(2024, 3, 19)
    desk.ok("approver", aid, "close_publicity")
    desk.clock.day = D(2024, 3, 20)
    d = desk.ok("approver", aid, "pay", voucher="ZF2024-0001")
    assert d["application"]["state"] == "paid" and not d["application"]["open"]
    assert d["instructions"][0]["payment"]["account"]["number"] == "************5678"

    # the cap is used up for 2024; 2025 is an ordinary year again
    later = desk.settle(claim("c4", "2024-04-01", "10000.00"))
    assert later["settlement"]["category"] == "illness_impoverished"
    assert later["settlement"]["medical_assistance"] == "0.00"
    next_year = desk.settle(claim("c5", "2025-01-10", "30000.00"))
    assert next_year["settlement"]["category"] == "ordinary"

    # 一个年度内不得重复申请
    desk.clock.day = D(2024, 6, 1)
    again = submit(desk)
    assert again.status_code == 409, again.text
    [err] = again.json()["errors"]
    assert err["field"] == "kind"
    assert "一个年度内不得重复申请" in err["message"] and "聊城实施方案 四(一)" in err["message"]
    assert app["number"] in err["message"]


def test_one_open_application_per_person_and_kind(desk: Desk) -> None:
    desk.clock.day = D(2024, 2, 20)
    assert submit(desk).status_code == 201
    second = submit(desk)
    assert second.status_code == 409
    assert "已有同类申请在办理中" in second.json()["errors"][0]["message"]
