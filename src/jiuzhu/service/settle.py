"""The use cases: settle a claim, reverse a settlement, read a person and their year.

Every write runs in one transaction that first locks the person's ledger row (on
PostgreSQL the row lock of an ``INSERT … ON CONFLICT DO UPDATE`` on it; on SQLite every
transaction of the service engine is ``BEGIN IMMEDIATE``, which takes the database's
write lock). Under the lock
the person's accumulators are read, the reference engine settles, and the settlement,
the accumulators and the audit entry are written together: two hospitals settling for
the same person at once are serialised, so a cap is never paid twice (ADR 9).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.reference import ClaimRejected, ReferenceEngine
from jiuzhu.domain.engine.rules import CapKind, CompiledPolicy
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState, PoolState, YearState
from jiuzhu.domain.ids import mask_id, mask_ids_in, validate_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.registry import Membership, category_on
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.claims import parse_record
from jiuzhu.io.registry_categories import category_spans, gives_no_category
from jiuzhu.io.rosters import membership_from, memberships_of
from jiuzhu.service.auth import (
    Caller,
    Role,
    ServiceError,
    district_of,
    require,
    require_jurisdiction,
)
from jiuzhu.service.statements import SETTLED, audit_log, build
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.models import (
    Accumulator,
    Person,
    PersonLedger,
    SettlementRecord,
    StoredClaim,
)

REVERSED = "reversed"
MAX_KEY = 128


# -- the engine and its locks -------------------------------------------------------


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def service_engine(url: str | None, *, lock_timeout: float = 5.0) -> Engine:
    """The database engine of the service; on SQLite every transaction takes the write
    lock at its start (``BEGIN IMMEDIATE``), so the read-then-write of a settlement
    cannot interleave with another one.

    ``lock_timeout``: seconds a request waits for another's lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``) before it gives up, writes nothing and is answered
    503 with ``Retry-After``: a hospital at discharge gets an answer, not a hang."""
    engine = make_engine(url, sqlite_busy_timeout=lock_timeout)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    elif engine.dialect.name == "postgresql":
        millis = max(1, round(lock_timeout * 1000))

        def _pg_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {millis}")
            dbapi_connection.commit()

        event.listen(engine, "connect", _pg_lock_timeout)
    return engine


AUDIT = insert(audit_log)
EMPTY_CONTEXT: dict[str, Any] = {"chain": None, "grant_paid": False}


# -- state as JSON -----------------------------------------------------------------


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


# -- results -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettlementView:
    """A stored settlement as the service answers it: plain values, no database session."""

    public_id: str
    status: str
    claim_ref: str
    person_public_id: str
    id_number: str
    year: int
    policy_id: str
    revision: int
    category_source: dict[str, Any]
    result: dict[str, Any]
    created_at: dt.datetime
    reversed_at: dt.datetime | None

    @classmethod
    def of(cls, rec: SettlementRecord, person: Person, claim_ref: str) -> SettlementView:
        return cls(
            rec.public_id,
            rec.status,
            claim_ref,
            person.public_id,
            person.id_number,
            rec.year,
            rec.policy_id,
            rec.revision,
            rec.category_source,
            rec.result,
            rec.created_at,
            rec.reversed_at,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    view: SettlementView
    replay: bool = False


class _Replayed(Exception):
    """A retry found its first settlement: roll back (the lock taken) and answer that."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("replay")
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class _Registered:
    """A person's registry row with their memberships, read in one query."""

    id: int
    public_id: str
    district: str | None
    memberships: list[Membership]


def settlement_json(s: Settlement) -> dict[str, Any]:
    """The engine's JSON (the same as ``jiuzhu settle``), the person's ID number masked."""
    out = s.to_json()
    out["person_id"] = mask_id(s.person_id)
    return out


def request_hash(data: Any) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _audit(
    db: Session | Connection, caller: Caller, action: str, target: str, **details: Any
) -> None:
    """Append to the audit log, in the caller's transaction (a session or a connection)."""
    db.execute(
        AUDIT,
        {
            "at": dt.datetime.now(dt.UTC),
            "actor": caller.name,
            "role": caller.role.value,
            "action": action,
            "target": target,
            "details": details,
        },
    )


