"""Policy simulation: a year of claims settled under a policy and under a reform, compared.

A bureau decides a reform ("低边 60% instead of 50%") on a few figures: what it
costs, who gains, how the protection and burden rates move. This module computes
them from two batch settlements of the same claims, and nothing else: no
printing, no files, so that the terminal, the JSON file and the HTML report show
the same numbers and tests can check them to the fen.

Money stays int64 fen throughout (Polars/NumPy integer sums, exact); ratios stay
(numerator, denominator) pairs until formatted; quantiles are nearest-rank values
of integer arrays, so every figure here is an amount some person actually has.

A sample is raised to its population by weights: each person's weight (a claims or
persons file's ``weight`` column, times ``--scale``), kept as an integer number of
millionths. Every sum is then Σ fen × weight in exact 128-bit integers, rounded half-up
to the fen (counts: to the person) once, at the end; with no weights every weight is one
and the figures are the plain sums. Quantiles are weighted nearest-rank values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from jiuzhu.domain.engine.batch import AMOUNTS, REJECT_NONE, BatchResult, settle_columns
from jiuzhu.domain.engine.columns import CATEGORIES, CATEGORY_CODE
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.indicators import Totals, percent
from jiuzhu.domain.money import format_yuan, round_half_up_div
from jiuzhu.domain.policy.audit import leaves
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.policy.names import param_name
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.analysis_inputs import WEIGHT_ONE  # a weight in millionths: 1.0 is 1_000_000
from jiuzhu.io.claims_columnar import ColumnarClaims

ASSISTANCE: tuple[Benefit, ...] = (
    Benefit.major_disease_quota,
    Benefit.medical_assistance,
    Benefit.re_assistance,
    Benefit.secondary_assistance,
    Benefit.special_assistance,
    Benefit.illness_poverty_assistance,
)
"""What the assistance fund pays on the bill: a person paid any of these is a beneficiary.

