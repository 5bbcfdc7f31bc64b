"""The papers of an application as files: the refusal notice (附件5) and the approval
notice as PDF, laid out as a government notice (templates ``notice.html``,
``refusal_notice.html``, ``approval_notice.html``; GB/T 9704 margins), and the 公示 list
as PDF (landscape) and XLSX (``io/xlsx``: one look for every table).

The values come from ``usecases/notices.py`` as plain mappings, already in words (dates
in Chinese, yuan strings, masked names and ID numbers); nothing is computed here. PDF
through ``io/documents`` (WeasyPrint with the installed Noto CJK fonts).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from jiuzhu.io import documents
from jiuzhu.io.xlsx import Column, Sheet, add_sheet, new_workbook, yuan

TEMPLATES = {"refusal": "refusal_notice.html", "approval": "approval_notice.html"}


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key in ("reason", "clause"):
        if isinstance(out.get(key), str):
            out[key] = out[key].strip().rstrip("。.；;，, ")
    return out


def notice_html(kind: str, values: Mapping[str, Any]) -> str:
    return documents.render_html(TEMPLATES[kind], v=_clean(values))


def notice_pdf(kind: str, values: Mapping[str, Any]) -> bytes:
    return documents.pdf_bytes(notice_html(kind, values))


def publicity_html(listed: Mapping[str, Any]) -> str:
    """``listed``: ``usecases.notices.PublicityList.values()``."""
    return documents.render_html(
        "publicity_list.html",
        title=listed["title"],
        rows=listed["rows"],
        note=listed["note"],
        issuer=listed["issuer"],
        date=listed["date"],
    )


def publicity_pdf(listed: Mapping[str, Any]) -> bytes:
    return documents.pdf_bytes(publicity_html(listed))


def publicity_sheet(listed: Mapping[str, Any]) -> Sheet:
    return Sheet(
        name="公示名单",
        columns=[
            Column("序号", "integer"),
            Column("申请编号"),
            Column("姓名"),
            Column("身份证号"),
            Column("乡镇（街道）"),
            Column("救助事项", "wrap"),
            Column("救助金额（元）", "money", total=listed["stage"] == "result"),
            Column("公示开始", "date"),
            Column("公示截止", "date"),
        ],
        rows=[
            [
                n,
                r["number"],
                r["name"],
                r["id_number"],
                r["township"],
                r["kind_name"],
                None if r["amount_fen"] is None else yuan(r["amount_fen"]),
                r["starts_on"],
                r["ends_on"],
            ]
            for n, r in enumerate(listed["rows"], start=1)
        ],
        title=[listed["title"], listed["issuer"]],
        notes=[listed["note"]],
    )


def publicity_xlsx(listed: Mapping[str, Any]) -> bytes:
    wb = new_workbook()
    add_sheet(wb, publicity_sheet(listed))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
