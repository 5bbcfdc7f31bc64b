"""Read claims (JSON objects, one per line) into validated domain ``Claim``s.

Every problem is reported with the line, the claim and the field, and a bad
claim never stops the good ones: ``parse_lines`` returns both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled, Reviewed
from jiuzhu.domain.money import Fen, format_yuan, parse_yuan
from jiuzhu.domain.vocabulary import (
    Benefit,
    Category,
    VisitType,
    category_from_text,
    visit_from_text,
)
from jiuzhu.io.errors import flatten, json_reason

FIELD_ZH: dict[str, str] = {
    "claim_id": "单据号",
    "person_id": "参保人",
    "category": "救助对象类别",
    "categories": "救助对象类别",
    "valid_from": "类别有效期起",
    "valid_to": "类别有效期止",
    "visit_type": "就医类型",
    "settlement_date": "结算日期",
    "admission_date": "入院日期",
    "hospital_level": "医院等级",
    "referred": "是否转诊",
    "total": "医疗总费用",
    "full_self_pay": "全自费",
    "partial_self_pay": "先行自付",
    "policy_scope": "政策范围内费用",
    "insurance": "已结算的基本医保与大病保险",
    "basic_insurance": "基本医疗保险",
    "critical_illness_insurance": "大病保险",
    "other_payments": "其他支付",
    "disease": "病种",
    "out_of_area": "异地就医",
    "out_of_area_filed": "异地就医备案",
    "quota_hospital": "单病种限额付费定点医院",
    "late_stage": "病情晚期",
    "applied_on": "申请日期",
    "reviewed": "审核批准的待遇",
    "accepted": "审核认定的合理医疗费用",
}
"""The claim contract's fields as people call them (the headers of a claims table)."""


def field_label(path: str) -> str:
    """``total`` → ``total（医疗总费用）``; ``categories[0].valid_to`` names its last part."""
    last = path.rsplit(".", 1)[-1].split("[", 1)[0]
    zh = FIELD_ZH.get(last)
    return f"{path}（{zh}）" if zh else path


def split_mismatch(total: int, parts: int) -> str:
    """The one wording of a bill whose parts do not add up (JSON lines and tables alike)."""
    return (
        f"医疗总费用 {format_yuan(total)} 不等于 全自费 + 先行自付 + 政策范围内费用"
        f" = {format_yuan(parts)}"
    )


def unknown_category(value: object) -> str:
    return (
        f"未知的救助对象类别「{value}」"
        "（可用类别名称如 特困人员、低保对象，简称如 低保，或标识符，见 docs/glossary.md）"
    )


def unknown_visit(value: object) -> str:
    return (
        f"未知的就医类型「{value}」（可用：住院、门诊慢特病、普通门诊、大病保险特药，或其标识符）"
    )


BOTH_CATEGORIES = "须给出 category 或 categories 之一（且只给一个）"
SPAN_REVERSED = "类别有效期止（valid_to）早于有效期起（valid_from）"


def _category(v: Any) -> Any:
    """A category given by its identifier, Chinese name or short name (低保)."""
    if isinstance(v, Category) or v is None:
        return v
    if not isinstance(v, str):
        raise ValueError(f"须为救助对象类别的名称或标识符，得到 {v!r}")
    found = category_from_text(v)
    if found is None:
        raise ValueError(unknown_category(v))
    return found


def _visit(v: Any) -> Any:
    if isinstance(v, VisitType):
        return v
    if not isinstance(v, str):
        raise ValueError(f"须为就医类型的名称或标识符，得到 {v!r}")
    found = visit_from_text(v)
    if found is None:
        raise ValueError(unknown_visit(v))
    return found


MAX_CLAIM_FEN = 100_000_000_000
"""A sanity bound, not a policy amount: no bill reaches 10亿元, and every amount
must fit the 64-bit fen columns of the stores and the batch engine."""


def _money(v: Any) -> Fen:
    if isinstance(v, bool) or not isinstance(v, str):
        raise ValueError(f'金额须为带两位小数的元字符串（如 "1234.56"），得到 {v!r}')
    fen = parse_yuan(v)
    if fen >= MAX_CLAIM_FEN:
        raise ValueError(f"金额 {v} 超出上限（须小于 {format_yuan(MAX_CLAIM_FEN)} 元），请核对单位")
    return fen


class _Model(BaseModel):
    """Base of the claim contract's models. Their validators are built when the first
    claim is read (``defer_build``), once for ``ClaimIn`` with the models inside it,
    rather than for each model as it is defined (docs/performance.md, "Start-up")."""

    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)


