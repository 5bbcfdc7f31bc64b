"""Reading applications: one whole (its timeline, papers, visit, 公示, the amount and how it
was computed, payments, notices, and what the caller could do next), and the worklist
(待办 / 已办 / 办结) with deadlines, overdue flags, filters and a cursor.

Every read names the applicant, so it is audited. An application outside the caller's
jurisdiction is not found; a hospital reads none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.workflow import ApplicationView, State, available, check_action, due
from jiuzhu.storage.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Assessment,
    HomeVisit,
    Notice,
    Payment,
    PaymentInstruction,
    Person,
    Publicity,
    PublicityObjection,
)
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_documents import document_view
from jiuzhu.usecases.application_views import (
    ApplicationDetail,
    ApplicationSummary,
    AssessmentView,
    ChecklistItem,
    EventView,
    InstructionView,
    MemberView,
    ObjectionView,
    PaymentView,
    Possible,
    PublicityView,
    VisitView,
)
from jiuzhu.usecases.applications import (
    WORKFLOW_ROLE,
    kind_of,
    load,
    mask_account,
    require_reader,
    state_name,
    step_name,
    view_of,
    workflow,
)
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.notices import notice_view
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import utc

MAX_PAGE = 200
QUEUES = ("todo", "done", "closed")


def _timing(app: Application) -> ApplicationView:
    """Enough of the application for ``due``."""
    return ApplicationView(
        kind=app.kind,
        states=(),
        state=State(app.state),
        entered=app.entered_on,
        person_categories=frozenset(),
        applicants=None,
        documents_required=frozenset(),
        documents_given=frozenset(),
    )


def summary(
    store: Store, app: Application, id_number: str, person_public_id: str = ""
) -> ApplicationSummary:
    kind = kind_of(store, app.kind)
    w = workflow()
    day = due(w, _timing(app))
    today = store.today()
    return ApplicationSummary(
        public_id=app.public_id,
        number=app.number,
        policy_id=app.policy_id,
        kind=app.kind,
        kind_name=kind.name,
        decides=kind.decides,
        person_public_id=person_public_id,
        id_number=mask_id(id_number),
        applicant_name=app.applicant_name,
        district_code=app.district_code,
        township=app.township,
        state=app.state,
        state_name=state_name(app.state),
        open=w.is_open(State(app.state)),
        entered_on=app.entered_on,
        due=day,
        overdue=day is not None and today > day,
        version=app.version,
        received_on=app.received_on,
        year=app.year,
    )


def _events(session: Session, app: Application) -> list[EventView]:
    from jiuzhu.usecases.access import ROLE_ZH, Role

    rows = session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == app.id)
        .order_by(ApplicationEvent.seq)
    )
    out = []
    for e in rows:
        try:
            role_zh = ROLE_ZH[Role(e.role)]
        except ValueError:
            role_zh = e.role
        out.append(
            EventView(
                e.seq,
                e.action,
                step_name(e.action),
                e.from_state,
                e.to_state,
                e.actor,
                e.role,
                role_zh,
                utc(e.at),
                e.on_date,
                e.opinion,
                e.details,
            )
        )
    return out


def _checklist(session: Session, store: Store, app: Application) -> list[ChecklistItem]:
    kind = kind_of(store, app.kind)
    rows = list(
        session.scalars(
            select(ApplicationDocument)
            .where(ApplicationDocument.application_id == app.id)
            .order_by(ApplicationDocument.id.desc())
        )
    )
    return [
        ChecklistItem(d.key, d.name, [document_view(r) for r in rows if r.key == d.key])
        for d in kind.documents
    ]


def _visits(session: Session, app: Application) -> list[VisitView]:
    rows = session.scalars(
        select(HomeVisit).where(HomeVisit.application_id == app.id).order_by(HomeVisit.id)
    )
    return [
        VisitView(
            v.visited_on,
            list(v.investigators),
            [
                MemberView(
                    m["name"],
                    m["relation"],
                    m.get("age"),
                    m.get("health", ""),
                    m.get("occupation", ""),
                    int(m.get("income_fen", 0)),
                )
                for m in v.members
            ],
            v.income_fen,
            v.assets,
            v.illness,
            v.opinion,
            v.witness_name,
            v.witness_title,
            v.recorded_by,
            utc(v.recorded_at),
        )
        for v in rows
    ]


def _publicities(session: Session, app: Application) -> list[PublicityView]:
    out = []
    for p in session.scalars(
        select(Publicity).where(Publicity.application_id == app.id).order_by(Publicity.id)
    ):
        objections = [
            ObjectionView(
                o.public_id,
                o.received_on,
                o.text,
                o.received_by,
                o.upheld,
                o.resolution,
                o.resolved_by,
            )
            for o in session.scalars(
                select(PublicityObjection)
                .where(PublicityObjection.publicity_id == p.id)
                .order_by(PublicityObjection.id)
            )
        ]
        out.append(PublicityView(p.stage, p.starts_on, p.ends_on, p.place, objections))
    return out


def _assessment(session: Session, app: Application) -> AssessmentView | None:
    a = session.scalar(
        select(Assessment)
        .where(Assessment.application_id == app.id)
        .order_by(Assessment.id.desc())
        .limit(1)
    )
    if a is None:
        return None
    return AssessmentView(
        a.public_id,
        a.amount_fen,
        a.identified_on,
        list(a.selections),
        list(a.plan),
        list(a.lines),
        a.computed_by,
        a.computed_on,
    )


def _instructions(session: Session, app: Application) -> list[InstructionView]:
    out = []
    for row, paid in session.execute(
        select(PaymentInstruction, Payment)
        .outerjoin(Payment, Payment.instruction_id == PaymentInstruction.id)
        .where(PaymentInstruction.application_id == app.id)
        .order_by(PaymentInstruction.id)
    ):
        payment = None
        if paid is not None:
            payment = PaymentView(
                mask_account(paid.account) or {}, paid.voucher, paid.paid_on, paid.paid_by
            )
        out.append(
            InstructionView(
                row.public_id, row.payee_kind, row.payee_name, row.amount_fen, row.lines, payment
            )
        )
    return out


def _possible(session: Session, store: Store, caller: Caller, app: Application) -> list[Possible]:
    role = WORKFLOW_ROLE.get(caller.role)
    if role is None:
        return []
    kind = kind_of(store, app.kind)
    view = view_of(session, store, app, kind)
    w = workflow()
    out = [Possible(k, w.transitions[k].name, "transition") for k in available(w, view, role)]
    for key, spec in w.actions.items():
        if not check_action(w, view, key, role):
            out.append(Possible(key, spec.name, "action"))
    return out


def detail(session: Session, store: Store, caller: Caller, app: Application) -> ApplicationDetail:
    person = session.get(Person, app.person_id)
    assert person is not None
    s = summary(store, app, person.id_number, person.public_id)
    notices = [
        notice_view(n)
        for n in session.scalars(
            select(Notice).where(Notice.application_id == app.id).order_by(Notice.id)
        )
    ]
    return ApplicationDetail(
        summary=s,
        reason=app.reason,
        clause=kind_of(store, app.kind).clause or "",
        account=mask_account(app.account),
        bill=app.bill,
        history=_events(session, app),
        checklist=_checklist(session, store, app),
        visits=_visits(session, app),
        publicities=_publicities(session, app),
        assessment=_assessment(session, app),
        instructions=_instructions(session, app),
        notices=notices,
        possible=_possible(session, store, caller, app),
    )


NUMBER = re.compile(r"^[0-9]{6}-[0-9]{4}-[0-9]{5}$")


def resolve(store: Store, caller: Caller, ref: str) -> str:
    """The public id of the application ``ref`` names: its public id, or its number
    (``371502-2024-00001``, what notices and lists show people), if the caller may see it."""
    require_reader(caller)
    ref = ref.strip()
    if not NUMBER.match(ref):
        return ref
    with store.reads() as session, session.begin():
        found = session.scalar(
            select(Application.public_id).where(
                Application.number == ref,
                Application.policy_id == store.policy_id,
                Application.district_code.startswith(caller.jurisdiction),
            )
        )
    if found is None:
        raise Refused(Kind.not_found, "id", f"没有申请 {ref}")
    return found


def get(store: Store, caller: Caller, public_id: str) -> ApplicationDetail:
    """One application, whole (audited)."""
    require_reader(caller)
    with store.sessions() as session, session.begin():
        app = load(session, store, caller, public_id)
        out = detail(session, store, caller, app)
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "app.read",
            f"application:{app.number}",
            {"person": out.summary.id_number, "state": app.state},
        )
    return out


# -- the worklist ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ApplicationSummary]
    next_after: str | None


def _todo_states(caller: Caller) -> set[str]:
    role = WORKFLOW_ROLE.get(caller.role)
    w = workflow()
    if role is None:
        return set()
    states = {
        s.value
        for t in w.transitions.values()
        if role in t.roles or role.value == "admin"
        for s in t.source
    }
    return states


def list_applications(store: Store, caller: Caller, data: Any) -> Page:
    """The worklist: ``queue`` (``todo`` 待办: a step the caller's role takes next;
    ``done`` 已办: open, the caller took a step on it; ``closed`` 办结), ``kind``,
    ``township``, ``state``, ``received_from``/``received_to``, ``overdue``, ``after``
    (the cursor), ``limit``."""
    require_reader(caller)
    f = Fields(
        data,
        (
            "queue", "kind", "township", "state", "received_from", "received_to", "overdue",
            "after", "limit",
        ),
    )  # fmt: skip
    queue = f.text("queue", max_length=10)
    if queue and queue not in QUEUES:
        f.fail("queue", "须为 todo（待办）、done（已办）或 closed（办结）")
    kind = f.text("kind", max_length=40)
    township = f.text("township", max_length=64)
    state = f.text("state", max_length=24)
    if state and state not in {s.value for s in State}:
        f.fail("state", f"未知的状态（可用：{'、'.join(s.value for s in State)}）")
    since = f.date("received_from", what="申请日期起")
    until = f.date("received_to", what="申请日期止")
    overdue = f.boolean("overdue", what="仅逾期")
    after = f.integer("after", what="游标") or 0
    limit = f.integer("limit", low=1, high=MAX_PAGE, what="每页条数") or 50
    f.done()
    q = (
        select(Application, Person.id_number, Person.public_id)
        .join(Person, Person.id == Application.person_id)
        .where(
            Application.policy_id == store.policy_id,
            Application.district_code.startswith(caller.jurisdiction),
            Application.id > after,
        )
        .order_by(Application.id)
    )
    if kind:
        q = q.where(Application.kind == kind)
    if township:
        q = q.where(Application.township == township)
    if state:
        q = q.where(Application.state == state)
    if since:
        q = q.where(Application.received_on >= since)
    if until:
        q = q.where(Application.received_on <= until)
    w = workflow()
    open_states = [s.value for s in State if w.is_open(s)]
    if queue == "closed":
        q = q.where(Application.state.not_in(open_states))
    elif queue == "todo":
        q = q.where(Application.state.in_(sorted(_todo_states(caller))))
    elif queue == "done":
        q = q.where(
            Application.state.in_(open_states),
            Application.id.in_(
                select(ApplicationEvent.application_id).where(ApplicationEvent.actor == caller.name)
            ),
        )
    with store.sessions() as session, session.begin():
        items: list[ApplicationSummary] = []
        last = after
        scanned = 0
        for app, id_number, person_id in session.execute(q.limit(MAX_PAGE * 5)):
            scanned += 1
            last = app.id
            s = summary(store, app, id_number, person_id)
            if overdue and not s.overdue:
                continue
            if queue == "todo" and not _mine(session, store, caller, app):
                continue
            if queue == "done" and _mine(session, store, caller, app):
                continue
            items.append(s)
            if len(items) == limit:
                break
        more = len(items) == limit or scanned == MAX_PAGE * 5
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "app.list",
            f"applications:{caller.jurisdiction}",
            {"queue": queue, "count": len(items)},
        )
    return Page(items, str(last) if more and last > after else None)


def _mine(session: Session, store: Store, caller: Caller, app: Application) -> bool:
    """A step of the table that the caller's role takes next on this kind."""
    role = WORKFLOW_ROLE.get(caller.role)
    if role is None:
        return False
    kind = kind_of(store, app.kind)
    view = _timing(app)
    view.states = tuple(kind.states)
    return bool(available(workflow(), view, role))
