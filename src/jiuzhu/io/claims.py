"""Read claims (JSON objects, one per line) into validated domain ``Claim``s.

Every problem is reported with the line, the claim and the field, and a bad
claim never stops the good ones: ``parse_lines`` returns both.

A record in the contract's common plain shapes is read without pydantic
(``io/claim_plain.py``); any other goes through the pydantic contract
(``io/claim_contract.py``, imported then), which words every error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jiuzhu.domain.claims import Claim
from jiuzhu.io.claim_fields import (
    BOTH_CATEGORIES,
    FIELD_ZH,
    MAX_CLAIM_FEN,
    SPAN_REVERSED,
    field_label,
    split_mismatch,
    unknown_category,
    unknown_visit,
)
from jiuzhu.io.claim_plain import read_plain
from jiuzhu.io.errors import JsonLineError, read_json_line

if TYPE_CHECKING:
    from jiuzhu.io.claim_contract import ClaimIn

__all__ = [
    "BOTH_CATEGORIES",
    "FIELD_ZH",
    "MAX_CLAIM_FEN",
    "SPAN_REVERSED",
    "ClaimIn",
    "InputError",
    "Parsed",
    "field_label",
    "parse_lines",
    "parse_record",
    "parse_records",
    "split_mismatch",
    "unknown_category",
    "unknown_visit",
]


def __getattr__(name: str) -> Any:
    """``ClaimIn`` is still importable from here, loading pydantic only when asked for."""
    if name == "ClaimIn":
        from jiuzhu.io.claim_contract import ClaimIn

        return ClaimIn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class InputError:
    """A record that was not settled, and why."""

    line: int
    claim_id: str | None
    field: str
    message: str

    def render(self) -> str:
        """``错误：第 3 行，单据 c3，字段 total（医疗总费用）：…`` (the line of a JSONL
        file, or the row of a table as the spreadsheet numbers it)."""
        who = f"单据 {self.claim_id}" if self.claim_id else "无单据号"
        where = f"，字段 {field_label(self.field)}" if self.field else ""
        return f"错误：第 {self.line} 行，{who}{where}：{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "claim_id": self.claim_id,
            "field": self.field,
            "message": self.message,
        }


def parse_record(data: Any, line: int) -> Claim | list[InputError]:
    """One decoded record: its ``Claim``, or every error in it, each naming the line."""
    if not isinstance(data, dict):
        return [InputError(line, None, "", "每行须为一个 JSON 对象")]
    plain = read_plain(data)
    if plain is not None:
        return plain
    from jiuzhu.io.claim_contract import validate  # pydantic: only for the unusual record

    result = validate(data)
    if isinstance(result, Claim):
        return result
    raw_id = data.get("claim_id")
    claim_id = raw_id if isinstance(raw_id, str) and raw_id else None
    return [InputError(line, claim_id, path, msg) for path, msg in result]


@dataclass(slots=True)
class Parsed:
    claims: list[tuple[int, Claim]]
    errors: list[InputError]


def parse_lines(lines: Iterable[str], complete: Callable[[Any], Any] | None = None) -> Parsed:
    """Parse JSONL. Blank lines are skipped; a repeated claim_id is an error for the repeat.
    ``complete``, when given, sees each decoded record before it is checked (the
    registry's categories for a claim that gives none: ``io/registry_categories.py``)."""
    decoded: list[tuple[int, Any]] = []
    errors: list[InputError] = []
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            decoded.append((n, read_json_line(text)))
        except JsonLineError as err:
            errors.append(InputError(n, None, "", err.reason))
    parsed = parse_records(decoded, complete)
    parsed.errors = sorted(errors + parsed.errors, key=lambda e: e.line)
    return parsed


def parse_records(
    records: Iterable[tuple[int, Any]], complete: Callable[[Any], Any] | None = None
) -> Parsed:
    """Check records already decoded (from JSON lines or the rows of a table), each with
    its line or row number; a repeated claim_id is an error for the repeat."""
    out = Parsed([], [])
    seen: dict[str, int] = {}
    for n, data in records:
        result = parse_record(data if complete is None else complete(data), n)
        if isinstance(result, list):
            out.errors.extend(result)
            continue
        if result.claim_id in seen:
            out.errors.append(
                InputError(
                    n,
                    result.claim_id,
                    "claim_id",
                    f"重复的 claim_id（与第 {seen[result.claim_id]} 行相同）",
                )
            )
            continue
        seen[result.claim_id] = n
        out.claims.append((n, result))
    return out
