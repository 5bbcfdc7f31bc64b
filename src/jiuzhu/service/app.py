"""The HTTP service (FastAPI): ``create_app(db_url, policy_ref)``; OpenAPI at /docs.

A thin edge over ``jiuzhu.usecases``: each route reads its input (``guard.read_json``),
authenticates, calls one use case in the thread pool and renders its result. Routes,
roles and jurisdiction: docs/service.md. Every answer other than success is
``{"errors": [{"field": …, "message": …}]}`` (cleaned by ``guard.clean``) with a 4xx
status, 503 when the database was busy (retry), or 500 for a fault (logged, ID numbers
masked); nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from jiuzhu.domain.ids import looks_like_id, mask_id
from jiuzhu.io.errors import describe, dotted
from jiuzhu.io.policy_files import PolicyFileError, load_compiled
from jiuzhu.service import schemas as s
from jiuzhu.service.application_schemas import BODIES as APPLICATION_BODIES
from jiuzhu.service.applications_route import add_application_routes
from jiuzhu.service.docs import add_docs
from jiuzhu.service.guard import (
    BodyLimit,
    TooLarge,
    UnsupportedMedia,
    clean,
    mask_all,
    read_json,
    too_large_message,
)
from jiuzhu.service.query_params import only
from jiuzhu.service.rosters_route import add_roster_route
from jiuzhu.storage.db import ENV_VAR, is_busy, upgrade
from jiuzhu.usecases import national, persons, reads, reverse, settle, tokens
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store, policy_area, service_engine
from jiuzhu.usecases.views import AdjustmentView, SettlementView
from jiuzhu.web import mount_pages

log = logging.getLogger("jiuzhu.service")

STATUS = {
    Kind.unauthenticated: 401,
    Kind.forbidden: 403,
    Kind.not_found: 404,
    Kind.conflict: 409,
    Kind.invalid: 422,
    Kind.throttled: 429,
}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": s.Errors, "description": text}
    for code, text in {
        401: "没有、无效、已吊销或已过期的令牌",
        403: "角色或辖区不允许",
        404: "不存在（或不属于本院）",
        409: "冲突（Idempotency-Key 已用于另一单据；单据号已结算，Location 指向该结算；已撤销）",
        413: "请求体过大",
        415: "Content-Type 须为 application/json",
        422: "输入错误：逐项给出字段和原因",
        429: "认证失败次数过多：按 Retry-After 稍后再试",
        500: "内部错误（已记录）",
        503: "数据库繁忙（未写入任何数据），按 Retry-After 稍后重试",
    }.items()
}
RETRY_AFTER_SECONDS = 1
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
OLD_ID_LEN = 15  # 身份证号 issued before 1999 (GB 11643-1989)

SERVE_DB = ENV_VAR  # JIUZHU_DB
SERVE_POLICY = "JIUZHU_SERVE_POLICY"
SERVE_AREA = "JIUZHU_SERVE_AREA"
SERVE_FLOOR = "JIUZHU_SERVE_FLOOR"

T = TypeVar("T")


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``jiuzhu serve --workers N`` (the parent has
    migrated the database already): the database from ``JIUZHU_DB``, the policy from
    ``JIUZHU_SERVE_POLICY``, the area from ``JIUZHU_SERVE_AREA``."""
    policy = os.environ.get(SERVE_POLICY)
    if not policy:  # set by `jiuzhu serve`: a worker must serve the policy it was given
        raise RuntimeError(f"{SERVE_POLICY} is not set: start workers with jiuzhu serve")
    return create_app(
        None,
        policy,
        migrate=False,
        area=os.environ.get(SERVE_AREA) or None,
        floor=os.environ.get(SERVE_FLOOR) == "1",
    )


# -- rendering ------------------------------------------------------------------------


def _adjustment_out(a: AdjustmentView) -> dict[str, Any]:
    from jiuzhu.domain.money import format_yuan

    return {
        "id": a.public_id,
        "cursor": str(a.seq),
        "settlement_id": a.settlement_id,
        "claim_id": a.claim_ref,
        "benefit": a.benefit,
        "direction": a.direction,
        "amount": format_yuan(a.amount),
        "before": format_yuan(a.before),
        "after": format_yuan(a.after),
        "cause": {"kind": a.cause_kind, "ref": a.cause_ref, "text": a.cause_text},
        "lines": a.lines,
        "created_at": a.created_at,
    }


