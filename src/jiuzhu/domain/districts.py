"""GB/T 2260 administrative-division codes (行政区划代码), current and historical.

A person's district often comes from the first six digits of their 身份证号, which
carry the code of where the number was issued, perhaps decades ago: 371202 (莱芜市
莱城区) was abolished in 2019 and still begins many valid ID numbers. So a code is
*known* if any revision from 1980 on lists it, and a lookup says whether the newest
revision still does.

The table is ``jiuzhu/reference_data/gb2260_codes.csv`` (ADR 10), built by
``tools/build_district_codes.py``; its header names the sources, their versions and
licenses. It is read once, on first use, through ``importlib.resources`` and never
changes afterwards: the only "state" this module keeps is that immutable table.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

DATA_FILE = "reference_data/gb2260_codes.csv"
_CODE = re.compile(r"[1-9][0-9]{5}")
_PREFIX = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}")
_CURRENT = "9999-99"  # sorts after every YYYY-MM
# lines of the lists that group places rather than name one: left out of full names
_GROUPING = frozenset(
    {"市辖区", "县", "市", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位"}
)


class Level(StrEnum):
    province = "province"  # 省级: 370000
    prefecture = "prefecture"  # 地级: 371500
    county = "county"  # 县级: 371502


def level_of(code: str) -> Level:
    if code.endswith("0000"):
        return Level.province
    if code.endswith("00"):
        return Level.prefecture
    return Level.county


@dataclass(frozen=True, slots=True)
class District:
    """A code under one name. ``since``/``until``: the first and the last revision
    (``YYYY-MM``) listing it so; ``until`` None: the newest revision still does."""

    code: str
    name: str
    full_name: str  # with its province and prefecture: 山东省聊城市东昌府区
    level: Level
    since: str
    until: str | None

    @property
    def current(self) -> bool:
        return self.until is None

    @property
    def historical(self) -> bool:
        """No longer in the newest revision (abolished or renumbered)."""
        return self.until is not None


@dataclass(frozen=True, slots=True)
class _Row:
    code: str
    name: str
    since: str
    until: str  # _CURRENT when still listed


@cache
def _rows() -> dict[str, tuple[_Row, ...]]:
    """code -> its names, oldest first (by last revision, then first)."""
    text = files("jiuzhu").joinpath(DATA_FILE).read_text(encoding="utf-8")
    body = "".join(line for line in io.StringIO(text) if not line.startswith("#"))
    by_code: dict[str, list[_Row]] = {}
    for r in csv.DictReader(io.StringIO(body)):
        row = _Row(r["code"], r["name"], r["since"], r["until"] or _CURRENT)
        by_code.setdefault(row.code, []).append(row)
    return {c: tuple(sorted(rs, key=lambda r: (r.until, r.since))) for c, rs in by_code.items()}


@cache
def _prefixes() -> frozenset[str]:
    """2-digit prefixes with a province line, 4-digit ones with any line below it."""
    codes = _rows()
    two = {c[:2] for c in codes if level_of(c) is Level.province}
    four = {c[:4] for c in codes if level_of(c) is not Level.province}
    return frozenset(two | four)


def _name_at(code: str, month: str) -> str | None:
    """The name ``code`` had at ``month``; else its latest name; None if unknown."""
    rows = _rows().get(code)
    if not rows:
        return None
    at = [r for r in rows if r.since <= month <= r.until]
    return (at or rows)[-1].name


def _district(row: _Row) -> District:
    level = level_of(row.code)
    parents = {
        Level.province: [],
        Level.prefecture: [row.code[:2] + "0000"],
        Level.county: [row.code[:2] + "0000", row.code[:4] + "00"],
    }[level]
    parts: list[str] = []
    for parent in parents:
        name = _name_at(parent, row.until)
        if name and name not in _GROUPING and name not in parts:
            parts.append(name)
    parts.append(row.name)
    return District(
        code=row.code,
        name=row.name,
        full_name="".join(parts),
        level=level,
        since=row.since,
        until=None if row.until == _CURRENT else row.until,
    )


def lookup(code: str) -> District | None:
    """The district of a 6-digit code under its latest name (current if still listed);
    None if no revision since 1980 lists it."""
    rows = _rows().get(code.strip())
    return _district(rows[-1]) if rows else None


def history(code: str) -> tuple[District, ...]:
    """Every name the code has had, oldest first; empty if unknown. Where the sources
    disagree on a name, both appear, with overlapping spans."""
    return tuple(_district(r) for r in _rows().get(code.strip(), ()))


def is_known(code: str) -> bool:
    return bool(_CODE.fullmatch(code)) and code in _rows()


def check_jurisdiction_code(prefix: str) -> str | None:
    """None if ``prefix`` is a known province (2 digits), prefecture (4) or county (6)
    code in any revision since 1980; otherwise why not, in Chinese. A 6-digit code of a
    province or prefecture is refused too: as a prefix it would cover only people whose
    district is that very code, not the places under it."""
    value = prefix
    if not _PREFIX.fullmatch(value):
        return (
            f"辖区「{value}」须为 GB/T 2260 行政区划代码或其前缀"
            "（2、4 或 6 位数字，如 37、3715、371502）"
        )
    since = "1980 年以来各版 GB/T 2260 行政区划代码表中"
    if len(value) == 2:
        if value not in _prefixes():
            return f"辖区「{value}」不是已知的省级行政区划代码：{since}都没有 {value}0000"
        return None
    if len(value) == 4:
        if value not in _prefixes():
            return f"辖区「{value}」不是已知的地级行政区划代码：{since}都没有以 {value} 开头的代码"
        return None
    found = lookup(value)
    if found is None:
        return f"辖区「{value}」不是已知的县级行政区划代码：{since}都没有 {value}"
    if found.level is not Level.county:
        short = value[:2] if found.level is Level.province else value[:4]
        return (
            f"辖区「{value}」是{found.full_name}的代码，作为前缀只覆盖代码恰为 {value} 的人："
            f"整个{found.name}请写 {short}"
        )
    return None


def named_in(text: str) -> list[District]:
    """The current provinces and prefectures whose name occurs in ``text`` (a policy's
    ``jurisdiction``, such as 聊城市（山东省）), most specific first."""
    found: list[District] = []
    for code, rows in _rows().items():
        row = rows[-1]
        if row.until != _CURRENT or level_of(code) is Level.county:
            continue
        if len(row.name) >= 2 and row.name not in _GROUPING and row.name in text:
            found.append(_district(row))
    return sorted(found, key=lambda d: (d.level is Level.province, d.code))
