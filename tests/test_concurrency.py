"""Fifty hospitals settling for the same person at once, against PostgreSQL: the
person's lock row serialises them, so no cap is paid past and the year's totals are
the reference engine's (ADR 9)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from jiuzhu.domain.engine.reference import settle_claims
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.money import parse_yuan
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims import parse_record
from jiuzhu.service.app import create_app
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.tokens import create_token
from jiuzhu.service.settle import SettlementService
from jiuzhu.storage.models import ApiClient, SettlementRecord, StoredClaim
from tests.db_fixtures import PG_ENV, PG_SKIP, db_url, make_id

__all__ = ["db_url"]

N = 50
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
        "category": "dibao",
        "visit_type": "inpatient",
        "settlement_date": "2023-05-01",
        "admission_date": "2023-05-01",
        "hospital_level": 2,
        "referred": True,
        "total": "5000.00",
        "full_self_pay": "0.00",
        "partial_self_pay": "0.00",
        "policy_scope": "5000.00",
        "insurance": {"basic_insurance": "0.00", "critical_illness_insurance": "0.00"},
    }


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP)
def test_fifty_concurrent_settlements_for_one_person(pg_url: str) -> None:
    app = create_app(pg_url, "liaocheng-2023")
    service: SettlementService = app.state.service
    with service.sessions() as s, s.begin():
        create_token(s, "h", Role.hospital, "3715")
    with service.sessions() as s:
        client = s.scalar(select(ApiClient))
        assert client is not None
        caller = Caller(client.id, client.name, Role.hospital, client.jurisdiction)
    start = threading.Barrier(N)
    errors: list[BaseException] = []

    def one(n: int) -> None:
        start.wait()
        try:
            service.settle(caller, f"key-{n}", body(n))
            service.settle(caller, f"key-{n}", body(n))  # a retry pays nothing more
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with service.sessions() as s:
        rows = list(
            s.execute(
                select(SettlementRecord, StoredClaim)
                .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
                .order_by(SettlementRecord.seq)
            )
        )
    assert len(rows) == N
    paid = sum(rec.medical_assistance_fen for rec, _ in rows)
    assert paid == parse_yuan("30000.00")  # 50 × 5000 × 70% = 175000 > the 30000.00 cap
    # the reference engine on the same claims, in the order the service settled them
    claims = []
    for _, stored in rows:
        c = parse_record(stored.body, 1)
        assert not isinstance(c, list)
        claims.append(c)
    reference = [r for r in settle_claims(service.compiled, claims) if isinstance(r, Settlement)]
    assert len(reference) == N
    for b in Benefit:
        ours = sum(parse_yuan(rec.result[b.value]) for rec, _ in rows)
        assert ours == sum(r.amount(b) for r in reference), b
    for (rec, _), ref in zip(rows, reference, strict=True):
        assert rec.result[Benefit.medical_assistance.value] == ref.to_json()["medical_assistance"]
    service.engine.dispose()
