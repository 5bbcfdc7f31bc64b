"""The command line's own words are Chinese (ADR 11): every help page, the usage errors,
and what the commands print; and help pages fit 80 columns without cutting anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.main import get_command

from jiuzhu.cli.chinese import width_of, wrap
from jiuzhu.cli.main import app
from jiuzhu.cli.template_cmd import HOUSEHOLD_HEAD as TEMPLATE_HEAD
from tests.cli_helpers import SHARED_CASES, invoke, jsonl, run_process, subcommands
from tests.db_fixtures import make_id
from tests.english import english_words

CASES = {c["id"]: c for c in json.loads(SHARED_CASES.read_text(encoding="utf-8"))}
CLAIMS = CASES["P-LC-1"]["claims"]
POLICY = "liaocheng-2023"


def command_paths() -> list[list[str]]:
    out: list[list[str]] = [[]]

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in subcommands(cmd):
            out.append([*path, name])
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return out


@pytest.mark.cli
@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "jiuzhu")
def test_every_help_page_is_chinese_and_fits_80_columns(
    path: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    run = invoke([*path, "--help"])
    assert run.code == 0, run.stderr
    text = run.stdout
    first = text.splitlines()[0]
    assert first.startswith("用法：") and first.split(" [")[0].endswith(" ".join(path))
    assert "选项：" in text and "--help" in text and "显示此帮助并退出。" in text
    assert not english_words(text), (english_words(text), text)
    too_wide = [line for line in text.splitlines() if width_of(line) > 80]
    assert not too_wide, too_wide
    assert not [line for line in text.splitlines() if line.endswith("…")]  # nothing cut


def test_the_bare_command_shows_its_help() -> None:
    run = invoke([])
    assert "[选项] 命令 [参数]" in run.stdout.splitlines()[0]
    assert "settle" in run.stdout and "template" in run.stdout


USAGE_ERRORS = [
    (["settle", "--bogus"], "没有选项 --bogus"),
    (["settle", "--polcy", "x"], "没有选项 --polcy（是否要用 --policy？）"),
    (["settle"], "缺少选项 --policy / -p"),
    (["settle", "-p"], "选项 -p 须给出取值"),
    (["settle", "-p", "x", "extra"], "多余的参数：extra"),
    (["settle", "-p", "x", "--engine", "fast"], "「fast」不是可选的取值：reference、batch"),
    (["settle", "-p", "x", "--override", "/nonexistent.yaml"], "「/nonexistent.yaml」不存在"),
    (["synth", "-p", "x", "--people", "many"], "选项 --people / -n 的取值无效：须为整数"),
    (["synth", "-p", "x", "--people", "0"], "须不小于 1"),
    (["enrolment", "year2023", "-p", "x"], "参数 年度 的取值无效：须为整数"),
    (["roster", "import"], "缺少参数 文件"),
    (["template", "forms", "x.xlsx"], "「forms」不是可选的取值：claims、roster、roster-changes"),
    (["setle"], "没有命令「setle」（是否要用 settle"),
    (["token", "create", "--client", "某医院"], "缺少选项 --role"),
]


def typed(args: list[str]) -> set[str]:
    """The words a person typed: an error may quote them back."""
    return {w for a in args for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", a)}


@pytest.mark.cli
@pytest.mark.parametrize(("args", "said"), USAGE_ERRORS, ids=lambda a: str(a))
def test_usage_errors_are_chinese(args: list[str], said: str) -> None:
    run = invoke(args)
    assert run.code == 2, (run.code, run.stderr)
    assert said in run.stderr, run.stderr
    assert "用法：" in run.stderr and "--help 查看帮助" in run.stderr
    assert not english_words(run.stderr, also=typed(args)), run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.cli
def test_usage_errors_in_a_real_process() -> None:
    run = run_process(["settle", "--no-such-option"])
    assert run.code == 2
    assert run.stderr.splitlines()[-1] == "错误：没有选项 --no-such-option"


def test_wrap_counts_cjk_twice_and_keeps_words_whole() -> None:
    lines = wrap("单据文件，按扩展名：.jsonl、.parquet、.csv 或 .xlsx（中文表头）", 20)
    assert all(width_of(line) <= 20 for line in lines), lines
    assert (
        "".join(lines).replace(" ", "")
        == "单据文件，按扩展名：.jsonl、.parquet、.csv或.xlsx（中文表头）"
    )
    assert any(".parquet" in line for line in lines)
    assert not any(line.startswith(("，", "、", "）")) for line in lines)


@pytest.mark.cli
def test_what_the_commands_print_is_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outputs and messages of the registry, enrolment, db, roster, certificate, synth,
    settle, simulate and demo commands, good runs and bad, scanned for English words."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    db = "r.db"
    head = make_id(1)
    claim = {**CLAIMS[0], "person_id": head}
    Path("c.jsonl").write_text(jsonl([claim]), encoding="utf-8")
    Path("bad.jsonl").write_text(
        '{"claim_id": "x1"\n{"claim_id": 5}\n[1]\n'
        + jsonl([{**claim, "claim_id": "x2", "total": "1.00", "category": "富人"}]),
        encoding="utf-8",
    )
    Path("broken.xlsx").write_text("x", encoding="utf-8")
    steps: list[list[str]] = [
        ["db", "upgrade", "--db", db],
        ["db", "upgrade", "--db", db],
        ["template", "roster", "名单.xlsx"],
        ["template", "roster-changes", "调整.xlsx"],
        ["template", "claims", "单据.xlsx"],
        ["roster", "import", "名单.xlsx", "--db", db],
        ["roster", "import", "名单.xlsx", "--db", db],
        ["roster", "import", "调整.xlsx", "--db", db, "--errors", "e.csv"],
        ["roster", "import", "broken.xlsx", "--db", db],
        ["roster", "import", "c.jsonl", "--db", db],
        ["certificate", "import", "名单.xlsx", "--db", db],
        ["registry", "category", TEMPLATE_HEAD, "--date", "2023-06-01", "-p", "shanxi-2019",
         "--db", db],
        ["registry", "category", head, "--date", "2023-06-01", "-p", "shanxi-2019", "--db", db],
        ["registry", "category", "12345", "--date", "2023-06-01", "-p", "shanxi-2019", "--db", db],
        ["registry", "category", head, "--date", "2023-06-01", "-p", "shanxi-2019", "--db", "x.db"],
        ["enrolment", "2023", "-p", "shanxi-2019", "--db", db, "--ledger", "台账.xlsx"],
        ["enrolment", "2023", "-p", "maoming-2018", "--db", db],
        ["settle", "-p", POLICY, "-i", "bad.jsonl", "-o", "s.xlsx", "--errors", "e.xlsx"],
        ["settle", "-p", POLICY, "-i", "单据.xlsx", "-o", "s.csv"],
        ["settle", "-p", POLICY, "-i", "broken.xlsx"],
        ["settle", "-p", POLICY, "-i", "nothing.jsonl"],
        ["settle", "-p", POLICY, "-i", "c.jsonl", "-o", "s.docx"],
        ["settle", "-p", POLICY, "-i", "c.jsonl", "--registry", "x.db"],
        ["synth", "-p", POLICY, "-n", "50", "-o", "syn"],
        ["simulate", "-p", POLICY, "-c", "单据.xlsx", "--top", "0"],
        ["simulate", "-p", POLICY, "-c", "c.jsonl"],
        ["demo"],
    ]  # fmt: skip
    for args in steps:
        run = invoke(args)
        assert "Traceback" not in run.stderr, (args, run.stderr)
        said = run.stderr + ("" if args[0] == "settle" and "-o" not in args else run.stdout)
        found = english_words(said, also=typed(args) | {"x1", "x2", "syn"})
        assert not found, (args, found, said)
