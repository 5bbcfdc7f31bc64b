"""Spreadsheets for people: every XLSX and CSV table the project writes goes through here.

One look for all of them, so a clerk meets the same sheet whatever produced it: a bold,
shaded header that stays in view (frozen panes) and filters (autofilter), columns as
wide as their content, money as ``#,##0.00`` from exact yuan, a 合计 row for the
columns whose sum means something, and an A4 print setup (fit to the page width, the
header repeated on every page, page numbers in the footer).

One rule of safety, for XLSX and CSV alike: a text cell that begins with ``=``, ``+``,
``-``, ``@`` (or a tab or carriage return) is written as text, never as a formula
(the attack known as CSV or formula injection: a roster name ``=HYPERLINK(…)`` must not
become a live link in the 参保台账). In XLSX the cell is typed as a string and carries
Excel's quote prefix, so it stays text when someone edits it; in CSV it is written with a
leading apostrophe, which Excel and LibreOffice show as text (``csv_text``), and which
the project's own readers remove again (``from_csv_text``).

The API, in the order a caller needs it::

    Column(header, kind="text" | "wrap" | "money" | "integer" | "percent" | "date",
           total=False, width=None, choices=())
    Sheet(name, columns, rows, title=None | "line" | ["line", …], notes=(),
          total_label="合计", landscape=None)
    write_xlsx(path, [sheet, …])        # one workbook, a worksheet per Sheet
    write_csv(path, sheet)              # header and rows, UTF-8 with BOM, escaped
    new_workbook(); add_sheet(wb, sheet) -> Worksheet   # the same, into a workbook of your own
    write_cell(ws, row, column, value, kind)   # one cell, safely, with its number format
    yuan(fen) -> Decimal                # the value of a money cell
    csv_text(value, kind), from_csv_text(text), FORMULA_START_PATTERN   # the escaping rule
    read_rows(path) -> rows             # the first sheet of an XLSX, or a CSV, as values
    parse_date(text)                    # a date as people write it in a cell

``TooManyRows`` is raised (before anything is written) past Excel's 1,048,576 rows;
``TableFileError`` when a file cannot be read as a table, with the reason in Chinese.

Values: ``money`` cells take ``Decimal`` yuan (``yuan(fen)``; never a float), ``integer``
cells ``int``, ``percent`` cells a ``Decimal`` fraction (``Decimal("0.1234")`` shows
12.34%), ``date`` cells ``datetime.date``, ``text``/``wrap`` cells ``str``. ``None`` is an
empty cell. openpyxl is imported inside the functions that need it, so importing this
module costs nothing at the command line's start.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell as XlCell
    from openpyxl.worksheet.worksheet import Worksheet

Kind = Literal["text", "wrap", "money", "integer", "percent", "date"]
Value = str | int | Decimal | dt.date | None

MONEY_FORMAT = "#,##0.00"
INTEGER_FORMAT = "0"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "yyyy-mm-dd"
_FORMATS: dict[str, str] = {
    "money": MONEY_FORMAT,
    "integer": INTEGER_FORMAT,
    "percent": PERCENT_FORMAT,
    "date": DATE_FORMAT,
}

MIN_WIDTH = 6
MAX_WIDTH = 40
WRAP_WIDTH = 60
"""Column widths in characters (a CJK character counts two): a ``wrap`` column (an
explanation, a clause text) is at most ``WRAP_WIDTH`` wide and wraps inside it."""

MAX_ROWS = 1_048_576
"""Excel's limit of rows per worksheet."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START_PATTERN = r"^[=+\-@\t\r]"
"""The same rule as a regular expression, for columnar writers (Polars)."""
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9,]*(\.[0-9]+)?$")

HEADER_FILL = "D9E1F2"


@dataclass(frozen=True)
class Column:
    """A column: its Chinese header, the kind of its values, whether 合计 sums it."""

    header: str
    kind: Kind = "text"
    total: bool = False
    """Sum it in the 合计 row (``money`` and ``integer`` columns only)."""
    width: float | None = None
    """In characters; ``None`` fits the content."""
    choices: tuple[str, ...] = ()
    """Values offered in a drop-down list (others may still be typed): for templates."""

    def __post_init__(self) -> None:
        if self.total and self.kind not in ("money", "integer"):
            raise ValueError(f"only money and integer columns have a total: {self.header}")


