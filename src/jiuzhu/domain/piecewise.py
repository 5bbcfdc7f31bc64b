"""The one shape every benefit has: a cumulative piecewise-linear function.

``F(C) = min(cap, round(sum_k rate_k * overlap(C - deductible, segment_k)))``

docs/design.md asks that each claim's amount be ``F(C_after) - F(C_before)`` with F
rounded on the *cumulative* yearly base, so a person's yearly total equals
``F(yearly base)`` exactly and the batch engine can reproduce it. Deductibles,
progressive segments, tilts, caps and thresholds are all parameters of this
one function; the engine never special-cases them.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhu.domain.money import BP_ONE, BasisPoints, Fen, format_rate, format_yuan
from jiuzhu.domain.money import round_half_up_div as _round


@dataclass(frozen=True, slots=True)
class Segment:
    """A rate on the part of ``C - deductible`` between ``lower`` and ``upper``.

    ``upper`` is ``None`` for the open last segment. Bounds are measured above
    the deductible, as the seeds state them ("超过3000元起付标准的部分").
    """

    lower: Fen
    upper: Fen | None
    rate: BasisPoints


@dataclass(frozen=True, slots=True)
class Piecewise:
    """A benefit's cumulative function for one category and one pool."""

    deductible: Fen
    segments: tuple[Segment, ...]
    cap: Fen | None

    def raw(self, base: int) -> int:
        """The function before the cap, rounded half-up to the fen."""
        above = base - self.deductible
        if above <= 0:
            return 0
        acc = 0
        for seg in self.segments:
            top = above if seg.upper is None else min(above, seg.upper)
            if top > seg.lower:
                acc += (top - seg.lower) * seg.rate
        return _round(acc, BP_ONE)

    def __call__(self, base: int) -> Fen:
        value = self.raw(base)
        if self.cap is not None and value > self.cap:
            value = self.cap
        return Fen(value)

    def describe(self, shared_cap: Fen | None = None, per_claim: bool = False) -> str:
        """The function in words a reviewer reads, e.g. ``超过起付线3000.00的部分按50%``.

        ``shared_cap`` is the yearly cap the function shares with other pools;
        ``per_claim`` says the deductible was already taken off each claim.
        """
        parts = []
        for seg in self.segments:
            rate = format_rate(seg.rate)
            if seg.lower == 0 and seg.upper is None:
                parts.append(rate)
            elif seg.upper is None:
                parts.append(f"{format_yuan(seg.lower)}以上{rate}")
            else:
                parts.append(f"{format_yuan(seg.lower)}–{format_yuan(seg.upper)} {rate}")
        body = "、".join(parts)
        if not self.segments:
            return "比例由审核认定"
        if per_claim:
            ded = ""
        elif self.deductible:
            ded = f"超过起付线{format_yuan(self.deductible)}的部分"
        else:
            ded = "不设起付线，"
        if self.cap is not None:
            cap = f"，本项年度限额{format_yuan(self.cap)}"
        elif shared_cap is None:
            cap = "，不设年度限额"
        else:
            cap = ""
        if shared_cap is not None:
            cap += f"，年度限额{format_yuan(shared_cap)}"
        return f"{ded}按{body}{cap}"
