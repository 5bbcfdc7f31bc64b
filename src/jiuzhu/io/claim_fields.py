"""What each field of the claim contract accepts, and how its problems are worded.

Plain Python, no pydantic: the plain reader (``io/claim_plain.py``), the pydantic
contract (``io/claim_contract.py``) and the Parquet reader (``io/claims_columnar.py``)
all read a field through the same function here, so the three cannot disagree on
what a value means or on the words of its error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from jiuzhu.domain.money import Fen, format_yuan, parse_yuan
from jiuzhu.domain.vocabulary import Category, VisitType, category_from_text, visit_from_text

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


def shown(value: object) -> str:
    """A value as a message quotes it; a lone surrogate (JSON can spell ``"\\udfff"``, no
    text can hold it) escaped, so the message itself can always be written."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def unknown_category(value: object) -> str:
    return (
        f"未知的救助对象类别「{shown(value)}」"
        "（可用类别名称如 特困人员、低保对象，简称如 低保，或标识符，见 docs/glossary.md）"
    )


def unknown_visit(value: object) -> str:
    return (
        f"未知的就医类型「{shown(value)}」"
        "（可用：住院、门诊慢特病、普通门诊、大病保险特药，或其标识符）"
    )


BOTH_CATEGORIES = "须给出 category 或 categories 之一（且只给一个）"
SPAN_REVERSED = "类别有效期止（valid_to）早于有效期起（valid_from）"

MAX_CLAIM_FEN = 100_000_000_000
"""A sanity bound, not a policy amount: no bill reaches 10亿元, and every amount
must fit the 64-bit fen columns of the stores and the batch engine."""


def category_of(v: Any) -> Any:
    """A category given by its identifier, Chinese name or short name (低保)."""
    if isinstance(v, Category) or v is None:
        return v
    if not isinstance(v, str):
        raise ValueError(f"须为救助对象类别的名称或标识符，得到 {v!r}")
    found = category_from_text(v)
    if found is None:
        raise ValueError(unknown_category(v))
    return found


def visit_of(v: Any) -> Any:
    """A visit type given by its identifier or Chinese name."""
    if isinstance(v, VisitType):
        return v
    if not isinstance(v, str):
        raise ValueError(f"须为就医类型的名称或标识符，得到 {v!r}")
    found = visit_from_text(v)
    if found is None:
        raise ValueError(unknown_visit(v))
    return found


def money_of(v: Any) -> Fen:
    """A yuan string with two decimals, in fen, below the sanity bound."""
    if isinstance(v, bool) or not isinstance(v, str):
        raise ValueError(f'金额须为带两位小数的元字符串（如 "1234.56"），得到 {v!r}')
    fen = parse_yuan(v)
    if fen >= MAX_CLAIM_FEN:
        raise ValueError(f"金额 {v} 超出上限（须小于 {format_yuan(MAX_CLAIM_FEN)} 元），请核对单位")
    return fen


def bill_date_of(v: Any) -> dt.date:
    """The settlement or admission date: a ``YYYY-MM-DD`` string, nothing looser (a
    number or a datetime is more likely a column mix-up than a date)."""
    if not isinstance(v, str):
        raise ValueError(f"须为日期字符串 YYYY-MM-DD，得到 {v!r}")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"日期不存在或格式不对：{v!r}（应为 YYYY-MM-DD）") from None


def span_problem(
    valid_from: dt.date | None, valid_to: dt.date | None, applied_on: dt.date | None
) -> str | None:
    """What is wrong with a category span's dates, if anything."""
    if valid_from and valid_to and valid_to < valid_from:
        return SPAN_REVERSED
    if applied_on is not None:
        if valid_from is None:
            return "写了申请日期 applied_on，须同时写认定日期 valid_from"
        if applied_on > valid_from:
            return "申请日期 applied_on 晚于认定日期 valid_from"
    return None


class Paid(Protocol):
    """Insurance already settled, as the contract model and the domain both hold it."""

    @property
    def basic_insurance(self) -> int: ...
    @property
    def critical_illness_insurance(self) -> int: ...


class Bill(Protocol):
    """The fields the cross-field checks read: the contract model and the domain
    ``Claim`` both have them, so the two readers run the one set of checks."""

    @property
    def admission_date(self) -> dt.date: ...
    @property
    def settlement_date(self) -> dt.date: ...
    @property
    def total(self) -> int: ...
    @property
    def full_self_pay(self) -> int: ...
    @property
    def partial_self_pay(self) -> int: ...
    @property
    def policy_scope(self) -> int: ...
    @property
    def insurance(self) -> Paid | None: ...
    @property
    def other_payments(self) -> int: ...
    @property
    def out_of_area(self) -> bool: ...
    @property
    def out_of_area_filed(self) -> bool: ...


def bill_problems(claim: Bill) -> list[tuple[str, str]]:
    """The checks that look at several fields of the bill at once, as (field, message)."""
    problems: list[tuple[str, str]] = []
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
