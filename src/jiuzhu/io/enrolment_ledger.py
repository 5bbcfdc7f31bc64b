"""The enrolment ledger (参保台账) as XLSX: one row per subsidised person, and totals.

福建 004 二(一)6 asks for "参保台账"; this is its shape for any policy. Money is written
as ``Decimal`` yuan made from exact fen (never a float sum) with number format ``0.00``;
ID numbers are masked (``mask_id``). Headers are Chinese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from jiuzhu.domain.enrolment import KIND_ZH, Subsidy, payer_zh
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.vocabulary import Category

LEDGER_SHEET = "参保台账"
TOTALS_SHEET = "汇总"
MONEY_FORMAT = "0.00"


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


def yuan(fen: int) -> Decimal:
    """Exact yuan from fen: ``Decimal(17501) / 100`` → ``Decimal('175.01')``."""
    return Decimal(fen).scaleb(-2)


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


def _money(ws: Worksheet, row: int, cols: Sequence[int]) -> None:
    for c in cols:
        ws.cell(row=row, column=c).number_format = MONEY_FORMAT


def write_ledger(
    path: Path,
    rows: Sequence[LedgerRow],
    payers: Sequence[str],
    *,
    title: str,
    created: dt.date | None = None,
) -> None:
    """Write the ledger and its totals sheet; ``payers`` orders the share columns."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = LEDGER_SHEET
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    header = [
        "序号",
        "身份证号码（脱敏）",
        "姓名",
        "户主姓名",
        "乡（镇）",
        "行政村",
        "行政区划",
        "资助类别",
        "资助方式",
        "个人缴费标准（元）",
        "资助金额（元）",
        *[f"{payer_zh(p)}（元）" for p in payers],
        "个人应缴（元）",
        "资格期间",
        "政策依据",
    ]
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    first_money = header.index("个人缴费标准（元）") + 1
    money_cols = list(range(first_money, first_money + 3 + len(payers)))
    for n, r in enumerate(rows, start=1):
        s = r.subsidy
        share = {x.payer: x.amount for x in s.shares}
        clause = s.clause + ("（含假定值，以当地文件为准）" if s.assumed else "")
        ws.append(
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
        _money(ws, ws.max_row, money_cols)
    ws.freeze_panes = "A3"

    ts = wb.create_sheet(TOTALS_SHEET)
    ts.append([title])
    ts["A1"].font = Font(bold=True)
    ts.append(["资助类别", "人数", "资助金额（元）", *[f"{payer_zh(p)}（元）" for p in payers]])
    for cell in ts[2]:
        cell.font = Font(bold=True)
    by_cat = totals_by_category(rows, payers)
    tcols = list(range(3, 4 + len(payers)))
    grand = Total(shares=dict.fromkeys(payers, 0))
    assert grand.shares is not None
    for cat, t in by_cat.items():
        assert t.shares is not None
        ts.append([cat.zh, t.people, yuan(t.amount), *[yuan(t.shares[p]) for p in payers]])
        _money(ts, ts.max_row, tcols)
        grand.people += t.people
        grand.amount += t.amount
        for p in payers:
            grand.shares[p] += t.shares[p]
    ts.append(["合计", grand.people, yuan(grand.amount), *[yuan(grand.shares[p]) for p in payers]])
    _money(ts, ts.max_row, tcols)
    ts.cell(row=ts.max_row, column=1).font = Font(bold=True)
    if created is not None:
        ts.append([])
        ts.append([f"制表日期：{created.isoformat()}"])
    wb.save(path)
