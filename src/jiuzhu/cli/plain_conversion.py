"""Parameter values converted without pydantic, for parameters of a simple type.

Typer 0.29 converts every parameter's value through a pydantic ``TypeAdapter``
(``typer._coercion.build_runtime_param``), built the first time the parameter is
processed: even for an option left out (its value is None) and for the ``--help``
option of the group and of the command. So a one-claim ``jiuzhu settle`` imported
pydantic and built a dozen validators, tens of milliseconds, to find that
``-p liaocheng-2023`` is the string it already was (issue 11; ADR 20).

Each parameter whose type is simple (str, int, bool, ``pathlib.Path``, an Enum, or a
list of one of these; ``X | None`` is ``X`` to Typer) is given a ``PlainRuntimeParam``
instead. It converts a value only when the answer is certain, and is then exactly what
Typer gives: an exact str or bool as it is; an ASCII decimal integer within the
option's range; a path that passes Typer's own checks (``coerce_cli_path``); a choice
found by Typer's own matcher (``coerce_cli_choice``, case folding as Typer does). Any
other value, and every value Typer would refuse, goes to Typer's own runtime param,
built then; so every refusal and its message are Typer's (cli/chinese.py reads the
pydantic error behind them to say it in Chinese). Annotations with a ``parser``, a
clamped or a float range, dates, tuples and files are left to Typer entirely.

This leans on Typer 0.29's internals (pyproject.toml pins the minor version): the
``_runtime_param`` cache of ``typer.core._TyperParameter.get_runtime_param``, the
``RuntimeParam`` contract (``coerce`` handles None and the list shape, then
``_coerce_value``), the ``TypeDescriptor`` and the two ``typer._param_types`` functions
above. tests/test_plain_conversion.py compares every parameter of every command with
Typer's conversion, so an upgrade that changes any of them fails there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, Final, get_args

from typer import _click
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path
from typer.core import _TyperParameter
from typer.models import ParameterInfo


class _Defer:
    """What a conversion returns when it is not certain: Typer's own runtime param decides."""

    def __repr__(self) -> str:
        return "DEFER"


DEFER: Final = _Defer()

Convert = Callable[[Any, _click.Context], Any]
"""A value and the context to the converted value, or ``DEFER``."""

_DECIMAL = re.compile(r"[+-]?[0-9]{1,18}")
"""What ``int()`` and pydantic read alike: no spaces, underscores or non-ASCII digits
(pydantic takes some of those and not others; they go to Typer)."""


class PlainRuntimeParam(RuntimeParam):
    """Typer's runtime param contract, converting with ``convert`` where it is certain and
    with Typer's own (pydantic) runtime param, built on first need, everywhere else.

    Not a dataclass of its own (Typer's ``RuntimeParam`` is a frozen one): making one
    costs about a millisecond at import, on every ``jiuzhu`` run."""

    descriptor: TypeDescriptor
    convert: Convert

    def __init__(self, descriptor: TypeDescriptor, convert: Convert) -> None:
        super().__init__(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
        object.__setattr__(self, "descriptor", descriptor)  # frozen, as dataclasses set it
        object.__setattr__(self, "convert", convert)

    @cached_property
    def typer_param(self) -> RuntimeParam:
        """Typer's own runtime param for the parameter, as Typer would have built it."""
        return build_runtime_param(self.descriptor)

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: _click.Context) -> Any:
        converted = self.convert(value, ctx)
        if converted is DEFER:
            return self.typer_param._coerce_value(value, param=param, ctx=ctx)
        return converted


def _as_str(value: Any, ctx: _click.Context) -> Any:
    return value if type(value) is str else DEFER


def _as_bool(value: Any, ctx: _click.Context) -> Any:
    return value if type(value) is bool else DEFER


def _as_int(info: ParameterInfo) -> Convert:
    low, high = info.min, info.max

    def convert(value: Any, ctx: _click.Context) -> Any:
        if type(value) is int:
            number = value
        elif type(value) is str and _DECIMAL.fullmatch(value):
            number = int(value)
        else:
            return DEFER
        if (low is not None and number < low) or (high is not None and number > high):
            return DEFER  # Typer says why, and in which range
        return number

    return convert


def _as_path(info: ParameterInfo) -> Convert:
    def convert(value: Any, ctx: _click.Context) -> Any:
        if type(value) is str:
            value = Path(value)  # what pydantic's Path validator makes of a str
        elif not isinstance(value, Path):
            return DEFER
        try:
            return coerce_cli_path(value, info, path_type=Path, ctx=ctx)
        except Exception:  # refused (or an embedded NUL): Typer words it
            return DEFER

    return convert


def _as_choice(choices: Sequence[Any], info: ParameterInfo) -> Convert:
    def convert(value: Any, ctx: _click.Context) -> Any:
        try:
            return coerce_cli_choice(
                value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx
            )
        except Exception:  # not a choice: Typer words it
            return DEFER

    return convert


def _as_list(item: Convert) -> Convert:
    def convert(value: Any, ctx: _click.Context) -> Any:
        if not isinstance(value, list | tuple):
            return DEFER
        out = []
        for one in value:
            converted = item(one, ctx)
            if converted is DEFER:
                return DEFER
            out.append(converted)
        return out

    return convert


def _leaf(annotation: Any, info: ParameterInfo) -> Convert | None:
    """The conversion of one value, in the order of Typer's ``build_leaf_adapter``
    (an Enum before str, so a StrEnum is a choice); None when it is not simple."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _as_choice(tuple(annotation), info)
    if annotation is bool:
        return _as_bool
    if annotation is int:
        bounds_plain = all(b is None or type(b) is int for b in (info.min, info.max))
        return _as_int(info) if bounds_plain and not info.clamp else None
    if annotation is str:
        return _as_str
    if annotation is Path and info.path_type is None:
        return _as_path(info)
    return None


def plain_runtime_param(descriptor: TypeDescriptor) -> PlainRuntimeParam | None:
    """The plain conversion of a parameter, or None to leave it to Typer entirely."""
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return None
    annotation = descriptor.annotation
    convert: Convert | None
    if descriptor.is_list:  # Typer's own test of list[X]
        (item,) = get_args(annotation)
        leaf = _leaf(item, info)
        convert = _as_list(leaf) if leaf is not None else None
    else:
        convert = _leaf(annotation, info)
    if convert is None:
        return None
    return PlainRuntimeParam(descriptor, convert)


def install(params: Sequence[_click.Parameter]) -> None:
    """Give each simple Typer parameter not yet converted its plain conversion (where
    ``get_runtime_param`` would otherwise build a pydantic one)."""
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            plain = plain_runtime_param(param.type_descriptor)
            if plain is not None:
                param._runtime_param = plain


class PlainParameters(_click.Command):
    """A command whose parameters, its ``--help`` among them, convert plainly where
    their type is simple (``install``): every parameter Click parses comes through
    ``get_params``, the help option too (built there, on first use)."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        params = super().get_params(ctx)
        install(params)
        return params
