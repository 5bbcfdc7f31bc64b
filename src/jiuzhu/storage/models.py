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
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
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
    applied_on: Mapped[dt.date | None] = mapped_column(Date)
    """For a category identified on application (``source_kind`` ``application``, revision
    0005_applications): the application date, from which a look-back may count."""
    source_application: Mapped[str | None] = mapped_column(String(32))
    """The approved application (its number) that identified it."""

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
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """Set for every token since revision 0004; ``None`` only if a database was edited."""


class AuthFailure(Base):
    """Failed authentications of one client address in the current window: past the limit
    the address is answered 429 until ``blocked_until`` (revision 0004)."""

    __tablename__ = "auth_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StoredClaim(Base):
    """A claim as a hospital sent it (the JSON body, unchanged). A hospital's claim ids
    are unique to it (revision 0004): a repeat is refused, never settled twice."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("client_id", "claim_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    claim_ref: Mapped[str] = mapped_column(String(64))
    settlement_date: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SettlementRecord(Base):
    """A settlement of a stored claim as it was answered: the engine's JSON result and its
    main amounts. Never changed once written (DESIGN "Settlements are never rewritten"):
    a reversal is a ``Reversal``, a re-settlement writes ``Adjustment`` rows.

    ``seq`` (the primary key) is the settlement order, the order a re-settlement follows.
    ``context_before`` is the person-level engine state (福建 referral chain, 大病关怀
    paid) before this settlement, so a re-settlement can start a year from it.
    ``status``, ``revision`` and ``reversed_at`` are what revision 0002 rewrote in place;
    since revision 0004 they keep their values at insert (``settled``, 1, none)."""

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


class Reversal(Base):
    """撤销: a settlement made void, by whom, when and why, with the amounts it had
    (answered plus adjustments) at that moment, and how many of the person's other claims
    of the year were adjusted by the re-settlement that followed."""

    __tablename__ = "reversals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    settlement_seq: Mapped[int] = mapped_column(ForeignKey("settlements.seq"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    amounts: Mapped[dict[str, Any]] = mapped_column(JSON)
    adjusted_claims: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Resettlement(Base):
    """One re-settlement of a person's claims of a year, with its cause: a reversal now,
    an approved application later. Its ``Adjustment`` rows say what it changed."""

    __tablename__ = "resettlements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    from_date: Mapped[dt.date | None] = mapped_column(Date)
    cause_kind: Mapped[str] = mapped_column(String(32))  # reversal | …
    cause_ref: Mapped[str] = mapped_column(String(64))
    cause_text: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Adjustment(Base):
    """补付 (``amount_fen`` > 0) or 追回 (< 0) of one benefit of one settled claim, with its
    cause (the ``Resettlement``) and its explanation lines. ``seq`` is the cursor of the
    hospitals' feed (``GET /adjustments?after=``); ``client_id`` is the settling hospital."""

    __tablename__ = "adjustments"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    resettlement_id: Mapped[int] = mapped_column(ForeignKey("resettlements.id"), index=True)
    settlement_seq: Mapped[int] = mapped_column(ForeignKey("settlements.seq"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    year: Mapped[int] = mapped_column(Integer)
    benefit: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    before_fen: Mapped[int] = mapped_column(BigInteger)
    after_fen: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
    """An append-only record of every write and every read of personal data: who, what,
    when, on what; ID numbers masked.

    Triggers refuse ``UPDATE`` and ``DELETE`` on both databases (revision 0002). Each row
    carries ``hash``, chained to the previous row's (revision 0004, ``usecases/audit.py``),
    so rows edited, deleted or inserted behind the triggers' back are found by ``jiuzhu
    audit verify``. Rows are appended only through ``usecases.audit.append``, which takes
    the id from ``AuditHead``."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The end of the audit chain: the last row's id and hash (one row, ``id`` 1). Appending
    locks it, so rows are chained in id order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


# -- applications (依申请救助; revision 0005_applications, docs/applications.md, ADR 17) -----


class Application(Base):
    """An application of one kind (``Policy.applications``) for one person, in one state of
    the procedure (``policies/procedure/applications.yaml``).

    ``version`` is bumped by every step; a step names the version it was taken on, so a
    concurrent edit is refused, never lost. ``open_key`` is set while the application is
    open (one open application per person and kind); ``bill_key`` holds a 零星报销 bill's
    issuer and number while the application is open or paid (a bill is reimbursed once).
    ``district_code`` is the person's district at submission: whose jurisdiction it is."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    township: Mapped[str] = mapped_column(String(64))
    applicant_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(24))
    entered_on: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[dt.date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    bill_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    bill: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """零星报销: the bill as the claim contract (no categories), with ``issuer`` and
    ``bill_number``."""
    account: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The payee's account as given (户名, 开户行, 账号): shown masked."""
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApplicationEvent(Base):
    """One step of an application's history: a transition of the table (``action`` is its
    key) or an action within a state (a document attached, a home visit recorded, an
    objection, the amount computed). Who, when, the opinion; append-only (triggers refuse
    ``UPDATE`` and ``DELETE``)."""

    __tablename__ = "application_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    on_date: Mapped[dt.date] = mapped_column(Date)
    """The day in Beijing."""
    opinion: Mapped[str] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    """The application's version after this step."""


class ApplicationDocument(Base):
    """A paper of the checklist as uploaded (PDF, JPEG or PNG), by its SHA-256; kept, never
    replaced: a new upload for the same item is a new row, the latest counts."""

    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HomeVisit(Base):
    """入户调查 (晋医保发〔2019〕46号 三(十一)): the household's members, income and assets, the
    investigators' opinion and the village committee's witness. A later visit is a new row."""

    __tablename__ = "home_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    investigators: Mapped[list[str]] = mapped_column(JSON)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    income_fen: Mapped[int] = mapped_column(BigInteger)
    """The household's income of the last 12 months, in fen."""
    assets: Mapped[str] = mapped_column(String(1000))
    illness: Mapped[str] = mapped_column(String(1000))
    opinion: Mapped[str] = mapped_column(String(1000))
    witness_name: Mapped[str] = mapped_column(String(64))
    witness_title: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Publicity(Base):
    """公示: the township's (审核公示, ``stage`` ``township``) or the county's result
    (``result``), with its period and where it was posted."""

    __tablename__ = "publicities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PublicityObjection(Base):
    """An objection raised during a publicity, and (once) how it was resolved."""

    __tablename__ = "publicity_objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicities.id"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(1000))
    received_by: Mapped[str] = mapped_column(String(64))
    upheld: Mapped[bool | None] = mapped_column(Boolean)
    resolution: Mapped[str | None] = mapped_column(String(1000))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Assessment(Base):
    """核定救助金额: what the engine computed at county review (``plan``: per claim and
    benefit, before → after; ``lines``: the explanation), on what (``selections``,
    ``identified_on``), and a fingerprint of the stored claims it was computed from
    (``basis``): an approval pays exactly this, or is refused when the basis changed."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    identified_on: Mapped[dt.date | None] = mapped_column(Date)
    selections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    basis: Mapped[str] = mapped_column(String(64))
    computed_by: Mapped[str] = mapped_column(String(64))
    computed_on: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ClaimReview(Base):
    """A benefit the desk does not pay, approved for a stored claim by an application, on
    the reasonable cost the reviewer accepted (``None``: all that is left). Kept here, never
    in the claim: every re-settlement of the claim's year reads it (``usecases/resettle``)."""

    __tablename__ = "claim_reviews"
    __table_args__ = (UniqueConstraint("settlement_seq", "benefit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    settlement_seq: Mapped[int] = mapped_column(ForeignKey("settlements.seq"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    benefit: Mapped[str] = mapped_column(String(32))
    accepted_fen: Mapped[int | None] = mapped_column(BigInteger)
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PaymentInstruction(Base):
    """What an approval pays, to whom (the person's account or a hospital), with its
    explanation: kept for the fund accounts. Written once at approval."""

    __tablename__ = "payment_instructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    payee_kind: Mapped[str] = mapped_column(String(16))  # person | hospital
    payee_name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    """The hospital, when the payee is one."""
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Payment(Base):
    """支付: an instruction carried out (the account paid into, the voucher, the day)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("payment_instructions.id"), unique=True)
    account: Mapped[dict[str, Any]] = mapped_column(JSON)
    voucher: Mapped[str] = mapped_column(String(64))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    paid_by: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Notice(Base):
    """A paper issued to the applicant (a refusal, 附件5; an approval), numbered per issuer
    and year (``[2024]第 3 号``), with the values it states frozen as issued."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("scope", "year", "kind", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # refusal | approval
    scope: Mapped[str] = mapped_column(String(80))
    """Who numbers it: the township (district code and name) or the county."""
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SerialCounter(Base):
    """The last number given in a series (notices per issuer and year, application numbers
    per district and year), bumped by one upsert under the row's lock."""

    __tablename__ = "serial_counters"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


# -- staff accounts of the web pages (revision 0006_staff, ADR 18) --------------------


class StaffUser(Base):
    """A member of staff who logs in to the pages, with the same roles and jurisdictions
    as the API's clients. ``password_hash`` is an Argon2id hash in its PHC string
    (parameters and salt inside); the password itself is never stored. A hospital's
    account names its API client (``hospital_client_id``), so it sees what that hospital
    settled, as its tokens do. Accounts are disabled, never deleted: the audit log names
    them."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(6))
    hospital_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A login: the session cookie's token, stored only as its SHA-256. It ends at
    ``expires_at`` (a working day), after ``last_seen_at`` plus the idle limit, at logout,
    or when the account is disabled or its password reset (``ended_at`` and why)."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(16))  # logout | disabled | password
