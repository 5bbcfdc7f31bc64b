"""The batch engine in one process against the same run on a local 2-worker Dask cluster.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--claims 1e7] [--repeat 3]``.
Results go to ``benchmarks/results/dask.json`` and are quoted in docs/performance.md.

Each contender does the whole job of ``jiuzhu settle --engine batch -i claims.parquet
-o settlements.parquet``: read and check the Parquet file, settle, build the table,
write it. The data is bench_engines' synthetic 聊城 year (the first ``--claims`` rows,
written once to their own file). Contenders run interleaved, ``--repeat`` times,
median kept:

- ``single``: one process (this one).
- ``dask``: a running local cluster of 2 worker processes, 1 thread each, started
  before the timings (as a deployment's cluster is already running).
- ``dask_cold``: ``--dask local:2``: the cluster started and closed inside the timing.

Every run's output is checked equal to the single process's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_engines import CACHE, POLICY, claims_file

from jiuzhu.distributed import settle_parquet_distributed
from jiuzhu.domain.engine.batch import REJECT_NONE, settle_columns
from jiuzhu.io import settlements_columnar
from jiuzhu.io.claims_columnar import read_parquet
from jiuzhu.io.policy_files import compile_policy, load_policy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", default="1e7")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "dask.json"))
    args = ap.parse_args()
    n = int(float(args.claims))
    src = CACHE / f"first-{n}.parquet"
    if not src.exists():
        pl.read_parquet(claims_file(n)).head(n).write_parquet(src, statistics=True)
    compiled = compile_policy(load_policy(POLICY))
    out_dir = CACHE / "dask-out"
    out_dir.mkdir(exist_ok=True)

    def single() -> Path:
        cc = read_parquet(src)
        res = settle_columns(compiled, cc.cols)
        ok = res.reject == REJECT_NONE
        frame = settlements_columnar.from_batch(
            cc.claim_id, cc.person_id, compiled.policy.id, cc.cols.total, res, ok
        )
        path = out_dir / "single.parquet"
        settlements_columnar.write(frame, path)
        return path

    import dask
    from distributed import LocalCluster

    # The same cluster `--dask local:2` starts (jiuzhu.distributed), kept running.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"POLARS_MAX_THREADS": str(max(1, (os.cpu_count() or 1) // 2))},
        )

    def dask(address: str | None, name: str) -> Callable[[], Path]:
        def run() -> Path:
            frame, _ = settle_parquet_distributed(
                POLICY, None, None, src, scheduler=address, workers=2, compiled=compiled
            )
            path = out_dir / f"{name}.parquet"
            settlements_columnar.write(frame, path)
            return path

        return run

    contenders = {
        "single": single,
        "dask": dask(cluster.scheduler_address, "dask"),
        "dask_cold": dask(None, "dask_cold"),
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    try:
        for _ in range(args.repeat):
            for name, fn in contenders.items():
                gc.collect()
                t0 = time.perf_counter()
                path = fn()
                times[name].append(time.perf_counter() - t0)
                print(f"{name:>10}: {times[name][-1]:7.2f} s", flush=True)
                if name != "single":
                    same = pl.read_parquet(path).equals(pl.read_parquet(out_dir / "single.parquet"))
                    assert same, name
    finally:
        cluster.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "policy": POLICY,
        "claims": n,
        "cpus": os.cpu_count(),
        "runs": times,
        "median_s": med,
        "dask_over_single": med["dask"] / med["single"],
        "dask_cold_over_single": med["dask_cold"] / med["single"],
        "numpy": np.__version__,
    }
    for k, v in med.items():
        print(f"median {k:>10}: {v:7.2f} s  ({n / v:,.0f} claims/s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
