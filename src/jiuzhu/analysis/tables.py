"""A simulation as tables of Chinese text: one source for the terminal and the HTML report.

Why strings here: the terminal (rich) and the report (HTML) must show the same
figures with the same headings and the same rounding; building the rows once
keeps them from drifting apart. Money is formatted from integer fen (two
decimals, a sign on changes); rates from exact ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhu.analysis.simulation import (
    Bucket,
    Distribution,
    Pair,
    PersonChange,
    RatioPair,
    Simulation,
)
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.vocabulary import GRANT_ZH, PERSONAL_ZH, Benefit

BASELINE_ZH = "现行政策"
REFORM_ZH = "改革方案"
DELTA_ZH = "变化"
ASSISTED_ZH = "救助对象"
EVERYONE_ZH = "全体参保人员"


@dataclass(frozen=True)
class TextTable:
    """A titled table; ``numeric`` marks the columns to right-align."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: frozenset[int]
    note: str = ""


def signed_yuan(fen: int) -> str:
    """A change of money: ``+12.34``, ``-12.34`` or ``0.00``."""
    return ("+" if fen > 0 else "") + format_yuan(fen)


def signed(n: int) -> str:
    return ("+" if n > 0 else "") + str(n)


def money_row(name: str, p: Pair) -> list[str]:
    return [name, format_yuan(p.baseline), format_yuan(p.reform), signed_yuan(p.delta)]


def _count(p: Pair) -> str:
    return str(p.baseline) if p.baseline == p.reform else f"{p.baseline} → {p.reform}"


def _rate_row(name: str, r: RatioPair) -> list[str]:
    points = r.delta_points()
    return [
        name,
        r.baseline.percent(),
        r.reform.percent(),
        f"{points} 个百分点" if points != "—" else points,
    ]


def bucket_label(b: Bucket) -> str:
    lo = format_yuan(b.lower).removesuffix(".00")
    if b.upper is None:
        return f"{lo} 以上"
    return f"{lo} – {format_yuan(b.upper).removesuffix('.00')}"


def changes_table(sim: Simulation) -> TextTable:
    rows = [[c.path, c.baseline or "—", c.reform or "—", c.clause] for c in sim.changes]
    return TextTable(
        "changes",
        "改革内容：与现行政策不同的取值",
        ["位置", BASELINE_ZH, REFORM_ZH, "条款"],
        rows,
        frozenset(),
        note="" if rows else "改革方案与现行政策相同：各项变化均应为 0。",
    )


