"""``jiuzhu explain``: each settlement with its formulas and clauses, in the terminal or as
a printable statement (结算单: PDF, HTML, XLSX), per claim or for a person's year.

The claims settle as ``jiuzhu settle`` settles them (the reference engine; with
``--registry``, a claim that gives no category takes the registry's memberships), and the
statement says where the category applied came from: the roster row or certificate the
registry holds it by, or the line of the claims file that gave it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jiuzhu.cli.common import (
    EXIT_DATA,
    EXIT_USAGE,
    InputOpt,
    OverrideOpt,
    PolicyOpt,
    SetOpt,
    fail,
    get_policy,
    read_input,
    report_errors,
    writable,
    written,
)
from jiuzhu.cli.settle_cmd import RegistryOpt, registry_hook

if TYPE_CHECKING:
    from jiuzhu.domain.claims import Claim
    from jiuzhu.domain.engine.rules import CompiledPolicy
    from jiuzhu.domain.engine.settlement import Settlement
    from jiuzhu.domain.statement import ClaimStatement
    from jiuzhu.io.claims import InputError
    from jiuzhu.io.registry_categories import RegistryCategories


class Format(StrEnum):
    terminal = "terminal"
    pdf = "pdf"
    html = "html"
    xlsx = "xlsx"


class Kind(StrEnum):
    claim = "claim"
    year = "year"


FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="terminal：终端表格（默认）；pdf、html、xlsx：可打印的结算单，写入 --output"
        "（不给 --format 时按 --output 的扩展名）",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="文件", help="结算单文件（.pdf、.html 或 .xlsx）"),
]
StatementOpt = Annotated[
    Kind,
    typer.Option(
        "--statement",
        help="claim：每笔单据一张结算单（默认）；year：每人每个自然年度一张年度结算汇总单，"
        "其后附各笔结算单",
    ),
]
ClaimOpt = Annotated[
    str | None, typer.Option("--claim", metavar="单据号", help="只出这笔单据的结算单")
]
PersonOpt = Annotated[
    str | None,
    typer.Option("--person", metavar="参保人", help="只出此参保人（身份证号或编号）的结算单"),
]


def explain(
    policy: PolicyOpt,
    input: InputOpt = "-",
    override: OverrideOpt = None,
    set_: SetOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    statement: StatementOpt = Kind.claim,
    claim: ClaimOpt = None,
    person: PersonOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """解释每笔结算：每项待遇的金额、基数、公式和政策条款；可写为可打印的结算单（PDF、HTML、XLSX）。"""
    fmt = _format(format, output)
    if fmt is not Format.terminal:
        assert output is not None
        writable(output, "结算单文件")
    compiled = get_policy(policy, override, set_)
    hook = registry_hook(registry)
    statements, errors = _statements(compiled, input, hook)
    chosen = _chosen(statements, claim, person)
    if fmt is Format.terminal:
        _print(compiled, chosen, statement)
    else:
        assert output is not None
        _write(compiled, chosen, statement, fmt, output)
    report_errors(errors)
    if errors:
        raise typer.Exit(EXIT_DATA)


def _format(format: Format | None, output: Path | None) -> Format:
    """The format asked for, or the one the output file's extension names."""
    if format is None:
        if output is None:
            return Format.terminal
        by_suffix = {".pdf": Format.pdf, ".html": Format.html, ".xlsx": Format.xlsx}
        found = by_suffix.get(output.suffix.lower())
        if found is None:
            fail(
                f"--output 的文件须以 .pdf、.html 或 .xlsx 结尾（或用 --format 指定），"
                f"而不是 {output}"
            )
        return found
    if format is Format.terminal:
        if output is not None:
            fail("--format terminal 输出到终端，不写文件：去掉 --output，或选 pdf、html、xlsx")
        return format
    if output is None:
        fail(f"--format {format.value} 须同时给出 --output 文件")
    return format


def _read(input: str) -> tuple[dict[int, Any], list[InputError]]:
    """The input's records by line (or row) number, and the errors only reading finds
    (a line that is not JSON, a table cell that is not 是/否)."""
    from jiuzhu.io.claims import InputError
    from jiuzhu.io.claims_table import is_table
    from jiuzhu.io.errors import JsonLineError, read_json_line

    if input != "-" and is_table(input):
        from jiuzhu.io.claims_table import ClaimsTableError, read_records

        try:
            rows, errors = read_records(Path(input))
        except ClaimsTableError as err:
            fail(f"输入错误：{err}")
        return dict(rows), errors
    records: dict[int, Any] = {}
    errors = []
    for n, line in enumerate(read_input(input), start=1):
        if not line.strip():
            continue
        try:
            records[n] = read_json_line(line)
        except JsonLineError as err:
            errors.append(InputError(n, None, "", err.reason))
    return records, errors


