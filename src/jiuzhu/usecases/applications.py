"""Applications (依申请救助): the procedure's core, and the steps of 受理.

What the table (``policies/procedure/applications.yaml``) says is checked by the domain
(``domain/workflow.check``); this module reads an application from storage as the
guards see it (``view_of``), takes a step (``Step.take``: the state, the history row, the
audit row, in the caller's transaction), and holds the steps of the township's desk:
登记申请 (``submit``), 退回补正, 补正后重新提交, 受理 (入户调查 or 报县级审核, as the kind goes),
不予受理 and 撤回. The later steps live beside it: papers (``application_documents``),
入户调查 and 乡镇审核 (``home_visits``), 公示 (``publicity``), 核定救助金额 (``assessment``),
审核、审批 and 支付 (``approval``), the papers people receive (``notices``); reads and the
worklist are ``application_reads``.

Every step names the version of the application it was made on (``version``): the first
``UPDATE … WHERE version = :seen`` of its transaction bumps it, so of two people acting on
the same version one goes through and the other is told, and nothing is lost. Roles are
the service's (``usecases/access``), limited to the jurisdiction by district code as the
API's tokens are; an application of another jurisdiction is not found.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id, mask_value, validate_id
from jiuzhu.domain.policy.model import ApplicationKind
from jiuzhu.domain.workflow import (
    GUARDS,
    ApplicationView,
    Attempt,
    Objection,
    State,
    Workflow,
    WorkflowRole,
    check,
    check_action,
)
from jiuzhu.domain.workflow import (
    Step as HistoryStep,
)
from jiuzhu.io.policy_files import load_workflow
from jiuzhu.io.rosters import memberships_of
from jiuzhu.storage.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Assessment,
    HomeVisit,
    Household,
    Payment,
    PaymentInstruction,
    Person,
    Publicity,
    PublicityObjection,
    SerialCounter,
)
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role, district_of
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields, version_of
from jiuzhu.usecases.settle import require_area
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import utc

MAX_OPINION = 1000
APPROVED = ("approve", "approve_without_publicity")

WORKFLOW_ROLE: dict[Role, WorkflowRole] = {
    Role.township_clerk: WorkflowRole.township_clerk,
    Role.county_reviewer: WorkflowRole.county_reviewer,
    Role.county_approver: WorkflowRole.county_approver,
    Role.civil_affairs: WorkflowRole.civil_affairs,
    Role.admin: WorkflowRole.admin,
}
READERS = (*WORKFLOW_ROLE, Role.reviewer)
"""Who may read applications (inside their jurisdiction): the procedure's roles and the
bureau's 审核人员; never a hospital."""

GUARD_FIELD = {
    "documents_complete": "documents",
    "documents_missing": "documents",
    "opinion_given": "opinion",
    "reason_given": "opinion",
    "visit_recorded": "visit",
    "publicity_dates_given": "publicity_start",
    "publicity_over": "publicity",
    "objections_resolved": "publicity",
    "objection_upheld": "publicity",
    "not_own_case": "Authorization",
    "amount_computed": "assessment",
    "payment_recorded": "payment",
    "applicant_may_apply": "kind",
    "no_open_application": "kind",
    "not_applied_this_year": "kind",
}
FORBIDDEN_GUARDS = {"not_own_case"}
CONFLICT_GUARDS = {"no_open_application", "not_applied_this_year"}


@cache
def workflow() -> Workflow:
    return load_workflow()


def workflow_role(caller: Caller) -> WorkflowRole:
    role = WORKFLOW_ROLE.get(caller.role)
    if role is None:
        names = "、".join(f"{r.zh}（{r.value}）" for r in WORKFLOW_ROLE)
        raise Refused(
            Kind.forbidden,
            "Authorization",
            f"角色 {caller.role.zh}（{caller.role.value}）不办理医疗救助申请（须为 {names}）",
        )
    return role


def require_reader(caller: Caller) -> None:
    if caller.role not in READERS:
        raise Refused(
            Kind.forbidden,
            "Authorization",
            f"角色 {caller.role.zh}（{caller.role.value}）不能查看医疗救助申请",
        )


