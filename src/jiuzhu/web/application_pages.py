"""申请: the form that registers an application (the 身份证号 in the form's body, never in
an address), an application's page (its timeline, the papers' checklist with uploads,
the home visit, 公示, the amount the engine computed with its explanation line by line,
payment, the notices to print) and the forms of the steps the use case says the member
may take now (ADR 18).

Every form carries the session's CSRF token and the version of the application it was
rendered from. A form the use case refuses is shown again with the member's values and
each error beside its field; a form made on an older version (someone else acted in
between) is refused by the use case, and shown again with what changed, nothing lost and
nothing written. Routes parse, call the use cases, render: the amounts come formatted
from the engine's own lines.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiuzhu.domain.ids import looks_like_id, mask_value
from jiuzhu.usecases import application_documents, application_reads, applications, notices
from jiuzhu.usecases.application_views import ApplicationDetail
from jiuzhu.usecases.applications import WORKFLOW_ROLE, workflow
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.worklist import townships
from jiuzhu.web.application_forms import (
    FORM_OF,
    FORMS,
    MEMBER_ROWS,
    StepForm,
    field_id,
    step_data,
    submit_data,
)
from jiuzhu.web.forms import CSRF_REFUSED, FieldErrors, staff_form
from jiuzhu.web.rendering import PREFIX, render
from jiuzhu.web.security import MAX_FORM_FIELDS, same_origin, token_matches
from jiuzhu.web.staff import Staff, require_staff

router = APIRouter(include_in_schema=False)

SUBMITTERS = {"township_clerk", "civil_affairs", "admin"}
NOT_FOUND = "没有此申请，或它不在您的辖区内。"
STATUS = {Kind.invalid: 422, Kind.conflict: 409, Kind.forbidden: 403, Kind.not_found: 404}
PUBLIC_ID = 32
UPLOAD_FIELDS = ("key", "version")


def _public(public_id: str) -> str:
    if looks_like_id(unicodedata.normalize("NFKC", public_id)):
        raise HTTPException(404, "网址中不得出现身份证号：请从“人员查询”按身份证号查询。")
    if len(public_id) != PUBLIC_ID or not public_id.isalnum():
        raise HTTPException(404, NOT_FOUND)
    return public_id


def _errors(form: str, refused: Refused, known: set[str]) -> FieldErrors:
    """The use case's errors, each by the id of its field on the page; one about nothing
    the form holds (the state, a guard, the version) goes to the form's own message."""
    errors = FieldErrors()
    for e in refused.errors:
        name = str(e.get("field", ""))
        head = name.split("[", 1)[0].split(".", 1)[0]
        target = field_id(form, name) if head in known else f"{form}-form"
        if target in errors.messages and target.endswith("-form"):
            errors.messages[target] += "；" + str(e["message"])
        else:
            errors.add(target, str(e["message"]))
    return errors


# -- 登记申请 -----------------------------------------------------------------------------


