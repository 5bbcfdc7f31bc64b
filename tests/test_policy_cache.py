"""The compiled policy kept between runs (``io/policy_cache``, ADR 21): used only while
the files it was read from, the search path and the code are the same, read by an
unpickler that builds nothing but the domain's classes, and never an error."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from jiuzhu.io import policy_cache
from jiuzhu.io.policy_files import load_compiled, shipped_dir
from jiuzhu.io.policy_paths import recording
from tests.cli_helpers import ONE_CLAIM, run_process, settle

CLAIM = ONE_CLAIM


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("JIUZHU_CACHE_DIR", str(folder))
    return folder


def _assistance(run_stdout: str) -> str:
    record = json.loads(run_stdout.splitlines()[0])
    return str(record["medical_assistance"])


def _keep(ref: str = "liaocheng-2023") -> None:
    with recording() as reading:
        compiled = load_compiled(ref, [], [])
    policy_cache.keep(ref, [], [], reading, compiled)


def test_a_kept_policy_is_the_policy_read_from_its_files(cache: Path) -> None:
    first = settle("liaocheng-2023", [CLAIM])
    assert len(list(cache.glob("policy-*.pickle"))) == 1
    kept = policy_cache.kept("liaocheng-2023", [], [])
    assert kept is not None
    fresh = load_compiled("liaocheng-2023", [], [])
    assert kept.policy == fresh.policy
    assert kept.changes == fresh.changes
    assert settle("liaocheng-2023", [CLAIM]).stdout == first.stdout


def test_a_hit_reads_no_yaml_and_builds_no_validator(cache: Path) -> None:
    _keep()
    probe = (
        "import sys; from jiuzhu.io.policy_cache import kept; "
        "c = kept('liaocheng-2023', [], []); assert c is not None; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'yaml', 'pydantic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_an_edited_policy_file_is_read_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "policies"
    local.mkdir()
    monkeypatch.setenv("JIUZHU_POLICY_PATH", str(local))
    mine = local / "liaocheng-2023.yaml"
    mine.write_text((shipped_dir() / "liaocheng-2023.yaml").read_text(encoding="utf-8"))
    before = _assistance(settle("liaocheng-2023", [CLAIM]).stdout)
    text = mine.read_text(encoding="utf-8")
    assert "value: 70%" in text or "70%" in text
    mine.write_text(text.replace("70%", "60%"), encoding="utf-8")
    after = _assistance(settle("liaocheng-2023", [CLAIM]).stdout)
    assert after != before


def test_a_file_that_now_comes_first_on_the_search_path_is_used(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "policies"
    local.mkdir()
    monkeypatch.setenv("JIUZHU_POLICY_PATH", str(local))
    before = _assistance(settle("liaocheng-2023", [CLAIM]).stdout)
    shipped = (shipped_dir() / "liaocheng-2023.yaml").read_text(encoding="utf-8")
    (local / "liaocheng-2023.yaml").write_text(shipped.replace("70%", "60%"), encoding="utf-8")
    assert _assistance(settle("liaocheng-2023", [CLAIM]).stdout) != before


SIXTY = "benefits.medical_assistance.schedules.key_groups.rate=60%"


def test_set_values_are_kept_apart(cache: Path) -> None:
    plain = settle("liaocheng-2023", [CLAIM])
    changed = settle("liaocheng-2023", [CLAIM], "--set", SIXTY)
    assert "注意：政策 liaocheng-2023 按调整后的取值使用" in changed.stderr
    assert _assistance(changed.stdout) != _assistance(plain.stdout)
    again = settle("liaocheng-2023", [CLAIM], "--set", SIXTY)
    assert again.stdout == changed.stdout and again.stderr == changed.stderr
    assert settle("liaocheng-2023", [CLAIM]).stdout == plain.stdout


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch " + os.environ["BOOM"],))


def test_a_planted_pickle_runs_nothing(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keep()
    [entry] = cache.glob("policy-*.pickle")
    boom = tmp_path / "boom"
    monkeypatch.setenv("BOOM", str(boom))
    entry.write_bytes(pickle.dumps((policy_cache.FORMAT, [], [], _Boom())))
    assert policy_cache.kept("liaocheng-2023", [], []) is None
    assert not boom.exists()
    assert settle("liaocheng-2023", [CLAIM]).code == 0  # read from the files, and kept again
    assert policy_cache.kept("liaocheng-2023", [], []) is not None


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + len(data).to_bytes(4, "little") + data


def test_a_dotted_name_cannot_walk_to_a_function(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Protocol 4 resolves dotted names, so ``module`` + ``np.….attrgetter`` once reached
    ``eval`` through a class's ``__init__.__globals__`` (found by a review)."""
    _keep()
    [entry] = cache.glob("policy-*.pickle")
    boom = tmp_path / "boom"
    batch = "jiuzhu.domain.engine.batch"
    caller = _global(batch, "np._core.arrayprint.operator.methodcaller")
    payload = (
        b"\x80\x04"
        + caller
        + _text("get")
        + _text("eval")
        + b"\x86R"
        + caller
        + _text("get")
        + _text("__builtins__")
        + b"\x86R"
        + _global(batch, "np._core.arrayprint.operator.attrgetter")
        + _text("__init__.__globals__")
        + b"\x85R"
        + _global("jiuzhu.domain.engine.rules", "CompiledPolicy")
        + b"\x85R\x85R\x85R"
        + _text(f"__import__('os').system('touch {boom}')")
        + b"\x85R."
    )
    entry.write_bytes(payload)
    assert policy_cache.kept("liaocheng-2023", [], []) is None
    assert not boom.exists()
    for module, name in [
        (batch, "np._core.arrayprint.operator.attrgetter"),
        ("jiuzhu.domain.engine.rules", "CompiledPolicy.__init__"),
        ("jiuzhu.domain.engine.rules", "resolve"),  # a function, not a class
        ("jiuzhu.domain.engine.rules", "Claim"),  # a class imported there, defined elsewhere
        ("os", "system"),
    ]:
        entry.write_bytes(b"\x80\x04" + _global(module, name) + b".")
        assert policy_cache.kept("liaocheng-2023", [], []) is None, (module, name)


