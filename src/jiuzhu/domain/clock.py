"""Beijing time: the time people read (docs/design.md: dates people see are Asia/Shanghai).

Instants are stored in UTC; whatever shows one to a person converts it here. China keeps
UTC+8 all year (no daylight saving since 1991), so a fixed offset is exact and needs no
time-zone database.
"""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def beijing(at: dt.datetime) -> dt.datetime:
    """``at`` in Beijing time; a naive datetime is UTC (SQLite returns stored UTC so)."""
    aware = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
    return aware.astimezone(BEIJING)


def beijing_text(at: dt.datetime) -> str:
    """``北京时间 2024-05-01 18:00:00``."""
    return "北京时间 " + beijing(at).strftime("%Y-%m-%d %H:%M:%S")


def now_text() -> str:
    """The present moment as people read it (for 制表时间 lines)."""
    return beijing_text(dt.datetime.now(dt.UTC))


def today() -> dt.date:
    """Today for the bureau: the date in Beijing."""
    return dt.datetime.now(BEIJING).date()


def chinese_date(day: dt.date) -> str:
    """A day as a notice writes it: 2024年6月30日."""
    return f"{day.year}年{day.month}月{day.day}日"
