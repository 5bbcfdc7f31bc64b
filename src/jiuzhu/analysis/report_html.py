"""The simulation as one self-contained HTML page with charts (matplotlib, inline SVG).

Fonts: the page and its charts are set in Noto Sans CJK SC, the font the project installs
(``io/fonts.py``). matplotlib measures every label with it (so the constrained layout
leaves room for the longest one and nothing is clipped), the SVG keeps its text as text
(``svg.fonttype: none``: searchable, selectable), and the page carries the glyphs it
uses as an embedded WOFF2 subset, so a reader without the font sees the same thing.

Why one file: it is mailed and archived as is, with nothing to fetch. Money is in yuan
everywhere, with the tables' thousands separators (``analysis/tables.py``); bar lengths
are floats because a drawing needs coordinates, but every number written on a chart is
formatted from integer fen.

Charts use the Agg canvas on a private ``Figure`` (no pyplot, no global state), so making
a report never opens a window and is safe inside a server.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from jiuzhu.analysis.simulation import ASSISTANCE, Pair, Simulation
from jiuzhu.analysis.tables import (
    ASSISTED_ZH,
    BASELINE_ZH,
    REFORM_ZH,
    TextTable,
    all_tables,
    bucket_label,
    signed_yuan,
    yuan_text,
)
from jiuzhu.domain.vocabulary import GRANT_ZH, Benefit
from jiuzhu.io import fonts

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

BASE_COLOR = "#9aa5b1"
REFORM_COLOR = "#2f6fb0"
UP_COLOR = "#d9822b"
DOWN_COLOR = "#2a9d8f"
FONT_SIZE = 11
LABEL_SIZE = 9

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "jiuzhu",  # stable element ids: the same simulation gives the same file
    "font.family": "sans-serif",
    "font.sans-serif": [fonts.SANS, "DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": False,  # "-1,557.75" as in the tables, not U+2212
}


@dataclass(frozen=True)
class ReportMeta:
    """What the report is about, for its heading."""

    policy_id: str
    policy_name: str
    claims_source: str
    reform_files: list[str] = field(default_factory=list)
    reform_sets: list[str] = field(default_factory=list)
    weights: str = ""
    """How the sample was raised to a population, in words (empty: it was not)."""


# ---------------------------------------------------------------------- charts
@contextmanager
def _style() -> Iterator[None]:
    fonts.use_in_matplotlib()
    with matplotlib.rc_context(_RC):
        yield


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    svg = text[text.find("<svg") :]
    # Scale with the page instead of a fixed size in points.
    return re.sub(
        r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1width="100%"', svg, count=1
    )


_YUAN_AXIS = FuncFormatter(lambda x, _pos: f"{x:,.0f}")


def _room(ax: Axes, low: float, high: float) -> None:
    """Leave a third of the span beyond the bars for their labels."""
    span = max(high - low, 1.0)
    ax.set_xlim(low - (span * 0.45 if low < 0 else 0), high + span * 0.45)


def _paired_barh(ax: Axes, title: str, rows: list[tuple[str, Pair]]) -> None:
    pos = list(range(len(rows)))
    h = 0.38
    base = [p.baseline / 100 for _, p in rows]  # yuan, for the drawing only
    ref = [p.reform / 100 for _, p in rows]
    bars_b = ax.barh([y - h / 2 for y in pos], base, h, color=BASE_COLOR, label=BASELINE_ZH)
    bars_r = ax.barh([y + h / 2 for y in pos], ref, h, color=REFORM_COLOR, label=REFORM_ZH)
    ax.bar_label(bars_b, [yuan_text(p.baseline) for _, p in rows], padding=3, fontsize=LABEL_SIZE)
    ax.bar_label(bars_r, [yuan_text(p.reform) for _, p in rows], padding=3, fontsize=LABEL_SIZE)
    ax.set_yticks(pos, [name for name, _ in rows])
    ax.invert_yaxis()
    ax.set_title(title, loc="left")
    ax.set_xlabel("元")
    ax.xaxis.set_major_formatter(_YUAN_AXIS)
    ax.tick_params(axis="x", labelrotation=20)
    _room(ax, 0.0, max([*base, *ref]) or 1.0)


def spending_chart(sim: Simulation) -> str:
    """Each tier's spending, baseline and reform: the insurances and the assistance apart.

    Two panels with their own scales, since the insurances pay tens of times what
    assistance pays and one axis would make the assistance bars invisible.
    """
    insurance = [
        (b.zh, sim.spending[b])
        for b in Benefit
        if b not in ASSISTANCE and (sim.spending[b].baseline or sim.spending[b].reform)
    ]
    assistance = [
        (b.zh, sim.spending[b])
        for b in ASSISTANCE
        if sim.spending[b].baseline or sim.spending[b].reform
    ]
    if sim.grant.baseline or sim.grant.reform:
        assistance.append((GRANT_ZH, sim.grant))
    assistance.append(("救助支出合计", sim.assistance))
    panels = [p for p in (("保险、其他支付等", insurance), ("各项救助", assistance)) if p[1]]
    rows = max(len(r) for _, r in panels)
    with _style():
        fig = _figure(11, 1.6 + 0.6 * rows)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, r) in zip(axes, panels, strict=True):
            _paired_barh(ax, title, r)
        fig.legend(
            handles=list(axes[0].containers),
            labels=[BASELINE_ZH, REFORM_ZH],
            loc="outside upper right",
            ncols=2,
            frameon=False,
        )
        return _svg(fig)


def _signed_barh(title: str, rows: list[tuple[str, int]], xlabel: str) -> str:
    """Horizontal bars of changes in fen, coloured by sign, each labelled with its yuan."""
    labels = [name for name, _ in rows]
    values = [v / 100 for _, v in rows]
    with _style():
        fig = _figure(9, 1.2 + 0.42 * len(labels))
        ax = fig.add_subplot()
        colors = [UP_COLOR if v > 0 else DOWN_COLOR for v in values]
        pos = list(range(len(labels)))
        bars = ax.barh(pos, values, 0.6, color=colors)
        ax.bar_label(bars, [signed_yuan(v) for _, v in rows], padding=3, fontsize=LABEL_SIZE)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.axvline(0, color="#444", linewidth=0.8)
        _room(ax, min(0.0, min(values)), max(0.0, max(values)) or 1.0)
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(_YUAN_AXIS)
        ax.tick_params(axis="x", labelrotation=20)
        return _svg(fig)


def category_chart(sim: Simulation) -> str | None:
    """Where the reform's money goes: the change in assistance by category (None: no change)."""
    rows = [(r.category.zh, r.assistance.delta) for r in sim.by_category if r.assistance.delta]
    if not rows:
        return None
    return _signed_barh("救助支出变化（按救助身份）", rows, "元（改革方案 − 现行政策）")