class CategorySpanIn(_Model):
    category: Category
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    applied_on: dt.date | None = None
    """Application date of a category identified on application (default: valid_from)."""

    @field_validator("category", mode="before")
    @classmethod
    def _cat(cls, v: Any) -> Any:
        return _category(v)

    @model_validator(mode="after")
    def _order(self) -> CategorySpanIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(SPAN_REVERSED)
        if self.applied_on is not None:
            if self.valid_from is None:
                raise ValueError("写了申请日期 applied_on，须同时写认定日期 valid_from")
            if self.applied_on > self.valid_from:
                raise ValueError("申请日期 applied_on 晚于认定日期 valid_from")
        return self


class ReviewedIn(_Model):
    """A benefit the desk does not pay, approved on review for this claim (set by the
    bureau's review; a hospital never sends it)."""

    benefit: Benefit
    accepted: Fen | None = None
    application: str | None = Field(default=None, max_length=64)

    @field_validator("accepted", mode="before")
    @classmethod
    def _m(cls, v: Any) -> Fen | None:
        return None if v is None else _money(v)


class InsuranceIn(_Model):
    basic_insurance: Fen
    critical_illness_insurance: Fen

    @field_validator("basic_insurance", "critical_illness_insurance", mode="before")
    @classmethod
    def _m(cls, v: Any) -> Fen:
        return _money(v)


class ClaimIn(_Model):
    """The claim contract of docs/design.md, plus optional flags for 山西's rules."""

    claim_id: str = Field(min_length=1, max_length=64)
    person_id: str = Field(min_length=1, max_length=64)
    category: Category | None = None
    categories: list[CategorySpanIn] | None = None
    visit_type: VisitType
    settlement_date: dt.date
    admission_date: dt.date
    hospital_level: Literal[1, 2, 3]
    referred: bool
    total: Fen
    full_self_pay: Fen
    partial_self_pay: Fen
    policy_scope: Fen
    insurance: InsuranceIn | None = None
    other_payments: Fen = Fen(0)
    disease: str | None = Field(default=None, max_length=100)
    out_of_area: bool = False
    out_of_area_filed: bool = False
    quota_hospital: bool = False
    late_stage: bool = False
    reviewed: list[ReviewedIn] | None = None

    @field_validator("category", mode="before")
    @classmethod
    def _cat(cls, v: Any) -> Any:
        return _category(v)

    @field_validator("visit_type", mode="before")
    @classmethod
    def _vis(cls, v: Any) -> Any:
        return _visit(v)

    @field_validator(
        "total",
        "full_self_pay",
        "partial_self_pay",
        "policy_scope",
        "other_payments",
        mode="before",
    )
    @classmethod
    def _m(cls, v: Any) -> Fen:
        return _money(v)

    @field_validator(
        "referred",
        "out_of_area",
        "out_of_area_filed",
        "quota_hospital",
        "late_stage",
        mode="before",
    )
    @classmethod
    def _strict_bool(cls, v: Any) -> Any:
        if not isinstance(v, bool):
            raise ValueError(f"须为 true 或 false，得到 {v!r}")
        return v

    @field_validator("hospital_level", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"取值 {v!r} 不在允许范围（1、2、3 级医院，整数）")
        return v

    @field_validator("settlement_date", "admission_date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError(f"须为日期字符串 YYYY-MM-DD，得到 {v!r}")
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"日期不存在或格式不对：{v!r}（应为 YYYY-MM-DD）") from None


def _check(claim: ClaimIn) -> list[tuple[str, str]]:
    """The checks that look at several fields at once."""
    problems: list[tuple[str, str]] = []
    if (claim.category is None) == (claim.categories is None):
        problems.append(("category", BOTH_CATEGORIES))
    if claim.categories is not None and not claim.categories:
        problems.append(("categories", "不能为空列表"))
    if claim.admission_date > claim.settlement_date:
        problems.append(
            (
                "admission_date",
                f"入院日期 {claim.admission_date} 晚于结算日期 {claim.settlement_date}",
            )
        )
    parts = claim.full_self_pay + claim.partial_self_pay + claim.policy_scope
    if parts != claim.total:
        problems.append(("total", split_mismatch(claim.total, parts)))
    if claim.insurance is not None:
        paid = claim.insurance.basic_insurance + claim.insurance.critical_illness_insurance
        if paid > claim.policy_scope:
            problems.append(
                (
                    "insurance",
                    f"基本医保与大病保险合计 {format_yuan(paid)} 超过政策范围内费用"
                    f" {format_yuan(claim.policy_scope)}",
                )
            )
        elif claim.other_payments > claim.total - paid:
            problems.append(
                (
                    "other_payments",
                    f"其他支付 {format_yuan(claim.other_payments)} 超过保险报销后剩余费用"
                    f" {format_yuan(claim.total - paid)}",
                )
            )
    elif claim.other_payments > claim.total:
        problems.append(("other_payments", "其他支付超过总费用"))
    if claim.out_of_area_filed and not claim.out_of_area:
        problems.append(("out_of_area_filed", "只有异地就医（out_of_area: true）才有备案"))
    return problems


