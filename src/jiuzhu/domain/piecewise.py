"""The one shape every benefit's rate part has: a cumulative piecewise-linear function.

``F(C) = round(sum_k rate_k * overlap(C - deductible, segment_k))``

docs/design.md asks that each claim's amount be ``F(C_after) - F(C_before)`` with F
rounded on the *cumulative* yearly base, so a person's yearly total equals
``F(yearly base)`` exactly and the batch engine can reproduce it. Deductibles,
progressive segments and tilts are all parameters of this one function.

F has **no cap inside it**. A cap limits what was *paid* under it
(``cap − paid so far this year``, ``rules.Cap``): a base that counted another
category's costs (a mid-year change to 低保) must not look as if a cap had been
used up when nothing was paid against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhu.domain.money import BP_ONE, BasisPoints, Fen
from jiuzhu.domain.money import round_half_up_div as _round


@dataclass(frozen=True, slots=True)
class Segment:
    """A rate on the part of ``C - deductible`` between ``lower`` and ``upper``.

    ``upper`` is ``None`` for the open last segment. Bounds are measured above
    the deductible, as the documents state them ("超过3000元起付标准的部分").
    """

    lower: Fen
    upper: Fen | None
    rate: BasisPoints


@dataclass(frozen=True, slots=True)
class Piecewise:
    """A benefit's cumulative rate function for one category and one pool."""

    deductible: Fen
    segments: tuple[Segment, ...]

    def __call__(self, base: int) -> Fen:
        """F(base), rounded half-up to the fen."""
        above = base - self.deductible
        if above <= 0:
            return Fen(0)
        acc = 0
        for seg in self.segments:
            top = above if seg.upper is None else min(above, seg.upper)
            if top > seg.lower:
                acc += (top - seg.lower) * seg.rate
        return Fen(_round(acc, BP_ONE))
