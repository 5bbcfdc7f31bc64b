"""核定救助金额: the amount of an application, computed by the engine, never by hand.

What the kind decides says how (``ApplicationKind.decides``):

- **identification** of a category (聊城实施方案 四(一) 因病致贫重病患者, 杭政办函〔2022〕70号
  二(二) 支出型): the category from the identification date (``identified_on``, by default
  the day of the review; the application date is the ``applied_on`` a look-back counts
  from), with its look-back; the person's stored claims from the window's first day on are
  settled again (``resettle.plan``), across two calendar years where 聊城's benefit period
  reaches back, and the amount is what that pays more;
- a **benefit** the desk does not pay (杭州 特殊救助, 福建 一次性救助, 山西 住院救助 by
  application and for care out of area without 备案): the claims the reviewer selects,
  each with the reasonable cost accepted where the benefit counts on it (``accepted``;
  none: all that is left), are settled again with the approval;
- **scattered_reimbursement** (零星报销): the bill, settled as the desk would on the
  person's accumulators as they stand.

The review stores the result (``Assessment``: the plan per claim and benefit, the
explanation, and a fingerprint); the approval computes it again under the person's lock
and pays it only if it is the same (``approval``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiuzhu.domain.claims import CategorySpan
from jiuzhu.domain.engine.eligibility import window_start
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.policy.model import BaseKind
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.storage.models import (
    ApiClient,
    Application,
    Assessment,
    ClaimReview,
    Reversal,
    SettlementRecord,
)
from jiuzhu.usecases import resettle
from jiuzhu.usecases.applications import Step, opinion_of, step
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.settle import lock
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import GRANT

GRANT_ZH = "大病关怀救助"


@dataclass
class Computed:
    """What an application pays, and how it was reached."""

    amount_fen: int
    lines: list[dict[str, Any]]
    basis: str
    identified_on: dt.date | None = None
    span: dict[str, Any] | None = None
    window_start: dt.date | None = None
    selections: list[dict[str, Any]] = field(default_factory=list)
    plan: resettle.Plan | None = None
    reviews: dict[int, list[resettle.Review]] = field(default_factory=dict)
    bill: Any = None
    """``scattered.BillSettled`` for a 零星报销."""

    def plan_json(self) -> list[dict[str, Any]]:
        if self.plan is not None:
            return self.plan.as_json()
        if self.bill is not None:
            return [{"bill": self.bill.result.to_json()}]
        return []


def _zh(key: str) -> str:
    return GRANT_ZH if key == GRANT else Benefit(key).zh


def _hospitals(session: Session, plan: resettle.Plan) -> dict[int, str]:
    ids = {c.rec.client_id for c in plan.claims}
    rows = session.execute(select(ApiClient.id, ApiClient.name).where(ApiClient.id.in_(ids)))
    return {i: n for i, n in rows}


def plan_lines(
    session: Session, plan: resettle.Plan, cause: str, *, selected: set[int] | None = None
) -> list[dict[str, Any]]:
    """Per claim that changes (and per claim selected), each benefit's change with the
    engine's own lines for it: what a reviewer checks by hand."""
    names = _hospitals(session, plan)
    out = []
    for c in plan.claims:
        if not c.changes and (selected is None or c.rec.seq not in selected):
            continue
        changes = []
        for key, (before, after) in sorted(c.changes.items()):
            changes.append(
                {
                    "benefit": key,
                    "benefit_zh": _zh(key),
                    "before": format_yuan(before),
                    "after": format_yuan(after),
                    "delta": format_yuan(after - before),
                    "lines": resettle.change_lines(key, before, after, c.result, cause),
                }
            )
        category = next((ln for ln in c.result.lines if ln.benefit == "category"), None)
        out.append(
            {
                "claim_id": c.claim_ref,
                "settlement_id": c.rec.public_id,
                "settlement_date": c.settlement_date.isoformat(),
                "hospital": names.get(c.rec.client_id, ""),
                "category": "" if category is None else category.text,
                "changes": changes,
                "unchanged": [] if c.changes else [ln.to_json() for ln in c.result.lines],
            }
        )
    return out


def _years(session: Session, person_id: int, first: int, last: int) -> set[int]:
    latest = session.scalar(
        select(func.max(SettlementRecord.year)).where(SettlementRecord.person_id == person_id)
    )
    return set(range(first, max(last, latest or last) + 1))


# -- identification ----------------------------------------------------------------------


