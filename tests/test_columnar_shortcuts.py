"""The shortcuts that make Parquet → Parquet fast give what the plain computation gives.

The check clears a clean column with one reduction before it builds row masks, ranks
diseases and explodes category lists over the rows that have them only, and the
settlement table shares one zero Decimal column among the benefits that are zero in a
part. Each is compared here with the plain computation (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from jiuzhu.batch_parts import settle_table, write_parquet
from jiuzhu.domain.engine.batch import AMOUNTS, REJECT_NONE, settle_columns
from jiuzhu.domain.engine.columns import CATEGORIES, ClaimColumns
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.io import settlements_columnar
from jiuzhu.io.claims_columnar import _codes, from_frame, read_parquet
from jiuzhu.io.columnar import MONEY, yuan
from jiuzhu.synth.population import generate, write
from tests.strategies import compiled
from tests.test_batch import _frame


def _plain_table(
    claim_id: pl.Series,
    person_id: pl.Series,
    policy: str,
    total: np.ndarray,
    amounts: dict[str, np.ndarray],
    grant: np.ndarray,
    category: np.ndarray,
) -> pl.DataFrame:
    """Every money column converted on its own: what the table was before sharing zeros."""
    paid = sum(amounts.values(), start=np.zeros(total.size, np.int64))
    money = {"total": total, **amounts, "critical_care_grant": grant, "personal": total - paid}
    return pl.DataFrame(
        {
            "claim_id": claim_id,
            "person_id": person_id,
            "policy": pl.Series([policy] * total.size, dtype=pl.Utf8),
            "category": pl.Series([CATEGORIES[k].value for k in category], dtype=pl.Utf8),
            **{name: yuan(np.ascontiguousarray(a)) for name, a in money.items()},
        }
    )


@pytest.mark.parametrize(
    ("policy_id", "year"),
    [("liaocheng-2023", 2023), ("shanxi-2019", 2020), ("hangzhou-2023", 2023)],
)
def test_settlement_table_equals_every_column_converted(
    policy_id: str, year: int, tmp_path: Path
) -> None:
    """聊城 lacks several benefits (stride-0 zero columns) and no claim reaches some
    others; 山西 has the quota and the hospital's share. Small parts make some benefits
    zero in one part and not in the next."""
    c = compiled(policy_id)
    write(generate(c.policy, 800, year, seed=11), str(tmp_path))
    cc = read_parquet(tmp_path / "claims.parquet")
    table, rejected = settle_table(c, cc, size=97)
    res = settle_columns(c, cc.cols)
    ok = res.reject == REJECT_NONE
    assert rejected.index.tolist() == np.flatnonzero(~ok).tolist()
    plain = _plain_table(
        cc.claim_id.filter(pl.Series(ok)),
        cc.person_id.filter(pl.Series(ok)),
        c.policy.id,
        cc.cols.total[ok],
        {b.value: np.asarray(res.amounts[b])[ok] for b in AMOUNTS},
        res.grant[ok],
        res.category[ok],
    )
    assert table.schema == plain.schema
    assert table.equals(plain)
    zero_somewhere = [b for b in AMOUNTS if not np.asarray(res.amounts[b]).any()]
    assert zero_somewhere, "the case should include a benefit that is zero throughout"


def test_written_file_reads_back_as_the_table(tmp_path: Path) -> None:
    """zstd level 1, statistics on: the file is the table, Decimal(14, 2) money included."""
    c = compiled("liaocheng-2023")
    write(generate(c.policy, 600, 2023, seed=3), str(tmp_path))
    cc = read_parquet(tmp_path / "claims.parquet")
    table, _ = settle_table(c, cc)
    write_parquet(c, cc, tmp_path / "streamed.parquet", size=101)
    settlements_columnar.write(table, tmp_path / "whole.parquet")
    for name in ("streamed.parquet", "whole.parquet"):
        back = pl.read_parquet(tmp_path / name)
        assert back.equals(table)
        assert back.schema["total"] == MONEY


def test_a_clean_frame_fails_no_check() -> None:
    cc = from_frame(_frame([{"claim_id": f"g{i}", "person_id": f"p{i}"} for i in range(5)]))
    assert cc.errors == []
    assert cc.row.tolist() == [1, 2, 3, 4, 5]


def test_every_shortcut_check_still_finds_its_rows() -> None:
    """The reductions that clear clean columns must not hide a failing row, at either end
    of a bound, in a column with nulls, or in an optional column."""
    frame = _frame(
        [
            {"claim_id": "a"},
            {"claim_id": "b", "hospital_level": 0},
            {"claim_id": "c", "hospital_level": 4},
            {
                "claim_id": "d",
                "total": -1,
                "full_self_pay": 0,
                "partial_self_pay": 0,
                "policy_scope": -1,
            },
            {"claim_id": "e", "other_payments": -5},
            {"claim_id": "f", "referred": None},
            {"claim_id": "g", "other_payments": 1_000_001},
            {"claim_id": "h", "admission_date": dt.date(2023, 5, 2)},
            {"claim_id": "i", "settlement_date": None},
        ]
    )
    found = sorted((e.line, e.field, e.message) for e in from_frame(frame).errors)
    fields = [(line, field) for line, field, _ in found]
    assert (2, "hospital_level") in fields and (3, "hospital_level") in fields
    assert (4, "total") in fields and (4, "policy_scope") in fields
    assert (4, "other_payments") in fields  # 0 other payments exceed a negative total
    assert (5, "other_payments") in fields
    assert (6, "referred") in fields
    assert (7, "other_payments") in fields
    assert (8, "admission_date") in fields
    assert (9, "settlement_date") in fields
    assert not [f for f in fields if f[0] == 1]
    # the null settlement date is one error, not also a late admission
    assert [f for f in fields if f[0] == 9] == [(9, "settlement_date")]


@pytest.mark.parametrize("named", [0.02, 0.5, 0.98])
def test_disease_codes_are_the_dense_rank_however_many_rows_name_one(named: float) -> None:
    rng = np.random.default_rng(7)
    names = np.array(["肺癌", "白血病", "尿毒症", "", "Ⅱ型糖尿病"])
    values = [str(rng.choice(names)) if rng.random() < named else None for _ in range(2000)]
    s = pl.Series(values, dtype=pl.Utf8)
    codes, distinct = _codes(s, s.len())
    assert distinct == sorted({v for v in values if v is not None})
    expected = [-1 if v is None else distinct.index(v) for v in values]
    assert codes.tolist() == expected


def test_category_lists_with_mostly_null_rows_give_the_same_spans() -> None:
    """Rows without a list, with an empty list, with a null element and with two spans."""
    span = pl.Struct(
        [
            pl.Field("category", pl.Utf8),
            pl.Field("valid_from", pl.Date),
            pl.Field("valid_to", pl.Date),
        ]
    )
    lists: list[list[dict[str, object] | None] | None] = [None] * 6
    lists[1] = [{"category": "dibao", "valid_from": dt.date(2023, 1, 1), "valid_to": None}]
    lists[3] = []
    lists[4] = [None, {"category": "extreme_poor", "valid_from": None, "valid_to": None}]
    lists[5] = [
        {"category": "dibao", "valid_from": None, "valid_to": dt.date(2023, 3, 1)},
        {"category": "extreme_poor", "valid_from": dt.date(2023, 3, 2), "valid_to": None},
    ]
    frame = _frame([{"claim_id": f"c{i}", "person_id": f"p{i}"} for i in range(6)]).drop("category")
    frame = frame.with_columns(pl.Series("categories", lists, dtype=pl.List(span)))
    cc = from_frame(frame)
    assert [(e.line, e.field) for e in cc.errors] == [(4, "categories")]  # the empty list
    c = cc.cols
    got = list(zip(c.span_claim.tolist(), c.span_category.tolist(), strict=True))
    code = {cat.value: k for k, cat in enumerate(CATEGORIES)}
    dibao, extreme_poor = code["dibao"], code["extreme_poor"]
    # rows 0, 1, 2, 4, 5 are kept: row 1 → 1, row 4 → 3, row 5 → 4
    assert got == [(1, dibao), (3, extreme_poor), (4, dibao), (4, extreme_poor)]


LEVELS: dict[str, tuple[pl.DataType, list[object]]] = {
    "Int8": (pl.Int8(), [1, 2, 3, 0, 4, 127, -1, -128, None]),
    "Int16": (pl.Int16(), [1, 2, 3, 0, 128, 300, -129, 255, None]),
    "Int64": (pl.Int64(), [3, 1, 2**40, -(2**40), 2**8 + 2, None]),
    "UInt64": (pl.UInt64(), [2, 2**64 - 1, 2**63, 258, 0, None]),
    "String": (pl.Utf8(), ["1", "2", "3", "02", "300", "x", "", None]),
}


@pytest.mark.parametrize("kind", list(LEVELS))
def test_hospital_levels_beyond_int8_fail_as_any_level_outside_1_to_3(kind: str) -> None:
    """The level is read as Int8 (what the engine keeps): a value too wide for it becomes
    null and fails, as every level but 1, 2 and 3 fails when read as a wider integer."""
    dtype, levels = LEVELS[kind]
    rows: list[dict[str, object]] = [
        {"claim_id": f"c{i}", "person_id": f"p{i}"} for i in range(len(levels))
    ]
    frame = _frame(rows).with_columns(pl.Series("hospital_level", levels, dtype=dtype))
    wide = frame["hospital_level"].cast(pl.Int64, strict=False).to_list()
    cc = from_frame(frame)
    failing = [e.line for e in cc.errors if e.field == "hospital_level"]
    assert failing == [i + 1 for i, v in enumerate(wide) if v not in (1, 2, 3)]
    assert {e.message for e in cc.errors} == {"须为 1、2、3 级医院"}
    assert cc.cols.level.dtype == np.int8
    assert cc.cols.level.tolist() == [v for v in wide if v in (1, 2, 3)]


def test_money_with_a_null_in_one_column_converts_the_others_as_one_block() -> None:
    """Columns without nulls come out of one block, the one with a null on its own: the
    same fen as converting each column alone, and the null row reported."""
    rng = np.random.default_rng(5)
    n = 50
    scope = rng.integers(0, 10**7, n)
    full, partial = rng.integers(0, 10**6, n), rng.integers(0, 10**6, n)
    other = rng.integers(0, 10**5, n)
    frame = _frame([{"claim_id": f"c{i}", "person_id": f"p{i}"} for i in range(n)])
    frame = frame.with_columns(
        yuan(scope + full + partial).alias("total"),
        yuan(full).alias("full_self_pay"),
        yuan(partial).alias("partial_self_pay"),
        yuan(scope).alias("policy_scope"),
        yuan(other).alias("other_payments"),
    )
    frame = pl.concat([frame.slice(0, 10), frame.slice(10)])  # two chunks, as row groups give
    nulled = frame.with_columns(
        pl.when(pl.int_range(n) == 7)
        .then(None)
        .otherwise(pl.col("policy_scope"))
        .alias("policy_scope")
    )
    cc = from_frame(nulled)
    assert [(e.line, e.field) for e in cc.errors if e.message == "不能为空"] == [
        (8, "policy_scope")
    ]
    keep = np.arange(n) != 7
    c = cc.cols
    assert c.total.tolist() == (scope + full + partial)[keep].tolist()
    assert c.policy_scope.tolist() == scope[keep].tolist()
    assert c.other.tolist() == other[keep].tolist()
    whole = from_frame(frame).cols
    assert whole.total.tolist() == (scope + full + partial).tolist()
    assert whole.other.tolist() == other.tolist()


@pytest.mark.parametrize("count", [0, 1, 7, 40, 120, 400])
def test_taking_few_claims_finds_the_spans_a_map_over_every_claim_finds(count: int) -> None:
    """``take`` looks a few claims' spans up in the sorted index (the rejections of a job)
    and maps every claim for many: both give the spans a plain loop gives."""
    c = compiled("liaocheng-2023")
    cols = read_parquet_claims(c, 1000)
    rng = np.random.default_rng(count)
    index = rng.permutation(len(cols))[:count]
    got = cols.take(index)
    where = {int(claim): k for k, claim in enumerate(index)}
    plain = [
        (where[int(claim)], int(cat), int(lo), int(hi))
        for claim, cat, lo, hi in zip(
            cols.span_claim, cols.span_category, cols.span_from, cols.span_to, strict=True
        )
        if int(claim) in where
    ]
    assert (
        list(
            zip(
                got.span_claim.tolist(),
                got.span_category.tolist(),
                got.span_from.tolist(),
                got.span_to.tolist(),
                strict=True,
            )
        )
        == plain
    )
    assert got.total.tolist() == cols.total[index].tolist()
    assert count < 120 or len(plain) > 0


def read_parquet_claims(c: CompiledPolicy, persons: int) -> ClaimColumns:
    """A synthetic year's claims as checked columns (many with category spans)."""
    with tempfile.TemporaryDirectory() as folder:
        write(generate(c.policy, persons, 2023, seed=2), folder)
        cols = read_parquet(Path(folder) / "claims.parquet").cols
    assert cols.span_claim.size > 50
    return cols


