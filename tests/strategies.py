"""Hypothesis strategies for domain ``Claim`` objects under the five shipped policies.

Claims are built directly as domain objects (money already in fen, parts already
adding up), the way ``jiuzhu.io.claims`` hands them to the engine. Everything a
generated claim holds is valid at the edge (docs/design.md "Public interfaces"):

* ``total == full_self_pay + partial_self_pay + policy_scope``;
* pre-settled insurance has ``basic_insurance + critical_illness_insurance <= policy_scope``;
* ``other_payments`` never exceeds what insurance leaves, so the engine has no
  reason to reject a claim (claim ids are unique, dates inside the policy's period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled, Reviewed
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.money import Fen
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.policy_files import compile_policy, load_policy

POLICY_IDS = ("liaocheng-2023", "hangzhou-2023", "maoming-2018", "shanxi-2019", "fujian-2022")

EFFECTIVE: dict[str, tuple[dt.date, dt.date | None]] = {
    "liaocheng-2023": (dt.date(2022, 12, 27), None),
    "hangzhou-2023": (dt.date(2023, 1, 1), None),
    "maoming-2018": (dt.date(2018, 12, 25), dt.date(2021, 12, 24)),
    "shanxi-2019": (dt.date(2019, 8, 1), None),
    "fujian-2022": (dt.date(2022, 1, 1), None),
}

# Benefit years to draw from: the first ones of each policy (a partial first
# year included where the policy starts late in the year).
YEARS: dict[str, tuple[int, ...]] = {
    "liaocheng-2023": (2022, 2023, 2024),
    "hangzhou-2023": (2023, 2024),
    "maoming-2018": (2019, 2020, 2021),
    "shanxi-2019": (2019, 2020),
    "fujian-2022": (2022, 2023),
}

# ICD-10 codes and names: on 山西's lists (major_26 quota, care_24 grant,
# gaucher_pompe outpatient) and off every list.
DISEASES: tuple[str | None, ...] = (
    None,
    "C50.1",  # 乳腺癌: quota and grant
    "C34",  # 肺癌: quota and grant
    "C92.1",  # 慢性粒细胞白血病 (quota) / 儿童白血病 (grant)
    "N18.5",  # 终末期肾病
    "I21.0",  # 急性心肌梗塞: quota only
    "C22",  # 肝癌: grant only
    "E75.2",  # 戈谢病: outpatient counts as inpatient in 山西
    "E74.0",  # 庞贝氏病
    "乳腺癌",
    "J18.9",  # pneumonia: on no list
)


@cache
def compiled(policy_id: str) -> CompiledPolicy:
    return compile_policy(load_policy(policy_id))


def period(policy_id: str, year: int) -> tuple[dt.date, dt.date]:
    """The part of ``year`` in which the policy is in force."""
    start, end = EFFECTIVE[policy_id]
    lo = max(dt.date(year, 1, 1), start)
    hi = dt.date(year, 12, 31) if end is None else min(dt.date(year, 12, 31), end)
    assert lo <= hi, (policy_id, year)
    return lo, hi


def category_pool(policy_id: str) -> list[Category]:
    """The policy's categories, plus a couple it does not assist."""
    prec = list(compiled(policy_id).policy.categories.precedence)
    extra = [Category.ordinary, Category.severe_disability, Category.key_veteran]
    return prec + [c for c in extra if c not in prec]


# ---------------------------------------------------------------------------- money

# Amounts in fen. Hypothesis favours small integers, so large bills (up to
# 600,000 yuan, enough to reach every yearly cap) get their own branch; exact
# thresholds (deductibles, caps) are in the sampled branch.
small_fen = st.integers(0, 500_000)
fen_amounts = st.one_of(
    small_fen,
    st.integers(0, 10_000_000),
    st.sampled_from([0, 1, 50, 99, 100, 300_000, 500_000, 1_000_000, 1_500_000, 2_000_000]),
)
scope_fen = st.one_of(
    fen_amounts,
    st.integers(2_000_000, 60_000_000),
    st.integers(5_000_000, 20_000_000),
)


@dataclass(frozen=True)
class Money:
    full_self_pay: int
    partial_self_pay: int
    policy_scope: int
    insurance: PreSettled | None
    other_payments: int

    @property
    def total(self) -> int:
        return self.full_self_pay + self.partial_self_pay + self.policy_scope


