"""Money in columnar files (Parquet): yuan as exact decimals with two places.

The same names and meaning as the JSON contract ("60000.00"), typed: a
Decimal(14, 2) column, converted from int64 fen without rounding.

A Decimal(p, 2) value is stored as its unscaled integer, which is its fen: the
conversions reinterpret that integer (Polars ``reinterpret``, Int128 ⇄ Decimal)
rather than multiply or divide decimals, which is what makes writing ten million
settlements take tenths of a second rather than seconds (docs/performance.md).
"""

from __future__ import annotations

import numpy as np
import polars as pl

MONEY = pl.Decimal(14, 2)


def yuan(fen: np.ndarray | pl.Series) -> pl.Series:
    """int64 fen → Decimal(14, 2) yuan, exactly (a value beyond 14 digits is an error)."""
    s = fen if isinstance(fen, pl.Series) else pl.Series(fen)
    return s.cast(pl.Int64).cast(pl.Int128).reinterpret(dtype=MONEY)


def yuan_expr(fen: pl.Expr) -> pl.Expr:
    """The same as ``yuan``, as an expression (for a ``select`` of many columns at once)."""
    return fen.cast(pl.Int64).cast(pl.Int128).reinterpret(dtype=MONEY)
