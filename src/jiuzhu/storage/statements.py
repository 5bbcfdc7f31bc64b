"""The settlement path's SQL, built once per dialect (used by ``usecases/settle.py``).

``POST /settlements`` is the service's hot path (docs/performance.md): a hospital waits
on it at discharge. Building a SQLAlchemy statement costs more Python time than
running it on PostgreSQL, so the path's eight statements are built here once, with bind
parameters, over the tables (not the ORM classes, which would route every statement
through the ORM's bulk layer) and executed on a plain ``Connection``. The rest of the
service (reversal, re-settlement, reads, rosters) keeps the ORM: it is rarer and reads
better so. The audit row is appended by ``usecases/audit.py`` (``storage/audit_chain.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from jiuzhu.io.rosters import MEMBERSHIP_COLUMNS
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
    lock = new_ledger.on_conflict_do_update(
        index_elements=[ledgers.c.person_id],
        set_={"version": ledgers.c.version + 1, "updated_at": new_ledger.excluded.updated_at},
    ).returning(ledgers.c.context)

    pools = upsert(accumulators)
    pools = pools.on_conflict_do_update(
        index_elements=[accumulators.c.person_id, accumulators.c.year],
        set_={"pools": pools.excluded.pools, "updated_at": pools.excluded.updated_at},
    )

    reads = select(
        select(accumulators.c.pools)
        .where(
            accumulators.c.person_id == bindparam("person_id"),
            accumulators.c.year == bindparam("year"),
        )
        .scalar_subquery(),
        select(settlements.c.seq)
        .where(
            settlements.c.client_id == bindparam("client_id"),
            settlements.c.idempotency_key == bindparam("key"),
        )
        .scalar_subquery(),
        select(settlements.c.public_id)
        .join(claims, claims.c.id == settlements.c.claim_id)
        .where(
            claims.c.client_id == bindparam("client_id"),
            claims.c.claim_ref == bindparam("claim_ref"),
        )
        .scalar_subquery(),
    )

    return SettlementStatements(
        registered=select(persons.c.id, persons.c.public_id, households.c.district_code, *columns)
        .outerjoin(households, households.c.id == persons.c.household_id)
        .outerjoin(memberships, memberships.c.person_id == persons.c.id)
        .where(persons.c.id_number == bindparam("id_number"))
        .order_by(memberships.c.valid_from, memberships.c.id),
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
    )
