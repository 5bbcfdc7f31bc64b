"""The batch engine over a large table on one machine: in parts of whole persons, two at a
time, one settlement table back in input order.

Settlement is per person (a person's yearly accumulators span their claims and nothing
else), so settling parts that each keep every claim of their persons, in file order,
gives exactly the whole table's result (the Dask path relies on the same, ADR 7 and
docs/distributed.md). Here the parts are contiguous row ranges cut at person boundaries,
settled on a small thread pool: NumPy and Polars release the interpreter lock in their
loops, so one part's settlement runs while another part's table is built, on both cores.
A file whose persons are not grouped is settled in one part, as before.

``write_parquet`` also overlaps the writing: the parts are the batches of a Polars lazy
source (``polars.io.plugins.register_io_source``) that ``sink_parquet`` compresses and
writes while the next parts settle, instead of settling everything and then writing
(docs/performance.md). The plugin interface is marked unstable by Polars; if it is not
there, the table is collected and written whole, with the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl

from jiuzhu.domain.engine.batch import REJECT_NONE, BatchResult, settle_columns
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.io import settlements_columnar
from jiuzhu.io.claims_columnar import ColumnarClaims

PART_CLAIMS = 1 << 19
"""At most about half a million claims a part: big enough that a part's fixed costs
vanish, small enough that two parts in flight stay in memory comfortably, and that the
last parts, which are written after every other part has settled (the job's tail, with
a core idle), are short (docs/performance.md)."""


@dataclass(frozen=True)
class Rejected:
    """A part's rejected claims: their rows (0-based, in the whole table) and codes."""

    index: np.ndarray
    reject: np.ndarray
    reject_left: np.ndarray


def parts(person: np.ndarray, size: int = PART_CLAIMS) -> list[tuple[int, int]]:
    """Row ranges of about ``size`` claims at most, never splitting a person. Person codes
    in non-decreasing order (a file sorted by person, as the reader codes it) are cut at
    the first claim of a person; otherwise the whole table is one range. The parts are
    of about equal length, so the last is no longer than the others need be."""
    n = person.size
    if n <= size or not bool(np.all(person[1:] >= person[:-1])):
        return [(0, n)] if n else []
    starts = np.r_[0, np.flatnonzero(person[1:] != person[:-1]) + 1]
    count = -(-n // size)
    step = -(-n // count)
    at = np.searchsorted(starts, np.arange(step, n, step))
    cuts = sorted({0, n, *starts[at[at < starts.size]].tolist()})
    return list(pairwise(cuts))


def settle_table(
    compiled: CompiledPolicy,
    cc: ColumnarClaims,
    *,
    workers: int | None = None,
    size: int = PART_CLAIMS,
) -> tuple[pl.DataFrame, Rejected]:
    """The settlement table of every claim the engine settles, and the ones it rejects."""
    ranges = parts(cc.cols.person, size)
    threads = max(1, min(workers or os.cpu_count() or 1, 2, len(ranges)))

    def one(r: tuple[int, int]) -> tuple[pl.DataFrame, Rejected]:
        a, b = r
        cols = cc.cols.slice(a, b)
        res = settle_columns(compiled, cols)
        return _table(compiled, cc, a, b, res)

    if not ranges:
        return one((0, 0))
    if threads == 1:
        done = [one(r) for r in ranges]
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="settle") as pool:
            done = list(pool.map(one, ranges))
    frames = [f for f, _ in done]
    rejected = Rejected(
        np.concatenate([r.index for _, r in done]),
        np.concatenate([r.reject for _, r in done]),
        np.concatenate([r.reject_left for _, r in done]),
    )
    return pl.concat(frames, rechunk=False), rejected


def write_parquet(
    compiled: CompiledPolicy,
    cc: ColumnarClaims,
    path: Path,
    *,
    workers: int | None = None,
    size: int = PART_CLAIMS,
) -> Rejected:
    """Settle and write the settlement table to ``path`` (Parquet), part by part."""
    ranges = parts(cc.cols.person, size) or [(0, 0)]
    threads = max(1, min(workers or os.cpu_count() or 1, 2, len(ranges)))
    found: list[Rejected] = []

    def one(r: tuple[int, int]) -> pl.DataFrame:
        a, b = r
        frame, rejected = _table(compiled, cc, a, b, settle_columns(compiled, cc.cols.slice(a, b)))
        found.append(rejected)
        return frame

    with ThreadPoolExecutor(threads, thread_name_prefix="settle") as pool:
        tables = pool.map(one, ranges)  # in order, two parts ahead of the writer
        try:
            from polars.io.plugins import register_io_source
        except ImportError:  # pragma: no cover - the unstable interface moved
            settlements_columnar.write(pl.concat(list(tables), rechunk=False), path)
        else:
            first = next(tables)

            def batches(*_: object) -> Iterator[pl.DataFrame]:
                yield first
                yield from tables

            lazy = register_io_source(batches, schema=first.schema)
            lazy.sink_parquet(path, **settlements_columnar.PARQUET_OPTIONS, engine="streaming")
    found.sort(key=lambda r: int(r.index[0]) if r.index.size else -1)
    return Rejected(
        np.concatenate([r.index for r in found]),
        np.concatenate([r.reject for r in found]),
        np.concatenate([r.reject_left for r in found]),
    )


def _table(
    compiled: CompiledPolicy, cc: ColumnarClaims, a: int, b: int, res: BatchResult
) -> tuple[pl.DataFrame, Rejected]:
    ok = res.reject == REJECT_NONE
    frame = settlements_columnar.from_batch(
        cc.claim_id.slice(a, b - a),
        cc.person_id.slice(a, b - a),
        compiled.policy.id,
        cc.cols.total[a:b],
        res,
        ok,
    )
    bad = np.flatnonzero(~ok)
    return frame, Rejected(bad + a, res.reject[bad], res.reject_left[bad])