def _submit_page(
    request: Request,
    member: Staff,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    store = request.app.state.store
    context = {
        "errors": errors or FieldErrors(),
        "values": values or {},
        "kinds": [(k, v.name) for k, v in store.compiled.policy.applications.items()],
        "townships": townships(store, member.caller),
        "may_submit": member.caller.role.value in SUBMITTERS,
        "today": store.today().isoformat(),
    }
    return render(request, "application_new.html", context, active="applications",
                  status_code=status_code)  # fmt: skip


@router.get("/applications")
def submit_form(request: Request, member: Staff = Depends(require_staff)) -> Response:
    return _submit_page(request, member)


@router.post("/applications")
async def submit(request: Request, member: Staff = Depends(require_staff)) -> Response:
    form = await staff_form(request, member.csrf)
    data = submit_data(form)
    raw = data.get("id_number", "")
    if raw:
        data["id_number"] = unicodedata.normalize("NFKC", raw).strip().upper()
    store = request.app.state.store
    try:
        public_id = await run_in_threadpool(applications.submit, store, member.caller, data)
    except Refused as refused:
        if refused.kind is Kind.forbidden:
            raise HTTPException(403, refused.errors[0]["message"]) from None
        known = {"id_number", "kind", "applicant_name", "township", "received_on", "reason",
                 "account"}  # fmt: skip
        errors = _errors("submit", refused, known)
        kept = {k: v for k, v in form.items() if k not in ("id_number", "csrf")}
        if raw and not errors.get("submit-id_number"):
            kept["id_masked"] = mask_value(raw)
        return _submit_page(request, member, errors, kept, STATUS.get(refused.kind, 422))
    return RedirectResponse(f"{PREFIX}/applications/{public_id}", status_code=303)


# -- the application's page ---------------------------------------------------------------


def _detail(request: Request, member: Staff, public_id: str) -> ApplicationDetail:
    try:
        return application_reads.get(request.app.state.store, member.caller, public_id)
    except Refused as refused:
        if refused.kind in (Kind.not_found, Kind.forbidden):
            raise HTTPException(404, NOT_FOUND) from None
        raise


def _forms(d: ApplicationDetail) -> list[StepForm]:
    keys: list[str] = []
    open_objections = any(o.upheld is None for p in d.publicities for o in p.objections)
    for p in d.possible:
        key = FORM_OF.get(p.key)
        if key is None or key in keys:
            continue
        if key == "resolve_objection" and not open_objections:
            continue
        keys.append(key)
    return [f for k, f in FORMS.items() if k in keys]


def _page(
    request: Request,
    member: Staff,
    d: ApplicationDetail,
    *,
    errors: FieldErrors | None = None,
    posted: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    store = request.app.state.store
    current = next((p for p in reversed(d.publicities)), None)
    context = {
        "d": d,
        "a": d.summary,
        "forms": _forms(d),
        "may_upload": any(p.key == "attach_document" for p in d.possible),
        "errors": errors or FieldErrors(),
        "posted": posted,
        "values": values or {},
        "member_rows": range(MEMBER_ROWS),
        "today": store.today().isoformat(),
        "identification": d.summary.decides == "identification",
        "benefit": d.summary.decides == "benefit",
        "publicity": current,
        "field_id": field_id,
        "role_steps": WORKFLOW_ROLE.get(member.caller.role) is not None,
        "state_names": {s.value: v.name for s, v in workflow().states.items()},
    }
    return render(request, "application.html", context, active="applications",
                  status_code=status_code)  # fmt: skip


@router.get("/applications/{public_id}")
async def application_page(
    request: Request, public_id: str, member: Staff = Depends(require_staff)
) -> Response:
    d = await run_in_threadpool(_detail, request, member, _public(public_id))
    return _page(request, member, d)


@router.post("/applications/{public_id}/steps/{key}")
async def take_step(
    request: Request, public_id: str, key: str, member: Staff = Depends(require_staff)
) -> Response:
    public_id = _public(public_id)
    form = await staff_form(request, member.csrf)
    spec = FORMS.get(key)
    if spec is None:
        raise HTTPException(404, "没有这一办理步骤。")
    store = request.app.state.store
    data = step_data(spec, form)
    try:
        await run_in_threadpool(spec.use, store, member.caller, public_id, data)
    except Refused as refused:
        if refused.kind is Kind.not_found and refused.errors[0]["field"] == "id":
            raise HTTPException(404, NOT_FOUND) from None
        known = {*spec.fields, "investigators", "members", "account", "claims", "objection"}
        errors = _errors(key, refused, known)
        d = await run_in_threadpool(_detail, request, member, public_id)
        kept = {k: v for k, v in form.items() if k != "csrf"}
        return _page(request, member, d, errors=errors, posted=key, values=kept,
                     status_code=STATUS.get(refused.kind, 422))  # fmt: skip
    return RedirectResponse(f"{PREFIX}/applications/{public_id}#history", status_code=303)


# -- papers ------------------------------------------------------------------------------


@router.post("/applications/{public_id}/documents")
async def upload(
    request: Request, public_id: str, member: Staff = Depends(require_staff)
) -> Response:
    """A paper (multipart: ``file``, ``key``, ``version``, ``csrf``)."""
    public_id = _public(public_id)
    posted = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    fields = {k: v for k, v in posted.multi_items() if isinstance(v, str)}
    if not same_origin(request) or not token_matches(member.csrf, fields):
        raise HTTPException(403, CSRF_REFUSED)
    file = posted.get("file")
    content, name, media = b"", "", None
    if isinstance(file, UploadFile):
        content = await file.read()
        name, media = file.filename or "", file.content_type
    data = {k: fields[k].strip() for k in UPLOAD_FIELDS if k in fields}
    store = request.app.state.store
    try:
        await run_in_threadpool(
            lambda: application_documents.attach(
                store, member.caller, public_id, data, content, file_name=name, media_type=media
            )
        )
    except Refused as refused:
        if refused.kind is Kind.not_found and refused.errors[0]["field"] == "id":
            raise HTTPException(404, NOT_FOUND) from None
        errors = _errors("upload", refused, {"file", "key"})
        d = await run_in_threadpool(_detail, request, member, public_id)
        return _page(request, member, d, errors=errors, posted="upload",
                     values={"key": data.get("key", "")},
                     status_code=STATUS.get(refused.kind, 422))  # fmt: skip
    return RedirectResponse(f"{PREFIX}/applications/{public_id}#documents", status_code=303)


@router.get("/applications/{public_id}/documents/{document}")
async def view_document(
    request: Request, public_id: str, document: str, member: Staff = Depends(require_staff)
) -> Response:
    public_id = _public(public_id)
    store = request.app.state.store
    try:
        doc = await run_in_threadpool(
            application_documents.view_document, store, member.caller, public_id, document[:40]
        )
    except Refused as refused:
        if refused.kind in (Kind.not_found, Kind.forbidden):
            raise HTTPException(404, "没有此材料，或它不在您的辖区内。") from None
        raise
    return Response(
        doc.content,
        media_type=doc.view.media_type,
        headers={"content-disposition": "inline", "cache-control": "no-store"},
    )


# -- papers to print ---------------------------------------------------------------------


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="{name}.pdf"',
            "cache-control": "no-store",
        },
    )


