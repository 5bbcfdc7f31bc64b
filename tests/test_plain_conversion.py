"""The plain conversion of simple parameters (ADR 20) gives exactly what Typer's own,
pydantic, conversion gives, or leaves the value to it.

Every parameter of every command (and each ``--help``) is compared with a runtime param
Typer builds itself for the same parameter, over sample values and hypothesis' values:
the plain conversion either returns the same value of the same type, or defers, and it
never returns a value where Typer refuses one. Through the command line, usage errors
and parsed values are compared with the plain conversion switched off.
"""

from __future__ import annotations

import shlex
import string
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer import _click
from typer._coercion import build_runtime_param
from typer.core import TyperGroup, _TyperParameter
from typer.main import get_command

from jiuzhu.cli import chinese, plain_conversion
from jiuzhu.cli.main import app
from jiuzhu.cli.plain_conversion import DEFER, PlainRuntimeParam, plain_runtime_param
from tests.cli_helpers import invoke, subcommands

SIMPLE = (str, int, bool, Path)


def _commands() -> list[tuple[str, Any]]:
    """Every command and group, by its path, the ``jiuzhu`` group first."""
    root = get_command(app)
    out: list[tuple[str, Any]] = [("jiuzhu", root)]

    def walk(cmd: Any, path: str) -> None:
        for name, sub in subcommands(cmd):
            out.append((f"{path} {name}", sub))
            walk(sub, f"{path} {name}")

    walk(root, "jiuzhu")
    return out


COMMANDS = _commands()


def _params() -> list[tuple[str, Any, _TyperParameter]]:
    out = []
    for path, cmd in COMMANDS:
        ctx = _click.Context(cmd, info_name=path.split()[-1])
        for p in cmd.get_params(ctx):
            assert isinstance(p, _TyperParameter), (path, p)
            out.append((path, cmd, p))
    return out


PARAMS = _params()


