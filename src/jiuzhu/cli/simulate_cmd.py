"""``jiuzhu simulate``: a year of claims under the policy and under a reform, compared.

The question a bureau asks before changing a rate ("低边 60% instead of 50%"):
what would it cost, who gains, how do the indicators move, in which district. The
figures come from ``analysis.simulation`` (pure); this module reads the claims (and the
people's districts and weights, ``io/analysis_inputs.py``), settles them twice with a
progress bar, and shows the result as tables in the terminal, XLSX and CSV files, JSON,
the full list of people whose burden changes, and an HTML report with charts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jiuzhu.cli.common import (
    EXIT_DATA,
    EXIT_USAGE,
    PolicyOpt,
    fail,
    get_policy,
    writable,
    written,
)

if TYPE_CHECKING:  # imported where used: `jiuzhu --help` loads this module (performance.md)
    import numpy as np
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.analysis.simulation import Simulation
    from jiuzhu.analysis.tables import TextTable
    from jiuzhu.io.claims_columnar import ColumnarClaims

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
PersonsOpt = Annotated[
    Path | None,
    typer.Option(
        "--persons",
        metavar="文件",
        help="人员文件（.parquet、.csv、.xlsx）：person_id 及 district（区县代码）、weight（权重）"
        "列；--claims 为 jiuzhu synth 的目录时默认取其中的 persons.parquet",
    ),
]
ScaleOpt = Annotated[
    str | None,
    typer.Option(
        "--scale",
        metavar="倍数",
        help="将样本推算到总体：每人权重乘以此数（如 1% 抽样为 100）；无权重列时即每人的权重",
    ),
]
ChangesOpt = Annotated[
    Path | None,
    typer.Option(
        "--changes",
        metavar="文件",
        help="个人负担有变化的全部人员，写为 .csv 或 .xlsx（参保人已脱敏）",
    ),
]
XlsxOpt = Annotated[
    Path | None,
    typer.Option("--xlsx", metavar="文件", help="各张结果表写入一个 XLSX 工作簿（每表一页）"),
]
CsvOpt = Annotated[
    Path | None,
    typer.Option("--csv", metavar="目录", help="各张结果表各写为一个 CSV 文件（UTF-8 带 BOM）"),
]


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


def people_facts(
    source: Path, claims: Path, cc: ColumnarClaims, persons: Path | None, scale: str | None
) -> tuple[np.ndarray | None, pl.Series | None, str]:
    """Each claim's weight and district, and in words how the sample is weighted."""
    import polars as pl

    from jiuzhu.io.analysis_inputs import AnalysisInputError, parse_scale, per_claim, read_persons
    from jiuzhu.io.claims_columnar import ANALYSIS

    if persons is None and claims.is_dir() and (claims / "persons.parquet").is_file():
        persons = claims / "persons.parquet"
    try:
        extra = None
        if source.suffix.lower() == ".parquet":
            present = [c for c in ANALYSIS if c in pl.read_parquet_schema(source)]
            if present:
                extra = pl.read_parquet(source, columns=present)[cc.row - 1]
        people = read_persons(persons) if persons is not None else None
        factor = parse_scale(scale) if scale is not None else None
        weight, district = per_claim(cc.person_id, extra, people, factor)
    except AnalysisInputError as err:
        fail(f"输入错误：{err}", EXIT_USAGE)
    words = []
    if weight is not None and (extra is not None and "weight" in extra.columns):
        words.append("单据文件的 weight 列")
    elif weight is not None and people is not None and "w" in people.columns:
        words.append(f"人员文件 {persons.name if persons else ''} 的 weight 列")
    if scale is not None:
        words.append(f"乘以 {scale}" if words else f"每人权重 {scale}")
    return weight, district, "，".join(words)


def read_claims(source: Path) -> ColumnarClaims:
    """The claims as checked columns, from Parquet or from a CSV/XLSX table."""
    from jiuzhu.io.claims_columnar import ColumnarInputError, read_parquet
    from jiuzhu.io.claims_table import ClaimsTableError, as_columns, is_table
    from jiuzhu.io.claims_table import read_claims as read_table

    try:
        return as_columns(read_table(source)) if is_table(source) else read_parquet(source)
    except (ColumnarInputError, ClaimsTableError) as err:
        fail(f"输入错误：{err}", EXIT_USAGE)


