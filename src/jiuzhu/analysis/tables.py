"""A simulation as tables: one source for the terminal, the HTML report, XLSX and CSV.

Why here: the terminal (rich), the report (HTML) and the files an analyst opens
(XLSX, CSV) must show the same figures under the same headings; building the rows once
keeps them from drifting apart. Each cell has its value (``Decimal`` yuan from integer
fen, ``int`` counts, text) for the files, and its text for the screens: yuan with
thousands separators and two decimals, the same unit everywhere, a sign on changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from jiuzhu.analysis.simulation import (
    Bucket,
    Distribution,
    Pair,
    PersonChange,
    RatioPair,
    Simulation,
)
from jiuzhu.domain.districts import lookup
from jiuzhu.domain.vocabulary import GRANT_ZH, PERSONAL_ZH, Benefit
from jiuzhu.io.xlsx import Column, Kind, Sheet, Value

BASELINE_ZH = "现行政策"
REFORM_ZH = "改革方案"
DELTA_ZH = "变化"
ASSISTED_ZH = "救助对象"
EVERYONE_ZH = "全体参保人员"
UNKNOWN_DISTRICT_ZH = "未知区县"


def yuan_text(fen: int) -> str:
    """``12161.96`` yuan as people read it: ``12,161.96`` (the tables' and charts' unit)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def signed_yuan(fen: int) -> str:
    """A change of money: ``+12,161.96``, ``-1,557.75`` or ``0.00``."""
    return ("+" if fen > 0 else "") + yuan_text(fen)


def signed(n: int) -> str:
    return ("+" if n > 0 else "") + f"{n:,}"


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


@dataclass(frozen=True)
class Cell:
    """What a table holds: the value written to XLSX/CSV and the text shown on screens."""

    value: Value
    text: str


def money(fen: int) -> Cell:
    return Cell(_yuan(fen), yuan_text(fen))


def change(fen: int) -> Cell:
    return Cell(_yuan(fen), signed_yuan(fen))


def count(n: int) -> Cell:
    return Cell(n, f"{n:,}")


def text(s: str) -> Cell:
    return Cell(s, s)


@dataclass(frozen=True)
class TextTable:
    """A titled table; ``kinds`` are its columns' XLSX kinds (money, integer, text)."""

    key: str
    title: str
    columns: list[str]
    cells: list[list[Cell]]
    kinds: list[Kind]
    note: str = ""
    totals: frozenset[int] = field(default_factory=frozenset)
    """Columns whose 合计 means something (the XLSX gets a 合计 row for them)."""
    right: frozenset[int] = field(default_factory=frozenset)
    """Text columns of figures (rates, counts with words), aligned right like numbers."""

    @property
    def rows(self) -> list[list[str]]:
        return [[c.text for c in row] for row in self.cells]

    @property
    def numeric(self) -> frozenset[int]:
        typed = {i for i, k in enumerate(self.kinds) if k in ("money", "integer")}
        return frozenset(typed | self.right)

    def sheet(self, name: str | None = None) -> Sheet:
        """The table as a sheet for ``io/xlsx`` (typed cells, header, 合计 where it sums)."""
        columns = [
            Column(h, k, total=i in self.totals)
            for i, (h, k) in enumerate(zip(self.columns, self.kinds, strict=True))
        ]
        return Sheet(
            (name or self.title)[:31],
            columns,
            [[c.value for c in row] for row in self.cells],
            title=self.title,
            notes=[self.note] if self.note else [],
        )


def _pair_columns(what: str) -> list[str]:
    return [f"{what}·{BASELINE_ZH}", f"{what}·{REFORM_ZH}", f"{what}·{DELTA_ZH}"]


def _money_cells(p: Pair) -> list[Cell]:
    return [money(p.baseline), money(p.reform), change(p.delta)]


def _scaled(sim: Simulation) -> str:
    return "（按权重推算）" if sim.weighted else ""


def district_label(code: str) -> str:
    """``371502 东昌府区`` (GB/T 2260), the code alone if unknown, 未知区县 for none."""
    if not code:
        return UNKNOWN_DISTRICT_ZH
    d = lookup(code)
    return f"{code} {d.name}" if d is not None else code


def changes_table(sim: Simulation) -> TextTable:
    rows = [
        [text(c.name or c.path), text(c.baseline or "—"), text(c.reform or "—"), text(c.clause)]
        for c in sim.changes
    ]
    return TextTable(
        "changes",
        "改革内容：与现行政策不同的取值",
        ["参数", BASELINE_ZH, REFORM_ZH, "条款"],
        rows,
        ["text", "text", "text", "text"],
        note="" if rows else "改革方案与现行政策相同：各项变化均应为 0。",
    )


