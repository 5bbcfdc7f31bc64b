"""The policy file, as validated data.

One file per policy version (openfisca-style dated parameters would also work;
our documents are whole texts with one effective period each, so the version
is the file). The structure follows the documents: categories in precedence
order (and the look-backs of those identified on application), cumulative
benefits made of pools (bases), sub-limits and per-category schedules, tilts,
the quota table, the grant, exclusions and enrolment subsidies. Mechanisms live
in ``jiuzhu.domain.engine``; this module only says what a policy may contain.

Words shown to people are built from the values in force (``describe.py``), so
a ``text`` here names who or what a rule is about, never a number: an override
of a rate must not leave the old rate standing in the words beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import field
from enum import StrEnum
from typing import Annotated, Any, Literal

from jiuzhu.domain.policy.checks import Check, Limits, ReadsWhole
from jiuzhu.domain.policy.params import (
    MoneyParam,
    RateParam,
    Sourced,
    Strict,
    cite_clauses,
    no_entries,
    no_items,
    policy_data,
)
from jiuzhu.domain.states import State
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType

_NUMBER = re.compile(r"[0-9０-９%％]")


def words_without_numbers(text: str | None) -> str | None:
    """A ``text`` of a policy file: refused if it writes a number (the values say it)."""
    if text is not None and _NUMBER.search(text):
        raise ValueError(
            f"说明文字不得写数字或比例（{text!r}）：金额和比例由取值生成，"
            "改取值时文字随之改变；请只写适用对象或事项"
        )
    return text


class BaseKind(StrEnum):
    """What a cumulative benefit accumulates over the year (its base C).

    Each is a per-claim increment; the engine sums them per person-year.
    """

    policy_scope_above_deductible = "policy_scope_above_deductible"
    """basic_insurance: policy-scope cost above the per-claim deductible."""
    policy_scope_after_basic = "policy_scope_after_basic"
    """critical_illness_insurance: policy_scope - basic_insurance."""
    policy_scope_burden = "policy_scope_burden"
    """policy_scope - basic_insurance - critical_illness_insurance."""
    policy_scope_burden_after_other = "policy_scope_burden_after_other"
    """policy_scope_burden - other_payments (先保险后救助, other payments first)."""
    burden_after_assistance = "burden_after_assistance"
    """re_assistance: what medical_assistance left of its own base."""
    all_left = "all_left"
    """secondary_assistance: everything still unpaid, out-of-policy cost included."""
    reasonable_cost = "reasonable_cost"
    """special / illness-poverty assistance decided on review: the year's reasonable cost."""


def inpatient_only() -> list[VisitType]:
    """The default of a referral chain's visit types: inpatient stays."""
    return [VisitType.inpatient]


class DeductibleBasis(StrEnum):
    yearly = "yearly"
    per_claim = "per_claim"


@policy_data
class Matcher(Sourced):
    """Which claims fall into a pool: by visit type, optionally level and disease list."""

    visit_types: Annotated[list[VisitType], Limits(min_length=1)]
    hospital_levels: list[Literal[1, 2, 3]] | None = None
    diseases: str | None = None
    """Name of a disease list in ``diseases``: only claims with a listed disease match."""


@policy_data
class SegmentSpec(Strict):
    """A rate up to an upper bound measured above the deductible (``None``: open)."""

    upto: MoneyParam | None = None
    rate: RateParam