def kind_of(store: Store, key: str) -> ApplicationKind:
    kinds = store.compiled.policy.applications
    found = kinds.get(key)
    if found is None:
        listed = "、".join(f"{k}（{v.name}）" for k, v in kinds.items()) or "无"
        raise Refused(
            Kind.invalid,
            "kind",
            f"政策 {store.policy_id} 没有“{key[:40]}”这类申请（可用：{listed}）",
        )
    return found


def kind_by_text(store: Store, text: str) -> str:
    """A kind by its key or its name (``illness_impoverished`` or its 因病致贫… name)."""
    for key, k in store.compiled.policy.applications.items():
        if text.strip() in (key, k.name):
            return key
    return text.strip()


def state_name(state: str) -> str:
    return workflow().states[State(state)].name


def step_name(action: str) -> str:
    w = workflow()
    if action in w.transitions:
        return w.transitions[action].name
    if action in w.actions:
        return w.actions[action].name
    return ACTION_NAMES.get(action, action)


ACTION_NAMES = {"notice": "出具告知书", "read": "查看"}


# -- loading ---------------------------------------------------------------------------


def load(session: Session, store: Store, caller: Caller, public_id: str) -> Application:
    """The application, if the caller may see it (its policy, their jurisdiction)."""
    app = session.scalar(select(Application).where(Application.public_id == public_id))
    if app is None or app.policy_id != store.policy_id or not caller.covers(app.district_code):
        raise Refused(Kind.not_found, "id", f"没有申请 {mask_id(public_id)[:40]}")
    return app


def bump(session: Session, store: Store, caller: Caller, public_id: str, seen: int) -> Application:
    """Take the application for this step: bump its version if it is still ``seen``
    (which locks its row until commit), else refuse, saying who changed it."""
    app = load(session, store, caller, public_id)
    done = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == seen)
        .values(version=seen + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(app)
        last = session.scalar(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id)
            .order_by(ApplicationEvent.seq.desc())
            .limit(1)
        )
        who = "" if last is None else f"：{last.actor} 已于 {last.on_date} {step_name(last.action)}"
        raise Refused(
            Kind.conflict,
            "version",
            f"申请 {app.number} 已被他人修改（现为第 {app.version} 版，"
            f"“{state_name(app.state)}”{who}），本次依据第 {seen} 版，未作任何更改；请刷新后再办理",
        )
    session.refresh(app)
    return app


# -- the application as the guards see it ----------------------------------------------


def entered_seq(events: list[ApplicationEvent], state: str) -> int:
    """The history row with which the application last entered ``state`` (0: never)."""
    for e in reversed(events):
        if e.to_state == state and e.from_state != state:
            return e.seq
    return 0


def events_of(session: Session, app: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id)
            .order_by(ApplicationEvent.seq)
        )
    )


def current_publicity(session: Session, app: Application) -> Publicity | None:
    stage = {"publicity": "township", "result_publicity": "result"}.get(app.state)
    if stage is None:
        return None
    return session.scalar(
        select(Publicity)
        .where(Publicity.application_id == app.id, Publicity.stage == stage)
        .order_by(Publicity.id.desc())
        .limit(1)
    )


def latest_assessment(session: Session, app: Application) -> Assessment | None:
    return session.scalar(
        select(Assessment)
        .where(Assessment.application_id == app.id)
        .order_by(Assessment.id.desc())
        .limit(1)
    )


def approved_in(session: Session, app: Application) -> Application | None:
    """Another application of the same kind for the same person, of the same natural
    year, that was approved (聊城实施方案 四(一): 一个年度内不得重复申请)."""
    return session.scalar(
        select(Application)
        .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
        .where(
            Application.policy_id == app.policy_id,
            Application.kind == app.kind,
            Application.person_id == app.person_id,
            Application.year == app.year,
            Application.id != app.id,
            ApplicationEvent.action.in_(APPROVED),
        )
        .limit(1)
    )


