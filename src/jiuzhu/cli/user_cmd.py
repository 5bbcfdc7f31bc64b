"""``jiuzhu user create|list|disable|reset-password``: staff accounts of the web pages.

A password is generated (shown once, on standard output alone, as ``token create``
prints its token) unless ``--password-stdin`` reads one: a password given on the
command line would stay in the shell's history and in ``ps``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.cli.registry_cmd import DbOpt

user_app = typer.Typer(
    help="网页的工作人员账户：新建、列出、停用、重设密码。", no_args_is_help=True
)

ROLE_HELP = "角色，与接口令牌的相同：中文名称或标识（如 审核人员 或 reviewer；写错时列出全部角色）"
UsernameArg = Annotated[
    str, typer.Argument(metavar="用户名", help="登录用的用户名（如 zhang.san）")
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="从标准输入读取密码（不给出则随机生成并显示一次）"),
]


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password and whether it was generated."""
    from jiuzhu.usecases.staff import generate_password

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


def _roles() -> str:
    from jiuzhu.usecases.access import Role

    return "、".join(f"{r.zh}（{r.value}）" for r in Role)


@user_app.command("create")
def user_create(
    username: UsernameArg,
    name: Annotated[str, typer.Option("--name", help="姓名（页面上显示）")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="辖区：GB/T 2260 代码或前缀（如 371502）")
    ],
    hospital: Annotated[
        str | None,
        typer.Option("--hospital", help="医院角色的账户所属医院（接口客户端名称，见 token list）"),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    db: DbOpt = None,
) -> None:
    """新建工作人员账户：角色与辖区同接口令牌；密码以 Argon2id 哈希保存。"""
    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.access import role_from_text
    from jiuzhu.usecases.staff import UserError, create_user

    chosen = role_from_text(role)
    if chosen is None:
        fail(f"角色须为 {_roles()}，而不是「{role}」", EXIT_USAGE)
    password, generated = _password(password_stdin)
    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            info = create_user(
                session, username, name, chosen, jurisdiction, password, hospital=hospital
            )
    except UserError as err:
        fail(str(err), EXIT_USAGE)
    finally:
        engine.dispose()
    if generated:
        typer.echo(password)
    where = f"，医院 {info.hospital}" if info.hospital else ""
    typer.echo(
        f"已新建账户 {info.username}（{info.name}，{chosen.zh}，辖区 {info.jurisdiction}{where}）"
        + ("；上面一行是其初始密码，只显示这一次" if generated else ""),
        err=True,
    )


@user_app.command("list")
def user_list(db: DbOpt = None) -> None:
    """列出账户：用户名、姓名、角色、辖区、状态（停用、锁定）、最近登录时间。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.domain.clock import beijing_text
    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.access import role_from_text
    from jiuzhu.usecases.staff import list_users

    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            users = list_users(session)
    finally:
        engine.dispose()
    if not users:
        typer.echo("没有账户（新建：jiuzhu user create）")
        return
    table = Table(title="工作人员账户", title_justify="left")
    for header in ("用户名", "姓名", "角色", "辖区", "医院", "状态", "最近登录"):
        table.add_column(header, no_wrap=header != "医院")
    for u in users:
        known = role_from_text(u.role)
        if u.disabled_at is not None:
            state = f"已停用（{beijing_text(u.disabled_at)}）"
        elif u.locked_seconds is not None:
            state = f"登录失败过多，锁定约 {max(1, (u.locked_seconds + 59) // 60)} 分钟"
        else:
            state = "正常"
        last = beijing_text(u.last_login) if u.last_login else "从未登录"
        table.add_row(
            u.username, u.name, known.zh if known else u.role, u.jurisdiction,
            u.hospital or "", state, last,
        )  # fmt: skip
    Console(width=max(Console().width, 140)).print(table)


@user_app.command("disable")
def user_disable(username: UsernameArg, db: DbOpt = None) -> None:
    """停用账户：此后不能登录，已登录的会话立即失效；账户保留（审计日志中有其记录）。"""
    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.staff import UserError, disable_user

    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            disable_user(session, username)
    except UserError as err:
        fail(str(err), EXIT_DATA)
    finally:
        engine.dispose()
    typer.echo(f"已停用账户 {username}，其会话均已失效")


@user_app.command("reset-password")
def user_reset_password(
    username: UsernameArg, password_stdin: PasswordStdinOpt = False, db: DbOpt = None
) -> None:
    """重设密码：已登录的会话立即失效，登录失败的锁定解除。"""
    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.staff import UserError, reset_password

    password, generated = _password(password_stdin)
    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            reset_password(session, username, password)
    except UserError as err:
        fail(str(err), EXIT_DATA)
    finally:
        engine.dispose()
    if generated:
        typer.echo(password)
    typer.echo(
        f"已重设账户 {username} 的密码，其会话均已失效"
        + ("；上面一行是新密码，只显示这一次" if generated else ""),
        err=True,
    )
