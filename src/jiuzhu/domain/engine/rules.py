"""Compile a policy into the functions the engine applies.

The policy file says things the way the seeds do (a general schedule, a tilt
"降低50%、提高5个百分点、取消封顶", a pool's sub-cap). Here each
``(benefit, category)`` becomes plain ``Piecewise`` functions per pool plus one
shared cap, so the engine has a single mechanism to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.money import BP_ONE, BasisPoints, Fen, apply_rate
from jiuzhu.domain.piecewise import Piecewise, Segment
from jiuzhu.domain.policy.model import (
    CumulativeBenefit,
    DeductibleBasis,
    Matcher,
    Policy,
    PoolTerms,
    Schedule,
    SegmentSpec,
    Tilt,
)
from jiuzhu.domain.vocabulary import Benefit, Category


class RuleError(ValueError):
    """A policy whose parts cannot be combined (e.g. a tilt pushing a rate past 100%)."""


@dataclass(frozen=True, slots=True)
class ResolvedSchedule:
    """What one benefit pays one category: a function per pool and a shared cap."""

    benefit: Benefit
    key: str
    clause: str | None
    text: str | None
    functions: dict[str, Piecewise]
    per_claim_deductibles: dict[str, Fen]
    shared_cap: Fen | None
    cap_pools: frozenset[str]
    tilt: str | None = None
    tilt_clause: str | None = None


def _segments(specs: list[SegmentSpec] | None, rate: BasisPoints | None) -> tuple[Segment, ...]:
    if specs is None:
        # No rate: a benefit decided on review, whose amount the seed leaves to judgement.
        return () if rate is None else (Segment(Fen(0), None, rate),)
    out: list[Segment] = []
    lower = Fen(0)
    for i, spec in enumerate(specs):
        upper = None if spec.upto is None else spec.upto.value
        if upper is None and i != len(specs) - 1:
            raise RuleError("只有最后一段可以不写 upto")
        if upper is not None and upper <= lower:
            raise RuleError("segments 的 upto 须逐段递增")
        out.append(Segment(lower, upper, spec.rate.value))
        if upper is not None:
            lower = upper
    return tuple(out)


def _pool_terms(schedule: Schedule, pool: str) -> tuple[Fen, tuple[Segment, ...], Fen | None]:
    over: PoolTerms | None = schedule.pools.get(pool)
    deductible = schedule.deductible.value if schedule.deductible else Fen(0)
    rate = schedule.rate.value if schedule.rate else None
    specs = schedule.segments
    cap: Fen | None = None
    if over is not None:
        if over.deductible is not None:
            deductible = over.deductible.value
        if over.rate is not None or over.segments is not None:
            rate = over.rate.value if over.rate else None
            specs = over.segments
        cap = over.cap.value if over.cap else None
    return deductible, _segments(specs, rate), cap


def _tilted(
    deductible: Fen, segments: tuple[Segment, ...], cap: Fen | None, tilt: Tilt, pool: str
) -> tuple[Fen, tuple[Segment, ...], Fen | None]:
    if pool in tilt.pool_deductibles:
        deductible = tilt.pool_deductibles[pool].value
    elif tilt.deductible_cut is not None:
        deductible = Fen(deductible - apply_rate(deductible, tilt.deductible_cut.value))
    if tilt.rate_add is not None:
        add = tilt.rate_add.value
        if any(s.rate + add > BP_ONE for s in segments):
            raise RuleError("倾斜后比例超过100%")
        segments = tuple(Segment(s.lower, s.upper, BasisPoints(s.rate + add)) for s in segments)
    if tilt.remove_cap:
        cap = None
    return deductible, segments, cap


def resolve(
    benefit: Benefit, ben: CumulativeBenefit, category: Category
) -> ResolvedSchedule | None:
    """The schedule in force for ``category``, tilt applied; None if it pays nothing."""
    key = next(
        (k for k, s in ben.schedules.items() if s.categories and category in s.categories), None
    )
    if key is None:
        key = next((k for k, s in ben.schedules.items() if s.categories is None), None)
    if key is None:
        return None
    sched = ben.schedules[key]
    tilt_key = next((k for k, t in ben.tilts.items() if category in t.categories), None)
    tilt = ben.tilts[tilt_key] if tilt_key else None
    functions: dict[str, Piecewise] = {}
    per_claim: dict[str, Fen] = {}
    shared_cap = sched.cap.value if sched.cap else None
    for pool in ben.pools:
        deductible, segments, pool_cap = _pool_terms(sched, pool)
        if tilt is not None:
            deductible, segments, pool_cap = _tilted(deductible, segments, pool_cap, tilt, pool)
        if ben.deductible_basis is DeductibleBasis.per_claim:
            per_claim[pool] = deductible
            deductible = Fen(0)
        functions[pool] = Piecewise(deductible, segments, pool_cap)
    if tilt is not None and tilt.remove_cap:
        shared_cap = None
    cap_pools = frozenset(sched.cap_pools if sched.cap_pools is not None else ben.pools)
    return ResolvedSchedule(
        benefit=benefit,
        key=key,
        clause=sched.clause or ben.clause,
        text=sched.text,
        functions=functions,
        per_claim_deductibles=per_claim,
        shared_cap=shared_cap,
        cap_pools=cap_pools,
        tilt=tilt_key,
        tilt_clause=tilt.clause if tilt else None,
    )


class CompiledPolicy:
    """A policy with its schedules resolved per category and its disease lists indexed."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._cache: dict[tuple[Benefit, Category], ResolvedSchedule | None] = {}
        for b, ben in policy.benefits.cumulative():
            for cat in Category:
                self._cache[(b, cat)] = resolve(b, ben, cat)

    @cached_property
    def benefits(self) -> dict[Benefit, CumulativeBenefit]:
        return dict(self.policy.benefits.cumulative())

    def schedule(self, benefit: Benefit, category: Category) -> ResolvedSchedule | None:
        return self._cache.get((benefit, category))

    def disease_in(self, list_name: str, disease: str | None) -> str | None:
        """The listed disease's name if ``disease`` (name or ICD-10 code) is on the list."""
        if disease is None:
            return None
        code = disease.strip().upper()
        for item in self.policy.diseases[list_name].items:
            if disease.strip() == item.name:
                return item.name
            if any(code.startswith(prefix.upper()) for prefix in item.icd10):
                return item.name
        return None

    def quota_of(self, disease_name: str) -> Fen:
        q = self.policy.benefits.major_disease_quota
        assert q is not None
        for item in self.policy.diseases[q.disease_list].items:
            if item.name == disease_name and item.quota is not None:
                return item.quota.value
        raise KeyError(disease_name)

    def pool_of(self, benefit: Benefit, claim: Claim) -> str | None:
        """The pool a claim falls in for ``benefit`` (first match), or None if out of scope."""
        ben = self.benefits.get(benefit)
        if ben is None:
            return None
        for pool, matchers in ben.pools.items():
            if any(self._matches(m, claim) for m in matchers):
                return pool
        return None

    def _matches(self, m: Matcher, claim: Claim) -> bool:
        if claim.visit_type not in m.visit_types:
            return False
        if m.hospital_levels is not None and claim.hospital_level not in m.hospital_levels:
            return False
        return m.diseases is None or self.disease_in(m.diseases, claim.disease) is not None
