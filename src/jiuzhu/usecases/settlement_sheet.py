"""A settlement as its staff page and its printable 结算单 show it (ADR 18): the claim
(dates, visit, hospital, the bill's parts), the category applied and where it came from,
every tier with what was answered, what it is now and the explanation lines that
compute it (formula and clause), each adjustment with its cause and lines, and a
reversal if there was one.

Nothing is computed here beyond grouping: the amounts are the settlement's as answered
(``result``), its adjustments, and the current amounts ``SettlementView.current`` adds
up. Visibility is ``reads.visible``'s (a hospital its own, others by jurisdiction), and
a settlement the caller may not see is one that does not exist. The read is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import parse_yuan
from jiuzhu.domain.vocabulary import BENEFIT_ZH, GRANT_ZH, Benefit, Category
from jiuzhu.storage.models import ApiClient, Person, SettlementRecord, StoredClaim
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.person_year import visit_zh
from jiuzhu.usecases.reads import settlement_view, visible
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.views import GRANT, AdjustmentView, SettlementView

BILL_PARTS = (
    ("total", "医疗总费用"),
    ("full_self_pay", "全自费"),
    ("partial_self_pay", "先行自付"),
    ("policy_scope", "政策范围内费用"),
)
LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级"}


@dataclass(frozen=True, slots=True)
class TierRow:
    key: str
    name: str
    answered: int
    current: int | None
    """None: the settlement was reversed."""
    lines: list[dict[str, Any]]
    """The explanation's lines of this tier (each with its formula and clause)."""

    @property
    def changed(self) -> bool:
        return self.current is not None and self.current != self.answered


@dataclass(frozen=True, slots=True)
class SettlementSheet:
    view: SettlementView
    hospital: str
    person_name: str | None
    settlement_date: dt.date
    admission_date: str | None
    visit_type_zh: str
    hospital_level_zh: str
    bill: list[tuple[str, int]]
    """The bill's parts (医疗总费用, 全自费, 先行自付, 政策范围内费用), fen."""
    category_zh: str
    category_why: list[str]
    category_lines: list[dict[str, Any]]
    tiers: list[TierRow]
    personal_answered: int
    personal_current: int | None
    grant: TierRow | None
    other_lines: list[dict[str, Any]]
    """Lines of no tier shown above (notes such as the route a benefit takes)."""

    @property
    def masked(self) -> str:
        return mask_id(self.view.id_number)

    @property
    def adjustments(self) -> list[AdjustmentView]:
        return self.view.adjustments


def _zh(key: str) -> str:
    try:
        return BENEFIT_ZH[Benefit(key)]
    except ValueError:
        return GRANT_ZH if key == GRANT else key


def category_zh(value: object) -> str:
    try:
        return Category(str(value)).zh
    except ValueError:
        return str(value)


def _tiers(view: SettlementView) -> tuple[list[TierRow], TierRow | None, list[dict[str, Any]]]:
    """Every benefit the settlement paid, was adjusted on, or explained, in the order of
    the benefits; the 大病关怀 grant apart (paid to the person, not part of the bill)."""
    lines: list[dict[str, Any]] = list(view.result.get("lines", []))
    now = view.current_fen() if view.reversal is None else None
    answered = {k: parse_yuan(str(view.result.get(k, "0.00"))) for k in [*Benefit, GRANT]}
    adjusted = {a.benefit for a in view.adjustments}
    explained = {str(line.get("benefit")) for line in lines}
    rows: list[TierRow] = []
    grant: TierRow | None = None
    for key in [*(b.value for b in Benefit), GRANT]:
        shown = answered.get(key, 0) or key in adjusted or key in explained
        if not shown:
            continue
        row = TierRow(
            key, _zh(key), answered.get(key, 0), None if now is None else now.get(key, 0),
            [line for line in lines if line.get("benefit") == key],
        )  # fmt: skip
        if key == GRANT:
            grant = row
        else:
            rows.append(row)
    known = {r.key for r in rows} | {GRANT, "category"}
    others = [line for line in lines if str(line.get("benefit")) not in known]
    return rows, grant, others


def sheet(store: Store, caller: Caller, public_id: str) -> SettlementSheet:
    with store.reads() as session, session.begin():
        rec = session.scalar(
            select(SettlementRecord).where(SettlementRecord.public_id == public_id)
        )
        try:
            visible(session, caller, rec, public_id)
        except Refused as refused:  # out of jurisdiction: as if it did not exist
            raise Refused(Kind.not_found, "id", f"没有结算 {public_id}") from refused
        assert rec is not None
        view = settlement_view(session, rec.seq)
        claim = session.get(StoredClaim, rec.claim_id)
        person = session.get(Person, rec.person_id)
        hospital = session.scalar(select(ApiClient.name).where(ApiClient.id == rec.client_id))
        assert claim is not None and person is not None
        body = claim.body
        settled_on = claim.settlement_date
        name = person.name
    with store.sessions() as session, session.begin():
        audit.append(session, caller.name, caller.role.value, "settlement.read",
                     f"settlement:{public_id}", {"person": mask_id(view.id_number)})  # fmt: skip
    tiers, grant, others = _tiers(view)
    now = view.current()
    src = view.category_source
    return SettlementSheet(
        view=view,
        hospital=hospital or "",
        person_name=name,
        settlement_date=settled_on,
        admission_date=body.get("admission_date"),
        visit_type_zh=visit_zh(body.get("visit_type")),
        hospital_level_zh=LEVEL_ZH.get(body.get("hospital_level", 0), "") + "医院"
        if body.get("hospital_level") in LEVEL_ZH
        else "",
        bill=[(label, parse_yuan(str(body.get(key, "0.00")))) for key, label in BILL_PARTS],
        category_zh=category_zh(view.result.get("category", src.get("applied"))),
        category_why=[str(w).strip() for w in src.get("why", []) if str(w).strip()],
        category_lines=[
            line for line in view.result.get("lines", []) if line.get("benefit") == "category"
        ],
        tiers=tiers,
        personal_answered=parse_yuan(str(view.result.get("personal", "0.00"))),
        personal_current=None if now is None else parse_yuan(now["personal"]),
        grant=grant,
        other_lines=others,
    )
