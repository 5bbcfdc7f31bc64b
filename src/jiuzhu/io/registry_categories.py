"""A claim's categories from the registry, when the claim gives none.

The service does this for every claim a hospital sends (``service/settle.py``); ``jiuzhu
settle --registry`` does the same for a file of claims, so a bureau can settle a batch of
hospital claims against the registry it keeps. One rule for both: a claim without
``category``/``categories`` gets every membership the registry holds for the person, with
its validity dates (the engine keeps the one in force on the settlement date that pays
most, ADR 4); a person the registry does not know is ``ordinary``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from jiuzhu.domain.ids import validate_id
from jiuzhu.domain.registry import Membership
from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import MEMBERSHIP_COLUMNS, membership_from
from jiuzhu.storage.models import CategoryMembership, Person

CHUNK = 1000  # ID numbers per query (well under every database's parameter limit)


def category_spans(held: Iterable[Membership]) -> list[dict[str, Any]]:
    """Memberships as the claim contract's ``categories`` (``ordinary`` when none).

    A membership that ended on the day it began (entered and left the same day: the
    exit day is the first without it, 晋医保发〔2019〕46号 三(十)) was never in force and is
    left out."""
    spans = [span_of(m) for m in held if m.valid_to is None or m.valid_to >= m.valid_from]
    return spans or [{"category": Category.ordinary.value}]


def span_of(m: Membership) -> dict[str, Any]:
    """One membership as a span of the claim contract; one identified on application
    carries its application date (``applied_on``: where 聊城's look-back counts from)."""
    span: dict[str, Any] = {
        "category": m.category.value,
        "valid_from": m.valid_from.isoformat(),
        "valid_to": None if m.valid_to is None else m.valid_to.isoformat(),
    }
    if m.applied_on is not None:
        span["applied_on"] = m.applied_on.isoformat()
    return span


def gives_no_category(record: Any) -> bool:
    return isinstance(record, dict) and "category" not in record and "categories" not in record


def _id_of(record: dict[str, Any]) -> str | None:
    raw = record.get("person_id")
    if not isinstance(raw, str) or validate_id(raw):
        return None  # the claim's own check names the problem
    return raw.strip().upper()


class RegistryCategories:
    """Fills in categories from one registry database; memberships are read in bulk first
    (``prefetch``), so a file of claims costs a query per thousand people, not per claim."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held: dict[str, list[Membership]] = {}
        self.filled = 0

    def prefetch(self, records: Iterable[Any]) -> None:
        wanted = sorted(
            {i for r in records if gives_no_category(r) and (i := _id_of(r)) is not None}
        )
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                rows = conn.execute(
                    select(Person.id_number, *MEMBERSHIP_COLUMNS)
                    .join(CategoryMembership, CategoryMembership.person_id == Person.id)
                    .where(Person.id_number.in_(wanted[start : start + CHUNK]))
                    .order_by(Person.id_number, CategoryMembership.valid_from)
                )
                for row in rows:
                    self.held.setdefault(row.id_number, []).append(membership_from(row))

    def __call__(self, record: Any) -> Any:
        if not gives_no_category(record):
            return record
        id_number = _id_of(record)
        if id_number is None:
            return record
        self.filled += 1
        return {**record, "categories": category_spans(self.held.get(id_number, []))}
