"""The plain reader (``io/claim_plain.py``) is certain or silent.

For generated records, valid ones across every field and ones mutated every way a
file goes wrong, the plain reader either gives nothing or the very ``Claim`` the
pydantic contract gives; and what ``parse_record``/``parse_lines`` return is what
they returned when every record went through the contract (errors, fields and
lines byte for byte).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.vocabulary import (
    CATEGORY_ALIASES,
    CATEGORY_ZH,
    VISIT_ALIASES,
    VISIT_ZH,
    Benefit,
    Category,
    VisitType,
)
from jiuzhu.io import claims
from jiuzhu.io.claim_contract import ClaimIn, _check, to_domain
from jiuzhu.io.claim_plain import read_plain
from jiuzhu.io.claims import InputError, Parsed, parse_lines, parse_record
from jiuzhu.io.errors import flatten
from tests.cli_helpers import ONE_CLAIM

CATEGORY_WORDS = [c.value for c in Category] + list(CATEGORY_ZH.values()) + list(CATEGORY_ALIASES)
VISIT_WORDS = [v.value for v in VisitType] + list(VISIT_ZH.values()) + list(VISIT_ALIASES)
PADDING = st.sampled_from(["", "", " ", "\t", "\u3000"])
DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
FEN = st.one_of(st.integers(0, 10_000_000), st.integers(0, 33_333_333_333))  # three stay < 10亿元


def contract_record(data: Any, line: int) -> Claim | list[InputError]:
    """``parse_record`` as it was before the plain reader: every record through ClaimIn."""
    if not isinstance(data, dict):
        return [InputError(line, None, "", "每行须为一个 JSON 对象")]
    raw_id = data.get("claim_id")
    claim_id = raw_id if isinstance(raw_id, str) and raw_id else None
    try:
        parsed = ClaimIn.model_validate(data)
    except ValidationError as err:
        return [InputError(line, claim_id, path, msg) for path, msg in flatten(err)]
    problems = _check(parsed)
    if problems:
        return [InputError(line, claim_id, path, msg) for path, msg in problems]
    return to_domain(parsed)


def outcome(read: Callable[[], object]) -> object:
    """What a reader gives, or the exception it raises: a lone surrogate in a name the
    contract cannot find (``"visit_type": "c1\\udfff"``) makes pydantic raise
    UnicodeEncodeError while wording the error, before and after the plain reader."""
    try:
        return read()
    except UnicodeEncodeError as err:
        return ("raised", repr(err))


def same(a: object, b: object) -> bool:
    """Equal, and equal in repr too (so ``True`` is not ``1`` nor an enum its value)."""
    return a == b and repr(a) == repr(b)


@st.composite
def words(draw: st.DrawFn, pool: list[str]) -> str:
    return draw(PADDING) + draw(st.sampled_from(pool)) + draw(PADDING)


@st.composite
def spans(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        span: dict[str, Any] = {"category": draw(words(CATEGORY_WORDS))}
        start = draw(st.none() | DAYS)
        if start is not None or draw(st.booleans()):
            span["valid_from"] = None if start is None else start.isoformat()
        if draw(st.booleans()):
            end = None if start is None else start + dt.timedelta(days=draw(st.integers(0, 900)))
            span["valid_to"] = None if end is None else end.isoformat()
        if start is not None and draw(st.booleans()):
            applied = start - dt.timedelta(days=draw(st.integers(0, 400)))
            span["applied_on"] = applied.isoformat()
        out.append(span)
    return out


@st.composite
def reviews(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for benefit in draw(st.lists(st.sampled_from(list(Benefit)), max_size=3)):
        review: dict[str, Any] = {"benefit": benefit.value}
        if draw(st.booleans()):
            review["accepted"] = draw(st.none() | FEN.map(format_yuan))
        if draw(st.booleans()):
            review["application"] = draw(st.none() | st.text(max_size=64))
        out.append(review)
    return out


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    """A record the contract accepts, in the shapes docs/design.md shows, every field drawn."""
    settled = draw(DAYS)
    admitted = settled - dt.timedelta(days=draw(st.integers(0, 400)))
    full, partial, scope = draw(FEN), draw(FEN), draw(FEN)
    total = full + partial + scope
    record: dict[str, Any] = {
        "claim_id": draw(st.text(min_size=1, max_size=64)),
        "person_id": draw(st.text(min_size=1, max_size=64)),
        "visit_type": draw(words(VISIT_WORDS)),
        "settlement_date": settled.isoformat(),
        "admission_date": admitted.isoformat(),
        "hospital_level": draw(st.sampled_from([1, 2, 3])),
        "referred": draw(st.booleans()),
        "total": format_yuan(total),
        "full_self_pay": format_yuan(full),
        "partial_self_pay": format_yuan(partial),
        "policy_scope": format_yuan(scope),
    }
    if draw(st.booleans()):
        record["category"] = draw(words(CATEGORY_WORDS))
        if draw(st.booleans()):
            record["categories"] = None
    else:
        record["categories"] = draw(spans())
        if draw(st.booleans()):
            record["category"] = None
    paid = 0
    if draw(st.booleans()):
        basic = draw(st.integers(0, scope))
        critical = draw(st.integers(0, scope - basic))
        paid = basic + critical
        record["insurance"] = {
            "basic_insurance": format_yuan(basic),
            "critical_illness_insurance": format_yuan(critical),
        }
    elif draw(st.booleans()):
        record["insurance"] = None
    if draw(st.booleans()):
        record["other_payments"] = format_yuan(draw(st.integers(0, total - paid)))
    if draw(st.booleans()):
        record["disease"] = draw(st.none() | st.text(max_size=100) | st.sampled_from(["C50.1"]))
    out_of_area = draw(st.booleans())
    if out_of_area or draw(st.booleans()):
        record["out_of_area"] = out_of_area
    if draw(st.booleans()):
        record["out_of_area_filed"] = out_of_area and draw(st.booleans())
    for flag in ("quota_hospital", "late_stage"):
        if draw(st.booleans()):
            record[flag] = draw(st.booleans())
    if draw(st.booleans()):
        record["reviewed"] = draw(st.none() | reviews())
    return record


ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "c1\udfff",
    "x" * 65,
    "x" * 101,
    "  2023-06-30",
    "2023-06-30\n",
    "2023-06-30 ",
    "20230630",
    "2023-6-30",
    "2023-02-29",
    "2024-02-30",
    "0000-01-01",
    "2023-06-30T00:00:00",
    "2023-W26-5",
    "２０２３-０６-３０",
    "٢٠٢٣-٠٦-٣٠",
    "1688083200",
    "30000.00\n",
    " 30000.00",
    "30000.0",
    "30000",
    "-1.00",
    "-0.00",
    "+1.00",
    "1e3",
    "1,000.00",
    "01.00",
    "３０.００",
    "١٢.٣٤",
    "999999999.99",
    "1000000000.00",
    "99999999999999999999.00",
    "dibao",
    " 低保 ",
    "Dibao",
    "inpatient",
    "住院\u3000",
    "medical_assistance",
    " medical_assistance",
    "true",
    "2",
]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    3,
    4,
    -1,
    2.0,
    30000.0,
    float("nan"),
    10**30,
    -(10**30),
    [],
    {},
    [{}],
    {"category": "dibao"},
    [{"category": "dibao"}],
    *ODD_TEXT,
]
ODD = st.sampled_from(ODD_VALUES).map(copy.deepcopy)  # a fresh copy: mutations nest in them
UNKNOWN_KEYS = ["extra", "Total", "claimId", "category ", "valid_from", "benefit", ""]


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    """A valid record after a few things went wrong in it (or around it)."""
    record = draw(valid_records())
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, record)
    return record if draw(st.integers(0, 20)) else draw(ODD)


def _places(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record and every object inside it: where a mutation may happen."""
    places = [record]
    for key in ("categories", "reviewed"):
        items = record.get(key)
        if isinstance(items, list):
            places += [item for item in items if isinstance(item, dict)]
    if isinstance(record.get("insurance"), dict):
        places.append(record["insurance"])
    return places