def burden_chart(sim: Simulation) -> str | None:
    """How many assisted people fall in each band of yearly burden, before and after."""
    d = sim.distribution["assisted"]
    if not d.persons:
        return None
    labels = [bucket_label(b) for b in d.buckets]
    pos = list(range(len(labels)))
    w = 0.4
    with _style():
        fig = _figure(10, 4.4)
        ax = fig.add_subplot()
        base = [b.persons.baseline for b in d.buckets]
        ref = [b.persons.reform for b in d.buckets]
        bars_b = ax.bar([x - w / 2 for x in pos], base, w, color=BASE_COLOR, label=BASELINE_ZH)
        bars_r = ax.bar([x + w / 2 for x in pos], ref, w, color=REFORM_COLOR, label=REFORM_ZH)
        ax.bar_label(bars_b, [f"{v:,}" for v in base], fontsize=LABEL_SIZE)
        ax.bar_label(bars_r, [f"{v:,}" for v in ref], fontsize=LABEL_SIZE)
        ax.set_xticks(pos, labels, rotation=20, ha="right")
        ax.set_ylabel("人数")
        ax.set_xlabel("年度个人负担（元）")
        ax.set_title(f"个人年度负担分布（{ASSISTED_ZH} {d.persons:,} 人）", loc="left")
        ax.set_ylim(0, max([*base, *ref, 1]) * 1.15)
        ax.legend(frameon=False)
        return _svg(fig)


def gainers_chart(sim: Simulation) -> str | None:
    """The people whose yearly burden falls most (ids masked upstream; None: nobody)."""
    rows = [(f"{p.person_id}　{p.category.zh}", p.personal.delta) for p in sim.gainers]
    if not rows:
        return None
    return _signed_barh("个人负担减轻最多的人", rows, "个人负担变化（元）")


# ---------------------------------------------------------------------- page
_CSS = f"""
body{{font-family:"{fonts.SANS}",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;
 color:#222;line-height:1.5}}
h1{{font-size:1.6em;margin-bottom:.2em}} h2{{margin-top:2em;border-bottom:1px solid #ddd}}
.meta{{color:#555}} .cards{{display:flex;flex-wrap:wrap;gap:1em;margin:1.5em 0}}
.card{{border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em;min-width:14em}}
.card .v{{font-size:1.3em;font-weight:bold}} .card .d{{color:#555}}
table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}
th,td{{border:1px solid #ddd;padding:.3em .6em}} th{{background:#f5f5f5}}
td{{white-space:nowrap}} td.n{{text-align:right;font-variant-numeric:tabular-nums}}
caption{{text-align:left;font-weight:bold;padding:.3em 0}} .note{{color:#666;font-size:.85em}}
figure{{margin:1em 0}} svg{{max-width:100%;height:auto}}
@page{{size:A4 landscape;margin:12mm}}
@media print{{body{{max-width:none;margin:0;font-size:9pt}} h2{{break-after:avoid}}
 tr,figure{{break-inside:avoid}}}}
"""


