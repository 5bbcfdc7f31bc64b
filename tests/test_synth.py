"""The synthetic population: reproducible to the byte, calibrated, and settleable."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from jiuzhu.io.policy_files import load_policy
from jiuzhu.synth.population import calibration, generate
from tests.cli_helpers import invoke


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        run = invoke(
            [
                "synth",
                "-p",
                "hangzhou-2023",
                "-n",
                "3000",
                "-y",
                "2023",
                "-o",
                str(tmp_path / name),
                "--seed",
                str(seed),
            ]
        )
        assert run.code == 0, run.stderr
    for table in ("persons", "categories", "claims"):
        a, b, c = (tmp_path / n / f"{table}.parquet" for n in "abc")
        assert a.read_bytes() == b.read_bytes(), table
        assert a.read_bytes() != c.read_bytes(), table


def test_calibrated_to_the_reference_figures() -> None:
    cal = calibration()
    data = generate(load_policy("liaocheng-2023"), 200_000, 2023, 3)
    share = data.categories["person_id"].n_unique() / data.persons.height
    assert abs(share - cal["assisted_share"]["value"]) < 0.01
    inpatient = data.claims.filter(pl.col("visit_type") == "inpatient")
    rate = cal["admissions_per_person"]["ordinary"]["value"]
    factor = cal["admissions_per_person"]["assisted_factor"]["value"]
    expected_rate = rate * (1 - share) + rate * factor * share
    assert abs(inpatient.height / data.persons.height - expected_rate) < 0.01
    levels = cal["admission_level_shares"]["value"]
    means = cal["inpatient_cost_mean"]["value"]
    expected_mean = sum(levels[k] * means[k] for k in (1, 2, 3))
    mean = float(inpatient["total"].cast(pl.Float64).mean() or 0)
    assert abs(mean / expected_mean - 1) < 0.05
    parts = data.claims.select(
        (
            pl.col("full_self_pay") + pl.col("partial_self_pay") + pl.col("policy_scope")
            == pl.col("total")
        ).all()
    ).item()
    assert parts


def test_a_synthetic_year_settles_without_errors() -> None:
    data = generate(load_policy("shanxi-2019"), 2_000, 2020, 9)
    lines = []
    for row in data.claims.iter_rows(named=True):
        claim = {k: v for k, v in row.items() if v is not None and k != "categories"}
        for k in ("total", "full_self_pay", "partial_self_pay", "policy_scope", "other_payments"):
            claim[k] = f"{row[k]:.2f}"
        for k in ("settlement_date", "admission_date"):
            claim[k] = row[k].isoformat()
        spans = row["categories"] or [
            {"category": "ordinary", "valid_from": None, "valid_to": None}
        ]
        claim["categories"] = [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in s.items()
                if v is not None
            }
            for s in spans
        ]
        lines.append(json.dumps(claim, ensure_ascii=False))
    run = invoke(["settle", "--policy", "shanxi-2019"], "\n".join(lines))
    assert run.code == 0, run.stderr[:2000]
    assert len(run.records) == data.claims.height
    assert any(r["major_disease_quota"] != "0.00" for r in run.records)


def test_a_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    """Once a ValueError traceback from NumPy's generator (found by a review)."""
    run = invoke(["synth", "-p", "hangzhou-2023", "-o", str(tmp_path / "x"), "--seed", "-1"])
    assert run.code == 2 and "--seed 的取值无效：须不小于 0" in run.stderr