@policy_data
class PoolTerms(Sourced):
    """A schedule's terms for one pool, overriding the schedule's defaults."""

    deductible: MoneyParam | None = None
    rate: RateParam | None = None
    segments: list[SegmentSpec] | None = None
    cap: MoneyParam | None = None
    """The pool's own yearly cap (a sub-cap inside the shared cap, 杭州 普通门诊 2万)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rate is not None and self.segments is not None:
            raise ValueError("rate 与 segments 只能写一个")


@policy_data
class Route(Sourced):
    """A schedule sent to the application route (晋医保发〔2019〕46号 三(十一)): the desk pays
    it nothing and says so; an approved application has the engine compute it."""

    text: Annotated[str, Check(words_without_numbers)]


@policy_data
class Schedule(PoolTerms):
    """What a benefit pays one group of categories (或 everyone when ``categories`` is absent)."""

    categories: list[Category] | None = None
    cap_pools: list[str] | None = None
    """Pools the schedule's ``cap`` is shared over (default: all pools)."""
    pools: dict[str, PoolTerms] = field(default_factory=no_entries)
    limits: dict[str, MoneyParam] = field(default_factory=no_entries)
    """The yearly amount of each of the benefit's sub-limits (``CumulativeBenefit.limits``)."""
    route: Route | None = None
    """Set when the schedule is paid on application only, not at the desk."""
    text: Annotated[str | None, Check(words_without_numbers)] = None
    """Whom the schedule is for, in the document's words (no numbers: they are built)."""


@policy_data
class Tilt(Sourced):
    """大病保险倾斜: a transformation of the general schedule for named categories."""

    categories: Annotated[list[Category], Limits(min_length=1)]
    deductible_cut: RateParam | None = None
    """Share by which the deductible is lowered ("降低50%")."""
    rate_add: RateParam | None = None
    """Points added to every segment's rate ("提高5个百分点")."""
    remove_cap: bool = False
    pool_deductibles: dict[str, MoneyParam] = field(default_factory=no_entries)
    """A pool's deductible replaced outright ("取消特药起付线": 0.00)."""


@policy_data
class ReferralChain(Sourced):
    """起付线连续计算: a referred transfer pays only the difference of deductibles."""

    categories: Annotated[list[Category], Limits(min_length=1)]
    visit_types: list[VisitType] = field(default_factory=inpatient_only)


@policy_data
class Limit(Sourced):
    """A sub-limit: a yearly cap on what claims of some visit types in one pool were paid.

    杭州 普通门诊 2万 within the shared 15万: the visit types share the pool's base
    and rate ("同比例救助并共用年度救助限额"), and the sub-limit caps what they
    were paid. It lies inside one pool so that caps nest (limit ⊆ pool ⊆ shared
    cap) and the batch engine's cumulative sums stay exact.
    """

    pool: str
    visit_types: Annotated[list[VisitType], Limits(min_length=1)]


@policy_data
class Uncovered(Sourced):
    """Visit types a benefit does not pay at the desk, said in the file, not by silence.

    晋医保发〔2019〕46号 二(六): the form and amount of 门诊救助 are the city's to set.
    """

    visit_types: Annotated[list[VisitType], Limits(min_length=1)]
    text: Annotated[str, Check(words_without_numbers)]


