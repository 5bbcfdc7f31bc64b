"""A policy in words: what ``policy show`` prints and a policy page will show.

Everything is built from the compiled values (``engine.words``), in the documents'
terms: categories, visit types and pools by their Chinese names, each rule with its
clause, each assumed value with its note (once). No identifier of the file reaches
the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from jiuzhu.domain.engine.rules import CompiledPolicy, ResolvedSchedule
from jiuzhu.domain.engine.words import benefit_nouns, caps_words, rate_words, yuan
from jiuzhu.domain.policy.audit import walk
from jiuzhu.domain.policy.model import CumulativeBenefit, Policy, Schedule
from jiuzhu.domain.policy.names import matcher_words, param_name, pool_words
from jiuzhu.domain.vocabulary import Benefit, Category

BASE_ZH = {
    "policy_scope_above_deductible": "每次政策范围内费用减起付线",
    "policy_scope_after_basic": "基本医保报销后政策范围内个人负担的年度累计",
    "policy_scope_burden": "经基本医保、大病保险报销后政策范围内个人负担的年度累计",
    "policy_scope_burden_after_other": (
        "经基本医保、大病保险及其他补充保险支付后政策范围内个人负担的年度累计"
    ),
    "burden_after_assistance": "三重制度保障后政策范围内个人负担的年度累计",
    "all_left": "前述各项支付后个人负担的医疗总费用（含政策范围外）的年度累计",
    "reasonable_cost": "年度合理医疗费用（审核认定）",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One sentence of a section, with the clause it comes from."""

    text: str
    clause: str | None = None
    assumed: bool = False


@dataclass(slots=True)
class Section:
    title: str
    clause: str | None = None
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Param:
    """A value of the file: its Chinese name, value, clause and (if assumed) note number."""

    name: str
    value: str
    clause: str | None
    note: int | None


@dataclass(frozen=True, slots=True)
class Summary:
    heading: list[str]
    sections: list[Section]
    params: list[Param]
    notes: list[str]
    """Each distinct note of an assumed value, once; ``Param.note`` indexes it (1-based)."""


_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef])")


def unfold(text: str) -> str:
    """A folded YAML note joins its lines with spaces; between Chinese characters they are
    stray (``按低边 标准``), between Latin words they stay."""
    return _CJK_GAP.sub("", text)


def _who(sched: Schedule) -> str:
    """Whom a schedule is for: its words, and the categories when the words name others."""
    cats = [c.zh for c in sched.categories] if sched.categories else ["全体参保人员"]
    if not sched.text:
        return "、".join(cats)
    if all(c in sched.text for c in cats):
        return sched.text
    return f"{sched.text}（{'、'.join(cats)}）"


def _category_of(sched: Schedule) -> Category:
    return sched.categories[0] if sched.categories else Category.ordinary


def _schedule_rules(
    c: CompiledPolicy, b: Benefit, ben: CumulativeBenefit, key: str, sched: Schedule
) -> list[Rule]:
    resolved = c.schedule(b, _category_of(sched))
    assumed = sched.assumed or ben.assumed
    if resolved is None:
        return []
    verb, noun = benefit_nouns(b in (Benefit.basic_insurance, Benefit.critical_illness_insurance))
    words = c.pool_words[b]
    fns = {p: resolved.functions[p] for p in ben.pools}
    per_claim = bool(resolved.per_claim_deductibles)
    if len(set(fns.values())) == 1 and not per_claim:
        rate = rate_words(next(iter(fns.values())), verb=verb)
        body = f"{rate}，{caps_words(resolved, words, noun)}"
        return [Rule(f"{_who(sched)}：{body}", sched.clause or ben.clause, assumed)]
    parts = [_pool_rate(resolved, p, pool_words(ben, p), verb) for p in ben.pools]
    body = "；".join(parts) + f"；{caps_words(resolved, words, noun)}"
    return [Rule(f"{_who(sched)}：{body}", sched.clause or ben.clause, assumed)]


def _pool_rate(resolved: ResolvedSchedule, pool: str, name: str, verb: str) -> str:
    fn = resolved.functions[pool]
    ded = resolved.per_claim_deductibles.get(pool)
    rate = rate_words(fn, ded is not None, verb)
    if ded is not None:
        return f"{name}起付线 {yuan(ded)}（每次），{rate}"
    return f"{name}{rate}"


def _benefit_section(c: CompiledPolicy, b: Benefit, ben: CumulativeBenefit) -> Section:
    title = b.zh + ("（审核认定，一站式结算不予支付）" if not ben.desk else "")
    sec = Section(title, ben.clause)
    pools = "；".join(
        "、".join(dict.fromkeys(matcher_words(m) for m in matchers))
        for matchers in ben.pools.values()
    )
    base = BASE_ZH[ben.base.value]
    shared = "（共用一个年度累计基数）" if len(ben.pools) == 1 and len(_visits(ben)) > 1 else ""
    sec.rules.append(Rule(f"基数：{base}；适用费用：{pools}{shared}"))
    if not ben.desk and ben.review_text:
        sec.rules.append(Rule(ben.review_text))
    for key, sched in ben.schedules.items():
        sec.rules += _schedule_rules(c, b, ben, key, sched)
    for tilt in ben.tilts.values():
        parts = []
        if tilt.deductible_cut is not None:
            parts.append(f"起付线降低 {tilt.deductible_cut}")
        if tilt.rate_add is not None:
            parts.append(f"比例提高 {str(tilt.rate_add).removesuffix('%')} 个百分点")
        if tilt.remove_cap:
            parts.append("取消封顶线")
        for pool, amount in tilt.pool_deductibles.items():
            parts.append(f"{pool_words(ben, pool)}起付线 {yuan(amount.value)}")
        cats = "、".join(x.zh for x in tilt.categories)
        sec.rules.append(Rule(f"倾斜支付：{cats}{'、'.join(parts)}", tilt.clause))
    for u in ben.uncovered:
        visits = "、".join(v.zh for v in u.visit_types)
        sec.rules.append(Rule(f"{visits}：{u.text}", u.clause))
    if ben.referral_chain is not None:
        rc = ben.referral_chain
        cats = "、".join(x.zh for x in rc.categories)
        sec.rules.append(Rule(f"{cats}按规定转诊的，起付线连续计算", rc.clause))
    return sec


