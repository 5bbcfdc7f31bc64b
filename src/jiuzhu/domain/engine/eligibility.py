"""Which categories a claim is settled under: the spans in force, and the look-backs.

A category span of a claim is in force from ``valid_from`` to ``valid_to``. A
category with a look-back (追溯, ``Categories.look_backs``) also covers the claims
of a window before its identification: ``valid_from`` is the identification
date, ``applied_on`` (default: ``valid_from``) the application date, and the
window is

* 杭政办函〔2022〕70号 二(二): the 6 months before identification,
  ``[valid_from − 6 months, valid_from)``;
* 聊城实施方案 四(一): from 12 months before the application month up to the
  identification, ``[first day of applied_on's month − 12 months, valid_from)``.

Where a look-back joins the identification's natural year (聊城: "一次身份认定享受一个
医疗年度（即自然年度）的救助待遇和救助限额"), the assistance tiers of a look-back claim
count in that year's accumulators (one deductible, one cap), even when the claim
falls in the previous calendar year, and the identification covers no later year.

A look-back belongs to an identification made while the policy is in force, and it
may reach before the policy's first day (聊城实施方案 of 2022-12-27, an application
in March 2023: costs from March 2022).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from jiuzhu.domain.claims import CategorySpan, Claim
from jiuzhu.domain.policy.model import LookBack, Policy
from jiuzhu.domain.vocabulary import Category


@dataclass(frozen=True, slots=True)
class Held:
    """A category a claim may be settled under, and how it came to hold it."""

    category: Category
    period_year: int
    """The year whose accumulators the assistance tiers use (the claim's own, usually)."""
    look_back: LookBack | None = None
    """Set when the claim is covered only by the look-back window of an identification."""
    identified_on: dt.date | None = None
    window_start: dt.date | None = None


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier, clamped to the month's end (8-31 − 6 → 2-28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def window_start(look_back: LookBack, span: CategorySpan) -> dt.date | None:
    """The first day a look-back reaches back to (None: the span gives no identification)."""
    if span.valid_from is None:
        return None
    if look_back.counts_from == "application_month":
        applied = span.applied_on or span.valid_from
        return months_before(applied.replace(day=1), look_back.months)
    return months_before(span.valid_from, look_back.months)


def _in_force(span: CategorySpan, look_back: LookBack | None, day: dt.date) -> bool:
    if not span.valid_on(day):
        return False
    if look_back is None or look_back.period != "identification_year":
        return True
    # One identification, one natural year of benefits.
    return span.valid_from is None or day.year == span.valid_from.year


def held_on(policy: Policy, claim: Claim, day: dt.date) -> list[Held]:
    """Every category ``claim`` holds on ``day``, at most one entry per category."""
    looks = policy.categories.look_backs
    out: dict[Category, Held] = {}
    for span in claim.categories:
        lb = looks.get(span.category)
        if _in_force(span, lb, day):
            out[span.category] = Held(span.category, day.year)
            continue
        if lb is None or span.category in out:
            continue
        start = window_start(lb, span)
        if start is None or span.valid_from is None or not start <= day < span.valid_from:
            continue
        if not policy.in_force(span.valid_from):
            continue  # an identification made under another policy's period
        year = span.valid_from.year if lb.period == "identification_year" else day.year
        out[span.category] = Held(span.category, year, lb, span.valid_from, start)
    return list(out.values())
