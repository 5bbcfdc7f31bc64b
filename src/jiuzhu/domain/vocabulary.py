"""The glossary's identifiers (docs/glossary.md) with the documents' Chinese terms.

One vocabulary for code, policy files, the CLI and tests: an identifier not in
these enums is an error at the edge, never a silent "ordinary". People may write the
Chinese name instead (``category_from_text``, ``visit_from_text``): a roster, a claims
table or a claim line saying 低保 means ``dibao``.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Person categories (救助对象类别)."""

    extreme_poor = "extreme_poor"
    orphan = "orphan"
    unsupported_child = "unsupported_child"
    distressed_child = "distressed_child"
    dibao = "dibao"
    returned_to_poverty = "returned_to_poverty"
    near_dibao = "near_dibao"
    monitored = "monitored"
    registered_poor = "registered_poor"
    poverty_alleviated = "poverty_alleviated"
    severe_disability = "severe_disability"
    key_veteran = "key_veteran"
    low_income = "low_income"
    illness_impoverished = "illness_impoverished"
    spending_hardship = "spending_hardship"
    other_special = "other_special"
    ordinary = "ordinary"

    @property
    def zh(self) -> str:
        return CATEGORY_ZH[self]


CATEGORY_ZH: dict[Category, str] = {
    Category.extreme_poor: "特困人员",
    Category.orphan: "孤儿",
    Category.unsupported_child: "事实无人抚养儿童",
    Category.distressed_child: "重点困境儿童",
    Category.dibao: "低保对象",
    Category.returned_to_poverty: "返贫致贫人口",
    Category.near_dibao: "低保边缘家庭成员",
    Category.monitored: "防止返贫监测帮扶对象",
    Category.registered_poor: "建档立卡贫困人口",
    Category.poverty_alleviated: "脱贫人口",
    Category.severe_disability: "二级及以上残疾人证持证人员",
    Category.key_veteran: "在乡重点优抚对象",
    Category.low_income: "低收入救助对象",
    Category.illness_impoverished: "因病致贫重病患者",
    Category.spending_hardship: "因病纳入低保或低边的支出型困难人员",
    Category.other_special: "其他特殊困难人员",
    Category.ordinary: "普通参保人员",
}


# The names rosters and bureaus use for the categories (山西 附件2/3 tick 低保, 特困, 重点优抚),
# besides the Chinese names above and the identifiers.
CATEGORY_ALIASES: dict[str, Category] = {
    "低保": Category.dibao,
    "城乡低保": Category.dibao,
    "城市低保": Category.dibao,
    "农村低保": Category.dibao,
    "最低生活保障家庭成员": Category.dibao,
    "特困": Category.extreme_poor,
    "特困供养人员": Category.extreme_poor,
    "重点优抚": Category.key_veteran,
    "重点优抚对象": Category.key_veteran,
    "低边": Category.near_dibao,
    "低保边缘": Category.near_dibao,
    "建档立卡": Category.registered_poor,
    "低收入": Category.low_income,
}


def category_from_text(text: str) -> Category | None:
    """The category an identifier, its Chinese name or a roster's short name means."""
    value = text.strip()
    if value in CATEGORY_ALIASES:
        return CATEGORY_ALIASES[value]
    for category, zh in CATEGORY_ZH.items():
        if value in (zh, category.value):
            return category
    return None


class VisitType(StrEnum):
    """Visit types (就医类型)."""

    inpatient = "inpatient"
    outpatient_chronic = "outpatient_chronic"
    outpatient_general = "outpatient_general"
    special_drug = "special_drug"

    @property
    def zh(self) -> str:
        return VISIT_ZH[self]


VISIT_ZH: dict[VisitType, str] = {
    VisitType.inpatient: "住院",
    VisitType.outpatient_chronic: "门诊慢特病",
    VisitType.outpatient_general: "普通门诊",
    VisitType.special_drug: "大病保险特药",
}


VISIT_ALIASES: dict[str, VisitType] = {
    "门诊特殊病": VisitType.outpatient_chronic,
    "门诊慢性病": VisitType.outpatient_chronic,
    "门诊特殊疾病": VisitType.outpatient_chronic,
    "门诊慢特病": VisitType.outpatient_chronic,
    "门诊": VisitType.outpatient_general,
    "特药": VisitType.special_drug,
}


def visit_from_text(text: str) -> VisitType | None:
    """The visit type an identifier or its Chinese name means."""
    value = text.strip()
    if value in VISIT_ALIASES:
        return VISIT_ALIASES[value]
    for visit, zh in VISIT_ZH.items():
        if value in (zh, visit.value):
            return visit
    return None


class Benefit(StrEnum):
    """Everything a settlement pays, in settlement order (docs/design.md).

    ``hospital_borne`` is ours, not the glossary's: under 山西's quota payment
    the designated hospital bears the cost above the quota, and a settlement
    must still add up to the bill (docs/glossary.md).
    """

    basic_insurance = "basic_insurance"
    critical_illness_insurance = "critical_illness_insurance"
    other_payments = "other_payments"
    major_disease_quota = "major_disease_quota"
    medical_assistance = "medical_assistance"
    re_assistance = "re_assistance"
    secondary_assistance = "secondary_assistance"
    special_assistance = "special_assistance"
    illness_poverty_assistance = "illness_poverty_assistance"
    hospital_borne = "hospital_borne"

    @property
    def zh(self) -> str:
        return BENEFIT_ZH[self]


BENEFIT_ZH: dict[Benefit, str] = {
    Benefit.basic_insurance: "基本医疗保险",
    Benefit.critical_illness_insurance: "大病保险",
    Benefit.other_payments: "其他补充保险及社会捐赠",
    Benefit.major_disease_quota: "重特大疾病单病种限额付费医疗救助",
    Benefit.medical_assistance: "医疗救助",
    Benefit.re_assistance: "再救助",
    Benefit.secondary_assistance: "二次医疗救助",
    Benefit.special_assistance: "特殊救助",
    Benefit.illness_poverty_assistance: "因病致贫重病患者医疗救助",
    Benefit.hospital_borne: "定点医疗机构承担（超限额部分）",
}

GRANT_ZH = "大病关怀救助"
PERSONAL_ZH = "个人负担"
