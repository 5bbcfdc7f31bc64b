"""Our own hand-worked cases (tests/cases/hand_*.json), through ``jiuzhu settle``.

Same format as shared/cases/public.json. Each case cites its clause (``why``)
and shows its arithmetic (``note``); the expected amounts were worked out by
hand from the document's text and the policy file, not copied from the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import assert_matches, settle

pytestmark = pytest.mark.usefixtures("engine")  # every case, by both engines

CASE_DIR = Path(__file__).parent / "cases"
CASES = [
    case
    for path in sorted(CASE_DIR.glob("hand_*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))
]


def test_enough_hand_cases() -> None:
    assert len(CASES) >= 60
    assert {c["policy"] for c in CASES} >= {
        "liaocheng-2023",
        "hangzhou-2023",
        "maoming-2018",
        "shanxi-2019",
        "fujian-2022",
    }
    for case in CASES:
        assert case["why"] and case["note"], case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hand_case(case: dict) -> None:
    run = settle(case["policy"], case["claims"], *case.get("args", []))
    assert run.code == 0, run.stderr
    got = run.by_claim()
    for exp in case["expected"]:
        assert_matches(got[exp["claim_id"]], exp, case["id"])
