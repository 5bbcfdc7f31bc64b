"""Staff accounts: ``jiuzhu user create|list|disable|reset-password`` end to end, their
errors, the Argon2id hash as stored (RFC 9106's profile, the password nowhere), rehashing
on login, any role of ``access.Role`` with its jurisdiction, and the audit of every
account write."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from jiuzhu.storage.db import make_engine, session_factory, upgrade
from jiuzhu.storage.models import AuditEntry, StaffUser
from jiuzhu.usecases import staff
from jiuzhu.usecases.access import Role
from tests.cli_helpers import invoke
from tests.db_fixtures import db_url
from tests.web_helpers import PASSWORD, Web, cheap_hashes, post_login, web

__all__ = ["cheap_hashes", "db_url", "web"]


def _rows(url: str) -> list[StaffUser]:
    engine = make_engine(url)
    upgrade(engine)  # a refused command may not have created the database at all
    try:
        with session_factory(engine)() as s:
            return list(s.scalars(select(StaffUser).order_by(StaffUser.username)))
    finally:
        engine.dispose()


def _audit(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.action.startswith("user.")))
            return [(a.actor, a.action, a.target) for a in rows]
    finally:
        engine.dispose()


@pytest.mark.cli
def test_create_list_disable_reset(db_url: str) -> None:
    created = invoke(
        ["user", "create", "zhang.san", "--name", "张三", "--role", "审核人员",
         "--jurisdiction", "371502", "--db", db_url]
    )  # fmt: skip
    assert created.code == 0, created.stderr
    password = created.stdout.strip()
    assert len(password) == 16 and "只显示这一次" in created.stderr
    given = invoke(
        ["user", "create", "li", "--name", "李四", "--role", "admin", "--jurisdiction", "3715",
         "--password-stdin", "--db", db_url], stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert given.code == 0 and given.stdout == ""
    (li, zhang) = _rows(db_url)
    assert zhang.role == "reviewer" and zhang.jurisdiction == "371502"
    assert li.password_hash.startswith("$argon2id$") and PASSWORD not in li.password_hash
    listed = invoke(["user", "list", "--db", db_url])
    assert listed.code == 0
    assert (
        "zhang.san" in listed.stdout and "审核人员" in listed.stdout and "从未登录" in listed.stdout
    )
    disabled = invoke(["user", "disable", "li", "--db", db_url])
    assert disabled.code == 0 and "已停用账户 li" in disabled.stdout
    assert "已停用" in invoke(["user", "list", "--db", db_url]).stdout
    again = invoke(["user", "disable", "li", "--db", db_url])
    assert again.code != 0 and "已停用" in again.stderr
    reset = invoke(["user", "reset-password", "zhang.san", "--db", db_url])
    assert reset.code == 0 and reset.stdout.strip() != password
    assert invoke(["user", "reset-password", "nobody", "--db", db_url]).code != 0
    assert _audit(db_url) == [
        ("cli", "user.create", "user:zhang.san"),
        ("cli", "user.create", "user:li"),
        ("cli", "user.disable", "user:li"),
        ("cli", "user.password_reset", "user:zhang.san"),
    ]


@pytest.mark.cli
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["Zhang", "--name", "张", "--role", "admin", "--jurisdiction", "37"], "", "用户名须为"),
        (["z", "--name", "张", "--role", "admin", "--jurisdiction", "37"], "", "用户名须为"),
        (["zhang", "--name", "张", "--role", "boss", "--jurisdiction", "37"], "", "角色须为"),
        (["zhang", "--name", "张", "--role", "admin", "--jurisdiction", "99"], "", "99"),
        (["zhang", "--name", " ", "--role", "admin", "--jurisdiction", "37"], "", "姓名"),
        (["zhang", "--name", "张", "--role", "admin", "--jurisdiction", "37",
          "--password-stdin"], "short\n", "密码至少 12 个字符"),
        (["zhang", "--name", "张", "--role", "admin", "--jurisdiction", "37",
          "--password-stdin"], "my name is zhang!\n", "密码不得包含用户名"),
        (["zhang", "--name", "张", "--role", "hospital", "--jurisdiction", "3715"], "",
         "须用 --hospital 指明"),
        (["zhang", "--name", "张", "--role", "hospital", "--jurisdiction", "3715",
          "--hospital", "无此医院"], "", "没有名为 无此医院 的医院客户端"),
        (["zhang", "--name", "张", "--role", "admin", "--jurisdiction", "37",
          "--hospital", "某医院"], "", "只有医院"),
    ],
)  # fmt: skip
def test_create_refuses_what_is_wrong(
    db_url: str, args: list[str], stdin: str, message: str
) -> None:
    run = invoke(["user", "create", *args, "--db", db_url], stdin=stdin)
    assert run.code != 0 and message in run.stderr, run.stderr
    assert _rows(db_url) == []


def test_a_username_is_never_reused(web: Web) -> None:
    store = web.api.app.state.store
    with store.sessions() as s, s.begin():
        staff.disable_user(s, "far")
    with pytest.raises(staff.UserError, match="已被使用"), store.sessions() as s, s.begin():
        staff.create_user(s, "far", "新人", Role.admin, "37", PASSWORD)


def test_every_role_logs_in_with_its_jurisdiction(web: Web) -> None:
    """Any role the service has (issue 13 adds some) can hold an account: the pages'
    caller has that role and that jurisdiction."""
    store = web.api.app.state.store
    for n, role in enumerate(r for r in Role if r is not Role.hospital):
        with store.sessions() as s, s.begin():
            staff.create_user(s, f"role{n}", f"角色{n}", role, "371502", PASSWORD)
        login = staff.login(store, f"role{n}", PASSWORD, "127.0.0.1", staff.LoginLimits())
        caller = login.account.caller
        assert (caller.role, caller.jurisdiction) == (role, "371502")
        assert caller.name == f"user:role{n}" and caller.client_id == staff.NO_CLIENT
    desk = staff.login(store, "desk", PASSWORD, "127.0.0.1", staff.LoginLimits())
    assert desk.account.caller.role is Role.hospital and desk.account.caller.client_id > 0


def test_the_real_hash_profile_and_rehash_on_login(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored hashes use RFC 9106's low-memory Argon2id profile (argon2-cffi's default);
    a login with a hash of another profile stores one of the current profile."""
    real = PasswordHasher()
    assert (real.time_cost, real.memory_cost, real.parallelism) == (3, 65536, 4)
    monkeypatch.setattr(staff, "hasher", real)
    assert post_login(web.client(), "clerk", PASSWORD).status_code == 303
    with web.api.app.state.store.sessions() as s:
        row = s.scalar(select(StaffUser).where(StaffUser.username == "clerk"))
        assert row is not None
        assert row.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert not real.check_needs_rehash(row.password_hash)
