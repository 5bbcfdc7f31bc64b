"""Money: yuan strings ⇄ fen, rates ⇄ basis points, half-up rounding (hand-worked)."""

from __future__ import annotations

import pytest

from jiuzhu.domain.money import (
    MoneyFormatError,
    RateFormatError,
    apply_rate,
    format_rate,
    format_yuan,
    parse_rate,
    parse_yuan,
    round_half_up_div,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0.00", 0),
        ("0.01", 1),
        ("12.50", 1250),
        ("60000.00", 6_000_000),
        ("99999999.99", 9_999_999_999),
    ],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen
    assert format_yuan(fen) == text


@pytest.mark.parametrize(
    "bad", ["12.5", "12.345", "1,000.00", "01.00", "", " 1.00", "1e3", "-0.01"]
)
def test_parse_yuan_rejects(bad: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_yuan(bad)


def test_negative_only_when_allowed() -> None:
    assert parse_yuan("-3.05", allow_negative=True) == -305
    assert format_yuan(-305) == "-3.05"


@pytest.mark.parametrize(
    ("text", "bp"), [("70%", 7000), ("0.8%", 80), ("100%", 10000), ("5%", 500), ("12.25%", 1225)]
)
def test_rates(text: str, bp: int) -> None:
    assert parse_rate(text) == bp
    assert format_rate(bp) == text


@pytest.mark.parametrize("bad", ["70", "0.7", "70.125%", "-5%", "%"])
def test_rate_rejects(bad: str) -> None:
    with pytest.raises(RateFormatError):
        parse_rate(bad)


def test_half_up() -> None:
    # 70% of 0.05 yuan = 3.5 fen → 4 fen; 70% of 0.15 = 10.5 → 11; 50% of 0.01 = 0.5 → 1.
    assert apply_rate(5, 7000) == 4
    assert apply_rate(15, 7000) == 11
    assert apply_rate(1, 5000) == 1
    # 0.4999… rounds down: 70% of 0.07 = 4.9 fen → 5; 60% of 0.07 = 4.2 → 4.
    assert apply_rate(7, 7000) == 5
    assert apply_rate(7, 6000) == 4
    assert round_half_up_div(-15, 10) == -2
    assert round_half_up_div(-14, 10) == -1