@policy_data
class CumulativeBenefit(Sourced):
    """A benefit that is a cumulative piecewise-linear function of a yearly base."""

    base: BaseKind
    deductible_basis: DeductibleBasis = DeductibleBasis.yearly
    desk: bool = True
    """False: decided on review, not at the one-stop desk (shown as 0.00 with why)."""
    review_text: Annotated[str | None, Check(words_without_numbers)] = None
    pools: Annotated[dict[str, list[Matcher]], Limits(min_length=1)]
    """The benefit's bases: claims that accumulate into one yearly base (one F per schedule)."""
    limits: dict[str, Limit] = field(default_factory=no_entries)
    uncovered: list[Uncovered] = field(default_factory=no_items)
    schedules: Annotated[dict[str, Schedule], Limits(min_length=1)]
    tilts: dict[str, Tilt] = field(default_factory=no_entries)
    referral_chain: ReferralChain | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        seen: dict[Category, str] = {}
        general = [k for k, s in self.schedules.items() if s.categories is None]
        if len(general) > 1:
            raise ValueError(f"最多一个不限类别的 schedule，得到 {general}")
        for key, sched in self.schedules.items():
            for cat in sched.categories or []:
                if cat in seen:
                    raise ValueError(
                        f"类别 {cat} 同时出现在 schedules.{seen[cat]} 与 schedules.{key}"
                    )
                seen[cat] = key
            for pool in [*sched.pools, *(sched.cap_pools or [])]:
                if pool not in self.pools:
                    raise ValueError(f"schedules.{key} 引用了未定义的 pool {pool!r}")
            if self.desk:
                for pool in self.pools:
                    over = sched.pools.get(pool)
                    has_own = over is not None and (over.rate or over.segments)
                    if sched.rate is None and sched.segments is None and not has_own:
                        raise ValueError(
                            f"schedules.{key} 未给 pool {pool!r} 规定 rate 或 segments"
                        )
        for name, limit in self.limits.items():
            if name in self.pools:
                raise ValueError(f"limits.{name} 与 pool 同名")
            if limit.pool not in self.pools:
                raise ValueError(f"limits.{name} 引用了未定义的 pool {limit.pool!r}")
            covered = {v for m in self.pools[limit.pool] for v in m.visit_types}
            if not set(limit.visit_types) <= covered:
                raise ValueError(f"limits.{name} 的就医类型不在 pool {limit.pool!r} 内")
        taken: dict[VisitType, str] = {}
        for name, limit in self.limits.items():
            for v in limit.visit_types:
                if taken.setdefault(v, name) != name:
                    raise ValueError(f"就医类型 {v} 同时属于 limits.{taken[v]} 与 limits.{name}")
        for key, sched in self.schedules.items():
            for name in sched.limits:
                if name not in self.limits:
                    raise ValueError(f"schedules.{key}.limits 引用了未定义的 limit {name!r}")
        for key, tilt in self.tilts.items():
            for pool in tilt.pool_deductibles:
                if pool not in self.pools:
                    raise ValueError(f"tilts.{key} 引用了未定义的 pool {pool!r}")
        if self.base is BaseKind.policy_scope_above_deductible and (
            self.deductible_basis is not DeductibleBasis.per_claim
        ):
            raise ValueError("base policy_scope_above_deductible 须配 deductible_basis: per_claim")


@policy_data
class Disease(Strict):
    """A disease of a list: its name, the ICD-10 codes it covers, its quota if it has one."""

    name: str
    icd10: list[str] = field(default_factory=no_items)
    quota: MoneyParam | None = None


@policy_data
class DiseaseList(Sourced):
    """A list of diseases a benefit names (病种目录)."""

    items: Annotated[list[Disease], Limits(min_length=1)]


@policy_data
class QuotaSchedule(Sourced):
    """The share of a disease's quota assistance pays for some categories."""

    categories: Annotated[list[Category], Limits(min_length=1)]
    rate: RateParam


@policy_data
class MajorDiseaseQuota(Sourced):
    """山西 重特大疾病单病种最高限额付费: fund, assistance and patient share the quota."""

    disease_list: str
    requires_quota_hospital: bool = True
    basic_insurance_rate: RateParam
    schedules: Annotated[dict[str, QuotaSchedule], Limits(min_length=1)]


@policy_data
class CriticalCareGrant(Sourced):
    """山西 大病关怀救助: a one-off grant per person, not a share of the bill."""

    amount: MoneyParam
    categories: Annotated[list[Category], Limits(min_length=1)]
    disease_list: str
    requires_late_stage: bool = True


class ExclusionKind(StrEnum):
    not_referred = "not_referred"
    out_of_area_unfiled = "out_of_area_unfiled"


@policy_data
class Exclusion(Sourced):
    kind: ExclusionKind
    benefits: Annotated[list[Benefit], Limits(min_length=1)]
    categories: list[Category] | None = None
    text: Annotated[str, Check(words_without_numbers)]
    lifted_on_review: bool = False
    """True: an approved application of the benefit lifts the exclusion (山西 三(十一):
    out-of-area care without 备案 follows the application route)."""


