"""The batch engine equals the reference engine to the fen, on every claim.

Differential tests: hypothesis draws claim sets (caps reached across claims,
categories held at once or changing in the year, new years, 福建's referral
chain, 山西's quota, rejected claims) and both engines settle them; then a
synthetic year per policy. Both of the batch engine's paths are checked: the
cumulative sums (``fast=True``) and the rank rounds (``fast=False``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled
from jiuzhu.domain.engine import explain
from jiuzhu.domain.engine.batch import AMOUNTS, REJECT_NONE, settle_columns
from jiuzhu.domain.engine.columns import CATEGORIES, from_claims
from jiuzhu.domain.engine.reference import ClaimRejected, settle_claims
from jiuzhu.domain.money import Fen
from jiuzhu.domain.vocabulary import Benefit, Category, VisitType
from jiuzhu.io.claims_columnar import from_frame, read_parquet, to_claims
from jiuzhu.io.columnar import yuan
from jiuzhu.synth.population import generate, write
from tests.cli_helpers import invoke
from tests.strategies import EFFECTIVE, POLICY_IDS, compiled, identified, person_claims, population

SCALE = float(os.environ.get("JIUZHU_PROPERTY_SCALE", "1"))
SETTINGS = settings(
    max_examples=max(1, round(40 * SCALE)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_same(policy_id: str, claims: list[Claim], fast: bool) -> None:
    """Amounts, categories, grants and rejections equal, claim by claim.

    The fast run cuts people into chunks of about 3 claims, so chunk edges and
    the pass that gathers complex people from every chunk are exercised too.
    """
    c = compiled(policy_id)
    ref = settle_claims(c, claims)
    cols, _ = from_claims(claims)
    res = settle_columns(c, cols, fast=fast, chunk=3)
    for i, r in enumerate(ref):
        if isinstance(r, ClaimRejected):
            assert res.reject[i] != REJECT_NONE, (claims[i], r)
            continue
        assert res.reject[i] == REJECT_NONE, claims[i]
        got = {b: int(res.amounts[b][i]) for b in AMOUNTS}
        assert got == {b: r.amount(b) for b in AMOUNTS}, claims[i]
        assert CATEGORIES[res.category[i]] == r.category
        assert int(res.grant[i]) == r.critical_care_grant


@pytest.mark.parametrize("fast", [True, False], ids=["cumsum", "ranks"])
@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_batch_equals_reference(policy_id: str, fast: bool, data: st.DataObject) -> None:
    claims = data.draw(population(policy_id, max_people=4))
    assert_same(policy_id, claims, fast)


LOOK_BACKS = ["liaocheng-2023", "hangzhou-2023"]


@st.composite
def identified_people(draw: st.DrawFn, policy_id: str) -> list[Claim]:
    """People identified on application (look-backs, 聊城's period in the identification's
    year) beside others drawn as usual."""
    claims = []
    for i in range(draw(st.integers(1, 3))):
        spans = draw(identified(policy_id))
        claims += draw(person_claims(policy_id, f"q{i}", categories=spans, years=2))
    return claims + draw(population(policy_id, max_people=2))


@pytest.mark.parametrize("fast", [True, False], ids=["cumsum", "ranks"])
@pytest.mark.parametrize("policy_id", LOOK_BACKS)
@SETTINGS
@given(data=st.data())
def test_batch_equals_reference_across_look_backs(
    policy_id: str, fast: bool, data: st.DataObject
) -> None:
    assert_same(policy_id, data.draw(identified_people(policy_id)), fast)


@pytest.mark.parametrize("policy_id", LOOK_BACKS)
@settings(SETTINGS, max_examples=max(1, round(15 * SCALE)))
@given(data=st.data())
def test_batch_explains_look_backs_as_the_reference(policy_id: str, data: st.DataObject) -> None:
    claims = data.draw(identified_people(policy_id))
    ref = settle_claims(compiled(policy_id), claims)
    batch = explain.settle_claims(compiled(policy_id), claims)
    assert [r.to_json() for r in ref if not isinstance(r, ClaimRejected)] == [
        b.to_json() for b in batch if not isinstance(b, ClaimRejected)
    ]


@st.composite
def with_rejections(draw: st.DrawFn, policy_id: str) -> list[Claim]:
    """A population where some claims must be rejected: other payments the computed
    insurance leaves no room for, or a settlement date outside the policy period."""
    claims = draw(population(policy_id, max_people=3))
    out = []
    for claim in claims:
        kind = draw(st.sampled_from(["keep", "keep", "other", "early"]))
        if kind == "other":
            claim = dataclasses.replace(claim, insurance=None, other_payments=claim.total)
        elif kind == "early":
            day = EFFECTIVE[policy_id][0] - dt.timedelta(days=draw(st.integers(1, 30)))
            claim = dataclasses.replace(claim, settlement_date=day, admission_date=day)
        out.append(claim)
    return out


@pytest.mark.parametrize("fast", [True, False], ids=["cumsum", "ranks"])
@pytest.mark.parametrize("policy_id", POLICY_IDS)
@SETTINGS
@given(data=st.data())
def test_rejected_claims_leave_no_trace_in_either_engine(
    policy_id: str, fast: bool, data: st.DataObject
) -> None:
    assert_same(policy_id, data.draw(with_rejections(policy_id)), fast)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
@settings(SETTINGS, max_examples=max(1, round(15 * SCALE)))
@given(data=st.data())
def test_batch_output_is_the_reference_output(policy_id: str, data: st.DataObject) -> None:
    """The whole JSON contract, explanation lines included, and the rejection messages."""
    claims = data.draw(with_rejections(policy_id))
    ref = settle_claims(compiled(policy_id), claims)
    batch = explain.settle_claims(compiled(policy_id), claims)
    for a, b in zip(ref, batch, strict=True):
        if isinstance(a, ClaimRejected):
            assert isinstance(b, ClaimRejected)
            assert (a.claim_id, a.field, a.message) == (b.claim_id, b.field, b.message)
        else:
            assert not isinstance(b, ClaimRejected)
            assert a.to_json() == b.to_json()


def test_a_cap_reached_across_claims_hand_worked() -> None:
    """聊城 低保 (聊城实施方案 三(四)1): medical assistance 70% with no deductible, yearly cap
    30000.00. Insurance pre-settled at 0, so each stay's burden is its 20000.00 scope:
    F = 70% × C, capped. Claims 1 and 2 pay 14000.00 each (C = 40000.00 → 28000.00);
    claim 3 would make F(60000.00) = 42000.00, the cap leaves 30000.00 − 28000.00 = 2000.00.
    """
    c = compiled("liaocheng-2023")
    claims = [
        Claim(
            claim_id=f"c{i}",
            person_id="p",
            visit_type=VisitType.inpatient,
            settlement_date=dt.date(2023, 3, 10 + i),
            admission_date=dt.date(2023, 3, 1 + i),
            hospital_level=3,
            referred=True,
            total=Fen(2_000_000),
            full_self_pay=Fen(0),
            partial_self_pay=Fen(0),
            policy_scope=Fen(2_000_000),
            categories=(CategorySpan(Category.dibao),),
            insurance=PreSettled(Fen(0), Fen(0)),
        )
        for i in range(3)
    ]
    expected = [1_400_000, 1_400_000, 200_000]
    ref = settle_claims(c, claims)
    assert [r.amount(Benefit.medical_assistance) for r in ref] == expected  # type: ignore[union-attr]
    for fast in (True, False):
        res = settle_columns(c, from_claims(claims)[0], fast=fast)
        assert res.amounts[Benefit.medical_assistance].tolist() == expected


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_synthetic_year_batch_equals_reference(policy_id: str, tmp_path: Path) -> None:
    """A calibrated synthetic year (thousands of claims, all the mixes) through both engines."""
    policy = compiled(policy_id).policy
    year = max(policy.effective.start.year + 1, 2020)
    if policy.effective.end is not None:
        year = min(year, policy.effective.end.year)
    write(generate(policy, 3000, year, seed=7), str(tmp_path))
    cc = read_parquet(tmp_path / "claims.parquet")
    assert not cc.errors
    claims = to_claims(cc)
    ref = settle_claims(compiled(policy_id), claims)
    for fast, chunk in ((True, 1 << 17), (True, 500), (False, 1 << 17)):
        res = settle_columns(compiled(policy_id), cc.cols, fast=fast, chunk=chunk)
        for b in AMOUNTS:
            expect = [0 if isinstance(r, ClaimRejected) else r.amount(b) for r in ref]
            assert res.amounts[b].tolist() == expect, (b, fast)
        rejected = [isinstance(r, ClaimRejected) for r in ref]
        assert (res.reject != REJECT_NONE).tolist() == rejected
    # the fast path carries the bulk; the rank rounds take the rest
    assert settle_columns(compiled(policy_id), cc.cols).fast.mean() > 0.9


def test_parquet_through_the_cli_same_table_from_both_engines(tmp_path: Path) -> None:
    write(generate(compiled("shanxi-2019").policy, 2000, 2020, seed=3), str(tmp_path))
    outs = {}
    for engine in ("reference", "batch"):
        out = tmp_path / f"{engine}.parquet"
        run = invoke(
            [
                "settle",
                "-p",
                "shanxi-2019",
                "-i",
                str(tmp_path / "claims.parquet"),
                "-o",
                str(out),
                "--engine",
                engine,
            ]
        )
        assert run.code == 0, run.stderr
        outs[engine] = pl.read_parquet(out)
    assert outs["reference"].equals(outs["batch"])
    frame = outs["batch"]
    paid = sum(frame[b.value].cast(pl.Decimal(20, 2)) for b in AMOUNTS)
    assert (paid + frame["personal"] == frame["total"]).all()  # conservation, in yuan


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    good = {
        "claim_id": "g1",
        "person_id": "p1",
        "visit_type": "inpatient",
        "settlement_date": dt.date(2023, 5, 1),
        "admission_date": dt.date(2023, 4, 20),
        "hospital_level": 2,
        "referred": True,
        "total": 1_000_000,
        "full_self_pay": 100_000,
        "partial_self_pay": 100_000,
        "policy_scope": 800_000,
        "other_payments": 0,
        "category": "dibao",
    }
    records = [{**good, **r} for r in rows]
    cols = {k: [r.get(k) for r in records] for k in good}
    frame = pl.DataFrame(
        {k: v for k, v in cols.items() if k not in AMOUNT_COLS},
        schema_overrides={
            "settlement_date": pl.Date,
            "admission_date": pl.Date,
            "hospital_level": pl.Int64,
            "referred": pl.Boolean,
        },
        strict=False,
    )
    for k in AMOUNT_COLS:
        frame = frame.with_columns(yuan(np.array(cols[k], dtype=np.int64)).alias(k))
    return frame


AMOUNT_COLS = ("total", "full_self_pay", "partial_self_pay", "policy_scope", "other_payments")


def test_parquet_rows_are_checked_like_jsonl() -> None:
    """Each bad row is named by row, claim and field; the good rows still settle."""
    frame = _frame(
        [
            {},
            {"claim_id": "b1", "visit_type": "dental"},
            {"claim_id": "b2", "total": 999},
            {"claim_id": "b3", "admission_date": dt.date(2023, 6, 1)},
            {"claim_id": "b4", "category": "vip"},
            {"claim_id": "b5", "hospital_level": 7},
            {"claim_id": "g1"},
            {"claim_id": "g2", "person_id": "p2"},
        ]
    )
    cc = from_frame(frame)
    found = {(e.line, e.claim_id, e.field) for e in cc.errors}
    assert found == {
        (2, "b1", "visit_type"),
        (3, "b2", "total"),
        (4, "b3", "admission_date"),
        (5, "b4", "categories"),
        (6, "b5", "hospital_level"),
        (7, "g1", "claim_id"),
    }
    assert cc.row.tolist() == [1, 8]
    messages = {e.field: e.message for e in cc.errors}
    assert "dental" in messages["visit_type"]
    assert "不等于" in messages["total"]
    assert "重复" in messages["claim_id"]
    res = settle_columns(compiled("liaocheng-2023"), cc.cols)
    assert (res.reject == REJECT_NONE).all()


def test_a_float_money_column_is_refused(tmp_path: Path) -> None:
    frame = _frame([{}]).with_columns(pl.col("total").cast(pl.Float64))
    path = tmp_path / "c.parquet"
    frame.write_parquet(path)
    run = invoke(["settle", "-p", "liaocheng-2023", "-i", str(path), "--engine", "batch"])
    assert run.code == 2
    assert "total" in run.stderr and "Decimal" in run.stderr


@pytest.mark.parametrize("dtype", [pl.Utf8, pl.Null, pl.List(pl.Utf8)])
def test_a_categories_column_that_is_not_a_list_of_spans_is_refused(
    tmp_path: Path, dtype: pl.DataType
) -> None:
    """A clear error naming the column, not a traceback from deep in the check."""
    frame = _frame([{}]).with_columns(pl.lit(None).cast(dtype).alias("categories"))
    path = tmp_path / "c.parquet"
    frame.write_parquet(path)
    for engine in ("batch", "reference"):
        run = invoke(["settle", "-p", "liaocheng-2023", "-i", str(path), "--engine", engine])
        assert run.code == 2, (engine, run.stderr)
        assert "categories" in run.stderr and "列表" in run.stderr
        assert "Traceback" not in run.stderr


def test_parquet_errors_are_the_same_from_both_engines(tmp_path: Path) -> None:
    """Rows the engine rejects (other payments the computed insurance leaves no room for;
    a date before the policy) and a row the reader rejects: the same errors, both engines."""
    frame = _frame(
        [
            {"claim_id": "ok1"},
            {"claim_id": "other", "other_payments": 1_000_000},
            {
                "claim_id": "early",
                "settlement_date": dt.date(2022, 1, 5),
                "admission_date": dt.date(2022, 1, 1),
            },
            {"claim_id": "bad", "total": 1},
            {"claim_id": "ok2", "person_id": "p2"},
        ]
    )
    path = tmp_path / "claims.parquet"
    frame.write_parquet(path)
    seen = {}
    for engine in ("reference", "batch"):
        for out in ("out.parquet", "out.jsonl"):
            errors = tmp_path / f"{engine}-{out}.errors.jsonl"
            run = invoke(
                [
                    "settle",
                    "-p",
                    "liaocheng-2023",
                    "-i",
                    str(path),
                    "-o",
                    str(tmp_path / f"{engine}-{out}"),
                    "--engine",
                    engine,
                    "--errors",
                    str(errors),
                ]
            )
            assert run.code == 1
            seen[(engine, out)] = (run.stderr, errors.read_text(encoding="utf-8"))
    assert len(set(seen.values())) == 1, seen
    stderr, _ = seen[("batch", "out.parquet")]
    assert "第 2 行，单据 other，字段 other_payments（其他支付）" in stderr
    assert "第 3 行，单据 early，字段 settlement_date（结算日期）" in stderr
    assert "第 4 行，单据 bad，字段 total（医疗总费用）" in stderr
    for engine in ("reference", "batch"):
        table = pl.read_parquet(tmp_path / f"{engine}-out.parquet")
        assert table["claim_id"].to_list() == ["ok1", "ok2"]
