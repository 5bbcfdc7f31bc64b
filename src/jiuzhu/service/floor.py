"""``POST /floor``: the cheapest authenticated write the service can do.

It exists for the load benchmark (``benchmarks/bench_service.py``, docs/performance.md):
the same server's throughput on a trivial endpoint that does one database write is the
floor of the framework and the database, against which ``POST /settlements`` is
measured. Any role may call it. In one transaction it checks the bearer token (as every
route does) and appends one row to the audit log (``action`` ``floor``); nothing else
is read or written. The answer is the audit row's id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from jiuzhu.service.auth import authenticate
from jiuzhu.service.schemas import Errors
from jiuzhu.storage.models import AuditEntry

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Errors, "description": "没有或无效的令牌"}
}


class FloorOut(BaseModel):
    audit_id: int


@router.post(
    "/floor",
    status_code=201,
    response_model=FloorOut,
    responses=_ERRORS,
    summary="基准：一次数据库写入（任何角色；供 benchmarks/bench_service.py 对照）",
)
def post_floor(
    request: Request,
    authorization: Annotated[
        str | None, Header(alias="Authorization", include_in_schema=False)
    ] = None,
) -> FloorOut:
    """Authenticate, append one audit row, commit: one small write per request."""
    sessions = request.app.state.service.sessions
    with sessions() as session, session.begin():
        caller = authenticate(session, authorization)
        entry = AuditEntry(
            actor=caller.name, role=caller.role.value, action="floor", target="floor", details={}
        )
        session.add(entry)
        session.flush()
        return FloorOut(audit_id=entry.id)
