"""The HTTP service (FastAPI): ``create_app(db_url, policy_ref)``; OpenAPI at /docs.

Routes, roles and jurisdiction: docs/service.md. Every answer other than success is
``{"errors": [{"field": …, "message": …}]}`` with a 4xx status (or 503 when the database
was busy: retry), and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from jiuzhu.domain.ids import mask_id
from jiuzhu.io.errors import describe, dotted
from jiuzhu.io.policy_files import PolicyFileError, load_compiled
from jiuzhu.service.auth import Caller, ServiceError, authenticate
from jiuzhu.service.rosters_route import add_roster_route
from jiuzhu.service.schemas import (
    ClaimBody,
    Errors,
    MembershipOut,
    PersonOut,
    PersonRef,
    ReversalOut,
    SettlementOut,
    YearOut,
)
from jiuzhu.service.settle import Outcome, SettlementService, service_engine
from jiuzhu.storage.db import ENV_VAR, is_busy, upgrade
from jiuzhu.web import mount_pages

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors, "description": text}
    for code, text in {
        401: "没有或无效的令牌",
        403: "角色或辖区不允许",
        404: "不存在",
        409: "冲突（Idempotency-Key 已用于另一单据；已撤销）",
        422: "输入错误：逐项给出字段和原因",
        503: "数据库繁忙（未写入任何数据），按 Retry-After 稍后重试",
    }.items()
}
RETRY_AFTER_SECONDS = 1

AuthHeader = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=dt.UTC)


def _settlement_out(outcome: Outcome) -> SettlementOut:
    v = outcome.view
    return SettlementOut(
        id=v.public_id,
        status="reversed" if v.status == "reversed" else "settled",
        claim_id=v.claim_ref,
        person=PersonRef(id=v.person_public_id, id_number=mask_id(v.id_number)),
        year=v.year,
        policy=v.policy_id,
        revision=v.revision,
        category_source=v.category_source,
        settlement=v.result,
        created_at=_utc(v.created_at) or v.created_at,
        reversed_at=_utc(v.reversed_at),
    )


SERVE_DB = ENV_VAR  # JIUZHU_DB
SERVE_POLICY = "JIUZHU_SERVE_POLICY"


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``jiuzhu serve --workers N`` (the parent has
    migrated the database already): the database from ``JIUZHU_DB``, the policy from
    ``JIUZHU_SERVE_POLICY``."""
    policy = os.environ.get(SERVE_POLICY)
    if not policy:  # set by `jiuzhu serve`: a worker must serve the policy it was given
        raise RuntimeError(f"{SERVE_POLICY} is not set: start workers with jiuzhu serve")
    return create_app(None, policy, migrate=False)


def create_app(
    db_url: str | None,
    policy_ref: str,
    *,
    migrate: bool = True,
    lock_timeout: float = 5.0,
) -> FastAPI:
    """The service over one database (migrated to the newest revision first) and one policy."""
    try:
        compiled = load_compiled(policy_ref)
    except PolicyFileError as err:
        raise ValueError(f"政策错误：\n{err}") from err
    engine = service_engine(db_url, lock_timeout=lock_timeout)
    if migrate:
        upgrade(engine)
    service = SettlementService(engine, compiled)
    app = FastAPI(
        title="jiuzhu 一站式结算服务",
        version="0.1.0",
        description=f"医疗救助“一站式”结算（政策 {compiled.policy.id}）。见 docs/service.md。",
    )
    app.state.service = service
    mount_pages(app, compiled)  # the staff pages at /web (ADR 16)
    app.include_router(__import__("jiuzhu.service.floor", fromlist=["router"]).router)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"errors": exc.errors}, status_code=exc.status, headers=headers)

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSONResponse:
        if not is_busy(exc):
            raise exc  # a fault: 500, logged by the server
        message = "数据库繁忙，本次请求未写入任何数据；请稍后重试（结算请用同一 Idempotency-Key）"
        return JSONResponse(
            {"errors": [{"field": "", "message": message}]},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = tuple(e.get("loc", ()))
            where = loc[1:] if loc and loc[0] in ("body", "path", "header", "query") else loc
            if e.get("type") == "json_invalid":
                errors.append({"field": "", "message": "请求体不是合法的 JSON"})
                continue
            errors.append({"field": dotted(where), "message": describe(dict(e))})
        return JSONResponse({"errors": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI: a body that is not even UTF-8 text; as json_invalid
            return JSONResponse(
                {"errors": [{"field": "", "message": "请求体不是合法的 JSON（须为 UTF-8）"}]},
                status_code=422,
            )
        return JSONResponse(
            {"errors": [{"field": "", "message": str(exc.detail)}]},
            status_code=exc.status_code,
            headers=exc.headers,  # 405 keeps its Allow header (RFC 9110)
        )

    def caller(authorization: str | None) -> Caller:
        with service.sessions() as session, session.begin():
            return authenticate(session, authorization)

    @app.post(
        "/settlements",
        status_code=201,
        response_model=SettlementOut,
        responses={200: {"model": SettlementOut, "description": "重试：首次的结果"}, **ERRORS},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ClaimBody"}}
                },
            }
        },
        summary="结算一张单据（医院）",
    )
    def post_settlement(
        response: Response,
        data: Annotated[Any, Body(include_in_schema=False)],
        authorization: AuthHeader = None,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> SettlementOut:
        who = caller(authorization)
        outcome = service.settle(who, idempotency_key, data)
        if outcome.replay:
            response.status_code = 200
        response.headers["Location"] = f"/settlements/{outcome.view.public_id}"
        return _settlement_out(outcome)

    @app.get("/settlements/{id}", response_model=SettlementOut, responses=ERRORS)
    def get_settlement(id: str, authorization: AuthHeader = None) -> SettlementOut:
        return _settlement_out(service.get(caller(authorization), id))

    @app.post(
        "/settlements/{id}/reversal",
        response_model=ReversalOut,
        responses=ERRORS,
        summary="撤销结算，并按结算顺序重新结算此人当年其余单据",
    )
    def reverse(id: str, authorization: AuthHeader = None) -> ReversalOut:
        outcome, changed = service.reverse(caller(authorization), id)
        return ReversalOut.model_validate(
            {"settlement": _settlement_out(outcome), "changed": changed}
        )

    @app.get("/persons/{id}", response_model=PersonOut, responses=ERRORS)
    def get_person(id: str, authorization: AuthHeader = None) -> PersonOut:
        person, district, held = service.person(caller(authorization), id)
        return PersonOut(
            id=person.public_id,
            id_number=mask_id(person.id_number),
            district=district,
            memberships=[
                MembershipOut(
                    category=m.category.value,
                    category_zh=m.category.zh,
                    valid_from=m.valid_from,
                    valid_to=m.valid_to,
                    source=m.source,
                    closed_by=m.closed_by,
                )
                for m in held
            ],
        )

    @app.get("/persons/{id}/year/{year}", response_model=YearOut, responses=ERRORS)
    def get_year(id: str, year: int, authorization: AuthHeader = None) -> YearOut:
        who = caller(authorization)  # 401 before any 422
        if not 1900 <= year <= 2999:
            raise ServiceError(422, "year", f"年度 {year} 不在 1900–2999 内")
        data = service.year(who, id, year, dt.date.today())
        return YearOut.model_validate(data)

    add_roster_route(app, service, caller, ERRORS)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            body = ClaimBody.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["ClaimBody"] = body
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
