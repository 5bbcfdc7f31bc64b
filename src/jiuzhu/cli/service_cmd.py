"""``jiuzhu serve`` (the HTTP service under uvicorn), ``jiuzhu token create``, ``rotate``,
``revoke`` and ``list``, and ``jiuzhu audit verify``."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.cli.registry_cmd import DbOpt

token_app = typer.Typer(help="服务的访问令牌（按客户端签发）。", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志。", no_args_is_help=True)


def serve(
    db: DbOpt = None,
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="政策 ID 或政策文件路径")
    ] = "liaocheng-2023",
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="工作进程数（生产环境建议与 CPU 核数相同）")
    ] = 1,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", help="政策适用地区的行政区划代码前缀（默认按政策的适用地区，如聊城 3715）"
        ),
    ] = None,
    benchmark_floor: Annotated[
        bool,
        typer.Option("--benchmark-floor", hidden=True, help="开放 POST /floor（仅供基准测试）"),
    ] = False,
) -> None:
    """启动一站式结算 HTTP 服务（OpenAPI 文档在 /docs）。"""
    import uvicorn

    from jiuzhu.service.app import SERVE_AREA, SERVE_DB, SERVE_FLOOR, SERVE_POLICY, create_app
    from jiuzhu.service.logs import log_config

    try:
        app = create_app(db, policy, area=area, floor=benchmark_floor)  # checks and migrates once
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_config=log_config())
        return
    # several processes: each builds its own app (and connection pool) from the environment
    app.state.store.engine.dispose()
    os.environ[SERVE_POLICY] = policy
    os.environ[SERVE_AREA] = area or ""
    os.environ[SERVE_FLOOR] = "1" if benchmark_floor else ""
    if db:
        os.environ[SERVE_DB] = db
    _run_workers(host, port, workers)


def _run_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor, with the listening socket marked as TCP.

    uvicorn 0.54 binds the shared socket with ``proto`` 0; accepted connections inherit
    it and asyncio then leaves Nagle's algorithm on, so every keep-alive request after
    the first waits ~40 ms on the client's delayed ACK (Kludex/uvicorn#3149, measured
    here: p50 48 ms on ``POST /floor`` with 2 workers). Re-wrapping the same descriptor
    with ``IPPROTO_TCP`` lets asyncio set ``TCP_NODELAY`` as it does for one process."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from jiuzhu.service.logs import log_config

    config = uvicorn.Config(
        "jiuzhu.service.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(),
    )
    bound = config.bind_socket()
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


ROLE_HELP = (
    "角色：医院（hospital）、民政部门（civil_affairs）、审核人员（reviewer）或管理员（admin）"
)
DaysOpt = Annotated[int, typer.Option("--days", min=1, max=3660, help="有效期（天），默认 90")]


@token_app.command("create")
def token_create(
    client: Annotated[str, typer.Option("--client", help="客户端名称（如 某某医院）")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="辖区：GB/T 2260 代码或前缀（如 3715）")
    ],
    days: DaysOpt = 90,
    db: DbOpt = None,
) -> None:
    """为客户端签发令牌；令牌只显示这一次（数据库只存其哈希），到期自动失效。"""
    import datetime as dt

    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.access import Role, role_from_text
    from jiuzhu.usecases.tokens import create_token, hash_token, token_fingerprint, utc_text

    chosen = role_from_text(role)
    if chosen is None:
        names = "、".join(f"{r.zh}（{r.value}）" for r in Role)
        fail(f"角色须为 {names}，而不是「{role}」", EXIT_USAGE)
    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            token = create_token(session, client, chosen, jurisdiction, days=days)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    finally:
        engine.dispose()
    typer.echo(token)
    # stderr: scripts capture stdout, which must stay the token alone
    fp = token_fingerprint(hash_token(token))
    until = utc_text(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
    typer.echo(
        f"客户端 {client}（{chosen.zh}）的令牌指纹：{fp}，有效至 {until}"
        f"（轮换：jiuzhu token rotate --fingerprint {fp}；"
        f"吊销：jiuzhu token revoke --fingerprint {fp}）",
        err=True,
    )


@token_app.command("rotate")
def token_rotate(
    fingerprint: Annotated[
        str, typer.Option("--fingerprint", help="要轮换的令牌的指纹（见 token list）")
    ],
    grace_hours: Annotated[
        int, typer.Option("--grace-hours", min=0, max=720, help="旧令牌再有效的小时数，默认 24")
    ] = 24,
    days: DaysOpt = 90,
    db: DbOpt = None,
) -> None:
    """为同一客户端签发新令牌（只显示这一次），旧令牌在宽限期后失效。"""
    import datetime as dt

    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.tokens import TokenError, rotate_by_fingerprint, utc_text

    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            done = rotate_by_fingerprint(
                session, fingerprint, grace=dt.timedelta(hours=grace_hours), days=days
            )
    except (TokenError, ValueError) as err:
        fail(str(err), EXIT_DATA)
    finally:
        engine.dispose()
    typer.echo(done.token)
    old = utc_text(done.old.expires_at) if done.old.expires_at else "?"
    typer.echo(
        f"客户端 {done.old.client} 的新令牌指纹：{done.fingerprint}；旧令牌 {done.old.fingerprint}"
        f" 于 {old} 失效",
        err=True,
    )


@token_app.command("revoke")
def token_revoke(
    token: Annotated[
        str | None,
        typer.Option("--token", help="令牌本身（jz_…）；- 为从标准输入读取（不留在命令历史中）"),
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(
            "--fingerprint", help="令牌指纹：其 SHA-256 的前缀，至少 8 位（见 token list）"
        ),
    ] = None,
    client: Annotated[
        str | None, typer.Option("--client", help="客户端名称（须与 --all 同用）")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="吊销 --client 所指客户端的全部未吊销令牌")
    ] = False,
    db: DbOpt = None,
) -> None:
    """吊销令牌：此后以它发出的请求一律 401。按令牌、指纹，或按客户端全部吊销。"""
    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.tokens import (
        TokenError,
        check_fingerprint,
        revoke_by_fingerprint,
        revoke_by_token,
        revoke_client_tokens,
    )

    given = sum(x is not None for x in (token, fingerprint, client))
    if given != 1:
        fail("须且只能给出 --token、--fingerprint 或 --client（与 --all 同用）之一", EXIT_USAGE)
    if (client is not None) != all_:
        fail("--client 与 --all 须同用：吊销该客户端的全部令牌", EXIT_USAGE)
    if fingerprint is not None and (why := check_fingerprint(fingerprint)):
        fail(why, EXIT_USAGE)
    if token == "-":  # a token on the command line stays in shell history and `ps`
        token = sys.stdin.readline().strip()
    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            if token is not None:
                revoked = [revoke_by_token(session, token)]
            elif fingerprint is not None:
                revoked = [revoke_by_fingerprint(session, fingerprint)]
            else:
                assert client is not None
                revoked = revoke_client_tokens(session, client)
    except TokenError as err:
        fail(str(err), EXIT_DATA)
    finally:
        engine.dispose()
    for info in revoked:
        typer.echo(f"已吊销客户端 {info.client} 的令牌 {info.fingerprint}")


@token_app.command("list")
def token_list(
    client: Annotated[str | None, typer.Option("--client", help="只列此客户端的令牌")] = None,
    all_: Annotated[bool, typer.Option("--all", help="也列出已吊销的令牌")] = False,
    db: DbOpt = None,
) -> None:
    """列出令牌（默认只列未吊销的）：客户端、角色、辖区、指纹、签发与吊销时间。"""
    from rich.console import Console
    from rich.table import Table

    from jiuzhu.storage.db import make_engine, session_factory, upgrade
    from jiuzhu.usecases.access import role_from_text
    from jiuzhu.usecases.tokens import TokenError, list_tokens, utc_text

    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            tokens = list_tokens(session, client, include_revoked=all_)
    except TokenError as err:
        fail(str(err), EXIT_DATA)
    finally:
        engine.dispose()
    if not tokens:
        typer.echo("没有令牌" if all_ else "没有未吊销的令牌")
        return
    table = Table(title="令牌（全部）" if all_ else "令牌（未吊销）", title_justify="left")
    table.add_column("客户端")
    table.add_column("角色", no_wrap=True)
    table.add_column("辖区", no_wrap=True)
    table.add_column("指纹", no_wrap=True)
    table.add_column("签发时间", no_wrap=True)
    table.add_column("到期时间", no_wrap=True)
    table.add_column("吊销时间", no_wrap=True)
    for t in tokens:
        revoked = utc_text(t.revoked_at) if t.revoked_at else ""
        expires = utc_text(t.expires_at) if t.expires_at else "不过期"
        known = role_from_text(t.role)
        role = known.zh if known else t.role
        table.add_row(
            t.client, role, t.jurisdiction, t.fingerprint, utc_text(t.created_at), expires, revoked
        )
    # wide: piped to a file or grep, an 80-column table would fold the fingerprints
    Console(width=max(Console().width, 160)).print(table)


@audit_app.command("verify")
def audit_verify(
    db: DbOpt = None,
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            help="另行保存的链头「行号:哈希」（如 1234:9f…）：核对它仍在链中，防整条链被重算",
        ),
    ] = None,
) -> None:
    """核对审计日志的哈希链：逐行重算，指出第一处断裂（被改、被删或被插入的行）。"""
    from jiuzhu.storage.db import make_engine, upgrade
    from jiuzhu.usecases.audit import verify

    anchor: tuple[int, str] | None = None
    if expect is not None:
        row, _, digest = expect.partition(":")
        if not row.isdigit() or len(digest) != 64:
            fail("--expect 须为「行号:64 位十六进制哈希」", EXIT_USAGE)
        anchor = (int(row), digest.lower())
    engine = make_engine(db)
    upgrade(engine)
    try:
        verdict = verify(engine, anchor)
    finally:
        engine.dispose()
    if verdict.ok:
        typer.echo(
            f"审计日志完整：{verdict.rows} 行，链头第 {verdict.head_id} 行，"
            f"哈希 {verdict.head_hash}"
        )
        typer.echo(f"（请另行保存「{verdict.head_id}:{verdict.head_hash}」，日后用 --expect 核对）")
        return
    where = f"第一处断裂在第 {verdict.broken_at} 行" if verdict.broken_at else "链本身完整"
    typer.echo(f"审计日志不完整（共 {verdict.rows} 行，{where}）：", err=True)
    for problem in verdict.problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(EXIT_DATA)
