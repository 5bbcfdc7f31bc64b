"""登录 and 退出: the login form, its post, and logout (ADR 18).

The login form carries a CSRF token of its own (an HMAC of the ``__Host-jz_login``
cookie set with the form), so another site cannot log a browser in to an account of its
choosing. A wrong name or password is one message for both, beside the password field;
after repeated failures the account (or the address) is locked for a while and the page
says for how long. A successful login gets a new session token (never one the browser
brought) and goes back to the page that asked for it, if that was one of ours.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiuzhu.usecases import staff as accounts
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.web.forms import FieldErrors, read_form, staff_form
from jiuzhu.web.rendering import PREFIX, render
from jiuzhu.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    cookies_can_stick,
    login_csrf,
    new_login_cookie,
    same_origin,
    set_cookie,
    token_matches,
)
from jiuzhu.web.staff import current_staff, require_staff

router = APIRouter(include_in_schema=False)

HOME = f"{PREFIX}/worklist"
STATUS = {Kind.unauthenticated: 401, Kind.forbidden: 403, Kind.throttled: 429}


def safe_next(value: str | None) -> str | None:
    """An address to return to after login: one of the pages, never another site."""
    if not value or not value.startswith(PREFIX + "/") or len(value) > 500:
        return None
    if "//" in value or "\\" in value or any(ord(c) < 0x20 for c in value):
        return None
    return value


def _form(
    request: Request,
    *,
    errors: FieldErrors | None = None,
    username: str = "",
    next_path: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE) or new_login_cookie()
    limits: accounts.LoginLimits = request.app.state.login_limits
    response = render(
        request,
        "login.html",
        {
            "errors": errors or FieldErrors(),
            "username": username,
            "next": next_path or "",
            "login_csrf": login_csrf(cookie),
            "notice": notice,
            "insecure": not cookies_can_stick(request),
            "lock_after": limits.account.allowed + 1,
            "lock_minutes": int(limits.account.window.total_seconds() // 60),
        },
        active="login",
        status_code=status_code,
        headers=headers,
    )
    response.headers["cache-control"] = "no-store"
    set_cookie(response, LOGIN_COOKIE, cookie)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None, out: str | None = None) -> Response:
    if current_staff(request) is not None and out is None:
        return RedirectResponse(safe_next(next) or HOME, status_code=303)
    notice = "您已退出登录。" if out is not None else None
    return _form(request, next_path=safe_next(next), notice=notice)


@router.post("/login")
async def login_post(request: Request) -> Response:
    form = await read_form(request)
    username = form.get("username", "")
    next_path = safe_next(form.get("next"))
    errors = FieldErrors()
    if not cookies_can_stick(request):
        errors.add("username", "须通过 HTTPS 访问本系统才能登录（见页首说明）")
        return _form(request, errors=errors, username=username, next_path=next_path,
                     status_code=403)  # fmt: skip
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not same_origin(request) or not token_matches(cookie and login_csrf(cookie), form):
        errors.add("username", "登录页已过期或来自其他网站，请重新输入并登录")
        return _form(request, errors=errors, username=username, next_path=next_path,
                     status_code=403)  # fmt: skip
    password = form.get("password", "")
    if not username:
        errors.add("username", "请填写用户名")
    if not password:
        errors.add("password", "请填写密码")
    if errors:
        return _form(request, errors=errors, username=username, next_path=next_path,
                     status_code=422)  # fmt: skip
    store = request.app.state.store
    address = request.client.host if request.client else "unknown"
    try:
        done = await run_in_threadpool(
            accounts.login, store, username, password, address, request.app.state.login_limits
        )
    except Refused as refused:
        errors.add(refused.errors[0]["field"], refused.errors[0]["message"])
        retry = {"retry-after": str(refused.retry_after)} if refused.retry_after else None
        return _form(request, errors=errors, username=username, next_path=next_path,
                     status_code=STATUS.get(refused.kind, 400), headers=retry)  # fmt: skip
    response = RedirectResponse(next_path or HOME, status_code=303)
    set_cookie(response, SESSION_COOKIE, done.token)
    clear_cookie(response, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    member = require_staff(request)
    await staff_form(request, member.csrf)
    assert member.account is not None
    await run_in_threadpool(accounts.logout, request.app.state.store, member.account)
    response = RedirectResponse(f"{PREFIX}/login?out=1", status_code=303)
    clear_cookie(response, SESSION_COOKIE)
    return response
