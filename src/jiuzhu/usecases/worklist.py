"""A member of staff's worklist: 待办 / 已办 / 办结, with filters and paging, over whatever
holds the applications (ADR 18).

The mechanics are here and do not depend on how applications are stored:

- which states are 待办 for a role, read from the procedure's transition table (every
  open state some transition of that role leaves, but for the applicant's withdrawal);
  已办 (open applications the member took a step on); 办结 (the closed states);
- which filter values exist: the served policy's kinds of application, the tab's states,
  the townships of the registry's households in the member's jurisdiction;
- the checking of every filter, each error naming its field; counts per tab, pages and
  their bounds; the audit of a read that returned personal data.

What lists the applications is an :class:`Applications` source. Until applications
are stored (issue 13) the service has :class:`NoApplications`, which says so
(``enabled`` false: the page then says that applications are not yet handled here,
rather than "none"). The applications use cases fill the interface: ``count`` and
``rows`` for a :class:`WorkQuery` (states, actor, jurisdiction, filters, offset, limit),
and ``open_for_person`` for the person page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Protocol

from sqlalchemy import func, literal, select

# domain.workflow and domain.policy import each other: the policy package must load first
import jiuzhu.domain.policy  # noqa: F401
from jiuzhu.domain.workflow import State, Workflow, WorkflowRole
from jiuzhu.io.policy_files import load_workflow
from jiuzhu.storage.models import Household
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store

PER_PAGE = 20
MAX_PAGE_NUMBER = 100_000


class Tab(StrEnum):
    todo = "todo"
    done = "done"
    closed = "closed"

    @property
    def zh(self) -> str:
        return TAB_ZH[self]


TAB_ZH = {Tab.todo: "待办", Tab.done: "已办", Tab.closed: "办结"}


@dataclass(frozen=True, slots=True)
class WorkFilters:
    kind: str | None = None
    township: str | None = None
    state: State | None = None
    since: dt.date | None = None
    """Received on or after (Beijing date)."""
    until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class WorkQuery:
    """What a source is asked for: everything it needs, already checked."""

    tab: Tab
    states: frozenset[State]
    actor: str | None
    """For 已办: only applications this caller (``Caller.name``) took a step on."""
    jurisdiction: str
    filters: WorkFilters
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One application as a worklist row shows it (ID number already masked)."""

    public_id: str
    kind: str
    kind_zh: str
    person_public_id: str
    person_masked: str
    person_name: str | None
    township: str | None
    state: State
    state_zh: str
    received_on: dt.date
    entered_on: dt.date
    """When it entered its current state."""
    due: dt.date | None
    overdue: bool
    last_step: str = ""
    """The last step in words: who, what, when."""


class Applications(Protocol):
    """Where the applications come from (issue 13 implements it over its tables)."""

    @property
    def enabled(self) -> bool: ...

    def count(self, store: Store, caller: Caller, query: WorkQuery) -> int: ...

    def rows(self, store: Store, caller: Caller, query: WorkQuery) -> Sequence[WorkItem]: ...

    def open_for_person(
        self, store: Store, caller: Caller, person_public_id: str
    ) -> Sequence[WorkItem]: ...


class NoApplications:
    """The service before applications are stored: nothing to list, and it says so."""

    enabled = False

    def count(self, store: Store, caller: Caller, query: WorkQuery) -> int:
        return 0

    def rows(self, store: Store, caller: Caller, query: WorkQuery) -> Sequence[WorkItem]:
        return ()

    def open_for_person(
        self, store: Store, caller: Caller, person_public_id: str
    ) -> Sequence[WorkItem]:
        return ()


# -- what each tab holds, by the transition table ----------------------------------------


@cache
def workflow() -> Workflow:
    return load_workflow()


def workflow_role(role: Role) -> WorkflowRole | None:
    """The procedure's role of the same name, if the service's role takes steps at all."""
    try:
        return WorkflowRole(role.value)
    except ValueError:
        return None


def tab_states(w: Workflow, role: Role, tab: Tab) -> frozenset[State]:
    """待办: the open states some transition of ``role`` leaves, withdrawal aside (撤回 is
    the applicant's act, which staff only record: it is no task waiting for them); 已办:
    every open state (the caller's own steps decide); 办结: the closed states."""
    if tab is Tab.closed:
        return frozenset(s for s in State if not w.is_open(s))
    if tab is Tab.done:
        return frozenset(s for s in State if w.is_open(s))
    mine = workflow_role(role)
    if mine is None:
        return frozenset()
    # the 管理员 may take every step (domain.workflow), so every step is one of its tasks
    tasks = [
        t
        for t in w.transitions.values()
        if (mine in t.roles or mine is WorkflowRole.admin) and t.to is not State.withdrawn
    ]
    return frozenset(s for t in tasks for s in t.source if w.is_open(s))


@dataclass(frozen=True, slots=True)
class Options:
    """The values each filter may take (what the page's selects offer)."""

    kinds: list[tuple[str, str]]
    states: list[tuple[State, str]]
    townships: list[str]


