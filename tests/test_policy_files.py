"""Policy files: every shipped policy loads, cites its clauses, and can be overridden."""

from __future__ import annotations

from pathlib import Path

import pytest

from jiuzhu.domain.policy.audit import walk
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.policy_files import (
    POLICY_PATH_ENV,
    PolicyFileError,
    compile_policy,
    load_policy,
    shipped_ids,
)
from tests.cli_helpers import settle

IDS = ["fujian-2022", "hangzhou-2023", "liaocheng-2023", "maoming-2018", "shanxi-2019"]


def test_five_policies_ship() -> None:
    assert shipped_ids() == IDS


@pytest.mark.parametrize("pid", IDS)
def test_every_value_cites_a_clause_of_its_own_document(pid: str) -> None:
    policy = load_policy(pid)
    infos = list(walk(policy))
    assert infos
    for info in infos:
        assert info.clause is not None, info.path
        assert info.clause.startswith(policy.citation + " "), (info.path, info.clause)
        if info.assumed:
            assert info.note, info.path


def test_liaocheng_dibao_rule_reads_as_the_document() -> None:
    sched = compile_policy(load_policy("liaocheng-2023")).schedule(
        Benefit.medical_assistance, Category.dibao
    )
    assert sched is not None
    assert sched.clause == "聊城实施方案 三(四)1"
    assert sched.shared_cap is not None and sched.shared_cap.amount == 3_000_000
    fn = sched.functions["main"]
    assert (fn.deductible, [s.rate for s in fn.segments]) == (0, [7000])


def test_tilt_compiles_to_the_documents_numbers() -> None:
    # 聊城实施方案 三(二): deductible −50%, +5 points, no cap; 特药 deductible removed.
    c = compile_policy(load_policy("liaocheng-2023"))
    general = c.schedule(Benefit.critical_illness_insurance, Category.ordinary)
    tilted = c.schedule(Benefit.critical_illness_insurance, Category.dibao)
    assert general is not None and tilted is not None
    assert tilted.functions["main"].deductible * 2 == general.functions["main"].deductible
    assert [s.rate for s in tilted.functions["main"].segments] == [
        s.rate + 500 for s in general.functions["main"].segments
    ]
    assert tilted.shared_cap is None and general.shared_cap is not None
    assert tilted.functions["special_drug"].deductible == 0


def test_set_overrides_a_value() -> None:
    p = load_policy(
        "liaocheng-2023", sets=["benefits.medical_assistance.schedules.near_poor.rate=60%"]
    )
    assert p.benefits.medical_assistance.schedules["near_poor"].rate is not None
    assert p.benefits.medical_assistance.schedules["near_poor"].rate.value == 6000


def test_extends_in_a_deployment_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "liaocheng-2023.yaml").write_text(
        "extends: liaocheng-2023\n"
        "benefits:\n  medical_assistance:\n    schedules:\n      near_poor:\n"
        '        rate: {value: "60%", clause: "三(四)2", assumed: true,'
        " note: 本地改革方案}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(POLICY_PATH_ENV, str(tmp_path))
    p = load_policy("liaocheng-2023")
    rate = p.benefits.medical_assistance.schedules["near_poor"].rate
    assert rate is not None and rate.value == 6000 and rate.assumed
    # Everything else is the shipped policy.
    assert p.benefits.medical_assistance.schedules["key_groups"].cap is not None


def test_override_changes_the_settlement(tmp_path: Path) -> None:
    # P-LC-2 with 低边 at 60% instead of 50%: 60% × (30000 − 3000) = 16200 → capped at 15000.
    over = tmp_path / "reform.yaml"
    over.write_text(
        'benefits:\n  medical_assistance:\n    schedules:\n      near_poor:\n        rate: "60%"\n',
        encoding="utf-8",
    )
    claim = {
        "claim_id": "c1",
        "person_id": "p2",
        "visit_type": "inpatient",
        "settlement_date": "2023-05-10",
        "admission_date": "2023-05-10",
        "hospital_level": 2,
        "referred": True,
        "total": "60000.00",
        "full_self_pay": "4000.00",
        "partial_self_pay": "1000.00",
        "policy_scope": "55000.00",
        "category": "monitored",
        "insurance": {"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
    }
    run = settle("liaocheng-2023", [claim], "--override", str(over))
    assert run.code == 0, run.stderr
    assert run.records[0]["medical_assistance"] == "15000.00"


def test_unknown_policy_lists_known_ones() -> None:
    with pytest.raises(PolicyFileError) as err:
        load_policy("nowhere-2020")
    assert "liaocheng-2023" in str(err.value)


def test_a_policy_file_that_is_not_utf8_is_refused_in_words(tmp_path: Path) -> None:
    """Once a UnicodeDecodeError traceback (found by a review)."""
    path = tmp_path / "gbk.yaml"
    path.write_bytes("id: 聊城\n".encode("gbk"))
    with pytest.raises(PolicyFileError) as err:
        load_policy(str(path))
    assert err.value.problems == [("", "文件不是 UTF-8 编码（第 5 个字节起无法解码）")]
