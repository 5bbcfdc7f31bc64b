"""Look-backs (追溯) as policy data: the windows, hand-worked, and the same through
JSON lines and Parquet, by both engines (杭政办函〔2022〕70号 二(二); 聊城实施方案 四(一))."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from jiuzhu.domain.claims import CategorySpan
from jiuzhu.domain.engine.eligibility import months_before, window_start
from jiuzhu.domain.vocabulary import Category
from tests.cli_helpers import invoke, jsonl
from tests.strategies import compiled

pytestmark = pytest.mark.usefixtures("engine")

D = dt.date


@pytest.mark.parametrize(
    ("day", "months", "want"),
    [
        (D(2023, 7, 15), 6, D(2023, 1, 15)),
        (D(2023, 8, 31), 6, D(2023, 2, 28)),  # clamped to the month's end
        (D(2024, 8, 31), 6, D(2024, 2, 29)),  # leap year
        (D(2024, 3, 10), 6, D(2023, 9, 10)),  # into the previous year
        (D(2023, 2, 1), 12, D(2022, 2, 1)),
    ],
)
def test_months_before(day: dt.date, months: int, want: dt.date) -> None:
    assert months_before(day, months) == want


def test_windows_as_the_documents_word_them() -> None:
    hz = compiled("hangzhou-2023").policy.categories.look_backs[Category.spending_hardship]
    lc = compiled("liaocheng-2023").policy.categories.look_backs[Category.illness_impoverished]
    # 杭州: 被认定前6个月, from the identification date.
    span = CategorySpan(Category.spending_hardship, D(2023, 7, 15), applied_on=D(2023, 6, 1))
    assert window_start(hz, span) == D(2023, 1, 15)
    # 聊城: 追溯至申请之月前12个月, from the first day of the application month.
    span = CategorySpan(Category.illness_impoverished, D(2024, 3, 10), applied_on=D(2024, 2, 20))
    assert window_start(lc, span) == D(2023, 2, 1)
    assert window_start(lc, CategorySpan(Category.illness_impoverished, D(2024, 3, 10))) == D(
        2023, 3, 1
    )
    assert lc.period == "identification_year" and hz.period == "natural_year"
    assert hz.clause == "杭政办函〔2022〕70号 二(二)" and lc.clause == "聊城实施方案 四(一)"


def _claim(cid: str, day: str, burden: str, spans: list[dict[str, str | None]]) -> dict:
    return {
        "claim_id": cid,
        "person_id": "lb",
        "visit_type": "inpatient",
        "settlement_date": day,
        "admission_date": day,
        "hospital_level": 2,
        "referred": True,
        "total": burden,
        "full_self_pay": "0.00",
        "partial_self_pay": "0.00",
        "policy_scope": burden,
        "insurance": {"basic_insurance": "0.00", "critical_illness_insurance": "0.00"},
        "categories": spans,
    }


LC_SPANS = [
    {
        "category": "illness_impoverished",
        "valid_from": "2024-03-10",
        "valid_to": None,
        "applied_on": "2024-02-20",
    }
]
LC_CLAIMS = [
    _claim("c1", "2023-02-01", "8000.00", LC_SPANS),
    _claim("c2", "2024-03-09", "5000.00", LC_SPANS),
    _claim("c3", "2024-05-01", "40000.00", LC_SPANS),
]


def test_a_look_back_claim_explains_its_window_and_period() -> None:
    run = invoke(["settle", "--policy", "liaocheng-2023"], jsonl(LC_CLAIMS))
    assert run.code == 0, run.stderr
    first = run.records[0]
    line = first["lines"][0]
    assert line["benefit"] == "category" and line["clause"] == "聊城实施方案 四(一)"
    assert "2024-03-10 认定" in line["text"] and "2023-02-01 至 2024-03-09" in line["text"]
    assert "计入 2024 年度的救助待遇和救助限额" in line["text"]
    assert [r["medical_assistance"] for r in run.records] == ["0.00", "1800.00", "18200.00"]
    ma = next(x for x in run.records[2]["lines"] if x["benefit"] == "medical_assistance")
    assert "累计 13000.00 → 53000.00 元" in ma["formula"]
    assert "年度救助限额 20000.00 元，本年已支付 1800.00 元，剩余 18200.00 元" in ma["formula"]


DATES = ("valid_from", "valid_to", "applied_on")


def _day(text: str | None) -> dt.date | None:
    return None if text is None else D.fromisoformat(text)


def _parquet(claims: list[dict], path: Path) -> None:
    from jiuzhu.io.columnar import yuan

    rows = []
    for c in claims:
        spans = [
            {
                "category": s["category"],
                "valid_from": None if s["valid_from"] is None else D.fromisoformat(s["valid_from"]),
                "valid_to": None if s["valid_to"] is None else D.fromisoformat(s["valid_to"]),
                "applied_on": None
                if s.get("applied_on") is None
                else D.fromisoformat(s["applied_on"]),
            }
            for s in c["categories"]
        ]
        rows.append({**c, "categories": spans})
    frame = pl.DataFrame(
        {
            "claim_id": [r["claim_id"] for r in rows],
            "person_id": [r["person_id"] for r in rows],
            "visit_type": [r["visit_type"] for r in rows],
            "settlement_date": [D.fromisoformat(r["settlement_date"]) for r in rows],
            "admission_date": [D.fromisoformat(r["admission_date"]) for r in rows],
            "hospital_level": [r["hospital_level"] for r in rows],
            "referred": [r["referred"] for r in rows],
            "categories": [r["categories"] for r in rows],
        }
    )
    import numpy as np

    def money(key: str, sub: str | None = None) -> pl.Series:
        vals = [r[key] if sub is None else r[key][sub] for r in rows]
        return yuan(np.array([int(v.replace(".", "")) for v in vals], dtype=np.int64))

    frame = frame.with_columns(
        money("total").alias("total"),
        money("full_self_pay").alias("full_self_pay"),
        money("partial_self_pay").alias("partial_self_pay"),
        money("policy_scope").alias("policy_scope"),
        money("insurance", "basic_insurance").alias("basic_insurance"),
        money("insurance", "critical_illness_insurance").alias("critical_illness_insurance"),
    )
    frame.write_parquet(path)


def test_parquet_carries_the_application_date(tmp_path: Path) -> None:
    """``applied_on`` in a Parquet categories list moves 聊城's window just as in JSON."""
    path = tmp_path / "claims.parquet"
    _parquet(LC_CLAIMS, path)
    out = tmp_path / "out.parquet"
    run = invoke(["settle", "-p", "liaocheng-2023", "-i", str(path), "-o", str(out)])
    assert run.code == 0, run.stderr
    got = pl.read_parquet(out)
    assert [str(v) for v in got["medical_assistance"].to_list()] == ["0.00", "1800.00", "18200.00"]
    # Without applied_on the window starts a month later and c1 falls outside it.
    late = [{**c, "categories": [{**LC_SPANS[0], "applied_on": None}]} for c in LC_CLAIMS]
    _parquet(late, path)
    run = invoke(["settle", "-p", "liaocheng-2023", "-i", str(path), "-o", str(out)])
    assert run.code == 0, run.stderr
    got = pl.read_parquet(out)
    assert got["category"].to_list()[0] == "ordinary"


def test_an_application_after_its_identification_is_refused() -> None:
    spans = [{**LC_SPANS[0], "applied_on": "2024-03-11"}]
    run = invoke(
        ["settle", "--policy", "liaocheng-2023"], jsonl([_claim("x", "2024-04-01", "10.00", spans)])
    )
    assert run.code == 1
    assert "applied_on" in run.stderr and "晚于认定日期" in run.stderr
    assert json.dumps(run.records) == "[]"
