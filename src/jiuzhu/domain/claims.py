"""A claim as the engine sees it: already validated, money in fen.

Parsing and validating the JSON a hospital sends is the edge's job
(``jiuzhu.io.claims``); by the time a ``Claim`` exists its parts add up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jiuzhu.domain.money import Fen
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType


@dataclass(frozen=True, slots=True)
class CategorySpan:
    """A category held from ``valid_from`` to ``valid_to`` (both inclusive; None: open).

    For a category identified on application, ``valid_from`` is the identification
    date and ``applied_on`` the application date (None: the same day); a look-back of
    the policy may reach before them (``engine.eligibility``).
    """

    category: Category
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    applied_on: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A benefit the desk does not pay, approved for this claim by a reviewer.

    The outcome of an application (杭政办函〔2022〕70号 二(四) 特殊救助, 闽医保〔2021〕93号 9、10
    一次性救助, 晋医保发〔2019〕46号 三(十一) 住院救助 by application): the claim is settled again
    with the benefit computed by the engine. ``accepted`` is the reasonable cost the
    reviewer accepted for a benefit on ``reasonable_cost`` (None: all that is left).
    """

    benefit: Benefit
    accepted: Fen | None = None
    application: str | None = None


@dataclass(frozen=True, slots=True)
class PreSettled:
    """Insurance tiers already settled by the national platform, taken as given."""

    basic_insurance: Fen
    critical_illness_insurance: Fen


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    person_id: str
    visit_type: VisitType
    settlement_date: dt.date
    admission_date: dt.date
    hospital_level: int
    referred: bool
    total: Fen
    full_self_pay: Fen
    partial_self_pay: Fen
    policy_scope: Fen
    categories: tuple[CategorySpan, ...]
    insurance: PreSettled | None = None
    other_payments: Fen = Fen(0)
    disease: str | None = None
    out_of_area: bool = False
    out_of_area_filed: bool = False
    quota_hospital: bool = False
    late_stage: bool = False
    reviewed: tuple[Reviewed, ...] = ()

    @property
    def year(self) -> int:
        """The benefit year: the natural year of the settlement (discharge) date."""
        return self.settlement_date.year

    def categories_on(self, day: dt.date) -> list[Category]:
        return [span.category for span in self.categories if span.valid_on(day)]

    def review_of(self, benefit: Benefit) -> Reviewed | None:
        return next((r for r in self.reviewed if r.benefit is benefit), None)
