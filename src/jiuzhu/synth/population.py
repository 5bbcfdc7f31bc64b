"""Generate persons, households, categories and a year of claims with NumPy.

Everything is vectorized over people and claims (a city's year is millions of
rows) and drawn from one seeded generator, so the same seed gives the same
rows. The figures it is calibrated to live in ``calibration.yaml`` with their
sources; this module holds the mechanism only.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import polars as pl
import yaml

from jiuzhu.domain.policy.model import Policy
from jiuzhu.io.columnar import yuan

# Listed diseases to give some claims (山西's quota and grant lists, 戈谢病); others get none.
DISEASE_CODES = ["C34.1", "C50.9", "C16.9", "I63.9", "N18.5", "C18.7", "I21.9", "E10.9", "E75.2"]


def _data(name: str) -> Any:
    text = (resources.files("jiuzhu.synth") / name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def calibration() -> dict[str, Any]:
    return dict(_data("calibration.yaml"))


def districts(policy_id: str) -> list[str]:
    table: dict[str, list[str]] = _data("districts.yaml")
    return table[policy_id]


def _v(cal: dict[str, Any], key: str) -> Any:
    return cal[key]["value"]


@dataclass(frozen=True)
class Synthetic:
    persons: pl.DataFrame
    categories: pl.DataFrame
    claims: pl.DataFrame


def _households(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    """Household index of each of ``n`` persons, households of size 1 + Poisson(mean − 1)."""
    sizes = 1 + rng.poisson(mean - 1, size=n // 2 + 16)
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, 1 + rng.poisson(mean - 1, size=n // 2 + 16)])
    return np.repeat(np.arange(sizes.size), sizes)[:n]


def _categories(
    rng: np.random.Generator,
    cal: dict[str, Any],
    policy: Policy,
    household: np.ndarray,
    year: int,
) -> pl.DataFrame:
    """One category per assisted household; a share starts or ends within the year."""
    n_house = int(household.max()) + 1
    weights = _v(cal, "category_weights")
    cats = [c for c in policy.categories.precedence if c.value in weights]
    w = np.array([weights[c.value] for c in cats], dtype=float)
    assisted = rng.random(n_house) < _v(cal, "assisted_share")
    house_cat = rng.choice(len(cats), size=n_house, p=w / w.sum())
    members = np.flatnonzero(assisted[household])
    cat_idx = house_cat[household[members]]
    n = members.size
    change = rng.random(n) < _v(cal, "category_change_share")
    starts = rng.random(n) < 0.5
    day = rng.integers(1, 365, size=n)
    jan1 = np.datetime64(f"{year}-01-01")
    change_day = jan1 + day.astype("timedelta64[D]")
    valid_from = np.where(change & starts, change_day, np.datetime64("NaT"))
    valid_to = np.where(change & ~starts, change_day, np.datetime64("NaT"))
    return pl.DataFrame(
        {
            "person_index": members.astype(np.int64),
            "category": np.array([c.value for c in cats])[cat_idx],
            "valid_from": valid_from.astype("datetime64[D]"),
            "valid_to": valid_to.astype("datetime64[D]"),
            "source": np.where(change, "附件3 动态调整名单", "附件2 名单"),
        }
    )


def _counts(
    rng: np.random.Generator, cal: dict[str, Any], assisted: np.ndarray
) -> dict[str, np.ndarray]:
    n = assisted.size
    adm = cal["admissions_per_person"]
    rate = np.where(
        assisted,
        adm["ordinary"]["value"] * adm["assisted_factor"]["value"],
        adm["ordinary"]["value"],
    )
    chronic = rng.random(n) < _v(cal, "chronic_share")
    special = rng.random(n) < _v(cal, "special_drug_share")
    return {
        "inpatient": rng.poisson(rate),
        "outpatient_chronic": np.where(chronic, rng.poisson(_v(cal, "chronic_visits_mean"), n), 0),
        "outpatient_general": rng.poisson(_v(cal, "general_visits_mean"), n),
        "special_drug": np.where(special, 1 + rng.poisson(1, n), 0),
    }


def _costs(
    rng: np.random.Generator, cal: dict[str, Any], visit: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """Total cost in fen: lognormal with the calibrated mean per visit type and level."""
    mean = np.zeros(visit.size)
    sigma = np.full(visit.size, 0.8)
    inp = visit == "inpatient"
    for lvl, m in _v(cal, "inpatient_cost_mean").items():
        mean[inp & (level == int(lvl))] = m
    sigma[inp] = _v(cal, "inpatient_cost_sigma")
    mean[visit == "outpatient_chronic"] = _v(cal, "chronic_visit_cost_mean")
    mean[visit == "outpatient_general"] = _v(cal, "general_visit_cost_mean")
    mean[visit == "special_drug"] = _v(cal, "special_drug_cost_mean")
    sigma[visit == "special_drug"] = 0.5
    mu = np.log(mean) - sigma**2 / 2
    return np.maximum(100, np.rint(rng.lognormal(mu, sigma) * 100)).astype(np.int64)


def generate(policy: Policy, people: int, year: int, seed: int) -> Synthetic:
    """A population of ``people`` and its claims settled in ``year``."""
    rng = np.random.default_rng(seed)
    cal = calibration()
    household = _households(rng, people, _v(cal, "household_size_mean"))
    codes = np.array(districts(policy.id))
    district = codes[rng.integers(0, codes.size, size=int(household.max()) + 1)][household]
    age = rng.integers(0, 91, size=people)
    birth = np.datetime64(f"{year}-07-01") - (age * 365.25).astype("timedelta64[D]")
    categories = _categories(rng, cal, policy, household, year)
    assisted = np.zeros(people, dtype=bool)
    assisted[categories["person_index"].to_numpy()] = True

    counts = _counts(rng, cal, assisted)
    visit_names = list(counts)
    per_visit = np.stack([counts[v] for v in visit_names])  # visits × people
    person_idx = np.concatenate(
        [np.repeat(np.arange(people), per_visit[i]) for i in range(len(visit_names))]
    )
    visit = np.concatenate([np.full(per_visit[i].sum(), v) for i, v in enumerate(visit_names)])
    m = person_idx.size
    shares = _v(cal, "admission_level_shares")
    level = rng.choice([1, 2, 3], size=m, p=[shares[k] for k in (1, 2, 3)])
    total = _costs(rng, cal, visit, level)
    fsp, psp = _v(cal, "full_self_pay_share"), _v(cal, "partial_self_pay_share")
    full = (total * rng.beta(2, 2 / fsp - 2, m)).astype(np.int64)
    partial = (total * rng.beta(2, 2 / psp - 2, m)).astype(np.int64)
    scope = total - full - partial
    day = rng.integers(0, 365 + (1 if year % 4 == 0 else 0), size=m)
    settle = np.datetime64(f"{year}-01-01") + day.astype("timedelta64[D]")
    stay = np.where(visit == "inpatient", 1 + rng.poisson(8.4, m), 0)
    admit = settle - stay.astype("timedelta64[D]")
    sick = (visit == "inpatient") & (rng.random(m) < 0.12)
    codes_drawn = np.array(DISEASE_CODES)[rng.integers(0, len(DISEASE_CODES), m)]
    other = np.where(
        rng.random(m) < 0.03, np.minimum(full + partial, rng.integers(1, 3000, m) * 100), 0
    )

    order = np.lexsort((day, person_idx))
    pid = np.char.add("P", np.char.zfill(np.arange(people).astype(str), 9))
    claims = pl.DataFrame(
        {
            "claim_id": np.char.add("C", np.char.zfill(np.arange(m).astype(str), 10)),
            "person_index": person_idx[order].astype(np.int64),
            "visit_type": visit[order],
            "settlement_date": settle[order].astype("datetime64[D]"),
            "admission_date": admit[order].astype("datetime64[D]"),
            "hospital_level": level[order].astype(np.int8),
            "referred": rng.random(m)[order] < 0.95,
            "total": yuan(total[order]),
            "full_self_pay": yuan(full[order]),
            "partial_self_pay": yuan(partial[order]),
            "policy_scope": yuan(scope[order]),
            "other_payments": yuan(other[order].astype(np.int64)),
            "disease": pl.Series(codes_drawn[order]).zip_with(
                pl.Series(sick[order]), pl.Series([None] * m, dtype=pl.Utf8)
            ),
            "quota_hospital": (sick & (rng.random(m) < 0.5))[order],
            "late_stage": (sick & (rng.random(m) < 0.05))[order],
        }
    )
    persons = pl.DataFrame(
        {
            "person_index": np.arange(people, dtype=np.int64),
            "person_id": pid,
            "household_id": np.char.add("H", np.char.zfill(household.astype(str), 9)),
            "district": district,
            "birth_date": birth.astype("datetime64[D]"),
        }
    )
    ids = persons.select("person_index", "person_id")
    categories = categories.join(ids, on="person_index", how="left").select(
        "person_id", "category", "valid_from", "valid_to", "source"
    )
    claims = claims.join(ids, on="person_index", how="left", maintain_order="left").select(
        "claim_id",
        "person_id",
        *[c for c in claims.columns if c not in ("claim_id", "person_index")],
    )
    held = categories.group_by("person_id", maintain_order=True).agg(
        pl.struct("category", "valid_from", "valid_to").alias("categories")
    )
    claims = claims.join(held, on="person_id", how="left", maintain_order="left")
    return Synthetic(persons.drop("person_index"), categories, claims)


def write(data: Synthetic, out: str) -> dict[str, str]:
    """Write the three tables as Parquet; same data, same bytes."""
    import pathlib

    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in (
        ("persons", data.persons),
        ("categories", data.categories),
        ("claims", data.claims),
    ):
        path = folder / f"{name}.parquet"
        frame.write_parquet(path, compression="zstd", statistics=True)
        paths[name] = str(path)
    return paths
