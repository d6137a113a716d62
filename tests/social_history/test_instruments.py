"""The shipped instruments and their answer-to-need mapping: every file is a valid FHIR R4
Questionnaire, a broken file is refused with its path and the error, every answer that shows a
need is mapped (to a real need, level and a well-formed SNOMED CT concept id), and the needs
that worked examples of answers show."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from healthequity.needs import NEEDS_BY_CODE
from healthequity.social_history.exceptions import (
    AnswerError,
    InvalidInstrument,
    InvalidNeedMapping,
    UnknownInstrument,
)
from healthequity.social_history.instruments import (
    ANSWER_SHOWS_NEED,
    INSTRUMENTS_DIR,
    MAPPING_COLUMNS,
    NEED_MAPPING_FILE,
    SENSITIVE_ITEM,
    get_instrument,
    is_snomed_concept_id,
    list_instruments,
    load_library,
    needs_for_answers,
    validate_answers,
)
from healthequity.social_history.models import NeedLevel

from .conftest import CORE, DOMESTIC_ABUSE, LOW_MOOD


def _finding_summary(url: str, answers: dict[str, Any]) -> list[tuple[str, str, NeedLevel, str]]:
    return [
        (f.link_id, f.need_code, f.level, f.snomed_code)
        for f in needs_for_answers(get_instrument(url), answers)
    ]


# The files


def test_every_shipped_file_is_a_valid_fhir_r4_questionnaire() -> None:
    files = sorted(INSTRUMENTS_DIR.glob("*.json"))
    assert [path.name for path in files] == [
        "domestic-abuse-screen.json",
        "low-mood-phq2.json",
        "social-history-core.json",
    ]
    for path in files:
        resource = Questionnaire.model_validate_json(path.read_text(encoding="utf-8"))
        assert resource.status == "active"
        assert resource.url
        assert resource.version == "1.0.0"
        assert resource.publisher


def test_the_instruments_are_listed_by_url_and_found_by_version() -> None:
    assert [(i.url, i.version, i.title) for i in list_instruments()] == [
        (DOMESTIC_ABUSE, "1.0.0", "Domestic abuse: routine enquiry"),
        (LOW_MOOD, "1.0.0", "Low mood: PHQ-2"),
        (CORE, "1.0.0", "Social history (core)"),
    ]
    assert get_instrument(CORE, "1.0.0") is get_instrument(CORE)
    assert get_instrument(CORE).canonical == f"{CORE}|1.0.0"
    with pytest.raises(UnknownInstrument, match=r"has no version '9\.9': expected 1\.0\.0"):
        get_instrument(CORE, "9.9")
    with pytest.raises(UnknownInstrument, match="no instrument 'urn:nothing': expected one of"):
        get_instrument("urn:nothing")


def test_the_core_history_covers_every_topic_and_fits_in_about_two_minutes() -> None:
    core = get_instrument(CORE)
    asked_first = [q for q in core.answerable() if not q.enable_when]
    # About two minutes aloud at 150 words a minute, before any follow-up question.
    assert len(asked_first) == 20
    assert sum(len(q.text.split()) for q in asked_first) <= 300
    topics = {
        "housing-situation",
        "losing-home",
        "home-conditions",
        "energy-bills",
        "food-worried",
        "food-ran-out",
        "money-enough",
        "benefits-checked",
        "healthy-start",
        "debt",
        "work",
        "work-secure",
        "reading-forms",
        "lonely",
        "caring",
        "childcare",
        "online",
        "transport",
        "feel-safe",
        "hurt-by-someone-close",
        "alcohol",
        "drugs",
        "legal-or-immigration",
        "strengths",
    }
    assert topics <= set(core.questions)
    assert core.questions["strengths"].type == "string"
    assert {q.link_id for q in core.questions.values() if q.sensitive} == {
        "feel-safe",
        "hurt-by-someone-close",
        "legal-or-immigration",
    }
    # The Hunger Vital Sign, with its LOINC codes.
    codes = {
        item.linkId: item.code[0].code
        for group in core.resource.item or []
        for item in group.item or []
        if item.code
    }
    assert codes == {"food-worried": "88122-7", "food-ran-out": "88123-5"}


def test_the_screeners_are_short() -> None:
    assert len(get_instrument(DOMESTIC_ABUSE).answerable()) == 3
    assert all(q.sensitive for q in get_instrument(DOMESTIC_ABUSE).answerable())
    phq2 = get_instrument(LOW_MOOD)
    assert [q.link_id for q in phq2.answerable()] == ["little-interest", "feeling-down"]
    assert [c.ordinal for c in phq2.questions["feeling-down"].choices] == [0, 1, 2, 3]


# Refusing broken files


def _library_with(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "instruments"
    directory.mkdir()
    path = directory / name
    path.write_text(text, encoding="utf-8")
    mapping = tmp_path / "answer_needs.csv"
    mapping.write_text(",".join(MAPPING_COLUMNS) + "\n", encoding="utf-8")
    return path


def _minimal(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "url": "urn:test:q",
        "version": "1.0.0",
        "status": "active",
        "title": "Test",
        "publisher": "test",
        "item": [
            {
                "linkId": "q1",
                "text": "Question?",
                "type": "choice",
                "answerOption": [{"valueCoding": {"code": "a"}}],
            }
        ],
    }
    resource.update(changes)
    return resource


def _follow_up(operator: str, code: str) -> dict[str, Any]:
    return {
        "linkId": "later",
        "text": "Follow-up?",
        "type": "string",
        "enableWhen": [{"question": "q1", "operator": operator, "answerCoding": {"code": code}}],
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", "cannot be read as JSON"),
        (
            json.dumps({"resourceType": "Questionnaire", "status": "active", "colour": "red"}),
            "not a valid FHIR R4 Questionnaire: 1 validation error for Questionnaire\ncolour",
        ),
        (
            json.dumps({"resourceType": "Patient", "status": "active"}),
            "not a valid FHIR R4 Questionnaire",
        ),
        (
            json.dumps(_minimal(item=[{"text": "No linkId", "type": "string"}])),
            "item.0.linkId",
        ),
        (json.dumps(_minimal(version="one")), "version 'one' is not numbers separated by dots"),
        (json.dumps(_minimal(status="bogus")), "status 'bogus': expected one of"),
        (json.dumps(_minimal(publisher=None)), "the Questionnaire has no publisher"),
        (
            json.dumps(_minimal(item=[{"linkId": "d", "text": "When?", "type": "date"}])),
            "item 'd' has type 'date': expected one of group, display, boolean",
        ),
        (
            json.dumps(
                _minimal(
                    item=[
                        {"linkId": "x", "text": "A", "type": "string"},
                        {"linkId": "x", "text": "B", "type": "string"},
                    ]
                )
            ),
            "linkId 'x' is used twice",
        ),
        (
            json.dumps(
                _minimal(
                    item=[
                        {
                            "linkId": "later",
                            "text": "Follow-up?",
                            "type": "string",
                            "enableWhen": [
                                {"question": "q1", "operator": "=", "answerCoding": {"code": "z"}}
                            ],
                        },
                        {
                            "linkId": "q1",
                            "text": "Question?",
                            "type": "choice",
                            "answerOption": [{"valueCoding": {"code": "a"}}],
                        },
                    ]
                )
            ),
            "item 'later' is enabled by 'q1', which is not a question before it",
        ),
        (
            json.dumps(
                _minimal(
                    item=[
                        {
                            "linkId": "q1",
                            "text": "Question?",
                            "type": "choice",
                            "answerOption": [
                                {"valueCoding": {"code": "a"}},
                                {"valueCoding": {"code": "a"}},
                            ],
                        }
                    ]
                )
            ),
            "item 'q1' offers the answer 'a' twice",
        ),
        (
            json.dumps(_minimal(item=[{"linkId": "q1", "text": "Question?", "type": "choice"}])),
            "choice item 'q1' offers no answerOption",
        ),
        (
            json.dumps(_minimal(item=[{"linkId": "g", "text": "Group", "type": "group"}])),
            "group 'g' holds no items",
        ),
        (
            json.dumps(_minimal(item=[*_minimal()["item"], _follow_up("exists", "a")])),
            "item 'later' uses the enableWhen operator 'exists': expected '='",
        ),
        (
            json.dumps(_minimal(item=[*_minimal()["item"], _follow_up("=", "b")])),
            "item 'later' is enabled by the answer 'b', which 'q1' does not offer",
        ),
    ],
)
def test_a_broken_questionnaire_file_is_refused_with_its_path_and_the_error(
    tmp_path: Path, text: str, error: str
) -> None:
    path = _library_with(tmp_path, "broken.json", text)
    with pytest.raises(InvalidInstrument) as raised:
        load_library(path.parent, tmp_path / "answer_needs.csv")
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: ")
    assert error in raised.value.error


def test_two_files_with_one_url_and_version_are_refused(tmp_path: Path) -> None:
    path = _library_with(tmp_path, "a.json", json.dumps(_minimal()))
    (path.parent / "b.json").write_text(json.dumps(_minimal()), encoding="utf-8")
    with pytest.raises(InvalidInstrument, match=r"b\.json: urn:test:q version 1\.0\.0 is also in"):
        load_library(path.parent, tmp_path / "answer_needs.csv")


# The mapping


def _copy_shipped(tmp_path: Path) -> tuple[Path, Path]:
    directory = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, directory)
    mapping = tmp_path / "answer_needs.csv"
    shutil.copyfile(NEED_MAPPING_FILE, mapping)
    return directory, mapping


def _rows(mapping: Path) -> list[dict[str, str]]:
    with mapping.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_rows(mapping: Path, rows: list[dict[str, str]]) -> None:
    with mapping.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MAPPING_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_every_answer_that_shows_a_need_has_exactly_one_mapping_row() -> None:
    rows = _rows(NEED_MAPPING_FILE)
    mapped = {(r["questionnaire_url"], r["link_id"], r["answer_code"]) for r in rows}
    assert len(mapped) == len(rows) == 41
    flagged = set()
    for path in INSTRUMENTS_DIR.glob("*.json"):
        resource = json.loads(path.read_text(encoding="utf-8"))

        def walk(items: list[dict[str, Any]], url: str = resource["url"]) -> None:
            for item in items:
                walk(item.get("item", []))
                for option in item.get("answerOption", []):
                    if {"url": ANSWER_SHOWS_NEED, "valueBoolean": True} in option.get(
                        "extension", []
                    ):
                        flagged.add((url, item["linkId"], option["valueCoding"]["code"]))

        walk(resource["item"])
    choice_rows = {key for key in mapped if not key[2].startswith("score>=")}
    assert flagged == choice_rows
    for row in rows:
        assert row["need_code"] in NEEDS_BY_CODE
        assert NeedLevel(row["level"]) in NeedLevel
        assert is_snomed_concept_id(row["snomed_code"]), row
        assert row["snomed_display"]
        assert row["reference"]
        if NEEDS_BY_CODE[row["need_code"]].sensitive:
            assert row["sensitive"] == "true", row


def test_a_flagged_answer_without_a_row_is_refused(tmp_path: Path) -> None:
    directory, mapping = _copy_shipped(tmp_path)
    _write_rows(mapping, [r for r in _rows(mapping) if r["answer_code"] != "temporary"])
    with pytest.raises(InvalidNeedMapping) as raised:
        load_library(directory, mapping)
    assert raised.value.path == mapping
    assert "answer 'temporary' to 'housing-situation'" in str(raised.value)
    assert "shows a need but has no row" in str(raised.value)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"link_id": "housing"}, "has no question 'housing'"),
        ({"answer_code": "caravan"}, "does not offer the answer 'caravan': expected one of"),
        ({"need_code": "shelter"}, "need_code 'shelter' is not a need: expected one of housing"),
        ({"level": "severe"}, "level 'severe': expected one of no_need, at_risk, need, urgent"),
        ({"snomed_code": "365510009"}, "snomed_code '365510009' is not a SNOMED CT concept id"),
        ({"sensitive": "yes"}, "sensitive 'yes': expected true or false"),
        ({"reference": " "}, "reference is empty"),
        ({"questionnaire_version": "2.0.0"}, "version '2.0.0' is loaded"),
        ({"link_id": "strengths", "answer_code": "x"}, "'strengths' is a string question"),
    ],
)
def test_a_wrong_mapping_row_is_refused_naming_its_line(
    tmp_path: Path, change: dict[str, str], error: str
) -> None:
    directory, mapping = _copy_shipped(tmp_path)
    rows = _rows(mapping)
    line = next(i for i, r in enumerate(rows) if r["answer_code"] == "temporary") + 2
    rows[line - 2].update(change)
    _write_rows(mapping, rows)
    with pytest.raises(InvalidNeedMapping) as raised:
        load_library(directory, mapping)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"{mapping}, line {line}: ")
    assert error in raised.value.error


def test_a_row_for_a_sensitive_need_or_question_must_be_sensitive(tmp_path: Path) -> None:
    directory, mapping = _copy_shipped(tmp_path)
    rows = _rows(mapping)
    for row in rows:
        if row["link_id"] == "feel-safe" and row["answer_code"] == "not-in-area":
            row["sensitive"] = "false"
    _write_rows(mapping, rows)
    with pytest.raises(InvalidNeedMapping, match="question 'feel-safe' is"):
        load_library(directory, mapping)


def test_a_mapping_with_other_columns_is_refused(tmp_path: Path) -> None:
    directory, mapping = _copy_shipped(tmp_path)
    mapping.write_text("url,link,code\n", encoding="utf-8")
    with pytest.raises(InvalidNeedMapping, match=r"line 1: the columns must be questionnaire_url"):
        load_library(directory, mapping)


def test_snomed_concept_ids_are_checked_by_partition_and_check_digit() -> None:
    assert is_snomed_concept_id("32911000")  # Homeless (finding)
    assert is_snomed_concept_id("381751000000106")  # UK edition concept
    assert not is_snomed_concept_id("32911001")  # wrong check digit
    assert not is_snomed_concept_id("381751000000116")  # a description's partition
    assert not is_snomed_concept_id("12")
    assert not is_snomed_concept_id("abc")


def test_the_sensitive_item_extension_is_documented_in_the_instrument() -> None:
    core = json.loads((INSTRUMENTS_DIR / "social-history-core.json").read_text(encoding="utf-8"))
    assert "sensitive-item" in core["description"]
    assert SENSITIVE_ITEM.endswith("sensitive-item")


# Answers and the needs they show


def test_temporary_accommodation_shows_homelessness() -> None:
    assert _finding_summary(CORE, {"housing-situation": "temporary"}) == [
        ("housing-situation", "homelessness", NeedLevel.NEED, "365510008")
    ]
    [finding] = needs_for_answers(get_instrument(CORE), {"housing-situation": ["temporary"]})
    assert finding.snomed_display == "Finding of temporary shelter arrangements"
    assert not finding.sensitive


def test_nowhere_to_stay_tonight_is_urgent_and_a_home_in_poor_repair_shows_several_needs() -> None:
    assert _finding_summary(CORE, {"housing-situation": "no-home"}) == [
        ("housing-situation", "homelessness", NeedLevel.URGENT, "32911000")
    ]
    answers = {
        "housing-situation": "own-or-rented",
        "losing-home": "yes",
        "home-conditions": ["overcrowded", "damp", "cold", "no-heating"],
        "energy-bills": "often",
    }
    assert _finding_summary(CORE, answers) == [
        ("losing-home", "homelessness", NeedLevel.AT_RISK, "1156191002"),
        ("home-conditions", "housing", NeedLevel.NEED, "105531004"),
        ("home-conditions", "fuel_poverty", NeedLevel.NEED, "397756006"),
        ("home-conditions", "fuel_poverty", NeedLevel.NEED, "105531004"),
        ("energy-bills", "fuel_poverty", NeedLevel.NEED, "1184702004"),
    ]


def test_the_hunger_vital_sign_is_positive_on_either_question_and_gives_one_finding() -> None:
    often, sometimes, never = "LA28397-0", "LA6729-3", "LA28398-8"
    assert _finding_summary(CORE, {"food-worried": never, "food-ran-out": never}) == []
    assert _finding_summary(CORE, {"food-worried": sometimes, "food-ran-out": never}) == [
        ("food-worried", "food", NeedLevel.AT_RISK, "733423003")
    ]
    # Both questions show food insecurity: one finding, at the higher level.
    assert _finding_summary(CORE, {"food-worried": sometimes, "food-ran-out": often}) == [
        ("food-ran-out", "food", NeedLevel.NEED, "733423003")
    ]


def test_sensitive_answers_give_sensitive_findings() -> None:
    findings = needs_for_answers(
        get_instrument(CORE),
        {"hurt-by-someone-close": "now", "legal-or-immigration": "asylum", "work": "looking"},
    )
    assert [(f.need_code, f.level, f.snomed_code, f.sensitive) for f in findings] == [
        ("employment", NeedLevel.NEED, "73438004", False),
        ("domestic_abuse", NeedLevel.URGENT, "706893006", True),
        ("legal_immigration", NeedLevel.NEED, "728611000000100", True),
    ]
    screen = needs_for_answers(
        get_instrument(DOMESTIC_ABUSE), {"safe-at-home": "no", "hurt-or-controlled": "in-the-past"}
    )
    assert [(f.link_id, f.level, f.snomed_code, f.sensitive) for f in screen] == [
        ("safe-at-home", NeedLevel.AT_RISK, "707087005", True),
        ("hurt-or-controlled", NeedLevel.NEED, "706893006", True),
    ]


@pytest.mark.parametrize(
    ("interest", "down", "expected"),
    [
        ("LA6568-5", "LA6568-5", []),
        ("LA6569-3", "LA6569-3", []),  # 1 + 1
        ("LA6570-1", "LA6568-5", []),  # 2 + 0
        ("LA6570-1", "LA6569-3", [("phq2", "mental_wellbeing", NeedLevel.AT_RISK, "366979004")]),
        ("LA6571-9", "LA6571-9", [("phq2", "mental_wellbeing", NeedLevel.AT_RISK, "366979004")]),
    ],
)
def test_the_phq2_shows_low_mood_from_a_total_of_three(
    interest: str, down: str, expected: list[tuple[str, str, NeedLevel, str]]
) -> None:
    answers = {"little-interest": interest, "feeling-down": down}
    assert _finding_summary(LOW_MOOD, answers) == expected


def test_answers_that_do_not_fit_name_each_question_and_what_it_expected() -> None:
    with pytest.raises(AnswerError) as raised:
        validate_answers(
            get_instrument(CORE),
            {
                "housing-situation": "castle",
                "pregnant-or-under-four": "yes",
                "work": ["yes", "looking"],
                "strengths": "   ",
                "favourite-colour": "blue",
                "home": "x",
                "drugs": "yes",
            },
        )
    errors = raised.value.errors
    assert "drugs" not in errors  # a fitting answer among them is not an error
    assert errors["housing-situation"] == (
        "'castle' is not one of its answers: expected one of own-or-rented, with-others, "
        "temporary, no-home"
    )
    assert errors["pregnant-or-under-four"] == "expected true or false, got 'yes'"
    assert errors["work"] == "takes one answer, got 2"
    assert errors["strengths"] == "expected some text, got '   '"
    assert errors["favourite-colour"].startswith(
        "no such question in Social history (core): expected one of housing-situation, "
    )
    assert errors["home"].startswith("a group, not a question in Social history (core)")
    assert "housing-situation: 'castle' is not one of its answers" in str(raised.value)


def test_follow_up_questions_are_answered_only_when_asked() -> None:
    core = get_instrument(CORE)
    with pytest.raises(AnswerError) as raised:
        validate_answers(core, {"housing-situation": "temporary", "losing-home": "yes"})
    assert raised.value.errors == {
        "losing-home": "it is asked only when 'housing-situation' is 'own-or-rented'"
    }
    with pytest.raises(AnswerError, match="'money-enough' is 'sometimes-not' or"):
        validate_answers(core, {"benefits-checked": "no"})
    accepted = validate_answers(
        core,
        {
            "pregnant-or-under-four": True,
            "healthy-start": "not-sure",
            "home-conditions": ["damp", "damp"],
            "housing-situation": "with-others",
            "strengths": "  My sister, and the allotment  ",
            "debt": [],
            "work": None,
        },
    )
    # In questionnaire order, repeated answers once, text trimmed, empty answers dropped.
    assert accepted == {
        "housing-situation": ["with-others"],
        "home-conditions": ["damp"],
        "pregnant-or-under-four": [True],
        "healthy-start": ["not-sure"],
        "strengths": ["My sister, and the allotment"],
    }


def test_a_text_answer_has_a_length_limit() -> None:
    with pytest.raises(AnswerError) as raised:
        validate_answers(get_instrument(CORE), {"strengths": "x" * 2001})
    assert raised.value.errors == {"strengths": "expected at most 2000 characters, got 2001"}
    assert validate_answers(get_instrument(CORE), {"strengths": "x" * 2000})


def test_mapping_rows_must_agree_with_the_instruments(tmp_path: Path) -> None:
    directory, mapping = _copy_shipped(tmp_path)
    shipped = _rows(mapping)
    phq2 = next(r for r in shipped if r["link_id"] == "phq2")

    def refused(rows: list[dict[str, str]]) -> str:
        _write_rows(mapping, rows)
        with pytest.raises(InvalidNeedMapping) as raised:
            load_library(directory, mapping)
        return str(raised.value)

    assert "'housing-situation' 'temporary' is mapped twice" in refused(
        [*shipped, next(r for r in shipped if r["answer_code"] == "temporary")]
    )
    unflagged = {**phq2, "questionnaire_url": CORE, "link_id": "work-secure", "answer_code": "yes"}
    assert "answer 'yes' to 'work-secure' has a row but" in refused([*shipped, unflagged])
    assert "'phq2' is a group: its answer_code must be a score, like score>=3" in refused(
        [{**r, "answer_code": "3"} if r is phq2 else r for r in shipped]
    )
