"""Property tests of the settlement engine and the money primitives (hypothesis).

What docs/design.md promises, checked on generated claims under all five policies:
conservation to the fen, no tier paying more than is left, caps, yearly totals
equal to ``F(yearly base)`` (cumulative rounding), claim-by-claim equals one
call, determinism, and the exactness of the money helpers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled, Reviewed
from jiuzhu.domain.engine.reference import ClaimRejected, ReferenceEngine, settle_claims
from jiuzhu.domain.engine.rules import CapKind, CompiledPolicy, ResolvedSchedule
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PersonState
from jiuzhu.domain.money import (
    BP_ONE,
    BasisPoints,
    Fen,
    apply_rate,
    format_yuan,
    parse_yuan,
    round_half_up_div,
)
from jiuzhu.domain.piecewise import Piecewise, Segment
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.policy_files import compile_policy, load_policy
from tests.strategies import (
    EFFECTIVE,
    POLICY_IDS,
    ClaimShape,
    category_pool,
    compiled,
    identified,
    person_claims,
    population,
)

# JIUZHU_PROPERTY_SCALE=20 runs twenty times the examples (a deeper, slower hunt).
SCALE = float(os.environ.get("JIUZHU_PROPERTY_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


SETTINGS = settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Settlement order (docs/design.md "Settlement semantics"); hospital_borne last, for quota claims.
ORDER = (
    Benefit.basic_insurance,
    Benefit.critical_illness_insurance,
    Benefit.other_payments,
    Benefit.major_disease_quota,
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
    Benefit.hospital_borne,
)

# Review-only benefits: decided on review, never paid at the desk (docs/design.md).
REVIEW_ONLY = {
    "hangzhou-2023": (Benefit.special_assistance,),
    "fujian-2022": (Benefit.illness_poverty_assistance,),
}

INSURANCE = (Benefit.basic_insurance, Benefit.critical_illness_insurance)

ASSISTANCE = (
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
)


# ---------------------------------------------------------------------------- helpers


def settle_ok(policy_id: str, claims: Sequence[Claim]) -> list[Settlement]:
    """Settle in one call; every generated claim is valid, so none may be rejected."""
    results = settle_claims(compiled(policy_id), claims)
    bad = [r for r in results if isinstance(r, ClaimRejected)]
    assert not bad, [str(r) for r in bad]
    return [r for r in results if isinstance(r, Settlement)]


def is_quota(s: Settlement) -> bool:
    """Whether the claim went down 山西's single-disease quota path."""
    return Benefit.major_disease_quota in s.amounts


def person_years(
    claims: Sequence[Claim], settlements: Sequence[Settlement]
) -> dict[tuple[str, int], list[tuple[Claim, Settlement]]]:
    """Claims with their settlements grouped by person-year, in settlement order."""
    groups: dict[tuple[str, int], list[tuple[int, Claim, Settlement]]] = defaultdict(list)
    for i, (c, s) in enumerate(zip(claims, settlements, strict=True)):
        groups[(c.person_id, c.year)].append((i, c, s))
    return {
        key: [(c, s) for _, c, s in sorted(rows, key=lambda r: (r[1].settlement_date, r[0]))]
        for key, rows in groups.items()
    }


