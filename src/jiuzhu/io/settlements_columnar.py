"""Settlements as a table (Parquet): one row per settled claim, money as Decimal yuan.

The columns are the JSON contract's without the explanation lines (those are
for reading one claim: ``jiuzhu settle`` as JSONL or ``jiuzhu explain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from jiuzhu.domain.engine.batch import AMOUNTS, BatchResult
from jiuzhu.domain.engine.columns import CATEGORIES
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.io.columnar import MONEY, yuan_expr

_CATEGORY_NAMES = pl.Series("category", [c.value for c in CATEGORIES], dtype=pl.Utf8)
"""Category names by code (``CATEGORIES``' order, as the batch engine codes them)."""


def from_settlements(settlements: Sequence[Settlement]) -> pl.DataFrame:
    """The table of reference-engine settlements."""
    amounts = {
        b.value: np.array([s.amount(b) for s in settlements], dtype=np.int64) for b in AMOUNTS
    }
    return _frame(
        pl.Series([s.claim_id for s in settlements], dtype=pl.Utf8),
        pl.Series([s.person_id for s in settlements], dtype=pl.Utf8),
        settlements[0].policy_id if settlements else "",
        pl.Series([s.category.value for s in settlements], dtype=pl.Utf8),
        np.array([s.total for s in settlements], dtype=np.int64),
        amounts,
        np.array([s.critical_care_grant for s in settlements], dtype=np.int64),
    )


def from_batch(
    claim_id: pl.Series,
    person_id: pl.Series,
    policy_id: str,
    total: np.ndarray,
    result: BatchResult,
    keep: np.ndarray,
) -> pl.DataFrame:
    """The table of batch results (rows where ``keep``: the settled claims)."""
    every = bool(keep.all())

    def kept(a: np.ndarray) -> np.ndarray:
        return a if every else a[keep]

    # The category's name by its code: a gather from the ten names (a view per row)
    # rather than a replace, which hashes every row (a quarter of the table's time).
    category = _CATEGORY_NAMES.gather(pl.Series(kept(result.category), dtype=pl.Int8))
    return _frame(
        claim_id if every else claim_id.filter(pl.Series(keep)),
        person_id if every else person_id.filter(pl.Series(keep)),
        policy_id,
        category,
        kept(total),
        {b.value: kept(a) for b, a in result.amounts.items()},
        kept(result.grant),
    )


def _frame(
    claim_id: pl.Series,
    person_id: pl.Series,
    policy_id: str,
    category: pl.Series,
    total: np.ndarray,
    amounts: dict[str, np.ndarray],
    grant: np.ndarray,
) -> pl.DataFrame:
    paid = np.zeros(total.size, dtype=np.int64)
    fen = {"total": total, **amounts, "critical_care_grant": grant}
    # A benefit the policy does not have is a stride-0 zero column, and many a benefit
    # is zero in every claim of a part: one shared zero column stands for all of them,
    # instead of each converted to Decimal on its own (most of the table's cost).
    nonzero = {name: a for name, a in fen.items() if a.strides != (0,) and bool(a.any())}
    for name, a in amounts.items():
        if name in nonzero:
            paid += a
    nonzero["personal"] = total - paid
    converted = pl.DataFrame(nonzero).select(
        yuan_expr(pl.col(name)).alias(name) for name in nonzero
    )
    zero = pl.zeros(total.size, dtype=pl.Int128, eager=True).reinterpret(dtype=MONEY)
    money = [
        converted[name] if name in nonzero else zero.alias(name) for name in [*fen, "personal"]
    ]
    return pl.DataFrame(
        {
            "claim_id": claim_id,
            "person_id": person_id,
            "policy": pl.repeat(policy_id, total.size, dtype=pl.Utf8, eager=True),
            "category": category,
        }
    ).hstack(money)


PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 1,
    "statistics": True,
}
"""How settlement tables are written (``write``, and ``batch_parts`` streaming them).

zstd at level 1 rather than Polars' default: about a sixth less CPU to write ten million
settlements and, on these tables, a slightly smaller file (docs/performance.md)."""


def write(frame: pl.DataFrame, path: str | Path) -> None:
    frame.write_parquet(path, **PARQUET_OPTIONS)