def test_another_spelling_of_a_policy_file_is_read_as_that_spelling(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading follows the path as given (a file found again through a link to it is not
    itself), so a kept entry must not serve another spelling (found by a review: ten
    levels of ``extends`` were refused through a link and served from the cache)."""
    first, chain, links = tmp_path / "d", tmp_path / "p", tmp_path / "e"
    for d in (first, chain, links):
        d.mkdir()
    monkeypatch.setenv("JIUZHU_POLICY_PATH", f"{first}{os.pathsep}{chain}")
    (first / "a0.yaml").write_text("extends: a0\n", encoding="utf-8")  # the next a0: chain's
    (chain / "a0.yaml").write_text("extends: a2\n", encoding="utf-8")
    for i in range(2, 8):
        (chain / f"a{i}.yaml").write_text(f"extends: a{i + 1}\n", encoding="utf-8")
    (chain / "a8.yaml").write_text("extends: liaocheng-2023\n", encoding="utf-8")
    (links / "a0.yaml").symlink_to(first / "a0.yaml")
    direct = settle(str(first / "a0.yaml"), [CLAIM])
    assert direct.code == 0, direct.stderr  # and kept
    linked = settle(str(links / "a0.yaml"), [CLAIM])
    assert linked.code != 0 and "extends 嵌套过深" in linked.stderr  # finds itself once more
    monkeypatch.setenv("JIUZHU_CACHE_DIR", "")
    assert settle(str(links / "a0.yaml"), [CLAIM]) == linked
    assert settle(str(first / "a0.yaml"), [CLAIM]) == direct


def test_an_entry_others_can_write_is_not_trusted(cache: Path) -> None:
    _keep()
    [entry] = cache.glob("policy-*.pickle")
    entry.chmod(0o666)
    assert policy_cache.kept("liaocheng-2023", [], []) is None
    entry.chmod(0o600)
    assert policy_cache.kept("liaocheng-2023", [], []) is not None


def test_a_broken_entry_is_a_miss(cache: Path) -> None:
    _keep()
    [entry] = cache.glob("policy-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert policy_cache.kept("liaocheng-2023", [], []) is None
    entry.write_bytes(pickle.dumps(("another format",)))
    assert policy_cache.kept("liaocheng-2023", [], []) is None


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    run = run_process(
        ["settle", "-p", "liaocheng-2023", "-i", "-"],
        json.dumps(CLAIM),
        env={"JIUZHU_CACHE_DIR": "", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)},
    )
    assert run.code == 0, run.stderr
    assert not list(tmp_path.rglob("policy-*.pickle"))


def test_an_unwritable_cache_directory_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    run = run_process(
        ["settle", "-p", "liaocheng-2023", "-i", "-"],
        json.dumps(CLAIM),
        env={"JIUZHU_CACHE_DIR": str(blocked / "cache")},
    )
    assert run.code == 0, run.stderr
    assert run.stderr == ""


def test_old_entries_are_pruned(cache: Path) -> None:
    for i in range(policy_cache.KEEP + 3):
        with recording() as reading:
            compiled = load_compiled("liaocheng-2023", [], [])
        policy_cache.keep("liaocheng-2023", [], [f"x={i}"], reading, compiled)
    assert len(list(cache.glob("policy-*.pickle"))) == policy_cache.KEEP


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service account may have no home: the policy is then read from its files."""
    monkeypatch.delenv("JIUZHU_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("no home")

    monkeypatch.setattr(Path, "home", no_home)
    assert policy_cache.cache_dir() is None
    assert policy_cache.kept("liaocheng-2023", [], []) is None
    assert settle("liaocheng-2023", [CLAIM]).code == 0


def test_the_cache_lives_under_the_users_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JIUZHU_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert policy_cache.cache_dir() == tmp_path / "jiuzhu"