@policy_data
class SubsidySchedule(Sourced):
    categories: Annotated[list[Category], Limits(min_length=1)]
    kind: Literal["full", "fixed"]
    amount: MoneyParam | None = None
    split: dict[str, RateParam] | None = None
    """Who pays the subsidy, e.g. 山西 建档立卡: province 70%, county 30%."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind == "fixed" and self.amount is None:
            raise ValueError("定额资助 (kind: fixed) 须写 amount")
        if self.kind == "full" and self.amount is not None:
            raise ValueError("全额资助 (kind: full) 不写 amount：资助额即个人缴费额")
        if self.split is not None and sum(r.value for r in self.split.values()) != 10_000:
            raise ValueError("split 各方比例之和须为100%")


@policy_data
class EnrolmentSubsidy(Sourced):
    """资助参保: the premium and who is subsidised how much."""

    premium: MoneyParam
    """The resident's individual premium for the year (个人缴费标准)."""
    schedules: Annotated[dict[str, SubsidySchedule], Limits(min_length=1)]


@policy_data
class HuiminbaoSubsidy(Sourced):
    """惠民保 premiums paid for some categories."""

    categories: Annotated[list[Category], Limits(min_length=1)]
    amount: MoneyParam


@policy_data
class LookBack(Sourced):
    """追溯: costs before an identification that the identification still covers.

    杭政办函〔2022〕70号 二(二): 新认定的支出型困难人员 "其被认定前6个月政策范围内
    医疗费用纳入医疗救助范围" (``months: 6``, from the identification date).
    聊城实施方案 四(一): "可追溯至申请之月前12个月，一次身份认定享受一个医疗年度
    （即自然年度）的救助待遇和救助限额" (``months: 12`` from the first day of the
    application month; ``period: identification_year``: the look-back claims join the
    identification's natural year, one deductible and one cap, and the identification
    covers no later year).
    """

    months: Annotated[int, Limits(ge=1, le=36)]
    counts_from: Literal["identification", "application_month"] = "identification"
    period: Literal["natural_year", "identification_year"] = "natural_year"