def spending_table(sim: Simulation) -> TextTable:
    """Each tier's spending: what the reform costs, and who (which fund) pays it."""
    rows = [["医疗总费用", format_yuan(sim.total), format_yuan(sim.total), "0.00"]]
    for b in Benefit:
        p = sim.spending[b]
        if p.baseline or p.reform:
            rows.append(money_row(b.zh, p))
    if sim.grant.baseline or sim.grant.reform:
        rows.append(money_row(f"{GRANT_ZH}（另行发放）", sim.grant))
    rows.append(money_row("救助支出合计", sim.assistance))
    rows.append(money_row(PERSONAL_ZH, sim.personal))
    return TextTable(
        "spending",
        "各项待遇支出（元）",
        ["项目", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        frozenset({1, 2, 3}),
        note="救助支出合计：医疗救助、再救助、二次医疗救助、特殊救助、因病致贫重病患者医疗救助"
        "与单病种限额付费医疗救助之和。",
    )


def category_table(sim: Simulation) -> TextTable:
    """Spending and burden by the category each claim was settled under (就高不重复)."""
    rows = []
    for r in sim.by_category:
        rows.append(
            [
                r.category.zh,
                _count(r.persons),
                _count(r.claims),
                format_yuan(r.assistance.baseline),
                format_yuan(r.assistance.reform),
                signed_yuan(r.assistance.delta),
                format_yuan(r.personal.baseline),
                format_yuan(r.personal.reform),
                signed_yuan(r.personal.delta),
            ]
        )
    return TextTable(
        "by_category",
        "按救助身份（结算时适用的类别）：救助支出与个人负担（元）",
        [
            "救助身份",
            "人数",
            "人次",
            f"救助支出·{BASELINE_ZH}",
            f"救助支出·{REFORM_ZH}",
            f"救助支出·{DELTA_ZH}",
            f"个人负担·{BASELINE_ZH}",
            f"个人负担·{REFORM_ZH}",
            f"个人负担·{DELTA_ZH}",
        ],
        rows,
        frozenset(range(1, 9)),
    )


def indicator_table(sim: Simulation) -> TextTable:
    b = sim.beneficiaries
    moved = f"（新增 {sim.new_beneficiaries} 人，减少 {sim.lost_beneficiaries} 人）"
    rows = [["救助受益人数（人）", str(b.baseline), str(b.reform), signed(b.delta) + moved]]
    for group, name in (("everyone", EVERYONE_ZH), ("assisted", ASSISTED_ZH)):
        ind = sim.indicators[group]
        rows.append(_rate_row(f"医疗费用综合保障率（{name}）", ind.protection))
        rows.append(_rate_row(f"医疗费用个人负担率（{name}）", ind.burden))
    return TextTable(
        "indicators",
        "受益人数与保障水平",
        ["指标", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        frozenset({1, 2, 3}),
        note="综合保障率 =（各项保险、救助及其他支付）÷ 医疗总费用；个人负担率 = 个人负担 ÷ "
        "医疗总费用。救助对象：按救助身份（非普通参保人员）结算的单据。",
    )


_QUANTILE_ZH = {
    "P50": "中位数",
    "P75": "第75百分位数",
    "P90": "第90百分位数",
    "P95": "第95百分位数",
    "P99": "第99百分位数",
    "mean": "平均",
    "max": "最高",
}


def quantile_table(sim: Simulation) -> TextTable:
    ev, asd = sim.distribution["everyone"], sim.distribution["assisted"]
    rows = []
    for key, name in _QUANTILE_ZH.items():
        e, a = ev.quantiles[key], asd.quantiles[key]
        rows.append(
            [
                name,
                format_yuan(e.baseline),
                format_yuan(e.reform),
                format_yuan(a.baseline),
                format_yuan(a.reform),
                signed_yuan(a.delta),
            ]
        )
    return TextTable(
        "quantiles",
        f"个人年度负担（元/人）：{EVERYONE_ZH} {ev.persons} 人，{ASSISTED_ZH} {asd.persons} 人",
        [
            "统计量",
            f"全体·{BASELINE_ZH}",
            f"全体·{REFORM_ZH}",
            f"{ASSISTED_ZH}·{BASELINE_ZH}",
            f"{ASSISTED_ZH}·{REFORM_ZH}",
            f"{ASSISTED_ZH}·{DELTA_ZH}",
        ],
        rows,
        frozenset(range(1, 6)),
        note="有单据的人员一年的个人负担合计；分位数取最近秩（每个值都是某人的实际负担）。",
    )


def bucket_table(d: Distribution, group_zh: str) -> TextTable:
    rows = [
        [bucket_label(b), str(b.persons.baseline), str(b.persons.reform), signed(b.persons.delta)]
        for b in d.buckets
    ]
    return TextTable(
        "buckets",
        f"个人年度负担分组（{group_zh}，人）",
        ["年度个人负担（元）", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        frozenset({1, 2, 3}),
    )


def people_table(people: list[PersonChange], gainers: bool) -> TextTable:
    rows = [
        [
            p.person_id,
            p.category.zh,
            format_yuan(p.total),
            format_yuan(p.personal.baseline),
            format_yuan(p.personal.reform),
            signed_yuan(p.personal.delta),
            signed_yuan(p.assistance.delta),
        ]
        for p in people
    ]
    word = "减轻" if gainers else "加重"
    return TextTable(
        "gainers" if gainers else "losers",
        f"个人负担{word}最多的 {len(people)} 人",
        [
            "参保人",
            "救助身份",
            "医疗总费用",
            f"个人负担·{BASELINE_ZH}",
            f"个人负担·{REFORM_ZH}",
            f"个人负担·{DELTA_ZH}",
            f"救助·{DELTA_ZH}",
        ],
        rows,
        frozenset(range(2, 7)),
        note="" if rows else f"没有人的个人负担{word}。",
    )


def all_tables(sim: Simulation) -> list[TextTable]:
    """The report's tables in reading order."""
    return [
        changes_table(sim),
        spending_table(sim),
        category_table(sim),
        indicator_table(sim),
        quantile_table(sim),
        bucket_table(sim.distribution["assisted"], ASSISTED_ZH),
        people_table(sim.gainers, gainers=True),
        people_table(sim.losers, gainers=False),
    ]
