"""Settle a claim at the hospital desk, or pre-settle it (预结算).

Eligibility comes from the registry only: a hospital's claim that states a category is
refused (类别以登记为准); the person's memberships with their dates are the claim's
categories. Before the engine runs, the claim is checked as ``jiuzhu settle`` checks
it, and against the calendar: not settled after today (Beijing), nor before the birth
date in the ID number. The person must live in the policy's area.

A settlement runs in one transaction that first locks the person's ledger row (on
PostgreSQL the row lock of an ``INSERT … ON CONFLICT DO UPDATE`` on it, found by the ID
number; on SQLite every write transaction of the service engine is ``BEGIN
IMMEDIATE``). Under the lock the person's memberships and accumulators are read (one
statement), the claim is checked, the reference engine settles, and the claim, the
settlement, the accumulators and the audit row are written together (on PostgreSQL
one statement): two hospitals settling for the same person at once are serialised, so
a cap is never paid twice (ADR 9). A claim refused after the lock rolls it back with
everything else. The statements are prebuilt (``storage/statements.py``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.reference import ClaimRejected
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState, YearState
from jiuzhu.domain.ids import mask_id, mask_ids_in, mask_value, validate_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.registry import CategoryAnswer, Membership, category_on
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims import parse_record
from jiuzhu.io.registry_categories import category_spans
from jiuzhu.io.rosters import membership_from
from jiuzhu.storage.models import Accumulator
from jiuzhu.storage.statements import SETTLED
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role, require, require_jurisdiction
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import (
    EMPTY_CONTEXT,
    Store,
    context_into,
    context_to_json,
    pools_from_json,
    pools_to_json,
)
from jiuzhu.usecases.views import SettlementView

MAX_KEY = 128
CATEGORY_FIELDS = ("category", "categories")


@dataclass(frozen=True, slots=True)
class Outcome:
    view: SettlementView
    replay: bool = False


@dataclass(frozen=True, slots=True)
class Preview:
    """A pre-settlement: the same computation and explanation, nothing stored."""

    claim_ref: str
    person_public_id: str | None
    id_number: str
    year: int
    policy_id: str
    category_source: dict[str, Any]
    result: dict[str, Any]


class _Replayed(Exception):
    """A retry found its first settlement: roll back (the lock taken) and answer that."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("replay")
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Registered:
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


def amounts(result: Settlement) -> dict[str, Any]:
    return {
        "total_fen": result.total,
        "paid_fen": result.paid(),
        "personal_fen": result.personal,
        "medical_assistance_fen": result.amount(Benefit.medical_assistance),
        "result": settlement_json(result),
    }


def birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def answer_on(store: Store, id_number: str, held: list[Membership], on: dt.date) -> CategoryAnswer:
    pol = store.compiled.policy
    label = f"{pol.id}（{pol.categories.clause or '类别顺序'}）"
    return category_on(id_number, held, on, pol.categories.precedence, label)


def person_id_of(data: dict[str, Any]) -> str | None:
    raw = data.get("person_id")
    if not isinstance(raw, str):
        return None  # parse_record names the problem
    why = validate_id(raw)
    if why:
        raise Refused(Kind.invalid, "person_id", f"{mask_value(raw)}：{why}")
    return raw.strip().upper()


REVIEWED = "reviewed"


def _refuse_categories(data: dict[str, Any]) -> None:
    """What only the registry and the bureau's review decide is never a hospital's to say."""
    problems = [
        (
            f,
            "类别以登记为准：医院的单据不得给出 category 或 categories，"
            "按登记库中此人在结算日有效的资格结算",
        )
        for f in CATEGORY_FIELDS
        if f in data
    ]
    if REVIEWED in data:
        problems.append((REVIEWED, "审核批准的待遇由医保部门审核确定，医院的单据不得给出 reviewed"))
    if problems:
        raise Refused.many(Kind.invalid, problems)


