"""What a settlement statement (结算单) shows: every tier, the personal burden in its three
parts, the category applied and where it came from, and the explanation's lines.

Pure: built from a claim, its settlement and the words that say where the category came
from; the files (PDF, HTML, XLSX) are the edge's (``io/statement_files.py``). One claim
makes a ``ClaimStatement``; a person's claims of one natural year make a
``YearStatement`` with the year's totals.

The personal burden (个人负担 = total − everything paid) is split the way a bill is read:
what a tier computed on the policy-scope cost paid (the insurances, 医疗救助 and every
tier whose base is a policy-scope burden) covers the policy-scope cost first, then the
class-B share paid first (先行自付), and only then the cost outside the catalogue
(全自费). A tier whose base is everything left, out-of-policy cost included (茂名's
二次医疗救助, ``BaseKind.all_left``), then covers what is left of the three parts in
proportion (to the fen, largest remainders first). What is left of each part is the
person's: 政策范围内个人负担, 先行自付, 全自费; the three add up to 个人负担 exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.settlement import Line, Settlement
from jiuzhu.domain.money import Fen
from jiuzhu.domain.policy.model import BaseKind, Policy
from jiuzhu.domain.vocabulary import GRANT_ZH, Benefit

LEVEL_ZH = {1: "一级医院", 2: "二级医院", 3: "三级医院"}

ALWAYS_SHOWN = (
    Benefit.basic_insurance,
    Benefit.critical_illness_insurance,
    Benefit.other_payments,
)
"""The tiers every statement lists, paid or not: the two insurances and other payments."""


@dataclass(frozen=True, slots=True)
class PersonalSplit:
    """个人负担 in its three parts (fen); they add up to the settlement's ``personal``."""

    full_self_pay: Fen
    partial_self_pay: Fen
    policy_scope: Fen

    @property
    def total(self) -> Fen:
        return Fen(self.full_self_pay + self.partial_self_pay + self.policy_scope)

    def __add__(self, other: PersonalSplit) -> PersonalSplit:
        return PersonalSplit(
            Fen(self.full_self_pay + other.full_self_pay),
            Fen(self.partial_self_pay + other.partial_self_pay),
            Fen(self.policy_scope + other.policy_scope),
        )


ZERO_SPLIT = PersonalSplit(Fen(0), Fen(0), Fen(0))


def split_personal(
    claim: Claim, settlement: Settlement, on_all_left: frozenset[Benefit] = frozenset()
) -> PersonalSplit:
    """What the person pays of each part of the bill (see the module's docstring):
    payments cover the policy scope first, then 先行自付, then 全自费; what the benefits in
    ``on_all_left`` paid covers what is then left of the three in proportion."""
    spread = sum(settlement.amount(b) for b in on_all_left)
    paid = settlement.paid() - spread
    left: list[int] = [claim.policy_scope, claim.partial_self_pay, claim.full_self_pay]
    for k in range(3):  # scope first, then 先行自付, then 全自费
        covered = min(paid, left[k])
        left[k] -= covered
        paid -= covered
    for k, share in enumerate(_proportional(spread, left)):
        left[k] -= share
    split = PersonalSplit(Fen(left[2]), Fen(left[1]), Fen(left[0]))
    if split.total != settlement.personal:  # total = the three parts, and paid ≤ total
        raise ValueError(f"{claim.claim_id}: 个人负担拆分不守恒")
    return split


