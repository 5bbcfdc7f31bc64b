"""Staff accounts of the web pages: create, list, disable, reset a password; log in and
out; the session behind a cookie; lockout after repeated failures (ADR 18).

A member of staff has the same role and jurisdiction as an API client (``access.Role``,
a GB/T 2260 prefix), and acts through the same use cases as a :class:`Caller` whose
name is ``user:USERNAME`` (so the audit log tells a person from an API client). A
hospital's account names the hospital's API client and sees what that hospital settled,
as its tokens do; every other account has no client (``NO_CLIENT``).

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106's second recommended profile:
64 MiB, 3 passes, 4 lanes); the hash carries its parameters and salt, and a login with
an older profile's hash rehashes it. The password is verified outside any database
transaction: half a second of CPU must not hold SQLite's write lock.

Failed logins are counted, as failed tokens are (``tokens.record_failure``, the same
table), per account (``login:USERNAME``, known or not, so a locked message tells nothing
about whether the name exists) and per client address (``web:ADDRESS``, a higher limit:
an office's clerks may share one address). Past the limit the account, or the address,
is refused for the rest of the window, whatever password it sends; a password reset
lifts an account's lockout.

A session is a random 256-bit token in a cookie; only its SHA-256 is stored. It ends
after ``IDLE`` without a request, at ``LIFETIME`` in any case (a working day), at
logout, or when the account is disabled or its password reset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from jiuzhu.storage.models import ApiClient, AuthFailure, StaffSession, StaffUser
from jiuzhu.usecases import audit
from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.tokens import (
    FailureLimit,
    blocked_for,
    check_jurisdiction,
    record_failure,
)
from jiuzhu.usecases.unit import Store

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MAX_NAME = 64
MIN_PASSWORD = 12
MAX_PASSWORD = 256
"""Longer input is refused before hashing: nobody types more, and hashing megabytes
would be a cheap way to keep the server busy."""

IDLE = dt.timedelta(minutes=30)
LIFETIME = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(minutes=1)
"""How often a session's ``last_seen_at`` is written: not on every page."""

NO_CLIENT = 0
"""The client id of an account that is no API client's (ids start at 1)."""
ACTOR_PREFIX = "user:"
CLI = ("cli", "admin")
"""Who the audit log says acted for ``jiuzhu user …`` (as for ``jiuzhu token …``)."""

hasher = PasswordHasher()
"""argon2-cffi's defaults are RFC 9106's low-memory profile; tests may use a cheaper one."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed before a lockout, per account and per client address."""

    account: FailureLimit = FailureLimit(allowed=4, window=dt.timedelta(minutes=15))
    """Four failures are counted; the fifth locks the account for the rest of the window."""
    address: FailureLimit = FailureLimit(allowed=30, window=dt.timedelta(minutes=15))


class UserError(ValueError):
    """An account command that cannot be done as asked; the message is for people."""


@dataclass(frozen=True, slots=True)
class Account:
    """The member of staff behind a session: what the pages show and check."""

    user_id: int
    username: str
    name: str
    role: Role
    jurisdiction: str
    hospital_client_id: int | None
    session_id: int = 0

    @property
    def caller(self) -> Caller:
        """The member as the use cases know callers."""
        return Caller(
            self.hospital_client_id or NO_CLIENT,
            actor_name(self.username),
            self.role,
            self.jurisdiction,
        )


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    name: str
    role: str
    jurisdiction: str
    hospital: str | None
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    last_login: dt.datetime | None
    locked_seconds: int | None
    """Seconds the account stays locked after failed logins (None: not locked)."""


@dataclass(frozen=True, slots=True)
class Login:
    token: str
    """The session cookie's value: shown to the browser only, never stored."""
    account: Account


def actor_name(username: str) -> str:
    return ACTOR_PREFIX + username


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def account_key(username: str) -> str:
    return f"login:{username[:48]}"


def address_key(address: str) -> str:
    return f"web:{address[:56]}"


def generate_password() -> str:
    """16 characters from 96 random bits: for a new account or a reset, shown once."""
    return secrets.token_urlsafe(12)


