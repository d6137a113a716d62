"""Instruments as data: FHIR R4 Questionnaires shipped as JSON files in `instruments/`, each
validated with `fhir.resources` (R4B) when loaded and known by its url and version, and the
mapping from answers to needs in `answer_needs.csv`.

A file that is not a valid Questionnaire, or that breaks the rules below, is refused at load with
InvalidInstrument naming the file and the error; a mapping row that does not fit is refused with
InvalidNeedMapping naming the file, the line and the error.

Two extensions of ours carry meaning in the files:

- `ANSWER_SHOWS_NEED` on an answerOption (valueBoolean true): choosing that answer shows a need.
  Every such answer has a row in the mapping, and every mapping row of a choice answer is on
  such an answer, so the instrument and the mapping cannot drift apart.
- `SENSITIVE_ITEM` on an item (valueBoolean true): its answers are sensitive (domestic abuse,
  safeguarding, immigration), for clinical users in the person's care team only. Every mapping
  row of a sensitive item, or of a sensitive need, is marked sensitive.

Scores use the standard `ordinalValue` extension on answer options: a mapping row on a group with
the answer code `score>=N` shows a need when the ordinal values of the answers to the group's
questions add up to N or more (the PHQ-2 cut-off of 3, for example).

Answers are `{linkId: [value, ...]}`: a choice answer is its code, a boolean answer is true or
false, a string answer is the text. Only the question types and enableWhen forms the shipped
instruments use are supported; any other is refused at load, never silently ignored.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem
from pydantic import ValidationError

from healthequity.needs import NEEDS_BY_CODE
from healthequity.social_history.exceptions import (
    AnswerError,
    InvalidInstrument,
    InvalidNeedMapping,
    UnknownInstrument,
)
from healthequity.social_history.models import NeedLevel

# Our own canonical base for the instruments, their code systems and extensions.
FHIR_BASE = "https://healthequity.example/fhir"
ANSWER_SHOWS_NEED = f"{FHIR_BASE}/StructureDefinition/answer-shows-need"
SENSITIVE_ITEM = f"{FHIR_BASE}/StructureDefinition/sensitive-item"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

INSTRUMENTS_DIR = Path(__file__).with_name("instruments")
NEED_MAPPING_FILE = Path(__file__).with_name("answer_needs.csv")
MAPPING_COLUMNS = (
    "questionnaire_url",
    "questionnaire_version",
    "link_id",
    "answer_code",
    "need_code",
    "level",
    "snomed_code",
    "snomed_display",
    "sensitive",
    "reference",
)

ANSWERABLE_TYPES = ("boolean", "choice", "string", "text")
ITEM_TYPES = ("group", "display", *ANSWERABLE_TYPES)
STATUSES = ("draft", "active", "retired", "unknown")
MAX_TEXT_ANSWER = 2000
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_SCORE_RULE = re.compile(r"^score>=(\d+)$")

AnswerValue = str | bool
Answers = dict[str, list[AnswerValue]]


@dataclass(frozen=True, slots=True)
class AnswerChoice:
    code: str
    display: str
    system: str | None
    shows_need: bool
    ordinal: Decimal | None


@dataclass(frozen=True, slots=True)
class EnableCondition:
    """enableWhen with the "=" operator: asked when `question`'s answers include `answer`."""

    question: str
    answer: AnswerValue

    def describe(self) -> str:
        return f"{self.question!r} is {self.answer!r}"


@dataclass(frozen=True, slots=True)
class Question:
    """One item of a questionnaire: a question, a group of them, or a display text."""

    link_id: str
    text: str
    type: str
    repeats: bool
    sensitive: bool
    choices: tuple[AnswerChoice, ...]
    enable_when: tuple[EnableCondition, ...]
    enable_when_any: bool
    parent: str | None
    children: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES

    def choice(self, code: str) -> AnswerChoice | None:
        return next((choice for choice in self.choices if choice.code == code), None)


@dataclass(frozen=True, slots=True)
class NeedRule:
    """One row of the mapping: an answer (or a group score) that shows a need."""

    link_id: str
    answer_code: str
    threshold: int | None  # for "score>=N" rows on a group
    need_code: str
    level: NeedLevel
    snomed_code: str
    snomed_display: str
    sensitive: bool
    reference: str