def view_of(
    session: Session,
    store: Store,
    app: Application,
    kind: ApplicationKind,
    *,
    payment_given: bool = False,
) -> ApplicationView:
    """The application as the guards of the table see it."""
    events = events_of(session, app)
    today = store.today()
    person = session.get(Person, app.person_id)
    assert person is not None
    held = memberships_of(session, person.id_number) or []
    given = set(
        session.scalars(
            select(ApplicationDocument.key).where(ApplicationDocument.application_id == app.id)
        )
    )
    visit_since = entered_seq(events, State.home_visit.value)
    review_since = entered_seq(events, State.county_review.value)
    pub = current_publicity(session, app)
    objections: tuple[Objection, ...] = ()
    if pub is not None:
        objections = tuple(
            Objection(o.text, o.upheld)
            for o in session.scalars(
                select(PublicityObjection).where(PublicityObjection.publicity_id == pub.id)
            )
        )
    paid = payment_given or bool(
        session.scalar(
            select(func.count())
            .select_from(Payment)
            .join(PaymentInstruction, PaymentInstruction.id == Payment.instruction_id)
            .where(PaymentInstruction.application_id == app.id)
        )
    )
    other_open = bool(
        session.scalar(
            select(func.count())
            .select_from(Application)
            .where(
                Application.open_key == open_key(app.policy_id, app.kind, app.person_id),
                Application.id != app.id,
            )
        )
    )
    return ApplicationView(
        kind=app.kind,
        states=tuple(kind.states),
        state=None if app.state == "" else State(app.state),
        entered=app.entered_on,
        person_categories=frozenset(m.category.value for m in held if m.in_force(today)),
        applicants=None if kind.applicants is None else frozenset(c.value for c in kind.applicants),
        documents_required=frozenset(d.key for d in kind.documents),
        documents_given=frozenset(given),
        history=tuple(
            HistoryStep(e.action, e.actor, _as_role(e.role), e.at, e.opinion)
            for e in events
            if e.action in workflow().transitions
        ),
        visit_recorded=_visited_since(session, app, events, visit_since),
        publicity_start=None if pub is None else pub.starts_on,
        publicity_end=None if pub is None else pub.ends_on,
        objections=objections,
        amount_computed=any(e.action == "assess" and e.seq > review_since for e in events),
        payment_recorded=paid,
        other_open=other_open,
        applied_this_year=approved_in(session, app) is not None,
        once_a_year=kind.once_a_year,
    )


def _visited_since(
    session: Session, app: Application, events: list[ApplicationEvent], since: int
) -> bool:
    """A home visit recorded since the application last entered 入户调查."""
    entry = next((e for e in events if e.seq == since), None)
    if entry is None:
        return False
    start = utc(entry.at)
    visits = session.scalars(
        select(HomeVisit.recorded_at).where(HomeVisit.application_id == app.id)
    )
    return any(utc(at) >= start for at in visits)


def _as_role(value: str) -> WorkflowRole:
    try:
        return WorkflowRole(value)
    except ValueError:
        return WorkflowRole.admin


def open_key(policy_id: str, kind: str, person_id: int) -> str:
    return f"{policy_id}:{kind}:{person_id}"


# -- a step ------------------------------------------------------------------------------


def refusal(
    w: Workflow,
    view: ApplicationView,
    attempt: Attempt,
    reasons: list[str],
    kind: ApplicationKind,
    *,
    extra: Mapping[str, str] | None = None,
) -> Refused:
    """The reasons ``check`` gave, each with the field it is about, under the kind of
    refusal the worst of them makes (forbidden, then conflict, then invalid)."""
    t = w.transitions[attempt.transition]
    by_text: dict[str, str] = {}
    for name in t.guards:
        text = GUARDS[name](view, attempt)
        if text is not None:
            by_text[text] = name
    errors: list[tuple[str, str]] = []
    worst = Kind.invalid
    for text in reasons:
        guard = by_text.get(text)
        if guard is None:  # the state or the role
            forbidden = "须由" in text
            errors.append(("Authorization" if forbidden else "state", text))
            worst = Kind.forbidden if forbidden else _worse(worst, Kind.conflict)
            continue
        if guard == "not_applied_this_year":
            text = f"{text}（{kind.clause}）" + ((extra or {}).get(guard) or "")
        errors.append((GUARD_FIELD[guard], text))
        if guard in FORBIDDEN_GUARDS:
            worst = Kind.forbidden
        elif guard in CONFLICT_GUARDS:
            worst = _worse(worst, Kind.conflict)
    return Refused.many(worst, errors)


