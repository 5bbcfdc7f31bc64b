"""``POST /rosters``: a roster (附件2) or its changes (附件3) uploaded as a file; the use
case is ``usecases/rosters.py``.

The body is ``multipart/form-data`` (``file``; optional ``category``, ``valid_from``),
read with the standard library's MIME parser, so the service needs no multipart package.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from jiuzhu.domain.ids import mask_ids_in
from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import category_from_text
from jiuzhu.service.guard import ROSTER_BYTES
from jiuzhu.service.schemas import RosterCounts, RosterOut, RosterRowError
from jiuzhu.usecases.access import Caller, Role, require
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.rosters import Upload, Uploaded, upload_roster
from jiuzhu.usecases.unit import Store

MAX_BYTES = ROSTER_BYTES
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")

REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "名单文件：CSV 或 XLSX，附件2 或 附件3 格式",
                    },
                    "category": {
                        "type": "string",
                        "description": "文件未写明对象类别时适用的类别（如 低保、dibao）",
                    },
                    "valid_from": {
                        "type": "string",
                        "format": "date",
                        "description": "名单（附件2）生效日期（默认取标题中的日期）",
                    },
                },
            }
        }
    },
}


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):  # the MIME parser keeps non-ASCII bytes as surrogates
        raw = raw.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def _safe_name(name: str) -> str:
    base = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = base.strip().strip(".") or "roster"
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise Refused(
            Kind.invalid, "file", f"不支持的文件类型「{suffix or base[:20]}」：请用 CSV 或 XLSX"
        )
    return Path(base).stem[:100] + suffix


def parse_upload(content_type: str, body: bytes) -> Upload:
    """The form fields of a ``multipart/form-data`` body, checked; a 422 names the field."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise Refused(Kind.invalid, "file", "须以 multipart/form-data 上传名单文件（字段 file）")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart() or msg.defects:
        raise Refused(Kind.invalid, "file", "multipart/form-data 请求体无法解析")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():
        name = _text(part.get_param("name", header="content-disposition"))  # type: ignore[arg-type]
        if not name or name in fields:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = (_text(filename) if filename is not None else None, data)
    if "file" not in fields:
        raise Refused(Kind.invalid, "file", "缺少名单文件（字段 file）")
    filename, data = fields["file"]
    if not filename:
        raise Refused(Kind.invalid, "file", "名单文件须带文件名（.csv 或 .xlsx）")
    category: Category | None = None
    cat_text = _text(fields.get("category", (None, b""))[1]).strip()
    if cat_text:
        category = category_from_text(cat_text)
        if category is None:
            raise Refused(Kind.invalid, "category", f"未知的对象类别「{cat_text[:40]}」")
    valid_from: dt.date | None = None
    date_text = _text(fields.get("valid_from", (None, b""))[1]).strip()
    if date_text:
        try:
            valid_from = dt.date.fromisoformat(date_text)
        except ValueError:
            raise Refused(
                Kind.invalid,
                "valid_from",
                f"须为 YYYY-MM-DD 格式的日期，而不是「{date_text[:40]}」",
            ) from None
    return Upload(_safe_name(filename), data, category, valid_from)


def roster_out(done: Uploaded) -> RosterOut:
    result = done.result
    return RosterOut(
        file_name=mask_ids_in(result.file_name),
        sha256=result.sha256,
        layout=result.layout.value,
        layout_zh=result.layout.zh,
        counts=RosterCounts(
            rows=result.rows_total,
            added=result.added,
            closed=result.closed,
            unchanged=result.unchanged,
            bad=result.rows_bad,
        ),
        already_imported=result.already_imported,
        changed=done.changed,
        message=done.message,
        row_errors=[
            RosterRowError(row=e.row, field=e.field, message=e.message) for e in result.errors
        ],
    )


def add_roster_route(
    app: FastAPI,
    store: Store,
    who: Callable[[Request], Caller],
    responses: dict[int | str, dict[str, Any]],
) -> None:
    @app.post(
        "/rosters",
        response_model=RosterOut,
        responses={**responses, 413: responses[413] | {"description": "文件过大（上限 20 MB）"}},
        openapi_extra={"requestBody": REQUEST_BODY},
        summary="上传名单（附件2）或动态调整名单（附件3）（民政、管理员）",
    )
    async def post_roster(request: Request) -> RosterOut:
        caller = await run_in_threadpool(who, request)
        require(caller, Role.civil_affairs, Role.admin)
        body = await request.body()  # at most guard.ROSTER_LIMIT bytes (BodyLimit: 413)
        upload = parse_upload(request.headers.get("content-type", ""), body)
        done = await run_in_threadpool(upload_roster, store, caller, upload)
        return roster_out(done)
