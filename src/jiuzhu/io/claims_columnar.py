"""Claims from Parquet (or any Polars frame) into checked ``ClaimColumns``.

The same contract and the same checks as the JSONL reader (``io.claims``), done
column-wise: a bad row is reported with its row number, claim and field, in
Chinese, and the good rows still settle. Money columns are Decimal yuan (ADR 6);
a float money column is refused outright, since it cannot promise the fen.

Differences from JSONL, documented in the README: a row whose ``category`` and
``categories`` are both null is an ordinary insured person (how an extract
without roster data looks), and pre-settled insurance is two flat columns
``basic_insurance`` and ``critical_illness_insurance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from jiuzhu.domain.claims import CategorySpan, Claim, PreSettled
from jiuzhu.domain.engine.columns import (
    CATEGORIES,
    CATEGORY_CODE,
    OPEN_FROM,
    OPEN_TO,
    VISIT_CODE,
    ClaimColumns,
    date_of,
)
from jiuzhu.domain.money import Fen, format_yuan
from jiuzhu.domain.vocabulary import (
    CATEGORY_ALIASES,
    CATEGORY_ZH,
    VISIT_ALIASES,
    VISIT_ZH,
    Category,
    VisitType,
)
from jiuzhu.io.claims import (
    BOTH_CATEGORIES,
    MAX_CLAIM_FEN,
    SPAN_REVERSED,
    InputError,
    split_mismatch,
    unknown_category,
    unknown_visit,
)

MONEY_COLUMNS = ("total", "full_self_pay", "partial_self_pay", "policy_scope")
OPTIONAL_MONEY = ("other_payments", "basic_insurance", "critical_illness_insurance")
REQUIRED = (
    "claim_id",
    "person_id",
    "visit_type",
    "settlement_date",
    "admission_date",
    "hospital_level",
    "referred",
    *MONEY_COLUMNS,
)
FLAGS = ("out_of_area", "out_of_area_filed", "quota_hospital", "late_stage")
KNOWN = {*REQUIRED, *OPTIONAL_MONEY, *FLAGS, "disease", "category", "categories"}


class ColumnarInputError(ValueError):
    """The file as a whole cannot be read (missing or mistyped columns)."""


# Chinese names and short names people write, to the identifiers (as in JSON lines)
CATEGORY_TEXT = {
    **{zh: c.value for c, zh in CATEGORY_ZH.items()},
    **{alias: c.value for alias, c in CATEGORY_ALIASES.items()},
}
VISIT_TEXT = {
    **{zh: v.value for v, zh in VISIT_ZH.items()},
    **{alias: v.value for alias, v in VISIT_ALIASES.items()},
}


def parquet_reason(err: Exception) -> str:
    """Why a Parquet file could not be read, in Chinese (Polars says it in English)."""
    if isinstance(err, FileNotFoundError):
        return "找不到文件"
    if isinstance(err, OSError):
        from jiuzhu.io.oserrors import reason

        return reason(err)
    return "文件已损坏或不是 Parquet 格式"


def type_zh(dtype: pl.DataType) -> str:
    """A column type as a person calls it (Polars names its types in English)."""
    if isinstance(dtype, pl.Decimal):
        return "定点小数"
    if dtype.is_float():
        return "浮点数"
    if dtype.is_integer():
        return "整数"
    if dtype == pl.Boolean:
        return "布尔值（是/否）"
    if dtype in (pl.Utf8, pl.Categorical):
        return "文本"
    if dtype == pl.Date:
        return "日期"
    if dtype.is_temporal():
        return "日期时间"
    if isinstance(dtype, pl.List):
        return "列表"
    if isinstance(dtype, pl.Struct):
        return "结构"
    if dtype == pl.Null:
        return "空值"
    return "其他类型"


@dataclass(slots=True)
class ColumnarClaims:
    """The good rows as columns, their ids and row numbers, and the bad rows' errors."""

    cols: ClaimColumns
    claim_id: pl.Series
    person_id: pl.Series
    row: np.ndarray  # 1-based row number in the file of each good row
    errors: list[InputError]

    def __len__(self) -> int:
        return len(self.cols)


