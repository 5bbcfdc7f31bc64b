"""Rosters (名单) and their dynamic adjustments (动态调整名单) from CSV or XLSX.

The layouts are those of 山西 晋医保发〔2019〕46号, clause 三(十):
附件2 (the list of 低保, 特困 and 在乡重点优抚对象) with the columns
``乡(镇) 行政村 户主姓名 身份证号码 家庭人口数 家庭成员姓名 身份证号码 备注``, and
附件3 (the quarterly or monthly changes), the same plus
``动态调整工作类型 动态调整时间 月 年``. The layout is found from the header row; the
title lines above it (单位名称, 对象类别 with a ticked box, 年 月 日) are read for the
category and the date when the rows do not carry them.

Optional columns: ``对象类别`` (a category per row) and ``行政区划代码`` (GB/T 2260: a code
some revision since 1980 lists, current or historical; ``domain.districts``).

Every row is checked; a bad row is reported with its row number (as a spreadsheet
shows it), its column and the reason, in Chinese, with every ID number masked, and
the good rows still go in. Importing the same file twice changes nothing: memberships
are keyed by (person, category, start date), and a closing is keyed by its exit date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiuzhu.domain import districts
from jiuzhu.domain.ids import mask_id, mask_ids_in, mask_value, validate_id
from jiuzhu.domain.registry import CLAUSE_CERTIFICATE_PERIOD, CLAUSE_CHANGES, Membership
from jiuzhu.domain.vocabulary import CATEGORY_ALIASES, Category
from jiuzhu.domain.vocabulary import (  # re-exported: the roster names live with the others
    category_from_text as category_from_text,
)
from jiuzhu.io.xlsx import parse_date as parse_date  # re-exported for the certificates
from jiuzhu.storage.db import lock_rosters
from jiuzhu.storage.models import (
    CategoryMembership,
    District,
    Household,
    Person,
    RosterImport,
)


class RosterFileError(Exception):
    """The file as a whole cannot be read (not a row's fault)."""


class Layout(StrEnum):
    list = "list"  # 附件2
    changes = "changes"  # 附件3

    @property
    def zh(self) -> str:
        return "名单（附件2）" if self is Layout.list else "动态调整名单（附件3）"


class ChangeType(StrEnum):
    listed = "listed"  # on a 附件2 list
    new_identified = "new_identified"  # 新识别
    natural_increase = "natural_increase"  # 自然增加
    natural_decrease = "natural_decrease"  # 自然减少

    @property
    def zh(self) -> str:
        return CHANGE_ZH[self]


CHANGE_ZH = {
    ChangeType.listed: "名单",
    ChangeType.new_identified: "新识别",
    ChangeType.natural_increase: "自然增加",
    ChangeType.natural_decrease: "自然减少",
}
_CHANGE_BY_ZH = {v: k for k, v in CHANGE_ZH.items() if k is not ChangeType.listed}

_TICKABLE = ("低保", "特困", "重点优抚")
_TICKS = "☑✓√■✔☒▣▪●"


# -- reading the table -------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path) -> list[list[str]]:
    """All rows of the file's first sheet, as strings (row 1 is index 0)."""
    from jiuzhu.io.xlsx import TableFileError, read_rows

    try:
        return [[_cell(v) for v in row] for row in read_rows(path)]
    except TableFileError as err:
        raise RosterFileError(str(err)) from None


def file_sha256(path: Path) -> str:
    """The file's SHA-256: an import is recorded by it (a file read once is read again)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        from jiuzhu.io.oserrors import reason

        raise RosterFileError(f"无法读取文件 {path.name}：{reason(err)}") from None


def _norm(header: str) -> str:
    return re.sub(r"\s+", "", header).replace("（", "(").replace("）", ")")


# -- rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def render(self) -> str:
        """``错误：第 7 行，字段 身份证号码（家庭成员）：…``: the shape of a claim's error."""
        where = f"，字段 {self.field}" if self.field else ""
        return f"错误：第 {self.row} 行{where}：{self.message}"


@dataclass(frozen=True)
class RosterRow:
    row: int
    id_number: str
    name: str
    head_id_number: str
    head_name: str
    household_size: int | None
    township: str
    village: str
    district_code: str | None
    category: Category
    change: ChangeType
    date: dt.date


@dataclass
class ParsedRoster:
    file_name: str
    sha256: str
    layout: Layout
    rows_total: int
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


F_TOWN = "乡(镇)"
F_VILLAGE = "行政村"
F_HEAD = "户主姓名"
F_HEAD_ID = "身份证号码（户主）"
F_SIZE = "家庭人口数"
F_NAME = "家庭成员姓名"
MAX_TEXT = 64  # names, township, village: String(64) in the registry
F_ID = "身份证号码（家庭成员）"
F_CATEGORY = "对象类别"
F_DISTRICT = "行政区划代码"
F_CHANGE = "动态调整工作类型"
F_DATE = "动态调整时间"


def _columns(header: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    names = [_norm(h) for h in header]
    ids = [i for i, h in enumerate(names) if "身份证号" in h]
    member_at = names.index(F_NAME) if F_NAME in names else None
    for i in ids:
        if "户主" in names[i]:
            cols[F_HEAD_ID] = i
        elif "成员" in names[i] or (member_at is not None and i > member_at):
            cols[F_ID] = i
        else:
            cols[F_HEAD_ID] = i
    for key in (F_TOWN, F_VILLAGE, F_HEAD, F_SIZE, F_NAME, F_CATEGORY, F_DISTRICT, F_CHANGE):
        if key in names:
            cols[key] = names.index(key)
    for i, h in enumerate(names):
        if h.startswith(F_DATE):
            cols[F_DATE] = i
    return cols


def _is_note(row: list[str]) -> bool:
    """A line of notes under the table (附件3 ends with "注: 1、本表由…"): one cell only."""
    filled = [c for c in row if c]
    return len(filled) == 1 and filled[0].startswith(("注", "说明"))


def _preamble(rows: list[list[str]]) -> tuple[Category | None, dt.date | None]:
    """The ticked category and the date of the title lines (对象类别 低保☑…, 年 月 日)."""
    text = "".join("".join(r) for r in rows)
    text = re.sub(r"\s+", "", text)
    ticked = [
        name
        for name in _TICKABLE
        if re.search(f"{name}[{_TICKS}]", text) is not None  # the form's box follows the name
    ]
    category = CATEGORY_ALIASES[ticked[0]] if len(ticked) == 1 else None
    m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    date = parse_date(m[0]) if m else None
    return category, date


def parse_roster(
    path: Path,
    category: Category | None = None,
    valid_from: dt.date | None = None,
) -> ParsedRoster:
    """Read and check every row. ``category``: for files without a 对象类别 column or a
    ticked box; ``valid_from``: the date a 附件2 list takes effect, else its title date."""
    table = read_table(path)  # a file that cannot be read is a RosterFileError
    sha = file_sha256(path)
    header_at = next(
        (
            i
            for i, r in enumerate(table[:30])
            if any("身份证号" in _norm(c) for c in r)
            and any(_norm(c) in (F_HEAD, F_NAME) for c in r)
        ),
        None,
    )
    if header_at is None:
        raise RosterFileError(
            f"{path.name} 找不到表头：附件2/附件3 的列为 乡(镇)、行政村、户主姓名、身份证号码、"
            f"家庭人口数、家庭成员姓名、身份证号码…（{CLAUSE_CHANGES}）"
        )
    cols = _columns(table[header_at])
    layout = Layout.changes if F_CHANGE in cols else Layout.list
    if layout is Layout.changes and F_DATE not in cols:
        raise RosterFileError(f"{path.name} 有“动态调整工作类型”列却没有“动态调整时间”列")
    if F_ID not in cols and F_HEAD_ID not in cols:
        raise RosterFileError(f"{path.name} 没有身份证号码列")
    title_category, title_date = _preamble(table[:header_at])
    file_category = category or title_category
    list_date = valid_from or title_date
    if layout is Layout.list and list_date is None:
        raise RosterFileError(
            f"{path.name} 是名单（附件2），没有日期列，标题中也没有“年 月 日”："
            "请用 --valid-from 给出名单生效的日期"
        )

    parsed = ParsedRoster(path.name, sha, layout, 0)
    head: dict[str, str] = {}
    for index in range(header_at + 1, len(table)):
        raw = table[index]
        if not any(raw) or _is_note(raw):
            continue
        parsed.rows_total += 1
        number = index + 1

        def get(key: str, raw: list[str] = raw) -> str:
            i = cols.get(key)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        errors: list[RowError] = []

        def bad(
            column: str, message: str, number: int = number, errors: list[RowError] = errors
        ) -> None:
            errors.append(RowError(number, column, message))

        # household columns are written once per household (merged cells): fill down
        if get(F_HEAD_ID) or get(F_HEAD):
            head = {k: get(k) for k in (F_TOWN, F_VILLAGE, F_HEAD, F_HEAD_ID, F_SIZE, F_DISTRICT)}
        head_id = head.get(F_HEAD_ID, "").upper()
        id_number = get(F_ID).upper() or (head_id if F_ID not in cols else "")
        name = get(F_NAME) or (head.get(F_HEAD, "") if not get(F_ID) else "")
        if not id_number:
            bad(F_ID, "身份证号码为空")
        else:
            why = validate_id(id_number)
            if why:
                bad(F_ID, f"{why}（{mask_value(id_number)}）")
        if head_id and head_id != id_number:
            why = validate_id(head_id)
            if why:
                bad(F_HEAD_ID, f"{why}（{mask_value(head_id)}）")
        size: int | None = None
        size_text = head.get(F_SIZE, "")
        if size_text:
            if size_text.isdigit() and int(size_text) > 0:
                size = int(size_text)
            else:
                bad(F_SIZE, f"家庭人口数须为正整数，而不是「{size_text}」")
        district = head.get(F_DISTRICT, "") or None
        if district is not None and not re.fullmatch(r"[1-9]\d{5}", district):
            bad(F_DISTRICT, f"行政区划代码须为6位数字（GB/T 2260），而不是「{district}」")
        elif district is not None and districts.lookup(district) is None:
            # a historical (abolished) code is accepted: the household keeps it
            bad(
                F_DISTRICT,
                f"未知的行政区划代码「{district}」："
                "1980 年以来各版 GB/T 2260 行政区划代码表中都没有",
            )
        for column, text in (
            (F_NAME, name),
            (F_HEAD, head.get(F_HEAD, "")),
            (F_TOWN, head.get(F_TOWN, "")),
            (F_VILLAGE, head.get(F_VILLAGE, "")),
        ):
            if len(text) > MAX_TEXT:  # the registry's columns hold 64 characters
                bad(column, f"过长：{len(text)} 个字符，最多 {MAX_TEXT} 个")
        cat_text = get(F_CATEGORY)
        row_category = category_from_text(cat_text) if cat_text else file_category
        if cat_text and row_category is None:
            bad(F_CATEGORY, f"未知的对象类别「{cat_text}」")
        elif row_category is None:
            bad(F_CATEGORY, "没有对象类别：文件中没有“对象类别”列或勾选，请用 --category 给出")
        change = ChangeType.listed
        date = list_date
        if layout is Layout.changes:
            change_text = _norm(get(F_CHANGE))
            found = _CHANGE_BY_ZH.get(change_text)
            if found is None:
                bad(
                    F_CHANGE,
                    f"未知的动态调整工作类型「{change_text}」：应为 新识别、自然增加 或 自然减少"
                    f"（附件3 注2）",
                )
            else:
                change = found
            date_text = get(F_DATE)
            date = parse_date(date_text) if date_text else None
            if not date_text:
                bad(
                    F_DATE,
                    f"动态调整时间为空：资格自证明之日起享受、自退出之日起终止（{CLAUSE_CHANGES}）",
                )
            elif date is None:
                bad(F_DATE, f"日期无法识别或不存在「{date_text}」（如 2019-08-01）")
        if errors:
            parsed.errors.extend(errors)
            continue
        assert row_category is not None and date is not None
        parsed.rows.append(
            RosterRow(
                row=number,
                id_number=id_number,
                name=name,
                head_id_number=head_id or id_number,
                head_name=head.get(F_HEAD, "") or name,
                household_size=size,
                township=head.get(F_TOWN, ""),
                village=head.get(F_VILLAGE, ""),
                district_code=district,
                category=row_category,
                change=change,
                date=date,
            )
        )
    return parsed


# -- into the database ---------------------------------------------------------------


@dataclass
class ImportCounts:
    """What an import of one file did (rosters and certificates alike)."""

    file_name: str
    sha256: str
    rows_total: int
    added: int = 0
    closed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    already_imported: bool = False
    imported_at: dt.datetime | None = None
    """When the earlier import of the same file was recorded (``already_imported``)."""

    @property
    def rows_bad(self) -> int:
        return len({e.row for e in self.errors})


@dataclass
class ImportResult(ImportCounts):
    layout: Layout = field(kw_only=True)


def _person(session: Session, row: RosterRow) -> Person:
    if row.district_code is not None:
        known = districts.lookup(row.district_code)
        stored = session.get(District, row.district_code)
        if stored is None:
            session.add(District(code=row.district_code, name=known.name if known else None))
            session.flush()
        elif stored.name is None and known is not None:  # created before names were kept
            stored.name = known.name
    household = session.scalar(
        select(Household).where(Household.head_id_number == row.head_id_number)
    )
    if household is None:
        household = Household(
            head_id_number=row.head_id_number,
            head_name=row.head_name or None,
            size=row.household_size,
            district_code=row.district_code,
            township=row.township or None,
            village=row.village or None,
        )
        session.add(household)
        session.flush()
    person = person_row(session, row.id_number, row.name, household.id)
    if person.household_id is None:  # first seen on a claim: the roster places them
        person.household_id = household.id
        person.name = person.name or row.name or None
    return person


def person_row(
    session: Session, id_number: str, name: str, household_id: int | None = None
) -> Person:
    """The person's row, created if missing with ``INSERT … ON CONFLICT DO NOTHING``: a
    settlement may be creating the same person at this moment (a claim can come before
    any roster), and a plain insert would then fail the whole import on the unique key."""
    person = session.scalar(select(Person).where(Person.id_number == id_number))
    if person is not None:
        return person
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "id_number": id_number,
        "public_id": uuid.uuid4().hex,
        "name": name or None,
        "household_id": household_id,
        "created_at": dt.datetime.now(dt.UTC),
    }
    session.execute(insert(Person).values(**values).on_conflict_do_nothing())
    person = session.scalar(select(Person).where(Person.id_number == id_number))
    assert person is not None
    return person


def _apply(session: Session, parsed: ParsedRoster, row: RosterRow, result: ImportResult) -> None:
    if row.change is ChangeType.natural_decrease:
        found = session.scalar(select(Person).where(Person.id_number == row.id_number))
        if found is None:
            result.errors.append(
                RowError(
                    row.row,
                    F_ID,
                    f"自然减少：{mask_id(row.id_number)} 不在名单中，无可终止的资格",
                )
            )
            return
        person = found
    else:
        person = _person(session, row)
    same = list(
        session.scalars(
            select(CategoryMembership).where(
                CategoryMembership.person_id == person.id,
                CategoryMembership.category == row.category.value,
            )
        )
    )
    if row.change is ChangeType.natural_decrease:
        last_day = row.date - dt.timedelta(days=1)
        if any(m.exit_date == row.date for m in same):
            result.unchanged += 1
            return
        # in force on the exit date: open, or ending later (a certificate's 有效期止)
        open_ = [
            m
            for m in same
            if m.valid_from <= row.date and (m.valid_to is None or m.valid_to >= row.date)
        ]
        if not open_:
            result.errors.append(
                RowError(
                    row.row,
                    F_CHANGE,
                    f"自然减少：{mask_id(row.id_number)} 在 {row.date.isoformat()} 没有可终止的"
                    f"「{row.category.zh}」资格",
                )
            )
            return
        for m in open_:  # the category ends, whether a roster or a certificate gave it
            m.valid_to = max(last_day, m.valid_from - dt.timedelta(days=1))
            m.exit_date = row.date
            m.closed_file = parsed.file_name
            m.closed_sha256 = parsed.sha256
            m.closed_row = row.row
        result.closed += 1
        return
    same_day = next((m for m in same if m.valid_from == row.date), None)
    if same_day is not None and same_day.source_kind == "certificate" and same_day.valid_to:
        # the roster lists the person, with no end, from the day a dated certificate
        # began (one membership per person, category and start): the roster governs it now
        _as_roster(same_day, parsed, row)
        result.added += 1
        return
    # already held on that day: the same start, an open membership, or a roster span
    # (re-importing a list after a 自然减少 must not reopen it); a certificate that
    # runs out later does not make an open-ended roster membership redundant
    covering = [
        m
        for m in same
        if m.valid_from == row.date
        or (
            m.valid_from <= row.date
            and (m.valid_to is None or (m.source_kind == "roster" and row.date <= m.valid_to))
        )
    ]
    if covering:
        result.unchanged += 1
        return
    session.add(
        CategoryMembership(
            person_id=person.id,
            category=row.category.value,
            valid_from=row.date,
            valid_to=None,
            source_kind="roster",
            change_type=row.change.value,
            source_file=parsed.file_name,
            source_sha256=parsed.sha256,
            source_row=row.row,
        )
    )
    session.flush()
    result.added += 1


def _as_roster(m: CategoryMembership, parsed: ParsedRoster, row: RosterRow) -> None:
    """A certificate's membership taken over by a roster row (its number is kept)."""
    m.source_kind = "roster"
    m.change_type = row.change.value
    m.source_file, m.source_sha256, m.source_row = parsed.file_name, parsed.sha256, row.row
    m.valid_to = m.exit_date = None
    m.closed_file = m.closed_sha256 = None
    m.closed_row = None


def import_roster(session: Session, parsed: ParsedRoster) -> ImportResult:
    """Apply the good rows in file order and record the file; the caller commits.
    Imports run one at a time (``lock_rosters``)."""
    lock_rosters(session)
    result = ImportResult(
        parsed.file_name,
        parsed.sha256,
        parsed.rows_total,
        errors=list(parsed.errors),
        layout=parsed.layout,
    )
    for row in parsed.rows:
        _apply(session, parsed, row, result)
    record_import(session, result, parsed.layout.value)
    return result


def record_import(session: Session, result: ImportCounts, layout: str) -> None:
    """Sort the errors by row and record the file once (by SHA-256) in ``roster_imports``;
    ``already_imported`` says whether an earlier import had recorded it (and
    ``imported_at`` when). A file none of whose rows went in is not recorded: nothing of
    it was imported, and the same file, or one corrected, must not be "already imported"
    next time."""
    result.errors.sort(key=lambda e: e.row)
    seen = session.scalar(select(RosterImport).where(RosterImport.sha256 == result.sha256))
    result.already_imported = seen is not None
    result.imported_at = seen.imported_at if seen is not None else None
    if seen is None and result.rows_bad < result.rows_total:
        session.add(
            RosterImport(
                sha256=result.sha256,
                file_name=result.file_name,
                layout=layout,
                rows_total=result.rows_total,
                rows_bad=result.rows_bad,
                added=result.added,
                closed=result.closed,
                unchanged=result.unchanged,
            )
        )
    session.flush()


# -- reading back -------------------------------------------------------------------


def _source(file: str | None, sha: str | None, row: int | None, what: str) -> str:
    digest = f"（文件校验值 {sha[:12]}…）" if sha else ""
    return f"{mask_ids_in(file or '?')}{digest}第{row}行「{what}」"


# the columns a Membership is built from (a joined query can select just these)
MEMBERSHIP_COLUMNS = (
    CategoryMembership.category,
    CategoryMembership.valid_from,
    CategoryMembership.valid_to,
    CategoryMembership.source_kind,
    CategoryMembership.change_type,
    CategoryMembership.source_file,
    CategoryMembership.source_sha256,
    CategoryMembership.source_row,
    CategoryMembership.certificate_number,
    CategoryMembership.exit_date,
    CategoryMembership.closed_file,
    CategoryMembership.closed_sha256,
    CategoryMembership.closed_row,
    CategoryMembership.applied_on,
    CategoryMembership.source_application,
)


def membership_from(m: Any) -> Membership:
    """A stored membership (an ORM row, or a row of ``MEMBERSHIP_COLUMNS``) as the domain
    sees it, with where it came from and where it was closed, in words."""
    kind = m.change_type or ""
    what = CHANGE_ZH.get(ChangeType(kind), kind) if kind in set(ChangeType) else kind
    if m.source_kind == "certificate":
        source = f"证书 {mask_ids_in(m.certificate_number or '?')}"
    elif m.source_kind == "application":
        source = f"申请 {m.source_application or '?'} 经审批认定（申请日期 {m.applied_on}）"
    else:
        source = "名单 " + _source(m.source_file, m.source_sha256, m.source_row, what)
    closed = None
    if m.exit_date is not None:
        closed = (
            "动态调整名单 "
            + _source(m.closed_file, m.closed_sha256, m.closed_row, "自然减少")
            + f"，退出日期 {m.exit_date.isoformat()}（{CLAUSE_CHANGES}：自退出之日起不再享受）"
        )
    elif m.closed_file is not None and m.valid_to is not None:  # a later certificate file
        closed = (
            "证书文件 "
            + _source(m.closed_file, m.closed_sha256, m.closed_row, "有效期止或注销")
            + f"，有效期至 {m.valid_to.isoformat()}（{CLAUSE_CERTIFICATE_PERIOD}）"
        )
    by_certificate = m.source_kind == "certificate"
    return Membership(
        Category(m.category),
        m.valid_from,
        m.valid_to,
        source,
        closed,
        by_certificate,
        m.applied_on if m.source_kind == "application" else None,
    )


def memberships_of(session: Session, id_number: str) -> list[Membership] | None:
    """The person's memberships as the domain sees them; ``None``: not in the registry."""
    person = session.scalar(select(Person).where(Person.id_number == id_number.strip().upper()))
    if person is None:
        return None
    return [membership_from(m) for m in person.memberships]
