"""``POST /floor``: the cheapest authenticated write the service can do.

It exists for the load benchmark (``benchmarks/bench_service.py``, docs/performance.md):
the same server's throughput on a trivial endpoint that does one database write is the
floor of the framework and the database, against which ``POST /settlements`` is
measured. It is served only when asked for (``create_app(floor=True)``, ``jiuzhu serve
--benchmark-floor``), never by default. In one transaction it checks the bearer token
(as every route does) and appends one row to the audit log (``action`` ``floor``,
chained like every other); nothing else is read or written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from jiuzhu.service.schemas import Errors
from jiuzhu.usecases import audit
from jiuzhu.usecases.tokens import authenticate

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
    summary="基准：一次数据库写入（仅供 benchmarks/bench_service.py 对照，默认不开放）",
)
def post_floor(
    request: Request,
    authorization: Annotated[
        str | None, Header(alias="Authorization", include_in_schema=False)
    ] = None,
) -> FloorOut:
    """Authenticate, append one audit row, commit: one small write per request."""
    engine = request.app.state.store.engine
    with engine.begin() as conn:  # as every route authenticates: a plain connection
        caller = authenticate(conn, authorization)
        row = audit.append(conn, caller.name, caller.role.value, "floor", "floor", {})
        return FloorOut(audit_id=row)