def read_parquet(path: str | Path) -> ColumnarClaims:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as err:
        raise ColumnarInputError(f"无法读取 Parquet 文件 {path}：{parquet_reason(err)}") from None
    return from_frame(frame)


def _schema(frame: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ColumnarInputError("缺少必需的列：" + "、".join(missing))
    unknown = [c for c in frame.columns if c not in KNOWN]
    if unknown:
        raise ColumnarInputError("未知的列：" + "、".join(unknown))
    for name in (*MONEY_COLUMNS, *OPTIONAL_MONEY):
        if name in frame.columns and not isinstance(frame.schema[name], pl.Decimal):
            raise ColumnarInputError(
                f"金额列 {name} 须为定点小数（Decimal，元，两位小数），"
                f"实际为{type_zh(frame.schema[name])}"
            )
    for name in ("settlement_date", "admission_date"):
        if frame.schema[name] != pl.Date:
            raise ColumnarInputError(
                f"日期列 {name} 须为日期类型，实际为{type_zh(frame.schema[name])}"
            )


def _fen(frame: pl.DataFrame, name: str) -> pl.Series:
    """Decimal yuan → Int64 fen (null stays null); more than two places is refused."""
    col = frame[name]
    scale = col.dtype.scale if isinstance(col.dtype, pl.Decimal) else 2
    if scale is not None and scale > 2:
        scaled = col.cast(pl.Decimal(38, scale)) * 100
        whole = scaled.cast(pl.Int64)
        if not (whole.cast(pl.Decimal(38, scale)) == scaled).fill_null(True).all():
            raise ColumnarInputError(f"金额列 {name} 含有超过两位小数的值")
        return whole
    return (col.cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64)


def _repeats(ids: pl.Series) -> np.ndarray:
    """Rows whose claim_id appeared on an earlier row.

    Hashes first (fast, and equal ids have equal hashes); only rows sharing a
    hash are compared as strings, so a collision never rejects a good row.
    """
    out = np.zeros(ids.len(), bool)
    h = ids.hash().to_numpy()
    hs = np.sort(h)
    shared = np.unique(hs[1:][hs[1:] == hs[:-1]])
    if shared.size == 0:
        return out
    seen: set[object] = set()
    values = ids.to_list()
    for i in np.flatnonzero(np.isin(h, shared)):
        v = values[i]
        if v is not None and v in seen:
            out[i] = True
        seen.add(v)
    return out


class _Errors:
    def __init__(self, frame: pl.DataFrame) -> None:
        self.claim_id = frame["claim_id"]
        self.bad = np.zeros(frame.height, bool)
        self.found: list[InputError] = []

    def add(self, mask: np.ndarray | pl.Series, field: str, message: str | list[str]) -> None:
        m = mask.to_numpy() if isinstance(mask, pl.Series) else mask
        m = np.asarray(m, dtype=bool)
        rows = np.flatnonzero(m)
        if rows.size == 0:
            return
        ids = self.claim_id.gather(rows).cast(pl.Utf8, strict=False).to_list()
        for k, i in enumerate(rows):
            text = message if isinstance(message, str) else message[k]
            cid = ids[k] if isinstance(ids[k], str) and ids[k] else None
            self.found.append(InputError(int(i) + 1, cid, field, text))
        self.bad |= m


def from_frame(frame: pl.DataFrame) -> ColumnarClaims:
    """Check every row; return the good ones as columns and an error per bad field."""
    _schema(frame)
    n = frame.height
    e = _Errors(frame)
    for name in ("claim_id", "person_id"):
        s = frame[name].cast(pl.Utf8, strict=False)
        length = s.str.len_chars()
        e.add(s.is_null() | (length == 0), name, "不能为空")
        e.add((length > 64).fill_null(False), name, "长度不能超过 64 个字符")
    e.add(_repeats(frame["claim_id"]), "claim_id", "重复的 claim_id（与前面的行相同）")

    visit = frame["visit_type"].cast(pl.Utf8, strict=False)
    visit = visit.replace(VISIT_TEXT)  # 住院 → inpatient
    known_visit = visit.is_in([v.value for v in VisitType]).fill_null(False)
    e.add(~known_visit, "visit_type", [unknown_visit(v) for v in visit.filter(~known_visit)])
    level = frame["hospital_level"].cast(pl.Int64, strict=False)
    e.add(~level.is_in([1, 2, 3]).fill_null(False), "hospital_level", "须为 1、2、3 级医院")
    referred = frame["referred"]
    if referred.dtype != pl.Boolean:
        raise ColumnarInputError(
            f"列 referred 须为布尔值（是/否），实际为{type_zh(referred.dtype)}"
        )
    e.add(referred.is_null(), "referred", "须为 true 或 false")
    settle, admit = frame["settlement_date"], frame["admission_date"]
    e.add(settle.is_null(), "settlement_date", "不能为空")
    e.add(admit.is_null(), "admission_date", "不能为空")
    late = (admit > settle).fill_null(False)
    e.add(
        late,
        "admission_date",
        [
            f"入院日期 {a} 晚于结算日期 {s}"
            for a, s in zip(admit.filter(late), settle.filter(late), strict=True)
        ],
    )

    money = {name: _fen(frame, name) for name in MONEY_COLUMNS}
    for name in OPTIONAL_MONEY:
        if name in frame.columns:
            money[name] = _fen(frame, name)
    for name in MONEY_COLUMNS:
        e.add(money[name].is_null(), name, "不能为空")
    for name, s in money.items():
        e.add((s < 0).fill_null(False), name, "金额不能为负数")
        e.add(
            (s >= MAX_CLAIM_FEN).fill_null(False),
            name,
            f"金额超出上限（须小于 {format_yuan(MAX_CLAIM_FEN)} 元），请核对单位",
        )
    total = money["total"].fill_null(0).to_numpy()
    full = money["full_self_pay"].fill_null(0).to_numpy()
    partial = money["partial_self_pay"].fill_null(0).to_numpy()
    scope = money["policy_scope"].fill_null(0).to_numpy()
    parts = full + partial + scope
    wrong = parts != total
    e.add(
        wrong,
        "total",
        [split_mismatch(int(t), int(s)) for t, s in zip(total[wrong], parts[wrong], strict=True)],
    )
    other = money.get("other_payments", pl.Series([0] * n)).fill_null(0).to_numpy()
    bi_col = money.get("basic_insurance", pl.Series([None] * n, dtype=pl.Int64))
    cii_col = money.get("critical_illness_insurance", pl.Series([None] * n, dtype=pl.Int64))
    half = (bi_col.is_null() != cii_col.is_null()).to_numpy()
    e.add(half, "insurance", "basic_insurance 与 critical_illness_insurance 须同时给出或同时为空")
    has_ins = (~bi_col.is_null() & ~cii_col.is_null()).to_numpy()
    bi = bi_col.fill_null(0).to_numpy()
    cii = cii_col.fill_null(0).to_numpy()
    over = has_ins & (bi + cii > scope)
    e.add(over, "insurance", "基本医保与大病保险合计超过政策范围内费用")
    e.add(
        has_ins & ~over & (other > total - bi - cii),
        "other_payments",
        "其他支付超过保险报销后剩余费用",
    )
    e.add(~has_ins & (other > total), "other_payments", "其他支付超过总费用")

    flags = {}
    for name in FLAGS:
        if name in frame.columns:
            if frame[name].dtype != pl.Boolean:
                raise ColumnarInputError(
                    f"列 {name} 须为布尔值（是/否），实际为{type_zh(frame[name].dtype)}"
                )
            flags[name] = frame[name].fill_null(False).to_numpy()
        else:
            flags[name] = np.zeros(n, bool)
    e.add(
        flags["out_of_area_filed"] & ~flags["out_of_area"],
        "out_of_area_filed",
        "只有异地就医（out_of_area: true）才有备案",
    )
    disease = (
        frame["disease"].cast(pl.Utf8, strict=False)
        if "disease" in frame.columns
        else pl.Series([None] * n, dtype=pl.Utf8)
    )
    e.add((disease.str.len_chars() > 100).fill_null(False), "disease", "长度不能超过 100 个字符")
    spans = _spans(frame, e)

    good = np.flatnonzero(~e.bad)
    dcodes, dnames = _codes(disease.gather(good))
    pcodes, _ = _codes(frame["person_id"].cast(pl.Utf8).gather(good), names=False)
    remap = np.full(n, -1, np.int64)
    remap[good] = np.arange(good.size)
    keep = remap[spans[0]] >= 0
    cols = ClaimColumns(
        person=pcodes.astype(np.int64),
        visit=visit.gather(good)
        .replace_strict({v.value: c for v, c in VISIT_CODE.items()}, return_dtype=pl.Int8)
        .to_numpy(),
        settle_day=settle.gather(good).cast(pl.Int32).to_numpy(),
        admit_day=admit.gather(good).cast(pl.Int32).to_numpy(),
        level=level.gather(good).cast(pl.Int8).to_numpy(),
        referred=referred.gather(good).to_numpy().astype(bool),
        total=total[good],
        policy_scope=scope[good],
        other=other[good],
        has_insurance=has_ins[good],
        bi_given=bi[good],
        cii_given=cii[good],
        disease=dcodes.astype(np.int32),
        disease_names=tuple(dnames),
        out_of_area=flags["out_of_area"][good],
        out_of_area_filed=flags["out_of_area_filed"][good],
        quota_hospital=flags["quota_hospital"][good],
        late_stage=flags["late_stage"][good],
        span_claim=remap[spans[0][keep]],
        span_category=spans[1][keep],
        span_from=spans[2][keep],
        span_to=spans[3][keep],
        span_applied=spans[4][keep],
    )
    errors = sorted(e.found, key=lambda x: x.line)
    return ColumnarClaims(
        cols,
        frame["claim_id"].cast(pl.Utf8).gather(good),
        frame["person_id"].cast(pl.Utf8).gather(good),
        good + 1,
        errors,
    )


def _codes(s: pl.Series, names: bool = True) -> tuple[np.ndarray, list[str]]:
    """Dense integer codes for a string column (null: -1) and, if asked, the distinct values."""
    if s.len() == 0:
        return np.zeros(0, np.int64), []
    dense = s.rank("dense").fill_null(0).cast(pl.Int64).to_numpy() - 1
    return dense, s.drop_nulls().unique().sort().to_list() if names else []


def _spans(
    frame: pl.DataFrame, e: _Errors
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Category spans as flat arrays (claim row, category, from, to, applied)."""
    n = frame.height
    pieces: list[pl.DataFrame] = []
    has_one = "category" in frame.columns
    has_list = "categories" in frame.columns
    if has_one and has_list:
        both = (~frame["category"].is_null() & ~frame["categories"].is_null()).to_numpy()
        e.add(both, "category", BOTH_CATEGORIES)
    if has_one:
        one = pl.DataFrame(
            {
                "row": np.arange(n),
                "category": frame["category"].cast(pl.Utf8, strict=False),
                "valid_from": pl.Series([None] * n, dtype=pl.Date),
                "valid_to": pl.Series([None] * n, dtype=pl.Date),
                "applied_on": pl.Series([None] * n, dtype=pl.Date),
            }
        ).filter(pl.col("category").is_not_null())
        pieces.append(one)
    if has_list:
        lst = frame["categories"]
        empty = (lst.list.len() == 0).fill_null(False).to_numpy()
        e.add(empty, "categories", "不能为空列表")
        flat = (
            pl.DataFrame({"row": np.arange(n), "categories": lst})
            .filter(pl.col("categories").is_not_null())
            .explode("categories")
            .filter(pl.col("categories").is_not_null())
            .unnest("categories")
        )
        for name in ("valid_from", "valid_to", "applied_on"):
            if name not in flat.columns:
                flat = flat.with_columns(pl.lit(None, dtype=pl.Date).alias(name))
        pieces.append(
            flat.select(
                "row",
                pl.col("category").cast(pl.Utf8, strict=False),
                pl.col("valid_from").cast(pl.Date),
                pl.col("valid_to").cast(pl.Date),
                pl.col("applied_on").cast(pl.Date),
            )
        )
    if not pieces:
        z = np.zeros(0, np.int64)
        return z, z.astype(np.int8), z.astype(np.int32), z.astype(np.int32), z.astype(np.int32)
    spans = pl.concat(pieces)
    spans = spans.with_columns(pl.col("category").replace(CATEGORY_TEXT))  # 低保 → dibao
    known = spans["category"].is_in([c.value for c in Category]).fill_null(False)
    bad = spans.filter(~known)
    mask = np.zeros(n, bool)
    mask[bad["row"].to_numpy()] = True
    names = {int(r): c for r, c in zip(bad["row"], bad["category"], strict=True)}
    e.add(mask, "categories", [unknown_category(names[int(i)]) for i in np.flatnonzero(mask)])
    reversed_ = spans.filter(pl.col("valid_to") < pl.col("valid_from"))
    mask = np.zeros(n, bool)
    mask[reversed_["row"].to_numpy()] = True
    e.add(mask, "categories", SPAN_REVERSED)
    applied = spans["applied_on"]
    late = spans.filter(
        applied.is_not_null() & (pl.col("valid_from").is_null() | (applied > pl.col("valid_from")))
    )
    mask = np.zeros(n, bool)
    mask[late["row"].to_numpy()] = True
    e.add(mask, "categories", "申请日期 applied_on 须不晚于认定日期 valid_from")
    spans = spans.filter(known)
    return (
        spans["row"].to_numpy().astype(np.int64),
        spans["category"]
        .replace_strict({c.value: k for c, k in CATEGORY_CODE.items()}, return_dtype=pl.Int8)
        .to_numpy(),
        spans["valid_from"].cast(pl.Int32).fill_null(OPEN_FROM).to_numpy(),
        spans["valid_to"].cast(pl.Int32).fill_null(OPEN_TO).to_numpy(),
        spans["applied_on"].cast(pl.Int32).fill_null(OPEN_FROM).to_numpy(),
    )


def to_claims(cc: ColumnarClaims) -> list[Claim]:
    """Domain claims from checked columns: the reference engine on Parquet input."""
    c = cc.cols
    spans: list[list[CategorySpan]] = [[] for _ in range(len(c))]
    applied = c.span_from if c.span_applied is None else c.span_applied
    for i, cat, lo, hi, on in zip(
        c.span_claim.tolist(),
        c.span_category.tolist(),
        c.span_from.tolist(),
        c.span_to.tolist(),
        applied.tolist(),
        strict=True,
    ):
        spans[i].append(
            CategorySpan(
                CATEGORIES[cat],
                None if lo == OPEN_FROM else date_of(lo),
                None if hi == OPEN_TO else date_of(hi),
                None if on == OPEN_FROM or c.span_applied is None else date_of(on),
            )
        )
    visits = list(VISIT_CODE)
    out = []
    ids, persons = cc.claim_id.to_list(), cc.person_id.to_list()
    for i in range(len(c)):
        total, scope = int(c.total[i]), int(c.policy_scope[i])
        out.append(
            Claim(
                claim_id=ids[i],
                person_id=persons[i],
                visit_type=visits[int(c.visit[i])],
                settlement_date=date_of(int(c.settle_day[i])),
                admission_date=date_of(int(c.admit_day[i])),
                hospital_level=int(c.level[i]),
                referred=bool(c.referred[i]),
                total=Fen(total),
                # The engine reads total and policy_scope only; columns do not
                # keep how the rest splits between full and partial self-pay.
                full_self_pay=Fen(0),
                partial_self_pay=Fen(total - scope),
                policy_scope=Fen(scope),
                categories=tuple(spans[i]),
                insurance=PreSettled(Fen(int(c.bi_given[i])), Fen(int(c.cii_given[i])))
                if c.has_insurance[i]
                else None,
                other_payments=Fen(int(c.other[i])),
                disease=None if c.disease[i] < 0 else c.disease_names[int(c.disease[i])],
                out_of_area=bool(c.out_of_area[i]),
                out_of_area_filed=bool(c.out_of_area_filed[i]),
                quota_hospital=bool(c.quota_hospital[i]),
                late_stage=bool(c.late_stage[i]),
            )
        )
    return out
