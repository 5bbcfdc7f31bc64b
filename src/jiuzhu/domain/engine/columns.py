"""Claims as columns: the batch engine's input, one NumPy array per field.

The same contract as ``Claim`` (money in int64 fen, dates as days since
1970-01-01), laid out so that a year of a city's claims is a few arrays rather
than millions of objects. Category spans are a separate flat table (span →
claim), because a claim may carry several.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType

CATEGORIES: tuple[Category, ...] = tuple(Category)
VISITS: tuple[VisitType, ...] = tuple(VisitType)
CATEGORY_CODE = {c: i for i, c in enumerate(CATEGORIES)}
VISIT_CODE = {v: i for i, v in enumerate(VISITS)}
EPOCH = dt.date(1970, 1, 1)
OPEN_FROM = np.iinfo(np.int32).min
OPEN_TO = np.iinfo(np.int32).max


def day_of(d: dt.date) -> int:
    return (d - EPOCH).days


def date_of(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@dataclass(slots=True)
class ClaimColumns:
    """n claims. ``person`` is any integer code: equal codes are the same person."""

    person: np.ndarray  # int64
    visit: np.ndarray  # int8, index into VISITS
    settle_day: np.ndarray  # int32
    admit_day: np.ndarray  # int32
    level: np.ndarray  # int8
    referred: np.ndarray  # bool
    total: np.ndarray  # int64 fen
    policy_scope: np.ndarray  # int64 fen
    other: np.ndarray  # int64 fen
    has_insurance: np.ndarray  # bool: insurance tiers given by the platform
    bi_given: np.ndarray  # int64 fen (0 where not given)
    cii_given: np.ndarray  # int64 fen
    disease: np.ndarray  # int32, index into disease_names, -1 for none
    disease_names: tuple[str, ...]
    out_of_area: np.ndarray  # bool
    out_of_area_filed: np.ndarray  # bool
    quota_hospital: np.ndarray  # bool
    late_stage: np.ndarray  # bool
    span_claim: np.ndarray  # int64: the claim each category span belongs to
    span_category: np.ndarray  # int8, index into CATEGORIES
    span_from: np.ndarray  # int32 day, OPEN_FROM for none
    span_to: np.ndarray  # int32 day, OPEN_TO for none
    span_applied: np.ndarray | None = None
    """int32 day of application (look-backs from the application month); OPEN_FROM or
    None for none: the identification date (``span_from``) stands in."""
    reviewed: dict[Benefit, np.ndarray] | None = None
    """Per benefit decided on review, per claim: NOT_REVIEWED, REVIEWED (approved, all that
    is left accepted) or the accepted reasonable cost in fen. None: no claim reviewed."""

    def __len__(self) -> int:
        return int(self.person.size)

    def _per_claim(self, at: np.ndarray | slice) -> dict[str, np.ndarray]:
        """The per-claim columns at ``at`` (views for a slice)."""
        return {
            name: getattr(self, name)[at]
            for name in self.__slots__
            if not name.startswith("span_") and name not in ("disease_names", "reviewed")
        }

    def _reviewed(self, at: np.ndarray | slice) -> dict[Benefit, np.ndarray] | None:
        return None if self.reviewed is None else {b: a[at] for b, a in self.reviewed.items()}

    def applied(self) -> np.ndarray:
        """Each span's application day, its identification day where none is given."""
        if self.span_applied is None:
            return self.span_from
        out: np.ndarray = np.where(
            self.span_applied == OPEN_FROM, self.span_from, self.span_applied
        )
        return out

    def slice(self, start: int, stop: int) -> ClaimColumns:
        """Claims ``start:stop`` as views (no copy), with their spans."""
        if (start, stop) == (0, len(self)):
            return self
        owner = self.span_claim
        if owner.size and bool(np.all(owner[1:] >= owner[:-1])):
            lo, hi = np.searchsorted(owner, [start, stop])
            keep: np.ndarray | slice = slice(int(lo), int(hi))
        else:
            keep = (owner >= start) & (owner < stop)
        return ClaimColumns(
            **self._per_claim(slice(start, stop)),
            disease_names=self.disease_names,
            span_claim=self.span_claim[keep] - start,
            span_category=self.span_category[keep],
            span_from=self.span_from[keep],
            span_to=self.span_to[keep],
            span_applied=None if self.span_applied is None else self.span_applied[keep],
            reviewed=self._reviewed(slice(start, stop)),
        )

    def take(self, index: np.ndarray) -> ClaimColumns:
        """The claims at ``index`` (in that order), with their spans."""
        index = np.asarray(index, dtype=np.int64)
        span_claim, keep = self._spans_at(index)
        return ClaimColumns(
            **self._per_claim(index),
            disease_names=self.disease_names,
            span_claim=span_claim,
            span_category=self.span_category[keep],
            span_from=self.span_from[keep],
            span_to=self.span_to[keep],
            span_applied=None if self.span_applied is None else self.span_applied[keep],
            reviewed=self._reviewed(index),
        )

    def _spans_at(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The new claim row of each span whose claim is at ``index``, and which spans.

        Few claims (the rejections of a whole job, usually none) are found by a search
        in the sorted index, not a map over every claim of a table of millions."""
        if index.size * 8 >= len(self):
            remap = np.full(len(self), -1, dtype=np.int64)
            remap[index] = np.arange(index.size)
            keep = remap[self.span_claim] >= 0
            return remap[self.span_claim[keep]], keep
        order = np.argsort(index, kind="stable")
        ranked = index[order]
        at = np.searchsorted(ranked, self.span_claim, side="right") - 1
        keep = at >= 0
        keep[keep] = ranked[at[keep]] == self.span_claim[keep]
        return order[at[keep]], keep


NOT_REVIEWED, REVIEWED = -2, -1


def _reviewed(claims: Sequence[Claim]) -> dict[Benefit, np.ndarray] | None:
    benefits = {r.benefit for c in claims for r in c.reviewed}
    if not benefits:
        return None
    out = {b: np.full(len(claims), NOT_REVIEWED, dtype=np.int64) for b in benefits}
    for i, c in enumerate(claims):
        for r in c.reviewed:
            out[r.benefit][i] = REVIEWED if r.accepted is None else r.accepted
    return out


def _code(codes: dict[str, int], value: str | None) -> int:
    return -1 if value is None else codes.setdefault(value, len(codes))


def from_claims(claims: Sequence[Claim]) -> tuple[ClaimColumns, list[str]]:
    """Columns from domain claims (JSONL input); person codes by order of appearance.

    Returns the columns and the person ids, so codes can be mapped back.
    """
    persons: dict[str, int] = {}
    diseases: dict[str, int] = {}
    n = len(claims)
    span_claim: list[int] = []
    span_cat: list[int] = []
    span_from: list[int] = []
    span_to: list[int] = []
    span_applied: list[int] = []
    for i, c in enumerate(claims):
        for s in c.categories:
            span_claim.append(i)
            span_cat.append(CATEGORY_CODE[s.category])
            span_from.append(OPEN_FROM if s.valid_from is None else day_of(s.valid_from))
            span_to.append(OPEN_TO if s.valid_to is None else day_of(s.valid_to))
            span_applied.append(OPEN_FROM if s.applied_on is None else day_of(s.applied_on))

    def col(values: Sequence[int], dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(n)

    cols = ClaimColumns(
        person=col([persons.setdefault(c.person_id, len(persons)) for c in claims], np.int64),
        visit=col([VISIT_CODE[c.visit_type] for c in claims], np.int8),
        settle_day=col([day_of(c.settlement_date) for c in claims], np.int32),
        admit_day=col([day_of(c.admission_date) for c in claims], np.int32),
        level=col([c.hospital_level for c in claims], np.int8),
        referred=col([c.referred for c in claims], np.bool_),
        total=col([c.total for c in claims], np.int64),
        policy_scope=col([c.policy_scope for c in claims], np.int64),
        other=col([c.other_payments for c in claims], np.int64),
        has_insurance=col([c.insurance is not None for c in claims], np.bool_),
        bi_given=col([c.insurance.basic_insurance if c.insurance else 0 for c in claims], np.int64),
        cii_given=col(
            [c.insurance.critical_illness_insurance if c.insurance else 0 for c in claims],
            np.int64,
        ),
        disease=col([_code(diseases, c.disease) for c in claims], np.int32),
        disease_names=tuple(diseases),
        out_of_area=col([c.out_of_area for c in claims], np.bool_),
        out_of_area_filed=col([c.out_of_area_filed for c in claims], np.bool_),
        quota_hospital=col([c.quota_hospital for c in claims], np.bool_),
        late_stage=col([c.late_stage for c in claims], np.bool_),
        span_claim=np.array(span_claim, dtype=np.int64),
        span_category=np.array(span_cat, dtype=np.int8),
        span_from=np.array(span_from, dtype=np.int32),
        span_to=np.array(span_to, dtype=np.int32),
        span_applied=np.array(span_applied, dtype=np.int32),
        reviewed=_reviewed(claims),
    )
    return cols, list(persons)
