"""Excel in and out, end to end through ``jiuzhu``: settle --output by extension, claims
from CSV and XLSX with Chinese headers, templates that read back in, errors as tables,
and text that looks like a formula written as text in every sheet."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import Workbook, load_workbook

from tests.cli_helpers import SHARED_CASES, invoke, jsonl, run_process
from tests.db_fixtures import db_url, make_id

__all__ = ["db_url"]

CASES = {c["id"]: c for c in json.loads(SHARED_CASES.read_text(encoding="utf-8"))}
POLICY = "liaocheng-2023"
CLAIMS: list[dict[str, Any]] = [
    *CASES["P-LC-1"]["claims"],
    {**CASES["P-LC-2"]["claims"][0], "claim_id": "c2"},
]
HOSTILE = '=HYPERLINK("http://example.invalid/x","点我")'
MONEY = ("total", "basic_insurance", "medical_assistance", "re_assistance", "personal")


def settle_to(tmp_path: Path, name: str, *extra: str) -> tuple[int, str, Path]:
    src = tmp_path / "claims.jsonl"
    src.write_text(jsonl(CLAIMS), encoding="utf-8")
    out = tmp_path / name
    run = invoke(["settle", "-p", POLICY, "-i", str(src), "-o", str(out), *extra])
    return run.code, run.stderr, out


def expected() -> dict[str, dict[str, Any]]:
    run = invoke(["settle", "-p", POLICY], jsonl(CLAIMS))
    assert run.code == 0, run.stderr
    return run.by_claim()


def all_cells(path: Path) -> list[Any]:
    wb = load_workbook(path)
    return [c for ws in wb for row in ws.iter_rows() for c in row]


def assert_no_formulas(path: Path) -> None:
    """No cell of any sheet is a formula; text that begins like one is a string, marked so."""
    for cell in all_cells(path):
        assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
        if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
            assert cell.data_type == "s" and cell.quotePrefix, (path.name, cell.coordinate)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode() for n in sheets)


# --- settle --output by extension ---------------------------------------------------------


@pytest.mark.cli
@pytest.mark.usefixtures("engine")
def test_output_format_follows_the_extension(tmp_path: Path) -> None:
    want = expected()
    code, err, out = settle_to(tmp_path, "s.jsonl")
    assert code == 0, err
    got = {r["claim_id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert got == want

    code, err, out = settle_to(tmp_path, "s.parquet")
    assert code == 0, err
    table = pl.read_parquet(out)
    for r in table.iter_rows(named=True):
        for k in MONEY:
            assert f"{r[k]:.2f}" == want[r["claim_id"]][k]

    code, err, out = settle_to(tmp_path, "s.csv")
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["单据号"] for r in rows] == ["c1", "c2"]
    assert rows[0]["适用救助对象类别"] == "低保对象"
    assert rows[0]["医疗救助（元）"] == want["c1"]["medical_assistance"]
    assert rows[1]["个人负担（元）"] == want["c2"]["personal"]

    code, err, out = settle_to(tmp_path, "s.xlsx")
    assert code == 0, err
    wb = load_workbook(out)
    assert wb.sheetnames == ["结算结果", "结算说明"]
    ws = wb["结算结果"]
    header = [c.value for c in ws[2]]
    body = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    by_id = {r["单据号"]: r for r in body if r["单据号"] in want}
    assert Decimal(str(by_id["c1"]["医疗救助（元）"])) == Decimal(want["c1"]["medical_assistance"])
    total = next(r for r in body if r["单据号"] == "合计")
    assert Decimal(str(total["个人负担（元）"])).quantize(Decimal("0.01")) == sum(
        Decimal(w["personal"]) for w in want.values()
    )
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
    assert ws["E3"].number_format == "#,##0.00"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    lines = list(wb["结算说明"].iter_rows(min_row=3, values_only=True))
    ma = next(r for r in lines if r[0] == "c1" and r[1] == "医疗救助")
    assert "本次计入医疗救助基数" in ma[4] and ma[5]  # the formula and its clause


@pytest.mark.cli
@pytest.mark.parametrize("name", ["s.txt", "s.json", "s", "s.xls"])
def test_any_other_extension_is_refused(tmp_path: Path, name: str) -> None:
    code, err, out = settle_to(tmp_path, name)
    assert code == 2 and "不受支持" in err and ".jsonl、.parquet、.csv、.xlsx" in err
    assert not out.exists()


@pytest.mark.cli
@pytest.mark.parametrize("kind", ["csv", "xlsx", "jsonl"])
def test_errors_as_a_table(tmp_path: Path, kind: str) -> None:
    bad = {**CLAIMS[0], "claim_id": HOSTILE, "person_id": "p9", "total": "1.00"}
    errors = tmp_path / f"e.{kind}"
    run = invoke(["settle", "-p", POLICY, "--errors", str(errors)], jsonl([CLAIMS[0], bad]))
    assert run.code == 1
    if kind == "jsonl":
        first = json.loads(errors.read_text("utf-8").splitlines()[0])
        assert first["claim_id"] == HOSTILE and first["field"] == "total"
        return
    if kind == "csv":
        rows = list(csv.reader(errors.read_text("utf-8-sig").splitlines()))
        assert rows[0] == ["行号", "单据号", "字段", "原因"]
        assert rows[1][:3] == ["2", "'" + HOSTILE, "total（医疗总费用）"]
        assert "全自费 + 先行自付 + 政策范围内费用" in rows[1][3]
        return
    ws = load_workbook(errors)["错误"]
    assert [c.value for c in ws[1]] == ["行号", "单据号", "字段", "原因"]
    assert ws["A2"].value == 2 and ws["B2"].value == HOSTILE
    assert_no_formulas(errors)


# --- claims from tables with Chinese headers ------------------------------------------------

HEADERS = [
    "单据号", "参保人身份证号码", "救助对象类别", "就医类型", "结算日期", "入院日期", "医院等级",
    "是否转诊", "医疗总费用（元）", "全自费（元）", "先行自付（元）", "政策范围内费用（元）",
    "基本医疗保险支付（元）", "大病保险支付（元）", "备注",
]  # fmt: skip


def table_rows() -> list[list[Any]]:
    """The two shared cases as a clerk types them: Chinese names, 是/否, dates and money in
    the shapes Excel and people use."""
    c1, c2 = CLAIMS
    ins1, ins2 = c1["insurance"], c2["insurance"]
    return [
        HEADERS,
        ["c1", c1["person_id"], "低保", "住院", "2023/4/2", c1["admission_date"], "二级",
         "是", "60,000", c1["full_self_pay"], c1["partial_self_pay"], c1["policy_scope"],
         ins1["basic_insurance"], ins1["critical_illness_insurance"], "第一笔"],
        ["c2", c2["person_id"], "防止返贫监测帮扶对象", "inpatient", "2023年5月10日",
         c2["admission_date"], c2["hospital_level"], "是" if c2["referred"] else "否",
         c2["total"], c2["full_self_pay"], c2["partial_self_pay"], c2["policy_scope"],
         ins2["basic_insurance"], ins2["critical_illness_insurance"], ""],
    ]  # fmt: skip


MONEY_COLUMNS = range(8, 14)


def as_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    """As Excel keeps them: money as numbers (floats), dates as dates."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(rows[0])
    for r in rows[1:]:
        ws.append([float(str(v).replace(",", "")) if i in MONEY_COLUMNS else v
                   for i, v in enumerate(r)])  # fmt: skip
    ws["E2"] = dt.date(2023, 4, 2)
    wb.save(path)
    return path


