"""The papers of an application's checklist (医疗诊断书、医疗费用收据 …): uploaded, kept,
viewed.

A paper is a PDF, JPEG or PNG file of at most ``MAX_BYTES``, recognised by its first
bytes (what the file is, not what it is called or what the sender says it is); it is kept
whole with its SHA-256 and never replaced: a new upload for the same item is a new row,
and the latest counts for the checklist. Viewing one is a read of personal data, audited.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select

from jiuzhu.storage.models import ApplicationDocument
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.application_views import Document, DocumentView
from jiuzhu.usecases.applications import Step, load, require_reader, step
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import utc

MAX_BYTES = 10 * 1024 * 1024
MEDIA = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
SUFFIX = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def sniff(content: bytes) -> str | None:
    for media, starts in MEDIA.items():
        if any(content.startswith(s) for s in starts):
            return media
    return None


def safe_name(name: str, media: str) -> str:
    base = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = base.strip().strip(".")[:100] or "材料"
    return base if "." in base else base + SUFFIX[media]


def document_view(d: ApplicationDocument) -> DocumentView:
    return DocumentView(
        d.public_id,
        d.key,
        d.file_name,
        d.media_type,
        d.size,
        d.sha256,
        d.uploaded_by,
        utc(d.uploaded_at),
    )


def attach(
    store: Store,
    caller: Caller,
    public_id: str,
    data: Any,
    content: bytes,
    *,
    file_name: str = "",
    media_type: str | None = None,
) -> str:
    """上传申请材料: ``data`` holds ``version`` and ``key`` (the checklist item)."""
    key = str(data.get("key", "")).strip() if isinstance(data, dict) else ""
    if not content:
        raise Refused(Kind.invalid, "file", "文件为空")
    if len(content) > MAX_BYTES:
        raise Refused(Kind.invalid, "file", f"文件过大：上限 {MAX_BYTES // 1024 // 1024} MB")
    found = sniff(content)
    if found is None:
        raise Refused(Kind.invalid, "file", "只接受 PDF、JPEG 或 PNG 文件（按文件内容识别）")
    declared = (media_type or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", found):
        raise Refused(
            Kind.invalid, "file", f"文件内容是 {found}，与所称的类型 {declared[:40]} 不符"
        )
    digest = hashlib.sha256(content).hexdigest()

    def work(s: Step) -> None:
        s.check_action("attach_document")
        keys = {d.key: d.name for d in s.kind.documents}
        if key not in keys:
            listed = "、".join(f"{k}（{v}）" for k, v in keys.items())
            raise Refused(
                Kind.invalid, "key", f"此类申请的材料清单中没有“{key[:40]}”（可用：{listed}）"
            )
        row = ApplicationDocument(
            application_id=s.app.id,
            key=key,
            file_name=safe_name(file_name, found),
            media_type=found,
            size=len(content),
            sha256=digest,
            content=content,
            uploaded_by=s.caller.name,
        )
        s.session.add(row)
        s.session.flush()
        s.details = {"document": key, "sha256": digest, "size": len(content)}
        s.act("attach_document", keys[key])

    return step(store, caller, public_id, data, work)


def view_document(store: Store, caller: Caller, public_id: str, document_id: str) -> Document:
    """One uploaded paper, whole (audited)."""
    require_reader(caller)
    with store.sessions() as session, session.begin():
        app = load(session, store, caller, public_id)
        d = session.scalar(
            select(ApplicationDocument).where(
                ApplicationDocument.public_id == document_id,
                ApplicationDocument.application_id == app.id,
            )
        )
        if d is None:
            raise Refused(
                Kind.not_found, "document", f"申请 {app.number} 没有材料 {document_id[:40]}"
            )
        audit.append(
            session,
            caller.name,
            caller.role.value,
            "app.document.read",
            f"application:{app.number}",
            {"document": d.key, "sha256": d.sha256},
        )
        return Document(document_view(d), d.content)