class SettlementService:
    """The use cases over one database and one policy."""

    def __init__(self, engine: Engine, compiled: CompiledPolicy) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.compiled = compiled
        self.ref = ReferenceEngine(compiled)
        self.sql = build(engine.dialect.name)

    # -------------------------------------------------------------- settle
    def settle(self, caller: Caller, key: str | None, data: Any) -> Outcome:
        """Settle one claim in one transaction: read the person with their memberships,
        take the ledger lock, read the year's accumulators (and whether the key or the
        claim was seen before), settle, write claim, settlement, accumulators and audit
        entry. Eight statements, prebuilt (``statements.py``; ADR 9)."""
        require(caller, Role.hospital)
        if not key or len(key) > MAX_KEY:
            raise ServiceError(
                422, "Idempotency-Key", f"须提供 Idempotency-Key 请求头（1–{MAX_KEY} 个字符）"
            )
        if not isinstance(data, dict):
            raise ServiceError(422, "", "请求体须为一个 JSON 对象（单据）")
        digest = request_hash(data)
        id_number = self._person_id(data)
        try:
            with self.engine.begin() as conn:
                return self._settle_locked(conn, caller, key, digest, data, id_number)
        except _Replayed as replayed:
            return replayed.outcome
        except IntegrityError:
            # the same key, used at the same moment for another person's claim
            with self.engine.begin() as conn:
                earlier = self._replay(conn, caller, key, digest)
            if earlier is None:
                raise
            return earlier

    def _replay(self, conn: Connection, caller: Caller, key: str, digest: str) -> Outcome | None:
        row = conn.execute(self.sql.replay, {"client_id": caller.client_id, "key": key}).first()
        if row is None:
            return None
        if row.request_sha256 != digest:
            raise ServiceError(
                409,
                "Idempotency-Key",
                f"Idempotency-Key {mask_ids_in(key)!r} 已用于另一份不同的单据"
                f"（结算 {row.public_id}）；"
                "重试须发送完全相同的请求体",
            )
        view = SettlementView(
            row.public_id,
            row.status,
            row.claim_ref,
            row.person_public_id,
            row.id_number,
            row.year,
            row.policy_id,
            row.revision,
            row.category_source,
            row.result,
            row.created_at,
            row.reversed_at,
        )
        return Outcome(view, replay=True)

    @staticmethod
    def _person_id(data: dict[str, Any]) -> str | None:
        raw = data.get("person_id")
        if not isinstance(raw, str):
            return None  # parse_record names the problem
        why = validate_id(raw)
        if why:
            raise ServiceError(422, "person_id", f"{mask_id(raw)}：{why}")
        return raw.strip().upper()

    def _registered(self, conn: Connection, id_number: str) -> _Registered | None:
        """The person, their household's district and their memberships: one query."""
        rows = conn.execute(self.sql.registered, {"id_number": id_number}).all()
        if not rows:
            return None
        first = rows[0]
        held = [membership_from(r) for r in rows if r.category is not None]
        return _Registered(first.id, first.public_id, first.district_code, held)

    def _resolve(
        self, data: dict[str, Any], id_number: str | None, held: list[Membership]
    ) -> tuple[Claim, dict[str, Any]]:
        """The claim, with its categories from the registry when it gives none."""
        source: dict[str, Any] = {"source": "claim"}
        body = data
        if id_number is not None and gives_no_category(data):
            spans = category_spans(held)
            body = {**data, "categories": spans}
            source = {"source": "registry", "categories": spans}
        parsed = parse_record(body, 1)
        if isinstance(parsed, list):
            raise ServiceError.many(422, [(e.field, e.message) for e in parsed])
        if source["source"] == "registry":
            answer = self._answer(id_number or "", held, parsed.settlement_date)
            source["applied"] = answer.applied.value
            source["why"] = list(answer.why)
        return parsed, source

    def _answer(self, id_number: str, held: list[Membership], on: dt.date) -> Any:
        pol = self.compiled.policy
        label = f"{pol.id}（{pol.categories.clause or '类别顺序'}）"
        return category_on(id_number, held, on, pol.categories.precedence, label)

    def _lock(self, conn: Connection, person_id: int) -> dict[str, Any]:
        """Take the person's ledger lock and return their person-level engine state.

        One upsert: it creates the ledger row if missing and otherwise bumps its version,
        which on PostgreSQL locks the row until commit (a concurrent settlement for the
        same person waits here, then reads what this one wrote); on SQLite the whole
        database is already locked by ``BEGIN IMMEDIATE``."""
        params = {"person_id": person_id, "context": EMPTY_CONTEXT, "now": dt.datetime.now(dt.UTC)}
        context: dict[str, Any] = conn.execute(self.sql.lock, params).scalar_one()
        return context

    def _person_for(self, conn: Connection, id_number: str) -> tuple[int, str]:
        """A person the registry does not know yet (a claim may come first): their row.

        ``ON CONFLICT DO NOTHING``, then read: an upsert that updated the row would lock it
        against the key-share lock every ledger insert takes on its person (a deadlock
        between two first settlements for the same person)."""
        values = {"id_number": id_number, "public_id": uuid.uuid4().hex}
        conn.execute(self.sql.new_person, {**values, "created_at": dt.datetime.now(dt.UTC)})
        row = conn.execute(self.sql.person_row, {"id_number": id_number}).one()
        return int(row.id), str(row.public_id)

    def _settle_locked(
        self,
        conn: Connection,
        caller: Caller,
        key: str,
        digest: str,
        data: dict[str, Any],
        id_number: str | None,
    ) -> Outcome:
        known = None if id_number is None else self._registered(conn, id_number)
        claim, source = self._resolve(data, id_number, [] if known is None else known.memberships)
        assert id_number is not None  # parse_record refused a missing person_id
        require_jurisdiction(caller, (known.district if known else None) or id_number[:6])
        if known is None:
            person_id, public_id = self._person_for(conn, id_number)
        else:
            person_id, public_id = known.id, known.public_id
        context = self._lock(conn, person_id)
        pools, prior, seen = conn.execute(
            self.sql.reads,
            {
                "person_id": person_id,
                "year": claim.year,
                "client_id": caller.client_id,
                "key": key,
                "claim_ref": claim.claim_id,
            },
        ).one()
        if prior is not None:  # a retry, perhaps one that waited on the lock
            earlier = self._replay(conn, caller, key, digest)
            assert earlier is not None
            raise _Replayed(earlier)  # rolls back the lock's version bump
        state = PersonState()
        context_into(state, context)
        if pools is not None:
            state.years[claim.year] = pools_from_json(pools)
        if seen:
            state.settled_ids.add(claim.claim_id)
        try:
            result = self.ref.settle(claim, state)
        except ClaimRejected as err:
            raise ServiceError(422, err.field, err.message) from None
        now = dt.datetime.now(dt.UTC)
        claim_pk = conn.execute(
            self.sql.insert_claim,
            {
                "person_id": person_id,
                "claim_ref": claim.claim_id,
                "settlement_date": claim.settlement_date,
                "body": data,
                "received_at": now,
            },
        ).scalar_one()
        amounts = _amounts(result)
        view = SettlementView(
            uuid.uuid4().hex,
            SETTLED,
            claim.claim_id,
            public_id,
            id_number,
            claim.year,
            self.compiled.policy.id,
            1,
            source,
            amounts["result"],
            now,
            None,
        )
        conn.execute(
            self.sql.insert_settlement,
            {
                "public_id": view.public_id,
                "client_id": caller.client_id,
                "idempotency_key": key,
                "request_sha256": digest,
                "claim_id": claim_pk,
                "person_id": person_id,
                "year": claim.year,
                "policy_id": view.policy_id,
                "status": SETTLED,
                "category_source": source,
                "context_before": context,
                "revision": 1,
                "created_at": now,
                "reversed_at": None,
                **amounts,
            },
        )
        self._store_pools(conn, person_id, claim.year, state.year(claim.year), now)
        after = context_to_json(state)
        if after != context:
            conn.execute(self.sql.set_context, {"ledger_person": person_id, "context": after})
        _audit(
            conn,
            caller,
            "settlement.create",
            f"settlement:{view.public_id}",
            claim_id=claim.claim_id,
            person=mask_id(id_number),
            year=claim.year,
            paid=format_yuan(result.paid()),
            medical_assistance=format_yuan(result.amount(Benefit.medical_assistance)),
        )
        return Outcome(view)

    def _store_pools(
        self, db: Connection | Session, person_id: int, year: int, ystate: YearState, now: Any
    ) -> None:
        db.execute(
            self.sql.store_pools,
            {
                "person_id": person_id,
                "year": year,
                "pools": pools_to_json(ystate),
                "updated_at": now,
            },
        )

    # -------------------------------------------------------------- read
    def get(self, caller: Caller, public_id: str) -> Outcome:
        with self.sessions() as session, session.begin():
            rec, person = self._visible(session, caller, public_id)
            return Outcome(SettlementView.of(rec, person, self._claim_ref(session, rec)))

    @staticmethod
    def _claim_ref(session: Session, rec: SettlementRecord) -> str:
        ref = session.scalar(select(StoredClaim.claim_ref).where(StoredClaim.id == rec.claim_id))
        assert ref is not None
        return ref

    def _visible(
        self, session: Session, caller: Caller, public_id: str
    ) -> tuple[SettlementRecord, Person]:
        rec = session.scalar(
            select(SettlementRecord).where(SettlementRecord.public_id == public_id)
        )
        if rec is None:
            raise ServiceError(404, "id", f"没有结算 {public_id}")
        person = session.get(Person, rec.person_id)
        assert person is not None
        require_jurisdiction(caller, district_of(session, person, person.id_number))
        return rec, person

    # -------------------------------------------------------------- reverse
    def reverse(self, caller: Caller, public_id: str) -> tuple[Outcome, list[dict[str, Any]]]:
        """撤销: mark reversed, then re-settle the person's remaining claims of that year in
        settlement order from the accumulators before the year's first settlement."""
        require(caller, Role.hospital, Role.reviewer, Role.admin)
        with self.sessions() as session, session.begin():
            rec, person = self._visible(session, caller, public_id)
            if caller.role is Role.hospital and rec.client_id != caller.client_id:
                raise ServiceError(403, "id", "医院只能撤销本院提交的结算")
            if rec.policy_id != self.compiled.policy.id:
                raise ServiceError(
                    409,
                    "id",
                    f"结算按政策 {rec.policy_id} 作出，本服务执行 {self.compiled.policy.id}",
                )
            self._lock(session.connection(), person.id)
            session.refresh(rec)
            if rec.status == REVERSED:
                raise ServiceError(409, "id", f"结算 {public_id} 已于 {rec.reversed_at} 撤销")
            rec.status = REVERSED
            rec.reversed_at = dt.datetime.now(dt.UTC)
            changed = self._rebuild(session, person, rec.year)
            claim_ref = self._claim_ref(session, rec)
            _audit(
                session,
                caller,
                "settlement.reverse",
                f"settlement:{rec.public_id}",
                claim_id=claim_ref,
                person=mask_id(person.id_number),
                year=rec.year,
                changed=changed,
            )
            session.flush()
            return Outcome(SettlementView.of(rec, person, claim_ref)), changed

    def _rebuild(self, session: Session, person: Person, year: int) -> list[dict[str, Any]]:
        of_year = list(
            session.scalars(
                select(SettlementRecord)
                .where(SettlementRecord.person_id == person.id, SettlementRecord.year == year)
                .order_by(SettlementRecord.seq)
            )
        )
        state = PersonState()
        context_into(state, of_year[0].context_before)
        changed: list[dict[str, Any]] = []
        for rec in of_year:
            if rec.status != SETTLED:
                continue
            stored = session.get(StoredClaim, rec.claim_id)
            assert stored is not None
            body = dict(stored.body)
            if rec.category_source.get("source") == "registry":
                body["categories"] = rec.category_source["categories"]
            claim = parse_record(body, 1)
            assert not isinstance(claim, list), claim
            before = context_to_json(state)
            try:
                result = self.ref.settle(claim, state)
            except ClaimRejected as err:
                raise ServiceError(
                    409, err.field, f"重新结算 {claim.claim_id} 失败：{err.message}"
                ) from None
            new = settlement_json(result)
            diff = _diff(rec.result, new)
            rec.context_before = before
            if diff:
                changed.append(
                    {"settlement_id": rec.public_id, "claim_id": claim.claim_id, "changes": diff}
                )
                for k, v in _amounts(result).items():
                    setattr(rec, k, v)
                rec.revision += 1
        self._store_pools(session, person.id, year, state.year(year), dt.datetime.now(dt.UTC))
        later = session.scalar(
            select(func.count())
            .select_from(SettlementRecord)
            .where(SettlementRecord.person_id == person.id, SettlementRecord.year > year)
        )
        if not later:
            session.execute(
                update(PersonLedger)
                .where(PersonLedger.person_id == person.id)
                .values(context=context_to_json(state))
            )
        return changed

    # -------------------------------------------------------------- persons
    def person(self, caller: Caller, public_id: str) -> tuple[Person, str, list[Membership]]:
        with self.sessions() as session, session.begin():
            person = session.scalar(select(Person).where(Person.public_id == public_id))
            if person is None:
                raise ServiceError(404, "id", f"没有此人 {public_id}")
            district = district_of(session, person, person.id_number)
            require_jurisdiction(caller, district)
            return person, district, memberships_of(session, person.id_number) or []

    def year(self, caller: Caller, public_id: str, year: int, today: dt.date) -> dict[str, Any]:
        """Per benefit and pool: what the year allows, what is used and what remains, and
        how much of the deductible is met (FHIR ExplanationOfBenefit.benefitBalance)."""
        person, _district, held = self.person(caller, public_id)
        with self.sessions() as session, session.begin():
            acc = session.get(Accumulator, (person.id, year))
            ystate = pools_from_json(acc.pools) if acc is not None else YearState()
            last = session.scalar(
                select(SettlementRecord)
                .where(
                    SettlementRecord.person_id == person.id,
                    SettlementRecord.year == year,
                    SettlementRecord.status == SETTLED,
                )
                .order_by(SettlementRecord.seq.desc())
                .limit(1)
            )
        year_end = dt.date(year, 12, 31)
        on = {"today": min(today, year_end), "year_end": year_end}
        answers = {k: self._answer(person.id_number, held, d) for k, d in on.items()}
        category = answers["today"].applied
        basis = "registry"
        if not held and last is not None:
            category, basis = Category(last.result["category"]), "last_settlement"
        balances = [
            _balance(self.compiled, b, pool, category, ystate) for (b, pool) in sorted(ystate.pools)
        ]
        return {
            "person": {"id": person.public_id, "id_number": mask_id(person.id_number)},
            "year": year,
            "policy": self.compiled.policy.id,
            "category": category.value,
            "category_basis": basis,
            "categories": {
                k: {
                    "date": on[k].isoformat(),
                    "applied": a.applied.value,
                    "applied_zh": a.applied.zh,
                    "why": list(a.why),
                }
                for k, a in answers.items()
            },
            "benefit_balance": balances,
        }