def as_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.cli
@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("kind", ["csv", "gbk-csv", "xlsx"])
def test_claims_from_a_table_settle_as_json_lines_do(tmp_path: Path, kind: str) -> None:
    want = expected()
    if kind == "xlsx":
        path = as_xlsx(tmp_path / "单据.xlsx", table_rows())
    else:
        enc = "gb18030" if kind == "gbk-csv" else "utf-8-sig"
        path = as_csv(tmp_path / "单据.csv", table_rows(), enc)
    run = invoke(["settle", "-p", POLICY, "-i", str(path)])
    assert run.code == 0, run.stderr
    got = run.by_claim()
    assert got == want


@pytest.mark.cli
def test_a_bad_row_names_the_row_and_the_field(tmp_path: Path) -> None:
    rows = table_rows()
    good = ["c3", *rows[2][1:]]
    rows[1][7] = "也许"  # 是否转诊
    rows[2][8] = "60000.005"  # three decimals: never rounded
    path = as_csv(tmp_path / "单据.csv", [*rows, good])
    run = invoke(["settle", "-p", POLICY, "-i", str(path)])
    assert run.code == 1
    assert (
        "错误：第 2 行，单据 c1，字段 referred（是否转诊）：须为 是 或 否，得到「也许」"
        in run.stderr
    )
    assert "错误：第 3 行，单据 c2，字段 total（医疗总费用）：金额格式不正确" in run.stderr
    assert [r["claim_id"] for r in run.records] == ["c3"]


