"""A person's year as the staff page shows it: who they are (ID number masked), the
categories they hold with where each came from, the category in force today and why,
each cap of the year used and remaining, the year's settlements with their adjustments
and current amounts, and their open applications (ADR 18).

One read transaction, so the figures agree with each other; one audit row. The pieces
are the service's own: the registry's memberships (``io.rosters``), the balances of
``usecases.persons`` (what ``GET /persons/{id}/year/{year}`` answers), the settlement
views of ``usecases.reads``; applications come from the worklist's source. A hospital
sees only the settlements it made, as everywhere else; anyone outside the person's
jurisdiction is told there is no such person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.policy.names import pool_words, visit_list
from jiuzhu.domain.vocabulary import VisitType
from jiuzhu.storage.models import ApiClient, Household, Person, SettlementRecord, StoredClaim
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.persons import PersonView, _load, _year_of
from jiuzhu.usecases.reads import settlement_view
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import SettlementView
from jiuzhu.usecases.worklist import Applications, WorkItem

MIN_YEAR, MAX_YEAR = 1900, 2999


@dataclass(frozen=True, slots=True)
class SettledClaim:
    """One settlement of the year as a row of the person's page."""

    view: SettlementView
    settlement_date: dt.date
    visit_type_zh: str
    hospital: str


@dataclass(frozen=True, slots=True)
class PersonYear:
    person: PersonView
    name: str | None
    township: str | None
    village: str | None
    year: int
    years: list[int]
    """The years with settlements, and this one: the page's choice of year."""
    balances: dict[str, Any]
    """``usecases.persons``' answer for the year: categories today and at year end, and
    ``benefit_balance`` per benefit and pool (allowed, used, remaining, deductible)."""
    settlements: list[SettledClaim]
    applications: Sequence[WorkItem]
    applications_enabled: bool
    pools: dict[str, str]
    """``benefit/pool`` of each balance → what claims it holds, in words."""
    today: dt.date

    @property
    def masked(self) -> str:
        return mask_id(self.person.id_number)


def pool_names(compiled: CompiledPolicy) -> dict[str, str]:
    """``benefit/pool`` → the claims it holds, in words (住院、门诊慢特病; 其中普通门诊)."""
    out: dict[str, str] = {}
    for benefit, ben in compiled.benefits.items():
        for pool in ben.pools:
            out[f"{benefit.value}/{pool}"] = pool_words(ben, pool)
        for name, limit in ben.limits.items():
            out[f"{benefit.value}/{name}"] = "其中" + visit_list(limit.visit_types)
    return out


def visit_zh(value: object) -> str:
    try:
        return VisitType(str(value)).zh
    except ValueError:
        return str(value)


def _hospital(session: Session, client_id: int) -> str:
    return session.scalar(select(ApiClient.name).where(ApiClient.id == client_id)) or ""


def settled_claims(
    session: Session, caller: Caller, person_id: int, year: int
) -> list[SettledClaim]:
    query = (
        select(SettlementRecord.seq, StoredClaim.settlement_date, StoredClaim.body)
        .join(StoredClaim, StoredClaim.id == SettlementRecord.claim_id)
        .where(SettlementRecord.person_id == person_id, SettlementRecord.year == year)
        .order_by(StoredClaim.settlement_date, SettlementRecord.seq)
    )
    if caller.role is Role.hospital:
        query = query.where(SettlementRecord.client_id == caller.client_id)
    out = []
    names: dict[int, str] = {}
    for seq, day, body in session.execute(query):
        view = settlement_view(session, seq)
        if view.client_id not in names:
            names[view.client_id] = _hospital(session, view.client_id)
        out.append(SettledClaim(view, day, visit_zh(body.get("visit_type")), names[view.client_id]))
    return out


def _hidden(public_id: str) -> Refused:
    return Refused(Kind.not_found, "id", f"没有此人 {mask_id(public_id)}（或不在您的辖区内）")


def person_year(
    store: Store, caller: Caller, source: Applications, public_id: str, year: int | None
) -> PersonYear:
    """The person's page for ``year`` (default: this year in Beijing)."""
    this_year = store.today().year
    year = this_year if year is None else year
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refused(Kind.invalid, "year", f"年度须在 {MIN_YEAR}–{MAX_YEAR} 之间")
    with store.reads() as session, session.begin():
        try:
            view = _load(session, caller, public_id)
        except Refused as refused:  # another jurisdiction's person is nobody here
            raise _hidden(public_id) from refused
        row = session.scalar(select(Person).where(Person.public_id == public_id))
        assert row is not None
        household = None if row.household_id is None else session.get(Household, row.household_id)
        balances = _year_of(store, session, view, year)
        years = set(
            session.scalars(
                select(SettlementRecord.year).where(SettlementRecord.person_id == row.id).distinct()
            )
        )
        settled = settled_claims(session, caller, row.id, year)
    applications = source.open_for_person(store, caller, public_id)
    with store.sessions() as session, session.begin():
        audit.append(session, caller.name, caller.role.value, "person.year",
                     f"person:{public_id}", {"year": year, "person": mask_id(view.id_number),
                                             "settlements": len(settled)})  # fmt: skip
    return PersonYear(
        person=view,
        name=row.name,
        township=None if household is None else household.township,
        village=None if household is None else household.village,
        year=year,
        years=sorted(years | {this_year, year}, reverse=True),
        balances=balances,
        settlements=settled,
        applications=applications,
        applications_enabled=source.enabled,
        pools=pool_names(store.compiled),
        today=store.today(),
    )
