"""The enrolment ledger (参保台账) as XLSX: one row per subsidised person, and totals.

福建 闽医保〔2021〕93号 二(一)6 asks for "参保台账"; this is its shape for any policy. Money is
written as ``Decimal`` yuan made from exact fen (never a float sum); ID numbers are masked
(``mask_id``); headers are Chinese; names are text, never formulas. The look (header,
widths, 合计, print setup) is the shared one of ``io.xlsx``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jiuzhu.domain.enrolment import KIND_ZH, Subsidy, payer_zh
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.vocabulary import Category

LEDGER_SHEET = "参保台账"
TOTALS_SHEET = "汇总"


@dataclass(frozen=True)
class LedgerRow:
    id_number: str
    """Full ID number: masked when written."""
    name: str
    household: str
    """户主姓名 (the household head), as the roster names it."""
    township: str
    village: str
    district: str
    """GB/T 2260 code, with its name when known."""
    subsidy: Subsidy


@dataclass
class Total:
    people: int = 0
    amount: int = 0
    shares: dict[str, int] | None = None


def totals_by_category(rows: Sequence[LedgerRow], payers: Sequence[str]) -> dict[Category, Total]:
    out: dict[Category, Total] = {}
    for r in rows:
        t = out.setdefault(r.subsidy.category, Total(shares=dict.fromkeys(payers, 0)))
        assert t.shares is not None
        t.people += 1
        t.amount += r.subsidy.amount
        for s in r.subsidy.shares:
            t.shares[s.payer] = t.shares.get(s.payer, 0) + s.amount
    return out


def _period(s: Subsidy) -> str:
    end = s.held_to.isoformat() if s.held_to else "今"
    return f"{s.held_from.isoformat()}至{end}"


def write_ledger(
    path: Path,
    rows: Sequence[LedgerRow],
    payers: Sequence[str],
    *,
    title: str,
    created: dt.date | None = None,
) -> None:
    """Write the ledger and its totals sheet; ``payers`` orders the share columns."""
    from jiuzhu.io.xlsx import Column, Sheet, Value, write_xlsx, yuan

    shares = [Column(f"{payer_zh(p)}（元）", "money", total=True) for p in payers]
    columns = [
        Column("序号", "integer"),
        Column("身份证号码（脱敏）"),
        Column("姓名"),
        Column("户主姓名"),
        Column("乡（镇）"),
        Column("行政村"),
        Column("行政区划"),
        Column("资助类别"),
        Column("资助方式"),
        Column("个人缴费标准（元）", "money"),
        Column("资助金额（元）", "money", total=True),
        *shares,
        Column("个人应缴（元）", "money", total=True),
        Column("资格期间"),
        Column("政策依据", "wrap"),
    ]
    body: list[list[Value]] = []
    for n, r in enumerate(rows, start=1):
        s = r.subsidy
        share = {x.payer: x.amount for x in s.shares}
        clause = s.clause + ("（含假定值，以当地文件为准）" if s.assumed else "")
        body.append(
            [
                n,
                mask_id(r.id_number),
                r.name,
                r.household,
                r.township,
                r.village,
                r.district,
                s.category.zh,
                KIND_ZH[s.kind],
                yuan(s.premium),
                yuan(s.amount),
                *[yuan(share.get(p, 0)) for p in payers],
                yuan(s.premium - s.amount),
                _period(s),
                clause,
            ]
        )
    notes = [f"制表日期：{created.isoformat()}"] if created is not None else []
    by_category: list[list[Value]] = [
        [cat.zh, t.people, yuan(t.amount), *[yuan((t.shares or {})[p]) for p in payers]]
        for cat, t in totals_by_category(rows, payers).items()
    ]
    write_xlsx(
        path,
        [
            Sheet(LEDGER_SHEET, columns, body, title=title, notes=notes),
            Sheet(
                TOTALS_SHEET,
                [
                    Column("资助类别"),
                    Column("人数", "integer", total=True),
                    Column("资助金额（元）", "money", total=True),
                    *shares,
                ],
                by_category,
                title=title,
                notes=notes,
            ),
        ],
    )
