"""资助参保 (enrolment subsidies): who is subsidised for a year, by how much, who pays.

Pure rules over a person's category memberships (``domain/registry.py``) and a
policy's ``enrolment_subsidy`` section; no database, no files. The CLI loads the
registry and writes the ledger (``io/enrolment_ledger.py``).

- **Which date decides.** A membership counts for a year when it is in force on *any
  day* of the year (1 January to 31 December, clipped to the policy's effective
  period). The premium is a yearly one, and the documents ask for the year's premium of
  people added during the year: 晋医保发〔2019〕46号 三(十) "对于动态调整后，未参加城乡居民基本医疗
  保险的低保对象、特困人员……对其当年参保个人缴费……给予全额救助"; 聊城 聊城实施方案 二(二)
  "重点做好……新增救助对象等特殊人员的参保缴费工作，确保其及时参保、应保尽保". A person who
  leaves during the year keeps the year's subsidy (no document claws it back). The
  registry does not know whether someone added mid-year had already paid (山西 (十):
  "其参保个人缴费资金不退还"); the ledger shows the period so the bureau can check.
- **Amount.** ``full``: the individual premium (个人缴费标准); ``fixed``: the
  schedule's amount, never more than the premium.
- **Several categories (就高不重复).** The most favourable subsidy (the largest amount)
  applies; on a tie, the category first in the policy's precedence
  (``categories.precedence``), then the one listed first in ``enrolment_subsidy``.
- **Split.** Where a schedule has a ``split`` (山西 建档立卡: 省级财政 70%、县级财政 30%),
  each payer's share is exact integer fen and the shares add up to the subsidy:
  cumulative half-up rounding, share_k = round(S × (r_1+…+r_k)) − round(S × (r_1+…+r_{k−1})).
  With two payers this is "the first payer's share rounded half-up, the second gets the
  remainder" (25001 fen at 70/30: 17501 + 7500).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from jiuzhu.domain.money import (
    BP_ONE,
    BasisPoints,
    Fen,
    format_rate,
    format_yuan,
    round_half_up_div,
)
from jiuzhu.domain.policy.model import EnrolmentSubsidy, Policy, SubsidySchedule
from jiuzhu.domain.registry import Membership
from jiuzhu.domain.vocabulary import Category

UNSPLIT = "unsplit"
"""The payer of a schedule without a ``split``: one channel, as the policy names none."""

PAYER_ZH: dict[str, str] = {
    UNSPLIT: "资助资金（不分担）",
    "province": "省级财政",
    "city": "市级财政",
    "county": "县级财政",
}

KIND_ZH: dict[str, str] = {"full": "全额资助", "fixed": "定额资助"}


def payer_zh(payer: str) -> str:
    return PAYER_ZH.get(payer, payer)


@dataclass(frozen=True)
class Share:
    """What one payer bears of a subsidy."""

    payer: str
    rate: BasisPoints
    amount: Fen


@dataclass(frozen=True)
class Subsidy:
    """A person's subsidy for the year, with the category that decided it and why."""

    category: Category
    schedule: str
    kind: Literal["full", "fixed"]
    premium: Fen
    amount: Fen
    shares: tuple[Share, ...]
    clause: str
    assumed: bool
    """The premium or the amount is an assumed value of the policy file."""
    held_from: dt.date
    held_to: dt.date | None
    """The deciding category's memberships in the year: first day, last day (None: open)."""


@dataclass(frozen=True)
class Decision:
    """One person's answer for a year."""

    assisted: tuple[Category, ...]
    """Assisted categories held in the year (policy precedence or a subsidy schedule)."""
    subsidy: Subsidy | None
    why: tuple[str, ...]

    @property
    def counted(self) -> bool:
        """In the rate's denominator."""
        return bool(self.assisted)


def period(year: int, policy: Policy) -> tuple[dt.date, dt.date] | None:
    """The days of ``year`` the policy is in force (None: not in force that year)."""
    start = max(dt.date(year, 1, 1), policy.effective.start)
    end = dt.date(year, 12, 31)
    if policy.effective.end is not None:
        end = min(end, policy.effective.end)
    return (start, end) if start <= end else None


def held_in(memberships: Sequence[Membership], start: dt.date, end: dt.date) -> list[Membership]:
    """Memberships in force on at least one day of ``start..end`` (inclusive)."""
    return [
        m
        for m in memberships
        if m.valid_from <= end and (m.valid_to is None or m.valid_to >= start)
    ]


def schedule_of(
    section: EnrolmentSubsidy, category: Category
) -> tuple[str, SubsidySchedule] | None:
    for key, sched in section.schedules.items():
        if category in sched.categories:
            return key, sched
    return None


def subsidy_amount(schedule: SubsidySchedule, premium: Fen) -> Fen:
    """全额: the premium; 定额: the amount, never more than the premium."""
    if schedule.kind == "full" or schedule.amount is None:
        return premium
    return Fen(min(schedule.amount.value, premium))


