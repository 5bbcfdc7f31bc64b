"""Roster import (山西 附件2 / 附件3, 晋医保发〔2019〕46号 三(十)): layouts, checks, idempotency,
masking."""

from __future__ import annotations

import csv
import datetime as dt
import threading
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import Layout, RosterFileError, import_roster, parse_roster
from jiuzhu.storage.db import make_engine, session_factory, upgrade
from jiuzhu.storage.models import CategoryMembership, District, Household, Person, RosterImport
from tests.cli_helpers import invoke
from tests.db_fixtures import broken_id, db_url, make_id

__all__ = ["db_url"]

LIST_HEADER = [
    "乡（镇）",
    "行政村",
    "户主姓名",
    "身份证号码",
    "家庭人口数",
    "家庭成员姓名",
    "身份证号码",
    "备注",
]
CHANGE_HEADER = [
    "乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名", "身份证号码",
    "动态调整工作类型", "动态调整时间", "月", "年",
]  # fmt: skip

HEAD, WIFE, CHILD = make_id(1), make_id(2), make_id(3)
NEW, INCREASE = make_id(11), make_id(12)


def list_rows() -> list[list[object]]:
    """A 附件2 list: a household of three, the household columns written once."""
    return [
        ["县医疗救助重点救助对象名单"],
        ["单位名称（盖章）：某县民政局"],
        ["对象类别（低保☑特困□重点优抚□）"],
        ["2019年7月31日"],
        LIST_HEADER,
        ["城关镇", "东村", "张三", HEAD, 3, "张三", HEAD, ""],
        ["", "", "", "", "", "李四", WIFE, ""],
        ["", "", "", "", "", "张小", CHILD, ""],
    ]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def change_rows() -> list[list[object]]:
    return [
        ["县 2019年 3季度 医疗救助重点救助对象动态调整名单"],
        ["单位名称(盖章):", "", "", "对象类别(低保☑特困□重点优抚□)"],
        CHANGE_HEADER,
        ["城关镇", "西村", "王五", NEW, 1, "王五", NEW, "新识别", "2019-08-01", 8, 2019],
        ["城关镇", "东村", "张三", HEAD, 4, "张大", INCREASE, "自然增加", "2019/8/15", 8, 2019],
        ["城关镇", "东村", "张三", HEAD, 2, "李四", WIFE, "自然减少", "2019年9月10日", 9, 2019],
    ]


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        out = {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Person, Household, CategoryMembership, RosterImport, District)
        }
        closed = s.scalar(
            select(func.count())
            .select_from(CategoryMembership)
            .where(CategoryMembership.valid_to.is_not(None))
        )
        out["closed"] = closed or 0
    engine.dispose()
    return out


def test_list_layout_from_xlsx_with_title_category_and_date(tmp_path: Path) -> None:
    parsed = parse_roster(write_xlsx(tmp_path / "名单.xlsx", list_rows()))
    assert parsed.layout is Layout.list
    assert parsed.errors == []
    assert [r.id_number for r in parsed.rows] == [HEAD, WIFE, CHILD]
    assert {r.category for r in parsed.rows} == {Category.dibao}
    assert {r.date for r in parsed.rows} == {dt.date(2019, 7, 31)}
    assert {r.head_id_number for r in parsed.rows} == {HEAD}  # filled down
    assert [r.row for r in parsed.rows] == [6, 7, 8]  # as the spreadsheet numbers them


def test_list_from_gbk_csv_with_options(tmp_path: Path) -> None:
    rows = [LIST_HEADER, *list_rows()[5:]]
    path = write_csv(tmp_path / "tekun.csv", rows, encoding="gb18030")
    parsed = parse_roster(path, Category.extreme_poor, dt.date(2020, 1, 1))
    assert parsed.errors == []
    assert {(r.category, r.date) for r in parsed.rows} == {
        (Category.extreme_poor, dt.date(2020, 1, 1))
    }


def test_list_without_date_is_a_file_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [LIST_HEADER, *list_rows()[5:]])
    with pytest.raises(RosterFileError, match="--valid-from"):
        parse_roster(path, Category.dibao)
    with pytest.raises(RosterFileError, match="找不到表头"):
        parse_roster(write_csv(tmp_path / "b.csv", [["a", "b"], ["1", "2"]]))


