"""Applications as JSON: what ``GET /applications/{id}`` answers and ``jiuzhu application
show --json`` prints, from the use cases' plain views (``usecases/application_views``).

One rendering for both edges, so a script reading the command's output and a partner
reading the API's see the same keys. Money is formatted as yuan strings; ID numbers are
already masked in the views. No FastAPI or pydantic here: the command imports it.
"""

from __future__ import annotations

from typing import Any

from jiuzhu.domain.money import format_yuan
from jiuzhu.usecases.application_views import (
    ApplicationDetail,
    ApplicationSummary,
    NoticeView,
)
from jiuzhu.usecases.notices import PublicityList


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


def notice_out(n: NoticeView) -> dict[str, Any]:
    return {
        "id": n.public_id,
        "kind": n.kind,
        "number": n.number_text,
        "issued_on": n.issued_on,
        "values": n.values,
    }


def publicity_out(listed: PublicityList) -> dict[str, Any]:
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
