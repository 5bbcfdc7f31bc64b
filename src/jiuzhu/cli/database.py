"""The registry database as the commands open it, saying what they did to it.

A command that only reads the registry (``registry category``, ``enrolment``) never
creates a database: SQLite would silently make an empty file for a mistyped path, and
the answer "not in the registry" would then be wrong without a word. A command that
writes (``roster import``, ``certificate import``) may create it, and says so; every
command says when it migrated an older database. ``db upgrade`` says which of the three
it did: created, migrated, or found current.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from jiuzhu.cli.common import EXIT_USAGE, fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

HOW_TO_CREATE = "先用 jiuzhu db upgrade 建立数据库，再用 jiuzhu roster import 导入名单"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def label(engine: Engine) -> str:
    """How a person names the database: the SQLite file, or the URL without its password."""
    file = sqlite_file(engine.url.render_as_string(hide_password=False))
    return str(file) if file is not None else engine.url.render_as_string(hide_password=True)


def _unreachable(engine: Engine) -> NoReturn:
    fail(
        f"无法连接数据库 {label(engine)}：请检查地址、端口、用户名和密码，"
        "以及数据库服务是否在运行（SQLite 文件所在的目录须存在且可写）",
        EXIT_USAGE,
    )


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from jiuzhu.storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _revision(engine: Engine) -> str | None:
    from sqlalchemy.exc import OperationalError

    from jiuzhu.storage.db import current_revision

    try:
        return current_revision(engine)
    except OperationalError:
        _unreachable(engine)


def _upgrade(engine: Engine) -> None:
    from sqlalchemy.exc import OperationalError

    from jiuzhu.storage.db import upgrade

    try:
        upgrade(engine)
    except OperationalError:
        _unreachable(engine)


def upgrade_database(db: str | None) -> str:
    """Bring the database to the newest revision; what was done, in a sentence."""
    from jiuzhu.storage.db import database_url, make_engine

    url = database_url(db)
    file = sqlite_file(url)
    existed = file is None or file.exists()
    engine = make_engine(url)
    try:
        before = _revision(engine) if existed else None
        _upgrade(engine)
        after = _revision(engine)
    finally:
        engine.dispose()
    name = label(engine)
    if before is None and not existed:
        return f"已新建数据库 {name}（版本 {after}）"
    if before is None:
        return f"已在数据库 {name} 中建立数据表（版本 {after}）"
    if before != after:
        return f"数据库 {name} 已从版本 {before} 迁移到 {after}"
    return f"数据库 {name} 已是最新版本（{after}），未作更改"


def open_existing(db: str | None) -> Engine:
    """The registry to read: it must exist and have its tables (an older one is migrated,
    and the command says so on stderr)."""
    from jiuzhu.storage.db import database_url, make_engine

    url = database_url(db)
    file = sqlite_file(url)
    if file is not None and not file.is_file():
        fail(f"找不到登记库 {file}：{HOW_TO_CREATE}", EXIT_USAGE)
    engine = make_engine(url)
    before = _revision(engine)
    if before is None:
        engine.dispose()
        fail(f"登记库 {label(engine)} 还没有数据表：{HOW_TO_CREATE}", EXIT_USAGE)
    _migrate_if_behind(engine, before)
    return engine


def open_for_import(db: str | None) -> Engine:
    """The registry to write into: created when missing, migrated when older; either is
    said on stderr (stdout stays the import's own report)."""
    from jiuzhu.storage.db import database_url, make_engine

    url = database_url(db)
    file = sqlite_file(url)
    existed = file is None or file.exists()
    engine = make_engine(url)
    before = _revision(engine) if existed else None
    if before is None:
        _upgrade(engine)
        where = "新建数据库" if not existed else "在数据库中建立数据表"
        typer.echo(f"已{where} {label(engine)}（版本 {_revision(engine)}）", err=True)
        return engine
    _migrate_if_behind(engine, before)
    return engine


def _migrate_if_behind(engine: Engine, before: str) -> None:
    if before == head_revision():
        return
    _upgrade(engine)
    typer.echo(f"数据库 {label(engine)} 已从版本 {before} 迁移到 {_revision(engine)}", err=True)
