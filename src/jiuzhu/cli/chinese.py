"""The command line's own words in Chinese: help pages, usage lines and usage errors.

Typer (and the Click it carries inside, ``typer._click``) writes its own words in English
("Usage:", "Show this message and exit.", "No such option", "Missing argument") with
no catalogue to translate them, and its help tables cut Chinese text short at 80
columns. So the ``jiuzhu`` group is a ``ChineseGroup``: it renders every help page itself
(Chinese headings, metavars and notes, text wrapped by display width, nothing cut), and
it catches the parser's errors and says them in Chinese from what the exception holds
(the option, the parameter, the pydantic error) rather than from its English message.
Every command under the group is adopted on construction, so the commands themselves
stay plain Typer. ADR 11 says why this rather than something else. Being adopted also
gives a command's simple parameters their conversion without pydantic
(``jiuzhu.cli.plain_conversion``, ADR 20): every command goes through here.

This leans on Typer's internals (``typer.core``, ``typer._click``); pyproject.toml pins
the minor version, and tests/test_chinese_cli.py scans every help page and the usage
errors for English words, so an upgrade that changes them fails loudly.
"""

from __future__ import annotations

import re
import shutil
import sys
import typing
import unicodedata
from collections.abc import Sequence
from difflib import get_close_matches
from enum import Enum
from pathlib import Path
from typing import Any

from typer import Abort, _click
from typer.core import TyperCommand, TyperGroup

from jiuzhu.cli.plain_conversion import PlainParameters

HELP_TEXT = "显示此帮助并退出。"
OPTIONS = "[选项]"

_TYPES: dict[type, str] = {str: "文本", int: "整数", float: "数值", Path: "路径", bool: "是/否"}
_ARGUMENTS = {"file": "文件", "id_number": "身份证号码", "year": "年度", "ref": "政策"}


# -- wrapping Chinese text ---------------------------------------------------------------

