"""The application procedure as a transition table (policies/procedure/applications.yaml):
every allowed and every forbidden transition, for every role and every kind of every
policy; the guards, each in words; deadlines and overdue steps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache

import pytest

from jiuzhu.domain.policy.model import ApplicationKind
from jiuzhu.domain.workflow import (
    GUARDS,
    ApplicationView,
    Attempt,
    Objection,
    State,
    Step,
    Workflow,
    WorkflowRole,
    available,
    check,
    check_action,
    due,
    open_to_kind,
    overdue,
)
from jiuzhu.io.policy_files import load_policy, load_workflow, shipped_ids

TODAY = dt.date(2024, 6, 1)


@cache
def workflow() -> Workflow:
    return load_workflow()


def kinds() -> list[tuple[str, str, ApplicationKind]]:
    return [
        (pid, key, kind)
        for pid in shipped_ids()
        for key, kind in load_policy(pid).applications.items()
    ]


def test_every_policy_names_its_kinds_with_clauses() -> None:
    found = {(pid, key) for pid, key, _ in kinds()}
    assert {
        ("liaocheng-2023", "illness_impoverished"),
        ("hangzhou-2023", "spending_hardship"),
        ("hangzhou-2023", "special_assistance"),
        ("shanxi-2019", "low_income"),
        ("shanxi-2019", "out_of_area"),
        ("fujian-2022", "one_off"),
        ("maoming-2018", "scattered_reimbursement"),
    } <= found
    for pid, key, kind in kinds():
        assert kind.clause and kind.clause.startswith(load_policy(pid).citation), (pid, key)
        assert kind.documents and kind.states[0] is State.received


def _passing(kind: ApplicationKind, state: State | None) -> ApplicationView:
    """An application whose every guard passes (documents given, visit recorded, …)."""
    docs = frozenset(d.key for d in kind.documents)
    return ApplicationView(
        kind="k",
        states=tuple(kind.states),
        state=state,
        entered=TODAY - dt.timedelta(days=1),
        person_categories=frozenset(c.value for c in kind.applicants or []),
        applicants=None if kind.applicants is None else frozenset(c.value for c in kind.applicants),
        documents_required=docs,
        documents_given=docs,
        visit_recorded=True,
        publicity_start=TODAY - dt.timedelta(days=10),
        publicity_end=TODAY - dt.timedelta(days=3),
        amount_computed=True,
        payment_recorded=True,
    )


def _attempt(key: str, role: WorkflowRole) -> Attempt:
    return Attempt(
        key,
        actor="someone-new",
        role=role,
        today=TODAY,
        opinion="符合规定",
        publicity_start=TODAY,
        publicity_end=TODAY + dt.timedelta(days=7),
    )


def _satisfiable_guards(key: str) -> bool:
    """Some transitions need what the others must not have (补正 needs missing papers)."""
    return key not in ("request_documents", "refuse_on_objection")


@pytest.mark.parametrize(("pid", "key", "kind"), kinds(), ids=lambda x: getattr(x, "name", x))
def test_every_transition_for_every_role_and_state(
    pid: str, key: str, kind: ApplicationKind
) -> None:
    w = workflow()
    states: list[State | None] = [None, *kind.states]
    for state in states:
        view = _passing(kind, state)
        for tkey, t in w.transitions.items():
            for role in WorkflowRole:
                reasons = check(w, view, _attempt(tkey, role))
                in_kind = open_to_kind(w, tkey, kind.states)
                from_here = (state in t.source) if t.source else state is None
                may = role in t.roles or role is WorkflowRole.admin
                allowed = in_kind and from_here and may
                if allowed and _satisfiable_guards(tkey):
                    assert reasons == [], (tkey, role, state, reasons)
                elif not allowed:
                    assert reasons, (tkey, role, state)
                    if in_kind and from_here and not may:
                        assert any("须由" in r for r in reasons), reasons
            listed = set(available(w, view, WorkflowRole.admin)) if state is not None else set()
            expect = {
                k
                for k, t in w.transitions.items()
                if state in t.source and open_to_kind(w, k, kind.states)
            }
            assert listed == expect


def test_kinds_without_a_home_visit_skip_it() -> None:
    w = workflow()
    policy = load_policy("hangzhou-2023")
    kind = policy.applications["special_assistance"]
    assert not open_to_kind(w, "accept_for_visit", kind.states)
    assert open_to_kind(w, "accept_for_review", kind.states)
    ident = policy.applications["spending_hardship"]
    assert not open_to_kind(w, "approve", ident.states)  # no 结果公示
    assert open_to_kind(w, "approve_without_publicity", ident.states)


def _shanxi() -> ApplicationKind:
    return load_policy("shanxi-2019").applications["low_income"]


def test_guards_say_what_stands_in_the_way() -> None:
    w, kind = workflow(), _shanxi()
    view = dataclasses.replace(
        _passing(kind, State.received), documents_given=frozenset({"diagnosis"})
    )
    got = check(w, view, _attempt("accept_for_visit", WorkflowRole.township_clerk))
    assert got and got[0].startswith("材料不齐：缺少")
    assert check(w, view, _attempt("request_documents", WorkflowRole.township_clerk)) == []
    nothing = dataclasses.replace(_attempt("not_accept", WorkflowRole.township_clerk), opinion="")
    assert check(w, view, nothing) == ["须写明理由（不符合的规定及条款）"]
    early = dataclasses.replace(_passing(kind, State.publicity), publicity_end=TODAY)
    got = check(w, early, _attempt("close_publicity", WorkflowRole.township_clerk))
    assert got == [f"公示期至 {TODAY}，尚未期满"]
    objected = dataclasses.replace(
        _passing(kind, State.publicity), objections=(Objection("有房产"),)
    )
    got = check(w, objected, _attempt("close_publicity", WorkflowRole.township_clerk))
    assert got == ["有 1 条异议尚未处理"]
    upheld = dataclasses.replace(objected, objections=(Objection("有房产", True),))
    assert check(w, upheld, _attempt("refuse_on_objection", WorkflowRole.township_clerk)) == []


def test_nobody_approves_what_they_submitted_or_investigated() -> None:
    w, kind = workflow(), _shanxi()
    t0 = dt.datetime(2024, 5, 1, 9, 0)
    history = (
        Step("submit", "clerk-a", WorkflowRole.township_clerk, t0),
        Step("record_visit", "clerk-b", WorkflowRole.township_clerk, t0),
        Step("review", "reviewer-c", WorkflowRole.county_reviewer, t0),
    )
    view = dataclasses.replace(_passing(kind, State.county_approval), history=history)
    for actor in ("clerk-a", "clerk-b", "reviewer-c"):
        attempt = dataclasses.replace(
            _attempt("approve", WorkflowRole.county_approver), actor=actor
        )
        assert check(w, view, attempt), actor
    ok = dataclasses.replace(_attempt("approve", WorkflowRole.county_approver), actor="approver-d")
    assert check(w, view, ok) == []


def test_one_open_application_and_once_a_year() -> None:
    w = workflow()
    kind = load_policy("liaocheng-2023").applications["illness_impoverished"]
    assert kind.once_a_year
    view = dataclasses.replace(_passing(kind, None), other_open=True)
    assert check(w, view, _attempt("submit", WorkflowRole.township_clerk)) == [
        "该人员已有同类申请在办理中"
    ]
    view = dataclasses.replace(
        _passing(kind, None), applied_this_year=True, once_a_year=kind.once_a_year
    )
    assert check(w, view, _attempt("submit", WorkflowRole.civil_affairs)) == [
        "一个年度内不得重复申请"
    ]


def test_only_the_categories_a_document_names_may_apply() -> None:
    w, kind = workflow(), _shanxi()
    view = dataclasses.replace(_passing(kind, None), person_categories=frozenset({"dibao"}))
    assert check(w, view, _attempt("submit", WorkflowRole.township_clerk)) == [
        "申请人不属于可申请此项救助的对象"
    ]


def test_deadlines_and_overdue_steps() -> None:
    w, kind = workflow(), _shanxi()
    view = dataclasses.replace(_passing(kind, State.home_visit), entered=dt.date(2024, 5, 1))
    assert w.deadlines[State.home_visit].assumed  # the documents set no time limit
    assert due(w, view) == dt.date(2024, 5, 11)
    assert not overdue(w, view, dt.date(2024, 5, 11))
    assert overdue(w, view, dt.date(2024, 5, 12))
    closed = dataclasses.replace(view, state=State.paid)
    assert due(w, closed) is None


def test_the_table_is_checked_when_read() -> None:
    data = {
        "citation": "晋医保发〔2019〕46号",
        "states": {s.value: {"name": s.value, "open": True} for s in State},
        "transitions": {
            "x": {"name": "x", "to": "paid", "roles": ["admin"], "guards": ["nope"], "clause": "三"}
        },
    }
    with pytest.raises(ValueError, match="未知的条件"):
        Workflow.model_validate(data)
    assert set(GUARDS) >= {g for t in workflow().transitions.values() for g in t.guards}


@pytest.mark.parametrize(("pid", "key", "kind"), kinds(), ids=lambda x: getattr(x, "name", x))
def test_every_action_within_a_state_for_every_role(
    pid: str, key: str, kind: ApplicationKind
) -> None:
    """The things done within a state (a paper uploaded, an objection, the amount
    computed): allowed in their states to their roles (and the admin), refused otherwise
    with the state or the role in words."""
    w = workflow()
    for state in kind.states:
        view = _passing(kind, state)
        for akey, spec in w.actions.items():
            for role in WorkflowRole:
                reasons = check_action(w, view, akey, role)
                here = state in spec.states
                may = role in spec.roles or role is WorkflowRole.admin
                assert (reasons == []) == (here and may), (akey, state, role, reasons)
                if here and not may:
                    assert any("须由" in r for r in reasons)
                if not here:
                    assert any(f"不能{spec.name}" in r for r in reasons)


def test_the_appeal_periods_of_a_refusal_are_the_documents() -> None:
    """附件5: 60 日内 行政复议, 6 个月内 诉讼."""
    a = workflow().appeal
    assert (a.review_days, a.lawsuit_months) == (60, 6)
    assert a.clause == "晋医保发〔2019〕46号 附件5" and not a.assumed
