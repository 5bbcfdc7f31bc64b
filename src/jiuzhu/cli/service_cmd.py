"""``jiuzhu serve`` (the HTTP service under uvicorn) and ``jiuzhu token create``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_USAGE, fail
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
    from jiuzhu.service.auth import Role, create_token
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
