"""How a use case says no: a ``Refused`` with a kind and the errors, each naming a field.

The kinds are the edge-neutral reasons; the HTTP API maps them to status codes
(``service/app.py``), the CLI to exit codes and messages.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    unauthenticated = "unauthenticated"  # 401
    forbidden = "forbidden"  # 403
    not_found = "not_found"  # 404
    conflict = "conflict"  # 409
    invalid = "invalid"  # 422
    throttled = "throttled"  # 429


class Refused(Exception):
    """A use case that cannot be done as asked. ``location``: where the thing that made
    it a conflict lives (the existing settlement of a repeated claim id);
    ``retry_after``: seconds, for a throttled caller."""

    def __init__(
        self,
        kind: Kind,
        field: str,
        message: str,
        *,
        location: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{kind.value} {field}: {message}")
        self.kind = kind
        self.errors = [{"field": field, "message": message}]
        self.location = location
        self.retry_after = retry_after

    @classmethod
    def many(cls, kind: Kind, errors: list[tuple[str, str]]) -> Refused:
        err = cls(kind, errors[0][0], errors[0][1])
        err.errors = [{"field": f, "message": m} for f, m in errors]
        return err