def options(store: Store, caller: Caller, tab: Tab) -> Options:
    w = workflow()
    kinds = [(key, k.name) for key, k in store.compiled.policy.applications.items()]
    in_tab = tab_states(w, caller.role, tab)
    states = [(s, w.states[s].name) for s in State if s in in_tab]
    return Options(kinds, states, townships(store, caller))


def townships(store: Store, caller: Caller) -> list[str]:
    """The townships (乡镇) of the registry's households in the caller's jurisdiction."""
    district = func.coalesce(Household.district_code, func.substr(Household.head_id_number, 1, 6))
    query = (
        select(Household.township)
        .distinct()
        .where(Household.township.is_not(None), Household.township != "")
        .where(district.like(literal(caller.jurisdiction) + "%"))
        .order_by(Household.township)
        .limit(500)
    )
    with store.reads() as session, session.begin():
        return [t for t in session.scalars(query) if t]


# -- checking what was asked ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Asked:
    """The worklist as the edge received it: every value still text."""

    tab: str = Tab.todo.value
    kind: str = ""
    township: str = ""
    state: str = ""
    since: str = ""
    until: str = ""
    page: str = "1"

    @classmethod
    def of(cls, values: Mapping[str, str]) -> Asked:
        known = {k: str(values[k]).strip() for k in cls.__dataclass_fields__ if k in values}
        return cls(**known)


def _date(text: str, name: str, what: str, errors: list[tuple[str, str]]) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append((name, f"{what}须为日期，如 2024-05-01"))
        return None


def check(asked: Asked, opts: Options) -> tuple[Tab, WorkFilters, int]:
    """The tab, the filters and the page number, or ``invalid`` naming every bad field."""
    errors: list[tuple[str, str]] = []
    try:
        tab = Tab(asked.tab or Tab.todo.value)
    except ValueError:
        errors.append(("tab", "须为 待办、已办 或 办结"))
        tab = Tab.todo
    kind = asked.kind or None
    if kind is not None and kind not in dict(opts.kinds):
        errors.append(("kind", "没有这种申请"))
    township = asked.township or None
    if township is not None and township not in opts.townships:
        errors.append(("township", "辖区内没有此乡镇"))
    state: State | None = None
    if asked.state:
        allowed = dict(opts.states)
        try:
            state = State(asked.state)
        except ValueError:
            state = None
        if state is None or state not in allowed:
            errors.append(("state", f"「{tab.zh}」中没有此办理环节"))
            state = None
    since = _date(asked.since, "since", "起始日期", errors)
    until = _date(asked.until, "until", "截止日期", errors)
    if since and until and since > until:
        errors.append(("until", "截止日期不得早于起始日期"))
    page = 1
    if asked.page:
        if not asked.page.isdigit() or not 1 <= int(asked.page) <= MAX_PAGE_NUMBER:
            errors.append(("page", "页码须为正整数"))
        else:
            page = int(asked.page)
    if errors:
        raise Refused.many(Kind.invalid, errors)
    return tab, WorkFilters(kind, township, state, since, until), page


# -- the worklist ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkPage:
    tab: Tab
    filters: WorkFilters
    items: Sequence[WorkItem]
    total: int
    page: int
    pages: int
    counts: dict[Tab, int] = field(default_factory=dict)
    enabled: bool = True
    takes_steps: bool = True
    """Whether the caller's role takes any step of the procedure at all."""


def _query(caller: Caller, tab: Tab, filters: WorkFilters, page: int, per_page: int) -> WorkQuery:
    states = tab_states(workflow(), caller.role, tab)
    if filters.state is not None:
        states = states & {filters.state}
    return WorkQuery(
        tab=tab,
        states=frozenset(states),
        actor=caller.name if tab is Tab.done else None,
        jurisdiction=caller.jurisdiction,
        filters=filters,
        offset=(page - 1) * per_page,
        limit=per_page,
    )


def worklist(
    store: Store,
    caller: Caller,
    source: Applications,
    asked: Asked,
    *,
    per_page: int = PER_PAGE,
) -> tuple[WorkPage, Options]:
    """One page of the caller's worklist, and the values its filters may take."""
    tab = Tab(asked.tab) if asked.tab in Tab.__members__ else Tab.todo
    opts = options(store, caller, tab)
    tab, filters, page = check(asked, opts)
    takes_steps = workflow_role(caller.role) is not None
    if not source.enabled:
        return WorkPage(tab, filters, (), 0, page, 1, {t: 0 for t in Tab}, False, takes_steps), opts
    counts = {t: source.count(store, caller, _query(caller, t, WorkFilters(), 1, per_page))
              for t in Tab}  # fmt: skip
    query = _query(caller, tab, filters, page, per_page)
    total = source.count(store, caller, query) if query.states else 0
    pages = max(1, -(-total // per_page))
    if page > pages:  # past the end (the list shrank since): the last page
        page = pages
        query = _query(caller, tab, filters, page, per_page)
    items = source.rows(store, caller, query) if total else ()
    if items:
        with store.sessions() as session, session.begin():
            audit.append(session, caller.name, caller.role.value, "worklist.read",
                         f"worklist:{tab.value}", {"count": len(items), "page": page})  # fmt: skip
    return WorkPage(tab, filters, items, total, page, pages, counts, True, takes_steps), opts
