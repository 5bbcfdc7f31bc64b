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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from jiuzhu.domain.vocabulary import CATEGORY_ALIASES, CATEGORY_ZH, VISIT_ALIASES, VISIT_ZH
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
ANALYSIS = ("district", "weight")
"""Columns ``jiuzhu simulate`` reads (the person's 区县 and weight, io/analysis_inputs.py);
settlement ignores them."""
KNOWN = {*REQUIRED, *OPTIONAL_MONEY, *FLAGS, *ANALYSIS, "disease", "category", "categories"}


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
    listed = frame.schema.get("categories")
    if listed is not None and not (
        isinstance(listed, pl.List) and isinstance(listed.inner, pl.Struct)
    ):
        raise ColumnarInputError(
            "类别列 categories 须为列表，每项为含 category、valid_from、valid_to 的结构，"
            f"实际为{type_zh(listed)}"
        )


_FEN_BOUND = 10**17
"""Fen beyond this (in a column wider than Decimal(18, 2)) are clipped to it before the
cast to int64: they fail the upper-bound check anyway, and it names the row."""


def _fen(name: str, dtype: pl.DataType, frame: pl.DataFrame) -> pl.Expr:
    """Decimal yuan → Int64 fen (null stays null); more than two places is refused.

    The unscaled integer of a Decimal(p, 2) value is its fen: reinterpreted, not
    multiplied, so millions of rows convert in milliseconds.
    """
    scale = dtype.scale if isinstance(dtype, pl.Decimal) else 2
    col = pl.col(name)
    if scale < 2:
        col = col.cast(pl.Decimal(38, 2))
    unscaled = col.reinterpret(dtype=pl.Int128)
    if scale > 2:
        unit = 10 ** (scale - 2)
        if not frame.select((unscaled % unit == 0).all()).item():
            raise ColumnarInputError(f"金额列 {name} 含有超过两位小数的值")
        unscaled = unscaled // unit
    if isinstance(dtype, pl.Decimal) and (dtype.precision or 38) - scale + 2 > 18:
        unscaled = unscaled.clip(-_FEN_BOUND, _FEN_BOUND)
    return unscaled.cast(pl.Int64)


def _repeats(ids: pl.Series) -> np.ndarray:
    """Rows whose claim_id appeared on an earlier row.

    Strictly increasing ids (as most extracts are written) have none, which one pass
    shows. Otherwise hashes first (fast, and equal ids have equal hashes); only rows
    sharing a hash are compared as strings, so a collision never rejects a good row.
    """
    out = np.zeros(ids.len(), bool)
    if ids.dtype == pl.Utf8 and ids.null_count() == 0 and _strictly_increasing(ids):
        return out
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


def _strictly_increasing(s: pl.Series) -> bool:
    if s.len() < 2:
        return True
    return bool(pl.select((s.slice(1) > s.slice(0, s.len() - 1)).all()).item())


class _Errors:
    """The errors found so far, and which rows they make bad."""

    def __init__(self, claim_id: pl.Series) -> None:
        self.claim_id = claim_id
        self.bad = np.zeros(claim_id.len(), bool)
        self.found: list[InputError] = []

    def extend(self, other: _Errors) -> None:
        """Add another check's errors (found on the same rows) after these."""
        self.found.extend(other.found)
        self.bad |= other.bad

    def add(self, mask: np.ndarray, field: str, message: str | list[str]) -> None:
        self.add_rows(np.flatnonzero(np.asarray(mask, dtype=bool)), field, message)

    def add_rows(self, rows: np.ndarray, field: str, message: str | list[str]) -> None:
        if rows.size == 0:
            return
        ids = self.claim_id.gather(rows).to_list()
        for k, i in enumerate(rows):
            text = message if isinstance(message, str) else message[k]
            cid = ids[k] if isinstance(ids[k], str) and ids[k] else None
            self.found.append(InputError(int(i) + 1, cid, field, text))
        self.bad[rows] = True


