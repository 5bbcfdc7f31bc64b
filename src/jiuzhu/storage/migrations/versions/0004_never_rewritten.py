"""Settlements never rewritten, hardened authentication, a tamper-evident audit log.

- ``reversals``, ``resettlements``, ``adjustments``: a reversal is its own record and a
  re-settlement writes adjustments (补付/追回 per claim and benefit) instead of changing
  settlements. Settlements reversed under revision 0002 get a reversal record (their
  reason was never asked for: it says so); amounts rewritten in place then stay as they
  are (the old values are in the audit log's ``settlement.reverse`` details).
- ``claims.client_id``, unique with ``claim_ref``: a hospital's claim ids are its own and
  unique. A database holding the same claim id twice from one hospital is refused with
  the ids to resolve.
- ``api_tokens.expires_at`` (existing tokens: 90 days from this migration) and
  ``auth_failures`` (failed authentications per client address, for throttling).
- ``audit_log.hash`` and ``audit_head``: every row chained to the one before
  (``storage/audit_chain.py``); existing rows are chained here, in id order, with the
  append-only triggers lifted for that one update and put back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from alembic import op

from jiuzhu.storage.audit_chain import GENESIS, link, rest_of

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
LEGACY_LIFETIME = dt.timedelta(days=90)
_SQLITE_EVENTS = ("UPDATE", "DELETE")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _claims_client() -> None:
    bind = op.get_bind()
    if not _pg():
        _sqlite_foreign_keys(False)
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE claims SET client_id = "
            "(SELECT s.client_id FROM settlements s WHERE s.claim_id = claims.id)"
        )
    )
    orphans = bind.execute(sa.text("SELECT count(*) FROM claims WHERE client_id IS NULL"))
    if orphans.scalar_one():
        bind.execute(sa.text("DELETE FROM claims WHERE client_id IS NULL"))  # never settled
    dupes = bind.execute(
        sa.text(
            "SELECT client_id, claim_ref, count(*) FROM claims GROUP BY client_id, claim_ref"
            " HAVING count(*) > 1"
        )
    ).all()
    if dupes:
        listed = "; ".join(f"client {c} claim {r!r} × {n}" for c, r, n in dupes[:20])
        raise RuntimeError(
            "revision 0004 makes claim ids unique per hospital, and this database holds"
            f" {len(dupes)} repeated ones: {listed}"
        )
    with op.batch_alter_table("claims") as batch:
        batch.alter_column("client_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_claims_client_id_api_clients", "api_clients", ["client_id"], ["id"]
        )
        batch.create_unique_constraint("uq_claims_client_id", ["client_id", "claim_ref"])
    if not _pg():
        broken = bind.execute(sa.text("PRAGMA foreign_key_check")).all()
        _sqlite_foreign_keys(True)
        if broken:
            raise RuntimeError(f"revision 0004: foreign keys broken by the rebuild: {broken[:5]}")


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds ``claims`` (copy, drop, rename) while ``settlements`` refers to it;
    the drop fails with foreign keys on. ``PRAGMA foreign_keys`` is ignored inside a
    transaction, so the one open is committed first (SQLite runs DDL outside transactions
    anyway: its migrations were never atomic), and the check is put back after."""
    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    if raw.in_transaction:
        raw.commit()
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _tables() -> None:
    op.create_table(
        "reversals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("settlement_seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("adjusted_claims", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_seq"], ["settlements.seq"], name="fk_reversals_settlement_seq_settlements"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name="fk_reversals_client_id_api_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reversals"),
        sa.UniqueConstraint("public_id", name="uq_reversals_public_id"),
        sa.UniqueConstraint("settlement_seq", name="uq_reversals_settlement_seq"),
    )
    op.create_table(
        "resettlements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("cause_kind", sa.String(32), nullable=False),
        sa.Column("cause_ref", sa.String(64), nullable=False),
        sa.Column("cause_text", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_resettlements_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resettlements"),
        sa.UniqueConstraint("public_id", name="uq_resettlements_public_id"),
    )
    op.create_index("ix_resettlements_person_id", "resettlements", ["person_id"])
    op.create_table(
        "adjustments",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("resettlement_id", sa.Integer(), nullable=False),
        sa.Column("settlement_seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("benefit", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("before_fen", sa.BigInteger(), nullable=False),
        sa.Column("after_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["resettlement_id"],
            ["resettlements.id"],
            name="fk_adjustments_resettlement_id_resettlements",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_seq"],
            ["settlements.seq"],
            name="fk_adjustments_settlement_seq_settlements",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name="fk_adjustments_client_id_api_clients"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_adjustments_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_adjustments"),
        sa.UniqueConstraint("public_id", name="uq_adjustments_public_id"),
    )
    op.create_index("ix_adjustments_resettlement_id", "adjustments", ["resettlement_id"])
    op.create_index("ix_adjustments_settlement_seq", "adjustments", ["settlement_seq"])
    op.create_index("ix_adjustments_client_id", "adjustments", ["client_id"])
    op.create_table(
        "auth_failures",
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", _TS, nullable=False),
        sa.Column("blocked_until", _TS, nullable=True),
        sa.PrimaryKeyConstraint("address", name="pk_auth_failures"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", _TS, nullable=True))
    op.get_bind().execute(
        sa.text("UPDATE api_tokens SET expires_at = :at"),
        {"at": dt.datetime.now(dt.UTC) + LEGACY_LIFETIME},
    )


def _legacy_reversals() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT seq, client_id, result, reversed_at, created_at FROM settlements"
            " WHERE status = 'reversed'"
        )
    ).all()
    for seq, client_id, result, reversed_at, created_at in rows:
        data = json.loads(result) if isinstance(result, str) else result
        amounts = {k: v for k, v in data.items() if k not in ("lines", "person_id", "claim_id")}
        bind.execute(
            sa.text(
                "INSERT INTO reversals (public_id, settlement_seq, client_id, actor, role,"
                " reason, amounts, adjusted_claims, created_at) VALUES (:p, :s, :c, :a, :r,"
                " :why, :amounts, 0, :at)"
            ),
            {
                "p": uuid.uuid4().hex,
                "s": seq,
                "c": client_id,
                "a": "revision-0004",
                "r": "admin",
                "why": "撤销于修订 0004 之前，当时未要求填写原因",
                "amounts": json.dumps(amounts, ensure_ascii=False),
                "at": reversed_at or created_at,
            },
        )


def _chain_existing_rows() -> None:
    """Chain the rows already there; the triggers forbid the UPDATE, so they are lifted
    for it (inside this migration's transaction) and put back as revision 0002 made them."""
    bind = op.get_bind()
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    if _pg():
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        for event in _SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{event.lower()}")
    prev, last = GENESIS, 0
    rows = bind.execute(
        sa.text("SELECT id, at, actor, role, action, target, details FROM audit_log ORDER BY id")
    ).all()
    for row_id, at, actor, role, action, target, details in rows:
        if isinstance(at, str):  # SQLite through a plain text() query
            at = dt.datetime.fromisoformat(at)
        data = json.loads(details) if isinstance(details, str) else details
        prev = link(prev, row_id, rest_of(at, actor, role, action, target, data))
        bind.execute(
            sa.text("UPDATE audit_log SET hash = :h WHERE id = :i"), {"h": prev, "i": row_id}
        )
        last = row_id
    if _pg():
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        for event in _SQLITE_EVENTS:
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    bind.execute(
        sa.text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, :i, :h)"),
        {"i": last, "h": prev},
    )


def upgrade() -> None:
    _claims_client()
    _tables()
    _legacy_reversals()
    _chain_existing_rows()


def downgrade() -> None:
    raise NotImplementedError(
        "revision 0004 is not reversible: adjustments and reversals have no place in 0003"
    )
