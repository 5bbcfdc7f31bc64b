"""The audit log: append a row to the hash chain, and verify the chain.

Every write and every read of personal data appends one row (who, role, action, target,
details with ID numbers masked) in the transaction that does it, as the transaction's
last statement: on PostgreSQL the append locks the chain's head row until commit, so
holding it briefly keeps appends from queueing (``storage/audit_chain.py``).

``verify`` walks the rows in id order and recomputes each hash: a row edited, deleted or
inserted behind the append-only triggers' back breaks the chain at that row (or at the
next one), and a tail cut off no longer ends where ``audit_head`` says. It also checks
that the triggers are still there. A whole chain recomputed by someone who can write the
database is consistent again: compare the head it prints with one kept elsewhere
(``--expect``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from jiuzhu.domain.ids import mask_ids_in
from jiuzhu.storage.audit_chain import (
    GENESIS,
    PG_APPEND,
    SQLITE_HEAD,
    SQLITE_INSERT,
    link,
    rest_of,
)
from jiuzhu.storage.models import AuditEntry, AuditHead

MAX_TARGET = 255


def _masked(value: Any) -> Any:
    """Details as they may be stored: every ID number inside a string masked."""
    if isinstance(value, str):
        return mask_ids_in(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def append(
    db: Session | Connection,
    actor: str,
    role: str,
    action: str,
    target: str,
    details: dict[str, Any],
) -> int:
    """Append one row, chained; returns its id. Runs in the caller's transaction."""
    conn = db.connection() if isinstance(db, Session) else db
    return append_entry(conn, entry(actor, role, action, target, details))


def append_entry(conn: Connection, values: dict[str, Any]) -> int:
    """Append a row made by ``entry``; returns its id."""
    if conn.dialect.name == "postgresql":
        return int(conn.execute(PG_APPEND, values).scalar_one())
    fields = {k: v for k, v in values.items() if k != "rest"}
    row_id, row_hash = conn.execute(SQLITE_HEAD, {"rest": values["rest"]}).one()
    conn.execute(SQLITE_INSERT, {**fields, "id": row_id, "hash": row_hash})
    return int(row_id)


def entry(
    actor: str, role: str, action: str, target: str, details: dict[str, Any]
) -> dict[str, Any]:
    """An audit row's bind parameters as stored (ID numbers masked, the target cut to
    its column), with ``rest``, the canonical text its hash is made of. For a statement
    that appends the row itself (the settlement's one write on PostgreSQL)."""
    at = dt.datetime.now(dt.UTC)
    target = mask_ids_in(target)[:MAX_TARGET]
    details = _masked(details)
    return {
        "at": at,
        "actor": actor,
        "role": role,
        "action": action,
        "target": target,
        "details": details,
        "rest": rest_of(at, actor, role, action, target, details),
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int
    head_id: int
    head_hash: str
    broken_at: int | None
    """The id of the first row whose hash does not follow (None: the chain holds)."""
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


BATCH = 5000


def _triggers(conn: Connection) -> list[str]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass"
                " AND NOT tgisinternal AND tgenabled <> 'D'"
            )
        ).scalars()
        return sorted(rows)
    rows = conn.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
    ).scalars()
    return sorted(rows)


def _expected_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["audit_log_append_only"]
    return ["audit_log_no_delete", "audit_log_no_update"]


def verify(engine: Engine, expect: tuple[int, str] | None = None) -> Verdict:
    """Walk the whole chain (in batches of ``BATCH`` rows) in one read transaction."""
    problems: list[str] = []
    broken: int | None = None
    prev, last_id, count = GENESIS, 0, 0
    anchor_seen = expect is None
    with engine.connect() as conn:
        missing = sorted(set(_expected_triggers(conn.dialect.name)) - set(_triggers(conn)))
        if missing:
            problems.append(f"审计日志的只追加触发器缺失或被停用：{'、'.join(missing)}")
        head = conn.execute(select(AuditHead.last_id, AuditHead.last_hash)).first()
        after = 0
        while True:
            batch = conn.execute(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(BATCH)
            ).all()
            if not batch:
                break
            for row in batch:
                count += 1
                want = link(
                    prev,
                    row.id,
                    rest_of(row.at, row.actor, row.role, row.action, row.target, row.details),
                )
                if broken is None and row.hash != want:
                    broken = row.id
                    problems.append(
                        f"第 {row.id} 行的哈希与链不符：该行被改动，或其前一行被删除、插入或改动"
                    )
                if expect is not None and row.id == expect[0]:
                    anchor_seen = True
                    if row.hash != expect[1]:
                        problems.append(
                            f"第 {row.id} 行的哈希 {row.hash} 不是预期的 {expect[1]}"
                            "（整条链可能被重算）"
                        )
                prev = row.hash or ""
                last_id = row.id
                after = row.id
        if head is None:
            problems.append("缺少审计链的链头（audit_head）")
        elif (head.last_id, head.last_hash) != (last_id, prev if count else GENESIS):
            if head.last_id > last_id:
                problems.append(
                    f"链头记录最后一行为第 {head.last_id} 行，而日志只到第 {last_id} 行："
                    "末尾的行被删除"
                )
            else:
                problems.append(
                    f"链头（第 {head.last_id} 行，{head.last_hash[:12]}…）与日志末行"
                    f"（第 {last_id} 行）不符"
                )
            if broken is None:
                broken = min(head.last_id, last_id) + 1
        if not anchor_seen and expect is not None:
            problems.append(f"日志中没有第 {expect[0]} 行（预期的锚点）")
    return Verdict(count, last_id, prev if count else GENESIS, broken, tuple(problems))
