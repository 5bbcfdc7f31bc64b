"""``jiuzhu explain``: each settlement as a table with its formulas and clauses."""

from __future__ import annotations

import typer

from jiuzhu.cli.common import (
    EXIT_DATA,
    InputOpt,
    OverrideOpt,
    PolicyOpt,
    SetOpt,
    get_policy,
    read_input,
    report_errors,
    settle_input,
)


def explain(
    policy: PolicyOpt,
    input: InputOpt = "-",
    override: OverrideOpt = None,
    set_: SetOpt = None,
) -> None:
    """以表格解释每笔结算：每项待遇的金额、基数、公式和政策条款。"""
    from rich.console import Console

    from jiuzhu.cli.render import render_settlement

    compiled = get_policy(policy, override, set_)
    settlements, errors = settle_input(compiled, read_input(input))
    console = Console()
    for s in settlements:
        render_settlement(console, s, compiled.policy)
    report_errors(errors)
    if errors:
        raise typer.Exit(EXIT_DATA)
