"""``jiuzhu certificate``: category memberships from certificates (证书/证件).

A command of its own beside ``jiuzhu roster``, because certificates are issued one
person at a time with their own validity period (杭政办函〔2022〕70号 二(二)), not as
household lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiuzhu.cli.common import EXIT_DATA, EXIT_USAGE, fail
from jiuzhu.cli.registry_cmd import DbOpt, ErrorsFileOpt, errors_target, report_import
from jiuzhu.domain.ids import mask_ids_in

certificate_app = typer.Typer(
    help="证书（特困供养证、低保证、低边证、残疾人证等）的导入。", no_args_is_help=True
)


@certificate_app.command("import")
def certificate_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="证书文件（CSV 或 XLSX；列：证书编号、身份证号码、姓名、对象类别、"
            "发证日期/有效期起、有效期止、注销日期）"
        ),
    ],
    db: DbOpt = None,
    errors: ErrorsFileOpt = None,
) -> None:
    """导入证书：逐行校验，坏行写入错误文件，好行照常导入；同一文件重复导入不作更改。"""
    from jiuzhu.cli.database import open_for_import
    from jiuzhu.io.certificates import import_certificates, parse_certificates
    from jiuzhu.io.rosters import RosterFileError
    from jiuzhu.storage.db import session_factory

    if not file.is_file():
        fail(mask_ids_in(f"找不到文件 {file}"), EXIT_USAGE)
    errors_target(errors)
    try:
        parsed = parse_certificates(file)
    except RosterFileError as err:  # CertificateFileError included
        fail(mask_ids_in(str(err)), EXIT_DATA)
    engine = open_for_import(db)
    with session_factory(engine).begin() as session:
        result = import_certificates(session, parsed)
    engine.dispose()
    for note in result.notes:
        typer.echo(note)
    report_import("证书", file, result, errors)