def test_import_list_and_changes_then_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    listing = write_xlsx(tmp_path / "名单.xlsx", list_rows())
    changes = write_csv(tmp_path / "调整.csv", change_rows())
    r1 = invoke(["roster", "import", str(listing), "--db", db_url])
    assert r1.code == 0, r1.stderr
    assert "新增资格 3" in r1.stdout
    r2 = invoke(["roster", "import", str(changes), "--db", db_url])
    assert r2.code == 0, r2.stderr
    assert "新增资格 2" in r2.stdout and "终止资格 1" in r2.stdout
    before = _counts(db_url)
    assert before["persons"] == 5 and before["category_memberships"] == 5
    assert before["closed"] == 1 and before["roster_imports"] == 2
    for path in (listing, changes):
        again = invoke(["roster", "import", str(path), "--db", db_url])
        assert again.code == 0, again.stderr
        assert "新增资格 0" in again.stdout and "终止资格 0" in again.stdout
        assert "此前已导入" in again.stdout
    assert _counts(db_url) == before

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        wife = s.scalars(
            select(CategoryMembership).join(Person).where(Person.id_number == WIFE)
        ).one()
        assert wife.valid_from == dt.date(2019, 7, 31)
        assert wife.valid_to == dt.date(2019, 9, 9)  # 自退出之日起不再享受
        assert wife.exit_date == dt.date(2019, 9, 10) and wife.closed_row == 6
        new = s.scalars(
            select(CategoryMembership).join(Person).where(Person.id_number == NEW)
        ).one()
        assert (new.valid_from, new.valid_to, new.change_type) == (
            dt.date(2019, 8, 1),
            None,
            "new_identified",
        )
        assert new.source_row == 4 and new.source_sha256 is not None
    engine.dispose()


F_ID = "身份证号码（家庭成员）"
BAD = [
    # (row content, field, message fragment)
    ([make_id(21)[:17] + "Y", "新识别", "2019-08-01", "低保"], F_ID, "须为18位"),
    ([broken_id(22), "新识别", "2019-08-01", "低保"], F_ID, "校验码不正确"),
    (["371502" + "19800230" + "0231", "新识别", "2019-08-01", "低保"], F_ID, "出生日期不存在"),
    (["", "新识别", "2019-08-01", "低保"], F_ID, "为空"),
    (
        [make_id(25), "新增", "2019-08-01", "低保"],
        "动态调整工作类型",
        "未知的动态调整工作类型「新增」",
    ),
    ([make_id(26), "新识别", "", "低保"], "动态调整时间", "动态调整时间为空"),
    (
        [make_id(27), "新识别", "2019-02-30", "低保"],
        "动态调整时间",
        "日期无法识别或不存在「2019-02-30」",
    ),
    ([make_id(28), "新识别", "2019-08-01", "贫困户"], "对象类别", "未知的对象类别「贫困户」"),
    ([make_id(29), "自然减少", "2019-08-01", "低保"], F_ID, "不在名单中"),
]


def bad_rows() -> list[list[object]]:
    header = [
        "行政区划代码", "乡(镇)", "行政村", "户主姓名", "户主身份证号码", "家庭人口数",
        "家庭成员姓名", "成员身份证号码", "对象类别", "动态调整工作类型", "动态调整时间",
    ]  # fmt: skip
    rows: list[list[object]] = [header]
    for i, (cells, _, _) in enumerate(BAD):
        ident, change, date, cat = cells
        rows.append(["140105", "镇", "村", f"户{i}", "", 1, f"人{i}", ident, cat, change, date])
    # household-level checks: district code and household size
    rows.append(["14010", "镇", "村", "户A", make_id(40), 1, "甲", make_id(40), "低保", "新识别",
                 "2019-08-01"])  # fmt: skip
    rows.append(["140105", "镇", "村", "户B", make_id(41), "三", "乙", make_id(41), "低保",
                 "新识别", "2019-08-01"])  # fmt: skip
    rows.append(["140105", "镇", "村", "户C", broken_id(42), 2, "丙", make_id(43), "低保",
                 "新识别", "2019-08-01"])  # fmt: skip
    # a decrease of a category the person does not hold, after a good increase
    rows.append(["140105", "镇", "村", "户D", make_id(44), 1, "丁", make_id(44), "低保",
                 "新识别", "2019-08-01"])  # fmt: skip
    rows.append(["140105", "镇", "村", "户D", make_id(44), 1, "丁", make_id(44), "特困",
                 "自然减少", "2019-09-01"])  # fmt: skip
    return rows


