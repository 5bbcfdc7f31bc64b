"""Re-settle a person's claims of a year, with a cause, and pay the differences as
adjustments (补付 / 追回): the one mechanism behind a reversal, an approved application
of a benefit the desk does not pay and an identification with a look-back (DESIGN
"Settlements are never rewritten", "Look-backs").

The caller holds the person's lock (``settle.lock``) in the transaction it passes in.
From the person-level context saved before the first of those settlements, every claim
that is not reversed is settled again by the reference engine, years in order and each
year in the order the service settled it: with the categories it was settled with, or,
for claims dated from ``from_date`` on, with the categories ``spans`` gives. Two things
decided since are always added: the categories identified on application (the registry's
memberships from an approved application, with their application date, so a look-back
keeps paying whatever re-settles the year later) and the approvals of claims for a
benefit the desk does not pay (``claim_reviews``).

The years re-settled together are the ones asked for and every year their claims touch
(``ReferenceEngine.years_touched``): a 聊城 look-back claim of the previous calendar year
counts its assistance in the identification's year (聊城实施方案 四(一)), so that year and
its own are re-settled as one.

``plan`` computes what would change and writes nothing (the amount an application's
review shows); ``resettle`` writes it: per claim and benefit that differs from its
current amounts (what was answered plus the adjustments so far) an adjustment row with
the cause and its explanation lines. Nothing already written is changed: the settlements
stay as answered; the accumulators become the re-settled years'.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.reference import ClaimRejected
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims import parse_record
from jiuzhu.storage.models import (
    Adjustment,
    CategoryMembership,
    ClaimReview,
    PersonLedger,
    Resettlement,
    Reversal,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.settle import store_pools
from jiuzhu.usecases.unit import Store, context_into, context_to_json
from jiuzhu.usecases.views import ADD_MORE, GRANT, RECOVER, amounts_of

GRANT_ZH = "大病关怀救助"
MAX_LINKED_YEARS = 6
"""How far linked years may spread: a year is linked to its neighbours only (a look-back
reaches one calendar year back at most)."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a year is re-settled: ``kind`` (``reversal``, ``identification``, …), the record
    it refers to, and the words people read (``撤销结算 … ：原因``)."""

    kind: str
    ref: str
    text: str


@dataclass(frozen=True, slots=True)
class Changed:
    """One claim whose amounts changed: its settlement and the change per amount key."""

    settlement_seq: int
    settlement_id: str
    client_id: int
    claim_ref: str
    changes: dict[str, tuple[int, int]]
    """amount key → (before, after), in fen."""


@dataclass(frozen=True, slots=True)
class Resettled:
    public_id: str
    changed: list[Changed] = field(default_factory=list)

    @property
    def adjusted_claims(self) -> int:
        return len(self.changed)


Spans = Callable[[dict[str, Any]], list[dict[str, Any]]]
"""Given a stored claim's body (its ``categories`` those it was settled with), the
categories to settle it with now."""

Review = dict[str, Any]
"""An approval of a claim as the claim contract's ``reviewed`` item (``benefit``,
``accepted`` yuan or None, ``application``)."""


@dataclass(frozen=True, slots=True)
class Replanned:
    """One standing claim as settled again now."""

    rec: SettlementRecord
    claim_ref: str
    settlement_date: dt.date
    result: Settlement
    changes: dict[str, tuple[int, int]]


@dataclass
class Plan:
    """What re-settling would do; nothing written."""

    person_id: int
    years: list[int]
    claims: list[Replanned]
    state: PersonState

    @property
    def changed(self) -> list[Replanned]:
        return [c for c in self.claims if c.changes]

    def delta(self) -> int:
        """The net of every change, in fen (补付 minus 追回)."""
        return sum(a - b for c in self.claims for b, a in c.changes.values())

    def as_json(self) -> list[dict[str, Any]]:
        """The changes, per claim and amount key, in a canonical order (what an approval
        compares with what the review computed)."""
        return [
            {
                "settlement_seq": c.rec.seq,
                "settlement_id": c.rec.public_id,
                "claim_id": c.claim_ref,
                "settlement_date": c.settlement_date.isoformat(),
                "changes": {k: [b, a] for k, (b, a) in sorted(c.changes.items())},
            }
            for c in self.changed
        ]

    def fingerprint(self) -> str:
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _zh(key: str) -> str:
    return GRANT_ZH if key == GRANT else Benefit(key).zh


def change_lines(
    key: str, before: int, after: int, result: Settlement, cause_text: str
) -> list[dict[str, Any]]:
    """An adjustment's explanation: the difference in words, then the engine's lines for
    that benefit as re-settled."""
    delta = after - before
    what = ADD_MORE if delta > 0 else RECOVER
    head = {
        "benefit": key,
        "amount": format_yuan(delta),
        "base": None,
        "formula": f"{format_yuan(after)} − {format_yuan(before)} = {format_yuan(delta)}",
        "clause": None,
        "text": (
            f"{cause_text}：重新结算后{_zh(key)}应为 {format_yuan(after)} 元，此前为"
            f" {format_yuan(before)} 元，{what} {format_yuan(abs(delta))} 元"
        ),
    }
    own = [line.to_json() for line in result.lines if line.benefit == key]
    return [head, *own]


# -- what is added to every claim ------------------------------------------------------


def identified_spans(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The person's categories identified on application, as spans of the claim contract."""
    from jiuzhu.io.registry_categories import span_of
    from jiuzhu.io.rosters import MEMBERSHIP_COLUMNS, membership_from

    rows = session.execute(
        select(*MEMBERSHIP_COLUMNS)
        .where(
            CategoryMembership.person_id == person_id,
            CategoryMembership.source_kind == "application",
        )
        .order_by(CategoryMembership.valid_from, CategoryMembership.id)
    )
    return [span_of(membership_from(r)) for r in rows]


