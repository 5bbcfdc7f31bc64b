"""Widen ``audit_log.target`` from 64 to 255 characters.

``client:{name}`` (a token's audit target) is up to 71 characters for a client name of
64; PostgreSQL refused such an entry, and with it the token's creation. On PostgreSQL a
wider ``varchar`` is a catalog-only change (no rewrite, no row trigger of the
append-only log fires). SQLite does not enforce the length, but the declared type is
kept true to the model: the table is rebuilt (rows copied as they are) with its
append-only triggers dropped for the copy and created again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


_SQLITE_EVENTS = ("UPDATE", "DELETE")


def _target(length: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit_log", "target", type_=sa.String(length), existing_nullable=False)
        return
    for event in _SQLITE_EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event.lower()}")
    with op.batch_alter_table("audit_log", recreate="always") as batch:
        batch.alter_column("target", type_=sa.String(length), existing_nullable=False)
    for event in _SQLITE_EVENTS:  # as revision 0002 made them
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def upgrade() -> None:
    _target(255)


def downgrade() -> None:
    _target(64)
