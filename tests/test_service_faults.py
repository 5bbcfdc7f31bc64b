"""The service when the database is contended: a request that cannot get a lock in time
is answered 503 with ``Retry-After`` and writes nothing (and a retry with the same key
then settles once); two roster uploads of the same new people at once both go through,
once each. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from jiuzhu.service.app import create_app
from jiuzhu.storage.models import (
    AuditEntry,
    CategoryMembership,
    Household,
    Person,
    RosterImport,
    SettlementRecord,
)
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.rosters import Upload, upload_roster
from jiuzhu.usecases.tokens import authenticate, create_token
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim
from tests.test_rosters import HEAD, list_rows, write_csv, write_xlsx

__all__ = ["db_url"]

PERSON = make_id(21)


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    """A short lock timeout, so that the test holding a lock sees its 503 quickly."""
    app = create_app(db_url, "liaocheng-2023", lock_timeout=0.3)
    yield app
    app.state.store.engine.dispose()


@pytest.fixture
def patient_app(db_url: str) -> Iterator[Any]:
    """The shipped lock timeout: an upload waiting for another's must not give up early."""
    app = create_app(db_url, "liaocheng-2023")
    yield app
    app.state.store.engine.dispose()


def _token(app: Any, name: str, role: Role, where: str) -> str:
    with app.state.store.sessions() as s, s.begin():
        return create_token(s, name, role, where)


def _count(app: Any, model: Any) -> int:
    with app.state.store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _hold_the_lock(db_url: str, person_db_id: int | None) -> tuple[Any, Any]:
    """Another writer holding what a settlement needs: on SQLite the database's write lock,
    on PostgreSQL the person's ledger row."""
    engine = create_engine(db_url)
    conn = engine.connect()
    if db_url.startswith("sqlite"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(
            text("SELECT 1 FROM person_ledgers WHERE person_id = :p FOR UPDATE"),
            {"p": person_db_id},
        )
    return engine, conn


def test_lock_wait_runs_out_503_nothing_written_retry_settles_once(app: Any, db_url: str) -> None:
    token = _token(app, "聊城某医院", Role.hospital, "3715")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k2"}
    with TestClient(app) as client:
        first = client.post(
            "/settlements",
            json=inpatient_claim(1, PERSON),
            headers={**headers, "Idempotency-Key": "k1"},
        )
        assert first.status_code == 201, first.json()
        with app.state.store.sessions() as s:
            pid = s.scalar(select(Person.id).where(Person.id_number == PERSON))
        before = (_count(app, SettlementRecord), _count(app, AuditEntry))
        engine, held = _hold_the_lock(db_url, pid)
        try:
            r = client.post("/settlements", json=inpatient_claim(2, PERSON), headers=headers)
        finally:
            held.rollback()
            held.close()
            engine.dispose()
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "1"
        assert "数据库繁忙" in r.json()["errors"][0]["message"]
        assert (_count(app, SettlementRecord), _count(app, AuditEntry)) == before
        again = client.post("/settlements", json=inpatient_claim(2, PERSON), headers=headers)
        assert again.status_code == 201, again.json()
        retry = client.post("/settlements", json=inpatient_claim(2, PERSON), headers=headers)
        assert retry.status_code == 200 and retry.json()["id"] == again.json()["id"]
    assert _count(app, SettlementRecord) == 2


def test_two_uploads_of_the_same_new_people_at_once(patient_app: Any, tmp_path: Path) -> None:
    """The same 附件2 list as XLSX and as CSV (two files, two hashes) uploaded at the same
    moment: the second waits for the first (``lock_rosters``) and finds everyone there."""
    app = patient_app
    store = app.state.store
    token = _token(app, "东昌府区民政", Role.civil_affairs, "371502")
    with store.sessions() as s:
        who = authenticate(s, f"Bearer {token}")
    files = [
        write_xlsx(tmp_path / "名单.xlsx", list_rows()),
        write_csv(tmp_path / "名单.csv", list_rows()),
    ]
    uploads = [Upload(f.name, f.read_bytes(), None, None) for f in files]
    start = threading.Barrier(len(uploads))
    results: list[Any] = []
    errors: list[BaseException] = []

    def one(upload: Upload) -> None:
        start.wait()
        try:
            results.append(upload_roster(store, who, upload))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=one, args=(u,)) for u in uploads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.result.added for r in results) == [0, 3]
    assert sorted(r.result.unchanged for r in results) == [0, 3]
    assert (_count(app, Person), _count(app, Household), _count(app, CategoryMembership)) == (
        3,
        1,
        3,
    )
    assert _count(app, RosterImport) == 2


def test_a_person_first_seen_on_a_claim_is_placed_by_a_later_roster(
    app: Any, tmp_path: Path
) -> None:
    hospital = _token(app, "聊城某医院", Role.hospital, "3715")
    civil = _token(app, "东昌府区民政", Role.civil_affairs, "371502")
    with TestClient(app) as client:
        body = inpatient_claim(1, HEAD)
        r = client.post(
            "/settlements",
            json=body,
            headers={"Authorization": f"Bearer {hospital}", "Idempotency-Key": "c"},
        )
        assert r.status_code == 201, r.json()
        path = write_xlsx(tmp_path / "名单.xlsx", list_rows())
        up = client.post(
            "/rosters",
            files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
            headers={"Authorization": f"Bearer {civil}"},
        )
        assert up.status_code == 200, up.json()
        assert up.json()["counts"]["added"] == 3
    with app.state.store.sessions() as s:
        person = s.scalar(select(Person).where(Person.id_number == HEAD))
        assert person is not None and person.household_id is not None
        assert person.name == "张三"


def test_a_roster_file_error_masks_an_id_in_the_file_name(app: Any) -> None:
    civil = _token(app, "东昌府区民政", Role.civil_affairs, "371502")
    name = f"{HEAD}.csv"
    with TestClient(app) as client:
        r = client.post(
            "/rosters",
            files={"file": (name, b"no,header\n1,2\n", "text/csv")},
            headers={"Authorization": f"Bearer {civil}"},
        )
    assert r.status_code == 422
    message = r.json()["errors"][0]["message"]
    assert HEAD not in message and HEAD[:4] + "*" * 10 + HEAD[-4:] in message
