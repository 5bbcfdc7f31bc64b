"""The registry: districts, households, persons, category memberships, roster imports.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_districts"),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("head_id_number", sa.String(18), nullable=False),
        sa.Column("head_name", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("township", sa.String(64), nullable=True),
        sa.Column("village", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name="fk_households_district_code_districts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_households"),
        sa.UniqueConstraint("head_id_number", name="uq_households_head_id_number"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name="fk_persons_household_id_households"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
        sa.UniqueConstraint("id_number", name="uq_persons_id_number"),
        sa.UniqueConstraint("public_id", name="uq_persons_public_id"),
    )
    op.create_table(
        "roster_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("layout", sa.String(16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_bad", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roster_imports"),
        sa.UniqueConstraint("sha256", name="uq_roster_imports_sha256"),
    )
    op.create_table(
        "category_memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("change_type", sa.String(32), nullable=True),
        sa.Column("source_file", sa.String(255), nullable=True),
        sa.Column("source_sha256", sa.String(64), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("certificate_number", sa.String(64), nullable=True),
        sa.Column("exit_date", sa.Date(), nullable=True),
        sa.Column("closed_file", sa.String(255), nullable=True),
        sa.Column("closed_sha256", sa.String(64), nullable=True),
        sa.Column("closed_row", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_category_memberships_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_category_memberships"),
        sa.UniqueConstraint(
            "person_id",
            "category",
            "valid_from",
            name="uq_category_memberships_person_id",
        ),
    )
    op.create_index("ix_category_memberships_person_id", "category_memberships", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_category_memberships_person_id", table_name="category_memberships")
    op.drop_table("category_memberships")
    op.drop_table("roster_imports")
    op.drop_table("persons")
    op.drop_table("households")
    op.drop_table("districts")
