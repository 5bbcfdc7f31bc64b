"""The pages' own app, mounted at ``/web`` by the service (:func:`mount_pages`).

A mounted app of its own, rather than routes on the API's app, keeps the two worlds
apart: an error here is a page in Chinese, an error of the API stays JSON; the API's
OpenAPI document lists none of the pages. The service's middleware (the body-size
limit) still applies to both.

Every answer carries a Content-Security-Policy that allows only this origin's own
files: no script or style from elsewhere can run, none is inline, and no page can be
framed. The pages need no script at all (ADR 16).
"""

from __future__ import annotations

import http
import logging
import os
import traceback
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.ids import mask_ids_in
from jiuzhu.service.guard import TooLarge
from jiuzhu.usecases.application_worklist import StoredApplications
from jiuzhu.usecases.staff import LoginLimits
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.worklist import Applications, NoApplications
from jiuzhu.web import (
    application_pages,
    login_pages,
    person_pages,
    policy_pages,
    settlement_pages,
    worklist_pages,
)
from jiuzhu.web.catalogue import Catalogue
from jiuzhu.web.rendering import PREFIX, STATIC, STATIC_PATH, render
from jiuzhu.web.staff import LoginRequired, current_staff

log = logging.getLogger("jiuzhu.web")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持此请求方式",
    413: "提交的内容过大",
    500: "内部错误",
}
MESSAGES = {
    404: "网址有误，或此页面已不存在。",
    405: "此页面不接受这种请求方式。",
    500: "服务器处理本次请求时出错，错误已记录。请稍后重试；如仍不能使用，请联系系统管理员。",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every answer of the pages (static files included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k not in have
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class Static(StaticFiles):
    """``static/``: addresses carry a digest of the file (``rendering.asset``), so a copy
    may be kept for a year; a new version has a new address."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


def create_pages(
    served: CompiledPolicy,
    store: Store | None = None,
    *,
    applications: Applications | None = None,
    login_limits: LoginLimits | None = None,
) -> FastAPI:
    """The pages of a service that applies ``served``. With the service's ``store``, the
    staff pages too (login, worklist, persons, settlements, applications);
    ``applications`` lists the applications (default: the stored ones; none
    without a store)."""
    pages = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    pages.state.catalogue = Catalogue(served)
    pages.state.area = served.policy.jurisdiction
    pages.state.store = store
    pages.state.applications = applications or (
        StoredApplications() if store is not None else NoApplications()
    )
    pages.state.login_limits = login_limits or LoginLimits()
    pages.add_middleware(SecurityHeaders)
    pages.mount(STATIC_PATH, Static(directory=STATIC), name="static")
    pages.include_router(policy_pages.router)
    if store is not None:
        for module in (
            login_pages,
            worklist_pages,
            person_pages,
            settlement_pages,
            application_pages,
        ):
            pages.include_router(module.router)

    @pages.get("/", include_in_schema=False)
    def home(request: Request) -> RedirectResponse:
        # the worklist for a member of staff, the (public) policies for others
        where = "worklist" if current_staff(request) is not None else "policies"
        return RedirectResponse(f"{PREFIX}/{where}", status_code=303)

    @pages.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        query = f"?{urlencode({'next': exc.next_path})}" if exc.next_path else ""
        return RedirectResponse(f"{PREFIX}/login{query}", status_code=303)

    @pages.exception_handler(TooLarge)
    async def _too_large(request: Request, exc: TooLarge) -> Response:
        return error_page(request, 413, "提交的内容超过上限，未作任何处理。", None)

    @pages.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_page(request, exc.status_code, exc.detail, exc.headers)

    @pages.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> Response:
        # the trace is logged as text with ID numbers masked: a value in it may be one
        trace = mask_ids_in("".join(traceback.format_exception(exc)))
        log.error("网页内部错误：%s %s\n%s", request.method, mask_ids_in(request.url.path), trace)
        return error_page(request, 500, None, None)

    return pages


def error_page(
    request: Request, status: int, detail: str | None, headers: Mapping[str, str] | None
) -> Response:
    """A page in Chinese for an error: a message of ours when the route gave one (a
    Chinese ``detail``), else the usual words for the status; never a trace."""
    try:
        default: str | None = http.HTTPStatus(status).phrase
    except ValueError:
        default = None
    ours = detail if detail and detail != default else None
    title = TITLES.get(status, "无法完成请求")
    message = ours or MESSAGES.get(status, "请求未能完成。")
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
        headers=headers,
    )


def mount_pages(
    app: FastAPI,
    served: CompiledPolicy,
    store: Store | None = None,
    *,
    applications: Applications | None = None,
    login_limits: LoginLimits | None = None,
) -> None:
    """Serve the pages at ``/web`` of ``app``, and send a browser that opens the service's
    root address there."""
    pages = create_pages(served, store, applications=applications, login_limits=login_limits)
    app.mount(PREFIX, pages, name="web")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
