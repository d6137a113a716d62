"""Errors of the directory's ORUK mapping, import and feed client."""

from __future__ import annotations

from dataclasses import dataclass


class DirectoryError(Exception):
    """Base of the directory's expected errors (bad input, unreachable feeds)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one record: which record, where in it, and what.

    `record` is the record's id (or "record 3" when it has none, or "row 7" of a CSV file);
    `where` is a JSON pointer into the record ("/service_at_locations/0/location/id") or,
    for a CSV file, the column name.
    """

    record: str
    where: str
    message: str

    def __str__(self) -> str:
        where = self.where or "/"
        return f"{self.record} at {where}: {self.message}"


class InvalidRecord(DirectoryError):
    """A record that does not meet the ORUK schema (or cannot be stored)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class ImportRejected(DirectoryError):
    """An all-or-nothing import that imported nothing because some records were invalid."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        shown = "; ".join(str(problem) for problem in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        records = len({problem.record for problem in problems})
        super().__init__(
            f"nothing imported: {records} of {total} records invalid: {shown}{more}"
            " (use --skip-invalid to import the valid ones)"
        )


class FeedUnavailable(DirectoryError):
    """An ORUK feed that could not be reached or read, after the retries."""


class UnknownRecord(DirectoryError):
    """A record id the directory does not hold."""
