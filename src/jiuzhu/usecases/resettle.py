"""Re-settle a person's claims of a year, with a cause, and pay the differences as
adjustments (补付 / 追回): the one mechanism behind a reversal now, and behind an
approved application or identification with a look-back later (DESIGN "Settlements are
never rewritten", "Look-backs").

The caller holds the person's lock (``settle.lock``) in the transaction it passes in.
From the person-level context saved before the year's first settlement, every claim of
the year that is not reversed is settled again, in the order the service settled them,
by the reference engine: with the categories it was settled with, or, for claims dated
from ``from_date`` on, with the categories ``spans`` gives (an identification's new
category, say). What each claim pays now is compared with its current amounts (what was
answered plus the adjustments so far); each benefit that differs gets an adjustment row
with the cause and its explanation lines. Nothing already written is changed: the
settlements stay as answered; the accumulators become the re-settled year's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jiuzhu.domain.engine.reference import ClaimRejected
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims import parse_record
from jiuzhu.storage.models import (
    Adjustment,
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


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a year is re-settled: ``kind`` (``reversal``, …), the record it refers to, and
    the words people read (``撤销结算 … ：原因``)."""

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
"""Given a stored claim's body, the categories to settle it with now."""


def _zh(key: str) -> str:
    return GRANT_ZH if key == GRANT else Benefit(key).zh


def _lines(
    key: str, before: int, after: int, result: Settlement, cause: Cause
) -> list[dict[str, Any]]:
    """The adjustment's explanation: the difference in words, then the engine's lines for
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
            f"{cause.text}：重新结算后{_zh(key)}应为 {format_yuan(after)} 元，此前为"
            f" {format_yuan(before)} 元，{what} {format_yuan(abs(delta))} 元"
        ),
    }
    own = [line.to_json() for line in result.lines if line.benefit == key]
    return [head, *own]


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
) -> Resettled:
    """Re-settle ``person_id``'s ``year`` under the lock the caller holds (see module)."""
    rows = session.execute(
        select(SettlementRecord, StoredClaim, Reversal.id)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .outerjoin(Reversal, Reversal.settlement_seq == SettlementRecord.seq)
        .where(SettlementRecord.person_id == person_id, SettlementRecord.year == year)
        .order_by(SettlementRecord.seq)
    ).all()
    run = Resettlement(
        public_id=uuid.uuid4().hex,
        person_id=person_id,
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
    if not rows:
        return Resettled(run.public_id)
    sums = session.execute(
        select(Adjustment.settlement_seq, Adjustment.benefit, func.sum(Adjustment.amount_fen))
        .where(Adjustment.person_id == person_id, Adjustment.year == year)
        .group_by(Adjustment.settlement_seq, Adjustment.benefit)
    )
    adjusted = {(seq, key): int(total) for seq, key, total in sums}
    state = PersonState()
    context_into(state, rows[0][0].context_before)
    changed: list[Changed] = []
    now = dt.datetime.now(dt.UTC)
    for rec, stored, reversal in rows:
        if reversal is not None:
            continue
        body = dict(stored.body)
        source = rec.category_source
        if spans is not None and (from_date is None or stored.settlement_date >= from_date):
            body["categories"] = spans(body)
        elif source.get("source") == "registry":
            body["categories"] = source["categories"]
        claim = parse_record(body, 1)
        assert not isinstance(claim, list), claim
        state.settled_ids.clear()  # claim ids are unique per hospital, not per person
        try:
            result = store.ref.settle(claim, state)
        except ClaimRejected as err:
            raise Refused(
                Kind.conflict, err.field, f"重新结算 {claim.claim_id} 失败：{err.message}"
            ) from None
        answered = amounts_of(rec.result)
        new = result.to_json()
        after_all = amounts_of(new)
        changes: dict[str, tuple[int, int]] = {}
        for key, after in after_all.items():
            before = answered[key] + adjusted.get((rec.seq, key), 0)
            if after == before:
                continue
            changes[key] = (before, after)
            session.add(
                Adjustment(
                    public_id=uuid.uuid4().hex,
                    resettlement_id=run.id,
                    settlement_seq=rec.seq,
                    client_id=rec.client_id,
                    person_id=person_id,
                    year=year,
                    benefit=key,
                    amount_fen=after - before,
                    before_fen=before,
                    after_fen=after,
                    lines=_lines(key, before, after, result, cause),
                    created_at=now,
                )
            )
        if changes:
            changed.append(
                Changed(rec.seq, rec.public_id, rec.client_id, stored.claim_ref, changes)
            )
    conn = session.connection()
    store_pools(store, conn, person_id, year, state.year(year))
    later = session.scalar(
        select(func.count())
        .select_from(SettlementRecord)
        .where(SettlementRecord.person_id == person_id, SettlementRecord.year > year)
    )
    if not later:
        session.execute(
            update(PersonLedger)
            .where(PersonLedger.person_id == person_id)
            .values(context=context_to_json(state))
        )
    session.flush()
    return Resettled(run.public_id, changed)
