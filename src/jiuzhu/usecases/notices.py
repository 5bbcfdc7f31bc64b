"""The papers people receive: the written refusal (晋医保发〔2019〕46号 附件5), the approval
notice, and the 公示 list; numbered per issuer and year, their values frozen when issued.

附件5 ("不符合医疗救助条件书面告知书", "[20]第 号") is the township's paper: 三(十一) has the
township tell the applicant in writing, with the reason, whoever refused. Its number runs
per township and year; the approval notice's per county and year. The appeal periods
(60 days for 行政复议, 6 months for a lawsuit, counted from receipt: the notice's date)
come from the procedure's table (``appeal``) and are stated as dates: the 60th day after
(the first day not counted), and the same day six months on, or that month's last day
(民法典 第二百条至第二百零三条 on periods).

This module gives plain values; ``io/notices.py`` lays them out as PDF (A4, as a
government notice) and XLSX.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.clock import chinese_date
from jiuzhu.domain.districts import lookup
from jiuzhu.domain.ids import mask_id, mask_name
from jiuzhu.domain.money import format_yuan
from jiuzhu.storage.models import (
    Application,
    Assessment,
    Notice,
    Person,
    Publicity,
)
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_views import NoticeView
from jiuzhu.usecases.applications import (
    Step,
    kind_of,
    load,
    opinion_of,
    require_reader,
    serial,
    step,
    workflow,
)
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.unit import Store

REFUSAL_TITLE = "不符合医疗救助条件书面告知书"
APPROVAL_TITLE = "医疗救助审批结果通知书"
REFUSALS = ("not_accept", "township_refuse", "refuse_on_objection", "refuse")


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or that month's last day when it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def appeal_dates(issued: dt.date) -> tuple[dt.date, dt.date]:
    """The last day for 行政复议 and for a lawsuit, counted from ``issued``."""
    a = workflow().appeal
    return issued + dt.timedelta(days=a.review_days), months_after(issued, a.lawsuit_months)


def township_issuer(township: str) -> str:
    """The township's government (乡镇人民政府) or the street's office (街道办事处)."""
    return f"{township}办事处" if township.endswith("街道") else f"{township}人民政府"


def county_issuer(district_code: str) -> str:
    """The county's medical-security bureau: 聊城市东昌府区医疗保障局."""
    county = lookup(district_code)
    city = lookup(district_code[:4] + "00")
    if county is None:
        return "县级医疗保障部门"
    if city is not None and city.code != county.code and not county.name.startswith(city.name):
        return f"{city.name}{county.name}医疗保障局"
    return f"{county.name}医疗保障局"


def number_text(year: int, number: int) -> str:
    return f"[{year}]第 {number} 号"


def issue(
    session: Session,
    app: Application,
    kind: str,
    scope: str,
    issued_on: dt.date,
    values: dict[str, Any],
    actor: str,
) -> Notice:
    number = serial(session, scope, issued_on.year, kind)
    notice = Notice(
        application_id=app.id,
        kind=kind,
        scope=scope,
        year=issued_on.year,
        number=number,
        issued_on=issued_on,
        values={**values, "number_text": number_text(issued_on.year, number)},
        created_by=actor,
    )
    session.add(notice)
    session.flush()
    return notice


def notice_view(n: Notice) -> NoticeView:
    return NoticeView(n.public_id, n.kind, n.values["number_text"], n.issued_on, n.values)


# -- refusal (附件5) ------------------------------------------------------------------------


def refuse_with_notice(
    store: Store, caller: Caller, public_id: str, data: Any, transition: str
) -> str:
    """A refusal step (不予受理, 乡镇审核不予救助, 公示异议成立, 县级不予救助) with its written
    notice: ``opinion`` the reason, ``clause`` the provision not met."""
    f = Fields(data, ("version", "opinion", "clause"))
    opinion = opinion_of(f, required=True)
    clause = f.text("clause", required=True, max_length=200, what="不符合的规定及条款")
    f.done()

    def work(s: Step) -> None:
        s.details = {"clause": clause}
        s.take(transition, opinion)
        notice = refusal_notice(s, transition, opinion, clause)
        s.details = {"notice": notice.values["number_text"], "clause": clause}
        s.act("notice", f"出具{REFUSAL_TITLE} {notice.values['number_text']}")

    return step(store, caller, public_id, data, work)


def refusal_notice(s: Step, transition: str, reason: str, clause: str) -> Notice:
    app = s.app
    issued = s.today
    review_until, lawsuit_until = appeal_dates(issued)
    a = workflow().appeal
    values = {
        "title": REFUSAL_TITLE,
        "applicant": app.applicant_name,
        "application_number": app.number,
        "kind_name": s.kind.name,
        "received_on": chinese_date(app.received_on),
        "clause": clause,
        "reason": reason,
        "decision": "不予受理" if transition == "not_accept" else "不予救助",
        "step": workflow().transitions[transition].name,
        "issuer": township_issuer(app.township),
        "issued_on": chinese_date(issued),
        "issued_on_iso": issued.isoformat(),
        "review_days": a.review_days,
        "review_until": chinese_date(review_until),
        "review_until_iso": review_until.isoformat(),
        "lawsuit_months": a.lawsuit_months,
        "lawsuit_until": chinese_date(lawsuit_until),
        "lawsuit_until_iso": lawsuit_until.isoformat(),
        "appeal_clause": a.clause,
        "policy": store_title(s.store),
    }
    return issue(
        s.session,
        app,
        "refusal",
        f"{app.district_code}:{app.township}",
        issued,
        values,
        s.caller.name,
    )


