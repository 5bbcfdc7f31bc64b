"""How long ``jiuzhu`` takes to start, against a bare ``python -c pass``.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 21]``.
Results go to ``benchmarks/results/startup.json`` and are quoted in docs/performance.md.

Method: each contender is a fresh process of the venv's interpreter (what a user's shell
starts), wall time from spawn to exit, stdout and stderr to /dev/null. Contenders run
interleaved, one after another in each round, ``--repeat`` rounds; the median is kept
and each is given as a multiple of the bare interpreter's median from the same run.

- ``python -c pass``: the floor, the interpreter alone (with the venv's site-packages).
- ``jiuzhu --help``: the command's own help (every command module imported).
- ``jiuzhu settle`` of one claim, JSONL on standard input: what a hospital desk's
  integration runs for each discharge without the service (reference engine, 聊城).
- ``jiuzhu explain`` of the same claim, as a table in the terminal.
- ``jiuzhu settle --help``: one command's help (that command's module imported).
- settle's parameters built and parsed: the ``jiuzhu`` group and ``settle`` built and
  ``settle -p liaocheng-2023 -i - --engine reference`` parsed (``make_context``), the
  command not run; what Typer's conversion of the parameters costs (ADR 20).
- Bytecode as users have it: ``PYTHONDONTWRITEBYTECODE`` is removed from the contenders'
  environment, so the warm-up run writes the ``__pycache__`` of what it imports (as a
  user's first run does, and ``pip install`` at install time); with it set, every module
  of the editable checkout would be compiled from source on every run.
- with ``--before REV``: each of the above (but the floor) at an earlier commit (its
  ``src/`` unpacked by bench_settle_parquet's ``_before``, run as ``python -m
  jiuzhu.cli.main`` with this venv, on ``PYTHONPATH``).
- The policy as a user's second and later runs find it: compiled and kept by the first
  run (``io/policy_cache``, ADR 21; the warm-up run keeps it, in a directory of the
  benchmark's own), and ``settle`` once more with the cache off (``JIUZHU_CACHE_DIR=``,
  through ``env``), as the first run after an install or a change to the policy files or
  the code is.
- CPU seconds (user + system) of each run are kept beside the wall time: on a shared,
  loaded machine they move less with the neighbours than the wall time does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLAIM = {
    "claim_id": "bench-1",
    "person_id": "bench-person",
    "category": "dibao",
    "visit_type": "inpatient",
    "settlement_date": "2023-06-30",
    "admission_date": "2023-06-20",
    "hospital_level": 2,
    "referred": True,
    "total": "30000.00",
    "full_self_pay": "1000.00",
    "partial_self_pay": "2000.00",
    "policy_scope": "27000.00",
}


SETTLE_ARGS = ["settle", "-p", "liaocheng-2023", "-i", "-", "--engine", "reference"]

PARSE = """
import sys
from typer.main import get_command
from jiuzhu.cli.main import app
root = get_command(app)
ctx = root.make_context("jiuzhu", sys.argv[1:])
name = ctx._protected_args[0]
root.get_command(ctx, name).make_context(name, ctx.args, parent=ctx)
"""
"""Build the group and the command, parse its command line; do not run it."""


def _jiuzhu() -> str:
    exe = Path(sys.executable).parent / "jiuzhu"
    if not exe.exists():
        sys.exit(f"{exe} not found: run `make venv` first")
    return str(exe)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's children waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(cmd: list[str], stdin: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, input=stdin.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed, _children_cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--before", metavar="REV", help="also time the commands at this commit")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "startup.json"))
    args = ap.parse_args()
    jiuzhu = _jiuzhu()
    one = json.dumps(CLAIM) + "\n"
    contenders: dict[str, tuple[list[str], str]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], ""),
        "jiuzhu --help": ([jiuzhu, "--help"], ""),
        "jiuzhu settle --help": ([jiuzhu, "settle", "--help"], ""),
        "settle's parameters parsed": ([sys.executable, "-c", PARSE, *SETTLE_ARGS], ""),
        "jiuzhu settle (one claim)": ([jiuzhu, "settle", "-p", "liaocheng-2023", "-i", "-"], one),
        "jiuzhu explain (one claim)": (
            [jiuzhu, "explain", "-p", "liaocheng-2023", "-i", "-"],
            one,
        ),
        "jiuzhu settle (one claim, cache off)": (
            ["env", "JIUZHU_CACHE_DIR=", jiuzhu, "settle", "-p", "liaocheng-2023", "-i", "-"],
            one,
        ),
    }
    if args.before:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_settle_parquet import _before

        env = ["env", f"PYTHONPATH={_before(args.before)}", sys.executable]
        old = [*env, "-m", "jiuzhu.cli.main"]
        contenders["jiuzhu --help (before)"] = ([*old, "--help"], "")
        contenders["jiuzhu settle --help (before)"] = ([*old, "settle", "--help"], "")
        contenders["settle's parameters parsed (before)"] = ([*env, "-c", PARSE, *SETTLE_ARGS], "")
        contenders["jiuzhu settle (one claim, before)"] = (
            [*old, "settle", "-p", "liaocheng-2023", "-i", "-"],
            one,
        )
        contenders["jiuzhu explain (one claim, before)"] = (
            [*old, "explain", "-p", "liaocheng-2023", "-i", "-"],
            one,
        )
    ENV["JIUZHU_CACHE_DIR"] = tempfile.mkdtemp(prefix="jiuzhu-bench-cache-")
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    cpus: dict[str, list[float]] = {name: [] for name in contenders}
    for cmd, stdin in contenders.values():  # warm the page cache once
        _time(cmd, stdin)
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        for name, (cmd, stdin) in contenders.items():
            wall, cpu = _time(cmd, stdin)
            runs[name].append(wall)
            cpus[name].append(cpu)
    load_after = os.getloadavg()
    floor = statistics.median(runs["python -c pass"])
    cpu_floor = statistics.median(cpus["python -c pass"])
    rows = []
    for name, times in runs.items():
        med = statistics.median(times)
        cpu = statistics.median(cpus[name])
        rows.append(
            {
                "contender": name,
                "median_s": med,
                "over_python": med / floor,
                "min_s": min(times),
                "max_s": max(times),
                "runs": times,
                "cpu_median_s": cpu,
                "cpu_over_python": cpu / cpu_floor,
                "cpu_runs": cpus[name],
            }
        )
        print(
            f"{name:40s} median {med * 1000:7.1f} ms  {med / floor:5.1f}× python -c pass"
            f"   CPU {cpu * 1000:7.1f} ms  {cpu / cpu_floor:5.1f}×"
        )
    print(f"load average {load_before[0]:.2f} → {load_after[0]:.2f}")
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "bytecode_cached": True,
        },
        "repeat": args.repeat,
        "before": args.before,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