Message = str | Callable[[np.ndarray], list[str]]
"""An error's text: the same for every row, or built from the failing rows' indices."""


@dataclass(frozen=True, slots=True)
class _Check:
    field: str
    bad: np.ndarray | None  # bool per row: the row fails this check (None: no row does)
    message: Message


def _some(mask: np.ndarray | None) -> np.ndarray | None:
    """The mask, or None when no row is set (what a clean file gives for every check)."""
    return mask if mask is not None and bool(mask.any()) else None


def _both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """``a & b`` where None is a mask with no row set."""
    return None if a is None or b is None else _some(a & b)


class _Columns:
    """The file's columns as NumPy arrays, converted once: what the checks and the engine read.

    Money is fen (the Decimal's unscaled integer, reinterpreted: no arithmetic), a null
    becomes 0 with the null kept in ``nulls``; the per-row checks then run as NumPy
    comparisons, a few milliseconds each for ten million rows.
    """

    def __init__(self, frame: pl.DataFrame, optional_money: list[str]) -> None:
        self.frame = frame
        self.n = frame.height
        money = [*MONEY_COLUMNS, *optional_money]
        exprs = {name: _fen(name, frame.schema[name], frame) for name in money}
        visit_codes = {v.value: code for v, code in VISIT_CODE.items()}
        visit_codes |= {text: visit_codes[v] for text, v in VISIT_TEXT.items()}  # 住院
        exprs["visit"] = (
            pl.col("visit_type")
            .cast(pl.Utf8, strict=False)
            .replace_strict(visit_codes, default=-1, return_dtype=pl.Int8)
            .fill_null(-1)
        )
        # Int8 as the engine keeps it: a level outside -128..127 becomes null, then -1,
        # and fails the 1..3 check as it would have as a wider integer.
        exprs["level"] = pl.col("hospital_level").cast(pl.Int8, strict=False)
        for name in ("settlement_date", "admission_date"):
            exprs[name] = pl.col(name).cast(pl.Int32)
        converted = frame.select(*[e.alias(k) for k, e in exprs.items()])
        self.nulls: dict[str, np.ndarray] = {}
        self.values: dict[str, np.ndarray] = {}
        # The money columns without nulls (all of them, in a clean file) come out as one
        # block, each a contiguous column of it: one copy of the file's row groups
        # instead of one per column (each column is in as many chunks as row groups).
        whole = [name for name in money if not converted[name].null_count()]
        if len(whole) > 1:
            block = converted.select(whole).to_numpy(order="fortran")
            self.values |= {name: block[:, k] for k, name in enumerate(whole)}
        for name in converted.columns:
            if name in self.values:
                continue
            s = converted[name]
            if s.null_count():
                self.nulls[name] = s.is_null().to_numpy()
                s = s.fill_null(0 if name != "level" else -1)
            self.values[name] = s.to_numpy()
        for name in ("referred", *FLAGS):
            if name in frame.columns:
                s = frame[name]
                if s.null_count():
                    self.nulls[name] = s.is_null().to_numpy()
                    s = s.fill_null(False)
                self.values[name] = s.to_numpy().astype(bool, copy=False)
            else:
                self.values[name] = np.zeros(self.n, bool)
        self.has = {name: name in frame.columns for name in OPTIONAL_MONEY}
        self.lengths: dict[str, pl.Series] = {}
        other = self.values.get("other_payments")
        self.values["other"] = other if other is not None else np.zeros(self.n, np.int64)
        bi_given = self.given("basic_insurance")
        cii_given = self.given("critical_illness_insurance")
        self.values["bi_given"], self.values["cii_given"] = bi_given, cii_given
        self.values["has_insurance"] = bi_given & cii_given
        for key, name in (("bi", "basic_insurance"), ("cii", "critical_illness_insurance")):
            v = self.values.get(name)
            self.values[key] = v if v is not None else np.zeros(self.n, np.int64)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def null(self, name: str) -> np.ndarray:
        hit = self.nulls.get(name)
        return hit if hit is not None else np.zeros(self.n, bool)

    def given(self, name: str) -> np.ndarray:
        if not self.has[name]:
            return np.zeros(self.n, bool)
        return ~self.null(name)

    def text(self, name: str) -> pl.Series:
        return self.frame[name].cast(pl.Utf8, strict=False)

    def _bytes(self, name: str) -> pl.Series:
        """Each row's text length in bytes, found once for both checks on the column."""
        found = self.lengths.get(name)
        if found is None:
            found = self.lengths[name] = self.text(name).str.len_bytes()
        return found

    def longer(self, name: str, limit: int) -> np.ndarray | None:
        """Rows whose text is longer than ``limit`` characters (bytes first: cheaper)."""
        longest = self._bytes(name).max()
        if not isinstance(longest, int) or longest <= limit:
            return None
        return _some((self.text(name).str.len_chars() > limit).fill_null(False).to_numpy())

    def empty(self, name: str) -> np.ndarray | None:
        """Rows whose text is null or empty (None, after two reductions, when none is)."""
        s, size = self.text(name), self._bytes(name)
        shortest = size.min()
        if s.null_count() == 0 and isinstance(shortest, int) and shortest > 0:
            return None
        return _some((s.is_null() | (size == 0)).fill_null(True).to_numpy())


