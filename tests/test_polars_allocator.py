"""The Parquet settle's allocator setting: made before Polars loads, never over the user's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jiuzhu.io.polars_allocator import KEEP_FREED
from jiuzhu.io.policy_files import load_policy
from jiuzhu.synth.population import generate, write

PROBE = """
import os, sys
{before}
from jiuzhu.io.polars_allocator import keep_freed_memory
keep_freed_memory()
import polars
print(os.environ.get("_RJEM_MALLOC_CONF", ""))
"""


def _without_setting() -> dict[str, str]:
    """This process's environment without the setting (Polars, loaded here, made one)."""
    return {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}


def _conf(before: str = "", **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)],
        env={**_without_setting(), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_set_before_polars_loads_and_polars_appends_it_after_its_own() -> None:
    conf = _conf()
    # Polars puts its defaults first and the override after: the later value wins.
    assert conf.startswith("dirty_decay_ms:500")
    assert conf.endswith(KEEP_FREED)


def test_a_setting_the_user_made_is_left_alone() -> None:
    conf = _conf(_RJEM_MALLOC_CONF="dirty_decay_ms:0")
    assert conf.endswith("dirty_decay_ms:0")
    assert KEEP_FREED not in conf


def test_nothing_is_set_once_polars_is_loaded() -> None:
    conf = _conf(before="import polars")
    assert KEEP_FREED not in conf


def test_a_parquet_settle_sets_it(tmp_path: Path) -> None:
    """Through the command, in a fresh process: the batch settle of a Parquet file runs
    with the setting in force (Polars, loaded by the command, shows it appended)."""
    write(generate(load_policy("shanxi-2019"), 50, 2020, seed=3), str(tmp_path))
    probe = (
        "import os, sys\n"
        "from jiuzhu.cli.main import app\n"
        f"sys.argv = ['jiuzhu', 'settle', '--engine', 'batch', '-p', 'shanxi-2019', "
        f"'-i', {str(tmp_path / 'claims.parquet')!r}, '-o', {str(tmp_path / 'out.parquet')!r}]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(os.environ.get('_RJEM_MALLOC_CONF', ''))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=_without_setting(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().endswith(KEEP_FREED)
    assert (tmp_path / "out.parquet").exists()