The insurances and other payments are not assistance; the hospital's excess over a
quota is borne by the hospital; the 大病关怀 grant is reported on its own line.
"""

ORDINARY = CATEGORY_CODE[Category.ordinary]
SCENARIOS = ("baseline", "reform")
NO_DISTRICT = ""
"""The district of a person the input does not place (shown as 未知)."""

# Report buckets of a person's yearly burden, in fen (a reading aid, not a policy value).
BURDEN_BOUNDS: tuple[int, ...] = tuple(
    y * 100 for y in (0, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
)
QUANTILES: tuple[int, ...] = (50, 75, 90, 95, 99)

Settler = Callable[[CompiledPolicy, ColumnarClaims], BatchResult]
"""How a year is settled; ``settle_year`` on one machine, a distributed one later."""


def settle_year(compiled: CompiledPolicy, claims: ColumnarClaims) -> BatchResult:
    """Settle a year of claims in one process with the batch engine.

    The one call the simulation makes to an engine, kept this small so that a
    distributed variant (Dask, partitioned by person: docs/design.md "Production
    shape") can replace it: anything with this signature that returns the
    result in input order will do (``simulate(..., settler=...)``).
    """
    return settle_columns(compiled, claims.cols)


# ---------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Pair:
    """One figure under the baseline and under the reform (fen, or a count)."""

    baseline: int
    reform: int

    @property
    def delta(self) -> int:
        return self.reform - self.baseline


@dataclass(frozen=True, slots=True)
class Ratio:
    """An exact ratio (fen over fen): formatted only at the edge."""

    numerator: int
    denominator: int

    def percent(self) -> str:
        return percent(self.numerator, self.denominator)


@dataclass(frozen=True, slots=True)
class RatioPair:
    baseline: Ratio
    reform: Ratio

    def delta_points(self) -> str:
        """The change in percentage points, two decimals, half-up, from integers."""
        b, r = self.baseline, self.reform
        if b.denominator == 0 or r.denominator == 0:
            return "—"
        num = (r.numerator * b.denominator - b.numerator * r.denominator) * 10_000
        hundredths = round_half_up_div(num, r.denominator * b.denominator)
        sign = "-" if hundredths < 0 else "+" if hundredths > 0 else ""
        whole, frac = divmod(abs(hundredths), 100)
        return f"{sign}{whole}.{frac:02d}"


@dataclass(frozen=True, slots=True)
class Indicators:
    """医疗费用综合保障率 and 个人负担率 of one group, from ``indicators.Totals``."""

    claims: int
    total: int
    protection: RatioPair
    burden: RatioPair


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """Claims settled under one category (就高不重复: the category that applied)."""

    category: Category
    persons: Pair
    claims: Pair
    assistance: Pair
    personal: Pair


@dataclass(frozen=True, slots=True)
class DistrictRow:
    """The claims of the people of one district (区县), a GB/T 2260 code."""

    code: str
    persons: Pair
    claims: Pair
    beneficiaries: Pair
    assistance: Pair
    personal: Pair


@dataclass(frozen=True, slots=True)
class PersonChange:
    """A person whose yearly burden moves; the id is masked if it is an ID number."""

    person_id: str
    category: Category
    total: int
    personal: Pair
    assistance: Pair
    district: str = NO_DISTRICT
    weight: int = WEIGHT_ONE


@dataclass(frozen=True, slots=True)
class Bucket:
    lower: int
    upper: int | None  # None: no upper bound
    persons: Pair


@dataclass(frozen=True, slots=True)
class Distribution:
    """People's yearly personal burden (fen): nearest-rank quantiles and buckets."""

    persons: int
    quantiles: dict[str, Pair]
    buckets: list[Bucket]


@dataclass(frozen=True, slots=True)
class Change:
    """A parameter the reform changes (as ``jiuzhu policy diff`` shows it)."""

    path: str
    baseline: str | None
    reform: str | None
    clause: str
    name: str = ""
    """The parameter in words (``domain/policy/names.py``): what people read."""


@dataclass(frozen=True)
class Simulation:
    """Everything the reports show, computed once."""

    claims: int
    persons: int
    rejected: Pair  # claims the engine refused (not in force, …), left out of both
    total: int
    spending: dict[Benefit, Pair]
    grant: Pair
    assistance: Pair
    personal: Pair
    by_category: list[CategoryRow]
    beneficiaries: Pair
    new_beneficiaries: int
    lost_beneficiaries: int
    indicators: dict[str, Indicators]  # "everyone", "assisted"
    distribution: dict[str, Distribution]  # "everyone", "assisted"
    gainers: list[PersonChange]
    losers: list[PersonChange]
    changes: list[Change] = field(default_factory=list)
    by_district: list[DistrictRow] = field(default_factory=list)
    weighted: bool = False
    """Figures are raised to a population by weights (claims and persons are estimates)."""
    sample: Pair = Pair(0, 0)
    """The claims and people actually in the file (baseline: claims, reform: persons)."""
    changed: list[PersonChange] = field(default_factory=list)
    """Everyone whose yearly burden changes, largest fall first (ids masked)."""


# ---------------------------------------------------------------------- computation
def changed_parameters(baseline: Policy, reform: Policy) -> list[Change]:
    """Every leaf value that differs, with its clause: what the reform is."""
    la = {p: (v, c) for p, v, c in leaves(baseline)}
    lb = {p: (v, c) for p, v, c in leaves(reform)}
    out = []
    for path in sorted(set(la) | set(lb)):
        va, vb = la.get(path), lb.get(path)
        if va is not None and vb is not None and va[0] == vb[0]:
            continue
        clause = (vb or va or ("", None))[1] or ""
        name = param_name(reform if vb is not None else baseline, path)
        out.append(Change(path, va[0] if va else None, vb[0] if vb else None, clause, name))
    return out


def _col(scenario: str, name: str) -> str:
    return f"{scenario}_{name}"


def claims_frame(
    person_id: pl.Series,
    total: np.ndarray,
    settle_day: np.ndarray,
    baseline: BatchResult,
    reform: BatchResult,
    weight: np.ndarray | None = None,
    district: pl.Series | None = None,
) -> pl.DataFrame:
    """One row per claim settled under both: person, day, total and each scenario's amounts,
    with the person's weight (millionths) and district.

    A claim the engine rejects under either scenario (a date outside the policy's
    effective period, other payments larger than the bill left) is left out of
    both, so that the two scenarios are compared on the same bills.
    """
    keep = (baseline.reject == REJECT_NONE) & (reform.reject == REJECT_NONE)
    n = total.size
    w = np.full(n, WEIGHT_ONE, np.int64) if weight is None else weight.astype(np.int64)
    where = pl.Series(keep)
    places = (
        pl.Series([NO_DISTRICT] * n, dtype=pl.Utf8)
        if district is None
        else district.cast(pl.Utf8).fill_null(NO_DISTRICT)
    )
    data: dict[str, Any] = {
        "person_id": person_id.filter(where),
        "day": settle_day[keep].astype(np.int32),
        "total": total[keep].astype(np.int64),
        "w": w[keep],
        "district": places.filter(where),
    }
    for name, res in zip(SCENARIOS, (baseline, reform), strict=True):
        paid = np.zeros(n, dtype=np.int64)
        assist = np.zeros(n, dtype=np.int64)
        data[_col(name, "category")] = res.category[keep].astype(np.int8)
        for b in AMOUNTS:
            data[_col(name, b.value)] = res.amounts[b][keep]
            paid += res.amounts[b]
            if b in ASSISTANCE:
                assist += res.amounts[b]
        data[_col(name, "grant")] = res.grant[keep]
        data[_col(name, "assistance")] = assist[keep]
        data[_col(name, "personal")] = (total - paid)[keep]
    return pl.DataFrame(data)


def weighted(expr: pl.Expr) -> pl.Expr:
    """Σ value × weight (millionths), exactly, in 128-bit integers."""
    return (expr.cast(pl.Int128) * pl.col("w").cast(pl.Int128)).sum()


def estimate(raw: int | None) -> int:
    """A weighted sum (in millionths) as the figure it estimates, rounded half-up."""
    return round_half_up_div(int(raw or 0), WEIGHT_ONE)


def _sum(frame: pl.DataFrame, column: str) -> int:
    return estimate(frame.select(weighted(pl.col(column))).item()) if frame.height else 0


def _pair(frame: pl.DataFrame, name: str) -> Pair:
    return Pair(_sum(frame, _col("baseline", name)), _sum(frame, _col("reform", name)))


def _claim_count(frame: pl.DataFrame) -> int:
    """The claims of a frame as the population they stand for."""
    return _sum(frame.with_columns(pl.lit(1, dtype=pl.Int64).alias("one")), "one")


def _totals(frame: pl.DataFrame, scenario: str) -> Totals:
    """``indicators.Totals`` from columns: the same definitions as the per-claim summary."""
    t = Totals()
    t.claims = _claim_count(frame)
    t.total = _sum(frame, "total")
    t.personal = _sum(frame, _col(scenario, "personal"))
    t.grants = _sum(frame, _col(scenario, "grant"))
    t.by_benefit = {b: _sum(frame, _col(scenario, b.value)) for b in Benefit}
    return t


def _indicators(frame: pl.DataFrame, assisted_only: bool) -> Indicators:
    """Rates over all claims or over claims settled under a non-ordinary category.

    "Assisted" is per claim, as in ``indicators.summarize``; each scenario uses
    its own category column (a reform may change which category applies).
    """
    ratios = []
    for s in SCENARIOS:
        sub = frame.filter(pl.col(_col(s, "category")) != ORDINARY) if assisted_only else frame
        t = _totals(sub, s)
        ratios.append((t, Ratio(t.protected, t.total), Ratio(t.personal, t.total)))
    (tb, pb, bb), (_, pr, br) = ratios
    return Indicators(tb.claims, tb.total, RatioPair(pb, pr), RatioPair(bb, br))


def _groups(frame: pl.DataFrame, key: str, scenario: str) -> dict[Any, tuple[int, ...]]:
    """Per value of ``key``: weighted persons, claims, beneficiaries, assistance, burden.

    A person is counted once per group (their weight, not their claims'), so the claims
    are summed per (group, person) first.
    """
    per_person = frame.group_by(key, "person_id").agg(
        pl.col("w").first(),
        pl.len().alias("claims"),
        pl.col(_col(scenario, "assistance")).sum().alias("assistance"),
        pl.col(_col(scenario, "personal")).sum().alias("personal"),
    )
    grouped = per_person.group_by(key).agg(
        pl.col("w").cast(pl.Int128).sum().alias("persons"),
        weighted(pl.col("claims")).alias("claims"),
        weighted((pl.col("assistance") > 0).cast(pl.Int64)).alias("beneficiaries"),
        weighted(pl.col("assistance")).alias("assistance"),
        weighted(pl.col("personal")).alias("personal"),
    )
    return {row[0]: tuple(estimate(v) for v in row[1:]) for row in grouped.iter_rows()}


def _by_category(frame: pl.DataFrame) -> list[CategoryRow]:
    per = {s: _groups(frame, _col(s, "category"), s) for s in SCENARIOS}
    codes = sorted(set(per["baseline"]) | set(per["reform"]))
    zero = (0, 0, 0, 0, 0)
    rows = []
    for code in codes:
        b, r = per["baseline"].get(code, zero), per["reform"].get(code, zero)
        rows.append(
            CategoryRow(
                CATEGORIES[int(code)],
                Pair(b[0], r[0]),
                Pair(b[1], r[1]),
                Pair(b[3], r[3]),
                Pair(b[4], r[4]),
            )
        )
    return rows


def _by_district(frame: pl.DataFrame) -> list[DistrictRow]:
    """The same figures by the person's district (区县); none when no district is known."""
    if frame.height == 0 or bool((frame["district"] == NO_DISTRICT).all()):
        return []
    per = {s: _groups(frame, "district", s) for s in SCENARIOS}
    zero = (0, 0, 0, 0, 0)
    out = []
    for code in sorted(set(per["baseline"]) | set(per["reform"]), key=lambda c: (c == "", c)):
        b, r = per["baseline"].get(code, zero), per["reform"].get(code, zero)
        out.append(
            DistrictRow(
                code,
                *(Pair(b[k], r[k]) for k in range(5)),  # persons … personal
            )
        )
    return out


def persons_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per person: the year's total, burden and assistance under each scenario.

    ``assisted``: settled under a non-ordinary category at least once in the
    year. ``category``: the category of the person's last claim under the reform,
    to say who a person is in the lists of gainers and losers. ``w`` and
    ``district``: the person's (those of their first claim).
    """
    return (
        frame.group_by("person_id")
        .agg(
            pl.col("total").sum(),
            *[
                pl.col(_col(s, n)).sum()
                for s in SCENARIOS
                for n in ("personal", "assistance", "grant")
            ],
            (
                (pl.col(_col("baseline", "category")) != ORDINARY)
                | (pl.col(_col("reform", "category")) != ORDINARY)
            )
            .any()
            .alias("assisted"),
            pl.col(_col("reform", "category"))
            .sort_by("day", maintain_order=True)
            .last()
            .alias("category"),
            pl.col("w").first(),
            pl.col("district").first(),
        )
        .sort("person_id")
    )


def nearest_rank(sorted_values: np.ndarray, q: int) -> int:
    """The q-th percentile by nearest rank: the smallest value with ≥ q% at or below it."""
    n = int(sorted_values.size)
    if n == 0:
        return 0
    k = max(1, -(-q * n // 100))
    return int(sorted_values[k - 1])


def weighted_rank(sorted_values: np.ndarray, cum_weights: np.ndarray, q: int) -> int:
    """The same with weights: the smallest value whose cumulative weight reaches q% of
    all (with equal weights, exactly ``nearest_rank``)."""
    if sorted_values.size == 0:
        return 0
    total = int(cum_weights[-1])
    reach = -(-q * total // 100)  # ⌈q% of the total weight⌉, in exact integers
    k = int(np.searchsorted(cum_weights, reach, side="left"))
    return int(sorted_values[min(k, sorted_values.size - 1)])


def _scenario_distribution(
    values: np.ndarray, w: np.ndarray, edges: np.ndarray
) -> tuple[dict[str, int], list[int]]:
    """One scenario's quantiles (with mean and max) and weighted bucket counts."""
    if values.size == 0:
        return {**{f"P{q}": 0 for q in QUANTILES}, "mean": 0, "max": 0}, [0] * edges.size
    order = np.argsort(values, kind="stable")
    sv, cw = values[order], np.cumsum(w[order])
    figures = {f"P{q}": weighted_rank(sv, cw, q) for q in QUANTILES}
    figures["mean"] = _mean(values, w)
    figures["max"] = int(sv[-1])
    sums = np.zeros(edges.size, np.int64)
    np.add.at(sums, np.searchsorted(edges, values, side="right") - 1, w)
    return figures, [estimate(int(x)) for x in sums]


def distribution(
    baseline: np.ndarray,
    reform: np.ndarray,
    bounds: Sequence[int] = BURDEN_BOUNDS,
    weights: np.ndarray | None = None,
) -> Distribution:
    """Quantiles, mean, maximum and bucket counts of yearly burdens (fen), both scenarios.

    ``weights`` (millionths, per person) raise the counts to a population and weight the
    quantiles; without them every person counts once (plain nearest-rank quantiles)."""
    n = int(baseline.size)
    w = np.full(n, WEIGHT_ONE, np.int64) if weights is None else weights.astype(np.int64)
    edges = np.asarray(bounds, dtype=np.int64)
    (qb, cb), (qr, cr) = (_scenario_distribution(v, w, edges) for v in (baseline, reform))
    buckets = [
        Bucket(
            int(edges[i]),
            int(edges[i + 1]) if i + 1 < edges.size else None,
            Pair(cb[i], cr[i]),
        )
        for i in range(edges.size)
    ]
    persons = n if weights is None else estimate(int(w.sum()))
    return Distribution(persons, {k: Pair(qb[k], qr[k]) for k in qb}, buckets)


def _mean(values: np.ndarray, w: np.ndarray) -> int:
    """Σ value × weight ÷ Σ weight, half-up to the fen, in exact integers (Polars Int128)."""
    frame = pl.DataFrame({"v": values, "w": w})
    num, den = frame.select(weighted(pl.col("v")), pl.col("w").cast(pl.Int128).sum()).row(0)
    return round_half_up_div(int(num), int(den)) if den else 0


def _person_change(row: dict[str, Any]) -> PersonChange:
    return PersonChange(
        mask_id(row["person_id"]),
        CATEGORIES[row["category"]],
        int(row["total"]),
        Pair(int(row["baseline_personal"]), int(row["reform_personal"])),
        Pair(int(row["baseline_assistance"]), int(row["reform_assistance"])),
        row["district"],
        int(row["w"]),
    )


def _moved(persons: pl.DataFrame) -> pl.DataFrame:
    delta = pl.col(_col("reform", "personal")) - pl.col(_col("baseline", "personal"))
    return persons.with_columns(delta.alias("delta")).filter(pl.col("delta") != 0)


def _changes(moved: pl.DataFrame, top: int, gainers: bool) -> list[PersonChange]:
    side = moved.filter(pl.col("delta") < 0 if gainers else pl.col("delta") > 0)
    ranked = side.sort(["delta", "person_id"], descending=[not gainers, False]).head(top)
    return [_person_change(row) for row in ranked.iter_rows(named=True)]


def compare(
    person_id: pl.Series,
    total: np.ndarray,
    settle_day: np.ndarray,
    baseline: BatchResult,
    reform: BatchResult,
    *,
    top: int = 10,
    changes: list[Change] | None = None,
    weight: np.ndarray | None = None,
    district: pl.Series | None = None,
) -> Simulation:
    """All the figures of a simulation from the two settlements of the same claims.

    ``person_id``, ``total``, ``settle_day`` and, when given, ``weight`` (millionths) and
    ``district`` are per claim in input order, as the results are.
    """
    frame = claims_frame(person_id, total, settle_day, baseline, reform, weight, district)
    persons = persons_frame(frame)
    gets = [persons[_col(s, "assistance")].to_numpy() > 0 for s in SCENARIOS]
    pw = persons["w"].to_numpy()
    assisted = persons.filter(pl.col("assisted"))
    is_weighted = weight is not None

    def people(mask: np.ndarray) -> int:
        return estimate(int(pw[mask].sum())) if is_weighted else int(mask.sum())

    moved = _moved(persons)
    dist_weights = (lambda f: f["w"].to_numpy()) if is_weighted else (lambda f: None)
    return Simulation(
        claims=_claim_count(frame),
        persons=people(np.ones(persons.height, bool)),
        rejected=Pair(
            int((baseline.reject != REJECT_NONE).sum()), int((reform.reject != REJECT_NONE).sum())
        ),
        total=_sum(frame, "total"),
        spending={b: _pair(frame, b.value) for b in Benefit},
        grant=_pair(frame, "grant"),
        assistance=_pair(frame, "assistance"),
        personal=_pair(frame, "personal"),
        by_category=_by_category(frame),
        beneficiaries=Pair(people(gets[0]), people(gets[1])),
        new_beneficiaries=people(~gets[0] & gets[1]),
        lost_beneficiaries=people(gets[0] & ~gets[1]),
        indicators={
            "everyone": _indicators(frame, assisted_only=False),
            "assisted": _indicators(frame, assisted_only=True),
        },
        distribution={
            "everyone": distribution(
                persons["baseline_personal"].to_numpy(),
                persons["reform_personal"].to_numpy(),
                weights=dist_weights(persons),
            ),
            "assisted": distribution(
                assisted["baseline_personal"].to_numpy(),
                assisted["reform_personal"].to_numpy(),
                weights=dist_weights(assisted),
            ),
        },
        gainers=_changes(moved, top, gainers=True),
        losers=_changes(moved, top, gainers=False),
        changes=list(changes or []),
        by_district=_by_district(frame),
        weighted=is_weighted,
        sample=Pair(frame.height, persons.height),
        changed=[
            _person_change(row) for row in moved.sort(["delta", "person_id"]).iter_rows(named=True)
        ],
    )


def simulate(
    baseline: CompiledPolicy,
    reform: CompiledPolicy,
    claims: ColumnarClaims,
    *,
    top: int = 10,
    settler: Settler = settle_year,
    weight: np.ndarray | None = None,
    district: pl.Series | None = None,
) -> Simulation:
    """Settle the claims under both policies and compare (for callers without a progress bar)."""
    base = settler(baseline, claims)
    ref = settler(reform, claims)
    return compare(
        claims.person_id,
        claims.cols.total,
        claims.cols.settle_day,
        base,
        ref,
        top=top,
        changes=changed_parameters(baseline.policy, reform.policy),
        weight=weight,
        district=district,
    )


# ---------------------------------------------------------------------- JSON
def _money(p: Pair) -> dict[str, str]:
    return {
        "baseline": format_yuan(p.baseline),
        "reform": format_yuan(p.reform),
        "delta": format_yuan(p.delta),
    }


def _count(p: Pair) -> dict[str, int]:
    return {"baseline": p.baseline, "reform": p.reform, "delta": p.delta}


def _rates(r: RatioPair) -> dict[str, str]:
    return {
        "baseline": r.baseline.percent(),
        "reform": r.reform.percent(),
        "delta_points": r.delta_points(),
        "baseline_numerator": format_yuan(r.baseline.numerator),
        "reform_numerator": format_yuan(r.reform.numerator),
        "denominator": format_yuan(r.baseline.denominator),
    }


def _person(p: PersonChange) -> dict[str, Any]:
    return {
        "person_id": p.person_id,
        "category": p.category.value,
        "district": p.district or None,
        "weight": _weight(p.weight),
        "total": format_yuan(p.total),
        "personal": _money(p.personal),
        "assistance": _money(p.assistance),
    }


def _weight(w: int) -> str:
    """A weight as a decimal string (millionths shown exactly, trailing zeros dropped)."""
    whole, frac = divmod(w, WEIGHT_ONE)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _distribution(d: Distribution) -> dict[str, Any]:
    return {
        "persons": d.persons,
        "quantiles": {k: _money(v) for k, v in d.quantiles.items()},
        "buckets": [
            {
                "from": format_yuan(b.lower),
                "to": None if b.upper is None else format_yuan(b.upper),
                **_count(b.persons),
            }
            for b in d.buckets
        ],
    }


def to_json(sim: Simulation) -> dict[str, Any]:
    """The simulation with English keys and money as yuan strings (the edge contract)."""
    spending: dict[str, dict[str, str]] = {b.value: _money(p) for b, p in sim.spending.items()}
    spending["critical_care_grant"] = _money(sim.grant)
    spending["assistance_total"] = _money(sim.assistance)
    spending["personal"] = _money(sim.personal)
    return {
        "weighted": sim.weighted,
        "sample": {"claims": sim.sample.baseline, "persons": sim.sample.reform},
        "claims": sim.claims,
        "persons": sim.persons,
        "rejected_claims": {"baseline": sim.rejected.baseline, "reform": sim.rejected.reform},
        "total": format_yuan(sim.total),
        "changes": [
            {
                "path": c.path,
                "name": c.name,
                "baseline": c.baseline,
                "reform": c.reform,
                "clause": c.clause,
            }
            for c in sim.changes
        ],
        "spending": spending,
        "by_category": {
            row.category.value: {
                "persons": _count(row.persons),
                "claims": _count(row.claims),
                "assistance": _money(row.assistance),
                "personal": _money(row.personal),
            }
            for row in sim.by_category
        },
        "by_district": {
            row.code or "unknown": {
                "persons": _count(row.persons),
                "claims": _count(row.claims),
                "beneficiaries": _count(row.beneficiaries),
                "assistance": _money(row.assistance),
                "personal": _money(row.personal),
            }
            for row in sim.by_district
        },
        "beneficiaries": {
            **_count(sim.beneficiaries),
            "new": sim.new_beneficiaries,
            "lost": sim.lost_beneficiaries,
        },
        "indicators": {
            group: {
                "claims": ind.claims,
                "total": format_yuan(ind.total),
                "protection_rate": _rates(ind.protection),
                "burden_rate": _rates(ind.burden),
            }
            for group, ind in sim.indicators.items()
        },
        "burden_distribution": {g: _distribution(d) for g, d in sim.distribution.items()},
        "top_gainers": [_person(p) for p in sim.gainers],
        "top_losers": [_person(p) for p in sim.losers],
    }