def check_dates(store: Store, claim: Claim, id_number: str) -> None:
    """The calendar: nothing settled after today (Beijing) or before the person was born."""
    problems: list[tuple[str, str]] = []
    today = store.today()
    if claim.settlement_date > today:
        problems.append(
            ("settlement_date", f"结算日期 {claim.settlement_date} 晚于今天（北京时间 {today}）")
        )
    born = birth_date(id_number)
    for name, day, what in (
        ("admission_date", claim.admission_date, "入院日期"),
        ("settlement_date", claim.settlement_date, "结算日期"),
    ):
        if day < born:
            problems.append((name, f"{what} {day} 早于身份证号所载出生日期 {born}"))
    if problems:
        raise Refused.many(Kind.invalid, problems)


def require_area(store: Store, district: str) -> None:
    if not district.startswith(store.area):
        raise Refused(
            Kind.invalid,
            "person_id",
            f"此人属 {district} 辖区，不在政策 {store.policy_id} 的适用地区"
            f"（{store.compiled.policy.jurisdiction}，代码 {store.area}）内",
        )


def parse_claim(
    store: Store, data: Any, id_number: str | None, held: list[Membership]
) -> tuple[Claim, dict[str, Any]]:
    """The claim with its categories from the registry, and where they came from."""
    spans = category_spans(held)
    parsed = parse_record({**data, "categories": spans}, 1)
    if isinstance(parsed, list):
        raise Refused.many(Kind.invalid, [(e.field, e.message) for e in parsed])
    assert id_number is not None  # parse_record refused a missing person_id
    check_dates(store, parsed, id_number)
    answer = answer_on(store, id_number, held, parsed.settlement_date)
    source = {
        "source": "registry",
        "categories": spans,
        "applied": answer.applied.value,
        "why": list(answer.why),
    }
    return parsed, source


def _checked_body(data: Any) -> tuple[dict[str, Any], str | None]:
    if not isinstance(data, dict):
        raise Refused(Kind.invalid, "", "请求体须为一个 JSON 对象（单据）")
    _refuse_categories(data)
    return data, person_id_of(data)


def registered(store: Store, conn: Connection, id_number: str) -> Registered | None:
    """The person, their household's district and their memberships: one query."""
    rows = conn.execute(store.sql.registered, {"id_number": id_number}).all()
    if not rows:
        return None
    first = rows[0]
    held = [membership_from(r) for r in rows if r.category is not None]
    return Registered(first.id, first.public_id, first.district_code, held)


# -- settle ---------------------------------------------------------------------------


def settle(store: Store, caller: Caller, key: str | None, data: Any) -> Outcome:
    """Settle one claim in one transaction: read the person with their memberships,
    take the ledger lock, read the year's accumulators (and whether the key or the
    claim id was used before), settle, write claim, settlement, accumulators, audit."""
    require(caller, Role.hospital)
    if not key or len(key) > MAX_KEY:
        raise Refused(
            Kind.invalid, "Idempotency-Key", f"须提供 Idempotency-Key 请求头（1–{MAX_KEY} 个字符）"
        )
    body, id_number = _checked_body(data)
    digest = request_hash(body)
    try:
        with store.engine.begin() as conn:
            return _settle_locked(store, conn, caller, key, digest, body, id_number)
    except _Replayed as replayed:
        return replayed.outcome
    except IntegrityError:
        # the same key, or the same claim id, used at the same moment for another person
        with store.engine.begin() as conn:
            earlier = _replay(store, conn, caller, key, digest)
            if earlier is not None:
                return earlier
            claim_ref = body.get("claim_id")
            dup = conn.execute(
                store.sql.claim_settled, {"client_id": caller.client_id, "claim_ref": claim_ref}
            ).scalar_one_or_none()
        if dup is None:
            raise
        raise _repeated(str(claim_ref), dup) from None


def _repeated(claim_ref: str, public_id: str) -> Refused:
    return Refused(
        Kind.conflict,
        "claim_id",
        f"单据号 {mask_ids_in(claim_ref)!r} 本院已结算过（结算 {public_id}）；"
        "单据号在本院内须唯一，撤销后重新结算请用新的单据号",
        location=f"/settlements/{public_id}",
    )


