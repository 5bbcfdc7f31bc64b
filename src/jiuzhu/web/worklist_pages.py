"""工作台: the member's worklist, 待办 / 已办 / 办结, with filters (kind, township, state,
dates) and paging, over the applications source (``usecases.worklist``, ADR 18).

Filters are a GET form (the address can be bookmarked; it never holds an ID number);
an invalid filter is shown beside its field and the list is not run.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.worklist import Asked, Tab, WorkPage, options, worklist
from jiuzhu.web.forms import FieldErrors
from jiuzhu.web.rendering import PREFIX, render
from jiuzhu.web.staff import Staff, require_staff

router = APIRouter(include_in_schema=False)

FILTERS = ("kind", "township", "state", "since", "until")


def _url(tab: str, values: dict[str, str], page: int | None = None) -> str:
    query = {"tab": tab, **{k: v for k, v in values.items() if v}}
    if page and page > 1:
        query["page"] = str(page)
    return f"{PREFIX}/worklist?{urlencode(query)}"


WINDOW = 4
"""Pages listed on either side of the current one (and always the first and the last)."""


def _window(page: WorkPage) -> list[int]:
    near = range(max(1, page.page - WINDOW), min(page.pages, page.page + WINDOW) + 1)
    return sorted({1, page.pages, *near})


@router.get("/worklist")
def worklist_page(request: Request, member: Staff = Depends(require_staff)) -> Response:
    asked = Asked.of(dict(request.query_params))
    store, source = request.app.state.store, request.app.state.applications
    values = {k: getattr(asked, k) for k in FILTERS}
    errors = FieldErrors()
    try:
        page, opts = worklist(store, member.caller, source, asked)
    except Refused as refused:
        if refused.kind is not Kind.invalid:
            raise
        for e in refused.errors:
            errors.add(e["field"], e["message"])
        tab = Tab(asked.tab) if asked.tab in Tab.__members__ else Tab.todo
        page, opts = None, options(store, member.caller, tab)
    tab_value = page.tab.value if page else (asked.tab if asked.tab in Tab.__members__ else "todo")
    context = {
        "errors": errors,
        "page": page,
        "opts": opts,
        "values": values,
        "tab": tab_value,
        "tabs": [(t, _url(t.value, {})) for t in Tab],
        "pages": [] if page is None else [(n, _url(tab_value, values, n)) for n in _window(page)],
        "prev_url": _url(tab_value, values, page.page - 1) if page and page.page > 1 else None,
        "next_url": _url(tab_value, values, page.page + 1)
        if page and page.page < page.pages
        else None,
    }
    return render(request, "worklist.html", context, active="worklist",
                  status_code=422 if errors else 200)  # fmt: skip