# ---------------------------------------------------------------------------- 1. conservation


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_conservation(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    settlements = settle_ok(policy_id, claims)
    for c, s in zip(claims, settlements, strict=True):
        assert s.claim_id == c.claim_id
        assert s.total == c.total
        assert all(v >= 0 for v in s.amounts.values()), s.amounts
        # personal excludes the one-off 大病关怀 grant: it is paid to the person, not the bill.
        assert s.total == sum(s.amounts.values()) + s.personal
        assert s.personal >= 0
        j = s.to_json()
        assert j["personal"] == format_yuan(s.personal)
        assert parse_yuan(str(j["total"])) == sum(
            parse_yuan(str(j[b.value])) for b in Benefit
        ) + parse_yuan(str(j["personal"]))
    # 大病关怀救助 (山西 only): a one-off grant, at most once per person.
    grants = defaultdict(list)
    for c, s in zip(claims, settlements, strict=True):
        if s.critical_care_grant:
            grants[c.person_id].append(s.critical_care_grant)
    assert all(g == [500_000] for g in grants.values()), grants
    assert policy_id == "shanxi-2019" or not grants


# ---------------------------------------------------------------------------- 2. tiers


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_no_tier_pays_more_than_is_left(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    for c, s in zip(claims, settle_ok(policy_id, claims), strict=True):
        assert set(s.amounts) <= set(ORDER)
        running = 0
        for b in ORDER:
            running += s.amount(b)
            assert running <= c.total, (b, s.amounts, c)
        bi = s.amount(Benefit.basic_insurance)
        cii = s.amount(Benefit.critical_illness_insurance)
        assert s.amount(Benefit.other_payments) == c.other_payments
        if c.insurance is not None:
            assert (bi, cii) == (
                c.insurance.basic_insurance,
                c.insurance.critical_illness_insurance,
            )
        elif not is_quota(s):
            # Computed tiers 1-2 stay inside the policy scope. (The 山西 quota path pays
            # 70% of the whole bill within the quota, policy scope or not: 晋医保发〔2019〕46号
            # 二(八).)
            assert bi + cii <= c.policy_scope, (bi, cii, c)
        if not is_quota(s):
            ma = s.amount(Benefit.medical_assistance)
            assert ma <= max(0, c.policy_scope - bi - cii), (ma, bi, cii, c)
            ra = s.amount(Benefit.re_assistance)
            assert ra <= max(0, c.policy_scope - bi - cii - ma)
        else:
            # Quota claims: no ordinary assistance on top (不再另行医疗救助).
            assert all(s.amount(b) == 0 for b in ASSISTANCE)


# ---------------------------------------------------------------------------- 3. caps


def _stepped(policy_id: str, claims: Sequence[Claim]) -> list[tuple[Claim, Settlement, dict, dict]]:
    """Each claim settled in order with the accumulators of its benefit period just
    before and just after it: what the cap properties are checked against."""
    cp = compiled(policy_id)
    engine = ReferenceEngine(cp)
    states: dict[str, PersonState] = {}
    out = []
    order = sorted(
        enumerate(claims), key=lambda ic: (ic[1].person_id, ic[1].settlement_date, ic[0])
    )
    for _, c in order:
        state = states.setdefault(c.person_id, PersonState())
        years = engine.years_touched(c)
        before = {y: dataclasses.replace(state.year(y)) for y in years}
        before = {y: {k: (v.base, v.paid) for k, v in ys.pools.items()} for y, ys in before.items()}
        s = engine.settle(c, state)
        after = {y: {k: (v.base, v.paid) for k, v in state.year(y).pools.items()} for y in years}
        out.append((c, s, before, after))
    return out


def _period_year(policy_id: str, c: Claim, s: Settlement) -> int:
    held = ReferenceEngine(compiled(policy_id)).candidates(c)
    return next(h.period_year for h in held if h.category is s.category)


def _caps_hold(policy_id: str, claims: Sequence[Claim]) -> None:
    """docs/design.md "where caps sit", claim by claim, for every assistance benefit:

    * F has no cap: a claim is paid ``min(F(C_after) − F(C_before), cap − paid so far
      this year under that cap for every cap that applies, what the bill leaves)``;
    * a claim paid under a cap never takes what was paid under it past the cap (what
      was paid in the same scope while no cap applied, 特困 100% say, counts as paid);
    * a cap binds only once what was paid under it has reached it.
    """
    cp = compiled(policy_id)
    for c, s, before, after in _stepped(policy_id, claims):
        year = _period_year(policy_id, c, s)
        left = c.total - sum(s.amount(b) for b in ORDER[:4])
        for b in ASSISTANCE:
            amount = s.amount(b)
            pool = cp.pool_of(b, c)
            sched = cp.schedule(b, s.category)
            ben = cp.benefits.get(b)
            on_review = (
                ben is None or not ben.desk or (sched is not None and sched.route is not None)
            )
            if pool is None or sched is None or (on_review and c.review_of(b) is None):
                assert amount == 0, (b, c)
                continue
            if amount == 0 and (b, pool) not in after[year]:
                continue  # excluded (not referred, out of area): nothing counted
            fn = sched.functions[pool]
            base0 = before[year].get((b, pool), (0, 0))[0]
            base1 = after[year][(b, pool)][0]
            want = fn(base1) - fn(base0)
            caps = sched.caps_for(pool, c.visit_type)
            used = {cap: sum(after[year].get((b, k), (0, 0))[1] for k in cap.keys) for cap in caps}
            for cap in caps:
                assert amount <= max(0, cap.amount - (used[cap] - amount)), (b, cap, used, amount)
            if amount < want and amount < left:
                assert any(used[cap] >= cap.amount for cap in caps), (b, amount, want, used, c)
            else:
                assert amount == max(0, min(want, left)), (b, amount, want, left)
            left -= amount


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_caps_category_constant_all_year(policy_id: str, data: st.DataObject) -> None:
    cp = compiled(policy_id)
    cat = data.draw(st.sampled_from(category_pool(policy_id)), label="category")
    claims = data.draw(
        person_claims(policy_id, categories=(CategorySpan(cat),), min_claims=2, max_claims=10)
    )
    settlements = settle_ok(policy_id, claims)
    assert len({s.category for s in settlements}) == 1
    category = settlements[0].category
    assert category is (cat if cat in cp.policy.categories.precedence else Category.ordinary)
    _caps_hold(policy_id, claims)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@settings(SETTINGS, max_examples=examples(25))
@given(data=st.data())
def test_caps_with_category_changes(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id, max_people=2))
    _caps_hold(policy_id, claims)


@pytest.mark.parametrize("policy_id", ["liaocheng-2023", "hangzhou-2023"])
@settings(SETTINGS, max_examples=examples(25))
@given(data=st.data())
def test_caps_across_look_backs(policy_id: str, data: st.DataObject) -> None:
    """An identification with a look-back (and, 聊城, its benefit period keyed to the
    identification's year) over two calendar years: the caps hold claim by claim."""
    claims = data.draw(
        person_claims(policy_id, categories=data.draw(identified(policy_id)), years=2)
    )
    _caps_hold(policy_id, claims)


@pytest.mark.parametrize("policy_id", sorted(REVIEW_ONLY))
@SETTINGS
@given(data=st.data())
def test_review_only_benefits_pay_nothing_at_the_desk(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    for c, s in zip(claims, settle_ok(policy_id, claims), strict=True):
        for b in REVIEW_ONLY[policy_id]:
            if c.review_of(b) is not None:
                continue  # approved on review: computed by the engine (test_caps_hold)
            assert s.amount(b) == 0
            assert s.to_json()[b.value] == "0.00"


# ---------------------------------------------------------------------------- 4. yearly totals

Base = Callable[[Claim, Settlement], int]


def _ma_base(c: Claim, s: Settlement) -> int:
    # policy_scope - BI - CII (other_payments are 0 in these scenarios).
    assert c.insurance is not None and c.other_payments == 0
    return c.policy_scope - c.insurance.basic_insurance - c.insurance.critical_illness_insurance


def _ra_base(c: Claim, s: Settlement) -> int:
    return _ma_base(c, s) - s.amount(Benefit.medical_assistance)


def _sa_base(c: Claim, s: Settlement) -> int:
    # 茂名 二次救助: everything left after the tiers and assistance, out-of-scope cost included.
    assert c.insurance is not None
    paid = (
        c.insurance.basic_insurance
        + c.insurance.critical_illness_insurance
        + s.amount(Benefit.medical_assistance)
    )
    return c.total - paid


INP, CHRONIC, GENERAL, DRUG = (
    VisitType.inpatient,
    VisitType.outpatient_chronic,
    VisitType.outpatient_general,
    VisitType.special_drug,
)
ALL_VISITS = (INP, CHRONIC, GENERAL, DRUG)
NOT_GENERAL = (INP, CHRONIC, DRUG)
OUTPATIENT = (CHRONIC, GENERAL, DRUG)
ALL = ALL_VISITS

# (policy, benefit, pool, visit types in that pool, visit types drawn, base per claim).
# Every shipped desk benefit, on each of its pools; 杭州's one base (门诊与住院 "同比例救助并共用
# 年度救助限额", 杭政办函〔2022〕70号 二(二)) drawn with 普通门诊 only, without, and mixed.
YEARLY = [
    ("liaocheng-2023", Benefit.medical_assistance, "main", {INP, CHRONIC}, ALL_VISITS, _ma_base),
    ("liaocheng-2023", Benefit.re_assistance, "main", {INP, CHRONIC}, ALL_VISITS, _ra_base),
    ("hangzhou-2023", Benefit.medical_assistance, "main", set(ALL_VISITS), NOT_GENERAL, _ma_base),
    ("hangzhou-2023", Benefit.medical_assistance, "main", set(ALL_VISITS), (GENERAL,), _ma_base),
    ("hangzhou-2023", Benefit.medical_assistance, "main", set(ALL_VISITS), ALL_VISITS, _ma_base),
    ("maoming-2018", Benefit.medical_assistance, "inpatient", {INP}, (INP,), _ma_base),
    ("maoming-2018", Benefit.medical_assistance, "outpatient", set(OUTPATIENT), ALL, _ma_base),
    ("maoming-2018", Benefit.secondary_assistance, "all", set(ALL_VISITS), ALL_VISITS, _sa_base),
    ("shanxi-2019", Benefit.medical_assistance, "main", {INP}, (INP, DRUG), _ma_base),
    ("fujian-2022", Benefit.medical_assistance, "main", {INP, CHRONIC}, ALL_VISITS, _ma_base),
]  # fmt: skip


def _capped_total(
    sched: ResolvedSchedule, pool: str, rows: Sequence[tuple[Claim, int, int]]
) -> int | None:
    """What one category all year pays on ``pool``: min(cap, F(yearly base)) when one set
    of caps covers every claim (None when claims fall under different caps)."""
    cap_sets = {tuple(sched.caps_for(pool, c.visit_type)) for c, _, _ in rows}
    if len(cap_sets) > 1:
        return None
    yearly = sum(base for _, base, _ in rows)
    total = sched.functions[pool](yearly)
    for cap in next(iter(cap_sets), ()):
        total = min(total, cap.amount)
    return total


@pytest.mark.parametrize(
    ("policy_id", "benefit", "pool", "in_pool", "visits", "base"),
    YEARLY,
    ids=[f"{p}-{b.value}-{pool}-{len(v)}" for p, b, pool, _, v, _ in YEARLY],
)
@settings(SETTINGS, max_examples=examples(20))
@given(data=st.data())
def test_yearly_total_is_F_of_yearly_base(
    policy_id: str,
    benefit: Benefit,
    pool: str,
    in_pool: set[VisitType],
    visits: tuple[VisitType, ...],
    base: Base,
    data: st.DataObject,
) -> None:
    """Cumulative rounding: the year's total is min(cap, F(yearly base)), no penny drift.

    One category all year, insurance pre-settled, no other payments, referred
    (杭州), in area (山西), no quota hospital (山西): the only limits left are the
    rate function and its caps. Where claims fall under different caps (杭州's
    普通门诊 sub-limit beside the rest), each cap holds and the total never exceeds F.
    """
    cp = compiled(policy_id)
    cats = [c for c in category_pool(policy_id) if cp.schedule(benefit, c) is not None]
    cat = data.draw(st.sampled_from([*cats, Category.ordinary]), label="category")
    shape = ClaimShape(
        visit_types=visits,
        presettled=True,
        other=False,
        referred=True,
        out_of_area=False,
        quota_hospital=False,
        reviewed=False,
    )
    claims = data.draw(
        person_claims(
            policy_id, shape=shape, categories=(CategorySpan(cat),), min_claims=1, max_claims=10
        )
    )
    sched = cp.schedule(benefit, cat)
    if sched is not None and sched.route is not None:
        # 山西 三(十一): paid on application; here every claim is approved.
        approved = (Reviewed(benefit, None, "SQ1"),)
        claims = [dataclasses.replace(c, reviewed=approved) for c in claims]
    settlements = settle_ok(policy_id, claims)
    for rows in person_years(claims, settlements).values():
        # The policy's pool matchers agree with the visit types read from the document.
        assert all((cp.pool_of(benefit, c) == pool) == (c.visit_type in in_pool) for c, _ in rows)
        mine = [(c, base(c, s), s.amount(benefit)) for c, s in rows if c.visit_type in in_pool]
        got = sum(paid for _, _, paid in mine)
        if sched is None:
            assert got == 0
            assert all(s.amount(benefit) == 0 for _, s in rows)
            continue
        expected = _capped_total(sched, pool, mine)
        if expected is not None:
            assert got == expected, (cat, [b for _, b, _ in mine], [p for _, _, p in mine])
        else:
            assert got <= sched.functions[pool](sum(b for _, b, _ in mine))
            for cap in sched.caps:
                under = sum(p for c, _, p in mine if cap in sched.caps_for(pool, c.visit_type))
                assert under <= cap.amount


def test_one_base_gives_F_of_the_sum_not_a_sum_of_Fs() -> None:
    """杭政办函〔2022〕70号 二(二) 同比例救助并共用年度救助限额: 普通门诊 and 住院 share one base.
    Two burdens of 100.01 at 低边 70%: F(100.01) = 70.007 → 70.01 and F(200.02) = 140.014 →
    140.01, so one base pays 70.01 then 140.01 − 70.01 = 70.00; two bases would pay 70.01 twice."""
    claims = [
        _claim(
            "c1", VisitType.outpatient_general, dt.date(2023, 3, 1), 10_001, Category.near_dibao
        ),
        _claim("c2", VisitType.inpatient, dt.date(2023, 4, 1), 10_001, Category.near_dibao),
    ]
    got = [s.amount(Benefit.medical_assistance) for s in settle_ok("hangzhou-2023", claims)]
    assert got == [7_001, 7_000]


def _claim(cid: str, visit: VisitType, day: dt.date, burden: int, cat: Category) -> Claim:
    return Claim(
        claim_id=cid,
        person_id="p1",
        visit_type=visit,
        settlement_date=day,
        admission_date=day,
        hospital_level=2,
        referred=True,
        total=Fen(burden),
        full_self_pay=Fen(0),
        partial_self_pay=Fen(0),
        policy_scope=Fen(burden),
        categories=(CategorySpan(cat),),
        insurance=PreSettled(Fen(0), Fen(0)),
    )


def _bi_base(c: Claim, s: Settlement) -> int:
    """Basic insurance: policy scope above the pool's per-claim deductible."""
    cp = compiled(s.policy_id)
    sched = cp.schedule(Benefit.basic_insurance, s.category)
    pool = cp.pool_of(Benefit.basic_insurance, c)
    assert sched is not None and pool is not None
    return max(0, c.policy_scope - sched.per_claim_deductibles[pool])


def _cii_base(c: Claim, s: Settlement) -> int:
    return c.policy_scope - s.amount(Benefit.basic_insurance)


def assert_yearly_identity(sched: ResolvedSchedule, per_pool: dict[str, tuple[int, int]]) -> None:
    """``per_pool``: pool -> (yearly base C, what the year paid). One category all year:
    each pool pays ``min(pool cap, F_p(C_p))``; the pools under a shared cap together pay
    ``min(shared cap, sum of those)`` (caps nest: pool inside shared)."""
    fns = sched.functions
    own = {
        p: min(
            [fns[p](base)]
            + [c.amount for c in sched.caps if c.kind.value == "pool" and c.pool == p]
        )
        for p, (base, _) in per_pool.items()
    }
    shared = sched.shared_cap
    for pool, (_, got) in per_pool.items():
        if shared is None or pool not in shared.keys:
            assert got == own[pool], (pool, per_pool, own)
    if shared is not None:
        group = [p for p in per_pool if p in shared.keys]
        want = sum(own[p] for p in group)
        assert sum(per_pool[p][1] for p in group) == min(shared.amount, want), (per_pool, shared)
        if want <= shared.amount:
            assert all(per_pool[p][1] == own[p] for p in group)


def _pool_caps(sched: ResolvedSchedule, pool: str) -> list[int]:
    return [c.amount for c in sched.caps if c.kind is CapKind.pool and c.pool == pool]


def _per_pool(
    policy_id: str, benefit: Benefit, rows: Sequence[tuple[Claim, Settlement]], base: Base
) -> dict[str, tuple[int, int]]:
    cp = compiled(policy_id)
    out: dict[str, tuple[int, int]] = {}
    for c, s in rows:
        pool = cp.pool_of(benefit, c)
        if pool is None:
            assert s.amount(benefit) == 0 or (benefit in INSURANCE and c.insurance is not None)
            continue
        b, got = out.get(pool, (0, 0))
        out[pool] = (b + base(c, s), got + s.amount(benefit))
    return out


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@settings(SETTINGS, max_examples=examples(15))
@given(data=st.data())
def test_computed_insurance_is_F_of_yearly_base(policy_id: str, data: st.DataObject) -> None:
    """Tiers 1-2 computed by the engine obey the same cumulative identity.

    Not referred (so 福建's 起付线连续计算 does not chain deductibles) and no
    quota hospital (山西's quota path pays a flat 70% instead).
    """
    cp = compiled(policy_id)
    cat = data.draw(st.sampled_from(category_pool(policy_id)), label="category")
    shape = ClaimShape(presettled=False, referred=False, quota_hospital=False)
    claims = data.draw(
        person_claims(
            policy_id, shape=shape, categories=(CategorySpan(cat),), min_claims=1, max_claims=10
        )
    )
    settlements = settle_ok(policy_id, claims)
    category = settlements[0].category
    for rows in person_years(claims, settlements).values():
        for benefit, base in (
            (Benefit.basic_insurance, _bi_base),
            (Benefit.critical_illness_insurance, _cii_base),
        ):
            sched = cp.schedule(benefit, category)
            assert sched is not None
            assert_yearly_identity(sched, _per_pool(policy_id, benefit, rows, base))


# Hand-read from the clauses (聊城实施方案 三(四)1,2 / 四(一); 茂民规〔2018〕3号 二(二)):
# (deductible, rate in bp, shared cap, pool cap) in fen.
HAND_SCHEDULES: dict[
    tuple[str, Benefit, str], dict[Category, tuple[int, int, int | None, int | None]]
] = {
    ("liaocheng-2023", Benefit.medical_assistance, "main"): {
        Category.extreme_poor: (0, 7000, 3_000_000, None),
        Category.dibao: (0, 7000, 3_000_000, None),
        Category.returned_to_poverty: (0, 7000, 3_000_000, None),
        Category.near_dibao: (300_000, 5000, 1_500_000, None),
        Category.monitored: (300_000, 5000, 1_500_000, None),
        Category.illness_impoverished: (1_000_000, 6000, 2_000_000, None),
    },
    ("liaocheng-2023", Benefit.re_assistance, "main"): {
        Category.dibao: (500_000, 7000, 2_000_000, None),
        Category.near_dibao: (1_000_000, 7000, 1_500_000, None),
    },
    ("maoming-2018", Benefit.medical_assistance, "inpatient"): {
        Category.extreme_poor: (0, 10000, None, None),
        Category.orphan: (0, 10000, None, None),
        Category.dibao: (0, 8000, None, 6_000_000),
        Category.registered_poor: (0, 8000, None, 6_000_000),
    },
}


@pytest.mark.parametrize("key", list(HAND_SCHEDULES), ids=lambda k: f"{k[0]}-{k[1].value}")
def test_resolved_functions_match_the_clauses(key: tuple[str, Benefit, str]) -> None:
    """The F used above is the one the document states (guards the oracle of property 4)."""
    policy_id, benefit, pool = key
    for cat, (ded, rate, shared, pool_cap) in HAND_SCHEDULES[key].items():
        sched = compiled(policy_id).schedule(benefit, cat)
        assert sched is not None
        fn = sched.functions[pool]
        assert fn.deductible == ded
        assert [(s.lower, s.upper, s.rate) for s in fn.segments] == [(0, None, rate)]
        got_shared = None if sched.shared_cap is None else sched.shared_cap.amount
        got_pool = next(
            (c.amount for c in sched.caps if c.kind.value == "pool" and c.pool == pool), None
        )
        assert (got_shared, got_pool) == (shared, pool_cap)


# ---------------------------------------------------------------------------- 5. order


def _one_at_a_time(policy_id: str, claims: Sequence[Claim]) -> dict[str, dict[str, object]]:
    engine = ReferenceEngine(compiled(policy_id))
    states: dict[str, PersonState] = {}
    out: dict[str, dict[str, object]] = {}
    order = sorted(
        enumerate(claims), key=lambda ic: (ic[1].person_id, ic[1].settlement_date, ic[0])
    )
    for _, c in order:
        state = states.setdefault(c.person_id, PersonState())
        out[c.claim_id] = engine.settle(c, state).to_json()
    return out


def _by_id(policy_id: str, claims: Sequence[Claim]) -> dict[str, dict[str, object]]:
    return {s.claim_id: s.to_json() for s in settle_ok(policy_id, claims)}


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_claim_by_claim_equals_one_call(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    one_call = _by_id(policy_id, claims)
    assert _one_at_a_time(policy_id, claims) == one_call
    # Interleaving people in the input changes nothing either.
    mixed = data.draw(st.permutations(claims), label="interleaved")
    mixed_ids = {c.claim_id: c for c in mixed}
    same_day_order_kept = all(
        [x.claim_id for x in mixed if (x.person_id, x.settlement_date) == key]
        == [x.claim_id for x in claims if (x.person_id, x.settlement_date) == key]
        for key in {(c.person_id, c.settlement_date) for c in mixed_ids.values()}
    )
    if same_day_order_kept:
        assert _by_id(policy_id, mixed) == one_call


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_input_order_does_not_matter_with_distinct_dates(
    policy_id: str, data: st.DataObject
) -> None:
    claims = data.draw(population(policy_id, distinct_dates=True))
    shuffled = data.draw(st.permutations(claims), label="shuffled")
    assert _by_id(policy_id, shuffled) == _by_id(policy_id, claims)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_a_rejected_claim_leaves_no_trace(policy_id: str, data: st.DataObject) -> None:
    """docs/design.md: a claim the engine cannot settle is rejected naming the field,
    and the person's other claims settle exactly as if it had never been sent."""
    claims = data.draw(population(policy_id))
    i = data.draw(st.integers(0, len(claims) - 1), label="victim")
    victim = claims[i]
    kind = data.draw(st.sampled_from(["other_payments", "settlement_date", "claim_id"]))
    if kind == "other_payments":
        bi = data.draw(st.integers(0, victim.policy_scope))
        cii = data.draw(st.integers(0, victim.policy_scope - bi))
        excess = data.draw(st.integers(1, 1_000_000))
        bad = dataclasses.replace(
            victim,
            claim_id="bad",
            insurance=PreSettled(Fen(bi), Fen(cii)),
            other_payments=Fen(victim.total - bi - cii + excess),
        )
    elif kind == "settlement_date":
        start, end = EFFECTIVE[policy_id]
        outside = [start - dt.timedelta(days=1)]
        if end is not None:
            outside.append(end + dt.timedelta(days=1))
        day = data.draw(st.sampled_from(outside))
        # No categories: an identification's look-back may reach before the policy's start.
        bad = dataclasses.replace(victim, claim_id="bad", settlement_date=day, categories=())
    else:
        bad = victim  # the same claim_id again, after the original (same date, later in input)
    at = data.draw(st.integers(i + 1, len(claims)), label="insert at")
    with_bad = [*claims[:at], bad, *claims[at:]]
    results = settle_claims(compiled(policy_id), with_bad)
    rejected = results[at]
    assert isinstance(rejected, ClaimRejected), rejected
    assert rejected.field == kind
    assert rejected.claim_id == bad.claim_id
    others = [r for j, r in enumerate(results) if j != at]
    assert all(isinstance(r, Settlement) for r in others)
    assert [r.to_json() for r in others if isinstance(r, Settlement)] == [
        s.to_json() for s in settle_ok(policy_id, claims)
    ]


# ---------------------------------------------------------------------------- 6. determinism


@cache
def _fresh_copy(policy_id: str) -> CompiledPolicy:
    copy = compile_policy(load_policy(policy_id))
    assert copy is not compiled(policy_id)
    return copy


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@settings(SETTINGS, max_examples=examples(10))
@given(data=st.data())
def test_settling_twice_gives_identical_json(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    first = [json.dumps(s.to_json(), ensure_ascii=False) for s in settle_ok(policy_id, claims)]
    second = [json.dumps(s.to_json(), ensure_ascii=False) for s in settle_ok(policy_id, claims)]
    assert first == second
    assert len(first) == len(claims)
    # A second, separately loaded and compiled copy of the policy settles the same way.
    fresh = _fresh_copy(policy_id)
    third = [
        json.dumps(r.to_json(), ensure_ascii=False)
        for r in settle_claims(fresh, claims)
        if isinstance(r, Settlement)
    ]
    assert third == first


# ---------------------------------------------------------------------------- 7. money


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(0, 10**15))
def test_yuan_round_trip(x: int) -> None:
    text = format_yuan(x)
    assert parse_yuan(text) == x
    whole, cents = text.split(".")
    assert len(cents) == 2 and int(whole) * 100 + int(cents) == x


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_round_half_up_div_matches_decimal(num: int, den: int) -> None:
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert round_half_up_div(num, den) == int(expected)


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(0, BP_ONE))
def test_apply_rate(x: int, bp: int) -> None:
    assert apply_rate(x, BP_ONE) == x
    assert apply_rate(x, 0) == 0
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (Decimal(x) * bp / BP_ONE).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert apply_rate(x, bp) == int(expected)


@st.composite
def piecewise(draw: st.DrawFn) -> Piecewise:
    bounds = sorted(set(draw(st.lists(st.integers(1, 10_000_000), max_size=3))))
    rates = draw(
        st.lists(st.integers(0, BP_ONE), min_size=len(bounds) + 1, max_size=len(bounds) + 1)
    )
    lowers = [0, *bounds]
    uppers: list[int | None] = [*bounds, None]
    segments = tuple(
        Segment(Fen(lo), None if hi is None else Fen(hi), BasisPoints(r))
        for lo, hi, r in zip(lowers, uppers, rates, strict=True)
    )
    return Piecewise(Fen(draw(st.integers(0, 2_000_000))), segments)


@settings(max_examples=examples(200), deadline=None)
@given(piecewise(), st.integers(0, 30_000_000), st.integers(0, 30_000_000))
def test_piecewise_monotone_and_1_lipschitz(f: Piecewise, c: int, d: int) -> None:
    assert 0 <= f(c) <= f(c + d)
    assert f(c + d) - f(c) <= d
    if c <= f.deductible:
        assert f(c) == 0
    # The unrounded value, exactly: F is its half-up rounding (no cap inside F).
    with localcontext() as ctx:
        ctx.prec = 60
        above = max(0, c - f.deductible)
        exact = sum(
            Decimal(max(0, (above if s.upper is None else min(above, s.upper)) - s.lower))
            * s.rate
            / BP_ONE
            for s in f.segments
        )
        rounded = int(Decimal(exact).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert f(c) == rounded
