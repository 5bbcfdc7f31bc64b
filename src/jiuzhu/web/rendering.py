"""Rendering a page: the one Jinja2 environment and what every page's layout needs.

Templates are autoescaped HTML; an undefined name is an error, not an empty string, so a
typo fails the page tests instead of printing nothing. Times are shown in Beijing time
(``domain.clock``). Templates only place values: words and figures come from the layer
below (the policy summary, later the use cases), never computed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from jiuzhu.domain.clock import beijing_text, now_text
from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import format_yuan
from jiuzhu.web.nav import items_for
from jiuzhu.web.staff import current_staff

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = "/web"
"""Where the pages are mounted; every address a template writes starts here."""
STATIC_PATH = "/static"


@cache
def asset(name: str) -> str:
    """The address of a file of ``static/``, with a digest of its content so a browser
    never keeps an old copy after an upgrade (the files are served with long caching)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{PREFIX}{STATIC_PATH}/{name}?v={digest}"


def benefit_zh(key: str) -> str:
    """A benefit identifier of a settlement's JSON in words (the grant included)."""
    from jiuzhu.domain.vocabulary import BENEFIT_ZH, GRANT_ZH, Benefit

    try:
        return BENEFIT_ZH[Benefit(key)]
    except ValueError:
        return GRANT_ZH if key == "critical_care_grant" else key


@cache
def who(actor: str) -> str:
    """``user:clerk`` → ``clerk``; an API client's name stays as it is."""
    return actor.removeprefix("user:")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=asset, prefix=PREFIX)
    env.filters["beijing"] = beijing_text  # an instant as people read it
    env.filters["yuan"] = format_yuan  # fen as people read money: 1234.50
    env.filters["masked"] = mask_id  # the only way an ID number reaches a page
    env.filters["unsigned_yuan"] = lambda fen: format_yuan(abs(fen))  # 补付/追回 say the sign
    env.filters["benefit_zh"] = benefit_zh
    env.filters["who"] = who  # an actor as people read it: the account, not its "user:" prefix
    return env


def page_context(request: Request, active: str | None) -> dict[str, Any]:
    """What the layout shows: who is logged in, the navigation, the area, the time."""
    staff = current_staff(request)
    source = getattr(request.app.state, "applications", None)
    return {
        "staff": staff,
        "csrf": staff.csrf if staff is not None else "",
        "nav": items_for(staff, applications=bool(getattr(source, "enabled", False))),
        "active": active,
        "area": getattr(request.app.state, "area", ""),
        "generated": now_text(),
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    active: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` with ``context`` inside the layout (``base.html``)."""
    page = page_context(request, active)
    html = environment().get_template(template).render({**page, **context})
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if page["staff"] is not None:  # a page for staff may hold personal data: keep no copy
        response.headers["cache-control"] = "no-store"
    return response
