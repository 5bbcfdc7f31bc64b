"""Request and response shapes of the service, for validation and for OpenAPI (/docs).

The claim body is the JSON contract of ``jiuzhu.io.claims.ClaimIn`` and is checked by
its own ``parse_record``, so the service answers with the same Chinese messages and the
same field paths as ``jiuzhu settle``. ``ClaimBody`` only describes it for OpenAPI
(money as yuan strings); a test keeps its fields equal to ``ClaimIn``'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jiuzhu.domain.vocabulary import Category, VisitType

Yuan = Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["1234.56"])


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategorySpanBody(_Doc):
    category: Category
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class InsuranceBody(_Doc):
    basic_insurance: str = Yuan
    critical_illness_insurance: str = Yuan


class ClaimBody(_Doc):
    """A claim (docs/design.md). Without ``category``/``categories`` the service takes the
    person's categories from the registry; ``person_id`` is the 身份证号."""

    claim_id: str = Field(min_length=1, max_length=64)
    person_id: str = Field(min_length=18, max_length=18, description="身份证号（GB 11643）")
    category: Category | None = None
    categories: list[CategorySpanBody] | None = None
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
    other_payments: str = Field(default="0.00", pattern=r"^[0-9]+\.[0-9]{2}$")
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
    id: str = Field(description="内部标识（public_id），用于 /persons/{id}")
    id_number: str = Field(description="身份证号，脱敏：3715**********1234")


class SettlementOut(BaseModel):
    id: str
    status: Literal["settled", "reversed"]
    claim_id: str
    person: PersonRef
    year: int
    policy: str
    revision: int
    category_source: dict[str, Any]
    settlement: dict[str, Any] = Field(
        description="与 jiuzhu settle 输出相同（person_id 脱敏）：各项待遇、personal、lines"
    )
    created_at: dt.datetime
    reversed_at: dt.datetime | None


class Change(BaseModel):
    settlement_id: str
    claim_id: str
    changes: dict[str, dict[str, Any]] = Field(description="字段 → {old, new}")


class ReversalOut(BaseModel):
    settlement: SettlementOut
    changed: list[Change]


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
