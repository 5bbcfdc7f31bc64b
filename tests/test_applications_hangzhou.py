"""杭政办函〔2022〕70号 through the service, hand-worked.

二(二) 支出型: identified 2023-07-15, the 6 months before reach back to 2023-01-15. Claims
settled at the desk as an ordinary person (insurance pre-settled at 0; 杭州 pays an
ordinary person no assistance), 1000.00 each:

- c0 2023-01-14, a day outside the window: stays ordinary, 0.00 (its 1000 still counts in
  the year's base);
- c1 2023-01-15, the window's first day: 70% (低边 standard, assumed) of F(2000) − F(1000)
  = 700.00;
- c2 2023-07-14, the eve of identification: F(3000) − F(2000) = 700.00.
Difference paid 1400.00; a desk claim after the approval is paid 700.00 at once.

二(四) 特殊救助 (the case H-RV-01): a 特困 person's claims c1 (left 12000, accepted 12000.00)
and c2 (left 5000, all accepted): 60% × 12000 = 7200.00, F(17000) − F(12000) = 3000.00;
10200.00 in all. The approvals live in their own table: a reversal of another claim of the
year re-settles the year and keeps them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.application_api import Desk, hold, make_desk
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim

__all__ = ["db_url"]

D = dt.date
SPENDER = make_id(401, "330102")
POOR = make_id(402, "330102")


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "hangzhou-2023", "330102", D(2023, 1, 14))


def claim(person: str, ref: str, day: str, scope: str = "1000.00", **over: Any) -> dict[str, Any]:
    return inpatient_claim(
        1, person, scope, claim_id=ref, settlement_date=day, admission_date=day, **over
    )


def test_spending_hardship_claims_just_inside_and_just_outside_six_months(desk: Desk) -> None:
    s = {
        ref: desk.settle(claim(SPENDER, ref, day))
        for ref, day in [("c0", "2023-01-14"), ("c1", "2023-01-15"), ("c2", "2023-07-14")]
    }
    assert {x["settlement"]["category"] for x in s.values()} == {"ordinary"}
    r = desk.submit(
        id_number=SPENDER,
        kind="因病纳入低保、低边的支出型困难人员认定",  # the kind by its name
        applicant_name="钱支出",
        township="清波街道",
        received_on="2023-07-14",
    )
    assert r.status_code == 201, r.text
    aid = r.json()["application"]["id"]
    desk.attach_all("civil", aid)
    d = desk.ok("civil", aid, "accept", opinion="民政认定文书齐全")
    assert d["application"]["state"] == "county_review"  # this kind has no home visit

    desk.clock.day = D(2023, 7, 15)
    d = desk.ok("reviewer", aid, "assess")
    assert d["assessment"]["amount"] == "1400.00"
    lines = {c["claim_id"]: c for c in d["assessment"]["lines"]}
    assert set(lines) == {"c1", "c2"}  # c0 is a day outside
    assert [x["delta"] for x in lines["c1"]["changes"]] == ["700.00"]
    assert "追溯期 2023-01-15 至 2023-07-14" in lines["c1"]["category"]
    desk.ok("reviewer", aid, "review", opinion="同意")
    desk.clock.day = D(2023, 7, 16)
    d = desk.ok("approver", aid, "approve", opinion="同意")
    assert d["application"]["state"] == "payment"  # no result publicity for this kind
    current = {
        ref: desk.client.get(f"/settlements/{x['id']}", headers=desk.h("hospital")).json()
        for ref, x in s.items()
    }
    assert {k: v["current"]["medical_assistance"] for k, v in current.items()} == {
        "c0": "0.00",
        "c1": "700.00",
        "c2": "700.00",
    }
    assert current["c1"]["adjustments"][0]["cause"]["ref"] == d["application"]["number"]
    after = desk.settle(claim(SPENDER, "c3", "2023-07-20"))
    assert after["settlement"]["category"] == "spending_hardship"
    assert after["settlement"]["medical_assistance"] == "700.00"
    source = after["category_source"]["categories"]
    assert source == [
        {
            "category": "spending_hardship",
            "valid_from": "2023-07-15",
            "valid_to": None,
            "applied_on": "2023-07-14",
        }
    ]
    desk.ok("approver", aid, "pay", voucher="HZ-1", account={
        "holder": "钱支出", "bank": "杭州银行", "number": "6222000011112222"})  # fmt: skip
    assert desk.get(aid)["application"]["state"] == "paid"


def test_special_assistance_on_the_costs_the_reviewer_accepts(desk: Desk) -> None:
    hold(desk, POOR, "extreme_poor", "2023-01-01")
    c1 = desk.settle(
        claim(
            POOR, "c1", "2023-03-01", "38000.00",
            total="50000.00", full_self_pay="10000.00", partial_self_pay="2000.00",
            insurance={"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
        )
    )  # fmt: skip
    c2 = desk.settle(
        claim(
            POOR, "c2", "2023-05-01", "15000.00", total="20000.00", full_self_pay="5000.00",
            insurance={"basic_insurance": "10000.00", "critical_illness_insurance": "0.00"},
        )
    )  # fmt: skip
    other = desk.settle(claim(POOR, "c3", "2023-05-20", "2000.00"), who="hospital_b")
    assert c1["settlement"]["medical_assistance"] == "13000.00"
    assert c1["settlement"]["special_assistance"] == "0.00"  # not at the desk
    assert any("一站式结算不予支付" in ln["text"] for ln in c1["settlement"]["lines"])

    desk.clock.day = D(2023, 6, 1)
    r = desk.submit(
        id_number=POOR, kind="special_assistance", applicant_name="孙特困", township="清波街道"
    )
    assert r.status_code == 201, r.text
    aid = r.json()["application"]["id"]
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept")
    bad = desk.step(
        "reviewer", aid, "assess", claims=[{"settlement_id": c1["id"], "accepted": "12000"}]
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "claims[0].accepted"
    d = desk.ok(
        "reviewer",
        aid,
        "assess",
        claims=[{"settlement_id": c1["id"], "accepted": "12000.00"}, {"settlement_id": c2["id"]}],
    )
    assert d["assessment"]["amount"] == "10200.00"
    by_claim = {c["claim_id"]: c["changes"] for c in d["assessment"]["lines"]}
    assert [(x["benefit"], x["after"]) for x in by_claim["c1"]] == [
        ("special_assistance", "7200.00")
    ]
    assert [(x["benefit"], x["after"]) for x in by_claim["c2"]] == [
        ("special_assistance", "3000.00")
    ]
    engine_line = by_claim["c1"][0]["lines"][1]
    assert engine_line["text"].startswith("经审核批准（申请 ")
    assert engine_line["base"] == "12000.00"
    desk.ok("reviewer", aid, "review", opinion="负担仍然较重")
    d = desk.ok("approver", aid, "approve", opinion="同意")
    assert d["application"]["state"] == "result_publicity"
    assert d["publicities"][0]["stage"] == "result"
    assert d["publicities"][0]["ends_on"] == "2023-06-07"  # 7 days (assumed)

    # another hospital's claim of the year reversed: the year is re-settled, the approvals hold
    r = desk.client.post(
        f"/settlements/{other['id']}/reversal",
        json={"reason": "录入错误"},
        headers=desk.h("hospital_b"),
    )
    assert r.status_code == 200, r.text
    for x, special in ((c1, "7200.00"), (c2, "3000.00")):
        now = desk.client.get(f"/settlements/{x['id']}", headers=desk.h("hospital")).json()
        assert now["current"]["special_assistance"] == special
    again = desk.step(
        "reviewer", aid, "assess", claims=[{"settlement_id": c1["id"], "accepted": "1.00"}]
    )
    assert again.status_code == 409  # no longer in 县级审核