def _leaf(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is list else annotation


def _is_simple(param: _TyperParameter) -> bool:
    """Simple as ADR 20 says, read from the annotation (not from the module under test)."""
    desc = param.type_descriptor
    leaf = _leaf(desc.annotation)
    kind_ok = leaf in SIMPLE or (isinstance(leaf, type) and issubclass(leaf, Enum))
    info = desc.parameter_info
    ranged_plainly = leaf is not int or (
        not info.clamp and all(b is None or type(b) is int for b in (info.min, info.max))
    )
    return kind_ok and ranged_plainly and info.parser is None and info.path_type is None


def _id(item: tuple[str, Any, _TyperParameter]) -> str:
    return f"{item[0]} {item[2].name}"


def _outcome(runtime: Any, param: _TyperParameter, cmd: Any, value: Any) -> tuple[str, Any]:
    """("ok", value) or ("error", what the error is and what jiuzhu says of it)."""
    ctx = _click.Context(cmd, info_name="x")
    try:
        return "ok", runtime.coerce(value, param=param, ctx=ctx)
    except _click.exceptions.ClickException as err:
        said = chinese.message(err)
        cause = err.__cause__
        errors = None
        if cause is not None and hasattr(cause, "errors"):
            errors = [(e["type"], e["msg"], repr(e["input"])) for e in cause.errors()]
        return "error", (type(err), err.message, getattr(err, "param", None), errors, said)


def agree(param: _TyperParameter, cmd: Any, value: Any) -> None:
    """The plain conversion of ``value`` is Typer's, or defers to it; through the whole
    runtime param, the outcome (value or error, and the words) is Typer's."""
    plain = plain_runtime_param(param.type_descriptor)
    assert plain is not None
    typer_own = build_runtime_param(param.type_descriptor)
    expected = _outcome(typer_own, param, cmd, value)
    got = _outcome(plain, param, cmd, value)
    assert got[0] == expected[0], (value, got, expected)
    if got[0] == "ok":
        assert type(got[1]) is type(expected[1]), (value, got, expected)
        assert got[1] == expected[1], (value, got, expected)
    else:
        assert got[1] == expected[1], (value, got, expected)
    if value is None or (isinstance(value, str) and (param.multiple or param.nargs == -1)):
        return  # handled by Typer's own RuntimeParam.coerce before any conversion
    direct = plain.convert(value, _click.Context(cmd, info_name="x"))
    if direct is not DEFER:
        assert expected[0] == "ok", (value, direct, expected)
        assert type(direct) is type(expected[1]) and direct == expected[1], (value, direct)


# -- which parameters -----------------------------------------------------------------


def test_every_simple_parameter_converts_plainly() -> None:
    simple = [(path, p.name) for path, _, p in PARAMS if _is_simple(p)]
    plain = [(path, p.name) for path, _, p in PARAMS if plain_runtime_param(p.type_descriptor)]
    assert simple == plain
    # every command's parameters are simple today: settle's, the help options, the rest
    assert len(simple) == len(PARAMS)


def test_parsing_installs_the_plain_conversion() -> None:
    """Typer leaves the runtime params to be built on first use; parsing fills them in
    with the plain ones (the command's and its ``--help``), and they are used."""
    settle = get_command(app).get_command(None, "settle")
    assert all(p._runtime_param is None for p in settle.params)
    ctx = settle.make_context("settle", ["-p", "liaocheng-2023", "--engine", "batch"])
    params = settle.get_params(ctx)
    assert len(params) == len(settle.params) + 1  # and --help
    assert all(isinstance(p._runtime_param, PlainRuntimeParam) for p in params)
    assert not any("typer_param" in vars(p._runtime_param) for p in params)  # none deferred
    assert ctx.params["policy"] == "liaocheng-2023" and ctx.params["engine"] == "batch"


# -- sample values ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("plain paths")
    file = base / "一个 文件.yaml"
    file.write_text("x: 1\n", encoding="utf-8")
    folder = base / "a folder"
    folder.mkdir()
    return {"file": str(file), "folder": str(folder), "missing": str(base / "nowhere" / "x")}


INTS = [
    "0", "7", "-7", "+7", "007", "-0", "2023", "3660", "3661", "200", "201", "720", "-1",
    " 7", "7 ", "\t7\n", "1_000", "7.0", "7.5", "1e3", "0x1f", "", " ", "abc", "+", "-",
    "٢٠٢٣", "２０２３", "२०२३", "99999999999999999999999", "123456789012345678", "--1",
    7, 0, -1, 3661, True, 7.0,
]  # fmt: skip
STRS = ["", "liaocheng-2023", " spaced out ", "中文 名称", "-", "a\udcffb", "x\x00y", 3, b"bytes"]
BOOLS = [True, False, "true", "false", "", "no", " yes ", "1", 1, 0]


def _paths(places: dict[str, str]) -> list[Any]:
    return [
        "", ".", "-", "~/x", "a b/c d.csv", "x\x00y", "a\udcffb", "//double//slashes//",
        places["file"], places["folder"], places["missing"], Path(places["file"]), 3,
    ]  # fmt: skip


def _choices(enum: type[Enum]) -> list[Any]:
    out: list[Any] = ["", "nope", " ", 1]
    for member in enum:
        value = str(member.value)
        out += [member, value, value.upper(), value.title(), f" {value}", f"{value} ", member.name]
    return out


def samples(cmd: Any, param: _TyperParameter, places: dict[str, str]) -> list[Any]:
    leaf = _leaf(param.type_descriptor.annotation)
    if isinstance(leaf, type) and issubclass(leaf, Enum):
        single = _choices(leaf)
    else:
        single = {str: STRS, int: INTS, bool: BOOLS, Path: _paths(places)}[leaf]
    if not (param.multiple or param.nargs == -1):
        return [None, *single]
    # a list: Click gives a tuple (or the default); one bad item spoils it
    typer_own = build_runtime_param(param.type_descriptor)
    ok = [v for v in single if _outcome(typer_own, param, cmd, (v,))[0] == "ok"]
    return [
        None, (), [], "bare", *[(v,) for v in single], tuple(ok[:3]), [*ok[:2], *single[-2:]],
    ]  # fmt: skip


@pytest.mark.parametrize("item", PARAMS, ids=_id)
def test_sample_values_convert_as_typer_converts_them(
    item: tuple[str, Any, _TyperParameter], places: dict[str, str]
) -> None:
    _, cmd, param = item
    for value in samples(cmd, param, places):
        agree(param, cmd, value)


def _first(kind: Any) -> tuple[Any, _TyperParameter]:
    for _, cmd, p in PARAMS:
        if p.type_descriptor.annotation == kind and not p.type_descriptor.parameter_info.max:
            return cmd, p
    raise LookupError(kind)


def _ranged() -> tuple[Any, _TyperParameter]:
    for _, cmd, p in PARAMS:
        if p.type_descriptor.parameter_info.max is not None:
            return cmd, p
    raise LookupError("ranged")


_SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
_NUMBERISH = st.from_regex(r"\A\s{0,2}[+-]{0,2}[0-9_٠-٩０-９]{0,22}(\.[0-9]{0,2})?\s{0,2}\Z")


@_SETTINGS
@given(value=st.one_of(_NUMBERISH, st.text(max_size=12), st.integers()))
def test_any_integer_text_converts_as_typer_converts_it(value: Any) -> None:
    agree(*reversed(_first(int)), value)
    agree(*reversed(_ranged()), value)


@_SETTINGS
@given(value=st.text(max_size=40))
def test_any_text_converts_as_typer_converts_it(value: str) -> None:
    agree(*reversed(_first(str)), value)
    agree(*reversed(_first(Path)), value)
    agree(*reversed(_first(list[str])), (value, value))


def _enums() -> list[tuple[Any, _TyperParameter]]:
    return [
        (cmd, p)
        for _, cmd, p in PARAMS
        if isinstance(p.type_descriptor.annotation, type)
        and issubclass(p.type_descriptor.annotation, Enum)
    ]


@_SETTINGS
@given(
    data=st.data(),
    case=st.sampled_from([str, str.upper, str.lower, str.title, str.swapcase, str.strip]),
)
def test_any_spelling_of_a_choice_converts_as_typer_converts_it(data: Any, case: Any) -> None:
    cmd, param = data.draw(st.sampled_from(_enums()))
    choice = data.draw(st.sampled_from([str(m.value) for m in param.type_descriptor.annotation]))
    noise = data.draw(st.text(alphabet=string.ascii_letters + " -_", max_size=2))
    agree(param, cmd, case(choice))
    agree(param, cmd, case(choice) + noise)


def test_typer_own_conversion_is_built_only_when_the_plain_one_defers() -> None:
    cmd, param = _first(int)
    plain = plain_runtime_param(param.type_descriptor)
    assert plain is not None
    ctx = _click.Context(cmd, info_name="x")
    assert plain.coerce("12", param=param, ctx=ctx) == 12
    assert "typer_param" not in plain.__dict__
    assert plain.coerce(" 12", param=param, ctx=ctx) == 12  # deferred: pydantic strips it
    assert "typer_param" in plain.__dict__


# -- through the command line -----------------------------------------------------------


def _without_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plain_conversion, "install", lambda params: None)


