"""The shared spreadsheet module: the look of every XLSX, exact money, text never a formula."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jiuzhu.io.xlsx import (
    MONEY_FORMAT,
    Column,
    Sheet,
    csv_text,
    display_width,
    from_csv_text,
    write_csv,
    write_xlsx,
    yuan,
)

HOSTILE = '=HYPERLINK("http://example.com/x","点我")'


def sheet() -> Sheet:
    return Sheet(
        "明细",
        [
            Column("姓名"),
            Column("金额（元）", "money", total=True),
            Column("人数", "integer", total=True),
            Column("日期", "date"),
            Column("比例", "percent"),
            Column("说明", "wrap"),
        ],
        [
            [HOSTILE, yuan(1234567), 2, dt.date(2023, 4, 2), Decimal("0.7"), "说明" * 40],
            ["+86 138", yuan(1), 1, None, None, "@提及"],
            ["-负号", yuan(-5), 0, None, None, None],
        ],
        title="标题：测试表",
        notes=["注：金额为元。"],
    )


def test_money_is_exact_and_formatted(tmp_path: Path) -> None:
    assert yuan(17501) == Decimal("175.01") and yuan(-5) == Decimal("-0.05")
    path = tmp_path / "t.xlsx"
    write_xlsx(path, [sheet()])
    ws = load_workbook(path)["明细"]
    assert ws["B3"].value == pytest.approx(12345.67) and ws["B3"].number_format == MONEY_FORMAT
    assert ws["C3"].number_format == "0" and ws["D3"].number_format == "yyyy-mm-dd"
    assert ws["E3"].number_format == "0.00%"
    # the 合计 row: the label, exact sums of the money and count columns, nothing else
    assert [c.value for c in ws[6]] == ["合计", pytest.approx(12345.63), 3, None, None, None]
    assert ws["A8"].value == "注：金额为元。"


def test_a_sheet_formatted_for_people(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_xlsx(path, [sheet()])
    ws = load_workbook(path)["明细"]
    assert ws["A1"].value == "标题：测试表" and "A1:F1" in {str(r) for r in ws.merged_cells}
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("D9E1F2")
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:F5"  # header and data, not the 合计 row
    assert ws.print_title_rows == "$2:$2"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.orientation == "landscape"  # wider than a portrait page
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEF"}
    assert widths["F"] == 62 and ws["F3"].alignment.wrap_text  # capped, wraps
    assert widths["C"] >= display_width("人数") + 2
    assert widths["A"] >= display_width(HOSTILE)


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_xlsx(path, [sheet()])
    ws = load_workbook(path)["明细"]
    for ref, text in (("A3", HOSTILE), ("A4", "+86 138"), ("A5", "-负号"), ("F4", "@提及")):
        assert ws[ref].value == text and ws[ref].data_type == "s", ref
        assert ws[ref].quotePrefix, ref
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "HYPERLINK" in xml


def test_csv_is_utf8_with_bom_and_escaped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(path, sheet())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["姓名", "金额（元）", "人数", "日期", "比例", "说明"]
    assert rows[1][:4] == ["'" + HOSTILE, "12345.67", "2", "2023-04-02"]
    assert rows[2][0] == "'+86 138" and rows[2][5] == "'@提及"
    assert rows[3][:2] == ["'-负号", "-0.05"]  # a negative amount is a number, not escaped
    assert len(rows) == 4  # data only: no 合计, no notes
    assert [from_csv_text(r[0]) for r in rows[1:]] == [HOSTILE, "+86 138", "-负号"]


def test_csv_text_leaves_ordinary_values_alone() -> None:
    assert csv_text("张三") == "张三" and csv_text(None) == ""
    assert csv_text("'引号") == "'引号" and from_csv_text("'引号") == "'引号"
    assert csv_text("-12.50", "money") == "-12.50"
    assert csv_text("-1+1", "money") == "'-1+1"


def test_floats_are_refused(tmp_path: Path) -> None:
    bad = Sheet("x", [Column("金额", "money")], [[0.1]])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        write_xlsx(tmp_path / "t.xlsx", [bad])


def test_only_sums_that_mean_something() -> None:
    with pytest.raises(ValueError):
        Column("姓名", total=True)
