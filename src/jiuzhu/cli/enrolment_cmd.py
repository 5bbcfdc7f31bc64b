"""``jiuzhu enrolment YEAR``: 资助参保 for a year from the registry (docs/enrolment.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jiuzhu.cli.common import (
    EXIT_USAGE,
    OverrideOpt,
    PolicyOpt,
    SetOpt,
    fail,
    get_policy,
    writable,
    written,
)
from jiuzhu.cli.registry_cmd import DbOpt
from jiuzhu.domain.clock import today
from jiuzhu.domain.money import format_yuan

if TYPE_CHECKING:  # imported where used: `jiuzhu --help` loads this module (performance.md)
    from jiuzhu.domain.enrolment import Decision
    from jiuzhu.domain.policy.model import Policy
    from jiuzhu.domain.registry import Membership
    from jiuzhu.io.enrolment_ledger import LedgerRow


@dataclass(frozen=True)
class RegistryPerson:
    id_number: str
    name: str
    household: str
    township: str
    village: str
    district: str
    memberships: tuple[Membership, ...]


def load_registry(db: str | None) -> list[RegistryPerson]:
    """Every person in the registry with their memberships and household (one query each)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from jiuzhu.cli.database import open_existing
    from jiuzhu.domain.registry import Membership
    from jiuzhu.domain.vocabulary import Category
    from jiuzhu.storage.db import session_factory
    from jiuzhu.storage.models import District, Household, Person

    engine = open_existing(db)
    out: list[RegistryPerson] = []
    with session_factory(engine)() as session:
        households = {h.id: h for h in session.scalars(select(Household))}
        districts = {d.code: d.name for d in session.scalars(select(District))}
        persons = session.scalars(
            select(Person).options(selectinload(Person.memberships)).order_by(Person.id)
        )
        for p in persons:
            h = households.get(p.household_id) if p.household_id is not None else None
            code = h.district_code if h is not None else None
            district = ""
            if code:
                district = f"{code} {districts.get(code) or ''}".strip()
            ms = tuple(
                Membership(Category(m.category), m.valid_from, m.valid_to, m.source_file or "")
                for m in p.memberships
            )
            out.append(
                RegistryPerson(
                    id_number=p.id_number,
                    name=p.name or "",
                    household=(h.head_name or "") if h is not None else "",
                    township=(h.township or "") if h is not None else "",
                    village=(h.village or "") if h is not None else "",
                    district=district,
                    memberships=ms,
                )
            )
    engine.dispose()
    return out


def _json_report(
    policy: Policy, year: int, rows: Sequence[LedgerRow], decisions: Sequence[Decision]
) -> dict[str, Any]:
    from jiuzhu.domain.enrolment import DENOMINATOR_ZH, enrolment_rate, payers
    from jiuzhu.domain.ids import mask_id
    from jiuzhu.io.enrolment_ledger import totals_by_category

    section = policy.enrolment_subsidy
    assert section is not None
    pays = payers(section)
    rate = enrolment_rate(decisions)
    totals = totals_by_category(rows, pays)
    return {
        "year": year,
        "policy": policy.id,
        "premium": format_yuan(section.premium.value),
        "people": [
            {
                "id_number": mask_id(r.id_number),
                "name": r.name,
                "category": r.subsidy.category.value,
                "kind": r.subsidy.kind,
                "premium": format_yuan(r.subsidy.premium),
                "subsidy": format_yuan(r.subsidy.amount),
                "shares": {s.payer: format_yuan(s.amount) for s in r.subsidy.shares},
                "clause": r.subsidy.clause,
            }
            for r in rows
        ],
        "totals": {
            c.value: {
                "people": t.people,
                "subsidy": format_yuan(t.amount),
                "shares": {p: format_yuan(v) for p, v in (t.shares or {}).items()},
            }
            for c, t in totals.items()
        },
        "rate": {
            "subsidised": rate.subsidised,
            "assisted": rate.assisted,
            "rate": rate.text(),
            "denominator": DENOMINATOR_ZH,
        },
    }