def _visits(ben: CumulativeBenefit) -> set[str]:
    return {v.value for matchers in ben.pools.values() for m in matchers for v in m.visit_types}


def _categories_section(policy: Policy) -> Section:
    cats = policy.categories
    sec = Section("救助对象", cats.clause)
    order = "、".join(c.zh for c in cats.precedence)
    sec.rules.append(
        Rule(f"{order}；同时具有多种身份的就高不重复，取个人负担最少者，相同时按此顺序")
    )
    for cat, lb in cats.look_backs.items():
        start = "申请之月" if lb.counts_from == "application_month" else "认定"
        period = (
            "，追溯期费用与认定后费用计入认定当年，共用一个起付线和年度救助限额，一次认定享受一个自然年度"
            if lb.period == "identification_year"
            else "，各笔费用计入其发生的年度"
        )
        sec.rules.append(
            Rule(
                f"追溯：{cat.zh}，{start}前 {lb.months} 个月的政策范围内费用纳入救助{period}",
                lb.clause,
            )
        )
    return sec


def _quota_section(policy: Policy) -> Section | None:
    q = policy.benefits.major_disease_quota
    if q is None:
        return None
    sec = Section(Benefit.major_disease_quota.zh, q.clause)
    shares = "；".join(
        "、".join(c.zh for c in s.categories) + f"救助 {s.rate}" for s in q.schedules.values()
    )
    sec.rules.append(
        Rule(
            f"单病种限额内费用由城乡居民医保基金支付 {q.basic_insurance_rate}，{shares}；"
            "超过限额部分由定点医疗机构承担"
            + ("（限单病种限额付费定点医院）" if q.requires_quota_hospital else "")
        )
    )
    for d in policy.diseases[q.disease_list].items:
        codes = "、".join(d.icd10) or "无编码"
        amount = "" if d.quota is None else f"限额 {yuan(d.quota.value)}"
        sec.rules.append(
            Rule(f"{d.name}（{codes}）{amount}", None, bool(d.quota and d.quota.assumed))
        )
    return sec


def _other_sections(policy: Policy) -> Iterable[Section]:
    g = policy.benefits.critical_care_grant
    if g is not None:
        cats = "、".join(c.zh for c in g.categories)
        stage = "病情处于晚期的" if g.requires_late_stage else ""
        yield Section(
            "大病关怀救助",
            g.clause,
            [Rule(f"{cats}患目录病种{stage}，一次性救助 {yuan(g.amount.value)}（每人一次）")],
        )
    if policy.exclusions:
        sec = Section("不予救助")
        for ex in policy.exclusions:
            which = "、".join(Benefit(b).zh for b in ex.benefits)
            sec.rules.append(Rule(f"{ex.text}（{which}）", ex.clause))
        yield sec
    e = policy.enrolment_subsidy
    if e is not None:
        sec = Section(f"资助参保（个人缴费 {yuan(e.premium.value)}）", e.clause)
        for s in e.schedules.values():
            kind = (
                "全额资助"
                if s.kind == "full"
                else f"定额资助 {yuan(s.amount.value)}"
                if s.amount
                else "定额资助"
            )
            if s.split:
                kind += "，" + "、".join(f"{_payer(k)} {v}" for k, v in s.split.items())
            sec.rules.append(
                Rule(f"{'、'.join(c.zh for c in s.categories)}：{kind}", s.clause, s.assumed)
            )
        yield sec
    h = policy.huiminbao_subsidy
    if h is not None:
        cats = "、".join(c.zh for c in h.categories)
        yield Section(
            "惠民保个人缴费补助",
            h.clause,
            [Rule(f"{cats}：补助 {yuan(h.amount.value)}", None, h.amount.assumed)],
        )


def _payer(key: str) -> str:
    return {"province": "省级财政", "city": "市级财政", "county": "县级财政"}.get(key, key)


def summarize(c: CompiledPolicy) -> Summary:
    policy = c.policy
    end = f"至 {policy.effective.end}" if policy.effective.end else "起施行"
    heading = [
        f"{policy.name}（{policy.id}）",
        policy.document,
        f"{policy.jurisdiction}　{policy.effective.start} {end}　引用：{policy.citation}",
    ]
    sections = [_categories_section(policy)]
    sections += [_benefit_section(c, b, ben) for b, ben in policy.benefits.cumulative()]
    quota = _quota_section(policy)
    if quota is not None:
        sections.append(quota)
    sections += list(_other_sections(policy))
    notes: list[str] = []
    params: list[Param] = []
    for info in walk(policy):
        note = None
        if info.assumed and info.note:
            text = unfold(info.note)
            if text not in notes:
                notes.append(text)
            note = notes.index(text) + 1
        params.append(Param(param_name(policy, info.path), str(info.param), info.clause, note))
    return Summary(heading, sections, params, notes)
