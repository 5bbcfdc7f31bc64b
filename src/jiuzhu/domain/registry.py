"""Which category is in force for a person on a date, which one applies, and why.

Pure rules over a person's memberships (no database): the storage layer loads them,
the CLI and later the API ask here. Dates are inclusive: a membership is in force
from ``valid_from`` through ``valid_to``; ``valid_to`` is ``None`` while it lasts.

晋医保发〔2019〕46号 三(十): a person added by a dynamic adjustment (新识别, 自然增加) is
assisted "从各部门出具动态调整情况证明之日起", so from the change date; one who left
is not assisted "自退出之日起", so the exit date is the first day without it and the
membership's ``valid_to`` is the day before.

"就高不重复": of the categories in force, the one first in the policy's precedence
(``policy.categories.precedence``, most favoured first) applies. At the desk the
settlement engine still tries each category in force and keeps the one paying most
(ADR 4); the precedence decides ties, and it is the answer here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.vocabulary import Category

CLAUSE_CHANGES = "晋医保发〔2019〕46号 三(十)"
CLAUSE_CERTIFICATE_PERIOD = "杭政办函〔2022〕70号 二(二)：持有效期内的证件"


@dataclass(frozen=True)
class Membership:
    """A category held over a period, with where it came from (Chinese, for people)."""

    category: Category
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    """E.g. "动态调整名单 changes.xlsx（校验值 1a2b3c4d…）第5行，新识别"."""
    closed_by: str | None = None
    """The row that ended it (自然减少), with its exit date."""
    by_certificate: bool = False
    """Held by a certificate (杭政办函〔2022〕70号 二(二) "持有效期内…证"): its period is the
    card's, not a roster's dates (晋医保发〔2019〕46号 三(十))."""
    applied_on: dt.date | None = None
    """Identified on application: the application date (a look-back counts from it)."""

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def describe(self) -> str:
        until = f"至{self.valid_to.isoformat()}止" if self.valid_to else "至今有效"
        text = f"{self.category.zh}：自{self.valid_from.isoformat()}起{until}，依据{self.source}"
        if self.closed_by:
            text += f"；终止依据{self.closed_by}"
        return text


@dataclass(frozen=True)
class CategoryAnswer:
    """The registry's answer for one person on one date."""

    person: str
    """The ID number, masked."""
    on: dt.date
    applied: Category
    in_force: tuple[Membership, ...]
    why: tuple[str, ...]


def in_force(memberships: Sequence[Membership], on: dt.date) -> list[Membership]:
    return [m for m in memberships if m.in_force(on)]


def category_on(
    id_number: str,
    memberships: Sequence[Membership],
    on: dt.date,
    precedence: Sequence[Category],
    policy_label: str,
) -> CategoryAnswer:
    """The category that applies on ``on`` under a policy's precedence, with the reasons.

    A category in force that the policy does not assist is named and passed over; with
    none left the person is 普通参保人员 (``ordinary``).
    """
    who = mask_id(id_number)
    held = in_force(memberships, on)
    why: list[str] = []
    if not held:
        why.append("没有有效的救助对象类别，按普通参保人员。")
        past = [m for m in memberships if m.valid_to is not None and m.valid_to < on]
        for m in past:
            rule = (
                CLAUSE_CERTIFICATE_PERIOD
                if m.by_certificate
                else f"{CLAUSE_CHANGES}：自退出之日起不再享受"
            )
            why.append(f"已终止：{m.describe()}（{rule}）。")
        future = [m for m in memberships if m.valid_from > on]
        for m in future:
            rule = (
                CLAUSE_CERTIFICATE_PERIOD
                if m.by_certificate
                else f"{CLAUSE_CHANGES}：自证明出具之日起享受"
            )
            why.append(f"尚未生效：{m.describe()}（{rule}）。")
        return CategoryAnswer(who, on, Category.ordinary, (), tuple(why))

    why.append("有效的类别：")
    why.extend(f"  {m.describe()}" for m in held)
    ranked = sorted(
        {m.category for m in held if m.category in precedence}, key=list(precedence).index
    )
    outside = sorted({m.category for m in held if m.category not in precedence})
    for c in outside:
        why.append(f"政策 {policy_label} 不救助「{c.zh}」，不予适用。")
    if not ranked:
        why.append("没有本政策救助的类别，按普通参保人员。")
        return CategoryAnswer(who, on, Category.ordinary, tuple(held), tuple(why))
    applied = ranked[0]
    if len(ranked) > 1:
        order = "、".join(c.zh for c in ranked)
        why.append(
            f"就高不重复：同时具有 {order}，按政策 {policy_label} 的类别顺序适用"
            f"「{applied.zh}」（结算时仍以待遇最高者为准）。"
        )
    return CategoryAnswer(who, on, applied, tuple(held), tuple(why))
