"""NHS numbers: 10 digits, the last a modulus 11 check digit of the first nine.

The check (NHS Data Dictionary, "NHS Number"): multiply the first nine digits by 10, 9, ...,
2; add the products; the check digit is 11 minus the remainder of the sum divided by 11,
with 11 read as 0. A result of 10 means that no NHS number starts with those nine digits.
Numbers of one repeated digit (0000000000, 1111111111...) pass the arithmetic but are never
issued, so they are refused too. The range 999 000 0000 to 999 999 9999 is kept for testing
and is never issued to a person.
"""

from __future__ import annotations

import re

from healthequity.people.exceptions import InvalidNhsNumber

EXAMPLE = "943 476 5919"
# Spaces and dashes, as people copy the number from letters ("943 476 5919", "943-476-5919").
_SEPARATORS = re.compile(r"[\s-]+")
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """The check digit of nine digits, or None when it would be 10 (no such NHS number)."""
    if len(first_nine) != 9 or not first_nine.isdigit() or not first_nine.isascii():
        raise ValueError(f"expected 9 digits, got {first_nine!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def normalise_nhs_number(value: str) -> str:
    """The NHS number as its 10 digits, from any spacing or dashes.

    Raises InvalidNhsNumber, whose `reason` says what is wrong in words for a form.
    """
    digits = _SEPARATORS.sub("", value)
    if len(digits) != 10 or not digits.isdigit() or not digits.isascii():
        raise InvalidNhsNumber(
            value, f"An NHS number is 10 digits, like {EXAMPLE}: check it and enter it again"
        )
    if len(set(digits)) == 1:
        raise InvalidNhsNumber(
            value, "An NHS number is never one digit repeated: check it and enter it again"
        )
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise InvalidNhsNumber(
            value,
            f"{format_digits(digits)} is not a valid NHS number: its last digit does not match "
            "the others, so a digit may be mistyped. Check it and enter it again",
        )
    return digits


def is_valid_nhs_number(value: str) -> bool:
    try:
        normalise_nhs_number(value)
    except InvalidNhsNumber:
        return False
    return True


def format_digits(digits: str) -> str:
    """Ten digits grouped 3 3 4, as the NHS prints them, checked or not."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def format_nhs_number(value: str) -> str:
    """A valid NHS number as the NHS prints it: "943 476 5919". InvalidNhsNumber otherwise."""
    return format_digits(normalise_nhs_number(value))
