"""The settlement path's SQL, built once per dialect (used by ``usecases/settle.py``).

``POST /settlements`` is the service's hot path (docs/performance.md): a hospital waits
on it at discharge. Building a SQLAlchemy statement costs more Python time than
running it on PostgreSQL, so the path's statements are built here once, with bind
parameters, over the tables (not the ORM classes, which would route every statement
through the ORM's bulk layer) and executed on a plain ``Connection``. The rest of the
service (reversal, re-settlement, reads, rosters) keeps the ORM: it is rarer and reads
better so.

On PostgreSQL everything a settlement writes once the engine has settled (the claim,
the settlement, the year's accumulators, the person's context, the chained audit row)
is one statement of data-modifying common table expressions (``PG_WRITE``): one round
trip where there were five, and the audit head's row lock, taken inside that statement
(the order PostgreSQL runs its parts in is its own), is held only from there to the
commit: the statement's own time and one round trip. On SQLite they stay separate
statements (one writer holds the database anyway); the audit row is then appended by
``usecases/audit.py`` (``storage/audit_chain.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Insert,
    Select,
    Table,
    TextClause,
    Update,
    bindparam,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from jiuzhu.io.rosters import MEMBERSHIP_COLUMNS
from jiuzhu.storage.audit_chain import PG_HEAD, PG_INSERT
from jiuzhu.storage.models import (
    Accumulator,
    Base,
    CategoryMembership,
    Household,
    Person,
    PersonLedger,
    SettlementRecord,
    StoredClaim,
)

SETTLED = "settled"


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


persons = _table(Person)
households = _table(Household)
memberships = _table(CategoryMembership)
ledgers = _table(PersonLedger)
accumulators = _table(Accumulator)
claims = _table(StoredClaim)
settlements = _table(SettlementRecord)


@dataclass(frozen=True, slots=True)
class SettlementStatements:
    registered: Select[Any]
    lock_known: Insert
    """The ledger lock of a person the registry holds, found by ID number: no row back
    when it holds nobody by that number."""
    locked_reads: Select[Any]
    """Under the lock, in one statement: the person, their district and memberships (a
    row per membership), each row with the three reads of ``reads``."""
    new_person: Insert
    person_row: Select[Any]
    lock: Insert
    reads: Select[Any]
    claim_settled: Select[Any]
    replay: Select[Any]
    insert_claim: Insert
    insert_settlement: Insert
    store_pools: Insert
    set_context: Update
    write: TextClause | None
    """PostgreSQL: all of a settlement's writes in one statement (``PG_WRITE``)."""


SETTLEMENT_COLUMNS = (
    "public_id",
    "client_id",
    "idempotency_key",
    "request_sha256",
    "claim_id",
    "person_id",
    "year",
    "policy_id",
    "status",
    "total_fen",
    "paid_fen",
    "personal_fen",
    "medical_assistance_fen",
    "result",
    "category_source",
    "context_before",
    "revision",
    "created_at",
    "reversed_at",
)
_JSON_COLUMNS = {"result", "category_source", "context_before"}


def _settlement_value(column: str) -> str:
    if column == "claim_id":
        return "new_claim.id"
    if column == "revision":
        return "1"
    if column == "reversed_at":
        return "NULL"
    if column == "created_at":
        return ":now"
    return f"CAST(:{column} AS json)" if column in _JSON_COLUMNS else f":{column}"


PG_WRITE: TextClause = text(
    "WITH new_claim AS ("
    " INSERT INTO claims (person_id, client_id, claim_ref, settlement_date, body, received_at)"
    " VALUES (:person_id, :client_id, :claim_ref, :settlement_date, CAST(:body AS json), :now)"
    " RETURNING id),"
    f" new_settlement AS (INSERT INTO settlements ({', '.join(SETTLEMENT_COLUMNS)})"
    f" SELECT {', '.join(_settlement_value(c) for c in SETTLEMENT_COLUMNS)} FROM new_claim"
    " RETURNING seq),"
    " new_pools AS (INSERT INTO accumulators (person_id, year, pools, updated_at)"
    " SELECT :person_id, y.year, y.pools, :now"
    " FROM json_to_recordset(CAST(:years AS json)) AS y(year integer, pools json)"
    " ON CONFLICT (person_id, year)"
    " DO UPDATE SET pools = excluded.pools, updated_at = excluded.updated_at RETURNING 1),"
    " new_context AS (UPDATE person_ledgers SET context = CAST(:context AS json)"
    " WHERE person_id = :person_id AND :context_changed RETURNING 1),"
    f" {PG_HEAD}{PG_INSERT}"
).bindparams(
    *(bindparam(name, type_=JSON) for name in ("body", "years", "context", "details")),
    *(bindparam(name, type_=JSON) for name in sorted(_JSON_COLUMNS)),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("settlement_date", type_=Date),
    bindparam("context_changed", type_=Boolean),
)
"""One settlement's writes on PostgreSQL, in the order the rows depend on each other.

Every data-modifying expression of a ``WITH`` runs exactly once and to completion,
whether or not the statement reads it; the settlement takes the claim's new id from
``new_claim`` (its foreign key is checked at the statement's end, when the claim row is
there). ``years`` is the JSON list of ``{"year", "pools"}`` the engine left (the claim's
year, and the identification's year of a look-back claim); the person's context is
written only when it changed. A repeated claim id or idempotency key fails the whole
statement on its unique constraint (``IntegrityError``), as the separate inserts did."""


