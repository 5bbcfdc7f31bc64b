"""The registry: migrations, and which category is in force on a date and why."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from jiuzhu.domain.registry import Membership, category_on
from jiuzhu.domain.vocabulary import Category
from jiuzhu.storage.db import current_revision, database_url, make_engine, upgrade
from jiuzhu.storage.models import Base
from tests.cli_helpers import invoke
from tests.db_fixtures import db_url, make_id

__all__ = ["db_url"]

D = dt.date
SHANXI = [Category.extreme_poor, Category.dibao, Category.key_veteran, Category.low_income]
PERSON = make_id(101)


def m(cat: Category, start: D, end: D | None = None) -> Membership:
    return Membership(cat, start, end, f"名单 x.csv 第{start.day}行「新识别」")


def test_boundaries_change_date_exit_date_and_day_after() -> None:
    # 新识别 2019-08-01; 自然减少 with exit date 2019-09-10 → last day 2019-09-09
    held = [m(Category.dibao, D(2019, 8, 1), D(2019, 9, 9))]
    at = {
        day: category_on(PERSON, held, day, SHANXI, "shanxi-2019").applied
        for day in (D(2019, 7, 31), D(2019, 8, 1), D(2019, 9, 9), D(2019, 9, 10), D(2019, 9, 11))
    }
    assert at == {
        D(2019, 7, 31): Category.ordinary,
        D(
            2019, 8, 1
        ): Category.dibao,  # from the day of the certificate (晋医保发〔2019〕46号 三(十))
        D(2019, 9, 9): Category.dibao,
        D(2019, 9, 10): Category.ordinary,  # 自退出之日起不再享受
        D(2019, 9, 11): Category.ordinary,
    }
    after = category_on(PERSON, held, D(2019, 9, 10), SHANXI, "shanxi-2019")
    assert any("已终止" in line and "晋医保发〔2019〕46号 三(十)" in line for line in after.why)
    before = category_on(PERSON, held, D(2019, 7, 31), SHANXI, "shanxi-2019")
    assert any("尚未生效" in line for line in before.why)


def test_jiugao_bu_chongfu_by_precedence_and_outside_policy() -> None:
    held = [
        m(Category.dibao, D(2019, 1, 1)),
        m(Category.extreme_poor, D(2019, 6, 1)),
        m(Category.severe_disability, D(2019, 1, 1)),
    ]
    answer = category_on(PERSON, held, D(2019, 6, 1), SHANXI, "shanxi-2019")
    assert answer.applied is Category.extreme_poor
    assert len(answer.in_force) == 3
    text = "\n".join(answer.why)
    assert "就高不重复" in text and "特困人员、低保对象" in text
    assert "不救助「二级及以上残疾人证持证人员」" in text
    assert PERSON not in text and answer.person == PERSON[:4] + "*" * 10 + PERSON[-4:]
    only_dibao = category_on(PERSON, held, D(2019, 5, 31), SHANXI, "shanxi-2019")
    assert only_dibao.applied is Category.dibao


def test_database_url_default_and_env(monkeypatch) -> None:
    monkeypatch.delenv("JIUZHU_DB", raising=False)
    assert database_url() == "sqlite:///jiuzhu.db"
    monkeypatch.setenv("JIUZHU_DB", "/var/lib/jiuzhu/r.db")
    assert database_url() == "sqlite:////var/lib/jiuzhu/r.db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_migrations_match_models_and_upgrade_is_idempotent(db_url: str) -> None:
    run = invoke(["db", "upgrade", "--db", db_url])
    assert run.code == 0, run.stderr
    assert "0005_staff" in run.stdout
    engine = make_engine(db_url)
    upgrade(engine)  # again: nothing to do
    assert current_revision(engine) == "0005_staff"
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _changes(path: Path, rows: list[list[str]]) -> Path:
    header = [
        "乡(镇)", "行政村", "户主姓名", "身份证号码", "家庭人口数", "家庭成员姓名", "身份证号码",
        "对象类别", "动态调整工作类型", "动态调整时间", "月", "年",
    ]  # fmt: skip
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for ident, cat, change, date in rows:
            w.writerow(["镇", "村", "某", ident, "1", "某", ident, cat, change, date, "", ""])
    return path


def test_category_query_through_the_command(db_url: str, tmp_path: Path) -> None:
    first = _changes(
        tmp_path / "q3.csv",
        [
            [PERSON, "低保", "新识别", "2019-08-01"],
            [PERSON, "特困", "自然增加", "2019-09-01"],
        ],
    )
    second = _changes(tmp_path / "q4.csv", [[PERSON, "特困", "自然减少", "2019-10-15"]])
    for path in (first, second):
        assert invoke(["roster", "import", str(path), "--db", db_url]).code == 0

    def ask(day: str) -> str:
        args = ["registry", "category", PERSON, "--date", day, "--policy", "shanxi-2019"]
        run = invoke([*args, "--db", db_url])
        assert run.code == 0, run.stderr
        assert PERSON not in run.stdout + run.stderr
        return run.stdout

    assert "适用类别：普通参保人员" in ask("2019-07-31")
    on_change = ask("2019-08-01")
    assert "适用类别：低保对象" in on_change
    assert "q3.csv" in on_change and "第2行「新识别」" in on_change and "至今有效" in on_change
    both = ask("2019-09-01")
    assert "适用类别：特困人员" in both and "就高不重复" in both
    assert "适用类别：特困人员" in ask("2019-10-14")
    exit_day = ask("2019-10-15")
    assert "适用类别：低保对象" in exit_day  # 特困 ended: 自退出之日起不再享受
    assert "退出日期 2019-10-15" not in exit_day  # the ended one is no longer in force
    assert "适用类别：低保对象" in ask("2019-10-16")

    query = ["--date", "2019-08-01", "-p", "shanxi-2019", "--db", db_url]
    unknown = invoke(["registry", "category", make_id(102), *query])
    assert unknown.code == 1 and "不在登记中" in unknown.stderr
    assert make_id(102) not in unknown.stderr
    bad = invoke(["registry", "category", "371502198001011234", *query])
    assert bad.code == 2 and "371502198001011234" not in bad.stderr


def test_revision_0003_widens_the_audit_target_and_keeps_the_log(db_url: str) -> None:
    """Rows written before 0003 survive it, a 71-character target (``client:`` and a
    64-character client name) fits after it, and the log is still append-only."""
    engine = make_engine(db_url)
    upgrade(engine, "0002")
    row = "INSERT INTO audit_log (at, actor, role, action, target, details) VALUES "
    with engine.begin() as conn:
        conn.execute(
            text(row + "(:at, 'cli', 'admin', 'token.create', :t, '{}')"),
            {"at": "2026-01-01 00:00:00", "t": "client:" + "甲" * 57},
        )
    upgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    long_target = "client:" + "乙" * 64
    with engine.begin() as conn:
        conn.execute(
            text(row + "(:at, 'cli', 'admin', 'token.create', :t, '{}')"),
            {"at": "2026-01-02 00:00:00", "t": long_target},
        )
        targets = conn.execute(text("SELECT target FROM audit_log ORDER BY id")).scalars().all()
    assert targets == ["client:" + "甲" * 57, long_target]
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def test_revision_0004_keeps_what_was_there_and_chains_it(db_url: str) -> None:
    """A database with a settlement reversed the old way and audit rows: after 0004 the
    reversal is a record of its own, the claim knows its hospital, the token expires, and
    the old rows are chained so that ``audit verify`` holds."""
    from jiuzhu.usecases.audit import verify

    engine = make_engine(db_url)
    upgrade(engine, "0003")
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO api_clients (id, name, role, jurisdiction, created_at)"
            " VALUES (1, 'h', 'hospital', '3715', :now)",
            "INSERT INTO api_tokens (client_id, token_sha256, created_at) VALUES (1, 'ab', :now)",
            "INSERT INTO persons (id, public_id, id_number, created_at)"
            " VALUES (1, 'p1', '371502198001010018', :now)",
            "INSERT INTO claims (id, person_id, claim_ref, settlement_date, body, received_at)"
            " VALUES (1, 1, 'c1', '2023-01-01', '{}', :now)",
            "INSERT INTO settlements (seq, public_id, client_id, idempotency_key,"
            " request_sha256, claim_id, person_id, year, policy_id, status, total_fen, paid_fen,"
            " personal_fen, medical_assistance_fen, result, category_source, context_before,"
            " revision, created_at, reversed_at) VALUES (1, 's1', 1, 'k', 'x', 1, 1, 2023,"
            " 'liaocheng-2023', 'reversed', 100, 0, 100, 0, '{\"total\": \"1.00\"}', '{}',"
            " '{}', 1, :now, :now)",
            "INSERT INTO audit_log (at, actor, role, action, target, details)"
            " VALUES (:now, 'cli', 'admin', 'token.create', 'client:h', '{\"client\": \"h\"}')",
            "INSERT INTO audit_log (at, actor, role, action, target, details)"
            " VALUES (:now, 'h', 'hospital', 'settlement.reverse', 'settlement:s1', '{}')",
        ):
            conn.execute(text(sql), {"now": now})
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT client_id FROM claims")).scalar() == 1
        reason = conn.execute(text("SELECT reason FROM reversals")).scalar()
        assert reason is not None and "未要求填写原因" in reason
        assert conn.execute(text("SELECT expires_at FROM api_tokens")).scalar() is not None
        assert conn.execute(text("SELECT last_id FROM audit_head")).scalar() == 2
    verdict = verify(engine)
    assert verdict.ok and verdict.rows == 2, verdict.problems
    engine.dispose()
