"""The states of an application's procedure (受理 … 已支付), on their own: the policy model
names the states a kind goes through (``ApplicationKind.states``) and the procedure's table
(``domain/workflow.py``) is built on the policy's parameter types, so neither may import
the other for them."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    received = "received"
    supplement = "supplement"
    home_visit = "home_visit"
    township_review = "township_review"
    publicity = "publicity"
    county_review = "county_review"
    county_approval = "county_approval"
    result_publicity = "result_publicity"
    payment = "payment"
    paid = "paid"
    refused = "refused"
    not_accepted = "not_accepted"
    withdrawn = "withdrawn"
