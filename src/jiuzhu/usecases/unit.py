"""The unit of work the use cases share: one database, one policy, one clock.

``Store`` holds the database engine (with the service's locking: ADR 9), sessions for
writes and for reads, the settlement path's prebuilt statements, the compiled policy
and its reference engine, the policy's area (a GB/T 2260 prefix: who may be settled
under it at all) and today's date in Beijing. Nothing in it is per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from jiuzhu.domain.engine.reference import ReferenceEngine
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.engine.state import PersonState, PoolState, YearState
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.statements import SettlementStatements, build
from jiuzhu.usecases.tokens import FailureLimit

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""China keeps UTC+8 all year (no daylight saving since 1991): a fixed offset needs no
time-zone database on the server."""

READ = "jiuzhu_read"


def beijing_today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


# -- the engine and its locks -------------------------------------------------------


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN


def _sqlite_begin(connection: Any) -> None:
    """Writes take the write lock at their start (``BEGIN IMMEDIATE``), so the
    read-then-write of a settlement cannot interleave with another; reads begin a plain
    (deferred) transaction, which in WAL mode never waits for a writer."""
    read = connection.get_execution_options().get(READ, False)
    connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def service_engine(url: str | None, *, lock_timeout: float = 5.0) -> Engine:
    """The database engine of the service.

    ``lock_timeout``: seconds a request waits for another's lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``) before it gives up, writes nothing and is answered
    503 with ``Retry-After``: a hospital at discharge gets an answer, not a hang."""
    engine = make_engine(url, sqlite_busy_timeout=lock_timeout)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        millis = max(1, round(lock_timeout * 1000))

        def _pg_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {millis}")
            dbapi_connection.commit()

        event.listen(engine, "connect", _pg_lock_timeout)
    return engine


def policy_area(compiled: CompiledPolicy) -> str:
    """The GB/T 2260 prefix of the policy's ``jurisdiction`` (聊城市（山东省） → 3715)."""
    from jiuzhu.domain.districts import Level, named_in

    text = compiled.policy.jurisdiction
    found = named_in(text)
    prefectures = [d for d in found if d.level is Level.prefecture]
    provinces = [d for d in found if d.level is Level.province]
    if provinces:
        prefectures = [d for d in prefectures if d.code[:2] in {p.code[:2] for p in provinces}]
    if len(prefectures) == 1:
        return prefectures[0].code[:4]
    if not prefectures and len(provinces) == 1:
        return provinces[0].code[:2]
    raise ValueError(
        f"无法从政策 {compiled.policy.id} 的适用地区「{text}」确定行政区划代码："
        "请用 jiuzhu serve --area 给出（如 3715）"
    )


@dataclass
class Store:
    """The service's unit of work: create once per process, share between requests."""

    engine: Engine
    compiled: CompiledPolicy
    area: str
    today: Callable[[], dt.date] = beijing_today
    failures: FailureLimit = field(default_factory=FailureLimit)
    sessions: sessionmaker[Session] = field(init=False)
    reads: sessionmaker[Session] = field(init=False)
    reader: Engine = field(init=False)
    """The engine for read-only transactions (on SQLite: deferred, never waiting)."""
    single: Engine = field(init=False)
    """For a lone read such as a token's check: on PostgreSQL in autocommit, one round
    trip instead of three (no ``BEGIN`` and ``COMMIT`` around one ``SELECT``)."""
    ref: ReferenceEngine = field(init=False)
    sql: SettlementStatements = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)
        self.reader = self.engine.execution_options(**{READ: True})
        self.reads = session_factory(self.reader)
        self.single = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self.reader
        )
        self.ref = ReferenceEngine(self.compiled)
        self.sql = build(self.engine.dialect.name)

    @property
    def policy_id(self) -> str:
        return self.compiled.policy.id


# -- engine state as JSON -----------------------------------------------------------


def pools_to_json(ystate: YearState) -> dict[str, Any]:
    return {
        f"{b.value}/{pool}": {"base": s.base, "paid": s.paid}
        for (b, pool), s in sorted(ystate.pools.items())
    }


def pools_from_json(data: Mapping[str, Any]) -> YearState:
    ystate = YearState()
    for key, value in data.items():
        benefit, _, pool = key.partition("/")
        ystate.pools[(Benefit(benefit), pool)] = PoolState(int(value["base"]), int(value["paid"]))
    return ystate


def context_to_json(state: PersonState) -> dict[str, Any]:
    chain = None if state.chain is None else [state.chain[0].isoformat(), state.chain[1]]
    return {"chain": chain, "grant_paid": state.grant_paid}


def context_into(state: PersonState, data: Mapping[str, Any]) -> None:
    chain = data.get("chain")
    state.chain = None if chain is None else (dt.date.fromisoformat(chain[0]), int(chain[1]))
    state.grant_paid = bool(data.get("grant_paid", False))


EMPTY_CONTEXT: dict[str, Any] = {"chain": None, "grant_paid": False}