def _replay(
    store: Store, conn: Connection, caller: Caller, key: str, digest: str
) -> Outcome | None:
    row = conn.execute(store.sql.replay, {"client_id": caller.client_id, "key": key}).first()
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise Refused(
            Kind.conflict,
            "Idempotency-Key",
            f"Idempotency-Key {mask_ids_in(key)!r} 已用于另一份不同的单据"
            f"（结算 {row.public_id}）；重试须发送完全相同的请求体",
        )
    from jiuzhu.usecases.reads import settlement_view

    with store.sessions(bind=conn) as session:
        view = settlement_view(session, row.seq)
    return Outcome(view, replay=True)


def _person_for(store: Store, conn: Connection, id_number: str) -> tuple[int, str]:
    """A person the registry does not know yet (a claim may come first): their row.

    ``ON CONFLICT DO NOTHING``, then read: an upsert that updated the row would lock it
    against the key-share lock every ledger insert takes on its person (a deadlock
    between two first settlements for the same person)."""
    values = {"id_number": id_number, "public_id": uuid.uuid4().hex}
    conn.execute(store.sql.new_person, {**values, "created_at": dt.datetime.now(dt.UTC)})
    row = conn.execute(store.sql.person_row, {"id_number": id_number}).one()
    return int(row.id), str(row.public_id)


def lock(store: Store, conn: Connection, person_id: int) -> dict[str, Any]:
    """Take the person's ledger lock and return their person-level engine state.

    One upsert: it creates the ledger row if missing and otherwise bumps its version,
    which on PostgreSQL locks the row until commit (a concurrent settlement for the
    same person waits here, then reads what this one wrote); on SQLite the whole
    database is already locked by ``BEGIN IMMEDIATE``."""
    params = {"person_id": person_id, "context": EMPTY_CONTEXT, "now": dt.datetime.now(dt.UTC)}
    context: dict[str, Any] = conn.execute(store.sql.lock, params).scalar_one()
    return context


def store_pools(
    store: Store, conn: Connection, person_id: int, year: int, ystate: YearState
) -> None:
    conn.execute(
        store.sql.store_pools,
        {
            "person_id": person_id,
            "year": year,
            "pools": pools_to_json(ystate),
            "updated_at": dt.datetime.now(dt.UTC),
        },
    )


@dataclass(frozen=True, slots=True)
class Locked:
    """The person's ledger locked, and what was read under the lock."""

    person_id: int
    public_id: str
    context: dict[str, Any]
    claim: Claim
    source: dict[str, Any]
    pools: dict[str, Any] | None
    prior: int | None
    repeated: str | None


def _year_hint(data: dict[str, Any]) -> int | None:
    """The claim's year as its ``settlement_date`` says, before the claim is checked
    (which needs the memberships read with the accumulators); checked after."""
    raw = data.get("settlement_date")
    if isinstance(raw, str) and len(raw) == 10 and raw[:4].isascii() and raw[:4].isdigit():
        return int(raw[:4])
    return None  # read again for the checked claim's year (or refused by the check)


def _claim_ref_hint(data: dict[str, Any]) -> str | None:
    """The claim id as sent, for the reads under the lock, before the claim is checked:
    only what the check could accept reaches the database (text, at most 64 characters,
    no NUL, which PostgreSQL refuses in text); otherwise None, and the checked claim's id
    is read again (or the claim is refused by the check)."""
    raw = data.get("claim_id")
    if isinstance(raw, str) and 0 < len(raw) <= 64 and "\x00" not in raw:
        return raw
    return None


