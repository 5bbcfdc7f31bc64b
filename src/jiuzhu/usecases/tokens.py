"""Bearer tokens: issue, authenticate, throttle failures, rotate, list, revoke.

A token is shown once when it is created; only its SHA-256 is stored (tokens are 256
random bits, so a plain hash is enough: there is nothing to guess). Every token has an
expiry (``--days`` at creation, 90 by default); rotation issues a new token for the
same client and lets the old one live on for a grace period, so a hospital can switch
without a gap.

Failed authentications are counted per client address: past ``FailureLimit.allowed``
failures within ``window`` the address is answered "throttled" (429) until the window
ends, whatever token it sends. Success costs nothing extra: the count is read and
written only when a token fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiuzhu.storage.models import ApiClient, ApiToken, AuthFailure
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.errors import Kind, Refused

TOKEN_PREFIX = "jz_"
MAX_CLIENT_NAME = 64  # api_clients.name
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 3660
DEFAULT_GRACE_HOURS = 24


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_jurisdiction(code: str) -> str | None:
    """None if ``code`` is a known GB/T 2260 province (2 digits), prefecture (4) or
    county (6) code, current or historical (ID numbers keep old codes); otherwise why
    not, naming the code."""
    from jiuzhu.domain.districts import check_jurisdiction_code

    return check_jurisdiction_code(code)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _new_token(session: Session, client_id: int, days: int) -> str:
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise ValueError(f"有效期须为 1–{MAX_LIFETIME_DAYS} 天")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            client_id=client_id,
            token_sha256=hash_token(token),
            expires_at=_now() + dt.timedelta(days=days),
        )
    )
    session.flush()
    return token


def create_token(
    session: Session,
    client: str,
    role: Role,
    jurisdiction: str,
    *,
    days: int = DEFAULT_LIFETIME_DAYS,
) -> str:
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
            f"客户端 {client} 已存在，角色 {Role(row.role).zh}（{row.role}）、辖区"
            f" {row.jurisdiction}；不能改为 {role.zh}（{role.value}）、{jurisdiction}"
        )
    token = _new_token(session, row.id, days)
    audit.append(
        session,
        "cli",
        "admin",
        "token.create",
        f"client:{client}",
        {
            "client": client,
            "role": role.value,
            "jurisdiction": jurisdiction,
            "fingerprint": token_fingerprint(hash_token(token)),
            "days": days,
        },
    )
    return token


# -- authentication ------------------------------------------------------------------

_CALLER = (
    select(
        ApiClient.id, ApiClient.name, ApiClient.role, ApiClient.jurisdiction, ApiToken.expires_at
    )
    .join(ApiToken, ApiToken.client_id == ApiClient.id)
    .where(ApiToken.token_sha256 == bindparam("sha256"), ApiToken.revoked_at.is_(None))
)


def _token_of(authorization: str | None) -> str:
    if not authorization:
        raise Refused(Kind.unauthenticated, "Authorization", "缺少 Authorization: Bearer 令牌")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(Kind.unauthenticated, "Authorization", "须为 Authorization: Bearer <令牌>")
    return token.strip()


def authenticate(db: Session | Connection, authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer …`` header, or ``unauthenticated``.
    One indexed read, run inside the caller's transaction (a session or a connection)."""
    token = _token_of(authorization)
    found = db.execute(_CALLER, {"sha256": hash_token(token)}).one_or_none()
    if found is None:
        raise Refused(Kind.unauthenticated, "Authorization", "令牌无效或已吊销")
    if found.expires_at is not None and _aware(found.expires_at) <= _now():
        raise Refused(
            Kind.unauthenticated,
            "Authorization",
            "令牌已过期：请管理员用 jiuzhu token create 或 jiuzhu token rotate 签发新令牌",
        )
    return Caller(found.id, found.name, Role(found.role), found.jurisdiction)


@dataclass(frozen=True, slots=True)
class FailureLimit:
    """At most ``allowed`` failed authentications per address within ``window``."""

    allowed: int = 10
    window: dt.timedelta = dt.timedelta(minutes=5)


def _upsert(dialect: str):  # type: ignore[no-untyped-def]
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def record_failure(conn: Connection, address: str, limit: FailureLimit) -> int | None:
    """Count one failed authentication of ``address`` (in its own transaction, which the
    caller commits even though the request fails). Returns the seconds to wait when the
    address is now over the limit, else None."""
    now = _now()
    address = address[:64]
    row = conn.execute(
        select(AuthFailure.failures, AuthFailure.window_start)
        .where(AuthFailure.address == address)
        .with_for_update()
    ).first()
    if row is None or _aware(row.window_start) + limit.window <= now:
        ins = _upsert(conn.dialect.name)(AuthFailure).values(
            address=address, failures=1, window_start=now, blocked_until=None
        )
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=[AuthFailure.address],
                set_={"failures": 1, "window_start": now, "blocked_until": None},
            )
        )
        failures, start = 1, now
    else:
        failures, start = row.failures + 1, _aware(row.window_start)
        blocked = start + limit.window if failures > limit.allowed else None
        conn.execute(
            update(AuthFailure)
            .where(AuthFailure.address == address)
            .values(failures=failures, blocked_until=blocked)
        )
    if failures > limit.allowed:
        return max(1, int((start + limit.window - now).total_seconds() + 0.999))
    return None