def settlement_out(v: SettlementView) -> dict[str, Any]:
    r = v.reversal
    return {
        "id": v.public_id,
        "status": v.status,
        "claim_id": v.claim_ref,
        "person": {"id": v.person_public_id, "id_number": mask_id(v.id_number)},
        "year": v.year,
        "policy": v.policy_id,
        "category_source": v.category_source,
        "settlement": v.result,
        "adjustments": [_adjustment_out(a) for a in v.adjustments],
        "current": v.current(),
        "reversal": None
        if r is None
        else {
            "id": r.public_id,
            "by": r.actor,
            "role": r.role,
            "reason": r.reason,
            "amounts": r.amounts,
            "adjusted_claims": r.adjusted_claims,
            "created_at": r.created_at,
        },
        "created_at": v.created_at,
    }


def _memberships(held: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "category": m.category.value,
            "category_zh": m.category.zh,
            "valid_from": m.valid_from,
            "valid_to": m.valid_to,
            "source": m.source,
            "closed_by": m.closed_by,
        }
        for m in held
    ]


def _no_id_in_path(value: str, field: str = "id") -> None:
    """ID numbers never travel in URLs: refuse one that was put there (it is masked in
    the access log all the same). The whole value must be one (18 characters, or the old
    15 digits, in any digits): a public id may hold a long run of digits by chance."""
    plain = unicodedata.normalize("NFKC", value).strip()
    if looks_like_id(plain) or (len(plain) == OLD_ID_LEN and plain.isdigit()):
        raise Refused(
            Kind.invalid,
            field,
            "网址中不得出现身份证号：查询人员请用 POST /persons/lookup（身份证号放在请求体中）",
        )


# -- the app --------------------------------------------------------------------------


