"""Settlements as a table (Parquet): one row per settled claim, money as Decimal yuan.

The columns are the JSON contract's without the explanation lines (those are
for reading one claim: ``jiuzhu settle`` as JSONL or ``jiuzhu explain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from jiuzhu.domain.engine.batch import AMOUNTS, BatchResult
from jiuzhu.domain.engine.columns import CATEGORIES
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.io.columnar import yuan


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
    names = np.array([c.value for c in CATEGORIES])
    return _frame(
        claim_id.filter(pl.Series(keep)),
        person_id.filter(pl.Series(keep)),
        policy_id,
        pl.Series(names[result.category[keep]], dtype=pl.Utf8),
        total[keep],
        {b.value: a[keep] for b, a in result.amounts.items()},
        result.grant[keep],
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
    for a in amounts.values():
        paid += a
    return pl.DataFrame(
        {
            "claim_id": claim_id,
            "person_id": person_id,
            "policy": pl.Series([policy_id] * total.size, dtype=pl.Utf8),
            "category": category,
            "total": yuan(total),
            **{name: yuan(a) for name, a in amounts.items()},
            "critical_care_grant": yuan(grant),
            "personal": yuan(total - paid),
        }
    )


def write(frame: pl.DataFrame, path: str | Path) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)
