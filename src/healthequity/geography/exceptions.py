"""Errors raised by `healthequity.geography`; all are `GeographyError`s."""

from __future__ import annotations

from pathlib import Path


class GeographyError(Exception):
    """Base class of the geography package's errors."""


class InvalidAreaCode(GeographyError, ValueError):
    """An area code that is malformed for the kind of area asked for."""

    def __init__(self, value: str, expected: str) -> None:
        super().__init__(f"invalid area code {value!r}: expected {expected}")
        self.value = value


class UnknownArea(GeographyError, LookupError):
    """A well-formed area code that names no area in England's reference geography."""

    def __init__(self, value: str, kind: str) -> None:
        super().__init__(f"unknown {kind} {value!r}: not in England's reference geography")
        self.value = value


class InvalidPostcode(GeographyError, ValueError):
    """A value that is not in the format of a UK postcode."""

    def __init__(self, value: str) -> None:
        super().__init__(f"invalid postcode {value!r}: expected a UK postcode such as 'SW1A 1AA'")
        self.value = value


class UnknownPostcode(GeographyError, LookupError):
    """A valid postcode that the postcode directory lacks or maps to no LSOA."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"unknown postcode {value!r}: {reason}")
        self.value = value


class PostcodeFileError(GeographyError):
    """A postcode directory file that cannot be read as one."""

    def __init__(
        self, path: Path, problem: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.column = column
