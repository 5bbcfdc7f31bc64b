"""政策 pages: the list of policies, and one page per policy with its rules, every value
with its clause, which values are assumed, and the notes saying where the real value
comes from. The words are the policy summary's (``domain.policy.summary``), the same as
``jiuzhu policy show``; nothing is computed here.

Public: policies are published documents, so these pages need no login (ADR 16).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from jiuzhu.web.catalogue import Catalogue
from jiuzhu.web.rendering import render

router = APIRouter(prefix="/policies", include_in_schema=False)

ID_SHOWN = 40
"""At most this much of an unknown ID is shown back on the error page."""


def catalogue(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.catalogue
    return found


@router.get("")
def policy_list(request: Request, policies: Catalogue = Depends(catalogue)) -> HTMLResponse:
    return render(
        request,
        "policies.html",
        {"entries": policies.all(), "served_id": policies.served_id},
        active="policies",
    )


@router.get("/{policy_id}")
def policy_page(
    request: Request, policy_id: str, policies: Catalogue = Depends(catalogue)
) -> HTMLResponse:
    entry = policies.get(policy_id)
    if entry is None:
        shown = policy_id if len(policy_id) <= ID_SHOWN else policy_id[:ID_SHOWN] + "…"
        raise HTTPException(404, f"没有 ID 为「{shown}」的政策。")
    return render(request, "policy.html", {"entry": entry}, active="policies")
