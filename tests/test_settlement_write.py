"""A settlement's writes: on PostgreSQL one statement (``storage/statements.PG_WRITE``),
on SQLite separate ones; both leave the same rows.

The one statement names the settlements table's columns itself, so a test keeps that
list equal to the table's; and on both databases a settlement, then a look-back claim
that writes two years' accumulators, leave a claim row, a settlement row, the years'
accumulators, the person's context and an audit row whose chain verifies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jiuzhu.domain.money import parse_yuan
from jiuzhu.storage.models import (
    Accumulator,
    AuditEntry,
    PersonLedger,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.storage.statements import SETTLEMENT_COLUMNS, settlements
from jiuzhu.usecases import audit
from tests.db_fixtures import db_url, make_id
from tests.service_api import PERSON, Api, api
from tests.service_helpers import inpatient_claim, register

__all__ = ["api", "db_url"]  # fixtures


def test_the_statement_names_every_column_of_settlements_but_its_key() -> None:
    assert set(SETTLEMENT_COLUMNS) == {c.name for c in settlements.columns} - {"seq"}
    assert len(SETTLEMENT_COLUMNS) == len(set(SETTLEMENT_COLUMNS))


def test_a_settlement_writes_its_rows_in_one_transaction(api: Api) -> None:
    register(api.app, PERSON, "illness_impoverished", "2024-03-10")
    late = inpatient_claim(
        6, PERSON, "8000.00", settlement_date="2023-06-01", admission_date="2023-06-01"
    )
    first = api.settle(late, "w1")
    assert first.status_code == 201, first.json()
    later = inpatient_claim(
        7, PERSON, "5000.00", settlement_date="2024-04-01", admission_date="2024-04-01"
    )
    second = api.settle(later, "w2")
    assert second.status_code == 201, second.json()
    store = api.app.state.store
    with store.sessions() as s:
        rows = s.scalars(select(SettlementRecord).order_by(SettlementRecord.seq)).all()
        assert [r.public_id for r in rows] == [first.json()["id"], second.json()["id"]]
        claims = {c.id: c for c in s.scalars(select(StoredClaim)).all()}
        for row, body, key in ((rows[0], late, "w1"), (rows[1], later, "w2")):
            claim = claims[row.claim_id]
            assert claim.claim_ref == body["claim_id"] and claim.body == body
            assert claim.settlement_date == dt.date.fromisoformat(body["settlement_date"])
            assert (row.status, row.revision, row.reversed_at) == ("settled", 1, None)
            assert row.idempotency_key == key and row.person_id == claim.person_id
            assert row.medical_assistance_fen == parse_yuan(row.result["medical_assistance"])
            assert row.paid_fen + row.personal_fen == row.total_fen
        assert rows[1].medical_assistance_fen == 180000  # 60% × (8000 + 5000 − 10000)
        # the look-back claim counted in 2024, the identification's year (聊城实施方案 四(一))
        years = s.scalars(select(Accumulator.year).order_by(Accumulator.year)).all()
        assert 2024 in years
        ledger = s.get(PersonLedger, rows[0].person_id)
        assert ledger is not None and ledger.version == 2
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-2:] == ["settlement.create", "settlement.create"]
    verdict = audit.verify(store.engine)
    assert verdict.ok, verdict.problems


def test_a_claim_refused_under_the_lock_leaves_nothing(api: Api) -> None:
    """For a person the registry holds, the ledger is locked before the claim is checked
    (the memberships are read with the accumulators): what is refused then is rolled
    back whole, the lock's version bump included."""
    register(api.app, PERSON, "dibao", "2023-01-01")
    ok = api.settle(inpatient_claim(1, PERSON), "r1")
    assert ok.status_code == 201, ok.json()
    refused = [
        (api.settle(inpatient_claim(2, PERSON), "r2", who="other_hospital"), 403, "person_id"),
        (api.settle(inpatient_claim(3, PERSON, settlement_date="2023-3-1"), "r3"), 422, None),
        (api.settle(inpatient_claim(1, PERSON), "r4"), 409, "claim_id"),
        (api.settle(inpatient_claim(5, PERSON, settlement_date="2024-07-01"), "r5"), 422, None),
    ]
    for r, status, field in refused:
        assert r.status_code == status, r.json()
        fields = {e["field"] for e in r.json()["errors"]}
        assert field is None or field in fields, fields
    store = api.app.state.store
    with store.sessions() as s:
        assert api.count(SettlementRecord) == 1 and api.count(StoredClaim) == 1
        row = s.scalars(select(SettlementRecord)).one()
        ledger = s.get(PersonLedger, row.person_id)
        assert ledger is not None and ledger.version == 1
    assert audit.verify(store.engine).ok


def test_a_date_the_hint_cannot_read_is_read_again_once_checked(api: Api) -> None:
    """The year read under the lock is taken from ``settlement_date`` as sent; a date the
    contract accepts in another form (ISO 8601's basic ``20230301``) is read again for the
    checked claim's year, so the year's accumulators still count."""
    other = make_id(2)
    answers = []
    for person, day in ((PERSON, "2023-03-01"), (other, "20230301")):
        register(api.app, person, "dibao", "2023-01-01")
        first = api.settle(inpatient_claim(1, person, claim_id=f"a{day}"), f"{person}-1")
        assert first.status_code == 201, first.json()
        second = inpatient_claim(
            3, person, settlement_date=day, admission_date=day, claim_id=f"b{day}"
        )
        r = api.settle(second, f"{person}-3")
        assert r.status_code == 201, r.json()
        answers.append(r.json()["settlement"])
    assert answers[0]["medical_assistance"] == answers[1]["medical_assistance"]
    assert answers[0]["lines"] == answers[1]["lines"]


def test_a_claim_id_that_is_not_text_is_refused_for_a_registered_person(api: Api) -> None:
    """The reads under the lock take the claim id as sent, before the claim is checked:
    what is not text must not reach the database (it is refused by the check)."""
    register(api.app, PERSON, "dibao", "2023-01-01")
    for n, bad in enumerate(({"a": 1}, [1, 2], 7, None, True)):
        r = api.settle(inpatient_claim(1, PERSON, claim_id=bad), f"t{n}")
        assert r.status_code == 422, (bad, r.status_code, r.text)
        assert "claim_id" in {e["field"] for e in r.json()["errors"]}


def test_a_date_of_other_digits_is_refused_not_a_fault(api: Api) -> None:
    """``str.isdigit`` holds for superscript and other digits that ``int`` refuses: the
    year read under the lock takes ASCII digits only, and the check refuses the rest."""
    register(api.app, PERSON, "dibao", "2023-01-01")
    for n, day in enumerate(("²⁰²³-01-01", "٢٠٢٣-01-01", "①②③④-01-01")):
        r = api.settle(inpatient_claim(1, PERSON, settlement_date=day), f"d{n}")
        assert r.status_code == 422, (day, r.text)
        assert "settlement_date" in {e["field"] for e in r.json()["errors"]}
