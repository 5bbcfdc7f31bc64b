"""The whole ``jiuzhu settle --engine batch`` job, Parquet → Parquet, against Polars alone.

Run: ``.venv/bin/python benchmarks/bench_settle_parquet.py [--claims 1e7] [--repeat 3]``.
Results go to ``benchmarks/results/settle-parquet.json`` and are quoted in
docs/performance.md.

Method: the data is bench_engines' synthetic 聊城 2023 year (``jiuzhu synth``, seed 1),
its first ``--claims`` rows written once to their own file (cached under
``JIUZHU_BENCH_CACHE``). Each contender is a fresh process, timed from spawn to exit, so
start-up, imports and the policy's loading count too. Contenders run interleaved,
``--repeat`` rounds, median kept:

- ``jiuzhu settle``: ``jiuzhu settle --engine batch -p liaocheng-2023 -i claims.parquet
  -o settlements.parquet``, the command as shipped: read, check every row, settle,
  build the table, write it.
- ``polars read+write``: the floor: ``pl.read_parquet(claims.parquet)`` then
  ``write_parquet`` of the same frame (Polars' defaults), in a fresh interpreter that
  imports Polars: what reading and writing this file costs at all on this machine.
- ``before`` (with ``--before REV``): the same command from an earlier commit
  (``git archive REV src`` unpacked once under the cache, run with this venv), so a
  speed-up is a ratio measured side by side.

``--phases`` also times the job's steps once, in this process (read, check, settle and
build the table, write; wall and CPU seconds), to say where the time goes.

Besides wall time, each process's CPU time (user + system, all threads) is read from
``os.wait4``, and the machine's load average before and after each run is recorded:
the machine is shared, and the CPU time tells work apart from waiting for a core.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_engines import CACHE, POLICY, claims_file

BARE = """
import sys
import polars as pl
pl.read_parquet(sys.argv[1]).write_parquet(sys.argv[2])
"""


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process (which must succeed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def _before(rev: str) -> Path:
    """``src/`` of an earlier commit, unpacked once (cached by the commit's name)."""
    root = Path(__file__).resolve().parent.parent
    sha = subprocess.run(
        ["git", "-C", str(root), "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    target = CACHE / f"src-{sha[:12]}"
    if not (target / "src").is_dir():
        blob = subprocess.run(
            ["git", "-C", str(root), "archive", sha, "src"], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(target, filter="data")
    return target / "src"


def _cpu() -> float:
    """This process's CPU seconds so far (user + system, all threads)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _phases(src: Path, out: Path) -> dict[str, dict[str, float]]:
    """The job's steps timed once in this process: wall and CPU seconds of each."""
    from jiuzhu.batch_parts import settle_table
    from jiuzhu.io import settlements_columnar
    from jiuzhu.io.claims_columnar import from_frame
    from jiuzhu.io.policy_files import compile_policy, load_policy

    compiled = compile_policy(load_policy(POLICY))
    t = [(time.perf_counter(), _cpu())]
    frame = pl.read_parquet(src)
    t.append((time.perf_counter(), _cpu()))
    cc = from_frame(frame)
    del frame
    t.append((time.perf_counter(), _cpu()))
    table, _ = settle_table(compiled, cc)
    t.append((time.perf_counter(), _cpu()))
    settlements_columnar.write(table, out)
    t.append((time.perf_counter(), _cpu()))
    names = ("read", "check", "settle and build the table", "write")
    return {
        name: {"wall_s": t[i + 1][0] - t[i][0], "cpu_s": t[i + 1][1] - t[i][1]}
        for i, name in enumerate(names)
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", default="1e7")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", metavar="REV", help="also time the command at this commit")
    ap.add_argument("--phases", action="store_true", help="also time the steps once")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "settle-parquet.json"))
    args = ap.parse_args()
    n = int(float(args.claims))
    src = CACHE / f"first-{n}.parquet"
    if not src.exists():
        pl.read_parquet(claims_file(n)).head(n).write_parquet(src, statistics=True)
    out_dir = CACHE / "settle-out"
    out_dir.mkdir(exist_ok=True)
    jiuzhu = str(Path(sys.executable).parent / "jiuzhu")
    contenders = {
        "jiuzhu settle": [
            jiuzhu,
            "settle",
            "--engine",
            "batch",
            "-p",
            POLICY,
            "-i",
            str(src),
            "-o",
            str(out_dir / "settlements.parquet"),
        ],
        "polars read+write": [sys.executable, "-c", BARE, str(src), str(out_dir / "copy.parquet")],
    }
    if args.before:
        old = _before(args.before)
        contenders["before"] = [
            "env",
            f"PYTHONPATH={old}",
            sys.executable,
            "-m",
            "jiuzhu.cli.main",
            *contenders["jiuzhu settle"][1:-1],
            str(out_dir / "before.parquet"),
        ]
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in contenders}
    for i in range(args.repeat):
        order = list(contenders) if i % 2 == 0 else list(reversed(contenders))
        for name in order:
            load = os.getloadavg()[0]
            wall, cpu = _run(contenders[name])
            after = os.getloadavg()[0]
            runs[name].append(
                {"wall_s": wall, "cpu_s": cpu, "load_before": load, "load_after": after}
            )
            print(
                f"{name:>18}: {wall:6.2f} s wall, {cpu:6.2f} s CPU (load {load:.2f} → {after:.2f})",
                flush=True,
            )
    settled = pl.scan_parquet(out_dir / "settlements.parquet").select(pl.len()).collect().item()
    same = None
    if args.before:  # (an engine change between the two commits may change amounts)
        same = pl.read_parquet(out_dir / "before.parquet").equals(
            pl.read_parquet(out_dir / "settlements.parquet")
        )
        print(f"before and now write the same table: {same}")
    rows = {}
    for name, rs in runs.items():
        wall = statistics.median(r["wall_s"] for r in rs)
        rows[name] = {
            "median_wall_s": wall,
            "median_cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "claims_per_s": n / wall,
            "runs": rs,
        }
        print(f"median {name:>18}: {wall:6.2f} s ({n / wall:,.0f} claims/s)")
    ratio = rows["jiuzhu settle"]["median_wall_s"] / rows["polars read+write"]["median_wall_s"]
    print(f"jiuzhu settle ÷ polars read+write: {ratio:.2f}")
    if args.before:
        speedup = rows["before"]["median_wall_s"] / rows["jiuzhu settle"]["median_wall_s"]
        print(f"before ÷ now: {speedup:.2f}")
    phases = _phases(src, out_dir / "phases.parquet") if args.phases else None
    if phases:
        for name, secs in phases.items():
            print(f"  {name:>28}: {secs['wall_s']:6.2f} s wall, {secs['cpu_s']:6.2f} s CPU")
    result = {
        "policy": POLICY,
        "claims": n,
        "settled": settled,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "polars": pl.__version__,
        },
        "repeat": args.repeat,
        "contenders": rows,
        "settle_over_bare": ratio,
        "before": args.before,
        "same_table_as_before": same,
        "phases_s": phases,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
