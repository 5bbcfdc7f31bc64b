"""``jiuzhu settle``: claims in (JSONL, Parquet, CSV, XLSX), settlements out (JSONL,
Parquet, CSV, XLSX), each chosen by the file's extension, by either engine.

Both engines give the same output for the same input, errors included: the
reference engine one claim at a time, the batch engine in vectors (ADR 7), on
one machine or, with ``--dask``, partitioned by person on a Dask cluster
(``jiuzhu.distributed``, docs/distributed.md).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jiuzhu.cli.common import (
    EXIT_DATA,
    EXIT_USAGE,
    InputOpt,
    OverrideOpt,
    PolicyOpt,
    SetOpt,
    fail,
    get_policy,
    read_input,
    report_errors,
    writable,
    written,
)

if TYPE_CHECKING:  # imported where used: `jiuzhu --help` and a one-claim JSONL settlement
    # must not pay for Polars and NumPy (docs/performance.md, "Start-up")
    import numpy as np
    import polars as pl

    from jiuzhu.batch_parts import Rejected
    from jiuzhu.domain.claims import Claim
    from jiuzhu.domain.engine.reference import ClaimRejected
    from jiuzhu.domain.engine.rules import CompiledPolicy
    from jiuzhu.domain.engine.settlement import Settlement
    from jiuzhu.io.claims import InputError, Parsed
    from jiuzhu.io.claims_columnar import ColumnarClaims
    from jiuzhu.io.registry_categories import RegistryCategories

    Outcome = tuple[pl.DataFrame | None, list[Settlement], list[InputError]]


class Engine(StrEnum):
    reference = "reference"
    batch = "batch"


EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        envvar="JIUZHU_ENGINE",
        help="reference：逐笔结算（默认）；batch：向量化批量结算，结果相同",
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="文件",
        help="输出文件，按扩展名：.jsonl（每行一个结算结果，含解释）、.parquet（表格）、"
        ".csv（UTF-8 带 BOM，Excel 可直接打开）、.xlsx（含合计和结算说明）；- 为标准输出（JSONL）",
    ),
]
OUTPUT_FORMATS = {".jsonl": "jsonl", ".parquet": "parquet", ".csv": "csv", ".xlsx": "xlsx"}
ERROR_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="local:进程数|tcp://主机:端口",
        help="按人分区在 Dask 集群上结算，结果相同（须 --engine batch，输入输出均为 .parquet）："
        "local:N 为本机 N 个进程；tcp://主机:8786 为已有集群，各节点须能以同一路径读取输入"
        "（见 docs/distributed.md）",
    ),
]
RegistryOpt = Annotated[
    str | None,
    typer.Option(
        "--registry",
        metavar="URL|文件",
        help="未给出救助对象类别（category/categories）的单据，按此登记库（数据库 URL 或 "
        "SQLite 文件）中此人的救助对象类别结算（与一站式结算服务相同）；"
        "登记库中没有的人按普通参保人员",
    ),
]
ErrorsOpt = Annotated[
    Path | None,
    typer.Option(
        "--errors",
        metavar="文件",
        help="另将错误写入此文件，按扩展名：.jsonl（line、claim_id、field、message）、"
        ".csv 或 .xlsx（行号、单据号、字段、原因）",
    ),
]


def is_parquet(path: str) -> bool:
    return path.lower().endswith(".parquet")


def file_format(path: str, formats: dict[str, str], option: str) -> str:
    """The format a file's extension names, or the command stops saying which ones exist."""
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        shown = f"「{suffix}」" if suffix else "（没有扩展名）"
        fail(
            f"{option} 的文件类型{shown}不受支持：须以 {'、'.join(formats)} 结尾"
            + ("，或为 -（标准输出）" if option == "--output" else "")
        )
    return formats[suffix]


