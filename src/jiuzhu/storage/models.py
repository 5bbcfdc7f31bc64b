"""The registry's tables (SQLAlchemy 2, typed ORM).

Each table is created by a migration in ``migrations/versions``; a later part of the
system (settlements, accumulators, audit log, tokens) adds its tables by a new
revision, never by editing ``0001``. Naming conventions make constraint names
stable, so later migrations can refer to them on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _public_id() -> str:
    return uuid.uuid4().hex


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class District(Base):
    """An administrative division by its GB/T 2260 code (6 digits)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))


class Household(Base):
    """A household (户) as a roster lists it, keyed by the head's ID number."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    head_id_number: Mapped[str] = mapped_column(String(18), unique=True)
    head_name: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    township: Mapped[str | None] = mapped_column(String(64))
    village: Mapped[str | None] = mapped_column(String(64))


class Person(Base):
    """A person. ``public_id`` is the stable internal identifier other parts refer to;
    the ID number (身份证号) is stored but shown only masked."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    memberships: Mapped[list[CategoryMembership]] = relationship(
        back_populates="person", order_by="CategoryMembership.valid_from"
    )


class RosterImport(Base):
    """One imported roster file (名单 or 动态调整名单), by its SHA-256."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    layout: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_bad: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)


class CategoryMembership(Base):
    """A person holds a category (救助对象类别) from ``valid_from`` to ``valid_to``
    (both inclusive; ``None``: still in force), from a roster row or a certificate.

    ``source_*`` says where it came from (file name, SHA-256, row); ``closed_*`` where
    it was ended (the 自然减少 row, with its exit date: the last day is the day before,
    山西 (十) "自退出之日起不再享受")."""

    __tablename__ = "category_memberships"
    __table_args__ = (UniqueConstraint("person_id", "category", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    source_kind: Mapped[str] = mapped_column(String(16))  # roster | certificate
    change_type: Mapped[str | None] = mapped_column(String(32))
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_row: Mapped[int | None] = mapped_column(Integer)
    certificate_number: Mapped[str | None] = mapped_column(String(64))
    exit_date: Mapped[dt.date | None] = mapped_column(Date)
    closed_file: Mapped[str | None] = mapped_column(String(255))
    closed_sha256: Mapped[str | None] = mapped_column(String(64))
    closed_row: Mapped[int | None] = mapped_column(Integer)

    person: Mapped[Person] = relationship(back_populates="memberships")


# -- the settlement service (revision 0002, docs/service.md, ADR 9) ------------------


class ApiClient(Base):
    """A client of the HTTP service: a hospital, a civil-affairs office, a reviewer, an admin.

    ``jurisdiction`` is a GB/T 2260 code prefix (2, 4 or 6 digits): ``1401`` covers
    every district of 太原市 (140105, …)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # hospital | civil_affairs | reviewer | admin
    jurisdiction: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256 (the token itself is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StoredClaim(Base):
    """A claim as a hospital sent it (the JSON body, unchanged)."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    claim_ref: Mapped[str] = mapped_column(String(64))
    settlement_date: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SettlementRecord(Base):
    """A settlement of a stored claim: the engine's JSON result and its main amounts.

    ``seq`` (the primary key) is the settlement order, the order a reversal re-settles
    in. ``context_before`` is the person-level engine state (福建 referral chain, 大病关怀
    paid) before this settlement, so a reversal can start a year's rebuild from it."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("client_id", "idempotency_key"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    policy_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # settled | reversed
    total_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    personal_fen: Mapped[int] = mapped_column(BigInteger)
    medical_assistance_fen: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    category_source: Mapped[dict[str, Any]] = mapped_column(JSON)
    context_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PersonLedger(Base):
    """The row locked while a person's claims settle (an upsert bumps ``version``), with the
    person-level engine state: the 福建 referral chain and whether 大病关怀 was paid."""

    __tablename__ = "person_ledgers"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Accumulator(Base):
    """A person's yearly accumulators: the engine's ``YearState`` as JSON
    (per benefit and pool: the cumulative base and what was paid, in fen)."""

    __tablename__ = "accumulators"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    pools: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEntry(Base):
    """An append-only record of every write: who, what, when, on what; ID numbers masked.

    Triggers refuse ``UPDATE`` and ``DELETE`` on both databases (revision 0002)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
