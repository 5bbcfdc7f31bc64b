"""What a settlement is: the split of one bill, and the lines that explain it."""

from __future__ import annotations

from dataclasses import dataclass, field

from jiuzhu.domain.money import Fen, format_yuan
from jiuzhu.domain.vocabulary import Benefit, Category


@dataclass(frozen=True, slots=True)
class Line:
    """One explanation line: a reviewer can check the figure from it and the document."""

    benefit: str
    amount: Fen
    text: str
    clause: str | None = None
    base: Fen | None = None
    formula: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "benefit": self.benefit,
            "amount": format_yuan(self.amount),
            "base": None if self.base is None else format_yuan(self.base),
            "formula": self.formula,
            "clause": self.clause,
            "text": self.text,
        }


@dataclass(slots=True)
class Settlement:
    """One claim's settlement. ``total == sum(amounts) + personal``, always."""

    claim_id: str
    person_id: str
    policy_id: str
    category: Category
    total: Fen
    amounts: dict[Benefit, Fen] = field(default_factory=dict)
    critical_care_grant: Fen = Fen(0)
    lines: list[Line] = field(default_factory=list)

    def paid(self) -> int:
        return sum(self.amounts.values())

    @property
    def personal(self) -> Fen:
        return Fen(self.total - self.paid())

    def amount(self, benefit: Benefit) -> Fen:
        return self.amounts.get(benefit, Fen(0))

    def to_json(self) -> dict[str, object]:
        """The contract of docs/design.md: one yuan string per benefit, then personal and lines."""
        out: dict[str, object] = {
            "claim_id": self.claim_id,
            "person_id": self.person_id,
            "policy": self.policy_id,
            "category": self.category.value,
            "total": format_yuan(self.total),
        }
        for b in Benefit:
            out[b.value] = format_yuan(self.amount(b))
        out["critical_care_grant"] = format_yuan(self.critical_care_grant)
        out["personal"] = format_yuan(self.personal)
        out["lines"] = [line.to_json() for line in self.lines]
        return out
