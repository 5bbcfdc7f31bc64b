"""Request and response shapes of the service, for validation and for OpenAPI (/docs).

The claim body is the JSON contract of ``jiuzhu.io.claims.ClaimIn`` without the category
fields (a hospital's claim never states one: eligibility comes from the registry), and
is checked by ``parse_record``, so the service answers with the same Chinese messages and
the same field paths as ``jiuzhu settle``. ``ClaimBody`` only describes it for OpenAPI
(money as yuan strings); a test keeps its fields equal to ``ClaimIn``'s less those two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from jiuzhu.domain.vocabulary import Benefit, VisitType

YUAN = r"^[0-9]+\.[0-9]{2}$"
SIGNED_YUAN = r"^-?[0-9]+\.[0-9]{2}$"
Yuan = Field(pattern=YUAN, examples=["1234.56"])


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InsuranceBody(_Doc):
    basic_insurance: str = Yuan
    critical_illness_insurance: str = Yuan


class ClaimBody(_Doc):
    """A claim (docs/design.md), as a hospital sends it: ``person_id`` is the 身份证号; the
    person's categories come from the registry (a body that states one is refused)."""

    claim_id: str = Field(min_length=1, max_length=64, description="本院单据号（本院内唯一）")
    person_id: str = Field(min_length=18, max_length=18, description="身份证号（GB 11643）")
    visit_type: VisitType
    settlement_date: dt.date
    admission_date: dt.date
    hospital_level: Literal[1, 2, 3]
    referred: bool
    total: str = Yuan
    full_self_pay: str = Yuan
    partial_self_pay: str = Yuan
    policy_scope: str = Yuan
    insurance: InsuranceBody | None = None
    other_payments: str = Field(default="0.00", pattern=YUAN)
    disease: str | None = Field(default=None, max_length=100)
    out_of_area: bool = False
    out_of_area_filed: bool = False
    quota_hospital: bool = False
    late_stage: bool = False


class ErrorItem(BaseModel):
    field: str
    message: str


class Errors(BaseModel):
    errors: list[ErrorItem]


class PersonRef(BaseModel):
    id: str | None = Field(description="内部标识（public_id），用于 /persons/{id}；未登记者为 null")
    id_number: str = Field(description="身份证号，脱敏：3715**********1234")


class LineOut(BaseModel):
    benefit: str
    amount: str = Field(pattern=SIGNED_YUAN)
    base: str | None
    formula: str | None
    clause: str | None
    text: str


_RESULT_FIELDS: dict[str, Any] = {
    "claim_id": (str, ...),
    "person_id": (str, Field(description="身份证号，脱敏")),
    "policy": (str, ...),
    "category": (str, Field(description="适用的类别")),
    "total": (str, Field(pattern=YUAN)),
    **{b.value: (str, Field(pattern=YUAN, description=b.zh)) for b in Benefit},
    "critical_care_grant": (str, Field(pattern=YUAN, description="大病关怀救助（付给个人）")),
    "personal": (str, Field(pattern=YUAN, description="个人负担")),
    "lines": (list[LineOut], Field(description="解释：每项待遇的金额、基数、公式与条款")),
}
SettlementResult = create_model(
    "SettlementResult",
    __doc__="与 jiuzhu settle 输出相同（person_id 脱敏）：各项待遇、个人负担与解释",
    **_RESULT_FIELDS,
)
_CURRENT_FIELDS: dict[str, Any] = {
    **{b.value: (str, Field(pattern=YUAN)) for b in Benefit},
    "critical_care_grant": (str, Field(pattern=YUAN)),
    "personal": (str, Field(pattern=YUAN)),
}
CurrentAmounts = create_model(
    "CurrentAmounts", __doc__="当前金额：结算金额加上全部调整", **_CURRENT_FIELDS
)


class CategorySource(BaseModel):
    source: Literal["registry", "claim"] = Field(
        description="registry：按登记库；claim：修订 0004 之前由单据给出"
    )
    categories: list[dict[str, Any]] | None = None
    applied: str | None = None
    why: list[str] | None = None


class AdjustmentOut(BaseModel):
    id: str
    cursor: str = Field(description="在 GET /adjustments?after= 中使用")
    settlement_id: str
    claim_id: str
    benefit: str
    direction: Literal["补付", "追回"]
    amount: str = Field(pattern=SIGNED_YUAN, description="补付为正，追回为负")
    before: str = Field(pattern=SIGNED_YUAN)
    after: str = Field(pattern=SIGNED_YUAN)
    cause: dict[str, str] = Field(description="kind、ref、text：调整的原因")
    lines: list[LineOut]
    created_at: dt.datetime


class ReversalInfo(BaseModel):
    id: str
    by: str
    role: str
    reason: str
    amounts: dict[str, Any] = Field(description="撤销时的当前金额")
    adjusted_claims: int
    created_at: dt.datetime


