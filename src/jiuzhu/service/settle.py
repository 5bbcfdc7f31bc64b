"""The use cases: settle a claim, reverse a settlement, read a person and their year.

Every write runs in one transaction that first locks the person's ledger row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every transaction of the service
engine is ``BEGIN IMMEDIATE``, which takes the database's write lock). Under the lock
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

from sqlalchemy import Engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.reference import ClaimRejected, ReferenceEngine
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState, PoolState, YearState
from jiuzhu.domain.ids import mask_id, validate_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.registry import Membership, category_on
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.claims import parse_record
from jiuzhu.io.rosters import memberships_of
from jiuzhu.service.auth import (
    Caller,
    Role,
    ServiceError,
    district_of,
    require,
    require_jurisdiction,
)
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.models import (
    Accumulator,
    AuditEntry,
    Person,
    PersonLedger,
    SettlementRecord,
    StoredClaim,
)

SETTLED = "settled"
REVERSED = "reversed"
MAX_KEY = 128


# -- the engine and its locks -------------------------------------------------------


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def service_engine(url: str | None) -> Engine:
    """The database engine of the service; on SQLite every transaction takes the write
    lock at its start (``BEGIN IMMEDIATE``), so the read-then-write of a settlement
    cannot interleave with another one."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _insert_ignore(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING``: a row two requests may create at once."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


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


@dataclass(slots=True)
class Outcome:
    record: SettlementRecord
    person: Person
    replay: bool = False


def settlement_json(s: Settlement) -> dict[str, Any]:
    """The engine's JSON (the same as ``jiuzhu settle``), the person's ID number masked."""
    out = s.to_json()
    out["person_id"] = mask_id(s.person_id)
    return out


def request_hash(data: Any) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _audit(session: Session, caller: Caller, action: str, target: str, **details: Any) -> None:
    session.add(
        AuditEntry(
            actor=caller.name,
            role=caller.role.value,
            action=action,
            target=target,
            details=details,
        )
    )


