"""The command line's own words are Chinese (ADR 11): every help page, the usage errors,
and what the commands print; and help pages fit 80 columns without cutting anything."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command

from jiuzhu.cli.chinese import width_of, wrap
from jiuzhu.cli.main import app
from tests.cli_helpers import invoke, run_process
from tests.english import english_words


def command_paths() -> list[list[str]]:
    out: list[list[str]] = [[]]

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
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