def _worse(a: Kind, b: Kind) -> Kind:
    order = [Kind.invalid, Kind.conflict, Kind.forbidden]
    return a if order.index(a) >= order.index(b) else b


@dataclass
class Step:
    """One step in progress: the caller's transaction, the application taken for it."""

    store: Store
    session: Session
    caller: Caller
    role: WorkflowRole
    app: Application
    kind: ApplicationKind
    today: dt.date
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def w(self) -> Workflow:
        return workflow()

    def check_action(self, action: str) -> None:
        view = view_of(self.session, self.store, self.app, self.kind)
        reasons = check_action(self.w, view, action, self.role)
        if reasons:
            worst = Kind.forbidden if any("须由" in r for r in reasons) else Kind.conflict
            fields = ["Authorization" if "须由" in r else "state" for r in reasons]
            raise Refused.many(worst, list(zip(fields, reasons, strict=True)))

    def take(
        self,
        transition: str,
        opinion: str,
        *,
        publicity: tuple[dt.date | None, dt.date | None] = (None, None),
        payment_given: bool = False,
    ) -> ApplicationEvent:
        """Check ``transition`` against the table and take it: state, history, audit."""
        view = view_of(self.session, self.store, self.app, self.kind, payment_given=payment_given)
        attempt = Attempt(
            transition,
            self.caller.name,
            self.role,
            self.today,
            opinion,
            publicity_start=publicity[0],
            publicity_end=publicity[1],
        )
        reasons = check(self.w, view, attempt)
        if reasons:
            raise refusal(self.w, view, attempt, reasons, self.kind)
        spec = self.w.transitions[transition]
        before = self.app.state
        self.app.state = spec.to.value
        self.app.entered_on = self.today
        if not self.w.is_open(spec.to):
            self.app.open_key = None
            self.app.closed_at = dt.datetime.now(dt.UTC)
            if spec.to is not State.paid:
                self.app.bill_key = None  # a bill not reimbursed may be handed in again
        return self.record(transition, opinion, before, spec.to.value)

    def act(self, action: str, opinion: str = "") -> ApplicationEvent:
        """Record an action within the state (no transition)."""
        return self.record(action, opinion, self.app.state, self.app.state)

    def record(
        self, action: str, opinion: str, before: str | None, after: str | None
    ) -> ApplicationEvent:
        event = ApplicationEvent(
            application_id=self.app.id,
            action=action,
            from_state=before,
            to_state=after,
            actor=self.caller.name,
            role=self.caller.role.value,
            at=dt.datetime.now(dt.UTC),
            on_date=self.today,
            opinion=opinion,
            details=dict(self.details),
            version=self.app.version,
        )
        self.session.add(event)
        self.session.flush()
        audit.append(
            self.session,
            self.caller.name,
            self.caller.role.value,
            f"app.{action}"[:32],
            f"application:{self.app.number}",
            {
                "kind": self.app.kind,
                "from": before,
                "to": after,
                "version": self.app.version,
                "opinion": opinion[:200],
                **{k: v for k, v in self.details.items() if k in AUDITED},
            },
        )
        return event


AUDITED = ("amount", "notice", "document", "sha256", "objection", "upheld", "voucher", "claims")


StepWork = Callable[[Step], None]


def step(
    store: Store,
    caller: Caller,
    public_id: str,
    data: Any,
    work: StepWork,
) -> str:
    """Run one step in one transaction: take the application at the version ``data``
    names, then ``work``; anything refused writes nothing. Returns the public id."""
    role = workflow_role(caller)
    seen = version_of(data)
    with store.sessions() as session, session.begin():
        app = bump(session, store, caller, public_id, seen)
        kind = kind_of(store, app.kind)
        work(Step(store, session, caller, role, app, kind, store.today()))
    return public_id