def _proportional(amount: int, parts: Sequence[int]) -> list[int]:
    """``amount`` (≤ the parts' sum) shared in proportion to ``parts``, in whole fen: the
    floors, then one fen more to the parts with the largest remainders (never more than
    a part holds)."""
    whole = sum(parts)
    if amount <= 0 or whole <= 0:
        return [0] * len(parts)
    shares = [amount * p // whole for p in parts]
    order = sorted(range(len(parts)), key=lambda k: (-(amount * parts[k] % whole), k))
    for k in order[: amount - sum(shares)]:
        shares[k] += 1
    return shares


@dataclass(frozen=True, slots=True)
class TierRow:
    """One tier of the statement: what it paid and the clause its explanation line cites."""

    key: str
    name: str
    amount: Fen
    clause: str


def shown_benefits(policy: Policy) -> list[Benefit]:
    """The tiers a statement under ``policy`` lists: the insurances, other payments, and
    every benefit the policy has (a zero is worth showing: it says the tier was tried)."""
    present = set(ALWAYS_SHOWN) | {b for b, _ in policy.benefits.cumulative()}
    if policy.benefits.major_disease_quota is not None:
        present |= {Benefit.major_disease_quota, Benefit.hospital_borne}
    return [b for b in Benefit if b in present]


def _clause_of(lines: Sequence[Line], key: str) -> str:
    return next((line.clause for line in lines if line.benefit == key and line.clause), "")


@dataclass(frozen=True)
class ClaimStatement:
    """The 结算单 of one claim."""

    claim: Claim
    settlement: Settlement
    category_source: tuple[str, ...]
    """Where the category applied came from, in words (a roster row, a certificate, the
    claims file), one entry per membership that was in force."""
    tiers: tuple[TierRow, ...]
    personal: PersonalSplit
    grant: Fen
    spread: tuple[str, ...] = ()
    """The tiers paid on everything left, which cover the three parts in proportion."""

    @property
    def split_rule(self) -> str:
        """How 个人负担 was split, in words (for the statement's note)."""
        rule = "各项支付先抵政策范围内费用，再抵先行自付，最后抵全自费"
        if self.spread:
            rule += f"；{'、'.join(self.spread)}按其余各部分的比例冲抵"
        return f"个人负担 = 医疗总费用 − 各项支付合计；{rule}。"

    @property
    def lines(self) -> list[Line]:
        return self.settlement.lines

    @property
    def paid(self) -> Fen:
        return Fen(sum(t.amount for t in self.tiers))


def on_all_left(policy: Policy) -> frozenset[Benefit]:
    """The policy's benefits computed on everything left, out-of-policy cost included."""
    return frozenset(b for b, ben in policy.benefits.cumulative() if ben.base is BaseKind.all_left)


def claim_statement(
    claim: Claim, settlement: Settlement, policy: Policy, category_source: Iterable[str]
) -> ClaimStatement:
    shown = shown_benefits(policy)
    shown += [b for b in Benefit if b not in shown and settlement.amount(b)]
    tiers = tuple(
        TierRow(b.value, b.zh, settlement.amount(b), _clause_of(settlement.lines, b.value))
        for b in Benefit
        if b in shown
    )
    spread = on_all_left(policy)
    return ClaimStatement(
        claim,
        settlement,
        tuple(category_source),
        tiers,
        split_personal(claim, settlement, spread),
        settlement.critical_care_grant,
        tuple(b.zh for b in Benefit if b in spread and settlement.amount(b)),
    )


@dataclass(frozen=True)
class YearStatement:
    """A person's claims of one natural year, in settlement order, with the year's totals."""

    person_id: str
    year: int
    claims: tuple[ClaimStatement, ...]
    tier_names: tuple[tuple[str, str], ...] = field(default=())
    """(key, Chinese name) of every tier any of the claims lists, in settlement order."""

    @property
    def total(self) -> Fen:
        return Fen(sum(s.claim.total for s in self.claims))

    def tier_total(self, key: str) -> Fen:
        return Fen(sum(t.amount for s in self.claims for t in s.tiers if t.key == key))

    @property
    def personal(self) -> PersonalSplit:
        out = ZERO_SPLIT
        for s in self.claims:
            out = out + s.personal
        return out

    @property
    def grant(self) -> Fen:
        return Fen(sum(s.grant for s in self.claims))

    @property
    def categories(self) -> list[str]:
        """The categories the year's claims were settled under, first use first."""
        seen: dict[str, None] = {}
        for s in self.claims:
            seen.setdefault(s.settlement.category.zh, None)
        return list(seen)


def year_statements(statements: Iterable[ClaimStatement]) -> list[YearStatement]:
    """Group claim statements by person and natural year (settlement date), each year's
    claims in settlement order; people and years in the order they first appear."""
    groups: dict[tuple[str, int], list[ClaimStatement]] = {}
    for s in statements:
        groups.setdefault((s.claim.person_id, s.claim.year), []).append(s)
    out = []
    for (person, year), items in groups.items():
        items.sort(key=lambda s: s.claim.settlement_date)
        keys: dict[str, str] = {}
        for s in items:
            for t in s.tiers:
                keys.setdefault(t.key, t.name)
        order = [b.value for b in Benefit]
        names = tuple(sorted(keys.items(), key=lambda kv: order.index(kv[0])))
        out.append(YearStatement(person, year, tuple(items), names))
    return out


def visit_words(claim: Claim) -> str:
    """住院（二级医院）: the visit as a bill names it."""
    return f"{claim.visit_type.zh}（{LEVEL_ZH.get(claim.hospital_level, '')}）"


def dates_words(claim: Claim) -> str:
    if claim.admission_date == claim.settlement_date:
        return claim.settlement_date.isoformat()
    return f"{claim.admission_date.isoformat()} 至 {claim.settlement_date.isoformat()}"


def grant_words(amount: Fen) -> str:
    return f"{GRANT_ZH}（直接发放给本人，不冲抵本次医疗费用）" if amount else ""


def printed_at(now: dt.datetime) -> str:
    """A time people read: Beijing time, to the minute."""
    beijing = now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return beijing.strftime("%Y年%m月%d日 %H:%M（北京时间）")