@dataclass(frozen=True, slots=True)
class NeedFinding:
    """A need that answers show: what, how much, its SNOMED CT finding, and which question."""

    link_id: str
    answer_code: str
    need_code: str
    level: NeedLevel
    snomed_code: str
    snomed_display: str
    sensitive: bool


@dataclass(frozen=True, slots=True)
class Instrument:
    url: str
    version: str
    title: str
    path: Path
    resource: Questionnaire
    questions: dict[str, Question]  # every item by linkId, in document order
    rules: tuple[NeedRule, ...]  # in the order of the questions and their answers

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def answerable(self) -> list[Question]:
        return [question for question in self.questions.values() if question.answerable]


class InstrumentLibrary:
    """Every loaded instrument, by url and version."""

    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self._by_key = {(i.url, i.version): i for i in instruments}

    def instruments(self) -> list[Instrument]:
        return sorted(self._by_key.values(), key=lambda i: (i.url, _version_key(i.version)))

    def get(self, url: str, version: str | None = None) -> Instrument:
        versions = [i for (known_url, _), i in self._by_key.items() if known_url == url]
        if not versions:
            known = ", ".join(sorted({known_url for known_url, _ in self._by_key}))
            raise UnknownInstrument(f"no instrument {url!r}: expected one of {known}")
        if version is None:
            return max(versions, key=lambda i: _version_key(i.version))
        for instrument in versions:
            if instrument.version == version:
                return instrument
        known = ", ".join(i.version for i in versions)
        raise UnknownInstrument(f"instrument {url!r} has no version {version!r}: expected {known}")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# Loading and checking the files


def _extension_flag(extensions: Sequence[Extension] | None, url: str) -> bool:
    return any(e.url == url and e.valueBoolean is True for e in extensions or ())


def _ordinal(extensions: Sequence[Extension] | None) -> Decimal | None:
    for extension in extensions or ():
        if extension.url == ORDINAL_VALUE and extension.valueDecimal is not None:
            return Decimal(str(extension.valueDecimal))
    return None


def _choices(item: QuestionnaireItem) -> tuple[AnswerChoice, ...]:
    if item.answerValueSet is not None:
        raise ValueError(f"item {item.linkId!r} uses answerValueSet: list answerOptions instead")
    choices: list[AnswerChoice] = []
    for option in item.answerOption or ():
        coding = option.valueCoding
        if coding is None or not coding.code:
            raise ValueError(f"item {item.linkId!r} has an answerOption without a valueCoding code")
        if any(choice.code == coding.code for choice in choices):
            raise ValueError(f"item {item.linkId!r} offers the answer {coding.code!r} twice")
        choices.append(
            AnswerChoice(
                code=coding.code,
                display=coding.display or coding.code,
                system=coding.system,
                shows_need=_extension_flag(option.extension, ANSWER_SHOWS_NEED),
                ordinal=_ordinal(option.extension),
            )
        )
    if not choices:
        raise ValueError(f"choice item {item.linkId!r} offers no answerOption")
    return tuple(choices)


def _conditions(
    item: QuestionnaireItem, known: Mapping[str, Question]
) -> tuple[EnableCondition, ...]:
    conditions: list[EnableCondition] = []
    for rule in item.enableWhen or ():
        target = known.get(rule.question or "")
        if target is None or not target.answerable:
            raise ValueError(
                f"item {item.linkId!r} is enabled by {rule.question!r}, which is not a question "
                "before it"
            )
        if rule.operator != "=":
            raise ValueError(
                f"item {item.linkId!r} uses the enableWhen operator {rule.operator!r}: expected '='"
            )
        answer: AnswerValue
        if target.type == "choice" and rule.answerCoding is not None and rule.answerCoding.code:
            if target.choice(rule.answerCoding.code) is None:
                raise ValueError(
                    f"item {item.linkId!r} is enabled by the answer {rule.answerCoding.code!r}, "
                    f"which {target.link_id!r} does not offer"
                )
            answer = rule.answerCoding.code
        elif target.type == "boolean" and rule.answerBoolean is not None:
            answer = rule.answerBoolean
        elif target.type in ("string", "text") and rule.answerString is not None:
            answer = rule.answerString
        else:
            raise ValueError(
                f"item {item.linkId!r} has an enableWhen answer that does not fit the "
                f"{target.type} question {target.link_id!r}"
            )
        conditions.append(EnableCondition(target.link_id, answer))
    if len(conditions) > 1 and item.enableBehavior not in ("all", "any"):
        raise ValueError(f"item {item.linkId!r} has several enableWhen but no enableBehavior")
    return tuple(conditions)


