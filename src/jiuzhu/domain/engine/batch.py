"""The batch engine: the reference engine's rules on columns, with no loop over claims.

Same order, same functions, same rounding as ``reference.py``; the difference
is only how the yearly accumulators are found (ADR 7):

* **Cumulative sums** for a person whose every year has one category and no
  referral chain: each claim's base before it is the group-wise cumulative sum
  of the increments before it, and what a shared cap leaves is
  ``min(cap, S_after) - min(cap, S_before)`` of the cumulative candidate
  amounts. This is exact when no claim is limited by what its bill leaves (the
  engine checks, and hands such a person to the next path).
* **Rounds by rank** for everyone else (two categories at once, a category
  change in the year, 福建's referral chain, a bill that runs out): the k-th
  claims of all these people are settled together, every category tried in
  vectors, the best kept, the accumulators updated; then the (k+1)-th.

Both paths call one ``_trial``; only the ``Ledger`` that answers "what was the
base before this claim" differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from jiuzhu.domain.engine.columns import (
    CATEGORIES,
    CATEGORY_CODE,
    OPEN_FROM,
    REVIEWED,
    VISIT_CODE,
    ClaimColumns,
)
from jiuzhu.domain.engine.columns import day_of as _day
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.engine.tables import HALF, INF, BenefitTable, PolicyTables, policy_tables
from jiuzhu.domain.money import BP_ONE
from jiuzhu.domain.policy.model import BaseKind, ExclusionKind, LookBack
from jiuzhu.domain.vocabulary import Benefit, Category

ASSISTS = (
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
)
AMOUNTS = tuple(Benefit)
ORDINARY = CATEGORY_CODE[Category.ordinary]

# Why a claim was rejected (BatchResult.reject): 0 = settled.
REJECT_NONE, REJECT_NOT_IN_FORCE, REJECT_OTHER = 0, 1, 3


Rows = np.ndarray | slice
"""Claim rows of a chunk: an index array, or ``slice(None)`` for all of them (views)."""


def _i64(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


def _linear(base: np.ndarray, rate: np.ndarray | int) -> np.ndarray:
    """``apply_rate`` in vectors: half-up to the fen (base ≥ 0)."""
    return (base * rate + HALF) // BP_ONE


def _new_run(x: np.ndarray) -> np.ndarray:
    """True where a run of equal values begins (the first element begins one).

    What ``np.r_[True, x[1:] != x[:-1]]`` gives, without ``np.r_``'s Python-level
    concatenation: the engine asks it several times of every chunk."""
    out = np.empty(x.size, bool)
    if x.size:
        out[0] = True
        np.not_equal(x[1:], x[:-1], out=out[1:])
    return out


def _years(day: np.ndarray) -> np.ndarray:
    """The calendar year of each day number (fast: a search among year starts, and
    none at all when every day is in one year, as in a year's claims)."""
    if day.size == 0:
        return np.zeros(0, np.int64)
    lo, hi = int(day.min()), int(day.max())
    first = np.datetime64(lo, "D").astype("datetime64[Y]").astype(np.int64)
    last = np.datetime64(hi, "D").astype("datetime64[Y]").astype(np.int64)
    if first == last:
        return np.full(day.size, first + 1970, np.int64)
    years = np.arange(first, last + 2)
    starts = years.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    out: np.ndarray = years[np.searchsorted(starts, day, side="right") - 1] + 1970
    return out


def _months_before(day: np.ndarray, months: int) -> np.ndarray:
    """``eligibility.months_before`` in vectors: the same day ``months`` earlier, clamped."""
    d = day.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    earlier = month - months
    first = earlier.astype("datetime64[D]")
    length = ((earlier + 1).astype("datetime64[D]") - first).astype(np.int64)
    out: np.ndarray = first.astype(np.int64) + np.minimum(dom, length - 1)
    return out


def _window_start(lb: LookBack, ident: np.ndarray, applied: np.ndarray) -> np.ndarray:
    """``eligibility.window_start`` in vectors (day numbers of identification/application)."""
    if lb.counts_from == "application_month":
        month = applied.astype("datetime64[D]").astype("datetime64[M]")
        out: np.ndarray = (month - lb.months).astype("datetime64[D]").astype(np.int64)
        return out
    return _months_before(ident, lb.months)


# ---------------------------------------------------------------------- claims, prepared
class Prepared:
    """Claims in settlement order with everything that does not depend on the state.

    ``c`` must be sorted by person, settlement date and input position (the
    reference engine's order), so each person-year is a contiguous run.
    """

    def __init__(self, compiled: CompiledPolicy, tables: PolicyTables, c: ClaimColumns) -> None:
        self.compiled = compiled
        self.policy = compiled.policy
        self.t = tables
        n = len(c)
        self.n = n
        self.c = c
        self.year = _years(c.settle_day)
        new_person = _new_run(c.person)
        new_group = new_person | _new_run(self.year)
        self.new_person = new_person
        self.person_run = np.cumsum(new_person) - 1
        self.group = np.cumsum(new_group) - 1
        self.npersons = int(self.person_run[-1]) + 1 if n else 0
        self.reject = self._rejections()
        self._categories()
        self.reject[(self.reject == REJECT_NOT_IN_FORCE) & (self.held != 0)] = REJECT_NONE
        self._diseases()
        self.visit_level = c.visit.astype(np.intp) * 4 + np.clip(c.level, 0, 3)
        self.pool = {
            b: self._pool_of(b, tab) for b, tab in self.t.tables.items()
        }  # per benefit, int8 pool index per claim (-1: not in scope)
        self.limit = {
            b: np.where(self.pool[b] >= 0, tab.limit_of[np.maximum(self.pool[b], 0), c.visit], -1)
            for b, tab in self.t.tables.items()
            if tab.nlimits
        }  # per benefit with sub-limits, the sub-limit index per claim (-1: none)
        self._exclusions()
        self._quota()
        self._chain()

    # -- rejections that need no settlement
    def _rejections(self) -> np.ndarray:
        c, eff = self.c, self.policy.effective
        reject = np.zeros(self.n, dtype=np.int8)
        out = c.settle_day < _day(eff.start)
        if eff.end is not None:
            out |= c.settle_day > _day(eff.end)
        reject[out] = REJECT_NOT_IN_FORCE
        return reject

    # -- categories held on the settlement date, and the candidates by precedence
    def _categories(self) -> None:
        c = self.c
        held = np.zeros(self.n, dtype=np.int32)
        day = c.settle_day[c.span_claim]
        valid = (c.span_from <= day) & (day <= c.span_to)
        via = self._look_backs(day, valid)
        # Before the policy is in force, only a look-back of an identification made under
        # it holds a category (and the claim is rejected when none does).
        valid &= self.reject[c.span_claim] != REJECT_NOT_IN_FORCE
        owner, code = c.span_claim[valid], c.span_category[valid]
        for k in np.unique(code).tolist():
            hit = np.bincount(owner[code == k], minlength=self.n) > 0
            held |= hit.astype(np.int32) << k
        self._held_by_look_back(held, via)
        self.held = held
        prec = [CATEGORY_CODE[x] for x in self.policy.categories.precedence]
        pmask = sum(1 << k for k in prec)
        some = np.flatnonzero(held & pmask)  # most people hold no category at all
        sub = held[some]
        cand_s = np.full((some.size, max(1, len(prec))), -1, dtype=np.int8)
        count_s = np.zeros(some.size, dtype=np.int64)
        for code in prec:
            has = (sub >> code) & 1 == 1
            cand_s[has, count_s[has]] = code
            count_s[has] += 1
        width = int(count_s.max()) if some.size else 1
        cand = np.full((self.n, width), -1, dtype=np.int8)
        cand[:, 0] = ORDINARY
        cand[some] = cand_s[:, :width]
        count = np.ones(self.n, dtype=np.int64)
        count[some] = count_s
        self.ncand = count
        self.cand = cand

    def _look_backs(self, day: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Spans that cover their claim only through a look-back window (``eligibility``).

        Narrows ``valid`` (in place) where an identification covers one natural year,
        and fills ``self.period_of``: per category code, the benefit year of claims held
        only through such a look-back in another calendar year (0: the claim's own).
        Only the spans of look-back categories with an identification date are looked at.
        """
        c = self.c
        self.period_of: dict[int, np.ndarray] = {}
        via = np.zeros(day.size, bool)
        looks = self.policy.categories.look_backs
        if not looks or day.size == 0:
            return via
        has_from = c.span_from != OPEN_FROM
        for cat, lb in looks.items():
            idx = np.flatnonzero((c.span_category == CATEGORY_CODE[cat]) & has_from)
            if idx.size == 0:
                continue
            ident = c.span_from[idx]
            on = day[idx]
            ident_year, on_year = _years(ident), _years(on)
            if lb.period == "identification_year":
                valid[idx] &= on_year == ident_year
            start = _window_start(lb, ident, c.applied()[idx])
            inside = (start <= on) & (on < ident) & self._in_force(ident)
            via[idx] = inside
            if lb.period == "identification_year":
                shifted = np.zeros(day.size, bool)
                shifted[idx] = inside & (on_year != ident_year)
                year = np.zeros(day.size, np.int64)
                year[idx] = ident_year
                self._shifted(CATEGORY_CODE[cat], shifted, year)
        return via

    def _in_force(self, day: np.ndarray) -> np.ndarray:
        eff = self.policy.effective
        ok: np.ndarray = day >= _day(eff.start)
        if eff.end is not None:
            ok &= day <= _day(eff.end)
        return ok

    def _shifted(self, code: int, spans: np.ndarray, year: np.ndarray) -> None:
        if not spans.any():
            return
        owner = self.c.span_claim[spans]
        first = np.unique(owner, return_index=True)[1]  # the first such span of each claim
        period = np.zeros(self.n, dtype=np.int64)
        period[owner[first]] = year[spans][first]
        self.period_of[code] = period

    def _held_by_look_back(self, held: np.ndarray, via: np.ndarray) -> None:
        """Add the categories held through a look-back; one held in force wins over it."""
        c = self.c
        owner, code = c.span_claim[via], c.span_category[via]
        for k in np.unique(code).tolist():
            hit = np.bincount(owner[code == k], minlength=self.n) > 0
            if k in self.period_of:
                self.period_of[k][(held >> k) & 1 == 1] = 0  # in force by another span
            held |= hit.astype(np.int32) << k
        self.shifted = np.zeros(self.n, bool)
        for period in self.period_of.values():
            self.shifted |= period > 0

    # -- disease lists, matched once per distinct disease
    def _diseases(self) -> None:
        names = self.c.disease_names
        self.in_list: dict[str, np.ndarray] = {}
        self.name_in: dict[str, np.ndarray] = {}  # per list, per disease code (-1: last)
        for lst in self.policy.diseases:
            hit = np.array([self.compiled.disease_in(lst, d) is not None for d in names] + [False])
            self.name_in[lst] = hit
            self.in_list[lst] = hit[self.c.disease]  # -1 reads the trailing False

    def _pool_of(self, b: Benefit, tab: BenefitTable) -> np.ndarray:
        """Each claim's pool: a function of its visit type, hospital level and disease,
        worked out once per combination (visit types × levels × the file's distinct
        diseases) and read for each claim with one gather, not one pass per pool member."""
        members = [
            (pi, m)
            for pi, pname in enumerate(tab.pools)
            for m in self.compiled.benefits[b].pools[pname]
        ]
        by_disease = any(m.diseases is not None for _, m in members)
        nd = len(self.c.disease_names) + 1 if by_disease else 1
        grid = np.full((len(VISIT_CODE) * 4, nd), -1, dtype=np.int8)
        for pi, m in members:
            lut = np.zeros((len(VISIT_CODE), 4), bool)
            levels = m.hospital_levels or [1, 2, 3]
            for v in m.visit_types:
                lut[VISIT_CODE[v], levels] = True
            hit = lut.reshape(-1, 1) & np.ones((1, nd), bool)
            if m.diseases is not None:
                hit &= self.name_in[m.diseases].reshape(1, -1)
            grid[(grid < 0) & hit] = pi
        pool: np.ndarray = (
            grid[self.visit_level, self.c.disease]  # disease -1 reads the last column
            if by_disease
            else grid[:, 0][self.visit_level]
        )
        return pool

    def _exclusions(self) -> None:
        c = self.c
        self.excl: list[tuple[np.ndarray, np.ndarray, frozenset[Benefit], bool]] = []
        for ex in self.policy.exclusions:
            if ex.kind is ExclusionKind.not_referred:
                hit = ~c.referred
            else:
                hit = c.out_of_area & ~c.out_of_area_filed
            cats = np.ones(len(CATEGORIES), bool)
            if ex.categories is not None:
                cats[:] = False
                cats[[CATEGORY_CODE[x] for x in ex.categories]] = True
            self.excl.append((hit, cats, frozenset(ex.benefits), ex.lifted_on_review))

    def excluded(self, b: Benefit, rows: Rows, cat: np.ndarray) -> np.ndarray:
        """Claims an exclusion refuses ``b`` (one lifted by an approved review excepted)."""
        out = np.zeros(cat.size, bool)
        review = None if self.c.reviewed is None else self.c.reviewed.get(b)
        for hit, cats, benefits, lifted in self.excl:
            if b in benefits:
                mine = hit[rows] & cats[cat]
                if lifted and review is not None:
                    mine &= review[rows] < REVIEWED
                out |= mine
        return out

    def _quota(self) -> None:
        q = self.policy.benefits.major_disease_quota
        self.quota_cat = np.zeros(len(CATEGORIES), bool)
        self.quota_rate = np.zeros(len(CATEGORIES), np.int64)
        self.quota_ok = np.zeros(self.n, bool)
        self.quota_amount = _i64(self.n)
        if q is None:
            return
        for sch in q.schedules.values():
            for cat in sch.categories:
                code = CATEGORY_CODE[cat]
                if not self.quota_cat[code]:
                    self.quota_cat[code] = True
                    self.quota_rate[code] = sch.rate.value
        self.quota_bi_rate = q.basic_insurance_rate.value
        ok = self.in_list[q.disease_list].copy()
        if q.requires_quota_hospital:
            ok &= self.c.quota_hospital
        self.quota_ok = ok
        amounts = []
        for d in self.c.disease_names:
            name = self.compiled.disease_in(q.disease_list, d)
            amounts.append(0 if name is None else self.compiled.quota_of(name))
        self.quota_amount = np.array([*amounts, 0], dtype=np.int64)[self.c.disease]

    def _chain(self) -> None:
        chain = self.compiled.benefits[Benefit.basic_insurance].referral_chain
        self.chain = chain is not None
        self.chain_cat = np.zeros(len(CATEGORIES), bool)
        self.chain_visit = np.zeros(self.n, bool)
        if chain is None:
            return
        self.chain_cat[[CATEGORY_CODE[x] for x in chain.categories]] = True
        lut = np.zeros(len(VISIT_CODE), bool)
        lut[[VISIT_CODE[v] for v in chain.visit_types]] = True
        self.chain_visit = lut[self.c.visit]


# ---------------------------------------------------------------------- ledgers
class Ledger(Protocol):
    """What a trial asks of the accumulators: the amounts, given the claims' increments."""

    def cumulative(
        self,
        tab: BenefitTable,
        rows: Rows,
        cat: np.ndarray,
        pool: np.ndarray,
        limit: np.ndarray | None,
        inc: np.ndarray,
        left: np.ndarray,
        active: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def linear(
        self, key: int, rows: Rows, inc: np.ndarray, rate: np.ndarray, active: np.ndarray
    ) -> np.ndarray: ...

    def chain(self, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def _restart(c: np.ndarray, start: np.ndarray, run: np.ndarray) -> None:
    """Turn a running total into one restarting at each run (in place).

    ``run`` is each element's run number: the offsets are gathered by it rather than
    repeated by the runs' lengths (runs are a claim or two long: ``np.repeat`` copies
    run by run, about three times slower than the gather)."""
    off = np.zeros(start.size, dtype=np.int64)
    off[1:] = c[start[1:] - 1]
    c -= off.take(run)


def _runs(first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs' first rows and each row's run number, from where runs begin."""
    run = np.cumsum(first)
    run -= 1
    return np.flatnonzero(first), run


class CumsumLedger:
    """Accumulators as group-wise cumulative sums over contiguous person-years.

    Valid when each person-year has one category: then every cap is a clipped
    cumulative sum of what the caps inside it let through,
    ``min(cap, S_after) - min(cap, S_before)``, applied inner first (sub-limit,
    pool, shared cap: they nest), which equals ``cap − paid so far`` claim by claim.
    """

    def __init__(self, gid: np.ndarray) -> None:
        self.gid = gid
        self.start, self.run = _runs(_new_run(gid))
        self._by_key: dict[tuple[Benefit, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _sparse(self, active: np.ndarray) -> tuple[np.ndarray, CumsumLedger] | None:
        """When few claims take part (e.g. only the assisted), work on those alone."""
        if np.count_nonzero(active) * 2 >= active.size:
            return None
        idx = np.flatnonzero(active)
        return idx, CumsumLedger(self.gid[idx])

    def seg_cumsum(self, x: np.ndarray) -> np.ndarray:
        c = np.cumsum(x)
        if c.size == 0:
            return c
        _restart(c, self.start, self.run)
        return c

    def pool_cumsum(self, key: tuple[Benefit, str], x: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """Cumulative sums per (person-year, pool): one pass over claims sorted by pool.

        A stable sort by pool keeps each pool's claims in settlement order, so
        every (person-year, pool) becomes one contiguous run. ``key`` names the
        grouping (a benefit's pools, or its sub-limits) for the cached sort.
        """
        cached = self._by_key.get(key)
        if cached is None:
            perm = np.argsort(pool, kind="stable")
            g, q = self.gid[perm], pool[perm]
            cached = self._by_key[key] = (perm, *_runs(_new_run(g) | _new_run(q)))
        perm, start, run = cached
        c = np.cumsum(x[perm])
        _restart(c, start, run)
        out = np.empty_like(c)
        out[perm] = c
        return out

    def _clip(
        self,
        key: tuple[Benefit, str],
        d: np.ndarray,
        within: np.ndarray,
        group: np.ndarray,
        cap: np.ndarray,
    ) -> np.ndarray:
        """What a cap lets through of ``d`` for the claims ``within`` it (per group).

        Worked on those claims alone: a cap usually covers few of them (a pool's)."""
        idx = np.flatnonzero(within)
        if idx.size == 0:
            return d
        sub = CumsumLedger(self.gid[idx])
        x, g = d[idx], group[idx]
        s_after = sub.seg_cumsum(x) if bool(np.all(g == g[0])) else sub.pool_cumsum(key, x, g)
        out = d.copy()
        out[idx] = np.minimum(s_after, cap[idx]) - np.minimum(s_after - x, cap[idx])
        return out

    def cumulative(
        self,
        tab: BenefitTable,
        rows: Rows,
        cat: np.ndarray,
        pool: np.ndarray,
        limit: np.ndarray | None,
        inc: np.ndarray,
        left: np.ndarray,
        active: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        sparse = self._sparse(active)
        if sparse is not None:
            idx, sub = sparse
            amount, bind = _i64(active.size), np.zeros(active.size, bool)
            if idx.size:
                every = np.ones(idx.size, bool)
                lim = None if limit is None else limit[idx]
                a, b = sub.cumulative(
                    tab, idx, cat[idx], pool[idx], lim, inc[idx], left[idx], every
                )
                amount[idx], bind[idx] = a, b
            return amount, bind
        x = np.where(active, inc, 0)
        ben = tab.benefit
        after = self.seg_cumsum(x) if tab.npools == 1 else self.pool_cumsum((ben, "pool"), x, pool)
        flat = tab.flat(cat, pool)
        fa, fb = tab.f2(flat, after, after - x)
        assert fb is not None
        d = fa - fb
        d[~active] = 0
        if limit is not None:
            inl = active & (limit >= 0)
            cap = tab.limit_cap[cat, np.maximum(limit, 0)]
            d = self._clip((ben, "limit"), d, inl, limit, cap)
        if tab.any_pool_cap:
            cap = tab.pool_cap[flat]
            d = self._clip((ben, "pool"), d, active & (cap < INF), pool, cap)
        if tab.any_shared_cap:
            incap = active & tab.in_cap[flat]
            s_after = self.seg_cumsum(np.where(incap, d, 0))
            cap = tab.shared_cap[cat]
            capped = np.minimum(s_after, cap) - np.minimum(s_after - d, cap)
            d = np.where(incap, capped, d)
        lim = np.maximum(left, 0)
        bind = active & (d > lim)
        return np.minimum(d, lim), bind

    def linear(
        self, key: int, rows: Rows, inc: np.ndarray, rate: np.ndarray, active: np.ndarray
    ) -> np.ndarray:
        sparse = self._sparse(active)
        if sparse is not None:
            idx, sub = sparse
            amount = _i64(active.size)
            if idx.size:
                amount[idx] = sub.linear(key, idx, inc[idx], rate[idx], np.ones(idx.size, bool))
            return amount
        x = np.where(active, inc, 0)
        after = self.seg_cumsum(x)
        return np.where(active, _linear(after, rate) - _linear(after - x, rate), 0)

    def chain(self, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = len(self.gid)
        z = np.zeros(m, dtype=np.int64)
        return np.zeros(m, bool), z, z


class RankLedger:
    """Accumulators as arrays [person-year, key], read before and written after each rank.

    ``shift`` maps a category code to each claim's benefit-period group where a
    look-back joins the identification's year (-1: the claim's own group): the
    assistance keys of such a claim settled under that category live there.
    """

    def __init__(
        self,
        p: Prepared,
        gid_local: np.ndarray,
        shift: dict[int, np.ndarray],
        ngroups: int,
        *,
        pid: np.ndarray,
    ) -> None:
        pid_local = pid
        npers = int(pid_local.max()) + 1 if pid_local.size else 0
        self.base = np.zeros((ngroups, p.t.nkeys), dtype=np.int64)
        self.paid = np.zeros((ngroups, p.t.nkeys), dtype=np.int64)
        self.chain_set = np.zeros(npers, bool)
        self.chain_day = np.zeros(npers, np.int64)
        self.chain_val = np.zeros(npers, np.int64)
        self.gid = gid_local  # indexed by claim row (sorted position)
        self.pid = pid_local
        self.shift = shift
        self.assistance = p.t.assistance_key

    def period(self, rows: Rows, cat: np.ndarray) -> np.ndarray:
        """Each claim's benefit-period group under ``cat``."""
        g = self.gid[rows]
        for code, groups in self.shift.items():
            sg = groups[rows]
            g = np.where((cat == code) & (sg >= 0), sg, g)
        return g

    def cumulative(
        self,
        tab: BenefitTable,
        rows: Rows,
        cat: np.ndarray,
        pool: np.ndarray,
        limit: np.ndarray | None,
        inc: np.ndarray,
        left: np.ndarray,
        active: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        key = tab.key0 + np.maximum(pool, 0)
        g = self.period(rows, cat) if self.assistance[tab.key0] else self.gid[rows]
        before = self.base[g, key]
        after = before + np.where(active, inc, 0)
        flat = tab.flat(cat, pool)
        fa, fb = tab.f2(flat, after, before)
        assert fb is not None
        d = fa - fb
        if limit is not None:
            lkey = tab.key0 + tab.npools + np.maximum(limit, 0)
            room = tab.limit_cap[cat, np.maximum(limit, 0)] - self.paid[g, lkey]
            d = np.where(limit >= 0, np.minimum(d, np.maximum(0, room)), d)
        if tab.any_pool_cap:
            d = np.minimum(d, np.maximum(0, tab.pool_cap[flat] - self.paid[g, key]))
        if tab.any_shared_cap:
            block = self.paid[g, tab.key0 : tab.key0 + tab.npools]
            used = (block * tab.in_cap_cp[cat]).sum(axis=1)
            room = np.maximum(0, tab.shared_cap[cat] - used)
            d = np.where(tab.in_cap[flat], np.minimum(d, room), d)
        d = np.maximum(np.minimum(d, np.maximum(left, 0)), 0)
        return np.where(active, d, 0), np.zeros(cat.size, bool)

    def linear(
        self, key: int, rows: Rows, inc: np.ndarray, rate: np.ndarray, active: np.ndarray
    ) -> np.ndarray:
        before = self.base[self.gid[rows], key]
        x = np.where(active, inc, 0)
        return np.where(active, _linear(before + x, rate) - _linear(before, rate), 0)

    def chain(self, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pid = self.pid[rows]
        return self.chain_set[pid], self.chain_day[pid], self.chain_val[pid]

    def commit(self, rows: np.ndarray, trial: TrialOut, ok: np.ndarray, cat: np.ndarray) -> None:
        own, period = self.gid[rows], self.period(rows, cat)
        for key, inc, paid in trial.updates:
            g = np.where(self.assistance[key], period, own)
            self.base[g, key] += np.where(ok, inc, 0)
            self.paid[g, key] += np.where(ok, paid, 0)
        set_ = ok & trial.chain_set
        pid = self.pid[rows[set_]]
        self.chain_set[pid] = True
        self.chain_day[pid] = trial.chain_day[set_]
        self.chain_val[pid] = trial.chain_val[set_]


# ---------------------------------------------------------------------- one category, in vectors
@dataclass(slots=True)
class TrialOut:
    """A trial's amounts and accumulator updates, one entry per claim row."""

    amounts: dict[Benefit, np.ndarray]
    updates: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    chain_set: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    chain_day: np.ndarray = field(default_factory=lambda: _i64(0))
    chain_val: np.ndarray = field(default_factory=lambda: _i64(0))
    reject: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    bind: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def subset(self, keep: np.ndarray) -> TrialOut:
        return TrialOut(
            {b: a[keep] for b, a in self.amounts.items()},
            [(k[keep], i[keep], pd[keep]) for k, i, pd in self.updates],
            self.chain_set[keep],
            self.chain_day[keep],
            self.chain_val[keep],
            self.reject[keep],
            self.bind[keep],
        )

    def paid(self) -> np.ndarray:
        """Everything paid of each bill: the least personal burden is the most paid."""
        return sum(self.amounts.values(), start=_i64(self.reject.size))


def _trial(p: Prepared, led: Ledger, rows: Rows, cat: np.ndarray) -> TrialOut:
    """Settle the claims at ``rows`` under ``cat`` (one category per claim)."""
    c = p.c
    m = cat.size
    total, scope, other = c.total[rows], c.policy_scope[rows], c.other[rows]
    has_ins = c.has_insurance[rows]
    any_ins = bool(has_ins.any())
    # One zero array stands for every amount not paid yet and every empty update: they
    # are replaced, never written in place (read-only, so a write would fail loudly).
    zero = _i64(m)
    zero.flags.writeable = False
    out = TrialOut(dict.fromkeys(AMOUNTS, zero))
    out.bind = np.zeros(m, bool)
    out.chain_set = np.zeros(m, bool)
    out.chain_day = c.settle_day[rows].astype(np.int64)
    out.chain_val = zero

    quota = p.quota_ok[rows] & p.quota_cat[cat]
    if quota.any():
        quota &= ~p.excluded(Benefit.major_disease_quota, rows, cat)
    normal = ~quota

    # Tier 1: basic insurance (given, or the per-claim deductible and the yearly function).
    t = p.t.tables[Benefit.basic_insurance]
    pool = p.pool[Benefit.basic_insurance][rows]
    comp = normal & ~has_ins & t.has_schedule[cat] & (pool >= 0)
    flat = t.flat(cat, pool)
    deductible = t.per_claim_deductible[flat]
    if p.chain:
        visit = comp & p.chain_visit[rows]
        was_set, day, val = led.chain(rows)
        linked = visit & p.chain_cat[cat] & c.referred[rows] & was_set
        linked &= day == c.admit_day[rows]
        before = np.where(linked, val, 0)
        deductible = np.maximum(0, deductible - before)
        out.chain_set = visit
        out.chain_val = before + deductible
    inc = np.where(comp, np.maximum(0, scope - deductible), 0)
    bi, bind = _cumulative(p, led, t, rows, cat, pool, inc, scope, comp, out)
    out.bind |= bind
    if any_ins:
        bi = np.where(has_ins, c.bi_given[rows], bi)

    # Tier 2: critical-illness insurance on what basic insurance left.
    t = p.t.tables[Benefit.critical_illness_insurance]
    pool = p.pool[Benefit.critical_illness_insurance][rows]
    comp = normal & ~has_ins & t.has_schedule[cat] & (pool >= 0)
    inc = np.where(comp, np.maximum(0, scope - bi), 0)
    cii, bind = _cumulative(p, led, t, rows, cat, pool, inc, inc, comp, out)
    out.bind |= bind
    if any_ins:
        cii = np.where(has_ins, c.cii_given[rows], cii)

    if quota.any():
        _quota(p, led, rows, cat, quota, out, bi, cii)
        bi = np.where(quota, out.amounts[Benefit.basic_insurance], bi)
        cii = np.where(quota, out.amounts[Benefit.critical_illness_insurance], cii)
    else:
        out.updates.append((np.full(m, p.t.quota_bi_key), zero, zero))
        out.updates.append((np.full(m, p.t.quota_key), zero, zero))
    out.amounts[Benefit.basic_insurance] = bi
    out.amounts[Benefit.critical_illness_insurance] = cii
    out.amounts[Benefit.other_payments] = other.copy()
    out.reject = other > total - bi - cii

    # Tier 3 and after, each on the base its policy names.
    burden = scope - bi - cii
    bases: dict[BaseKind, np.ndarray] = {
        BaseKind.policy_scope_burden: burden,
        BaseKind.policy_scope_burden_after_other: np.maximum(0, burden - other),
    }
    paid = bi + cii + other + out.amounts[Benefit.hospital_borne]
    paid += out.amounts[Benefit.major_disease_quota]
    for b in ASSISTS:
        t_b = p.t.tables.get(b)
        if t_b is None:
            continue
        if b is Benefit.re_assistance:
            ma_base = p.t.tables[Benefit.medical_assistance].base
            bases[BaseKind.burden_after_assistance] = np.maximum(
                0, bases[ma_base] - out.amounts[Benefit.medical_assistance]
            )
        bases[BaseKind.all_left] = total - paid
        review = None if c.reviewed is None else c.reviewed.get(b)
        if not t_b.desk and review is None:
            continue  # decided on review (杭州 特殊救助, 福建 依申请救助): 0 at the desk
        pool = p.pool[b][rows]
        eligible = normal & (pool >= 0)
        if eligible.any() and p.excl:
            eligible &= ~p.excluded(b, rows, cat)
        if not t_b.desk or t_b.any_routed:
            on_review = t_b.routed[cat] if t_b.desk else np.ones(m, bool)
            opened = np.zeros(m, bool) if review is None else review[rows] >= REVIEWED
            eligible &= ~on_review | opened
        pays = eligible & t_b.has_schedule[cat]
        if t_b.base is BaseKind.reasonable_cost:
            left = total - paid
            accepted = left if review is None else np.where(review[rows] >= 0, review[rows], left)
            bases[BaseKind.reasonable_cost] = np.maximum(0, np.minimum(accepted, left))
        inc = np.where(eligible, bases[t_b.base], 0)
        amount, bind = _cumulative(p, led, t_b, rows, cat, pool, inc, total - paid, pays, out)
        out.bind |= bind
        out.amounts[b] = amount
        paid = paid + amount
    return out


def _cumulative(
    p: Prepared,
    led: Ledger,
    tab: BenefitTable,
    rows: Rows,
    cat: np.ndarray,
    pool: np.ndarray,
    inc: np.ndarray,
    left: np.ndarray,
    active: np.ndarray,
    out: TrialOut,
) -> tuple[np.ndarray, np.ndarray]:
    """One benefit's amounts, and its accumulator updates: its pool, and its sub-limit."""
    lim_all = p.limit.get(tab.benefit)
    limit = None if lim_all is None else lim_all[rows]
    amount, bind = led.cumulative(tab, rows, cat, pool, limit, inc, left, active)
    key = tab.key0 + np.maximum(pool, 0)
    out.updates.append((key, inc, amount))
    if limit is not None:
        inl = limit >= 0
        lkey = np.where(inl, tab.key0 + tab.npools + np.maximum(limit, 0), key)
        out.updates.append((lkey, np.where(inl, inc, 0), np.where(inl, amount, 0)))
    return amount, bind


def _quota(
    p: Prepared,
    led: Ledger,
    rows: Rows,
    cat: np.ndarray,
    quota: np.ndarray,
    out: TrialOut,
    bi_normal: np.ndarray,
    cii_normal: np.ndarray,
) -> None:
    """山西 (八): within the quota, fund 70%, assistance by category; above it, the hospital."""
    c = p.c
    total, other, has_ins = c.total[rows], c.other[rows], c.has_insurance[rows]
    within = np.minimum(total, p.quota_amount[rows])
    comp = quota & ~has_ins
    m = quota.size
    bi_q = led.linear(p.t.quota_bi_key, rows, within, np.full(m, p.quota_bi_rate), comp)
    bi = np.where(has_ins, c.bi_given[rows], bi_q)
    cii = np.where(has_ins, c.cii_given[rows], 0)
    paid = bi + cii + other
    excess = np.minimum(total - within, total - paid)
    rate = p.quota_rate[cat]
    amount = led.linear(p.t.quota_key, rows, within, rate, quota)
    left = total - paid - excess
    amount = np.where(amount > left, np.maximum(0, left), amount)
    q = quota
    out.amounts[Benefit.basic_insurance] = np.where(q, bi, bi_normal)
    out.amounts[Benefit.critical_illness_insurance] = np.where(q, cii, cii_normal)
    out.amounts[Benefit.hospital_borne] = np.where(q, excess, 0)
    out.amounts[Benefit.major_disease_quota] = np.where(q, amount, 0)
    out.updates.append((np.full(m, p.t.quota_bi_key), np.where(comp, within, 0), bi_q))
    out.updates.append((np.full(m, p.t.quota_key), np.where(q, within, 0), np.where(q, amount, 0)))


def _pick(best: TrialOut, other: TrialOut, better: np.ndarray) -> None:
    """Keep ``other`` where it is better (in place)."""
    for b in AMOUNTS:
        best.amounts[b] = np.where(better, other.amounts[b], best.amounts[b])
    best.updates = [
        (np.where(better, k2, k1), np.where(better, i2, i1), np.where(better, p2, p1))
        for (k1, i1, p1), (k2, i2, p2) in zip(best.updates, other.updates, strict=True)
    ]
    best.chain_set = np.where(better, other.chain_set, best.chain_set)
    best.chain_val = np.where(better, other.chain_val, best.chain_val)


# ---------------------------------------------------------------------- results
@dataclass(slots=True)
class BatchResult:
    """Per claim, in input order: the category settled under and every amount (fen).

    ``reject`` is 0 for a settled claim; rejected claims have all amounts 0.
    ``reject_left`` is what the bill left after the insurances, for the message.
    ``snapshot_base``/``snapshot_paid`` (optional, [n, keys]) hold each
    accumulator just before the claim, and ``chain_*`` the referral chain: what
    an explanation of the claim needs (``explain.py``).
    """

    category: np.ndarray
    amounts: dict[Benefit, np.ndarray]
    grant: np.ndarray
    reject: np.ndarray
    reject_left: np.ndarray
    fast: np.ndarray
    keys: list[tuple[Benefit, str]]
    snapshot_base: np.ndarray | None = None
    snapshot_paid: np.ndarray | None = None
    chain_set: np.ndarray | None = None
    chain_day: np.ndarray | None = None
    chain_val: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.category.size)


_TABLES: dict[int, tuple[CompiledPolicy, PolicyTables]] = {}


def tables_of(compiled: CompiledPolicy) -> PolicyTables:
    """The policy's arrays, built once per compiled policy."""
    hit = _TABLES.get(id(compiled))
    if hit is None or hit[0] is not compiled:
        hit = _TABLES[id(compiled)] = (compiled, policy_tables(compiled))
    return hit[1]


def settlement_order(cols: ClaimColumns) -> np.ndarray | None:
    """The reference engine's order (person, date, input position); None if already so."""
    person, day = cols.person, cols.settle_day
    if len(cols) < 2:
        return None
    same = person[1:] == person[:-1]
    if bool(np.all((person[1:] > person[:-1]) | (same & (day[1:] >= day[:-1])))):
        return None
    order: np.ndarray = np.lexsort((np.arange(len(cols)), day, person))
    return order


def _chunks(person: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Cut sorted claims into runs of about ``size``, never splitting a person."""
    n = person.size
    if n == 0:
        return []
    starts = np.flatnonzero(_new_run(person))
    at = np.minimum(np.searchsorted(starts, np.arange(0, n, size)), starts.size - 1)
    cuts = np.unique(starts[at])
    bounds = [*cuts.tolist(), n]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


class _Out:
    """The result arrays, filled chunk by chunk (sorted order)."""

    def __init__(self, p_tables: PolicyTables, compiled: CompiledPolicy, n: int, snap: bool):
        self.category = np.full(n, ORDINARY, dtype=np.int8)
        present = {Benefit.other_payments, *p_tables.tables}
        if compiled.policy.benefits.major_disease_quota is not None:
            present |= {Benefit.major_disease_quota, Benefit.hospital_borne}
        self.present = present
        # Benefits the policy does not have are one shared, read-only zero column.
        zero = np.broadcast_to(np.int64(0), (n,))
        self.amounts = {b: _i64(n) if b in present else zero for b in AMOUNTS}
        self.grant = _i64(n)
        self.reject = np.zeros(n, dtype=np.int8)
        self.reject_left = _i64(n)
        self.fast = np.zeros(n, bool)
        self.snap = _Snapshots(n, p_tables.nkeys) if snap else None


def settle_columns(
    compiled: CompiledPolicy,
    cols: ClaimColumns,
    *,
    fast: bool = True,
    snapshots: bool = False,
    chunk: int = 1 << 15,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Settle a batch of claims, in input order.

    People are cut into chunks of about ``chunk`` claims (memory stays bounded
    and arrays stay in cache: at 2^15 a chunk's int64 column is 256 KiB, and the
    dozens a trial keeps live fit a core's L2 better than at 2^16, which took about
    a quarter more CPU, docs/performance.md); a person is never split. The people the
    cumulative sums cannot settle exactly are gathered from every chunk and
    settled together by rank. ``fast=False`` sends everyone to the rank rounds
    (for the differential tests). ``progress`` is told how many claims are done.
    """
    tables = tables_of(compiled)
    n = len(cols)
    order = settlement_order(cols)
    sc = cols if order is None else cols.take(order)
    out = _Out(tables, compiled, n, snapshots)
    complex_parts: list[np.ndarray] = [] if fast else [np.arange(n)]
    for a, b in _chunks(sc.person, chunk) if fast else []:
        idx = np.arange(a, b)
        rows = _settle_simple(Prepared(compiled, tables, sc.slice(a, b)), idx, out, slice(a, b))
        complex_parts.append(idx[rows])
        if progress is not None:
            progress(b - a - rows.size)
    cx = np.concatenate(complex_parts) if complex_parts else np.zeros(0, np.int64)
    if cx.size:
        p = Prepared(compiled, tables, sc.take(cx))
        _rounds(p, cx, out)
        _grants(p, np.ones(p.n, bool), cx, out)
        if progress is not None:
            progress(int(cx.size))
    return _result(out, order, tables)


def _settle_simple(
    p: Prepared, dest: np.ndarray, out: _Out, span: slice | None = None
) -> np.ndarray:
    """Settle the chunk's simple people by cumulative sums; return the others' rows.

    ``span``: the same rows as ``dest`` when they are consecutive (``dest[0]`` on)."""
    out.reject[dest if span is None else span] = p.reject
    ok = p.reject == REJECT_NONE
    simple = _simple_persons(p)
    simple_rows = np.flatnonzero(simple[p.person_run] & ok)
    if simple_rows.size:
        # Everyone simple (the usual chunk): index by a slice, so columns are views.
        rows: np.ndarray | slice = slice(None) if simple_rows.size == p.n else simple_rows
        trial = _trial(p, CumsumLedger(p.group[rows]), rows, p.cand[rows, 0])
        bad = trial.bind | trial.reject
        if bad.any():
            simple[np.unique(p.person_run[simple_rows[bad]])] = False
            # Groups' cumulative sums are independent: the others' results stand.
            keep = simple[p.person_run[simple_rows]]
            simple_rows = simple_rows[keep]
            trial = trial.subset(keep)
        at = dest[simple_rows]
        # Everyone of a chunk of consecutive rows (the usual case): copies, not scatters.
        to: np.ndarray | slice = at
        if span is not None and simple_rows.size == p.n:
            to = span
        out.category[to] = p.cand[simple_rows, 0]
        for b in out.present:
            out.amounts[b][to] = trial.amounts[b]
        out.fast[to] = True
        if out.snap is not None:
            out.snap.from_cumsums(p, simple_rows, at, trial)
    mine = simple[p.person_run]
    _grants(p, mine, dest, out)
    return np.flatnonzero(~mine)


def _result(out: _Out, order: np.ndarray | None, tables: PolicyTables) -> BatchResult:
    def back(a: np.ndarray) -> np.ndarray:
        if order is None or a.strides == (0,):
            return a
        res = np.empty_like(a)
        res[order] = a
        return res

    result = BatchResult(
        category=back(out.category),
        amounts={b: back(a) for b, a in out.amounts.items()},
        grant=back(out.grant),
        reject=back(out.reject),
        reject_left=back(out.reject_left),
        fast=back(out.fast),
        keys=tables.keys,
    )
    if out.snap is not None:
        snap = out.snap
        if order is not None:
            base, paid = np.empty_like(snap.base), np.empty_like(snap.paid)
            base[order], paid[order] = snap.base, snap.paid
        else:
            base, paid = snap.base, snap.paid
        result.snapshot_base = base
        result.snapshot_paid = paid
        result.chain_set = back(snap.chain_set)
        result.chain_day = back(snap.chain_day)
        result.chain_val = back(snap.chain_val)
    return result


def _simple_persons(p: Prepared) -> np.ndarray:
    """People the cumulative sums settle exactly: one category per person-year, no chain,
    no look-back claim counted in another year."""
    c = p.c
    n = p.n
    complex_claim = p.ncand > 1
    cat0 = p.cand[:, 0]
    same_group = ~_new_run(p.group)
    changed = np.zeros(n, bool)
    if n:
        changed[1:] = same_group[1:] & (cat0[1:] != cat0[:-1])
    complex_claim |= changed | p.shifted
    if p.chain and n:
        prev_day = np.r_[np.int32(0), c.settle_day[:-1]]
        linked = ~p.new_person & (c.admit_day <= prev_day) & c.referred & p.chain_visit
        complex_claim |= linked & p.chain_cat[cat0]
        # any category the person could be tried under
        for j in range(1, p.cand.shape[1]):
            cj = p.cand[:, j]
            complex_claim |= linked & (cj >= 0) & p.chain_cat[np.maximum(cj, 0)]
    simple = np.ones(p.npersons, bool)
    simple[p.person_run[complex_claim]] = False
    return simple


def _rounds(p: Prepared, dest: np.ndarray, out: _Out) -> None:
    """Settle everyone in ``p`` rank by rank: the k-th claim of everyone at once."""
    out.reject[dest] = p.reject
    rows_all = np.flatnonzero(p.reject == REJECT_NONE)
    if rows_all.size == 0:
        return
    pid = np.full(p.n, -1, np.int64)
    _, pid[rows_all] = np.unique(p.person_run[rows_all], return_inverse=True)
    led = RankLedger(p, *_groups(p, rows_all), pid=pid)
    people = pid[rows_all]
    first = _new_run(people)
    start = np.flatnonzero(first)
    rank = np.arange(rows_all.size) - np.repeat(start, np.diff(np.r_[start, rows_all.size]))
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
    for r in range(int(rank.max()) + 1):
        rows = rows_all[by_rank[bounds[r] : bounds[r + 1]]]
        best = _trial(p, led, rows, p.cand[rows, 0])
        chosen = p.cand[rows, 0].copy()
        reject = best.reject.copy()
        left = np.where(reject, p.c.total[rows] - _insured(best), 0)
        for j in range(1, p.cand.shape[1]):
            has = p.ncand[rows] > j
            if not has.any():
                break
            sub = np.flatnonzero(has)
            other = _trial(p, led, rows[sub], p.cand[rows[sub], j])
            full = _expand(other, sub, rows.size, best)
            newly = has & full.reject & ~reject
            left = np.where(newly, p.c.total[rows] - _insured(full), left)
            reject |= has & full.reject
            better = has & (full.paid() > best.paid())
            _pick(best, full, better)
            chosen = np.where(better, p.cand[rows, j], chosen)
        ok = ~reject
        if out.snap is not None:
            out.snap.from_ledger(rows, dest[rows], led, chosen)
        led.commit(rows, best, ok, chosen)
        at = dest[rows]
        out.category[at] = np.where(ok, chosen, ORDINARY)
        for b in out.present:
            out.amounts[b][at] = np.where(ok, best.amounts[b], 0)
        p.reject[rows[reject]] = REJECT_OTHER
        out.reject[at[reject]] = REJECT_OTHER
        out.reject_left[at] = left


def _groups(p: Prepared, rows: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray], int]:
    """Accumulator groups (person, year) of the claims at ``rows``, and of the benefit
    periods that look-backs move some of them to (``Prepared.period_of``)."""
    y0 = int(p.year.min()) - 1
    span = 1 << 12
    own = p.person_run[rows].astype(np.int64) * span + (p.year[rows] - y0)
    keys = [own]
    moved: list[tuple[int, np.ndarray]] = []
    for code, period in p.period_of.items():
        r = rows[period[rows] > 0]
        moved.append((code, r))
        keys.append(p.person_run[r].astype(np.int64) * span + (period[r] - y0))
    uniq, inv = np.unique(np.concatenate(keys), return_inverse=True)
    gid = np.full(p.n, -1, np.int64)
    gid[rows] = inv[: rows.size]
    shift: dict[int, np.ndarray] = {}
    at = rows.size
    for code, r in moved:
        g = np.full(p.n, -1, np.int64)
        g[r] = inv[at : at + r.size]
        at += r.size
        shift[code] = g
    return gid, shift, int(uniq.size)


def _insured(t: TrialOut) -> np.ndarray:
    out: np.ndarray = (
        t.amounts[Benefit.basic_insurance] + t.amounts[Benefit.critical_illness_insurance]
    )
    return out


def _expand(t: TrialOut, sub: np.ndarray, m: int, like: TrialOut) -> TrialOut:
    """A trial over a subset of rows, as a trial over all ``m`` rows (others: ``like``)."""

    def ex(a: np.ndarray, base: np.ndarray) -> np.ndarray:
        full = base.copy()
        full[sub] = a
        return full

    out = TrialOut({b: ex(t.amounts[b], like.amounts[b]) for b in AMOUNTS})
    out.updates = [
        (ex(k, k0), ex(i, i0), ex(pd, p0))
        for (k, i, pd), (k0, i0, p0) in zip(t.updates, like.updates, strict=True)
    ]
    out.chain_set = ex(t.chain_set, like.chain_set)
    out.chain_day = ex(t.chain_day, like.chain_day)
    out.chain_val = ex(t.chain_val, like.chain_val)
    out.reject = ex(t.reject, np.zeros(m, bool))
    out.bind = ex(t.bind, np.zeros(m, bool))
    return out


def _grants(p: Prepared, mine: np.ndarray, dest: np.ndarray, out: _Out) -> None:
    """大病关怀: once per person, on the first settled claim that qualifies."""
    g = p.policy.benefits.critical_care_grant
    if g is None or p.n == 0:
        return
    mask = 0
    for cat in g.categories:
        mask |= 1 << CATEGORY_CODE[cat]
    ok = mine & (p.reject == REJECT_NONE) & ((p.held & mask) != 0) & p.in_list[g.disease_list]
    if g.requires_late_stage:
        ok &= p.c.late_stage
    rows = np.flatnonzero(ok)
    who = p.person_run[rows]
    first = rows[_new_run(who)]
    out.grant[dest[first]] = g.amount.value


class _Snapshots:
    """Each accumulator just before each claim: what its explanation is rendered from."""

    def __init__(self, n: int, nkeys: int) -> None:
        self.base = np.zeros((n, nkeys), dtype=np.int64)
        self.paid = np.zeros((n, nkeys), dtype=np.int64)
        self.chain_set = np.zeros(n, bool)
        self.chain_day = _i64(n)
        self.chain_val = _i64(n)

    def from_ledger(
        self, rows: np.ndarray, at: np.ndarray, led: RankLedger, cat: np.ndarray
    ) -> None:
        own, period = led.gid[rows], led.period(rows, cat)
        assist = led.assistance[None, :]
        self.base[at] = np.where(assist, led.base[period], led.base[own])
        self.paid[at] = np.where(assist, led.paid[period], led.paid[own])
        s, d, v = led.chain(rows)
        self.chain_set[at], self.chain_day[at], self.chain_val[at] = s, d, v

    def from_cumsums(self, p: Prepared, rows: np.ndarray, at: np.ndarray, trial: TrialOut) -> None:
        led = CumsumLedger(p.group[rows])
        for k in range(p.t.nkeys):
            inc = _i64(rows.size)
            paid = _i64(rows.size)
            for key, i, pd in trial.updates:
                hit = key == k
                inc += np.where(hit, i, 0)
                paid += np.where(hit, pd, 0)
            self.base[at, k] = led.seg_cumsum(inc) - inc
            self.paid[at, k] = led.seg_cumsum(paid) - paid
