"""GB 11643 check digit and masking of 身份证号."""

from __future__ import annotations

from jiuzhu.domain.ids import check_digit, mask_id, validate_id

# The standard's own worked example: 11010519491231002X.
EXAMPLE = "11010519491231002X"


def test_check_digit_of_standard_example() -> None:
    assert check_digit(EXAMPLE[:17]) == "X"
    assert validate_id(EXAMPLE) is None


def test_rejects_wrong_check_digit_and_dates() -> None:
    assert validate_id("110105194912310021") == "身份证号校验码不正确"
    assert validate_id("110105194902300021") == "身份证号中的出生日期不存在"
    assert validate_id("12345") is not None


def test_mask() -> None:
    assert mask_id(EXAMPLE) == "1101**********002X"
    assert mask_id("p1") == "p1"
