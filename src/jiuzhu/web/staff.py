"""Who is asking: the member of staff a page is rendered for (ADR 18).

:func:`current_staff` reads the session cookie and asks ``usecases.staff`` for the account
behind it (once per request: the answer is kept on ``request.state``). Every page that
shows personal data depends on :func:`require_staff`, which sends a visitor who is not
logged in to the login page, and back to the page asked for after login. Only the
policy pages (public documents) and the login page itself need nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from jiuzhu.usecases import staff as accounts
from jiuzhu.usecases.access import Caller
from jiuzhu.web.security import SESSION_COOKIE, session_csrf

_UNSET = object()


@dataclass(frozen=True, slots=True)
class Staff:
    """What a page shows and checks of the member of staff logged in."""

    username: str
    name: str
    role_zh: str
    """The role in words (乡镇经办, 县级审核, …), as the header shows it."""
    jurisdiction: str
    """GB/T 2260 code or prefix of the area the member may see, as the API's tokens."""
    csrf: str = ""
    """The token every form of this session carries (``web.security``)."""
    account: accounts.Account | None = None

    @property
    def caller(self) -> Caller:
        """The member as the use cases know callers."""
        if self.account is None:  # only a test's display-only Staff lacks one
            raise RuntimeError("staff without an account")
        return self.account.caller


class LoginRequired(Exception):
    """Raised by :func:`require_staff`; the pages answer with a redirect to the login page."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


def current_staff(request: Request) -> Staff | None:
    """The member of staff logged in on this request, or None."""
    cached = getattr(request.state, "staff", _UNSET)
    if cached is not _UNSET:
        return cached if isinstance(cached, Staff) else None
    store = getattr(request.app.state, "store", None)
    token = request.cookies.get(SESSION_COOKIE)
    account = accounts.account_for(store, token) if store is not None and token else None
    member = None
    if account is not None and token is not None:
        member = Staff(
            account.username,
            account.name,
            account.role.zh,
            account.jurisdiction,
            session_csrf(token),
            account,
        )
    request.state.staff = member
    return member


def require_staff(request: Request) -> Staff:
    """The member logged in, or :class:`LoginRequired` (a GET comes back after login)."""
    member = current_staff(request)
    if member is None:
        back = None
        if request.method == "GET":
            query = f"?{request.url.query}" if request.url.query else ""
            back = f"{request.scope.get('root_path', '')}{request.url.path}{query}"
        raise LoginRequired(back)
    return member
