"""A letter laid out on A4: the letterhead (organisation and sender), the recipient's
address, the date, the text in paragraphs and lists, the signature block, and a footer
naming the person on every page; as HTML and as PDF (WeasyPrint).

The letter's text is plain text (a template's output, then the clinician's changes): it is
escaped here, where it becomes HTML, by an environment with autoescape on. The HTML refers
to nothing outside itself (no images, style sheets or web fonts), so WeasyPrint fetches
nothing; the fonts are the system's, by a generic sans-serif stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from weasyprint import HTML

from healthequity.letters.filling import tidy

_BULLET = re.compile(r"^[-*\u2022]\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# Autoescape on: every value in the letter is text, never markup.
_ENVIRONMENT = Environment(
    loader=PackageLoader("healthequity.letters", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (its lines kept), a bulleted list, or the subject line ("Re: ...")."""

    kind: Literal["paragraph", "list", "subject"]
    lines: tuple[str, ...]


def _kind(lines: list[str], is_list: bool) -> Literal["paragraph", "list", "subject"]:
    if is_list:
        return "list"
    return "subject" if lines[0].startswith("Re:") else "paragraph"


def blocks_of(text: str) -> tuple[Block, ...]:
    """The letter's text as blocks: paragraphs are separated by blank lines; lines starting
    "- " (or "* ", "• ") make a list; a paragraph starting "Re:" is the subject line."""
    blocks: list[Block] = []
    for chunk in _PARAGRAPH_BREAK.split(tidy(text)):
        run: list[str] = []
        run_is_list = False
        for line in [*chunk.split("\n"), None]:
            is_item = line is not None and _BULLET.match(line) is not None
            if run and (line is None or is_item != run_is_list):
                blocks.append(Block(_kind(run, run_is_list), tuple(run)))
                run = []
            if line is not None and line.strip():
                run.append(_BULLET.sub("", line) if is_item else line)
                run_is_list = is_item
    return tuple(blocks)


@dataclass(frozen=True, slots=True)
class LetterPage:
    """Everything printed on the letter."""

    title: str
    organisation: str
    sender_name: str
    sender_role: str
    sender_email: str | None
    recipient_name: str
    recipient_address: tuple[str, ...]
    date: str
    blocks: tuple[Block, ...]
    about: str  # the person, in the footer of every page
    reference: str | None  # the letter's id once issued
    created_at: datetime


def letter_html(page: LetterPage) -> str:
    return _ENVIRONMENT.get_template("letters/letter_pdf.html").render(letter=page)


def letter_pdf(page: LetterPage) -> bytes:
    """The letter as a PDF (A4). The same page gives the same bytes."""
    document: bytes = HTML(string=letter_html(page)).write_pdf()
    return document
