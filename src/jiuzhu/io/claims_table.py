"""Claims from a spreadsheet (CSV or XLSX) with Chinese column headers.

A clerk keeps claims in Excel: one claim per row, the header row naming the columns as
people call them (医疗总费用, 政策范围内费用, 是否转诊 …; ``jiuzhu template claims``
writes such a file). Each row becomes a record of the JSON claim contract and is checked
by the same ``parse_record`` as a JSON line, so the rules and the messages are the same;
an error names the row as the spreadsheet numbers it.

What a cell may hold, beyond the JSON contract's own values: money as a number or as text
with at most two decimals (``60000``, ``1,234.5``; a third decimal is an error, never
rounded: an XLSX number is read back to the fen from its shortest decimal form, which is
what was typed); dates as date cells or text (2023-04-02, 2023/4/2, 2023年4月2日,
20230402); 是/否 for yes-or-no columns; 一级/二级/三级 (or 1, 2, 3) for the hospital level;
categories and visit types by their Chinese name, short name (低保) or identifier. One
category per row (``category``); claims with categories that change in the year use
JSON lines. Blank rows are skipped; columns 序号, 姓名 and 备注 are allowed and ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jiuzhu.io.claims import InputError, Parsed, parse_records

if TYPE_CHECKING:
    from jiuzhu.io.claims_columnar import ColumnarClaims

Kind = Literal["text", "money", "date", "level", "flag"]


@dataclass(frozen=True)
class TableField:
    """A column of a claims table: the contract's field, its header and what it holds."""

    field: str
    header: str
    kind: Kind = "text"
    required: bool = False
    how: str = ""
    """How to fill it, for the template's 填写说明 sheet."""
    aliases: tuple[str, ...] = ()


FIELDS: tuple[TableField, ...] = (
    TableField("claim_id", "单据号", required=True, how="每笔结算唯一", aliases=("单据编号",)),
    TableField(
        "person_id",
        "参保人身份证号码",
        required=True,
        how="同一人的单据按结算日期先后累计",
        aliases=("参保人", "身份证号码", "身份证号", "公民身份号码"),
    ),
    TableField(
        "category",
        "救助对象类别",
        how="类别名称（特困人员、低保对象…）、简称（低保、特困、低边）或标识符；"
        "不填：普通参保人员，或用 --registry 按登记库",
        aliases=("对象类别",),
    ),
    TableField(
        "visit_type",
        "就医类型",
        required=True,
        how="住院、门诊慢特病、普通门诊、大病保险特药",
    ),
    TableField(
        "settlement_date",
        "结算日期",
        "date",
        required=True,
        how="出院结算日期；资格和医疗年度按此日期",
        aliases=("出院日期",),
    ),
    TableField("admission_date", "入院日期", "date", required=True, how="门诊填就诊日期"),
    TableField(
        "hospital_level",
        "医院等级",
        "level",
        required=True,
        how="一级、二级、三级（或 1、2、3）",
        aliases=("医疗机构等级",),
    ),
    TableField("referred", "是否转诊", "flag", required=True, how="是 或 否"),
    TableField(
        "total",
        "医疗总费用",
        "money",
        required=True,
        how="元，至多两位小数；须等于 全自费 + 先行自付 + 政策范围内费用",
        aliases=("总费用",),
    ),
    TableField("full_self_pay", "全自费", "money", required=True, how="元（政策外费用）"),
    TableField("partial_self_pay", "先行自付", "money", required=True, how="元（乙类先行自付）"),
    TableField(
        "policy_scope",
        "政策范围内费用",
        "money",
        required=True,
        how="元（合规费用）",
        aliases=("合规费用",),
    ),
    TableField(
        "basic_insurance",
        "基本医疗保险支付",
        "money",
        how="元；已由医保系统结算时填写（与大病保险支付同填或同空）",
        aliases=("基本医疗保险", "基本医保支付"),
    ),
    TableField(
        "critical_illness_insurance",
        "大病保险支付",
        "money",
        how="元；已由医保系统结算时填写",
        aliases=("大病保险",),
    ),
    TableField("other_payments", "其他支付", "money", how="元：补充保险、商业保险、社会捐赠等"),
    TableField("disease", "病种", how="ICD-10 编码或病种目录中的名称", aliases=("疾病",)),
    TableField("out_of_area", "异地就医", "flag", how="是 或 否（不填为否）"),
    TableField("out_of_area_filed", "异地就医备案", "flag", how="是 或 否（不填为否）"),
    TableField(
        "quota_hospital", "单病种限额付费定点医院", "flag", how="是 或 否（不填为否，山西）"
    ),
    TableField("late_stage", "病情晚期", "flag", how="是 或 否（不填为否，山西大病关怀）"),
)

IGNORED = frozenset({"序号", "姓名", "参保人姓名", "备注"})
_BY_HEADER: dict[str, TableField] = {
    name: f for f in FIELDS for name in (f.header, f.field, *f.aliases)
}
_YES = frozenset({"是", "true", "TRUE", "True", "1", "Y", "y", "√", "✓"})
_NO = frozenset({"否", "false", "FALSE", "False", "0", "N", "n", "×", "✗"})
_LEVELS = {"1": 1, "2": 2, "3": 3, "一级": 1, "二级": 2, "三级": 3}
_MONEY_TEXT = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")


class ClaimsTableError(ValueError):
    """The table as a whole cannot be read (no header, missing or unknown columns)."""


