"""Applications (依申请救助): the procedure's records, the papers, the money they decide.

- ``applications``: one per person and kind, in one state of the procedure
  (``policies/procedure/applications.yaml``), with a version every step bumps (a concurrent
  edit is refused), ``open_key`` (one open application per person and kind) and
  ``bill_key`` (a 零星报销 bill's issuer and number, reimbursed once).
- ``application_events``: the history, every step with who, when and the opinion.
- ``application_documents`` (the checklist's papers as uploaded, by SHA-256),
  ``home_visits`` (入户调查), ``publicities`` and ``publicity_objections`` (公示).
- ``assessments`` (核定救助金额: the engine's plan and explanation), ``claim_reviews`` (the
  approvals of stored claims for a benefit the desk does not pay), ``payment_instructions``
  and ``payments`` (kept for the fund accounts), ``notices`` (refusal and approval papers,
  numbered by ``serial_counters`` per issuer and year).
- ``category_memberships.applied_on`` and ``source_application``: a category identified on
  application, with the application date its look-back counts from.

Records are append-only: triggers refuse ``UPDATE`` and ``DELETE`` on the history, the
papers, visits, publicities, assessments, approvals of claims, payment instructions,
payments and notices (an objection is resolved once, in place).

Revision ID: 0005_applications
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_applications"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
APPEND_ONLY = (
    "application_events",
    "application_documents",
    "home_visits",
    "publicities",
    "assessments",
    "claim_reviews",
    "payment_instructions",
    "payments",
    "notices",
)
TABLES = (
    "publicity_objections",
    "payments",
    "claim_reviews",
    "publicities",
    "payment_instructions",
    "notices",
    "home_visits",
    "assessments",
    "application_events",
    "application_documents",
    "applications",
    "serial_counters",
)


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _tables() -> None:
    op.create_table(
        "serial_counters",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "year", "kind", name="pk_serial_counters"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("applicant_name", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("open_key", sa.String(length=120), nullable=True),
        sa.Column("bill_key", sa.String(length=200), nullable=True),
        sa.Column("bill", sa.JSON(), nullable=True),
        sa.Column("account", sa.JSON(), nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_applications_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.UniqueConstraint("bill_key", name="uq_applications_bill_key"),
        sa.UniqueConstraint("number", name="uq_applications_number"),
        sa.UniqueConstraint("open_key", name="uq_applications_open_key"),
        sa.UniqueConstraint("public_id", name="uq_applications_public_id"),
    )
    op.create_index(
        ("ix_applications_district_code"), "applications", ["district_code"], unique=False
    )
    op.create_index(("ix_applications_person_id"), "applications", ["person_id"], unique=False)
    op.create_table(
        "application_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_documents_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_application_documents"),
        sa.UniqueConstraint("public_id", name="uq_application_documents_public_id"),
    )
    op.create_index(
        ("ix_application_documents_application_id"),
        "application_documents",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "application_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("opinion", sa.String(length=1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_events_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_application_events"),
    )
    op.create_index(
        ("ix_application_events_application_id"),
        "application_events",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("identified_on", sa.Date(), nullable=True),
        sa.Column("selections", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_assessments_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
        sa.UniqueConstraint("public_id", name="uq_assessments_public_id"),
    )
    op.create_index(
        ("ix_assessments_application_id"), "assessments", ["application_id"], unique=False
    )
    op.create_table(
        "home_visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("investigators", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("income_fen", sa.BigInteger(), nullable=False),
        sa.Column("assets", sa.String(length=1000), nullable=False),
        sa.Column("illness", sa.String(length=1000), nullable=False),
        sa.Column("opinion", sa.String(length=1000), nullable=False),
        sa.Column("witness_name", sa.String(length=64), nullable=False),
        sa.Column("witness_title", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_home_visits_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_home_visits"),
    )
    op.create_index(
        ("ix_home_visits_application_id"), "home_visits", ["application_id"], unique=False
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name="fk_notices_application_id_applications"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("public_id", name="uq_notices_public_id"),
        sa.UniqueConstraint("scope", "year", "kind", "number", name="uq_notices_scope"),
    )
    op.create_index(("ix_notices_application_id"), "notices", ["application_id"], unique=False)
    op.create_table(
        "payment_instructions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("payee_kind", sa.String(length=16), nullable=False),
        sa.Column("payee_name", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_payment_instructions_application_id_applications",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_clients.id"],
            name="fk_payment_instructions_client_id_api_clients",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_instructions"),
        sa.UniqueConstraint("public_id", name="uq_payment_instructions_public_id"),
    )
    op.create_index(
        ("ix_payment_instructions_application_id"),
        "payment_instructions",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "publicities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_publicities_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_publicities"),
    )
    op.create_index(
        ("ix_publicities_application_id"), "publicities", ["application_id"], unique=False
    )
    op.create_table(
        "claim_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("settlement_seq", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("benefit", sa.String(length=32), nullable=False),
        sa.Column("accepted_fen", sa.BigInteger(), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_claim_reviews_application_id_applications",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_claim_reviews_person_id_persons"
        ),
        sa.ForeignKeyConstraint(
            ["settlement_seq"],
            ["settlements.seq"],
            name="fk_claim_reviews_settlement_seq_settlements",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claim_reviews"),
        sa.UniqueConstraint("settlement_seq", "benefit", name="uq_claim_reviews_settlement_seq"),
    )
    op.create_index(
        ("ix_claim_reviews_application_id"), "claim_reviews", ["application_id"], unique=False
    )
    op.create_index(("ix_claim_reviews_person_id"), "claim_reviews", ["person_id"], unique=False)
    op.create_index(
        ("ix_claim_reviews_settlement_seq"), "claim_reviews", ["settlement_seq"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.JSON(), nullable=False),
        sa.Column("voucher", sa.String(length=64), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("paid_by", sa.String(length=64), nullable=False),
        sa.Column("paid_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name="fk_payments_instruction_id_payment_instructions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("instruction_id", name="uq_payments_instruction_id"),
    )
    op.create_table(
        "publicity_objections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("publicity_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.Column("resolution", sa.String(length=1000), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["publicity_id"],
            ["publicities.id"],
            name="fk_publicity_objections_publicity_id_publicities",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_publicity_objections"),
        sa.UniqueConstraint("public_id", name="uq_publicity_objections_public_id"),
    )
    op.create_index(
        ("ix_publicity_objections_publicity_id"),
        "publicity_objections",
        ["publicity_id"],
        unique=False,
    )
    with op.batch_alter_table("category_memberships") as batch:
        batch.add_column(sa.Column("applied_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("source_application", sa.String(32), nullable=True))


def _append_only() -> None:
    if _pg():
        op.execute(
            "CREATE FUNCTION jiuzhu_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION jiuzhu_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def upgrade() -> None:
    _tables()
    _append_only()


def downgrade() -> None:
    if _pg():
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_append_only()")
    for table in TABLES:
        op.drop_table(table)
    with op.batch_alter_table("category_memberships") as batch:
        batch.drop_column("source_application")
        batch.drop_column("applied_on")
