"""The ``jiuzhu`` group loads its commands when called (ADR 19): the table in
``jiuzhu.cli.main`` must say what the commands themselves say, and a command built on
demand must be the command the eager registration built (same options, help, order)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from typing import Any

import typer
from typer.main import get_command

from jiuzhu.cli.chinese import ChineseGroup, summaries, summary
from jiuzhu.cli.main import COMMANDS, app
from tests.cli_helpers import invoke, subcommands


def _eager() -> Any:
    """The group as it was registered before: every command added to one Typer app."""
    eager = typer.Typer(
        cls=ChineseGroup, help=app.info.help, add_completion=False, rich_markup_mode=None
    )
    eager.callback()(lambda: None)
    for entry in COMMANDS:
        module, _, attribute = entry.target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
        if isinstance(obj, typer.Typer):
            eager.add_typer(obj, name=entry.name)
        else:
            eager.command(entry.name)(obj)
    return get_command(eager)


def _shape(command: Any) -> Any:
    """What a command is to its users: its class, help, parameters and subcommands."""
    params = [
        (p.name, p.param_type_name, p.opts, p.secondary_opts, p.help, p.required, p.default)
        for p in command.params
    ]
    subs = [(name, _shape(sub)) for name, sub in subcommands(command)]
    return (type(command).__name__, command.help, command.no_args_is_help, params, subs)


def test_every_summary_is_the_first_paragraph_of_the_commands_help() -> None:
    root = get_command(app)
    for entry in COMMANDS:
        assert entry.summary == summary(root.get_command(None, entry.name)), entry.name  # type: ignore[attr-defined]


def test_the_listing_is_the_one_the_loaded_commands_give() -> None:
    root = get_command(app)
    listed = root.summaries(None)  # type: ignore[attr-defined]
    assert listed == summaries(root, None)  # type: ignore[arg-type]
    assert listed == summaries(_eager(), None)


def test_commands_built_on_demand_are_the_eagerly_registered_ones() -> None:
    lazy, eager = _shape(get_command(app)), _shape(_eager())
    assert lazy[3:] == eager[3:]  # parameters and every command below, in order
    assert [name for name, _ in lazy[4]] == [e.name for e in COMMANDS]


def test_every_command_module_is_in_the_table() -> None:
    """A module of jiuzhu.cli that defines a Typer app or a command is listed."""
    listed = {entry.target.partition(":")[0] for entry in COMMANDS}
    folder = os.path.dirname(importlib.import_module("jiuzhu.cli").__file__ or "")
    modules = {f"jiuzhu.cli.{f[:-3]}" for f in os.listdir(folder) if f.endswith("_cmd.py")}
    assert modules <= listed, modules - listed


def test_a_mistyped_command_is_suggested_from_the_table() -> None:
    run = invoke(["setle"])
    assert run.code == 2
    assert run.stderr.endswith("错误：没有命令「setle」（是否要用 settle、serve？）\n")


def test_help_and_one_command_import_only_what_they_use() -> None:
    code = (
        "import sys\nfrom jiuzhu.cli.main import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('jiuzhu.cli.')), file=sys.stderr)"
    )
    cli = {entry.target.partition(":")[0] for entry in COMMANDS}
    for args, wanted in ((["--help"], set()), (["policy", "--help"], {"jiuzhu.cli.policy_cmd"})):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
        )
        loaded = set(proc.stderr.split()) & cli
        assert loaded == wanted, (args, loaded)
