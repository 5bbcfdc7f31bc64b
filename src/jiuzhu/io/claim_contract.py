"""The claim contract as pydantic models: the reader of every claim the plain reader
(``io/claim_plain.py``) is not certain of, and the source of its errors.

Imported only when such a claim comes (``io/claims.py``): pydantic and the building
of these validators are most of a one-claim ``jiuzhu settle``'s start-up (issue 11).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled, Reviewed
from jiuzhu.domain.money import Fen
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.claim_fields import (
    BOTH_CATEGORIES,
    bill_date_of,
    bill_problems,
    category_of,
    money_of,
    span_problem,
    visit_of,
)
from jiuzhu.io.errors import flatten


class _Model(BaseModel):
    """Base of the claim contract's models. Their validators are built when the first
    claim is read (``defer_build``), once for ``ClaimIn`` with the models inside it,
    rather than for each model as it is defined (docs/performance.md, "Start-up")."""

    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)


class CategorySpanIn(_Model):
    category: Category
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    applied_on: dt.date | None = None
    """Application date of a category identified on application (default: valid_from)."""

    @field_validator("category", mode="before")
    @classmethod
    def _cat(cls, v: Any) -> Any:
        return category_of(v)

    @model_validator(mode="after")
    def _order(self) -> CategorySpanIn:
        problem = span_problem(self.valid_from, self.valid_to, self.applied_on)
        if problem is not None:
            raise ValueError(problem)
        return self


class ReviewedIn(_Model):
    """A benefit the desk does not pay, approved on review for this claim (set by the
    bureau's review; a hospital never sends it)."""

    benefit: Benefit
    accepted: Fen | None = None
    application: str | None = Field(default=None, max_length=64)

    @field_validator("accepted", mode="before")
    @classmethod
    def _m(cls, v: Any) -> Fen | None:
        return None if v is None else money_of(v)


class InsuranceIn(_Model):
    basic_insurance: Fen
    critical_illness_insurance: Fen

    @field_validator("basic_insurance", "critical_illness_insurance", mode="before")
    @classmethod
    def _m(cls, v: Any) -> Fen:
        return money_of(v)


class ClaimIn(_Model):
    """The claim contract of docs/design.md, plus optional flags for 山西's rules."""

    claim_id: str = Field(min_length=1, max_length=64)
    person_id: str = Field(min_length=1, max_length=64)
    category: Category | None = None
    categories: list[CategorySpanIn] | None = None
    visit_type: VisitType
    settlement_date: dt.date
    admission_date: dt.date
    hospital_level: Literal[1, 2, 3]
    referred: bool
    total: Fen
    full_self_pay: Fen
    partial_self_pay: Fen
    policy_scope: Fen
    insurance: InsuranceIn | None = None
    other_payments: Fen = Fen(0)
    disease: str | None = Field(default=None, max_length=100)
    out_of_area: bool = False
    out_of_area_filed: bool = False
    quota_hospital: bool = False
    late_stage: bool = False
    reviewed: list[ReviewedIn] | None = None

    @field_validator("category", mode="before")
    @classmethod
    def _cat(cls, v: Any) -> Any:
        return category_of(v)

    @field_validator("visit_type", mode="before")
    @classmethod
    def _vis(cls, v: Any) -> Any:
        return visit_of(v)

    @field_validator(
        "total",
        "full_self_pay",
        "partial_self_pay",
        "policy_scope",
        "other_payments",
        mode="before",
    )
    @classmethod
    def _m(cls, v: Any) -> Fen:
        return money_of(v)

    @field_validator(
        "referred",
        "out_of_area",
        "out_of_area_filed",
        "quota_hospital",
        "late_stage",
        mode="before",
    )
    @classmethod
    def _strict_bool(cls, v: Any) -> Any:
        if not isinstance(v, bool):
            raise ValueError(f"须为 true 或 false，得到 {v!r}")
        return v

    @field_validator("hospital_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"取值 {v!r} 不在允许范围（1、2、3 级医院，整数）")
        return v

    @field_validator("settlement_date", "admission_date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        return bill_date_of(v)


def _check(claim: ClaimIn) -> list[tuple[str, str]]:
    """The checks that look at several fields at once."""
    problems: list[tuple[str, str]] = []
    if (claim.category is None) == (claim.categories is None):
        problems.append(("category", BOTH_CATEGORIES))
    if claim.categories is not None and not claim.categories:
        problems.append(("categories", "不能为空列表"))
    return problems + bill_problems(claim)


def to_domain(c: ClaimIn) -> Claim:
    if c.category is not None:
        spans: tuple[CategorySpan, ...] = (CategorySpan(c.category),)
    else:
        spans = tuple(
            CategorySpan(s.category, s.valid_from, s.valid_to, s.applied_on)
            for s in c.categories or []
        )
    insurance = None
    if c.insurance is not None:
        insurance = PreSettled(c.insurance.basic_insurance, c.insurance.critical_illness_insurance)
    return Claim(
        claim_id=c.claim_id,
        person_id=c.person_id,
        visit_type=c.visit_type,
        settlement_date=c.settlement_date,
        admission_date=c.admission_date,
        hospital_level=c.hospital_level,
        referred=c.referred,
        total=c.total,
        full_self_pay=c.full_self_pay,
        partial_self_pay=c.partial_self_pay,
        policy_scope=c.policy_scope,
        categories=spans,
        reviewed=tuple(Reviewed(r.benefit, r.accepted, r.application) for r in c.reviewed or []),
        insurance=insurance,
        other_payments=c.other_payments,
        disease=c.disease,
        out_of_area=c.out_of_area,
        out_of_area_filed=c.out_of_area_filed,
        quota_hospital=c.quota_hospital,
        late_stage=c.late_stage,
    )


def validate(data: dict[str, Any]) -> Claim | list[tuple[str, str]]:
    """A record through the contract: its ``Claim``, or every (field, message) wrong with it."""
    try:
        parsed = ClaimIn.model_validate(data)
    except ValidationError as err:
        return flatten(err)
    problems = _check(parsed)
    if problems:
        return problems
    return to_domain(parsed)
