"""A process killed in the middle of a settlement leaves nothing half-written (ADR 9).

A child process runs the real service (``POST /settlements`` through FastAPI's
TestClient) against the test database, with ``jiuzhu.usecases.settle._write`` wrapped so
that, once the claim, the settlement, the accumulators, the ledger and the audit entry
are all written inside the transaction (on PostgreSQL by one statement) but before the
commit, it prints what its own transaction sees and sends itself SIGKILL. No code path
in the service exists for this test. The parent then checks, on SQLite (rollback
journal left behind by the dead writer) and on PostgreSQL when configured (connection
dropped mid-transaction), that nothing of that settlement is visible, and that a retry
with the same Idempotency-Key settles exactly once with the reference engine's amounts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiuzhu.service.app import create_app
from jiuzhu.storage.models import (
    Accumulator,
    AuditEntry,
    PersonLedger,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import create_token
from tests.cli_helpers import settle
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim, register

__all__ = ["db_url"]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

PERSON = make_id(11)
POLICY = "liaocheng-2023"

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from sqlalchemy import func, select
    from fastapi.testclient import TestClient
    import jiuzhu.usecases.settle as settle_mod
    from jiuzhu.service.app import create_app
    from jiuzhu.storage.models import SettlementRecord

    url, policy, token, key, body = sys.argv[1:6]
    original = settle_mod._write

    def write_then_die(store, conn, written):
        original(store, conn, written)  # every write of the settlement: not committed
        seen = conn.scalar(select(func.count()).select_from(SettlementRecord))
        print(json.dumps({"action": "settlement.create", "settlements_seen": seen}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    settle_mod._write = write_then_die
    app = create_app(url, policy, migrate=False)
    with TestClient(app) as client:
        r = client.post(
            "/settlements",
            content=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
            },
        )
    print("NOT KILLED", r.status_code, r.text, flush=True)
    """
)


def claim(n: int, scope: str) -> dict[str, Any]:
    return inpatient_claim(n, PERSON, scope)


def snapshot(app: Any) -> dict[str, Any]:
    """Everything a settlement writes, as the database shows it to a new session."""
    with app.state.store.sessions() as s:

        def count(model: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "claims": count(StoredClaim),
            "settlements": count(SettlementRecord),
            "keys": sorted(s.scalars(select(SettlementRecord.idempotency_key))),
            "audit": sorted(s.scalars(select(AuditEntry.action))),
            "accumulators": [
                (a.year, a.pools) for a in s.scalars(select(Accumulator).order_by(Accumulator.year))
            ],
            "ledgers": [(lg.version, lg.context) for lg in s.scalars(select(PersonLedger))],
        }


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    app = create_app(db_url, POLICY)
    yield app
    app.state.store.engine.dispose()


def test_killed_mid_settlement_leaves_nothing_and_a_retry_settles_once(
    app: Any, db_url: str
) -> None:
    with app.state.store.sessions() as s, s.begin():
        token = create_token(s, "聊城某医院", Role.hospital, "3715")
    register(app, PERSON)
    headers = {"Authorization": f"Bearer {token}"}
    first, second = claim(1, "20000.00"), claim(2, "30000.00")
    with TestClient(app) as client:
        r = client.post("/settlements", json=first, headers={**headers, "Idempotency-Key": "k1"})
        assert r.status_code == 201, r.text
    before = snapshot(app)
    assert before["settlements"] == 1 and before["accumulators"]

    body = json.dumps(second, ensure_ascii=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, POLICY, token, "k2", body],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stdout, child.stderr)
    said = json.loads(child.stdout.strip().splitlines()[-1])
    # the child's own transaction held the second settlement when it died
    assert said == {"action": "settlement.create", "settlements_seen": 2}

    assert snapshot(app) == before  # nothing of the killed settlement is visible

    with TestClient(app) as client:
        retry = client.post(
            "/settlements", json=second, headers={**headers, "Idempotency-Key": "k2"}
        )
        assert retry.status_code == 201, retry.text  # settled now, not a replay
        again = client.post(
            "/settlements", json=second, headers={**headers, "Idempotency-Key": "k2"}
        )
        assert again.status_code == 200 and again.json() == retry.json()
    after = snapshot(app)
    assert after["settlements"] == 2 and after["claims"] == 2
    assert after["keys"] == ["k1", "k2"]
    assert after["audit"].count("settlement.create") == 2
    # the amounts are the reference engine's for the two claims in order
    expected = settle(POLICY, [{**c, "category": "dibao"} for c in (first, second)]).records[1]
    expected["person_id"] = retry.json()["settlement"]["person_id"]
    assert retry.json()["settlement"] == expected
