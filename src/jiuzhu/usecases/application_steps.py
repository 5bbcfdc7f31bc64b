"""The steps of an application by the name the edges take them (``POST
/applications/{id}/steps/{step}``, ``jiuzhu application …``): one table, so the route and
the command call the same use case for the same name. docs/applications.md lists what
each needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jiuzhu.usecases import applications, approval, assessment, home_visits, publicity
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.unit import Store

STEPS: dict[str, Callable[[Store, Caller, str, Any], str]] = {
    "request_supplement": applications.request_supplement,
    "resubmit": applications.resubmit,
    "accept": applications.accept,
    "not_accept": applications.not_accept,
    "withdraw": applications.withdraw,
    "record_visit": home_visits.record_visit,
    "township_approve": home_visits.township_approve,
    "township_refuse": home_visits.township_refuse,
    "record_objection": publicity.record_objection,
    "resolve_objection": publicity.resolve_objection,
    "close_publicity": publicity.close_publicity,
    "refuse_on_objection": publicity.refuse_on_objection,
    "assess": assessment.assess,
    "review": approval.review,
    "return_to_township": approval.return_to_township,
    "approve": approval.approve,
    "return_to_review": approval.return_to_review,
    "refuse": approval.refuse,
    "pay": approval.pay,
}
