"""A person's accumulators: per year, per benefit, per pool; the base and what was paid.

The state is all the engine remembers between claims. Settling a year claim by
claim with this state in hand gives exactly what settling it in one call gives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from jiuzhu.domain.vocabulary import Benefit


@dataclass(slots=True)
class PoolState:
    base: int = 0
    paid: int = 0


@dataclass(slots=True)
class YearState:
    pools: dict[tuple[Benefit, str], PoolState] = field(default_factory=dict)

    def pool(self, benefit: Benefit, pool: str) -> PoolState:
        return self.pools.get((benefit, pool)) or PoolState()

    def paid_in(self, benefit: Benefit, pools: frozenset[str]) -> int:
        return sum(s.paid for (b, p), s in self.pools.items() if b is benefit and p in pools)


@dataclass(slots=True)
class PersonState:
    years: dict[int, YearState] = field(default_factory=dict)
    grant_paid: bool = False
    chain: tuple[dt.date, int] | None = None
    """The last computed inpatient claim: (settlement date, deductible paid along its chain).

    Kept per person, not per year: a transfer on 31 December continues its chain
    (福建 16 ties 起付线连续计算 to the referral, not to the calendar year)."""
    settled_ids: set[str] = field(default_factory=set)

    def year(self, year: int) -> YearState:
        return self.years.setdefault(year, YearState())
