"""资助参保 (enrolment subsidies): amounts worked by hand per policy, the 70/30 split to
the fen, several categories, memberships that start or end mid-year, the rate, and the
command end to end from a roster to the XLSX ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jiuzhu.domain.enrolment import (
    UNSPLIT,
    Decision,
    Rate,
    decide,
    enrolment_rate,
    split_amount,
)
from jiuzhu.domain.money import BasisPoints, Fen
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.registry import Membership
from jiuzhu.domain.vocabulary import Category as C
from jiuzhu.io.enrolment_ledger import LEDGER_SHEET, TOTALS_SHEET
from jiuzhu.io.policy_files import load_policy
from tests.cli_helpers import invoke
from tests.db_fixtures import db_url, make_id

__all__ = ["db_url"]

D = dt.date


def held(cat: C, start: dt.date, end: dt.date | None = None) -> Membership:
    return Membership(cat, start, end, "test")


def subsidy_of(policy: Policy, year: int, *ms: Membership) -> tuple[C, int, dict[str, int]]:
    d = decide(ms, year, policy)
    assert d.subsidy is not None, d.why
    return d.subsidy.category, d.subsidy.amount, {s.payer: s.amount for s in d.subsidy.shares}


# -- amounts per policy, by hand -----------------------------------------------------


def test_liaocheng_full_and_fixed() -> None:
    p = load_policy("liaocheng-2023")  # premium 380.00 (assumed), 定额 200.00 (assumed)
    y = 2023
    assert subsidy_of(p, y, held(C.orphan, D(2020, 1, 1))) == (C.orphan, 38000, {UNSPLIT: 38000})
    assert subsidy_of(p, y, held(C.dibao, D(2020, 1, 1))) == (C.dibao, 20000, {UNSPLIT: 20000})
    d = decide([held(C.dibao, D(2020, 1, 1))], y, p)
    assert d.subsidy is not None and d.subsidy.clause == "聊城实施方案 二(二)" and d.subsidy.assumed
    assert d.subsidy.kind == "fixed" and d.subsidy.premium == 38000


def test_hangzhou_fujian_amounts() -> None:
    hz = load_policy("hangzhou-2023")  # premium 380.00; 低边/残疾 定额 190.00
    assert subsidy_of(hz, 2023, held(C.distressed_child, D(2023, 1, 1)))[1] == 38000
    assert subsidy_of(hz, 2023, held(C.severe_disability, D(2023, 1, 1)))[1] == 19000
    fj = load_policy("fujian-2022")  # premium 320.00; 低保 定额 150.00
    assert subsidy_of(fj, 2022, held(C.extreme_poor, D(2021, 5, 1)))[1] == 32000
    assert subsidy_of(fj, 2022, held(C.monitored, D(2021, 5, 1)))[1] == 15000
    # 脱贫人口 is assisted in 福建 but has no enrolment subsidy: counted, not subsidised.
    d = decide([held(C.poverty_alleviated, D(2021, 5, 1))], 2022, fj)
    assert d.counted and d.subsidy is None


def test_fixed_never_more_than_premium() -> None:
    p = load_policy("liaocheng-2023", sets=["enrolment_subsidy.premium=150.00"])
    assert subsidy_of(p, 2023, held(C.dibao, D(2023, 1, 1)))[1] == 15000  # not 200.00


def test_shanxi_split_70_30() -> None:
    p = load_policy("shanxi-2019")  # premium 250.00: 175.00 + 75.00
    assert subsidy_of(p, 2020, held(C.registered_poor, D(2019, 8, 1))) == (
        C.registered_poor,
        25000,
        {"province": 17500, "county": 7500},
    )
    assert subsidy_of(p, 2020, held(C.low_income, D(2019, 8, 1)))[1] == 10000
    assert decide([held(C.key_veteran, D(2019, 8, 1))], 2020, p).subsidy is None


@pytest.mark.parametrize(
    ("premium", "province", "county"),
    [
        # 25001 × 70% = 17500.7 → 17501; county gets the remainder 7500 (exact 7500.3)
        ("250.01", 17501, 7500),
        # 25005 × 70% = 17503.5 → half-up 17504; remainder 7501 (exact 7501.5)
        ("250.05", 17504, 7501),
        ("0.01", 1, 0),
    ],
)
def test_shanxi_split_odd_fen(premium: str, province: int, county: int) -> None:
    p = load_policy("shanxi-2019", sets=[f"enrolment_subsidy.premium={premium}"])
    _, amount, shares = subsidy_of(p, 2020, held(C.registered_poor, D(2019, 8, 1)))
    assert shares == {"province": province, "county": county}
    assert sum(shares.values()) == amount


def test_split_three_payers_adds_up() -> None:
    split = {"province": BasisPoints(3333), "city": BasisPoints(3333), "county": BasisPoints(3334)}
    for amount in (0, 1, 2, 99, 100, 25001, 38099):
        shares = split_amount(Fen(amount), split)
        assert sum(s.amount for s in shares) == amount
        assert all(s.amount >= 0 for s in shares)


# -- several categories, mid-year changes ----------------------------------------------


def test_two_categories_most_favourable_then_precedence() -> None:
    sx = load_policy("shanxi-2019")
    # 低保 定额 150 vs 建档立卡 全额 250: the larger subsidy applies, with its split
    both = (held(C.dibao, D(2019, 8, 1)), held(C.registered_poor, D(2019, 8, 1)))
    cat, amount, shares = subsidy_of(sx, 2020, *both)
    assert (cat, amount, shares["province"]) == (C.registered_poor, 25000, 17500)
    d = decide(both, 2020, sx)
    assert d.assisted == (C.dibao, C.registered_poor)
    assert any("按资助额最高者" in w for w in d.why)
    # 特困 全额 250 and 建档立卡 全额 250: a tie, 特困 first in the precedence
    tie = (held(C.registered_poor, D(2019, 8, 1)), held(C.extreme_poor, D(2019, 8, 1)))
    assert subsidy_of(sx, 2020, *tie)[0] == C.extreme_poor
    assert any("按政策类别顺序" in w for w in decide(tie, 2020, sx).why)
    # 聊城 低保 and 低边: both 定额 200, 低保 by precedence
    lc = load_policy("liaocheng-2023")
    two = (held(C.near_dibao, D(2023, 1, 1)), held(C.dibao, D(2023, 3, 1)))
    assert subsidy_of(lc, 2023, *two)[:2] == (C.dibao, 20000)
    # a category held earlier in the year than the favourable one still counts (any day)
    seq = (held(C.dibao, D(2023, 1, 1), D(2023, 5, 31)), held(C.extreme_poor, D(2023, 6, 1)))
    assert subsidy_of(lc, 2023, *seq)[:2] == (C.extreme_poor, 38000)


def test_membership_starting_or_ending_mid_year() -> None:
    p = load_policy("liaocheng-2023")
    starts = held(C.dibao, D(2023, 7, 1))
    ends = held(C.dibao, D(2021, 1, 1), D(2023, 3, 31))
    for m in (starts, ends):
        assert decide([m], 2023, p).subsidy is not None
    assert decide([ends], 2024, p).subsidy is None
    assert decide([starts], 2022, p).subsidy is None
    assert decide([held(C.dibao, D(2020, 1, 1), D(2022, 12, 31))], 2023, p).subsidy is None
    assert decide([held(C.dibao, D(2024, 1, 1))], 2023, p).subsidy is None
    d = decide([starts], 2023, p)
    assert d.subsidy is not None and (d.subsidy.held_from, d.subsidy.held_to) == (
        D(2023, 7, 1),
        None,
    )
    # 山西 is in force from 2019-08-01: a membership ended before it does not count in 2019
    sx = load_policy("shanxi-2019")
    assert decide([held(C.dibao, D(2019, 1, 1), D(2019, 7, 31))], 2019, sx).subsidy is None
    assert decide([held(C.dibao, D(2019, 1, 1), D(2019, 8, 1))], 2019, sx).subsidy is not None


def test_no_subsidy_section_or_category() -> None:
    mm = load_policy("maoming-2018")
    assert decide([held(C.dibao, D(2019, 1, 1))], 2019, mm).subsidy is None
    lc = load_policy("liaocheng-2023")
    d = decide([held(C.key_veteran, D(2023, 1, 1))], 2023, lc)  # not assisted in 聊城
    assert not d.counted and d.subsidy is None


def test_rate() -> None:
    p = load_policy("shanxi-2019")
    people = [
        [held(C.extreme_poor, D(2019, 8, 1))],
        [held(C.registered_poor, D(2019, 8, 1))],
        [held(C.dibao, D(2020, 11, 1))],
        [held(C.key_veteran, D(2019, 8, 1))],  # assisted, subsidised by 退役军人事务部门
        [],  # in the registry without a category this year
        [held(C.dibao, D(2019, 8, 1), D(2019, 12, 31))],  # not in 2020
    ]
    decisions: list[Decision] = [decide(ms, 2020, p) for ms in people]
    rate = enrolment_rate(decisions)
    assert (rate.subsidised, rate.assisted) == (3, 4)
    assert rate.text() == "75.00%"
    assert Rate(2, 3).text() == "66.67%" and Rate(0, 0).text() == "—"


# -- end to end: roster → registry → jiuzhu enrolment → XLSX ----------------------------

HEADER = [
    "行政区划代码", "乡(镇)", "行政村", "户主姓名", "户主身份证号码", "家庭人口数",
    "家庭成员姓名", "成员身份证号码", "对象类别", "动态调整工作类型", "动态调整时间",
]  # fmt: skip
A, B, CC, E, F, G, H = (make_id(n) for n in (61, 62, 63, 64, 65, 66, 67))


def roster_rows() -> list[list[object]]:
    def row(
        head: str, hname: str, who: str, name: str, cat: str, change: str, day: str
    ) -> list[object]:
        return ["140105", "城关镇", "东村", hname, head, 2, name, who, cat, change, day]

    return [
        HEADER,
        row(A, "甲", A, "甲", "特困人员", "新识别", "2019-08-01"),
        row(A, "甲", B, "乙", "低保对象", "新识别", "2019-08-01"),
        row(CC, "丙", CC, "丙", "建档立卡贫困人口", "新识别", "2019-08-01"),
        row(CC, "丙", CC, "丙", "低保对象", "新识别", "2019-09-01"),
        row(E, "丁", E, "丁", "在乡重点优抚对象", "新识别", "2019-08-01"),
        row(F, "戊", F, "戊", "低收入救助对象", "新识别", "2019-08-01"),
        row(G, "己", G, "己", "低保对象", "新识别", "2020-06-15"),  # starts mid-2020
        row(A, "甲", B, "乙", "低保对象", "自然减少", "2020-03-01"),  # ends mid-2020
        row(H, "庚", H, "庚", "低保对象", "新识别", "2021-01-01"),  # not in 2020
    ]


def test_end_to_end_ledger(db_url: str, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(roster_rows())
    imported = invoke(["roster", "import", str(roster), "--db", db_url])
    assert imported.code == 0, imported.stderr

    ledger, report = tmp_path / "台账.xlsx", tmp_path / "enrolment.json"
    args = ["enrolment", "2020", "--policy", "shanxi-2019", "--db", db_url]
    run = invoke(
        [*args, "--set", "enrolment_subsidy.premium=250.01", "--ledger", str(ledger),
         "--json", str(report)]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    # 甲 特困 250.01, 乙 低保 150.00, 丙 建档立卡 250.01 (175.01 + 75.00), 戊 低收入 100.00,
    # 己 低保 150.00; 丁 优抚 counted but not subsidised; 庚 not in 2020.
    assert "资助参保率 83.33%" in run.stdout and "资助人数 5" in run.stdout
    assert "救助对象人数 6" in run.stdout and "分母" in run.stdout
    assert "在乡重点优抚对象 1 人" in run.stdout

    wb = load_workbook(ledger)
    ws = wb[LEDGER_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[1])
    body = [dict(zip(header, r, strict=True)) for r in rows[2:] if isinstance(r[0], int)]
    assert "身份证号码（脱敏）" in header and "省级财政（元）" in header
    by_name = {r["姓名"]: r for r in body}
    assert set(by_name) == {"甲", "乙", "丙", "戊", "己"}

    def money(v: object) -> Decimal:
        assert isinstance(v, int | float)
        return Decimal(str(v)).quantize(Decimal("0.01"))

    c = by_name["丙"]
    assert c["资助类别"] == "建档立卡贫困人口" and c["资助方式"] == "全额资助"
    assert money(c["资助金额（元）"]) == Decimal("250.01")
    assert money(c["省级财政（元）"]) == Decimal("175.01")
    assert money(c["县级财政（元）"]) == Decimal("75.00")
    assert money(c["资助资金（不分担）（元）"]) == Decimal("0.00")
    assert c["身份证号码（脱敏）"] == CC[:4] + "*" * 10 + CC[-4:]
    assert c["行政区划"] == "140105 小店区" and c["户主姓名"] == "丙"
    assert c["政策依据"].startswith("晋医保发〔2019〕46号")
    assert money(by_name["乙"]["资助金额（元）"]) == Decimal("150.00")
    assert money(by_name["乙"]["个人应缴（元）"]) == Decimal("100.01")
    assert by_name["乙"]["资格期间"] == "2019-08-01至2020-02-29"
    assert by_name["己"]["资格期间"] == "2020-06-15至今"
    assert ws.cell(row=3, column=header.index("资助金额（元）") + 1).number_format == "#,##0.00"
    total_row = next(dict(zip(header, r, strict=True)) for r in rows if r[0] == "合计")
    assert money(total_row["资助金额（元）"]) == Decimal("900.02")
    assert (
        ws.freeze_panes == "A3"
        and ws.auto_filter.ref == f"A2:{ws.cell(2, len(header)).column_letter}7"
    )

    totals = list(wb[TOTALS_SHEET].iter_rows(values_only=True))
    t_header = list(totals[1])
    t = {r[0]: dict(zip(t_header, r, strict=True)) for r in totals[2:] if r and r[0]}
    assert t["低保对象"]["人数"] == 2 and money(t["低保对象"]["资助金额（元）"]) == Decimal(
        "300.00"
    )
    grand = t["合计"]
    assert grand["人数"] == 5
    # 250.01 + 150.00 + 250.01 + 100.00 + 150.00
    assert money(grand["资助金额（元）"]) == Decimal("900.02")
    assert money(grand["省级财政（元）"]) == Decimal("175.01")
    assert money(grand["县级财政（元）"]) == Decimal("75.00")
    assert money(grand["资助资金（不分担）（元）"]) == Decimal("650.01")

    # no full ID number anywhere: ledger cells, JSON, output
    cells = " ".join(
        str(v) for name in wb.sheetnames for r in wb[name].iter_rows(values_only=True) for v in r
    )
    text = cells + report.read_text(encoding="utf-8") + run.stdout + run.stderr
    for ident in (A, B, CC, E, F, G, H):
        assert ident not in text

    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["rate"] == {**data["rate"], "subsidised": 5, "assisted": 6, "rate": "83.33%"}
    assert data["totals"]["registered_poor"]["shares"] == {
        "unsplit": "0.00",
        "province": "175.01",
        "county": "75.00",
    }

    # 2021: 乙 left in 2020, 庚 arrives
    later = invoke([*args[:1], "2021", *args[2:]])
    assert later.code == 0, later.stderr
    assert "资助人数 5" in later.stdout  # 甲 丙 戊 己 庚


def test_usage_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    no_section = invoke(["enrolment", "2019", "--policy", "maoming-2018", "--db", db])
    assert no_section.code == 2 and "资助参保" in no_section.stderr
    before = invoke(["enrolment", "2018", "--policy", "shanxi-2019", "--db", db])
    assert before.code == 2 and "有效期" in before.stderr