@dataclass(frozen=True)
class Sheet:
    """A table for people: a worksheet of an XLSX file, or a CSV file."""

    name: str
    """The worksheet's tab (Excel allows 31 characters, no ``[]:*?/\\``)."""
    columns: Sequence[Column]
    rows: Sequence[Sequence[Value]]
    title: str | Sequence[str] | None = None
    """A heading above the header, or several lines of one (XLSX only)."""
    notes: Sequence[str] = field(default_factory=tuple)
    """Lines below the table: sources, definitions, the date made (XLSX only)."""
    total_label: str = "合计"
    landscape: bool | None = None
    """Print across the page; ``None``: when the columns are wider than a portrait A4."""

    @property
    def has_total(self) -> bool:
        return any(c.total for c in self.columns)


class TooManyRows(ValueError):
    """A sheet longer than Excel can open."""


class TableFileError(ValueError):
    """A CSV or XLSX file that cannot be read as a table at all (the reason in Chinese)."""


def yuan(fen: int) -> Decimal:
    """Exact yuan from integer fen: ``yuan(17501)`` → ``Decimal('175.01')``."""
    return Decimal(fen).scaleb(-2)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula (or the start of one)."""
    return text.startswith(_FORMULA_START)


def csv_text(value: Value, kind: Kind = "text") -> str:
    """A value as a CSV field: text that looks like a formula gets a leading apostrophe.

    Numbers in number columns are left alone (``-12.50`` in a money column is a number,
    and no spreadsheet runs it); the same string in a text column is escaped."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if kind == "money" else str(value)
    text = str(value)
    if kind in ("text", "wrap") and formula_like(text):
        return "'" + text
    if kind not in ("text", "wrap") and formula_like(text) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def from_csv_text(text: str) -> str:
    """The value ``csv_text`` escaped (the apostrophe before ``= + - @`` removed)."""
    if text.startswith("'") and formula_like(text[1:]):
        return text[1:]
    return text


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(text: str) -> dt.date | None:
    """A date as people write it in a cell: 2019-08-01, 2019/8/1, 2019.8.1, 2019年8月1日,
    20190801 (a time of 00:00:00 after it is ignored); ``None`` if none or impossible."""
    value = re.sub(r"\s+", "", text)
    value = value.removesuffix("00:00:00").removesuffix("T")
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def display_width(text: str) -> int:
    """Columns the text takes in a spreadsheet or terminal: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_cell(ws: Worksheet, row: int, column: int, value: Value, kind: Kind = "text") -> XlCell:
    """Write one cell: text as text (never a formula), numbers with their format."""
    from openpyxl.cell.cell import Cell as XlCell
    from openpyxl.styles import Alignment

    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, XlCell), "cells are written before any merge"
    if value is None:
        return cell
    if kind in ("text", "wrap") or isinstance(value, str):
        text = str(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl makes "=…" a formula; this keeps it a string
        if formula_like(text):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        if kind == "wrap":
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell
    if isinstance(value, float):
        raise TypeError("money and rates are written from exact values, never a float")
    cell.value = value
    cell.number_format = _FORMATS.get(kind, "General")
    return cell


def _shown(value: Value, kind: Kind) -> str:
    """The text a cell shows, for fitting the column width."""
    if value is None:
        return ""
    if kind == "money" and isinstance(value, Decimal):
        return f"{value:,.2f}"
    if kind == "percent" and isinstance(value, Decimal):
        return f"{value * 100:.2f}%"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _widths(sheet: Sheet) -> list[float]:
    out = []
    for i, col in enumerate(sheet.columns):
        if col.width is not None:
            out.append(col.width)
            continue
        widest = max(
            (
                display_width(line)
                for r in sheet.rows
                for line in _shown(r[i], col.kind).split("\n")
            ),
            default=0,
        )
        limit = WRAP_WIDTH if col.kind == "wrap" else MAX_WIDTH
        header = min(display_width(col.header), limit)  # a longer header wraps
        out.append(float(min(max(widest, header, MIN_WIDTH), limit) + 2))
    return out


def totals(sheet: Sheet) -> list[Value]:
    """The 合计 row: the label in the first column, exact sums where ``total`` is set."""
    out: list[Value] = []
    for i, col in enumerate(sheet.columns):
        if col.total:
            values = [r[i] for r in sheet.rows if r[i] is not None]
            if col.kind == "money":
                out.append(sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00")))
            else:
                out.append(sum(v for v in values if isinstance(v, int)))
        else:
            out.append(None)
    if out and out[0] is None:
        out[0] = sheet.total_label
    return out


def add_sheet(wb: Workbook, sheet: Sheet) -> Worksheet:
    """Write ``sheet`` as a new worksheet of ``wb``, formatted for people."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    thin = Side(style="thin", color="808080")
    if len(sheet.rows) + 4 + len(sheet.notes) > MAX_ROWS:
        raise TooManyRows(
            f"{sheet.name} 有 {len(sheet.rows)} 行，超过 XLSX 工作表的上限 {MAX_ROWS} 行"
        )
    ws: Worksheet = wb.create_sheet(sheet.name)
    ncols = len(sheet.columns)
    row = 0
    titles = [sheet.title] if isinstance(sheet.title, str) else list(sheet.title or ())
    for n, line in enumerate(titles):
        row += 1
        write_cell(ws, row, 1, line).font = Font(bold=True, size=13 if n == 0 else 11)
        if ncols > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
    row += 1
    header_row = row
    for c, col in enumerate(sheet.columns, start=1):
        cell = write_cell(ws, header_row, c, col.header)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for values in sheet.rows:
        row += 1
        for c, (col, value) in enumerate(zip(sheet.columns, values, strict=True), start=1):
            write_cell(ws, row, c, value, col.kind)
    last_data = row
    if sheet.has_total:
        row += 1
        for c, (col, value) in enumerate(zip(sheet.columns, totals(sheet), strict=True), 1):
            write_cell(ws, row, c, value, col.kind).font = bold
    if sheet.notes:
        row += 1
        for note in sheet.notes:
            row += 1
            write_cell(ws, row, 1, note)
    widths = _widths(sheet)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    last = get_column_letter(max(ncols, 1))
    ws.freeze_panes = f"A{header_row + 1}"
    _choices(ws, sheet, header_row)
    ws.auto_filter.ref = f"A{header_row}:{last}{max(last_data, header_row)}"
    _print_setup(
        ws, header_row, sheet.landscape if sheet.landscape is not None else sum(widths) > 95
    )
    return ws


