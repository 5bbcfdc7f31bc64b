"""Bearer tokens, roles and jurisdiction.

A token is shown once when it is created; only its SHA-256 is stored (tokens are 256
random bits, so a plain hash is enough: there is nothing to guess). A client has one
role and one jurisdiction, a GB/T 2260 code prefix: ``37`` is 山东省, ``3715`` 聊城市,
``371502`` 东昌府区. A person belongs to the district of their household in the
registry, else to the address code in the first six digits of their 身份证号.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from jiuzhu.storage.models import ApiClient, ApiToken, AuditEntry, Household, Person

TOKEN_PREFIX = "jz_"
_JURISDICTION = re.compile(r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6})$")


class Role(StrEnum):
    hospital = "hospital"
    civil_affairs = "civil_affairs"
    reviewer = "reviewer"
    admin = "admin"


class ServiceError(Exception):
    """An answer other than success: the HTTP status and the errors, each naming a field."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{status} {field}: {message}")
        self.status = status
        self.errors = [{"field": field, "message": message}]

    @classmethod
    def many(cls, status: int, errors: list[tuple[str, str]]) -> ServiceError:
        err = cls(status, errors[0][0], errors[0][1])
        err.errors = [{"field": f, "message": m} for f, m in errors]
        return err


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: int
    name: str
    role: Role
    jurisdiction: str

    def covers(self, district: str) -> bool:
        return district.startswith(self.jurisdiction)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_jurisdiction(code: str) -> str | None:
    """None if ``code`` is a GB/T 2260 prefix (2, 4 or 6 digits); otherwise why not."""
    if not _JURISDICTION.match(code):
        return "辖区须为 GB/T 2260 行政区划代码或其前缀（2、4 或 6 位数字，如 37、3715、371502）"
    return None


def create_token(session: Session, client: str, role: Role, jurisdiction: str) -> str:
    """A new token for ``client`` (created if new; an existing client keeps its role and
    jurisdiction, which must match). Returns the token: it is not stored anywhere."""
    why = check_jurisdiction(jurisdiction)
    if why:
        raise ValueError(why)
    row = session.scalar(select(ApiClient).where(ApiClient.name == client))
    if row is None:
        row = ApiClient(name=client, role=role.value, jurisdiction=jurisdiction)
        session.add(row)
        session.flush()
    elif (row.role, row.jurisdiction) != (role.value, jurisdiction):
        raise ValueError(
            f"客户端 {client} 已存在，角色 {row.role}、辖区 {row.jurisdiction}；不能改为"
            f" {role.value}、{jurisdiction}"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(client_id=row.id, token_sha256=hash_token(token)))
    session.add(
        AuditEntry(
            actor="cli",
            role="admin",
            action="token.create",
            target=f"client:{client}",
            details={"client": client, "role": role.value, "jurisdiction": jurisdiction},
        )
    )
    return token


_CALLER = (
    select(ApiClient.id, ApiClient.name, ApiClient.role, ApiClient.jurisdiction)
    .join(ApiToken, ApiToken.client_id == ApiClient.id)
    .where(ApiToken.token_sha256 == bindparam("sha256"), ApiToken.revoked_at.is_(None))
)


def authenticate(db: Session | Connection, authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer …`` header, or a 401. One indexed
    read, run inside the caller's transaction (``db``: a session or a connection)."""
    if not authorization:
        raise ServiceError(401, "Authorization", "缺少 Authorization: Bearer 令牌")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ServiceError(401, "Authorization", "须为 Authorization: Bearer <令牌>")
    found = db.execute(_CALLER, {"sha256": hash_token(token.strip())}).one_or_none()
    if found is None:
        raise ServiceError(401, "Authorization", "令牌无效或已吊销")
    return Caller(found.id, found.name, Role(found.role), found.jurisdiction)


def require(caller: Caller, *roles: Role) -> None:
    if caller.role not in roles:
        allowed = "、".join(r.value for r in roles)
        raise ServiceError(
            403, "Authorization", f"角色 {caller.role.value} 无权执行此操作（须为 {allowed}）"
        )


def district_of(session: Session, person: Person | None, id_number: str) -> str:
    """The person's district: the household's, else the ID number's address code."""
    if person is not None and person.household_id is not None:
        code = session.scalar(
            select(Household.district_code).where(Household.id == person.household_id)
        )
        if code:
            return code
    return id_number[:6]


def require_jurisdiction(caller: Caller, district: str) -> None:
    if not caller.covers(district):
        raise ServiceError(
            403,
            "person_id",
            f"此人属 {district} 辖区，不在客户端 {caller.name} 的辖区 {caller.jurisdiction} 内",
        )
