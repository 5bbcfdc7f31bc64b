"""The simulation as one self-contained HTML page with charts (matplotlib, inline SVG).

Why SVG with ``svg.fonttype: none``: the text stays text, so the reader's browser
draws the Chinese labels with its own fonts; the machines that make the report
have no CJK font, and embedding glyph outlines would need one. Why one file:
it is mailed and archived as is, with nothing to fetch.

Charts use the Agg canvas on a private ``Figure`` (no pyplot, no global state),
so making a report never opens a window and is safe inside a server. Bar
lengths are floats because a drawing needs coordinates; every number written on
a chart is formatted from integer fen, like the tables.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from jiuzhu.analysis.simulation import ASSISTANCE, Pair, Simulation
from jiuzhu.analysis.tables import (
    ASSISTED_ZH,
    BASELINE_ZH,
    REFORM_ZH,
    TextTable,
    all_tables,
    bucket_label,
    signed_yuan,
)
from jiuzhu.domain.money import format_yuan, round_half_up_div
from jiuzhu.domain.vocabulary import GRANT_ZH, Benefit

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

BASE_COLOR = "#9aa5b1"
REFORM_COLOR = "#2f6fb0"
UP_COLOR = "#d9822b"
DOWN_COLOR = "#2a9d8f"
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"]
FONT_SIZE = 10

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "jiuzhu",  # stable element ids: the same simulation gives the same file
    "font.family": "sans-serif",
    "font.sans-serif": [*CJK_FONTS, "DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class ReportMeta:
    """What the report is about, for its heading."""

    policy_id: str
    policy_name: str
    claims_source: str
    reform_files: list[str] = field(default_factory=list)
    reform_sets: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- charts
@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # Measuring CJK text with DejaVu warns once per glyph; the browser draws it.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        yield


def _em(text: str) -> float:
    """Width of a label in ems: CJK text is measured here without a CJK font, so guess."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.6 for ch in text)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _left_margin(fig: Figure, labels: Sequence[str]) -> float:
    widest = max((_em(s) for s in labels), default=4.0)
    return min(0.6, (widest * FONT_SIZE + 20) / (fig.get_figwidth() * 72))


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    start = text.find("<svg")
    svg = text[start:]
    # Scale with the page instead of a fixed size in points.
    return re.sub(
        r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1width="100%"', svg, count=1
    )


def wan(fen: int) -> str:
    """Fen as 万元 with two decimals, from integers (chart labels)."""
    hundredths = round_half_up_div(fen, 10_000)
    sign = "-" if hundredths < 0 else ""
    whole, frac = divmod(abs(hundredths), 100)
    return f"{sign}{whole:,}.{frac:02d} 万"


def _paired_barh(
    fig: Figure, rect: tuple[float, float, float, float], title: str, rows: list[tuple[str, Pair]]
) -> None:
    ax = fig.add_axes(rect)
    labels = [name for name, _ in rows]
    pos = list(range(len(rows)))
    h = 0.38
    base = [p.baseline / 1_000_000 for _, p in rows]  # 万元
    ref = [p.reform / 1_000_000 for _, p in rows]
    ax.barh([y - h / 2 for y in pos], base, h, color=BASE_COLOR, label=BASELINE_ZH)
    ax.barh([y + h / 2 for y in pos], ref, h, color=REFORM_COLOR, label=REFORM_ZH)
    ax.set_yticks(pos, labels)
    ax.invert_yaxis()
    ax.set_title(title, loc="left")
    ax.set_xlabel("万元")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,g}"))
    top = max([*base, *ref]) or 1.0
    ax.set_xlim(0, top * 1.35)
    for y, b, r, (_, p) in zip(pos, base, ref, rows, strict=True):
        ax.text(b, y - h / 2, " " + wan(p.baseline), va="center", fontsize=8)
        ax.text(r, y + h / 2, " " + wan(p.reform), va="center", fontsize=8)


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
        fig = _figure(11, 1.4 + 0.55 * rows)
        share = 1 / len(panels)
        bottom, height = 0.7 / fig.get_figheight(), 1 - 1.1 / fig.get_figheight()
        for i, (title, r) in enumerate(panels):
            margin = _left_margin(fig, [name for name, _ in r])
            rect = (i * share + margin, bottom, share - margin - 0.03, height)
            _paired_barh(fig, rect, title, r)
        fig.legend(
            handles=fig.axes[0].containers,
            labels=[BASELINE_ZH, REFORM_ZH],
            loc="upper right",
            ncols=2,
            frameon=False,
        )
        return _svg(fig)


def _signed_barh(title: str, rows: list[tuple[str, int]], xlabel: str) -> str:
    """Horizontal bars of changes in fen, coloured by sign, each labelled with its yuan."""
    if not rows:
        rows = [("（无）", 0)]
    labels = [name for name, _ in rows]
    values = [v / 100 for _, v in rows]
    with _style():
        fig = _figure(9, 1.0 + 0.42 * len(labels))
        ax = fig.add_subplot()
        colors = [UP_COLOR if v > 0 else DOWN_COLOR for v in values]
        pos = list(range(len(labels)))
        ax.barh(pos, values, 0.6, color=colors)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.axvline(0, color="#444", linewidth=0.8)
        span = max([abs(v) for v in values] + [1.0])
        ax.set_xlim(min(0.0, min(values)) - span * 0.35, max(0.0, max(values)) + span * 0.35)
        for y, (_, v) in zip(pos, rows, strict=True):
            ax.text(
                v / 100,
                y,
                f" {signed_yuan(v)} ",
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=8,
            )
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,g}"))
        fig.subplots_adjust(left=_left_margin(fig, labels), right=0.97, top=0.9, bottom=0.12)
        return _svg(fig)


