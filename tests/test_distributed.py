"""The batch engine on Dask: the same table and errors as one process, in input order."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from jiuzhu.cli.common import get_policy
from jiuzhu.distributed import connect, plan, settle_parquet_distributed
from jiuzhu.domain.engine.batch import REJECT_NONE, settle_columns
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.io import settlements_columnar
from jiuzhu.io.claims_columnar import read_parquet
from jiuzhu.io.policy_files import load_policy
from jiuzhu.synth.population import generate, write
from tests.cli_helpers import invoke

POLICY = "liaocheng-2023"


@pytest.fixture(scope="module")
def compiled() -> CompiledPolicy:
    return get_policy(POLICY, None, None)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A synthetic year (sorted by person), the same shuffled, and both with bad rows."""
    folder = tmp_path_factory.mktemp("distributed")
    claims = Path(write(generate(load_policy(POLICY), 4_000, 2023, 21), str(folder))["claims"])
    frame = pl.read_parquet(claims)
    out = {"sorted": claims}

    def save(name: str, f: pl.DataFrame) -> None:
        out[name] = folder / f"{name}.parquet"
        # Small row groups: the workers' row ranges start inside and across groups.
        f.write_parquet(out[name], row_group_size=1_000)

    save("shuffled", frame.sample(fraction=1.0, shuffle=True, seed=3))
    bad = _spoil(frame)
    save("bad", bad)
    # Null person ids scattered through the file: no longer grouped by person.
    pid = bad["person_id"].to_list()
    for i in (17, 2_500, 6_000):
        pid[i] = None
    save("bad_shuffled", bad.with_columns(pl.Series("person_id", pid)).sample(fraction=1.0, seed=4))
    return out


def _spoil(frame: pl.DataFrame) -> pl.DataFrame:
    """Bad rows that stay grouped by person: repeated ids across persons, bad money, dates."""
    rng = np.random.default_rng(5)
    n = frame.height
    cid = frame["claim_id"].to_list()
    person = frame["person_id"].to_list()
    for i in rng.choice(n, 12, replace=False):
        j = int(rng.integers(n))
        if person[j] != person[int(i)]:
            cid[int(i)] = cid[j]  # the later of the two rows is refused
    total = frame["total"].to_list()
    for i in rng.choice(n, 4, replace=False):
        total[int(i)] = None
    other = frame["other_payments"].to_list()
    for i in rng.choice(n, 6, replace=False):
        other[int(i)] = total[int(i)]  # more than the insurances leave: a batch rejection
    settle = frame["settlement_date"].to_list()
    admit = frame["admission_date"].to_list()
    for i in rng.choice(n, 4, replace=False):
        settle[int(i)] = admit[int(i)] = dt.date(2019, 5, 1)  # before the policy
    return frame.with_columns(
        pl.Series("claim_id", cid),
        pl.Series("total", total, dtype=frame.schema["total"]),
        pl.Series("other_payments", other, dtype=frame.schema["other_payments"]),
        pl.Series("settlement_date", settle, dtype=pl.Date),
        pl.Series("admission_date", admit, dtype=pl.Date),
    )


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """One local cluster of two worker processes for the module, closed at the end."""
    with connect(None, 2) as client:
        yield str(client.scheduler.address)  # type: ignore[union-attr]


def _single(compiled: CompiledPolicy, path: Path) -> pl.DataFrame:
    cc = read_parquet(path)
    res = settle_columns(compiled, cc.cols)
    ok = res.reject == REJECT_NONE
    return settlements_columnar.from_batch(
        cc.claim_id, cc.person_id, compiled.policy.id, cc.cols.total, res, ok
    )


