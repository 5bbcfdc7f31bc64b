"""The cumulative rate function F(C) of docs/design.md and the words built from it,
with hand-worked figures. F has no cap: caps limit what was paid (test_properties)."""

from __future__ import annotations

from jiuzhu.domain.engine.words import rate_words
from jiuzhu.domain.money import BasisPoints, Fen
from jiuzhu.domain.piecewise import Piecewise, Segment


def fn(ded: int, segs: list[tuple[int, int | None, int]]) -> Piecewise:
    return Piecewise(
        Fen(ded),
        tuple(
            Segment(Fen(lo), None if hi is None else Fen(hi), BasisPoints(r)) for lo, hi, r in segs
        ),
    )


def test_liaocheng_near_dibao_function() -> None:
    # 聊城实施方案 三(四)2: 50% over 3000. F(30000) = 50% × 27000 = 13500.
    f = fn(300_000, [(0, None, 5000)])
    assert f(3_000_000) == 1_350_000
    assert f(300_000) == 0
    # No cap inside F: 50% × (40000 − 3000) = 18500 (the 1.5万 limits what is paid).
    assert f(4_000_000) == 1_850_000


def test_progressive_segments() -> None:
    # 山西 (assumed): over 5000, 50% to 20000, 60% to 50000, 70% above.
    # C = 40000: above = 35000 → 50%×20000 + 60%×15000 = 10000 + 9000 = 19000.
    f = fn(500_000, [(0, 2_000_000, 5000), (2_000_000, 5_000_000, 6000), (5_000_000, None, 7000)])
    assert f(4_000_000) == 1_900_000
    # C = 30000: above 25000 → 10000 + 60%×5000 = 13000.
    # C = 60000: above 55000 → 10000 + 60%×30000 + 70%×5000 = 10000 + 18000 + 3500 = 31500.
    assert f(3_000_000) == 1_300_000
    assert f(6_000_000) == 3_150_000


def test_rounding_on_cumulative_values() -> None:
    # 70% of 0.05 and again 0.05: per-claim rounding would give 4 + 4 = 8 fen;
    # cumulative: F(0.10) − F(0.05) = 7 − 4 = 3, total 7 = F(0.10).
    f = fn(0, [(0, None, 7000)])
    first = f(5) - f(0)
    second = f(10) - f(5)
    assert (first, second) == (4, 3)
    assert first + second == f(10)


def test_words_are_built_from_the_values() -> None:
    assert rate_words(fn(300_000, [(0, None, 5000)])) == "超过起付线 3000.00 元的部分按 50%"
    assert rate_words(fn(0, [(0, None, 7000)]), verb="救助") == "不设起付线，按 70% 救助"
    assert rate_words(fn(0, [(0, None, 8500)]), per_claim_deductible=True) == "按 85%"
    segs = fn(500_000, [(0, 2_000_000, 5000), (2_000_000, None, 6000)])
    assert rate_words(segs) == (
        "超过起付线 5000.00 元的部分分段20000.00 元以下按 50%、20000.00 元以上按 60%"
    )
    assert rate_words(fn(0, [])) == "比例由审核认定"
