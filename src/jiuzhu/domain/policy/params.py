"""Parameters: every number of a document, with the clause it comes from.

A parameter is written either as a bare scalar (it then cites the clause of the
block around it) or as a mapping ``{value, clause, assumed, note}``. Values a
document leaves to local rules are ``assumed: true`` with a ``note`` saying where
the real value comes from, so nobody mistakes our stand-in for the bureau's.

A clause is cited as a bureau cites it: the document's number (文号) or short
name, then the clause (``杭政办函〔2022〕70号 二(二)``). A policy file names its
document once (``citation``) and writes clauses without it (``二(二)``);
``cite_clauses`` puts the two together when the file is read, so the number is
never typed twice and can never disagree with itself.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Annotated, Any, ClassVar, TypeVar, dataclass_transform

from jiuzhu.domain.money import BasisPoints, Fen, format_rate, format_yuan, parse_rate, parse_yuan
from jiuzhu.domain.policy.checks import READ_STRICTLY, Check, ReadsWhole

OLD_STYLE_CLAUSE = r"^[0-9]{3}( |$)"
"""The retired form ``000 三(四)1`` (a file number, not the document's): refused."""


def cite_clauses(data: Any, citation: str) -> Any:
    """Every ``clause`` string of a raw policy mapping, prefixed with ``citation``.

    A clause that already names a document (it contains ``〔`` or begins with
    ``citation``) is left as it is. Applied before validation, so the models only
    ever hold whole citations.
    """
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "clause" and isinstance(value, str):
                out[key] = _cite(value, citation)
            else:
                out[key] = cite_clauses(value, citation)
        return out
    if isinstance(data, list):
        return [cite_clauses(v, citation) for v in data]
    return data


def _cite(clause: str, citation: str) -> str:
    text = clause.strip()
    if re.match(OLD_STYLE_CLAUSE, text) or text.startswith(citation) or "〔" in text:
        return text
    return f"{citation} {text}"


def no_entries() -> dict[Any, Any]:
    """An empty mapping, the default of an optional table of a policy file.

    Not ``default_factory=dict``: pydantic asks for a default factory's signature, and
    a builtin's is parsed from its text by the tokenizer, whose pattern then takes
    ~30 ms to compile, on every start of ``jiuzhu`` (docs/performance.md, "Start-up").
    """
    return {}


def no_items() -> list[Any]:
    """An empty list, the default of an optional list of a policy file (as ``no_entries``)."""
    return []


def clause_shape(v: str | None) -> str | None:
    """A ``clause`` as a file writes it: the clause number, not blank, not the retired form."""
    if v is not None and (not v.strip() or re.match(OLD_STYLE_CLAUSE, v)):
        raise ValueError(
            f"条款引用应写成文件中的条款号，如 '三(四)1'（文号由 citation 给出），得到 {v!r}"
        )
    return v


def assumed_needs_note(assumed: bool, note: str | None) -> None:
    """A value marked ``assumed`` says where the real one comes from."""
    if assumed and not note:
        raise ValueError("assumed: true 的取值必须写明 note（真实取值从何而来）")


T = TypeVar("T")


@dataclass_transform(kw_only_default=True, frozen_default=True)
def policy_data(cls: type[T]) -> type[T]:
    """A class of a policy file: a dataclass (its fields are what pydantic reads) whose
    methods are ``Strict``'s, written once, rather than generated for each class.

    A one-claim ``settle`` defines all thirty classes on every start; the methods a
    dataclass generates (``__init__``, ``__repr__``, ``__eq__``, frozen ``__setattr__``…)
    are compiled from source for each class, ~30 ms of a ~170 ms start
    (docs/performance.md, "Start-up"). pydantic builds instances without ``__init__``
    and calls ``__post_init__``, as unpickling restores them without ``__setattr__``.
    """
    return dataclass(init=False, repr=False, eq=False, kw_only=True)(cls)


@policy_data
class Strict:
    """Base of every class of a policy file: plain frozen data, read strictly.

    An unknown or misplaced key is an error (``READ_STRICTLY``). A class's own checks
    after its fields are read are its ``__post_init__``, which calls its parent's first
    (pydantic runs it after the fields, as a model's "after" validator). Frozen: an
    instance's fields cannot be assigned; equal when of one class with equal fields."""

    __pydantic_config__: ClassVar[dict[str, Any]] = READ_STRICTLY

    def __init__(self, **values: Any) -> None:
        for f in fields(self):
            if f.name in values:
                value = values.pop(f.name)
            elif f.default is not MISSING:
                value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{type(self).__name__} 缺少字段 {f.name}")
            object.__setattr__(self, f.name, value)
        if values:
            raise TypeError(f"{type(self).__name__} 没有字段 {'、'.join(values)}")
        self.__post_init__()

    def __post_init__(self) -> None:
        """Nothing to check for the base; subclasses extend it."""

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


@policy_data
class Sourced(Strict):
    """Something that can cite a clause and be marked as assumed."""

    clause: Annotated[str | None, Check(clause_shape)] = None
    assumed: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        assumed_needs_note(self.assumed, self.note)


def _wrap_scalar(data: Any) -> Any:
    if isinstance(data, dict):
        return data
    return {"value": data}


def _money(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f'金额须写成带两位小数的元字符串，如 "{v}.00"，不能写成数字 {v}')
    if isinstance(v, float):
        raise ValueError(f'金额须写成带两位小数的元字符串，如 "{v:.2f}"，不能写成数字 {v}')
    return parse_yuan(v)


def _rate(v: Any) -> int:
    bp = parse_rate(v)
    if bp > 10_000:
        raise ValueError(f"比例不能超过100%，得到 {v!r}")
    return bp


@policy_data
class MoneyParam(ReadsWhole, Sourced):
    """An amount in fen, written in the file as a yuan string ``"3000.00"``."""

    read_whole = staticmethod(_wrap_scalar)
    value: Annotated[Fen, Check(_money, before=True)]

    def __str__(self) -> str:
        return format_yuan(self.value)


@policy_data
class RateParam(ReadsWhole, Sourced):
    """A rate in basis points, written in the file as ``"70%"``."""

    read_whole = staticmethod(_wrap_scalar)
    value: Annotated[BasisPoints, Check(_rate, before=True)]

    def __str__(self) -> str:
        return format_rate(self.value)
