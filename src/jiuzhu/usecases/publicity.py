"""公示: objections raised while an application is posted, their resolution, and the end
of the period (审核公示 at the township, 结果公示 after the county's approval).

An objection is recorded with the day it was received; it is resolved once (upheld or
not, with the finding). The period closes only when it is over and every objection is
resolved and none upheld (the table's guards); an upheld objection at the township's
公示 ends in a refusal with its written notice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jiuzhu.storage.models import PublicityObjection
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.applications import (
    Step,
    current_publicity,
    opinion_of,
    step,
)
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.inputs import Fields
from jiuzhu.usecases.notices import refuse_with_notice
from jiuzhu.usecases.unit import Store


def _action(s: Step, township: str, result: str) -> str:
    return township if s.app.state == "publicity" else result


def record_objection(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """登记公示异议: what was said, and when it was received."""
    f = Fields(data, ("version", "text", "received_on"))
    text = f.text("text", required=True, max_length=1000, what="异议内容")
    received = f.date("received_on", what="收到日期", not_after=store.today()) or store.today()
    f.done()

    def work(s: Step) -> None:
        s.check_action(_action(s, "record_objection", "record_result_objection"))
        pub = current_publicity(s.session, s.app)
        if pub is None:
            raise Refused(Kind.conflict, "state", "申请没有在公示")
        row = PublicityObjection(
            publicity_id=pub.id, received_on=received, text=text, received_by=s.caller.name
        )
        s.session.add(row)
        s.session.flush()
        s.details = {"objection": row.public_id, "received_on": received.isoformat()}
        s.act(_action(s, "record_objection", "record_result_objection"), text[:200])

    return step(store, caller, public_id, data, work)


def resolve_objection(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """处理公示异议: upheld (成立) or not, with the finding; once."""
    f = Fields(data, ("version", "objection", "upheld", "resolution"))
    objection = f.text("objection", required=True, max_length=40, what="异议编号", mask=False)
    upheld = f.boolean("upheld", required=True, what="异议是否成立")
    resolution = f.text("resolution", required=True, max_length=1000, what="核查结论")
    f.done()

    def work(s: Step) -> None:
        s.check_action(_action(s, "resolve_objection", "resolve_result_objection"))
        pub = current_publicity(s.session, s.app)
        row = None
        if pub is not None:
            row = s.session.scalar(
                select(PublicityObjection).where(
                    PublicityObjection.public_id == objection,
                    PublicityObjection.publicity_id == pub.id,
                )
            )
        if row is None:
            raise Refused(Kind.not_found, "objection", f"本次公示没有异议 {objection}")
        if row.upheld is not None:
            raise Refused(
                Kind.conflict, "objection", f"异议 {objection} 已于此前处理（{row.resolution}）"
            )
        row.upheld = upheld
        row.resolution = resolution
        row.resolved_by = s.caller.name
        row.resolved_at = dt.datetime.now(dt.UTC)
        s.details = {"objection": objection, "upheld": upheld}
        s.act(_action(s, "resolve_objection", "resolve_result_objection"), resolution)

    return step(store, caller, public_id, data, work)


def close_publicity(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """公示期满: 审核公示 to 县级审核, or 结果公示 to 待支付."""
    f = Fields(data, ("version", "opinion"))
    opinion = opinion_of(f)
    f.done()

    def work(s: Step) -> None:
        s.take(_action(s, "close_publicity", "close_result_publicity"), opinion)

    return step(store, caller, public_id, data, work)


def refuse_on_objection(store: Store, caller: Caller, public_id: str, data: Any) -> str:
    """公示异议成立不予救助, with the written notice (附件5)."""
    return refuse_with_notice(store, caller, public_id, data, "refuse_on_objection")