def _checks(w: _Columns, optional_money: list[str], repeat: np.ndarray) -> list[_Check]:
    """Every per-row check of the contract, in the order their errors are listed.

    A clean file fails none, so each check first asks the cheapest question that can
    clear every row at once (a column's minimum and maximum, whether it has nulls at
    all, whether the column is there) and builds a row mask only when that fails.
    """
    out: list[_Check] = []
    for name in ("claim_id", "person_id"):
        out.append(_Check(name, w.empty(name), "不能为空"))
        out.append(_Check(name, w.longer(name, 64), "长度不能超过 64 个字符"))
    out.append(_Check("claim_id", _some(repeat), "重复的 claim_id（与前面的行相同）"))

    def visit_message(at: np.ndarray) -> list[str]:
        return [unknown_visit(v) for v in w.text("visit_type").gather(at).to_list()]

    out.append(_Check("visit_type", _below(w["visit"], 0), visit_message))
    level = w["level"]
    out.append(_Check("hospital_level", _outside(level, 1, 3), "须为 1、2、3 级医院"))
    out.append(_Check("referred", w.nulls.get("referred"), "须为 true 或 false"))
    out.append(_Check("settlement_date", w.nulls.get("settlement_date"), "不能为空"))
    out.append(_Check("admission_date", w.nulls.get("admission_date"), "不能为空"))

    def dates_message(at: np.ndarray) -> list[str]:
        return [
            f"入院日期 {date_of(int(a))} 晚于结算日期 {date_of(int(s))}"
            for a, s in zip(w["admission_date"][at], w["settlement_date"][at], strict=True)
        ]

    late = _some(w["admission_date"] > w["settlement_date"])
    if late is not None and ("settlement_date" in w.nulls or "admission_date" in w.nulls):
        late = _some(late & ~(w.null("settlement_date") | w.null("admission_date")))
    out.append(_Check("admission_date", late, dates_message))
    for name in MONEY_COLUMNS:
        out.append(_Check(name, w.nulls.get(name), "不能为空"))
    bound = f"金额超出上限（须小于 {format_yuan(MAX_CLAIM_FEN)} 元），请核对单位"
    for name in (*MONEY_COLUMNS, *optional_money):
        out.append(_Check(name, _below(w[name], 0), "金额不能为负数"))
        out.append(_Check(name, _above(w[name], MAX_CLAIM_FEN - 1), bound))
    total, scope = w["total"], w["policy_scope"]
    parts = w["full_self_pay"] + w["partial_self_pay"]
    parts += scope

    def total_message(at: np.ndarray) -> list[str]:
        return [split_mismatch(int(t), int(s)) for t, s in zip(total[at], parts[at], strict=True)]

    out.append(_Check("total", _some(total != parts), total_message))
    bi, cii, other = w["bi"], w["cii"], w["other"]
    insured = w.has["basic_insurance"] or w.has["critical_illness_insurance"]
    has_ins = _some(w["has_insurance"]) if insured else None
    out.append(
        _Check(
            "insurance",
            _some(w["bi_given"] != w["cii_given"]) if insured else None,
            "basic_insurance 与 critical_illness_insurance 须同时给出或同时为空",
        )
    )
    over = _both(has_ins, bi + cii > scope)
    out.append(_Check("insurance", over, "基本医保与大病保险合计超过政策范围内费用"))
    left = None if has_ins is None else other > total - bi - cii
    if left is not None and over is not None:
        left &= ~over
    out.append(_Check("other_payments", _both(has_ins, left), "其他支付超过保险报销后剩余费用"))
    beyond = _some(other > total)  # (without the column too: a negative total fails it)
    if beyond is not None and has_ins is not None:
        beyond = _some(beyond & ~has_ins)
    out.append(_Check("other_payments", beyond, "其他支付超过总费用"))
    filed = "out_of_area_filed" in w.frame.columns
    out.append(
        _Check(
            "out_of_area_filed",
            _some(w["out_of_area_filed"] & ~w["out_of_area"]) if filed else None,
            "只有异地就医（out_of_area: true）才有备案",
        )
    )
    if "disease" in w.frame.columns:
        out.append(_Check("disease", w.longer("disease", 100), "长度不能超过 100 个字符"))
    return out


