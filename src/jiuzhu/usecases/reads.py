"""Read settlements and adjustments: one by id, one by the hospital's own claim id, a
filtered list, and the feed of adjustments. Every read of personal data is audited.

A hospital sees the settlements it made, and only those, whatever happens to the
person's household later; the other roles see the settlements of persons inside their
jurisdiction. Lists are paged by a cursor (``after``): the last item's sequence number,
so a page never shifts when new rows arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id
from jiuzhu.storage.models import (
    Adjustment,
    Household,
    Person,
    Resettlement,
    Reversal,
    SettlementRecord,
    StoredClaim,
)
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role, district_of, require_jurisdiction
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import AdjustmentView, ReversalView, SettlementView, utc

MAX_PAGE = 200


def _adjustments(session: Session, where: Any) -> list[AdjustmentView]:
    rows = session.execute(
        select(Adjustment, Resettlement, SettlementRecord.public_id, StoredClaim.claim_ref)
        .join(Resettlement, Resettlement.id == Adjustment.resettlement_id)
        .join(SettlementRecord, SettlementRecord.seq == Adjustment.settlement_seq)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .where(where)
        .order_by(Adjustment.seq)
    ).all()
    return [
        AdjustmentView(
            seq=a.seq,
            public_id=a.public_id,
            settlement_id=sid,
            claim_ref=ref,
            benefit=a.benefit,
            amount=a.amount_fen,
            before=a.before_fen,
            after=a.after_fen,
            cause_kind=r.cause_kind,
            cause_ref=r.cause_ref,
            cause_text=r.cause_text,
            lines=a.lines,
            created_at=utc(a.created_at),
        )
        for a, r, sid, ref in rows
    ]


def settlement_view(session: Session, seq: int) -> SettlementView:
    rec = session.get(SettlementRecord, seq)
    assert rec is not None
    person = session.get(Person, rec.person_id)
    claim = session.get(StoredClaim, rec.claim_id)
    assert person is not None and claim is not None
    rev = session.scalar(select(Reversal).where(Reversal.settlement_seq == seq))
    reversal = None
    if rev is not None:
        reversal = ReversalView(
            rev.public_id,
            rev.actor,
            rev.role,
            rev.reason,
            rev.amounts,
            rev.adjusted_claims,
            utc(rev.created_at),
        )
    return SettlementView(
        public_id=rec.public_id,
        client_id=rec.client_id,
        claim_ref=claim.claim_ref,
        person_public_id=person.public_id,
        id_number=person.id_number,
        year=rec.year,
        policy_id=rec.policy_id,
        category_source=rec.category_source,
        result=rec.result,
        created_at=utc(rec.created_at),
        adjustments=_adjustments(session, Adjustment.settlement_seq == seq),
        reversal=reversal,
    )


def visible(session: Session, caller: Caller, rec: SettlementRecord | None, what: str) -> None:
    """Raise ``not_found`` unless ``caller`` may see ``rec``: a hospital its own, the
    other roles those of persons in their jurisdiction (403 names the district)."""
    if rec is None or (caller.role is Role.hospital and rec.client_id != caller.client_id):
        raise Refused(Kind.not_found, "id", f"没有结算 {what}")
    if caller.role is not Role.hospital:
        person = session.get(Person, rec.person_id)
        assert person is not None
        require_jurisdiction(caller, district_of(session, person, person.id_number), "id")


def _read_audit(store: Store, caller: Caller, action: str, target: str, **details: Any) -> None:
    with store.sessions() as session, session.begin():
        audit.append(session, caller.name, caller.role.value, action, target, details)


def get(store: Store, caller: Caller, public_id: str) -> SettlementView:
    with store.reads() as session, session.begin():
        rec = session.scalar(
            select(SettlementRecord).where(SettlementRecord.public_id == public_id)
        )
        visible(session, caller, rec, public_id)
        assert rec is not None
        view = settlement_view(session, rec.seq)
    _read_audit(
        store, caller, "settlement.read", f"settlement:{public_id}", person=mask_id(view.id_number)
    )
    return view


def by_claim(store: Store, caller: Caller, claim_ref: str) -> SettlementView:
    """A hospital's settlement by its own claim id (only hospitals have claim ids)."""
    if caller.role is not Role.hospital:
        raise Refused(Kind.forbidden, "Authorization", "只有医院可按本院单据号查询结算")
    with store.reads() as session, session.begin():
        seq = session.scalar(
            select(SettlementRecord.seq)
            .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
            .where(StoredClaim.client_id == caller.client_id, StoredClaim.claim_ref == claim_ref)
        )
        if seq is None:
            raise Refused(
                Kind.not_found, "claim_id", f"本院没有单据号为 {mask_id(claim_ref)!r} 的结算"
            )
        view = settlement_view(session, seq)
    _read_audit(
        store, caller, "settlement.read", f"settlement:{view.public_id}",
        person=mask_id(view.id_number), claim_id=claim_ref,
    )  # fmt: skip
    return view