def approved_reviews(session: Session, person_id: int) -> dict[int, list[Review]]:
    """Per settlement, the benefits approved for it on application."""
    from jiuzhu.storage.models import Application

    rows = session.execute(
        select(ClaimReview, Application.number)
        .join(Application, Application.id == ClaimReview.application_id)
        .where(ClaimReview.person_id == person_id)
        .order_by(ClaimReview.id)
    )
    out: dict[int, list[Review]] = {}
    for review, number in rows:
        out.setdefault(review.settlement_seq, []).append(
            {
                "benefit": review.benefit,
                "accepted": None
                if review.accepted_fen is None
                else format_yuan(review.accepted_fen),
                "application": number,
            }
        )
    return out


def _normal(span: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        span.get("category"),
        span.get("valid_from"),
        span.get("valid_to"),
        span.get("applied_on"),
    )


def _with(categories: Sequence[dict[str, Any]], extra: Iterable[dict[str, Any]]) -> list[Any]:
    have = {_normal(s) for s in categories}
    out = list(categories)
    for span in extra:
        if _normal(span) not in have:
            out.append(dict(span))
            have.add(_normal(span))
    return out


def _settled_categories(body: dict[str, Any], source: Mapping[str, Any]) -> list[dict[str, Any]]:
    if source.get("source") == "registry":
        return list(source["categories"])
    if "categories" in body:  # settled before revision 0004, with the hospital's own
        return list(body.pop("categories"))
    if "category" in body:
        return [{"category": body.pop("category")}]
    return [{"category": "ordinary"}]


# -- plan ------------------------------------------------------------------------------


_Row = tuple[SettlementRecord, StoredClaim, bool, Claim | None]


def _rows(
    store: Store,
    session: Session,
    person_id: int,
    years: set[int],
    body_of: Callable[[SettlementRecord, StoredClaim], dict[str, Any]],
) -> list[_Row]:
    found = session.execute(
        select(SettlementRecord, StoredClaim, Reversal.id)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .outerjoin(Reversal, Reversal.settlement_seq == SettlementRecord.seq)
        .where(SettlementRecord.person_id == person_id, SettlementRecord.year.in_(years))
        .order_by(SettlementRecord.year, SettlementRecord.seq)
    ).all()
    out: list[_Row] = []
    for rec, stored, reversal in found:
        if reversal is not None:
            out.append((rec, stored, True, None))
            continue
        claim = parse_record(body_of(rec, stored), 1)
        if isinstance(claim, list):
            problem = claim[0]
            raise Refused(
                Kind.conflict,
                problem.field,
                f"重新结算 {stored.claim_ref} 失败：{problem.message}",
            )
        out.append((rec, stored, False, claim))
    return out


def plan(
    store: Store,
    session: Session,
    person_id: int,
    years: Iterable[int],
    *,
    from_date: dt.date | None = None,
    spans: Spans | None = None,
    extra_spans: Sequence[dict[str, Any]] = (),
    extra_reviews: Mapping[int, Sequence[Review]] | None = None,
) -> Plan:
    """Settle ``person_id``'s claims of ``years`` (and the years they touch) again, as the
    module says, and return what would change. ``extra_spans`` and ``extra_reviews``
    (settlement seq → approvals) add what an application's approval would add: the plan
    its review shows."""
    identified = [*identified_spans(session, person_id), *extra_spans]
    reviews = approved_reviews(session, person_id)
    for seq, more in (extra_reviews or {}).items():
        reviews[seq] = [*reviews.get(seq, []), *more]

    def body_of(rec: SettlementRecord, stored: StoredClaim) -> dict[str, Any]:
        body = dict(stored.body)
        categories = _settled_categories(body, rec.category_source)
        if spans is not None and (from_date is None or stored.settlement_date >= from_date):
            categories = spans({**body, "categories": categories})
        body["categories"] = _with(categories, identified)
        if rec.seq in reviews:
            body["reviewed"] = reviews[rec.seq]
        return body

    wanted = set(years)
    for _ in range(MAX_LINKED_YEARS):
        around = wanted | {y + d for y in wanted for d in (-1, 1)}
        rows = _rows(store, session, person_id, around, body_of)
        linked = set(wanted)
        for rec, _stored, _gone, claim in rows:
            if claim is None:
                continue
            touched = store.ref.years_touched(claim)
            if rec.year in wanted or touched & wanted:
                linked |= touched | {rec.year}
        if linked == wanted:
            break
        wanted = linked
    rows = [r for r in rows if r[0].year in wanted]
    return _settle_again(store, session, person_id, sorted(wanted), rows)


