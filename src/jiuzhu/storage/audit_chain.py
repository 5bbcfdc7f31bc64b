"""The audit log's hash chain: how a row's hash is made, and the statements that append.

Row ``n`` carries ``hash = sha256(hash of row n-1 ‖ "n|" ‖ rest)`` (hex), where ``rest`` is
the canonical JSON of ``[at, actor, role, action, target, details]`` (``at`` in UTC to the
microsecond). The first row links to ``GENESIS``. ``audit_head`` holds the last id and
hash; appending updates it and inserts the row in one transaction, so the chain follows
the ids and two appends never link to the same row.

On PostgreSQL the hash is computed by the database inside the one statement that bumps
the head and inserts the row (``sha256()``, PostgreSQL 11+), so the head's row lock is held
for as short a time as possible; on SQLite (one writer at a time anyway) by the same
function registered on each connection (``register_sqlite``). ``link`` is the one
definition both follow; ``jiuzhu audit verify`` recomputes with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import JSON, DateTime, TextClause, bindparam, text

GENESIS = "0" * 64
SQLITE_LINK = "jz_audit_link"


def utc_text(at: dt.datetime) -> str:
    """SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones."""
    utc = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rest_of(at: dt.datetime, actor: str, role: str, action: str, target: str, details: Any) -> str:
    return json.dumps(
        [utc_text(at), actor, role, action, target, details],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def link(prev: str, row_id: int, rest: str) -> str:
    return hashlib.sha256(f"{prev}{row_id}|{rest}".encode()).hexdigest()


def register_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """``jz_audit_link(prev, id, rest)`` on a SQLite connection (a ``connect`` listener)."""
    dbapi_connection.create_function(SQLITE_LINK, 3, link, deterministic=True)


PG_HEAD = (
    "head AS ("
    " UPDATE audit_head SET last_id = last_id + 1,"
    " last_hash = encode(sha256(convert_to("
    "last_hash || CAST(last_id + 1 AS text) || '|' || :rest, 'UTF8')), 'hex')"
    " WHERE id = 1 RETURNING last_id, last_hash)"
)
"""The common table expression that bumps the head; ``PG_INSERT`` follows it."""
PG_INSERT = (
    " INSERT INTO audit_log (id, at, actor, role, action, target, details, hash)"
    " SELECT last_id, :at, :actor, :role, :action, :target, CAST(:details AS json), last_hash"
    " FROM head RETURNING id"
)
PG_APPEND: TextClause = text(f"WITH {PG_HEAD}{PG_INSERT}").bindparams(
    bindparam("at", type_=DateTime(timezone=True)), bindparam("details", type_=JSON)
)

SQLITE_HEAD: TextClause = text(
    f"UPDATE audit_head SET last_id = last_id + 1, last_hash = {SQLITE_LINK}("
    "last_hash, last_id + 1, :rest) WHERE id = 1 RETURNING last_id, last_hash"
)
SQLITE_INSERT: TextClause = text(
    "INSERT INTO audit_log (id, at, actor, role, action, target, details, hash)"
    " VALUES (:id, :at, :actor, :role, :action, :target, :details, :hash)"
).bindparams(bindparam("at", type_=DateTime(timezone=True)), bindparam("details", type_=JSON))
