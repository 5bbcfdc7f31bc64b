"""The compiled policy as arrays, for the batch engine.

``rules.py`` turns each (benefit, category) into ``Piecewise`` functions per
pool; here the same functions are laid out as parameter arrays indexed by
``category × pool``, so one NumPy expression evaluates every claim's own
function at once. Nothing is decided here that ``rules.py`` did not decide:
the arrays are read off the compiled schedules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jiuzhu.domain.engine.columns import CATEGORIES, VISIT_CODE
from jiuzhu.domain.engine.rules import CapKind, CompiledPolicy
from jiuzhu.domain.money import BP_ONE
from jiuzhu.domain.policy.model import BaseKind
from jiuzhu.domain.vocabulary import Benefit

INF = np.int64(1 << 62)
"""Stands for "no cap" / "no upper bound": larger than any sum of fen we hold."""

HALF = BP_ONE // 2


@dataclass(slots=True)
class BenefitTable:
    """One cumulative benefit: its pools and sub-limits and, per category × pool, its
    rate function and caps.

    Accumulator keys: pool p is ``key0 + p``; sub-limit l is ``key0 + npools + l``.
    """

    benefit: Benefit
    pools: tuple[str, ...]
    limits: tuple[str, ...]
    key0: int
    base: BaseKind
    desk: bool
    has_schedule: np.ndarray  # [C] bool
    routed: np.ndarray  # [C] bool: the category's schedule is paid on application only
    any_routed: bool
    deductible: np.ndarray  # [C*P] int64, the function's yearly deductible
    per_claim_deductible: np.ndarray  # [C*P] int64
    lower: np.ndarray  # [C*P, S] int64
    width: np.ndarray  # [C*P, S] int64 (INF: open)
    rate: np.ndarray  # [C*P, S] int64 basis points (0 pads)
    pool_cap: np.ndarray  # [C*P] int64 (INF: none)
    shared_cap: np.ndarray  # [C] int64 (INF: none)
    limit_cap: np.ndarray  # [C, L] int64 (INF: none)
    limit_of: np.ndarray  # [P, V] int8: the sub-limit of a claim of visit v in pool p (-1: none)
    in_cap: np.ndarray  # [C*P] bool: the pool counts toward the shared cap
    in_cap_cp: np.ndarray  # [C, P] bool
    any_shared_cap: bool
    any_pool_cap: bool
    lower_t: np.ndarray  # [S, C*P]: the same, one contiguous row per segment
    width_t: np.ndarray
    rate_t: np.ndarray

    @property
    def npools(self) -> int:
        return len(self.pools)

    @property
    def nlimits(self) -> int:
        return len(self.limits)

    def flat(self, category: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """The row of each claim's function: ``category × P + pool`` (pool -1 reads pool 0)."""
        out: np.ndarray = category.astype(np.int64) * self.npools + np.maximum(pool, 0)
        return out

    def f2(
        self, flat: np.ndarray, after: np.ndarray, before: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """F at two bases per claim (after and before it), reading the parameters once:
        the vector form of ``Piecewise.__call__`` (no cap: caps limit what was paid).

        When every claim uses the same function (the usual case within a pool),
        the parameters are scalars and nothing is gathered.
        """
        rows = np.flatnonzero(np.bincount(flat, minlength=1)) if flat.size else flat
        if rows.size == 1:
            r = int(rows[0])
            params = [(self.lower[r, s], self.width[r, s], self.rate[r, s]) for s in self._segs(r)]
            ded = self.deductible[r]
        else:
            params = [
                (self.lower_t[s][flat], self.width_t[s][flat], self.rate_t[s][flat])
                for s in range(self.lower.shape[1])
            ]
            ded = self.deductible[flat]
        out_a = self._eval(after - ded, params)
        out_b = None if before is None else self._eval(before - ded, params)
        return out_a, out_b

    def _segs(self, r: int) -> list[int]:
        return [s for s in range(self.lower.shape[1]) if self.rate[r, s] != 0]

    @staticmethod
    def _eval(
        above: np.ndarray,
        params: list[tuple[np.ndarray | np.int64, np.ndarray | np.int64, np.ndarray | np.int64]],
    ) -> np.ndarray:
        acc = np.zeros(above.shape, dtype=np.int64)
        for lower, width, rate in params:
            # np.clip(above - lower, 0, width), in place: np.clip's Python-level checks
            # cost more than the clipping on a chunk's arrays.
            part = above - lower
            np.maximum(part, 0, out=part)
            np.minimum(part, width, out=part)
            part *= rate
            acc += part
        acc += HALF
        acc //= BP_ONE
        return acc


def _benefit_table(compiled: CompiledPolicy, b: Benefit, key0: int) -> BenefitTable:
    ben = compiled.benefits[b]
    pools = tuple(ben.pools)
    limits = tuple(ben.limits)
    c_n, p_n = len(CATEGORIES), len(pools)
    scheds = [compiled.schedule(b, c) for c in CATEGORIES]
    s_n = max([1] + [len(fn.segments) for s in scheds if s for fn in s.functions.values()])
    has = np.array([s is not None for s in scheds])
    routed = np.array([s is not None and s.route is not None for s in scheds])
    ded = np.zeros(c_n * p_n, np.int64)
    pcd = np.zeros(c_n * p_n, np.int64)
    lower = np.zeros((c_n * p_n, s_n), np.int64)
    width = np.zeros((c_n * p_n, s_n), np.int64)
    rate = np.zeros((c_n * p_n, s_n), np.int64)
    pcap = np.full(c_n * p_n, INF, np.int64)
    scap = np.full(c_n, INF, np.int64)
    lcap = np.full((c_n, max(1, len(limits))), INF, np.int64)
    in_cap = np.zeros((c_n, p_n), bool)
    limit_of = np.full((p_n, len(VISIT_CODE)), -1, np.int8)
    for li, name in enumerate(limits):
        lim = ben.limits[name]
        for v in lim.visit_types:
            limit_of[pools.index(lim.pool), VISIT_CODE[v]] = li
    for ci, sched in enumerate(scheds):
        if sched is None:
            continue
        shared = sched.shared_cap
        if shared is not None:
            scap[ci] = shared.amount
        for cap in sched.caps:
            if cap.kind is CapKind.limit:
                lcap[ci, limits.index(next(iter(cap.keys)))] = cap.amount
            elif cap.kind is CapKind.pool:
                pcap[ci * p_n + pools.index(cap.pool or "")] = cap.amount
        for pi, pool in enumerate(pools):
            row = ci * p_n + pi
            fn = sched.functions[pool]
            ded[row] = fn.deductible
            pcd[row] = sched.per_claim_deductibles.get(pool, 0)
            in_cap[ci, pi] = shared is not None and pool in shared.keys
            for si, seg in enumerate(fn.segments):
                lower[row, si] = seg.lower
                width[row, si] = INF if seg.upper is None else seg.upper - seg.lower
                rate[row, si] = seg.rate
    return BenefitTable(
        benefit=b,
        pools=pools,
        limits=limits,
        key0=key0,
        base=ben.base,
        desk=ben.desk,
        has_schedule=has,
        routed=routed,
        any_routed=bool(routed.any()),
        deductible=ded,
        per_claim_deductible=pcd,
        lower=lower,
        width=width,
        rate=rate,
        pool_cap=pcap,
        shared_cap=scap,
        limit_cap=lcap,
        limit_of=limit_of,
        in_cap=in_cap.reshape(-1),
        in_cap_cp=in_cap,
        any_shared_cap=bool((scap < INF).any()),
        any_pool_cap=bool((pcap < INF).any()),
        lower_t=np.ascontiguousarray(lower.T),
        width_t=np.ascontiguousarray(width.T),
        rate_t=np.ascontiguousarray(rate.T),
    )


@dataclass(slots=True)
class PolicyTables:
    """Every cumulative benefit's table, and the accumulator keys they use."""

    tables: dict[Benefit, BenefitTable]
    keys: list[tuple[Benefit, str]]
    quota_bi_key: int
    quota_key: int
    assistance_key: np.ndarray
    """[K] bool: the key counts in the benefit period (``Held.period_year``), not the
    claim's own year: the assistance tiers."""

    @property
    def nkeys(self) -> int:
        return len(self.keys)


QUOTA_POOL = "major_disease_quota"


def policy_tables(compiled: CompiledPolicy) -> PolicyTables:
    tables: dict[Benefit, BenefitTable] = {}
    keys: list[tuple[Benefit, str]] = []
    for b, ben in compiled.policy.benefits.cumulative():
        tables[b] = _benefit_table(compiled, b, len(keys))
        keys.extend((b, pool) for pool in ben.pools)
        keys.extend((b, limit) for limit in ben.limits)
    keys.append((Benefit.basic_insurance, QUOTA_POOL))
    keys.append((Benefit.major_disease_quota, QUOTA_POOL))
    insurance = {Benefit.basic_insurance, Benefit.critical_illness_insurance}
    assistance = np.array([b not in insurance for b, pool in keys[:-2]] + [False, False])
    return PolicyTables(tables, keys, len(keys) - 2, len(keys) - 1, assistance)