def _read_items(
    items: Sequence[QuestionnaireItem], parent: str | None, questions: dict[str, Question]
) -> tuple[str, ...]:
    """Add `items` (and their children) to `questions` in document order; their linkIds."""
    link_ids: list[str] = []
    for item in items:
        link_id = item.linkId or ""
        if link_id in questions:
            raise ValueError(f"linkId {link_id!r} is used twice")
        if item.type not in ITEM_TYPES:
            raise ValueError(
                f"item {link_id!r} has type {item.type!r}: expected one of " + ", ".join(ITEM_TYPES)
            )
        if item.type != "group" and item.item:
            raise ValueError(f"item {link_id!r} is a {item.type} with items: only groups nest")
        if item.type == "group" and not item.item:
            raise ValueError(f"group {link_id!r} holds no items")
        conditions = _conditions(item, questions)
        # Reserve the place in document order before the children are read.
        questions[link_id] = Question(
            link_id=link_id,
            text=item.text or "",
            type=item.type,
            repeats=bool(item.repeats),
            sensitive=_extension_flag(item.extension, SENSITIVE_ITEM),
            choices=_choices(item) if item.type == "choice" else (),
            enable_when=conditions,
            enable_when_any=item.enableBehavior == "any",
            parent=parent,
            children=(),
        )
        if item.type == "group":
            children = _read_items(item.item or (), link_id, questions)
            questions[link_id] = replace(questions[link_id], children=children)
        link_ids.append(link_id)
    return tuple(link_ids)


def _check_metadata(resource: Questionnaire) -> tuple[str, str, str]:
    """The url, version and title, once the metadata every instrument needs is there."""
    for name in ("url", "version", "title", "publisher", "item"):
        if not getattr(resource, name):
            raise ValueError(f"the Questionnaire has no {name}")
    url, version, title = resource.url or "", resource.version or "", resource.title or ""
    if not _VERSION.match(version):
        raise ValueError(f"version {version!r} is not numbers separated by dots, like 1.0.0")
    if resource.status not in STATUSES:
        raise ValueError(f"status {resource.status!r}: expected one of {', '.join(STATUSES)}")
    return url, version, title


