"""The procedure of an application as a transition table, and the checks it makes.

The table is data (``policies/procedure/applications.yaml``): states, and for each transition the
states it leaves, the state it reaches, the roles that may take it, its guards, the
notice it issues and its clause. This module is the mechanism: which transitions an
application of a kind may take now, and what stands in the way of one (every guard that
fails, in words). It is pure: the application is handed in as an ``ApplicationView``
(plain data the use case reads from storage), the clock as a date.

Nobody approves what they submitted or investigated (``not_own_case``); a kind goes
only through the states its policy names (``ApplicationKind.states``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from jiuzhu.domain.policy.model_bases import SourcedModel, StrictModel
from jiuzhu.domain.policy.params import cite_clauses
from jiuzhu.domain.states import State as State  # re-exported: the table speaks of it


class WorkflowRole(StrEnum):
    """The staff who take the steps (the service's roles of the same names)."""

    township_clerk = "township_clerk"
    county_reviewer = "county_reviewer"
    county_approver = "county_approver"
    civil_affairs = "civil_affairs"
    admin = "admin"

    @property
    def zh(self) -> str:
        return ROLE_ZH[self]


ROLE_ZH = {
    WorkflowRole.township_clerk: "乡镇经办",
    WorkflowRole.county_reviewer: "县级审核",
    WorkflowRole.county_approver: "县级审批",
    WorkflowRole.civil_affairs: "民政部门",
    WorkflowRole.admin: "管理员",
}


class StateSpec(StrictModel):
    name: str
    open: bool


class Deadline(SourcedModel):
    days: int = Field(ge=1, le=365)


class Appeal(SourcedModel):
    """The rights a refusal notice states (晋医保发〔2019〕46号 附件5: "可自收到本决定之日起60日内
    依法提起行政复议，或6个月内向人民法院提起诉讼"), as periods from the day it is received."""

    review_days: int = Field(ge=1, le=365)
    """行政复议: days."""
    lawsuit_months: int = Field(ge=1, le=60)
    """行政诉讼: months."""


class TransitionSpec(StrictModel):
    name: str
    source: list[State] = Field(default_factory=list, alias="from")
    to: State
    roles: list[WorkflowRole] = Field(min_length=1)
    guards: list[str] = Field(default_factory=list)
    notice: Literal["refusal", "approval"] | None = None
    clause: str

    @field_validator("guards")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = [g for g in v if g not in GUARDS]
        if unknown:
            raise ValueError(f"未知的条件 {unknown}（可用：{'、'.join(GUARDS)}）")
        return v


class ActionSpec(StrictModel):
    """Something done within a state, not a step between states (a paper uploaded, an
    objection recorded, the amount computed): who may do it, and in which states."""

    name: str
    states: list[State] = Field(min_length=1)
    roles: list[WorkflowRole] = Field(min_length=1)
    clause: str


class Workflow(StrictModel):
    """The validated table."""

    citation: str
    states: dict[State, StateSpec]
    deadlines: dict[State, Deadline] = Field(default_factory=dict)
    transitions: dict[str, TransitionSpec] = Field(min_length=1)
    appeal: Appeal
    actions: dict[str, ActionSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _cite(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("citation"), str):
            return cite_clauses(data, data["citation"])
        return data

    @model_validator(mode="after")
    def _complete(self) -> Workflow:
        missing = [s for s in State if s not in self.states]
        if missing:
            raise ValueError(f"states 缺少 {missing}")
        for key, t in self.transitions.items():
            if any(not self.states[s].open for s in t.source):
                raise ValueError(f"transitions.{key} 从已办结的状态出发")
        return self

    def is_open(self, state: State) -> bool:
        return self.states[state].open


# ---------------------------------------------------------------------- the application, as seen


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded step of an application's history."""

    transition: str
    actor: str
    role: WorkflowRole
    at: dt.datetime
    opinion: str = ""


@dataclass(frozen=True, slots=True)
class Objection:
    text: str
    upheld: bool | None = None
    """None while not yet resolved."""


@dataclass(slots=True)
class ApplicationView:
    """What the guards look at: plain data, read by the use case from storage."""

    kind: str
    states: tuple[State, ...]
    """The states this kind goes through (its policy's ``ApplicationKind.states``)."""
    state: State | None
    entered: dt.date | None
    person_categories: frozenset[str]
    applicants: frozenset[str] | None
    """Categories that may apply (None: anyone insured)."""
    documents_required: frozenset[str]
    documents_given: frozenset[str]
    history: tuple[Step, ...] = ()
    visit_recorded: bool = False
    publicity_start: dt.date | None = None
    publicity_end: dt.date | None = None
    objections: tuple[Objection, ...] = ()
    amount_computed: bool = False
    payment_recorded: bool = False
    other_open: bool = False
    """Another application of the same kind is open for the person."""
    applied_this_year: bool = False
    """An application of this kind for the person was approved this natural year."""
    once_a_year: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """A transition someone wants to take, with what they write."""

    transition: str
    actor: str
    role: WorkflowRole
    today: dt.date
    opinion: str = ""
    publicity_start: dt.date | None = None
    publicity_end: dt.date | None = None


Guard = Callable[[ApplicationView, Attempt], str | None]
"""A guard returns None when satisfied, else the reason in words."""


def _documents_complete(a: ApplicationView, t: Attempt) -> str | None:
    missing = a.documents_required - a.documents_given
    return None if not missing else f"材料不齐：缺少 {'、'.join(sorted(missing))}"


def _documents_missing(a: ApplicationView, t: Attempt) -> str | None:
    return "材料已齐全，无需补正" if a.documents_required <= a.documents_given else None


def _opinion_given(a: ApplicationView, t: Attempt) -> str | None:
    return None if t.opinion.strip() else "须填写意见"


def _reason_given(a: ApplicationView, t: Attempt) -> str | None:
    return None if t.opinion.strip() else "须写明理由（不符合的规定及条款）"


def _visit_recorded(a: ApplicationView, t: Attempt) -> str | None:
    return None if a.visit_recorded else "尚未填写入户调查记录"


def _publicity_dates(a: ApplicationView, t: Attempt) -> str | None:
    if t.publicity_start is None or t.publicity_end is None:
        return "须填写公示起止日期"
    if t.publicity_end < t.publicity_start:
        return "公示截止日期早于开始日期"
    return None


def _publicity_over(a: ApplicationView, t: Attempt) -> str | None:
    if a.publicity_end is None:
        return "没有公示期"
    if t.today <= a.publicity_end:
        return f"公示期至 {a.publicity_end}，尚未期满"
    return None


def _objections_resolved(a: ApplicationView, t: Attempt) -> str | None:
    open_ = [o for o in a.objections if o.upheld is None]
    if open_:
        return f"有 {len(open_)} 条异议尚未处理"
    if any(o.upheld for o in a.objections):
        return "有异议成立，应作不予救助处理"
    return None


def _objection_upheld(a: ApplicationView, t: Attempt) -> str | None:
    return None if any(o.upheld for o in a.objections) else "没有成立的异议"


def _not_own_case(a: ApplicationView, t: Attempt) -> str | None:
    own = {"submit", "accept_for_visit", "accept_for_review", "record_visit"}
    if any(s.actor == t.actor and s.transition in own for s in a.history):
        return "不得审核、审批本人登记或调查的申请"
    if t.transition in ("approve", "approve_without_publicity") and any(
        s.actor == t.actor and s.transition == "review" for s in a.history
    ):
        return "审核人与审批人不得为同一人"
    return None


def _amount_computed(a: ApplicationView, t: Attempt) -> str | None:
    return None if a.amount_computed else "尚未由结算引擎核定救助金额"


def _payment_recorded(a: ApplicationView, t: Attempt) -> str | None:
    return None if a.payment_recorded else "尚未登记支付信息"


def _applicant_may_apply(a: ApplicationView, t: Attempt) -> str | None:
    if a.applicants is None or a.person_categories & a.applicants:
        return None
    return "申请人不属于可申请此项救助的对象"


def _no_open_application(a: ApplicationView, t: Attempt) -> str | None:
    return "该人员已有同类申请在办理中" if a.other_open else None


def _not_applied_this_year(a: ApplicationView, t: Attempt) -> str | None:
    if a.once_a_year and a.applied_this_year:
        return "一个年度内不得重复申请"
    return None


GUARDS: Mapping[str, Guard] = {
    "documents_complete": _documents_complete,
    "documents_missing": _documents_missing,
    "opinion_given": _opinion_given,
    "reason_given": _reason_given,
    "visit_recorded": _visit_recorded,
    "publicity_dates_given": _publicity_dates,
    "publicity_over": _publicity_over,
    "objections_resolved": _objections_resolved,
    "objection_upheld": _objection_upheld,
    "not_own_case": _not_own_case,
    "amount_computed": _amount_computed,
    "payment_recorded": _payment_recorded,
    "applicant_may_apply": _applicant_may_apply,
    "no_open_application": _no_open_application,
    "not_applied_this_year": _not_applied_this_year,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a transition cannot be taken: the reasons, each in words."""

    transition: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def open_to_kind(w: Workflow, key: str, states: Sequence[State]) -> bool:
    """A transition belongs to a kind when its target (and every source) is among the
    kind's states; terminal states are always there."""
    t = w.transitions[key]
    allowed = set(states) | {s for s in State if not w.is_open(s)}
    return t.to in allowed and (not t.source or any(s in allowed for s in t.source))


def check(w: Workflow, a: ApplicationView, attempt: Attempt) -> list[str]:
    """Every reason ``attempt`` cannot be taken now (empty: it can)."""
    t = w.transitions.get(attempt.transition)
    if t is None:
        return [f"没有“{attempt.transition}”这一步"]
    if not open_to_kind(w, attempt.transition, a.states):
        return [f"此类申请没有“{t.name}”这一步"]
    reasons = []
    if t.source and a.state not in t.source:
        now = "尚未登记" if a.state is None else w.states[a.state].name
        reasons.append(f"申请当前为“{now}”，不能{t.name}")
    elif not t.source and a.state is not None:
        reasons.append("申请已登记")
    if attempt.role not in t.roles and attempt.role is not WorkflowRole.admin:
        who = "、".join(r.zh for r in t.roles)
        reasons.append(f"“{t.name}”须由{who}办理")
    for name in t.guards:
        problem = GUARDS[name](a, attempt)
        if problem is not None:
            reasons.append(problem)
    return reasons


def check_action(w: Workflow, a: ApplicationView, action: str, role: WorkflowRole) -> list[str]:
    """Every reason ``role`` may not do ``action`` on the application now (empty: it may)."""
    spec = w.actions.get(action)
    if spec is None:
        return [f"没有“{action}”这项办理"]
    reasons = []
    if a.state not in spec.states:
        now = "尚未登记" if a.state is None else w.states[a.state].name
        where = "、".join(w.states[s].name for s in spec.states)
        reasons.append(f"申请当前为“{now}”，不能{spec.name}（仅限{where}阶段）")
    if role not in spec.roles and role is not WorkflowRole.admin:
        who = "、".join(r.zh for r in spec.roles)
        reasons.append(f"“{spec.name}”须由{who}办理")
    return reasons


def available(w: Workflow, a: ApplicationView, role: WorkflowRole) -> list[str]:
    """The transitions ``role`` could take now (their guards not yet checked)."""
    out = []
    for key, t in w.transitions.items():
        if not open_to_kind(w, key, a.states):
            continue
        if (a.state in t.source) and (role in t.roles or role is WorkflowRole.admin):
            out.append(key)
    return out


def due(w: Workflow, a: ApplicationView) -> dt.date | None:
    """The day the current step should be done by (None: no deadline, or closed)."""
    if a.state is None or a.entered is None or not w.is_open(a.state):
        return None
    d = w.deadlines.get(a.state)
    return None if d is None else a.entered + dt.timedelta(days=d.days)


def overdue(w: Workflow, a: ApplicationView, today: dt.date) -> bool:
    day = due(w, a)
    return day is not None and today > day
