"""Filling a letter template: the placeholders a template may use, the sandbox it runs in,
and the checks a template's text passes before it is saved.

A template is Jinja2 (`{{ person.name }}`, `{% for need in needs %}...{% endfor %}`) run in
a `SandboxedEnvironment`, so that an organisation's template cannot reach anything but the
values given to it. It gives the letter's plain text, which the clinician then checks and
changes: it is not HTML, so nothing is escaped here; the letter layout escapes the text
when it becomes HTML (see `letters.layout`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

BODY_LIMIT = 20_000  # characters of a template's text
TEXT_LIMIT = 30_000  # characters of a filled letter
RANGE_LIMIT = 1_000  # items of range() in a template
REPEAT_LIMIT = 5_000  # items or characters that `*` may make
TEMPLATE_FILE = "<template>"  # the name Jinja2 gives a template made from a string


@dataclass(frozen=True, slots=True)
class PersonValues:
    name: str
    first_name: str
    last_name: str
    date_of_birth: str  # like "14 June 1948"; "" if not recorded
    age: str
    nhs_number: str  # like "943 476 5919"; "" if none
    postcode: str


@dataclass(frozen=True, slots=True)
class NeedValues:
    name: str
    findings: str  # what the social history found, like "Lives in damp conditions"
    level: str  # "urgent", "need" or "at risk"


@dataclass(frozen=True, slots=True)
class ClinicianValues:
    name: str
    role: str
    organisation: str
    email: str


@dataclass(frozen=True, slots=True)
class RecipientValues:
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class LetterValues:
    """Everything a template may use, by the names it uses."""

    person: PersonValues
    needs: tuple[NeedValues, ...]
    clinician: ClinicianValues
    recipient: RecipientValues
    extra_text: str
    today: str

    def as_context(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _names(kind: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(kind))


# The placeholders: objects with their attributes, lists with the attributes of an item,
# and plain values.
OBJECTS: dict[str, tuple[str, ...]] = {
    "person": _names(PersonValues),
    "clinician": _names(ClinicianValues),
    "recipient": _names(RecipientValues),
}
LISTS: dict[str, tuple[str, ...]] = {"needs": _names(NeedValues)}
VALUES = ("extra_text", "today")

# For the template editor: each placeholder and what it gives.
PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    ("person.name", "the person's full name"),
    ("person.first_name", "their first name"),
    ("person.last_name", "their last name"),
    ("person.date_of_birth", "their date of birth, like 14 June 1948 (empty if not recorded)"),
    ("person.age", "their age in years"),
    ("person.nhs_number", "their NHS number, like 943 476 5919 (empty if they have none)"),
    ("person.postcode", "their postcode (empty if not recorded)"),
    ("needs", "the needs from their social history that the clinician chooses to mention"),
    ("need.name", "inside {% for need in needs %}: the need, like Housing"),
    ("need.findings", "what the social history found, like Lives in damp conditions"),
    ("need.level", "urgent, need or at risk"),
    ("extra_text", "what the clinician writes for this letter"),
    ("clinician.name", "the clinician's name"),
    ("clinician.role", "their job title, like GP"),
    ("clinician.organisation", "their organisation"),
    ("clinician.email", "their email address"),
    ("recipient.name", "who the letter is to"),
    ("recipient.address", "their address"),
    ("today", "today's date, like 22 November 2026"),
)


# A line of statement tags and comments only; a tag ends at its first "%}".
_TAG_LINE = re.compile(
    r"^([ \t]*(?:(?:\{%(?:(?!%\}).)*%\}|\{#(?:(?!#\}).)*#\})[ \t]*)+)\n", re.MULTILINE
)


class TagLines(Extension):
    """A line holding only tags (`{% if needs %}`, `{% endfor %}`) leaves nothing in the
    letter, not even its line end, while a tag within a line of text takes nothing away.
    The line end goes into a comment, so that errors still give the line as typed."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _TAG_LINE.sub(lambda match: match.group(1) + "{#\n#}", source)


class LetterSandbox(SandboxedEnvironment):
    """The sandbox, with limits on what one template can make: a slip like
    `{{ "-" * 1000000000 }}` is refused instead of filling the server's memory."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            extensions=[TagLines],
        )
        self.globals["range"] = _limited_range

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("a power above 64 is not allowed in a letter template")
        if operator == "*":
            sizes = [len(v) if isinstance(v, str | list | tuple) else None for v in (left, right)]
            for size, other in ((sizes[0], right), (sizes[1], left)):
                if size is not None and isinstance(other, int) and size * other > REPEAT_LIMIT:
                    raise SecurityError(
                        f"repeating text more than {REPEAT_LIMIT} characters long is not "
                        "allowed in a letter template"
                    )
        return super().call_binop(context, operator, left, right)


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > RANGE_LIMIT:
        raise SecurityError(f"range() may give at most {RANGE_LIMIT} numbers in a letter template")
    return numbers


SANDBOX = LetterSandbox()


# Checking a template's text before it is saved.


def _error_line(error: BaseException) -> int | None:
    """The template line an error was raised at (Jinja2 puts template frames in the
    traceback under the template's name)."""
    line = getattr(error, "lineno", None)
    traceback: TracebackType | None = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line if isinstance(line, int) else None


def _at(line: int | None, message: str) -> str:
    return f"Line {line}: {message}" if line else message


def _unknown(placeholder: str, known: list[str]) -> str:
    """Names an unknown placeholder with the one surely meant (a slip of the keyboard:
    "frist_name"), else those there are: a looser guess misleads ("label" for "level")."""
    close = difflib.get_close_matches(placeholder, known, n=1, cutoff=0.85)
    hint = f"did you mean {close[0]}?" if close else f"use one of {', '.join(known)}"
    return f"there is no placeholder {placeholder}: {hint}"


def _all_placeholders() -> list[str]:
    names = [f"{name}.{attribute}" for name, attrs in OBJECTS.items() for attribute in attrs]
    return [*names, *LISTS, *VALUES]


# What each name means where it is used: the attributes of a known object or list item,
# or None for anything (a name the template sets itself, or a list of ours).
Scope = dict[str, tuple[str, ...] | None]


def _local_names(tree: nodes.Template) -> Scope:
    """Names the template makes itself ({% set %}, macro arguments, {% with %}): anything
    goes with them, wherever they are used."""
    found: Scope = {}
    for name in tree.find_all(nodes.Name):
        if name.ctx in ("store", "param"):
            found[name.name] = None
    for macro in tree.find_all(nodes.Macro):
        found[macro.name] = None
    return found


def _check_node(node: nodes.Node, scope: Scope, problems: list[tuple[int, str]]) -> None:
    if isinstance(node, nodes.For):
        _check_node(node.iter, scope, problems)
        inside: Scope = {**scope, "loop": None}
        item_attributes = LISTS.get(node.iter.name) if isinstance(node.iter, nodes.Name) else None
        if isinstance(node.target, nodes.Name):
            inside[node.target.name] = item_attributes
        else:  # unpacked: {% for a, b in ... %}
            inside.update((target.name, None) for target in node.target.find_all(nodes.Name))
        for child in [*node.body, *([node.test] if node.test else [])]:
            _check_node(child, inside, problems)
        for child in node.else_:
            _check_node(child, scope, problems)
        return
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        name = node.node.name
        if name not in scope:
            problems.append((node.lineno, _unknown(f"{name}.{node.attr}", _all_placeholders())))
            return
        attributes = scope[name]
        if attributes is not None and node.attr not in attributes:
            known = [f"{name}.{attribute}" for attribute in attributes]
            problems.append((node.lineno, _unknown(f"{name}.{node.attr}", known)))
        return
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in scope:
        problems.append((node.lineno, _unknown(node.name, _all_placeholders())))
        return
    for child in node.iter_child_nodes():
        _check_node(child, scope, problems)


def _sample_values() -> LetterValues:
    """Values of every placeholder, none empty, to try a template with."""
    return LetterValues(
        person=PersonValues(
            name="Sample Person",
            first_name="Sample",
            last_name="Person",
            date_of_birth="1 January 1970",
            age="56",
            nhs_number="943 476 5919",
            postcode="LS1 4AP",
        ),
        needs=(
            NeedValues("Housing", "Housing unsatisfactory", "need"),
            NeedValues("Debt", "Financial insecurity", "at risk"),
        ),
        clinician=ClinicianValues("Dr Sample", "GP", "Sample Practice", "gp@example.org"),
        recipient=RecipientValues("Housing Options", "1 Sample Street\nLeeds\nLS1 1AA"),
        extra_text="Sample text the clinician adds.",
        today="1 January 2026",
    )


def check_body(body: str) -> list[str]:
    """What is wrong with a template's text, each problem with its line; [] if nothing.

    Checked: that it is a template at all (syntax, known filters), that every placeholder
    is one of `PLACEHOLDERS` (in every branch, not only the ones a sample takes), and that
    it fills in with sample values within the sandbox's limits.
    """
    if not body.strip():
        return ["Enter the text of the letter"]
    if len(body) > BODY_LIMIT:
        return [f"The text must be {BODY_LIMIT:,} characters or fewer (it is {len(body):,})"]
    try:
        tree = SANDBOX.parse(body)
        template = SANDBOX.from_string(body)
    except TemplateSyntaxError as error:
        return [_at(error.lineno, f"this is not a template the letters can use: {error.message}")]
    scope: Scope = {**OBJECTS, **dict.fromkeys([*LISTS, *VALUES, *SANDBOX.globals])}
    scope.update(_local_names(tree))
    problems: list[tuple[int, str]] = []
    _check_node(tree, scope, problems)
    if problems:
        return [_at(line, message) for line, message in sorted(problems)]
    try:
        filled = template.render(_sample_values().as_context())
    except Exception as error:  # whatever a template does wrong, say where
        return [_at(_error_line(error), f"the template cannot be filled in: {error}")]
    if len(filled) > TEXT_LIMIT:
        return [f"The letter it makes is longer than {TEXT_LIMIT:,} characters"]
    return []


_BLANK_LINES = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Text as a letter keeps it: Unix line ends, no spaces at line ends, no more than one
    blank line in a row (left by parts a template leaves out), no blank start or end."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def fill(body: str, values: LetterValues) -> str:
    """The letter's text from a template checked with `check_body`."""
    return tidy(SANDBOX.from_string(body).render(values.as_context()))
