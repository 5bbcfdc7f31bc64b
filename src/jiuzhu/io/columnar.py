"""Money in columnar files (Parquet): yuan as exact decimals with two places.

The same names and meaning as the JSON contract ("60000.00"), typed: a
Decimal(14, 2) column, converted to and from int64 fen without rounding.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MONEY = pl.Decimal(14, 2)


def yuan(fen: np.ndarray | pl.Series) -> pl.Series:
    """int64 fen → Decimal(14, 2) yuan, exactly."""
    s = fen if isinstance(fen, pl.Series) else pl.Series(fen)
    return (s.cast(pl.Int64).cast(MONEY) / 100).cast(MONEY)


def fen(yuan_col: pl.Series) -> np.ndarray:
    """Decimal yuan → int64 fen, exactly (a value with more than two places is an error)."""
    scaled = yuan_col.cast(pl.Decimal(18, 4)) * 100
    as_int = scaled.cast(pl.Int64)
    if not (as_int.cast(pl.Decimal(18, 4)) == scaled).all():
        raise ValueError("金额列含有超过两位小数的值")
    return as_int.to_numpy()
