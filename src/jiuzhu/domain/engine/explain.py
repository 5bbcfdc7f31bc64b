"""Settlements with their explanation lines, from the batch engine's results.

The batch engine computes amounts in vectors; a person reading one claim wants
the same lines the reference engine prints. Those lines are rendered here by the
reference engine's own ``explain`` from the accumulators the batch engine had
reached just before the claim (its snapshots), so one piece of code words every
explanation. The amounts in the rendered settlement must equal the batch
engine's to the fen; if not, that is a bug and we stop rather than print two
different figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jiuzhu.domain.claims import Claim
from jiuzhu.domain.engine.batch import AMOUNTS, REJECT_NONE, REJECT_NOT_IN_FORCE, BatchResult
from jiuzhu.domain.engine.columns import CATEGORIES, date_of
from jiuzhu.domain.engine.reference import (
    ClaimRejected,
    ReferenceEngine,
    not_in_force,
    other_too_large,
)
from jiuzhu.domain.engine.rules import CompiledPolicy
from jiuzhu.domain.engine.settlement import Settlement
from jiuzhu.domain.engine.state import PoolState, YearState


class EngineMismatch(AssertionError):
    """The batch amounts and their explanation disagree: a bug, never shown to users."""


def settlements(
    compiled: CompiledPolicy, claims: Sequence[Claim], result: BatchResult
) -> list[Settlement | ClaimRejected]:
    """One settlement (or rejection) per claim, in input order, with every line."""
    if result.snapshot_base is None or result.snapshot_paid is None:
        raise ValueError("settle_columns(..., snapshots=True) is needed for explanations")
    engine = ReferenceEngine(compiled)
    out: list[Settlement | ClaimRejected] = []
    for i, claim in enumerate(claims):
        code = int(result.reject[i])
        if code != REJECT_NONE:
            if code == REJECT_NOT_IN_FORCE:
                out.append(not_in_force(compiled.policy, claim))
            else:
                out.append(other_too_large(claim, int(result.reject_left[i])))
            continue
        ystate = YearState(
            {
                key: PoolState(int(result.snapshot_base[i, k]), int(result.snapshot_paid[i, k]))
                for k, key in enumerate(result.keys)
            }
        )
        chain: tuple[dt.date, int] | None = None
        if result.chain_set is not None and result.chain_set[i]:
            assert result.chain_day is not None and result.chain_val is not None
            chain = (date_of(int(result.chain_day[i])), int(result.chain_val[i]))
        category = CATEGORIES[int(result.category[i])]
        s = engine.explain(claim, category, ystate, chain, bool(result.grant[i]))
        for b in AMOUNTS:
            if s.amount(b) != int(result.amounts[b][i]):
                raise EngineMismatch(
                    f"{claim.claim_id}: {b.value} batch {int(result.amounts[b][i])} "
                    f"≠ explanation {s.amount(b)}"
                )
        out.append(s)
    return out


def settle_claims(
    compiled: CompiledPolicy, claims: Sequence[Claim], *, fast: bool = True
) -> list[Settlement | ClaimRejected]:
    """The batch engine behind the reference engine's ``settle_claims`` contract."""
    from jiuzhu.domain.engine.batch import settle_columns
    from jiuzhu.domain.engine.columns import from_claims

    cols, _ = from_claims(claims)
    result = settle_columns(compiled, cols, fast=fast, snapshots=True)
    return settlements(compiled, claims, result)