def settle(
    policy: PolicyOpt,
    input: InputOpt = "-",
    output: OutputOpt = "-",
    engine: EngineOpt = Engine.reference,
    override: OverrideOpt = None,
    set_: SetOpt = None,
    errors_file: ErrorsOpt = None,
    dask: DaskOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """结算单据：结果按输入顺序写出（默认每行一个 JSON 到标准输出），错误写到标准错误。"""
    from jiuzhu.io.claims_table import is_table

    out_format = file_format(output, OUTPUT_FORMATS, "--output")
    if errors_file is not None:
        file_format(str(errors_file), ERROR_FORMATS, "--errors")
        writable(errors_file, "错误文件")
    if output != "-":
        writable(output, "输出文件")
    if registry is not None and is_parquet(input):
        fail("--registry 只用于 JSONL、CSV 和 XLSX 输入（Parquet 单据须自带类别列）", EXIT_USAGE)
    cluster = _dask_target(dask, engine, input, output) if dask is not None else None
    compiled = get_policy(policy, override, set_)
    table_out = out_format in ("parquet", "csv")
    streamed = False
    if cluster is not None:
        result = _on_dask(compiled, policy, override, set_, input, cluster)
    elif is_parquet(input):
        from jiuzhu.io.polars_allocator import keep_freed_memory

        keep_freed_memory()  # before Polars is imported: a large file frees gigabytes
        from jiuzhu.io.claims_columnar import ColumnarInputError, read_parquet

        try:
            cc = read_parquet(input)
        except ColumnarInputError as err:
            fail(f"输入错误：{err}")
        if engine is Engine.batch and out_format == "parquet" and output != "-":
            streamed = True  # written part by part while the next parts settle
            result = _stream_parquet(compiled, cc, Path(output))
        else:
            result = _from_columns(compiled, cc, engine, table_out)
    elif is_table(input):
        result = _from_table(compiled, Path(input), engine, table_out, registry_hook(registry))
    else:
        result = _from_jsonl(
            compiled, read_input(input), engine, table_out, registry_hook(registry)
        )
    frame, settlements, errors = result
    if not streamed:
        _write(out_format, output, compiled, frame, settlements)
    errors.sort(key=lambda e: e.line)
    report_errors(errors)
    if errors_file is not None:
        with written(errors_file, "错误文件") as tmp:
            write_errors(tmp, errors, ERROR_FORMATS[errors_file.suffix.lower()])
    if errors:
        raise typer.Exit(EXIT_DATA)


def _write(
    out_format: str,
    output: str,
    compiled: CompiledPolicy,
    frame: pl.DataFrame | None,
    settlements: list[Settlement],
) -> None:
    """Write the settlements in the format the output's extension names."""
    if output == "-":
        for s in settlements:
            sys.stdout.write(json.dumps(s.to_json(), ensure_ascii=False, separators=(",", ":")))
            sys.stdout.write("\n")
        sys.stdout.flush()
        return
    from jiuzhu.io import settlements_columnar, settlements_table

    target = Path(output)
    with written(target, "输出文件") as tmp:
        if out_format == "jsonl":
            with tmp.open("w", encoding="utf-8") as out:
                for s in settlements:
                    out.write(json.dumps(s.to_json(), ensure_ascii=False, separators=(",", ":")))
                    out.write("\n")
        elif out_format == "parquet":
            assert frame is not None
            settlements_columnar.write(frame, tmp)
        elif out_format == "csv":
            assert frame is not None
            settlements_table.write_csv(frame, tmp)
        else:
            from jiuzhu.domain.clock import now_text
            from jiuzhu.io.xlsx import TooManyRows

            policy = compiled.policy
            title = f"结算结果：{policy.name}（{policy.id}），制表时间 {now_text()}"
            try:
                settlements_table.write_xlsx(
                    settlements_columnar.from_settlements(settlements),
                    settlements,
                    tmp,
                    title,
                )
            except TooManyRows as err:
                fail(f"{err}：请改用 .csv 或 .parquet 输出", EXIT_USAGE)


def write_errors(path: Path, errors: list[InputError], kind: str) -> None:
    """The errors as JSON lines (the contract's keys) or a table for people."""
    if kind == "jsonl":
        path.write_text(
            "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in errors),
            encoding="utf-8",
        )
        return
    from jiuzhu.io.claims import field_label
    from jiuzhu.io.xlsx import Column, Sheet, write_csv, write_xlsx

    sheet = Sheet(
        "错误",
        [Column("行号", "integer"), Column("单据号"), Column("字段"), Column("原因", "wrap")],
        [[e.line, e.claim_id, field_label(e.field) or None, e.message] for e in errors],
    )
    if kind == "csv":
        write_csv(path, sheet)
    else:
        write_xlsx(path, [sheet])


def _dask_target(spec: str, engine: Engine, input: str, output: str) -> tuple[str | None, int]:
    """``--dask`` as (scheduler address or None for a local cluster, local workers)."""
    if engine is not Engine.batch:
        fail("--dask 只能与 --engine batch 一起使用")
    if not (is_parquet(input) and is_parquet(output)):
        fail("--dask 要求输入和输出都是 Parquet 文件（--input 与 --output 以 .parquet 结尾）")
    if "://" in spec:
        return spec, 0
    name, _, count = spec.partition(":")
    if name == "local" and count.isascii() and count.isdigit() and int(count) >= 1:
        return None, int(count)
    fail(
        f"--dask 取值无效：{spec!r}；须为 local:N（N 为本机工作进程数，至少 1）"
        "或调度器地址（如 tcp://主机:8786）"
    )


def _on_dask(
    compiled: CompiledPolicy,
    policy: str,
    override: list[Path] | None,
    set_: list[str] | None,
    input: str,
    cluster: tuple[str | None, int],
) -> Outcome:
    from jiuzhu.distributed import ClusterError, settle_parquet_distributed
    from jiuzhu.io.claims_columnar import ColumnarInputError

    scheduler, workers = cluster
    try:
        frame, errors = settle_parquet_distributed(
            policy,
            override,
            set_,
            input,
            scheduler=scheduler,
            workers=max(workers, 1),
            compiled=compiled,
        )
    except ColumnarInputError as err:
        fail(f"输入错误：{err}")
    except ClusterError as err:
        fail(str(err))
    return frame, [], errors


def _split(
    results: list[Settlement | ClaimRejected], lines: list[int]
) -> tuple[list[Settlement], list[InputError]]:
    from jiuzhu.domain.engine.reference import ClaimRejected
    from jiuzhu.io.claims import InputError

    settled: list[Settlement] = []
    errors: list[InputError] = []
    for r, line in zip(results, lines, strict=True):
        if isinstance(r, ClaimRejected):
            errors.append(InputError(line, r.claim_id, r.field, r.message))
        else:
            settled.append(r)
    return settled, errors


def registry_hook(url: str | None) -> RegistryCategories | None:
    """The registry's categories for claims that give none, read in bulk up front."""
    if url is None:
        return None
    from jiuzhu.cli.database import open_existing
    from jiuzhu.io.registry_categories import RegistryCategories

    return RegistryCategories(open_existing(url))  # never a new, empty database


def _from_jsonl(
    compiled: CompiledPolicy,
    text: list[str],
    engine: Engine,
    table_out: bool,
    registry: RegistryCategories | None = None,
) -> Outcome:
    from jiuzhu.io.claims import parse_lines

    if registry is not None:
        registry.prefetch(_decoded(text))
        registry.engine.dispose()
    return _settle_parsed(compiled, parse_lines(text, registry), engine, table_out)


def _settle_parsed(
    compiled: CompiledPolicy, parsed: Parsed, engine: Engine, table_out: bool
) -> Outcome:
    from jiuzhu.domain.engine.reference import settle_claims

    claims = [c for _, c in parsed.claims]
    lines = [n for n, _ in parsed.claims]
    if engine is Engine.batch and table_out:
        import polars as pl

        from jiuzhu.domain.engine.batch import REJECT_NONE, settle_columns
        from jiuzhu.domain.engine.columns import from_claims
        from jiuzhu.io import settlements_columnar

        cols, _ = from_claims(claims)
        res = settle_columns(compiled, cols)
        ok = res.reject == REJECT_NONE
        frame = settlements_columnar.from_batch(
            pl.Series([c.claim_id for c in claims], dtype=pl.Utf8),
            pl.Series([c.person_id for c in claims], dtype=pl.Utf8),
            compiled.policy.id,
            cols.total,
            res,
            ok,
        )
        errors = _batch_errors(compiled, claims, lines, res.reject, res.reject_left)
        return frame, [], parsed.errors + errors
    if engine is Engine.batch:
        from jiuzhu.domain.engine import explain

        results = explain.settle_claims(compiled, claims)
    else:
        results = settle_claims(compiled, claims)
    settled, errors = _split(results, lines)
    return _table(settled) if table_out else None, settled, parsed.errors + errors


def _table(settled: list[Settlement]) -> pl.DataFrame:
    from jiuzhu.io import settlements_columnar

    return settlements_columnar.from_settlements(settled)


def _from_table(
    compiled: CompiledPolicy,
    path: Path,
    engine: Engine,
    table_out: bool,
    registry: RegistryCategories | None = None,
) -> Outcome:
    """Claims from a CSV or XLSX table with Chinese headers (``io.claims_table``)."""
    from jiuzhu.io.claims import parse_records
    from jiuzhu.io.claims_table import ClaimsTableError, read_records

    try:
        records, cell_errors = read_records(path)
    except ClaimsTableError as err:
        fail(f"输入错误：{err}")
    if registry is not None:
        registry.prefetch([r for _, r in records])
        registry.engine.dispose()
    parsed = parse_records(records, registry)
    parsed.errors = cell_errors + parsed.errors  # sorted by row with the rest
    return _settle_parsed(compiled, parsed, engine, table_out)


def _decoded(text: list[str]) -> list[Any]:
    from jiuzhu.io.errors import JsonLineError, read_json_line

    out = []
    for line in text:
        try:
            out.append(read_json_line(line))
        except JsonLineError:
            continue  # parse_lines reports it
    return out


def _batch_errors(
    compiled: CompiledPolicy,
    claims: list[Claim],
    lines: list[int],
    reject: np.ndarray,
    reject_left: np.ndarray,
) -> list[InputError]:
    """The batch engine's rejections, worded as the reference engine words them."""
    import numpy as np

    from jiuzhu.domain.engine.batch import REJECT_NONE, REJECT_NOT_IN_FORCE
    from jiuzhu.domain.engine.reference import not_in_force, other_too_large
    from jiuzhu.io.claims import InputError

    out = []
    for i in np.flatnonzero(reject != REJECT_NONE):
        claim = claims[i]
        if reject[i] == REJECT_NOT_IN_FORCE:
            r = not_in_force(compiled.policy, claim)
        else:
            r = other_too_large(claim, int(reject_left[i]))
        out.append(InputError(lines[i], r.claim_id, r.field, r.message))
    return out


def _stream_parquet(compiled: CompiledPolicy, cc: ColumnarClaims, output: Path) -> Outcome:
    """Parquet to Parquet by the batch engine: settled in parts of whole persons, each part
    written as the next ones settle (``batch_parts.write_parquet``)."""
    from jiuzhu.batch_parts import write_parquet

    with written(output, "输出文件") as tmp:
        rejected = write_parquet(compiled, cc, tmp)
    return None, [], cc.errors + _rejections(compiled, cc, rejected)


def _rejections(
    compiled: CompiledPolicy, cc: ColumnarClaims, rejected: Rejected
) -> list[InputError]:
    """The engine's rejections of a columnar table's rows, in the reference engine's words."""
    from jiuzhu.io.claims_columnar import ColumnarClaims, to_claims

    bad = rejected.index
    claims = ColumnarClaims(
        cc.cols.take(bad), cc.claim_id.gather(bad), cc.person_id.gather(bad), cc.row[bad], []
    )
    return _batch_errors(
        compiled, to_claims(claims), cc.row[bad].tolist(), rejected.reject, rejected.reject_left
    )


def _from_columns(
    compiled: CompiledPolicy, cc: ColumnarClaims, engine: Engine, table_out: bool
) -> Outcome:
    from jiuzhu.domain.engine import explain
    from jiuzhu.domain.engine.batch import settle_columns
    from jiuzhu.domain.engine.reference import settle_claims
    from jiuzhu.io.claims_columnar import to_claims

    lines = cc.row.tolist()
    if engine is Engine.batch and table_out:
        from jiuzhu.batch_parts import settle_table

        frame, rejected = settle_table(compiled, cc)  # parts of whole persons, two at a time
        return frame, [], cc.errors + _rejections(compiled, cc, rejected)
    claims = to_claims(cc)
    if engine is Engine.batch:
        res = settle_columns(compiled, cc.cols, snapshots=True)
        results = explain.settlements(compiled, claims, res)
    else:
        results = settle_claims(compiled, claims)
    settled, errors = _split(results, lines)
    return _table(settled) if table_out else None, settled, cc.errors + errors
