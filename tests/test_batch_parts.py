"""Settling a table in parts of whole persons, on two threads, gives the whole table's
result: every settlement, in input order, and the same rejected rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from jiuzhu.batch_parts import parts, settle_table, write_parquet
from jiuzhu.domain.engine.batch import REJECT_NONE, settle_columns
from jiuzhu.io import settlements_columnar
from jiuzhu.io.claims_columnar import read_parquet
from jiuzhu.synth.population import generate, write
from tests.strategies import compiled


def test_parts_never_split_a_person() -> None:
    person = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 4])
    cut = parts(person, size=3)
    assert cut[0] == (0, 3) and cut[-1][1] == person.size
    for start, _ in cut:
        assert start == 0 or person[start] != person[start - 1]
    assert sum(b - a for a, b in cut) == person.size
    assert parts(np.array([1, 0, 1]), size=1) == [(0, 3)]  # not grouped: one part
    assert parts(np.array([], dtype=np.int64)) == []


def test_parts_are_of_about_equal_length_the_last_one_too() -> None:
    """The last part is written after every other has settled: it is as short as the
    others, not what is left over (10,500 claims in parts of at most 1,000 are eleven
    parts of about 955, not ten of 1,000 and one of 500)."""
    runs = np.random.default_rng(3).integers(1, 5, 5000)
    person = np.repeat(np.arange(runs.size), runs)[:10_500]
    cut = parts(person, size=1000)
    lengths = [b - a for a, b in cut]
    assert len(cut) == 11 and sum(lengths) == person.size
    assert max(lengths) - min(lengths) <= 8  # a cut moves to a person's first claim
    for start, _ in cut:
        assert start == 0 or person[start] != person[start - 1]


@pytest.mark.parametrize(("policy_id", "year"), [("shanxi-2019", 2020), ("hangzhou-2023", 2023)])
def test_parts_equal_the_whole(policy_id: str, year: int, tmp_path: Path) -> None:
    c = compiled(policy_id)
    write(generate(c.policy, 1500, year, seed=5), str(tmp_path))
    frame = pl.read_parquet(tmp_path / "claims.parquet")
    # some claims before the policy is in force: rejected rows must come out the same
    early = pl.Series(np.arange(frame.height) % 97 == 0)
    frame = frame.with_columns(
        pl.when(early).then(pl.lit(dt.date(2001, 6, 1))).otherwise(pl.col(name)).alias(name)
        for name in ("settlement_date", "admission_date")
    )
    frame.write_parquet(tmp_path / "claims.parquet")
    cc = read_parquet(tmp_path / "claims.parquet")
    res = settle_columns(c, cc.cols)
    ok = res.reject == REJECT_NONE
    whole = settlements_columnar.from_batch(
        cc.claim_id, cc.person_id, c.policy.id, cc.cols.total, res, ok
    )
    assert (~ok).sum() > 0
    for size in (50, 777):
        table, rejected = settle_table(c, cc, size=size, workers=2)
        assert table.equals(whole)
        assert rejected.index.tolist() == np.flatnonzero(~ok).tolist()
        assert rejected.reject.tolist() == res.reject[~ok].tolist()
        # streamed: each part written while the next settle, the same file read back
        out = tmp_path / f"streamed-{size}.parquet"
        rejected = write_parquet(c, cc, out, size=size, workers=2)
        assert pl.read_parquet(out).equals(whole)
        assert rejected.index.tolist() == np.flatnonzero(~ok).tolist()