def _errors_of_cli(path: Path, out: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    errors = out.with_suffix(".errors.jsonl")
    run = invoke(
        [
            "settle",
            *("--policy", POLICY, "--input", str(path), "--output", str(out)),
            *("--engine", "batch", "--errors", str(errors), *extra),
        ]
    )
    assert run.code in (0, 1), run.stderr
    lines = errors.read_text(encoding="utf-8").splitlines()
    return run.code, [json.loads(line) for line in lines]


def test_plan_cuts_sorted_claims_at_person_boundaries(files: dict[str, Path]) -> None:
    ids = pl.read_parquet(files["sorted"], columns=["claim_id", "person_id"])
    p = plan(ids, 5)
    assert p.grouped and p.ranges is not None and p.nparts == 5
    assert [len(r) for r in p.ranges] == [1] * 5
    person = ids["person_id"].to_list()
    for part in p.ranges[1:]:
        start = part[0][0]
        assert person[start] != person[start - 1], start
    assert sum(ln for r in p.ranges for _, ln in r) == ids.height


def test_plan_keeps_each_person_in_one_part(files: dict[str, Path]) -> None:
    for name in ("shuffled", "bad", "bad_shuffled"):
        ids = pl.read_parquet(files[name], columns=["claim_id", "person_id"])
        p = plan(ids, 4)
        parts = ids.with_columns(pl.Series("part", p.pid))
        per_person = parts.drop_nulls("person_id").group_by("person_id").agg(pl.n_unique("part"))
        assert per_person["part"].max() == 1, name
        # Every row of a repeated claim_id is in one part with its persons.
        dup = parts.filter(pl.col("claim_id").is_duplicated())
        assert dup.height > 0 or name == "shuffled"
        assert dup["part"].n_unique() <= 1, name
    shuffled = plan(pl.read_parquet(files["shuffled"], columns=["claim_id", "person_id"]), 4)
    assert not shuffled.grouped and shuffled.ranges is None  # read in chunks, then shuffled
    bad = plan(pl.read_parquet(files["bad"], columns=["claim_id", "person_id"]), 4)
    # Still grouped: four contiguous parts and one more of the repeated ids' persons.
    assert bad.grouped and bad.ranges is not None and bad.nparts == 5


def test_sorted_and_shuffled_give_the_single_process_table(
    compiled: CompiledPolicy, files: dict[str, Path], scheduler: str
) -> None:
    for name, partitions in (("sorted", 3), ("sorted", None), ("shuffled", 4)):
        expected = _single(compiled, files[name])
        table, errors = settle_parquet_distributed(
            POLICY, None, None, files[name], scheduler=scheduler, partitions=partitions
        )
        assert errors == []
        assert table.height == expected.height > 8_000
        assert table.equals(expected), (name, partitions)


def test_bad_rows_give_the_same_errors_on_the_same_lines(
    files: dict[str, Path], scheduler: str, tmp_path: Path
) -> None:
    for name in ("bad", "bad_shuffled"):
        code, expected = _errors_of_cli(files[name], tmp_path / f"{name}-single.parquet")
        assert code == 1 and len(expected) >= 20
        fields = {e["field"] for e in expected}
        assert {"claim_id", "total", "other_payments", "settlement_date"} <= fields, fields
        code, got = _errors_of_cli(
            files[name], tmp_path / f"{name}-dask.parquet", "--dask", scheduler
        )
        assert code == 1
        assert got == expected, name
        single = pl.read_parquet(tmp_path / f"{name}-single.parquet")
        assert pl.read_parquet(tmp_path / f"{name}-dask.parquet").equals(single), name


def test_settle_command_with_a_local_cluster(files: dict[str, Path], tmp_path: Path) -> None:
    """``--dask local:2`` starts and closes its own cluster; the output files are equal."""
    single, dask = tmp_path / "single.parquet", tmp_path / "dask.parquet"
    assert _errors_of_cli(files["shuffled"], single) == (0, [])
    assert _errors_of_cli(files["shuffled"], dask, "--dask", "local:2") == (0, [])
    assert pl.read_parquet(dask).equals(pl.read_parquet(single))
    assert dask.read_bytes() == single.read_bytes()


def test_an_empty_file_needs_no_cluster(files: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    pl.read_parquet(files["sorted"]).clear().write_parquet(empty)
    table, errors = settle_parquet_distributed(POLICY, None, None, empty, scheduler="tcp://0:1")
    assert table.height == 0 and errors == []
    assert table.columns[:3] == ["claim_id", "person_id", "policy"]
    assert "__row" not in table.columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dask", "local:2"], "只能与 --engine batch"),
        (["--engine", "batch", "--dask", "local:0"], "取值无效"),
        (["--engine", "batch", "--dask", "spark"], "取值无效"),
        (["--engine", "batch", "--dask", "local:2", "--output", "out.jsonl"], "Parquet"),
    ],
)
def test_dask_option_is_refused_where_it_cannot_apply(
    files: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    out = ["--output", str(tmp_path / "out.parquet")] if "--output" not in args else []
    run = invoke(["settle", "--policy", POLICY, "--input", str(files["sorted"]), *out, *args])
    assert run.code == 2
    assert message in run.stderr