def store_title(store: Store) -> str:
    pol = store.compiled.policy
    return f"{pol.name}（{pol.citation}）" if pol.citation not in pol.name else pol.name


# -- reading a notice --------------------------------------------------------------------


def get_notice(store: Store, caller: Caller, public_id: str, notice_id: str) -> NoticeView:
    """A notice of an application the caller may see (audited: it names the applicant)."""
    require_reader(caller)
    with store.sessions() as session, session.begin():
        app = load(session, store, caller, public_id)
        n = session.scalar(
            select(Notice).where(Notice.public_id == notice_id, Notice.application_id == app.id)
        )
        if n is None:
            raise Refused(
                Kind.not_found, "notice", f"申请 {app.number} 没有告知书 {notice_id[:40]}"
            )
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "app.notice.read",
            f"application:{app.number}",
            {"notice": n.values["number_text"], "kind": n.kind},
        )
        return notice_view(n)


# -- 公示 list -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedRow:
    number: str
    name: str
    """Masked: 张*三."""
    id_number: str
    """Masked."""
    township: str
    kind_name: str
    amount_fen: int | None
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True, slots=True)
class PublicityList:
    title: str
    stage: str
    on: dt.date
    issuer: str
    rows: list[ListedRow]
    note: str

    def values(self) -> dict[str, Any]:
        """The list in words, for ``io/notices`` (PDF and XLSX)."""
        return {
            "title": self.title,
            "stage": self.stage,
            "issuer": self.issuer,
            "date": chinese_date(self.on),
            "note": self.note,
            "rows": [
                {
                    "number": r.number,
                    "name": r.name,
                    "id_number": r.id_number,
                    "township": r.township,
                    "kind_name": r.kind_name,
                    "amount": amount_text(r.amount_fen),
                    "amount_fen": r.amount_fen,
                    "starts_on": r.starts_on,
                    "ends_on": r.ends_on,
                    "period": f"{chinese_date(r.starts_on)}至{chinese_date(r.ends_on)}",
                }
                for r in self.rows
            ],
        }


STAGE_ZH = {"township": "医疗救助审核公示", "result": "医疗救助审批结果公示"}


def publicity_list(store: Store, caller: Caller, data: Any) -> PublicityList:
    """The applications in 公示 on a day (``on``, default today) of a stage (``township``
    审核公示 or ``result`` 结果公示), in the caller's jurisdiction, optionally of one
    township: names partly masked, ID numbers masked, the amounts approved (result)."""
    require_reader(caller)
    f = Fields(data, ("stage", "on", "township"))
    stage = f.text("stage", max_length=16) or "result"
    if stage not in STAGE_ZH:
        f.fail("stage", "公示阶段须为 township（审核公示）或 result（结果公示）")
    on = f.date("on", what="公示日期") or store.today()
    township = f.text("township", max_length=64)
    f.done()
    with store.sessions() as session, session.begin():
        q = (
            select(Application, Publicity, Person.id_number)
            .join(Publicity, Publicity.application_id == Application.id)
            .join(Person, Person.id == Application.person_id)
            .where(
                Application.policy_id == store.policy_id,
                Application.district_code.startswith(caller.jurisdiction),
                Publicity.stage == stage,
                Publicity.starts_on <= on,
                Publicity.ends_on >= on,
            )
            .order_by(Application.number, Publicity.id)
        )
        if township:
            q = q.where(Application.township == township)
        rows: dict[int, ListedRow] = {}
        for app, pub, id_number in session.execute(q):
            amount = None
            if stage == "result":
                a = session.scalar(
                    select(Assessment)
                    .where(Assessment.application_id == app.id)
                    .order_by(Assessment.id.desc())
                    .limit(1)
                )
                amount = None if a is None else a.amount_fen
            rows[app.id] = ListedRow(
                app.number,
                mask_name(app.applicant_name),
                mask_id(id_number),
                app.township,
                kind_of(store, app.kind).name,
                amount,
                pub.starts_on,
                pub.ends_on,
            )
        listed = list(rows.values())
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "app.publicity.list",
            f"publicity:{stage}:{on.isoformat()}",
            {"rows": len(listed), "township": township},
        )
    area = lookup(caller.jurisdiction.ljust(6, "0"))
    where = township or (area.name if area is not None else caller.jurisdiction)
    issuer = (
        township_issuer(township)
        if township and stage == "township"
        else county_issuer(caller.jurisdiction.ljust(6, "0"))
    )
    step = "township_approve" if stage == "township" else "approve"
    note = (
        "公示期内如有异议，请向受理乡镇（街道）或县级医疗保障部门反映。姓名、身份证号已作部分隐藏。"
        f"（{workflow().transitions[step].clause}）"
    )
    title = f"{STAGE_ZH[stage]}（{where}，{chinese_date(on)}）"
    return PublicityList(title, stage, on, issuer, listed, note)


def amount_text(fen: int | None) -> str:
    return "待县级核定" if fen is None else format_yuan(fen)
