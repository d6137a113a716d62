"""Errors of `healthequity.stats`: each names what was wrong, and where."""

from __future__ import annotations


class StatsError(Exception):
    """Base class of the statistics errors."""


class InvalidInputError(StatsError, ValueError):
    """Input data that a method cannot use. Names the column and the first offending row
    (1-based, counting data rows, not the header) when there is one."""

    def __init__(self, problem: str, *, column: str | None = None, row: int | None = None) -> None:
        where = []
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)
        self.column = column
        self.row = row
        self.problem = problem


class MissingColumnError(InvalidInputError):
    """A column the method needs is not in the data."""

    def __init__(self, column: str, available: list[str]) -> None:
        super().__init__(
            f"not in the data (its columns are {', '.join(map(repr, available))})", column=column
        )


class InvalidConfidenceError(StatsError, ValueError):
    """A confidence level outside the range the methods accept."""


class StatsWarning(UserWarning):
    """A result was produced, but not for everything asked: the message says what was left
    out and why (filter with `warnings.simplefilter("error", StatsWarning)` to refuse)."""