def to_domain(c: ClaimIn) -> Claim:
    if c.category is not None:
        spans: tuple[CategorySpan, ...] = (CategorySpan(c.category),)
    else:
        spans = tuple(
            CategorySpan(s.category, s.valid_from, s.valid_to, s.applied_on)
            for s in c.categories or []
        )
    insurance = None
    if c.insurance is not None:
        insurance = PreSettled(c.insurance.basic_insurance, c.insurance.critical_illness_insurance)
    return Claim(
        claim_id=c.claim_id,
        person_id=c.person_id,
        visit_type=c.visit_type,
        settlement_date=c.settlement_date,
        admission_date=c.admission_date,
        hospital_level=c.hospital_level,
        referred=c.referred,
        total=c.total,
        full_self_pay=c.full_self_pay,
        partial_self_pay=c.partial_self_pay,
        policy_scope=c.policy_scope,
        categories=spans,
        reviewed=tuple(Reviewed(r.benefit, r.accepted, r.application) for r in c.reviewed or []),
        insurance=insurance,
        other_payments=c.other_payments,
        disease=c.disease,
        out_of_area=c.out_of_area,
        out_of_area_filed=c.out_of_area_filed,
        quota_hospital=c.quota_hospital,
        late_stage=c.late_stage,
    )


@dataclass(frozen=True, slots=True)
class InputError:
    """A record that was not settled, and why."""

    line: int
    claim_id: str | None
    field: str
    message: str

    def render(self) -> str:
        """``错误：第 3 行，单据 c3，字段 total（医疗总费用）：…`` (the line of a JSONL
        file, or the row of a table as the spreadsheet numbers it)."""
        who = f"单据 {self.claim_id}" if self.claim_id else "无单据号"
        where = f"，字段 {field_label(self.field)}" if self.field else ""
        return f"错误：第 {self.line} 行，{who}{where}：{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "claim_id": self.claim_id,
            "field": self.field,
            "message": self.message,
        }


def parse_record(data: Any, line: int) -> Claim | list[InputError]:
    if not isinstance(data, dict):
        return [InputError(line, None, "", "每行须为一个 JSON 对象")]
    raw_id = data.get("claim_id")
    claim_id = raw_id if isinstance(raw_id, str) and raw_id else None
    try:
        parsed = ClaimIn.model_validate(data)
    except ValidationError as err:
        return [InputError(line, claim_id, path, msg) for path, msg in flatten(err)]
    problems = _check(parsed)
    if problems:
        return [InputError(line, claim_id, path, msg) for path, msg in problems]
    return to_domain(parsed)


@dataclass(slots=True)
class Parsed:
    claims: list[tuple[int, Claim]]
    errors: list[InputError]


def parse_lines(lines: Iterable[str], complete: Callable[[Any], Any] | None = None) -> Parsed:
    """Parse JSONL. Blank lines are skipped; a repeated claim_id is an error for the repeat.
    ``complete``, when given, sees each decoded record before it is checked (the
    registry's categories for a claim that gives none: ``io/registry_categories.py``)."""
    decoded: list[tuple[int, Any]] = []
    errors: list[InputError] = []
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            decoded.append((n, json.loads(text)))
        except json.JSONDecodeError as err:
            errors.append(InputError(n, None, "", json_reason(err)))
    parsed = parse_records(decoded, complete)
    parsed.errors = sorted(errors + parsed.errors, key=lambda e: e.line)
    return parsed


def parse_records(
    records: Iterable[tuple[int, Any]], complete: Callable[[Any], Any] | None = None
) -> Parsed:
    """Check records already decoded (from JSON lines or the rows of a table), each with
    its line or row number; a repeated claim_id is an error for the repeat."""
    out = Parsed([], [])
    seen: dict[str, int] = {}
    for n, data in records:
        result = parse_record(data if complete is None else complete(data), n)
        if isinstance(result, list):
            out.errors.extend(result)
            continue
        if result.claim_id in seen:
            out.errors.append(
                InputError(
                    n,
                    result.claim_id,
                    "claim_id",
                    f"重复的 claim_id（与第 {seen[result.claim_id]} 行相同）",
                )
            )
            continue
        seen[result.claim_id] = n
        out.claims.append((n, result))
    return out
