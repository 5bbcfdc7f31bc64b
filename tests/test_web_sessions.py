"""Login, sessions and forms through FastAPI's test client (tests/web_helpers.py): the
cookie's flags, CSRF refused on every form, lockout and its lifting, logout, idle and
expired sessions, disabled accounts, the HTTPS rule, the return address after login,
and every write audited with the user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from jiuzhu.storage.models import AuditEntry, StaffSession
from jiuzhu.usecases import staff
from jiuzhu.usecases.staff import LoginLimits
from jiuzhu.usecases.tokens import FailureLimit
from jiuzhu.web import PREFIX
from tests.db_fixtures import db_url
from tests.web_helpers import PASSWORD, Web, cheap_hashes, csrf_of, post_login, web

__all__ = ["cheap_hashes", "db_url", "web"]

STAFF_PAGES = ["/worklist", "/persons", "/settlements", "/persons/" + "a" * 32,
               "/settlements/" + "b" * 32, "/settlements/" + "b" * 32 + "/print"]  # fmt: skip


def _set_cookie_headers(response: Any) -> list[str]:
    return [v for k, v in response.headers.multi_items() if k == "set-cookie"]


def _audit(web: Web, action: str) -> list[AuditEntry]:
    with web.api.app.state.store.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_every_staff_page_needs_a_login(web: Web) -> None:
    client = web.client()
    for path in STAFF_PAGES:
        r = client.get(PREFIX + path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith(f"{PREFIX}/login?next=%2Fweb"), path
    r = client.post(f"{PREFIX}/persons", data={"id_number": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/login"
    assert client.get(f"{PREFIX}/policies").status_code == 200  # public


def test_login_cookie_flags_and_where_it_goes(web: Web) -> None:
    client = web.client()
    form = client.get(f"{PREFIX}/login")
    assert form.headers["cache-control"] == "no-store"
    (login_cookie,) = _set_cookie_headers(form)
    assert login_cookie.startswith("__Host-jz_login=")
    r = post_login(client, "clerk", PASSWORD, next_path=f"{PREFIX}/settlements?status=settled")
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/settlements?status=settled"
    cookies = _set_cookie_headers(r)
    session = next(c for c in cookies if c.startswith("__Host-jz_session="))
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags
    assert not any(f.startswith("domain") for f in flags)
    assert any(c.startswith('__Host-jz_login=""') for c in cookies)  # cleared
    page = client.get(f"{PREFIX}/worklist")
    assert page.status_code == 200 and "张经办" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert client.get(f"{PREFIX}/", follow_redirects=False).headers["location"] == (
        f"{PREFIX}/worklist"
    )


def test_the_return_address_is_always_one_of_the_pages(web: Web) -> None:
    for evil in ["https://evil.example/", "//evil.example/web/", "/web/\\evil", "/api"]:
        r = post_login(web.client(), "clerk", PASSWORD, next_path=evil)
        assert r.headers["location"] == f"{PREFIX}/worklist", evil


def test_a_session_token_is_new_at_every_login(web: Web) -> None:
    client = web.client()
    client.cookies.set("__Host-jz_session", "planted-by-someone", domain="testserver")
    r = post_login(client, "clerk", PASSWORD)
    token = r.cookies.get("__Host-jz_session")
    assert token and token != "planted-by-someone"


def test_login_csrf(web: Web) -> None:
    client = web.client()
    client.get(f"{PREFIX}/login")
    data = {"username": "clerk", "password": PASSWORD}
    for bad in [data, {**data, "csrf": "0" * 64}]:
        r = client.post(f"{PREFIX}/login", data=bad, follow_redirects=False)
        assert r.status_code == 403 and "登录页已过期或来自其他网站" in r.text
        assert "__Host-jz_session" not in r.cookies
    fresh = web.client()  # a token from another browser's form is not this one's
    token = csrf_of(web.client().get(f"{PREFIX}/login").text)
    fresh.get(f"{PREFIX}/login")
    r = fresh.post(f"{PREFIX}/login", data={**data, "csrf": token}, follow_redirects=False)
    assert r.status_code == 403
    form = client.get(f"{PREFIX}/login")
    r = client.post(
        f"{PREFIX}/login",
        data={**data, "csrf": csrf_of(form.text)},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_every_staff_form_refuses_a_missing_or_foreign_token(web: Web) -> None:
    clerk, other = web.login("clerk"), web.login("reviewer")
    theirs = csrf_of(other.get(f"{PREFIX}/persons").text)
    mine = csrf_of(clerk.get(f"{PREFIX}/persons").text)
    forms = [("/persons", {"id_number": "371502198001010018"}), ("/logout", {})]
    for path, data in forms:
        for token in (None, "", theirs):
            body = dict(data) if token is None else {**data, "csrf": token}
            r = clerk.post(PREFIX + path, data=body, follow_redirects=False)
            assert r.status_code == 403, (path, token)
            assert "表单已过期或来自其他网站，未作任何处理" in r.text
        evil = {"origin": "http://evil.example"}
        r = clerk.post(
            PREFIX + path, data={**data, "csrf": mine}, headers=evil, follow_redirects=False
        )
        assert r.status_code == 403
    assert clerk.get(f"{PREFIX}/worklist").status_code == 200  # still logged in
    assert _audit(web, "person.lookup") == []  # nothing was done


def test_logout_ends_the_session(web: Web) -> None:
    client = web.login("clerk")
    token = client.cookies.get("__Host-jz_session")
    page = client.get(f"{PREFIX}/worklist")
    r = client.post(f"{PREFIX}/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/login?out=1"
    assert any(c.startswith('__Host-jz_session=""') for c in _set_cookie_headers(r))
    replay = web.client()
    replay.cookies.set("__Host-jz_session", token or "", domain="testserver")
    assert replay.get(f"{PREFIX}/worklist", follow_redirects=False).status_code == 303
    assert "您已退出登录" in client.get(f"{PREFIX}/login?out=1").text
    (row,) = _audit(web, "user.logout")
    assert row.actor == "user:clerk"


def test_lockout_after_repeated_failures_and_reset_lifts_it(web: Web) -> None:
    client = web.client()
    for _ in range(4):
        r = post_login(client, "clerk", "wrong password 1")
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = post_login(client, "clerk", "wrong password 1")
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60
    r = post_login(client, "clerk", PASSWORD)  # the right password does not help now
    assert r.status_code == 429
    assert post_login(web.client(), "reviewer", PASSWORD).status_code == 303  # others can
    failed = _audit(web, "user.login_failed")
    assert len(failed) == 5 and failed[-1].details["locked"] is True
    with web.api.app.state.store.sessions() as s, s.begin():
        staff.reset_password(s, "clerk", "a brand new password")
    assert post_login(client, "clerk", "a brand new password").status_code == 303


def test_an_unknown_name_reads_like_a_wrong_password_and_locks_alike(web: Web) -> None:
    wrong = post_login(web.client(), "clerk", "wrong password 1")
    unknown = post_login(web.client(), "nobody", "wrong password 1")
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码不正确" in unknown.text
    for _ in range(4):
        post_login(web.client(), "nobody", "x" * 12)
    assert post_login(web.client(), "nobody", "x" * 12).status_code == 429
    assert [e.actor for e in _audit(web, "user.login_failed")] == ["user:clerk"]


def test_lockout_by_address(web: Web) -> None:
    web.pages.state.login_limits = LoginLimits(address=FailureLimit(allowed=2))
    client = web.client()
    for name in ("a1", "a2"):
        assert post_login(client, name, "wrong password 1").status_code == 401
    assert post_login(client, "a3", "wrong password 1").status_code == 429
    assert post_login(client, "clerk", PASSWORD).status_code == 429


def test_the_form_errors_of_login(web: Web) -> None:
    client = web.client()
    form = client.get(f"{PREFIX}/login")
    r = client.post(f"{PREFIX}/login", data={"csrf": csrf_of(form.text), "username": "clerk"})
    assert r.status_code == 422
    assert 'id="password-error"' in r.text and "请填写密码" in r.text
    assert 'aria-describedby="password-error" aria-invalid="true"' in r.text
    assert 'value="clerk"' in r.text and PASSWORD not in r.text
    too_long = post_login(client, "clerk", "x" * 300)
    assert too_long.status_code == 401


def test_a_disabled_account(web: Web) -> None:
    client = web.login("clerk")
    with web.api.app.state.store.sessions() as s, s.begin():
        staff.disable_user(s, "clerk")
    assert client.get(f"{PREFIX}/worklist", follow_redirects=False).status_code == 303
    r = post_login(web.client(), "clerk", PASSWORD)
    assert r.status_code == 403 and "此账户已停用" in r.text
    r = post_login(web.client(), "clerk", "wrong password 1")
    assert r.status_code == 401  # the wrong password says nothing of the account


def test_idle_and_expired_sessions_end(web: Web) -> None:
    client = web.login("clerk")
    store = web.api.app.state.store
    long_ago = dt.datetime.now(dt.UTC) - staff.IDLE - dt.timedelta(seconds=1)
    with store.engine.begin() as conn:
        conn.execute(update(StaffSession).values(last_seen_at=long_ago))
    assert client.get(f"{PREFIX}/worklist", follow_redirects=False).status_code == 303
    client = web.login("clerk")
    with store.engine.begin() as conn:
        conn.execute(update(StaffSession).values(expires_at=dt.datetime.now(dt.UTC)))
    assert client.get(f"{PREFIX}/worklist", follow_redirects=False).status_code == 303
    client = web.login("clerk")  # a password reset ends it too
    with store.sessions() as s, s.begin():
        staff.reset_password(s, "clerk", "another good password")
    assert client.get(f"{PREFIX}/worklist", follow_redirects=False).status_code == 303
    with store.sessions() as s:
        ended = {row.end_reason for row in s.scalars(select(StaffSession))}
    assert "password" in ended


def test_plain_http_is_only_for_the_loopback_address(web: Web) -> None:
    remote = TestClient(web.api.app, base_url="http://10.1.2.3")
    page = remote.get(f"{PREFIX}/login")
    assert "须通过 HTTPS 访问" in page.text
    r = remote.post(
        f"{PREFIX}/login",
        data={"username": "clerk", "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "__Host-jz_session" not in r.cookies
    local = TestClient(web.api.app, base_url="http://127.0.0.1:8000")
    assert "须通过 HTTPS 访问" not in local.get(f"{PREFIX}/login").text


def test_login_and_logout_are_audited_with_the_user(web: Web) -> None:
    client = web.login("reviewer")
    (login,) = _audit(web, "user.login")
    assert login.actor == "user:reviewer" and login.role == "reviewer"
    assert login.target == "user:reviewer"
    token = csrf_of(client.get(f"{PREFIX}/persons").text)
    client.post(f"{PREFIX}/persons", data={"id_number": "371502198001010018", "csrf": token})
    (lookup,) = _audit(web, "person.lookup")
    assert lookup.actor == "user:reviewer"
