"""NHS numbers: the modulus 11 check digit, input with spaces or dashes, the refusals the
NHS's guidance asks for, and the printed form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthequity.people.exceptions import InvalidNhsNumber
from healthequity.people.nhs_number import (
    check_digit,
    format_nhs_number,
    is_valid_nhs_number,
    normalise_nhs_number,
)

# Valid NHS numbers: examples in NHS Digital's documentation, and one of the test range.
VALID = ("9434765919", "9434765870", "4010232137", "9990001286")


@pytest.mark.parametrize("number", VALID)
def test_known_valid_numbers(number: str) -> None:
    assert normalise_nhs_number(number) == number
    assert is_valid_nhs_number(number)


def test_the_check_digit_of_a_known_number_worked_by_hand() -> None:
    # 9 4 3 4 7 6 5 9 1 weighted 10..2: 90+36+24+28+42+30+20+27+2 = 299; 299 % 11 = 2;
    # 11 - 2 = 9, the tenth digit of 943 476 5919.
    assert check_digit("943476591") == 9


@pytest.mark.parametrize(
    "typed", ["943 476 5919", "943-476-5919", " 9434765919 ", "943  476\t5919", "943 - 476 - 5919"]
)
def test_spaces_and_dashes_are_allowed_and_dropped(typed: str) -> None:
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("9434765918", "last digit does not match"),  # check digit wrong by one
        ("9434765191", "last digit does not match"),  # two digits swapped
        ("943476591", "is 10 digits"),
        ("94347659190", "is 10 digits"),
        ("943476591X", "is 10 digits"),
        ("943.476.5919", "is 10 digits"),
        ("", "is 10 digits"),
        ("".join(chr(0xFF10 + int(d)) for d in "9434765919"), "is 10 digits"),  # full-width
        ("0000000000", "never one digit repeated"),
        ("1111111111", "never one digit repeated"),
        ("9999999999", "never one digit repeated"),
        # The first nine digits give a check digit of 10: no NHS number starts so.
        ("1000000010", "last digit does not match"),
    ],
)
def test_invalid_numbers_are_refused_saying_why(typed: str, reason: str) -> None:
    with pytest.raises(InvalidNhsNumber, match="is not valid") as raised:
        normalise_nhs_number(typed)
    assert reason in raised.value.reason
    assert raised.value.value == typed
    assert not is_valid_nhs_number(typed)


def test_check_digit_ten_means_no_number() -> None:
    assert check_digit("100000001") is None


def test_check_digit_needs_nine_digits() -> None:
    with pytest.raises(ValueError, match="expected 9 digits"):
        check_digit("12345678")


def test_format_groups_three_three_four() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943-476-5919") == "943 476 5919"
    with pytest.raises(InvalidNhsNumber):
        format_nhs_number("9434765918")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_nine_digits_with_their_check_digit_validate(first_nine: str) -> None:
    weighted = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    digit = (11 - weighted % 11) % 11  # 11 reads as 0
    if digit == 10:
        assert check_digit(first_nine) is None
        return
    number = f"{first_nine}{digit}"
    if len(set(number)) == 1:
        assert not is_valid_nhs_number(number)
        return
    assert normalise_nhs_number(number) == number
    assert format_nhs_number(number).replace(" ", "") == number
    # And every other last digit is refused.
    for other in "0123456789":
        if other != str(digit):
            assert not is_valid_nhs_number(f"{first_nine}{other}")