def test_empty_and_long_ids_are_found_as_the_plain_checks_find_them() -> None:
    """The byte lengths are found once per column and cleared by their minimum and
    maximum: a null, an empty or a too long id still fails, and a 64-character id of
    Chinese characters (192 bytes) does not."""
    ids: list[str | None] = ["a", "", None, "x" * 64, "x" * 65, "救" * 64, "救" * 65, "b"]
    people: list[str | None] = ["p", "p", "p", "", None, "人" * 65, "q" * 64, "r"]
    diseases: list[str | None] = [None, "肺癌" * 50, "肺癌" * 50 + "癌", None, "", None, None, None]
    frame = _frame([{} for _ in ids]).with_columns(
        pl.Series("claim_id", ids, dtype=pl.Utf8),
        pl.Series("person_id", people, dtype=pl.Utf8),
        pl.Series("disease", diseases, dtype=pl.Utf8),
    )
    found = sorted((e.line, e.field, e.message) for e in from_frame(frame).errors)

    def plain(
        values: list[str | None], field: str, limit: int, empty: bool
    ) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        for i, v in enumerate(values):
            if empty and not v:
                out.append((i + 1, field, "不能为空"))
            elif v is not None and len(v) > limit:
                out.append((i + 1, field, f"长度不能超过 {limit} 个字符"))
        return out

    expected = [
        *plain(ids, "claim_id", 64, True),
        *plain(people, "person_id", 64, True),
        *plain(diseases, "disease", 100, False),
    ]
    assert found == sorted(expected)
    clean = _frame([{"claim_id": f"c{i}", "person_id": "救" * 64} for i in range(3)])
    assert from_frame(clean).errors == []
