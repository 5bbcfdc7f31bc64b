"""Parameters: every number of a seed, with the clause it comes from.

A parameter is written either as a bare scalar (it then cites the clause of the
block around it) or as a mapping ``{value, clause, assumed, note}``. Values a
seed leaves to local rules are ``assumed: true`` with a ``note`` saying where
the real value comes from, so nobody mistakes our stand-in for the bureau's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from jiuzhu.domain.money import BasisPoints, Fen, format_rate, format_yuan, parse_rate, parse_yuan

CLAUSE_PATTERN = r"^[0-9]{3}( .+)?$"


class Strict(BaseModel):
    """Base of every policy-file model: an unknown or misplaced key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(Strict):
    """Something that can cite a clause and be marked as assumed."""

    clause: str | None = None
    assumed: bool = False
    note: str | None = None

    @field_validator("clause")
    @classmethod
    def _clause_shape(cls, v: str | None) -> str | None:
        import re

        if v is not None and not re.match(CLAUSE_PATTERN, v):
            raise ValueError(f"条款引用格式应为 '000 三(四)1'（种子文件编号 + 条款），得到 {v!r}")
        return v

    @model_validator(mode="after")
    def _assumed_needs_note(self) -> Sourced:
        if self.assumed and not self.note:
            raise ValueError("assumed: true 的取值必须写明 note（真实取值从何而来）")
        return self


def _wrap_scalar(data: Any) -> Any:
    if isinstance(data, dict):
        return data
    return {"value": data}


class MoneyParam(Sourced):
    """An amount in fen, written in the file as a yuan string ``"3000.00"``."""

    value: Fen

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, data: Any) -> Any:
        return _wrap_scalar(data)

    @field_validator("value", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> int:
        if isinstance(v, int) and not isinstance(v, bool):
            raise ValueError(f'金额须写成带两位小数的元字符串，如 "{v}.00"，不能写成数字 {v}')
        if isinstance(v, float):
            raise ValueError(f'金额须写成带两位小数的元字符串，如 "{v:.2f}"，不能写成数字 {v}')
        return parse_yuan(v)

    def __str__(self) -> str:
        return format_yuan(self.value)


class RateParam(Sourced):
    """A rate in basis points, written in the file as ``"70%"``."""

    value: BasisPoints

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, data: Any) -> Any:
        return _wrap_scalar(data)

    @field_validator("value", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> int:
        bp = parse_rate(v)
        if bp > 10_000:
            raise ValueError(f"比例不能超过100%，得到 {v!r}")
        return bp

    def __str__(self) -> str:
        return format_rate(self.value)
