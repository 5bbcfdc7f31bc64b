"""Database fixtures for the registry tests: every test runs on SQLite and, when
``JIUZHU_TEST_POSTGRES_URL`` is set, on PostgreSQL too, each in a fresh database
(a new SQLite file; a new, uniquely named PostgreSQL schema, dropped afterwards).

Import ``db_url`` into a test module to use it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from jiuzhu.domain.ids import check_digit

PG_ENV = "JIUZHU_TEST_POSTGRES_URL"
PG_SKIP = f"PostgreSQL not configured: set {PG_ENV}=postgresql+psycopg://user@host:port/db"


def head_revision() -> str:
    """The newest migration (what ``upgrade`` brings a database to)."""
    from alembic.script import ScriptDirectory

    from jiuzhu.storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


HEAD = head_revision()


def make_id(serial: int, region: str = "371502", birth: str = "19800101") -> str:
    """A valid 身份证号 (GB 11643 check digit computed)."""
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + check_digit(first17)


def broken_id(serial: int) -> str:
    """Shaped like an ID, with a wrong check digit."""
    good = make_id(serial)
    wrong = "0" if good[-1] != "0" else "1"
    return good[:17] + wrong


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP),
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    base = os.environ[PG_ENV]
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
