"""``jiuzhu demo``: settle the bundled sample year under each of the five policies."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported in demo(): `jiuzhu --help` loads this module (performance.md)
    from jiuzhu.domain.engine.settlement import Settlement
    from jiuzhu.domain.policy.model import Policy

TEMPLATE_YEAR = "2001-"


def demo_year(policy: Policy) -> int:
    """The first natural year the policy is in force for the whole of."""
    start = policy.effective.start
    return start.year if (start.month, start.day) == (1, 1) else start.year + 1


def place(policy: Policy) -> str:
    """The place a policy is for, as a column header: 聊城, 杭州, 山西 …"""
    return policy.jurisdiction[:2]


def demo(
    web: Annotated[
        bool,
        typer.Option("--web", help="改为建立演示数据库、演示账户，并启动服务供浏览器查看网页"),
    ] = False,
    db: Annotated[
        str, typer.Option("--db", metavar="文件", help="--web 的演示数据库（SQLite 文件）")
    ] = "jiuzhu-demo.db",
    port: Annotated[int, typer.Option("--port", help="--web 的端口")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="--web 建好数据库后是否启动服务")
    ] = True,
) -> None:
    """用随软件提供的样例年度单据，按五个政策分别结算，并汇总各项支付和保障率；
    加 --web：建立演示数据库和演示账户，启动服务，在浏览器中查看工作人员网页。"""
    if web:
        from jiuzhu.cli.demo_pages import run

        run(db, port, serve)
        return
    from rich import box
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from jiuzhu.domain.engine.reference import ClaimRejected, ReferenceEngine
    from jiuzhu.domain.engine.state import PersonState
    from jiuzhu.domain.indicators import percent, summarize
    from jiuzhu.domain.money import format_yuan
    from jiuzhu.domain.vocabulary import Benefit
    from jiuzhu.io.claims import parse_lines
    from jiuzhu.io.policy_files import compile_policy, load_policy, shipped_ids

    text = (resources.files("jiuzhu") / "data" / "demo_claims.jsonl").read_text(encoding="utf-8")
    console = Console()
    results: dict[str, list[Settlement]] = {}
    rejected: dict[str, int] = {}
    policies = {pid: load_policy(pid) for pid in shipped_ids()}
    with Progress(console=console, transient=True) as progress:
        for pid, policy in policies.items():
            year = demo_year(policy)
            parsed = parse_lines(text.replace(TEMPLATE_YEAR, f"{year}-").splitlines())
            engine = ReferenceEngine(compile_policy(policy))
            task = progress.add_task(f"{pid} {year}", total=len(parsed.claims))
            states: dict[str, PersonState] = {}
            ordered = sorted(parsed.claims, key=lambda nc: (nc[1].person_id, nc[1].settlement_date))
            out: list[Settlement] = []
            bad = len(parsed.errors)
            for _, claim in ordered:
                try:
                    out.append(
                        engine.settle(claim, states.setdefault(claim.person_id, PersonState()))
                    )
                except ClaimRejected:
                    bad += 1
                progress.advance(task)
            results[pid], rejected[pid] = out, bad
    # 80 columns: places as headers (the policy IDs in the line below), money unwrapped,
    # long item names wrapped, no vertical rules
    table = Table(
        title="样例年度结算汇总（元）",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )
    table.add_column("项目", min_width=8, overflow="fold")
    for policy in policies.values():
        table.add_column(f"{place(policy)}\n{demo_year(policy)}年", justify="right", no_wrap=True)
    sums = {pid: summarize(s) for pid, s in results.items()}
    table.add_row("结算单据数", *[str(sums[p][0].claims) for p in policies])
    table.add_row("医疗总费用", *[format_yuan(sums[p][0].total) for p in policies])
    for b in Benefit:
        if any(sums[p][0].by_benefit[b] for p in policies):
            table.add_row(b.zh, *[format_yuan(sums[p][0].by_benefit[b]) for p in policies])
    table.add_row("个人负担", *[format_yuan(sums[p][0].personal) for p in policies])
    table.add_row("大病关怀救助*", *[format_yuan(sums[p][0].grants) for p in policies])
    table.add_row(
        "医疗费用综合保障率", *[percent(sums[p][0].protected, sums[p][0].total) for p in policies]
    )
    table.add_row(
        "医疗费用个人负担率", *[percent(sums[p][0].personal, sums[p][0].total) for p in policies]
    )
    table.add_row(
        "救助对象综合保障率", *[percent(sums[p][1].protected, sums[p][1].total) for p in policies]
    )
    table.add_row(
        "救助对象个人负担率", *[percent(sums[p][1].personal, sums[p][1].total) for p in policies]
    )
    console.print(table)
    console.print(
        "政策："
        + "，".join(f"{place(pol)} {p}" for p, pol in policies.items())
        + "。基本医保、大病保险按各政策文件中的假定值计算（见 jiuzhu policy show）；"
        "*大病关怀救助另行发放给本人，不在单据的结算金额之内。"
    )
    if any(rejected.values()):
        console.print("未结算单据：" + "，".join(f"{p} {n}" for p, n in rejected.items() if n))