class SettlementService:
    """The use cases over one database and one policy."""

    def __init__(self, engine: Engine, compiled: CompiledPolicy) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.compiled = compiled
        self.ref = ReferenceEngine(compiled)

    # -------------------------------------------------------------- settle
    def settle(self, caller: Caller, key: str | None, data: Any) -> Outcome:
        require(caller, Role.hospital)
        if not key or len(key) > MAX_KEY:
            raise ServiceError(
                422, "Idempotency-Key", f"须提供 Idempotency-Key 请求头（1–{MAX_KEY} 个字符）"
            )
        digest = request_hash(data)
        with self.sessions() as session, session.begin():
            earlier = self._replay(session, caller, key, digest)
        if earlier is not None:
            return earlier
        if not isinstance(data, dict):
            raise ServiceError(422, "", "请求体须为一个 JSON 对象（单据）")
        id_number = self._person_id(data)
        try:
            with self.sessions() as session, session.begin():
                return self._settle_locked(session, caller, key, digest, data, id_number)
        except IntegrityError:
            # the same key, used at the same moment for another person's claim
            with self.sessions() as session, session.begin():
                earlier = self._replay(session, caller, key, digest)
            if earlier is None:
                raise
            return earlier

    def _replay(self, session: Session, caller: Caller, key: str, digest: str) -> Outcome | None:
        rec = session.scalar(
            select(SettlementRecord).where(
                SettlementRecord.client_id == caller.client_id,
                SettlementRecord.idempotency_key == key,
            )
        )
        if rec is None:
            return None
        if rec.request_sha256 != digest:
            raise ServiceError(
                409,
                "Idempotency-Key",
                f"Idempotency-Key {key!r} 已用于另一份不同的单据（结算 {rec.public_id}）；"
                "重试须发送完全相同的请求体",
            )
        person = session.get(Person, rec.person_id)
        assert person is not None
        return Outcome(rec, person, replay=True)

    @staticmethod
    def _person_id(data: dict[str, Any]) -> str | None:
        raw = data.get("person_id")
        if not isinstance(raw, str):
            return None  # parse_record names the problem
        why = validate_id(raw)
        if why:
            raise ServiceError(422, "person_id", f"{mask_id(raw)}：{why}")
        return raw.strip().upper()

    def _resolve(
        self, session: Session, data: dict[str, Any], id_number: str | None
    ) -> tuple[Claim, dict[str, Any]]:
        """The claim, with its categories from the registry when it gives none."""
        source: dict[str, Any] = {"source": "claim"}
        body = data
        held: list[Membership] = []
        if id_number is not None and "category" not in data and "categories" not in data:
            held = memberships_of(session, id_number) or []
            spans = [
                {
                    "category": m.category.value,
                    "valid_from": m.valid_from.isoformat(),
                    "valid_to": None if m.valid_to is None else m.valid_to.isoformat(),
                }
                for m in held
            ] or [{"category": Category.ordinary.value}]
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

    def _lock(self, session: Session, person: Person) -> PersonLedger:
        _insert_ignore(
            session,
            PersonLedger,
            {
                "person_id": person.id,
                "context": {"chain": None, "grant_paid": False},
                "version": 0,
                "updated_at": dt.datetime.now(dt.UTC),
            },
            ["person_id"],
        )
        ledger = session.scalar(
            select(PersonLedger)
            .where(PersonLedger.person_id == person.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert ledger is not None
        return ledger

    def _settle_locked(
        self,
        session: Session,
        caller: Caller,
        key: str,
        digest: str,
        data: dict[str, Any],
        id_number: str | None,
    ) -> Outcome:
        claim, source = self._resolve(session, data, id_number)
        assert id_number is not None  # parse_record refused a missing person_id
        person = session.scalar(select(Person).where(Person.id_number == id_number))
        require_jurisdiction(caller, district_of(session, person, id_number))
        if person is None:
            _insert_ignore(
                session,
                Person,
                {
                    "id_number": id_number,
                    "public_id": uuid.uuid4().hex,
                    "created_at": dt.datetime.now(dt.UTC),
                },
                ["id_number"],
            )
            person = session.scalar(select(Person).where(Person.id_number == id_number))
            assert person is not None
        ledger = self._lock(session, person)
        earlier = self._replay(session, caller, key, digest)  # a retry that waited on the lock
        if earlier is not None:
            return earlier
        state = PersonState()
        context_into(state, ledger.context)
        acc = session.get(Accumulator, (person.id, claim.year), populate_existing=True)
        if acc is not None:
            state.years[claim.year] = pools_from_json(acc.pools)
        state.settled_ids = set(
            session.scalars(
                select(StoredClaim.claim_ref)
                .join(SettlementRecord, SettlementRecord.claim_id == StoredClaim.id)
                .where(StoredClaim.person_id == person.id, SettlementRecord.status == SETTLED)
            )
        )
        before = dict(ledger.context)
        try:
            result = self.ref.settle(claim, state)
        except ClaimRejected as err:
            raise ServiceError(422, err.field, err.message) from None
        stored = StoredClaim(
            person_id=person.id,
            claim_ref=claim.claim_id,
            settlement_date=claim.settlement_date,
            body=data,
        )
        session.add(stored)
        session.flush()
        rec = SettlementRecord(
            client_id=caller.client_id,
            idempotency_key=key,
            request_sha256=digest,
            claim_id=stored.id,
            person_id=person.id,
            year=claim.year,
            policy_id=self.compiled.policy.id,
            status=SETTLED,
            category_source=source,
            context_before=before,
            revision=1,
            **_amounts(result),
        )
        session.add(rec)
        pools = pools_to_json(state.year(claim.year))
        if acc is None:
            session.add(Accumulator(person_id=person.id, year=claim.year, pools=pools))
        else:
            acc.pools = pools
            acc.updated_at = dt.datetime.now(dt.UTC)
        ledger.context = context_to_json(state)
        ledger.version += 1
        ledger.updated_at = dt.datetime.now(dt.UTC)
        session.flush()
        _audit(
            session,
            caller,
            "settlement.create",
            f"settlement:{rec.public_id}",
            claim_id=claim.claim_id,
            person=mask_id(id_number),
            year=claim.year,
            paid=format_yuan(result.paid()),
            medical_assistance=format_yuan(result.amount(Benefit.medical_assistance)),
        )
        return Outcome(rec, person)

    # -------------------------------------------------------------- read
    def get(self, caller: Caller, public_id: str) -> Outcome:
        with self.sessions() as session, session.begin():
            rec, person = self._visible(session, caller, public_id)
            return Outcome(rec, person)

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
            ledger = self._lock(session, person)
            session.refresh(rec)
            if rec.status == REVERSED:
                raise ServiceError(409, "id", f"结算 {public_id} 已于 {rec.reversed_at} 撤销")
            rec.status = REVERSED
            rec.reversed_at = dt.datetime.now(dt.UTC)
            changed = self._rebuild(session, person, ledger, rec.year)
            stored = session.get(StoredClaim, rec.claim_id)
            assert stored is not None
            _audit(
                session,
                caller,
                "settlement.reverse",
                f"settlement:{rec.public_id}",
                claim_id=stored.claim_ref,
                person=mask_id(person.id_number),
                year=rec.year,
                changed=changed,
            )
            return Outcome(rec, person), changed

    def _rebuild(
        self, session: Session, person: Person, ledger: PersonLedger, year: int
    ) -> list[dict[str, Any]]:
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
        acc = session.get(Accumulator, (person.id, year))
        pools = pools_to_json(state.year(year))
        if acc is None:
            session.add(Accumulator(person_id=person.id, year=year, pools=pools))
        else:
            acc.pools = pools
            acc.updated_at = dt.datetime.now(dt.UTC)
        later = session.scalar(
            select(func.count())
            .select_from(SettlementRecord)
            .where(SettlementRecord.person_id == person.id, SettlementRecord.year > year)
        )
        if not later:
            ledger.context = context_to_json(state)
        ledger.version += 1
        ledger.updated_at = dt.datetime.now(dt.UTC)
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
    used = ystate.pool(benefit, pool)
    sched = compiled.schedule(benefit, category)
    fn = None if sched is None else sched.functions.get(pool)
    allowed: int | None = None if fn is None else fn.cap
    remaining: int | None = None if allowed is None else max(allowed - used.paid, 0)
    shared: dict[str, Any] | None = None
    if sched is not None and sched.shared_cap is not None and pool in sched.cap_pools:
        in_shared = ystate.paid_in(benefit, sched.cap_pools)
        left = max(sched.shared_cap - in_shared, 0)
        remaining = left if remaining is None else min(remaining, left)
        allowed = sched.shared_cap if allowed is None else min(allowed, sched.shared_cap)
        shared = {
            "pools": sorted(sched.cap_pools),
            "allowed": format_yuan(sched.shared_cap),
            "used": format_yuan(in_shared),
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