def _locked(
    store: Store,
    conn: Connection,
    caller: Caller,
    key: str,
    data: dict[str, Any],
    id_number: str | None,
) -> Locked:
    """Lock the person's ledger and read under the lock.

    A person the registry holds: two statements, the lock found by ID number, then the
    person, their memberships and the three reads in one. The claim is checked between
    the reads and the engine, and refused ones roll the lock back. A person it does not
    hold (a claim may come first): the claim is checked before anything is written,
    then their row, the lock and the reads."""
    now = dt.datetime.now(dt.UTC)
    found = None
    if id_number is not None:
        params = {"id_number": id_number, "context": EMPTY_CONTEXT, "now": now}
        found = conn.execute(store.sql.lock_known, params).first()
    if found is None:
        claim, source = parse_claim(store, data, id_number, [])
        assert id_number is not None
        _check_place(store, caller, id_number[:6])
        person_id, public_id = _person_for(store, conn, id_number)
        context = lock(store, conn, person_id)
        pools, prior, repeated = _reads(store, conn, caller, key, person_id, claim)
        return Locked(person_id, public_id, context, claim, source, pools, prior, repeated)
    assert id_number is not None
    person_id, context = int(found.person_id), found.context
    hint = {"year": _year_hint(data), "claim_ref": _claim_ref_hint(data)}
    rows = conn.execute(
        store.sql.locked_reads,
        {"person_id": person_id, "client_id": caller.client_id, "key": key, **hint},
    ).all()
    held = [membership_from(r) for r in rows if r.category is not None]
    claim, source = parse_claim(store, data, id_number, held)
    first = rows[0]
    _check_place(store, caller, first.district_code or id_number[:6])
    pools, prior, repeated = first.pools, first.prior, first.repeated
    if (claim.year, claim.claim_id) != (hint["year"], hint["claim_ref"]):
        pools, prior, repeated = _reads(store, conn, caller, key, person_id, claim)
    return Locked(person_id, first.public_id, context, claim, source, pools, prior, repeated)


def _check_place(store: Store, caller: Caller, district: str) -> None:
    require_jurisdiction(caller, district)
    require_area(store, district)


def _reads(
    store: Store, conn: Connection, caller: Caller, key: str, person_id: int, claim: Claim
) -> tuple[Any, Any, Any]:
    row = conn.execute(
        store.sql.reads,
        {
            "person_id": person_id,
            "year": claim.year,
            "client_id": caller.client_id,
            "key": key,
            "claim_ref": claim.claim_id,
        },
    ).one()
    return row.pools, row.prior, row.repeated


def _settle_locked(
    store: Store,
    conn: Connection,
    caller: Caller,
    key: str,
    digest: str,
    data: dict[str, Any],
    id_number: str | None,
) -> Outcome:
    locked = _locked(store, conn, caller, key, data, id_number)
    assert id_number is not None  # parse_claim refused a claim without one
    claim, source, context = locked.claim, locked.source, locked.context
    person_id, public_id = locked.person_id, locked.public_id
    pools, prior, repeated = locked.pools, locked.prior, locked.repeated
    if prior is not None:  # a retry, perhaps one that waited on the lock
        earlier = _replay(store, conn, caller, key, digest)
        assert earlier is not None
        raise _Replayed(earlier)  # rolls back the lock's version bump
    if repeated is not None:
        raise _repeated(claim.claim_id, repeated)
    state = PersonState()
    context_into(state, context)
    if pools is not None:
        state.years[claim.year] = pools_from_json(pools)
    # A look-back claim may count its assistance in the identification's year (聊城实施方案
    # 四(一)): that year's accumulators are read and written too, under the same lock.
    others = store.ref.years_touched(claim) - {claim.year}
    for other in sorted(others):
        row = conn.execute(
            select(Accumulator.pools).where(
                Accumulator.person_id == person_id, Accumulator.year == other
            )
        ).scalar()
        if row is not None:
            state.years[other] = pools_from_json(row)
    try:
        result = store.ref.settle(claim, state)
    except ClaimRejected as err:
        raise Refused(Kind.invalid, err.field, err.message) from None
    now = dt.datetime.now(dt.UTC)
    money = amounts(result)
    view = SettlementView(
        public_id=uuid.uuid4().hex,
        client_id=caller.client_id,
        claim_ref=claim.claim_id,
        person_public_id=public_id,
        id_number=id_number,
        year=claim.year,
        policy_id=store.policy_id,
        category_source=source,
        result=money["result"],
        created_at=now,
    )
    claim_row = {
        "person_id": person_id,
        "client_id": caller.client_id,
        "claim_ref": claim.claim_id,
        "settlement_date": claim.settlement_date,
        "body": data,
    }
    settlement_row = {
        "public_id": view.public_id,
        "idempotency_key": key,
        "request_sha256": digest,
        "year": claim.year,
        "policy_id": view.policy_id,
        "status": SETTLED,
        "category_source": source,
        "context_before": context,
        **money,
    }
    years = {y: state.years[y] for y in sorted({claim.year, *others} & set(state.years))}
    after = context_to_json(state)
    entry = audit.entry(
        caller.name,
        caller.role.value,
        "settlement.create",
        f"settlement:{view.public_id}",
        {
            "claim_id": claim.claim_id,
            "person": mask_id(id_number),
            "year": claim.year,
            "paid": format_yuan(result.paid()),
            "medical_assistance": format_yuan(result.amount(Benefit.medical_assistance)),
        },
    )
    write = Write(person_id, claim_row, settlement_row, years, context, after, entry, now)
    _write(store, conn, write)
    return Outcome(view)