def load_instrument(path: Path) -> Instrument:
    """One instrument file, checked; its mapping rules are added by `load_library`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInstrument(path, f"cannot be read as JSON: {error}") from None
    try:
        resource = Questionnaire.model_validate(data)
    except ValidationError as error:
        raise InvalidInstrument(path, f"not a valid FHIR R4 Questionnaire: {error}") from None
    questions: dict[str, Question] = {}
    try:
        url, version, title = _check_metadata(resource)
        _read_items(resource.item or (), None, questions)
    except ValueError as error:
        raise InvalidInstrument(path, str(error)) from None
    return Instrument(
        url=url,
        version=version,
        title=title,
        path=path,
        resource=resource,
        questions=questions,
        rules=(),
    )


# The mapping


def is_snomed_concept_id(value: str) -> bool:
    """A SNOMED CT concept id: 6 to 18 digits, partition 00 (international) or 10 (extension),
    and a valid Verhoeff check digit, so a mistyped code is caught."""
    if not (value.isascii() and value.isdigit() and 6 <= len(value) <= 18) or value[0] == "0":
        return False
    if value[-3:-1] not in ("00", "10"):
        return False
    check = 0
    for position, digit in enumerate(reversed(value)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _group_questions(instrument: Instrument, group: Question) -> list[Question]:
    return [instrument.questions[link_id] for link_id in group.children]


def _rule_answer(instrument: Instrument, question: Question, answer_code: str) -> int | None:
    """The score threshold of a group rule, or None for a choice answer; ValueError if neither."""
    if question.type == "choice":
        if question.choice(answer_code) is None:
            offered = ", ".join(choice.code for choice in question.choices)
            raise ValueError(
                f"{question.link_id!r} does not offer the answer {answer_code!r}: expected one "
                f"of {offered}"
            )
        return None
    if question.type == "group":
        score = _SCORE_RULE.match(answer_code)
        scored = _group_questions(instrument, question)
        if score is None:
            raise ValueError(
                f"{question.link_id!r} is a group: its answer_code must be a score, like score>=3"
            )
        if not all(
            q.type == "choice" and all(c.ordinal is not None for c in q.choices) for q in scored
        ):
            raise ValueError(
                f"group {question.link_id!r} is scored, but not all its answers have an "
                "ordinalValue"
            )
        return int(score.group(1))
    raise ValueError(
        f"{question.link_id!r} is a {question.type} question: rows map choice answers, or a "
        "group's score"
    )


def _parse_rule(row: dict[str, str], instrument: Instrument) -> NeedRule:
    question = instrument.questions.get(row["link_id"])
    if question is None:
        raise ValueError(f"{instrument.url} has no question {row['link_id']!r}")
    threshold = _rule_answer(instrument, question, row["answer_code"])
    need = NEEDS_BY_CODE.get(row["need_code"])
    if need is None:
        raise ValueError(
            f"need_code {row['need_code']!r} is not a need: expected one of "
            + ", ".join(NEEDS_BY_CODE)
        )
    try:
        level = NeedLevel(row["level"])
    except ValueError:
        raise ValueError(
            f"level {row['level']!r}: expected one of {', '.join(NeedLevel)}"
        ) from None
    if not is_snomed_concept_id(row["snomed_code"]):
        raise ValueError(f"snomed_code {row['snomed_code']!r} is not a SNOMED CT concept id")
    if row["sensitive"] not in ("true", "false"):
        raise ValueError(f"sensitive {row['sensitive']!r}: expected true or false")
    sensitive = row["sensitive"] == "true"
    scored = _group_questions(instrument, question) if threshold is not None else [question]
    if not sensitive and (need.sensitive or any(q.sensitive for q in scored)):
        raise ValueError(
            f"sensitive must be true: need {need.code!r} or question {question.link_id!r} is "
            "sensitive"
        )
    for column in ("snomed_display", "reference"):
        if not row[column].strip():
            raise ValueError(f"{column} is empty")
    return NeedRule(
        link_id=question.link_id,
        answer_code=row["answer_code"],
        threshold=threshold,
        need_code=need.code,
        level=level,
        snomed_code=row["snomed_code"],
        snomed_display=row["snomed_display"].strip(),
        sensitive=sensitive,
        reference=row["reference"].strip(),
    )


def _read_rules(
    path: Path, instruments: Mapping[tuple[str, str], Instrument]
) -> dict[tuple[str, str], list[NeedRule]]:
    rules: dict[tuple[str, str], list[NeedRule]] = {key: [] for key in instruments}
    seen: set[tuple[str, str, str, str]] = set()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != MAPPING_COLUMNS:
                raise InvalidNeedMapping(
                    path, 1, f"the columns must be {', '.join(MAPPING_COLUMNS)}"
                )
            for row in reader:
                line = reader.line_num
                if None in row or any(value is None for value in row.values()):
                    raise InvalidNeedMapping(path, line, f"expected {len(MAPPING_COLUMNS)} fields")
                key = (row["questionnaire_url"], row["questionnaire_version"])
                instrument = instruments.get(key)
                if instrument is None:
                    raise InvalidNeedMapping(
                        path, line, f"no instrument {key[0]!r} version {key[1]!r} is loaded"
                    )
                row_key = (*key, row["link_id"], row["answer_code"])
                if row_key in seen:
                    raise InvalidNeedMapping(
                        path, line, f"{row['link_id']!r} {row['answer_code']!r} is mapped twice"
                    )
                seen.add(row_key)
                try:
                    rules[key].append(_parse_rule(row, instrument))
                except ValueError as error:
                    raise InvalidNeedMapping(path, line, str(error)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidNeedMapping(path, None, f"cannot be read: {error}") from None
    return rules


def _check_complete(path: Path, instrument: Instrument, rules: Sequence[NeedRule]) -> None:
    """Every answer marked as showing a need has a row, and every choice row is on one."""
    mapped = {(rule.link_id, rule.answer_code) for rule in rules if rule.threshold is None}
    for question in instrument.questions.values():
        for choice in question.choices:
            is_mapped = (question.link_id, choice.code) in mapped
            if choice.shows_need and not is_mapped:
                raise InvalidNeedMapping(
                    path,
                    None,
                    f"answer {choice.code!r} to {question.link_id!r} in {instrument.path} shows "
                    "a need but has no row",
                )
            if is_mapped and not choice.shows_need:
                raise InvalidNeedMapping(
                    path,
                    None,
                    f"answer {choice.code!r} to {question.link_id!r} has a row but "
                    f"{instrument.path} does not mark it with {ANSWER_SHOWS_NEED}",
                )


def _rule_order(instrument: Instrument, rule: NeedRule) -> tuple[int, int]:
    question = instrument.questions[rule.link_id]
    position = list(instrument.questions).index(rule.link_id)
    choice_codes = [choice.code for choice in question.choices]
    return position, choice_codes.index(rule.answer_code) if rule.threshold is None else 0


def load_library(directory: Path, mapping_file: Path) -> InstrumentLibrary:
    """Every `*.json` instrument in `directory`, with its rows of `mapping_file`, all checked."""
    instruments: dict[tuple[str, str], Instrument] = {}
    for path in sorted(directory.glob("*.json")):
        instrument = load_instrument(path)
        key = (instrument.url, instrument.version)
        if key in instruments:
            raise InvalidInstrument(
                path,
                f"{instrument.url} version {instrument.version} is also in {instruments[key].path}",
            )
        instruments[key] = instrument
    rules = _read_rules(mapping_file, instruments)
    complete: list[Instrument] = []
    for key, instrument in instruments.items():
        _check_complete(mapping_file, instrument, rules[key])
        ordered = sorted(rules[key], key=lambda rule: _rule_order(instrument, rule))
        complete.append(replace(instrument, rules=tuple(ordered)))
    return InstrumentLibrary(complete)


@functools.cache
def default_library() -> InstrumentLibrary:
    """The shipped instruments and mapping, loaded once."""
    return load_library(INSTRUMENTS_DIR, NEED_MAPPING_FILE)


def list_instruments() -> list[Instrument]:
    return default_library().instruments()


def get_instrument(url: str, version: str | None = None) -> Instrument:
    """The instrument with this url: the given version, or the latest one."""
    return default_library().get(url, version)


# Answers


def _check_values(question: Question, values: list[Any]) -> tuple[list[AnswerValue], str | None]:
    """The answers cleaned, or the reason they do not fit the question."""
    if len(values) > 1 and not question.repeats:
        return [], f"takes one answer, got {len(values)}"
    cleaned: list[AnswerValue] = []
    for value in values:
        if question.type == "boolean":
            if not isinstance(value, bool):
                return [], f"expected true or false, got {value!r}"
            cleaned.append(value)
        elif question.type == "choice":
            if not isinstance(value, str) or question.choice(value) is None:
                offered = ", ".join(choice.code for choice in question.choices)
                return [], f"{value!r} is not one of its answers: expected one of {offered}"
            if value not in cleaned:
                cleaned.append(value)
        else:
            if not isinstance(value, str) or not value.strip():
                return [], f"expected some text, got {value!r}"
            if len(value) > MAX_TEXT_ANSWER:
                return [], f"expected at most {MAX_TEXT_ANSWER} characters, got {len(value)}"
            cleaned.append(value.strip())
    return cleaned, None


def _enabled(
    instrument: Instrument, question: Question, accepted: Mapping[str, Sequence[AnswerValue]]
) -> bool:
    holds = [c.answer in accepted.get(c.question, ()) for c in question.enable_when]
    own = not holds or (any(holds) if question.enable_when_any else all(holds))
    if question.parent is None:
        return own
    return own and _enabled(instrument, instrument.questions[question.parent], accepted)


def is_enabled(
    instrument: Instrument, question: Question, answers: Mapping[str, Sequence[AnswerValue]]
) -> bool:
    """Whether the question is asked, given these answers: its enableWhen hold, and its
    groups'. Forms use it to show follow-up questions only when an answer calls for them."""
    return _enabled(instrument, question, answers)