def identification(s: Step, identified_on: dt.date | None) -> Computed:
    kind, app, policy = s.kind, s.app, s.store.compiled.policy
    assert kind.category is not None
    day = identified_on or s.today
    problems = []
    if day > s.today:
        problems.append(f"认定日期 {day} 晚于今天（北京时间 {s.today}）")
    if day < app.received_on:
        problems.append(f"认定日期 {day} 早于申请日期 {app.received_on}")
    if not policy.in_force(day):
        problems.append(f"认定日期 {day} 不在政策 {policy.id} 的有效期内")
    if problems:
        raise Refused.many(Kind.invalid, [("identified_on", p) for p in problems])
    lb = policy.categories.look_backs.get(kind.category)
    span: dict[str, Any] = {"category": kind.category.value, "valid_from": day.isoformat()}
    span["valid_to"] = (
        dt.date(day.year, 12, 31).isoformat()
        if lb is not None and lb.period == "identification_year"
        else None
    )
    if lb is not None:
        span["applied_on"] = app.received_on.isoformat()
    start = day
    if lb is not None:
        start = window_start(lb, CategorySpan(kind.category, day, None, app.received_on)) or day
    lock(s.store, s.session.connection(), app.person_id)
    years = _years(s.session, app.person_id, start.year, day.year)
    plan = resettle.plan(
        s.store, s.session, app.person_id, years, from_date=start, extra_spans=[span]
    )
    cause = identification_cause(s, day, start)
    lines = plan_lines(s.session, plan, cause)
    return Computed(
        plan.delta(),
        lines,
        plan.fingerprint(),
        identified_on=day,
        span=span,
        window_start=start,
        plan=plan,
    )


def identification_cause(s: Step, day: dt.date, start: dt.date) -> str:
    kind = s.kind
    assert kind.category is not None
    text = f"申请 {s.app.number} 认定为{kind.category.zh}（自 {day} 起"
    if start < day:
        text += f"，追溯自 {start}"
    return text + f"；{kind.clause}）"


# -- a benefit on review -----------------------------------------------------------------


def benefit(s: Step, items: list[Any]) -> Computed:
    kind, app = s.kind, s.app
    assert kind.benefit is not None
    b = kind.benefit
    on_cost = s.store.compiled.benefits[b].base is BaseKind.reasonable_cost
    errors: list[tuple[str, str]] = []
    chosen: list[tuple[SettlementRecord, int | None, str]] = []
    seen: set[str] = set()
    if not items:
        errors.append(
            ("claims", f"须选择经审核批准{b.zh}的结算（claims：settlement_id，accepted）")
        )
    for i, raw in enumerate(items):
        f = Fields(raw, ("settlement_id", "accepted"), f"claims[{i}]")
        sid = f.text("settlement_id", required=True, max_length=40, what="结算编号", mask=False)
        accepted = f.money("accepted", what="审核认定的合理医疗费用")
        if accepted is not None and not on_cost:
            f.fail(
                "accepted",
                f"{b.zh}按结算的费用计算，不填写审核认定的合理医疗费用（只有以合理医疗费用为基数的待遇才填）",
            )
        errors.extend(f.errors)
        if not sid or f.errors:
            continue
        if sid in seen:
            errors.append((f.path("settlement_id"), f"结算 {sid} 重复选择"))
            continue
        seen.add(sid)
        rec = s.session.scalar(select(SettlementRecord).where(SettlementRecord.public_id == sid))
        why = _not_selectable(s.session, s.store, app, rec, b)
        if why:
            errors.append((f.path("settlement_id"), f"结算 {sid}：{why}"))
            continue
        assert rec is not None
        chosen.append((rec, accepted, sid))
    if errors:
        raise Refused.many(Kind.invalid, errors)
    reviews = {
        rec.seq: [
            {
                "benefit": b.value,
                "accepted": None if accepted is None else format_yuan(accepted),
                "application": app.number,
            }
        ]
        for rec, accepted, _sid in chosen
    }
    lock(s.store, s.session.connection(), app.person_id)
    years = {rec.year for rec, _a, _sid in chosen}
    plan = resettle.plan(s.store, s.session, app.person_id, years, extra_reviews=reviews)
    cause = f"申请 {app.number} 经审核批准{b.zh}（{kind.clause}）"
    lines = plan_lines(s.session, plan, cause, selected={rec.seq for rec, _a, _s in chosen})
    selections = [
        {
            "settlement_id": sid,
            "settlement_seq": rec.seq,
            "accepted": None if accepted is None else format_yuan(accepted),
        }
        for rec, accepted, sid in chosen
    ]
    return Computed(
        plan.delta(), lines, plan.fingerprint(), selections=selections, plan=plan, reviews=reviews
    )


