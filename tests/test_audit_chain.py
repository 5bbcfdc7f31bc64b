"""The audit log is tamper-evident: rows edited, deleted or inserted behind the triggers'
back, a tail cut off, or the triggers dropped, and ``jiuzhu audit verify`` names the first
broken link and exits 1. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from jiuzhu.storage.db import make_engine
from tests.cli_helpers import invoke
from tests.db_fixtures import db_url, make_id
from tests.service_api import make_api
from tests.service_helpers import inpatient_claim, register

__all__ = ["db_url"]


def _filled(db_url: str) -> None:
    gen = make_api(db_url)
    api = next(gen)
    try:
        person = make_id(61)
        register(api.app, person)
        for n in (1, 2, 3):
            assert api.settle(inpatient_claim(n, person), f"k{n}").status_code == 201
    finally:
        gen.close()


def _behind_the_triggers(db_url: str, *statements: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        for sql in statements:
            conn.execute(text(sql))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        else:
            for event in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                    )
                )
    engine.dispose()


def verify(db_url: str, *extra: str) -> tuple[int, str, str]:
    run = invoke(["audit", "verify", "--db", db_url, *extra])
    return run.code, run.stdout, run.stderr


TAMPERING: dict[str, tuple[Callable[[], tuple[str, ...]], int]] = {
    "edited": (lambda: ("UPDATE audit_log SET actor = 'someone' WHERE id = 8",), 8),
    "deleted": (lambda: ("DELETE FROM audit_log WHERE id = 7",), 8),
    "inserted": (
        lambda: (
            "UPDATE audit_log SET id = id + 100 WHERE id >= 8",
            "UPDATE audit_log SET id = id - 99 WHERE id >= 108",
            "INSERT INTO audit_log (id, at, actor, role, action, target, details, hash) VALUES"
            " (8, '2024-01-01 00:00:00', 'x', 'admin', 'forged', 'x', '{}', 'beef')",
        ),
        8,
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_verify_names_the_first_broken_link(db_url: str, how: str) -> None:
    _filled(db_url)
    code, out, _ = verify(db_url)
    assert code == 0 and "审计日志完整" in out
    statements, first = TAMPERING[how]
    _behind_the_triggers(db_url, *statements())
    code, _, err = verify(db_url)
    assert code == 1, err
    assert f"第一处断裂在第 {first} 行" in err


def test_a_cut_tail_and_dropped_triggers_are_found(db_url: str) -> None:
    _filled(db_url)
    code, out, _ = verify(db_url)
    head = out.split("「")[1].split("」")[0]
    _behind_the_triggers(db_url, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    code, _, err = verify(db_url)
    assert code == 1 and "末尾的行被删除" in err
    code, _, err = verify(db_url, "--expect", head)
    assert code == 1 and "没有第" in err
    engine = create_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    engine.dispose()
    code, _, err = verify(db_url)
    assert code == 1 and "触发器缺失" in err


def test_sqlite_files_are_private_and_readers_do_not_wait(tmp_path: Path) -> None:
    """Defects: database files were created 0644; a read waited behind a write lock."""
    path = tmp_path / "jiuzhu.db"
    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    writer = make_engine(f"sqlite:///{path}").connect()
    writer.exec_driver_sql("BEGIN IMMEDIATE")
    writer.exec_driver_sql("INSERT INTO t VALUES (2)")  # holds the write lock, uncommitted
    seen: list[int] = []

    def read() -> None:
        reader = make_engine(f"sqlite:///{path}", sqlite_busy_timeout=0.1)
        with reader.connect() as conn:
            seen.append(int(conn.execute(text("SELECT count(*) FROM t")).scalar_one()))
        reader.dispose()

    t = threading.Thread(target=read)
    t.start()
    t.join(5)
    writer.rollback()
    writer.close()
    assert seen == [1]  # read at once, the writer's row not visible
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0
    engine.dispose()
