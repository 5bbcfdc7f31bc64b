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


@cache
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
    return env


def page_context(request: Request, active: str | None) -> dict[str, Any]:
    """What the layout shows: who is logged in, the navigation, the area, the time."""
    staff = current_staff(request)
    return {
        "staff": staff,
        "nav": items_for(staff),
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
    html = environment().get_template(template).render({**page_context(request, active), **context})
    return HTMLResponse(html, status_code=status_code, headers=headers)
