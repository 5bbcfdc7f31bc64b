"""Import a roster (附件2) or its changes (附件3) sent to the service.

The same code as ``jiuzhu roster import`` (``io/rosters.py``): every row is checked, bad
rows are answered with row number, column and reason (ID numbers masked), the good rows
go in, and the same file twice changes nothing. On top of that, every row's district
must be inside the caller's jurisdiction, else the row is an error and is not applied.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_id, mask_ids_in
from jiuzhu.domain.vocabulary import Category
from jiuzhu.io.rosters import (
    F_DISTRICT,
    F_ID,
    ImportResult,
    ParsedRoster,
    RosterFileError,
    RowError,
    import_roster,
    parse_roster,
)
from jiuzhu.storage.models import Household, Person
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role, district_of, require
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.unit import Store


@dataclass
class Upload:
    file_name: str
    data: bytes
    category: Category | None
    valid_from: dt.date | None


def _parse(upload: Upload) -> ParsedRoster:
    with tempfile.TemporaryDirectory(prefix="jiuzhu-roster-") as tmp:
        path = Path(tmp) / upload.file_name
        path.write_bytes(upload.data)
        try:
            return parse_roster(path, upload.category, upload.valid_from)
        except RosterFileError as err:
            raise Refused(Kind.invalid, "file", mask_ids_in(str(err))) from err
        except Exception as err:  # a broken XLSX can fail anywhere inside openpyxl
            message = f"无法读取文件 {upload.file_name}：{err}"
            raise Refused(Kind.invalid, "file", mask_ids_in(message)) from err


def _outside(session: Session, who: Caller, parsed: ParsedRoster) -> None:
    """Move the rows outside the caller's jurisdiction from ``parsed.rows`` to its errors.

    A row's districts: its 行政区划代码 if given, and where the person or household is
    already registered, theirs; else the address code of the 身份证号 (as every route)."""
    kept = []
    for row in parsed.rows:
        person = session.scalar(select(Person).where(Person.id_number == row.id_number))
        districts: list[tuple[str, str]] = []
        if row.district_code:
            districts.append((F_DISTRICT, row.district_code))
        if person is not None and person.household_id is not None:
            districts.append((F_ID, district_of(session, person, row.id_number)))
        else:
            held = session.scalar(
                select(Household.district_code).where(
                    Household.head_id_number == row.head_id_number
                )
            )
            if held:
                districts.append((F_DISTRICT, held))
        if not districts:
            districts.append((F_ID, row.id_number[:6]))
        bad = next(((f, d) for f, d in districts if not who.covers(d)), None)
        if bad is None:
            kept.append(row)
            continue
        parsed.errors.append(
            RowError(
                row.row,
                bad[0],
                f"{mask_id(row.id_number)} 属 {bad[1]} 辖区，不在客户端 {who.name} 的辖区"
                f" {who.jurisdiction} 内",
            )
        )
    parsed.rows = kept


@dataclass(frozen=True, slots=True)
class Uploaded:
    result: ImportResult
    changed: bool
    message: str


def upload_roster(store: Store, who: Caller, upload: Upload) -> Uploaded:
    """Check, apply and record one upload in one transaction, with its audit entry."""
    require(who, Role.civil_affairs, Role.admin)
    parsed = _parse(upload)
    with store.sessions() as session, session.begin():
        _outside(session, who, parsed)
        result = import_roster(session, parsed)
        changed = bool(result.added or result.closed)
        audit.append(
            session,
            who.name,
            who.role.value,
            "roster.upload",
            f"roster:{result.sha256[:32]}",
            {
                "file": mask_ids_in(result.file_name),  # a file may be named after a person
                "sha256": result.sha256,
                "layout": result.layout.value,
                "already_imported": result.already_imported,
                "rows": result.rows_total,
                "added": result.added,
                "closed": result.closed,
                "unchanged": result.unchanged,
                "bad": result.rows_bad,
            },
        )
    if result.already_imported and not changed:
        note = "此文件此前已导入，数据未变"
    elif changed:
        note = f"新增资格 {result.added}，终止资格 {result.closed}"
    else:
        note = "数据未变"
    return Uploaded(result, changed, note)
