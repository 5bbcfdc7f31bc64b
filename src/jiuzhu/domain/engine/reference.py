"""The reference settlement engine: one claim at a time, every figure explained.

Order (docs/design.md): basic insurance → critical-illness insurance → other
payments → medical assistance → the after-tiers. Each cumulative benefit pays
``F(C_after) - F(C_before)`` of its category's function, limited by what its
caps leave and by what the bill leaves. 就高不重复: every category valid on
the settlement date is tried and the one paying most wins (ties: precedence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.rules import CompiledPolicy, ResolvedSchedule
from jiuzhu.domain.engine.settlement import Line, Settlement
from jiuzhu.domain.engine.state import PersonState, PoolState, YearState
from jiuzhu.domain.money import Fen, apply_rate, format_rate, format_yuan
from jiuzhu.domain.policy.model import (
    BaseKind,
    CumulativeBenefit,
    Exclusion,
    ExclusionKind,
    Policy,
)
from jiuzhu.domain.vocabulary import Benefit, Category

QUOTA_POOL = "major_disease_quota"


class ClaimRejected(Exception):
    """A claim the engine cannot settle; names the claim and the field."""

    def __init__(self, claim_id: str, field_name: str, message: str) -> None:
        super().__init__(f"{claim_id}: {field_name}: {message}")
        self.claim_id = claim_id
        self.field = field_name
        self.message = message


@dataclass(slots=True)
class Trial:
    """A settlement computed under one category, not yet committed to the state."""

    category: Category
    settlement: Settlement
    updates: list[tuple[Benefit, str, int, int]] = field(default_factory=list)
    chain: tuple[dt.date, int] | None = None
    """(settlement date, chained deductible) to remember for the next referral."""

    def assisted(self) -> int:
        s = self.settlement
        return s.paid() - s.amount(Benefit.hospital_borne)


def _y(v: int) -> str:
    return format_yuan(v)


def not_in_force(policy: Policy, claim: Claim) -> ClaimRejected:
    eff = policy.effective
    period = f"{eff.start} 至 {eff.end}" if eff.end else f"{eff.start} 起"
    return ClaimRejected(
        claim.claim_id,
        "settlement_date",
        f"结算日期 {claim.settlement_date} 不在政策 {policy.id} 的有效期（{period}）内",
    )


def other_too_large(claim: Claim, left: int) -> ClaimRejected:
    """Other payments cannot exceed what the insurances left of the bill."""
    return ClaimRejected(
        claim.claim_id,
        "other_payments",
        f"其他支付 {_y(claim.other_payments)} 超过基本医保、大病保险支付后的剩余费用 {_y(left)}",
    )


class ReferenceEngine:
    """Settles claims against one compiled policy; pure apart from the state it is handed."""

    def __init__(self, compiled: CompiledPolicy) -> None:
        self.c = compiled
        self.policy = compiled.policy

    # ------------------------------------------------------------------ entry points
    def settle(self, claim: Claim, state: PersonState) -> Settlement:
        """Settle one claim and commit its effects to ``state``."""
        if claim.claim_id in state.settled_ids:
            raise ClaimRejected(claim.claim_id, "claim_id", "重复的 claim_id：该单据已结算")
        if not self.policy.in_force(claim.settlement_date):
            raise not_in_force(self.policy, claim)
        ystate = state.year(claim.year)
        candidates = self.candidates(claim)
        trials = [self._trial(claim, cat, ystate, state.chain) for cat in candidates]
        best = trials[0]
        for t in trials[1:]:
            if t.assisted() > best.assisted():
                best = t
        self._commit(best, ystate)
        if best.chain is not None:
            state.chain = best.chain
        settlement = best.settlement
        settlement.lines.insert(0, self._category_line(claim, best.category, candidates))
        if self._grant_due(claim, state):
            self._grant(claim, settlement)
            state.grant_paid = True
        state.settled_ids.add(claim.claim_id)
        return settlement

    def explain(
        self,
        claim: Claim,
        category: Category,
        ystate: YearState,
        chain: tuple[dt.date, int] | None,
        grant: bool,
    ) -> Settlement:
        """The settlement of ``claim`` under ``category`` from the accumulators before it.

        How the batch engine's results get their explanation: the same lines,
        from the same code, given the state the batch engine had reached.
        Nothing is committed.
        """
        trial = self._trial(claim, category, ystate, chain)
        settlement = trial.settlement
        settlement.lines.insert(0, self._category_line(claim, category, self.candidates(claim)))
        if grant:
            self._grant(claim, settlement)
        return settlement

    # ------------------------------------------------------------------ categories
    def candidates(self, claim: Claim) -> list[Category]:
        """The categories to try (就高不重复), by the policy's precedence; else ordinary."""
        held = set(claim.categories_on(claim.settlement_date))
        ranked = [c for c in self.policy.categories.precedence if c in held]
        return ranked or [Category.ordinary]

    def _category_line(self, claim: Claim, best: Category, tried: Sequence[Category]) -> Line:
        held = claim.categories_on(claim.settlement_date)
        clause = self.policy.categories.clause
        unknown = [c for c in held if c not in self.policy.categories.precedence]
        text = f"救助对象类别：{best.zh}（结算日 {claim.settlement_date}）"
        if len(tried) > 1:
            names = "、".join(c.zh for c in tried)
            text += f"；同时具有{names}身份，按就高不重复原则按{best.zh}救助"
        if unknown and best is Category.ordinary:
            text += "；所持身份（" + "、".join(c.zh for c in unknown) + "）不属本政策医疗救助对象"
        if not held:
            text = f"结算日 {claim.settlement_date} 无有效救助身份，按普通参保人员结算"
        return Line("category", Fen(0), text, clause)

    # ------------------------------------------------------------------ one category
    def _trial(
        self, claim: Claim, category: Category, ystate: YearState, chain: tuple[dt.date, int] | None
    ) -> Trial:
        s = Settlement(claim.claim_id, claim.person_id, self.policy.id, category, claim.total)
        trial = Trial(category, s)
        excluded = self._exclusions(claim, category)
        if self._quota_applies(claim, category):
            quota_ex = excluded.get(Benefit.major_disease_quota)
            if quota_ex is None:
                self._quota_path(claim, trial, ystate)
                return trial
            s.lines.append(
                Line(
                    Benefit.major_disease_quota.value,
                    Fen(0),
                    f"单病种限额付费不予结算：{quota_ex.text}",
                    quota_ex.clause,
                )
            )
        bi = self._basic(claim, trial, ystate, chain)
        cii = self._critical(claim, trial, ystate, bi)
        other = claim.other_payments
        self._check_other(claim, bi + cii)
        s.amounts[Benefit.other_payments] = other
        if other:
            s.lines.append(
                Line(
                    Benefit.other_payments.value,
                    other,
                    "其他补充医疗保险、商业保险、社会捐赠等先行支付（先保险后救助）",
                )
            )
        burden = claim.policy_scope - bi - cii
        bases: dict[BaseKind, int] = {
            BaseKind.policy_scope_burden: burden,
            BaseKind.policy_scope_burden_after_other: max(0, burden - other),
        }
        for benefit in (
            Benefit.medical_assistance,
            Benefit.re_assistance,
            Benefit.secondary_assistance,
            Benefit.special_assistance,
            Benefit.illness_poverty_assistance,
        ):
            ben = self.c.benefits.get(benefit)
            if ben is None:
                continue
            if benefit is Benefit.re_assistance:
                ma = self.c.benefits[Benefit.medical_assistance]
                bases[BaseKind.burden_after_assistance] = max(
                    0, bases[ma.base] - s.amount(Benefit.medical_assistance)
                )
            bases[BaseKind.all_left] = claim.total - s.paid()
            self._assist(claim, trial, ystate, benefit, ben, bases, excluded.get(benefit))
        return trial

    @staticmethod
    def _check_other(claim: Claim, insured: int) -> None:
        if claim.other_payments > claim.total - insured:
            raise other_too_large(claim, claim.total - insured)

    def _exclusions(self, claim: Claim, category: Category) -> dict[Benefit, Exclusion]:
        out: dict[Benefit, Exclusion] = {}
        for ex in self.policy.exclusions:
            if ex.categories is not None and category not in ex.categories:
                continue
            hit = (ex.kind is ExclusionKind.not_referred and not claim.referred) or (
                ex.kind is ExclusionKind.out_of_area_unfiled
                and claim.out_of_area
                and not claim.out_of_area_filed
            )
            if hit:
                for b in ex.benefits:
                    out.setdefault(b, ex)
        return out

    # ------------------------------------------------------------------ the mechanism
    def _cumulative(
        self,
        trial: Trial,
        ystate: YearState,
        sched: ResolvedSchedule,
        pool: str,
        increment: int,
        left: int,
    ) -> tuple[Fen, str]:
        """Pay the increment of the category's function, within every cap and the bill.

        Returns the amount and the formula that shows how it was reached.
        """
        b = sched.benefit
        ps = ystate.pool(b, pool)
        fn = sched.functions[pool]
        before, after = ps.base, ps.base + increment
        f_before, f_after = fn(before), fn(after)
        amount = f_after - f_before
        per_claim = bool(sched.per_claim_deductibles)
        shared = sched.shared_cap if pool in sched.cap_pools else None
        formula = (
            f"F(C)：{fn.describe(shared, per_claim)}；C {_y(before)} → {_y(after)}；"
            f"F({_y(after)}) − F({_y(before)}) = {_y(f_after)} − {_y(f_before)} = {_y(amount)}"
        )
        if fn.cap is not None and fn.cap - ps.paid < amount:
            amount = max(0, fn.cap - ps.paid)
            formula += f"；本项年度限额 {_y(fn.cap)} 已用 {_y(ps.paid)}，以 {_y(amount)} 为限"
        if sched.shared_cap is not None and pool in sched.cap_pools:
            used = ystate.paid_in(b, sched.cap_pools)
            room = max(0, sched.shared_cap - used)
            if room < amount:
                amount = room
                formula += f"；年度限额 {_y(sched.shared_cap)} 已用 {_y(used)}，以 {_y(room)} 为限"
        if amount > left:
            amount = max(0, left)
            formula += f"；以本次剩余费用 {_y(left)} 为限"
        amount = max(0, amount)
        trial.updates.append((b, pool, increment, amount))
        return Fen(amount), formula

    def _clause(self, sched: ResolvedSchedule) -> str | None:
        if sched.tilt_clause and sched.tilt_clause != sched.clause:
            return f"{sched.clause}；{sched.tilt_clause}"
        return sched.clause

    # ------------------------------------------------------------------ tier 1 and 2
    def _basic(
        self, claim: Claim, trial: Trial, ystate: YearState, chain: tuple[dt.date, int] | None
    ) -> Fen:
        s = trial.settlement
        b = Benefit.basic_insurance
        if claim.insurance is not None:
            amount = claim.insurance.basic_insurance
            s.amounts[b] = amount
            s.lines.append(
                Line(
                    b.value,
                    amount,
                    "基本医疗保险统筹基金支付（医保信息平台已结算，按结算结果计入）",
                )
            )
            return amount
        ben = self.c.benefits[b]
        sched = self.c.schedule(b, trial.category)
        pool = self.c.pool_of(b, claim)
        if sched is None or pool is None:
            s.amounts[b] = Fen(0)
            return Fen(0)
        own = sched.per_claim_deductibles.get(pool, Fen(0))
        deductible, chain_note = self._chained_deductible(claim, trial, chain, ben, own)
        increment = max(0, claim.policy_scope - deductible)
        amount, formula = self._cumulative(
            trial, ystate, sched, pool, increment, claim.policy_scope
        )
        s.amounts[b] = amount
        text = (
            f"基本医疗保险（{claim.visit_type.zh}，{claim.hospital_level}级医院）："
            f"政策范围内费用 {_y(claim.policy_scope)} 减本次起付线 {_y(deductible)}"
            f"{chain_note}，计入年度累计 C"
        )
        s.lines.append(Line(b.value, amount, text, self._clause(sched), Fen(increment), formula))
        return amount

    def _chained_deductible(
        self,
        claim: Claim,
        trial: Trial,
        last: tuple[dt.date, int] | None,
        ben: CumulativeBenefit,
        own: Fen,
    ) -> tuple[Fen, str]:
        chain = ben.referral_chain
        if chain is None or claim.visit_type not in chain.visit_types:
            return own, ""
        paid_before = 0
        if (
            trial.category in chain.categories
            and claim.referred
            and last is not None
            and last[0] == claim.admission_date
        ):
            paid_before = last[1]
        deductible = Fen(max(0, own - paid_before))
        trial.chain = (claim.settlement_date, paid_before + deductible)
        if paid_before:
            note = (
                f"（转诊起付线连续计算：本院起付线 {_y(own)}，转出医院已付 {_y(paid_before)}，"
                f"{chain.clause}）"
            )
            return deductible, note
        return deductible, ""

    def _critical(self, claim: Claim, trial: Trial, ystate: YearState, bi: Fen) -> Fen:
        s = trial.settlement
        b = Benefit.critical_illness_insurance
        if claim.insurance is not None:
            amount = claim.insurance.critical_illness_insurance
            s.amounts[b] = amount
            s.lines.append(
                Line(b.value, amount, "大病保险支付（医保信息平台已结算，按结算结果计入）")
            )
            return amount
        sched = self.c.schedule(b, trial.category)
        pool = self.c.pool_of(b, claim)
        if sched is None or pool is None:
            s.amounts[b] = Fen(0)
            return Fen(0)
        increment = max(0, claim.policy_scope - bi)
        amount, formula = self._cumulative(trial, ystate, sched, pool, increment, increment)
        s.amounts[b] = amount
        tilt = f"（{trial.category.zh}倾斜支付）" if sched.tilt else ""
        text = f"大病保险{tilt}：年度累计基本医保报销后政策范围内个人负担 C（本次 {_y(increment)}）"
        s.lines.append(Line(b.value, amount, text, self._clause(sched), Fen(increment), formula))
        return amount

    # ------------------------------------------------------------------ tier 3 and after
    def _assist(
        self,
        claim: Claim,
        trial: Trial,
        ystate: YearState,
        benefit: Benefit,
        ben: CumulativeBenefit,
        bases: dict[BaseKind, int],
        exclusion: Exclusion | None,
    ) -> None:
        s = trial.settlement
        s.amounts[benefit] = Fen(0)
        sched = self.c.schedule(benefit, trial.category)
        pool = self.c.pool_of(benefit, claim)
        if exclusion is not None or not ben.desk:
            if sched is not None:
                s.lines.append(self._not_paid_line(benefit, ben, sched, exclusion))
            return
        if pool is None:
            if sched is not None:
                s.lines.append(
                    Line(
                        benefit.value,
                        Fen(0),
                        f"{benefit.zh}：{claim.visit_type.zh}费用不在本政策{benefit.zh}保障范围内",
                        ben.clause,
                    )
                )
            return
        if sched is None:
            # The base keeps counting the whole year, whatever the category (docs/design.md).
            trial.updates.append((benefit, pool, bases[ben.base], 0))
            return
        increment = bases[ben.base]
        left = claim.total - s.paid()
        amount, formula = self._cumulative(trial, ystate, sched, pool, increment, left)
        s.amounts[benefit] = amount
        what = sched.text or f"{benefit.zh}（{trial.category.zh}）"
        text = f"{what}；本次计入基数 {_y(increment)}（{_BASE_ZH[ben.base]}）"
        s.lines.append(
            Line(benefit.value, amount, text, self._clause(sched), Fen(increment), formula)
        )

    @staticmethod
    def _not_paid_line(
        benefit: Benefit, ben: CumulativeBenefit, sched: ResolvedSchedule, ex: Exclusion | None
    ) -> Line:
        if ex is not None:
            return Line(
                benefit.value, Fen(0), f"{benefit.zh}不予支付：{ex.text}", ex.clause or sched.clause
            )
        note = ben.review_text or "该项待遇需经审核认定，一站式结算不予支付"
        return Line(benefit.value, Fen(0), f"{benefit.zh}：{note}", sched.clause)

    # ------------------------------------------------------------------ 山西 quota and grant
    def _quota_applies(self, claim: Claim, category: Category) -> bool:
        q = self.policy.benefits.major_disease_quota
        if q is None or (q.requires_quota_hospital and not claim.quota_hospital):
            return False
        if not any(category in sch.categories for sch in q.schedules.values()):
            return False
        return self.c.disease_in(q.disease_list, claim.disease) is not None

    def _quota_path(self, claim: Claim, trial: Trial, ystate: YearState) -> None:
        """山西 (八): within the quota, fund 70%, assistance 20%/10%, patient the rest;
        above it, the hospital."""
        q = self.policy.benefits.major_disease_quota
        assert q is not None
        s = trial.settlement
        disease = self.c.disease_in(q.disease_list, claim.disease)
        assert disease is not None
        quota = self.c.quota_of(disease)
        within = min(claim.total, quota)
        if claim.insurance is not None:
            bi = claim.insurance.basic_insurance
            cii = claim.insurance.critical_illness_insurance
            s.lines.append(
                Line(
                    Benefit.basic_insurance.value,
                    bi,
                    "基本医疗保险支付（医保信息平台已结算，按结算结果计入）",
                )
            )
        else:
            formula = self._linear_formula(
                ystate, Benefit.basic_insurance, within, q.basic_insurance_rate.value
            )
            bi = self._linear(
                trial, ystate, Benefit.basic_insurance, within, q.basic_insurance_rate.value
            )
            cii = Fen(0)
            s.lines.append(
                Line(
                    Benefit.basic_insurance.value,
                    bi,
                    f"单病种限额内费用由城乡居民医保基金支付"
                    f"{format_rate(q.basic_insurance_rate.value)}",
                    q.basic_insurance_rate.clause or q.clause,
                    Fen(within),
                    formula,
                )
            )
        self._check_other(claim, bi + cii)
        s.amounts[Benefit.basic_insurance] = bi
        s.amounts[Benefit.critical_illness_insurance] = cii
        s.amounts[Benefit.other_payments] = claim.other_payments
        # The hospital bears what exceeds the quota, never more than the insurances left.
        excess = min(claim.total - within, claim.total - s.paid())
        s.amounts[Benefit.hospital_borne] = Fen(excess)
        s.lines.append(
            Line(
                Benefit.hospital_borne.value,
                Fen(excess),
                f"{disease}单病种限额 {_y(quota)}：总费用 {_y(claim.total)}，"
                f"超过限额的部分由定点医疗机构承担",
                q.clause,
                Fen(claim.total),
                f"max(0, {_y(claim.total)} − {_y(quota)}) = {_y(claim.total - within)}",
            )
        )
        rate = next(sch for sch in q.schedules.values() if trial.category in sch.categories).rate
        left = claim.total - s.paid()
        formula = self._linear_formula(ystate, Benefit.major_disease_quota, within, rate.value)
        amount = self._linear(trial, ystate, Benefit.major_disease_quota, within, rate.value)
        if amount > left:
            trial.updates[-1] = (Benefit.major_disease_quota, QUOTA_POOL, within, max(0, left))
            amount = Fen(max(0, left))
            formula += f"；以剩余费用 {_y(left)} 为限"
        s.amounts[Benefit.major_disease_quota] = amount
        s.lines.append(
            Line(
                Benefit.major_disease_quota.value,
                amount,
                f"重特大疾病单病种限额付费：{trial.category.zh}限额内费用由医疗救助基金救助"
                f"{rate}（不受医疗救助年度封顶线限制）；余下由患者负担，不再另行医疗救助",
                rate.clause or q.clause,
                Fen(within),
                formula,
            )
        )

    def _linear(self, trial: Trial, ystate: YearState, b: Benefit, inc: int, rate: int) -> Fen:
        ps = ystate.pool(b, QUOTA_POOL)
        amount = apply_rate(ps.base + inc, rate) - apply_rate(ps.base, rate)
        trial.updates.append((b, QUOTA_POOL, inc, amount))
        return Fen(amount)

    def _linear_formula(self, ystate: YearState, b: Benefit, inc: int, rate: int) -> str:
        ps = ystate.pool(b, QUOTA_POOL)
        r = format_rate(rate)
        before, after = ps.base, ps.base + inc
        f_after, f_before = apply_rate(after, rate), apply_rate(before, rate)
        return (
            f"{r}×{_y(after)} − {r}×{_y(before)} = "
            f"{_y(f_after)} − {_y(f_before)} = {_y(f_after - f_before)}"
        )

    def _grant_due(self, claim: Claim, state: PersonState) -> bool:
        """大病关怀: once per person, for a listed disease (late stage where required)."""
        g = self.policy.benefits.critical_care_grant
        if g is None or state.grant_paid:
            return False
        if g.requires_late_stage and not claim.late_stage:
            return False
        held = claim.categories_on(claim.settlement_date)
        if not any(c in g.categories for c in held):
            return False
        return self.c.disease_in(g.disease_list, claim.disease) is not None

    def _grant(self, claim: Claim, settlement: Settlement) -> None:
        g = self.policy.benefits.critical_care_grant
        assert g is not None
        disease = self.c.disease_in(g.disease_list, claim.disease)
        settlement.critical_care_grant = g.amount.value
        settlement.lines.append(
            Line(
                "critical_care_grant",
                g.amount.value,
                f"大病关怀救助：身患{disease}且病情处于晚期，给予一次性救助 {_y(g.amount.value)} 元"
                "（直接发放给本人，不冲抵本次医疗费用）",
                g.amount.clause or g.clause,
            )
        )

    # ------------------------------------------------------------------ state
    def _commit(self, trial: Trial, ystate: YearState) -> None:
        for b, pool, inc, paid in trial.updates:
            ps = ystate.pools.get((b, pool))
            if ps is None:
                ps = ystate.pools[(b, pool)] = PoolState()
            ps.base += inc
            ps.paid += paid


