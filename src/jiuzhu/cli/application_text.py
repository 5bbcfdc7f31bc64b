"""An application as a person reads it at a terminal: the summary, the timeline, the
checklist, the home visit, 公示, the amount with every explanation line, payments, notices,
and what the reader may do next. Plain lines (they are searched and pasted), Beijing
dates, ID numbers masked already by the use cases, money in yuan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiuzhu.usecases.application_views import (
        ApplicationDetail,
        ApplicationSummary,
        AssessmentView,
        InstructionView,
        PublicityView,
        VisitView,
    )

STAGE = {"township": "审核公示", "result": "结果公示"}
PAYEE = {"person": "申请人", "hospital": "医院"}
COMMAND = {
    "accept_for_visit": "accept",
    "accept_for_review": "accept",
    "close_result_publicity": "close-publicity",
    "approve_without_publicity": "approve",
    "attach_document": "attach",
    "record_visit": "visit",
    "record_objection": "objection",
    "record_result_objection": "objection",
    "resolve_result_objection": "resolve-objection",
}
"""The ``jiuzhu application`` command of a transition or action of the table (the
others are the key with hyphens)."""


def command_of(key: str) -> str:
    return COMMAND.get(key, key.replace("_", "-"))


def summary_line(s: ApplicationSummary) -> str:
    """One application of the worklist on one line."""
    due = ""
    if s.due is not None:
        due = f"，期限 {s.due}" + ("（已逾期）" if s.overdue else "")
    return (
        f"{s.number}  {s.applicant_name}  {s.id_number}  {s.kind_name}  {s.township}  "
        f"{s.state_name}（第 {s.version} 版{due}）  申请日期 {s.received_on}  ID {s.public_id}"
    )


def step_line(number: str, d: ApplicationDetail) -> str:
    s = d.summary
    last = d.history[-1] if d.history else None
    what = f"{last.name}，" if last is not None else ""
    return f"申请 {number}：{what}现为“{s.state_name}”（第 {s.version} 版）"


def detail_lines(d: ApplicationDetail) -> list[str]:
    from jiuzhu.domain.clock import beijing_text
    from jiuzhu.domain.money import format_yuan

    s = d.summary
    out = [
        f"申请 {s.number}　{s.kind_name}（{d.clause}）　ID {s.public_id}",
        f"申请人：{s.applicant_name}　身份证号：{s.id_number}　乡镇（街道）：{s.township}"
        f"　申请日期：{s.received_on}",
    ]
    due = "" if s.due is None else f"　期限：{s.due}" + ("（已逾期）" if s.overdue else "")
    closed = "" if s.open else "（已办结）"
    out.append(f"状态：{s.state_name}{closed}　第 {s.version} 版　进入本状态：{s.entered_on}{due}")
    if d.reason:
        out.append(f"事由：{d.reason}")
    if d.account:
        a = d.account
        out.append(f"收款账户：{a.get('holder', '')}　{a.get('bank', '')}　{a.get('number', '')}")
    if d.bill:
        b = d.bill
        out.append(
            f"票据：{b.get('issuer', '')} 发票号 {b.get('bill_number', '')}"
            f"　医疗总费用 {b.get('total', '')} 元"
        )
    out.append("办理经过：")
    for e in d.history:
        opinion = f"：{e.opinion}" if e.opinion else ""
        who = f"{e.role_zh} {e.actor}，{beijing_text(e.at)}"
        out.append(f"  {e.seq}. {e.on_date} {e.name}（{who}）{opinion}")
    out.append("材料清单：")
    for c in d.checklist:
        if not c.uploads:
            out.append(f"  ✗ {c.key} {c.name}：未提交")
            continue
        u = c.uploads[-1]
        out.append(
            f"  ✓ {c.key} {c.name}：{u.file_name}（{u.media_type}，{u.size} 字节，"
            f"校验值 {u.sha256[:12]}…，{u.uploaded_by}；材料 ID {u.public_id}）"
        )
    for v in d.visits:
        out.extend(_visit(v, format_yuan))
    for p in d.publicities:
        out.extend(_publicity(p))
    if d.assessment is not None:
        out.extend(_assessment(d.assessment, format_yuan))
    for i in d.instructions:
        out.extend(_instruction(i, format_yuan))
    for n in d.notices:
        title = n.values.get("title", "")
        out.append(f"告知书：{n.number_text} {title}（{n.issued_on}；告知书 ID {n.public_id}）")
    if d.possible:
        out.append("可办理：" + "、".join(f"{p.name}（{command_of(p.key)}）" for p in d.possible))
    return out


def _visit(v: VisitView, yuan: Any) -> list[str]:
    out = [
        f"入户调查：{v.visited_on}，调查人 {'、'.join(v.investigators)}；"
        f"家庭近12个月总收入 {yuan(v.income_fen)} 元",
    ]
    for m in v.members:
        age = "" if m.age is None else f"，{m.age} 岁"
        health = f"，{m.health}" if m.health else ""
        out.append(f"  成员：{m.name}（{m.relation}{age}{health}，收入 {yuan(m.income_fen)} 元）")
    out.append(f"  财产：{v.assets}")
    out.append(f"  患病情况：{v.illness}")
    out.append(f"  调查意见：{v.opinion}（见证人 {v.witness_name}，{v.witness_title}）")
    return out


def _publicity(p: PublicityView) -> list[str]:
    out = [f"{STAGE.get(p.stage, p.stage)}：{p.starts_on} 至 {p.ends_on}，{p.place}"]
    for o in p.objections:
        if o.upheld is None:
            state = "待处理"
        else:
            state = ("成立" if o.upheld else "不成立") + f"：{o.resolution}（{o.resolved_by}）"
        out.append(f"  异议 {o.public_id}（{o.received_on} 收到）：{o.text}；{state}")
    return out


def _assessment(a: AssessmentView, yuan: Any) -> list[str]:
    identified = f"，认定日期 {a.identified_on}" if a.identified_on else ""
    out = [f"核定救助金额：{yuan(a.amount_fen)} 元（{a.computed_on}，{a.computed_by}{identified}）"]
    for claim in a.lines:
        head = f"  单据 {claim['claim_id']}　{claim['settlement_date']}　{claim['hospital']}"
        out.append(head)
        if claim.get("category"):
            out.append(f"    {claim['category']}")
        for c in claim["changes"]:
            out.append(f"    {c['benefit_zh']}：{c['before']} → {c['after']}（差额 {c['delta']}）")
            out.extend(_line(ln) for ln in c["lines"])
    return out


def _line(ln: dict[str, Any]) -> str:
    parts = [ln["text"]]
    if ln.get("formula"):
        parts.append(f"〔{ln['formula']}〕")
    if ln.get("clause"):
        parts.append(f"（{ln['clause']}）")
    return "      " + "".join(parts)


def _instruction(i: InstructionView, yuan: Any) -> list[str]:
    line = (
        f"支付指令：{PAYEE.get(i.payee_kind, i.payee_kind)} {i.payee_name} {yuan(i.amount_fen)} 元"
    )
    if i.payment is None:
        return [line + "；待支付"]
    p = i.payment
    account = p.account.get("number") or p.account.get("holder", "")
    return [line + f"；已于 {p.paid_on} 支付，凭证 {p.voucher}，收款账户 {account}（{p.paid_by}）"]
