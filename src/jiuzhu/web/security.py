"""The session cookie, CSRF tokens and the checks every form post passes (ADR 18).

Cookies are ``Secure``, ``HttpOnly``, ``SameSite=Strict``, path ``/``, no domain, and
named with the ``__Host-`` prefix, which browsers accept only on those terms (so no
other host of the domain can plant one). ``Secure`` is never turned off: a browser keeps
a Secure cookie over plain HTTP only from a loopback address (``http://127.0.0.1`` and
``localhost`` are secure contexts for Chromium and Firefox), so ``jiuzhu serve`` works
from the machine itself, and everything else must come through HTTPS (a reverse proxy
that terminates TLS, or uvicorn's own). The login page says so rather than letting a
login silently fail to stick.

CSRF: every form carries a hidden ``csrf`` field. After login it is an HMAC of the
session token (which the page's script-free, HttpOnly world never exposes), so only a
page this server rendered for this session can hold it; before login (the login form
itself) it is an HMAC of a random ``__Host-jz_login`` cookie set with the form. A post
whose ``Origin`` header names another host is refused as well, before the token is
even looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "__Host-jz_session"
LOGIN_COOKIE = "__Host-jz_login"
CSRF_FIELD = "csrf"
MAX_FORM_FIELDS = 50


def _mac(key: str, purpose: str) -> str:
    return hmac.new(key.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).hexdigest()


def session_csrf(session_token: str) -> str:
    return _mac(session_token, "jiuzhu-csrf")


def login_csrf(login_cookie: str) -> str:
    return _mac(login_cookie, "jiuzhu-login")


def new_login_cookie() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cookies_can_stick(request: Request) -> bool:
    """Whether a browser will keep our Secure cookies for this address: over HTTPS, or
    over HTTP from a loopback address (a secure context)."""
    return request.url.scheme == "https" or is_loopback(request.url.hostname)


def same_origin(request: Request) -> bool:
    """A post from a page of this host (no ``Origin``: an old browser, or a test client;
    the CSRF token still decides)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def token_matches(expected: str | None, form: Mapping[str, str]) -> bool:
    given = form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())