_BASE_ZH: dict[BaseKind, str] = {
    BaseKind.policy_scope_above_deductible: "超过起付线的政策范围内费用",
    BaseKind.policy_scope_after_basic: "基本医保报销后政策范围内个人负担",
    BaseKind.policy_scope_burden: "经基本医保、大病保险报销后政策范围内个人负担",
    BaseKind.policy_scope_burden_after_other: (
        "经基本医保、大病保险及其他补充保险支付后政策范围内个人负担"
    ),
    BaseKind.burden_after_assistance: "三重制度保障后政策范围内个人负担",
    BaseKind.all_left: "前述各项支付后个人负担的医疗总费用（含政策范围外）",
    BaseKind.reasonable_cost: "年度合理医疗费用",
}


def settle_claims(
    compiled: CompiledPolicy, claims: Iterable[Claim]
) -> list[Settlement | ClaimRejected]:
    """Settle many people's claims: each person's in settlement-date order.

    Results come back in input order, so line *i* of the output answers line *i*
    of the input. A rejected claim leaves the person's other claims untouched.
    """
    engine = ReferenceEngine(compiled)
    indexed = list(enumerate(claims))
    order = sorted(indexed, key=lambda ic: (ic[1].person_id, ic[1].settlement_date, ic[0]))
    states: dict[str, PersonState] = {}
    results: dict[int, Settlement | ClaimRejected] = {}
    for i, claim in order:
        state = states.setdefault(claim.person_id, PersonState())
        try:
            results[i] = engine.settle(claim, state)
        except ClaimRejected as err:
            results[i] = err
    return [results[i] for i, _ in indexed]
