"""``jiuzhu policy``: list, show, check and diff policy files."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, fail

if TYPE_CHECKING:  # imported where used: `jiuzhu --help` loads this module (performance.md)
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.domain.engine.rules import CompiledPolicy
    from jiuzhu.domain.policy.model import Policy
    from jiuzhu.domain.policy.summary import Rule


def _wide() -> Console:
    """Tables of policies are wide; keep them readable when piped to a file."""
    from rich.console import Console

    return Console(width=max(Console().width, 160))


app = typer.Typer(help="政策文件：列出、查看、校验、比较。", no_args_is_help=True)
Ref = Annotated[str, typer.Argument(help="政策 ID 或政策文件路径")]


def _load(ref: str) -> tuple[Policy, CompiledPolicy]:
    from jiuzhu.io.policy_files import PolicyFileError, compile_policy, load_policy

    try:
        policy = load_policy(ref)
        return policy, compile_policy(policy, ref)
    except PolicyFileError as err:
        fail(f"政策错误：\n{err}", EXIT_DATA)


@app.command("list")
def list_() -> None:
    """列出随软件提供的政策。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.io.policy_files import shipped_ids

    table = Table("ID", "名称", "地区", "施行")
    for pid in shipped_ids():
        p, _ = _load(pid)
        end = f" 至 {p.effective.end}" if p.effective.end else " 起"
        table.add_row(pid, p.name, p.jurisdiction, f"{p.effective.start}{end}")
    Console().print(table)


@app.command()
def show(
    ref: Ref,
    params: Annotated[bool, typer.Option("--params", help="列出每一项取值及其条款")] = False,
) -> None:
    """显示政策：各项待遇的标准和条款，以及哪些取值为假定值。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.domain.policy.summary import summarize

    _, compiled = _load(ref)
    s = summarize(compiled)
    console = Console(highlight=False)
    for line in s.heading:
        console.print(line)
    for sec in s.sections:
        console.print()
        clause = f"（{sec.clause}）" if sec.clause else ""
        console.print(f"[bold]■ {sec.title}[/bold]{clause}")
        console.print(_bullets(("·", _rule_text(r, sec.clause)) for r in sec.rules))
    assumed = sum(1 for p in s.params if p.note is not None)
    console.print()
    console.print(f"共 {len(s.params)} 项取值，其中 {assumed} 项为假定值。")
    if params:
        table = Table(title="全部取值")
        table.add_column("取值", overflow="fold", ratio=3)
        table.add_column("数值", no_wrap=True)
        table.add_column("条款", overflow="fold", ratio=2)
        table.add_column("假定", no_wrap=True)
        for p in s.params:
            table.add_row(p.name, p.value, p.clause or "", f"说明{p.note}" if p.note else "")
        console.print(table)
    if s.notes:
        console.print()
        console.print("[bold]假定值说明[/bold]（文件未规定、须以当地规定替换的取值）")
        console.print(_bullets((f"{i}.", n) for i, n in enumerate(s.notes, 1)))


def _rule_text(rule: Rule, section_clause: str | None) -> str:
    mark = "〔假定〕" if rule.assumed else ""
    where = f"［{rule.clause}］" if rule.clause and rule.clause != section_clause else ""
    return f"{rule.text}{mark}{where}"


def _bullets(lines: Iterable[tuple[str, str]]) -> Table:
    """(mark, text) lines with a hanging indent, wrapped inside the terminal's width
    (Chinese text included, which has no spaces to break at)."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=4, justify="right")
    grid.add_column(overflow="fold")
    for mark, line in lines:
        grid.add_row(mark, line)
    return grid


@app.command("check")
def check_cmd(file: Ref) -> None:
    """校验政策文件：格式、条款出处，以及省级框架的下限和上限。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.domain.policy.constraints import check as check_constraints
    from jiuzhu.io.policy_files import PolicyFileError, load_framework

    policy, compiled = _load(file)
    typer.echo(f"{policy.id}：格式正确，每项取值均有条款出处。")
    if policy.framework is None:
        typer.echo("该政策不受省级框架约束。")
        return
    try:
        framework = load_framework(policy.framework)
    except PolicyFileError as err:
        fail(f"框架错误：\n{err}", EXIT_DATA)
    violations = check_constraints(compiled, framework)
    if not violations:
        typer.echo(f"符合{framework.name}的全部 {len(framework.constraints)} 项约束。")
        return
    table = Table(
        "约束", "条款", "规定", "不符合之处", title=f"不符合{framework.name}的约束", show_lines=True
    )
    for v in violations:
        table.add_row(v.constraint, v.clause, v.text, v.detail)
    Console(stderr=True, width=max(Console(stderr=True).width, 160)).print(table)
    raise typer.Exit(EXIT_DATA)


@app.command()
def diff(a: Ref, b: Ref) -> None:
    """比较两个政策：哪些取值不同、增加或删除。"""
    from rich.table import Table

    from jiuzhu.domain.policy.audit import leaves

    pa, _ = _load(a)
    pb, _ = _load(b)
    la = {p: (v, c) for p, v, c in leaves(pa)}
    lb = {p: (v, c) for p, v, c in leaves(pb)}
    table = Table(
        "位置",
        pa.id if pa.id != pb.id else a,
        pb.id if pa.id != pb.id else b,
        "条款",
        title=f"{a} → {b}",
        show_lines=False,
    )
    changes = 0
    for path in sorted(set(la) | set(lb)):
        va, vb = la.get(path), lb.get(path)
        if va is not None and vb is not None and va[0] == vb[0]:
            continue
        changes += 1
        clause = (vb or va or ("", None))[1] or ""
        table.add_row(path, va[0] if va else "—", vb[0] if vb else "—", clause)
    console = _wide()
    if changes:
        console.print(table)
    console.print(f"共 {changes} 处不同。")