def _below(a: np.ndarray, low: int) -> np.ndarray | None:
    """Rows below ``low`` (None, after one reduction, when there are none)."""
    return a < low if a.size and int(a.min()) < low else None


def _above(a: np.ndarray, high: int) -> np.ndarray | None:
    """Rows above ``high`` (None, after one reduction, when there are none)."""
    return a > high if a.size and int(a.max()) > high else None


def _outside(a: np.ndarray, low: int, high: int) -> np.ndarray | None:
    if a.size == 0 or (int(a.min()) >= low and int(a.max()) <= high):
        return None
    return (a < low) | (a > high)


def _row_errors(checks: list[_Check], e: _Errors) -> None:
    """Messages for the rows that fail (usually none), check by check, in order."""
    masks = [ch.bad for ch in checks if ch.bad is not None]
    if not masks:
        return
    failing = masks[0].copy()
    for mask in masks[1:]:
        failing |= mask
    at = np.flatnonzero(failing)
    for ch in checks:
        if ch.bad is None:
            continue
        rows = at[ch.bad[at]]
        if rows.size:
            text = ch.message if isinstance(ch.message, str) else ch.message(rows)
            e.add_rows(rows, ch.field, text)


def from_frame(frame: pl.DataFrame) -> ColumnarClaims:
    """Check every row; return the good ones as columns and an error per bad field.

    Each check is one NumPy comparison over the converted columns, and messages are
    built only for the rows that fail, so a clean file of ten million claims is checked
    in about a second (docs/performance.md).
    """
    _schema(frame)
    for name in ("referred", *FLAGS):
        if name in frame.columns and frame[name].dtype != pl.Boolean:
            raise ColumnarInputError(
                f"列 {name} 须为布尔值（是/否），实际为{type_zh(frame[name].dtype)}"
            )
    n = frame.height
    optional_money = [name for name in OPTIONAL_MONEY if name in frame.columns]
    claim_id = frame["claim_id"].cast(pl.Utf8, strict=False)
    person_id = frame["person_id"].cast(pl.Utf8, strict=False)
    disease = frame["disease"].cast(pl.Utf8, strict=False) if "disease" in frame.columns else None
    e, span_errors = _Errors(claim_id), _Errors(claim_id)
    # What needs only the frame runs on a second thread while this one converts the
    # columns and checks them (Polars releases the interpreter lock): the duplicate ids,
    # the category spans, and the person and disease codes as they are if no row fails.
    with ThreadPoolExecutor(1, thread_name_prefix="check") as pool:
        repeats = pool.submit(_repeats, frame["claim_id"])
        spans_done = pool.submit(_spans, frame, span_errors)
        persons = pool.submit(_person_codes, person_id)
        diseases = pool.submit(_codes, disease, n)
        w = _Columns(frame, optional_money)
        _row_errors(_checks(w, optional_money, repeats.result()), e)
        spans = spans_done.result()
        e.extend(span_errors)  # after the row checks' errors, as listed before
        every = not e.bad.any()
        good = np.arange(n) if every else np.flatnonzero(~e.bad)
        if every:
            person_codes, (dcodes, dnames) = persons.result(), diseases.result()
        else:
            claim_id, person_id = claim_id.gather(good), person_id.gather(good)
            disease = None if disease is None else disease.gather(good)
            person_codes, (dcodes, dnames) = _person_codes(person_id), _codes(disease, good.size)
    # Every span's claim stays at its row when no row is bad (the usual case).
    span_claim, keep = spans[0], slice(None)
    if not every:
        remap = np.full(n, -1, np.int64)
        remap[good] = np.arange(good.size)
        kept = remap[spans[0]] >= 0
        span_claim, keep = remap[spans[0][kept]], kept

    def arr(name: str) -> np.ndarray:
        a = w[name]
        return a if every else a[good]

    cols = ClaimColumns(
        person=person_codes,
        visit=arr("visit"),
        settle_day=arr("settlement_date"),
        admit_day=arr("admission_date"),
        level=arr("level").astype(np.int8, copy=False),
        referred=arr("referred"),
        total=arr("total"),
        policy_scope=arr("policy_scope"),
        other=arr("other"),
        has_insurance=arr("has_insurance"),
        bi_given=arr("bi"),
        cii_given=arr("cii"),
        disease=dcodes.astype(np.int32),
        disease_names=tuple(dnames),
        out_of_area=arr("out_of_area"),
        out_of_area_filed=arr("out_of_area_filed"),
        quota_hospital=arr("quota_hospital"),
        late_stage=arr("late_stage"),
        span_claim=span_claim,
        span_category=spans[1][keep],
        span_from=spans[2][keep],
        span_to=spans[3][keep],
        span_applied=spans[4][keep],
    )
    errors = sorted(e.found, key=lambda x: x.line)
    return ColumnarClaims(
        cols, claim_id.alias("claim_id"), person_id.alias("person_id"), good + 1, errors
    )


