"""结算: the list of settlements the member may see (filters by date and status, paged
by a cursor), one settlement with every tier, its formula and clause, the category and
its source, its adjustments, and its printable 结算单 (ADR 18).

The printable page is HTML with a print style sheet (A4): the browser prints it or saves
it as PDF. When the statement renderer of ``jiuzhu explain --output`` (``io/documents``)
is merged, this page can offer its PDF as well; see docs/web.md.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from jiuzhu.usecases import reads
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.settlement_sheet import SettlementSheet, sheet
from jiuzhu.web.forms import FieldErrors
from jiuzhu.web.rendering import PREFIX, render
from jiuzhu.web.staff import Staff, require_staff

router = APIRouter(prefix="/settlements", include_in_schema=False)

PER_PAGE = 20
STATUS_ZH = {"": "全部", "settled": "有效", "reversed": "已撤销"}
PUBLIC_ID = 32


def _date(text: str, name: str, what: str, errors: FieldErrors) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.add(name, f"{what}须为日期，如 2024-05-01")
        return None


@router.get("")
def settlement_list(
    request: Request,
    settled_from: str = "",
    settled_to: str = "",
    status: str = "",
    after: str = "",
    member: Staff = Depends(require_staff),
) -> Response:
    errors = FieldErrors()
    since = _date(settled_from.strip(), "settled_from", "起始日期", errors)
    until = _date(settled_to.strip(), "settled_to", "截止日期", errors)
    if since and until and since > until:
        errors.add("settled_to", "截止日期不得早于起始日期")
    if status not in STATUS_ZH:
        errors.add("status", "状态须为 全部、有效 或 已撤销")
    if after and not (after.isdigit() and len(after) <= 18):
        errors.add("after", "页码有误：请从第一页重新查看")
    asked = {"settled_from": settled_from, "settled_to": settled_to, "status": status}
    context = {"errors": errors, "asked": asked, "statuses": STATUS_ZH, "page": None,
               "next_url": None, "first_url": None}  # fmt: skip
    if errors:
        return render(request, "settlements.html", context, active="settlements", status_code=422)
    filters = reads.Filters(since, until, None, status or None)
    page = reads.list_settlements(
        request.app.state.store, member.caller, filters, after or None, PER_PAGE
    )
    keep = {k: v for k, v in asked.items() if v}
    context["page"] = page
    if page.next_after:
        context["next_url"] = (
            f"{PREFIX}/settlements?{urlencode({**keep, 'after': page.next_after})}"
        )
    if after:
        context["first_url"] = f"{PREFIX}/settlements" + (f"?{urlencode(keep)}" if keep else "")
    return render(request, "settlements.html", context, active="settlements")


def _sheet(request: Request, member: Staff, public_id: str) -> SettlementSheet:
    if len(public_id) != PUBLIC_ID or not public_id.isalnum():
        raise HTTPException(404, "没有此结算，或它不在您的辖区内。")
    try:
        return sheet(request.app.state.store, member.caller, public_id)
    except Refused as refused:
        if refused.kind is Kind.not_found:
            raise HTTPException(404, "没有此结算，或它不在您的辖区内。") from None
        raise


@router.get("/{public_id}")
async def settlement_page(
    request: Request, public_id: str, member: Staff = Depends(require_staff)
) -> Response:
    s = await run_in_threadpool(_sheet, request, member, public_id)
    return render(request, "settlement.html", {"s": s}, active="settlements")


@router.get("/{public_id}/print")
async def settlement_print(
    request: Request, public_id: str, member: Staff = Depends(require_staff)
) -> Response:
    s = await run_in_threadpool(_sheet, request, member, public_id)
    return render(request, "settlement_print.html", {"s": s}, active="settlements")
