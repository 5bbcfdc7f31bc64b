"""Who is asking: the staff member a page is rendered for.

Staff accounts, login, sessions, CSRF and lockout come with issue 14's second part; this
module is where they plug in. Until then nobody is logged in, and only public pages
(the policies, which are public documents) exist. A page that needs a member of staff
will depend on :func:`require_staff`, which then redirects to the login page.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class Staff:
    """What a page shows and checks of the member of staff logged in."""

    username: str
    name: str
    role_zh: str
    """The role in words (乡镇经办, 县级审核, …), as the header shows it."""
    jurisdiction: str
    """GB/T 2260 code or prefix of the area the member may see, as the API's tokens."""


def current_staff(request: Request) -> Staff | None:
    """The member of staff logged in on this request, or None.

    There are no staff accounts yet, so always None; with accounts this reads the
    session cookie (and caches the member on ``request.state``)."""
    del request
    return None
