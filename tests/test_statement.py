"""The settlement statement (结算单): the personal burden's three parts by hand and as an
invariant, and ``jiuzhu explain --output`` as PDF (its text read back), HTML and XLSX,
per claim and for a person's year, with the category's source from the registry."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from jiuzhu.domain.claims import CategorySpan, Claim
from jiuzhu.domain.engine.reference import ClaimRejected, settle_claims
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import Fen
from jiuzhu.domain.statement import on_all_left, split_personal
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from tests.cli_helpers import invoke, jsonl
from tests.db_fixtures import db_url
from tests.strategies import POLICY_IDS, compiled, population
from tests.test_rosters import HEAD
from tests.test_settle_registry import _registry, _without_category

__all__ = ["db_url"]

POLICY = "liaocheng-2023"
PERSON = "371502195501011236"


def _claim(total: int, full: int, partial: int) -> Claim:
    return Claim(
        claim_id="c1",
        person_id="p1",
        visit_type=VisitType.inpatient,
        settlement_date=dt.date(2023, 3, 10),
        admission_date=dt.date(2023, 3, 1),
        hospital_level=2,
        referred=True,
        total=Fen(total),
        full_self_pay=Fen(full),
        partial_self_pay=Fen(partial),
        policy_scope=Fen(total - full - partial),
        categories=(CategorySpan(Category.dibao),),
    )


def _paid(claim: Claim, **amounts: int) -> Settlement:
    return Settlement(
        claim.claim_id,
        claim.person_id,
        POLICY,
        Category.dibao,
        claim.total,
        {Benefit(k): Fen(v) for k, v in amounts.items()},
    )


def test_payments_cover_the_policy_scope_first() -> None:
    """36000.00 = 2400.00 全自费 + 3600.00 先行自付 + 30000.00 政策范围内; 27710.63 paid
    (22125.00 + 243.75 + 5341.88, the 聊城 低保 claim of the statement tests below):
    of the policy scope 30000.00 − 27710.63 = 2289.37 is left to the person, and the
    two self-paid parts whole."""
    claim = _claim(3_600_000, 240_000, 360_000)
    s = _paid(claim, basic_insurance=2_212_500, critical_illness_insurance=24_375,
              medical_assistance=534_188)  # fmt: skip
    split = split_personal(claim, s)
    assert (split.policy_scope, split.partial_self_pay, split.full_self_pay) == (
        228_937,
        360_000,
        240_000,
    )
    assert split.total == s.personal == 828_937


def test_what_is_paid_beyond_the_policy_scope_covers_partial_then_full_self_pay() -> None:
    """1800.00 bill (300.00 全自费, 500.00 先行自付, 1000.00 政策范围内): 1200.00 paid on
    policy-scope bases → 0.00, 300.00, 300.00 left; 1700.00 → 0.00, 0.00, 100.00."""
    claim = _claim(180_000, 30_000, 50_000)
    split = split_personal(claim, _paid(claim, basic_insurance=80_000, medical_assistance=40_000))
    assert (split.policy_scope, split.partial_self_pay, split.full_self_pay) == (0, 30_000, 30_000)
    split = split_personal(claim, _paid(claim, basic_insurance=80_000, medical_assistance=90_000))
    assert (split.policy_scope, split.partial_self_pay, split.full_self_pay) == (0, 0, 10_000)


def test_assistance_on_everything_left_covers_the_three_parts_in_proportion() -> None:
    """茂名's 二次医疗救助 pays on all that is left, out-of-policy cost included: after
    800.00 of basic insurance, 200.00 + 500.00 + 300.00 are left; its 400.00 covers 40% of
    each (80.00, 200.00, 120.00), leaving 120.00, 300.00, 180.00. With 333.33 the shares
    66.666, 166.665, 99.999 round to 66.67, 166.66, 100.00 (largest remainders first)."""
    claim = _claim(180_000, 30_000, 50_000)
    spread = frozenset({Benefit.secondary_assistance})
    s = _paid(claim, basic_insurance=80_000, secondary_assistance=40_000)
    split = split_personal(claim, s, spread)
    assert (split.policy_scope, split.partial_self_pay, split.full_self_pay) == (
        12_000,
        30_000,
        18_000,
    )
    s = _paid(claim, basic_insurance=80_000, secondary_assistance=33_333)
    split = split_personal(claim, s, spread)
    assert (split.policy_scope, split.partial_self_pay, split.full_self_pay) == (
        20_000 - 6_667,
        50_000 - 16_666,
        30_000 - 10_000,
    )
    assert split.total == s.personal


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_three_parts_add_up_to_the_personal_burden(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id))
    for claim, result in zip(claims, settle_claims(compiled(policy_id), claims), strict=True):
        if isinstance(result, ClaimRejected):
            continue
        split = split_personal(claim, result, on_all_left(compiled(policy_id).policy))
        assert split.total == result.personal
        assert 0 <= split.full_self_pay <= claim.full_self_pay
        assert 0 <= split.partial_self_pay <= claim.partial_self_pay
        assert 0 <= split.policy_scope <= claim.policy_scope


# ---------------------------------------------------------------------- the command


def _inpatient(
    n: str, day: str, total: str, full: str, partial: str, **over: Any
) -> dict[str, Any]:
    scope = Decimal(total) - Decimal(full) - Decimal(partial)
    return {
        "claim_id": n,
        "person_id": PERSON,
        "category": "dibao",
        "visit_type": "inpatient",
        "settlement_date": day,
        "admission_date": day,
        "hospital_level": 2,
        "referred": True,
        "total": total,
        "full_self_pay": full,
        "partial_self_pay": partial,
        "policy_scope": f"{scope:.2f}",
        **over,
    }


CLAIMS = [
    _inpatient("ZY-1", "2023-03-10", "36000.00", "2400.00", "3600.00"),
    _inpatient("ZY-2", "2023-09-20", "82000.50", "6000.00", "8000.50", other_payments="1000.00"),
    {**_inpatient("ZY-3", "2023-10-05", "100.00", "0.00", "0.00"), "visit_type": "dental"},
]


def _settled(claims: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    run = invoke(["settle", "--policy", POLICY, "--input", "-"], jsonl(claims))
    return {r["claim_id"]: r for r in run.records}


def _input(tmp_path: Path, claims: list[dict[str, Any]] = CLAIMS) -> Path:
    path = tmp_path / "claims.jsonl"
    path.write_text(jsonl(claims), encoding="utf-8")
    return path


def _text(pdf: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(pdf).pages]


def _statements(pages: list[str], title: str = "医疗救助“一站式”结算单") -> list[str]:
    """The text of each statement: a page with the title starts one, the next pages go on
    with it (a statement longer than a page)."""
    out: list[str] = []
    for page in pages:
        if title in page or not out:
            out.append(page)
        else:
            out[-1] += " " + page
    return out


def test_the_pdf_statement_says_every_amount(tmp_path: Path) -> None:
    out = tmp_path / "结算单.pdf"
    run = invoke(["explain", "-p", POLICY, "-i", str(_input(tmp_path)), "-o", str(out)])
    assert run.code == 1  # ZY-3 (dental) is an error, named; the others still get theirs
    assert "第 3 行" in run.stderr and "visit_type" in run.stderr
    reader = PdfReader(out)
    for page in reader.pages:  # A4 portrait
        size = (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
        assert size == (595, 842)
    settled = _settled(CLAIMS[:2])
    statements = _statements(_text(out))
    assert len(statements) == 2  # each settled claim's statement starts a page
    for text, claim in zip(statements, CLAIMS[:2], strict=True):
        s = settled[claim["claim_id"]]
        assert "医疗救助“一站式”结算单" in text and claim["claim_id"] in text
        assert mask_id(PERSON) in text and PERSON not in text
        assert "低保对象" in text and "第 " in text and "行所列类别" in text
        for key in ("total", "full_self_pay", "partial_self_pay", "policy_scope"):
            assert claim[key] in text, key
        for key in ("basic_insurance", "critical_illness_insurance", "medical_assistance"):
            assert s[key] in text, key
        assert s["personal"] in text
        paid = sum(Decimal(s[b.value]) for b in Benefit)
        assert f"{paid:.2f}" in text  # 各项支付合计
        for line in s["lines"]:
            if line["clause"]:
                assert line["clause"] in text
    first = statements[0]  # 36000.00 − 27710.63: 2289.37 of the policy scope is the person's
    assert re.search(
        r"个人负担 其中：全自费 先行自付 政策范围内个人负担 8289.37 2400.00 3600.00 2289.37", first
    )


def test_a_person_s_year_has_a_summary_page_with_totals(tmp_path: Path) -> None:
    out = tmp_path / "year.pdf"
    run = invoke(
        ["explain", "-p", POLICY, "-i", str(_input(tmp_path, CLAIMS[:2])), "-o", str(out),
         "--statement", "year"]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    pages = _text(out)
    assert "年度结算汇总单" in pages[0] and "2023年度" in pages[0]
    assert len(_statements(pages[1:])) == 2
    s = _settled(CLAIMS[:2])
    for key in ("total", "basic_insurance", "medical_assistance", "personal"):
        year = sum(Decimal(r[key]) for r in s.values())
        assert f"{year:.2f}" in pages[0], key
    width, height = PdfReader(out).pages[0].mediabox.width, PdfReader(out).pages[0].mediabox.height
    assert width > height  # the summary is A4 landscape, the claims' pages portrait


def test_html_and_xlsx_statements(tmp_path: Path) -> None:
    hostile = {**CLAIMS[0], "claim_id": '=HYPERLINK("http://x")'}
    path = _input(tmp_path, [hostile, CLAIMS[1]])
    html = tmp_path / "s.html"
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "-o", str(html)])
    assert run.code == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://x", "")  # nothing to fetch
    assert "&#34;http://x&#34;" in page or "&quot;http://x&quot;" in page  # escaped, not markup
    assert "8289.37" in page and "2289.37" in page

    book = tmp_path / "s.xlsx"
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "-o", str(book), "--statement", "year"])
    assert run.code == 0, run.stderr
    wb = load_workbook(book)
    assert wb.sheetnames[0] == "2023年度汇总" and len(wb.sheetnames) == 3
    summary = wb.worksheets[0]
    rows = list(summary.iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "结算日期")
    total_row = next(r for r in rows if r and r[0] == "合计")
    s = _settled([hostile, CLAIMS[1]])
    personal = sum(Decimal(r["personal"]) for r in s.values())
    assert Decimal(str(total_row[header.index("个人负担")])) == personal
    for ws in wb.worksheets:  # the hostile claim id stays text on every sheet
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK"):
                    assert cell.data_type == "s"


def test_the_category_s_source_is_the_roster_row(db_url: str, tmp_path: Path) -> None:
    _registry(db_url, tmp_path)
    path = _input(tmp_path, [_without_category(1, HEAD)])
    out = tmp_path / "s.xlsx"
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "--registry", db_url, "-o", str(out)])
    assert run.code == 0, run.stderr
    ws = load_workbook(out).worksheets[0]
    titles = [str(r[0]) for r in ws.iter_rows(values_only=True) if r[0]]
    source = next(t for t in titles if t.startswith("类别依据"))
    assert "（适用）低保对象" in source and "名单" in source and "第" in source
    assert HEAD not in source


def test_usage_errors(tmp_path: Path) -> None:
    path = _input(tmp_path, CLAIMS[:1])
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "--format", "pdf"])
    assert run.code == 2 and "--output" in run.stderr
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "-o", str(tmp_path / "x.doc")])
    assert run.code == 2 and ".pdf" in run.stderr
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "--claim", "nope"])
    assert run.code == 1 and "nope" in run.stderr
    run = invoke(["explain", "-p", POLICY, "-i", str(path), "--person", PERSON])
    assert run.code == 0 and "ZY-1" in run.stdout
