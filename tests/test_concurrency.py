"""Fifty hospitals' settlements and five reversals for the same person at once, against
PostgreSQL: the person's lock row serialises them, so no cap is paid past; afterwards
each claim's current amounts (as answered plus its adjustments) are the reference
engine's for the claims that stand, in the order the service settled them, and the
adjustments add up to the difference from what was answered (ADR 9, ADR 14)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from jiuzhu.domain.engine.reference import ReferenceEngine
from jiuzhu.domain.engine.state import PersonState
from jiuzhu.domain.money import parse_yuan
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims import parse_record
from jiuzhu.service.app import create_app
from jiuzhu.storage.models import (
    Adjustment,
    ApiClient,
    Reversal,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.usecases import reverse, settle
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.audit import verify
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.tokens import create_token
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import AMOUNT_KEYS, amounts_of
from tests.db_fixtures import PG_ENV, PG_SKIP, db_url, make_id
from tests.service_helpers import register

__all__ = ["db_url"]

N = 50
REVERSED = (3, 11, 20, 34, 47)
PERSON = make_id(7)


@pytest.fixture
def pg_url(db_url: str) -> Iterator[str]:
    if not db_url.startswith("postgresql"):
        pytest.skip("the concurrency test runs against PostgreSQL only")
    yield db_url


def body(n: int) -> dict[str, Any]:
    return {
        "claim_id": f"c{n:02d}",
        "person_id": PERSON,
        "visit_type": "inpatient",
        "settlement_date": f"2023-{n % 12 + 1:02d}-01",
        "admission_date": f"2023-{n % 12 + 1:02d}-01",
        "hospital_level": 2,
        "referred": True,
        "total": "5000.00",
        "full_self_pay": "0.00",
        "partial_self_pay": "0.00",
        "policy_scope": "5000.00",
        "insurance": {"basic_insurance": "0.00", "critical_illness_insurance": "0.00"},
    }


def _callers(store: Store) -> list[Caller]:
    with store.sessions() as s, s.begin():
        for i in range(5):
            create_token(s, f"h{i}", Role.hospital, "3715")
    with store.sessions() as s:
        rows = list(s.scalars(select(ApiClient).order_by(ApiClient.id)))
    return [Caller(c.id, c.name, Role.hospital, c.jurisdiction) for c in rows]


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP)
def test_fifty_settlements_and_five_reversals_for_one_person_at_once(pg_url: str) -> None:
    app = create_app(pg_url, "liaocheng-2023")
    store: Store = app.state.store
    register(app, PERSON)
    callers = _callers(store)
    start = threading.Barrier(N)
    errors: list[BaseException] = []
    answered: dict[int, str] = {}

    def one(n: int) -> None:
        caller = callers[n % len(callers)]
        start.wait()
        try:
            first = settle.settle(store, caller, f"key-{n}", body(n))
            answered[n] = first.view.public_id
            again = settle.settle(store, caller, f"key-{n}", body(n))  # pays nothing more
            assert again.replay and again.view.public_id == first.view.public_id
            if n in REVERSED:
                reverse.reverse(store, caller, first.view.public_id, f"第 {n} 张录入错误")
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.sessions() as s:
        rows = list(
            s.execute(
                select(SettlementRecord, StoredClaim, Reversal.id)
                .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
                .outerjoin(Reversal, Reversal.settlement_seq == SettlementRecord.seq)
                .order_by(SettlementRecord.seq)
            )
        )
        sums = {
            (seq, key): int(total)
            for seq, key, total in s.execute(
                select(
                    Adjustment.settlement_seq, Adjustment.benefit, func.sum(Adjustment.amount_fen)
                ).group_by(Adjustment.settlement_seq, Adjustment.benefit)
            )
        }
    assert len(rows) == N
    assert sum(1 for *_, rev in rows if rev is not None) == len(REVERSED)
    standing = [(rec, stored) for rec, stored, rev in rows if rev is None]
    # the reference engine on the claims that stand, in the order the service settled them
    claims = []
    for _, stored in standing:
        c = parse_record({**stored.body, "category": "dibao"}, 1)
        assert not isinstance(c, list)
        claims.append(c)
    state = PersonState()  # one claim after another, as the service settled them
    reference = [ReferenceEngine(store.compiled).settle(c, state) for c in claims]
    assert len(reference) == N - len(REVERSED)
    ma = Benefit.medical_assistance.value
    current_total = 0
    for (rec, _), ref in zip(standing, reference, strict=True):
        ref_amounts = amounts_of(ref.to_json())
        first = amounts_of(rec.result)
        for key in AMOUNT_KEYS:
            current = first[key] + sums.get((rec.seq, key), 0)
            assert current == ref_amounts[key], (rec.result["claim_id"], key)
            # the adjustments are exactly the difference from what was answered
            assert sums.get((rec.seq, key), 0) == ref_amounts[key] - first[key]
        current_total += first[ma] + sums.get((rec.seq, ma), 0)
    assert current_total == parse_yuan("30000.00")  # 45 × 5000 × 70% > the 30000.00 cap
    assert {rec.public_id for rec, _, _ in rows} == set(answered.values())
    verdict = verify(store.engine)
    assert verdict.ok, verdict.problems
    store.engine.dispose()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP)
def test_one_claim_id_sent_for_two_people_at_once(pg_url: str) -> None:
    """Two people, two locks, one hospital claim id: the unique constraint lets one
    settle and the other is told where that settlement is (409 with its location)."""
    app = create_app(pg_url, "liaocheng-2023")
    store: Store = app.state.store
    caller = _callers(store)[0]
    people = [make_id(81), make_id(82)]
    start = threading.Barrier(len(people))
    done: list[Any] = []

    def one(i: int) -> None:
        start.wait()
        try:
            done.append(
                settle.settle(store, caller, f"race-{i}", {**body(1), "person_id": people[i]})
            )
        except Refused as err:
            done.append(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [d for d in done if not isinstance(d, Refused)]
    lost = [d for d in done if isinstance(d, Refused)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].kind is Kind.conflict and lost[0].errors[0]["field"] == "claim_id"
    assert lost[0].location == f"/settlements/{won[0].view.public_id}"
    store.engine.dispose()