def blocked_for(conn: Connection, address: str) -> int | None:
    """Seconds ``address`` must still wait, or None."""
    until = conn.execute(
        select(AuthFailure.blocked_until).where(AuthFailure.address == address[:64])
    ).scalar_one_or_none()
    if until is None:
        return None
    left = (_aware(until) - _now()).total_seconds()
    return int(left + 0.999) if left > 0 else None


def throttled(seconds: int) -> Refused:
    return Refused(
        Kind.throttled,
        "Authorization",
        f"认证失败次数过多，请 {seconds} 秒后再试",
        retry_after=seconds,
    )


# -- rotation, revocation and listing (``jiuzhu token …``, ``POST /tokens/rotation``) -----

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
    expires_at: dt.datetime | None


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
    return _aware(at).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_TOKENS = (
    select(
        ApiToken.id,
        ApiToken.token_sha256,
        ApiToken.created_at,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiClient.name,
        ApiClient.role,
        ApiClient.jurisdiction,
        ApiClient.id.label("client_id"),
    )
    .select_from(ApiToken)
    .join(ApiClient, ApiClient.id == ApiToken.client_id)
    .order_by(ApiClient.name, ApiToken.created_at, ApiToken.id)
)
_TokenRow = Row[int, str, dt.datetime, dt.datetime | None, dt.datetime | None, str, str, str, int]


def _info(row: _TokenRow) -> TokenInfo:
    return TokenInfo(
        client=row.name,
        role=row.role,
        jurisdiction=row.jurisdiction,
        fingerprint=token_fingerprint(row.token_sha256),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
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
    now = _now()
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
    audit.append(
        session,
        "cli",
        "admin",
        "token.revoke",
        f"client:{info.client}",
        {"client": info.client, "fingerprint": info.fingerprint, "by": by},
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


def _by_fingerprint(session: Session, prefix: str) -> _TokenRow:
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
    return rows[0]


def revoke_by_fingerprint(session: Session, prefix: str) -> TokenInfo:
    return _revoke(session, _by_fingerprint(session, prefix), "fingerprint")


def revoke_client_tokens(session: Session, client: str) -> list[TokenInfo]:
    """Every live token of ``client``: for a client that is gone or compromised."""
    _require_client(session, client)
    rows = session.execute(
        _TOKENS.where(ApiClient.name == client, ApiToken.revoked_at.is_(None))
    ).all()
    if not rows:
        raise TokenError(f"客户端 {client} 没有未吊销的令牌")
    return [_revoke(session, row, "client") for row in rows]


@dataclass(frozen=True, slots=True)
class Rotated:
    token: str
    fingerprint: str
    old: TokenInfo


def _rotate(
    session: Session, row: _TokenRow, actor: str, role: str, grace: dt.timedelta, days: int
) -> Rotated:
    old = _info(row)
    if old.revoked_at is not None:
        raise TokenError(f"客户端 {old.client} 的令牌 {old.fingerprint} 已吊销，不能轮换")
    until = _now() + grace
    if old.expires_at is not None and _aware(old.expires_at) < until:
        until = _aware(old.expires_at)
    session.connection().execute(
        update(ApiToken).where(ApiToken.id == row.id).values(expires_at=until)
    )
    token = _new_token(session, row.client_id, days)
    fingerprint = token_fingerprint(hash_token(token))
    audit.append(
        session,
        actor,
        role,
        "token.rotate",
        f"client:{old.client}",
        {
            "client": old.client,
            "old": old.fingerprint,
            "new": fingerprint,
            "old_expires_at": until.isoformat(),
        },
    )
    return Rotated(token, fingerprint, replace(old, expires_at=until))


def rotate_by_fingerprint(
    session: Session,
    prefix: str,
    *,
    grace: dt.timedelta = dt.timedelta(hours=DEFAULT_GRACE_HOURS),
    days: int = DEFAULT_LIFETIME_DAYS,
) -> Rotated:
    return _rotate(session, _by_fingerprint(session, prefix), "cli", "admin", grace, days)


def rotate_own(
    session: Session,
    caller: Caller,
    authorization: str | None,
    *,
    grace: dt.timedelta = dt.timedelta(hours=DEFAULT_GRACE_HOURS),
    days: int = DEFAULT_LIFETIME_DAYS,
) -> Rotated:
    """The caller replaces the token it authenticated with (``POST /tokens/rotation``)."""
    row = session.execute(
        _TOKENS.where(ApiToken.token_sha256 == hash_token(_token_of(authorization)))
    ).one()
    return _rotate(session, row, caller.name, caller.role.value, grace, days)