def spending_table(sim: Simulation) -> TextTable:
    """Each tier's spending: what the reform costs, and who (which fund) pays it."""
    rows = [[text("医疗总费用"), money(sim.total), money(sim.total), change(0)]]
    for b in Benefit:
        p = sim.spending[b]
        if p.baseline or p.reform:
            rows.append([text(b.zh), *_money_cells(p)])
    if sim.grant.baseline or sim.grant.reform:
        rows.append([text(f"{GRANT_ZH}（另行发放）"), *_money_cells(sim.grant)])
    rows.append([text("救助支出合计"), *_money_cells(sim.assistance)])
    rows.append([text(PERSONAL_ZH), *_money_cells(sim.personal)])
    return TextTable(
        "spending",
        f"各项待遇支出（元）{_scaled(sim)}",
        ["项目", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        ["text", "money", "money", "money"],
        note="救助支出合计：医疗救助、再救助、二次医疗救助、特殊救助、因病致贫重病患者医疗救助"
        "与单病种限额付费医疗救助之和。",
    )


def _group_table(
    key: str,
    title: str,
    first: str,
    labels: Sequence[str],
    persons: Sequence[Pair],
    claims: Sequence[Pair],
    assistance: Sequence[Pair],
    personal: Sequence[Pair],
    note: str,
) -> TextTable:
    """By category or by district: people and claims, assistance and burden, both ways.

    People and claims get one column each when the reform moves nobody between groups,
    else a column per scenario."""
    split = any(p.delta for p in persons) or any(c.delta for c in claims)
    counts = (
        [f"人数·{BASELINE_ZH}", f"人数·{REFORM_ZH}", f"人次·{BASELINE_ZH}", f"人次·{REFORM_ZH}"]
        if split
        else ["人数", "人次"]
    )
    rows = []
    for label, pe, cl, a, b in zip(labels, persons, claims, assistance, personal, strict=True):
        n = (
            [count(pe.baseline), count(pe.reform), count(cl.baseline), count(cl.reform)]
            if split
            else [count(pe.baseline), count(cl.baseline)]
        )
        rows.append([text(label), *n, *_money_cells(a), *_money_cells(b)])
    columns = [first, *counts, *_pair_columns("救助支出"), *_pair_columns("个人负担")]
    integer: Kind = "integer"
    amount: Kind = "money"
    kinds: list[Kind] = ["text", *[integer] * len(counts), *[amount] * 6]
    return TextTable(
        key,
        title,
        columns,
        rows,
        kinds,
        note=note,
        totals=frozenset(range(1, len(columns))),
    )


def category_table(sim: Simulation) -> TextTable:
    """Spending and burden by the category each claim was settled under (就高不重复)."""
    rows = sim.by_category
    return _group_table(
        "by_category",
        f"按救助身份（结算时适用的类别）：救助支出与个人负担（元）{_scaled(sim)}",
        "救助身份",
        [r.category.zh for r in rows],
        [r.persons for r in rows],
        [r.claims for r in rows],
        [r.assistance for r in rows],
        [r.personal for r in rows],
        "人数：有单据按此类别结算的人（一年中类别变化的人在两类中各计一次）。",
    )


def district_table(sim: Simulation) -> TextTable:
    """The same by the person's district (区县), where the input says it."""
    rows = sim.by_district
    return _group_table(
        "by_district",
        f"按区县：救助支出与个人负担（元）{_scaled(sim)}",
        "区县",
        [district_label(r.code) for r in rows],
        [r.persons for r in rows],
        [r.claims for r in rows],
        [r.assistance for r in rows],
        [r.personal for r in rows],
        "" if rows else "输入中没有区县（单据或人员文件的 district 列）：不按区县汇总。",
    )


def _rate_row(name: str, r: RatioPair) -> list[Cell]:
    points = r.delta_points()
    return [
        text(name),
        text(r.baseline.percent()),
        text(r.reform.percent()),
        text(f"{points} 个百分点" if points != "—" else points),
    ]


def indicator_table(sim: Simulation) -> TextTable:
    b = sim.beneficiaries
    moved = f"（新增 {sim.new_beneficiaries:,} 人，减少 {sim.lost_beneficiaries:,} 人）"
    rows = [
        [
            text("救助受益人数（人）"),
            count(b.baseline),
            count(b.reform),
            text(signed(b.delta) + moved),
        ]
    ]
    for group, name in (("everyone", EVERYONE_ZH), ("assisted", ASSISTED_ZH)):
        ind = sim.indicators[group]
        rows.append(_rate_row(f"医疗费用综合保障率（{name}）", ind.protection))
        rows.append(_rate_row(f"医疗费用个人负担率（{name}）", ind.burden))
    return TextTable(
        "indicators",
        f"受益人数与保障水平{_scaled(sim)}",
        ["指标", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        ["text", "text", "text", "text"],
        right=frozenset({1, 2, 3}),
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
                text(name),
                money(e.baseline),
                money(e.reform),
                money(a.baseline),
                money(a.reform),
                change(a.delta),
            ]
        )
    weighted = "（按权重的分位数）" if sim.weighted else ""
    return TextTable(
        "quantiles",
        f"个人年度负担（元/人）：{EVERYONE_ZH} {ev.persons:,} 人，{ASSISTED_ZH} {asd.persons:,} 人"
        + weighted,
        [
            "统计量",
            f"全体·{BASELINE_ZH}",
            f"全体·{REFORM_ZH}",
            f"{ASSISTED_ZH}·{BASELINE_ZH}",
            f"{ASSISTED_ZH}·{REFORM_ZH}",
            f"{ASSISTED_ZH}·{DELTA_ZH}",
        ],
        rows,
        ["text", "money", "money", "money", "money", "money"],
        note="有单据的人员一年的个人负担合计；分位数取最近秩（每个值都是某人的实际负担）。",
    )


def bucket_label(b: Bucket) -> str:
    lo = yuan_text(b.lower).removesuffix(".00")
    if b.upper is None:
        return f"{lo} 以上"
    return f"{lo} – {yuan_text(b.upper).removesuffix('.00')}"


def bucket_table(d: Distribution, group_zh: str, sim: Simulation) -> TextTable:
    rows = [
        [
            text(bucket_label(b)),
            count(b.persons.baseline),
            count(b.persons.reform),
            Cell(b.persons.delta, signed(b.persons.delta)),
        ]
        for b in d.buckets
    ]
    return TextTable(
        "buckets",
        f"个人年度负担分组（{group_zh}，人）{_scaled(sim)}",
        ["年度个人负担（元）", BASELINE_ZH, REFORM_ZH, DELTA_ZH],
        rows,
        ["text", "integer", "integer", "integer"],
        totals=frozenset({1, 2, 3}),
    )


PEOPLE_COLUMNS = [
    "参保人",
    "区县",
    "救助身份",
    "医疗总费用",
    f"个人负担·{BASELINE_ZH}",
    f"个人负担·{REFORM_ZH}",
    f"个人负担·{DELTA_ZH}",
    f"救助·{DELTA_ZH}",
]


def person_cells(p: PersonChange) -> list[Cell]:
    return [
        text(p.person_id),
        text(district_label(p.district) if p.district else ""),
        text(p.category.zh),
        money(p.total),
        money(p.personal.baseline),
        money(p.personal.reform),
        change(p.personal.delta),
        change(p.assistance.delta),
    ]


def people_table(people: list[PersonChange], gainers: bool) -> TextTable:
    word = "减轻" if gainers else "加重"
    return TextTable(
        "gainers" if gainers else "losers",
        f"个人负担{word}最多的 {len(people)} 人",
        PEOPLE_COLUMNS,
        [person_cells(p) for p in people],
        ["text", "text", "text", "money", "money", "money", "money", "money"],
        note="" if people else f"没有人的个人负担{word}。",
    )


def changed_people_table(sim: Simulation) -> TextTable:
    """Everyone whose yearly burden changes (the analyst's file), with their weight."""
    rows = [[*person_cells(p), text(_weight_value(p.weight))] for p in sim.changed]
    return TextTable(
        "changed",
        f"个人负担有变化的人员（{len(rows):,} 人，按个人负担变化从减轻最多起）",
        [*PEOPLE_COLUMNS, "权重"],
        rows,
        ["text", "text", "text", "money", "money", "money", "money", "money", "text"],
        note="参保人编号如为身份证号则已脱敏。权重：此人代表的人数（无权重时为 1）。",
        totals=frozenset({3, 4, 5, 6, 7}),
    )


def _weight_value(w: int) -> str:
    whole, frac = divmod(w, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def all_tables(sim: Simulation) -> list[TextTable]:
    """The report's tables in reading order."""
    return [
        changes_table(sim),
        spending_table(sim),
        category_table(sim),
        district_table(sim),
        indicator_table(sim),
        quantile_table(sim),
        bucket_table(sim.distribution["assisted"], ASSISTED_ZH, sim),
        people_table(sim.gainers, gainers=True),
        people_table(sim.losers, gainers=False),
    ]


SHEET_NAMES = {
    "changes": "改革内容",
    "spending": "各项待遇支出",
    "by_category": "按救助身份",
    "by_district": "按区县",
    "indicators": "受益人数与保障水平",
    "quantiles": "个人年度负担",
    "buckets": "个人负担分组",
    "gainers": "负担减轻最多",
    "losers": "负担加重最多",
    "changed": "负担变化人员",
}