@dataclass(frozen=True, slots=True)
class Write:
    """What one settlement writes, once the engine has settled."""

    person_id: int
    claim: dict[str, Any]
    settlement: dict[str, Any]
    years: dict[int, YearState]
    context_before: dict[str, Any]
    context_after: dict[str, Any]
    audit_entry: dict[str, Any]
    now: dt.datetime


def _write(store: Store, conn: Connection, w: Write) -> None:
    """On PostgreSQL one statement (``storage/statements.PG_WRITE``); on SQLite, where
    the transaction holds the whole database anyway, one statement per row."""
    if store.sql.write is not None:
        years = [{"year": y, "pools": pools_to_json(ys)} for y, ys in w.years.items()]
        conn.execute(
            store.sql.write,
            {
                **w.claim,
                **w.settlement,
                **w.audit_entry,
                "now": w.now,
                "years": years,
                "context": w.context_after,
                "context_changed": w.context_after != w.context_before,
            },
        )
        return
    claim_pk = conn.execute(store.sql.insert_claim, {**w.claim, "received_at": w.now}).scalar_one()
    conn.execute(
        store.sql.insert_settlement,
        {
            **w.settlement,
            "client_id": w.claim["client_id"],
            "claim_id": claim_pk,
            "person_id": w.person_id,
            "revision": 1,
            "created_at": w.now,
            "reversed_at": None,
        },
    )
    for year, ystate in w.years.items():
        store_pools(store, conn, w.person_id, year, ystate)
    if w.context_after != w.context_before:
        conn.execute(
            store.sql.set_context, {"ledger_person": w.person_id, "context": w.context_after}
        )
    audit.append_entry(conn, w.audit_entry)


# -- pre-settle -------------------------------------------------------------------------


def preview(store: Store, caller: Caller, data: Any) -> Preview:
    """预结算: what ``settle`` would answer now, computed the same way on the person's
    accumulators as they stand; nothing is stored and no cap is used. A read of personal
    data, so it is audited (in a transaction of its own, after the read)."""
    require(caller, Role.hospital)
    body, id_number = _checked_body(data)
    with store.reads() as session, session.begin():
        conn = session.connection()
        known = None if id_number is None else registered(store, conn, id_number)
        claim, source = parse_claim(
            store, body, id_number, [] if known is None else known.memberships
        )
        assert id_number is not None
        district = (known.district if known else None) or id_number[:6]
        require_jurisdiction(caller, district)
        require_area(store, district)
        state = PersonState()
        if known is not None:
            from jiuzhu.storage.models import PersonLedger

            ledger = session.get(PersonLedger, known.id)
            if ledger is not None:
                context_into(state, ledger.context)
            for year in store.ref.years_touched(claim):
                acc = session.get(Accumulator, (known.id, year))
                if acc is not None:
                    state.years[year] = pools_from_json(acc.pools)
        try:
            result = store.ref.settle(claim, state)
        except ClaimRejected as err:
            raise Refused(Kind.invalid, err.field, err.message) from None
    out = Preview(
        claim_ref=claim.claim_id,
        person_public_id=None if known is None else known.public_id,
        id_number=id_number,
        year=claim.year,
        policy_id=store.policy_id,
        category_source=source,
        result=settlement_json(result),
    )
    with store.sessions() as session, session.begin():
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "settlement.preview",
            f"person:{mask_id(id_number)}",
            {"claim_id": claim.claim_id, "year": claim.year, "paid": format_yuan(result.paid())},
        )
    return out
