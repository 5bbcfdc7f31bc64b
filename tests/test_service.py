"""The settlement service through a real HTTP client (FastAPI's TestClient), on SQLite
and, when configured, PostgreSQL (tests/db_fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from jiuzhu.io.claims import ClaimIn
from jiuzhu.service.app import create_app
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import create_token
from jiuzhu.service.schemas import ClaimBody
from jiuzhu.storage.models import AuditEntry, SettlementRecord, StoredClaim
from tests.cli_helpers import invoke, settle
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim

__all__ = ["db_url"]

PERSON = make_id(1)  # 371502… (聊城市 东昌府区)
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    app: Any

    def h(self, who: str = "hospital", key: str | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key is not None:
            out["Idempotency-Key"] = key
        return out

    def settle(self, body: dict[str, Any], key: str, who: str = "hospital") -> Any:
        return self.client.post("/settlements", json=body, headers=self.h(who, key))

    def count(self, model: Any) -> int:
        with self.app.state.store.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(db_url, "liaocheng-2023")
    tokens = {}
    with app.state.store.sessions() as s, s.begin():
        tokens["hospital"] = create_token(s, "聊城某医院", Role.hospital, "3715")
        tokens["other_hospital"] = create_token(s, "太原某医院", Role.hospital, "1401")
        tokens["reviewer"] = create_token(s, "聊城医保审核", Role.reviewer, "3715")
        tokens["civil"] = create_token(s, "聊城民政", Role.civil_affairs, "371502")
    with TestClient(app) as client:
        yield Api(client, tokens, app)
    app.state.store.engine.dispose()


def claim(n: int, scope: str = "20000.00", **over: Any) -> dict[str, Any]:
    return inpatient_claim(n, PERSON, scope, **over)


def test_auth_roles_and_jurisdiction(api: Api) -> None:
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
    assert api.client.get(f"/settlements/{sid}", headers=api.h("other_hospital")).status_code == 403
    assert api.client.get(f"/settlements/{sid}", headers=api.h("civil")).status_code == 200
    r = api.client.post(f"/settlements/{sid}/reversal", headers=api.h("civil"))
    assert r.status_code == 403  # civil affairs reads, does not reverse


def test_settlement_equals_the_cli(api: Api) -> None:
    body = claim(4, "60000.00", full_self_pay="4000.00", partial_self_pay="1000.00")
    body.update(
        total="60000.00",
        policy_scope="55000.00",
        insurance={"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
    )
    r = api.settle(body, "k1")
    assert r.status_code == 201, r.json()
    out = r.json()
    cli = settle("liaocheng-2023", [body]).records[0]
    cli["person_id"] = MASKED
    assert out["settlement"] == cli
    assert out["person"]["id_number"] == MASKED and PERSON not in r.text
    assert out["category_source"] == {"source": "claim"}
    again = api.client.get(f"/settlements/{out['id']}", headers=api.h())
    assert again.status_code == 200 and again.json() == out


def test_idempotent_retry_and_key_reuse(api: Api) -> None:
    first = api.settle(claim(1), "same")
    assert first.status_code == 201
    retry = api.settle(claim(1), "same")
    assert retry.status_code == 200 and retry.json() == first.json()
    assert api.count(SettlementRecord) == 1 and api.count(AuditEntry) == 4 + 1  # 4 tokens
    other = api.settle(claim(2), "same")
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert api.count(SettlementRecord) == 1
    missing = api.client.post("/settlements", json=claim(2), headers=api.h())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"


def test_bad_input_names_the_field_and_writes_nothing(api: Api) -> None:
    before = api.count(AuditEntry)
    r = api.settle(claim(1, total="1.00"), "a")
    assert r.status_code == 422
    assert r.json() == {
        "errors": [
            {
                "field": "total",
                "message": "总费用 1.00 不等于 full_self_pay + partial_self_pay"
                " + policy_scope = 20000.00",
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


def test_reversal_resettles_a_later_claim_whose_cap_changed(api: Api) -> None:
    # 聊城 低保: medical assistance 70%, yearly cap 30000.00; insurance given as 0
    ids = []
    for n in (1, 2, 3):
        r = api.settle(claim(n), f"k{n}")
        assert r.status_code == 201
        ids.append(r.json()["id"])
        assert (
            r.json()["settlement"]["medical_assistance"]
            == ("14000.00", "14000.00", "2000.00")[n - 1]
        )
    audit = api.count(AuditEntry)
    r = api.client.post(f"/settlements/{ids[0]}/reversal", headers=api.h())
    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["settlement"]["status"] == "reversed"
    third = [c for c in out["changed"] if c["claim_id"] == "c3"]
    assert third and third[0]["changes"]["medical_assistance"] == {
        "old": "2000.00",
        "new": "14000.00",
    }
    assert not any(
        "medical_assistance" in c["changes"] for c in out["changed"] if c["claim_id"] == "c2"
    )
    assert api.count(AuditEntry) == audit + 1
    now = api.client.get(f"/settlements/{ids[2]}", headers=api.h()).json()
    assert now["settlement"]["medical_assistance"] == "14000.00" and now["revision"] == 2
    again = api.client.post(f"/settlements/{ids[0]}/reversal", headers=api.h())
    assert again.status_code == 409
    # the year balance: 28000.00 of 30000.00 used
    person = out["settlement"]["person"]["id"]
    year = api.client.get(f"/persons/{person}/year/2023", headers=api.h("reviewer")).json()
    ma = next(b for b in year["benefit_balance"] if b["benefit"] == "medical_assistance")
    assert (ma["allowed"], ma["used"], ma["remaining"]) == ("30000.00", "28000.00", "2000.00")
    assert year["person"]["id_number"] == MASKED
    # a new claim now pays only what the cap leaves
    r = api.settle(claim(4), "k4")
    assert r.json()["settlement"]["medical_assistance"] == "2000.00"


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
    body = claim(2)
    del body["category"]
    early = api.settle(body, "r1").json()  # 2023-02-01: before the 低保 starts
    assert early["category_source"]["source"] == "registry"
    assert early["settlement"]["category"] == "ordinary"
    body = claim(4)
    del body["category"]
    r = api.settle(body, "r2")
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


def test_audit_log_rows_are_append_only(api: Api) -> None:
    api.settle(claim(1), "k1")
    with api.app.state.store.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [r.action for r in rows] == ["token.create"] * 4 + ["settlement.create"]
        assert rows[-1].actor == "聊城某医院" and rows[-1].details["person"] == MASKED
    sessions = api.app.state.store.sessions
    with pytest.raises(Exception, match="append-only"), sessions() as s, s.begin():
        s.execute(text("DELETE FROM audit_log"))


def test_openapi_and_the_claim_contract(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/settlements/{id}/reversal" in spec["paths"]
    assert "ClaimBody" in spec["components"]["schemas"]
    assert api.client.get("/docs").status_code == 200
    assert set(ClaimBody.model_fields) == set(ClaimIn.model_fields)


def test_token_command(db_url: str) -> None:
    run = invoke(
        ["token", "create", "--client", "x", "--role", "hospital", "--jurisdiction", "3715",
         "--db", db_url]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.stdout.strip().startswith("jz_")
    bad = invoke(["token", "create", "--client", "y", "--role", "boss", "--jurisdiction", "37",
                  "--db", db_url])  # fmt: skip
    assert bad.code == 2
