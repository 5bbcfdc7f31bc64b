"""Bearer tokens, roles and jurisdiction.

A token is shown once when it is created; only its SHA-256 is stored (tokens are 256
random bits, so a plain hash is enough: there is nothing to guess). A client has one
role and one jurisdiction, a GB/T 2260 code prefix: ``37`` is 山东省, ``3715`` 聊城市,
``371502`` 东昌府区. A person belongs to the district of their household in the
registry, else to the address code in the first six digits of their 身份证号.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.orm import Session

from jiuzhu.storage.models import ApiClient, ApiToken, AuditEntry, Household, Person

TOKEN_PREFIX = "jz_"
MAX_CLIENT_NAME = 64  # api_clients.name


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
    """None if ``code`` is a known GB/T 2260 province (2 digits), prefecture (4) or
    county (6) code, current or historical (ID numbers keep old codes); otherwise why
    not, naming the code."""
    from jiuzhu.domain.districts import check_jurisdiction_code

    return check_jurisdiction_code(code)


def create_token(session: Session, client: str, role: Role, jurisdiction: str) -> str:
    """A new token for ``client`` (created if new; an existing client keeps its role and
    jurisdiction, which must match). Returns the token: it is not stored anywhere."""
    why = check_jurisdiction(jurisdiction)
    if why:
        raise ValueError(why)
    if not client.strip() or len(client) > MAX_CLIENT_NAME:
        raise ValueError(f"客户端名称须为 1–{MAX_CLIENT_NAME} 个字符")
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


# -- revocation and listing (``jiuzhu token revoke``, ``jiuzhu token list``) ------------

FINGERPRINT_LEN = 12
_FINGERPRINT = re.compile(r"^[0-9a-f]{8,64}$")


class TokenError(ValueError):
    """A revocation or listing that cannot be done as asked; the message is for people."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    client: str
    role: str
    jurisdiction: str
    fingerprint: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def token_fingerprint(token_sha256: str) -> str:
    """How people name a token. Only the hash is stored, so the token itself cannot be
    shown again; 12 hex digits (48 bits) tell tokens apart without printing the hash."""
    return token_sha256[:FINGERPRINT_LEN]


def check_fingerprint(prefix: str) -> str | None:
    """None if ``prefix`` can name a token; otherwise why not. At least 8 digits, so a
    typo is unlikely to hit some other token."""
    if not _FINGERPRINT.match(prefix.strip().lower()):
        return "指纹须为 8 至 64 位十六进制数字（见 jiuzhu token list 的「指纹」列）"
    return None


def utc_text(at: dt.datetime) -> str:
    """SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones in the
    session's time zone: both are shown in UTC, so the same token reads the same."""
    utc = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC")


_TOKENS = (
    select(
        ApiToken.id,
        ApiToken.token_sha256,
        ApiToken.created_at,
        ApiToken.revoked_at,
        ApiClient.name,
        ApiClient.role,
        ApiClient.jurisdiction,
    )
    .select_from(ApiToken)
    .join(ApiClient, ApiClient.id == ApiToken.client_id)
    .order_by(ApiClient.name, ApiToken.created_at, ApiToken.id)
)
_TokenRow = Row[int, str, dt.datetime, dt.datetime | None, str, str, str]


def _info(row: _TokenRow) -> TokenInfo:
    return TokenInfo(
        client=row.name,
        role=row.role,
        jurisdiction=row.jurisdiction,
        fingerprint=token_fingerprint(row.token_sha256),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _require_client(session: Session, client: str) -> None:
    """An unknown name is more likely a typo than a client without tokens: say so."""
    if session.scalar(select(ApiClient.id).where(ApiClient.name == client)) is None:
        raise TokenError(f"没有名为 {client} 的客户端")


def list_tokens(
    session: Session, client: str | None = None, *, include_revoked: bool = False
) -> list[TokenInfo]:
    query = _TOKENS
    if client is not None:
        _require_client(session, client)
        query = query.where(ApiClient.name == client)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [_info(row) for row in session.execute(query)]


def _revoke(session: Session, row: _TokenRow, by: str) -> TokenInfo:
    """Revoke one token and audit it. The ``revoked_at IS NULL`` condition on the update
    makes two admins revoking the same token at once leave one revocation and one audit
    entry, not two (the second sees no row changed)."""
    info = _info(row)
    if info.revoked_at is not None:
        raise TokenError(
            f"客户端 {info.client} 的令牌 {info.fingerprint} 已于 {utc_text(info.revoked_at)}"
            " 吊销，无需再吊销"
        )
    now = dt.datetime.now(dt.UTC)
    changed = (
        session.connection()
        .execute(
            update(ApiToken)
            .where(ApiToken.id == row.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        .rowcount
    )
    if changed != 1:
        raise TokenError(f"客户端 {info.client} 的令牌 {info.fingerprint} 刚被另一操作吊销")
    session.add(
        AuditEntry(
            actor="cli",
            role="admin",
            action="token.revoke",
            target=f"client:{info.client}",
            details={"client": info.client, "fingerprint": info.fingerprint, "by": by},
        )
    )
    return replace(info, revoked_at=now)


def revoke_by_token(session: Session, token: str) -> TokenInfo:
    """For whoever still holds the token (a leaked one, say): it is hashed, as on login."""
    row = session.execute(
        _TOKENS.where(ApiToken.token_sha256 == hash_token(token.strip()))
    ).one_or_none()
    if row is None:
        raise TokenError("没有此令牌（数据库中没有它的哈希；是否为另一数据库签发？）")
    return _revoke(session, row, "token")


def revoke_by_fingerprint(session: Session, prefix: str) -> TokenInfo:
    """``prefix`` must name exactly one token, revoked or not: a revoked token sharing the
    prefix still makes it ambiguous, so what people typed never silently means another
    token than the one they looked up."""
    why = check_fingerprint(prefix)
    if why:
        raise TokenError(why)
    prefix = prefix.strip().lower()
    rows = session.execute(_TOKENS.where(ApiToken.token_sha256.startswith(prefix))).all()
    if not rows:
        raise TokenError(f"没有指纹为 {prefix} 的令牌")
    if len(rows) > 1:
        # long enough to tell them apart, even in the rare case 12 digits are not
        n = FINGERPRINT_LEN
        while len({r.token_sha256[:n] for r in rows}) < len(rows):
            n += 1
        which = "、".join(f"客户端 {r.name} 的 {r.token_sha256[:n]}" for r in rows)
        raise TokenError(
            f"指纹 {prefix} 不唯一，对应 {len(rows)} 个令牌（{which}）；请给出更长的指纹"
        )
    return _revoke(session, rows[0], "fingerprint")


def revoke_client_tokens(session: Session, client: str) -> list[TokenInfo]:
    """Every live token of ``client``: for a client that is gone or compromised."""
    _require_client(session, client)
    rows = session.execute(
        _TOKENS.where(ApiClient.name == client, ApiToken.revoked_at.is_(None))
    ).all()
    if not rows:
        raise TokenError(f"客户端 {client} 没有未吊销的令牌")
    return [_revoke(session, row, "client") for row in rows]