def check_password(password: str, username: str) -> str | None:
    """None if ``password`` may be set; otherwise why not."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 个字符"
    if len(password) > MAX_PASSWORD:
        return f"密码不得超过 {MAX_PASSWORD} 个字符"
    if password.strip() != password:
        return "密码首尾不得有空白字符"
    if username.lower() in password.lower():
        return "密码不得包含用户名"
    return None


def _check_username(username: str) -> None:
    if not USERNAME.match(username):
        raise UserError(
            "用户名须为 2–32 个字符：小写字母开头，只含小写字母、数字和 _ . -（如 zhang.san）"
        )


# -- administration (``jiuzhu user …``) ------------------------------------------------


def _user(session: Session, username: str) -> StaffUser:
    row = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if row is None:
        raise UserError(f"没有用户名为 {username} 的账户")
    return row


def create_user(
    session: Session,
    username: str,
    name: str,
    role: Role,
    jurisdiction: str,
    password: str,
    *,
    hospital: str | None = None,
) -> UserInfo:
    """A new account. A hospital's account names the hospital's API client (``hospital``),
    whose jurisdiction it takes; no other role may name one."""
    _check_username(username)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise UserError(f"姓名须为 1–{MAX_NAME} 个字符")
    why = check_jurisdiction(jurisdiction)
    if why:
        raise UserError(why)
    why = check_password(password, username)
    if why:
        raise UserError(why)
    client_id = _hospital_client(session, role, jurisdiction, hospital)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise UserError(f"用户名 {username} 已被使用（停用的账户也保留其用户名）")
    now = _now()
    row = StaffUser(
        username=username,
        name=name,
        role=role.value,
        jurisdiction=jurisdiction,
        hospital_client_id=client_id,
        password_hash=hasher.hash(password),
        password_changed_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(session, *CLI, "user.create", f"user:{username}", {
        "username": username, "role": role.value, "jurisdiction": jurisdiction,
        "hospital": hospital,
    })  # fmt: skip
    return _info(session, row)


def _hospital_client(
    session: Session, role: Role, jurisdiction: str, hospital: str | None
) -> int | None:
    if role is not Role.hospital:
        if hospital is not None:
            raise UserError("只有医院（hospital）角色的账户须指明医院")
        return None
    if hospital is None:
        raise UserError("医院（hospital）角色的账户须用 --hospital 指明其医院（接口客户端名称）")
    client = session.scalar(select(ApiClient).where(ApiClient.name == hospital))
    if client is None or client.role != Role.hospital.value:
        raise UserError(f"没有名为 {hospital} 的医院客户端（见 jiuzhu token list）")
    if client.jurisdiction != jurisdiction:
        raise UserError(f"医院 {hospital} 的辖区为 {client.jurisdiction}，账户的辖区须与之相同")
    return client.id


def _info(session: Session, row: StaffUser) -> UserInfo:
    hospital = None
    if row.hospital_client_id is not None:
        hospital = session.scalar(
            select(ApiClient.name).where(ApiClient.id == row.hospital_client_id)
        )
    last = session.scalar(
        select(func.max(StaffSession.created_at)).where(StaffSession.user_id == row.id)
    )
    return UserInfo(
        username=row.username,
        name=row.name,
        role=row.role,
        jurisdiction=row.jurisdiction,
        hospital=hospital,
        created_at=_aware(row.created_at),
        disabled_at=None if row.disabled_at is None else _aware(row.disabled_at),
        last_login=None if last is None else _aware(last),
        locked_seconds=blocked_for(session.connection(), account_key(row.username)),
    )


def list_users(session: Session, *, include_disabled: bool = True) -> list[UserInfo]:
    query = select(StaffUser).order_by(StaffUser.username)
    if not include_disabled:
        query = query.where(StaffUser.disabled_at.is_(None))
    return [_info(session, row) for row in session.scalars(query)]


def _end_sessions(session: Session, user_id: int, reason: str) -> int:
    return (
        session.connection()
        .execute(
            update(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
            .values(ended_at=_now(), end_reason=reason)
        )
        .rowcount
    )


def disable_user(session: Session, username: str) -> UserInfo:
    """Nobody logs in as ``username`` again, and its open sessions end now."""
    row = _user(session, username)
    if row.disabled_at is not None:
        raise UserError(f"账户 {username} 已停用")
    changed = (
        session.connection()
        .execute(
            update(StaffUser)
            .where(StaffUser.id == row.id, StaffUser.disabled_at.is_(None))
            .values(disabled_at=_now())
        )
        .rowcount
    )
    if changed != 1:
        raise UserError(f"账户 {username} 刚被另一操作停用")
    ended = _end_sessions(session, row.id, "disabled")
    audit.append(session, *CLI, "user.disable", f"user:{username}",
                 {"username": username, "sessions_ended": ended})  # fmt: skip
    session.refresh(row)
    return _info(session, row)


def reset_password(session: Session, username: str, password: str) -> UserInfo:
    """A new password: the account's sessions end and its lockout is lifted."""
    row = _user(session, username)
    why = check_password(password, username)
    if why:
        raise UserError(why)
    row.password_hash = hasher.hash(password)
    row.password_changed_at = _now()
    session.flush()
    ended = _end_sessions(session, row.id, "password")
    session.connection().execute(
        delete(AuthFailure).where(AuthFailure.address == account_key(username))
    )
    audit.append(session, *CLI, "user.password_reset", f"user:{username}",
                 {"username": username, "sessions_ended": ended})  # fmt: skip
    return _info(session, row)


