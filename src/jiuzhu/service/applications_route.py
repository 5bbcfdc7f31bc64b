"""The application routes (依申请救助): a thin edge over the application use cases.

``POST /applications`` registers one; ``POST /applications/{id}/steps/{step}`` takes a
step (every step names the version it was made on); papers are uploaded as
``multipart/form-data`` (read with the standard library's MIME parser, as ``/rosters``)
and viewed whole; notices are JSON or PDF; the 公示 list JSON, PDF or XLSX. ID numbers
travel in bodies only and are masked in every answer. Roles and jurisdictions are the
tokens' (docs/applications.md).
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from jiuzhu.domain.money import format_yuan
from jiuzhu.service import application_schemas as a
from jiuzhu.service.guard import read_json
from jiuzhu.usecases import (
    application_documents,
    application_reads,
    applications,
    approval,
    assessment,
    home_visits,
    notices,
    publicity,
)
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_views import ApplicationDetail, ApplicationSummary
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store

STEPS: dict[str, Callable[[Store, Caller, str, Any], str]] = {
    "request_supplement": applications.request_supplement,
    "resubmit": applications.resubmit,
    "accept": applications.accept,
    "not_accept": applications.not_accept,
    "withdraw": applications.withdraw,
    "record_visit": home_visits.record_visit,
    "township_approve": home_visits.township_approve,
    "township_refuse": home_visits.township_refuse,
    "record_objection": publicity.record_objection,
    "resolve_objection": publicity.resolve_objection,
    "close_publicity": publicity.close_publicity,
    "refuse_on_objection": publicity.refuse_on_objection,
    "assess": assessment.assess,
    "review": approval.review,
    "return_to_township": approval.return_to_township,
    "approve": approval.approve,
    "return_to_review": approval.return_to_review,
    "refuse": approval.refuse,
    "pay": approval.pay,
}
"""The steps by the name the route takes (docs/applications.md lists what each needs)."""

STEP_PATTERN = "^(" + "|".join(STEPS) + ")$"
DOCUMENT_FIELDS = ("file", "key", "version")


# -- rendering -----------------------------------------------------------------------------


def summary_out(s: ApplicationSummary) -> dict[str, Any]:
    return {
        "id": s.public_id,
        "number": s.number,
        "policy": s.policy_id,
        "kind": s.kind,
        "kind_name": s.kind_name,
        "decides": s.decides,
        "person": {"id": s.person_public_id, "id_number": s.id_number},
        "applicant_name": s.applicant_name,
        "district": s.district_code,
        "township": s.township,
        "state": s.state,
        "state_name": s.state_name,
        "open": s.open,
        "entered_on": s.entered_on,
        "due": s.due,
        "overdue": s.overdue,
        "version": s.version,
        "received_on": s.received_on,
        "year": s.year,
    }


def detail_out(d: ApplicationDetail) -> dict[str, Any]:
    return {
        "application": summary_out(d.summary),
        "reason": d.reason,
        "clause": d.clause,
        "account": d.account,
        "bill": d.bill,
        "history": [
            {
                "seq": e.seq,
                "action": e.action,
                "name": e.name,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor,
                "role": e.role,
                "role_zh": e.role_zh,
                "at": e.at,
                "on_date": e.on_date,
                "opinion": e.opinion,
                "details": e.details,
            }
            for e in d.history
        ],
        "checklist": [
            {
                "key": c.key,
                "name": c.name,
                "given": c.given,
                "uploads": [
                    {
                        "id": u.public_id,
                        "key": u.key,
                        "file_name": u.file_name,
                        "media_type": u.media_type,
                        "size": u.size,
                        "sha256": u.sha256,
                        "uploaded_by": u.uploaded_by,
                        "uploaded_at": u.uploaded_at,
                    }
                    for u in c.uploads
                ],
            }
            for c in d.checklist
        ],
        "visits": [
            {
                "visited_on": v.visited_on,
                "investigators": v.investigators,
                "members": [
                    {
                        "name": m.name,
                        "relation": m.relation,
                        "age": m.age,
                        "health": m.health,
                        "occupation": m.occupation,
                        "income": format_yuan(m.income_fen),
                    }
                    for m in v.members
                ],
                "income": format_yuan(v.income_fen),
                "assets": v.assets,
                "illness": v.illness,
                "opinion": v.opinion,
                "witness_name": v.witness_name,
                "witness_title": v.witness_title,
                "recorded_by": v.recorded_by,
            }
            for v in d.visits
        ],
        "publicities": [
            {
                "stage": p.stage,
                "starts_on": p.starts_on,
                "ends_on": p.ends_on,
                "place": p.place,
                "objections": [
                    {
                        "id": o.public_id,
                        "received_on": o.received_on,
                        "text": o.text,
                        "received_by": o.received_by,
                        "upheld": o.upheld,
                        "resolution": o.resolution,
                        "resolved_by": o.resolved_by,
                    }
                    for o in p.objections
                ],
            }
            for p in d.publicities
        ],
        "assessment": None
        if d.assessment is None
        else {
            "id": d.assessment.public_id,
            "amount": format_yuan(d.assessment.amount_fen),
            "identified_on": d.assessment.identified_on,
            "selections": d.assessment.selections,
            "lines": d.assessment.lines,
            "computed_by": d.assessment.computed_by,
            "computed_on": d.assessment.computed_on,
        },
        "instructions": [
            {
                "id": i.public_id,
                "payee_kind": i.payee_kind,
                "payee_name": i.payee_name,
                "amount": format_yuan(i.amount_fen),
                "payment": None
                if i.payment is None
                else {
                    "account": i.payment.account,
                    "voucher": i.payment.voucher,
                    "paid_on": i.payment.paid_on,
                    "paid_by": i.payment.paid_by,
                },
            }
            for i in d.instructions
        ],
        "notices": [
            {
                "id": n.public_id,
                "kind": n.kind,
                "number": n.number_text,
                "issued_on": n.issued_on,
                "values": n.values,
            }
            for n in d.notices
        ],
        "possible": [{"key": p.key, "name": p.name, "kind": p.kind} for p in d.possible],
    }


# -- multipart ------------------------------------------------------------------------------


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def parse_document(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes, str, str]:
    """(fields, file bytes, file name, declared media type) of a paper's upload."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise Refused(
            Kind.invalid, "file", "须以 multipart/form-data 上传材料（字段 file、key、version）"
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart() or msg.defects:
        raise Refused(Kind.invalid, "file", "multipart/form-data 请求体无法解析")
    fields: dict[str, Any] = {}
    content, name, media = b"", "", ""
    for part in msg.iter_parts():
        field = _text(part.get_param("name", header="content-disposition"))  # type: ignore[arg-type]
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if field == "file":
            content = data
            name = _text(part.get_filename())
            media = part.get_content_type()
        elif field in DOCUMENT_FIELDS:
            fields[field] = _text(data).strip()
    if not content:
        raise Refused(Kind.invalid, "file", "缺少材料文件（字段 file）")
    return fields, content, name, media


UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "key", "version"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "PDF、JPEG 或 PNG",
                    },
                    "key": {"type": "string", "description": "材料清单中的项目（如 diagnosis）"},
                    "version": {"type": "string", "description": "所依据的申请版本号"},
                },
            }
        }
    },
}
BINARY = {
    "content": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
    },
    "description": "材料原件",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the routes -----------------------------------------------------------------------------


def add_application_routes(
    app: FastAPI,
    store: Store,
    call: Callable[..., Any],
    errors: dict[int | str, dict[str, Any]],
) -> None:
    def body_ref(model: type) -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                    }
                },
            }
        }

    def detail(c: Caller, public_id: str) -> dict[str, Any]:
        return detail_out(application_reads.get(store, c, public_id))

    @app.post(
        "/applications",
        status_code=201,
        response_model=a.ApplicationOut,
        responses=errors,
        openapi_extra=body_ref(a.SubmitBody),
        summary="登记医疗救助申请（乡镇经办、民政部门）：身份证号在请求体中",
    )
    async def post_application(request: Request, response: Response) -> Any:
        data = await read_json(request)

        def work(c: Caller) -> dict[str, Any]:
            return detail(c, applications.submit(store, c, data))

        out = await call(request, work)
        response.headers["Location"] = f"/applications/{out['application']['id']}"
        return out

    @app.get(
        "/applications",
        response_model=a.ApplicationPage,
        responses=errors,
        summary="申请工作台：待办（todo）、已办（done）、办结（closed），可筛选，游标分页",
    )
    async def list_applications(
        request: Request,
        queue: Annotated[str | None, Query(pattern="^(todo|done|closed)$")] = None,
        kind: Annotated[str | None, Query(max_length=40)] = None,
        township: Annotated[str | None, Query(max_length=64)] = None,
        state: Annotated[str | None, Query(max_length=24)] = None,
        received_from: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = None,
        received_to: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = None,
        overdue: Annotated[bool | None, Query()] = None,
        after: Annotated[str | None, Query(pattern="^[0-9]{1,18}$")] = None,
        limit: Annotated[int, Query(ge=1, le=application_reads.MAX_PAGE)] = 50,
    ) -> Any:
        given = {
            "queue": queue,
            "kind": kind,
            "township": township,
            "state": state,
            "received_from": received_from,
            "received_to": received_to,
            "overdue": overdue,
            "after": after,
            "limit": limit,
        }

        def work(c: Caller) -> dict[str, Any]:
            known = set(given)
            unknown = sorted(set(request.query_params) - known)
            if unknown:
                raise Refused.many(Kind.invalid, [(k, "未知的查询参数") for k in unknown[:20]])
            page = application_reads.list_applications(
                store, c, {k: v for k, v in given.items() if v is not None}
            )
            return {"items": [summary_out(s) for s in page.items], "next_after": page.next_after}

        return await call(request, work)

    @app.get(
        "/applications/{id}",
        response_model=a.ApplicationOut,
        responses=errors,
        summary="一件申请：办理经过、材料、入户调查、公示、核定金额与计算、支付、告知书",
    )
    async def get_application(request: Request, id: str) -> Any:
        return await call(request, lambda c: detail(c, id), path={"id": id})

    @app.post(
        "/applications/{id}/steps/{step}",
        response_model=a.ApplicationOut,
        responses=errors,
        openapi_extra=body_ref(a.StepBody),
        summary="办理一步（须带 version）：受理、补正、入户调查、审核、公示、核定、审批、支付……",
    )
    async def take_step(
        request: Request, id: str, step: Annotated[str, Path(pattern=STEP_PATTERN)]
    ) -> Any:
        data = await read_json(request)
        use = STEPS[step]

        def work(c: Caller) -> dict[str, Any]:
            return detail(c, use(store, c, id, data))

        return await call(request, work, path={"id": id})

    @app.post(
        "/applications/{id}/documents",
        response_model=a.ApplicationOut,
        responses=errors,
        openapi_extra={"requestBody": UPLOAD_BODY},
        summary="上传申请材料（PDF、JPEG、PNG，至多 10 MB）",
    )
    async def post_document(request: Request, id: str) -> Any:
        body = await request.body()
        fields, content, name, media = parse_document(request.headers.get("content-type", ""), body)

        def work(c: Caller) -> dict[str, Any]:
            application_documents.attach(
                store, c, id, fields, content, file_name=name, media_type=media
            )
            return detail(c, id)

        return await call(request, work, path={"id": id})

    @app.get(
        "/applications/{id}/documents/{document}",
        responses={200: BINARY, **errors},
        response_class=Response,
        summary="查看申请材料原件",
    )
    async def get_document(request: Request, id: str, document: str) -> Response:
        doc = await call(
            request,
            lambda c: application_documents.view_document(store, c, id, document),
            path={"id": id, "document": document},
        )
        return Response(
            doc.content,
            media_type=doc.view.media_type,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": "inline",
                "Cache-Control": "no-store",
            },
        )

    @app.get(
        "/applications/{id}/notices/{notice}",
        response_model=a.NoticeOut,
        responses={
            200: {
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                "description": "告知书（format=pdf 时为 A4 PDF）",
            },
            **errors,
        },
        summary="告知书：不符合医疗救助条件书面告知书（附件5）或审批结果通知书；format=pdf 打印",
    )
    async def get_notice(
        request: Request,
        id: str,
        notice: str,
        format: Annotated[str, Query(pattern="^(json|pdf)$")] = "json",
    ) -> Any:
        n = await call(
            request,
            lambda c: notices.get_notice(store, c, id, notice),
            path={"id": id, "notice": notice},
        )
        if format == "pdf":
            from jiuzhu.io.notices import notice_pdf

            pdf = await run_in_threadpool(notice_pdf, n.kind, n.values)
            return Response(
                pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"}
            )
        return {
            "id": n.public_id,
            "kind": n.kind,
            "number": n.number_text,
            "issued_on": n.issued_on,
            "values": n.values,
        }

    @app.get(
        "/publicity",
        response_model=a.PublicityListOut,
        responses={
            200: {
                "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    XLSX: {"schema": {"type": "string", "format": "binary"}},
                },
                "description": "公示名单（format=pdf 或 xlsx 时为文件）",
            },
            **errors,
        },
        summary="公示名单：某日公示中的申请（姓名、身份证号部分隐藏），JSON、PDF 或 XLSX",
    )
    async def get_publicity(
        request: Request,
        stage: Annotated[str, Query(pattern="^(township|result)$")] = "result",
        on: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = None,
        township: Annotated[str | None, Query(max_length=64)] = None,
        format: Annotated[str, Query(pattern="^(json|pdf|xlsx)$")] = "json",
    ) -> Any:
        def work(c: Caller) -> notices.PublicityList:
            unknown = sorted(set(request.query_params) - {"stage", "on", "township", "format"})
            if unknown:
                raise Refused.many(Kind.invalid, [(k, "未知的查询参数") for k in unknown[:20]])
            query = {"stage": stage, "on": on, "township": township}
            return notices.publicity_list(store, c, {k: v for k, v in query.items() if v})

        listed = await call(request, work)
        if format != "json":
            from jiuzhu.io.notices import publicity_pdf, publicity_xlsx

            render = publicity_pdf if format == "pdf" else publicity_xlsx
            data = await run_in_threadpool(render, listed.values())
            media = "application/pdf" if format == "pdf" else XLSX
            return Response(data, media_type=media, headers={"Cache-Control": "no-store"})
        return {
            "title": listed.title,
            "stage": listed.stage,
            "on": listed.on,
            "issuer": listed.issuer,
            "rows": [
                {
                    "number": r.number,
                    "name": r.name,
                    "id_number": r.id_number,
                    "township": r.township,
                    "kind_name": r.kind_name,
                    "amount": None if r.amount_fen is None else format_yuan(r.amount_fen),
                    "starts_on": r.starts_on,
                    "ends_on": r.ends_on,
                }
                for r in listed.rows
            ],
            "note": listed.note,
        }
