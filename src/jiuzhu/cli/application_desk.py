"""What every ``jiuzhu application …`` command shares: who is acting, the unit of work,
the files people hand in, and how a refusal is said.

A command acts as a member of staff: ``--as USERNAME`` (or ``JIUZHU_USER``) names the
account of ``jiuzhu user create``, and its password comes from ``JIUZHU_PASSWORD``, the
first line of standard input (``--password-stdin``) or a hidden prompt at a terminal,
never from the command line. It is checked as a login is (``staff.authenticate``: the
same lockout after failures, failures audited), and the use cases then see the account
as the pages do (``Account.caller``: role, jurisdiction, ``user:USERNAME`` in the
history and the audit log). A refusal of a use case exits 1 with each error naming its
field; wrong options or an unreadable file exit 2 (the CLI contract of docs/design.md).

Everything heavy (SQLAlchemy, YAML, the use cases) is imported inside the functions:
``jiuzhu --help`` loads none of it (tests/test_startup.py).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.domain.ids import mask_ids_in

if TYPE_CHECKING:
    from jiuzhu.usecases.access import Caller
    from jiuzhu.usecases.errors import Refused
    from jiuzhu.usecases.unit import Store

PASSWORD_ENV = "JIUZHU_PASSWORD"
T = TypeVar("T")


def _today() -> dt.date:
    """Today in Beijing, looked up when asked (a test moves the clock of ``unit``)."""
    from jiuzhu.usecases import unit

    return unit.beijing_today()


@dataclass
class Desk:
    """One command's unit of work and the member of staff acting in it."""

    store: Store
    caller: Caller
    stdin: bytes | None
    """What is left of standard input after the password line (a file given as ``-``);
    None: standard input is not read yet."""


def _password(from_stdin: bool) -> tuple[str, bytes | None]:
    """The password, and the rest of standard input (bytes: a paper may follow)."""
    if from_stdin:
        first, _, rest = sys.stdin.buffer.read().removeprefix(b"\xef\xbb\xbf").partition(b"\n")
        return first.decode("utf-8", "replace").rstrip("\r"), rest
    given = os.environ.get(PASSWORD_ENV)
    if given is not None:
        return given, None
    if sys.stdin.isatty():
        return getpass.getpass("密码："), None
    fail(
        f"须给出账户的密码：环境变量 {PASSWORD_ENV}、--password-stdin（标准输入的第一行）"
        "或在终端输入；密码不在命令行上给出",
        EXIT_USAGE,
    )


@contextmanager
def desk(username: str, password_stdin: bool, policy: str, db: str | None) -> Iterator[Desk]:
    """Authenticate ``username`` against the database's staff accounts and yield the
    desk; the engine is closed at the end, whatever happens."""
    from jiuzhu.cli.common import get_policy
    from jiuzhu.cli.database import open_existing
    from jiuzhu.usecases import staff
    from jiuzhu.usecases.unit import Store, policy_area, service_engine

    password, rest = _password(password_stdin)
    compiled = get_policy(policy, None, None)
    try:
        area = policy_area(compiled)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    checked = open_existing(db)  # an existing database, migrated if older
    url = checked.url.render_as_string(hide_password=False)
    checked.dispose()
    engine = service_engine(url)
    try:
        store = Store(engine, compiled, area, today=_today)
        account = run(
            lambda: staff.authenticate(
                store, username, password, f"cli:{getpass.getuser()}", staff.LoginLimits()
            ),
            writes=False,
        )
        yield Desk(store, account.caller, rest)
    finally:
        engine.dispose()


AS_WORDS = {"Authorization": "权限：", "id": "申请：", "username": "账户：", "password": "密码："}
"""The API's names for who is asking and what about (a header, the path), as the command
line says them: it has no header and no path."""


def say_refused(err: Refused, *, writes: bool) -> NoReturn:
    """Each error with its field, in Chinese, ID numbers masked; exit 1."""
    for e in err.errors:
        field = e["field"]
        where = AS_WORDS.get(field) or (f"字段 {field}：" if field else "")
        typer.echo(mask_ids_in(f"错误：{where}{e['message']}"), err=True)
    if writes and not any("未作任何更改" in e["message"] for e in err.errors):
        typer.echo("未作任何更改。", err=True)
    raise typer.Exit(EXIT_DATA)


def run(work: Callable[[], T], *, writes: bool = True) -> T:
    """``work()`` (one use case), its refusal said and the command ended on it; a busy
    database (another writer held the lock too long) is said too: nothing was written."""
    from sqlalchemy.exc import OperationalError

    from jiuzhu.storage.db import is_busy
    from jiuzhu.usecases.errors import Refused

    try:
        return work()
    except Refused as err:
        say_refused(err, writes=writes)
    except OperationalError as err:
        if not is_busy(err):
            raise
        fail("数据库繁忙，本次未写入任何数据；请稍后重试", EXIT_DATA)


# -- files people hand in ---------------------------------------------------------------


def read_bytes(path: str, stdin: bytes | None, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read() if stdin is None else stdin
    try:
        return Path(path).read_bytes()
    except OSError as err:
        from jiuzhu.io.oserrors import reason

        fail(mask_ids_in(f"无法读取{what} {path}：{reason(err)}"), EXIT_USAGE)


def read_record(path: str, stdin: bytes | None, what: str) -> dict[str, Any]:
    """A JSON or YAML object (by the file's suffix; ``-``: standard input, JSON or YAML).

    YAML is read with every scalar as text (``BaseLoader``), so ``income: 12000.00``
    stays the yuan string the use cases take (money never passes through a float) and a
    date stays ``YYYY-MM-DD``; a JSON number where yuan are meant is refused by the use
    case, naming the field."""
    raw = read_bytes(path, stdin, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(mask_ids_in(f"{what} {path} 不是 UTF-8 编码"), EXIT_USAGE)
    name = mask_ids_in(path)
    if Path(path).suffix.lower() in (".yaml", ".yml") or (path == "-" and not _json_like(text)):
        import yaml

        try:
            data = yaml.load(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            at = f"第 {mark.line + 1} 行" if mark is not None else ""
            fail(f"{what} {name} 不是有效的 YAML{at and '：' + at}", EXIT_USAGE)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            fail(f"{what} {name} 不是有效的 JSON：第 {err.lineno} 行第 {err.colno} 列", EXIT_USAGE)
    if not isinstance(data, dict):
        fail(f"{what} {name} 须为一个对象（键值对）", EXIT_USAGE)
    return data


def _json_like(text: str) -> bool:
    return text.lstrip().startswith("{")


def given(**values: Any) -> dict[str, Any]:
    """The options a person gave (None: not given), as the use case's fields."""
    return {k: v for k, v in values.items() if v is not None}


def to_json(data: Any) -> str:
    def default(value: Any) -> str:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(data, ensure_ascii=False, default=default, indent=2)
