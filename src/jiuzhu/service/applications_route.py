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

from jiuzhu.service import application_schemas as a
from jiuzhu.service.application_json import detail_out, notice_out, publicity_out, summary_out
from jiuzhu.service.guard import read_json
from jiuzhu.service.query_params import only
from jiuzhu.usecases import (
    application_documents,
    application_reads,
    applications,
    notices,
)
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_steps import STEPS
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store

STEP_PATTERN = "^(" + "|".join(STEPS) + ")$"
DOCUMENT_FIELDS = ("file", "key", "version")


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
            only(request, *given)
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
        def read(c: Caller) -> Any:
            only(request, "format")
            return notices.get_notice(store, c, id, notice)

        n = await call(
            request,
            read,
            path={"id": id, "notice": notice},
        )
        if format == "pdf":
            from jiuzhu.io.notices import notice_pdf

            pdf = await run_in_threadpool(notice_pdf, n.kind, n.values)
            return Response(
                pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"}
            )
        return notice_out(n)

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
            only(request, "stage", "on", "township", "format")
            query = {"stage": stage, "on": on, "township": township}
            return notices.publicity_list(store, c, {k: v for k, v in query.items() if v})

        listed = await call(request, work)
        if format != "json":
            from jiuzhu.io.notices import publicity_pdf, publicity_xlsx

            render = publicity_pdf if format == "pdf" else publicity_xlsx
            data = await run_in_threadpool(render, listed.values())
            media = "application/pdf" if format == "pdf" else XLSX
            return Response(data, media_type=media, headers={"Cache-Control": "no-store"})
        return publicity_out(listed)
