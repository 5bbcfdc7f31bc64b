"""Two county approvers approve the same application at the same moment, on PostgreSQL:
one approval goes through, the other is told the application was changed (its version
is gone), and the money is paid once: one approval step, one notice, one payment
instruction, the adjustments adding up to the reviewed amount once.

Also through the use cases: both start from the version the review left, released
together by a barrier; the first ``UPDATE … WHERE version = :seen`` locks the row, the
second waits for its commit and then finds no row at that version."""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from jiuzhu.storage.models import Adjustment, ApplicationEvent, Notice, PaymentInstruction
from jiuzhu.usecases import approval
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.tokens import authenticate
from tests.application_api import Desk, hold, make_desk
from tests.db_fixtures import PG_ENV, PG_SKIP, make_id
from tests.service_helpers import inpatient_claim

D = dt.date
ROUNDS = 3


@pytest.fixture
def desk() -> Iterator[Desk]:
    if not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP)
    base = os.environ[PG_ENV]
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base}?options=-csearch_path%3D{schema}"
        yield from make_desk(url, "hangzhou-2023", "330102", D(2023, 3, 1))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _ready(desk: Desk, n: int) -> tuple[str, int]:
    """A 特殊救助 application waiting for 县级审批 (amount 7200.00), and its version."""
    person = make_id(700 + n, "330102")
    hold(desk, person, "extreme_poor", "2023-01-01")
    c = desk.settle(
        inpatient_claim(
            3, person, "38000.00", total="50000.00", full_self_pay="10000.00",
            partial_self_pay="2000.00", claim_id=f"r{n}",
            insurance={"basic_insurance": "20000.00", "critical_illness_insurance": "5000.00"},
        )
    )  # fmt: skip
    r = desk.submit(
        id_number=person, kind="special_assistance", applicant_name="并发", township="清波街道"
    )
    aid = r.json()["application"]["id"]
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept")
    desk.ok("reviewer", aid, "assess", claims=[{"settlement_id": c["id"], "accepted": "12000.00"}])
    d = desk.ok("reviewer", aid, "review", opinion="同意")
    return aid, int(d["application"]["version"])


def race(store: Any, callers: list[Any], aid: str, version: int) -> list[Any]:
    """Both approvers at once, on the same version: what each was answered."""
    start = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def one(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = approval.approve(
                store, callers[i], aid, {"version": version, "opinion": "同意"}
            )
        except Refused as err:
            outcomes[i] = err

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_approvers_at_once_one_wins_the_other_is_told(desk: Desk) -> None:
    store = desk.app.state.store
    with store.reader.begin() as conn:
        callers = [
            authenticate(conn, f"Bearer {desk.tokens[w]}") for w in ("approver", "approver_b")
        ]
    for n in range(ROUNDS):
        aid, version = _ready(desk, n)
        outcomes = race(store, callers, aid, version)
        won = [o for o in outcomes if o == aid]
        told = [o for o in outcomes if isinstance(o, Refused)]
        assert len(won) == 1 and len(told) == 1, outcomes
        assert told[0].kind is Kind.conflict
        assert told[0].errors[0]["field"] == "version"
        assert "已被他人修改" in told[0].errors[0]["message"]

        d = desk.get(aid, "admin")
        assert d["application"]["state"] == "result_publicity"
        assert [e["action"] for e in d["history"]].count("approve") == 1
        with store.sessions() as s:
            app_id = s.scalar(
                select(ApplicationEvent.application_id)
                .where(ApplicationEvent.action == "approve")
                .order_by(ApplicationEvent.seq.desc())
                .limit(1)
            )
            assert (
                s.scalar(
                    select(func.count()).select_from(Notice).where(Notice.application_id == app_id)
                )
                == 1
            )
            [instruction] = s.scalars(
                select(PaymentInstruction).where(PaymentInstruction.application_id == app_id)
            )
            assert instruction.amount_fen == 720_000
        # a repeat on the new version finds it no longer awaiting approval
        late = desk.step("approver_b", aid, "approve", opinion="同意")
        assert late.status_code == 409 and late.json()["errors"][0]["field"] == "state"
    with store.sessions() as s:
        assert s.scalar(select(func.sum(Adjustment.amount_fen))) == ROUNDS * 720_000
