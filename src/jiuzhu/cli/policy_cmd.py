"""``jiuzhu policy``: list, show, check and diff policy files."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jiuzhu.cli.common import EXIT_DATA, fail
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.policy.audit import leaves, walk
from jiuzhu.domain.policy.constraints import check as check_constraints
from jiuzhu.domain.policy.model import CumulativeBenefit, Policy, PoolTerms
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.policy_files import (
    PolicyFileError,
    compile_policy,
    load_framework,
    load_policy,
    shipped_ids,
)


def _wide() -> Console:
    """Tables of policies are wide; keep them readable when piped to a file."""
    return Console(width=max(Console().width, 160))


app = typer.Typer(help="政策文件：列出、查看、校验、比较。", no_args_is_help=True)
Ref = Annotated[str, typer.Argument(help="政策 ID 或政策文件路径")]


def _load(ref: str) -> tuple[Policy, CompiledPolicy]:
    try:
        policy = load_policy(ref)
        return policy, compile_policy(policy, ref)
    except PolicyFileError as err:
        fail(f"政策错误：\n{err}", EXIT_DATA)


@app.command("list")
def list_() -> None:
    """列出随软件提供的政策。"""
    table = Table("ID", "名称", "地区", "施行")
    for pid in shipped_ids():
        p, _ = _load(pid)
        end = f" 至 {p.effective.end}" if p.effective.end else " 起"
        table.add_row(pid, p.name, p.jurisdiction, f"{p.effective.start}{end}")
    Console().print(table)


def _rates(s: PoolTerms) -> str:
    if s.segments:
        parts, lower = [], "0"
        for seg in s.segments:
            upper = str(seg.upto) if seg.upto else "以上"
            parts.append(f"{lower}–{upper} {seg.rate}" if seg.upto else f"{lower}以上 {seg.rate}")
            lower = str(seg.upto) if seg.upto else lower
        return "；".join(parts)
    return str(s.rate) if s.rate else "审核认定"


def _schedule_rows(ben: CumulativeBenefit) -> list[list[str]]:
    """One row per schedule, plus one per pool whose terms differ (a sub-cap, a level)."""
    rows = []
    for key, s in ben.schedules.items():
        cats = "、".join(c.zh for c in s.categories) if s.categories else "全体参保人员"
        clause = s.clause or ben.clause or ""
        assumed = "是" if (s.assumed or ben.assumed) else ""
        shared = str(s.cap) if s.cap else "不设"
        if s.cap and s.cap_pools:
            shared += "（" + "、".join(s.cap_pools) + " 共用）"
        base_rate = _rates(s) if (s.rate or s.segments) else "—"
        ded = str(s.deductible) if s.deductible else "0.00"
        rows.append([key, "全部", cats, ded, base_rate, shared, clause, assumed])
        for pool, t in s.pools.items():
            rate = str(t.rate) if t.rate else (_rates(t) if t.segments else base_rate)
            rows.append(
                [
                    "",
                    pool,
                    "",
                    str(t.deductible) if t.deductible else ded,
                    rate,
                    f"子限额 {t.cap}" if t.cap else "",
                    t.clause or "",
                    "",
                ]
            )
    return rows


@app.command()
def show(
    ref: Ref,
    params: Annotated[bool, typer.Option("--params", help="列出每一项取值及其条款")] = False,
) -> None:
    """以表格显示政策：各项待遇的标准、条款，以及哪些取值为假定值。"""
    policy, _ = _load(ref)
    console = _wide()
    end = f"至 {policy.effective.end}" if policy.effective.end else "起施行"
    console.print(
        f"[bold]{policy.name}[/bold]（{policy.id}）\n{policy.document}\n"
        f"{policy.jurisdiction}　{policy.effective.start} {end}　"
        f"条款出处：{policy.citation}"
    )
    console.print(
        "救助对象（就高不重复，按此顺序取优）："
        + "、".join(c.zh for c in policy.categories.precedence)
        + f"　[{policy.categories.clause}]"
    )
    for b, ben in policy.benefits.cumulative():
        table = Table(
            title=f"{b.zh}（{b.value}）" + ("　审核认定，一站式不支付" if not ben.desk else ""),
            title_justify="left",
            show_lines=True,
        )
        for col in ("标准", "适用费用", "类别", "起付线", "比例", "年度限额", "条款", "假定"):
            table.add_column(col)
        for row in _schedule_rows(ben):
            table.add_row(*row)
        console.print(table)
        for key, tilt in ben.tilts.items():
            console.print(
                f"  倾斜 {key}："
                + "、".join(c.zh for c in tilt.categories)
                + (f" 起付线降低{tilt.deductible_cut}" if tilt.deductible_cut else "")
                + (f" 比例提高{tilt.rate_add}" if tilt.rate_add else "")
                + (" 取消封顶" if tilt.remove_cap else "")
                + f"　[{tilt.clause}]"
            )
    q = policy.benefits.major_disease_quota
    if q is not None:
        console.print(
            f"重特大疾病单病种限额付费：医保基金 {q.basic_insurance_rate}，"
            + "，".join(
                "、".join(c.zh for c in s.categories) + f" 救助 {s.rate}"
                for s in q.schedules.values()
            )
            + f"　[{q.clause}]"
        )
        table = Table("病种", "ICD-10", "限额", title="单病种限额（假定值须由设区市替换）")
        for d in policy.diseases[q.disease_list].items:
            table.add_row(d.name, ", ".join(d.icd10), str(d.quota))
        console.print(table)
    g = policy.benefits.critical_care_grant
    if g is not None:
        console.print(
            f"大病关怀救助：{'、'.join(c.zh for c in g.categories)}，一次性 {g.amount} 元"
            f"　[{g.clause}]"
        )
    for ex in policy.exclusions:
        console.print(
            f"不予救助：{ex.text}（{'、'.join(Benefit(b).zh for b in ex.benefits)}）　[{ex.clause}]"
        )
    if policy.enrolment_subsidy is not None:
        e = policy.enrolment_subsidy
        table = Table(
            "类别",
            "资助方式",
            "金额",
            "条款",
            title=f"资助参保（个人缴费 {e.premium} 元）",
            title_justify="left",
        )
        for s in e.schedules.values():
            kind = "全额资助" if s.kind == "full" else "定额资助"
            if s.split:
                kind += "（" + "、".join(f"{k} {v}" for k, v in s.split.items()) + "）"
            table.add_row(
                "、".join(c.zh for c in s.categories),
                kind,
                str(s.amount) if s.amount else str(e.premium),
                s.clause or e.clause or "",
            )
        console.print(table)
    assumed = [i for i in walk(policy) if i.assumed]
    console.print(
        f"共 {len(list(walk(policy)))} 项取值，其中 {len(assumed)} 项为假定值（assumed）。"
    )
    if params:
        table = Table("位置", "取值", "条款", "假定值说明", title="全部取值", show_lines=False)
        for info in walk(policy):
            table.add_row(
                info.path,
                str(info.param),
                info.clause or "",
                (info.note or "") if info.assumed else "",
            )
        console.print(table)


@app.command("check")
def check_cmd(file: Ref) -> None:
    """校验政策文件：格式、条款出处，以及省级框架的下限和上限。"""
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
