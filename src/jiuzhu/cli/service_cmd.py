"""``jiuzhu serve`` (the HTTP service under uvicorn) and ``jiuzhu token create``."""

from __future__ import annotations

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
) -> None:
    """启动一站式结算 HTTP 服务（OpenAPI 文档在 /docs）。"""
    import uvicorn

    from jiuzhu.service.app import create_app

    try:
        app = create_app(db, policy)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    uvicorn.run(app, host=host, port=port)


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
