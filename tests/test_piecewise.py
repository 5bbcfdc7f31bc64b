"""The cumulative function F(C) of docs/design.md, with hand-worked figures."""

from __future__ import annotations

from jiuzhu.domain.money import BasisPoints, Fen
from jiuzhu.domain.piecewise import Piecewise, Segment


def fn(ded: int, segs: list[tuple[int, int | None, int]], cap: int | None) -> Piecewise:
    return Piecewise(
        Fen(ded),
        tuple(
            Segment(Fen(lo), None if hi is None else Fen(hi), BasisPoints(r)) for lo, hi, r in segs
        ),
        None if cap is None else Fen(cap),
    )


def test_liaocheng_near_dibao_function() -> None:
    # 000 三(四)2: 50% over 3000, cap 15000. F(30000) = 50% × 27000 = 13500.
    f = fn(300_000, [(0, None, 5000)], 1_500_000)
    assert f(3_000_000) == 1_350_000
    assert f(300_000) == 0
    # cap reached: 50% × (40000 − 3000) = 18500 → 15000.
    assert f(4_000_000) == 1_500_000


def test_progressive_segments() -> None:
    # 山西 (assumed): over 5000, 50% to 20000, 60% to 50000, 70% above, cap 15000.
    # C = 40000: above = 35000 → 50%×20000 + 60%×15000 = 10000 + 9000 = 19000 → cap 15000.
    f = fn(
        500_000,
        [(0, 2_000_000, 5000), (2_000_000, 5_000_000, 6000), (5_000_000, None, 7000)],
        1_500_000,
    )
    assert f(4_000_000) == 1_500_000
    # C = 30000: above 25000 → 10000 + 60%×5000 = 13000.
    assert f(3_000_000) == 1_300_000


def test_rounding_on_cumulative_values() -> None:
    # 70% of 0.05 and again 0.05: per-claim rounding would give 4 + 4 = 8 fen;
    # cumulative: F(0.10) − F(0.05) = 7 − 4 = 3, total 7 = F(0.10).
    f = fn(0, [(0, None, 7000)], None)
    first = f(5) - f(0)
    second = f(10) - f(5)
    assert (first, second) == (4, 3)
    assert first + second == f(10)


def test_describe_reads_like_the_seed() -> None:
    f = fn(300_000, [(0, None, 5000)], None)
    assert f.describe(Fen(1_500_000)) == "超过起付线3000.00的部分按50%，年度限额15000.00"
