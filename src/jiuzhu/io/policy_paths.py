"""Where policy files are, and a record of what reading one looked at.

Finding a file needs no YAML, so this module imports none: the compiled-policy cache
(``policy_cache``) asks it again, on every start, whether the same files would be found
and hold the same bytes before it trusts what it kept (ADR 21).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

POLICY_PATH_ENV = "JIUZHU_POLICY_PATH"


class PolicyFileError(Exception):
    """A policy that cannot be used; ``problems`` are (path inside the file, message)."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {path or '(根)'}: {msg}" for path, msg in self.problems]
        super().__init__("\n".join(lines))


@dataclass
class Reading:
    """What reading a policy looked at: each search (its arguments and the file it found,
    or None) and each file read (its path and the SHA-256 of its bytes)."""

    searches: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)


_reading: ContextVar[Reading | None] = ContextVar("policy_reading", default=None)


@contextmanager
def recording() -> Iterator[Reading]:
    """Record the searches and reads of the policy files inside the block."""
    reading = Reading()
    token = _reading.set(reading)
    try:
        yield reading
    finally:
        _reading.reset(token)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """A policy file's bytes (recorded when a reading is being recorded)."""
    data = path.read_bytes()
    reading = _reading.get()
    if reading is not None:
        reading.files.append((str(path), digest(data)))
    return data


def shipped_dir() -> Path:
    """The policies installed with jiuzhu (a directory of the package: jiuzhu is installed
    unzipped, and ``importlib.resources`` with its zip support costs ~4 ms at start)."""
    return Path(__file__).resolve().parent.parent / "policies"


def search_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(POLICY_PATH_ENV, "").split(os.pathsep) if p]
    return [*extra, shipped_dir()]


def shipped_ids() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def find(kind: str, name: str, skip: str | None = None) -> Path | None:
    """The first file of the search path for a policy (``kind`` "policy") or a province
    framework ("framework") called ``name``, other than ``skip``; None if there is none."""
    skipped = Path(skip) if skip is not None else None
    found: Path | None = None
    for d in search_dirs():
        candidate = d / f"{name}.yaml" if kind == "policy" else d / f"{kind}s" / f"{name}.yaml"
        if candidate.is_file() and candidate != skipped:
            found = candidate
            break
    reading = _reading.get()
    if reading is not None:
        reading.searches.append((kind, name, skip, None if found is None else str(found)))
    return found


def locate(policy_id: str, skip: Path | None = None) -> Path:
    found = find("policy", policy_id, None if skip is None else str(skip))
    if found is None:
        known = "、".join(shipped_ids())
        raise PolicyFileError(policy_id, [("", f"未知的政策 {policy_id!r}（已有：{known}）")])
    return found