def _settle_again(
    store: Store, session: Session, person_id: int, years: list[int], rows: list[_Row]
) -> Plan:
    state = PersonState()
    if not rows:
        return Plan(person_id, years, [], state)
    sums = session.execute(
        select(Adjustment.settlement_seq, Adjustment.benefit, func.sum(Adjustment.amount_fen))
        .where(Adjustment.person_id == person_id, Adjustment.year.in_(years))
        .group_by(Adjustment.settlement_seq, Adjustment.benefit)
    )
    adjusted = {(seq, key): int(total) for seq, key, total in sums}
    first = min(rows, key=lambda r: r[0].seq)[0]
    context_into(state, first.context_before)
    out: list[Replanned] = []
    for rec, stored, gone, claim in rows:
        if gone or claim is None:
            continue
        state.settled_ids.clear()  # claim ids are unique per hospital, not per person
        try:
            result = store.ref.settle(claim, state)
        except ClaimRejected as err:
            raise Refused(
                Kind.conflict, err.field, f"重新结算 {claim.claim_id} 失败：{err.message}"
            ) from None
        answered = amounts_of(rec.result)
        changes: dict[str, tuple[int, int]] = {}
        for key, after in amounts_of(result.to_json()).items():
            before = answered[key] + adjusted.get((rec.seq, key), 0)
            if after != before:
                changes[key] = (before, after)
        out.append(Replanned(rec, stored.claim_ref, stored.settlement_date, result, changes))
    return Plan(person_id, years, out, state)


# -- write -----------------------------------------------------------------------------


def resettle(
    store: Store,
    session: Session,
    person_id: int,
    year: int,
    cause: Cause,
    actor: str,
    *,
    from_date: dt.date | None = None,
    spans: Spans | None = None,
    years: Iterable[int] = (),
) -> Resettled:
    """Re-settle ``person_id``'s ``year`` (with ``years`` and every year they touch) under
    the lock the caller holds, and write the adjustments (see module)."""
    done = plan(store, session, person_id, {year, *years}, from_date=from_date, spans=spans)
    return write(store, session, done, year, cause, actor, from_date=from_date)


def write(
    store: Store,
    session: Session,
    done: Plan,
    year: int,
    cause: Cause,
    actor: str,
    *,
    from_date: dt.date | None = None,
) -> Resettled:
    """Write a plan: the re-settlement with its cause, an adjustment per claim and amount
    that differs, the accumulators of every year re-settled, the person-level context."""
    run = Resettlement(
        public_id=uuid.uuid4().hex,
        person_id=done.person_id,
        year=year,
        from_date=from_date,
        cause_kind=cause.kind,
        cause_ref=cause.ref,
        cause_text=cause.text[:255],
        actor=actor,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(run)
    session.flush()
    if not done.claims:
        return Resettled(run.public_id)
    now = dt.datetime.now(dt.UTC)
    changed: list[Changed] = []
    for c in done.changed:
        for key, (before, after) in c.changes.items():
            session.add(
                Adjustment(
                    public_id=uuid.uuid4().hex,
                    resettlement_id=run.id,
                    settlement_seq=c.rec.seq,
                    client_id=c.rec.client_id,
                    person_id=done.person_id,
                    year=c.rec.year,
                    benefit=key,
                    amount_fen=after - before,
                    before_fen=before,
                    after_fen=after,
                    lines=change_lines(key, before, after, c.result, cause.text),
                    created_at=now,
                )
            )
        changed.append(
            Changed(c.rec.seq, c.rec.public_id, c.rec.client_id, c.claim_ref, dict(c.changes))
        )
    conn = session.connection()
    for y in done.years:
        store_pools(store, conn, done.person_id, y, done.state.year(y))
    later = session.scalar(
        select(func.count())
        .select_from(SettlementRecord)
        .where(
            SettlementRecord.person_id == done.person_id,
            SettlementRecord.year > max(done.years),
        )
    )
    if not later:
        session.execute(
            update(PersonLedger)
            .where(PersonLedger.person_id == done.person_id)
            .values(context=context_to_json(done.state))
        )
    session.flush()
    return Resettled(run.public_id, changed)
