"""Chinese names for the parts of a policy: what a person reads instead of a YAML path.

``benefits.medical_assistance.schedules.near_poor.rate`` is a key for programs;
a clerk or an analyst reads ``医疗救助·低保边缘家庭成员及防止返贫监测帮扶对象·比例``.
Names are built from the policy itself (a schedule's ``text`` or its categories,
a pool's visit types and hospital levels), so they follow the file.
"""

from __future__ import annotations

import re

from jiuzhu.domain.policy.model import CumulativeBenefit, Matcher, Policy, Schedule
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType

LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级"}

FIELD_ZH = {
    "rate": "比例",
    "deductible": "起付线",
    "cap": "年度限额",
    "upto": "上限",
    "amount": "金额",
    "premium": "个人缴费标准",
    "months": "追溯月数",
    "counts_from": "追溯起算",
    "period": "追溯期计入年度",
    "deductible_cut": "起付线降低比例",
    "rate_add": "比例提高",
    "remove_cap": "取消封顶",
    "basic_insurance_rate": "医保基金支付比例",
    "quota": "单病种限额",
    "start": "施行日期",
    "end": "截止日期",
    "precedence": "类别顺序",
    "categories": "适用类别",
    "visit_types": "就医类型",
    "cap_pools": "共用限额的费用",
    "kind": "方式",
    "text": "说明",
}

SECTION_ZH = {
    "effective": "施行期",
    "categories": "救助对象",
    "look_backs": "追溯",
    "income_reference": "人均可支配收入",
    "enrolment_subsidy": "资助参保",
    "huiminbao_subsidy": "惠民保个人缴费补助",
    "exclusions": "不予救助",
    "diseases": "病种目录",
}

INCOME_ZH = {
    "per_capita_disposable_income": "上年居民人均可支配收入",
    "province_per_capita_disposable_income": "全省上年居民人均可支配收入",
    "rural_per_capita_disposable_income": "上年农村居民人均可支配收入",
}


def matcher_words(m: Matcher) -> str:
    """``一级医院住院``, ``门诊慢特病（戈谢病等病种）``: the claims one matcher takes."""
    visits = "、".join(v.zh for v in m.visit_types)
    if m.hospital_levels:
        visits = "、".join(LEVEL_ZH[lv] for lv in m.hospital_levels) + "医院" + visits
    if m.diseases:
        visits += "（限目录病种）"
    return visits


def pool_words(ben: CumulativeBenefit, pool: str) -> str:
    return "、".join(dict.fromkeys(matcher_words(m) for m in ben.pools[pool]))


def schedule_words(sched: Schedule) -> str:
    """Whom a schedule is for."""
    if sched.text:
        return sched.text
    if sched.categories:
        return "、".join(c.zh for c in sched.categories)
    return "全体参保人员"


def visit_list(visits: list[VisitType]) -> str:
    return "、".join(v.zh for v in visits)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def param_name(policy: Policy, path: str) -> str:
    """The Chinese name of the value at ``path`` (a ``leaves``/``walk`` path)."""
    steps: list[str | int] = [int(i) if i else name for name, i in _STEP.findall(path)]
    words: list[str] = []
    ben: CumulativeBenefit | None = None
    for i, step in enumerate(steps):
        prev = steps[i - 1] if i else None
        last = i == len(steps) - 1
        if isinstance(step, int):
            if prev == "segments":
                words.append(f"第{step + 1}段")
            elif prev == "items" and steps[0] == "diseases":
                lst = policy.diseases.get(str(steps[1]))
                if lst is not None and step < len(lst.items):
                    words.append(lst.items[step].name)
            continue
        words.append(_step_name(policy, ben, prev, step, last))
        if prev == "benefits":
            found = getattr(policy.benefits, step, None)
            ben = found if isinstance(found, CumulativeBenefit) else None
    return "·".join(w for w in words if w) or path


def _step_name(
    policy: Policy, ben: CumulativeBenefit | None, prev: str | int | None, step: str, last: bool
) -> str:
    """One step of a path in words ("" when the step only leads to the next)."""
    if prev == "benefits":
        if step == "critical_care_grant":
            return "大病关怀救助"
        return Benefit(step).zh if step in Benefit.__members__ else step
    if ben is not None and prev == "schedules" and step in ben.schedules:
        return schedule_words(ben.schedules[step])
    if ben is not None and prev in ("pools", "pool_deductibles") and step in ben.pools:
        return pool_words(ben, step) + ("起付线" if prev == "pool_deductibles" else "")
    if ben is not None and prev == "limits" and step in ben.limits:
        return visit_list(ben.limits[step].visit_types) + "子限额"
    if prev == "schedules":
        for group in _other_schedules(policy):
            if step in group:
                return "、".join(c.zh for c in group[step])
    if prev == "income_reference":
        return INCOME_ZH.get(step, step)
    if prev == "look_backs":
        return Category(step).zh + "追溯" if step in Category.__members__ else step
    if prev == "tilts":
        return "倾斜支付"
    if prev == "diseases":
        return ""
    if last and step in FIELD_ZH:
        return FIELD_ZH[step]
    if step in SECTION_ZH:
        return SECTION_ZH[step]
    if step in _ONLY_LEADS or step == "income_reference":
        return ""
    return step if last else ""


_ONLY_LEADS = {"benefits", "schedules", "pools", "pool_deductibles", "limits", "segments", "items"}


def _other_schedules(policy: Policy) -> list[dict[str, list[Category]]]:
    """Schedules outside the cumulative benefits, by key: their categories."""
    out: list[dict[str, list[Category]]] = []
    if policy.enrolment_subsidy is not None:
        out.append({k: s.categories for k, s in policy.enrolment_subsidy.schedules.items()})
    q = policy.benefits.major_disease_quota
    if q is not None:
        out.append({k: s.categories for k, s in q.schedules.items()})
    return out
