"""``jiuzhu token create``, ``revoke`` and ``list``: a revoked token stops working at
once, through ``authenticate`` and through the HTTP service, and every revocation is
audited. On SQLite and, when configured, PostgreSQL (tests/db_fixtures.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jiuzhu.service.app import create_app
from jiuzhu.storage.db import make_engine, session_factory
from jiuzhu.storage.models import ApiClient, ApiToken, AuditEntry
from jiuzhu.usecases.errors import Kind, Refused
from jiuzhu.usecases.tokens import (
    _TOKENS,
    TokenError,
    _revoke,
    authenticate,
    hash_token,
    revoke_by_token,
)
from tests.cli_helpers import Run, invoke
from tests.db_fixtures import db_url

__all__ = ["db_url"]

HOSPITAL = "聊城某医院"
CIVIL = "聊城民政"


@contextmanager
def session(url: str) -> Iterator[Session]:
    """A committed transaction of its own, like the service's: sees what the CLI wrote."""
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as s:
            yield s
    finally:
        engine.dispose()


def create(url: str, client: str = HOSPITAL, role: str = "hospital", where: str = "3715") -> str:
    run = invoke(
        ["token", "create", "--client", client, "--role", role, "--jurisdiction", where,
         "--db", url]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    return run.stdout.strip()


def revoke(url: str, *args: str) -> Run:
    return invoke(["token", "revoke", *args, "--db", url])


def fp(token: str) -> str:
    return hash_token(token)[:12]


def is_live(url: str, token: str) -> bool:
    with session(url) as s:
        try:
            authenticate(s, f"Bearer {token}")
        except Refused as err:
            assert err.kind is Kind.unauthenticated and err.errors[0]["field"] == "Authorization"
            return False
    return True


def revocations(url: str) -> list[AuditEntry]:
    with session(url) as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "token.revoke")
                .order_by(AuditEntry.id)
            )
        )


def utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def test_create_prints_the_token_alone_and_its_fingerprint_on_stderr(db_url: str) -> None:
    run = invoke(
        ["token", "create", "--client", HOSPITAL, "--role", "hospital", "--jurisdiction", "3715",
         "--db", db_url]
    )  # fmt: skip
    assert run.code == 0, run.stderr
    token = run.stdout.removesuffix("\n")
    assert token.startswith("jz_") and "\n" not in token and " " not in token
    assert f"的令牌指纹：{fp(token)}" in run.stderr
    assert hash_token(token) not in run.stderr  # the fingerprint, not the whole hash
    assert is_live(db_url, token)


def test_revoke_by_token(db_url: str) -> None:
    token, other = create(db_url), create(db_url)
    assert is_live(db_url, token) and is_live(db_url, other)
    before = dt.datetime.now(dt.UTC)
    run = revoke(db_url, "--token", token)
    after = dt.datetime.now(dt.UTC)
    assert run.code == 0, run.stderr
    assert run.stdout == f"已吊销客户端 {HOSPITAL} 的令牌 {fp(token)}\n"
    assert not is_live(db_url, token)
    assert is_live(db_url, other)  # the client's other token is untouched
    with session(db_url) as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_sha256 == hash_token(token))).one()
        assert row.revoked_at is not None and before <= utc(row.revoked_at) <= after
    [entry] = revocations(db_url)
    assert (entry.actor, entry.role, entry.target) == ("cli", "admin", f"client:{HOSPITAL}")
    assert entry.details == {"client": HOSPITAL, "fingerprint": fp(token), "by": "token"}

    again = revoke(db_url, "--token", token)
    assert again.code == 1 and again.stdout == ""
    assert f"令牌 {fp(token)} 已于" in again.stderr and "无需再吊销" in again.stderr
    assert len(revocations(db_url)) == 1  # no second audit entry

    unknown = revoke(db_url, "--token", "jz_never_issued")
    assert unknown.code == 1 and "没有此令牌" in unknown.stderr


def test_revoke_by_fingerprint(db_url: str) -> None:
    token, other = create(db_url), create(db_url, CIVIL, "civil_affairs", "371502")
    run = revoke(db_url, "--fingerprint", fp(token).upper())  # case does not matter
    assert run.code == 0, run.stderr
    assert run.stdout == f"已吊销客户端 {HOSPITAL} 的令牌 {fp(token)}\n"
    assert not is_live(db_url, token) and is_live(db_url, other)
    run = revoke(db_url, "--fingerprint", fp(other)[:8])  # the shortest prefix allowed
    assert run.code == 0, run.stderr
    assert run.stdout == f"已吊销客户端 {CIVIL} 的令牌 {fp(other)}\n"
    assert not is_live(db_url, other)
    assert [e.details for e in revocations(db_url)] == [
        {"client": HOSPITAL, "fingerprint": fp(token), "by": "fingerprint"},
        {"client": CIVIL, "fingerprint": fp(other), "by": "fingerprint"},
    ]
    again = revoke(db_url, "--fingerprint", fp(token))
    assert again.code == 1 and "无需再吊销" in again.stderr