# -- logging in and out -----------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    """Verified against when there is no such account, so that an unknown name takes as
    long to refuse as a wrong password."""
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(encoded: str, password: str) -> bool:
    try:
        return hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


WRONG = "用户名或密码不正确"


def locked(seconds: int) -> Refused:
    minutes = max(1, (seconds + 59) // 60)
    return Refused(
        Kind.throttled,
        "password",
        f"登录失败次数过多，已暂停登录，请 {minutes} 分钟后再试，或请管理员重设密码",
        retry_after=seconds,
    )


_USER = select(
    StaffUser.id,
    StaffUser.username,
    StaffUser.name,
    StaffUser.role,
    StaffUser.jurisdiction,
    StaffUser.hospital_client_id,
    StaffUser.password_hash,
    StaffUser.password_changed_at,
    StaffUser.disabled_at,
)


def _account(row: Any, session_id: int = 0) -> Account:
    return Account(
        row.id, row.username, row.name, Role(row.role), row.jurisdiction,
        row.hospital_client_id, session_id,
    )  # fmt: skip


def _checked(store: Store, username: str, password: str, address: str, limits: LoginLimits) -> Any:
    """The account's row if ``password`` is its own and it may log in; otherwise the
    failure is counted and ``unauthenticated`` (a wrong name or password: the same words
    for both), ``throttled`` (locked after failures) or ``forbidden`` (disabled) raised."""
    with store.reader.begin() as conn:
        wait = blocked_for(conn, account_key(username)) or blocked_for(conn, address_key(address))
        user = conn.execute(_USER.where(StaffUser.username == username)).first()
    if wait is not None:
        raise locked(wait)
    too_long = len(password) > MAX_PASSWORD
    good = _verify(user.password_hash if user else _dummy_hash(), "" if too_long else password)
    if user is None or not good or too_long:
        raise _failed(store, user, username, address, limits)
    if user.disabled_at is not None:
        raise Refused(Kind.forbidden, "username", "此账户已停用，请联系系统管理员")
    return user


def login(store: Store, username: str, password: str, address: str, limits: LoginLimits) -> Login:
    """A new session for ``username``, or ``unauthenticated`` (a wrong name or password:
    the same words for both), or ``throttled`` (locked after failures)."""
    username = username.strip().lower()[:64]
    user = _checked(store, username, password, address, limits)
    token = secrets.token_urlsafe(32)
    now = _now()
    with store.engine.begin() as conn:
        sid = conn.execute(
            insert(StaffSession)
            .values(token_sha256=_sha256(token), user_id=user.id, created_at=now,
                    last_seen_at=now, expires_at=now + LIFETIME)
            .returning(StaffSession.id)
        ).scalar_one()  # fmt: skip
        _succeeded(conn, user, username, password, address, "user.login")
    return Login(token, _account(user, sid))


def _succeeded(
    conn: Connection, user: Any, username: str, password: str, address: str, action: str
) -> None:
    """What a successful login records: the hash renewed when its parameters are old,
    the account's failures cleared, the audit row."""
    if hasher.check_needs_rehash(user.password_hash):
        conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(password_hash=hasher.hash(password))
        )
    conn.execute(delete(AuthFailure).where(AuthFailure.address == account_key(username)))
    audit.append(conn, actor_name(username), user.role, action,
                 f"user:{username}", {"address": address[:64]})  # fmt: skip


