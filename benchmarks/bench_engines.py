"""Claims per second of the reference engine, the batch engine and a bare NumPy kernel.

Run: ``.venv/bin/python benchmarks/bench_engines.py [--sizes 1e5,1e6,1e7] [--repeat 3]``.
Results go to ``benchmarks/results/engines.json`` and are quoted in docs/performance.md.

Method (docs/performance.md): one process, one synthetic 聊城 year per size
(``jiuzhu synth``, seed 1, cached under /tmp/jiuzhu-bench), read once into
columns; then, side by side and interleaved, each contender runs ``--repeat``
times and we keep the median wall time. Parsing and file reading are outside
every timing. The reference engine is timed at the sizes listed in
``--reference-sizes`` (it runs ~10k claims/s, so 1e7 would take ~20 minutes
and tens of GB of objects); at larger sizes its rate is the one measured at the
largest size it ran, in the same run, and the table says so.

Peak memory is measured in a separate pass with tracemalloc (NumPy reports its
buffers to it): the input columns' bytes plus the engine's peak allocation
during settlement, per claim.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from jiuzhu.domain.engine.batch import settle_columns
from jiuzhu.domain.engine.columns import VISIT_CODE, ClaimColumns
from jiuzhu.domain.engine.reference import settle_claims
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.engine.tables import HALF, BenefitTable, policy_tables
from jiuzhu.domain.money import BP_ONE
from jiuzhu.domain.vocabulary import Benefit
from jiuzhu.io.claims_columnar import read_parquet, to_claims
from jiuzhu.io.policy_files import compile_policy, load_policy

POLICY = "liaocheng-2023"
CLAIMS_PER_PERSON = 2.1  # synth's mean, measured; we draw a few more people than needed
CACHE = Path(os.environ.get("JIUZHU_BENCH_CACHE", "/tmp/jiuzhu-bench"))


# ---------------------------------------------------------------------- data
def claims_file(n: int) -> Path:
    """A synthetic 聊城 2023 with at least n claims (generated once, then cached)."""
    from jiuzhu.synth.population import generate, write

    folder = CACHE / f"liaocheng-{n}"
    path = folder / "claims.parquet"
    if not path.exists():
        people = int(n / CLAIMS_PER_PERSON * 1.05) + 100
        write(generate(load_policy(POLICY), people, 2023, seed=1), str(folder))
    return path


def load(n: int) -> ClaimColumns:
    cc = read_parquet(claims_file(n))
    assert not cc.errors
    return cc.cols.take(np.arange(n))  # the first n claims (people are contiguous)


# ---------------------------------------------------------------------- the bare kernel
def _seg_cumsum(x: np.ndarray, start: np.ndarray, lens: np.ndarray) -> np.ndarray:
    c = np.cumsum(x)
    off = np.zeros(start.size, dtype=np.int64)
    off[1:] = c[start[1:] - 1]
    return c - np.repeat(off, lens)


def _f(t: BenefitTable, row: np.ndarray, base: np.ndarray) -> np.ndarray:
    above = base - t.deductible[row]
    acc = np.zeros(base.size, dtype=np.int64)
    for s in range(t.lower.shape[1]):
        acc += np.clip(above - t.lower[row, s], 0, t.width[row, s]) * t.rate[row, s]
    # A pool's cap as min(cap, F): for one category all year the same as the engine's
    # "cap − paid so far" (ADR 11).
    return np.minimum((acc + HALF) // BP_ONE, t.pool_cap[row])


def _tier(
    t: BenefitTable,
    row: np.ndarray,
    pool: np.ndarray,
    inc: np.ndarray,
    start: np.ndarray,
    lens: np.ndarray,
    cat: np.ndarray,
) -> np.ndarray:
    after = np.zeros_like(inc)
    for p in range(t.npools):
        m = pool == p
        np.copyto(after, _seg_cumsum(np.where(m, inc, 0), start, lens), where=m)
    d = _f(t, row, after) - _f(t, row, after - inc)
    if t.any_shared_cap:
        incap = t.in_cap[row]
        s = _seg_cumsum(np.where(incap, d, 0), start, lens)
        cap = t.shared_cap[cat]
        d = np.where(incap, np.minimum(s, cap) - np.minimum(s - d, cap), d)
    return d


def kernel(c: CompiledPolicy, cols: ClaimColumns, cat: np.ndarray) -> dict[str, np.ndarray]:
    """The same arithmetic for 聊城 in straight NumPy: what this machine can do at best.

    Given each claim's category (no 就高不重复, no category changes, no checks,
    no explanation, no rejection, no fallback), person-years contiguous: basic
    insurance with its per-claim deductible by pool, the critical-illness
    insurance, medical assistance and re-assistance, each a group-wise
    cumulative sum through the policy's piecewise functions and shared caps.
    """
    tabs = policy_tables(c).tables
    year = cols.settle_day // 366  # person-years: a cheap stand-in, same run lengths here
    edge = np.r_[True, (cols.person[1:] != cols.person[:-1]) | (year[1:] != year[:-1])]
    start = np.flatnonzero(edge)
    lens = np.diff(np.r_[start, cols.person.size])
    scope, other = cols.policy_scope, cols.other
    bi_t = tabs[Benefit.basic_insurance]
    pools_bi = _pool_lut(c, Benefit.basic_insurance)[cols.visit, cols.level]
    row = cat.astype(np.int64) * bi_t.npools + pools_bi
    inc = np.maximum(0, scope - bi_t.per_claim_deductible[row])
    bi = _tier(bi_t, row, pools_bi, inc, start, lens, cat)
    cii_t = tabs[Benefit.critical_illness_insurance]
    pools_cii = _pool_lut(c, Benefit.critical_illness_insurance)[cols.visit, cols.level]
    row = cat.astype(np.int64) * cii_t.npools + pools_cii
    cii = _tier(cii_t, row, pools_cii, scope - bi, start, lens, cat)
    burden = np.maximum(0, scope - bi - cii - other)
    ma_t = tabs[Benefit.medical_assistance]
    ma = _tier(ma_t, cat.astype(np.int64), np.zeros_like(cat), burden, start, lens, cat)
    ra_t = tabs[Benefit.re_assistance]
    ra = _tier(ra_t, cat.astype(np.int64), np.zeros_like(cat), burden - ma, start, lens, cat)
    return {"bi": bi, "cii": cii, "ma": ma, "ra": ra}


def _pool_lut(c: CompiledPolicy, b: Benefit) -> np.ndarray:
    """(visit, level) → pool index, for the pools that need no disease list."""
    ben = c.benefits[b]
    lut = np.zeros((len(VISIT_CODE), 4), dtype=np.int64)
    for v, code in VISIT_CODE.items():
        for level in (1, 2, 3):
            for p, matchers in enumerate(ben.pools.values()):
                if any(
                    v in m.visit_types
                    and (m.hospital_levels is None or level in m.hospital_levels)
                    and m.diseases is None
                    for m in matchers
                ):
                    lut[code, level] = p
                    break
    return lut


# ---------------------------------------------------------------------- timing
def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def peak_bytes(fn: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def input_bytes(cols: ClaimColumns) -> int:
    arrays = (getattr(cols, name) for name in cols.__slots__ if name != "disease_names")
    return sum(a.nbytes for a in arrays if a is not None)


def measure(
    compiled: CompiledPolicy, n: int, with_reference: bool, repeat: int, ref_rate: float | None
) -> dict[str, object]:
    """One size: the contenders interleaved, then the memory pass."""
    cols = load(n)
    cat = settle_columns(compiled, cols).category  # the kernel is handed each claim's category
    out: dict[str, object] = {"claims": n}
    contenders: dict[str, Callable[[], object]] = {
        "kernel": lambda: kernel(compiled, cols, cat),
        "batch": lambda: settle_columns(compiled, cols),
    }
    if with_reference:
        claims = to_claims_cols(cols)
        contenders["reference"] = lambda: settle_claims(compiled, claims)
    for name, fn in contenders.items():
        reps = repeat if name != "reference" or n <= 100_000 else 1
        med, times = median_time(fn, reps)
        out[f"{name}_s"] = med
        out[f"{name}_runs"] = times
        out[f"{name}_claims_per_s"] = n / med
        print(f"{n:>10,} {name:>9}: median {med:8.3f} s  {n / med:12,.0f} claims/s", flush=True)
    if "reference_claims_per_s" not in out:
        out["reference_claims_per_s"] = ref_rate
        out["reference_extrapolated"] = True
    batch_s, kernel_s, batch_rate = out["batch_s"], out["kernel_s"], out["batch_claims_per_s"]
    assert isinstance(batch_s, float) and isinstance(kernel_s, float)
    assert isinstance(batch_rate, float)
    out["batch_over_kernel"] = batch_s / kernel_s
    rate = out["reference_claims_per_s"]
    if isinstance(rate, float):
        out["batch_over_reference_rate"] = batch_rate / rate
    inp = input_bytes(cols)
    peak = peak_bytes(lambda: settle_columns(compiled, cols))
    out["input_bytes_per_claim"] = inp / n
    out["engine_peak_bytes_per_claim"] = peak / n
    out["peak_bytes_per_claim"] = (inp + peak) / n
    print(f"{n:>10,} memory: input {inp / n:.0f} B/claim + engine peak {peak / n:.0f} B/claim")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e5,1e6,1e7")
    ap.add_argument("--reference-sizes", default="1e5,1e6")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "engines.json"))
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    ref_sizes = {int(float(s)) for s in args.reference_sizes.split(",")}
    compiled = compile_policy(load_policy(POLICY))
    rows = []
    ref_rate: float | None = None
    for n in sizes:
        out = measure(compiled, n, n in ref_sizes, args.repeat, ref_rate)
        ref_rate = out["reference_claims_per_s"]  # type: ignore[assignment]
        rows.append(out)
    result = {
        "policy": POLICY,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        },
        "repeat": args.repeat,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {args.out}")


def to_claims_cols(cols: ClaimColumns) -> list:  # type: ignore[type-arg]
    """Domain claims for the reference engine (built outside the timing)."""
    import polars as pl

    from jiuzhu.io.claims_columnar import ColumnarClaims

    n = len(cols)
    ids = pl.Series([f"c{i}" for i in range(n)])
    persons = pl.Series([f"p{p}" for p in cols.person.tolist()])
    return to_claims(ColumnarClaims(cols, ids, persons, np.arange(1, n + 1), []))


if __name__ == "__main__":
    main()