def create_app(
    db_url: str | None,
    policy_ref: str,
    *,
    migrate: bool = True,
    lock_timeout: float = 5.0,
    area: str | None = None,
    floor: bool = False,
    today: Callable[[], dt.date] | None = None,
    failures: tokens.FailureLimit | None = None,
) -> FastAPI:
    """The service over one database (migrated to the newest revision first) and one
    policy. ``area``: the GB/T 2260 prefix of the policy's area (default: from the
    policy's ``jurisdiction``); ``floor``: serve the benchmark's ``POST /floor``;
    ``today``: the date in Beijing (tests); ``failures``: the authentication throttle."""
    try:
        compiled = load_compiled(policy_ref)
    except PolicyFileError as err:
        raise ValueError(f"政策错误：\n{err}") from err
    if area is not None:
        why = tokens.check_jurisdiction(area)
        if why:
            raise ValueError(why)
    chosen = area or policy_area(compiled)
    engine = service_engine(db_url, lock_timeout=lock_timeout)
    if migrate:
        upgrade(engine)
    store = Store(engine, compiled, chosen)
    if today is not None:
        store.today = today
    if failures is not None:
        store.failures = failures
    app = FastAPI(
        title="jiuzhu 一站式结算服务",
        version="0.2.0",
        description=(
            f"医疗救助“一站式”结算（政策 {compiled.policy.id}，适用地区"
            f" {compiled.policy.jurisdiction}，代码 {chosen}）。见 docs/service.md。"
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.add_middleware(BodyLimit)
    add_docs(app)
    mount_pages(app, compiled, store)  # the staff pages at /web (ADR 16, 18)
    _handlers(app)
    if floor:
        from jiuzhu.service.floor import router

        app.include_router(router)

    def who(request: Request) -> Caller:
        """Authenticate; a failure is counted for the client's address (its own
        transaction) and, past the limit, answered 429."""
        header = request.headers.get("authorization")
        try:
            with store.single.connect() as conn:  # one indexed read, no ORM session
                return tokens.authenticate(conn, header)
        except Refused as refused:
            if refused.kind is not Kind.unauthenticated or not header:
                raise
            address = request.client.host if request.client else "unknown"
            with store.engine.begin() as conn:
                wait = tokens.blocked_for(conn, address)
                wait = (
                    tokens.record_failure(conn, address, store.failures) if wait is None else wait
                )
            if wait is not None:
                raise tokens.throttled(wait) from None
            raise

    async def call(
        request: Request, work: Callable[[Caller], T], *, path: dict[str, str] | None = None
    ) -> T:
        """Authenticate, check the path holds no ID number, run ``work``: in the thread
        pool, so one request costs one hop to it."""

        def run() -> T:
            caller = who(request)
            for field, value in (path or {}).items():
                _no_id_in_path(value, field)
            return work(caller)

        return await run_in_threadpool(run)

    _routes(app, store, who, call)
    add_roster_route(app, store, who, ERRORS)
    add_application_routes(app, store, call, ERRORS)  # 依申请救助 (docs/applications.md)
    _openapi(app)
    return app


def _handlers(app: FastAPI) -> None:
    def errors(status: int, items: list[dict[str, Any]], **headers: str) -> JSONResponse:
        return JSONResponse({"errors": clean(items)}, status_code=status, headers=headers or None)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        headers: dict[str, str] = {}
        if exc.kind is Kind.unauthenticated:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.location:
            headers["Location"] = exc.location
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return errors(STATUS[exc.kind], exc.errors, **headers)

    @app.exception_handler(TooLarge)
    async def _too_large(_request: Request, exc: TooLarge) -> JSONResponse:
        return errors(413, [{"field": "", "message": too_large_message(exc.limit)}])

    @app.exception_handler(UnsupportedMedia)
    async def _media(_request: Request, _exc: UnsupportedMedia) -> JSONResponse:
        message = "Content-Type 须为 application/json（UTF-8 编码的 JSON）"
        return errors(415, [{"field": "Content-Type", "message": message}])

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        if not is_busy(exc):
            return await _fault(request, exc)
        message = "数据库繁忙，本次请求未写入任何数据；请稍后重试（结算请用同一 Idempotency-Key）"
        return errors(
            503, [{"field": "", "message": message}], **{"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        items = []
        for e in exc.errors():
            loc = tuple(e.get("loc", ()))
            where = loc[1:] if loc and loc[0] in ("body", "path", "header", "query") else loc
            if e.get("type") == "json_invalid":
                items.append({"field": "", "message": "请求体不是合法的 JSON"})
                continue
            items.append({"field": dotted(where), "message": describe(dict(e))})
        return errors(422, jsonable_encoder(items))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not even UTF-8 text; as json_invalid
            return errors(422, [{"field": "", "message": "请求体不是合法的 JSON（须为 UTF-8）"}])
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not just the first route's
            headers["Allow"] = ", ".join(_methods(app, request))
        return JSONResponse(
            {"errors": clean([{"field": "", "message": str(exc.detail)}])},
            status_code=exc.status_code,
            headers=headers,  # 405 keeps its Allow header (RFC 9110)
        )

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        log.error("内部错误：%s %s", request.method, mask_all(request.url.path), exc_info=exc)
        return errors(500, [{"field": "", "message": "内部错误，已记录；请联系医保经办机构"}])


def _methods(app: FastAPI, request: Request) -> list[str]:
    from starlette.routing import Match, Route

    by_params: dict[int, set[str]] = {}
    for route in app.routes:
        if isinstance(route, Route) and route.methods:
            match, child = route.matches({**request.scope, "method": next(iter(route.methods))})
            if match is Match.FULL:
                params = len(child.get("path_params", {}))
                by_params.setdefault(params, set()).update(route.methods)
    # /persons/lookup is its own resource, not /persons/{id} with the id "lookup"
    return sorted(by_params[min(by_params)]) if by_params else []


def _date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Refused(Kind.invalid, field, "日期须为 YYYY-MM-DD") from None


def _routes(
    app: FastAPI,
    store: Store,
    who: Callable[[Request], Caller],
    call: Callable[..., Any],
) -> None:
    idem = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": settle.MAX_KEY},
        "description": "每张单据一个；重试时不变",
    }

    def json_body(model: type) -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                    }
                },
            }
        }

    @app.post(
        "/settlements",
        status_code=201,
        response_model=s.SettlementOut,
        responses={200: {"model": s.SettlementOut, "description": "重试：首次的结果"}, **ERRORS},
        openapi_extra={**json_body(s.ClaimBody), "parameters": [idem]},
        summary="结算一张单据（医院）",
    )
    async def post_settlement(request: Request, response: Response) -> Any:
        data = await read_json(request)
        key = request.headers.get("idempotency-key")
        outcome = await call(request, lambda c: settle.settle(store, c, key, data))
        if outcome.replay:
            response.status_code = 200
        response.headers["Location"] = f"/settlements/{outcome.view.public_id}"
        return settlement_out(outcome.view)

    @app.post(
        "/settlements/preview",
        response_model=s.PreSettlementOut,
        responses=ERRORS,
        openapi_extra=json_body(s.ClaimBody),
        summary="预结算：同样计算与解释，不保存、不占用限额（医院）",
    )
    async def post_preview(request: Request) -> Any:
        data = await read_json(request)
        p = await call(request, lambda c: settle.preview(store, c, data))
        return {
            "pre_settlement": True,
            "claim_id": p.claim_ref,
            "person": {"id": p.person_public_id, "id_number": mask_id(p.id_number)},
            "year": p.year,
            "policy": p.policy_id,
            "category_source": p.category_source,
            "settlement": p.result,
        }

    @app.get(
        "/settlements",
        response_model=s.SettlementPage,
        responses=ERRORS,
        summary="结算列表：医院只列本院的；按结算日期、人员、状态筛选，游标分页",
    )
    async def list_settlements(
        request: Request,
        settled_from: Annotated[
            str | None, Query(pattern=DATE, description="结算日期起（含），YYYY-MM-DD")
        ] = None,
        settled_to: Annotated[
            str | None, Query(pattern=DATE, description="结算日期止（含），YYYY-MM-DD")
        ] = None,
        person: Annotated[str | None, Query(max_length=32, description="人员内部标识")] = None,
        status: Annotated[str | None, Query(pattern="^(settled|reversed)$")] = None,
        after: Annotated[str | None, Query(pattern="^[0-9]{1,18}$")] = None,
        limit: Annotated[int, Query(ge=1, le=reads.MAX_PAGE)] = 50,
    ) -> Any:
        def work(c: Caller) -> reads.Page:
            only(request, "settled_from", "settled_to", "person", "status", "after", "limit")
            since, until = _date(settled_from, "settled_from"), _date(settled_to, "settled_to")
            filters = reads.Filters(since, until, person, status)
            return reads.list_settlements(store, c, filters, after, limit)

        page = await call(request, work)
        return {"items": [settlement_out(v) for v in page.items], "next_after": page.next_after}

    @app.get(
        "/settlements/by-claim/{claim_id}",
        response_model=s.SettlementOut,
        responses=ERRORS,
        summary="按本院单据号取结算（医院）",
    )
    async def by_claim(request: Request, claim_id: str) -> Any:
        view = await call(
            request, lambda c: reads.by_claim(store, c, claim_id), path={"claim_id": claim_id}
        )
        return settlement_out(view)

    @app.get("/settlements/{id}", response_model=s.SettlementOut, responses=ERRORS)
    async def get_settlement(request: Request, id: str) -> Any:
        return settlement_out(
            await call(request, lambda c: reads.get(store, c, id), path={"id": id})
        )

    @app.post(
        "/settlements/{id}/reversal",
        response_model=s.ReversalOut,
        responses=ERRORS,
        openapi_extra=json_body(s.ReversalBody),
        summary="撤销结算（须写明原因），并重新结算此人当年其余单据：差额记为调整",
    )
    async def post_reversal(request: Request, id: str) -> Any:
        data = await read_json(request)
        if not isinstance(data, dict) or set(data) - {"reason"}:
            raise Refused(Kind.invalid, "reason", '请求体须为 {"reason": "撤销原因"}')
        done = await call(
            request, lambda c: reverse.reverse(store, c, id, data.get("reason")), path={"id": id}
        )
        return _reversal_out(done)

    @app.get(
        "/adjustments",
        response_model=s.AdjustmentPage,
        responses=ERRORS,
        summary="调整（补付、追回）的订阅：医院只见本院单据的调整，按 after 游标续取",
    )
    async def list_adjustments(
        request: Request,
        after: Annotated[str | None, Query(pattern="^[0-9]{1,18}$")] = None,
        limit: Annotated[int, Query(ge=1, le=reads.MAX_PAGE)] = 100,
    ) -> Any:
        def work(c: Caller) -> reads.Page:
            only(request, "after", "limit")
            return reads.adjustments_feed(store, c, after, limit)

        page = await call(request, work)
        return {"items": [_adjustment_out(a) for a in page.items], "next_after": page.next_after}

    @app.post(
        "/persons/lookup",
        response_model=s.LookupOut,
        responses=ERRORS,
        openapi_extra=json_body(s.LookupBody),
        summary="按身份证号（在请求体中）查询人员：今天适用的类别、原因与本年度余额",
    )
    async def post_lookup(request: Request) -> Any:
        data = await read_json(request)
        found = await call(request, lambda c: persons.lookup(store, c, data))
        view = found.person
        return {
            "registered": found.registered,
            "person": {"id": view.public_id or None, "id_number": mask_id(view.id_number)},
            "district": view.district,
            "memberships": _memberships(view.memberships),
            "today": found.year,
        }

    @app.get("/persons/{id}", response_model=s.PersonOut, responses=ERRORS)
    async def get_person(request: Request, id: str) -> Any:
        view = await call(request, lambda c: persons.person(store, c, id), path={"id": id})
        return {
            "id": view.public_id,
            "id_number": mask_id(view.id_number),
            "district": view.district,
            "memberships": _memberships(view.memberships),
        }

    @app.get("/persons/{id}/year/{year}", response_model=s.YearOut, responses=ERRORS)
    async def get_year(request: Request, id: str, year: int) -> Any:
        return await call(request, lambda c: persons.year(store, c, id, year), path={"id": id})

    @app.post(
        "/tokens/rotation",
        response_model=s.RotationOut,
        responses=ERRORS,
        summary="轮换本客户端的令牌：返回新令牌（只显示一次），旧令牌 24 小时后失效",
    )
    async def post_rotation(request: Request) -> Any:
        header = request.headers.get("authorization")

        def rotate(c: Caller) -> tokens.Rotated:
            with store.sessions() as session, session.begin():
                return tokens.rotate_own(session, c, header)

        done = await call(request, rotate)
        return {"token": done.token, "fingerprint": done.fingerprint,
                "old_expires_at": done.old.expires_at}  # fmt: skip

    @app.post(
        "/national/2207",
        status_code=201,
        response_model=s.NationalOut,
        responses={200: {"model": s.NationalOut, "description": "重试：首次的结果"}, **ERRORS},
        openapi_extra={"parameters": [{**idem, "required": False}], **_national_body("2207")},
        summary="国家医保信息平台 2207（结算）格式的结算（医院）",
    )
    async def post_2207(request: Request, response: Response) -> Any:
        data = await read_json(request, exact_decimals=True)
        key = request.headers.get("idempotency-key")
        outcome, out = await call(request, lambda c: national.settle_2207(store, c, key, data))
        response.status_code = 200 if outcome.replay else 201
        response.headers["Location"] = f"/settlements/{outcome.view.public_id}"
        return out

    @app.post(
        "/national/2208",
        responses={
            200: {"description": "按国家医保信息平台 2208 的字段作答（金额为负）"},
            **ERRORS,
        },
        openapi_extra=_national_body("2208"),
        summary="国家医保信息平台 2208（结算撤销）格式的撤销（医院）：金额为负",
    )
    async def post_2208(request: Request) -> Any:
        data = await read_json(request, exact_decimals=True)
        _done, out = await call(request, lambda c: national.reverse_2208(store, c, data))
        return out