def header_key(text: object) -> str:
    """A header without spaces and a trailing unit: ``医疗总费用（元）`` → ``医疗总费用``."""
    value = re.sub(r"\s+", "", "" if text is None else str(text))
    return re.sub(r"[（(]元[）)]$", "", value)


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".csv", ".xlsx")


def _columns(header: list[object], name: str) -> dict[int, TableField]:
    cols: dict[int, TableField] = {}
    unknown: list[str] = []
    for i, raw in enumerate(header):
        key = header_key(raw)
        if not key or key in IGNORED:
            continue
        f = _BY_HEADER.get(key)
        if f is None:
            unknown.append(str(raw))
        elif f in cols.values():
            raise ClaimsTableError(f"{name} 中“{f.header}”列出现了两次")
        else:
            cols[i] = f
    if unknown:
        raise ClaimsTableError(
            f"{name} 中有未知的列：{'、'.join(unknown)}（可用的列见 jiuzhu template claims）"
        )
    missing = [f.header for f in FIELDS if f.required and f not in cols.values()]
    if missing:
        raise ClaimsTableError(f"{name} 缺少必需的列：{'、'.join(missing)}")
    return cols


def _money(value: object) -> object:
    """A money cell as the contract's yuan string; anything else is left for the check."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value}.00"
    if isinstance(value, float):
        value = repr(value)  # the shortest decimal form: what was typed into the cell
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if _MONEY_TEXT.match(value.strip()):
            try:
                amount = Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits numbers only
                return value
            if amount.as_tuple().exponent >= -2:  # type: ignore[operator]
                return f"{amount:.2f}"
        return text
    return value


def _date(value: object) -> object:
    from jiuzhu.io.xlsx import parse_date

    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        found = parse_date(value)
        return found.isoformat() if found else value
    return value


def _cell(f: TableField, value: object, row: int, claim_id: str | None) -> object:
    """The contract's value of one cell, or an ``InputError`` for a cell a table alone has."""
    if f.kind == "money":
        return _money(value)
    if f.kind == "date":
        return _date(value)
    text = str(value).strip()
    if f.kind == "flag":
        if isinstance(value, bool):
            return value
        if text in _YES or text in _NO:
            return text in _YES
        return InputError(row, claim_id, f.field, f"须为 是 或 否，得到「{text}」")
    if f.kind == "level":
        level = _LEVELS.get(text.removesuffix("医院"))
        if level is None:
            return InputError(
                row, claim_id, f.field, f"须为 一级、二级、三级（或 1、2、3），得到「{text}」"
            )
        return level
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an ID or code typed as a number
    return text


def _record(
    cols: dict[int, TableField], values: list[object], row: int
) -> dict[str, Any] | list[InputError]:
    record: dict[str, Any] = {}
    errors: list[InputError] = []
    raw_id = next((values[i] for i, f in cols.items() if f.field == "claim_id"), None)
    claim_id = str(raw_id).strip() if raw_id not in (None, "") else None
    for i, f in cols.items():
        value = values[i] if i < len(values) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        cell = _cell(f, value, row, claim_id)
        if isinstance(cell, InputError):
            errors.append(cell)
        else:
            record[f.field] = cell
    if errors:
        return errors
    insurance = {k: record.pop(k) for k in ("basic_insurance", "critical_illness_insurance")
                 if k in record}  # fmt: skip
    if insurance:
        record["insurance"] = insurance
    return record


def read_records(path: Path) -> tuple[list[tuple[int, Any]], list[InputError]]:
    """The table's rows as contract records with their row numbers, and the errors of
    cells only a table can get wrong (是/否, 一级/二级/三级)."""
    from jiuzhu.io.xlsx import TableFileError, read_rows

    try:
        rows = read_rows(path)
    except TableFileError as err:
        raise ClaimsTableError(str(err)) from None
    keys = ("单据号", "claim_id")
    header_at = next(
        (i for i, r in enumerate(rows[:10]) if any(header_key(c) in keys for c in r)), None
    )
    if header_at is None:
        raise ClaimsTableError(
            f"{path.name} 找不到表头：须有“单据号”列（表头写法见 jiuzhu template claims）"
        )
    cols = _columns(rows[header_at], path.name)
    records: list[tuple[int, Any]] = []
    errors: list[InputError] = []
    for index in range(header_at + 1, len(rows)):
        values = rows[index]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        result = _record(cols, values, index + 1)
        if isinstance(result, list):
            errors.extend(result)
        else:
            records.append((index + 1, result))
    return records, errors


def read_claims(path: Path, complete: Callable[[Any], Any] | None = None) -> Parsed:
    """Read and check every row (``complete``: as ``parse_lines``, e.g. the registry's
    categories for rows without one); raises ``ClaimsTableError`` for the file as a whole."""
    records, errors = read_records(path)
    parsed = parse_records(records, complete)
    parsed.errors = sorted(errors + parsed.errors, key=lambda e: e.line)
    return parsed


def as_columns(parsed: Parsed) -> ColumnarClaims:
    """The checked claims as the batch engine's columns (``jiuzhu simulate`` on a table)."""
    import numpy as np
    import polars as pl

    from jiuzhu.domain.engine.columns import from_claims
    from jiuzhu.io.claims_columnar import ColumnarClaims

    claims = [c for _, c in parsed.claims]
    cols, _ = from_claims(claims)
    return ColumnarClaims(
        cols,
        pl.Series([c.claim_id for c in claims], dtype=pl.Utf8),
        pl.Series([c.person_id for c in claims], dtype=pl.Utf8),
        np.array([n for n, _ in parsed.claims], dtype=np.int64),
        list(parsed.errors),
    )