class SettlementOut(BaseModel):
    id: str
    status: Literal["settled", "reversed"]
    claim_id: str
    person: PersonRef
    year: int
    policy: str
    category_source: CategorySource
    settlement: SettlementResult = Field(description="结算时的答复，永不改写")
    adjustments: list[AdjustmentOut]
    current: CurrentAmounts | None = Field(description="结算加调整后的当前金额；已撤销为 null")
    reversal: ReversalInfo | None
    created_at: dt.datetime


class PreSettlementOut(BaseModel):
    pre_settlement: Literal[True] = Field(description="预结算：未保存，未占用任何限额")
    claim_id: str
    person: PersonRef
    year: int
    policy: str
    category_source: CategorySource
    settlement: SettlementResult


class ReversalBody(_Doc):
    reason: str = Field(min_length=1, max_length=200, description="撤销原因")


class Change(BaseModel):
    settlement_id: str
    claim_id: str
    changes: dict[str, dict[str, str]] = Field(description="金额项 → {before, after}")


class ReversalOut(BaseModel):
    settlement: SettlementOut
    adjusted_claims: int = Field(description="此人当年其他单据中被调整的张数（含其他医院的）")
    changed: list[Change] = Field(description="调用方可见的被调整单据（医院：仅本院的）")


class SettlementPage(BaseModel):
    items: list[SettlementOut]
    next_after: str | None = Field(description="下一页的 after；没有下一页为 null")


class AdjustmentPage(BaseModel):
    items: list[AdjustmentOut]
    next_after: str | None


class MembershipOut(BaseModel):
    category: str
    category_zh: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    closed_by: str | None


class PersonOut(BaseModel):
    id: str
    id_number: str
    district: str
    memberships: list[MembershipOut]


class YearOut(BaseModel):
    person: PersonRef
    year: int
    policy: str
    category: str
    category_basis: str
    categories: dict[str, dict[str, Any]]
    benefit_balance: list[dict[str, Any]]


class LookupBody(_Doc):
    id_number: str = Field(
        min_length=1, max_length=64, description="身份证号（在请求体中，不进网址）"
    )


class LookupOut(BaseModel):
    registered: bool = Field(description="登记库中是否有此人")
    person: PersonRef
    district: str
    memberships: list[MembershipOut]
    today: YearOut = Field(description="今天（北京时间）适用的类别、原因与本年度余额")


class RotationOut(BaseModel):
    token: str = Field(description="新令牌：只显示这一次")
    fingerprint: str
    old_expires_at: dt.datetime = Field(description="旧令牌在此时刻之后失效")


class RosterCounts(BaseModel):
    rows: int = Field(description="数据行数（不含空行）")
    added: int = Field(description="新增资格")
    closed: int = Field(description="终止资格（自然减少）")
    unchanged: int = Field(description="已有、未变")
    bad: int = Field(description="有错误的行数（含辖区外的行）")


class RosterRowError(BaseModel):
    row: int = Field(description="行号（与表格软件中显示的相同）")
    field: str = Field(description="列名")
    message: str = Field(description="原因（身份证号脱敏）")


class RosterOut(BaseModel):
    file_name: str
    sha256: str
    layout: Literal["list", "changes"]
    layout_zh: str
    counts: RosterCounts
    already_imported: bool = Field(description="同一文件（SHA-256 相同）此前已导入")
    changed: bool = Field(description="此次上传是否改变了登记")
    message: str
    row_errors: list[RosterRowError]


class SetlDetail(BaseModel):
    """One fund paid here, as the national platform's ``setldetail`` lists funds."""

    fund_pay_type: str = Field(description="基金支付类型：610100 医疗救助基金")
    fund_pay_type_name: str
    inscp_scp_amt: Any = Field(description="符合政策范围金额（如所送）")
    fund_payamt: str = Field(pattern=SIGNED_YUAN, description="基金支付金额")
    setl_proc_info: str = Field(max_length=4000, description="结算过程信息：解释")


class SetlInfo(BaseModel):
    mdtrt_id: str | None
    setl_id: str
    psn_no: str | None
    certno: str = Field(description="证件号码，脱敏")
    medfee_sumamt: str = Field(pattern=SIGNED_YUAN)
    maf_pay: str = Field(pattern=SIGNED_YUAN, description="医疗救助基金支出")
    hosp_part_amt: str = Field(pattern=SIGNED_YUAN, description="医院负担金额")
    psn_part_amt: str = Field(pattern=SIGNED_YUAN, description="个人负担总金额")
    jz_settlement_id: str = Field(description="本服务的结算标识（/settlements/{id}）")
    jz_person_id: str
    jz_critical_care_grant: str = Field(pattern=SIGNED_YUAN, description="大病关怀救助（付给个人）")


class NationalOutput(BaseModel):
    setlinfo: SetlInfo
    setldetail: list[SetlDetail]


class NationalOut(BaseModel):
    """The national platform's answer envelope (2207; 2208 with negative amounts)."""

    infcode: Literal[0]
    inf_refmsgid: str
    output: NationalOutput
