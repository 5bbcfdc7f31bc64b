"""What the application use cases answer: plain values, no database session.

ID numbers are masked here already (``3715**********1234``): no page, answer or paper
about an application needs the whole number. Money is in fen; the edges format it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EventView:
    """One step of the history: who, when, the opinion."""

    seq: int
    action: str
    name: str
    """The step in words (登记申请, 县级审批通过, 上传申请材料 …)."""
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    role_zh: str
    at: dt.datetime
    on_date: dt.date
    opinion: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DocumentView:
    public_id: str
    key: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """A paper the kind requires, and what was uploaded for it (the latest counts)."""

    key: str
    name: str
    uploads: list[DocumentView]

    @property
    def given(self) -> bool:
        return bool(self.uploads)


@dataclass(frozen=True, slots=True)
class MemberView:
    name: str
    relation: str
    age: int | None
    health: str
    occupation: str
    income_fen: int


@dataclass(frozen=True, slots=True)
class VisitView:
    visited_on: dt.date
    investigators: list[str]
    members: list[MemberView]
    income_fen: int
    assets: str
    illness: str
    opinion: str
    witness_name: str
    witness_title: str
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ObjectionView:
    public_id: str
    received_on: dt.date
    text: str
    received_by: str
    upheld: bool | None
    resolution: str | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class PublicityView:
    stage: str
    """``township`` (审核公示) or ``result`` (结果公示)."""
    starts_on: dt.date
    ends_on: dt.date
    place: str
    objections: list[ObjectionView]


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """核定救助金额: the engine's amount, how it was reached, and on what."""

    public_id: str
    amount_fen: int
    identified_on: dt.date | None
    selections: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    """Per claim: its date, hospital and each benefit's change with the engine's lines."""
    computed_by: str
    computed_on: dt.date


@dataclass(frozen=True, slots=True)
class PaymentView:
    account: dict[str, Any]
    """Masked (户名, 开户行, 账号 with its last four digits)."""
    voucher: str
    paid_on: dt.date
    paid_by: str


@dataclass(frozen=True, slots=True)
class InstructionView:
    public_id: str
    payee_kind: str
    payee_name: str
    amount_fen: int
    lines: list[dict[str, Any]]
    payment: PaymentView | None


@dataclass(frozen=True, slots=True)
class NoticeView:
    public_id: str
    kind: str
    """``refusal`` (附件5) or ``approval``."""
    number_text: str
    issued_on: dt.date
    values: dict[str, Any]
    """What the paper states, frozen when it was issued (io/notices.py renders it)."""


@dataclass(frozen=True, slots=True)
class Possible:
    """A step or action the caller's role could take now (its guards not yet checked)."""

    key: str
    name: str
    kind: str
    """``transition`` or ``action``."""


@dataclass(frozen=True, slots=True)
class ApplicationSummary:
    public_id: str
    number: str
    policy_id: str
    kind: str
    kind_name: str
    decides: str
    person_public_id: str
    id_number: str
    """Masked."""
    applicant_name: str
    district_code: str
    township: str
    state: str
    state_name: str
    open: bool
    entered_on: dt.date
    due: dt.date | None
    overdue: bool
    version: int
    received_on: dt.date
    year: int


@dataclass(frozen=True, slots=True)
class ApplicationDetail:
    summary: ApplicationSummary
    reason: str
    clause: str
    """The kind's clause (聊城实施方案 四(一) …)."""
    account: dict[str, Any] | None
    """Masked."""
    bill: dict[str, Any] | None
    history: list[EventView]
    checklist: list[ChecklistItem]
    visits: list[VisitView]
    publicities: list[PublicityView]
    assessment: AssessmentView | None
    instructions: list[InstructionView]
    notices: list[NoticeView]
    possible: list[Possible] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Document:
    """An uploaded paper's bytes, for viewing."""

    view: DocumentView
    content: bytes