@dataclass(frozen=True, slots=True)
class Filters:
    settled_from: dt.date | None = None
    settled_to: dt.date | None = None
    person: str | None = None
    """A person's public id (never an ID number: it would travel in a URL)."""
    status: str | None = None  # settled | reversed


@dataclass(frozen=True, slots=True)
class Page:
    items: Sequence[Any]
    next_after: str | None


def _district_expr() -> Any:
    return func.coalesce(Household.district_code, func.substr(Person.id_number, 1, 6))


def _scoped(query: Select[Any], caller: Caller, client_col: Any) -> Select[Any]:
    """Only what the caller may see: a hospital its own rows, others their jurisdiction."""
    if caller.role is Role.hospital:
        return query.where(client_col == caller.client_id)
    return query.where(_district_expr().like(literal(caller.jurisdiction) + "%"))


def _cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit() or len(after) > 18:
        raise Refused(Kind.invalid, "after", "游标须为上一页返回的 next_after")
    return int(after)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise Refused(Kind.invalid, "limit", f"每页条数须为 1–{MAX_PAGE}")
    return limit


def list_settlements(
    store: Store, caller: Caller, filters: Filters, after: str | None, limit: int = 50
) -> Page:
    start, limit = _cursor(after), _limit(limit)
    if filters.status not in (None, "settled", "reversed"):
        raise Refused(Kind.invalid, "status", "状态须为 settled 或 reversed")
    query = (
        select(SettlementRecord.seq)
        .join(Person, Person.id == SettlementRecord.person_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .where(SettlementRecord.seq > start)
    )
    query = _scoped(query, caller, SettlementRecord.client_id)
    if filters.settled_from is not None:
        query = query.where(StoredClaim.settlement_date >= filters.settled_from)
    if filters.settled_to is not None:
        query = query.where(StoredClaim.settlement_date <= filters.settled_to)
    if filters.person is not None:
        query = query.where(Person.public_id == filters.person)
    reversed_ = select(Reversal.id).where(Reversal.settlement_seq == SettlementRecord.seq).exists()
    if filters.status == "reversed":
        query = query.where(reversed_)
    elif filters.status == "settled":
        query = query.where(~reversed_)
    with store.reads() as session, session.begin():
        seqs = list(session.scalars(query.order_by(SettlementRecord.seq).limit(limit + 1)))
        more = len(seqs) > limit
        views = [settlement_view(session, s) for s in seqs[:limit]]
    _read_audit(
        store, caller, "settlement.list", "settlements",
        count=len(views), after=start, person=filters.person,
    )  # fmt: skip
    return Page(views, str(seqs[limit - 1]) if more else None)


def adjustments_feed(store: Store, caller: Caller, after: str | None, limit: int = 100) -> Page:
    """Adjustments in the order they were made: a hospital's are those of its own claims."""
    start, limit = _cursor(after), _limit(limit)
    scope = (
        select(Adjustment.seq)
        .join(Person, Person.id == Adjustment.person_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(Adjustment.seq > start)
    )
    scope = _scoped(scope, caller, Adjustment.client_id)
    with store.reads() as session, session.begin():
        seqs = list(session.scalars(scope.order_by(Adjustment.seq).limit(limit + 1)))
        more = len(seqs) > limit
        items = _adjustments(session, Adjustment.seq.in_(seqs[:limit])) if seqs else []
    _read_audit(store, caller, "adjustment.list", "adjustments", count=len(items), after=start)
    return Page(items, str(seqs[limit - 1]) if more else None)
