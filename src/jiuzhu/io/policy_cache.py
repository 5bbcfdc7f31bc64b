"""A compiled policy kept for the next run, so a one-claim ``settle`` starts fast.

Reading a policy means YAML, pydantic's validator and compiling the schedules: with
their imports, about half of a one-claim settlement's start (docs/performance.md,
"Start-up"). A command that read and checked a policy keeps the compiled result in the
user's cache directory; the next run with the same arguments finds it, asks
``policy_paths`` again whether each search finds the same file and each file read still
has the same bytes (SHA-256), and uses it without YAML or pydantic (ADR 21).

The key also covers jiuzhu's own code (the size and modification time of the modules the
compiled form depends on), so a changed engine never meets a policy compiled by the old
one. The file is a pickle read by an unpickler that builds only the domain's classes and
dates, from a directory only its owner can write; anything unexpected (absent, stale,
unreadable, another owner, another format) is a miss, and the policy is read from its
files as if there were no cache. ``JIUZHU_CACHE_DIR`` moves the directory; set empty,
it turns the cache off.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jiuzhu.io import policy_paths
from jiuzhu.io.policy_paths import POLICY_PATH_ENV, Reading

if TYPE_CHECKING:
    from jiuzhu.domain.engine.rules import CompiledPolicy

CACHE_DIR_ENV = "JIUZHU_CACHE_DIR"
FORMAT = 1
KEEP = 32
"""Entries kept; older ones are removed when a new one is written."""

_CODE = ("domain", "io/policy_files.py", "io/policy_paths.py", "io/policy_cache.py")
"""jiuzhu's modules (relative to the package) whose code the compiled form depends on."""


def cache_dir() -> Path | None:
    """Where compiled policies are kept, or None when the cache is off."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home directory (a service's account): no cache
            return None
    return Path(base) / "jiuzhu"


_LIBRARIES = ("pydantic", "pydantic_core", "yaml")
"""The libraries that read policy files: an upgrade of one is a change of the code."""


def _code_stamp() -> list[tuple[str, int, int]]:
    import importlib.util

    package = Path(__file__).resolve().parent.parent
    stamp = []
    for library in _LIBRARIES:
        spec = importlib.util.find_spec(library)  # found, not imported
        if spec is not None and spec.origin:
            st = os.stat(spec.origin)
            stamp.append((library, st.st_size, st.st_mtime_ns))
    for part in _CODE:
        where = package / part
        files = sorted(where.rglob("*.py")) if where.is_dir() else [where]
        for f in files:
            st = f.stat()
            stamp.append((str(f.relative_to(package)), st.st_size, st.st_mtime_ns))
    return stamp


def _key(ref: str, overrides: Sequence[str | Path], sets: Sequence[str]) -> str:
    """The entry's name: the arguments as given and resolved, the search path, the code."""
    # absolute, but spelled as given: reading follows the spelling (a file found again
    # through a link to it is not skipped as itself), so another spelling is another entry
    given_ref = os.path.abspath(ref) if ref.endswith((".yaml", ".yml")) else ref
    parts = [
        FORMAT,
        given_ref,
        [os.path.abspath(o) for o in overrides],
        list(sets),
        os.environ.get(POLICY_PATH_ENV, ""),
        _code_stamp(),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


_MODULES = frozenset(
    {
        "jiuzhu.domain.engine.rules",
        "jiuzhu.domain.piecewise",
        "jiuzhu.domain.policy.model",
        "jiuzhu.domain.policy.params",
        "jiuzhu.domain.states",
        "jiuzhu.domain.vocabulary",
    }
)
"""The modules whose classes a compiled policy is made of."""


class _DomainOnly(pickle.Unpickler):
    """Builds a compiled policy's classes and dates, nothing else.

    Only a class defined in one of ``_MODULES`` (by its plain name: a dotted name could
    walk from a module to anything it imports) that is a dataclass, an enumeration or the
    compiled policy itself; so nothing but their constructors can be called."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name == "date":
            return super().find_class(module, name)
        if module in _MODULES and "." not in name:
            import dataclasses
            import enum

            from jiuzhu.domain.engine.rules import CompiledPolicy

            found = super().find_class(module, name)
            if (
                isinstance(found, type)
                and found.__module__ == module
                and (
                    dataclasses.is_dataclass(found)
                    or issubclass(found, enum.Enum)
                    or found is CompiledPolicy
                )
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name}")


def _owned(path: Path) -> bool:
    """Ours and writable by nobody else (so nobody else chose what we unpickle)."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _still_true(reading: Reading) -> bool:
    """Each search finds the same file again, and each file read has the same bytes."""
    for kind, name, skip, found in reading.searches:
        now = policy_paths.find(kind, name, skip)
        if (None if now is None else str(now)) != found:
            return False
    for path, digest in reading.files:
        try:
            if policy_paths.digest(Path(path).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def kept(ref: str, overrides: Sequence[str | Path], sets: Sequence[str]) -> CompiledPolicy | None:
    """The compiled policy kept for these arguments, if it still holds; else None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        path = folder / f"policy-{_key(ref, overrides, sets)}.pickle"
        if not (_owned(folder) and _owned(path)):
            return None
        entry = _DomainOnly(io.BytesIO(path.read_bytes())).load()
    except Exception:  # any unreadable entry is a miss, never an error
        return None
    from jiuzhu.domain.engine.rules import CompiledPolicy

    if not isinstance(entry, tuple) or len(entry) != 4 or entry[0] != FORMAT:
        return None
    _, searches, files, compiled = entry
    if not isinstance(compiled, CompiledPolicy):
        return None
    return compiled if _still_true(Reading(list(searches), list(files))) else None


def keep(
    ref: str,
    overrides: Sequence[str | Path],
    sets: Sequence[str],
    reading: Reading,
    compiled: CompiledPolicy,
) -> None:
    """Keep a compiled policy (that met its framework) for the next run; never fails."""
    folder = cache_dir()
    if folder is None:
        return
    import tempfile  # only when keeping (~2 ms of imports a hit need not pay)

    entry = (FORMAT, reading.searches, reading.files, compiled)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid == os.getuid():
            folder.chmod(0o700)  # made group-writable (umask 002, by hand): ours again
        if not _owned(folder):
            return
        data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".policy-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, folder / f"policy-{_key(ref, overrides, sets)}.pickle")
        _prune(folder)
    except Exception:  # a cache that cannot be written is no error: the next run reads the files
        return


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("policy-*.pickle"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-KEEP]:
        old.unlink(missing_ok=True)
