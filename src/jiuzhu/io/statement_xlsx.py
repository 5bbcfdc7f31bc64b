"""Settlement statements (结算单) as a workbook, formatted by ``io/xlsx`` like every table
the project writes: one worksheet per claim (its costs, every tier, the personal burden
in three parts, the explanation's lines), and for a person's year a summary worksheet
of the year's claims with a 合计 row, before the claims' own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.statement import (
    ClaimStatement,
    YearStatement,
    dates_words,
    printed_at,
    visit_words,
)
from jiuzhu.domain.vocabulary import GRANT_ZH, Benefit
from jiuzhu.io.statement_files import LINE_NAMES
from jiuzhu.io.xlsx import Column, Sheet, Value, write_xlsx, yuan

SPLIT_NOTE = (
    "个人负担 = 医疗总费用 − 各项支付合计；各项支付先抵政策范围内费用，再抵先行自付，最后抵全自费。"
)
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


class _Names:
    """Worksheet names: at most 31 characters, none of ``[]:*?/\\``, each used once."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, wanted: str) -> str:
        base = _BAD_NAME.sub("_", wanted)[:31] or "结算单"
        name, n = base, 1
        while name in self.used:
            n += 1
            suffix = f"~{n}"
            name = base[: 31 - len(suffix)] + suffix
        self.used.add(name)
        return name


def claim_sheet(s: ClaimStatement, policy: Policy, name: str, printed: str) -> Sheet:
    c, st = s.claim, s.settlement
    tiers: list[list[Value]] = [[t.name, yuan(t.amount), None, t.clause or None] for t in s.tiers]
    rows: list[list[Value]] = [
        ["医疗总费用", yuan(c.total), None, None],
        ["  其中：全自费（政策范围外费用）", yuan(c.full_self_pay), None, None],
        ["  先行自付（乙类先行自付）", yuan(c.partial_self_pay), None, None],
        ["  政策范围内费用", yuan(c.policy_scope), None, None],
        *tiers,
        ["各项支付合计", yuan(s.paid), None, None],
        ["个人负担", yuan(st.personal), None, None],
        ["  其中：全自费", yuan(s.personal.full_self_pay), None, None],
        ["  先行自付", yuan(s.personal.partial_self_pay), None, None],
        ["  政策范围内个人负担", yuan(s.personal.policy_scope), None, None],
    ]
    if s.grant:
        rows.append([f"{GRANT_ZH}（直接发放给本人，不冲抵医疗费用）", yuan(s.grant), None, None])
    for line in s.lines:
        text = line.text + (f"\n{line.formula}" if line.formula else "")
        amount = None if line.benefit == "category" else yuan(line.amount)
        rows.append(
            [f"计算依据：{LINE_NAMES.get(line.benefit, line.benefit)}", amount, text, line.clause]
        )
    return Sheet(
        name,
        [
            Column("项目"),
            Column("金额（元）", "money"),
            Column("说明与计算过程", "wrap"),
            Column("条款"),
        ],
        rows,
        title=[
            "医疗救助“一站式”结算单",
            f"{policy.name}（{policy.id}）",
            f"单据号 {c.claim_id}　参保人 {mask_id(c.person_id)}　{visit_words(c)}　"
            f"就医日期 {dates_words(c)}　转诊 {'是' if c.referred else '否'}",
            f"适用救助对象类别：{st.category.zh}",
            *[f"类别依据：{source}" for source in s.category_source],
        ],
        notes=[s.split_rule, f"打印时间：{printed}"],
        landscape=False,
    )


def year_sheet(y: YearStatement, policy: Policy, name: str, printed: str) -> Sheet:
    keys = [k for k, _ in y.tier_names]
    columns = [
        Column("结算日期", "date"),
        Column("单据号"),
        Column("就医类型"),
        Column("医疗总费用", "money", total=True),
        *[Column(label, "money", total=True) for _, label in y.tier_names],
        Column("个人负担", "money", total=True),
        Column("其中：全自费", "money", total=True),
        Column("先行自付", "money", total=True),
        Column("政策范围内个人负担", "money", total=True),
    ]
    rows: list[list[Value]] = [
        [
            s.claim.settlement_date,
            s.claim.claim_id,
            visit_words(s.claim),
            yuan(s.claim.total),
            *[yuan(s.settlement.amount(Benefit(k))) for k in keys],
            yuan(s.settlement.personal),
            yuan(s.personal.full_self_pay),
            yuan(s.personal.partial_self_pay),
            yuan(s.personal.policy_scope),
        ]
        for s in y.claims
    ]
    notes = [next((s.split_rule for s in y.claims if s.spread), SPLIT_NOTE)]
    if y.grant:
        notes.insert(0, f"{GRANT_ZH}（另行发放）：{yuan(y.grant)} 元")
    return Sheet(
        name,
        columns,
        rows,
        title=[
            "医疗救助年度结算汇总单",
            f"{policy.name}（{policy.id}）　{y.year}年度",
            f"参保人 {mask_id(y.person_id)}　结算 {len(y.claims)} 笔　"
            f"结算时适用类别：{'、'.join(y.categories)}",
        ],
        notes=[*notes, f"打印时间：{printed}"],
        landscape=True,
    )


def write_xlsx_statements(
    out: Path,
    policy: Policy,
    claims: Sequence[ClaimStatement],
    years: Sequence[YearStatement],
    *,
    now: dt.datetime,
) -> None:
    printed = printed_at(now)
    names = _Names()
    sheets: list[Sheet] = []
    for y in years:
        sheets.append(year_sheet(y, policy, names(f"{y.year}年度汇总"), printed))
        sheets += [claim_sheet(s, policy, names(s.claim.claim_id), printed) for s in y.claims]
    sheets += [claim_sheet(s, policy, names(s.claim.claim_id), printed) for s in claims]
    write_xlsx(out, sheets)
