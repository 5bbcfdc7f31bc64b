"""``POST /rosters``: a roster (附件2) or its changes (附件3) uploaded as a file.

The same code as ``jiuzhu roster import`` (``io/rosters.py``): every row is checked, bad
rows are answered with row number, column and reason (ID numbers masked), the good rows
go in, and the same file twice changes nothing. On top of that, every row's district
must be inside the client's jurisdiction, else the row is an error and is not applied.

The body is ``multipart/form-data`` (``file``; optional ``category``, ``valid_from``),
read with the standard library's MIME parser, so the service needs no multipart package.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jiuzhu.domain.ids import mask_id, mask_ids_in
from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import (
    F_DISTRICT,
    F_ID,
    ParsedRoster,
    RosterFileError,
    RowError,
    category_from_text,
    import_roster,
    parse_roster,
)
from jiuzhu.service.auth import Caller, Role, ServiceError, district_of, require
from jiuzhu.service.schemas import RosterCounts, RosterOut, RosterRowError
from jiuzhu.service.settle import SettlementService, _audit
from jiuzhu.storage.models import Household, Person

MAX_BYTES = 20 * 1024 * 1024
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


@dataclass
class Upload:
    file_name: str
    data: bytes
    category: Category | None
    valid_from: dt.date | None


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
        raise ServiceError(
            422, "file", f"不支持的文件类型「{suffix or base[:20]}」：请用 CSV 或 XLSX"
        )
    return Path(base).stem[:100] + suffix


def parse_upload(content_type: str, body: bytes) -> Upload:
    """The form fields of a ``multipart/form-data`` body, checked; a 422 names the field."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ServiceError(422, "file", "须以 multipart/form-data 上传名单文件（字段 file）")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart() or msg.defects:
        raise ServiceError(422, "file", "multipart/form-data 请求体无法解析")
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
        raise ServiceError(422, "file", "缺少名单文件（字段 file）")
    filename, data = fields["file"]
    if not filename:
        raise ServiceError(422, "file", "名单文件须带文件名（.csv 或 .xlsx）")
    category: Category | None = None
    cat_text = _text(fields.get("category", (None, b""))[1]).strip()
    if cat_text:
        category = category_from_text(cat_text)
        if category is None:
            raise ServiceError(422, "category", f"未知的对象类别「{cat_text[:40]}」")
    valid_from: dt.date | None = None
    date_text = _text(fields.get("valid_from", (None, b""))[1]).strip()
    if date_text:
        try:
            valid_from = dt.date.fromisoformat(date_text)
        except ValueError:
            raise ServiceError(
                422, "valid_from", f"须为 YYYY-MM-DD 格式的日期，而不是「{date_text[:40]}」"
            ) from None
    return Upload(_safe_name(filename), data, category, valid_from)


def _parse(upload: Upload) -> ParsedRoster:
    with tempfile.TemporaryDirectory(prefix="jiuzhu-roster-") as tmp:
        path = Path(tmp) / upload.file_name
        path.write_bytes(upload.data)
        try:
            return parse_roster(path, upload.category, upload.valid_from)
        except RosterFileError as err:
            raise ServiceError(422, "file", mask_ids_in(str(err))) from err
        except Exception as err:  # a broken XLSX can fail anywhere inside openpyxl
            message = f"无法读取文件 {upload.file_name}：{err}"
            raise ServiceError(422, "file", mask_ids_in(message)) from err


def _outside(session: Session, who: Caller, parsed: ParsedRoster) -> None:
    """Move the rows outside the caller's jurisdiction from ``parsed.rows`` to its errors.

    A row's districts: its 行政区划代码 if given, and where the person or household is
    already registered, theirs; else the address code of the 身份证号 (as every route)."""
    kept = []
    for row in parsed.rows:
        person = session.scalar(select(Person).where(Person.id_number == row.id_number))
        districts: list[tuple[str, str]] = []
        if row.district_code:
            districts.append((F_DISTRICT, row.district_code))
        if person is not None and person.household_id is not None:
            districts.append((F_ID, district_of(session, person, row.id_number)))
        else:
            held = session.scalar(
                select(Household.district_code).where(
                    Household.head_id_number == row.head_id_number
                )
            )
            if held:
                districts.append((F_DISTRICT, held))
        if not districts:
            districts.append((F_ID, row.id_number[:6]))
        bad = next(((f, d) for f, d in districts if not who.covers(d)), None)
        if bad is None:
            kept.append(row)
            continue
        parsed.errors.append(
            RowError(
                row.row,
                bad[0],
                f"{mask_id(row.id_number)} 属 {bad[1]} 辖区，不在客户端 {who.name} 的辖区"
                f" {who.jurisdiction} 内",
            )
        )
    parsed.rows = kept


def upload_roster(service: SettlementService, who: Caller, upload: Upload) -> RosterOut:
    """Check, apply and record one upload in one transaction, with its audit entry."""
    parsed = _parse(upload)
    with service.sessions() as session, session.begin():
        _outside(session, who, parsed)
        result = import_roster(session, parsed)
        changed = bool(result.added or result.closed)
        counts = RosterCounts(
            rows=result.rows_total,
            added=result.added,
            closed=result.closed,
            unchanged=result.unchanged,
            bad=result.rows_bad,
        )
        _audit(
            session,
            who,
            "roster.upload",
            f"roster:{result.sha256[:32]}",
            file=mask_ids_in(result.file_name),  # a file may be named after a person
            sha256=result.sha256,
            layout=result.layout.value,
            already_imported=result.already_imported,
            **counts.model_dump(),
        )
    if result.already_imported and not changed:
        note = "此文件此前已导入，数据未变"
    elif changed:
        note = f"新增资格 {result.added}，终止资格 {result.closed}"
    else:
        note = "数据未变"
    return RosterOut(
        file_name=mask_ids_in(result.file_name),
        sha256=result.sha256,
        layout=result.layout.value,
        layout_zh=result.layout.zh,
        counts=counts,
        already_imported=result.already_imported,
        changed=changed,
        message=note,
        row_errors=[
            RosterRowError(row=e.row, field=e.field, message=e.message) for e in result.errors
        ],
    )


def add_roster_route(
    app: FastAPI,
    service: SettlementService,
    caller: Callable[[str | None], Caller],
    responses: dict[int | str, dict[str, Any]],
) -> None:
    @app.post(
        "/rosters",
        response_model=RosterOut,
        responses={**responses, 413: responses[422] | {"description": "文件过大（上限 20 MB）"}},
        openapi_extra={"requestBody": REQUEST_BODY},
        summary="上传名单（附件2）或动态调整名单（附件3）（民政、管理员）",
    )
    async def post_roster(request: Request) -> RosterOut:
        who = await run_in_threadpool(caller, request.headers.get("authorization"))
        require(who, Role.civil_affairs, Role.admin)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            raise ServiceError(413, "file", f"文件过大：上限 {MAX_BYTES // 1024 // 1024} MB")
        body = await request.body()
        if len(body) > MAX_BYTES:
            raise ServiceError(413, "file", f"文件过大：上限 {MAX_BYTES // 1024 // 1024} MB")
        upload = parse_upload(request.headers.get("content-type", ""), body)
        return await run_in_threadpool(upload_roster, service, who, upload)