@st.composite
def money(
    draw: st.DrawFn,
    presettled: bool | None = None,
    other: bool | None = None,
    other_cap_share: int | None = None,
) -> Money:
    """A bill split in its three parts, optional pre-settled insurance and other payments.

    ``presettled`` / ``other``: force (True/False) or draw (None). With the
    insurance computed by the engine, other payments stay within the cost outside
    the policy scope (what insurance always leaves); ``other_cap_share`` (percent
    of the total) narrows that further for 山西's quota path, where basic
    insurance pays 70% of the whole bill within the quota.
    """
    full = draw(fen_amounts)
    partial = draw(fen_amounts)
    scope = draw(scope_fen)
    total = full + partial + scope
    with_ins = draw(st.booleans()) if presettled is None else presettled
    insurance = None
    if with_ins:
        # Insurance usually pays a share of the scope; sometimes anything up to all of it.
        share = draw(st.sampled_from([0, 3000, 5000, 6000, 7000, 8500, None]))
        bi = draw(st.integers(0, scope)) if share is None else scope * share // 10_000
        cii = draw(st.integers(0, scope - bi) | st.integers(0, (scope - bi) // 4))
        insurance = PreSettled(Fen(bi), Fen(cii))
        room = total - bi - cii
    else:
        room = full + partial
        if other_cap_share is not None:
            room = min(room, total * other_cap_share // 100)
    pay_other = draw(st.booleans()) if other is None else other
    other_payments = draw(st.integers(0, max(0, room))) if pay_other else 0
    return Money(full, partial, scope, insurance, other_payments)


# ---------------------------------------------------------------------------- review

# Benefits the desk does not pay that an approved application has the engine compute:
# 杭州 特殊救助 (二(四)), 福建 一次性救助 (9、10), 山西 低收入 住院救助 by application (三(十一)).
ON_REVIEW: dict[str, tuple[Benefit, ...]] = {
    "hangzhou-2023": (Benefit.special_assistance,),
    "fujian-2022": (Benefit.illness_poverty_assistance,),
    "shanxi-2019": (Benefit.medical_assistance,),
}


@st.composite
def reviews(draw: st.DrawFn, policy_id: str) -> tuple[Reviewed, ...]:
    """Mostly nothing; sometimes an approval, with or without an accepted reasonable cost."""
    benefits = ON_REVIEW.get(policy_id, ())
    if not benefits or draw(st.integers(0, 3)) != 0:
        return ()
    b = draw(st.sampled_from(benefits))
    accepted = draw(st.none() | small_fen | st.integers(0, 20_000_000))
    return (Reviewed(b, None if accepted is None else Fen(accepted), "SQ1"),)


# ---------------------------------------------------------------------------- categories


@st.composite
def category_spans(
    draw: st.DrawFn, policy_id: str, year: int, mode: str | None = None
) -> tuple[CategorySpan, ...]:
    """A person's categories in one year.

    ``mode``: ``none`` (no category), ``single`` (one category, open span),
    ``several`` (several at once, 就高不重复), ``change`` (one category until a
    day in the year, another from the next day), ``gap`` (a category that starts
    mid-year and ends before the year does). Drawn when None.
    """
    prec = list(compiled(policy_id).policy.categories.precedence)
    cats = draw(st.sampled_from([prec, prec, category_pool(policy_id)]))
    modes = ["none", "single", "single", "several", "change", "change", "gap"]
    mode = mode or draw(st.sampled_from(modes))
    lo, hi = period(policy_id, year)
    if mode == "none":
        return ()
    if mode == "single":
        return (CategorySpan(draw(st.sampled_from(cats))),)
    if mode == "several":
        chosen = draw(st.lists(st.sampled_from(cats), min_size=2, max_size=4, unique=True))
        return tuple(CategorySpan(c) for c in chosen)
    days = (hi - lo).days
    if mode == "change":
        a, b = draw(st.lists(st.sampled_from(cats), min_size=2, max_size=2, unique=True))
        cut = lo + dt.timedelta(days=draw(st.integers(0, max(0, days - 1))))
        return (
            CategorySpan(a, None, cut),
            CategorySpan(b, cut + dt.timedelta(days=1), None),
        )
    start = lo + dt.timedelta(days=draw(st.integers(0, days)))
    end = start + dt.timedelta(days=draw(st.integers(0, (hi - start).days)))
    return (CategorySpan(draw(st.sampled_from(cats)), start, end),)


@st.composite
def identified(draw: st.DrawFn, policy_id: str) -> tuple[CategorySpan, ...]:
    """An identification on application with the policy's look-back (杭州 支出型, 聊城
    因病致贫重病患者), made in the second of two benefit years so that its window can
    reach into the first; sometimes beside another category held all along."""
    policy = compiled(policy_id).policy
    cat = draw(st.sampled_from(sorted(policy.categories.look_backs)))
    years = YEARS[policy_id]
    year = years[draw(st.integers(1, len(years) - 1))]
    lo, hi = period(policy_id, year)
    ident = lo + dt.timedelta(days=draw(st.integers(0, min(200, (hi - lo).days))))
    applied = ident - dt.timedelta(days=draw(st.integers(0, 45)))
    end = draw(st.sampled_from([None, dt.date(year, 12, 31)]))
    spans = [CategorySpan(cat, ident, end, draw(st.sampled_from([None, applied])))]
    if draw(st.booleans()):
        other = draw(st.sampled_from([c for c in policy.categories.precedence if c != cat]))
        spans.append(CategorySpan(other, None, draw(st.sampled_from([None, ident]))))
    return tuple(spans)


# ---------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class ClaimShape:
    """Restrictions for a scenario; None means "draw it"."""

    visit_types: tuple[VisitType, ...] = tuple(VisitType)
    presettled: bool | None = None
    other: bool | None = None
    referred: bool | None = None
    out_of_area: bool | None = None
    quota_hospital: bool | None = None
    disease: bool = True
    reviewed: bool = True
    """Whether a claim may carry an approved review of a benefit the desk does not pay."""


@st.composite
def claim_for(
    draw: st.DrawFn,
    policy_id: str,
    claim_id: str,
    person_id: str,
    day: dt.date,
    spans: tuple[CategorySpan, ...],
    previous: dt.date | None,
    shape: ClaimShape,
) -> Claim:
    visit = draw(st.sampled_from(shape.visit_types))
    quota_hospital = draw(st.booleans()) if shape.quota_hospital is None else shape.quota_hospital
    share = 29 if policy_id == "shanxi-2019" and quota_hospital else None
    m = draw(money(shape.presettled, shape.other, share))
    # A referral transfer: admitted on the day the previous stay was discharged
    # (福建 起付线连续计算); otherwise some days before discharge.
    if previous is not None and draw(st.booleans()):
        admission = previous
    else:
        admission = day - dt.timedelta(days=draw(st.integers(0, 40)))
    out_of_area = draw(st.booleans()) if shape.out_of_area is None else shape.out_of_area
    referred = draw(st.booleans()) if shape.referred is None else shape.referred
    disease = draw(st.sampled_from(DISEASES)) if shape.disease else None
    reviewed = draw(reviews(policy_id)) if shape.reviewed else ()
    return Claim(
        claim_id=claim_id,
        person_id=person_id,
        visit_type=visit,
        settlement_date=day,
        admission_date=admission,
        hospital_level=draw(st.integers(1, 3)),
        referred=referred,
        total=Fen(m.total),
        full_self_pay=Fen(m.full_self_pay),
        partial_self_pay=Fen(m.partial_self_pay),
        policy_scope=Fen(m.policy_scope),
        categories=spans,
        insurance=m.insurance,
        other_payments=Fen(m.other_payments),
        disease=disease,
        reviewed=reviewed,
        out_of_area=out_of_area,
        out_of_area_filed=draw(st.booleans()) if out_of_area else False,
        quota_hospital=quota_hospital,
        late_stage=draw(st.booleans()),
    )


@st.composite
def person_claims(
    draw: st.DrawFn,
    policy_id: str,
    person_id: str = "p1",
    *,
    shape: ClaimShape = ClaimShape(),
    category_mode: str | None = None,
    categories: tuple[CategorySpan, ...] | None = None,
    min_claims: int = 1,
    max_claims: int = 8,
    distinct_dates: bool = False,
    years: int | None = None,
) -> list[Claim]:
    """One person's claims over one or two benefit years, in settlement-date order.

    The person's categories are drawn per year (so they may differ between
    years) unless ``categories`` fixes them for every year.
    """
    all_years = YEARS[policy_id]
    n_years = years or draw(st.integers(1, 2))
    first = draw(st.integers(0, len(all_years) - n_years))
    chosen_years = all_years[first : first + n_years]
    claims: list[Claim] = []
    n = 0
    previous: dt.date | None = None
    for year in chosen_years:
        spans = (
            categories
            if categories is not None
            else draw(category_spans(policy_id, year, category_mode))
        )
        lo, hi = period(policy_id, year)
        offsets = draw(
            st.lists(
                st.integers(0, (hi - lo).days),
                min_size=min_claims,
                max_size=max_claims,
                unique=distinct_dates,
            )
        )
        for off in sorted(offsets):
            day = lo + dt.timedelta(days=off)
            n += 1
            claims.append(
                draw(
                    claim_for(
                        policy_id, f"{person_id}-c{n}", person_id, day, spans, previous, shape
                    )
                )
            )
            previous = day
    return claims


@st.composite
def population(
    draw: st.DrawFn,
    policy_id: str,
    *,
    max_people: int = 3,
    distinct_dates: bool = False,
    shape: ClaimShape = ClaimShape(),
) -> list[Claim]:
    """Several people's claims, person after person (each in date order)."""
    n_people = draw(st.integers(1, max_people))
    claims: list[Claim] = []
    for i in range(n_people):
        claims += draw(
            person_claims(
                policy_id, f"p{i + 1}", shape=shape, distinct_dates=distinct_dates, max_claims=6
            )
        )
    return claims
