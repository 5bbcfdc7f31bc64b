"""Every hand-worked case of shared/cases/public.json, through a real ``jiuzhu settle``."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import SHARED_CASES, assert_matches, jsonl, run_process

pytestmark = pytest.mark.usefixtures("engine")  # every case, by both engines

CASES = json.loads(SHARED_CASES.read_text(encoding="utf-8")) if SHARED_CASES.exists() else []


def test_public_cases_present() -> None:
    assert SHARED_CASES.exists(), f"missing {SHARED_CASES}"
    assert len(CASES) >= 6


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_public_case(case: dict) -> None:
    run = run_process(["settle", "--policy", case["policy"], "--input", "-"], jsonl(case["claims"]))
    assert run.code == 0, run.stderr
    got = run.by_claim()
    for exp in case["expected"]:
        assert_matches(got[exp["claim_id"]], exp, case["id"])