def _when_asked(instrument: Instrument, question: Question) -> str:
    conditions: list[str] = []
    current: Question | None = question
    while current is not None:
        joiner = " or " if current.enable_when_any else " and "
        if current.enable_when:
            conditions.append(joiner.join(c.describe() for c in current.enable_when))
        current = instrument.questions[current.parent] if current.parent else None
    return "it is asked only when " + " and ".join(conditions)


def validate_answers(instrument: Instrument, answers: Mapping[str, object]) -> Answers:
    """The answers, each a list of values in the order of the questionnaire; AnswerError naming
    every question whose answer does not fit, and what it expected."""
    errors: dict[str, str] = {}
    given: Answers = {}
    for link_id, raw in answers.items():
        question = instrument.questions.get(link_id)
        if question is None or not question.answerable:
            expected = ", ".join(q.link_id for q in instrument.answerable())
            what = "no such question" if question is None else f"a {question.type}, not a question"
            errors[link_id] = f"{what} in {instrument.title}: expected one of {expected}"
            continue
        # No answer (None, or an empty list) is a question left unanswered.
        values = list(raw) if isinstance(raw, list | tuple) else [] if raw is None else [raw]
        if not values:
            continue
        cleaned, problem = _check_values(question, values)
        if problem is not None:
            errors[link_id] = problem
        else:
            given[link_id] = cleaned
    accepted: Answers = {}
    for question in instrument.questions.values():
        if question.link_id not in given:
            continue
        if _enabled(instrument, question, accepted):
            accepted[question.link_id] = given[question.link_id]
        else:
            errors[question.link_id] = _when_asked(instrument, question)
    if errors:
        raise AnswerError(errors)
    return accepted


