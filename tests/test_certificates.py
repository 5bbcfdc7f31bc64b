"""Certificate import (证书: 特困供养证, 低保证, 低边证, 残疾人证; 杭政办函〔2022〕70号 二(二)):
checks, idempotency, closing by a later file, and the category in force beside rosters."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.certificates import (
    CertificateFileError,
    certificate_category,
    mask_number,
    parse_certificates,
)
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.models import CategoryMembership, Household, Person, RosterImport
from tests.cli_helpers import Run, invoke
from tests.db_fixtures import broken_id, db_url, make_id

__all__ = ["db_url"]

D = dt.date
A, B, C = make_id(201), make_id(202), make_id(203)
DISABILITY_NO = B + "12"  # 第二代残疾人证: the ID number, 残疾类别 1, 残疾等级 2
HEADER: list[object] = [
    "证书编号", "身份证号码", "姓名", "证书类型", "发证日期", "有效期起", "有效期止", "注销日期",
    "残疾等级",
]  # fmt: skip


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def good_rows() -> list[list[object]]:
    return [
        ["杭州市 持证人员名单（民政、残联核发）"],
        HEADER,
        # open-ended from 有效期起 (not the earlier 发证日期)
        ["TK001", A, "张一", "《特困人员救助供养证》", "2022-12-20", "2023-01-01", "", "", ""],
        # no 有效期起: from 发证日期; 有效期止 is the last day with the category
        ["DB001", B, "李二", "低保证", "2023-02-01", "", "2023-12-31", "", ""],
        # a disability card counts only with 二级及以上 (杭政办函〔2022〕70号 二(二))
        [DISABILITY_NO, B, "李二", "残疾人证", "", "2023/3/1", "", "", "二级"],
        # cancelled before its end: 注销日期 is the first day without → last day 06-14
        ["LB001", C, "王三", "低边证", "", "2023年1月1日", "2023-12-31", "2023-06-15", ""],
    ]


def import_file(path: Path, db: str, *extra: str) -> Run:
    return invoke(["certificate", "import", str(path), "--db", db, *extra])


def memberships(db: str) -> list[tuple[str, str, D, D | None, str | None, int | None]]:
    """(ID, category, from, to, certificate number, closed row), in a stable order."""
    engine = make_engine(db)
    with session_factory(engine)() as s:
        rows = s.execute(
            select(
                Person.id_number,
                CategoryMembership.category,
                CategoryMembership.valid_from,
                CategoryMembership.valid_to,
                CategoryMembership.certificate_number,
                CategoryMembership.closed_row,
            )
            .join(Person)
            .order_by(Person.id_number, CategoryMembership.category, CategoryMembership.valid_from)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def counts(db: str) -> dict[str, int]:
    engine = make_engine(db)
    with session_factory(engine)() as s:
        out = {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Person, Household, CategoryMembership, RosterImport)
        }
    engine.dispose()
    return out


def ask(db: str, id_number: str, day: str, policy: str = "hangzhou-2023") -> str:
    args = ["registry", "category", id_number, "--date", day, "--policy", policy, "--db", db]
    run = invoke(args)
    assert run.code == 0, run.stderr
    return run.stdout


def test_certificate_names_and_masking() -> None:
    assert certificate_category("《特困人员救助供养证》") is Category.extreme_poor
    assert certificate_category("最低生活保障家庭证") is Category.dibao
    assert certificate_category("最低生活保障边缘家庭证") is Category.near_dibao
    assert certificate_category("二级及以上残疾人证持证人员") is Category.severe_disability
    assert certificate_category("低保") is Category.dibao  # the roster names still work
    assert certificate_category("残疾人证") is None  # needs its grade
    # the whole 20-digit run masked: less of the ID shows than in mask_id (B[-2:], not B[-4:])
    assert mask_number(DISABILITY_NO) == B[:4] + "*" * 12 + B[-2:] + "12"
    assert mask_number("TK001") == "TK001"


def test_good_file_goes_in_and_persons_have_no_household(db_url: str, tmp_path: Path) -> None:
    run = import_file(write_xlsx(tmp_path / "证书.xlsx", good_rows()), db_url)
    assert run.code == 0, run.stderr
    assert "证书 证书.xlsx：共 4 行，新增资格 4，终止资格 0，未变 0，错误 0 行" in run.stdout
    assert memberships(db_url) == [
        (A, "extreme_poor", D(2023, 1, 1), None, "TK001", None),
        (B, "dibao", D(2023, 2, 1), D(2023, 12, 31), "DB001", None),
        (B, "severe_disability", D(2023, 3, 1), None, DISABILITY_NO, None),
        (C, "near_dibao", D(2023, 1, 1), D(2023, 6, 14), "LB001", None),
    ]
    assert counts(db_url) == {
        "persons": 3,
        "households": 0,
        "category_memberships": 4,
        "roster_imports": 1,
    }
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        people = s.scalars(select(Person).order_by(Person.id_number)).all()
        assert [(p.name, p.household_id) for p in people] == [
            ("张一", None),
            ("李二", None),
            ("王三", None),
        ]
        source = s.scalars(
            select(CategoryMembership).where(CategoryMembership.certificate_number == "LB001")
        ).one()
        assert (source.source_kind, source.source_file, source.source_row) == (
            "certificate",
            "证书.xlsx",
            6,
        )
    engine.dispose()

    # 有效期止 2023-12-31 is still a day with 低保; the certificate is the stated source
    last = ask(db_url, B, "2023-12-31")
    assert "适用类别：低保对象" in last
    assert "低保对象：自2023-02-01起至2023-12-31止，依据证书 DB001" in last
    # the day after 有效期止: only the disability card is left
    assert "适用类别：二级及以上残疾人证持证人员" in ask(db_url, B, "2024-01-01")
    # 注销日期 2023-06-15 is the first day without 低边
    assert "适用类别：低保边缘家庭成员" in ask(db_url, C, "2023-06-14")
    cancelled = ask(db_url, C, "2023-06-15")
    assert "适用类别：普通参保人员" in cancelled and "已终止" in cancelled
    assert (
        "杭政办函〔2022〕70号 二(二)：持有效期内的证件" in cancelled
        and "晋医保发〔2019〕46号 三(十)" not in cancelled
    )


def test_registry_category_masks_the_id_inside_a_certificate_number(
    db_url: str, tmp_path: Path
) -> None:
    assert import_file(write_xlsx(tmp_path / "证书.xlsx", good_rows()), db_url).code == 0
    assert B not in ask(db_url, B, "2023-03-01")


F_ID = "身份证号码"
BAD = [
    # (number, ID, category, 发证日期, 有效期起, 有效期止, 注销日期, 残疾等级), field, fragment
    (("", make_id(301), "低保证", "", "2023-01-01", "", "", ""), "证书编号", "证书编号为空"),
    (("N2", make_id(302)[:17] + "Y", "低保证", "", "2023-01-01", "", "", ""), F_ID, "须为18位"),
    (("N3", broken_id(303), "低保证", "", "2023-01-01", "", "", ""), F_ID, "校验码不正确"),
    (
        ("N4", "371502" + "19800230" + "0231", "低保证", "", "2023-01-01", "", "", ""),
        F_ID,
        "出生日期不存在",
    ),
    (("N5", "", "低保证", "", "2023-01-01", "", "", ""), F_ID, "身份证号码为空"),
    (
        ("N6", make_id(306), "贫困户", "", "2023-01-01", "", "", ""),
        "对象类别",
        "未知的对象类别（证书类型）「贫困户」",
    ),
    (
        ("N7", make_id(307), "", "", "2023-01-01", "", "", ""),
        "对象类别",
        "对象类别（证书类型）为空",
    ),
    (
        ("N8", make_id(308), "残疾人证", "", "2023-01-01", "", "", ""),
        "残疾等级",
        "残疾人证须注明残疾等级",
    ),
    (
        ("N9", make_id(309), "中华人民共和国残疾人证", "", "2023-01-01", "", "", "三级"),
        "残疾等级",
        "三级残疾人证不属于医疗救助对象：须二级及以上（杭政办函〔2022〕70号 二(二)）",
    ),
    (
        ("N10", make_id(310), "残疾人证", "", "2023-01-01", "", "", "五级"),
        "残疾等级",
        "未知的残疾等级「五级」",
    ),
    (
        ("N11", make_id(311), "二级及以上残疾人证", "", "2023-01-01", "", "", "四级"),
        "残疾等级",
        "四级残疾人证不属于医疗救助对象",
    ),
    (
        ("N12", make_id(312), "低保证", "", "2023-02-30", "", "", ""),
        "有效期起",
        "日期无法识别或不存在「2023-02-30」",
    ),
    (("N13", make_id(313), "低保证", "", "", "", "", ""), "有效期起", "有效期起、发证日期为空"),
    (
        ("N14", make_id(314), "低保证", "", "2023-05-01", "2023-04-30", "", ""),
        "有效期止",
        "有效期止 2023-04-30 早于有效期起 2023-05-01",
    ),
    (
        ("N15", make_id(315), "低保证", "", "2023-05-01", "", "2023-05-01", ""),
        "注销日期",
        "注销日期 2023-05-01 须晚于有效期起 2023-05-01",
    ),
    (
        ("N16", make_id(316), "低保证", "", "2023-05-01", "今年底", "", ""),
        "有效期止",
        "日期无法识别或不存在「今年底」",
    ),
    (
        ("N17", make_id(317), "低保证", "2023-13-01", "2023-05-01", "", "", ""),
        "发证日期",
        "日期无法识别或不存在「2023-13-01」",
    ),
    (("N" * 65, make_id(318), "低保证", "", "2023-05-01", "", "", ""), "证书编号", "超过64个字符"),
]
GOOD_THEN_CLASH = [
    ("DUP1", make_id(320), "低保证", "", "2023-01-01", "", "", ""),  # good
    ("DUP1", make_id(321), "低保证", "", "2023-01-01", "", "", ""),  # same certificate, other ID
]


def bad_rows() -> list[list[object]]:
    header: list[object] = [
        "证书编号", "身份证号码", "姓名", "对象类别", "发证日期", "有效期起", "有效期止",
        "注销日期", "残疾等级",
    ]  # fmt: skip
    rows: list[list[object]] = [header]
    for number, ident, cat, issued, start, end, cancel, grade in [c for c, _, _ in BAD]:
        rows.append([number, ident, "某", cat, issued, start, end, cancel, grade])
    rows.append(["N19", make_id(319), "名" * 65, "低保证", "", "2023-05-01", "", "", ""])
    for number, ident, cat, issued, start, end, cancel, grade in GOOD_THEN_CLASH:
        rows.append([number, ident, "某", cat, issued, start, end, cancel, grade])
    return rows


def test_bad_rows_reported_with_reasons_good_rows_imported(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", bad_rows())
    errors = tmp_path / "errors.csv"
    run = import_file(path, db_url, "--errors", str(errors))
    assert run.code == 1
    with errors.open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    assert table[0] == ["行号", "字段", "原因"]
    got = {(int(r[0]), r[1]): r[2] for r in table[1:]}
    for n, (_, column, fragment) in enumerate(BAD, start=2):
        assert fragment in got[(n, column)], (n, got)
    n = len(BAD) + 2
    assert "姓名超过64个字符" in got[(n, "姓名")]
    # row n+1 (DUP1 for 320) is good; row n+2 claims the same certificate for 321
    clash = got[(n + 2, "证书编号")]
    assert "证书 DUP1（低保对象，有效期起 2023-01-01）已登记在" in clash
    assert mask_number(make_id(320)) in clash and mask_number(make_id(321)) in clash
    assert len(table) - 1 == len(BAD) + 2  # one reason per bad row, nothing for the good one
    assert f"新增资格 1，终止资格 0，未变 0，错误 {len(BAD) + 2} 行" in run.stdout
    assert "错误：第 2 行，字段 证书编号：证书编号为空" in run.stderr
    assert "其余行已导入" in run.stderr
    assert memberships(db_url) == [
        (make_id(320), "dibao", D(2023, 1, 1), None, "DUP1", None),
    ]
    # masking: no complete ID number anywhere a person reads, malformed ones included
    everything = run.stdout + run.stderr + errors.read_text(encoding="utf-8-sig")
    for serial in range(301, 322):
        assert make_id(serial) not in everything
    assert broken_id(303) not in everything
    assert broken_id(303)[:4] + "*" * 10 + broken_id(303)[-4:] in everything
    assert make_id(302)[:17] + "Y" not in everything


def test_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "证书.xlsx", good_rows())
    assert import_file(path, db_url).code == 0
    before = (memberships(db_url), counts(db_url))
    again = import_file(path, db_url)
    assert again.code == 0, again.stderr
    assert "新增资格 0，终止资格 0，未变 4，错误 0 行（此文件此前已导入（北京时间 " in again.stdout
    assert again.stdout.rstrip().endswith("），数据未变）")
    assert (memberships(db_url), counts(db_url)) == before


def _cert(path: Path, rows: list[list[str]]) -> Path:
    header = ["证书编号", "身份证号码", "姓名", "对象类别", "有效期起", "有效期止", "注销日期"]
    return write_csv(path, [header, *rows])


def test_a_later_file_closes_and_ends_only_move_earlier(db_url: str, tmp_path: Path) -> None:
    first = _cert(tmp_path / "1.csv", [["DB001", B, "李二", "低保证", "2023-02-01", "", ""]])
    cancel = _cert(
        tmp_path / "2.csv", [["DB001", B, "李二", "低保证", "2023-02-01", "", "2023-09-01"]]
    )
    later_end = _cert(
        tmp_path / "3.csv", [["DB001", B, "李二", "低保证", "2023-02-01", "2023-12-31", ""]]
    )
    earlier_end = _cert(
        tmp_path / "4.csv", [["DB001", B, "李二", "低保证", "2023-02-01", "2023-06-30", ""]]
    )
    renewed = _cert(tmp_path / "5.csv", [["DB001", B, "李二", "低保证", "2024-01-01", "", ""]])

    assert "新增资格 1" in import_file(first, db_url).stdout
    closing = import_file(cancel, db_url)
    assert closing.code == 0, closing.stderr
    assert "新增资格 0，终止资格 1，未变 0" in closing.stdout
    # 注销日期 2023-09-01 is the first day without: the last day is 08-31
    assert memberships(db_url) == [(B, "dibao", D(2023, 2, 1), D(2023, 8, 31), "DB001", 2)]
    assert "适用类别：低保对象" in ask(db_url, B, "2023-08-31")
    assert "适用类别：普通参保人员" in ask(db_url, B, "2023-09-01")

    # neither the older file nor a later end reopens it; the same closing is unchanged
    for path in (cancel, first, later_end):
        run = import_file(path, db_url)
        assert "新增资格 0，终止资格 0，未变 1" in run.stdout, run.stdout
    assert memberships(db_url) == [(B, "dibao", D(2023, 2, 1), D(2023, 8, 31), "DB001", 2)]

    # an earlier 有效期止 moves the end earlier (inclusive: 06-30 is still a 低保 day)
    assert "终止资格 1" in import_file(earlier_end, db_url).stdout
    assert memberships(db_url) == [(B, "dibao", D(2023, 2, 1), D(2023, 6, 30), "DB001", 2)]
    assert "适用类别：低保对象" in ask(db_url, B, "2023-06-30")
    ended = ask(db_url, B, "2023-07-01")
    assert "适用类别：普通参保人员" in ended
    # the explanation names the file that ended it (not a roster's 自然减少)
    assert "终止依据证书文件 4.csv" in ended and "有效期至 2023-06-30" in ended
    assert "自然减少" not in ended

    # a renewal (new 有效期起) is a new membership under the same number
    assert "新增资格 1" in import_file(renewed, db_url).stdout
    assert memberships(db_url)[-1] == (B, "dibao", D(2024, 1, 1), None, "DB001", None)
    assert counts(db_url)["roster_imports"] == 5


def _changes(path: Path, rows: list[list[str]]) -> Path:
    """A 附件3 dynamic-adjustment roster (晋医保发〔2019〕46号 三(十)) with a 对象类别 column."""
    header = [
        "乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名", "身份证号码",
        "对象类别", "动态调整工作类型", "动态调整时间", "月", "年",
    ]  # fmt: skip
    body = [
        ["镇", "村", "某", ident, "1", "某", ident, cat, change, date, "", ""]
        for ident, cat, change, date in rows
    ]
    return write_csv(path, [header, *body])


def test_roster_and_certificate_of_another_category_by_precedence(
    db_url: str, tmp_path: Path
) -> None:
    person, other = make_id(401), make_id(402)
    roster = _changes(
        tmp_path / "q1.csv",
        [[person, "低保", "新识别", "2023-01-01"], [other, "低保", "新识别", "2023-01-01"]],
    )
    assert invoke(["roster", "import", str(roster), "--db", db_url]).code == 0
    certs = _cert(
        tmp_path / "certs.csv",
        [
            ["TK-401", person, "某", "特困人员救助供养证", "2023-03-01", "", ""],
            ["CJ-402", other, "某", "二级及以上残疾人证", "2023-01-01", "", ""],
            # the same category from the same day as the roster: recorded once, noted
            ["DB-401", person, "某", "低保证", "2023-01-01", "", ""],
        ],
    )
    run = import_file(certs, db_url)
    assert run.code == 0, run.stderr
    assert "新增资格 2，终止资格 0，未变 1，错误 0 行" in run.stdout
    assert "第4行：" in run.stdout and "证书 DB-401 未另行登记" in run.stdout
    assert person not in run.stdout + run.stderr

    before = ask(db_url, person, "2023-02-28")
    assert "适用类别：低保对象" in before
    assert "q1.csv" in before and "第2行「新识别」" in before

    both = ask(db_url, person, "2023-03-01")
    assert "适用类别：特困人员" in both
    assert "特困人员：自2023-03-01起至今有效，依据证书 TK-401" in both
    assert "低保对象：自2023-01-01起至今有效，依据名单 q1.csv" in both
    assert (
        "就高不重复：同时具有 特困人员、低保对象，"
        "按政策 hangzhou-2023（杭政办函〔2022〕70号 二(二)） 的类别顺序适用「特困人员」" in both
    )
    assert person not in both

    # 杭州 assists 二级及以上残疾人证持证人员 below 低保; 山西 does not assist them at all
    hz = ask(db_url, other, "2023-06-01")
    assert "适用类别：低保对象" in hz
    assert "同时具有 低保对象、二级及以上残疾人证持证人员" in hz and "依据证书 CJ-402" in hz
    sx = ask(db_url, other, "2023-06-01", "shanxi-2019")
    assert "适用类别：低保对象" in sx
    assert "政策 shanxi-2019（晋医保发〔2019〕46号 一） 不救助「二级及以上残疾人证持证人员」" in sx

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        held = s.scalars(select(Person).where(Person.id_number == person)).one()
        assert held.household_id is not None  # the roster placed them; the certificate kept it
    engine.dispose()


def test_file_errors(tmp_path: Path, db_url: str) -> None:
    no_header = write_csv(tmp_path / "a.csv", [["姓名", "身份证号码"], ["某", A]])
    with pytest.raises(CertificateFileError, match="找不到表头"):
        parse_certificates(no_header)
    no_dates = write_csv(tmp_path / "b.csv", [["证书编号", "身份证号码", "对象类别"]])
    with pytest.raises(CertificateFileError, match="缺少列：发证日期或有效期起"):
        parse_certificates(no_dates)
    run = import_file(no_dates, db_url)
    assert run.code == 1 and "缺少列" in run.stderr
    missing = invoke(["certificate", "import", str(tmp_path / "none.csv"), "--db", db_url])
    assert missing.code == 2 and "找不到文件" in missing.stderr


# -- rosters and certificates of the same category -------------------------------------

ROSTER_CHANGES: list[object] = [
    "乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名", "身份证号码",
    "动态调整工作类型", "动态调整时间", "月", "年",
]  # fmt: skip


def roster_changes(category_box: str, rows: list[list[object]]) -> list[list[object]]:
    return [
        ["某县 2023年 医疗救助重点救助对象动态调整名单"],
        ["单位名称(盖章):", "", "", f"对象类别({category_box})"],
        ROSTER_CHANGES,
        *rows,
    ]


def test_a_roster_exit_ends_the_category_a_certificate_gave(db_url: str, tmp_path: Path) -> None:
    """自然减少 from civil affairs ends the category, also when it was held by certificate
    (TK001: 特困 from 2023-01-01, open-ended): exit 2023-07-01 → last day 2023-06-30."""
    assert import_file(write_xlsx(tmp_path / "证书.xlsx", good_rows()), db_url).code == 0
    exit_row = ["城关镇", "东村", "张一", A, 1, "张一", A, "自然减少", "2023-07-01", 7, 2023]
    changes = write_csv(tmp_path / "调整.csv", roster_changes("低保□特困☑重点优抚□", [exit_row]))
    run = invoke(["roster", "import", str(changes), "--db", db_url])
    assert run.code == 0, run.stderr
    held = [m for m in memberships(db_url) if m[0] == A]
    assert held == [(A, "extreme_poor", D(2023, 1, 1), D(2023, 6, 30), "TK001", 4)]
    assert "特困" in ask(db_url, A, "2023-06-30")
    assert "适用类别：普通参保人员" in ask(db_url, A, "2023-07-01")


def test_a_certificate_that_runs_out_does_not_swallow_a_roster_entry(
    db_url: str, tmp_path: Path
) -> None:
    """B holds 低保证 DB001 until 2023-12-31; civil affairs lists B as 低保 (新识别) from
    2023-05-01 with no end. The roster membership is kept, so B is still 低保 in 2024."""
    assert import_file(write_xlsx(tmp_path / "证书.xlsx", good_rows()), db_url).code == 0
    new_row = ["城关镇", "东村", "李二", B, 1, "李二", B, "新识别", "2023-05-01", 5, 2023]
    changes = write_csv(tmp_path / "调整.csv", roster_changes("低保☑特困□重点优抚□", [new_row]))
    run = invoke(["roster", "import", str(changes), "--db", db_url])
    assert run.code == 0, run.stderr
    dibao = [m[2:4] for m in memberships(db_url) if m[0] == B and m[1] == "dibao"]
    assert dibao == [(D(2023, 2, 1), D(2023, 12, 31)), (D(2023, 5, 1), None)]
    assert "适用类别：低保对象" in ask(db_url, B, "2024-03-01")


def test_a_roster_exit_ends_a_dated_certificate_early(db_url: str, tmp_path: Path) -> None:
    """DB001 (低保, 2023-02-01 … 2023-12-31): a 自然减少 on 2023-07-01 ends it on 06-30."""
    assert import_file(write_xlsx(tmp_path / "证书.xlsx", good_rows()), db_url).code == 0
    exit_row = ["城关镇", "东村", "李二", B, 1, "李二", B, "自然减少", "2023-07-01", 7, 2023]
    changes = write_csv(tmp_path / "调整.csv", roster_changes("低保☑特困□重点优抚□", [exit_row]))
    run = invoke(["roster", "import", str(changes), "--db", db_url])
    assert run.code == 0, run.stderr
    dibao = [m[2:4] for m in memberships(db_url) if m[0] == B and m[1] == "dibao"]
    assert dibao == [(D(2023, 2, 1), D(2023, 6, 30))]
    assert "适用类别：低保对象" in ask(db_url, B, "2023-06-30")
    after = ask(db_url, B, "2023-08-01")  # only the disability card is left
    assert "低保" not in after and "适用类别：二级及以上残疾人证持证人员" in after


def test_a_roster_entry_on_a_dated_certificate_s_first_day_takes_it_over(
    db_url: str, tmp_path: Path
) -> None:
    """新识别 低保 for B from 2023-02-01, the day DB001 began: one membership per person,
    category and start, so the roster's open-ended one replaces the dated one, and
    re-reading the certificate file does not bring its end back."""
    certificates = write_xlsx(tmp_path / "证书.xlsx", good_rows())
    assert import_file(certificates, db_url).code == 0
    new_row = ["城关镇", "东村", "李二", B, 1, "李二", B, "新识别", "2023-02-01", 2, 2023]
    changes = write_csv(tmp_path / "调整.csv", roster_changes("低保☑特困□重点优抚□", [new_row]))
    run = invoke(["roster", "import", str(changes), "--db", db_url])
    assert run.code == 0 and "新增资格 1" in run.stdout, run.stdout
    for again in (certificates, changes):
        cmd = "certificate" if again == certificates else "roster"
        assert invoke([cmd, "import", str(again), "--db", db_url]).code == 0
    dibao = [m[2:5] for m in memberships(db_url) if m[0] == B and m[1] == "dibao"]
    assert dibao == [(D(2023, 2, 1), None, "DB001")]
    assert "适用类别：低保对象" in ask(db_url, B, "2024-03-01")
