"""Province frameworks: the floors and ceilings a city's policy must respect.

山西 and 福建 write "不低于70%", "原则上不低于15000元", "略低于低保对象",
"起付线降低并统一至上年人均可支配收入的50%". Each is a constraint of a known
kind (the mechanism, here) with its numbers and clause (the data, in
``policies/frameworks/*.yaml``). ``check`` lists every constraint a policy breaks.

A constraint's ``text`` names what it is about; its ``words()`` add the numbers
from its values, so the rule a person reads is the rule that is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from jiuzhu.domain.engine.rules import CompiledPolicy, ResolvedSchedule
from jiuzhu.domain.money import Fen, apply_rate, format_rate, format_yuan
from jiuzhu.domain.policy.model import words_without_numbers
from jiuzhu.domain.policy.model_bases import StrictModel
from jiuzhu.domain.policy.params import MoneyParam, RateParam, cite_clauses
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType

PAYER_ZH = {"province": "省级财政", "city": "市级财政", "county": "县级财政"}


class _Base(StrictModel):
    id: str
    clause: str
    text: str

    @field_validator("text")
    @classmethod
    def _words(cls, v: str) -> str:
        words_without_numbers(v)
        return v

    def words(self) -> str:
        """The rule in full, numbers included (built from the values)."""
        return self.text


def _points(rate: RateParam) -> str:
    """``5%`` added to a rate, as the documents say it: ``5个百分点``."""
    return format_rate(rate.value).removesuffix("%") + "个百分点"


class MinRate(_Base):
    kind: Literal["min_rate"]
    benefit: Benefit
    categories: list[Category]
    min: RateParam
    visit_type: VisitType = VisitType.inpatient

    def words(self) -> str:
        return f"{self.text}不低于{self.min}"


class MaxRateRelative(_Base):
    kind: Literal["max_rate_relative"]
    benefit: Benefit
    categories: list[Category]
    reference: list[Category]
    strict: bool = False
    visit_type: VisitType = VisitType.inpatient


class MinCap(_Base):
    kind: Literal["min_cap"]
    benefit: Benefit
    categories: list[Category]
    min: MoneyParam
    visit_type: VisitType = VisitType.inpatient

    def words(self) -> str:
        return f"{self.text}不低于 {self.min} 元"


class DeductibleIncomeShare(_Base):
    kind: Literal["deductible_income_share"]
    benefit: Benefit
    income: str
    share: RateParam
    op: Literal["eq", "le"] = "eq"
    visit_type: VisitType = VisitType.inpatient

    def words(self) -> str:
        return f"{self.text}{'' if self.op == 'eq' else '不高于'}的{self.share}"


class TiltRule(_Base):
    kind: Literal["tilt"]
    benefit: Benefit
    categories: list[Category]
    deductible_cut: RateParam
    rate_add: RateParam
    remove_cap: bool
    visit_type: VisitType = VisitType.inpatient

    def words(self) -> str:
        cap = "，取消封顶线" if self.remove_cap else ""
        return (
            f"{self.text}实施起付线降低{self.deductible_cut}、"
            f"报销比例提高{_points(self.rate_add)}{cap}"
        )


class SharedCap(_Base):
    kind: Literal["shared_cap"]
    benefit: Benefit
    visit_types: list[VisitType]


class QuotaRates(_Base):
    kind: Literal["quota_rates"]
    basic_insurance_rate: RateParam
    rates: dict[Category, RateParam]

    def words(self) -> str:
        by_rate: dict[int, list[str]] = {}
        for cat, rate in self.rates.items():
            by_rate.setdefault(rate.value, []).append(cat.zh)
        shares = "，".join(f"{'、'.join(c)} {format_rate(r)}" for r, c in by_rate.items())
        fund = f"城乡居民医保基金支付{self.basic_insurance_rate}"
        return f"{self.text}：{fund}，医疗救助基金救助{shares}"


class GrantAmount(_Base):
    kind: Literal["grant_amount"]
    amount: MoneyParam

    def words(self) -> str:
        return f"{self.text} {self.amount} 元"


class SubsidyKind(_Base):
    kind: Literal["subsidy_kind"]
    categories: list[Category]
    subsidy: Literal["full", "fixed"]
    split: dict[str, RateParam] | None = None

    def words(self) -> str:
        if not self.split:
            return self.text
        parts = "、".join(f"{PAYER_ZH.get(k, k)}{v}" for k, v in self.split.items())
        return f"{self.text}，{parts}"


Constraint = Annotated[
    MinRate
    | MaxRateRelative
    | MinCap
    | DeductibleIncomeShare
    | TiltRule
    | SharedCap
    | QuotaRates
    | GrantAmount
    | SubsidyKind,
    Field(discriminator="kind"),
]


class Framework(StrictModel):
    id: str
    name: str
    citation: str
    constraints: list[Constraint] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _cite(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("citation"), str):
            return cite_clauses(data, data["citation"])
        return data


@dataclass(frozen=True, slots=True)
class Violation:
    constraint: str
    clause: str
    text: str
    detail: str


def _pool_for(c: CompiledPolicy, benefit: Benefit, visit: VisitType) -> str | None:
    ben = c.benefits.get(benefit)
    if ben is None:
        return None
    for pool, matchers in ben.pools.items():
        if any(visit in m.visit_types and m.diseases is None for m in matchers):
            return pool
    return None


def _rates(s: ResolvedSchedule, pool: str) -> list[int]:
    return [seg.rate for seg in s.functions[pool].segments]


def _cap(s: ResolvedSchedule, pool: str, visit: VisitType) -> Fen | None:
    """The tightest yearly cap on a claim of ``visit`` in ``pool`` (None: no cap)."""
    known = [c.amount for c in s.caps_for(pool, visit)]
    return Fen(min(known)) if known else None


def _schedules(
    c: CompiledPolicy, benefit: Benefit, cats: list[Category], visit: VisitType
) -> tuple[str | None, list[tuple[Category, ResolvedSchedule | None]]]:
    pool = _pool_for(c, benefit, visit)
    return pool, [(cat, c.schedule(benefit, cat)) for cat in cats]


def _check_one(c: CompiledPolicy, k: Constraint) -> list[str]:
    """Details of each way ``k`` is broken (empty: satisfied)."""
    problems: list[str] = []
    if isinstance(k, MinRate | MaxRateRelative | MinCap | TiltRule):
        pool, scheds = _schedules(c, k.benefit, k.categories, k.visit_type)
        if pool is None:
            return [f"{k.benefit.zh}未覆盖{k.visit_type.zh}费用"]
        for cat, s in scheds:
            if s is None or not s.functions[pool].segments:
                problems.append(f"{cat.zh}：未规定{k.benefit.zh}标准")
                continue
            rates, cap = _rates(s, pool), _cap(s, pool, k.visit_type)
            if isinstance(k, MinRate) and min(rates) < k.min.value:
                problems.append(f"{cat.zh}：比例 {format_rate(min(rates))} 低于 {k.min}")
            if isinstance(k, MinCap) and cap is not None and cap < k.min.value:
                problems.append(f"{cat.zh}：年度限额 {format_yuan(cap)} 低于 {k.min}")
            if isinstance(k, MaxRateRelative):
                refs = [c.schedule(k.benefit, r) for r in k.reference]
                ref_rates = [min(_rates(r, pool)) for r in refs if r is not None]
                if not ref_rates:
                    problems.append(f"参照类别未规定{k.benefit.zh}标准")
                    continue
                floor = min(ref_rates)
                top = max(rates)
                if top > floor or (k.strict and top == floor):
                    word = "须低于" if k.strict else "不得高于"
                    problems.append(
                        f"{cat.zh}：比例 {format_rate(top)} {word}"
                        f"{'、'.join(r.zh for r in k.reference)}的 {format_rate(floor)}"
                    )
            if isinstance(k, TiltRule):
                problems += _tilt_problems(c, k, cat, s, pool)
    elif isinstance(k, DeductibleIncomeShare):
        s = c.schedule(k.benefit, Category.ordinary)
        pool = _pool_for(c, k.benefit, k.visit_type)
        income = c.policy.income_reference.get(k.income)
        if s is None or pool is None or income is None:
            return [f"缺少{k.benefit.zh}标准或 income_reference.{k.income}"]
        target = apply_rate(income.value, k.share.value)
        ded = s.functions[pool].deductible
        if (k.op == "eq" and ded != target) or (k.op == "le" and ded > target):
            word = "应等于" if k.op == "eq" else "不得高于"
            problems.append(
                f"起付线 {format_yuan(ded)} {word} {format_yuan(income.value)} × "
                f"{k.share} = {format_yuan(target)}"
            )
    elif isinstance(k, SharedCap):
        pools = {_pool_for(c, k.benefit, v) for v in k.visit_types}
        if None in pools:
            problems.append(f"{k.benefit.zh}未覆盖全部就医类型")
        elif len(pools) > 1:
            ben = c.benefits[k.benefit]
            for key, sched in ben.schedules.items():
                covered = set(sched.cap_pools or ben.pools)
                if sched.cap is not None and not pools <= covered:
                    problems.append(f"schedules.{key}：年度限额未由门诊和住院共用")
    elif isinstance(k, QuotaRates):
        q = c.policy.benefits.major_disease_quota
        if q is None:
            return ["未规定重特大疾病单病种限额付费"]
        if q.basic_insurance_rate.value != k.basic_insurance_rate.value:
            problems.append(
                f"医保基金支付比例 {q.basic_insurance_rate} 应为 {k.basic_insurance_rate}"
            )
        for cat, rate in k.rates.items():
            got = next((s.rate for s in q.schedules.values() if cat in s.categories), None)
            if got is None or got.value != rate.value:
                problems.append(f"{cat.zh}：医疗救助比例 {got} 应为 {rate}")
    elif isinstance(k, GrantAmount):
        g = c.policy.benefits.critical_care_grant
        if g is None or g.amount.value != k.amount.value:
            problems.append(f"大病关怀救助金额应为 {k.amount}")
    elif isinstance(k, SubsidyKind):
        problems += _subsidy_problems(c, k)
    return problems


def _subsidy_problems(c: CompiledPolicy, k: SubsidyKind) -> list[str]:
    e = c.policy.enrolment_subsidy
    out: list[str] = []
    for cat in k.categories:
        found = [s for s in (e.schedules.values() if e else []) if cat in s.categories]
        if not found or found[0].kind != k.subsidy:
            word = "全额资助" if k.subsidy == "full" else "定额资助"
            out.append(f"{cat.zh}：应{word}参保")
            continue
        split = found[0].split
        if k.split is not None and (
            split is None
            or {p: r.value for p, r in split.items()} != {p: r.value for p, r in k.split.items()}
        ):
            out.append(
                f"{cat.zh}：资金分担比例应为 "
                + "、".join(f"{PAYER_ZH.get(p, p)} {r}" for p, r in k.split.items())
            )
    return out


def _tilt_problems(
    c: CompiledPolicy, k: TiltRule, cat: Category, s: ResolvedSchedule, pool: str
) -> list[str]:
    general = c.schedule(k.benefit, Category.ordinary)
    if general is None:
        return ["缺少普通参保人员标准"]
    g, t = general.functions[pool], s.functions[pool]
    out: list[str] = []
    want_ded = g.deductible - apply_rate(g.deductible, k.deductible_cut.value)
    if t.deductible != want_ded:
        out.append(f"{cat.zh}：起付线 {format_yuan(t.deductible)} 应为 {format_yuan(want_ded)}")
    want_rates = [r + k.rate_add.value for r in _rates(general, pool)]
    if _rates(s, pool) != want_rates:
        out.append(f"{cat.zh}：分段比例应各提高 {k.rate_add}")
    if k.remove_cap and _cap(s, pool, k.visit_type) is not None:
        out.append(f"{cat.zh}：应取消封顶线")
    return out


def check(c: CompiledPolicy, framework: Framework) -> list[Violation]:
    out: list[Violation] = []
    for k in framework.constraints:
        for detail in _check_one(c, k):
            out.append(Violation(k.id, k.clause, k.words(), detail))
    return out
