"""Tables a person reads (rich): a settlement with its formulas and clauses, a year."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.statement import YearStatement, visit_words
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


def render_year(console: Console, y: YearStatement, policy: Policy) -> None:
    """A person's year: one row per claim, every tier, the totals and the burden's parts."""
    keys = [k for k, _ in y.tier_names]
    table = Table(
        title=f"{y.year}年度结算汇总　参保人 {mask_id(y.person_id)}　{policy.name}（{policy.id}）",
        title_justify="left",
    )
    table.add_column("结算日期", no_wrap=True)
    table.add_column("单据号")
    table.add_column("就医类型")
    table.add_column("医疗总费用", justify="right")
    for _, name in y.tier_names:
        table.add_column(name, justify="right")
    table.add_column("个人负担", justify="right")
    for s in y.claims:
        table.add_row(
            s.claim.settlement_date.isoformat(),
            s.claim.claim_id,
            visit_words(s.claim),
            format_yuan(s.claim.total),
            *[format_yuan(s.settlement.amount(Benefit(k))) for k in keys],
            format_yuan(s.settlement.personal),
        )
    table.add_row(
        "[bold]合计[/bold]",
        "",
        "",
        format_yuan(y.total),
        *[format_yuan(y.tier_total(k)) for k in keys],
        f"[bold]{format_yuan(y.personal.total)}[/bold]",
    )
    console.print(table)
    p = y.personal
    console.print(
        f"个人负担 {format_yuan(p.total)} 元：全自费 {format_yuan(p.full_self_pay)}，"
        f"先行自付 {format_yuan(p.partial_self_pay)}，"
        f"政策范围内个人负担 {format_yuan(p.policy_scope)}"
    )
    if y.grant:
        console.print(f"{GRANT_ZH}（另行发放）：{format_yuan(y.grant)} 元")
    console.print()