def _statements(
    compiled: CompiledPolicy, input: str, registry: RegistryCategories | None
) -> tuple[list[ClaimStatement], list[InputError]]:
    """Every claim settled (the reference engine, as ``settle``) and made a statement."""
    from jiuzhu.domain.engine.reference import ClaimRejected, settle_claims
    from jiuzhu.domain.statement import claim_statement
    from jiuzhu.io.claims import InputError, parse_records

    records, errors = _read(input)
    from_registry: set[int] = set()
    if registry is not None:  # (the registry's module loads SQLAlchemy: only when asked)
        from jiuzhu.io.registry_categories import gives_no_category

        from_registry = {n for n, r in records.items() if gives_no_category(r)}
        registry.prefetch(records.values())
        registry.engine.dispose()
    parsed = parse_records(sorted(records.items()), registry)
    errors = errors + parsed.errors
    claims = [c for _, c in parsed.claims]
    out = []
    for (line, c), result in zip(parsed.claims, settle_claims(compiled, claims), strict=True):
        if isinstance(result, ClaimRejected):
            errors.append(InputError(line, result.claim_id, result.field, result.message))
            continue
        source = (
            _registry_source(registry, c, result)
            if registry is not None and line in from_registry
            else _file_source(c, line, input)
        )
        out.append(claim_statement(c, result, compiled.policy, source))
    errors.sort(key=lambda e: e.line)
    return out, errors


def _span_words(claim: Claim) -> list[str]:
    words = []
    for span in claim.categories:
        start = f"自{span.valid_from.isoformat()}起" if span.valid_from else ""
        end = f"至{span.valid_to.isoformat()}止" if span.valid_to else ""
        words.append(span.category.zh + (f"（{start}{end}）" if start or end else ""))
    return words


def _file_source(claim: Claim, line: int, input: str) -> list[str]:
    where = "标准输入" if input == "-" else f"单据文件 {Path(input).name}"
    return [f"{where} 第 {line} 行所列类别：" + "、".join(_span_words(claim))]


def _registry_source(
    registry: RegistryCategories, claim: Claim, settlement: Settlement
) -> list[str]:
    """The memberships the registry holds for the person that were in force on the
    settlement date: the roster row or certificate of each (``Membership.describe``)."""
    from jiuzhu.domain.ids import mask_id

    held = registry.held.get(claim.person_id.strip().upper(), [])
    day = claim.settlement_date
    in_force = [m for m in held if m.in_force(day)]
    if not in_force:
        return [
            f"登记库中 {mask_id(claim.person_id)} 在 {day.isoformat()} 没有有效的救助对象类别，"
            "按普通参保人员结算"
        ]
    return [
        ("（适用）" if m.category is settlement.category else "") + m.describe()
        for m in sorted(in_force, key=lambda m: m.category is not settlement.category)
    ]


def _chosen(
    statements: list[ClaimStatement], claim: str | None, person: str | None
) -> list[ClaimStatement]:
    chosen = statements
    if claim is not None:
        chosen = [s for s in chosen if s.claim.claim_id == claim]
    if person is not None:
        wanted = person.strip().upper()
        chosen = [s for s in chosen if s.claim.person_id.strip().upper() == wanted]
    if (claim is not None or person is not None) and not chosen:
        from jiuzhu.domain.ids import mask_ids_in

        asked = "、".join(
            x for x in (f"单据 {claim}" if claim else "", f"参保人 {person}" if person else "") if x
        )
        fail(f"输入中没有{mask_ids_in(asked)}的已结算单据", EXIT_DATA)
    return chosen


def _print(compiled: CompiledPolicy, chosen: list[ClaimStatement], kind: Kind) -> None:
    from rich.console import Console

    from jiuzhu.cli.render import render_settlement, render_year
    from jiuzhu.domain.statement import year_statements

    console = Console()
    if kind is Kind.year:
        for y in year_statements(chosen):
            render_year(console, y, compiled.policy)
        return
    for s in chosen:
        render_settlement(console, s.settlement, compiled.policy)


def _write(
    compiled: CompiledPolicy, chosen: list[ClaimStatement], kind: Kind, fmt: Format, out: Path
) -> None:
    from jiuzhu.domain.statement import year_statements
    from jiuzhu.io import statement_files
    from jiuzhu.io.documents import DocumentError

    if not chosen:
        fail("没有可出结算单的单据（全部单据均有错误）", EXIT_DATA)
    years = year_statements(chosen) if kind is Kind.year else []
    claims = [] if kind is Kind.year else chosen
    try:
        with written(out, "结算单文件") as tmp:
            statement_files.write(tmp, fmt.value, compiled.policy, claims, years)
    except DocumentError as err:
        fail(str(err), EXIT_USAGE)
    what = (
        f"{len(years)} 张年度结算汇总单及 {len(chosen)} 张结算单"
        if years
        else f"{len(chosen)} 张结算单"
    )
    typer.echo(f"已写出{what}：{out}", err=True)
