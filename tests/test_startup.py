"""What ``jiuzhu`` loads to start: the heavy libraries only in the commands that use them.

Start-up time itself is measured by benchmarks/bench_startup.py, never timed here; this
checks the cause, in a fresh interpreter (sys.modules after the command ran).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import ONE_CLAIM

HEAVY = ("numpy", "polars", "dask", "distributed", "matplotlib", "sqlalchemy", "fastapi")


_PROBE = """
import json, sys
from jiuzhu.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(*args: str, stdin: str = "") -> tuple[set[str], str]:
    """The top-level modules loaded by running ``jiuzhu ARGS``, and its standard output."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    last = proc.stderr.strip().splitlines()[-1]
    return {m.split(".")[0] for m in json.loads(last)}, proc.stdout


def test_importing_the_command_loads_no_heavy_library() -> None:
    code = "import sys, jiuzhu.cli.main; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    roots = {m.split(".")[0] for m in out.split()}
    assert roots.isdisjoint(HEAVY), roots & set(HEAVY)
    # nor pydantic, YAML, rich or openpyxl: --help needs none of them
    assert roots.isdisjoint({"pydantic", "yaml", "rich", "openpyxl"})


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["settle", "--help"],
        ["simulate", "--help"],
        ["explain", "--help"],
        ["application", "--help"],
        ["application", "assess", "--help"],
    ],
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    loaded, out = _loaded(*args)
    assert "--help" in out
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize("command", ["settle", "explain"])
def test_one_claim_settle_loads_no_heavy_library(command: str) -> None:
    loaded, out = _loaded(
        command, "--policy", "liaocheng-2023", "--input", "-", stdin=json.dumps(ONE_CLAIM) + "\n"
    )
    assert "c1" in out
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_a_one_claim_settle_with_its_policy_kept_loads_no_pydantic_nor_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cause of issue 11's one-claim start (docs/performance.md, "Start-up"): the first
    run reads the policy's files (YAML, pydantic's validator) and keeps it compiled; the
    next loads neither library, nor the claim contract's model, nor Typer's adapters."""
    monkeypatch.setenv("JIUZHU_CACHE_DIR", str(tmp_path))
    args = ("settle", "--policy", "liaocheng-2023", "--input", "-")
    first, out = _loaded(*args, stdin=json.dumps(ONE_CLAIM) + "\n")
    assert "c1" in out and {"pydantic", "yaml"} <= first
    kept, out = _loaded(*args, stdin=json.dumps(ONE_CLAIM) + "\n")
    assert "c1" in out
    assert kept.isdisjoint({"pydantic", "pydantic_core", "yaml", "annotated_types"}), kept


@pytest.mark.parametrize(
    ("command", "uses"),
    [("settle", {"settle"}), ("explain", {"explain", "settle"})],  # explain settles first
)
def test_one_claim_settle_loads_no_other_command(command: str, uses: set[str]) -> None:
    """Commands are loaded when called (ADR 19): only the modules of this command."""
    from jiuzhu.cli.main import COMMANDS

    code = _PROBE.replace("sorted(sys.modules)", "sorted(m for m in sys.modules if '.cli.' in m)")
    proc = subprocess.run(
        [sys.executable, "-c", code, command, "--policy", "liaocheng-2023", "--input", "-"],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    loaded = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    modules = {entry.target.partition(":")[0] for entry in COMMANDS}
    assert loaded & modules == {f"jiuzhu.cli.{name}_cmd" for name in uses}


_PARSE_PROBE = """
import json, sys
from typer.main import get_command
from jiuzhu.cli.main import app
root = get_command(app)
ctx = root.make_context("jiuzhu", sys.argv[1:])
name = ctx._protected_args[0]
ctx = root.get_command(ctx, name).make_context(name, ctx.args, parent=ctx)
print(json.dumps({"params": {k: repr(v) for k, v in ctx.params.items()},
                  "modules": sorted(sys.modules)}))
"""


def test_parsing_settle_imports_no_pydantic() -> None:
    """Typer converts parameters with pydantic; jiuzhu's simple ones convert without it
    (ADR 20): building ``settle`` and parsing its command line imports neither pydantic
    nor Typer's adapters (the command's body may need pydantic; parsing does not)."""
    args = ["settle", "-p", "liaocheng-2023", "-i", "-", "--engine", "reference"]
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["params"]["engine"] == "<Engine.reference: 'reference'>"
    assert out["params"]["policy"] == "'liaocheng-2023'"
    modules = set(out["modules"])
    assert "typer._adapters" not in modules
    assert not {m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")}


def test_one_claim_settle_builds_no_typer_adapter() -> None:
    """The whole one-claim ``settle``: its parameters never reach Typer's pydantic adapters."""
    code = _PROBE.replace("sorted(sys.modules)", "sorted(m for m in sys.modules if 'typer' in m)")
    args = ["settle", "-p", "liaocheng-2023", "-i", "-", "--engine", "reference"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        input=json.dumps(ONE_CLAIM) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert '"claim_id":"c1"' in proc.stdout, proc.stderr
    loaded = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    assert "typer.core" in loaded and "typer._adapters" not in loaded
