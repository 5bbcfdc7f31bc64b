"""``jiuzhu db``, ``jiuzhu roster`` and ``jiuzhu registry``: the registry's commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.domain.ids import mask_ids_in

if TYPE_CHECKING:
    from jiuzhu.io.rosters import ImportCounts

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="数据库 URL（默认：环境变量 JIUZHU_DB，否则 SQLite 文件 ./jiuzhu.db）"
    ),
]

db_app = typer.Typer(help="数据库：迁移到最新结构。", no_args_is_help=True)
roster_app = typer.Typer(help="名单（附件2）与动态调整名单（附件3）的导入。", no_args_is_help=True)
registry_app = typer.Typer(help="救助对象登记：某日适用的类别及依据。", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """把数据库迁移到最新版本（Alembic；已是最新则不变）。"""
    from jiuzhu.storage.db import current_revision, make_engine, upgrade

    engine = make_engine(db)
    upgrade(engine)
    typer.echo(f"数据库已是最新版本：{current_revision(engine)}")
    engine.dispose()


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} 须为 YYYY-MM-DD 格式的日期，而不是「{text}」", EXIT_USAGE)


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="名单文件（CSV 或 XLSX，附件2 或 附件3 格式）")],
    db: DbOpt = None,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="错误文件（CSV：行号、字段、原因）")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", help="文件未写明对象类别时适用的类别（如 低保、dibao）"),
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="名单（附件2）生效日期 YYYY-MM-DD（默认取标题中的日期）"),
    ] = None,
) -> None:
    """导入名单：逐行校验，坏行写入错误文件，好行照常导入；同一文件重复导入不作更改。"""
    from jiuzhu.domain.vocabulary import Category
    from jiuzhu.io.rosters import (
        RosterFileError,
        category_from_text,
        import_roster,
        parse_roster,
    )
    from jiuzhu.storage.db import make_engine, session_factory, upgrade

    if not file.is_file():
        fail(mask_ids_in(f"找不到文件 {file}"), EXIT_USAGE)
    cat: Category | None = None
    if category is not None:
        cat = category_from_text(category)
        if cat is None:
            fail(f"未知的对象类别「{category}」", EXIT_USAGE)
    start = _date(valid_from, "--valid-from") if valid_from else None
    try:
        parsed = parse_roster(file, cat, start)
    except RosterFileError as err:
        fail(mask_ids_in(str(err)), EXIT_DATA)
    engine = make_engine(db)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        result = import_roster(session, parsed)
    engine.dispose()
    report_import(parsed.layout.zh, file, result, errors)


def report_import(label: str, file: Path, result: ImportCounts, errors: Path | None) -> None:
    """What an import did, for a person: bad rows (stderr, and the error file), the counts;
    a data-error exit when any row was bad (the good rows went in all the same)."""
    from jiuzhu.io.rosters import write_errors

    for e in result.errors:
        typer.echo(e.render(), err=True)
    if errors is not None:
        write_errors(errors, result.errors)
    seen = "（此文件此前已导入，数据未变）" if result.already_imported else ""
    typer.echo(
        f"{label} {mask_ids_in(file.name)}：共 {result.rows_total} 行，新增资格 {result.added}，"
        f"终止资格 {result.closed}，未变 {result.unchanged}，错误 {result.rows_bad} 行{seen}"
    )
    if result.errors:
        where = f"，见 {errors}" if errors is not None else ""
        typer.echo(f"共 {result.rows_bad} 行有错误{where}；其余行已导入。", err=True)
        raise typer.Exit(EXIT_DATA)


@registry_app.command("category")
def registry_category(
    id_number: Annotated[str, typer.Argument(help="身份证号码")],
    date: Annotated[str, typer.Option("--date", help="日期 YYYY-MM-DD")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="政策 ID 或政策文件路径")],
    db: DbOpt = None,
) -> None:
    """某人某日适用的救助对象类别（就高不重复）及依据；身份证号只显示脱敏形式。"""
    from jiuzhu.domain.ids import mask_id, validate_id
    from jiuzhu.domain.registry import category_on
    from jiuzhu.io.policy_files import PolicyFileError, load_policy
    from jiuzhu.io.rosters import mask_value, memberships_of
    from jiuzhu.storage.db import make_engine, session_factory, upgrade

    on = _date(date, "--date")
    why = validate_id(id_number)
    if why:
        fail(f"{mask_value(id_number)}：{why}", EXIT_USAGE)
    try:
        pol = load_policy(policy)
    except PolicyFileError as err:
        fail(f"政策错误：\n{err}", EXIT_USAGE)
    engine = make_engine(db)
    upgrade(engine)
    with session_factory(engine)() as session:
        memberships = memberships_of(session, id_number)
    engine.dispose()
    if memberships is None:
        fail(f"{mask_id(id_number)} 不在登记中", EXIT_DATA)
    answer = category_on(
        id_number,
        memberships,
        on,
        pol.categories.precedence,
        f"{pol.id}（{pol.categories.clause or '类别顺序'}）",
    )
    typer.echo(
        f"{answer.person} {on.isoformat()} 适用类别：{answer.applied.zh}（{answer.applied.value}）"
    )
    for line in answer.why:
        typer.echo(line)