def enrolment(
    year: Annotated[int, typer.Argument(help="年度，如 2023")],
    policy: PolicyOpt,
    db: DbOpt = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="参保台账 XLSX 文件（每名受资助人员一行，另附汇总）"),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="以 JSON 写出名单、汇总和资助参保率")
    ] = None,
    override: OverrideOpt = None,
    set_: SetOpt = None,
) -> None:
    """资助参保：按登记的救助对象类别计算某年度谁获资助、资助多少、各方分担，以及资助参保率。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.domain.enrolment import (
        DENOMINATOR_ZH,
        KIND_ZH,
        decide,
        enrolment_rate,
        payer_zh,
        payers,
        period,
    )
    from jiuzhu.io.enrolment_ledger import LedgerRow, totals_by_category, write_ledger

    if ledger is not None:
        if ledger.suffix.lower() != ".xlsx":
            fail("--ledger 的文件须以 .xlsx 结尾", EXIT_USAGE)
        writable(ledger, "参保台账文件")
    if json_out is not None:
        writable(json_out, "JSON 文件")
    pol = get_policy(policy, override, set_).policy
    section = pol.enrolment_subsidy
    if section is None:
        fail(f"政策 {pol.id} 没有资助参保（enrolment_subsidy）规定", EXIT_USAGE)
    window = period(year, pol)
    if window is None:
        fail(f"政策 {pol.id} 在 {year} 年不在有效期内", EXIT_USAGE)
    people = load_registry(db)
    decisions = [decide(p.memberships, year, pol) for p in people]
    rows = [
        LedgerRow(p.id_number, p.name, p.household, p.township, p.village, p.district, d.subsidy)
        for p, d in zip(people, decisions, strict=True)
        if d.subsidy is not None
    ]
    order = list(pol.categories.precedence)
    rows.sort(key=lambda r: (order.index(r.subsidy.category) if r.subsidy.category in order
                             else len(order), r.id_number))  # fmt: skip
    pays = payers(section)
    title = (
        f"{year}年度 资助参保台账（{pol.jurisdiction}，政策 {pol.id}，"
        f"个人缴费标准 {format_yuan(section.premium.value)} 元）"
    )

    console = Console()
    table = Table(title=f"{title}\n金额单位：元", title_justify="left")
    table.add_column("资助类别", overflow="fold")
    table.add_column("资助方式", overflow="fold")
    table.add_column("人数", justify="right", no_wrap=True)
    table.add_column("资助金额", justify="right", no_wrap=True)
    for p in pays:
        table.add_column(payer_zh(p), justify="right", overflow="fold")
    totals = totals_by_category(rows, pays)
    kinds = {r.subsidy.category: KIND_ZH[r.subsidy.kind] for r in rows}
    all_people = all_amount = 0
    all_shares = dict.fromkeys(pays, 0)
    for cat, t in totals.items():
        shares = t.shares or {}
        table.add_row(
            cat.zh,
            kinds[cat],
            str(t.people),
            format_yuan(t.amount),
            *[format_yuan(shares.get(p, 0)) for p in pays],
        )
        all_people += t.people
        all_amount += t.amount
        for p in pays:
            all_shares[p] += shares.get(p, 0)
    table.add_row(
        "合计",
        "",
        str(all_people),
        format_yuan(all_amount),
        *[format_yuan(all_shares[p]) for p in pays],
    )
    console.print(table)

    unsubsidised = Counter(d.assisted[0] for d in decisions if d.counted and d.subsidy is None)
    for cat, n in unsubsidised.items():
        console.print(f"未获资助：{cat.zh} {n} 人（本政策资助参保规定未列此类别）")
    rate = enrolment_rate(decisions)
    start, end = window
    console.print(
        f"资助参保率 {rate.text()} = 资助人数 {rate.subsidised} ÷ 救助对象人数 {rate.assisted}"
        f"（{start.isoformat()}至{end.isoformat()}）"
    )
    console.print(DENOMINATOR_ZH)

    if ledger is not None:
        with written(ledger, "参保台账文件") as tmp:
            write_ledger(tmp, rows, pays, title=title, created=today())
        console.print(f"参保台账已写入 {ledger}（{len(rows)} 人）")
    if json_out is not None:
        report = _json_report(pol, year, rows, decisions)
        with written(json_out, "JSON 文件") as tmp:
            tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
