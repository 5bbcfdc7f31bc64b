"""The policies the pages show: every shipped policy, and the one the service applies.

Policies are public documents, so their pages need no login. The service may apply a
policy file of the bureau's own (``jiuzhu serve --policy FILE``, local values replacing
assumed ones): its page then shows those values, under its own ID, and the values that
differ from the published file. Only these IDs are ever loaded: an address never names
a file.

Each policy is loaded and summarised (``domain.policy.summary``, the same words as
``jiuzhu policy show``) on its first request and kept: policy files do not change while
the service runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.policy.summary import Summary, summarize
from jiuzhu.io.policy_files import load_compiled, shipped_ids


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One policy as its pages show it."""

    compiled: CompiledPolicy
    summary: Summary
    served: bool
    """The policy this service settles under."""

    @property
    def assumed(self) -> int:
        """How many of its values are assumed (a value the document leaves to local rules)."""
        return sum(1 for p in self.summary.params if p.note is not None)

    @property
    def period(self) -> str:
        eff = self.compiled.policy.effective
        return f"{eff.start} 至 {eff.end}" if eff.end else f"{eff.start} 起"


class Catalogue:
    """The shipped policies and the served one, by ID, loaded when first asked for."""

    def __init__(self, served: CompiledPolicy) -> None:
        self._served = served
        shipped = shipped_ids()
        sid = served.policy.id
        self.ids: list[str] = [*shipped, *([] if sid in shipped else [sid])]
        self._entries: dict[str, PolicyEntry] = {}
        self._lock = threading.Lock()

    @property
    def served_id(self) -> str:
        return self._served.policy.id

    def get(self, policy_id: str) -> PolicyEntry | None:
        """The policy of this ID, or None when there is no such policy here."""
        if policy_id not in self.ids:
            return None
        with self._lock:
            entry = self._entries.get(policy_id)
            if entry is None:
                served = policy_id == self.served_id
                compiled = self._served if served else load_compiled(policy_id)
                entry = PolicyEntry(compiled, summarize(compiled), served)
                self._entries[policy_id] = entry
            return entry

    def all(self) -> list[PolicyEntry]:
        return [e for e in map(self.get, self.ids) if e is not None]