def _table(t: TextTable) -> str:
    """A table, or only its note when it has no rows (never an empty "0 人" table)."""
    note = f'<p class="note">{html.escape(t.note)}</p>' if t.note else ""
    if not t.rows:
        return note
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(
            f'<td class="n">{html.escape(v)}</td>'
            if i in t.numeric
            else f"<td>{html.escape(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f"<table><caption>{html.escape(t.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


def _card(title: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div>{html.escape(title)}</div>'
        f'<div class="v">{html.escape(value)}</div><div class="d">{html.escape(detail)}</div></div>'
    )


def _figure_html(svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f'<figure>{svg}<figcaption class="note">{html.escape(caption)}</figcaption></figure>'


def _body(sim: Simulation, meta: ReportMeta) -> list[str]:
    tables = {t.key: t for t in all_tables(sim)}
    a, b = sim.assistance, sim.beneficiaries
    ind = sim.indicators["assisted"]
    reform_desc = (
        "；".join(
            [f"改革文件 {f}" for f in meta.reform_files] + [f"--set {s}" for s in meta.reform_sets]
        )
        or "未指定改革（与现行政策相同）"
    )
    scope = f"{sim.claims:,} 笔，{sim.persons:,} 人"
    if sim.weighted:
        scope = (
            f"样本 {sim.sample.baseline:,} 笔、{sim.sample.reform:,} 人，"
            f"按权重推算 {scope}（{meta.weights}）"
        )
    cards = "".join(
        [
            _card(
                "救助支出合计（元）",
                yuan_text(a.reform),
                f"{signed_yuan(a.delta)}（现行 {yuan_text(a.baseline)}）",
            ),
            _card("救助受益人数", f"{b.reform:,}", f"{b.delta:+,} 人（现行 {b.baseline:,}）"),
            _card(
                f"综合保障率（{ASSISTED_ZH}）",
                ind.protection.reform.percent(),
                f"{ind.protection.delta_points()} 个百分点"
                f"（现行 {ind.protection.baseline.percent()}）",
            ),
            _card(
                f"个人负担率（{ASSISTED_ZH}）",
                ind.burden.reform.percent(),
                f"{ind.burden.delta_points()} 个百分点（现行 {ind.burden.baseline.percent()}）",
            ),
        ]
    )
    parts = [
        f"<h1>政策模拟报告：{html.escape(meta.policy_name)}</h1>",
        f'<p class="meta">政策 {html.escape(meta.policy_id)}　'
        f"单据 {html.escape(meta.claims_source)}：{html.escape(scope)}　"
        f"改革：{html.escape(reform_desc)}</p>",
        f'<div class="cards">{cards}</div>',
        "<h2>改革内容</h2>",
        _table(tables["changes"]),
        "<h2>各项待遇支出</h2>",
        _figure_html(spending_chart(sim), "灰色：现行政策；蓝色：改革方案。单位：元。"),
        _table(tables["spending"]),
        "<h2>按救助身份</h2>",
        _figure_html(category_chart(sim), "橙色：支出增加；绿色：支出减少。单位：元。"),
        _table(tables["by_category"]),
    ]
    if sim.by_district:
        parts += ["<h2>按区县</h2>", _table(tables["by_district"])]
    parts += [
        "<h2>受益人数与保障水平</h2>",
        _table(tables["indicators"]),
        "<h2>个人负担分布</h2>",
        _figure_html(burden_chart(sim), f"{ASSISTED_ZH}一年的个人负担合计，按金额分组。"),
        _table(tables["quantiles"]),
        _table(tables["buckets"]),
        "<h2>受益最多与受影响的人</h2>",
        _figure_html(gainers_chart(sim), "参保人编号如为身份证号则已脱敏。单位：元。"),
        _table(tables["gainers"]),
        _table(tables["losers"]),
    ]
    return parts


def render(sim: Simulation, meta: ReportMeta) -> str:
    """The whole report as one HTML string: charts inline, its font embedded, nothing to
    fetch."""
    body = "\n".join(_body(sim, meta))
    title = f"政策模拟报告：{html.escape(meta.policy_name)}"
    visible = re.sub(r"<[^>]+>", "", body) + title  # the glyphs the page and charts use
    head = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{fonts.embedded_css(html.unescape(visible))}\n{_CSS}</style></head><body>",
    ]
    return "\n".join([*head, body, "</body></html>"]) + "\n"


def write_report(sim: Simulation, meta: ReportMeta, out: Path) -> Path:
    """Write ``out/report.html`` (creating ``out``) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(render(sim, meta), encoding="utf-8")
    return path