def _amounts(result: Settlement) -> dict[str, Any]:
    return {
        "total_fen": result.total,
        "paid_fen": result.paid(),
        "personal_fen": result.personal,
        "medical_assistance_fen": result.amount(Benefit.medical_assistance),
        "result": settlement_json(result),
    }


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    keys = [b.value for b in Benefit] + ["critical_care_grant", "personal", "category"]
    return {k: {"old": old.get(k), "new": new.get(k)} for k in keys if old.get(k) != new.get(k)}


def _balance(
    compiled: CompiledPolicy, benefit: Benefit, pool: str, category: Category, ystate: YearState
) -> dict[str, Any]:
    """One accumulator's balance: ``pool`` is a pool or a sub-limit of the benefit."""
    used = ystate.pool(benefit, pool)
    sched = compiled.schedule(benefit, category)
    fn = None if sched is None else sched.functions.get(pool)
    caps = [] if sched is None else sched.caps_on_key(pool)
    allowed: int | None = min((c.amount for c in caps), default=None)
    rooms = [max(c.amount - sum(ystate.pool(benefit, k).paid for k in c.keys), 0) for c in caps]
    remaining: int | None = min(rooms, default=None)
    shared: dict[str, Any] | None = None
    outer = next((c for c in caps if c.kind is CapKind.shared), None)
    if outer is not None:
        shared = {
            "pools": sorted(outer.keys),
            "allowed": format_yuan(outer.amount),
            "used": format_yuan(ystate.paid_in(benefit, outer.keys)),
        }
    per_claim = None if sched is None else sched.per_claim_deductibles.get(pool)
    deductible: dict[str, Any] | None = None
    if per_claim is not None:
        deductible = {"amount": format_yuan(per_claim), "per_claim": True, "met": None}
    elif fn is not None and fn.deductible:
        deductible = {
            "amount": format_yuan(fn.deductible),
            "per_claim": False,
            "met": format_yuan(min(used.base, fn.deductible)),
        }

    def y(v: int | None) -> str | None:
        return None if v is None else format_yuan(v)

    return {
        "benefit": benefit.value,
        "benefit_zh": benefit.zh,
        "pool": pool,
        "category": category.value,
        "base": format_yuan(used.base),
        "allowed": y(allowed),
        "used": format_yuan(used.paid),
        "remaining": y(remaining),
        "shared_cap": shared,
        "deductible": deductible,
    }
