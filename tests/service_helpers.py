"""Claims for the service tests: a 低保 inpatient stay with insurance pre-settled at 0.

With basic and critical-illness insurance given as 0.00, medical assistance works on
the whole scope, so 聊城's 70% and its 30000.00 cap can be checked by hand.
"""

from __future__ import annotations

from typing import Any


def inpatient_claim(n: int, person: str, scope: str = "20000.00", **over: Any) -> dict[str, Any]:
    """Claim ``c{n}``, settled on the first of month ``n`` of 2023."""
    day = f"2023-{n:02d}-01"
    body: dict[str, Any] = {
        "claim_id": f"c{n}",
        "person_id": person,
        "category": "dibao",
        "visit_type": "inpatient",
        "settlement_date": day,
        "admission_date": day,
        "hospital_level": 2,
        "referred": True,
        "total": scope,
        "full_self_pay": "0.00",
        "partial_self_pay": "0.00",
        "policy_scope": scope,
        "insurance": {"basic_insurance": "0.00", "critical_illness_insurance": "0.00"},
    }
    body.update(over)
    return body
