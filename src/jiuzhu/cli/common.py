"""What the commands share: loading a policy with overrides, reading input, errors.

Imported by every command, also for ``jiuzhu --help``: so it imports the domain, the
file readers and pydantic only inside the functions that need them (docs/performance.md,
"Start-up").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from jiuzhu.domain.engine.rules import CompiledPolicy
    from jiuzhu.domain.engine.settlement import Settlement
    from jiuzhu.io.claims import InputError

PolicyOpt = Annotated[
    str, typer.Option("--policy", "-p", help="政策 ID（如 liaocheng-2023）或政策文件路径")
]
InputOpt = Annotated[
    str,
    typer.Option(
        "--input",
        "-i",
        metavar="文件",
        help="单据文件，按扩展名：.jsonl（每行一个 JSON 对象）、.parquet、.csv 或 .xlsx"
        "（中文表头，见 jiuzhu template claims）；- 为标准输入（JSONL）",
    ),
]
OverrideOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--override", help="覆盖政策取值的 YAML 文件（可多次）", exists=True, dir_okay=False
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="位置=取值",
        help="覆盖单个取值，如 benefits.medical_assistance.schedules.near_poor.rate=60%（可多次）",
    ),
]

EXIT_DATA = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _spaced(what: str) -> str:
    """``JSON 文件`` after 无法写入 with a space, as Chinese text sets Latin words apart."""
    return f" {what}" if what[:1].isascii() else what


def writable(path: str | Path, what: str) -> Path:
    """``path`` if a file can be written there; otherwise the command stops, saying why,
    before any work is done."""
    from jiuzhu.io.oserrors import unwritable

    target = Path(path)
    why = unwritable(target)
    if why is not None:
        fail(f"无法写入{_spaced(what)} {target}：{why}", EXIT_USAGE)
    return target


@contextmanager
def written(path: Path, what: str) -> Iterator[Path]:
    """A temporary file beside ``path`` to write into; it becomes ``path`` when the block
    ends, so a reader never sees half a file, and a failure (a full disk) leaves no file
    and says why in Chinese."""
    from jiuzhu.io.oserrors import reason

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        fail(f"无法写入{_spaced(what)} {path}：{reason(err)}", EXIT_USAGE)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def get_policy(ref: str, overrides: list[Path] | None, sets: list[str] | None) -> CompiledPolicy:
    """The compiled policy, refusing one that breaks its province framework.

    Settling under a city policy below the province's floors would pay people less
    than the province requires, so it is an error, not a warning. A policy read and
    checked once is kept compiled for the next run (``io/policy_cache``, ADR 21).
    """
    from jiuzhu.io.policy_cache import kept

    args = (ref, overrides or [], sets or [])
    compiled = kept(*args) or _read_checked(*args)
    if compiled.changes:
        typer.echo(
            f"注意：政策 {compiled.policy.id} 按调整后的取值使用，与发布的政策文件不同：\n  "
            + "\n  ".join(compiled.changes),
            err=True,
        )
    return compiled


def _read_checked(ref: str, overrides: list[Path], sets: list[str]) -> CompiledPolicy:
    """The policy read from its files and checked against its framework, then kept."""
    from jiuzhu.io.policy_cache import keep
    from jiuzhu.io.policy_files import PolicyFileError, load_compiled, load_framework
    from jiuzhu.io.policy_paths import recording

    try:
        with recording() as reading:
            compiled = load_compiled(ref, overrides, sets)
            policy = compiled.policy
            if policy.framework is not None:
                from jiuzhu.domain.policy.constraints import check

                broken = check(compiled, load_framework(policy.framework))
                if broken:
                    lines = [f"  {v.constraint}（{v.clause}）{v.text}：{v.detail}" for v in broken]
                    fail(
                        f"政策 {policy.id} 不符合省级框架 {policy.framework}：\n"
                        + "\n".join(lines)
                        + "\n（详见 jiuzhu policy check）"
                    )
    except PolicyFileError as err:
        fail(f"政策错误：\n{err}")
    keep(ref, overrides, sets, reading, compiled)
    return compiled


def read_input(path: str) -> list[str]:
    # utf-8-sig: files saved by Notepad or Excel start with a BOM.
    if path == "-":
        return sys.stdin.read().removeprefix("\ufeff").splitlines()
    try:
        return Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as err:
        from jiuzhu.io.oserrors import reason

        fail(f"无法读取输入文件 {path}：{reason(err)}")
    except UnicodeDecodeError:
        fail(f"输入文件 {path} 不是 UTF-8 编码")


def settle_input(
    compiled: CompiledPolicy, lines: list[str]
) -> tuple[list[Settlement], list[InputError]]:
    """Parse and settle; the good claims settle even when others are bad."""
    from jiuzhu.domain.engine.reference import ClaimRejected, settle_claims
    from jiuzhu.io.claims import InputError, parse_lines

    parsed = parse_lines(lines)
    errors = list(parsed.errors)
    settlements: list[Settlement] = []
    line_of = {claim.claim_id: n for n, claim in parsed.claims}
    results = settle_claims(compiled, [c for _, c in parsed.claims])
    for result in results:
        if isinstance(result, ClaimRejected):
            errors.append(
                InputError(line_of[result.claim_id], result.claim_id, result.field, result.message)
            )
        else:
            settlements.append(result)
    errors.sort(key=lambda e: e.line)
    return settlements, errors


def report_errors(errors: list[InputError]) -> None:
    for e in errors:
        typer.echo(e.render(), err=True)
    if errors:
        typer.echo(f"共 {len(errors)} 处错误；其余单据已正常结算。", err=True)