def _bump(new_ledger: Any) -> Any:
    """A ledger row inserted, or, when the person has one, its version bumped: the row
    lock every settlement of the person takes (ADR 9)."""
    return new_ledger.on_conflict_do_update(
        index_elements=[ledgers.c.person_id],
        set_={"version": ledgers.c.version + 1, "updated_at": new_ledger.excluded.updated_at},
    )


def _with_memberships(*selected: Any) -> Select[Any]:
    """A person's row with their household and one row per membership, oldest first."""
    return (
        select(*selected)
        .outerjoin(households, households.c.id == persons.c.household_id)
        .outerjoin(memberships, memberships.c.person_id == persons.c.id)
        .order_by(memberships.c.valid_from, memberships.c.id)
    )


def build(dialect: str) -> SettlementStatements:
    """The statements for ``dialect`` (``postgresql`` or ``sqlite``: both have
    ``INSERT … ON CONFLICT`` and ``RETURNING``)."""
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = [memberships.c[c.key] for c in MEMBERSHIP_COLUMNS]

    new_ledger = upsert(ledgers).values(
        person_id=bindparam("person_id"),
        context=bindparam("context"),
        version=1,
        updated_at=bindparam("now"),
    )
    lock = _bump(new_ledger).returning(ledgers.c.context)

    pools = upsert(accumulators)
    pools = pools.on_conflict_do_update(
        index_elements=[accumulators.c.person_id, accumulators.c.year],
        set_={"pools": pools.excluded.pools, "updated_at": pools.excluded.updated_at},
    )

    three = (
        select(accumulators.c.pools)
        .where(
            accumulators.c.person_id == bindparam("person_id"),
            accumulators.c.year == bindparam("year"),
        )
        .scalar_subquery()
        .label("pools"),
        select(settlements.c.seq)
        .where(
            settlements.c.client_id == bindparam("client_id"),
            settlements.c.idempotency_key == bindparam("key"),
        )
        .scalar_subquery()
        .label("prior"),
        select(settlements.c.public_id)
        .join(claims, claims.c.id == settlements.c.claim_id)
        .where(
            claims.c.client_id == bindparam("client_id"),
            claims.c.claim_ref == bindparam("claim_ref"),
        )
        .scalar_subquery()
        .label("repeated"),
    )
    reads = select(*three)

    known = select(
        persons.c.id,
        bindparam("context", type_=JSON),
        literal(1),
        bindparam("now", type_=DateTime(timezone=True)),
    ).where(persons.c.id_number == bindparam("id_number"))
    new_known = upsert(ledgers).from_select(
        ["person_id", "context", "version", "updated_at"], known
    )
    lock_known = _bump(new_known).returning(ledgers.c.person_id, ledgers.c.context)

    return SettlementStatements(
        registered=_with_memberships(
            persons.c.id, persons.c.public_id, households.c.district_code, *columns
        ).where(persons.c.id_number == bindparam("id_number")),
        lock_known=lock_known,
        locked_reads=_with_memberships(
            persons.c.public_id, households.c.district_code, *columns, *three
        ).where(persons.c.id == bindparam("person_id")),
        new_person=upsert(persons).on_conflict_do_nothing(index_elements=[persons.c.id_number]),
        person_row=select(persons.c.id, persons.c.public_id).where(
            persons.c.id_number == bindparam("id_number")
        ),
        lock=lock,
        reads=reads,
        claim_settled=select(settlements.c.public_id)
        .join(claims, claims.c.id == settlements.c.claim_id)
        .where(
            claims.c.client_id == bindparam("client_id"),
            claims.c.claim_ref == bindparam("claim_ref"),
        ),
        replay=select(
            settlements,
            persons.c.public_id.label("person_public_id"),
            persons.c.id_number,
            claims.c.claim_ref,
        )
        .join(persons, persons.c.id == settlements.c.person_id)
        .join(claims, claims.c.id == settlements.c.claim_id)
        .where(
            settlements.c.client_id == bindparam("client_id"),
            settlements.c.idempotency_key == bindparam("key"),
        ),
        insert_claim=insert(claims).returning(claims.c.id),
        insert_settlement=insert(settlements),
        store_pools=pools,
        set_context=update(ledgers)
        .where(ledgers.c.person_id == bindparam("ledger_person"))
        .values(context=bindparam("context")),
        write=PG_WRITE if dialect == "postgresql" else None,
    )