def category_chart(sim: Simulation) -> str:
    """Where the reform's money goes: the change in assistance by category."""
    rows = [(r.category.zh, r.assistance.delta) for r in sim.by_category]
    return _signed_barh("救助支出变化（按救助身份，元）", rows, "元（改革方案 − 现行政策）")


def burden_chart(sim: Simulation) -> str:
    """How many assisted people fall in each band of yearly burden, before and after."""
    d = sim.distribution["assisted"]
    labels = [bucket_label(b) for b in d.buckets]
    pos = list(range(len(labels)))
    w = 0.4
    with _style():
        fig = _figure(10, 4.2)
        ax = fig.add_subplot()
        base = [b.persons.baseline for b in d.buckets]
        ref = [b.persons.reform for b in d.buckets]
        ax.bar([x - w / 2 for x in pos], base, w, color=BASE_COLOR, label=BASELINE_ZH)
        ax.bar([x + w / 2 for x in pos], ref, w, color=REFORM_COLOR, label=REFORM_ZH)
        for x, (vb, vr) in enumerate(zip(base, ref, strict=True)):
            ax.text(x - w / 2, vb, str(vb), ha="center", va="bottom", fontsize=8)
            ax.text(x + w / 2, vr, str(vr), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(pos, labels, rotation=20, ha="right")
        ax.set_ylabel("人数")
        ax.set_xlabel("年度个人负担（元）")
        ax.set_title(f"个人年度负担分布（{ASSISTED_ZH} {d.persons} 人）", loc="left")
        ax.legend(frameon=False)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.28)
        return _svg(fig)


def gainers_chart(sim: Simulation) -> str:
    """The people whose yearly burden falls most (ids masked upstream)."""
    rows = [(f"{p.person_id}　{p.category.zh}", p.personal.delta) for p in sim.gainers]
    return _signed_barh("个人负担减轻最多的人（元）", rows, "个人负担变化（元）")


# ---------------------------------------------------------------------- page
_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",
 sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:2em;border-bottom:1px solid #ddd}
.meta{color:#555} .cards{display:flex;flex-wrap:wrap;gap:1em;margin:1.5em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em;min-width:14em}
.card .v{font-size:1.3em;font-weight:bold} .card .d{color:#555}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.3em .6em} th{background:#f5f5f5}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{text-align:left;font-weight:bold;padding:.3em 0} .note{color:#666;font-size:.85em}
figure{margin:1em 0} svg{max-width:100%;height:auto}
"""


def _table(t: TextTable) -> str:
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
    note = f'<p class="note">{html.escape(t.note)}</p>' if t.note else ""
    return (
        f"<table><caption>{html.escape(t.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


def _card(title: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div>{html.escape(title)}</div>'
        f'<div class="v">{html.escape(value)}</div><div class="d">{html.escape(detail)}</div></div>'
    )


def _figure_html(svg: str, caption: str) -> str:
    return f'<figure>{svg}<figcaption class="note">{html.escape(caption)}</figcaption></figure>'


def render(sim: Simulation, meta: ReportMeta) -> str:
    """The whole report as one HTML string: charts inline, no external resources."""
    tables = {t.key: t for t in all_tables(sim)}
    a, b = sim.assistance, sim.beneficiaries
    ind = sim.indicators["assisted"]
    reform_desc = (
        "；".join(
            [f"改革文件 {f}" for f in meta.reform_files] + [f"--set {s}" for s in meta.reform_sets]
        )
        or "未指定改革（与现行政策相同）"
    )
    cards = "".join(
        [
            _card(
                "救助支出合计（元）",
                format_yuan(a.reform),
                f"{signed_yuan(a.delta)}（现行 {format_yuan(a.baseline)}）",
            ),
            _card("救助受益人数", str(b.reform), f"{b.delta:+d} 人（现行 {b.baseline}）"),
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
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>政策模拟报告：{html.escape(meta.policy_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>政策模拟报告：{html.escape(meta.policy_name)}</h1>",
        f'<p class="meta">政策 {html.escape(meta.policy_id)}　'
        f"单据 {html.escape(meta.claims_source)}：{sim.claims} 笔，{sim.persons} 人　"
        f"改革：{html.escape(reform_desc)}</p>",
        f'<div class="cards">{cards}</div>',
        "<h2>改革内容</h2>",
        _table(tables["changes"]),
        "<h2>各项待遇支出</h2>",
        _figure_html(spending_chart(sim), "灰色：现行政策；蓝色：改革方案。标注为万元。"),
        _table(tables["spending"]),
        "<h2>按救助身份</h2>",
        _figure_html(category_chart(sim), "橙色：支出增加；绿色：支出减少。"),
        _table(tables["by_category"]),
        "<h2>受益人数与保障水平</h2>",
        _table(tables["indicators"]),
        "<h2>个人负担分布</h2>",
        _figure_html(burden_chart(sim), f"{ASSISTED_ZH}一年的个人负担合计，按金额分组。"),
        _table(tables["quantiles"]),
        _table(tables["buckets"]),
        "<h2>受益最多与受影响的人</h2>",
        _figure_html(gainers_chart(sim), "参保人编号如为身份证号则已脱敏。"),
        _table(tables["gainers"]),
        _table(tables["losers"]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(sim: Simulation, meta: ReportMeta, out: Path) -> Path:
    """Write ``out/report.html`` (creating ``out``) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(render(sim, meta), encoding="utf-8")
    return path