def _mutate(draw: st.DrawFn, record: dict[str, Any]) -> None:
    place = draw(st.sampled_from(_places(record)))
    kind = draw(st.sampled_from(["replace", "replace", "drop", "add", "swap", "cross"]))
    keys = sorted(place)
    if kind == "replace" and keys:
        place[draw(st.sampled_from(keys))] = draw(ODD | st.text())
    elif kind == "drop" and keys:
        del place[draw(st.sampled_from(keys))]
    elif kind == "add":
        place[draw(st.sampled_from(UNKNOWN_KEYS))] = draw(ODD)
    elif kind == "swap" and len(keys) > 1:
        a, b = draw(st.lists(st.sampled_from(keys), min_size=2, max_size=2, unique=True))
        place[a], place[b] = place[b], place[a]
    elif kind == "cross":
        _break_a_rule(draw, record)


BAD_SPANS: list[dict[str, Any]] = [
    {"category": "dibao", "valid_from": "2023-06-30", "valid_to": "2023-01-01"},
    {"category": "dibao", "applied_on": "2023-01-01"},
    {"category": "dibao", "valid_from": "2023-01-01", "applied_on": "2023-02-01"},
]


def _break_a_rule(draw: st.DrawFn, record: dict[str, Any]) -> None:
    """A record whose fields are each fine but do not go together."""
    rule = draw(st.integers(0, 7))
    if rule == 0:
        record["admission_date"], record["settlement_date"] = "2023-07-01", "2023-06-30"
    elif rule == 1:
        record["total"] = "0.02" if record.get("total") == "0.01" else "0.01"
    elif rule == 2:
        record["insurance"] = {"basic_insurance": "999999.00", "critical_illness_insurance": "1.00"}
    elif rule == 3:
        record["other_payments"] = "999999999.99"
    elif rule == 4:
        record["out_of_area"], record["out_of_area_filed"] = False, True
    elif rule == 5:
        record["category"], record["categories"] = "dibao", [{"category": "dibao"}]
    elif rule == 6:
        record.pop("category", None)
        record["categories"] = draw(st.sampled_from([[], None]))
    else:
        record.pop("category", None)
        record["categories"] = [draw(st.sampled_from(BAD_SPANS).map(copy.deepcopy))]


