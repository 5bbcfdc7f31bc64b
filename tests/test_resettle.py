"""``resettle`` as an application's approval will call it (issue 13): a person identified
as 低保 from a date has the claims already stored from that date re-settled under the new
category, and the difference paid as adjustments with the cause; claims before the date
and the settlements as answered stay as they were. On SQLite and, when configured,
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jiuzhu.storage.models import Adjustment, Person, SettlementRecord
from jiuzhu.usecases.resettle import Cause, resettle
from jiuzhu.usecases.settle import lock
from tests.db_fixtures import db_url, make_id
from tests.service_api import Api, api
from tests.service_helpers import inpatient_claim

__all__ = ["api", "db_url"]

PERSON = make_id(71)


def test_an_identification_from_a_date_pays_the_difference(api: Api) -> None:
    ids = [api.settle(inpatient_claim(n, PERSON), f"k{n}").json()["id"] for n in (1, 4, 7)]
    store = api.app.state.store
    dibao: list[dict[str, Any]] = [{"category": "dibao", "valid_from": "2023-03-15"}]
    with store.sessions() as session, session.begin():
        pid = session.scalar(select(Person.id).where(Person.id_number == PERSON))
        assert pid is not None
        lock(store, session.connection(), pid)
        done = resettle(
            store,
            session,
            pid,
            2023,
            Cause("identification", "app-1", "认定为低保对象（申请 app-1，追溯自 2023-03-15）"),
            "县级审批",
            from_date=dt.date(2023, 3, 15),
            spans=lambda _body: dibao,
        )
    assert {c.claim_ref for c in done.changed} == {"c4", "c7"}
    first = api.client.get(f"/settlements/{ids[0]}", headers=api.h()).json()
    assert first["adjustments"] == [] and first["settlement"]["category"] == "ordinary"
    later = api.client.get(f"/settlements/{ids[1]}", headers=api.h()).json()
    assert later["settlement"]["medical_assistance"] == "0.00"  # as answered
    assert later["current"]["medical_assistance"] == "14000.00"  # 20000 × 70%
    [ma] = [a for a in later["adjustments"] if a["benefit"] == "medical_assistance"]
    assert ma["direction"] == "补付" and ma["cause"]["kind"] == "identification"
    assert "认定为低保对象" in ma["lines"][0]["text"]
    with store.sessions() as s:
        assert set(s.scalars(select(SettlementRecord.revision))) == {1}
        total = sum(
            a.amount_fen for a in s.scalars(select(Adjustment)) if a.benefit == "medical_assistance"
        )
    assert total == 2 * 1_400_000
    # a new claim still takes the registry's categories: this test wrote no 低保 membership
    r = api.settle(inpatient_claim(9, PERSON), "k9")
    assert r.json()["settlement"]["category"] == "ordinary"
