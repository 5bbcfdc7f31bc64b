"""Request and response shapes of the application routes (OpenAPI at /docs).

The bodies are read by the service's own JSON reader and checked by the use cases
(``usecases/inputs.Fields``: every error names its field, in Chinese); these models
describe them for OpenAPI. Answers are rendered through the response models, so what
is sent is what the document says. Money is a yuan string; ID numbers are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jiuzhu.service.schemas import SIGNED_YUAN, YUAN, InsuranceBody, LineOut

OPINION = Field(default=None, max_length=1000, description="意见（审核意见、理由）")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountBody(_Doc):
    holder: str = Field(max_length=64, description="户名")
    bank: str = Field(max_length=100, description="开户行")
    number: str = Field(max_length=40, pattern=r"^[0-9 ]+$", description="账号")


class BillBody(_Doc):
    """零星报销的票据：单据的字段（不含类别），加开票单位与发票号。"""

    issuer: str = Field(max_length=100, description="开票医疗机构")
    bill_number: str = Field(max_length=64, description="发票号（同一开票单位内唯一）")
    visit_type: str
    settlement_date: dt.date
    admission_date: dt.date
    hospital_level: Literal[1, 2, 3]
    referred: bool
    total: str = Field(pattern=YUAN)
    full_self_pay: str = Field(pattern=YUAN)
    partial_self_pay: str = Field(pattern=YUAN)
    policy_scope: str = Field(pattern=YUAN)
    insurance: InsuranceBody | None = None
    other_payments: str = Field(default="0.00", pattern=YUAN)
    disease: str | None = Field(default=None, max_length=100)
    out_of_area: bool = False
    out_of_area_filed: bool = False
    quota_hospital: bool = False
    late_stage: bool = False


class SubmitBody(_Doc):
    id_number: str = Field(
        min_length=1, max_length=40, description="身份证号（在请求体中，不进网址）"
    )
    kind: str = Field(max_length=60, description="申请类别：政策文件 applications 的键或名称")
    applicant_name: str = Field(max_length=64, description="申请人姓名")
    township: str | None = Field(default=None, max_length=64, description="受理乡镇（街道）")
    received_on: dt.date | None = Field(default=None, description="申请日期（默认今天）")
    reason: str | None = Field(default=None, max_length=500, description="申请事由")
    account: AccountBody | None = None
    bill: BillBody | None = Field(default=None, description="零星报销的票据")


class SelectedClaim(_Doc):
    settlement_id: str = Field(max_length=40)
    accepted: str | None = Field(
        default=None, pattern=YUAN, description="审核认定的合理医疗费用（以合理费用为基数的待遇）"
    )


class MemberBody(_Doc):
    name: str = Field(max_length=64)
    relation: str = Field(max_length=32, description="与申请人关系")
    age: int | None = Field(default=None, ge=0, le=130)
    health: str | None = Field(default=None, max_length=100)
    occupation: str | None = Field(default=None, max_length=64)
    income: str | None = Field(default=None, pattern=YUAN, description="近12个月收入")


class StepBody(_Doc):
    """一步办理：version 必填；其余字段视步骤而定（见 docs/applications.md）。"""

    version: int = Field(ge=1, description="所依据的申请版本号（并发修改时据此拒绝）")
    opinion: str | None = OPINION
    clause: str | None = Field(default=None, max_length=200, description="不符合的规定及条款")
    publicity_start: dt.date | None = None
    publicity_end: dt.date | None = None
    publicity_place: str | None = Field(default=None, max_length=200)
    visited_on: dt.date | None = None
    investigators: list[str] | None = None
    members: list[MemberBody] | None = None
    income: str | None = Field(default=None, pattern=YUAN, description="家庭近12个月总收入")
    assets: str | None = Field(default=None, max_length=1000)
    illness: str | None = Field(default=None, max_length=1000)
    witness_name: str | None = Field(default=None, max_length=64)
    witness_title: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=1000, description="异议内容")
    received_on: dt.date | None = None
    objection: str | None = Field(default=None, max_length=40)
    upheld: bool | None = None
    resolution: str | None = Field(default=None, max_length=1000)
    identified_on: dt.date | None = Field(default=None, description="认定日期（认定类）")
    claims: list[SelectedClaim] | None = Field(default=None, description="所选结算（待遇类）")
    voucher: str | None = Field(default=None, max_length=64, description="支付凭证号")
    paid_on: dt.date | None = None
    account: AccountBody | None = None


# -- answers -------------------------------------------------------------------------------


class EventOut(BaseModel):
    seq: int
    action: str
    name: str
    from_state: str | None
    to_state: str | None
    actor: str
    role: str
    role_zh: str
    at: dt.datetime
    on_date: dt.date
    opinion: str
    details: dict[str, Any]


class DocumentOut(BaseModel):
    id: str
    key: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class ChecklistOut(BaseModel):
    key: str
    name: str
    given: bool
    uploads: list[DocumentOut]


class MemberOut(BaseModel):
    name: str
    relation: str
    age: int | None
    health: str
    occupation: str
    income: str = Field(pattern=YUAN)


class VisitOut(BaseModel):
    visited_on: dt.date
    investigators: list[str]
    members: list[MemberOut]
    income: str = Field(pattern=YUAN)
    assets: str
    illness: str
    opinion: str
    witness_name: str
    witness_title: str
    recorded_by: str


class ObjectionOut(BaseModel):
    id: str
    received_on: dt.date
    text: str
    received_by: str
    upheld: bool | None
    resolution: str | None
    resolved_by: str | None


class PublicityOut(BaseModel):
    stage: Literal["township", "result"]
    starts_on: dt.date
    ends_on: dt.date
    place: str
    objections: list[ObjectionOut]


class ChangeOut(BaseModel):
    benefit: str
    benefit_zh: str
    before: str = Field(pattern=SIGNED_YUAN)
    after: str = Field(pattern=SIGNED_YUAN)
    delta: str = Field(pattern=SIGNED_YUAN)
    lines: list[LineOut]


class ClaimLinesOut(BaseModel):
    claim_id: str
    settlement_id: str
    settlement_date: str
    hospital: str
    category: str
    changes: list[ChangeOut]
    unchanged: list[LineOut]


class AssessmentOut(BaseModel):
    id: str
    amount: str = Field(pattern=SIGNED_YUAN)
    identified_on: dt.date | None
    selections: list[dict[str, Any]]
    lines: list[ClaimLinesOut] = Field(description="逐笔结算、逐项待遇的变化与引擎的计算说明")
    computed_by: str
    computed_on: dt.date


class PaymentOut(BaseModel):
    account: dict[str, Any]
    voucher: str
    paid_on: dt.date
    paid_by: str


class InstructionOut(BaseModel):
    id: str
    payee_kind: Literal["person", "hospital"]
    payee_name: str
    amount: str = Field(pattern=SIGNED_YUAN)
    payment: PaymentOut | None


class NoticeOut(BaseModel):
    id: str
    kind: Literal["refusal", "approval"]
    number: str = Field(description="[2024]第 3 号")
    issued_on: dt.date
    values: dict[str, Any] = Field(description="告知书所载内容（出具时冻结）")


class PossibleOut(BaseModel):
    key: str
    name: str
    kind: Literal["transition", "action"]


class SummaryOut(BaseModel):
    id: str
    number: str
    policy: str
    kind: str
    kind_name: str
    decides: str
    person: dict[str, str] = Field(description="id（内部标识）与 id_number（脱敏）")
    applicant_name: str
    district: str
    township: str
    state: str
    state_name: str
    open: bool
    entered_on: dt.date
    due: dt.date | None = Field(description="当前环节应完成的日期")
    overdue: bool
    version: int
    received_on: dt.date
    year: int


class ApplicationOut(BaseModel):
    application: SummaryOut
    reason: str
    clause: str
    account: dict[str, Any] | None = Field(description="收款账户（账号脱敏）")
    bill: dict[str, Any] | None
    history: list[EventOut]
    checklist: list[ChecklistOut]
    visits: list[VisitOut]
    publicities: list[PublicityOut]
    assessment: AssessmentOut | None
    instructions: list[InstructionOut]
    notices: list[NoticeOut]
    possible: list[PossibleOut] = Field(description="调用者的角色现在可办的步骤")


class ApplicationPage(BaseModel):
    items: list[SummaryOut]
    next_after: str | None


class PublicityRowOut(BaseModel):
    number: str
    name: str = Field(description="姓名，部分隐藏：张*三")
    id_number: str = Field(description="身份证号，脱敏")
    township: str
    kind_name: str
    amount: str | None = Field(pattern=SIGNED_YUAN)
    starts_on: dt.date
    ends_on: dt.date


class PublicityListOut(BaseModel):
    title: str
    stage: Literal["township", "result"]
    on: dt.date
    issuer: str
    rows: list[PublicityRowOut]
    note: str


BODIES = (SubmitBody, StepBody)