@router.get("/applications/{public_id}/notices/{notice}.pdf")
async def notice_pdf(
    request: Request, public_id: str, notice: str, member: Staff = Depends(require_staff)
) -> Response:
    from jiuzhu.io.notices import notice_pdf as render_pdf

    public_id = _public(public_id)
    store = request.app.state.store
    try:
        n = await run_in_threadpool(
            notices.get_notice, store, member.caller, public_id, notice[:40]
        )
    except Refused as refused:
        if refused.kind in (Kind.not_found, Kind.forbidden):
            raise HTTPException(404, "没有此告知书，或它不在您的辖区内。") from None
        raise
    data = await run_in_threadpool(render_pdf, n.kind, n.values)
    return _pdf(data, f"notice-{n.public_id[:12]}")


@router.get("/publicity.pdf")
async def publicity_pdf(
    request: Request,
    stage: str = "result",
    on: str = "",
    township: str = "",
    member: Staff = Depends(require_staff),
) -> Response:
    """公示名单 of one day (names, masked ID numbers), as the paper posted."""
    from jiuzhu.io.notices import publicity_pdf as render_pdf

    query: dict[str, Any] = {"stage": stage[:16], "on": on[:10], "township": township[:64]}
    store = request.app.state.store
    try:
        listed = await run_in_threadpool(
            notices.publicity_list, store, member.caller, {k: v for k, v in query.items() if v}
        )
    except Refused as refused:
        if refused.kind is Kind.invalid:
            raise HTTPException(400, refused.errors[0]["message"]) from None
        if refused.kind is Kind.forbidden:
            raise HTTPException(403, refused.errors[0]["message"]) from None
        raise
    data = await run_in_threadpool(render_pdf, listed.values())
    day = on if on else store.today().isoformat()
    return _pdf(data, f"publicity-{stage[:8]}-{day[:10]}")
