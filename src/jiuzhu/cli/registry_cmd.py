"""``jiuzhu db``, ``jiuzhu roster`` and ``jiuzhu registry``: the registry's commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail, writable, written
from jiuzhu.domain.ids import mask_ids_in

if TYPE_CHECKING:
    from jiuzhu.io.rosters import ImportCounts, RowError

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL|文件",
        help="数据库 URL 或 SQLite 文件（默认：环境变量 JIUZHU_DB，否则 ./jiuzhu.db）",
    ),
]

db_app = typer.Typer(help="数据库：迁移到最新结构。", no_args_is_help=True)
roster_app = typer.Typer(help="名单（附件2）与动态调整名单（附件3）的导入。", no_args_is_help=True)
registry_app = typer.Typer(help="救助对象登记：某日适用的类别及依据。", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """建立数据库或迁移到最新版本，并说明做了什么：新建、迁移或已是最新。"""
    from jiuzhu.cli.database import upgrade_database

    typer.echo(upgrade_database(db))


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} 须为 YYYY-MM-DD 格式的日期，而不是「{text}」", EXIT_USAGE)


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="名单文件（CSV 或 XLSX，附件2 或 附件3 格式）")],
    db: DbOpt = None,
    errors: ErrorsFileOpt = None,
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
    from jiuzhu.cli.database import open_for_import
    from jiuzhu.domain.vocabulary import Category
    from jiuzhu.io.rosters import (
        RosterFileError,
        category_from_text,
        import_roster,
        parse_roster,
    )
    from jiuzhu.storage.db import session_factory

    if not file.is_file():
        fail(mask_ids_in(f"找不到文件 {file}"), EXIT_USAGE)
    errors_target(errors)
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
    engine = open_for_import(db)
    with session_factory(engine).begin() as session:
        result = import_roster(session, parsed)
    engine.dispose()
    report_import(parsed.layout.zh, file, result, errors)


ErrorsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--errors",
        metavar="文件",
        help="另将错误写入此文件：.csv（UTF-8 带 BOM）或 .xlsx（行号、字段、原因）",
    ),
]


def errors_target(path: Path | None) -> None:
    """Refuse an error file that could not be written, before anything is imported."""
    if path is None:
        return
    if path.suffix.lower() not in (".csv", ".xlsx"):
        fail("--errors 的文件须以 .csv 或 .xlsx 结尾", EXIT_USAGE)
    writable(path, "错误文件")


def report_import(label: str, file: Path, result: ImportCounts, errors: Path | None) -> None:
    """What an import did, for a person: each bad row (stderr, and the error file), then
    one line of counts; a data-error exit when any row was bad (the good rows went in all
    the same), and a file of which no row went in is said to be not imported."""
    from jiuzhu.domain.clock import beijing_text

    for e in result.errors:
        typer.echo(e.render(), err=True)
    if errors is not None:
        with written(errors, "错误文件") as tmp:
            write_row_errors(tmp, result.errors, errors.suffix.lower())
    seen = ""
    if result.already_imported:
        when = f"（{beijing_text(result.imported_at)}）" if result.imported_at else ""
        seen = f"（此文件此前已导入{when}，数据未变）"
    typer.echo(
        f"{label} {mask_ids_in(file.name)}：共 {result.rows_total} 行，新增资格 {result.added}，"
        f"终止资格 {result.closed}，未变 {result.unchanged}，错误 {result.rows_bad} 行{seen}"
    )
    if not result.errors:
        return
    where = f"（错误另见 {errors}）" if errors is not None else ""
    if result.rows_bad >= result.rows_total:
        typer.echo(f"没有一行可以导入，此文件未记为已导入；改正后请重新导入{where}。", err=True)
    else:
        typer.echo(f"有错误的行未导入，其余行已导入{where}。", err=True)
    raise typer.Exit(EXIT_DATA)


def write_row_errors(path: Path, errors: list[RowError], suffix: str) -> None:
    """The rows that could not be imported, as CSV (UTF-8 with BOM) or XLSX: 行号, 字段, 原因."""
    from jiuzhu.io.xlsx import Column, Sheet, write_csv, write_xlsx

    sheet = Sheet(
        "错误",
        [Column("行号", "integer"), Column("字段"), Column("原因", "wrap")],
        [[e.row, e.field, e.message] for e in errors],
    )
    if suffix == ".xlsx":
        write_xlsx(path, [sheet])
    else:
        write_csv(path, sheet)


@registry_app.command("category")
def registry_category(
    id_number: Annotated[str, typer.Argument(help="身份证号码")],
    date: Annotated[str, typer.Option("--date", help="日期 YYYY-MM-DD")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="政策 ID 或政策文件路径")],
    db: DbOpt = None,
) -> None:
    """某人某日适用的救助对象类别（就高不重复）及依据；身份证号只显示脱敏形式。"""
    from jiuzhu.cli.database import open_existing
    from jiuzhu.domain.ids import mask_id, mask_value, validate_id
    from jiuzhu.domain.registry import category_on
    from jiuzhu.io.policy_files import PolicyFileError, load_policy
    from jiuzhu.io.rosters import memberships_of
    from jiuzhu.storage.db import session_factory

    on = _date(date, "--date")
    why = validate_id(id_number)
    if why:
        fail(f"{mask_value(id_number)}：{why}", EXIT_USAGE)
    try:
        pol = load_policy(policy)
    except PolicyFileError as err:
        fail(f"政策错误：\n{err}", EXIT_USAGE)
    engine = open_existing(db)
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
    typer.echo(f"{answer.person} 在 {on.isoformat()} 适用类别：{answer.applied.zh}")
    for line in answer.why:
        typer.echo(line)
