"""Indicators over a set of settlements (docs/glossary.md: comprehensive protection rate,
personal burden rate). Ratios are kept exact (numerator and denominator in fen)
and only formatted at the edge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.money import round_half_up_div
from jiuzhu.domain.vocabulary import Benefit, Category


@dataclass(slots=True)
class Totals:
    claims: int = 0
    total: int = 0
    personal: int = 0
    grants: int = 0
    by_benefit: dict[Benefit, int] = field(default_factory=lambda: dict.fromkeys(Benefit, 0))

    def add(self, s: Settlement) -> None:
        self.claims += 1
        self.total += s.total
        self.personal += s.personal
        self.grants += s.critical_care_grant
        for b in Benefit:
            self.by_benefit[b] += s.amount(b)

    @property
    def protected(self) -> int:
        """All tiers + assistance + other payments.

        The hospital's excess over a quota is not a payment to the patient, so it is left out.
        """
        return sum(v for b, v in self.by_benefit.items() if b is not Benefit.hospital_borne)


def percent(numerator: int, denominator: int) -> str:
    """A ratio as a percentage with one decimal, half-up, from integers."""
    if denominator == 0:
        return "—"
    tenths = round_half_up_div(numerator * 1000, denominator)
    return f"{tenths // 10}.{tenths % 10}%"


def summarize(settlements: Iterable[Settlement]) -> tuple[Totals, Totals]:
    """(everyone, assisted people only): assisted means settled under a non-ordinary category."""
    everyone, assisted = Totals(), Totals()
    for s in settlements:
        everyone.add(s)
        if s.category is not Category.ordinary:
            assisted.add(s)
    return everyone, assisted