def opinion_of(f: Fields, *, required: bool = False) -> str:
    return f.text("opinion", required=required, max_length=MAX_OPINION, what="意见")


# -- 登记申请 ------------------------------------------------------------------------------

SUBMIT_FIELDS = (
    "id_number",
    "kind",
    "applicant_name",
    "township",
    "received_on",
    "reason",
    "account",
    "bill",
)


def serial(session: Session, scope: str, year: int, kind: str) -> int:
    """The next number of a series (one upsert; the row stays locked until commit)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SerialCounter)
        .values(scope=scope, year=year, kind=kind, last=1)
        .on_conflict_do_update(
            index_elements=[SerialCounter.scope, SerialCounter.year, SerialCounter.kind],
            set_={"last": SerialCounter.last + 1},
        )
        .returning(SerialCounter.last)
    )
    return int(session.execute(stmt).scalar_one())


def account_of(f: Fields) -> dict[str, str] | None:
    raw = f.data.get("account")
    if raw is None:
        return None
    a = Fields(raw, ("holder", "bank", "number"), f.path("account"))
    out = {
        "holder": a.text("holder", required=True, max_length=64, what="户名"),
        "bank": a.text("bank", required=True, max_length=100, what="开户行"),
        "number": a.text("number", required=True, max_length=40, what="账号", mask=False),
    }
    if out["number"] and not out["number"].replace(" ", "").isdigit():
        a.fail("number", "账号须为数字")
    f.errors.extend(a.errors)
    return out


def mask_account(account: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if account is None:
        return None
    number = str(account.get("number", "")).replace(" ", "")
    shown = "*" * max(0, len(number) - 4) + number[-4:] if number else ""
    return {**account, "number": shown}


def submit(store: Store, caller: Caller, data: Any) -> str:
    """登记申请: a person's application of a kind, received by the township (or civil
    affairs). Who may apply, one open application per person and kind, once a year where
    the kind says so: the table's guards. A 零星报销 bill is checked as the desk checks a
    claim, and refused when its number was used by the same issuer or the visit was
    settled at a desk. Returns the application's public id."""
    role = workflow_role(caller)
    f = Fields(data, SUBMIT_FIELDS)
    today = store.today()
    raw_id = f.text("id_number", required=True, max_length=40, what="身份证号", mask=False)
    if raw_id and (why := validate_id(raw_id)):
        f.fail("id_number", f"{mask_value(raw_id)}：{why}")
        raw_id = ""
    key = f.text("kind", required=True, max_length=60, what="申请类别")
    kind: ApplicationKind | None = None
    if key:
        try:
            key = kind_by_text(store, key)
            kind = kind_of(store, key)
        except Refused as err:
            f.errors.extend((e["field"], e["message"]) for e in err.errors)
    name = f.text("applicant_name", required=True, max_length=64, what="申请人姓名")
    township = f.text("township", max_length=64, what="乡镇（街道）")
    received = f.date("received_on", what="申请日期", not_after=today) or today
    reason = f.text("reason", max_length=500, what="申请事由")
    account = account_of(f)
    bill_raw = f.data.get("bill")
    if kind is not None and kind.decides == "scattered_reimbursement" and bill_raw is None:
        f.fail("bill", "零星报销须填写票据（bill：开票单位、发票号与费用）")
    if kind is not None and kind.decides != "scattered_reimbursement" and bill_raw is not None:
        f.fail("bill", "只有零星报销申请填写票据（bill）")
    f.done()
    assert kind is not None
    id_number = raw_id.upper()
    try:
        with store.sessions() as session, session.begin():
            return _submit(
                store, session, caller, role, kind, key, id_number, name, township,
                received, reason, account, bill_raw,
            )  # fmt: skip
    except IntegrityError:  # another submission for the same person and kind, or bill
        raise Refused(
            Kind.conflict, "kind", "同一时间已有此人同类申请或同一票据的申请登记，本次未登记"
        ) from None


def _person(session: Session, id_number: str) -> Person:
    person = session.scalar(select(Person).where(Person.id_number == id_number))
    if person is None:  # insured, not (yet) in any roster
        person = Person(id_number=id_number, public_id=uuid.uuid4().hex)
        session.add(person)
        session.flush()
    return person


