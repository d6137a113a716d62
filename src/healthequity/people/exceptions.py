"""Errors of the people capability; all are `PeopleError`s."""

from __future__ import annotations


class PeopleError(Exception):
    """Base class of the people capability's expected errors."""


class InvalidNhsNumber(PeopleError, ValueError):
    """A value that is not a valid NHS number: `reason` says what is wrong, in words a
    person reading the form understands."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"NHS number {value!r} is not valid: {reason}")
        self.value = value
        self.reason = reason


class PersonNotFound(PeopleError, LookupError):
    """No person record has that id."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"no person record has id {person_id!r}")
        self.person_id = person_id


class StalePersonUpdate(PeopleError):
    """An update made from an out-of-date copy of the record: someone else saved a change
    after it was read. Nothing was written; reload the record and apply the change again."""

    def __init__(self, person_id: str, name: str, expected: int, current: int | None) -> None:
        now = f"it is now at version {current}" if current is not None else "it has changed"
        super().__init__(
            f"the person record {person_id} ({name}) was changed by someone else since it was "
            f"read (you had version {expected}; {now}): reload it and make the change again"
        )
        self.person_id = person_id
        self.expected = expected
        self.current = current


class DuplicateNhsNumber(PeopleError):
    """A record with this NHS number exists already: one person, one record."""

    def __init__(self, nhs_number: str, person_id: str) -> None:
        super().__init__(
            f"a person record with NHS number {nhs_number} exists already ({person_id})"
        )
        self.nhs_number = nhs_number
        self.person_id = person_id


class PersonAccessDenied(PeopleError):
    """The viewer is not in the person's care team (and is not an administrator)."""

    def __init__(self, person_id: str) -> None:
        super().__init__(
            f"you are not in the care team of person {person_id}: ask a clinician of the "
            "organisation that holds the record to add you"
        )
        self.person_id = person_id


class UnknownCareTeamUser(PeopleError, LookupError):
    """A care team change naming a user who does not exist or is disabled."""
