"""What a simulation needs besides the claims: each person's district (区县) and weight.

A weight says how many people of the population a person of the sample stands for (a 1%
sample: 100). It comes from a ``weight`` column, of the claims file (every claim of a
person must carry the same) or of a persons file (``jiuzhu synth`` writes
``persons.parquet``; any Parquet, CSV or XLSX with ``person_id`` and ``district`` or
``weight``), times ``--scale``; ``--scale`` alone weights everyone alike. Weights are
kept as integer millionths (``analysis.simulation.WEIGHT_ONE``), at most six decimals.
The district is a GB/T 2260 code, from a ``district`` column of either file.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import polars as pl

from jiuzhu.domain.ids import mask_id
from jiuzhu.domain.money import round_half_up_div

WEIGHT_ONE = 1_000_000
MAX_WEIGHT = 10**9
"""A sanity bound (a person standing for a billion): beyond it a weight is a unit error."""
COLUMNS = ("district", "weight")
PERSON_HEADERS = {
    "person_id": "person_id",
    "参保人": "person_id",
    "身份证号": "person_id",
    "身份证号码": "person_id",
    "district": "district",
    "区县": "district",
    "行政区划代码": "district",
    "weight": "weight",
    "权重": "weight",
}


class AnalysisInputError(ValueError):
    """A weight, a district or a persons file that cannot be used (the reason in Chinese)."""


def parse_scale(text: str) -> int:
    """``--scale 27.5`` as millionths (27_500_000); positive, at most six decimals."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise AnalysisInputError(f"--scale 须为正数（如 100 或 27.5），而不是「{text}」") from None
    micro = value * WEIGHT_ONE
    if not value.is_finite() or value <= 0 or micro != micro.to_integral_value():
        raise AnalysisInputError(f"--scale 须为正数、最多六位小数，而不是「{text}」")
    if micro > MAX_WEIGHT * WEIGHT_ONE:
        raise AnalysisInputError(f"--scale {text} 过大（须不超过 {MAX_WEIGHT:,}）")
    return int(micro)


def weights_micro(column: pl.Series, where: str) -> pl.Series:
    """A weight column (integers, decimals or floats) as Int64 millionths; every weight
    must be given and positive."""
    dtype = column.dtype
    if dtype.is_integer():
        micro = column.cast(pl.Int64) * WEIGHT_ONE
    elif isinstance(dtype, pl.Decimal) or dtype.is_float():
        # a float weight is an estimate, not money: rounded to the millionth
        micro = (column.cast(pl.Float64) * WEIGHT_ONE).round(0).cast(pl.Int64)
    elif dtype == pl.Utf8:
        micro = (column.str.strip_chars().cast(pl.Float64, strict=False) * WEIGHT_ONE).round(0)
        micro = micro.cast(pl.Int64)
    else:
        raise AnalysisInputError(f"{where}的 weight 列须为数值")
    bad = micro.is_null() | (micro <= 0) | (micro > MAX_WEIGHT * WEIGHT_ONE)
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise AnalysisInputError(
            f"{where}第 {row} 行的 weight 须为正数（不超过 {MAX_WEIGHT:,}），"
            f"共 {int(bad.sum())} 行不符"
        )
    return micro.alias("w")


def read_persons(path: Path) -> pl.DataFrame:
    """A persons file as ``person_id`` and whichever of ``district``, ``w`` it has."""
    where = f"人员文件 {path.name} "
    if path.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError):
            raise AnalysisInputError(f"无法读取{where}（不是 Parquet 文件或已损坏）") from None
    elif path.suffix.lower() in (".csv", ".xlsx"):
        frame = _table(path, where)
    else:
        raise AnalysisInputError(f"{where}须为 .parquet、.csv 或 .xlsx 文件")
    frame = frame.rename({c: PERSON_HEADERS[c] for c in frame.columns if c in PERSON_HEADERS})
    if "person_id" not in frame.columns:
        raise AnalysisInputError(f"{where}没有 person_id（参保人）列")
    keep = [c for c in COLUMNS if c in frame.columns]
    if not keep:
        raise AnalysisInputError(f"{where}没有 district（区县）或 weight（权重）列")
    out = frame.select(pl.col("person_id").cast(pl.Utf8), *keep)
    if "weight" in keep:
        out = out.with_columns(weights_micro(out["weight"], where)).drop("weight")
    if "district" in keep:
        out = out.with_columns(pl.col("district").cast(pl.Utf8))
    repeated = out["person_id"].is_duplicated()
    if bool(repeated.any()):
        who = out["person_id"].filter(repeated)[0]
        raise AnalysisInputError(f"{where}中参保人 {mask_id(who)} 出现不止一次")
    return out


def _table(path: Path, where: str) -> pl.DataFrame:
    from jiuzhu.io.xlsx import TableFileError, read_rows

    try:
        rows = read_rows(path)
    except TableFileError as err:
        raise AnalysisInputError(f"无法读取{where}：{err}") from None
    if not rows:
        raise AnalysisInputError(f"{where}是空的")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    data = {
        name: pl.Series(name, [r[i] if i < len(r) else None for r in rows[1:]], strict=False)
        for i, name in enumerate(header)
        if name
    }
    return pl.DataFrame(data)


def per_claim(
    person_id: pl.Series,
    claims_extra: pl.DataFrame | None,
    persons: pl.DataFrame | None,
    scale: int | None,
) -> tuple[np.ndarray | None, pl.Series | None]:
    """Each claim's weight (millionths; None when nothing weights the sample) and district
    (None when nothing places the people), in the order of ``person_id``."""
    claims = pl.DataFrame({"person_id": person_id.cast(pl.Utf8)})
    if claims_extra is not None:
        claims = claims.hstack(claims_extra)
        if "weight" in claims.columns:
            claims = claims.with_columns(weights_micro(claims["weight"], "单据文件")).drop("weight")
            _one_weight_per_person(claims)
    if persons is not None:
        missing = [c for c in persons.columns if c != "person_id" and c not in claims.columns]
        claims = claims.join(
            persons.select("person_id", *missing), on="person_id", how="left", maintain_order="left"
        )
        if "w" in missing and bool(claims["w"].is_null().any()):
            who = claims.filter(pl.col("w").is_null())["person_id"][0]
            raise AnalysisInputError(f"人员文件中没有参保人 {mask_id(who)} 的权重")
    weight = claims["w"].to_numpy() if "w" in claims.columns else None
    if scale is not None:
        base = weight if weight is not None else np.full(claims.height, WEIGHT_ONE, np.int64)
        weight = np.array(
            [round_half_up_div(int(w) * scale, WEIGHT_ONE) for w in np.unique(base)],
            dtype=np.int64,
        )[np.searchsorted(np.unique(base), base)]
    district = claims["district"].cast(pl.Utf8) if "district" in claims.columns else None
    return weight, district


def _one_weight_per_person(claims: pl.DataFrame) -> None:
    varies = claims.group_by("person_id").agg(pl.col("w").n_unique().alias("n"))
    bad = varies.filter(pl.col("n") > 1)
    if bad.height:
        raise AnalysisInputError(
            f"参保人 {mask_id(bad['person_id'][0])} 的各笔单据权重不同（weight 须按人给出）"
        )