def _submit(
    store: Store,
    session: Session,
    caller: Caller,
    role: WorkflowRole,
    kind: ApplicationKind,
    key: str,
    id_number: str,
    name: str,
    township: str,
    received: dt.date,
    reason: str,
    account: dict[str, str] | None,
    bill_raw: Any,
) -> str:
    person = _person(session, id_number)
    district = district_of(session, person, id_number)
    if not caller.covers(district):
        raise Refused(
            Kind.forbidden,
            "id_number",
            f"此人属 {district} 辖区，不在 {caller.name} 的辖区 {caller.jurisdiction} 内",
        )
    require_area(store, district)
    if not township and person.household_id is not None:
        household = session.get(Household, person.household_id)
        township = (household.township or "") if household else ""
    if not township:
        raise Refused(
            Kind.invalid, "township", "须填写受理的乡镇（街道）：登记库中此人的户籍未载明"
        )
    bill = None
    bill_key = None
    if bill_raw is not None:
        from jiuzhu.usecases.scattered import check_bill

        bill, bill_key = check_bill(store, session, person, bill_raw)
    year = received.year
    number = f"{district}-{year}-{serial(session, district, year, 'application'):05d}"
    app = Application(
        public_id=uuid.uuid4().hex,
        number=number,
        policy_id=store.policy_id,
        kind=key,
        person_id=person.id,
        district_code=district,
        township=township,
        applicant_name=name,
        reason=reason,
        state="",
        entered_on=store.today(),
        version=1,
        year=year,
        received_on=received,
        submitted_by=caller.name,
        submitted_at=dt.datetime.now(dt.UTC),
        open_key=None,
        bill_key=None,
        bill=bill,
        account=account,
    )
    session.add(app)
    session.flush()
    s = Step(store, session, caller, role, app, kind, store.today())
    view = view_of(session, store, app, kind)  # state None: not yet registered
    attempt = Attempt("submit", caller.name, role, s.today, "")
    reasons = check(workflow(), view, attempt)
    if reasons:
        earlier = approved_in(session, app)
        said = "" if earlier is None else f"：此人 {app.year} 年的申请 {earlier.number} 已经审批"
        raise refusal(
            workflow(), view, attempt, reasons, kind, extra={"not_applied_this_year": said}
        )
    app.state = State.received.value
    app.open_key = open_key(store.policy_id, key, person.id)
    app.bill_key = bill_key
    session.flush()
    s.details = {"received_on": received.isoformat(), "township": township}
    s.record("submit", reason, None, State.received.value)
    return app.public_id


# -- the township's desk -----------------------------------------------------------------


def simple(transition: str, *, opinion_required: bool = False) -> Callable[..., str]:
    """A step that takes one transition with an opinion and nothing else."""

    def run(store: Store, caller: Caller, public_id: str, data: Any) -> str:
        f = Fields(data, ("version", "opinion"))
        opinion = opinion_of(f, required=opinion_required)
        f.done()
        return step(store, caller, public_id, data, lambda s: _take(s, transition, opinion))

    run.__doc__ = f"{workflow().transitions[transition].name}（{transition}）."
    return run


def _take(s: Step, transition: str, opinion: str) -> None:
    s.take(transition, opinion)


request_supplement = simple("request_documents")
resubmit = simple("resubmit")
withdraw = simple("withdraw")


def accept(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """受理: to 入户调查 where the kind goes through one, else straight to 县级审核."""
    f = Fields(data, ("version", "opinion"))
    opinion = opinion_of(f)
    f.done()

    def work(s: Step) -> None:
        to_visit = State.home_visit in s.kind.states
        s.take("accept_for_visit" if to_visit else "accept_for_review", opinion)

    return step(store, caller, public_id, data, work)


def not_accept(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """不予受理, with the written notice of 附件5 (the reason and the clause not met)."""
    from jiuzhu.usecases.notices import refuse_with_notice

    return refuse_with_notice(store, caller, public_id, data, "not_accept")
