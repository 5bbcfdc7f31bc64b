"""县级审核、审批 and 支付: the county passes the computed amount on, approves it (or
refuses, with the township's written notice), and the payment is recorded.

Approval pays exactly what the review computed (``Assessment``): under the person's lock
the amount is computed again from the review's own inputs (the identification date, the
claims selected and the costs accepted, the bill), and if the person's stored claims have
changed since (a new claim, a reversal) the approval is refused, to be reviewed again;
nothing is paid that nobody reviewed. Then, in the approval's one transaction:

- an identification adds the registry membership (from the identification date, with the
  application date, until the end of the identification's natural year where the kind's
  look-back keeps to it) and writes the re-settlement's adjustments (补付);
- a benefit records the approvals of the claims selected (``claim_reviews``, never the
  claims themselves) and writes the re-settlement's adjustments;
- a 零星报销 becomes a stored claim and its settlement;
- a payment instruction (to the person's account, or to each hospital where the kind pays
  hospitals) with the explanation, and the approval notice, numbered per county and year.

An approval is one step on one version: two approvers at once, one goes through and the
other is told (``applications.bump``); a repeat finds the application no longer awaiting
approval. Nobody approves what they submitted, investigated or reviewed (``not_own_case``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jiuzhu.domain.clock import chinese_date
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan, yuan_in_words
from jiuzhu.domain.workflow import State
from jiuzhu.storage.models import (
    ApiClient,
    Assessment,
    CategoryMembership,
    ClaimReview,
    Payment,
    PaymentInstruction,
    Person,
    Publicity,
)
from jiuzhu.usecases import resettle
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.applications import (
    Step,
    latest_assessment,
    mask_account,
    opinion_of,
    simple,
    step,
    workflow,
)
from jiuzhu.usecases.assessment import Computed, identification_cause
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.notices import (
    APPROVAL_TITLE,
    county_issuer,
    issue,
    refuse_with_notice,
)
from jiuzhu.usecases.unit import Store

review = simple("review")
return_to_township = simple("return_to_township")
return_to_review = simple("return_to_review")


def refuse(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """县级不予救助, with the township's written notice (附件5)."""
    return refuse_with_notice(store, caller, public_id, data, "refuse")


# -- approve -----------------------------------------------------------------------------


def recompute(s: Step, a: Assessment) -> Computed:
    """The review's computation again, from its own inputs, now."""
    from jiuzhu.usecases import assessment

    decides = s.kind.decides
    if decides == "identification":
        return assessment.identification(s, a.identified_on)
    if decides == "benefit":
        items = [
            {
                "settlement_id": x["settlement_id"],
                **({"accepted": x["accepted"]} if x["accepted"] else {}),
            }
            for x in a.selections
        ]
        return assessment.benefit(s, items)
    return assessment.scattered(s)


def _publicity(f: Fields, today: dt.date) -> tuple[dt.date, dt.date, str]:
    days = workflow().deadlines[State.result_publicity].days
    start = f.date("publicity_start", what="结果公示开始日期") or today
    end = f.date("publicity_end", what="结果公示截止日期") or start + dt.timedelta(days=days - 1)
    place = f.text("publicity_place", max_length=200, what="公示地点") or "县级医疗保障部门公示栏"
    if end < start:
        f.fail("publicity_end", "公示截止日期早于开始日期")
    return start, end, place


