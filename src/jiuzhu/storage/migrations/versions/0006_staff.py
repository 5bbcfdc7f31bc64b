"""Staff accounts of the web pages and their sessions (issue 14, ADR 18).

- ``staff_users``: username, name, role and jurisdiction (as the API's clients), the
  Argon2id hash of the password, disabled rather than deleted; a hospital's account
  names its API client.
- ``staff_sessions``: one row per login, the cookie's token stored as its SHA-256.

Failed logins are counted in ``auth_failures`` (revision 0004), under keys of their own
(``login:USERNAME`` and ``web:ADDRESS``), so this revision adds no table for them.

It only adds tables; it follows the applications' revision (0005_applications).

Revision ID: 0006_staff
Revises: 0005_applications
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_staff"
down_revision = "0005_applications"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(6), nullable=False),
        sa.Column(
            "hospital_client_id",
            sa.Integer(),
            sa.ForeignKey("api_clients.id", name="fk_staff_users_hospital_client_id_api_clients"),
            nullable=True,
        ),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("password_changed_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("disabled_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("staff_users.id", name="fk_staff_sessions_user_id_staff_users"),
            nullable=False,
        ),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.UniqueConstraint("token_sha256", name="uq_staff_sessions_token_sha256"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
