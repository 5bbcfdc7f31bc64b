"""End-to-end: the commands a clerk, an integrator and an analyst run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import BENEFITS, SHARED_CASES, invoke, jsonl, run_process

CASES = {c["id"]: c for c in json.loads(SHARED_CASES.read_text(encoding="utf-8"))}


def test_settle_from_a_file_writes_one_line_per_claim(tmp_path: Path) -> None:
    claims = CASES["P-LC-1"]["claims"] + [{**CASES["P-LC-2"]["claims"][0], "claim_id": "c2"}]
    path = tmp_path / "claims.jsonl"
    path.write_text(jsonl(claims), encoding="utf-8")
    run = run_process(["settle", "--policy", "liaocheng-2023", "--input", str(path)])
    assert run.code == 0, run.stderr
    records = run.records
    assert [r["person_id"] for r in records] == ["p1", "p2"]
    for r in records:
        billed = [k for k in [*BENEFITS, "personal"] if k != "critical_care_grant"]
        parts = sum(int(r[k].replace(".", "")) for k in billed)
        assert parts == int(r["total"].replace(".", ""))
        lines = {line["benefit"]: line for line in r["lines"]}
        assert lines["medical_assistance"]["clause"].startswith("聊城实施方案 三(四)")
        assert "本次计入医疗救助基数" in lines["medical_assistance"]["formula"]


def test_explanation_lines_let_a_reviewer_check_the_figure() -> None:
    run = invoke(["settle", "--policy", "liaocheng-2023"], jsonl(CASES["P-LC-2"]["claims"]))
    line = next(x for x in run.records[0]["lines"] if x["benefit"] == "medical_assistance")
    assert line == {
        "benefit": "medical_assistance",
        "amount": "13500.00",
        "base": "30000.00",
        "formula": "本次计入医疗救助基数 30000.00 元，累计 0.00 → 30000.00 元；"
        "超过起付线 3000.00 元的部分按 50% 计 13500.00 元；"
        "年度救助限额 15000.00 元，本年已支付 0.00 元，剩余 15000.00 元；本次支付 13500.00 元",
        "clause": "聊城实施方案 三(四)2",
        "text": "医疗救助（低保边缘家庭成员及防止返贫监测帮扶对象）：超过起付线 3000.00 元的部分"
        "按 50% 救助，年度救助限额 15000.00 元；"
        "救助基数为经基本医保、大病保险及其他补充保险支付后政策范围内个人负担",
    }


def test_explain_prints_a_table_in_chinese() -> None:
    run = invoke(["explain", "--policy", "maoming-2018"], jsonl(CASES["P-MM-1"]["claims"]))
    assert run.code == 0
    for words in ("二次医疗救助", "4960.00", "茂民规〔2018〕3号 二(二)3(2)", "个人负担", "4240.00"):
        assert words in run.stdout


def test_policy_show_list_and_diff() -> None:
    show = invoke(["policy", "show", "hangzhou-2023", "--params"])
    assert show.code == 0
    assert "20000.00" in show.stdout and "杭政办函〔2022〕70号 二(二)" in show.stdout
    assert "假定" in show.stdout
    listing = invoke(["policy", "list"])
    assert all(pid in listing.stdout for pid in ("maoming-2018", "fujian-2022"))
    diff = invoke(["policy", "diff", "liaocheng-2023", "liaocheng-2023"])
    assert "共 0 处不同" in diff.stdout
    diff2 = invoke(["policy", "diff", "shanxi-2019", "fujian-2022"])
    assert diff2.code == 0 and "处不同" in diff2.stdout


def test_policy_check_passes_shipped_frameworks() -> None:
    for pid in ("shanxi-2019", "fujian-2022"):
        run = invoke(["policy", "check", pid])
        assert run.code == 0, run.stderr
        assert "全部 8 项约束" in run.stdout


def test_demo_settles_every_policy() -> None:
    run = run_process(["demo"], env={"COLUMNS": "200"})  # long item names on one line
    assert run.code == 0, run.stderr
    for words in (
        "liaocheng-2023",
        "shanxi-2019",
        "医疗费用综合保障率",
        "医疗费用个人负担率",
        "二次医疗救助",
        "再救助",
        "重特大疾病单病种限额付费医疗救助",
    ):
        assert words in run.stdout, words
    assert "未结算单据" not in run.stdout


def test_settle_refuses_a_policy_below_the_province_floor() -> None:
    claim = {
        **CASES["P-LC-1"]["claims"][0],
        "settlement_date": "2022-06-01",
        "admission_date": "2022-06-01",
    }
    run = invoke(
        [
            "settle",
            "--policy",
            "fujian-2022",
            "--set",
            "benefits.medical_assistance.schedules.key_groups.rate=65%",
        ],
        jsonl([claim]),
    )
    assert run.code == 2
    assert "ma-rate-floor" in run.stderr and "闽医保〔2021〕93号 二(二)9" in run.stderr
    assert run.stdout == ""


def test_errors_can_also_go_to_a_jsonl_file(tmp_path: Path) -> None:
    good = CASES["P-HZ-1"]["claims"][0]
    bad = {**good, "claim_id": "c2", "total": "40000.0"}
    out = tmp_path / "errors.jsonl"
    run = invoke(["settle", "--policy", "hangzhou-2023", "--errors", str(out)], jsonl([good, bad]))
    assert run.code == 1
    assert [r["claim_id"] for r in run.records] == ["c1"]
    errors = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert errors == [
        {"line": 2, "claim_id": "c2", "field": "total", "message": errors[0]["message"]}
    ]
    assert "两位小数" in errors[0]["message"]
