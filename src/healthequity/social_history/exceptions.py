"""Errors of the social history: instruments and mappings that cannot be loaded, answers that do
not fit their questionnaire, records that do not exist, and one-time links that no longer work."""

from __future__ import annotations

from pathlib import Path


class SocialHistoryError(Exception):
    """Base of the social history's expected errors."""


class InvalidInstrument(SocialHistoryError):
    """An instrument file that is not a valid FHIR R4 Questionnaire, or breaks our rules for one."""

    def __init__(self, path: Path, error: str) -> None:
        super().__init__(f"{path}: {error}")
        self.path = path
        self.error = error


class InvalidNeedMapping(SocialHistoryError):
    """A row of the answer-to-need mapping that does not fit the instruments or the vocabularies
    (`line` is None when the problem is a row that is missing)."""

    def __init__(self, path: Path, line: int | None, error: str) -> None:
        where = str(path) if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {error}")
        self.path = path
        self.line = line
        self.error = error


class UnknownInstrument(SocialHistoryError, LookupError):
    """No instrument with that url (and version)."""


class AnswerError(SocialHistoryError, ValueError):
    """Answers that do not fit their questionnaire: `errors` maps each question's linkId to what
    is wrong with its answer and what was expected."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{link_id}: {message}" for link_id, message in errors.items()))
        self.errors = errors


class RecordNotFound(SocialHistoryError, LookupError):
    """No person, response or need with that id."""


class NotReviewable(SocialHistoryError, ValueError):
    """A response that needs no review: a clinician recorded it, or it was reviewed already."""


class InvalidPriority(SocialHistoryError, ValueError):
    """A priority that is not a whole number from 1 (what matters most to the person)."""


class InvalidLinkValidity(SocialHistoryError, ValueError):
    """A one-time link asked to be valid for no time, or less."""


class PatientLinkError(SocialHistoryError):
    """A one-time link that cannot be used; the message says why and what to do."""


class PatientLinkUnknown(PatientLinkError, LookupError):
    """No link has this secret."""


class PatientLinkUsed(PatientLinkError):
    """The link has been used already: each works once."""


class PatientLinkExpired(PatientLinkError):
    """The link's time ran out before it was used."""