def _choices(ws: Worksheet, sheet: Sheet, header_row: int, rows: int = 1000) -> None:
    """Drop-down lists for the columns that offer choices (a template's next ``rows``)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for c, col in enumerate(sheet.columns, start=1):
        if not col.choices:
            continue
        listed = DataValidation(
            type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True
        )
        listed.showErrorMessage = False  # a choice not listed (低保 for 低保对象) is allowed
        letter = get_column_letter(c)
        listed.add(f"{letter}{header_row + 1}:{letter}{header_row + rows}")
        ws.add_data_validation(listed)


def _print_setup(ws: Worksheet, header_row: int, landscape: bool) -> None:
    """A4, fit to the page width (as many pages down as it takes), header on every page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    footer = ws.oddFooter
    if footer is not None:
        footer.center.text = "第 &P 页，共 &N 页"


def new_workbook() -> Workbook:
    """An empty workbook (without openpyxl's default blank sheet)."""
    from openpyxl import Workbook

    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    return wb


def write_xlsx(path: str | Path, sheets: Sequence[Sheet]) -> None:
    """One workbook with a formatted worksheet per sheet. Raises ``OSError`` when the path
    cannot be written and ``TooManyRows`` past Excel's limit (nothing is written then)."""
    wb = new_workbook()
    for sheet in sheets:
        add_sheet(wb, sheet)
    wb.save(path)


def write_csv(path: str | Path, sheet: Sheet) -> None:
    """The header and the rows as CSV, UTF-8 with a BOM (so Excel reads the Chinese),
    every field escaped by ``csv_text``. No title, 合计 or notes: a CSV is data."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([csv_text(c.header) for c in sheet.columns])
        kinds = [c.kind for c in sheet.columns]
        for r in sheet.rows:
            out.writerow([csv_text(v, k) for v, k in zip(r, kinds, strict=True)])


TABLE_SUFFIXES = (".csv", ".xlsx")


def read_rows(path: Path) -> list[list[object]]:
    """Every row of a table file: the first worksheet of an XLSX (cell values as openpyxl
    gives them: ``str``, ``int``, ``float``, ``datetime``, ``None``; formulas as their
    last computed value), or a CSV (UTF-8 with or without BOM, else GB18030, as Excel
    saves it on a Chinese system; every value a ``str``, ``from_csv_text`` applied)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        from jiuzhu.io.oserrors import reason

        raise TableFileError(f"无法读取文件 {path.name}：{reason(err)}") from None
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, data)
    if suffix not in (".csv", ".txt"):
        raise TableFileError(f"不支持的文件类型「{suffix or '无扩展名'}」：请用 CSV 或 XLSX 文件")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise TableFileError(f"{path.name} 既不是 UTF-8 也不是 GB18030/GBK 编码")
    return [[from_csv_text(c.strip()) for c in row] for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(path: Path, data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zipfile, XML and openpyxl errors alike: the file is not a workbook
        raise TableFileError(
            f"无法读取 XLSX 文件 {path.name}：不是有效的 XLSX 工作簿"
            "（文件可能已损坏，或是 .xls 等其他格式，请在 Excel 中另存为 .xlsx）"
        ) from None
    try:
        ws = wb.worksheets[0]
        return [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
