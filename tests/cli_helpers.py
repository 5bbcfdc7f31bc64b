"""Run the ``jiuzhu`` command the way users do, in-process or as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from jiuzhu.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
SHARED_CASES = ROOT.parent / "shared" / "cases" / "public.json"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def by_claim(self) -> dict[str, dict[str, Any]]:
        return {r["claim_id"]: r for r in self.records}


ONE_CLAIM: dict[str, Any] = {
    "claim_id": "c1",
    "person_id": "p1",
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
"""A 低保 inpatient claim of 2023 that 聊城 settles: what a desk sends for one discharge."""


def jsonl(claims: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in claims)


def invoke(args: list[str], stdin: str = "") -> Run:
    """In-process, through the Typer app (fast; same parsing and output as the command)."""
    result = CliRunner().invoke(app, args, input=stdin, prog_name="jiuzhu")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def subcommands(command: Any) -> list[tuple[str, Any]]:
    """The commands under a group, in its order, each loaded (the ``jiuzhu`` group loads
    its commands only when asked for them, so ``.commands`` holds only those used)."""
    names = command.list_commands(None) if hasattr(command, "list_commands") else []
    return [(name, command.get_command(None, name)) for name in names]


def settle(policy: str, claims: list[dict[str, Any]], *extra: str) -> Run:
    return invoke(["settle", "--policy", policy, "--input", "-", *extra], jsonl(claims))


def command() -> list[str]:
    exe = shutil.which("jiuzhu", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "jiuzhu.cli.main"]


def run_process(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> Run:
    """A real ``jiuzhu`` process: what a hospital's integrator runs."""
    proc = subprocess.run(
        [*command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


BENEFITS = [
    "basic_insurance",
    "critical_illness_insurance",
    "other_payments",
    "major_disease_quota",
    "medical_assistance",
    "re_assistance",
    "secondary_assistance",
    "special_assistance",
    "illness_poverty_assistance",
    "hospital_borne",
    "critical_care_grant",
]
CHECKED = [
    b
    for b in BENEFITS
    if b not in ("basic_insurance", "critical_illness_insurance", "other_payments")
]


def assert_matches(record: dict[str, Any], expected: dict[str, str], case_id: str) -> None:
    """Every expected field matches; every assistance field not listed is 0.00."""
    for key, value in expected.items():
        assert record.get(key) == value, (
            f"{case_id} {record['claim_id']} {key}: got {record.get(key)}, expected {value}"
        )
    for key in CHECKED:
        if key not in expected:
            assert record[key] == "0.00", f"{case_id} {record['claim_id']} {key} should be 0.00"
