"""``jiuzhu simulate``: a year of claims under the policy and under a reform, compared.

The question a bureau asks before changing a rate ("低边 60% instead of 50%"):
what would it cost, who gains, how do the indicators move. The figures come
from ``analysis.simulation`` (pure); this module reads the claims, settles them
twice with a progress bar, and shows the result as tables, JSON and an HTML
report with charts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from jiuzhu.analysis.simulation import (
    Simulation,
    changed_parameters,
    compare,
    settle_year,
    to_json,
)
from jiuzhu.analysis.tables import TextTable, all_tables
from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, PolicyOpt, fail, get_policy
from jiuzhu.io.claims_columnar import ColumnarClaims, ColumnarInputError, read_parquet

ClaimsOpt = Annotated[
    Path,
    typer.Option(
        "--claims",
        "-c",
        metavar="目录|文件",
        help="单据目录（jiuzhu synth 的输出，含 claims.parquet），或单据文件：.parquet、"
        ".csv、.xlsx（中文表头，见 jiuzhu template claims）",
    ),
]
ReformOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--reform", "-r", help="改革方案：覆盖政策取值的 YAML 文件（格式同 --override，可多次）"
    ),
]
ReformSetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="位置=取值", help="改革方案：覆盖单个取值，写法同 settle --set（可多次）"
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="报告目录：写入 report.html（含图表）；不给则不画图"),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="将结果另写为 JSON 文件")]
TopOpt = Annotated[int, typer.Option("--top", min=0, help="列出个人负担变化最大的人数")]


def claims_file(path: Path) -> Path:
    """``DIR/claims.parquet`` for a directory written by ``jiuzhu synth``, or the file itself."""
    if path.is_dir():
        inner = path / "claims.parquet"
        if not inner.is_file():
            fail(f"单据目录 {path} 中没有 claims.parquet（请先运行 jiuzhu synth --out {path}）")
        return inner
    if path.is_file():
        if path.suffix.lower() not in (".parquet", ".csv", ".xlsx"):
            fail(f"单据文件 {path} 须为 .parquet、.csv 或 .xlsx 文件，或 jiuzhu synth 的输出目录")
        return path
    fail(f"找不到单据目录或文件：{path}")


def read_claims(source: Path) -> ColumnarClaims:
    """The claims as checked columns, from Parquet or from a CSV/XLSX table."""
    from jiuzhu.io.claims_table import ClaimsTableError, as_columns, is_table
    from jiuzhu.io.claims_table import read_claims as read_table

    try:
        return as_columns(read_table(source)) if is_table(source) else read_parquet(source)
    except (ColumnarInputError, ClaimsTableError) as err:
        fail(f"输入错误：{err}", EXIT_USAGE)


def _rich(t: TextTable) -> Table:
    table = Table(title=t.title, title_justify="left", show_lines=False)
    for i, name in enumerate(t.columns):
        table.add_column(name, justify="right" if i in t.numeric else "left")
    for row in t.rows:
        table.add_row(*row)
    return table


def show(console: Console, sim: Simulation, header: list[str]) -> None:
    """The tables a person reads in the terminal, with their notes."""
    for line in header:
        console.print(line)
    console.print()
    for t in all_tables(sim):
        if t.rows:
            console.print(_rich(t))
        if t.note:
            console.print(f"[dim]{t.note}[/dim]")
        console.print()


def simulate(
    policy: PolicyOpt,
    claims: ClaimsOpt,
    reform: ReformOpt = None,
    set_: ReformSetOpt = None,
    out: OutOpt = None,
    json_file: JsonOpt = None,
    top: TopOpt = 10,
) -> None:
    """政策模拟：同一年的单据按现行政策和改革方案各结算一次，比较支出、受益人数、保障水平和个人负担。"""
    source = claims_file(claims)
    baseline = get_policy(policy, None, None)
    reformed = get_policy(policy, reform, set_)
    changes = changed_parameters(baseline.policy, reformed.policy)

    steps = 5 if out is not None else 4
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("读取单据", total=steps)
        cc = read_claims(source)
        progress.update(task, advance=1, description="按现行政策结算")
        base = settle_year(baseline, cc)
        progress.update(task, advance=1, description="按改革方案结算")
        ref = settle_year(reformed, cc)
        progress.update(task, advance=1, description="汇总比较")
        sim = compare(
            cc.person_id,
            cc.cols.total,
            cc.cols.settle_day,
            base,
            ref,
            top=top,
            changes=changes,
        )
        report = None
        if out is not None:
            from jiuzhu.analysis.report_html import ReportMeta, write_report

            progress.update(task, advance=1, description="绘制图表")
            meta = ReportMeta(
                baseline.policy.id,
                baseline.policy.name,
                str(claims),
                [str(p) for p in reform or []],
                list(set_ or []),
            )
            try:
                report = write_report(sim, meta, out)
            except OSError as err:
                fail(f"无法写入报告目录 {out}：{err.strerror}", EXIT_DATA)
        progress.update(task, advance=1, description="完成")

    reform_desc = "；".join(
        [f"改革文件 {p}" for p in reform or []] + [f"--set {s}" for s in set_ or []]
    )
    header = [
        f"[bold]政策模拟：{baseline.policy.name}[/bold]（{baseline.policy.id}）",
        f"单据 {source}：已结算 {sim.claims} 笔，{sim.persons} 人",
        f"改革：{reform_desc or '未指定（与现行政策相同）'}",
    ]
    if sim.rejected.baseline or sim.rejected.reform:
        header.append(
            f"未予结算的单据（两方案均不计入）：现行政策 {sim.rejected.baseline} 笔，"
            f"改革方案 {sim.rejected.reform} 笔"
        )
    console = Console(width=max(Console().width, 160))
    show(console, sim, header)

    if json_file is not None:
        document = {
            "policy": baseline.policy.id,
            "policy_name": baseline.policy.name,
            "claims_source": str(source),
            "reform": {"files": [str(p) for p in reform or []], "sets": list(set_ or [])},
            "input_errors": len(cc.errors),
            **to_json(sim),
        }
        try:
            json_file.write_text(
                json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as err:
            fail(f"无法写入 JSON 文件 {json_file}：{err.strerror}", EXIT_DATA)
        console.print(f"JSON：{json_file}")
    if report is not None:
        console.print(f"报告：{report}")

    if cc.errors:
        for e in cc.errors[:20]:
            typer.echo(e.render(), err=True)
        more = "（仅列出前 20 处）" if len(cc.errors) > 20 else ""
        typer.echo(
            f"共 {len(cc.errors)} 处输入错误{more}；这些单据未计入模拟，其余单据已正常比较。",
            err=True,
        )
        raise typer.Exit(EXIT_DATA)
