"""What the use cases answer about settlements: plain values, no database session.

A settlement is what was answered; its adjustments are what re-settlements changed
since; its current amounts are the two added up (DESIGN "Settlements are never
rewritten"). A reversed settlement has no current amounts: its reversal says what it
had when it was reversed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jiuzhu.domain.money import format_yuan, parse_yuan
from jiuzhu.domain.vocabulary import Benefit

GRANT = "critical_care_grant"
AMOUNT_KEYS: tuple[str, ...] = (*(b.value for b in Benefit), GRANT)
"""What a settlement pays, one yuan string each in its JSON: every benefit, and the 大病
关怀 grant (paid to the person, not part of the bill)."""

ADD_MORE = "补付"
RECOVER = "追回"


def utc(t: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def amounts_of(result: dict[str, Any]) -> dict[str, int]:
    """The fen of each amount key of a settlement's JSON."""
    return {k: parse_yuan(str(result.get(k, "0.00"))) for k in AMOUNT_KEYS}


@dataclass(frozen=True, slots=True)
class AdjustmentView:
    seq: int
    public_id: str
    settlement_id: str
    claim_ref: str
    benefit: str
    amount: int
    before: int
    after: int
    cause_kind: str
    cause_ref: str
    cause_text: str
    lines: list[dict[str, Any]]
    created_at: dt.datetime

    @property
    def direction(self) -> str:
        return ADD_MORE if self.amount > 0 else RECOVER


@dataclass(frozen=True, slots=True)
class ReversalView:
    public_id: str
    actor: str
    role: str
    reason: str
    amounts: dict[str, Any]
    adjusted_claims: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SettlementView:
    public_id: str
    client_id: int
    claim_ref: str
    person_public_id: str
    id_number: str
    year: int
    policy_id: str
    category_source: dict[str, Any]
    result: dict[str, Any]
    created_at: dt.datetime
    adjustments: list[AdjustmentView] = field(default_factory=list)
    reversal: ReversalView | None = None

    @property
    def status(self) -> str:
        return "reversed" if self.reversal is not None else "settled"

    def current_fen(self) -> dict[str, int]:
        now = amounts_of(self.result)
        for a in self.adjustments:
            now[a.benefit] = now.get(a.benefit, 0) + a.amount
        return now

    def current(self) -> dict[str, str] | None:
        """Answered plus adjustments, per amount key, with ``personal`` (None: reversed)."""
        if self.reversal is not None:
            return None
        now = self.current_fen()
        total = parse_yuan(str(self.result["total"]))
        paid = sum(v for k, v in now.items() if k != GRANT)
        out = {k: format_yuan(v) for k, v in now.items()}
        out["personal"] = format_yuan(total - paid)
        return out
