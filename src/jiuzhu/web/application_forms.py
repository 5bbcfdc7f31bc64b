"""The forms of an application's page: which step each is, which use case takes it, and
how a posted form becomes what that use case reads (ADR 18).

A form's fields are plain text; a form turns them into the use case's input without
judging them (the use case checks every value and names the field it refuses): empty
fields are left out, so a required one is reported as missing; the home visit's
household members come as numbered rows (``members-0-name`` …), empty rows dropped;
the investigators as one line split at 、 or ，; an account as three fields. The errors
the use case gives back name its fields (``members[1].income``); :func:`field_id` turns
each into the id of the field on the page, prefixed by the form so two forms on one page
never share an id.

Which forms a page shows is the use case's answer (``ApplicationDetail.possible``):
:data:`FORM_OF` maps each step or action of the procedure to its form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jiuzhu.usecases import (
    applications,
    approval,
    assessment,
    home_visits,
    publicity,
)
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.unit import Store

UseCase = Callable[[Store, Caller, str, Any], str]

MEMBER_ROWS = 6
"""Rows of household members the visit form offers (more: a second visit record)."""


@dataclass(frozen=True, slots=True)
class StepForm:
    key: str
    """The form's name in its address: ``/web/applications/{id}/steps/{key}``."""
    title: str
    """Its heading and button, in the procedure's words."""
    use: UseCase
    fields: tuple[str, ...]
    """The use case's own fields this form fills as typed (version aside)."""
    layout: str
    """How the page draws it (``_application_forms.html``)."""
    refusal: bool = False
    """Ends the application with the written notice of 附件5."""


def _opinion(key: str, title: str, use: UseCase) -> StepForm:
    return StepForm(key, title, use, ("opinion",), "opinion")


def _refusal(key: str, title: str, use: UseCase) -> StepForm:
    return StepForm(key, title, use, ("opinion", "clause"), "refusal", refusal=True)


FORMS: dict[str, StepForm] = {
    f.key: f
    for f in (
        _opinion("accept", "受理", applications.accept),
        _opinion("request_supplement", "退回补正", applications.request_supplement),
        _opinion("resubmit", "补正后重新提交", applications.resubmit),
        StepForm(
            "record_visit",
            "提交入户调查记录",
            home_visits.record_visit,
            (
                "visited_on",
                "income",
                "assets",
                "illness",
                "opinion",
                "witness_name",
                "witness_title",
            ),
            "visit",
        ),
        StepForm(
            "township_approve",
            "乡镇审核通过并公示",
            home_visits.township_approve,
            ("opinion", "publicity_start", "publicity_end", "publicity_place"),
            "publicity",
        ),
        StepForm(
            "record_objection",
            "登记公示异议",
            publicity.record_objection,
            ("text", "received_on"),
            "objection",
        ),
        StepForm(
            "resolve_objection",
            "处理公示异议",
            publicity.resolve_objection,
            ("objection", "upheld", "resolution"),
            "resolve",
        ),
        _opinion("close_publicity", "公示期满", publicity.close_publicity),
        StepForm(
            "assess",
            "核定救助金额",
            assessment.assess,
            ("opinion", "identified_on"),
            "assess",
        ),
        _opinion("review", "县级审核通过", approval.review),
        StepForm(
            "approve",
            "县级审批通过",
            approval.approve,
            ("opinion", "publicity_start", "publicity_end", "publicity_place"),
            "approve",
        ),
        StepForm("pay", "支付", approval.pay, ("voucher", "paid_on", "opinion"), "pay"),
        _opinion("return_to_township", "退回乡镇", approval.return_to_township),
        _opinion("return_to_review", "退回县级审核", approval.return_to_review),
        _refusal("not_accept", "不予受理", applications.not_accept),
        _refusal("township_refuse", "乡镇审核不予救助", home_visits.township_refuse),
        _refusal("refuse_on_objection", "公示异议成立不予救助", publicity.refuse_on_objection),
        _refusal("refuse", "县级不予救助", approval.refuse),
        _opinion("withdraw", "申请人撤回", applications.withdraw),
    )
}
"""Every form, in the order a page shows them: the step forward first (an assessment
before the review that needs it), then sending back, then refusals, then withdrawal."""

FORM_OF: dict[str, str] = {
    "accept_for_visit": "accept",
    "accept_for_review": "accept",
    "request_documents": "request_supplement",
    "resubmit": "resubmit",
    "not_accept": "not_accept",
    "record_visit": "record_visit",
    "township_approve": "township_approve",
    "township_refuse": "township_refuse",
    "record_objection": "record_objection",
    "record_result_objection": "record_objection",
    "resolve_objection": "resolve_objection",
    "resolve_result_objection": "resolve_objection",
    "close_publicity": "close_publicity",
    "close_result_publicity": "close_publicity",
    "refuse_on_objection": "refuse_on_objection",
    "assess": "assess",
    "review": "review",
    "return_to_township": "return_to_township",
    "approve": "approve",
    "approve_without_publicity": "approve",
    "return_to_review": "return_to_review",
    "refuse": "refuse",
    "pay": "pay",
    "withdraw": "withdraw",
}
"""The procedure's steps and actions (``applications.yaml``) → the form that takes them.
``attach_document`` is the upload form of the checklist, not one of these."""

_SPLIT = re.compile(r"[、，,；;\s]+")


def field_id(form: str, name: str) -> str:
    """The id of a use case's field on the page: ``members[1].income`` of the visit form
    is ``record_visit-members-1-income``."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")
    return f"{form}-{slug}" if slug else f"{form}-form"


def _given(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: form[n] for n in names if form.get(n)}


def _account(form: Mapping[str, str]) -> dict[str, str] | None:
    parts = {k: form.get(f"account-{k}", "") for k in ("holder", "bank", "number")}
    return parts if any(parts.values()) else None


def members(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The household members' rows as typed, empty rows left out (the numbering kept as
    the use case's, so its error for ``members[0]`` names the first row given)."""
    out = []
    for i in range(MEMBER_ROWS):
        row = {
            k: form.get(f"members-{i}-{k}", "")
            for k in ("name", "relation", "age", "health", "occupation", "income")
        }
        if any(row.values()):
            out.append({k: v for k, v in row.items() if v})
    return out


def step_data(spec: StepForm, form: Mapping[str, str]) -> dict[str, Any]:
    """What the use case of ``spec`` reads, from the posted ``form``."""
    data: dict[str, Any] = _given(form, spec.fields)
    data["version"] = form.get("version", "")
    if spec.key == "record_visit":
        names = [n for n in _SPLIT.split(form.get("investigators", "")) if n]
        data["investigators"] = names
        data["members"] = members(form)
    elif spec.key == "pay":
        account = _account(form)
        if account is not None:
            data["account"] = account
    elif spec.key == "assess":
        ids = [s for s in _SPLIT.split(form.get("claims", "")) if s]
        if ids:
            data["claims"] = [{"settlement_id": s} for s in ids]
    return data


SUBMIT_FIELDS = ("id_number", "kind", "applicant_name", "township", "received_on", "reason")


def submit_data(form: Mapping[str, str]) -> dict[str, Any]:
    """登记申请's input: the ID number comes in the form's body, never in an address."""
    data: dict[str, Any] = _given(form, SUBMIT_FIELDS)
    account = _account(form)
    if account is not None:
        data["account"] = account
    return data
