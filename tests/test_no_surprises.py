"""No surprises (issue 11, point 6), through ``jiuzhu``: unwritable outputs are a Chinese
message and no file; reading the registry never creates a database; ``db upgrade`` says
what it did; a file of which no row went in is not "already imported"; nothing is said
twice; claims take Chinese category names as rosters do."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, text

from jiuzhu.storage.db import make_engine, upgrade
from tests.cli_helpers import SHARED_CASES, Run, invoke, jsonl, run_process
from tests.db_fixtures import broken_id, db_url, make_id

__all__ = ["db_url"]

CASES = {c["id"]: c for c in json.loads(SHARED_CASES.read_text(encoding="utf-8"))}
CLAIM: dict[str, Any] = CASES["P-LC-1"]["claims"][0]
POLICY = "liaocheng-2023"
HEADER = ["乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名", "身份证号码"]


def plain(run: Run) -> None:
    """A message for a person: no traceback, no English exception text."""
    for stream in (run.stdout, run.stderr):
        assert "Traceback" not in stream and "Error:" not in stream and "Errno" not in stream


# --- unwritable outputs -------------------------------------------------------------------------


def unwritable_cases(tmp_path: Path) -> list[tuple[list[str], str, Path]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    missing = tmp_path / "no-such-dir"
    claims = tmp_path / "c.jsonl"
    claims.write_text(jsonl([CLAIM]), encoding="utf-8")
    roster = tmp_path / "r.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([["2019年7月31日"], HEADER, ["", "", "甲", make_id(1), 1, "甲",
                                 make_id(1)]])  # fmt: skip
    db = f"sqlite:///{tmp_path / 'r.db'}"
    settle = ["settle", "-p", POLICY, "-i", str(claims)]
    folder = tmp_path / "out.jsonl"  # a directory named like a file
    folder.mkdir()
    enrol = ["enrolment", "2020", "-p", "shanxi-2019", "--db", db]
    return [
        ([*settle, "-o", str(missing / "s.jsonl")], "无法写入输出文件", missing / "s.jsonl"),
        ([*settle, "-o", str(missing / "s.xlsx")], "无法写入输出文件", missing / "s.xlsx"),
        ([*settle, "-o", str(a_file / "s.csv")], "无法写入输出文件", a_file / "s.csv"),
        ([*settle, "-o", str(folder)], "无法写入输出文件", folder / "x"),
        ([*settle, "--errors", str(missing / "e.csv")], "无法写入错误文件", missing / "e.csv"),
        (["template", "claims", str(missing / "t.xlsx")], "无法写入模板文件", missing / "t.xlsx"),
        (["synth", "-p", POLICY, "-n", "10", "-o", str(a_file)], "无法写入输出目录", a_file / "x"),
        (["roster", "import", str(roster), "--db", db, "--errors", str(missing / "e.csv")],
         "无法写入错误文件", tmp_path / "r.db"),
        ([*enrol, "--ledger", str(missing / "l.xlsx")], "无法写入参保台账文件", missing / "l.xlsx"),
        ([*enrol, "--json", str(missing / "e.json")], "无法写入 JSON 文件", missing / "e.json"),
    ]  # fmt: skip


@pytest.mark.cli
def test_unwritable_outputs_say_why_and_write_nothing(tmp_path: Path) -> None:
    for args, said, never in unwritable_cases(tmp_path):
        run = invoke(args)
        plain(run)
        assert run.code == 2, (args, run.code, run.stderr)
        assert said in run.stderr and ("不存在" in run.stderr or "不是" in run.stderr), run.stderr
        assert not never.exists(), (args, never)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.cli
def test_an_unwritable_output_in_a_real_process(tmp_path: Path) -> None:
    run = run_process(["settle", "-p", POLICY, "-o", "/proc/no/such.xlsx"], jsonl([CLAIM]))
    assert run.code == 2 and "无法写入输出文件 /proc/no/such.xlsx" in run.stderr
    assert "Traceback" not in run.stderr


# --- the registry is never created by reading it --------------------------------------------


@pytest.mark.cli
def test_reading_a_missing_registry_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    ask = ["registry", "category", make_id(1), "--date", "2020-01-01", "-p", "shanxi-2019"]
    for args in (
        [*ask, "--db", str(missing)],
        ["enrolment", "2020", "-p", "shanxi-2019", "--db", f"sqlite:///{missing}"],
    ):
        run = invoke(args)
        plain(run)
        assert run.code == 2 and "找不到登记库" in run.stderr and "jiuzhu db upgrade" in run.stderr
        assert not missing.exists()
    empty = tmp_path / "empty.db"
    create_engine(f"sqlite:///{empty}").connect().close()  # a file without tables
    run = invoke([*ask, "--db", str(empty)])
    assert run.code == 2 and "还没有数据表" in run.stderr


@pytest.mark.cli
def test_db_upgrade_says_created_migrated_or_current(db_url: str, tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    created = invoke(["db", "upgrade", "--db", str(new)])
    assert created.code == 0 and created.stdout == f"已新建数据库 {new}（版本 0005_staff）\n"

    engine = make_engine(db_url)  # as an older release left it
    upgrade(engine, "0002")
    engine.dispose()
    migrated = invoke(["db", "upgrade", "--db", db_url])
    assert migrated.code == 0, migrated.stderr
    assert "已从版本 0002 迁移到 0005_staff" in migrated.stdout
    current = invoke(["db", "upgrade", "--db", db_url])
    assert current.code == 0 and "已是最新版本（0005_staff），未作更改" in current.stdout


# --- a file of which no row went in ------------------------------------------------------------


def roster(path: Path, ids: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(
            [["对象类别（低保☑特困□重点优抚□）"], ["2019年7月31日"], HEADER]
            + [["城关镇", "东村", f"户{n}", i, 1, f"户{n}", i] for n, i in enumerate(ids)]
        )
    return path


@pytest.mark.cli
def test_a_file_whose_every_row_fails_is_not_imported(db_url: str, tmp_path: Path) -> None:
    bad = roster(tmp_path / "名单.csv", [broken_id(1), broken_id(2)])
    for _ in range(2):  # the same bad file twice: never "already imported"
        run = invoke(["roster", "import", str(bad), "--db", db_url])
        assert run.code == 1
        assert "错误 2 行" in run.stdout and "此前已导入" not in run.stdout
        assert "此文件未记为已导入" in run.stderr
    with create_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM roster_imports")).scalar() == 0
    fixed = roster(tmp_path / "名单.csv", [make_id(1), make_id(2)])
    run = invoke(["roster", "import", str(fixed), "--db", db_url])
    assert run.code == 0 and "新增资格 2" in run.stdout and "此前已导入" not in run.stdout


@pytest.mark.cli
def test_a_certificate_file_whose_every_row_fails_is_not_imported(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "证书.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(
            [
                ["证书编号", "身份证号码", "对象类别", "有效期起"],
                ["Z1", broken_id(3), "低保", "2023-01-01"],
            ]
        )
    first = invoke(["certificate", "import", str(path), "--db", db_url])
    again = invoke(["certificate", "import", str(path), "--db", db_url])
    assert first.code == again.code == 1
    assert "此前已导入" not in again.stdout and "此文件未记为已导入" in again.stderr


@pytest.mark.cli
def test_nothing_is_said_twice(db_url: str, tmp_path: Path) -> None:
    mixed = roster(tmp_path / "名单.csv", [make_id(1), broken_id(2)])
    errors = tmp_path / "错误.xlsx"
    run = invoke(["roster", "import", str(mixed), "--db", db_url, "--errors", str(errors)])
    assert run.code == 1
    said = run.stdout + run.stderr
    assert said.count("1 行") == 1, said  # the count once, in the report line
    sentences = [s for s in re.split(r"[。；\n]", said) if s.strip()]
    assert not [s for s, n in Counter(sentences).items() if n > 1], said
    assert "其余行已导入" in run.stderr and str(errors) in run.stderr

    ask = invoke(["registry", "category", make_id(1), "--date", "2020-01-01",
                  "-p", "shanxi-2019", "--db", db_url])  # fmt: skip
    assert ask.code == 0, ask.stderr
    assert ask.stdout.count("低保对象") == 2  # the answer, and the membership it rests on
    assert ask.stdout.count("2020-01-01") == 1


# --- Chinese category names in claims ------------------------------------------------------------


@pytest.mark.cli
@pytest.mark.usefixtures("engine")
def test_claims_take_chinese_category_and_visit_names(tmp_path: Path) -> None:
    spans = [{"category": "低边", "valid_from": "2023-01-01", "valid_to": "2023-12-31"}]
    by_name = [
        {**CLAIM, "category": "低保", "visit_type": "住院"},
        {**CLAIM, "claim_id": "c2", "person_id": "p2", "category": "低保对象"},
        {**CLAIM, "claim_id": "c3", "person_id": "p3", "category": None, "categories": spans},
    ]
    by_name[2].pop("category")
    by_id = [
        {**by_name[0], "category": "dibao", "visit_type": "inpatient"},
        {**by_name[1], "category": "dibao"},
        {**by_name[2], "categories": [{**spans[0], "category": "near_dibao"}]},
    ]
    named, ids = (invoke(["settle", "-p", POLICY], jsonl(c)) for c in (by_name, by_id))
    assert named.code == ids.code == 0, named.stderr
    assert named.records == ids.records
    assert [r["category"] for r in named.records] == ["dibao", "dibao", "near_dibao"]

    frame = pl.DataFrame(
        {
            **{k: [v] * 2 for k, v in CLAIM.items() if k not in ("insurance", "category")},
            "claim_id": ["t1", "t2"],
            "person_id": ["q1", "q2"],
            "category": ["低保", "特困"],
            "visit_type": ["住院", "inpatient"],
        }
    ).with_columns(
        pl.col("settlement_date", "admission_date").str.to_date(),
        *(pl.col(m).map_elements(Decimal, return_dtype=pl.Decimal(14, 2))
          for m in ("total", "full_self_pay", "partial_self_pay", "policy_scope")),
    )  # fmt: skip
    path = tmp_path / "claims.parquet"
    frame.write_parquet(path)
    run = invoke(["settle", "-p", POLICY, "-i", str(path)])
    assert run.code == 0, run.stderr
    assert [r["category"] for r in run.records] == ["dibao", "extreme_poor"]
    wrong = invoke(["settle", "-p", POLICY], jsonl([{**CLAIM, "category": "富人"}]))
    assert wrong.code == 1 and "未知的救助对象类别「富人」" in wrong.stderr
