"""Claims and registry entries for the service tests: a 低保 inpatient stay with insurance
pre-settled at 0.

With basic and critical-illness insurance given as 0.00, medical assistance works on
the whole scope, so 聊城's 70% and its 30000.00 cap can be checked by hand. A hospital's
claim never states a category: ``register`` puts the person in the registry instead
(a certificate from ``valid_from``, as ``jiuzhu certificate import`` would).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from jiuzhu.storage.models import CategoryMembership, Person


def inpatient_claim(n: int, person: str, scope: str = "20000.00", **over: Any) -> dict[str, Any]:
    """Claim ``c{n}``, settled on the first of month ``n`` of 2023."""
    day = f"2023-{n:02d}-01"
    body: dict[str, Any] = {
        "claim_id": f"c{n}",
        "person_id": person,
        "visit_type": "inpatient",
        "settlement_date": day,
        "admission_date": day,
        "hospital_level": 2,
        "referred": True,
        "total": scope,
        "full_self_pay": "0.00",
        "partial_self_pay": "0.00",
        "policy_scope": scope,
        "insurance": {"basic_insurance": "0.00", "critical_illness_insurance": "0.00"},
    }
    body.update(over)
    return body


def register(
    app: Any, person: str, category: str = "dibao", valid_from: str = "2023-01-01"
) -> None:
    """``person`` holds ``category`` from ``valid_from`` (a certificate in the registry)."""
    _register(app.state.store.sessions, person, category, valid_from)


def register_at(url: str, person: str, category: str = "dibao") -> None:
    """``register`` on a database by its URL (migrated already)."""
    from jiuzhu.storage.db import make_engine, session_factory

    engine = make_engine(url)
    try:
        _register(session_factory(engine), person, category, "2023-01-01")
    finally:
        engine.dispose()


def _register(sessions: Any, person: str, category: str, valid_from: str) -> None:
    with sessions() as s, s.begin():
        pid = s.scalar(select(Person.id).where(Person.id_number == person))
        if pid is None:
            row = Person(id_number=person, public_id=uuid.uuid4().hex)
            s.add(row)
            s.flush()
            pid = row.id
        s.add(
            CategoryMembership(
                person_id=pid,
                category=category,
                valid_from=dt.date.fromisoformat(valid_from),
                valid_to=None,
                source_kind="certificate",
                certificate_number=f"Z{uuid.uuid4().hex[:8]}",
            )
        )
