"""GB 11643 check digit and masking of 身份证号."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jiuzhu.domain.ids import check_digit, mask_id, mask_ids_in, mask_value, validate_id

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


def test_ids_inside_longer_texts_are_masked_whole() -> None:
    pid = "371502198001010050"
    masked = "3715**********0050"
    assert mask_ids_in(f"{pid}.xlsx") == f"{masked}.xlsx"
    assert mask_ids_in(f"{pid}的名单.csv") == f"{masked}的名单.csv"
    assert mask_ids_in("11010519491231002X 张三") == "1101**********002X 张三"
    # digits before or after the ID: the run is masked whole, never showing more of the ID
    assert mask_ids_in(f"2023{pid}.xlsx") == "2023" + "*" * 14 + "0050.xlsx"
    assert mask_ids_in(f"{pid}12") == "3715" + "*" * 12 + "5012"
    assert (
        mask_ids_in("TK001, 2023-01-01, 电话 13800138000") == "TK001, 2023-01-01, 电话 13800138000"
    )


@given(
    st.text(alphabet="0123456789", min_size=15, max_size=30),
    st.text(alphabet="ab-_. 名单", max_size=5),
    st.text(alphabet="ab-_. 名单", max_size=5),
)
def test_no_more_than_eight_characters_of_a_digit_run_show(run: str, pre: str, post: str) -> None:
    out = mask_ids_in(pre + run + post)
    assert out == pre + run[:4] + "*" * (len(run) - 8) + run[-4:] + post


@given(st.text(alphabet="0123456789Xx", min_size=1, max_size=24))
def test_a_malformed_id_typed_is_never_echoed(typed: str) -> None:
    """What was typed as an ID number shows at most its first and last four characters,
    and nothing of a short one, whether or not it is a valid ID."""
    shown = mask_value(typed)
    assert len(shown) == len(typed)
    if len(typed) >= 9:
        assert shown == typed[:4] + "*" * (len(typed) - 8) + typed[-4:]
    else:
        assert shown == "*" * len(typed)


def test_a_settlement_refuses_a_malformed_id_without_echoing_it() -> None:
    from jiuzhu.usecases.errors import Refused
    from jiuzhu.usecases.settle import person_id_of

    typo = "37150219900101123"  # a digit missing
    try:
        person_id_of({"person_id": typo})
    except Refused as refused:
        text = str(refused.errors)
    else:
        raise AssertionError("not refused")
    assert typo not in text and "3715*********1123" in text and "18位" in text