def approve(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """县级审批通过: pay what the review computed (see module)."""
    f = Fields(data, ("version", "opinion", "publicity_start", "publicity_end", "publicity_place"))
    opinion = opinion_of(f)
    start, end, place = _publicity(f, store.today())
    f.done()

    def work(s: Step) -> None:
        a = latest_assessment(s.session, s.app)
        with_publicity = State.result_publicity in s.kind.states
        transition = "approve" if with_publicity else "approve_without_publicity"
        s.details = {"amount": None if a is None else format_yuan(a.amount_fen)}
        s.take(transition, opinion)
        assert a is not None  # the table's amount_computed guard
        done = recompute(s, a)
        if done.basis != a.basis or done.amount_fen != a.amount_fen:
            raise Refused(
                Kind.conflict,
                "assessment",
                f"自 {a.computed_on} 核定以来，此人的结算已有变化"
                f"（核定 {format_yuan(a.amount_fen)} 元，"
                f"现按同样依据应为 {format_yuan(done.amount_fen)} 元）：核定金额不再成立，"
                "请退回县级审核重新核定",
            )
        paid = _pay_out(s, done, a)
        if with_publicity:
            s.session.add(
                Publicity(
                    application_id=s.app.id,
                    stage="result",
                    starts_on=start,
                    ends_on=end,
                    place=place,
                    recorded_by=s.caller.name,
                )
            )
        notice = approval_notice(s, a, done, paid, (start, end, place) if with_publicity else None)
        s.details = {"notice": notice.values["number_text"], "amount": format_yuan(a.amount_fen)}
        s.act("notice", f"出具{APPROVAL_TITLE} {notice.values['number_text']}")

    return step(store, caller, public_id, data, work)


def _cause(s: Step, done: Computed) -> resettle.Cause:
    if s.kind.decides == "identification":
        assert done.identified_on is not None and done.window_start is not None
        text = identification_cause(s, done.identified_on, done.window_start)
        return resettle.Cause("identification", s.app.number, text)
    assert s.kind.benefit is not None
    text = f"申请 {s.app.number} 经审核批准{s.kind.benefit.zh}（{s.kind.clause}）"
    return resettle.Cause("application", s.app.number, text)


def _pay_out(s: Step, done: Computed, a: Assessment) -> list[PaymentInstruction]:
    """Write what the approval decides, and the payment instructions."""
    app = s.app
    by_client: dict[int | None, int] = {}
    if s.kind.decides == "scattered_reimbursement":
        from jiuzhu.usecases.scattered import settling_client, store_bill

        store_bill(s.store, s.session, app, done.bill, settling_client(s.session, s.caller))
        by_client[None] = done.amount_fen
    else:
        assert done.plan is not None
        if s.kind.decides == "identification":
            assert done.span is not None and done.identified_on is not None
            valid_to = done.span["valid_to"]
            same = s.session.scalar(
                select(CategoryMembership.id).where(
                    CategoryMembership.person_id == app.person_id,
                    CategoryMembership.category == done.span["category"],
                    CategoryMembership.valid_from == done.identified_on,
                )
            )
            if same is None:  # else the registry holds it from that day already
                s.session.add(
                    CategoryMembership(
                        person_id=app.person_id,
                        category=done.span["category"],
                        valid_from=done.identified_on,
                        valid_to=None if valid_to is None else dt.date.fromisoformat(valid_to),
                        source_kind="application",
                        applied_on=app.received_on if "applied_on" in done.span else None,
                        source_application=app.number,
                    )
                )
        else:
            for seq, items in done.reviews.items():
                for r in items:
                    s.session.add(
                        ClaimReview(
                            application_id=app.id,
                            settlement_seq=seq,
                            person_id=app.person_id,
                            benefit=r["benefit"],
                            accepted_fen=None if r["accepted"] is None else _fen(r["accepted"]),
                            approved_by=s.caller.name,
                        )
                    )
        s.session.flush()
        year = min(done.plan.years) if done.plan.years else app.year
        resettle.write(
            s.store, s.session, done.plan, year, _cause(s, done), s.caller.name,
            from_date=done.window_start,
        )  # fmt: skip
        for c in done.plan.changed:
            key = c.rec.client_id if s.kind.payee == "hospital" else None
            by_client[key] = by_client.get(key, 0) + sum(a_ - b_ for b_, a_ in c.changes.values())
        if not by_client:
            by_client[None] = 0
    names = dict(
        s.session.execute(
            select(ApiClient.id, ApiClient.name).where(
                ApiClient.id.in_([k for k in by_client if k is not None])
            )
        ).all()
    )
    out = []
    for client, amount in sorted(by_client.items(), key=lambda kv: kv[0] or 0):
        row = PaymentInstruction(
            application_id=app.id,
            payee_kind="person" if client is None else "hospital",
            payee_name=app.applicant_name if client is None else names.get(client, ""),
            client_id=client,
            amount_fen=amount,
            lines=a.lines,
            created_by=s.caller.name,
        )
        s.session.add(row)
        out.append(row)
    s.session.flush()
    return out


def _fen(yuan: str) -> int:
    from jiuzhu.domain.money import parse_yuan

    return parse_yuan(yuan)


def approval_notice(
    s: Step,
    a: Assessment,
    done: Computed,
    paid: list[PaymentInstruction],
    publicity: tuple[dt.date, dt.date, str] | None,
) -> Any:
    app, kind = s.app, s.kind
    person = s.session.get(Person, app.person_id)
    assert person is not None
    if kind.decides == "identification":
        assert kind.category is not None and done.identified_on is not None
        decision = (
            f"经审核审批，认定你为{kind.category.zh}，自 {chinese_date(done.identified_on)} 起"
        )
        if done.span and done.span.get("valid_to"):
            decision += f"至 {chinese_date(dt.date.fromisoformat(done.span['valid_to']))} 止"
        decision += "享受医疗救助待遇"
        if done.window_start and done.window_start < done.identified_on:
            decision += (
                f"；{chinese_date(done.window_start)} 以来已结算的医疗费用按认定后的待遇重新计算，"
                "差额予以补付"
            )
    elif kind.decides == "benefit":
        assert kind.benefit is not None
        decision = f"经审核审批，对你所申请的 {len(a.selections)} 笔医疗费用给予{kind.benefit.zh}"
    else:
        decision = "经审核审批，你的医疗费用零星报销申请符合条件，按规定结算报销"
    values = {
        "title": APPROVAL_TITLE,
        "applicant": app.applicant_name,
        "id_number": mask_id(person.id_number),
        "application_number": app.number,
        "kind_name": kind.name,
        "received_on": chinese_date(app.received_on),
        "decision": decision,
        "amount": format_yuan(a.amount_fen),
        "amount_words": yuan_in_words(max(0, a.amount_fen)),
        "lines": a.lines,
        "payees": [
            {
                "name": p.payee_name,
                "kind": "本人账户" if p.payee_kind == "person" else "医疗机构",
                "amount": format_yuan(p.amount_fen),
                "account": mask_account(app.account) if p.payee_kind == "person" else None,
            }
            for p in paid
        ],
        "publicity": None
        if publicity is None
        else {
            "start": chinese_date(publicity[0]),
            "end": chinese_date(publicity[1]),
            "place": publicity[2],
        },
        "clause": kind.clause,
        "procedure_clause": workflow().transitions["approve"].clause,
        "issuer": county_issuer(app.district_code),
        "issued_on": chinese_date(s.today),
        "issued_on_iso": s.today.isoformat(),
    }
    return issue(s.session, app, "approval", app.district_code, s.today, values, s.caller.name)


# -- 支付 ----------------------------------------------------------------------------------


def pay(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """支付: the payment instructions carried out (the account paid into, the voucher)."""
    from jiuzhu.usecases.applications import account_of

    f = Fields(data, ("version", "opinion", "voucher", "paid_on", "account"))
    opinion = opinion_of(f)
    voucher = f.text("voucher", required=True, max_length=64, what="支付凭证号", mask=False)
    paid_on = f.date("paid_on", what="支付日期", not_after=store.today()) or store.today()
    given = account_of(f)
    f.done()

    def work(s: Step) -> None:
        rows = list(
            s.session.scalars(
                select(PaymentInstruction).where(PaymentInstruction.application_id == s.app.id)
            )
        )
        if s.app.state == State.payment.value:
            account = given or s.app.account
            for row in rows:
                if row.payee_kind == "person" and account is None:
                    raise Refused(
                        Kind.invalid, "account", "须填写收款账户（account：户名、开户行、账号）"
                    )
                s.session.add(
                    Payment(
                        instruction_id=row.id,
                        account=account
                        if row.payee_kind == "person"
                        else {"holder": row.payee_name},
                        voucher=voucher,
                        paid_on=paid_on,
                        paid_by=s.caller.name,
                    )
                )
            s.session.flush()
        s.details = {"voucher": voucher, "amount": format_yuan(sum(r.amount_fen for r in rows))}
        s.take("pay", opinion)

    return step(store, caller, public_id, data, work)
