"""Province frameworks: the shipped instantiations comply; a broken one is reported."""

from __future__ import annotations

import pytest

from jiuzhu.domain.policy.constraints import check
from jiuzhu.io.policy_files import compile_policy, load_framework, load_policy


@pytest.mark.parametrize("pid", ["shanxi-2019", "fujian-2022"])
def test_shipped_instantiation_complies(pid: str) -> None:
    policy = load_policy(pid)
    assert policy.framework == pid
    assert check(compile_policy(policy), load_framework(pid)) == []


def violations(pid: str, *sets: str) -> dict[str, str]:
    policy = load_policy(pid, sets=list(sets))
    return {v.constraint: v.detail for v in check(compile_policy(policy), load_framework(pid))}


def test_shanxi_rate_below_70_and_cap_below_15000() -> None:
    got = violations(
        "shanxi-2019",
        "benefits.medical_assistance.schedules.key.rate=65%",
        "benefits.medical_assistance.schedules.key.cap=12000.00",
    )
    assert "低于 70%" in got["key-rate-floor"]
    assert "低于 15000.00" in got["key-cap-floor"]
    # 65% is now below the low-income top segment of 70%: (七) "原则上不高于".
    assert "low-income-not-above-key" in got


def test_shanxi_quota_and_grant_are_fixed_by_the_province() -> None:
    got = violations(
        "shanxi-2019",
        "benefits.major_disease_quota.schedules.key.rate=15%",
        "benefits.critical_care_grant.amount=3000.00",
    )
    assert set(got) == {"quota-shares", "care-grant"}


def test_fujian_near_poor_must_be_slightly_below_dibao() -> None:
    got = violations(
        "fujian-2022", "benefits.medical_assistance.schedules.other_low_income.rate=70%"
    )
    assert list(got) == ["ma-others-below-dibao"]
    assert "须低于" in got["ma-others-below-dibao"]


def test_fujian_cii_deductible_tied_to_income() -> None:
    got = violations("fujian-2022", "income_reference.per_capita_disposable_income=22000.00")
    # 22000 × 50% = 11000 ≠ 20329.50.
    assert "11000.00" in got["cii-deductible"]


def test_fujian_cii_deductible_is_half_of_all_residents_income() -> None:
    """闽医保〔2021〕93号 二(二)8 writes 居民 (all residents), not 农村居民 (item 11):
    a city that sets its residents' income and half of it as the deductible passes;
    the rural figure of 2020 (20,880, half 10,440) no longer stands for it."""
    ok = violations(
        "fujian-2022",
        "income_reference.per_capita_disposable_income=43118.00",
        "benefits.critical_illness_insurance.schedules.rural.deductible=21559.00",
    )
    assert "cii-deductible" not in ok
    rural = violations(
        "fujian-2022", "benefits.critical_illness_insurance.schedules.rural.deductible=10440.00"
    )
    assert "10440.00 应等于 40659.00 × 50% = 20329.50" in rural["cii-deductible"]


def test_fujian_tilt_and_rate_floor() -> None:
    got = violations(
        "fujian-2022",
        "benefits.critical_illness_insurance.tilts.key_groups.rate_add=3%",
        "benefits.critical_illness_insurance.schedules.rural.segments.0.rate=55%",
    )
    assert {"cii-tilt", "cii-rate-floor"} <= set(got)
