"""Engine and sessions from a database URL, and the migrations run from code.

The URL comes from ``--db``, else the environment variable ``JIUZHU_DB``, else the
embedded default, the SQLite file ``./jiuzhu.db``. ``JIUZHU_DB`` may also be a plain
file path (then it is a SQLite file). PostgreSQL (``postgresql+psycopg://…``) is the
production database.

A SQLite file holds ID numbers and money: it is created readable by its owner only
(0600; SQLite gives its -wal and -shm files the same mode), and opened in WAL mode, so
readers never wait for a writer (a writer still waits for another writer). Foreign keys
are switched on for every connection.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "JIUZHU_DB"
DEFAULT_FILE = "jiuzhu.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> str:
    value = url or os.environ.get(ENV_VAR) or DEFAULT_FILE
    if "://" not in value:
        return f"sqlite:///{value}"
    return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


FILE_MODE = 0o600


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for ``:memory:`` and other databases)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use 0644 less umask)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)


def make_engine(url: str | None = None, *, sqlite_busy_timeout: float = 5.0) -> Engine:
    """``sqlite_busy_timeout``: seconds a SQLite connection waits for another writer's
    lock before giving up with "database is locked" (the service answers that 503)."""
    resolved = database_url(url)
    args: dict[str, Any] = {}
    if resolved.startswith("sqlite"):
        args["connect_args"] = {"timeout": sqlite_busy_timeout}
        path = sqlite_file(resolved)
        if path is not None and path.parent.is_dir():
            create_private(path)
    # hide_parameters: a database error's text (logged on a 500) must not carry the
    # statement's values, which hold ID numbers and claims
    engine = create_engine(resolved, hide_parameters=True, **args)
    if engine.dialect.name == "sqlite":
        from jiuzhu.storage.audit_chain import register_sqlite

        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", register_sqlite)
    return engine


# PostgreSQL SQLSTATEs of a transaction that lost a race and may simply be run again:
# deadlock_detected, serialization_failure, lock_not_available (lock_timeout).
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def is_busy(err: BaseException) -> bool:
    """Whether a database error means "busy, try again" rather than a fault: SQLite's
    lock wait ran out, or PostgreSQL broke a deadlock or a lock wait. Nothing of the
    transaction was written, so the same request can be sent again."""
    if not isinstance(err, OperationalError):
        return False
    orig = err.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


ROSTER_LOCK = 0x6A7A_0001  # "jz" 1: the PostgreSQL advisory lock of roster imports


IMPORT_LOCK_TIMEOUT = "120s"  # an import may wait this long for the one before it


def lock_rosters(session: Session) -> None:
    """Serialise roster and certificate imports: they create districts, households,
    persons and memberships that a concurrent import of an overlapping file would create
    too (a unique-key clash). Imports are rare, so one at a time costs nothing.

    PostgreSQL: a transaction-level advisory lock, waited for up to two minutes (not the
    service's 5-second ``lock_timeout``, which is for settlements). SQLite: the database's
    write lock, taken now (``BEGIN IMMEDIATE``) rather than at the first write, unless a
    transaction is already open (the service's engine begins every one that way)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{IMPORT_LOCK_TIMEOUT}'"))
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROSTER_LOCK})
    elif dialect == "sqlite":
        raw = session.connection().connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """A Config built in code: works from an installed package, no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest); a no-op when it is there."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
