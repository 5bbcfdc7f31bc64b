"""Guard: the PostgreSQL the database tests are pointed at is real and reachable.

The database tests run on SQLite always and on PostgreSQL when
``JIUZHU_TEST_POSTGRES_URL`` is set (``tools/pg-test-server start`` prints one). CI also
sets ``JIUZHU_REQUIRE_POSTGRES=1``, so that a missing URL or a dead server fails here
instead of the PostgreSQL runs being skipped without anyone noticing.
"""

from __future__ import annotations

import os
import re

import pytest

URL_ENV = "JIUZHU_TEST_POSTGRES_URL"
REQUIRE_ENV = "JIUZHU_REQUIRE_POSTGRES"
MIN_SERVER_VERSION = 130000  # PostgreSQL 13, as server_version_num


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://u@h:p/db`` -> ``postgresql://u@h:p/db`` (what libpq reads)."""
    return re.sub(r"^(postgres(?:ql)?)\+[A-Za-z0-9_]+://", r"\1://", sqlalchemy_url)


def test_libpq_url_drops_the_sqlalchemy_driver() -> None:
    assert (
        libpq_url("postgresql+psycopg://jiuzhu@127.0.0.1:54329/jiuzhu_test")
        == "postgresql://jiuzhu@127.0.0.1:54329/jiuzhu_test"
    )
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_postgres_server_is_reachable() -> None:
    url = os.environ.get(URL_ENV, "").strip()
    required = os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0")
    if not url:
        if required:
            pytest.fail(
                f"{REQUIRE_ENV}=1 but {URL_ENV} is not set: the database tests would skip "
                "PostgreSQL (run `export "
                f"{URL_ENV}=$(tools/pg-test-server start)`)",
                pytrace=False,
            )
        pytest.skip(
            f"{URL_ENV} not set: database tests run on SQLite only "
            f"(`export {URL_ENV}=$(tools/pg-test-server start)` adds PostgreSQL)"
        )

    import psycopg

    try:
        with (
            psycopg.connect(libpq_url(url), connect_timeout=10) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("SELECT version(), current_setting('server_version_num')::int")
            row = cur.fetchone()
    except psycopg.OperationalError as exc:
        pytest.fail(f"cannot connect to {URL_ENV}={url}: {exc}", pytrace=False)

    assert row is not None
    version, version_num = row
    assert str(version).startswith("PostgreSQL "), version
    assert int(version_num) >= MIN_SERVER_VERSION, f"PostgreSQL >= 13 needed, got {version}"