def test_revoke_every_token_of_a_client(db_url: str) -> None:
    first, second = create(db_url), create(db_url)
    other = create(db_url, CIVIL, "civil_affairs", "371502")
    run = revoke(db_url, "--client", HOSPITAL, "--all")
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"已吊销客户端 {HOSPITAL} 的令牌 {fp(first)}",
        f"已吊销客户端 {HOSPITAL} 的令牌 {fp(second)}",
    ]
    assert not is_live(db_url, first) and not is_live(db_url, second)
    assert is_live(db_url, other)
    entries = revocations(db_url)
    assert [e.details["fingerprint"] for e in entries] == [fp(first), fp(second)]
    assert {e.target for e in entries} == {f"client:{HOSPITAL}"}

    again = revoke(db_url, "--client", HOSPITAL, "--all")
    assert again.code == 1 and f"客户端 {HOSPITAL} 没有未吊销的令牌" in again.stderr
    unknown = revoke(db_url, "--client", "无此客户端", "--all")
    assert unknown.code == 1 and "没有名为 无此客户端 的客户端" in unknown.stderr
    assert len(revocations(db_url)) == 2


def test_fingerprint_errors(db_url: str) -> None:
    create(db_url)  # migrates the database and creates the client
    # two stored hashes sharing 8 digits, two more sharing all 12 shown ones
    hashes = ["abcdef01" + "1" * 56, "abcdef01" + "2" * 56,
              "0123456789ab" + "c" * 52, "0123456789ab" + "d" * 52]  # fmt: skip
    with session(db_url) as s:
        client_id = s.scalar(select(ApiClient.id).where(ApiClient.name == HOSPITAL))
        assert client_id is not None
        s.add_all(ApiToken(client_id=client_id, token_sha256=h) for h in hashes)

    ambiguous = revoke(db_url, "--fingerprint", "abcdef01")
    assert ambiguous.code == 1
    assert "指纹 abcdef01 不唯一，对应 2 个令牌" in ambiguous.stderr
    assert "abcdef011111" in ambiguous.stderr and "abcdef012222" in ambiguous.stderr
    # when 12 digits do not tell them apart, the message shows as many as needed
    twelve = revoke(db_url, "--fingerprint", "0123456789ab")
    assert twelve.code == 1
    assert "0123456789abc" in twelve.stderr and "0123456789abd" in twelve.stderr
    assert revocations(db_url) == []  # nothing revoked on an ambiguity

    longer = revoke(db_url, "--fingerprint", "abcdef012")
    assert longer.code == 0, longer.stderr
    assert longer.stdout == f"已吊销客户端 {HOSPITAL} 的令牌 abcdef012222\n"
    # a revoked token sharing the prefix still makes it ambiguous
    assert revoke(db_url, "--fingerprint", "abcdef01").code == 1

    unknown = revoke(db_url, "--fingerprint", "deadbeef")
    assert unknown.code == 1 and "没有指纹为 deadbeef 的令牌" in unknown.stderr
    for bad in ("abcdef0", "abcdefgh", "ab cd ef 01"):  # too short, not hex
        run = revoke(db_url, "--fingerprint", bad)
        assert run.code == 2 and "8 至 64 位十六进制数字" in run.stderr, bad


def test_revoke_options_are_checked(db_url: str) -> None:
    token = create(db_url)
    for args in ([], ["--client", HOSPITAL], ["--all"], ["--token", token, "--all"],
                 ["--token", token, "--fingerprint", fp(token)]):  # fmt: skip
        run = revoke(db_url, *args)
        assert run.code == 2 and run.stderr, args
    assert is_live(db_url, token)


def test_a_concurrent_revocation_is_recorded_once(db_url: str) -> None:
    """Two admins revoking the same token at once: the one who loses the race is told so,
    and writes no second audit entry."""
    token = create(db_url)
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as slow:
            row = slow.execute(_TOKENS.where(ApiToken.token_sha256 == hash_token(token))).one()
            assert row.revoked_at is None  # what the slow admin saw
            with session(db_url) as fast:
                revoke_by_token(fast, token)
            with pytest.raises(TokenError, match="刚被另一操作吊销"):
                _revoke(slow, row, "token")
            slow.rollback()
    finally:
        engine.dispose()
    assert len(revocations(db_url)) == 1


def cells(run: Run, token: str) -> list[str]:
    """The table row of ``token``: client, role, jurisdiction, fingerprint, created,
    expires, revoked."""
    [line] = [x for x in run.stdout.splitlines() if fp(token) in x]
    return [c.strip() for c in line.split("│")[1:-1]]


