"""A person as the service shows them: the registry's memberships, the category in force
and why, and a year's balances per benefit (what the year allows, what is used and what
is left). Looked up by internal id, or by 身份证号 sent in a body (never in a URL), which
works before the person's first claim. Every answer masks the ID number, and every
read is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.engine.rules import CapKind, CompiledPolicy
from jiuzhu.domain.engine.state import YearState
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.domain.registry import Membership
from jiuzhu.domain.vocabulary import Benefit, Category
from jiuzhu.io.rosters import memberships_of
from jiuzhu.storage.models import Accumulator, Person, SettlementRecord
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, district_of, require_jurisdiction
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.settle import answer_on, person_id_of, require_area
from jiuzhu.usecases.unit import Store, pools_from_json


@dataclass(frozen=True, slots=True)
class PersonView:
    public_id: str
    id_number: str
    district: str
    memberships: list[Membership]


def _audit(store: Store, caller: Caller, action: str, target: str, **details: Any) -> None:
    with store.sessions() as session, session.begin():
        audit.append(session, caller.name, caller.role.value, action, target, details)


def _load(session: Session, caller: Caller, public_id: str) -> PersonView:
    person = session.scalar(select(Person).where(Person.public_id == public_id))
    if person is None:
        raise Refused(Kind.not_found, "id", f"没有此人 {mask_id(public_id)}")
    district = district_of(session, person, person.id_number)
    require_jurisdiction(caller, district, "id")
    held = memberships_of(session, person.id_number) or []
    return PersonView(person.public_id, person.id_number, district, held)


def person(store: Store, caller: Caller, public_id: str) -> PersonView:
    with store.reads() as session, session.begin():
        view = _load(session, caller, public_id)
    _audit(store, caller, "person.read", f"person:{view.public_id}", person=mask_id(view.id_number))
    return view


def year(store: Store, caller: Caller, public_id: str, year: int) -> dict[str, Any]:
    """Per benefit and pool: what the year allows, what is used and what remains, and
    how much of the deductible is met (FHIR ExplanationOfBenefit.benefitBalance)."""
    if not 1900 <= year <= 2999:
        raise Refused(Kind.invalid, "year", f"年度 {year} 不在 1900–2999 内")
    with store.reads() as session, session.begin():
        view = _load(session, caller, public_id)
        out = _year_of(store, session, view, year)
    _audit(store, caller, "person.year", f"person:{view.public_id}", year=year,
           person=mask_id(view.id_number))  # fmt: skip
    return out


def _year_of(store: Store, session: Session, view: PersonView, year: int) -> dict[str, Any]:
    pid = session.scalar(select(Person.id).where(Person.public_id == view.public_id))
    acc = session.get(Accumulator, (pid, year))
    ystate = pools_from_json(acc.pools) if acc is not None else YearState()
    last = session.scalar(
        select(SettlementRecord)
        .where(SettlementRecord.person_id == pid, SettlementRecord.year == year)
        .order_by(SettlementRecord.seq.desc())
        .limit(1)
    )
    return year_answer(store, view.public_id, view.id_number, view.memberships, year, ystate,
                       None if last is None else last.result)  # fmt: skip


def year_answer(
    store: Store,
    public_id: str | None,
    id_number: str,
    held: list[Membership],
    year: int,
    ystate: YearState,
    last_result: dict[str, Any] | None,
) -> dict[str, Any]:
    today = store.today()
    year_end = dt.date(year, 12, 31)
    on = {"today": min(today, year_end), "year_end": year_end}
    answers = {k: answer_on(store, id_number, held, d) for k, d in on.items()}
    category = answers["today"].applied
    basis = "registry"
    if not held and last_result is not None:
        category, basis = Category(last_result["category"]), "last_settlement"
    balances = [
        _balance(store.compiled, b, pool, category, ystate) for (b, pool) in sorted(ystate.pools)
    ]
    return {
        "person": {"id": public_id, "id_number": mask_id(id_number)},
        "year": year,
        "policy": store.policy_id,
        "category": category.value,
        "category_basis": basis,
        "categories": {
            k: {
                "date": on[k].isoformat(),
                "applied": a.applied.value,
                "applied_zh": a.applied.zh,
                "why": list(a.why),
            }
            for k, a in answers.items()
        },
        "benefit_balance": balances,
    }


@dataclass(frozen=True, slots=True)
class Lookup:
    registered: bool
    person: PersonView
    year: dict[str, Any]


def lookup(store: Store, caller: Caller, body: Any) -> Lookup:
    """A person by 身份证号 (``{"id_number": …}``), before or after their first claim: the
    person masked, the category in force today and why, and this year's balances."""
    if not isinstance(body, dict) or set(body) - {"id_number"}:
        extra = sorted(set(body) - {"id_number"}) if isinstance(body, dict) else []
        raise Refused(
            Kind.invalid,
            str(extra[0]) if extra else "",
            '请求体须为 {"id_number": "身份证号"}' + ("（有多余字段）" if extra else ""),
        )
    if not isinstance(body.get("id_number"), str):
        raise Refused(Kind.invalid, "id_number", "须给出身份证号（字符串）")
    id_number = person_id_of({"person_id": body["id_number"]})
    assert id_number is not None
    this_year = store.today().year
    with store.reads() as session, session.begin():
        found = session.scalar(select(Person).where(Person.id_number == id_number))
        district = district_of(session, found, id_number)
        require_jurisdiction(caller, district, "id_number")
        require_area(store, district)
        held = memberships_of(session, id_number) or []
        if found is None:
            view = PersonView("", id_number, district, held)
            year_out = year_answer(store, None, id_number, held, this_year, YearState(), None)
        else:
            view = PersonView(found.public_id, id_number, district, held)
            year_out = _year_of(store, session, view, this_year)
    _audit(store, caller, "person.lookup", f"person:{view.public_id or mask_id(id_number)}",
           person=mask_id(id_number), registered=found is not None)  # fmt: skip
    return Lookup(found is not None, view, year_out)


