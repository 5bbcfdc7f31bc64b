"""The settlement service through a real HTTP client (FastAPI's TestClient), on SQLite
and, when configured, PostgreSQL (tests/db_fixtures.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update

from jiuzhu.io.claims import ClaimIn
from jiuzhu.service.schemas import ClaimBody
from jiuzhu.storage.models import AuditEntry, Household, Person, SettlementRecord, StoredClaim
from tests.cli_helpers import invoke, settle
from tests.db_fixtures import db_url, make_id
from tests.service_api import MASKED, PERSON, Api, api
from tests.service_helpers import inpatient_claim, register

__all__ = ["api", "db_url"]

N_TOKENS = 6


def claim(n: int, scope: str = "20000.00", **over: Any) -> dict[str, Any]:
    return inpatient_claim(n, PERSON, scope, **over)


def test_auth_roles_and_jurisdiction(api: Api) -> None:
    register(api.app, PERSON)
    r = api.client.post("/settlements", json=claim(1), headers={"Idempotency-Key": "k"})
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "Authorization"
    r = api.client.post(
        "/settlements",
        json=claim(1),
        headers={"Authorization": "Bearer nope", "Idempotency-Key": "k"},
    )
    assert r.status_code == 401
    assert api.settle(claim(1), "k", who="reviewer").status_code == 403  # wrong role
    r = api.settle(claim(1), "k", who="other_hospital")  # 太原 hospital, 聊城 person
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "person_id"
    assert api.count(SettlementRecord) == 0
    sid = api.settle(claim(1), "k").json()["id"]
    # another hospital never sees it, not even that it exists; other roles by jurisdiction
    assert api.client.get(f"/settlements/{sid}", headers=api.h("other_hospital")).status_code == 404
    assert api.client.get(f"/settlements/{sid}", headers=api.h("hospital_b")).status_code == 404
    assert api.client.get(f"/settlements/{sid}", headers=api.h("civil")).status_code == 200
    r = api.reverse(sid, who="civil")
    assert r.status_code == 403  # civil affairs reads, does not reverse


def test_settlement_equals_the_cli(api: Api) -> None:
    register(api.app, PERSON)
    body = claim(4, "60000.00", full_self_pay="4000.00", partial_self_pay="1000.00")
    body.update(
        total="60000.00",
        policy_scope="55000.00",
        insurance={"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
    )
    r = api.settle(body, "k1")
    assert r.status_code == 201, r.json()
    out = r.json()
    cli = settle("liaocheng-2023", [{**body, "category": "dibao"}]).records[0]
    cli["person_id"] = MASKED
    assert out["settlement"] == cli
    assert out["person"]["id_number"] == MASKED and PERSON not in r.text
    assert out["category_source"]["source"] == "registry"
    assert out["category_source"]["applied"] == "dibao"
    assert out["adjustments"] == [] and out["reversal"] is None
    assert out["current"]["medical_assistance"] == cli["medical_assistance"]
    assert out["current"]["personal"] == cli["personal"]
    again = api.client.get(f"/settlements/{out['id']}", headers=api.h())
    assert again.status_code == 200 and again.json() == out


def test_a_stated_category_is_refused_eligibility_is_the_registry(api: Api) -> None:
    """Defect: a claim saying 特困 for a person the registry does not hold was paid as 特困."""
    r = api.settle(claim(1, category="extreme_poor"), "k1")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "category"
    assert "类别以登记为准" in r.json()["errors"][0]["message"]
    r = api.settle(claim(1, categories=[{"category": "dibao"}]), "k2")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "categories"
    review = [{"benefit": "special_assistance", "accepted": "20000.00", "application": "a1"}]
    r = api.settle(claim(1, reviewed=review), "k4")  # the bureau's review, not the desk's
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reviewed"
    assert api.count(SettlementRecord) == 0
    unknown = api.settle(claim(1), "k3").json()  # not in the registry: ordinary
    assert unknown["settlement"]["category"] == "ordinary"
    assert unknown["settlement"]["medical_assistance"] == "0.00"


def test_idempotent_retry_and_key_reuse(api: Api) -> None:
    register(api.app, PERSON)
    first = api.settle(claim(1), "same")
    assert first.status_code == 201
    retry = api.settle(claim(1), "same")
    assert retry.status_code == 200 and retry.json() == first.json()
    assert api.count(SettlementRecord) == 1
    other = api.settle(claim(2), "same")
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert api.count(SettlementRecord) == 1
    missing = api.client.post("/settlements", json=claim(2), headers=api.h())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"


def test_claim_ids_are_unique_per_hospital(api: Api) -> None:
    register(api.app, PERSON)
    first = api.settle(claim(1), "k1").json()
    again = api.settle(claim(1, scope="100.00"), "k2")  # same claim id, new key and body
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "claim_id"
    assert again.headers["Location"] == f"/settlements/{first['id']}"
    other_person = inpatient_claim(1, make_id(2))  # the same claim id for another person
    assert api.settle(other_person, "k3").status_code == 409
    # another hospital's claim ids are its own
    assert api.settle(claim(1), "k1", who="hospital_b").status_code == 201
    assert api.count(SettlementRecord) == 2


def test_by_claim_id_and_the_list(api: Api) -> None:
    register(api.app, PERSON)
    ids = [api.settle(claim(n), f"k{n}").json()["id"] for n in (1, 2, 3, 4)]
    api.settle(inpatient_claim(5, make_id(3)), "b5", who="hospital_b")
    r = api.client.get("/settlements/by-claim/c2", headers=api.h())
    assert r.status_code == 200 and r.json()["id"] == ids[1]
    assert (
        api.client.get("/settlements/by-claim/c2", headers=api.h("hospital_b")).status_code == 404
    )
    assert api.client.get("/settlements/by-claim/c9", headers=api.h()).status_code == 404
    page = api.client.get("/settlements?limit=3", headers=api.h()).json()
    assert [s["id"] for s in page["items"]] == ids[:3] and page["next_after"]
    rest = api.client.get(f"/settlements?limit=3&after={page['next_after']}", headers=api.h())
    assert [s["id"] for s in rest.json()["items"]] == ids[3:] and rest.json()["next_after"] is None
    dated = api.client.get(
        "/settlements?settled_from=2023-02-01&settled_to=2023-03-31", headers=api.h()
    ).json()
    assert [s["claim_id"] for s in dated["items"]] == ["c2", "c3"]
    api.reverse(ids[0])
    rev = api.client.get("/settlements?status=reversed", headers=api.h()).json()["items"]
    assert [s["id"] for s in rev] == [ids[0]]
    person = rev[0]["person"]["id"]
    mine = api.client.get(f"/settlements?person={person}&status=settled", headers=api.h())
    assert [s["id"] for s in mine.json()["items"]] == ids[1:]
    # a reviewer sees every hospital's within the jurisdiction
    everyone = api.client.get("/settlements", headers=api.h("reviewer")).json()["items"]
    assert len(everyone) == 5
    assert api.client.get("/settlements", headers=api.h("other_hospital")).json()["items"] == []


def test_pre_settlement_stores_nothing_and_uses_no_cap(api: Api) -> None:
    register(api.app, PERSON)
    api.settle(claim(1), "k1")
    before = (api.count(SettlementRecord), api.count(StoredClaim))
    r = api.client.post("/settlements/preview", json=claim(2), headers=api.h())
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["pre_settlement"] is True and out["settlement"]["medical_assistance"] == "14000.00"
    assert (api.count(SettlementRecord), api.count(StoredClaim)) == before
    r = api.client.post("/settlements/preview", json=claim(2), headers=api.h())
    assert r.json()["settlement"]["medical_assistance"] == "14000.00"  # still: nothing used
    real = api.settle(claim(2), "k2").json()
    assert real["settlement"] == out["settlement"]


def test_calendar_and_area_checks(api: Api) -> None:
    """Defects: a settlement date in the future, a patient born after it, a person outside
    the policy's area were all accepted."""
    register(api.app, PERSON)
    r = api.settle(claim(1, settlement_date="2024-07-01", admission_date="2024-07-01"), "f")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "settlement_date"
    assert "晚于今天" in r.json()["errors"][0]["message"]
    baby = make_id(4, birth="20230601")
    r = api.settle(inpatient_claim(3, baby), "b")
    fields = {e["field"] for e in r.json()["errors"]}
    assert r.status_code == 422 and fields == {"settlement_date", "admission_date"}
    r = api.settle(claim(3, admission_date="2023-03-05"), "a")  # admitted after discharge
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "admission_date"
    taiyuan = make_id(5, region="140105")
    r = api.settle(inpatient_claim(1, taiyuan), "t", who="admin")  # admin is no hospital
    assert r.status_code == 403
    outside = api.app.state.store
    assert outside.area == "3715"
    r = api.settle(inpatient_claim(1, taiyuan), "t", who="other_hospital")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"
    assert "适用地区" in r.json()["errors"][0]["message"]
    assert api.count(SettlementRecord) == 0


