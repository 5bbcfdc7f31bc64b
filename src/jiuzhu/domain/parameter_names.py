"""A policy parameter named as a person reads it, from its path in the policy file.

``benefits.medical_assistance.schedules.near_poor.rate`` is what ``--set`` takes and the
JSON keeps; an analyst reading a simulation wants 「医疗救助 · 低保边缘家庭成员、防止返贫监测
帮扶对象 · 救助比例」. The names are built from the policy itself (a schedule by the
categories it covers, a pool by its visit types and hospital levels, a disease by its
name), so a renamed key or a new schedule needs no table here; only the words for the
fields of the policy format are listed. A path this does not understand keeps its last
words as they are, so nothing is ever hidden.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.vocabulary import GRANT_ZH, Benefit

SEPARATOR = " · "
LEVEL_ZH = {1: "一级医院", 2: "二级医院", 3: "三级医院"}

FIELD_ZH = {
    "rate": "比例",
    "deductible": "起付线",
    "cap": "年度限额",
    "cap_pools": "共用年度限额的费用",
    "categories": "适用对象",
    "text": "说明文字",
    "upto": "分段上限",
    "deductible_cut": "倾斜：起付线降低",
    "rate_add": "倾斜：比例提高",
    "remove_cap": "倾斜：取消封顶",
    "pool_deductibles": "倾斜：起付线",
    "base": "计算基数",
    "deductible_basis": "起付线计算方式",
    "desk": "一站式结算支付",
    "review_text": "审核说明",
    "visit_types": "就医类型",
    "hospital_levels": "医院等级",
    "diseases": "病种",
    "basic_insurance_rate": "医保基金支付比例",
    "disease_list": "病种目录",
    "requires_quota_hospital": "限定定点医院",
    "requires_late_stage": "限晚期",
    "amount": "金额",
    "premium": "个人缴费标准",
    "kind": "资助方式",
    "split": "分担",
    "county": "县级",
    "province": "省级",
    "city": "市级",
    "quota": "限额",
    "icd10": "疾病编码",
    "name": "名称",
    "precedence": "就高不重复顺序",
    "start": "施行日期",
    "end": "截止日期",
    "province_per_capita_disposable_income": "全省居民人均可支配收入",
    "rural_per_capita_disposable_income": "农村居民人均可支配收入",
    "benefits": "待遇",
    "exclusions": "不予救助情形",
    "referral_chain": "转诊起付线连续计算",
}
TOP_ZH = {
    "id": "政策编号",
    "name": "政策名称",
    "jurisdiction": "适用地区",
    "document": "政策文件",
    "framework": "省级框架",
}
EXCLUSION_ZH = {"kind": "情形", "text": "说明", "benefits": "不予支付的待遇"}
SCHEDULE_ZH = {
    "resident": "城乡居民医保",
    "employee": "职工医保",
    "rural": "农村居民",
    "urban": "城镇居民",
}
"""Schedules that cover everyone, named by the insurance they belong to (no categories)."""
SECTION_ZH = {
    "enrolment_subsidy": "资助参保",
    "huiminbao_subsidy": "惠民保个人缴费补助",
    "categories": "救助对象",
    "effective": "有效期",
    "income_reference": "收入参照",
    "diseases": "病种目录",
}
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(i) if i else name for name, i in _STEP.findall(path)]


def _child(node: Any, step: str | int) -> Any:
    if node is None:
        return None
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, BaseModel):
        return getattr(node, step, None)
    return None


def _categories(node: Any) -> str | None:
    cats = getattr(node, "categories", None)
    if cats:
        return "、".join(c.zh for c in cats)
    return None


def _pool(benefit: Any, key: str) -> str:
    """A pool by what falls into it: 住院（一级医院）, 门诊慢特病 …"""
    matchers = (getattr(benefit, "pools", None) or {}).get(key)
    if not matchers:
        return key
    words = []
    for m in matchers:
        visits = "、".join(v.zh for v in m.visit_types)
        levels = "、".join(LEVEL_ZH[lv] for lv in m.hospital_levels or [])
        words.append(f"{visits}（{levels}）" if levels else visits)
    return "；".join(dict.fromkeys(words))


def parameter_name(policy: Policy, path: str) -> str:
    """The Chinese name of the parameter at ``path`` of ``policy``."""
    steps = _steps(path)
    words: list[str] = []
    node: Any = policy
    benefit: Any = None
    benefit_key = ""
    i = 0
    while i < len(steps):
        step = steps[i]
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        if step == "benefits" and isinstance(nxt, str):
            benefit, benefit_key = _child(policy.benefits, nxt), nxt
            words.append(GRANT_ZH if nxt == "critical_care_grant" else _benefit_zh(nxt))
            node, i = benefit, i + 2
            continue
        if step in ("schedules", "tilts") and isinstance(nxt, str):
            node = _child(_child(node, step), nxt)
            everyone = SCHEDULE_ZH.get(nxt, "全体参保人员") if step == "schedules" else nxt
            words.append(_categories(node) or everyone)
            i += 2
            continue
        if step == "pools" and isinstance(nxt, str):
            words.append(_pool(benefit, nxt))
            node, i = _child(_child(node, step), nxt), i + 2
            after = steps[i] if i < len(steps) else None
            if isinstance(after, int) and isinstance(node, list) and len(node) == 1:
                node, i = node[0], i + 1  # the pool's only matcher: no "第1项"
            continue
        if step == "pool_deductibles" and isinstance(nxt, str):
            words += [FIELD_ZH[step], _pool(benefit, nxt)]
            node, i = None, i + 2
            continue
        if step == "segments" and isinstance(nxt, int):
            words.append(f"第{nxt + 1}段")
            node, i = _child(_child(node, step), nxt), i + 2
            continue
        if step == "diseases" and i == 0 and isinstance(nxt, str):
            words.append(SECTION_ZH["diseases"])
            node, i = _child(policy.diseases, nxt), i + 2
            continue
        if step == "items" and isinstance(nxt, int):
            item = _child(_child(node, step), nxt)
            words.append(getattr(item, "name", None) or f"第{nxt + 1}项")
            node, i = item, i + 2
            continue
        if i == 0 and isinstance(step, str) and step in TOP_ZH:
            words.append(TOP_ZH[step])
        elif i == 0 and isinstance(step, str) and step in SECTION_ZH:
            words.append(SECTION_ZH[step])
        elif steps[0] == "exclusions" and isinstance(step, str) and step in EXCLUSION_ZH:
            words.append(EXCLUSION_ZH[step])
        elif step == "rate" and benefit_key:
            insured = benefit_key in (Benefit.basic_insurance, Benefit.critical_illness_insurance)
            words.append("支付比例" if insured else "救助比例")
        elif isinstance(step, int):
            words.append(f"第{step + 1}项")
        else:
            words.append(FIELD_ZH.get(step, step))
        node = _child(node, step)
        i += 1
    return SEPARATOR.join(words)


def _benefit_zh(key: str) -> str:
    try:
        return Benefit(key).zh
    except ValueError:
        return key
