"""撤销: reverse a settlement with a reason, then re-settle the person's year.

The reversal is its own record (who, when, why, and the amounts the settlement had);
the settlement stays as it was answered. The person's other claims of the year are
re-settled (``resettle``) so that caps stay exact, and what changes is paid as
adjustments to the hospitals that settled them. A hospital reverses only what it
settled; it is told how many other claims were adjusted, and sees the adjustments of
its own claims only; a reviewer or admin (inside their jurisdiction) sees them all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.storage.models import Reversal, SettlementRecord
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role, require
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.reads import settlement_view, visible
from jiuzhu.usecases.resettle import Cause, Changed, resettle
from jiuzhu.usecases.settle import lock
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import SettlementView

MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class Reversed:
    settlement: SettlementView
    adjusted_claims: int
    """How many of the person's other claims of the year the re-settlement adjusted."""
    changed: list[Changed]
    """Those the caller may see (a hospital: its own claims)."""


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Refused(Kind.invalid, "reason", "须写明撤销原因（reason，1–200 个字符）")
    if len(reason) > MAX_REASON:
        raise Refused(Kind.invalid, "reason", f"撤销原因不得超过 {MAX_REASON} 个字符")
    return reason.strip()


def reverse(store: Store, caller: Caller, public_id: str, reason: object) -> Reversed:
    require(caller, Role.hospital, Role.reviewer, Role.admin)
    why = check_reason(reason)
    try:
        with store.sessions() as session, session.begin():
            return _reverse(store, session, caller, public_id, why)
    except IntegrityError:  # two reversals of one settlement at once: the other won
        raise Refused(Kind.conflict, "id", f"结算 {public_id} 已撤销") from None


def _reverse(
    store: Store, session: Session, caller: Caller, public_id: str, reason: str
) -> Reversed:
    rec = session.scalar(select(SettlementRecord).where(SettlementRecord.public_id == public_id))
    visible(session, caller, rec, public_id)
    assert rec is not None
    if rec.policy_id != store.policy_id:
        raise Refused(
            Kind.conflict, "id", f"结算按政策 {rec.policy_id} 作出，本服务执行 {store.policy_id}"
        )
    lock(store, session.connection(), rec.person_id)
    before = settlement_view(session, rec.seq)
    if before.reversal is not None:
        at = before.reversal.created_at.isoformat(timespec="seconds")
        raise Refused(Kind.conflict, "id", f"结算 {public_id} 已于 {at} 撤销")
    had = before.current() or {}
    reversal = Reversal(
        public_id=uuid.uuid4().hex,
        settlement_seq=rec.seq,
        client_id=caller.client_id,
        actor=caller.name,
        role=caller.role.value,
        reason=reason,
        amounts=had,
        adjusted_claims=0,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(reversal)
    session.flush()
    cause = Cause(
        "reversal",
        reversal.public_id,
        f"撤销结算 {public_id}（{caller.role.zh} {caller.name}：{reason}）",
    )
    done = resettle(store, session, rec.person_id, rec.year, cause, caller.name)
    reversal.adjusted_claims = done.adjusted_claims
    session.flush()
    view = settlement_view(session, rec.seq)
    audit.append(
        session,
        caller.name,
        caller.role.value,
        "settlement.reverse",
        f"settlement:{public_id}",
        {
            "claim_id": view.claim_ref,
            "person": mask_id(view.id_number),
            "year": rec.year,
            "reason": reason,
            "resettlement": done.public_id,
            "adjusted": [
                {
                    "settlement_id": c.settlement_id,
                    "changes": {
                        k: [format_yuan(b), format_yuan(a)] for k, (b, a) in c.changes.items()
                    },
                }
                for c in done.changed
            ],
        },
    )
    mine = [
        c
        for c in done.changed
        if caller.role is not Role.hospital or c.client_id == caller.client_id
    ]
    return Reversed(view, done.adjusted_claims, mine)