def _rich(t: TextTable) -> Table:
    from rich.table import Table

    table = Table(title=t.title, title_justify="left", show_lines=False)
    for i, name in enumerate(t.columns):
        table.add_column(name, justify="right" if i in t.numeric else "left")
    for row in t.rows:
        table.add_row(*row)
    return table


def show(console: Console, sim: Simulation, header: list[str]) -> None:
    """The tables a person reads in the terminal, with their notes."""
    from jiuzhu.analysis.tables import all_tables

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
    persons: PersonsOpt = None,
    scale: ScaleOpt = None,
    changes_file: ChangesOpt = None,
    xlsx: XlsxOpt = None,
    csv: CsvOpt = None,
) -> None:
    """政策模拟：同一年的单据按现行政策和改革方案各结算一次，比较支出、受益人数、保障水平和个人负担（按救助身份、按区县）。"""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from jiuzhu.analysis.simulation import changed_parameters, compare, settle_year, to_json

    _check_outputs(json_file, changes_file, xlsx)
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
        weight, district, weights = people_facts(source, claims, cc, persons, scale)
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
            weight=weight,
            district=district,
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
                weights,
            )
            try:
                report = write_report(sim, meta, out)
            except OSError as err:
                fail(f"无法写入报告目录 {out}：{err.strerror}", EXIT_DATA)
        progress.update(task, advance=1, description="完成")

    reform_desc = "；".join(
        [f"改革文件 {p}" for p in reform or []] + [f"--set {s}" for s in set_ or []]
    )
    scope = f"已结算 {sim.claims:,} 笔，{sim.persons:,} 人"
    if sim.weighted:
        scope = (
            f"样本 {sim.sample.baseline:,} 笔、{sim.sample.reform:,} 人，"
            f"按权重推算 {sim.claims:,} 笔、{sim.persons:,} 人（{weights}）"
        )
    header = [
        f"[bold]政策模拟：{baseline.policy.name}[/bold]（{baseline.policy.id}）",
        f"单据 {source}：{scope}",
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
        with written(json_file, "JSON 文件") as tmp:
            tmp.write_text(
                json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        console.print(f"JSON：{json_file}")
    _write_tables(console, sim, xlsx, csv, changes_file)
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


def _check_outputs(json_file: Path | None, changes: Path | None, xlsx: Path | None) -> None:
    """Every file the command will write can be written (before any work is done)."""
    if changes is not None:
        if changes.suffix.lower() not in (".csv", ".xlsx"):
            fail(f"--changes 的文件须以 .csv 或 .xlsx 结尾，而不是 {changes}")
        writable(changes, "人员名单文件")
    if xlsx is not None:
        if xlsx.suffix.lower() != ".xlsx":
            fail(f"--xlsx 的文件须以 .xlsx 结尾，而不是 {xlsx}")
        writable(xlsx, "XLSX 文件")
    if json_file is not None:
        writable(json_file, "JSON 文件")


def _write_tables(
    console: Console,
    sim: Simulation,
    xlsx: Path | None,
    csv: Path | None,
    changes: Path | None,
) -> None:
    """The tables as an XLSX workbook and CSV files, and the people whose burden changes."""
    from jiuzhu.analysis.tables import SHEET_NAMES, all_tables, changed_people_table
    from jiuzhu.io.xlsx import TooManyRows, write_csv, write_xlsx

    tables = [t for t in all_tables(sim) if t.rows]
    if xlsx is not None:
        with written(xlsx, "XLSX 文件") as tmp:
            write_xlsx(tmp, [t.sheet(SHEET_NAMES[t.key]) for t in tables])
        console.print(f"XLSX：{xlsx}")
    if csv is not None:
        try:
            csv.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            fail(f"无法建立 CSV 目录 {csv}：{err.strerror}", EXIT_DATA)
        for t in tables:
            target = csv / f"{SHEET_NAMES[t.key]}.csv"
            with written(target, "CSV 文件") as tmp:
                write_csv(tmp, t.sheet())
        console.print(f"CSV：{csv}（{len(tables)} 个文件）")
    if changes is not None:
        sheet = changed_people_table(sim).sheet(SHEET_NAMES["changed"])
        with written(changes, "人员名单文件") as tmp:
            if changes.suffix.lower() == ".csv":
                write_csv(tmp, sheet)
            else:
                try:
                    write_xlsx(tmp, [sheet])
                except TooManyRows as err:
                    fail(f"{err}：请改用 .csv", EXIT_USAGE)
        console.print(f"个人负担有变化的人员：{len(sim.changed):,} 人 → {changes}")