def test_bad_input_names_the_field_and_writes_nothing(api: Api) -> None:
    before = api.count(AuditEntry)
    r = api.settle(claim(1, total="1.00"), "a")
    assert r.status_code == 422
    assert r.json() == {
        "errors": [
            {
                "field": "total",
                "message": "医疗总费用 1.00 不等于 全自费 + 先行自付 + 政策范围内费用 = 20000.00",
            }
        ]
    }
    r = api.settle(claim(1, policy_scope=20000), "b")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "policy_scope"
    r = api.settle(claim(1, colour="red"), "c")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    bad_id = PERSON[:17] + ("0" if PERSON[-1] != "0" else "1")
    r = api.settle(claim(1, person_id=bad_id), "d")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"
    assert bad_id not in r.text
    r = api.settle(claim(1, settlement_date="2019-01-01", admission_date="2019-01-01"), "e")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "settlement_date"
    r = api.client.post(
        "/settlements",
        content=b"{not json",
        headers={**api.h(key="f"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "errors" in r.json()
    for model in (SettlementRecord, StoredClaim):
        assert api.count(model) == 0
    assert api.count(AuditEntry) == before
    with api.app.state.store.sessions() as s:
        assert s.scalar(text("SELECT count(*) FROM persons")) == 0


def test_reversal_adjusts_a_later_claim_and_rewrites_nothing(api: Api) -> None:
    # 聊城 低保: medical assistance 70%, yearly cap 30000.00; insurance given as 0
    register(api.app, PERSON)
    ids = []
    for n in (1, 2, 3):
        r = api.settle(claim(n), f"k{n}")
        assert r.status_code == 201
        ids.append(r.json()["id"])
        assert (
            r.json()["settlement"]["medical_assistance"]
            == ("14000.00", "14000.00", "2000.00")[n - 1]
        )
    answered = api.client.get(f"/settlements/{ids[2]}", headers=api.h()).json()
    r = api.reverse(ids[0], reason="")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = api.reverse(ids[0])
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["settlement"]["status"] == "reversed"
    assert out["settlement"]["reversal"]["reason"] == "录入错误"
    assert out["settlement"]["current"] is None
    assert out["adjusted_claims"] == len(out["changed"]) >= 1  # the reviewer's own claims
    assert not any(
        "medical_assistance" in c["changes"] for c in out["changed"] if c["claim_id"] == "c2"
    )
    third = [c for c in out["changed"] if c["claim_id"] == "c3"]
    assert third[0]["changes"]["medical_assistance"] == {"before": "2000.00", "after": "14000.00"}
    now = api.client.get(f"/settlements/{ids[2]}", headers=api.h()).json()
    assert now["settlement"] == answered["settlement"]  # what was answered stays
    assert now["current"]["medical_assistance"] == "14000.00"
    ma = [a for a in now["adjustments"] if a["benefit"] == "medical_assistance"]
    assert [(a["direction"], a["amount"]) for a in ma] == [("补付", "12000.00")]
    assert ma[0]["cause"]["kind"] == "reversal" and "录入错误" in ma[0]["cause"]["text"]
    assert "补付 12000.00 元" in ma[0]["lines"][0]["text"]
    with api.app.state.store.sessions() as s:
        revisions = set(s.scalars(select(SettlementRecord.revision)))
        statuses = set(s.scalars(select(SettlementRecord.status)))
    assert revisions == {1} and statuses == {"settled"}
    again = api.reverse(ids[0])
    assert again.status_code == 409
    # the year balance: 28000.00 of 30000.00 used
    person = out["settlement"]["person"]["id"]
    year = api.client.get(f"/persons/{person}/year/2023", headers=api.h("reviewer")).json()
    ma_bal = next(b for b in year["benefit_balance"] if b["benefit"] == "medical_assistance")
    assert (ma_bal["allowed"], ma_bal["used"], ma_bal["remaining"]) == (
        "30000.00",
        "28000.00",
        "2000.00",
    )
    assert year["person"]["id_number"] == MASKED
    # a new claim now pays only what the cap leaves
    r = api.settle(claim(4), "k4")
    assert r.json()["settlement"]["medical_assistance"] == "2000.00"


def test_reversal_tells_the_reversing_hospital_only_how_many(api: Api) -> None:
    """Defect: hospital A's reversal answered B's claim and amounts, and A could read it."""
    register(api.app, PERSON)
    a = api.settle(claim(1), "a1").json()["id"]
    api.settle(claim(2), "a2")
    b = api.settle(claim(3), "b3", who="hospital_b").json()["id"]
    out = api.reverse(a).json()
    assert out["adjusted_claims"] >= 1
    assert {c["claim_id"] for c in out["changed"]} <= {"c2"}  # only its own claims
    seen = _values(out, {"claim_id", "settlement_id", "id"})
    assert b not in seen and "c3" not in seen
    assert api.client.get(f"/settlements/{b}", headers=api.h()).status_code == 404
    feed_a = api.client.get("/adjustments", headers=api.h()).json()["items"]
    feed_b = api.client.get("/adjustments", headers=api.h("hospital_b")).json()["items"]
    assert {x["claim_id"] for x in feed_a} <= {"c2"}  # A's own claims only
    assert {x["settlement_id"] for x in feed_b} == {b}
    assert {x["benefit"] for x in feed_b} >= {"medical_assistance"}
    # B is told through its feed, page by page
    first = api.client.get("/adjustments?limit=1", headers=api.h("hospital_b")).json()
    assert len(first["items"]) == 1 and first["next_after"] == first["items"][0]["cursor"]
    rest = api.client.get(
        f"/adjustments?after={first['next_after']}", headers=api.h("hospital_b")
    ).json()
    assert [x["id"] for x in first["items"] + rest["items"]] == [x["id"] for x in feed_b]
    reviewer = api.client.get("/adjustments", headers=api.h("reviewer")).json()["items"]
    assert len(reviewer) == len(feed_a) + len(feed_b)


def _values(data: Any, keys: set[str]) -> set[str]:
    """Every value under one of ``keys``, anywhere in a JSON answer."""
    found: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            if k in keys and isinstance(v, str):
                found.add(v)
            found |= _values(v, keys)
    elif isinstance(data, list):
        for v in data:
            found |= _values(v, keys)
    return found


def test_the_settling_hospital_keeps_access_when_the_household_moves(api: Api) -> None:
    register(api.app, PERSON)
    sid = api.settle(claim(1), "k1").json()["id"]
    with api.app.state.store.sessions() as s, s.begin():
        s.add(Household(head_id_number=PERSON, district_code=None))
        s.flush()
        hid = s.scalar(select(Household.id))
        s.execute(text("INSERT INTO districts (code, name) VALUES ('140105', '小店区')"))
        s.execute(update(Household).values(district_code="140105"))
        s.execute(update(Person).where(Person.id_number == PERSON).values(household_id=hid))
    assert api.client.get(f"/settlements/{sid}", headers=api.h()).status_code == 200
    assert api.client.get("/settlements/by-claim/c1", headers=api.h()).status_code == 200
    assert api.client.get(f"/settlements/{sid}", headers=api.h("reviewer")).status_code == 403


def test_person_lookup_by_id_number_in_the_body(api: Api) -> None:
    r = api.client.post("/persons/lookup", json={"id_number": PERSON}, headers=api.h())
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["registered"] is False and out["person"]["id"] is None
    assert out["today"]["category"] == "ordinary" and PERSON not in r.text
    register(api.app, PERSON)
    api.settle(claim(1), "k1")
    out = api.client.post("/persons/lookup", json={"id_number": PERSON}, headers=api.h()).json()
    assert out["registered"] is True and out["person"]["id_number"] == MASKED
    assert out["today"]["category"] == "dibao"
    assert out["today"]["categories"]["today"]["date"] == "2024-06-30"
    assert out["today"]["year"] == 2024 and out["today"]["benefit_balance"] == []
    assert [m["category"] for m in out["memberships"]] == ["dibao"]
    r = api.client.post(
        "/persons/lookup", json={"id_number": PERSON}, headers=api.h("other_hospital")
    )
    assert r.status_code == 403
    r = api.client.post("/persons/lookup", json={"id_number": "123"}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"


def test_person_and_registry_categories(api: Api, db_url: str, tmp_path: Any) -> None:
    roster = tmp_path / "changes.csv"
    roster.write_text(
        "乡(镇),行政村,户主姓名,身份证号码,家庭人口数,家庭成员姓名,身份证号码,对象类别,"
        "动态调整工作类型,动态调整时间,月,年\n"
        f"镇,村,某,{PERSON},1,某,{PERSON},低保,新识别,2023-03-01,,\n",
        encoding="utf-8-sig",
    )
    run = invoke(["roster", "import", str(roster), "--db", db_url])
    assert run.code == 0, run.stderr
    early = api.settle(claim(2), "r1").json()  # 2023-02-01: before the 低保 starts
    assert early["category_source"]["source"] == "registry"
    assert early["settlement"]["category"] == "ordinary"
    r = api.settle(claim(4), "r2")
    assert r.status_code == 201
    out = r.json()
    assert out["settlement"]["category"] == "dibao"
    assert out["category_source"]["applied"] == "dibao"
    assert out["settlement"]["medical_assistance"] == "14000.00"
    person = api.client.get(f"/persons/{out['person']['id']}", headers=api.h("civil"))
    assert person.status_code == 200
    data = person.json()
    assert data["id_number"] == MASKED and PERSON not in person.text
    assert [m["category"] for m in data["memberships"]] == ["dibao"]
    year = api.client.get(f"/persons/{out['person']['id']}/year/2023", headers=api.h()).json()
    assert year["categories"]["year_end"]["applied"] == "dibao"
    assert api.client.get("/persons/nobody", headers=api.h()).status_code == 404


def test_audit_log_rows_are_append_only_and_reads_are_audited(api: Api) -> None:
    register(api.app, PERSON)
    sid = api.settle(claim(1), "k1").json()["id"]
    api.client.get(f"/settlements/{sid}", headers=api.h("reviewer"))
    api.client.post("/persons/lookup", json={"id_number": PERSON}, headers=api.h())
    with api.app.state.store.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [r.action for r in rows]
    assert actions == ["token.create"] * N_TOKENS + [
        "settlement.create",
        "settlement.read",
        "person.lookup",
    ]
    assert rows[N_TOKENS].actor == "聊城某医院" and rows[N_TOKENS].details["person"] == MASKED
    assert rows[-2].actor == "聊城医保审核" and rows[-1].details["person"] == MASKED
    assert all(r.hash for r in rows)
    sessions = api.app.state.store.sessions
    with pytest.raises(Exception, match="append-only"), sessions() as s, s.begin():
        s.execute(text("DELETE FROM audit_log"))


def test_a_claim_id_that_is_an_id_number_is_masked_in_the_audit_log(api: Api) -> None:
    r = api.settle(claim(1, claim_id=PERSON), "k1")
    assert r.status_code == 201
    with api.app.state.store.sessions() as s:
        row = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert row is not None and row.action == "settlement.create"
    assert PERSON not in str(row.details) and row.details["claim_id"] == MASKED


def test_openapi_and_the_claim_contract(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/settlements/{id}/reversal" in spec["paths"]
    assert "ClaimBody" in spec["components"]["schemas"]
    # the categories come from the registry; ``reviewed`` is the bureau's review, never a
    # hospital's to send
    hospitals_send = set(ClaimIn.model_fields) - {"category", "categories", "reviewed"}
    assert set(ClaimBody.model_fields) == hospitals_send


def test_token_command(db_url: str) -> None:
    run = invoke(
        ["token", "create", "--client", "x", "--role", "医院", "--jurisdiction", "3715",
         "--db", db_url]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.stdout.strip().startswith("jz_") and "有效至" in run.stderr
    bad = invoke(["token", "create", "--client", "y", "--role", "boss", "--jurisdiction", "37",
                  "--db", db_url])  # fmt: skip
    assert bad.code == 2 and "医院（hospital）" in bad.stderr


def test_a_look_back_claim_at_the_desk_counts_in_the_identifications_year(api: Api) -> None:
    """聊城实施方案 四(一): identified 2024-03-10 (window from 2023-03-01), a 2023 stay settled
    late at the desk joins 2024's benefit period: one 1万 deductible with a 2024 stay."""
    register(api.app, PERSON, "illness_impoverished", "2024-03-10")
    late = inpatient_claim(
        6, PERSON, "8000.00", settlement_date="2023-06-01", admission_date="2023-06-01"
    )
    r = api.settle(late, "lb1")
    assert r.status_code == 201, r.json()
    assert r.json()["settlement"]["category"] == "illness_impoverished"
    assert r.json()["settlement"]["medical_assistance"] == "0.00"
    later = inpatient_claim(
        7, PERSON, "5000.00", settlement_date="2024-04-01", admission_date="2024-04-01"
    )
    r = api.settle(later, "lb2")
    assert r.status_code == 201, r.json()
    # base 8000 + 5000 = 13000: 60% × (13000 − 10000) = 1800
    assert r.json()["settlement"]["medical_assistance"] == "1800.00"