@policy_data
class DocumentSpec(Strict):
    """One paper of an application's checklist."""

    key: Annotated[str, Limits(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str


@policy_data
class ApplicationKind(Sourced):
    """A kind of application (依申请救助) a document provides for, and what it decides.

    ``decides``: ``identification`` of a ``category`` (with its look-back, 聊城 四(一), 杭州
    二(二)); a ``benefit`` the desk does not pay (特殊救助, 一次性救助, 住院救助 by application);
    or ``scattered_reimbursement`` (零星报销, 茂民规〔2018〕3号 二(四)): a bill settled as the desk
    would, paid to the person. ``states``: the steps of the procedure
    (``policies/procedure/applications.yaml``) this kind goes through.
    """

    name: str
    decides: Literal["identification", "benefit", "scattered_reimbursement"]
    category: Category | None = None
    benefit: Benefit | None = None
    applicants: list[Category] | None = None
    """Who may apply, by the categories they hold (None: anyone insured)."""
    documents: Annotated[list[DocumentSpec], Limits(min_length=1)]
    states: Annotated[list[State], Limits(min_length=2)]
    once_a_year: bool = False
    """聊城 四(一): 一个年度内不得重复申请."""
    payee: Literal["person", "hospital"] = "person"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decides == "identification" and self.category is None:
            raise ValueError("认定类申请须写 category")
        if self.decides == "benefit" and self.benefit is None:
            raise ValueError("待遇类申请须写 benefit")
        if self.states[0] is not State.received:
            raise ValueError("申请的第一步须为 received（受理）")


@policy_data
class Categories(Sourced):
    precedence: Annotated[list[Category], Limits(min_length=1)]
    """The categories this policy assists, most favoured first (ties in 就高不重复)."""
    look_backs: dict[Category, LookBack] = field(default_factory=no_entries)

    def __post_init__(self) -> None:
        super().__post_init__()
        for cat in self.look_backs:
            if cat not in self.precedence:
                raise ValueError(f"look_backs.{cat} 不是本政策救助的类别")


@policy_data
class Effective(Sourced):
    """The period a policy is in force (end None: open)."""

    start: dt.date
    end: dt.date | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.end is not None and self.end < self.start:
            raise ValueError("effective.end 早于 effective.start")


@policy_data
class Benefits(Strict):
    basic_insurance: CumulativeBenefit
    critical_illness_insurance: CumulativeBenefit
    medical_assistance: CumulativeBenefit
    re_assistance: CumulativeBenefit | None = None
    secondary_assistance: CumulativeBenefit | None = None
    special_assistance: CumulativeBenefit | None = None
    illness_poverty_assistance: CumulativeBenefit | None = None
    major_disease_quota: MajorDiseaseQuota | None = None
    critical_care_grant: CriticalCareGrant | None = None

    def cumulative(self) -> list[tuple[Benefit, CumulativeBenefit]]:
        """The cumulative benefits present, in settlement order."""
        out: list[tuple[Benefit, CumulativeBenefit]] = []
        for b in Benefit:
            value = getattr(self, b.value, None)
            if isinstance(value, CumulativeBenefit):
                out.append((b, value))
        return out


def _cite_policy(data: Any) -> Any:
    """A policy file's clauses with its document's citation before each (``cite_clauses``)."""
    if isinstance(data, dict) and isinstance(data.get("citation"), str):
        return cite_clauses(data, data["citation"])
    return data


@policy_data
class Policy(ReadsWhole, Strict):
    """A validated policy file."""

    read_whole = staticmethod(_cite_policy)
    id: Annotated[str, Limits(pattern=r"^[a-z][a-z0-9-]*-[0-9]{4}$")]
    name: str
    jurisdiction: str
    citation: Annotated[str, Limits(min_length=2)]
    """How the document is cited: its number (杭政办函〔2022〕70号) or short name (聊城实施方案)."""
    document: str
    framework: str | None = None
    effective: Effective
    categories: Categories
    diseases: dict[str, DiseaseList] = field(default_factory=no_entries)
    benefits: Benefits
    exclusions: list[Exclusion] = field(default_factory=no_items)
    enrolment_subsidy: EnrolmentSubsidy | None = None
    huiminbao_subsidy: HuiminbaoSubsidy | None = None
    income_reference: dict[str, MoneyParam] = field(default_factory=no_entries)
    """Per-capita disposable incomes the document ties thresholds to (人均可支配收入)."""
    applications: dict[str, ApplicationKind] = field(default_factory=no_entries)

    def __post_init__(self) -> None:
        super().__post_init__()
        lists = set(self.diseases)
        refs: list[tuple[str, str]] = []
        for b, ben in self.benefits.cumulative():
            for pool, matchers in ben.pools.items():
                refs += [(f"benefits.{b}.pools.{pool}", m.diseases) for m in matchers if m.diseases]
        q = self.benefits.major_disease_quota
        if q is not None:
            refs.append(("benefits.major_disease_quota.disease_list", q.disease_list))
            if q.disease_list in self.diseases:
                missing = [d.name for d in self.diseases[q.disease_list].items if d.quota is None]
                if missing:
                    raise ValueError(f"单病种限额表缺少限额 quota：{'、'.join(missing)}")
        g = self.benefits.critical_care_grant
        if g is not None:
            refs.append(("benefits.critical_care_grant.disease_list", g.disease_list))
        for where, name in refs:
            if name not in lists:
                raise ValueError(f"{where} 引用了未定义的病种目录 {name!r}")
        for key, kind in self.applications.items():
            if kind.category is not None and kind.category not in self.categories.precedence:
                raise ValueError(f"applications.{key}: {kind.category} 不是本政策救助的类别")
            if kind.benefit is not None and getattr(self.benefits, kind.benefit.value) is None:
                raise ValueError(f"applications.{key}: 本政策没有 {kind.benefit.value}")

    def in_force(self, day: dt.date) -> bool:
        end = self.effective.end
        return self.effective.start <= day and (end is None or day <= end)
