"""Tables a person reads (rich): a settlement with its formulas and clauses."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.vocabulary import BENEFIT_ZH, GRANT_ZH, Benefit

_NAMES = {b.value: zh for b, zh in BENEFIT_ZH.items()}
_NAMES["category"] = "救助身份"
_NAMES["policy"] = "政策取值"
_NAMES["critical_care_grant"] = GRANT_ZH


def render_settlement(console: Console, s: Settlement, policy: Policy) -> None:
    title = (
        f"单据 {s.claim_id}　参保人 {mask_id(s.person_id)}　{s.category.zh}　"
        f"{policy.name}（{policy.id}）"
    )
    table = Table(title=title, show_lines=True, title_justify="left", expand=True)
    table.add_column("项目", no_wrap=True)
    table.add_column("金额（元）", justify="right", no_wrap=True)
    table.add_column("计算依据", overflow="fold")
    table.add_column("条款", no_wrap=True)
    for line in s.lines:
        detail = line.text
        if line.formula:
            detail += f"\n[dim]{line.formula}[/dim]"
        amount = "" if line.benefit in ("category", "policy") else format_yuan(line.amount)
        table.add_row(_NAMES.get(line.benefit, line.benefit), amount, detail, line.clause or "")
    console.print(table)
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_column()
    summary.add_column(justify="right")
    summary.add_row("医疗总费用", format_yuan(s.total))
    for b in Benefit:
        if s.amount(b):
            summary.add_row(b.zh, format_yuan(s.amount(b)))
    summary.add_row("[bold]个人负担[/bold]", f"[bold]{format_yuan(s.personal)}[/bold]")
    if s.critical_care_grant:
        summary.add_row(f"{GRANT_ZH}（另行发放）", format_yuan(s.critical_care_grant))
    console.print(summary)
    console.print()
