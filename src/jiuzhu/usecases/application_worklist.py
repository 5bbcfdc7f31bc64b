"""The worklist's source over the stored applications (``usecases.worklist.Applications``).

``usecases.worklist`` decides what a tab holds (the states, the actor for 已办) and checks
the filters; this module only lists: applications of the served policy inside the
caller's jurisdiction (by the district code they were submitted under, as every other
application read), in the states asked, oldest in its step first, so what waits longest
is at the top. The due day and the overdue flag are the procedure's (``application_reads.
summary``); the last step is the history's latest row in words. A role that may not read
applications (a hospital) lists none.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jiuzhu.domain.workflow import State
from jiuzhu.storage.models import Application, ApplicationEvent, Person
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_reads import summary
from jiuzhu.usecases.applications import READERS, step_name, workflow
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.worklist import WorkItem, WorkQuery


def _where(store: Store, query: WorkQuery) -> Select[Application, str, str]:
    q = (
        select(Application, Person.id_number, Person.public_id)
        .join(Person, Person.id == Application.person_id)
        .where(
            Application.policy_id == store.policy_id,
            Application.district_code.startswith(query.jurisdiction, autoescape=True),
            Application.state.in_(sorted(s.value for s in query.states)),
        )
    )
    f = query.filters
    if f.kind:
        q = q.where(Application.kind == f.kind)
    if f.township:
        q = q.where(Application.township == f.township)
    if f.state is not None:
        q = q.where(Application.state == f.state.value)
    if f.since:
        q = q.where(Application.received_on >= f.since)
    if f.until:
        q = q.where(Application.received_on <= f.until)
    if query.actor is not None:
        took = select(ApplicationEvent.application_id).where(ApplicationEvent.actor == query.actor)
        q = q.where(Application.id.in_(took))
    return q


def _last_steps(session: Session, ids: list[int]) -> dict[int, str]:
    """Each application's latest step in words: what, who, when (Beijing date)."""
    if not ids:
        return {}
    latest = (
        select(func.max(ApplicationEvent.seq))
        .where(ApplicationEvent.application_id.in_(ids))
        .group_by(ApplicationEvent.application_id)
    )
    out = {}
    for e in session.scalars(select(ApplicationEvent).where(ApplicationEvent.seq.in_(latest))):
        who = e.actor.split(":", 1)[-1]
        out[e.application_id] = f"{step_name(e.action)}：{who}，{e.on_date}"
    return out


def _item(store: Store, app: Application, id_number: str, person: str, last: str) -> WorkItem:
    s = summary(store, app, id_number, person)
    return WorkItem(
        public_id=s.public_id,
        kind=s.kind,
        kind_zh=s.kind_name,
        person_public_id=person,
        person_masked=s.id_number,
        person_name=s.applicant_name,
        township=s.township or None,
        state=State(s.state),
        state_zh=s.state_name,
        received_on=s.received_on,
        entered_on=s.entered_on,
        due=s.due,
        overdue=s.overdue,
        last_step=last,
    )


class StoredApplications:
    """The applications of ``usecases.applications``, as the worklist and the person page
    list them."""

    enabled = True

    def count(self, store: Store, caller: Caller, query: WorkQuery) -> int:
        if caller.role not in READERS or not query.states:
            return 0
        q = select(func.count()).select_from(_where(store, query).subquery())
        with store.reads() as session, session.begin():
            return int(session.scalar(q) or 0)

    def rows(self, store: Store, caller: Caller, query: WorkQuery) -> Sequence[WorkItem]:
        if caller.role not in READERS or not query.states:
            return ()
        q = (
            _where(store, query)
            .order_by(Application.entered_on, Application.id)
            .offset(query.offset)
            .limit(query.limit)
        )
        with store.reads() as session, session.begin():
            found = list(session.execute(q))
            last = _last_steps(session, [app.id for app, _, _ in found])
            return [_item(store, app, n, p, last.get(app.id, "")) for app, n, p in found]

    def open_for_person(
        self, store: Store, caller: Caller, person_public_id: str
    ) -> Sequence[WorkItem]:
        if caller.role not in READERS:
            return ()
        w = workflow()
        q = (
            select(Application, Person.id_number, Person.public_id)
            .join(Person, Person.id == Application.person_id)
            .where(
                Person.public_id == person_public_id,
                Application.policy_id == store.policy_id,
                Application.district_code.startswith(caller.jurisdiction, autoescape=True),
                Application.state.in_(sorted(s.value for s in State if w.is_open(s))),
            )
            .order_by(Application.received_on, Application.id)
        )
        with store.reads() as session, session.begin():
            found = list(session.execute(q))
            last = _last_steps(session, [app.id for app, _, _ in found])
            return [_item(store, app, n, p, last.get(app.id, "")) for app, n, p in found]