def split_amount(amount: Fen, split: dict[str, BasisPoints] | None) -> tuple[Share, ...]:
    """Exact shares that add up to ``amount`` (cumulative half-up rounding, module doc)."""
    if not split:
        return (Share(UNSPLIT, BasisPoints(BP_ONE), amount),)
    shares: list[Share] = []
    cum_rate = 0
    cum_paid = 0
    for payer, rate in split.items():
        cum_rate += rate
        upto = round_half_up_div(amount * cum_rate, BP_ONE)
        shares.append(Share(payer, rate, Fen(upto - cum_paid)))
        cum_paid = upto
    assert cum_paid == amount, "split rates must add up to 100%"
    return tuple(shares)


def payers(section: EnrolmentSubsidy) -> list[str]:
    """Every payer the section names, in order (``unsplit`` first if any schedule has no split)."""
    out: list[str] = []
    if any(s.split is None for s in section.schedules.values()):
        out.append(UNSPLIT)
    for s in section.schedules.values():
        for p in s.split or {}:
            if p not in out:
                out.append(p)
    return out


def decide(memberships: Sequence[Membership], year: int, policy: Policy) -> Decision:
    """Whether and how a person is subsidised for ``year`` under ``policy``."""
    section = policy.enrolment_subsidy
    window = period(year, policy)
    if section is None or window is None:
        return Decision((), None, ("本政策在该年度没有资助参保规定。",))
    start, end = window
    held = held_in(memberships, start, end)
    precedence = list(policy.categories.precedence)
    sched_cats = [c for s in section.schedules.values() for c in s.categories]
    cats = {m.category for m in held}
    assisted = sorted(
        (c for c in cats if c in precedence or c in sched_cats),
        key=lambda c: (
            precedence.index(c) if c in precedence else len(precedence),
            sched_cats.index(c) if c in sched_cats else len(sched_cats),
        ),
    )
    span = f"{start.isoformat()}至{end.isoformat()}"
    why: list[str] = []
    if not assisted:
        why.append(f"{span} 无本政策救助或资助参保的类别，不予资助。")
        return Decision((), None, tuple(why))
    premium = section.premium.value
    options: list[tuple[Fen, int, Category, str, SubsidySchedule]] = []
    for rank, c in enumerate(assisted):
        found = schedule_of(section, c)
        if found is None:
            why.append(f"「{c.zh}」：本政策资助参保规定未列此类别，不由此资助。")
            continue
        key, sched = found
        amount = subsidy_amount(sched, premium)
        options.append((amount, rank, c, key, sched))
        why.append(f"「{c.zh}」：{KIND_ZH[sched.kind]} {format_yuan(amount)} 元。")
    if not options:
        return Decision(tuple(assisted), None, tuple(why))
    amount, _, category, key, sched = min(options, key=lambda o: (-o[0], o[1]))
    if len(options) > 1:
        tie = sum(1 for o in options if o[0] == amount) > 1
        how = "金额相同，按政策类别顺序" if tie else "按资助额最高者"
        why.append(f"就高不重复：{how}适用「{category.zh}」。")
    split = {p: r.value for p, r in sched.split.items()} if sched.split else None
    shares = split_amount(amount, split)
    if split:
        parts = "、".join(
            f"{payer_zh(s.payer)} {format_rate(s.rate)} {format_yuan(s.amount)} 元" for s in shares
        )
        why.append(f"分担：{parts}（按比例累计四舍五入到分，末位承担方取余数）。")
    mine = [m for m in held if m.category is category]
    held_from = min(m.valid_from for m in mine)
    open_ended = any(m.valid_to is None for m in mine)
    held_to = None if open_ended else max(m.valid_to for m in mine if m.valid_to is not None)
    assumed = section.premium.assumed or (
        sched.kind == "fixed" and sched.amount is not None and sched.amount.assumed
    )
    clause = sched.clause or section.clause or ""
    subsidy = Subsidy(
        category=category,
        schedule=key,
        kind=sched.kind,
        premium=premium,
        amount=amount,
        shares=shares,
        clause=clause,
        assumed=assumed or sched.assumed,
        held_from=held_from,
        held_to=held_to,
    )
    return Decision(tuple(assisted), subsidy, tuple(why))


@dataclass(frozen=True)
class Rate:
    """The subsidised-enrolment rate: subsidised ÷ people with an assisted category."""

    subsidised: int
    assisted: int

    @property
    def basis_points(self) -> BasisPoints | None:
        if self.assisted == 0:
            return None
        return BasisPoints(round_half_up_div(self.subsidised * BP_ONE, self.assisted))

    def text(self) -> str:
        bp = self.basis_points
        return "—" if bp is None else f"{bp // 100}.{bp % 100:02d}%"


DENOMINATOR_ZH = (
    "分母：登记中在该年度（政策有效期内）任一日持有本政策所列救助对象类别"
    "或资助参保所列类别的人数；分子：其中获资助参保的人数。"
)


def enrolment_rate(decisions: Sequence[Decision]) -> Rate:
    return Rate(
        subsidised=sum(1 for d in decisions if d.subsidy is not None),
        assisted=sum(1 for d in decisions if d.counted),
    )
