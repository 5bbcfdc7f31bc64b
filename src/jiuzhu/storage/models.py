"""The registry's tables (SQLAlchemy 2, typed ORM).

Each table is created by a migration in ``migrations/versions``; a later part of the
system (settlements, accumulators, audit log, tokens) adds its tables by a new
revision, never by editing ``0001``. Naming conventions make constraint names
stable, so later migrations can refer to them on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
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
