"""Compile a policy into the functions and caps the engine applies.

The policy file says things the way the documents do (a general schedule, a tilt
"降低50%、提高5个百分点、取消封顶", a pool's cap, a sub-limit). Here each
``(benefit, category)`` becomes plain ``Piecewise`` rate functions per pool and
a list of ``Cap``s, so the engine has a single mechanism to apply: the increment
of F, limited by what every cap that applies leaves (docs/design.md "The one shape,
and where caps sit").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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
    Route,
    Schedule,
    SegmentSpec,
    Tilt,
)
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType


class RuleError(ValueError):
    """A policy whose parts cannot be combined (e.g. a tilt pushing a rate past 100%)."""


class CapKind(StrEnum):
    limit = "limit"
    """A sub-limit on some visit types of one pool (杭州 普通门诊 2万)."""
    pool = "pool"
    """A pool's own cap (茂名 门诊救助 6万, 住院救助 6万)."""
    shared = "shared"
    """The schedule's yearly cap over its ``cap_pools`` (杭州 15万 for 门诊与住院)."""


@dataclass(frozen=True, slots=True)
class Cap:
    """A yearly cap on what some claims of a benefit were paid.

    What was paid under it so far is the ``paid`` of the accumulators in
    ``keys`` (pools, or the sub-limit's own accumulator). Caps of one claim nest,
    inner first: limit ⊆ pool ⊆ shared.
    """

    kind: CapKind
    amount: Fen
    keys: frozenset[str]
    pool: str | None = None
    """The pool of a limit or pool cap (None: shared over ``keys``)."""
    visit_types: frozenset[VisitType] | None = None
    """A limit's visit types."""
    clause: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedSchedule:
    """What one benefit pays one category: a rate function per pool, and its caps."""

    benefit: Benefit
    key: str
    clause: str | None
    text: str | None
    functions: dict[str, Piecewise]
    per_claim_deductibles: dict[str, Fen]
    caps: tuple[Cap, ...]
    tilt: str | None = None
    tilt_clause: str | None = None
    route: Route | None = None
    """The application route, when the desk does not pay this schedule."""

    def caps_for(self, pool: str, visit_type: VisitType) -> list[Cap]:
        """The caps that limit a claim of ``visit_type`` in ``pool``, inner first."""
        out = []
        for cap in self.caps:
            if cap.kind is CapKind.shared:
                hit = pool in cap.keys
            else:
                hit = cap.pool == pool
                if cap.visit_types is not None:
                    hit = hit and visit_type in cap.visit_types
            if hit:
                out.append(cap)
        return out

    def caps_on_key(self, key: str) -> list[Cap]:
        """The caps that limit the claims counted in accumulator ``key`` (a pool or a
        sub-limit), inner first: what a person's year balance shows for it."""
        limit = next((c for c in self.caps if c.kind is CapKind.limit and key in c.keys), None)
        pool = limit.pool if limit is not None else key
        return [
            c
            for c in self.caps
            if c is limit
            or (c.kind is CapKind.pool and c.pool == pool)
            or (c.kind is CapKind.shared and pool in c.keys)
        ]

    @property
    def shared_cap(self) -> Cap | None:
        return next((c for c in self.caps if c.kind is CapKind.shared), None)


def _segments(specs: list[SegmentSpec] | None, rate: BasisPoints | None) -> tuple[Segment, ...]:
    if specs is None:
        # No rate: a benefit decided on review, whose amount the document leaves to judgement.
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


def _pool_terms(
    schedule: Schedule, pool: str
) -> tuple[Fen, tuple[Segment, ...], Fen | None, str | None]:
    """The pool's deductible, segments, own cap and the clause of that cap."""
    over: PoolTerms | None = schedule.pools.get(pool)
    deductible = schedule.deductible.value if schedule.deductible else Fen(0)
    rate = schedule.rate.value if schedule.rate else None
    specs = schedule.segments
    cap: Fen | None = None
    clause = None
    if over is not None:
        if over.deductible is not None:
            deductible = over.deductible.value
        if over.rate is not None or over.segments is not None:
            rate = over.rate.value if over.rate else None
            specs = over.segments
        if over.cap is not None:
            cap, clause = over.cap.value, over.cap.clause or over.clause
    return deductible, _segments(specs, rate), cap, clause


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
    removed = tilt is not None and tilt.remove_cap
    functions: dict[str, Piecewise] = {}
    per_claim: dict[str, Fen] = {}
    caps: list[Cap] = []
    for name, amount in sched.limits.items():
        limit = ben.limits[name]
        if not removed:
            caps.append(
                Cap(
                    CapKind.limit,
                    amount.value,
                    frozenset([name]),
                    limit.pool,
                    frozenset(limit.visit_types),
                    amount.clause or limit.clause or sched.clause or ben.clause,
                )
            )
    for pool in ben.pools:
        deductible, segments, pool_cap, cap_clause = _pool_terms(sched, pool)
        if tilt is not None:
            deductible, segments, pool_cap = _tilted(deductible, segments, pool_cap, tilt, pool)
        if ben.deductible_basis is DeductibleBasis.per_claim:
            per_claim[pool] = deductible
            deductible = Fen(0)
        functions[pool] = Piecewise(deductible, segments)
        if pool_cap is not None:
            clause = cap_clause or sched.clause or ben.clause
            caps.append(Cap(CapKind.pool, pool_cap, frozenset([pool]), pool, None, clause))
    if sched.cap is not None and not removed:
        cap_pools = frozenset(sched.cap_pools if sched.cap_pools is not None else ben.pools)
        clause = sched.cap.clause or sched.clause or ben.clause
        caps.append(Cap(CapKind.shared, sched.cap.value, cap_pools, None, None, clause))
    return ResolvedSchedule(
        benefit=benefit,
        key=key,
        clause=sched.clause or ben.clause,
        text=sched.text,
        functions=functions,
        per_claim_deductibles=per_claim,
        caps=tuple(caps),
        tilt=tilt_key,
        tilt_clause=tilt.clause if tilt else None,
        route=sched.route,
    )


class CompiledPolicy:
    """A policy with its schedules resolved per category and its disease lists indexed."""

    def __init__(self, policy: Policy, changes: tuple[str, ...] = ()) -> None:
        self.policy = policy
        self.changes = changes
        """Values that differ from the published file, in words (overrides, ``extends``)."""
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

    def limit_of(self, benefit: Benefit, pool: str, visit_type: VisitType) -> str | None:
        """The sub-limit a claim of ``pool`` also counts in, whatever its category.

        What was paid under a sub-limit counts whichever category paid it: 14,000
        paid for 普通门诊 as 低边 leaves 6,000 of the 2万 when the person becomes 低保.
        """
        for name, limit in self.benefits[benefit].limits.items():
            if limit.pool == pool and visit_type in limit.visit_types:
                return name
        return None

    @cached_property
    def pool_words(self) -> dict[Benefit, dict[str, str]]:
        """Each pool of each benefit named by its claims (一级医院住院; 门诊慢特病、普通门诊)."""
        from jiuzhu.domain.policy.names import pool_words

        return {b: {p: pool_words(ben, p) for p in ben.pools} for b, ben in self.benefits.items()}

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