def _codes(s: pl.Series | None, n: int) -> tuple[np.ndarray, list[str]]:
    """Dense integer codes for a string column (null: -1) and the distinct values, sorted."""
    if s is None or s.null_count() == s.len():
        return np.full(n, -1, np.int64), []
    if s.null_count() * 2 < s.len():
        dense = s.rank("dense").fill_null(0).cast(pl.Int64).to_numpy() - 1
        return dense, s.drop_nulls().unique().sort().to_list()
    # Mostly null (most claims name no disease): rank only the rows that name one.
    some = s.is_not_null()
    given = np.flatnonzero(some.to_numpy())
    named = s.filter(some)
    dense = np.full(n, -1, np.int64)
    dense[given] = named.rank("dense").cast(pl.Int64).to_numpy() - 1
    return dense, named.unique().sort().to_list()


def _person_codes(person: pl.Series) -> np.ndarray:
    """Person codes: equal ids, equal codes (the dense rank of the id).

    For a file sorted by person (as ``jiuzhu synth`` and most extracts write it) the
    dense rank is the run number (``rle_id``), found in one pass instead of a sort.
    """
    if person.len() == 0:
        return np.zeros(0, np.int64)
    if person.null_count() == 0 and person.is_sorted():
        return person.rle_id().cast(pl.Int64).to_numpy()
    return person.rank("dense").fill_null(0).cast(pl.Int64).to_numpy() - 1


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
        one = frame["category"].cast(pl.Utf8, strict=False)
        given = np.flatnonzero(one.is_not_null().to_numpy())
        pieces.append(
            pl.DataFrame(
                {
                    "row": given.astype(np.int64),
                    "category": one.gather(given),
                    "valid_from": pl.repeat(None, given.size, dtype=pl.Date, eager=True),
                    "valid_to": pl.repeat(None, given.size, dtype=pl.Date, eager=True),
                    "applied_on": pl.repeat(None, given.size, dtype=pl.Date, eager=True),
                }
            )
        )
    if has_list:
        pieces.append(_list_spans(frame["categories"], e))
    if not pieces:
        z = np.zeros(0, np.int64)
        return z, z.astype(np.int8), z.astype(np.int32), z.astype(np.int32), z.astype(np.int32)
    spans = pl.concat(pieces)
    codes = {c.value: k for c, k in CATEGORY_CODE.items()}
    codes |= {text: codes[c] for text, c in CATEGORY_TEXT.items()}  # 低保 → dibao
    code = spans["category"].replace_strict(codes, default=-1, return_dtype=pl.Int8).fill_null(-1)
    known = (code >= 0).to_numpy()
    if not known.all():
        bad = spans.filter(~pl.Series(known))
        mask = np.zeros(n, bool)
        mask[bad["row"].to_numpy()] = True
        names = {int(r): c for r, c in zip(bad["row"], bad["category"], strict=True)}
        e.add(
            mask,
            "categories",
            [unknown_category(names[int(i)]) for i in np.flatnonzero(mask)],
        )
    reversed_ = spans.filter(pl.col("valid_to") < pl.col("valid_from"))
    if reversed_.height:
        mask = np.zeros(n, bool)
        mask[reversed_["row"].to_numpy()] = True
        e.add(mask, "categories", SPAN_REVERSED)
    applied = pl.col("applied_on")
    late = spans.filter(
        applied.is_not_null() & (pl.col("valid_from").is_null() | (applied > pl.col("valid_from")))
    )
    if late.height:
        mask = np.zeros(n, bool)
        mask[late["row"].to_numpy()] = True
        e.add(mask, "categories", "申请日期 applied_on 须不晚于认定日期 valid_from")
    if not known.all():
        spans, code = spans.filter(pl.Series(known)), code.filter(pl.Series(known))
    return (
        spans["row"].to_numpy().astype(np.int64),
        code.to_numpy(),
        spans["valid_from"].cast(pl.Int32).fill_null(OPEN_FROM).to_numpy(),
        spans["valid_to"].cast(pl.Int32).fill_null(OPEN_TO).to_numpy(),
        spans["applied_on"].cast(pl.Int32).fill_null(OPEN_FROM).to_numpy(),
    )


