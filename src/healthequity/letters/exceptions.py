"""Errors of the letters capability; all are `LettersError`s."""

from __future__ import annotations


class LettersError(Exception):
    """Base class of the letters capability's expected errors."""


class FieldErrors(LettersError, ValueError):
    """Input with wrong fields: `errors` lists (field, what is wrong and what was expected),
    in the order of the form's fields."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors))
        self.errors = errors


class InvalidTemplate(FieldErrors):
    """A template that cannot be saved: no name, an unknown recipient, or a body that is not
    a template (each body problem names its line)."""


class InvalidLetter(FieldErrors):
    """A letter that cannot be filled in or issued: a missing recipient, no text..."""


class InvalidBuiltinTemplate(LettersError):
    """A built-in template file that cannot be read or is not a valid template."""

    def __init__(self, file_name: str, error: str) -> None:
        super().__init__(f"built-in letter template {file_name}: {error}")
        self.file_name = file_name
        self.error = error


class TemplateNotFound(LettersError, LookupError):
    """No template with that id that the user may use."""

    def __init__(self, template_id: str, version: int | None = None) -> None:
        what = f"version {version} of letter template" if version else "letter template"
        super().__init__(f"there is no {what} {template_id!r} that you may use")
        self.template_id = template_id


class TemplateNotEditable(LettersError):
    """A built-in template, or another organisation's: copy it to change it."""


class StaleTemplate(LettersError):
    """A template edited from an older version than the one saved now: nothing was saved."""

    def __init__(self, name: str, expected: int, current: int) -> None:
        super().__init__(
            f"someone saved version {current} of {name!r} while you were changing version "
            f"{expected}: check their version, then save your changes again"
        )
        self.expected = expected
        self.current = current


class LetterNotFound(LettersError, LookupError):
    """No letter with that id for that person."""

    def __init__(self, letter_id: str) -> None:
        super().__init__(f"there is no letter {letter_id!r} for this person")
        self.letter_id = letter_id


class LetterAltered(LettersError):
    """The stored PDF no longer matches the SHA-256 recorded when it was issued."""
