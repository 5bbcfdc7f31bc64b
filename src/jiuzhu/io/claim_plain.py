"""Claims in the contract's common plain shapes, read without pydantic.

Nearly every claim a hospital sends is a JSON object exactly as docs/design.md shows
it: yuan strings for money, an integer hospital level, ``true``/``false``, dates as
``YYYY-MM-DD``, a category by identifier or name. Reading those through the pydantic
contract costs a one-claim ``jiuzhu settle`` most of its start-up (issue 11), so this
reader builds their ``Claim`` directly, through the same field functions as the
contract (``io/claim_fields.py``).

It is only ever certain or silent: a record it cannot vouch for in every field (an
unknown key, another type, another date format, a value that would be an error)
gives ``None`` and goes to the contract (``io/claim_contract.py``), which alone
words errors. So an accepted claim equals the contract's, and every refusal is the
contract's own (tests/test_claim_plain.py checks both on generated records).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled, Reviewed
from jiuzhu.domain.money import Fen
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.claim_fields import (
    bill_date_of,
    bill_problems,
    category_of,
    money_of,
    span_problem,
    visit_of,
)

_REQUIRED = frozenset(
    {
        "claim_id",
        "person_id",
        "visit_type",
        "settlement_date",
        "admission_date",
        "hospital_level",
        "referred",
        "total",
        "full_self_pay",
        "partial_self_pay",
        "policy_scope",
    }
)
_KNOWN = _REQUIRED | {
    "category",
    "categories",
    "insurance",
    "other_payments",
    "disease",
    "out_of_area",
    "out_of_area_filed",
    "quota_hospital",
    "late_stage",
    "reviewed",
}
_SPAN_KEYS = frozenset({"category", "valid_from", "valid_to", "applied_on"})
_INSURANCE_KEYS = frozenset({"basic_insurance", "critical_illness_insurance"})
_REVIEW_KEYS = frozenset({"benefit", "accepted", "application"})

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""The one date shape taken here: pydantic's own date parsing (the spans' dates) and
``date.fromisoformat`` (the bill's) agree on it, and on nothing looser."""

_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate (JSON allows ``\\ud800``) is text pydantic refuses."""

_BENEFITS: dict[str, Benefit] = {b.value: b for b in Benefit}


class _Unsure(Exception):
    """A value this reader does not vouch for: the contract reads the record."""


def read_plain(data: Any) -> Claim | None:
    """The claim of a record in the common plain shapes, or ``None`` when the contract
    must read it (anything else, including every record with a problem)."""
    if type(data) is not dict or not _REQUIRED <= data.keys() <= _KNOWN:
        return None
    try:
        claim = _claim(data)
    except (_Unsure, ValueError):  # ValueError: a field function refused the value
        return None
    return None if bill_problems(claim) else claim


def _claim(d: dict[str, Any]) -> Claim:
    return Claim(
        claim_id=_text(d["claim_id"], 64, required=True),
        person_id=_text(d["person_id"], 64, required=True),
        visit_type=_visit(d["visit_type"]),
        settlement_date=_bill_date(d["settlement_date"]),
        admission_date=_bill_date(d["admission_date"]),
        hospital_level=_level(d["hospital_level"]),
        referred=_flag(d["referred"]),
        total=_money(d["total"]),
        full_self_pay=_money(d["full_self_pay"]),
        partial_self_pay=_money(d["partial_self_pay"]),
        policy_scope=_money(d["policy_scope"]),
        categories=_spans(d.get("category"), d.get("categories")),
        reviewed=_reviewed(d.get("reviewed")),
        insurance=_insurance(d.get("insurance")),
        other_payments=_money(d["other_payments"]) if "other_payments" in d else Fen(0),
        disease=_optional_text(d.get("disease"), 100),
        out_of_area=_flag(d.get("out_of_area", False)),
        out_of_area_filed=_flag(d.get("out_of_area_filed", False)),
        quota_hospital=_flag(d.get("quota_hospital", False)),
        late_stage=_flag(d.get("late_stage", False)),
    )


def _text(v: Any, longest: int, *, required: bool = False) -> str:
    """Text as the contract keeps it (never stripped), within its length in characters."""
    if type(v) is not str or len(v) > longest or (required and not v) or _SURROGATE.search(v):
        raise _Unsure
    return v


def _optional_text(v: Any, longest: int) -> str | None:
    return None if v is None else _text(v, longest)


def _flag(v: Any) -> bool:
    if type(v) is not bool:
        raise _Unsure
    return v


def _level(v: Any) -> int:
    if type(v) is not int or v not in (1, 2, 3):
        raise _Unsure
    return v


def _money(v: Any) -> Fen:
    if type(v) is not str:
        raise _Unsure
    return money_of(v)


def _visit(v: Any) -> VisitType:
    if type(v) is not str:
        raise _Unsure
    found: VisitType = visit_of(v)
    return found


def _category(v: Any) -> Category:
    if type(v) is not str:
        raise _Unsure
    found: Category = category_of(v)
    return found


def _bill_date(v: Any) -> dt.date:
    if type(v) is not str or not _ISO_DATE.fullmatch(v):
        raise _Unsure
    return bill_date_of(v)


def _span_date(v: Any) -> dt.date | None:
    if v is None:
        return None
    if type(v) is not str or not _ISO_DATE.fullmatch(v):
        raise _Unsure
    return dt.date.fromisoformat(v)


def _spans(category: Any, categories: Any) -> tuple[CategorySpan, ...]:
    """Exactly one of ``category`` and a non-empty ``categories`` (``null`` is absent)."""
    if category is not None and categories is None:
        return (CategorySpan(_category(category)),)
    if category is None and type(categories) is list and categories:
        return tuple(_span(item) for item in categories)
    raise _Unsure


def _span(item: Any) -> CategorySpan:
    if type(item) is not dict or "category" not in item or not item.keys() <= _SPAN_KEYS:
        raise _Unsure
    span = CategorySpan(
        _category(item["category"]),
        _span_date(item.get("valid_from")),
        _span_date(item.get("valid_to")),
        _span_date(item.get("applied_on")),
    )
    if span_problem(span.valid_from, span.valid_to, span.applied_on) is not None:
        raise _Unsure
    return span


def _insurance(v: Any) -> PreSettled | None:
    if v is None:
        return None
    if type(v) is not dict or v.keys() != _INSURANCE_KEYS:
        raise _Unsure
    return PreSettled(_money(v["basic_insurance"]), _money(v["critical_illness_insurance"]))


def _reviewed(v: Any) -> tuple[Reviewed, ...]:
    if v is None:
        return ()
    if type(v) is not list:
        raise _Unsure
    return tuple(_review(item) for item in v)


def _review(item: Any) -> Reviewed:
    if type(item) is not dict or "benefit" not in item or not item.keys() <= _REVIEW_KEYS:
        raise _Unsure
    benefit = item["benefit"]
    if type(benefit) is not str or benefit not in _BENEFITS:
        raise _Unsure
    accepted = item.get("accepted")
    return Reviewed(
        _BENEFITS[benefit],
        None if accepted is None else _money(accepted),
        _optional_text(item.get("application"), 64),
    )