_CLOSING = set("，。；：、！？）」』》】,.;:!?)")
_OPENING = set("（「『《【(")
_TOKEN = re.compile(r"［[^］]*］|[!-~]+|\s+|.", re.S)  # a ［note］ is kept whole


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` display columns (a CJK character is two): ASCII words are
    kept whole where they fit, a closing mark never starts a line and an opening one
    never ends it (the word before, or after, goes along)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        for token in _TOKEN.findall(paragraph):
            if not line and token.isspace():
                continue
            if width_of("".join([*line, token])) <= width:
                line.append(token)
                continue
            carry = [token]
            while len(line) > 1 and (carry[0] in _CLOSING or line[-1] in _OPENING):
                carry.insert(0, line.pop())
            if line:
                lines.append("".join(line).rstrip())
            rest = "".join(carry).lstrip()
            while width_of(rest) > width:  # a word longer than the line: split it
                cut = 1
                while width_of(rest[: cut + 1]) <= width:
                    cut += 1
                lines.append(rest[:cut])
                rest = rest[cut:]
            line = [rest] if rest else []
        lines.append("".join(line).rstrip())
    return lines


def columns() -> int:
    """The terminal's width, within 60 and 100 columns (80 when not a terminal)."""
    return max(60, min(shutil.get_terminal_size((80, 24)).columns, 100))


# -- what a parameter is called -----------------------------------------------------------


def _annotation(param: Any) -> Any:
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, set, typing.Union) or str(origin) == "<class 'types.UnionType'>":
            if not args:
                return None
            annotation = args[0]
            continue
        return annotation


def metavar(param: Any) -> str:
    """The placeholder of a parameter's value in Chinese (``文本``, ``整数``, ``路径``), its
    choices (``[reference|batch]``) or the metavar the command gave it."""
    if param.metavar:
        return str(param.metavar)
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "[" + "|".join(str(m.value) for m in annotation) + "]"
    if param.param_type_name == "argument":
        return _ARGUMENTS.get(param.name, _TYPES.get(annotation, "值"))
    for kind, zh in _TYPES.items():
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return zh
    return "值"


def hint(param: Any) -> str:
    """How an error names the parameter: its option names, or the argument's metavar."""
    if param is None:
        return "参数"
    if param.param_type_name == "argument":
        return f"参数 {metavar(param)}"
    names = [*param.opts, *param.secondary_opts]
    return "选项 " + " / ".join(names)


def _default(param: Any) -> str | None:
    default = param.default
    if not getattr(param, "show_default", True) or default is None or param.is_flag:
        return None
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, list | tuple):
        return None if not default else "、".join(str(d) for d in default)
    if callable(default):
        return None
    return str(default)


def _notes(param: Any) -> str:
    notes = []
    if param.required:
        notes.append("必填")
    default = _default(param)
    if default is not None:
        notes.append(f"默认：{default}")
    if getattr(param, "min", None) is not None and getattr(param, "max", None) is not None:
        notes.append(f"{param.min} 至 {param.max}")
    elif getattr(param, "min", None) is not None:
        notes.append(f"不小于 {param.min}")
    elif getattr(param, "max", None) is not None:
        notes.append(f"不大于 {param.max}")
    if getattr(param, "envvar", None) and getattr(param, "show_envvar", True):
        notes.append(f"环境变量：{param.envvar}")
    return f"［{'；'.join(notes)}］" if notes else ""


# -- help pages ---------------------------------------------------------------------------


def usage(ctx: Any) -> str:
    cmd = ctx.command
    pieces = [OPTIONS]
    for p in cmd.params:
        if p.param_type_name == "argument" and not p.hidden:
            pieces.append(metavar(p) if p.required else f"[{metavar(p)}]")
    if isinstance(cmd, TyperGroup):
        pieces.append("命令 [参数]")
    return f"用法：{ctx.command_path} {' '.join(pieces)}"


def _rows(out: list[str], rows: Sequence[tuple[str, str]], width: int) -> None:
    """Two columns: the name, and its text wrapped beside it (or below a long name)."""
    left = min(max((width_of(n) for n, _ in rows), default=0), 28)
    for name, text in rows:
        body = wrap(text, width - left - 6) if text else [""]
        if width_of(name) > left:
            out.append(f"  {name}")
            out.extend(f"  {' ' * (left + 2)}{line}" for line in body if line)
            continue
        pad = " " * (left - width_of(name))
        out.append(f"  {name}{pad}  {body[0]}".rstrip())
        out.extend(f"  {' ' * (left + 2)}{line}" for line in body[1:])


def help_page(ctx: Any) -> str:
    """A command's or group's help, in Chinese, wrapped to the terminal (nothing cut)."""
    cmd = ctx.command
    width = columns()
    out = [usage(ctx), ""]
    text = (cmd.help or "").strip()
    if text:
        out.extend(f"  {line}" if line else "" for line in wrap(_dedent(text), width - 2))
        out.append("")
    arguments = [
        (metavar(p), (p.help or "") + _notes(p))
        for p in cmd.params
        if p.param_type_name == "argument" and not p.hidden
    ]
    if arguments:
        out.append("参数：")
        _rows(out, arguments, width)
        out.append("")
    options = []
    for p in cmd.get_params(ctx):
        if p.param_type_name != "option" or p.hidden:
            continue
        names = ", ".join(sorted([*p.opts, *p.secondary_opts], key=len))
        shown = names if p.is_flag else f"{names} {metavar(p)}"
        words = HELP_TEXT if p is cmd.get_help_option(ctx) else (p.help or "")
        options.append((shown, words + _notes(p)))
    out.append("选项：")
    _rows(out, options, width)
    if isinstance(cmd, TyperGroup):
        listed = getattr(cmd, "summaries", None)  # a LazyGroup lists without importing
        out.append("")
        out.append("命令：")
        _rows(out, listed(ctx) if listed else summaries(cmd, ctx), width)
    return "\n".join(out) + "\n"


def summary(cmd: Any) -> str:
    """The line a group's help lists beside a command: its help's first paragraph."""
    text = _dedent((cmd.short_help or cmd.help or "").strip()).split("\n\n")[0]
    return text.replace("\n", "")


def summaries(group: TyperGroup, ctx: Any) -> list[tuple[str, str]]:
    """Each visible command of ``group`` with its summary, in the group's order."""
    out = []
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            out.append((name, summary(sub)))
    return out


def _dedent(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(line.strip() for line in lines)


# -- errors -------------------------------------------------------------------------------

_USAGE_MESSAGES = (
    (re.compile(r"^Missing command\.?$"), "缺少命令"),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((.*)\)$"), "多余的参数：{0}"),
    (re.compile(r"^Option '(.*)' requires an argument\.$"), "选项 {0} 须给出取值"),
    (re.compile(r"^Option '(.*)' requires (\d+) arguments\.$"), "选项 {0} 须给出 {1} 个取值"),
    (re.compile(r"^Option '(.*)' does not take a value\.$"), "选项 {0} 不带取值"),
    (re.compile(r"^Argument '(.*)' takes (\d+) values\.$"), "参数 {0} 须给出 {1} 个取值"),
)
_VALUE_MESSAGES = (
    (re.compile(r"^\w+ '(.*)' does not exist\.$"), "「{0}」不存在"),
    (re.compile(r"^\w+ '(.*)' is a directory\.$"), "「{0}」是目录，须为文件"),
    (re.compile(r"^\w+ '(.*)' is a file\.$"), "「{0}」是文件，须为目录"),
    (re.compile(r"^\w+ '(.*)' is not readable\.$"), "没有读取「{0}」的权限"),
    (re.compile(r"^\w+ '(.*)' is not writable\.$"), "没有写入「{0}」的权限"),
    (re.compile(r"^(?:Value error, )?'(.*)' is not one of (.*)\.$"), "「{0}」不是可选的取值：{1}"),
    (re.compile(r"^Value must be an iterable\.$"), "须给出一个或多个取值"),
)


def _match(table: Any, message: str) -> str | None:
    for pattern, words in table:
        m = pattern.match(message.strip())
        if m:
            groups = [g.replace("', '", "、").strip("'") for g in m.groups()]
            return str(words).format(*groups)
    return None


def _bad_value(err: Any) -> str:
    """Why a value was refused, from pydantic's error when there is one (Typer converts
    values with pydantic), else from the message's known shapes."""
    from pydantic import ValidationError

    cause = err.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        from jiuzhu.io.errors import describe

        first = dict(cause.errors()[0])
        said = describe(first)
        if first.get("type") != "value_error":
            return said
        return _match(_VALUE_MESSAGES, said) or f"取值「{first.get('input')}」无效"
    return _match(_VALUE_MESSAGES, err.message) or "取值无效"


def message(err: _click.exceptions.ClickException) -> str:
    """The error in Chinese."""
    ex = _click.exceptions
    if isinstance(err, ex.NoSuchOption):
        close = sorted(err.possibilities or ())
        also = f"（是否要用 {'、'.join(close)}？）" if close else ""
        return f"没有选项 {err.option_name}{also}"
    if isinstance(err, ex.MissingParameter):
        return f"缺少{hint(err.param)}"
    if isinstance(err, ex.BadParameter):
        return f"{hint(err.param)} 的取值无效：{_bad_value(err)}"
    return _match(_USAGE_MESSAGES, err.message) or err.message


def show_error(err: _click.exceptions.ClickException) -> None:
    ctx = getattr(err, "ctx", None)
    lines = []
    if ctx is not None:
        lines.append(usage(ctx))
        lines.append(f"请用 {ctx.command_path} --help 查看帮助。")
        lines.append("")
    lines.append(f"错误：{message(err)}")
    _click.echo("\n".join(lines), err=True)


# -- the group ----------------------------------------------------------------------------


def _with_context(err: _click.exceptions.UsageError, ctx: Any) -> None:
    """The parser raises some errors without the command's context; give it, so the
    message can show the usage line and where to find help."""
    if err.ctx is None:
        err.ctx = ctx
        err.cmd = ctx.command


class ChineseCommand(PlainParameters, TyperCommand):
    """A command whose help page is Chinese (``help_page``), and whose simple parameters
    convert without pydantic (``PlainParameters``, ADR 20)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _click.exceptions.UsageError as err:
            _with_context(err, ctx)
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(help_page(ctx))

    def get_usage(self, ctx: Any) -> str:
        return usage(ctx)


class ChineseGroup(PlainParameters, TyperGroup):
    """The ``jiuzhu`` group: Chinese help for itself and every command under it, and
    usage errors said in Chinese. Its own ``--help`` converts without pydantic, as the
    commands' parameters do (``PlainParameters``, ADR 20)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        adopt(self)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(help_page(ctx))

    def get_usage(self, ctx: Any) -> str:
        return usage(ctx)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _click.exceptions.UsageError as err:
            _with_context(err, ctx)
            raise

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = get_close_matches(name, self.list_commands(ctx))
            also = f"（是否要用 {'、'.join(close)}？）" if close else ""
            ctx.fail(f"没有命令「{name}」{also}")
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except _click.exceptions.NoArgsIsHelpError as err:
            if not standalone_mode:
                raise
            _click.echo(help_page(err.ctx), nl=False)
            sys.exit(err.exit_code)
        except _click.exceptions.ClickException as err:
            if not standalone_mode:
                raise
            show_error(err)
            sys.exit(err.exit_code)
        except Abort:
            if not standalone_mode:
                raise
            _click.echo("已中止。", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def adopt(group: TyperGroup) -> None:
    """Make every command under ``group`` Chinese (Typer builds them before the group)."""
    for command in group.commands.values():
        adopt_command(command)


def adopt_command(command: Any) -> Any:
    """Make ``command`` Chinese, and every command under it; returns it."""
    if isinstance(command, TyperGroup):
        if not isinstance(command, ChineseGroup):
            command.__class__ = ChineseGroup
        adopt(command)
    elif isinstance(command, TyperCommand) and not isinstance(command, ChineseCommand):
        command.__class__ = ChineseCommand
    return command