def _balance(
    compiled: CompiledPolicy, benefit: Benefit, pool: str, category: Category, ystate: YearState
) -> dict[str, Any]:
    """One accumulator's balance: ``pool`` is a pool or a sub-limit of the benefit."""
    used = ystate.pool(benefit, pool)
    sched = compiled.schedule(benefit, category)
    fn = None if sched is None else sched.functions.get(pool)
    caps = [] if sched is None else sched.caps_on_key(pool)
    allowed: int | None = min((c.amount for c in caps), default=None)
    rooms = [max(c.amount - sum(ystate.pool(benefit, k).paid for k in c.keys), 0) for c in caps]
    remaining: int | None = min(rooms, default=None)
    shared: dict[str, Any] | None = None
    outer = next((c for c in caps if c.kind is CapKind.shared), None)
    if outer is not None:
        shared = {
            "pools": sorted(outer.keys),
            "allowed": format_yuan(outer.amount),
            "used": format_yuan(ystate.paid_in(benefit, outer.keys)),
        }
    per_claim = None if sched is None else sched.per_claim_deductibles.get(pool)
    deductible: dict[str, Any] | None = None
    if per_claim is not None:
        deductible = {"amount": format_yuan(per_claim), "per_claim": True, "met": None}
    elif fn is not None and fn.deductible:
        deductible = {
            "amount": format_yuan(fn.deductible),
            "per_claim": False,
            "met": format_yuan(min(used.base, fn.deductible)),
        }

    def y(v: int | None) -> str | None:
        return None if v is None else format_yuan(v)

    return {
        "benefit": benefit.value,
        "benefit_zh": benefit.zh,
        "pool": pool,
        "category": category.value,
        "base": format_yuan(used.base),
        "allowed": y(allowed),
        "used": format_yuan(used.paid),
        "remaining": y(remaining),
        "shared_cap": shared,
        "deductible": deductible,
    }
