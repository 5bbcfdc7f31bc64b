"""Walk a policy's parameters with the clause each one cites.

"Every value carries its clause": a parameter cites its own ``clause`` or the
nearest enclosing block's; it is assumed if it or any enclosing block says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from jiuzhu.domain.policy.params import MoneyParam, RateParam, Sourced, Strict


@dataclass(frozen=True, slots=True)
class ParamInfo:
    path: str
    param: MoneyParam | RateParam
    clause: str | None
    assumed: bool
    note: str | None


def walk(
    node: object,
    path: str = "",
    clause: str | None = None,
    assumed: bool = False,
    note: str | None = None,
) -> Iterator[ParamInfo]:
    if isinstance(node, Sourced):
        clause = node.clause or clause
        if node.assumed:
            assumed, note = True, node.note
    if isinstance(node, MoneyParam | RateParam):
        yield ParamInfo(path, node, clause, assumed, note)
        return
    if isinstance(node, Strict):
        for name in _names(node):
            child = getattr(node, name)
            yield from walk(child, f"{path}.{name}" if path else name, clause, assumed, note)
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from walk(child, f"{path}.{key}", clause, assumed, note)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from walk(child, f"{path}[{i}]", clause, assumed, note)


def _names(node: Strict) -> list[str]:
    """The fields of a policy file's class, in the order the file's reader reads them."""
    return [f.name for f in fields(node)]


def unsourced(policy: Strict) -> list[str]:
    """Paths of parameters that cite no clause at all."""
    return [info.path for info in walk(policy) if info.clause is None]


def display(value: object) -> str | None:
    """A leaf as a person reads it; None for metadata and empty values."""
    from datetime import date
    from enum import Enum

    if value is None:
        return None
    if isinstance(value, MoneyParam | RateParam):
        return str(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool | int | str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(v, Enum | str | int) for v in value):
        return "[" + ", ".join(str(v.value if isinstance(v, Enum) else v) for v in value) + "]"
    return None


_META = {"clause", "assumed", "note"}


def leaves(
    node: object, path: str = "", clause: str | None = None
) -> Iterator[tuple[str, str, str | None]]:
    """Every leaf value of a policy as (path, display, clause): what ``policy diff`` compares."""
    if isinstance(node, Sourced):
        clause = node.clause or clause
    shown = display(node)
    if shown is not None:
        yield path, shown, clause
        return
    if isinstance(node, Strict):
        for name in _names(node):
            if name in _META:
                continue
            yield from leaves(getattr(node, name), f"{path}.{name}" if path else name, clause)
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from leaves(child, f"{path}.{key}", clause)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from leaves(child, f"{path}[{i}]", clause)