def _reversal_out(done: reverse.Reversed) -> dict[str, Any]:
    from jiuzhu.domain.money import format_yuan

    return {
        "settlement": settlement_out(done.settlement),
        "adjusted_claims": done.adjusted_claims,
        "changed": [
            {
                "settlement_id": c.settlement_id,
                "claim_id": c.claim_ref,
                "changes": {
                    k: {"before": format_yuan(b), "after": format_yuan(a)}
                    for k, (b, a) in c.changes.items()
                },
            }
            for c in done.changed
        ],
    }


def _national_body(infno: str) -> dict[str, Any]:
    fields = (
        sorted(national.KNOWN_2207)
        if infno == "2207"
        else ["setl_id", "mdtrt_id", "psn_no", "expContent"]
    )
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["infno", "msgid", "input"],
                        "properties": {
                            "infno": {"type": "string", "enum": [infno]},
                            "msgid": {"type": "string", "minLength": 1, "maxLength": 30},
                            "input": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "data": {
                                        "type": "object",
                                        "properties": {f: {} for f in fields},
                                    }
                                },
                            },
                        },
                    }
                }
            },
        }
    }


def _openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (s.ClaimBody, s.ReversalBody, s.LookupBody, *APPLICATION_BODIES):
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[model.__name__] = body
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
