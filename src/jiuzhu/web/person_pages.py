"""人员查询: a search by 身份证号 sent in the form's body (never in an address), and the
person's page at the person's public id: categories and their sources, the year's
settlements and adjustments, each cap used and remaining, open applications (ADR 18).

A person outside the member's jurisdiction is, to the member, nobody: the search says
there is no such person in the jurisdiction, the page says it does not exist.
"""

from __future__ import annotations

import unicodedata

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiuzhu.domain.ids import looks_like_id, mask_id, mask_value, validate_id
from jiuzhu.usecases import persons
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.person_year import person_year
from jiuzhu.web.forms import FieldErrors, staff_form
from jiuzhu.web.rendering import PREFIX, render
from jiuzhu.web.staff import Staff, require_staff

router = APIRouter(prefix="/persons", include_in_schema=False)


def _search(
    request: Request,
    errors: FieldErrors | None = None,
    found: persons.Lookup | None = None,
    status_code: int = 200,
) -> Response:
    context = {"errors": errors or FieldErrors(), "found": found}
    return render(request, "person_search.html", context, active="persons",
                  status_code=status_code)  # fmt: skip


@router.get("")
def search_page(request: Request, member: Staff = Depends(require_staff)) -> Response:
    return _search(request)


@router.post("")
async def search(request: Request, member: Staff = Depends(require_staff)) -> Response:
    form = await staff_form(request, member.csrf)
    raw = unicodedata.normalize("NFKC", form.get("id_number", "")).strip().upper()
    errors = FieldErrors()
    if not raw:
        errors.add("id_number", "请填写身份证号")
    elif why := validate_id(raw):
        errors.add("id_number", f"{mask_value(raw)}：{why}")
    if errors:
        return _search(request, errors, status_code=422)
    store = request.app.state.store
    try:
        found = await run_in_threadpool(persons.lookup, store, member.caller, {"id_number": raw})
    except Refused as refused:
        if refused.kind not in (Kind.forbidden, Kind.invalid, Kind.not_found):
            raise
        errors.add(
            "id_number",
            f"在您的辖区（{member.jurisdiction}）内没有身份证号为 {mask_id(raw)} 的人员",
        )
        return _search(request, errors, status_code=404)
    if found.registered:
        return RedirectResponse(f"{PREFIX}/persons/{found.person.public_id}", status_code=303)
    return _search(request, found=found)


@router.get("/{public_id}")
def person_page(
    request: Request,
    public_id: str,
    year: str | None = None,
    member: Staff = Depends(require_staff),
) -> Response:
    if looks_like_id(unicodedata.normalize("NFKC", public_id)):
        raise HTTPException(404, "网址中不得出现身份证号：请从“人员查询”按身份证号查询。")
    chosen: int | None = None
    if year:
        if not (year.isdigit() and len(year) == 4):
            raise HTTPException(400, "年度须为四位数字，如 2024。")
        chosen = int(year)
    store = request.app.state.store
    try:
        page = person_year(store, member.caller, request.app.state.applications, public_id, chosen)
    except Refused as refused:
        if refused.kind is Kind.invalid:
            raise HTTPException(400, refused.errors[0]["message"]) from None
        raise HTTPException(404, "没有此人，或此人不在您的辖区内。") from None
    return render(request, "person.html", {"p": page}, active="persons")
