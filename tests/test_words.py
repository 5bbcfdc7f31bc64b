"""Words built from values (no number typed twice), and what a file does not do, said
in the file: the explanations a reviewer reads follow the values in force."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jiuzhu.domain.policy.constraints import MinRate
from jiuzhu.io.policy_files import shipped_dir
from tests.cli_helpers import invoke, jsonl

pytestmark = pytest.mark.usefixtures("engine")

NEAR_POOR = {
    "claim_id": "c1",
    "person_id": "p1",
    "category": "near_dibao",
    "visit_type": "inpatient",
    "settlement_date": "2023-04-02",
    "admission_date": "2023-04-02",
    "hospital_level": 2,
    "referred": True,
    "total": "60000.00",
    "full_self_pay": "4000.00",
    "partial_self_pay": "1000.00",
    "policy_scope": "55000.00",
    "insurance": {"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
}
RATE = "benefits.medical_assistance.schedules.near_poor.rate"


def _texts(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        out = []
        for k, v in node.items():
            if k in ("text", "review_text") and isinstance(v, str):
                out.append((f"{path}.{k}", v))
            else:
                out += _texts(v, f"{path}.{k}")
        return out
    if isinstance(node, list):
        return [t for i, v in enumerate(node) for t in _texts(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize(
    "path",
    sorted(shipped_dir().glob("*.yaml")) + sorted(shipped_dir().glob("frameworks/*.yaml")),
    ids=lambda p: p.name,
)
def test_no_shipped_text_writes_a_number(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = [(where, t) for where, t in _texts(data) if re.search(r"[0-9０-９%％]", t)]
    assert not found, found


def _ma_line(record: dict[str, Any]) -> dict[str, Any]:
    return next(x for x in record["lines"] if x["benefit"] == "medical_assistance")


def test_set_changes_the_words_and_says_so() -> None:
    shipped = invoke(["settle", "-p", "liaocheng-2023"], jsonl([NEAR_POOR]))
    assert "按 50% 救助" in _ma_line(shipped.records[0])["text"]
    assert shipped.records[0]["lines"][0]["benefit"] == "category"
    assert "注意" not in shipped.stderr
    run = invoke(["settle", "-p", "liaocheng-2023", "--set", f"{RATE}=60%"], jsonl([NEAR_POOR]))
    assert run.code == 0, run.stderr
    line = _ma_line(run.records[0])
    assert "按 60% 救助" in line["text"] and "50%" not in line["text"]
    assert "按 60% 计 16200.00 元" in line["formula"]
    head = run.records[0]["lines"][0]
    assert head["benefit"] == "policy"
    assert "比例 50% → 60%（聊城实施方案 三(四)2）" in head["text"]
    assert "低保边缘家庭成员及防止返贫监测帮扶对象" in head["text"]
    assert "与发布的政策文件不同" in run.stderr and "50% → 60%" in run.stderr


def test_explain_under_an_override_file(tmp_path: Path) -> None:
    over = tmp_path / "reform.yaml"
    over.write_text(
        "benefits:\n  medical_assistance:\n    schedules:\n      near_poor:\n"
        '        cap: "18000.00"\n',
        encoding="utf-8",
    )
    args = ["-p", "liaocheng-2023", "--override", str(over)]
    run = invoke(["settle", *args], jsonl([NEAR_POOR]))
    assert run.code == 0, run.stderr
    assert "年度救助限额 18000.00 元" in _ma_line(run.records[0])["text"]
    assert "年度限额 15000.00 → 18000.00" in run.records[0]["lines"][0]["text"]
    table = invoke(["explain", *args], jsonl([NEAR_POOR]))
    assert table.code == 0 and "政策取值" in table.stdout


def test_a_deployment_file_that_extends_says_what_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my-city-2023.yaml").write_text(
        "extends: liaocheng-2023\nid: my-city-2023\n"
        "benefits:\n  medical_assistance:\n    schedules:\n      near_poor:\n"
        '        deductible: {value: "2000.00", assumed: true, note: 本市规定}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JIUZHU_POLICY_PATH", str(tmp_path))
    run = invoke(["settle", "-p", "my-city-2023"], jsonl([NEAR_POOR]))
    assert run.code == 0, run.stderr
    assert "超过起付线 2000.00 元的部分按 50% 救助" in _ma_line(run.records[0])["text"]
    assert "起付线 3000.00 → 2000.00" in run.records[0]["lines"][0]["text"]


def test_shanxi_outpatient_assistance_is_left_to_the_city_and_says_so() -> None:
    claim = {
        **NEAR_POOR,
        "category": "dibao",
        "visit_type": "outpatient_chronic",
        "settlement_date": "2020-04-02",
        "admission_date": "2020-04-02",
    }
    run = invoke(["settle", "-p", "shanxi-2019"], jsonl([claim]))
    assert run.code == 0, run.stderr
    line = _ma_line(run.records[0])
    assert line["amount"] == "0.00"
    assert line["clause"] == "晋医保发〔2019〕46号 二(六)"
    assert "由设区的市医疗保障部门统一规定" in line["text"]


def test_maoming_inpatient_rate_is_marked_as_a_local_decision() -> None:
    run = invoke(["policy", "show", "maoming-2018", "--params"])
    assert run.code == 0
    assert "按80%以上比例予以救助" in run.stdout


def test_a_framework_rule_is_worded_from_its_values() -> None:
    rule = MinRate.model_validate(
        {
            "id": "x",
            "kind": "min_rate",
            "clause": "二(二)9",
            "text": "低保对象救助比例",
            "benefit": "medical_assistance",
            "categories": ["dibao"],
            "min": "75%",
        }
    )
    assert rule.words() == "低保对象救助比例不低于75%"
    with pytest.raises(ValueError, match="说明文字不得写数字"):
        MinRate.model_validate({**rule.model_dump(mode="json"), "text": "不低于70%"})


@pytest.mark.parametrize(
    "pid", ["liaocheng-2023", "hangzhou-2023", "maoming-2018", "shanxi-2019", "fujian-2022"]
)
def test_policy_show_speaks_chinese_at_80_columns(pid: str) -> None:
    from tests.cli_helpers import run_process

    run = run_process(["policy", "show", pid, "--params"], env={"COLUMNS": "80"})
    assert run.code == 0, run.stderr
    identifiers = re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", run.stdout)
    assert not identifiers, identifiers
    assert not re.search(r"(?<!…)…(?!…)", run.stdout)  # nothing cut (a quoted …… is text)
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    assert "假定值说明" in run.stdout
    notes = [line for line in run.stdout.splitlines() if re.match(r"^\s+\d+\. ", line)]
    assert len(notes) == len(set(notes))  # each note once