def _list_spans(lst: pl.Series, e: _Errors) -> pl.DataFrame:
    """Every element of every ``categories`` list, with the row it belongs to."""
    lengths = lst.list.len()
    e.add((lengths == 0).fill_null(False).to_numpy(), "categories", "不能为空列表")
    # null and empty lists have no elements; a null element is dropped (as before).
    # Only the rows with elements are exploded (most claims carry no roster data).
    some = lengths.fill_null(0) > 0
    given = np.flatnonzero(some.to_numpy())
    flat = lst.filter(some).explode(keep_nulls=False, empty_as_null=False)
    rows = np.repeat(given.astype(np.int64), lengths.filter(some).to_numpy())
    entries = pl.DataFrame({"row": rows, "entry": flat}).filter(pl.col("entry").is_not_null())
    fields = entries.schema["entry"]
    names = [f.name for f in fields.fields] if isinstance(fields, pl.Struct) else []
    entry = pl.col("entry").struct

    def field(name: str, dtype: pl.DataType) -> pl.Expr:
        return (entry.field(name) if name in names else pl.lit(None)).cast(dtype).alias(name)

    return entries.select(
        "row",
        (entry.field("category") if "category" in names else pl.lit(None))
        .cast(pl.Utf8, strict=False)
        .alias("category"),
        field("valid_from", pl.Date()),
        field("valid_to", pl.Date()),
        field("applied_on", pl.Date()),
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
