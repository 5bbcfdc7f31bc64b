"""The reference settlement engine: one claim at a time, every figure explained.

Order (docs/design.md): basic insurance → critical-illness insurance → other
payments → medical assistance → the after-tiers. Each cumulative benefit pays
the increment ``F(C_after) - F(C_before)`` of its category's rate function,
limited by what every cap that applies leaves (``cap − paid so far this year
under it``) and by what the bill leaves. 就高不重复: every category the claim
holds on its date is tried and the one that leaves the person the least to pay
wins (ties: the policy's precedence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.eligibility import Held, held_on
from jiuzhu.domain.engine.rules import CompiledPolicy, ResolvedSchedule
from jiuzhu.domain.engine.settlement import Line, Settlement
from jiuzhu.domain.engine.state import PersonState, PoolState, YearState
from jiuzhu.domain.engine.words import benefit_nouns, cap_name, rate_words, schedule_words
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
LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级"}

Ledger = Literal["insurance", "assistance"]
"""Which year's accumulators an update goes to: the claim's own (insurance), or the
benefit period of the category it settles under (assistance; ``Held.period_year``)."""

ASSISTANCE = (
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
)


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

    held: Held
    settlement: Settlement
    updates: list[tuple[Ledger, Benefit, str, int, int]] = field(default_factory=list)
    chain: tuple[dt.date, int] | None = None
    """(settlement date, chained deductible) to remember for the next referral."""

    @property
    def category(self) -> Category:
        return self.held.category


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
        candidates = self.candidates(claim)
        if not candidates:
            raise not_in_force(self.policy, claim)
        empty = YearState()
        trials = [
            self._trial(
                claim,
                h,
                state.years.get(claim.year, empty),
                state.years.get(h.period_year, empty),
                state.chain,
            )
            for h in candidates
        ]
        best = trials[0]
        for t in trials[1:]:
            if t.settlement.paid() > best.settlement.paid():
                best = t
        self._commit(best, state, claim.year)
        if best.chain is not None:
            state.chain = best.chain
        settlement = best.settlement
        self._head_lines(settlement, claim, best.held, candidates)
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
        from the same code, given the state the batch engine had reached
        (``ystate`` holds the claim's own year for the insurance tiers and its
        benefit period for the assistance tiers). Nothing is committed.
        """
        candidates = self.candidates(claim)
        held = next(h for h in candidates if h.category is category)
        trial = self._trial(claim, held, ystate, ystate, chain)
        settlement = trial.settlement
        self._head_lines(settlement, claim, held, candidates)
        if grant:
            self._grant(claim, settlement)
        return settlement

    def years_touched(self, claim: Claim) -> set[int]:
        """The years whose accumulators settling ``claim`` may read or write."""
        return {claim.year, *(h.period_year for h in self.candidates(claim))}

    # ------------------------------------------------------------------ categories
    def candidates(self, claim: Claim) -> list[Held]:
        """The categories to try (就高不重复), by the policy's precedence; else ordinary.

        A claim dated before the policy is in force settles only through a look-back
        of an identification made under it (聊城's 12 months reach before 2022-12-27);
        with none, there is nothing to try (the claim is rejected).
        """
        held = {h.category: h for h in held_on(self.policy, claim, claim.settlement_date)}
        if not self.policy.in_force(claim.settlement_date):
            held = {c: h for c, h in held.items() if h.look_back is not None}
            return [held[c] for c in self.policy.categories.precedence if c in held]
        ranked = [held[c] for c in self.policy.categories.precedence if c in held]
        return ranked or [Held(Category.ordinary, claim.year)]

    def _head_lines(self, s: Settlement, claim: Claim, best: Held, tried: Sequence[Held]) -> None:
        """The lines before the tiers: values in force that differ from the published
        file (if any), then the category applied and why."""
        s.lines.insert(0, self._category_line(claim, best, tried))
        if self.c.changes:
            text = "本结算按调整后的政策取值计算（与发布的政策文件不同）：" + "；".join(
                self.c.changes
            )
            s.lines.insert(0, Line("policy", Fen(0), text))

    def _category_line(self, claim: Claim, best: Held, tried: Sequence[Held]) -> Line:
        held = [h.category for h in held_on(self.policy, claim, claim.settlement_date)]
        clause = self.policy.categories.clause
        unknown = [c for c in held if c not in self.policy.categories.precedence]
        text = f"救助对象类别：{best.category.zh}（结算日 {claim.settlement_date}）"
        if best.look_back is not None:
            lb = best.look_back
            text += (
                f"；{best.identified_on} 认定，本次费用在追溯期 {best.window_start} 至 "
                f"{best.identified_on - dt.timedelta(days=1) if best.identified_on else ''}"
                f" 内（认定前 {lb.months} 个月"
                + ("，自申请之月起算" if lb.counts_from == "application_month" else "")
                + "），纳入救助范围"
            )
            if best.period_year != claim.year:
                text += f"，计入 {best.period_year} 年度的救助待遇和救助限额"
            clause = lb.clause or clause
        if len(tried) > 1:
            names = "、".join(h.category.zh for h in tried)
            text += f"；同时具有{names}身份，按就高不重复原则取个人负担最少的{best.category.zh}救助"
        if unknown and best.category is Category.ordinary:
            text += "；所持身份（" + "、".join(c.zh for c in unknown) + "）不属本政策医疗救助对象"
        if not held:
            text = f"结算日 {claim.settlement_date} 无有效救助身份，按普通参保人员结算"
        return Line("category", Fen(0), text, clause)

    # ------------------------------------------------------------------ one category
    def _trial(
        self,
        claim: Claim,
        held: Held,
        own: YearState,
        period: YearState,
        chain: tuple[dt.date, int] | None,
    ) -> Trial:
        """Settle ``claim`` under ``held``: tiers 1-2 on the claim's own year (``own``),
        the assistance tiers on the category's benefit period (``period``)."""
        category = held.category
        s = Settlement(claim.claim_id, claim.person_id, self.policy.id, category, claim.total)
        trial = Trial(held, s)
        excluded = self._exclusions(claim, category)
        if self._quota_applies(claim, category):
            quota_ex = excluded.get(Benefit.major_disease_quota)
            if quota_ex is None:
                self._quota_path(claim, trial, own)
                return trial
            s.lines.append(
                Line(
                    Benefit.major_disease_quota.value,
                    Fen(0),
                    f"单病种限额付费不予结算：{quota_ex.text}",
                    quota_ex.clause,
                )
            )
        bi = self._basic(claim, trial, own, chain)
        cii = self._critical(claim, trial, own, bi)
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
        for benefit in ASSISTANCE:
            ben = self.c.benefits.get(benefit)
            if ben is None:
                continue
            if benefit is Benefit.re_assistance:
                ma = self.c.benefits[Benefit.medical_assistance]
                bases[BaseKind.burden_after_assistance] = max(
                    0, bases[ma.base] - s.amount(Benefit.medical_assistance)
                )
            bases[BaseKind.all_left] = claim.total - s.paid()
            self._assist(claim, trial, period, benefit, ben, bases, excluded.get(benefit))
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
    def _count(
        self,
        trial: Trial,
        ledger: Ledger,
        benefit: Benefit,
        pool: str,
        claim: Claim,
        increment: int,
        paid: int,
    ) -> None:
        """Add the claim's base and payment to its pool, and to its sub-limit if any."""
        trial.updates.append((ledger, benefit, pool, increment, paid))
        limit = self.c.limit_of(benefit, pool, claim.visit_type)
        if limit is not None:
            trial.updates.append((ledger, benefit, limit, increment, paid))

    def _cumulative(
        self,
        trial: Trial,
        ledger: Ledger,
        ystate: YearState,
        sched: ResolvedSchedule,
        pool: str,
        claim: Claim,
        increment: int,
        left: int,
    ) -> tuple[Fen, str]:
        """Pay the increment of the category's rate function, within every cap and the bill.

        Returns the amount and the formula that shows, in words a clerk can follow,
        how it was reached.
        """
        b = sched.benefit
        ps = ystate.pool(b, pool)
        fn = sched.functions[pool]
        before, after = ps.base, ps.base + increment
        f_before, f_after = fn(before), fn(after)
        amount = f_after - f_before
        _verb, noun = benefit_nouns(ledger == "insurance")
        rule = rate_words(fn, bool(sched.per_claim_deductibles))
        parts = [f"本次计入{b.zh}基数 {_y(increment)} 元，累计 {_y(before)} → {_y(after)} 元"]
        if f_before:
            parts.append(
                f"{rule} 计，累计应付 {_y(f_before)} → {_y(f_after)} 元，本次 {_y(amount)} 元"
            )
        else:
            parts.append(f"{rule} 计 {_y(amount)} 元")
        words = self.c.pool_words[b]
        for cap in sched.caps_for(pool, claim.visit_type):
            used = sum(ystate.pool(b, k).paid for k in cap.keys)
            room = max(0, cap.amount - used)
            text = (
                f"{cap_name(cap, words, noun)} {_y(cap.amount)} 元，本年已支付 {_y(used)} 元，"
                f"剩余 {_y(room)} 元"
            )
            if room < amount:
                amount = room
                text += "，以剩余额为限"
            parts.append(text)
        if amount > left:
            amount = max(0, left)
            parts.append(f"以本次剩余费用 {_y(left)} 元为限")
        amount = max(0, amount)
        parts.append(f"本次支付 {_y(amount)} 元")
        self._count(trial, ledger, b, pool, claim, increment, amount)
        return Fen(amount), "；".join(parts)

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
            trial, "insurance", ystate, sched, pool, claim, increment, claim.policy_scope
        )
        s.amounts[b] = amount
        level = LEVEL_ZH.get(claim.hospital_level, f"{claim.hospital_level}级")
        text = (
            f"基本医疗保险（{claim.visit_type.zh}，{level}医院）："
            f"政策范围内费用 {_y(claim.policy_scope)} 元减本次起付线 {_y(deductible)} 元"
            f"{chain_note}，计入年度累计；"
            + schedule_words(sched, pool, self.c.pool_words[b], *benefit_nouns(True))
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
                f"（转诊起付线连续计算：本院起付线 {_y(own)} 元，"
                f"转出医院已付 {_y(paid_before)} 元，{chain.clause}）"
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
        amount, formula = self._cumulative(
            trial, "insurance", ystate, sched, pool, claim, increment, increment
        )
        s.amounts[b] = amount
        tilt = f"（{trial.category.zh}倾斜支付）" if sched.tilt else ""
        rule = schedule_words(sched, pool, self.c.pool_words[b], *benefit_nouns(True))
        text = f"大病保险{tilt}：{rule}；基数为基本医保报销后政策范围内个人负担的年度累计"
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
        on_review = not ben.desk or (sched is not None and sched.route is not None)
        reviewed = claim.review_of(benefit) if on_review else None
        if exclusion is not None or (on_review and reviewed is None):
            if sched is not None:
                s.lines.append(self._not_paid_line(benefit, ben, sched, exclusion))
            return
        if pool is None:
            if sched is not None:
                s.lines.append(self._out_of_scope_line(claim, benefit, ben))
            return
        left = claim.total - s.paid()
        if ben.base is BaseKind.reasonable_cost:
            # The reasonable cost the reviewer accepted, never more than the bill leaves.
            accepted = left if reviewed is None or reviewed.accepted is None else reviewed.accepted
            increment = max(0, min(accepted, left))
        else:
            increment = bases[ben.base]
        if sched is None:
            # The base keeps counting the whole year, whatever the category (docs/design.md).
            self._count(trial, "assistance", benefit, pool, claim, increment, 0)
            return
        amount, formula = self._cumulative(
            trial, "assistance", ystate, sched, pool, claim, increment, left
        )
        s.amounts[benefit] = amount
        who = sched.text or trial.category.zh
        rule = schedule_words(sched, pool, self.c.pool_words[benefit], *benefit_nouns(False))
        text = f"{benefit.zh}（{who}）：{rule}；救助基数为{_BASE_ZH[ben.base]}"
        if reviewed is not None:
            which = f"（申请 {reviewed.application}）" if reviewed.application else ""
            text = f"经审核批准{which}：{text}"
        s.lines.append(
            Line(benefit.value, amount, text, self._clause(sched), Fen(increment), formula)
        )

    @staticmethod
    def _out_of_scope_line(claim: Claim, benefit: Benefit, ben: CumulativeBenefit) -> Line:
        said = next((u for u in ben.uncovered if claim.visit_type in u.visit_types), None)
        if said is not None:
            return Line(benefit.value, Fen(0), f"{benefit.zh}：{said.text}", said.clause)
        return Line(
            benefit.value,
            Fen(0),
            f"{benefit.zh}：{claim.visit_type.zh}费用不在本政策{benefit.zh}保障范围内",
            ben.clause,
        )

    @staticmethod
    def _not_paid_line(
        benefit: Benefit, ben: CumulativeBenefit, sched: ResolvedSchedule, ex: Exclusion | None
    ) -> Line:
        if ex is not None:
            return Line(
                benefit.value, Fen(0), f"{benefit.zh}不予支付：{ex.text}", ex.clause or sched.clause
            )
        if sched.route is not None:
            text = f"{benefit.zh}：{sched.route.text}，一站式结算不予支付"
            return Line(benefit.value, Fen(0), text, sched.route.clause or sched.clause)
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
        """晋医保发〔2019〕46号 二(八): within the quota, fund 70%, assistance 20%/10%,
        patient the rest; above it, the hospital."""
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
                    f" {format_rate(q.basic_insurance_rate.value)}",
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
                f"{disease}单病种限额 {_y(quota)} 元：总费用 {_y(claim.total)} 元，"
                f"超过限额的部分由定点医疗机构承担",
                q.clause,
                Fen(claim.total),
                f"总费用 {_y(claim.total)} 元超过限额 {_y(quota)} 元的部分 "
                f"{_y(claim.total - within)} 元",
            )
        )
        rate = next(sch for sch in q.schedules.values() if trial.category in sch.categories).rate
        left = claim.total - s.paid()
        formula = self._linear_formula(ystate, Benefit.major_disease_quota, within, rate.value)
        amount = self._linear(trial, ystate, Benefit.major_disease_quota, within, rate.value)
        if amount > left:
            trial.updates[-1] = (
                "insurance",
                Benefit.major_disease_quota,
                QUOTA_POOL,
                within,
                max(0, left),
            )
            amount = Fen(max(0, left))
            formula += f"；以剩余费用 {_y(left)} 元为限"
        s.amounts[Benefit.major_disease_quota] = amount
        s.lines.append(
            Line(
                Benefit.major_disease_quota.value,
                amount,
                f"重特大疾病单病种限额付费：{trial.category.zh}限额内费用由医疗救助基金救助 "
                f"{rate}（不受医疗救助年度限额限制）；余下由患者负担，不再另行医疗救助",
                rate.clause or q.clause,
                Fen(within),
                formula,
            )
        )

    def _linear(self, trial: Trial, ystate: YearState, b: Benefit, inc: int, rate: int) -> Fen:
        ps = ystate.pool(b, QUOTA_POOL)
        amount = apply_rate(ps.base + inc, rate) - apply_rate(ps.base, rate)
        trial.updates.append(("insurance", b, QUOTA_POOL, inc, amount))
        return Fen(amount)

    def _linear_formula(self, ystate: YearState, b: Benefit, inc: int, rate: int) -> str:
        ps = ystate.pool(b, QUOTA_POOL)
        r = format_rate(rate)
        before, after = ps.base, ps.base + inc
        f_after, f_before = apply_rate(after, rate), apply_rate(before, rate)
        return (
            f"本次计入限额内费用 {_y(inc)} 元，累计 {_y(before)} → {_y(after)} 元；"
            f"按 {r} 计，累计应付 {_y(f_before)} → {_y(f_after)} 元，"
            f"本次 {_y(f_after - f_before)} 元"
        )

    def _grant_due(self, claim: Claim, state: PersonState) -> bool:
        """大病关怀: once per person, for a listed disease (late stage where required)."""
        g = self.policy.benefits.critical_care_grant
        if g is None or state.grant_paid:
            return False
        if g.requires_late_stage and not claim.late_stage:
            return False
        held = [h.category for h in held_on(self.policy, claim, claim.settlement_date)]
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
    @staticmethod
    def _commit(trial: Trial, state: PersonState, year: int) -> None:
        years = {"insurance": year, "assistance": trial.held.period_year}
        for ledger, b, pool, inc, paid in trial.updates:
            ystate = state.year(years[ledger])
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
    BaseKind.reasonable_cost: "经审核认定的合理医疗费用（前述各项支付后的个人负担）",
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