BAD = [
    "settle -p liaocheng-2023 -i - --engine wrong",
    "settle -p liaocheng-2023 -i - --engine REFERENCE",
    "settle -p liaocheng-2023 -i - --engine ''",
    "settle -p liaocheng-2023 --override /nowhere/at/all.yaml",
    "settle -p liaocheng-2023 --override /tmp",
    "settle -p liaocheng-2023 --errors 'a\x00b.csv'",
    "settle -p",
    "settle -i -",
    "token create --client c --role r --days abc",
    "token create --client c --role r --days 99999",
    "token create --client c --role r --days 1.5",
    "token rotate --fingerprint f --grace-hours 721",
    "token rotate --fingerprint f --grace-hours -1",
    "enrolment 二〇二三",
    "enrolment ２０２３",
    "enrolment ''",
    "template WRONG x.csv",
    "explain -p liaocheng-2023 --format pdf2",
    "application publicity-list --stage late",
    "application list --as li -p x --limit 0",
    "application list --as li -p x --queue Done",
    "simulate -p x --top -3",
    "serve --port 80.5",
    "demo --port port",
    "synth --people -",
]
"""Command lines refused while parsing (a shell's words), before any command runs."""


@pytest.mark.cli
@pytest.mark.parametrize("line", BAD)
def test_usage_errors_are_typer_own(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = shlex.split(line)
    plain = invoke(args)
    with monkeypatch.context() as m:
        _without_plain(m)
        typer_own = invoke(args)
    assert (plain.code, plain.stdout, plain.stderr) == (
        typer_own.code,
        typer_own.stdout,
        typer_own.stderr,
    )
    assert plain.code == 2 and "错误：" in plain.stderr


def test_the_chinese_words_of_refused_values() -> None:
    """The words are jiuzhu's Chinese ones, read from Typer's errors (not just equal)."""
    run = invoke(shlex.split("settle -p liaocheng-2023 -i - --engine wrong"))
    assert "选项 --engine 的取值无效：「wrong」不是可选的取值：reference、batch" in run.stderr
    run = invoke(shlex.split("token create --client c --role r --days abc"))
    assert "选项 --days 的取值无效" in run.stderr and "整数" in run.stderr
    run = invoke(shlex.split("token create --client c --role r --days 99999"))
    assert "选项 --days 的取值无效" in run.stderr and "3660" in run.stderr
    run = invoke(shlex.split("settle -p liaocheng-2023 --override /nowhere/at/all.yaml"))
    assert "选项 --override 的取值无效：「/nowhere/at/all.yaml」不存在" in run.stderr


GOOD = [
    "settle -p liaocheng-2023 -i - --engine reference",
    "settle -p liaocheng-2023 --engine batch --set a=1 --set ' b = 2'",
    "settle -p x --errors 'a b/错误.csv' --dask local --registry ''",
    "settle -p x --override {file} --override {file}",
    "token create --client c --role r --jurisdiction 3715 --days +0030",
    "token create --client c --role r --jurisdiction '' --days ' 30 '",
    "token create --client c --role r --jurisdiction j --days 1_0",
    "token rotate --fingerprint f --grace-hours 0 --days 3660",
    "enrolment 2023 -p x --ledger 'a b.csv' --set x=1",
    "enrolment '  2023\t' -p x",
    "template roster-changes .",
    "explain -p x --format html --statement year -o ~/out",
    "application list --as li -p x --limit 200 --queue done",
    "application publicity-list --as li -p x --stage result -o 名单.pdf",
    "application assess R1 --as li -p x --version 3 --claim a --claim b=12000.00",
    "simulate -p x --claims c.parquet --reform r1.yaml --top +3",
    "serve --port 8000 --workers 2 --benchmark-floor",
    "user create li --name 李 --role clerk --jurisdiction 3715 --password-stdin",
]
"""Command lines that parse (some values Typer's pydantic reads: ' 30 ', 1_0); parsed only."""


def _parse(args: list[str]) -> tuple[dict[str, Any], dict[str, type]]:
    """The values a command is called with (and their types), parsed as ``jiuzhu ARGS``
    parses them, without calling it."""
    cmd: Any = get_command(app)
    ctx = cmd.make_context("jiuzhu", list(args))
    while isinstance(cmd, TyperGroup):
        name = ctx._protected_args[0]
        cmd = cmd.get_command(ctx, name)
        ctx = cmd.make_context(name, list(ctx.args), parent=ctx)
    return ctx.params, {k: type(v) for k, v in ctx.params.items()}


@pytest.mark.parametrize("line", GOOD)
def test_parsed_values_are_typer_own(
    line: str, places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = shlex.split(line.replace("{file}", shlex.quote(places["file"])))
    plain = _parse(args)
    with monkeypatch.context() as m:
        _without_plain(m)
        typer_own = _parse(args)
    assert plain == typer_own


def test_an_environment_variable_converts_as_typer_converts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value in ["batch", "Batch", "nope"]:
        monkeypatch.setenv("JIUZHU_ENGINE", value)
        args = ["settle", "-p", "liaocheng-2023"]
        try:
            plain: Any = _parse(args)
        except _click.exceptions.BadParameter as err:
            plain = chinese.message(err)
        with monkeypatch.context() as m:
            _without_plain(m)
            try:
                typer_own: Any = _parse(args)
            except _click.exceptions.BadParameter as err:
                typer_own = chinese.message(err)
        assert plain == typer_own, value
