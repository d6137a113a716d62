"""Reading FHIR search values: dates with prefixes and precision, tokens, references, the
query string against a resource type's parameters, and the searchset Bundle's paging links.
No database: these are the rules every search uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient

from healthequity.fhir_api.capability import search_params
from healthequity.fhir_api.exceptions import FhirError
from healthequity.fhir_api.search import (
    DEFAULT_COUNT,
    MAX_COUNT,
    date_range,
    parse_query,
    reference_id,
    searchset,
    token,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_a_day_spans_midnight_to_midnight_in_england() -> None:
    summer = date_range("date", "2026-07-01")
    assert (summer.prefix, summer.start, summer.end) == (
        "eq",
        utc(2026, 6, 30, 23),
        utc(2026, 7, 1, 23),
    )
    winter = date_range("date", "ge2026-12-01")
    assert (winter.prefix, winter.start, winter.end) == ("ge", utc(2026, 12, 1), utc(2026, 12, 2))


def test_years_months_and_times_have_their_own_precision() -> None:
    assert date_range("date", "2026").end == utc(2027, 1, 1)
    december = date_range("date", "lt2026-12")
    assert (december.start, december.end) == (utc(2026, 12, 1), utc(2027, 1, 1))
    minute = date_range("date", "2026-11-23T09:30Z")
    assert (minute.start, minute.end) == (utc(2026, 11, 23, 9, 30), utc(2026, 11, 23, 9, 31))
    second = date_range("date", "2026-11-23T09:30:15+01:00")
    assert (second.start, second.end) == (
        utc(2026, 11, 23, 8, 30, 15),
        utc(2026, 11, 23, 8, 30, 16),
    )


@pytest.mark.parametrize(
    ("prefix", "inside", "before", "after"),
    [
        ("eq", True, False, False),
        ("gt", False, False, True),
        ("ge", True, False, True),
        ("lt", False, True, False),
        ("le", True, True, False),
    ],
)
def test_prefixes_compare_with_the_whole_span(
    prefix: str, inside: bool, before: bool, after: bool
) -> None:
    day = date_range("date", f"{prefix}2026-11-23")
    assert day.holds_for(utc(2026, 11, 23, 12)) is inside
    assert day.holds_for(utc(2026, 11, 22, 23, 59)) is before
    assert day.holds_for(utc(2026, 11, 24, 0, 0)) is after


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("23/11/2026", "is not a date"),
        ("2026-13-01", "is not a date"),
        ("sa2026-11-23", "the prefix 'sa' is not supported"),
    ],
)
def test_a_bad_date_is_refused_naming_the_parameter(value: str, message: str) -> None:
    with pytest.raises(FhirError) as refused:
        date_range("authored", value)
    assert refused.value.status_code == 400
    assert message in refused.value.issues[0].diagnostics
    assert refused.value.issues[0].expression == "authored"


def test_tokens_and_references() -> None:
    finding = token("http://snomed.info/sct|1184702004")
    assert (finding.system, finding.code, finding.any_system) == (
        "http://snomed.info/sct",
        "1184702004",
        False,
    )
    assert token("final").any_system
    assert token("final").code == "final"
    assert not token("|final").any_system
    assert token("|final").system is None
    only_system = token("http://snomed.info/sct|")
    assert (only_system.system, only_system.code) == ("http://snomed.info/sct", None)
    assert reference_id("patient", "Patient/abc", "Patient") == "abc"
    assert reference_id("patient", "https://x.example/fhir/Patient/abc", "Patient") == "abc"
    assert reference_id("patient", "abc", "Patient") == "abc"
    with pytest.raises(FhirError, match="expected a reference to a Patient"):
        reference_id("patient", "Group/abc", "Patient")


def test_the_query_string_is_read_against_the_types_parameters() -> None:
    query = parse_query(
        "Task",
        search_params("Task"),
        [
            ("status", "requested,received"),
            ("date", "ge2026-01-01"),
            ("date", "lt2027-01-01"),
            ("owner:identifier", "x|y"),
            ("_count", "500"),
            ("_page", "2"),
            ("_format", "json"),
        ],
    )
    assert query.occurrences("status") == [["requested", "received"]]
    assert query.occurrences("date") == [["ge2026-01-01"], ["lt2027-01-01"]]
    assert query.occurrences("owner:identifier") == [["x|y"]]
    assert (query.count, query.page, query.offset) == (MAX_COUNT, 2, MAX_COUNT)
    assert parse_query("Task", search_params("Task"), []).count == DEFAULT_COUNT


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            ("state", "requested"),
            "Task has no search parameter 'state': expected one of _id, patient",
        ),
        (("status:not", "requested"), "status takes no modifier :not"),
        (("status", ""), "status has an empty value"),
        (("_count", "-1"), "_count '-1': expected a whole number from 0"),
        (("_page", "0"), "_page '0': expected a whole number from 1"),
        (("_format", "xml"), "this server answers in JSON only"),
    ],
)
def test_unknown_parameters_and_bad_values_are_refused(item: tuple[str, str], message: str) -> None:
    with pytest.raises(FhirError) as refused:
        parse_query("Task", search_params("Task"), [item])
    assert refused.value.status_code == 400
    assert message in refused.value.issues[0].diagnostics


def test_the_bundle_has_the_total_and_links_to_each_page() -> None:
    query = parse_query(
        "Patient", search_params("Patient"), [("name", "ada"), ("_count", "2"), ("_page", "2")]
    )
    people = [Patient.model_validate({"resourceType": "Patient", "id": f"p{n}"}) for n in (3, 4)]
    bundle = searchset("https://he.example/fhir", query, people, 5)
    assert isinstance(bundle, Bundle)
    data = bundle.model_dump(mode="json", exclude_none=True)
    assert (data["type"], data["total"]) == ("searchset", 5)
    links = {link["relation"]: link["url"] for link in data["link"]}
    page = "https://he.example/fhir/Patient?name=ada&_count=2&_page="
    assert links == {
        "self": page + "2",
        "first": page + "1",
        "previous": page + "1",
        "next": page + "3",
        "last": page + "3",
    }
    assert [entry["fullUrl"] for entry in data["entry"]] == [
        "https://he.example/fhir/Patient/p3",
        "https://he.example/fhir/Patient/p4",
    ]
    assert {entry["search"]["mode"] for entry in data["entry"]} == {"match"}


def test_an_empty_page_has_no_entries_and_no_next_link() -> None:
    query = parse_query("Patient", search_params("Patient"), [("name", "nobody")])
    data = searchset("https://he.example/fhir", query, [], 0).model_dump(
        mode="json", exclude_none=True
    )
    assert data["total"] == 0
    assert "entry" not in data
    assert {link["relation"] for link in data["link"]} == {"self", "first", "last"}
