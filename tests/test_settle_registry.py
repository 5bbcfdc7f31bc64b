"""``jiuzhu settle --registry``: claims that give no category are settled with the
registry's memberships, as the service does; on SQLite and, when configured, PostgreSQL,
by both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_helpers import invoke, settle
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim
from tests.test_rosters import CHANGE_HEADER, HEAD, list_rows, write_csv, write_xlsx

__all__ = ["db_url"]

POLICY = "liaocheng-2023"
STRANGER = make_id(77)  # not in any roster


def _registry(db: str, tmp_path: Path) -> None:
    """HEAD, WIFE, CHILD: 低保 from 2019-07-31 (the 附件2 list of tests/test_rosters.py)."""
    run = invoke(
        ["roster", "import", str(write_xlsx(tmp_path / "名单.xlsx", list_rows())), "--db", db]
    )
    assert run.code == 0, run.stderr


def _without_category(n: int, person: str) -> dict[str, Any]:
    return inpatient_claim(n, person)  # the service's claims never state a category


def test_claims_without_category_take_the_registry_s(
    db_url: str, tmp_path: Path, engine: str
) -> None:
    _registry(db_url, tmp_path)
    claims = [
        _without_category(1, HEAD),  # 低保 in the registry: 70% of 20000.00 in 聊城
        _without_category(2, STRANGER),  # unknown to the registry: ordinary, no assistance
        {**_without_category(3, HEAD), "category": "ordinary"},  # the claim's own word wins
    ]
    run = settle(POLICY, claims, "--registry", db_url)  # the engine: JIUZHU_ENGINE
    assert run.code == 0, run.stderr
    out = run.by_claim()
    assert out["c1"]["category"] == "dibao" and out["c1"]["medical_assistance"] == "14000.00"
    assert out["c2"]["category"] == "ordinary" and out["c2"]["medical_assistance"] == "0.00"
    assert out["c3"]["category"] == "ordinary"
    # the same as giving the registry's span by hand
    spans = [{"category": "dibao", "valid_from": "2019-07-31", "valid_to": None}]
    by_hand = settle(POLICY, [{**_without_category(1, HEAD), "categories": spans}]).records[0]
    assert out["c1"] == by_hand


def test_without_registry_a_claim_must_say_its_category(tmp_path: Path) -> None:
    run = settle(POLICY, [_without_category(1, HEAD)])
    assert run.code != 0 and "category" in run.stderr


def test_registry_errors_are_clear(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    run = settle(POLICY, [_without_category(1, HEAD)], "--registry", empty)
    assert run.code == 2 and "jiuzhu db upgrade" in run.stderr
    missing = tmp_path / "nowhere.db"
    run = settle(POLICY, [_without_category(1, HEAD)], "--registry", str(missing))
    assert run.code == 2 and "找不到登记库" in run.stderr and not missing.exists()
    parquet = invoke(
        ["settle", "--policy", POLICY, "--input", str(tmp_path / "x.parquet"), "--registry", empty]
    )
    assert parquet.code == 2 and "JSONL" in parquet.stderr


def test_a_membership_that_ended_on_its_first_day_is_left_out(db_url: str, tmp_path: Path) -> None:
    """Entered and left on the same day (the exit day is the first without it,
    晋医保发〔2019〕46号 三(十)): never in force, so the claim is ordinary rather than an error on
    a field nobody sent."""
    rows = [
        ["某县 2023年 医疗救助重点救助对象动态调整名单"],
        ["单位名称(盖章):", "", "", "对象类别(低保☑特困□重点优抚□)"],
        CHANGE_HEADER,
        ["城关镇", "西村", "王五", STRANGER, 1, "王五", STRANGER, "新识别", "2023-03-01", 3, 2023],
        [
            "城关镇",
            "西村",
            "王五",
            STRANGER,
            1,
            "王五",
            STRANGER,
            "自然减少",
            "2023-03-01",
            3,
            2023,
        ],
    ]
    run = invoke(["roster", "import", str(write_csv(tmp_path / "调整.csv", rows)), "--db", db_url])
    assert run.code == 0, run.stderr
    out = settle(POLICY, [_without_category(4, STRANGER)], "--registry", db_url)
    assert out.code == 0, out.stderr
    assert out.records[0]["category"] == "ordinary"