SCALE = float(os.environ.get("JIUZHU_PROPERTY_SCALE", "1"))  # as in test_properties.py
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


@settings(SETTINGS, max_examples=examples(300))
@given(valid_records())
def test_a_valid_plain_record_is_read_without_the_contract_and_as_it_reads(record: Any) -> None:
    plain = read_plain(record)
    assert plain is not None, record
    assert same(plain, contract_record(record, 1))


@settings(SETTINGS, max_examples=examples(600))
@given(mutated_records())
def test_the_plain_reader_gives_the_contracts_claim_or_nothing(record: Any) -> None:
    expected = outcome(lambda: contract_record(record, 7))
    plain = read_plain(record)
    if plain is not None:
        assert isinstance(expected, Claim), (record, expected)
        assert same(plain, expected)
    assert same(outcome(lambda: parse_record(record, 7)), expected)


def _line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


@settings(SETTINGS, max_examples=examples(200))
@given(
    st.lists(
        st.one_of(
            valid_records().map(_line),
            mutated_records().map(lambda r: json.dumps(r)),
            st.sampled_from(["", "   ", "{", "[1]", '{"claim_id": "c1"', "null", "\ufeff{}"]),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_parse_lines_is_what_it_was_when_every_record_went_through_the_contract(
    lines: list[str], repeat: bool
) -> None:
    if repeat and lines:
        lines = [*lines, lines[0]]  # a repeated claim_id, if the first line is a claim
    now = outcome(lambda: parse_lines(lines))
    with mock.patch.object(claims, "read_plain", lambda data: None):
        before = outcome(lambda: parse_lines(lines))
    if isinstance(now, Parsed) and isinstance(before, Parsed):
        assert same(now.claims, before.claims)
        assert same(now.errors, before.errors)
        assert [e.render() for e in now.errors] == [e.render() for e in before.errors]
    else:
        assert same(now, before)


def test_a_record_in_every_optional_shape_is_read_plainly() -> None:
    record = {
        "claim_id": "c1",
        "person_id": "p1",
        "categories": [
            {"category": "低保", "valid_from": "2023-01-01", "valid_to": None},
            {"category": "特困人员", "valid_from": "2023-02-01", "applied_on": "2023-01-15"},
        ],
        "visit_type": "住院",
        "settlement_date": "2023-06-30",
        "admission_date": "2023-06-20",
        "hospital_level": 3,
        "referred": False,
        "total": "30000.00",
        "full_self_pay": "1000.00",
        "partial_self_pay": "2000.00",
        "policy_scope": "27000.00",
        "insurance": {"basic_insurance": "15000.00", "critical_illness_insurance": "2000.00"},
        "other_payments": "100.00",
        "disease": "C50.1",
        "out_of_area": True,
        "out_of_area_filed": True,
        "quota_hospital": True,
        "late_stage": True,
        "reviewed": [{"benefit": "medical_assistance", "accepted": "500.00", "application": "a1"}],
    }
    plain = read_plain(record)
    assert plain is not None
    assert same(plain, contract_record(record, 1))
    assert plain.insurance is not None and plain.insurance.basic_insurance == 1_500_000


_PROBE = """
import json, sys
from jiuzhu.io.claims import parse_lines
parsed = parse_lines([sys.argv[1]])
print(json.dumps({"claims": len(parsed.claims), "errors": len(parsed.errors),
                  "pydantic": sorted(m for m in sys.modules if m.split(".")[0] == "pydantic")}))
"""
CLAIM = ONE_CLAIM


def _probe(line: str) -> dict[str, Any]:
    """What ``parse_lines`` of one line finds and loads, in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, line],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_reading_a_valid_claim_loads_no_pydantic() -> None:
    assert _probe(json.dumps(CLAIM)) == {"claims": 1, "errors": 0, "pydantic": []}


def test_a_bad_claim_still_gets_the_contracts_errors() -> None:
    result = _probe(json.dumps({**CLAIM, "total": 30000}))
    assert result["errors"] == 1
    assert "pydantic" in result["pydantic"]
