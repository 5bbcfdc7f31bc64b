"""Commands loaded when called: the ``jiuzhu`` group imports a command's module only
when that command runs (or its help is shown).

Start-up matters: a hospital desk's integration runs ``jiuzhu settle`` once per
discharge, and importing every command module and having Typer build all of their
commands (sixty of them, each read from its function's signature) cost about as much
as the settlement itself (docs/performance.md, "Start-up"; ADR 19). So the group holds
a table of its commands, each named with the module and attribute that defines it and
the one-line summary ``jiuzhu --help`` lists; a command is built, by Typer, the first
time it is asked for. The summaries are tested against the real commands' help
(tests/test_lazy_cli.py), so the listing cannot drift from what the commands say.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from jiuzhu.cli.chinese import ChineseGroup, adopt_command


@dataclass(frozen=True)
class Lazy:
    """One command of the group: ``target`` is ``module:attribute``, a Typer app (a group
    of commands, as ``add_typer``) or a function (one command, as ``app.command``)."""

    name: str
    target: str
    summary: str
    """What ``jiuzhu --help`` lists beside the name: the first paragraph of its help."""

    def load(self, rich_markup_mode: Any, pretty_exceptions_short: bool) -> Any:
        """The command, built by Typer as the eager registration built it."""
        module, _, attribute = self.target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
        if isinstance(obj, typer.Typer):
            command: Any = get_group_from_info(
                TyperInfo(obj, name=self.name),
                pretty_exceptions_short=pretty_exceptions_short,
                rich_markup_mode=rich_markup_mode,
                suggest_commands=True,
            )
        else:
            command = get_command_from_info(
                CommandInfo(name=self.name, callback=obj),
                pretty_exceptions_short=pretty_exceptions_short,
                rich_markup_mode=rich_markup_mode,
            )
        return adopt_command(command)


class LazyGroup(ChineseGroup):
    """A ``ChineseGroup`` whose commands are the ``lazy`` table, built on first use.

    Subclasses set ``lazy``; ``list_commands`` gives the table's order and
    ``summaries`` the listing without importing anything.
    """

    lazy: ClassVar[Sequence[Lazy]] = ()
    pretty_exceptions_short: ClassVar[bool] = True

    def list_commands(self, ctx: Any) -> list[str]:
        return [entry.name for entry in self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            entry = next((e for e in self.lazy if e.name == cmd_name), None)
            if entry is None:
                return None
            self.commands[cmd_name] = entry.load(
                self.rich_markup_mode, self.pretty_exceptions_short
            )
        return self.commands[cmd_name]

    def summaries(self, ctx: Any) -> list[tuple[str, str]]:
        return [(entry.name, entry.summary) for entry in self.lazy]
