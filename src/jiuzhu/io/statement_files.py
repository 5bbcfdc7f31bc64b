"""Settlement statements (结算单) as files: PDF and HTML (``io/documents.py``), XLSX.

The statements come computed (``domain/statement.py``); this module only formats them:
yuan with two decimals from fen, dates, Chinese names, the person's ID number masked,
and the explanation's lines as the engine words them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.statement import (
    ClaimStatement,
    YearStatement,
    dates_words,
    printed_at,
    visit_words,
)
from jiuzhu.domain.vocabulary import BENEFIT_ZH, GRANT_ZH, Benefit
from jiuzhu.io import documents

LINE_NAMES = {b.value: zh for b, zh in BENEFIT_ZH.items()} | {
    "category": "救助对象类别",
    "critical_care_grant": GRANT_ZH,
}
FORMATS = ("pdf", "html", "xlsx")


def _policy_words(policy: Policy) -> str:
    return f"{policy.name}（{policy.id}）"


def _extra(s: ClaimStatement) -> str:
    c = s.claim
    parts = []
    if c.disease:
        parts.append(f"疾病 {c.disease}")
    if c.out_of_area:
        parts.append("异地就医（已备案）" if c.out_of_area_filed else "异地就医（未备案）")
    if c.quota_hospital:
        parts.append("单病种限额付费定点医院")
    if c.late_stage:
        parts.append("病情处于晚期")
    return "；".join(parts)


def claim_view(s: ClaimStatement, policy: Policy) -> dict[str, Any]:
    """One claim's statement as the strings a page shows."""
    c, st = s.claim, s.settlement
    person = mask_id(c.person_id)
    return {
        "running": f"结算单 {c.claim_id}　参保人 {person}",
        "policy": _policy_words(policy),
        "claim_id": c.claim_id,
        "person": person,
        "visit": visit_words(c),
        "dates": dates_words(c),
        "settlement_date": c.settlement_date.isoformat(),
        "referred": "是" if c.referred else "否",
        "extra": _extra(s),
        "category": st.category.zh,
        "category_source": list(s.category_source),
        "total": format_yuan(c.total),
        "full_self_pay": format_yuan(c.full_self_pay),
        "partial_self_pay": format_yuan(c.partial_self_pay),
        "policy_scope": format_yuan(c.policy_scope),
        "tiers": [
            {"name": t.name, "amount": format_yuan(t.amount), "clause": t.clause} for t in s.tiers
        ],
        "paid": format_yuan(s.paid),
        "personal": format_yuan(st.personal),
        "personal_full": format_yuan(s.personal.full_self_pay),
        "personal_partial": format_yuan(s.personal.partial_self_pay),
        "personal_scope": format_yuan(s.personal.policy_scope),
        "split_rule": s.split_rule,
        "grant": format_yuan(s.grant) if s.grant else "",
        "grant_name": f"{GRANT_ZH}（直接发放给本人，不冲抵医疗费用）",
        "lines": [
            {
                "name": LINE_NAMES.get(line.benefit, line.benefit),
                "amount": "" if line.benefit == "category" else format_yuan(line.amount),
                "text": line.text,
                "formula": line.formula or "",
                "clause": line.clause or "",
            }
            for line in s.lines
        ],
    }


def year_view(y: YearStatement, policy: Policy) -> dict[str, Any]:
    person = mask_id(y.person_id)
    keys = [k for k, _ in y.tier_names]
    return {
        "running": f"年度结算汇总单 {y.year}年度　参保人 {person}",
        "policy": _policy_words(policy),
        "year": y.year,
        "person": person,
        "count": len(y.claims),
        "categories": "、".join(y.categories),
        "tier_names": [name for _, name in y.tier_names],
        "rows": [
            {
                "date": s.claim.settlement_date.isoformat(),
                "claim_id": s.claim.claim_id,
                "visit": visit_words(s.claim),
                "total": format_yuan(s.claim.total),
                "tiers": [format_yuan(s.settlement.amount(Benefit(k))) for k in keys],
                "personal": format_yuan(s.settlement.personal),
            }
            for s in y.claims
        ],
        "total": format_yuan(y.total),
        "tier_totals": [format_yuan(y.tier_total(k)) for k in keys],
        "personal": format_yuan(y.personal.total),
        "personal_full": format_yuan(y.personal.full_self_pay),
        "personal_partial": format_yuan(y.personal.partial_self_pay),
        "personal_scope": format_yuan(y.personal.policy_scope),
        "grant": format_yuan(y.grant) if y.grant else "",
        "grant_name": f"{GRANT_ZH}（另行发放）",
        "split_rule": _year_rule(y),
        "claims": [claim_view(s, policy) for s in y.claims],
    }


def _year_rule(y: YearStatement) -> str:
    """The split rule of the year's claims (the one naming 二次医疗救助 if any paid it)."""
    return next((s.split_rule for s in y.claims if s.spread), y.claims[0].split_rule)


def statements_html(
    policy: Policy,
    claims: Sequence[ClaimStatement] = (),
    years: Sequence[YearStatement] = (),
    *,
    now: dt.datetime | None = None,
) -> str:
    """The statements as one HTML document (each on its own page when printed)."""
    when = now or dt.datetime.now(dt.UTC)
    title = "医疗救助年度结算汇总单" if years else "医疗救助“一站式”结算单"
    return documents.render_html(
        "statement.html",
        title=title,
        printed=printed_at(when),
        statements=[claim_view(s, policy) for s in claims],
        years=[year_view(y, policy) for y in years],
    )


def write(
    out: Path,
    fmt: str,
    policy: Policy,
    claims: Sequence[ClaimStatement] = (),
    years: Sequence[YearStatement] = (),
    *,
    now: dt.datetime | None = None,
) -> None:
    """Write the statements to ``out`` as ``fmt`` (pdf, html or xlsx)."""
    if fmt == "xlsx":
        from jiuzhu.io.statement_xlsx import write_xlsx_statements

        write_xlsx_statements(out, policy, claims, years, now=now or dt.datetime.now(dt.UTC))
        return
    html = statements_html(policy, claims, years, now=now)
    if fmt == "pdf":
        documents.write_pdf(html, out)
    else:
        documents.write_html(html, out)
