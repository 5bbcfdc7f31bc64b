"""Resident ID numbers (公民身份号码, GB 11643-1999): check digit and masking.

Masking keeps the first four and last four characters (``3715**********1234``):
enough for a desk clerk to match a card, too little to identify a stranger.
"""

from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


def check_digit(first17: str) -> str:
    """The 18th character that GB 11643 (ISO 7064 MOD 11-2) requires."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_id(number: str) -> str | None:
    """None if ``number`` is a valid 18-character ID; otherwise why not (Chinese)."""
    value = number.strip().upper()
    if not _SHAPE.match(value):
        return "身份证号须为18位（前17位数字，末位为数字或X）"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期不存在"
    if check_digit(value[:17]) != value[17]:
        return "身份证号校验码不正确"
    return None


def looks_like_id(text: str) -> bool:
    return bool(_SHAPE.match(text.strip().upper()))


def mask_value(text: str) -> str:
    """Mask what was typed as an ID number, even a malformed one (a digit missing, a wrong
    character): a bad ID is still most of someone's ID, so an error never echoes it."""
    value = text.strip()
    if looks_like_id(value):
        return mask_id(value)
    if len(value) >= 9:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    return "*" * len(value)


def mask_id(text: str) -> str:
    """Mask anything shaped like an ID number; leave other identifiers alone."""
    value = text.strip()
    if looks_like_id(value):
        return value[:4] + "*" * 10 + value[-4:]
    return text


# a run of 15 or more digits (an ID number, perhaps with digits around it), not part of a
# longer run: masked whole, so neighbouring digits never shift which part shows
_ID_RUN = re.compile(r"(?<![0-9])[0-9]{14,}[0-9Xx](?![0-9Xx])")


def mask_ids_in(text: str) -> str:
    """Every 身份证号 inside a longer text masked: a 第二代残疾人证 number starts with the
    holder's ID number, a file may be named after a person. Any run of 15 or more digits
    keeps its first 4 and last 4 characters (as ``mask_id``), so a run that is longer than
    an ID (digits before or after it) shows less of it, never more."""
    return _ID_RUN.sub(lambda m: m[0][:4] + "*" * (len(m[0]) - 8) + m[0][-4:], text)


def mask_name(name: str) -> str:
    """A name as a public list shows it: the first and last characters kept, the middle
    masked (张小三 → 张*三, 欧阳小明 → 欧**明); a two-character name keeps its first
    (张三 → 张*)."""
    text = name.strip()
    if len(text) <= 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]