def test_bad_rows_reported_good_rows_imported(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", bad_rows())
    errors = tmp_path / "errors.csv"
    run = invoke(["roster", "import", str(path), "--db", db_url, "--errors", str(errors)])
    assert run.code == 1
    with errors.open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    assert table[0] == ["行号", "字段", "原因"]
    got = {(int(r[0]), r[1]): r[2] for r in table[1:]}
    for n, (_, column, fragment) in enumerate(BAD, start=2):
        assert fragment in got[(n, column)], (n, got)
    n = len(BAD) + 2
    assert "6位数字（GB/T 2260）" in got[(n, "行政区划代码")]
    assert "正整数" in got[(n + 1, "家庭人口数")]
    assert "校验码不正确" in got[(n + 2, "身份证号码（户主）")]
    assert "没有可终止的「特困人员」资格" in got[(n + 4, "动态调整工作类型")]
    assert len(table) - 1 == len(BAD) + 4
    assert "新增资格 1" in run.stdout and f"错误 {len(BAD) + 4} 行" in run.stdout
    assert "错误：第 2 行，字段 身份证号码（家庭成员）" in run.stderr
    # masking: no complete ID number anywhere a person reads
    everything = run.stdout + run.stderr + errors.read_text(encoding="utf-8-sig")
    for cells, _, _ in BAD:
        if len(str(cells[0])) == 18:
            assert str(cells[0]) not in everything
    for serial in (40, 41, 42, 43, 44):
        assert make_id(serial) not in everything
    assert broken_id(42) not in everything
    assert broken_id(22)[:4] + "*" * 10 + broken_id(22)[-4:] in everything
    counts = _counts(db_url)
    assert counts["category_memberships"] == 1 and counts["districts"] == 1


def test_import_api_on_session(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    parsed = parse_roster(write_xlsx(tmp_path / "l.xlsx", list_rows()))
    with session_factory(engine).begin() as s:
        result = import_roster(s, parsed)
    assert (result.added, result.closed, result.unchanged, result.rows_bad) == (3, 0, 0, 0)
    with session_factory(engine)() as s:
        households = s.scalars(select(Household)).all()
        assert [(h.head_id_number, h.size, h.village) for h in households] == [(HEAD, 3, "东村")]
        people = s.scalars(select(Person)).all()
        assert len({p.public_id for p in people}) == 3
    engine.dispose()


def test_over_long_names_are_row_errors_not_database_errors(tmp_path: Path) -> None:
    """The registry holds 64 characters per name; PostgreSQL would refuse a longer one and
    with it the whole import. The row is reported; the household's other rows go in."""
    rows = list_rows()
    rows[6] = ["", "", "", "", "", "李" * 65, WIFE, ""]
    parsed = parse_roster(write_xlsx(tmp_path / "名单.xlsx", rows))
    assert [(e.row, e.field) for e in parsed.errors] == [(7, "家庭成员姓名")]
    assert "65 个字符" in parsed.errors[0].message
    assert [r.id_number for r in parsed.rows] == [HEAD, CHILD]


def _import_in_thread(url: str, path: Path, start: threading.Barrier, out: list[object]) -> None:
    engine = make_engine(url)
    try:
        parsed = parse_roster(path)
        start.wait()
        with session_factory(engine).begin() as session:
            out.append(import_roster(session, parsed).added)
    except BaseException as err:  # reported by the test
        out.append(err)
    finally:
        engine.dispose()


def test_two_imports_at_once_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    """Two `jiuzhu roster import` processes' transactions on the same new people (one list
    as XLSX and as CSV): ``lock_rosters`` makes the second wait (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: the advisory lock), and it then finds everyone there."""
    upgrade(make_engine(db_url))
    files = [
        write_xlsx(tmp_path / "名单.xlsx", list_rows()),
        write_csv(tmp_path / "名单.csv", list_rows()),
    ]
    start = threading.Barrier(2)
    out: list[object] = []
    threads = [
        threading.Thread(target=_import_in_thread, args=(db_url, f, start, out)) for f in files
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [0, 3], out  # type: ignore[type-var]
    counts = _counts(db_url)
    assert (counts["persons"], counts["households"], counts["category_memberships"]) == (3, 1, 3)


def test_an_import_waits_for_a_settlement_creating_the_same_person(
    db_url: str, tmp_path: Path
) -> None:
    """A claim can come before any roster: the service inserts the person (``ON CONFLICT
    DO NOTHING``) in a transaction still open when the import reaches the same person.
    The import waits for it and uses that row instead of failing on the unique key."""
    engine = make_engine(db_url)
    upgrade(engine)
    held = engine.connect()
    if db_url.startswith("sqlite"):
        held.exec_driver_sql("BEGIN IMMEDIATE")
    held.execute(
        text("INSERT INTO persons (id_number, public_id, created_at) VALUES (:i, :p, :t)"),
        {"i": HEAD, "p": "settled-first", "t": dt.datetime(2023, 1, 1)},
    )
    start = threading.Barrier(1)
    out: list[object] = []
    worker = threading.Thread(
        target=_import_in_thread,
        args=(db_url, write_xlsx(tmp_path / "名单.xlsx", list_rows()), start, out),
    )
    worker.start()
    worker.join(1.0)  # the import is now waiting on the open transaction
    held.commit()
    held.close()
    worker.join()
    assert out == [3], out
    with session_factory(engine)() as s:
        head = s.scalar(select(Person).where(Person.id_number == HEAD))
        assert head is not None and head.public_id == "settled-first"
        assert head.household_id is not None  # placed by the roster
        assert s.scalar(select(func.count()).select_from(Person)) == 3
    engine.dispose()