@pytest.mark.cli
@pytest.mark.parametrize(
    ("header", "said"),
    [
        ([h for h in HEADERS if h != "就医类型"], "缺少必需的列：就医类型"),
        ([*HEADERS, "颜色"], "未知的列：颜色"),
        (["甲", "乙"], "找不到表头"),
    ],
)
def test_a_table_without_its_columns_is_refused(
    tmp_path: Path, header: list[str], said: str
) -> None:
    path = as_csv(tmp_path / "单据.csv", [header])
    run = invoke(["settle", "-p", POLICY, "-i", str(path)])
    assert run.code == 2 and said in run.stderr and run.stdout == ""


@pytest.mark.cli
def test_simulate_reads_a_claims_table(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path / "单据.xlsx", table_rows())
    rate = "benefits.medical_assistance.schedules.key_groups.rate=80%"
    run = invoke(["simulate", "-p", POLICY, "-c", str(path), "--set", rate, "--top", "0"])
    assert run.code == 0, run.stderr
    assert "已结算 2 笔，2 人" in run.stdout


# --- templates ------------------------------------------------------------------------------


@pytest.mark.cli
def test_claims_template_reads_back_in(tmp_path: Path) -> None:
    path = tmp_path / "单据模板.xlsx"
    made = run_process(["template", "claims", str(path)])
    assert made.code == 0, made.stderr
    wb = load_workbook(path)
    assert wb.sheetnames == ["单据", "填写说明"]
    ws = wb["单据"]
    assert ws["A1"].value == "单据号" and ws["A1"].font.b and ws.freeze_panes == "A2"
    assert ws.auto_filter.ref and ws.data_validations.dataValidation  # drop-down lists
    settled = invoke(["settle", "-p", POLICY, "-i", str(path)])
    assert settled.code == 0, settled.stderr
    (record,) = settled.records
    assert record["claim_id"] == "示例-0001" and record["category"] == "dibao"
    assert record["medical_assistance"] == "21000.00"


@pytest.mark.cli
@pytest.mark.parametrize(
    ("kind", "counts"), [("roster", "新增资格 2"), ("roster-changes", "新增资格 2")]
)
def test_roster_templates_read_back_in(db_url: str, tmp_path: Path, kind: str, counts: str) -> None:
    path = tmp_path / f"{kind}.xlsx"
    assert invoke(["template", kind, str(path)]).code == 0
    run = invoke(["roster", "import", str(path), "--db", db_url])
    assert run.code == 0, run.stderr
    assert counts in run.stdout and "错误 0 行" in run.stdout
    assert_no_formulas(path)


@pytest.mark.cli
def test_a_template_is_xlsx(tmp_path: Path) -> None:
    run = invoke(["template", "claims", str(tmp_path / "t.csv")])
    assert run.code == 2 and "须以 .xlsx 结尾" in run.stderr


# --- formula escaping through to every sheet --------------------------------------------------


@pytest.mark.cli
def test_a_hostile_roster_name_stays_text_in_every_sheet(db_url: str, tmp_path: Path) -> None:
    head, member = make_id(21), make_id(22)
    roster = as_csv(
        tmp_path / "名单.csv",
        [
            ["对象类别（低保☑特困□重点优抚□）"],
            ["2019年7月31日"],
            ["乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名",
             "身份证号码"],
            ["@城关镇", "+东村", HOSTILE, head, 2, HOSTILE, head],
            ["", "", "", "", "", "-李四", member],
        ],
    )  # fmt: skip
    imported = invoke(["roster", "import", str(roster), "--db", db_url])
    assert imported.code == 0, imported.stderr
    ledger = tmp_path / "台账.xlsx"
    run = invoke(
        ["enrolment", "2020", "-p", "shanxi-2019", "--db", db_url, "--ledger", str(ledger)]
    )
    assert run.code == 0, run.stderr
    names = {c.value for c in all_cells(ledger) if isinstance(c.value, str)}
    assert {HOSTILE, "-李四", "@城关镇", "+东村"} <= names
    assert_no_formulas(ledger)

    # and a claim named so, in every file settle writes for people
    claim = {**CLAIMS[0], "claim_id": HOSTILE}
    for name in ("s.xlsx", "s.csv"):
        out = tmp_path / name
        done = invoke(["settle", "-p", POLICY, "-o", str(out)], jsonl([claim]))
        assert done.code == 0, done.stderr
    assert_no_formulas(tmp_path / "s.xlsx")
    assert HOSTILE in {c.value for c in all_cells(tmp_path / "s.xlsx")}
    text = (tmp_path / "s.csv").read_text("utf-8-sig")
    assert list(csv.reader(text.splitlines()))[1][0] == "'" + HOSTILE