def test_list(db_url: str) -> None:
    first, second = create(db_url), create(db_url)
    civil = create(db_url, CIVIL, "civil_affairs", "371502")
    assert revoke(db_url, "--token", first).code == 0

    live = invoke(["token", "list", "--db", db_url])
    assert live.code == 0, live.stderr
    assert fp(first) not in live.stdout
    for token, client, role, where in ((second, HOSPITAL, "医院", "3715"),
                                       (civil, CIVIL, "民政部门", "371502")):  # fmt: skip
        assert cells(live, token)[:4] == [client, role, where, fp(token)]
        assert cells(live, token)[5].endswith(" UTC")  # expires
        assert cells(live, token)[6] == ""  # not revoked
    for token in (first, second, civil):
        assert hash_token(token)[:13] not in live.stdout  # the fingerprint, never more

    everything = invoke(["token", "list", "--all", "--db", db_url])
    assert everything.code == 0, everything.stderr
    created, expires, revoked = cells(everything, first)[4:]
    assert created.endswith(" UTC") and revoked.endswith(" UTC") and created <= revoked
    assert created < expires
    assert cells(everything, second)[6] == ""
    assert fp(civil) in everything.stdout

    one = invoke(["token", "list", "--client", CIVIL, "--db", db_url])
    assert one.code == 0 and fp(civil) in one.stdout
    assert fp(second) not in one.stdout and HOSPITAL not in one.stdout

    assert revoke(db_url, "--client", CIVIL, "--all").code == 0
    none = invoke(["token", "list", "--client", CIVIL, "--db", db_url])
    assert none.code == 0 and none.stdout == "没有未吊销的令牌\n"
    unknown = invoke(["token", "list", "--client", "无此客户端", "--db", db_url])
    assert unknown.code == 1 and "没有名为 无此客户端 的客户端" in unknown.stderr


def test_a_revoked_token_gets_401_from_the_service(db_url: str) -> None:
    token, other = create(db_url), create(db_url)
    app = create_app(db_url, "liaocheng-2023")
    try:
        with TestClient(app) as client:

            def get(t: str) -> int:
                return client.get(
                    "/persons/x", headers={"Authorization": f"Bearer {t}"}
                ).status_code

            assert get(token) == 404 and get(other) == 404  # authenticated; no such person
            assert revoke(db_url, "--fingerprint", fp(token)).code == 0
            r = client.get("/persons/x", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
            assert r.json()["errors"][0] == {
                "field": "Authorization",
                "message": "令牌无效或已吊销",
            }
            assert get(other) == 404
    finally:
        app.state.store.engine.dispose()


def test_revoke_a_token_read_from_standard_input(db_url: str) -> None:
    """``--token -``: the token never appears on the command line (shell history, ``ps``)."""
    token, other = create(db_url), create(db_url)
    run = invoke(["token", "revoke", "--token", "-", "--db", db_url], stdin=token + "\n")
    assert run.code == 0, run.stderr
    assert run.stdout == f"已吊销客户端 {HOSPITAL} 的令牌 {fp(token)}\n"
    assert not is_live(db_url, token) and is_live(db_url, other)


def test_tokens_expire_and_rotate(db_url: str) -> None:
    """Defect: tokens never expired. A token past its expiry is refused with the reason;
    ``token rotate`` issues a new one and the old one lives on for the grace period."""
    token = create(db_url)
    with session(db_url) as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.token_sha256 == hash_token(token))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    with session(db_url) as s, pytest.raises(Refused, match="令牌已过期"):
        authenticate(s, f"Bearer {token}")
    live = create(db_url)
    run = invoke(["token", "rotate", "--fingerprint", fp(live), "--grace-hours", "0",
                  "--db", db_url])  # fmt: skip
    assert run.code == 0, run.stderr
    new = run.stdout.strip()
    assert new.startswith("jz_") and new != live and "旧令牌" in run.stderr
    assert is_live(db_url, new) and not is_live(db_url, live)
    kept = create(db_url)
    run = invoke(["token", "rotate", "--fingerprint", fp(kept), "--db", db_url])
    assert run.code == 0 and is_live(db_url, kept)  # 24 hours of grace by default
    with session(db_url) as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("token.rotate") == 2


def test_rotation_over_http_and_days(db_url: str) -> None:
    run = invoke(["token", "create", "--client", HOSPITAL, "--role", "hospital",
                  "--jurisdiction", "3715", "--days", "1", "--db", db_url])  # fmt: skip
    token = run.stdout.strip()
    with session(db_url) as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_sha256 == hash_token(token))).one()
        left = utc(row.expires_at) - dt.datetime.now(dt.UTC)  # type: ignore[arg-type]
    assert dt.timedelta(hours=23) < left <= dt.timedelta(days=1)
    app = create_app(db_url, "liaocheng-2023")
    try:
        with TestClient(app) as client:
            r = client.post("/tokens/rotation", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            new = r.json()["token"]
            assert r.json()["fingerprint"] == fp(new)
            ok = client.get("/persons/x", headers={"Authorization": f"Bearer {new}"})
            assert ok.status_code == 404  # authenticated
    finally:
        app.state.store.engine.dispose()
