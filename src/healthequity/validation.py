"""Single values typed into forms: each cleaner gives the value to store, or raises
ValueError with a message that says what is expected, in the NHS.UK style. Shared by every
capability whose forms take contact details."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from healthequity.geography import InvalidPostcode, normalise_postcode

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def clean_text(value: str | None, *, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValueError(f"must be {limit} characters or fewer")
    return text or None


def clean_email(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError("Enter an email address in the correct format, like name@example.org")
    return text


def clean_url(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if len(text) > 500 or parts.scheme not in ("http", "https") or "." not in parts.netloc:
        raise ValueError(
            "Enter a web address starting http:// or https://, like https://www.example.org"
        )
    return text


def clean_phone(value: str) -> str | None:
    """A UK phone number: 0 then 9 or 10 digits (+44 allowed), or a short code like 111."""
    text = value.strip()
    if not text:
        return None
    digits = re.sub(r"[\s()-]", "", text)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("(0)").removeprefix("0")
    short_code = digits.isdigit() and digits.startswith("1") and len(digits) in (3, 5, 6)
    national = digits.isdigit() and digits.startswith("0") and len(digits) in (10, 11)
    if not (short_code or national) or len(text) > 40:
        raise ValueError("Enter a UK phone number, like 0113 496 0000 or 07700 900 982")
    return text


def clean_postcode(value: str) -> str:
    try:
        return normalise_postcode(value)
    except InvalidPostcode:
        raise ValueError("Enter a real UK postcode, like LS1 4AP") from None