def _score(instrument: Instrument, group: Question, accepted: Answers) -> Decimal:
    total = Decimal(0)
    for question in _group_questions(instrument, group):
        for code in accepted.get(question.link_id, ()):
            choice = question.choice(str(code))
            if choice is not None and choice.ordinal is not None:
                total += choice.ordinal
    return total


def findings_for(instrument: Instrument, accepted: Answers) -> list[NeedFinding]:
    """The needs that validated answers show, in the order of the questionnaire. Answers that
    show the same need with the same finding (both Hunger Vital Sign questions, say) give one
    finding: that of the answer showing the highest level."""
    levels = list(NeedLevel)
    findings: dict[tuple[str, str], NeedFinding] = {}
    for rule in instrument.rules:
        if rule.threshold is None:
            shown = rule.answer_code in accepted.get(rule.link_id, ())
        else:
            group = instrument.questions[rule.link_id]
            shown = _score(instrument, group, accepted) >= rule.threshold
        key = (rule.need_code, rule.snomed_code)
        earlier = findings.get(key)
        if not shown or (earlier and levels.index(earlier.level) >= levels.index(rule.level)):
            continue
        findings[key] = NeedFinding(
            link_id=rule.link_id,
            answer_code=rule.answer_code,
            need_code=rule.need_code,
            level=rule.level,
            snomed_code=rule.snomed_code,
            snomed_display=rule.snomed_display,
            sensitive=rule.sensitive or (earlier is not None and earlier.sensitive),
        )
    return list(findings.values())


def needs_for_answers(instrument: Instrument, answers: Mapping[str, object]) -> list[NeedFinding]:
    """The needs these answers show (AnswerError if they do not fit the instrument)."""
    return findings_for(instrument, validate_answers(instrument, answers))
