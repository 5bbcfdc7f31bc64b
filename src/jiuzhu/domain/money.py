"""Money in integer fen and exact rates in basis points.

Why integers: a settlement must conserve to the fen, and the batch engine must
reproduce the online engine exactly. Floats cannot promise either, so no float
ever holds money here. Rates are integer basis points (1 bp = 0.01%), which
covers every rate the documents state ("70%", "0.8%") exactly.
"""

from __future__ import annotations

import re
from typing import NewType

Fen = NewType("Fen", int)
"""An amount of money in fen (0.01 yuan)."""

BasisPoints = NewType("BasisPoints", int)
"""A rate in basis points: 10000 = 100%."""

BP_ONE = 10_000
"""100% in basis points."""

_YUAN = re.compile(r"^(-?)(0|[1-9][0-9]*)\.([0-9]{2})$")
_PERCENT = re.compile(r"^(0|[1-9][0-9]{0,2})(?:\.([0-9]{1,2}))?%$")


class MoneyFormatError(ValueError):
    """A yuan string that is not exactly ``123.45``."""


class RateFormatError(ValueError):
    """A rate string that is not a percentage such as ``70%`` or ``0.8%``."""


def parse_yuan(text: str, *, allow_negative: bool = False) -> Fen:
    """Parse a yuan string with exactly two decimals into fen.

    Exactly two decimals because that is the edge contract (docs/design.md): a value
    such as ``"12.5"`` or ``"12.345"`` is more likely a unit or rounding mistake
    upstream than something to guess about.
    """
    if not isinstance(text, str):
        raise MoneyFormatError(f'金额须为字符串（如 "1234.56"），得到 {type(text).__name__}')
    m = _YUAN.match(text)
    if m is None:
        raise MoneyFormatError(f'金额格式不正确：{text!r}，应为保留两位小数的元，如 "1234.56"')
    sign, whole, cents = m.groups()
    value = int(whole) * 100 + int(cents)
    if sign:
        if not allow_negative:
            raise MoneyFormatError(f"金额不能为负数：{text!r}")
        value = -value
    return Fen(value)


def format_yuan(fen: int) -> str:
    """Format fen as a yuan string with two decimals (``-`` for negatives)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_rate(text: str) -> BasisPoints:
    """Parse ``"70%"`` / ``"0.8%"`` into basis points, exactly."""
    if not isinstance(text, str):
        raise RateFormatError(f'比例须为百分数字符串（如 "70%"），得到 {text!r}')
    m = _PERCENT.match(text.strip())
    if m is None:
        raise RateFormatError(f'比例格式不正确：{text!r}，应为百分数，如 "70%" 或 "0.8%"')
    whole, frac = m.groups()
    bp = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    return BasisPoints(bp)


def format_rate(bp: int) -> str:
    """Format basis points as a percentage string with no trailing zeros."""
    whole, rest = divmod(bp, 100)
    if rest == 0:
        return f"{whole}%"
    return f"{whole}.{rest:02d}".rstrip("0") + "%"


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Divide and round half away from zero, in integers.

    Half-up for the non-negative amounts we settle; the sign is handled
    symmetrically so that a reversal is the exact negative of a settlement.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((2 * -numerator + denominator) // (2 * denominator))


def apply_rate(fen: int, bp: int) -> Fen:
    """``fen × rate``, rounded half-up to the fen."""
    return Fen(round_half_up_div(fen * bp, BP_ONE))


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _group_words(n: int) -> str:
    """0 < n < 10000 in capital digits, zeros inside collapsed to one 零."""
    out = ""
    zero = False
    for place in range(3, -1, -1):
        d = n // 10**place % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _PLACES[place]
    return out


def yuan_in_words(fen: int) -> str:
    """An amount in capital characters, as a notice or a voucher writes it (人民币大写):
    1800.00 → 壹仟捌佰元整, 10005.05 → 壹万零伍元零伍分."""
    if fen < 0:
        raise ValueError("大写金额不能为负数")
    whole, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    words = ""
    groups: list[int] = []
    rest = whole
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        if g == 0:
            pending_zero = bool(words)
            continue
        if words and (pending_zero or g < 1000):
            words += "零"
        words += _group_words(g) + _GROUPS[index]
        pending_zero = False
    if words:
        words += "元"
    if jiao == 0 and fen_digit == 0:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    else:
        words += "整"
    return words