def _not_selectable(
    session: Session, store: Store, app: Application, rec: SettlementRecord | None, b: Benefit
) -> str | None:
    if rec is None or rec.person_id != app.person_id:
        return "不是申请人的结算"
    if rec.policy_id != store.policy_id:
        return f"按政策 {rec.policy_id} 结算，不属本申请的政策"
    if session.scalar(select(Reversal.id).where(Reversal.settlement_seq == rec.seq)):
        return "已撤销"
    earlier = session.scalar(
        select(Application.number)
        .join(ClaimReview, ClaimReview.application_id == Application.id)
        .where(ClaimReview.settlement_seq == rec.seq, ClaimReview.benefit == b.value)
    )
    if earlier is not None:
        return f"{b.zh}已由申请 {earlier} 批准"
    return None


# -- 零星报销 -----------------------------------------------------------------------------


def scattered(s: Step) -> Computed:
    from jiuzhu.domain.engine.reference import ASSISTANCE
    from jiuzhu.usecases.scattered import paid_by_assistance, settle_bill

    done = settle_bill(s.store, s.session, s.app)
    result = done.result.to_json()
    amount = paid_by_assistance(result)
    issuer = str((s.app.bill or {}).get("issuer", ""))
    assistance = {b.value for b in ASSISTANCE} | {GRANT}
    paid_lines = [ln for ln in done.result.lines if ln.benefit in assistance]
    changes = [
        {
            "benefit": ln.benefit,
            "benefit_zh": _zh(ln.benefit),
            "before": "0.00",
            "after": format_yuan(ln.amount),
            "delta": format_yuan(ln.amount),
            "lines": [ln.to_json()],
        }
        for ln in paid_lines
    ]
    others = [
        ln.to_json()
        for ln in done.result.lines
        if ln.benefit not in assistance and ln.benefit not in ("category", "policy")
    ]
    category = next((ln for ln in done.result.lines if ln.benefit == "category"), None)
    lines = [
        {
            "claim_id": done.claim.claim_id,
            "settlement_id": "",
            "settlement_date": done.claim.settlement_date.isoformat(),
            "hospital": issuer,
            "category": "" if category is None else category.text,
            "changes": changes,
            "unchanged": others,
        }
    ]
    basis = hashlib.sha256(
        json.dumps(result, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return Computed(amount, lines, basis, bill=done)


# -- the use case ------------------------------------------------------------------------


def compute(s: Step, identified_on: dt.date | None, items: list[Any]) -> Computed:
    decides = s.kind.decides
    if decides != "identification" and identified_on is not None:
        raise Refused(Kind.invalid, "identified_on", "只有认定类申请填写认定日期")
    if decides != "benefit" and items:
        raise Refused(Kind.invalid, "claims", "只有待遇类申请选择结算（claims）")
    if decides == "identification":
        return identification(s, identified_on)
    if decides == "benefit":
        return benefit(s, items)
    return scattered(s)


def assess(store: Store, caller: Any, public_id: str, data: Any) -> str:
    """核定救助金额 (县级审核): compute the amount and keep it with its explanation; may be
    done again (the latest counts) until the review is passed on."""
    f = Fields(data, ("version", "opinion", "identified_on", "claims"))
    opinion = opinion_of(f)
    identified_on = f.date("identified_on", what="认定日期")
    items = f.items("claims", what="所选结算")
    f.done()

    def work(s: Step) -> None:
        s.check_action("assess")
        done = compute(s, identified_on, items)
        if done.amount_fen < 0:
            raise Refused(
                Kind.conflict,
                "assessment",
                f"按此核定应追回 {format_yuan(-done.amount_fen)} 元，"
                "不能作为救助批准：请核查此人的结算",
            )
        s.session.add(
            Assessment(
                application_id=s.app.id,
                amount_fen=done.amount_fen,
                identified_on=done.identified_on,
                selections=done.selections,
                plan=done.plan_json(),
                lines=done.lines,
                basis=done.basis,
                computed_by=s.caller.name,
                computed_on=s.today,
            )
        )
        s.session.flush()
        s.details = {"amount": format_yuan(done.amount_fen), "claims": len(done.lines)}
        s.act("assess", opinion)

    return step(store, caller, public_id, data, work)
