"""``jiuzhu serve`` (the HTTP service under uvicorn) and ``jiuzhu token create``, ``revoke``
and ``list``."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.cli.registry_cmd import DbOpt

token_app = typer.Typer(help="服务的访问令牌（按客户端签发）。", no_args_is_help=True)


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
) -> None:
    """启动一站式结算 HTTP 服务（OpenAPI 文档在 /docs）。"""
    import uvicorn

    from jiuzhu.service.app import SERVE_DB, SERVE_POLICY, create_app

    try:
        app = create_app(db, policy)  # checks the policy and migrates, once
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    if workers == 1:
        uvicorn.run(app, host=host, port=port)
        return
    # several processes: each builds its own app (and connection pool) from the environment
    app.state.service.engine.dispose()
    os.environ[SERVE_POLICY] = policy
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

    config = uvicorn.Config(
        "jiuzhu.service.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
    )
    bound = config.bind_socket()
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


@token_app.command("create")
def token_create(
    client: Annotated[str, typer.Option("--client", help="客户端名称（如 某某医院）")],
    role: Annotated[str, typer.Option("--role", help="hospital、civil_affairs、reviewer 或 admin")],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="辖区：GB/T 2260 代码或前缀（如 3715）")
    ],
    db: DbOpt = None,
) -> None:
    """为客户端签发令牌；令牌只显示这一次（数据库只存其哈希）。"""
    from jiuzhu.service.auth import Role, create_token, hash_token, token_fingerprint
    from jiuzhu.storage.db import make_engine, session_factory, upgrade

    if role not in set(Role):
        fail(f"角色须为 {'、'.join(r.value for r in Role)}，而不是「{role}」", EXIT_USAGE)
    engine = make_engine(db)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            token = create_token(session, client, Role(role), jurisdiction)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    finally:
        engine.dispose()
    typer.echo(token)
    # stderr: scripts capture stdout, which must stay the token alone
    fp = token_fingerprint(hash_token(token))
    typer.echo(
        f"客户端 {client} 的令牌指纹：{fp}（吊销：jiuzhu token revoke --fingerprint {fp}）",
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
    from jiuzhu.service.auth import (
        TokenError,
        check_fingerprint,
        revoke_by_fingerprint,
        revoke_by_token,
        revoke_client_tokens,
    )
    from jiuzhu.storage.db import make_engine, session_factory, upgrade

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

    from jiuzhu.service.auth import TokenError, list_tokens, utc_text
    from jiuzhu.storage.db import make_engine, session_factory, upgrade

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
    table.add_column("吊销时间", no_wrap=True)
    for t in tokens:
        revoked = utc_text(t.revoked_at) if t.revoked_at else ""
        table.add_row(
            t.client, t.role, t.jurisdiction, t.fingerprint, utc_text(t.created_at), revoked
        )
    # wide: piped to a file or grep, an 80-column table would fold the fingerprints
    Console(width=max(Console().width, 160)).print(table)
