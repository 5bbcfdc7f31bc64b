"""Category memberships from certificates (证书/证件) in CSV or XLSX.

杭州 杭政办函〔2022〕70号 二(二) makes the holders of a certificate
within its validity period assistance recipients: "将持有效期内本市民政、残联部门核发的
《特困人员救助供养证》《最低生活保障家庭证》《最低生活保障边缘家庭证》和二级及以上
《中华人民共和国残疾人证》的人员确定为我市医疗救助对象". So a certificate gives its
category from the start of its validity (有效期起, else 发证日期) through its last valid
day (有效期止), unless it is cancelled first (注销日期).

Columns (Chinese headers, found in the first 30 rows; title lines above are allowed):
``证书编号 身份证号码 姓名 对象类别 发证日期/有效期起 有效期止 注销日期 残疾等级``;
有效期止, 注销日期, 姓名 and 残疾等级 are optional, and either 发证日期 or 有效期起
must be there.

Dates read like rosters (晋医保发〔2019〕46号 三(十)): 有效期止 is the last day *with* the
category (inclusive, as "有效期至" is read on the card), while 注销日期, like a roster's
exit date, is the first day *without* it, so the membership ends the day before.

Every row is checked, a bad row is reported with its row number, column and a Chinese
reason with ID numbers masked (inside certificate numbers too: a 残疾人证 number is the
holder's ID number plus two digits), and the good rows still go in. Importing a file
again changes nothing: a certificate is keyed by (certificate number, category, start
of validity), and an end only ever moves earlier, so files can arrive in any order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id, mask_ids_in, mask_value, validate_id
from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import (
    ImportCounts,
    RosterFileError,
    RowError,
    category_from_text,
    file_sha256,
    membership_from,
    parse_date,
    person_row,
    read_table,
    record_import,
)
from jiuzhu.storage.db import lock_rosters
from jiuzhu.storage.models import CategoryMembership, Person

CLAUSE_CERTIFICATES = "杭政办函〔2022〕70号 二(二)"
LAYOUT = "certificate"  # roster_imports.layout of a certificate file


class CertificateFileError(RosterFileError):
    """The file as a whole cannot be read. A kind of ``RosterFileError`` because
    ``read_table`` raises that one for unreadable files; callers catch one type."""


# -- columns -------------------------------------------------------------------------

F_NUMBER = "证书编号"
F_ID = "身份证号码"
F_NAME = "姓名"
F_CATEGORY = "对象类别"
F_GRADE = "残疾等级"
F_ISSUED = "发证日期"
F_FROM = "有效期起"
F_TO = "有效期止"
F_CANCEL = "注销日期"

# The header names bureaus write for each column (after removing spaces).
_HEADERS: dict[str, frozenset[str]] = {
    F_NUMBER: frozenset({"证书编号", "证件编号", "证书号", "证书号码", "证号"}),
    F_NAME: frozenset({"姓名", "持证人姓名", "持证人"}),
    F_CATEGORY: frozenset(
        {"对象类别", "证书类型", "证书名称", "证书种类", "证件类型", "证件名称", "证件种类"}
    ),
    F_GRADE: frozenset({"残疾等级"}),
    F_ISSUED: frozenset({"发证日期", "发证时间"}),
    F_FROM: frozenset(
        {"有效期起", "有效期自", "有效期开始", "有效期起始", "有效期起始日期", "有效期开始日期"}
    ),
    F_TO: frozenset(
        {"有效期止", "有效期至", "有效期截止", "有效期截止日期", "有效期结束", "有效期结束日期"}
    ),
    F_CANCEL: frozenset({"注销日期", "注销时间"}),
}

MAX_TEXT = 64  # the width of persons.name and category_memberships.certificate_number


def _header(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")")


def _columns(header: list[str]) -> dict[str, int]:
    names = [_header(h) for h in header]
    cols: dict[str, int] = {}
    for i, name in enumerate(names):
        if "身份证" in name and F_ID not in cols:
            cols[F_ID] = i
            continue
        for key, accepted in _HEADERS.items():
            if name in accepted and key not in cols:
                cols[key] = i
    return cols


# -- categories ----------------------------------------------------------------------

# The certificates' own names (杭政办函〔2022〕70号 二(二)), besides what category_from_text knows
# (the roster names, the glossary's Chinese names and identifiers).
CERTIFICATE_NAMES: dict[str, Category] = {
    "特困人员救助供养证": Category.extreme_poor,
    "特困供养证": Category.extreme_poor,
    "特困人员供养证": Category.extreme_poor,
    "特困证": Category.extreme_poor,
    "最低生活保障家庭证": Category.dibao,
    "最低生活保障证": Category.dibao,
    "低保家庭证": Category.dibao,
    "低保证": Category.dibao,
    "最低生活保障边缘家庭证": Category.near_dibao,
    "低保边缘家庭证": Category.near_dibao,
    "低边证": Category.near_dibao,
    "二级及以上残疾人证": Category.severe_disability,
    "一级残疾人证": Category.severe_disability,
    "二级残疾人证": Category.severe_disability,
}
# A disability card alone does not say whether it is 二级及以上: the 残疾等级 column does.
DISABILITY_CARDS = frozenset({"残疾人证", "中华人民共和国残疾人证"})
_GRADES = {
    "一级": 1, "1": 1, "1级": 1, "一": 1,
    "二级": 2, "2": 2, "2级": 2, "二": 2,
    "三级": 3, "3": 3, "3级": 3, "三": 3,
    "四级": 4, "4": 4, "4级": 4, "四": 4,
}  # fmt: skip


def _category_text(text: str) -> str:
    return re.sub(r"[\s《》〈〉<>“”\"']", "", text)


def certificate_category(text: str) -> Category | None:
    """The category a certificate name (or a category name) stands for; ``None`` if
    unknown or, for a bare 残疾人证, not known without its grade."""
    value = _category_text(text)
    return CERTIFICATE_NAMES.get(value) or category_from_text(value)


def mask_number(text: str) -> str:
    """A certificate number for messages (``domain.ids.mask_ids_in``)."""
    return mask_ids_in(text)


# -- rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateRow:
    row: int
    number: str
    id_number: str
    name: str
    category: Category
    valid_from: dt.date
    valid_to: dt.date | None
    """The last day with the category (inclusive): 有效期止, or 注销日期 − 1 if earlier."""
    cancelled: dt.date | None
    """注销日期: the first day without the category."""


@dataclass
class ParsedCertificates:
    file_name: str
    sha256: str
    rows_total: int
    rows: list[CertificateRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _find_header(table: list[list[str]]) -> int | None:
    for i, row in enumerate(table[:30]):
        names = {_header(c) for c in row}
        if any("身份证" in n for n in names) and names & _HEADERS[F_NUMBER]:
            return i
    return None


def parse_certificates(path: Path) -> ParsedCertificates:
    """Read and check every row; a file without the required columns is refused whole."""
    table = read_table(path)
    header_at = _find_header(table)
    if header_at is None:
        raise CertificateFileError(
            f"{path.name} 找不到表头：须有“证书编号”和“身份证号码”列"
            f"（以及 对象类别、发证日期或有效期起；可选 姓名、有效期止、注销日期、残疾等级）"
        )
    cols = _columns(table[header_at])
    missing = [k for k in (F_CATEGORY,) if k not in cols]
    if F_ISSUED not in cols and F_FROM not in cols:
        missing.append(f"{F_ISSUED}或{F_FROM}")
    if missing:
        raise CertificateFileError(f"{path.name} 缺少列：{'、'.join(missing)}")

    parsed = ParsedCertificates(path.name, file_sha256(path), 0)
    for index in range(header_at + 1, len(table)):
        raw = table[index]
        if not any(raw):
            continue
        parsed.rows_total += 1
        row = _check_row(index + 1, raw, cols)
        if isinstance(row, CertificateRow):
            parsed.rows.append(row)
        else:
            parsed.errors.extend(row)
    return parsed


def _check_row(
    number: int, raw: list[str], cols: dict[str, int]
) -> CertificateRow | list[RowError]:
    def get(key: str) -> str:
        i = cols.get(key)
        return raw[i].strip() if i is not None and i < len(raw) else ""

    errors: list[RowError] = []

    def bad(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    cert = get(F_NUMBER)
    if not cert:
        bad(F_NUMBER, "证书编号为空")
    elif len(cert) > MAX_TEXT:
        shown = mask_number(cert)[:20]  # mask first: a cut could leave part of an ID bare
        bad(F_NUMBER, f"证书编号超过{MAX_TEXT}个字符（{shown}…）")

    id_number = get(F_ID).upper()
    if not id_number:
        bad(F_ID, "身份证号码为空")
    else:
        why = validate_id(id_number)
        if why:
            bad(F_ID, f"{why}（{mask_value(id_number)}）")

    name = get(F_NAME)
    if len(name) > MAX_TEXT:
        bad(F_NAME, f"姓名超过{MAX_TEXT}个字符")

    cat_text = get(F_CATEGORY)
    grade_text = _header(get(F_GRADE))
    grade = _GRADES.get(grade_text)
    category: Category | None = None
    if not cat_text:
        bad(F_CATEGORY, "对象类别（证书类型）为空")
    elif _category_text(cat_text) in DISABILITY_CARDS:
        if not grade_text:
            bad(
                F_GRADE,
                f"残疾人证须注明残疾等级：二级及以上残疾人证持证人员才是医疗救助对象"
                f"（{CLAUSE_CERTIFICATES}）",
            )
        elif grade is None:
            bad(F_GRADE, f"未知的残疾等级「{grade_text}」：应为 一级、二级、三级 或 四级")
        else:
            category = Category.severe_disability
    else:
        category = certificate_category(cat_text)
        if category is None:
            bad(F_CATEGORY, f"未知的对象类别（证书类型）「{cat_text}」")
    if category is Category.severe_disability and grade is not None and grade > 2:
        bad(
            F_GRADE,
            f"{grade_text}残疾人证不属于医疗救助对象：须二级及以上（{CLAUSE_CERTIFICATES}）",
        )

    def date(key: str) -> dt.date | None:
        text = get(key)
        if not text:
            return None
        value = parse_date(text)
        if value is None:
            bad(key, f"日期无法识别或不存在「{text}」（如 2023-01-01）")
        return value

    # 有效期起 when written, else 发证日期; with neither, the error is on 有效期起
    use_from = F_FROM in cols and (bool(get(F_FROM)) or not get(F_ISSUED))
    start_key = F_FROM if use_from else F_ISSUED
    valid_from = date(start_key)
    if not get(start_key):
        bad(
            start_key,
            f"{'、'.join(k for k in (F_FROM, F_ISSUED) if k in cols)}为空："
            f"证书自有效期起始之日起有效（{CLAUSE_CERTIFICATES}：持有效期内证书）",
        )
    if start_key == F_FROM:
        date(F_ISSUED)  # still checked when present: a wrong date is a wrong date
    last_day = date(F_TO)
    cancelled = date(F_CANCEL)
    if valid_from is not None and last_day is not None and last_day < valid_from:
        bad(F_TO, f"有效期止 {last_day.isoformat()} 早于{start_key} {valid_from.isoformat()}")
    if valid_from is not None and cancelled is not None and cancelled <= valid_from:
        bad(
            F_CANCEL,
            f"注销日期 {cancelled.isoformat()} 须晚于{start_key} {valid_from.isoformat()}"
            "（注销日期为不再享受的第一天）",
        )
    if errors:
        return errors
    assert category is not None and valid_from is not None
    ends = [] if last_day is None else [last_day]
    if cancelled is not None:
        ends.append(cancelled - dt.timedelta(days=1))  # 注销 is the first day without it
    return CertificateRow(
        row=number,
        number=cert,
        id_number=id_number,
        name=name,
        category=category,
        valid_from=valid_from,
        valid_to=min(ends) if ends else None,
        cancelled=cancelled,
    )


# -- into the database ---------------------------------------------------------------


@dataclass
class CertificateImportResult(ImportCounts):
    notes: list[str] = field(default_factory=list)
    """Rows that are fine but could not be recorded as certificates (see ``_apply``)."""


def _person(session: Session, row: CertificateRow) -> Person:
    # a certificate names the holder, not the household: the person stands alone until a
    # roster places them (io/rosters.py fills household_id then)
    person = person_row(session, row.id_number, row.name)
    if person.name is None and row.name:
        person.name = row.name
    return person


def _apply(
    session: Session,
    parsed: ParsedCertificates,
    row: CertificateRow,
    result: CertificateImportResult,
) -> None:
    existing = session.scalar(
        select(CategoryMembership).where(
            CategoryMembership.source_kind == "certificate",
            CategoryMembership.certificate_number == row.number,
            CategoryMembership.category == row.category.value,
            CategoryMembership.valid_from == row.valid_from,
        )
    )
    if existing is not None:
        if existing.person.id_number != row.id_number:
            result.errors.append(
                RowError(
                    row.row,
                    F_NUMBER,
                    f"证书 {mask_number(row.number)}（{row.category.zh}，有效期起 "
                    f"{row.valid_from.isoformat()}）已登记在 {mask_id(existing.person.id_number)}"
                    f" 名下，不是 {mask_id(row.id_number)}",
                )
            )
            return
        # An end only moves earlier: a cancellation is not undone by re-reading an
        # older file. A renewed certificate is a new row (a new 有效期起).
        if row.valid_to is None or (
            existing.valid_to is not None and existing.valid_to <= row.valid_to
        ):
            result.unchanged += 1
            return
        existing.valid_to = row.valid_to
        existing.exit_date = None  # the end is this file's now, not a roster exit's
        existing.closed_file = parsed.file_name
        existing.closed_sha256 = parsed.sha256
        existing.closed_row = row.row
        session.flush()
        result.closed += 1
        return

    person = _person(session, row)
    clash = session.scalar(
        select(CategoryMembership).where(
            CategoryMembership.person_id == person.id,
            CategoryMembership.category == row.category.value,
            CategoryMembership.valid_from == row.valid_from,
        )
    )
    if clash is not None:
        # one membership per (person, category, start): the category from that day is
        # already recorded, from its own source, which also governs its end
        result.unchanged += 1
        result.notes.append(
            f"第{row.row}行：{mask_id(row.id_number)} 自 {row.valid_from.isoformat()} 起的"
            f"「{row.category.zh}」已登记（依据{mask_number(membership_from(clash).source)}），"
            f"证书 {mask_number(row.number)} 未另行登记"
        )
        return
    session.add(
        CategoryMembership(
            person_id=person.id,
            category=row.category.value,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            source_kind="certificate",
            change_type=None,
            source_file=parsed.file_name,
            source_sha256=parsed.sha256,
            source_row=row.row,
            certificate_number=row.number,
        )
    )
    session.flush()
    result.added += 1


def import_certificates(session: Session, parsed: ParsedCertificates) -> CertificateImportResult:
    """Apply the good rows in file order and record the file; the caller commits.

    Runs under the roster imports' lock: both create persons and memberships, and an
    overlapping concurrent import would clash on the same unique keys."""
    lock_rosters(session)
    result = CertificateImportResult(
        parsed.file_name, parsed.sha256, parsed.rows_total, errors=list(parsed.errors)
    )
    for row in parsed.rows:
        _apply(session, parsed, row, result)
    record_import(session, result, LAYOUT)
    return result