def authenticate(
    store: Store, username: str, password: str, address: str, limits: LoginLimits
) -> Account:
    """The account for one command of the command line (``jiuzhu application …``): the
    checks, lockout and failure audit of a login, without a session (the command is
    one); the success is audited (``user.cli_login``) and its actions as its caller."""
    username = username.strip().lower()[:64]
    user = _checked(store, username, password, address, limits)
    with store.engine.begin() as conn:
        _succeeded(conn, user, username, password, address, "user.cli_login")
    return _account(user)


def _failed(store: Store, user: Any, username: str, address: str, limits: LoginLimits) -> Refused:
    """Count the failure (committed, though the login fails): the refusal to raise."""
    with store.engine.begin() as conn:
        wait = record_failure(conn, account_key(username), limits.account)
        by_address = record_failure(conn, address_key(address), limits.address)
        if user is not None:  # a name nobody has may be a password typed in the wrong box
            audit.append(conn, actor_name(username), user.role, "user.login_failed",
                         f"user:{username}", {"address": address[:64],
                                              "locked": wait is not None})  # fmt: skip
    if wait is not None or by_address is not None:
        return locked(max(wait or 0, by_address or 0))
    return Refused(Kind.unauthenticated, "password", WRONG)


def account_for(store: Store, token: str | None) -> Account | None:
    """The account behind a session token, or None when there is no such session or it
    has ended (logged out, idle, expired, account disabled, password reset)."""
    if not token or len(token) > 128:
        return None
    now = _now()
    query = _USER.add_columns(
        StaffSession.id.label("sid"),
        StaffSession.created_at.label("since"),
        StaffSession.last_seen_at,
        StaffSession.expires_at,
    ).join(StaffSession, StaffSession.user_id == StaffUser.id)
    with store.reader.begin() as conn:
        found = conn.execute(
            query.where(
                StaffSession.token_sha256 == _sha256(token), StaffSession.ended_at.is_(None)
            )
        ).first()
    if found is None:
        return None
    seen = _aware(found.last_seen_at)
    if (
        _aware(found.expires_at) <= now
        or seen + IDLE <= now
        or found.disabled_at is not None
        or _aware(found.password_changed_at) > _aware(found.since)
    ):
        return None
    if now - seen >= TOUCH_EVERY:
        with store.engine.begin() as conn:
            conn.execute(
                update(StaffSession).where(StaffSession.id == found.sid).values(last_seen_at=now)
            )
    return _account(found, found.sid)


def logout(store: Store, account: Account) -> None:
    """End the session the account is logged in with."""
    with store.engine.begin() as conn:
        ended = conn.execute(
            update(StaffSession)
            .where(StaffSession.id == account.session_id, StaffSession.ended_at.is_(None))
            .values(ended_at=_now(), end_reason="logout")
        ).rowcount
        if ended:
            _audit_conn(conn, account, "user.logout")


def _audit_conn(conn: Connection, account: Account, action: str) -> None:
    audit.append(conn, actor_name(account.username), account.role.value, action,
                 f"user:{account.username}", {})  # fmt: skip
