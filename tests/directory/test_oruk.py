"""ORUK v3 mapping (tables <-> JSON), schema validation, and the published /oruk/ API."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from healthequity.audit.schemas import AuditContext
from healthequity.directory import oruk
from healthequity.directory.exceptions import InvalidRecord
from healthequity.directory.models import (
    Address,
    Attribute,
    Location,
    Organization,
    RecordChange,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.store import Database

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "oruk" / "service_full.json"


def full_record() -> dict[str, Any]:
    record: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return record


def make_record(number: int, **changes: Any) -> dict[str, Any]:
    """A small valid service record; `number` makes its ids and name."""
    service_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"service-{number}"))
    location_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"location-{number}"))
    record: dict[str, Any] = {
        "id": service_id,
        "name": f"Service {number:03d}",
        "description": "Help with food" if number % 2 else "Help with housing",
        "status": "active" if number % 3 else "inactive",
        "last_modified": f"2026-01-{1 + number % 28:02d}T12:00:00+00:00",
        "organization": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"org-{number % 5}")),
            "name": f"Organisation {number % 5}",
            "description": "",
        },
        "service_at_locations": [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sal-{number}")),
                "location": {
                    "id": location_id,
                    "location_type": "physical",
                    "latitude": 51.5 + number / 1000,
                    "longitude": -0.1,
                    "addresses": [
                        {
                            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"address-{number}")),
                            "address_1": f"{number} Test Road",
                            "city": "London",
                            "state_province": "",
                            "postal_code": "E1 1AA",
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                },
            }
        ],
    }
    record.update(changes)
    return record


def import_records(database: Database, *records: dict[str, Any]) -> None:
    with database.session() as session:
        for record in records:
            oruk.service_from_oruk(session, copy.deepcopy(record), source="test")


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_fixture_and_packaged_schemas() -> None:
    assert oruk.validate("service", full_record()) == []
    for name in ("service", "service_list", "service_at_location", "taxonomy", "page"):
        assert oruk.schema(name)["type"] == "object"
    attribution = Path(oruk.__file__).parent / "oruk_schemas" / "ATTRIBUTION"
    assert "CC BY-SA 4.0" in attribution.read_text(encoding="utf-8")


def test_validation_names_record_and_pointer() -> None:
    record = full_record()
    record["status"] = "open"
    record["service_at_locations"][0]["location"]["addresses"][0]["country"] = 44
    del record["contacts"][0]["id"]
    record["email"] = "not an email"
    problems = oruk.validate("service", record)
    where = {problem.where for problem in problems}
    assert {
        "/status",
        "/email",
        "/service_at_locations/0/location/addresses/0/country",
        "/contacts/0",
    } <= where
    assert {problem.record for problem in problems} == {record["id"]}
    assert "3fa1c0de-0001-4a6b-9c1e-000000000001 at /status" in str(problems[0]) + "".join(
        map(str, problems)
    )


def test_mapping_round_trip(database: Database) -> None:
    record = full_record()
    import_records(database, record)
    with database.session() as session:
        service = oruk.load_service(session, record["id"])
        assert service is not None
        exported = oruk.service_to_oruk(service)
        assert exported == record
        assert oruk.validate("service", exported) == []
        item = oruk.service_list_item(service)
        assert oruk.validate("service_list", item) == []
        assert "service_at_locations" not in item
        sal = session.get(ServiceAtLocation, record["service_at_locations"][0]["id"])
        assert sal is not None
        assert oruk.validate("service_at_location", oruk.service_at_location_to_oruk(sal)) == []
        term = session.get(TaxonomyTerm, record["attributes"][0]["taxonomy_term_id"])
        assert term is not None
        assert term.code == "debt-advice"
        assert term.need_code is None  # not the built-in needs taxonomy: a curator maps it
        assert oruk.validate("taxonomy_term", oruk.taxonomy_term_to_oruk(term)) == []
        taxonomy = session.get(Taxonomy, term.taxonomy_id)
        assert taxonomy is not None
        assert taxonomy.name == "Test service types"
        assert oruk.validate("taxonomy", oruk.taxonomy_to_oruk(taxonomy)) == []


def test_reimport_updates_by_id_and_duplicates_nothing(database: Database) -> None:
    record = full_record()
    import_records(database, record)
    counts = {model: count(database, model) for model in (Service, Location, Address, Schedule)}
    import_records(database, record)
    assert {model: count(database, model) for model in counts} == counts
    assert count(database, RecordChange) == 1  # the same record again changes nothing

    changed = full_record()
    changed["name"] = "Money advice (renamed)"
    changed["schedules"][0]["closes_at"] = "17:00"
    del changed["languages"][1]
    import_records(database, changed)
    assert count(database, Service) == 1
    assert count(database, Attribute) == 1
    with database.session() as session:
        service = oruk.load_service(session, record["id"])
        assert service is not None
        assert oruk.service_to_oruk(service) == changed
        changes = session.scalars(select(RecordChange).order_by(RecordChange.id)).all()
    assert [change.source for change in changes] == ["test", "test"]
    diff = json.loads(changes[-1].change)
    assert diff["name"] == ["Money advice drop-in (test fixture)", "Money advice (renamed)"]
    assert set(diff) == {"name", "schedules", "languages"}


def test_curator_mapping_of_an_imported_term_survives_reimport(database: Database) -> None:
    record = full_record()
    import_records(database, record)
    term_id = record["attributes"][0]["taxonomy_term_id"]
    with database.session() as session:
        term = session.get(TaxonomyTerm, term_id)
        assert term is not None
        term.need_code = "debt"
    import_records(database, record)
    with database.session() as session:
        term = session.get(TaxonomyTerm, term_id)
        assert term is not None
        assert term.need_code == "debt"


def test_invalid_record_is_not_stored(database: Database) -> None:
    record = full_record()
    record["organization"]["name"] = None
    with pytest.raises(InvalidRecord) as caught, database.session() as session:
        oruk.service_from_oruk(session, record)
    assert caught.value.problems[0].where == "/organization/name"
    assert count(database, Organization) == 0
    no_organization = make_record(1)
    del no_organization["organization"]
    with pytest.raises(InvalidRecord, match="/organization"), database.session() as session:
        oruk.service_from_oruk(session, no_organization)


def test_location_lsoa_and_point_from_the_postcode_directory(database: Database) -> None:
    from healthequity.places import service as places

    sample = Path(__file__).resolve().parents[1] / "data" / "postcodes_sample.csv"
    with database.session() as session:
        places.load_postcode_directory(session, sample)
    record = full_record()
    location = record["service_at_locations"][0]["location"]
    del location["latitude"], location["longitude"]
    import_records(database, record)
    with database.session() as session:
        row = session.get(Location, location["id"])
        assert row is not None
        assert row.lsoa21_code == "E01004731"
        assert (row.latitude, row.longitude) == (51.49889, -0.135185)


# --- The API ------------------------------------------------------------------------------


def get_json(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, (url, response.text)
    return response.json()


def assert_valid(schema: str, body: Any) -> None:
    problems = oruk.validate(schema, body)
    assert problems == [], problems[:3]


def assert_valid_page(item_schema: str, body: Any) -> None:
    problems = oruk.validate_page(item_schema, body)
    assert problems == [], problems[:3]


def assert_valid_minimal_page(body: dict[str, Any]) -> None:
    """A page of minimal records: each holds id and last_modified only, each valid as the
    list schema has them (its other required fields are what minimal leaves out)."""
    assert oruk.validate("page", {k: v for k, v in body.items() if k != "contents"}) == []
    relaxed = Draft202012Validator(
        {**oruk.schema("service_list"), "required": ["id", "last_modified"]},
        format_checker=oruk.FORMAT_CHECKER,
    )
    for item in body["contents"]:
        assert set(item) == {"id", "last_modified"}
        assert list(relaxed.iter_errors(item)) == []


def ndjson(client: TestClient, url: str, **params: Any) -> list[Any]:
    """The records of an ndjson answer, checking it is one: streamed, one object a line."""
    with client.stream("GET", url, params={"format": "ndjson", **params}) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "application/x-ndjson"
        assert "content-length" not in response.headers  # streamed, not built whole
        text = response.read().decode("utf-8")
    assert text == "" or text.endswith("\n")
    lines = text.split("\n")[:-1]
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) for record in records)
    return records


def validate_whole_api(client: TestClient) -> int:
    """Fetch every page and every record of the API, in every form (one-to-one, full,
    minimal, ndjson), validating each; return how many services."""
    info = get_json(client, "/oruk/")
    assert info["version"] == "3.0"
    assert info["openapi_url"].endswith("/oruk/openapi.json")
    assert get_json(client, "/oruk/openapi.json")["openapi"].startswith("3.")
    ids: list[str] = []
    page = 1
    while True:
        body = get_json(client, "/oruk/services", page=page, per_page=100)
        assert_valid_page("service_list", body)
        full = get_json(client, "/oruk/services", page=page, per_page=100, full="true")
        assert_valid_page("service", full)
        assert [item["id"] for item in full["contents"]] == [i["id"] for i in body["contents"]]
        for item in full["contents"]:
            one = get_json(client, f"/oruk/services/{item['id']}")
            assert_valid("service", one)
            assert item == one
            ids.append(item["id"])
        if body["last_page"]:
            break
        page += 1
    minimal = get_json(client, "/oruk/services", minimal="true")
    assert_valid_minimal_page(minimal)
    assert [item["id"] for item in minimal["contents"]] == ids
    for form, schema in (({}, "service_list"), ({"full": "true"}, "service")):
        records = ndjson(client, "/oruk/services", **form)
        assert [record["id"] for record in records] == ids
        for record in records:
            assert_valid(schema, record)
    place_ids: list[str] = []
    page = 1
    while True:
        body = get_json(client, "/oruk/service_at_locations", page=page, per_page=100)
        assert_valid_page("service_at_location_list", body)
        full = get_json(client, "/oruk/service_at_locations", page=page, per_page=100, full=1)
        assert_valid_page("service_at_location", full)
        for item in full["contents"]:
            one = get_json(client, f"/oruk/service_at_locations/{item['id']}")
            assert_valid("service_at_location", one)
            assert item == one
            place_ids.append(item["id"])
        if body["last_page"]:
            break
        page += 1
    for form, schema in (({}, "service_at_location_list"), ({"full": 1}, "service_at_location")):
        records = ndjson(client, "/oruk/service_at_locations", **form)
        assert [record["id"] for record in records] == place_ids
        for record in records:
            assert_valid(schema, record)
    taxonomies = get_json(client, "/oruk/taxonomies", per_page=1000)
    assert_valid_page("taxonomy", taxonomies)
    for item in taxonomies["contents"]:
        assert_valid("taxonomy", get_json(client, f"/oruk/taxonomies/{item['id']}"))
    terms = get_json(client, "/oruk/taxonomy_terms", per_page=1000)
    assert_valid_page("taxonomy_term", terms)
    for item in terms["contents"]:
        assert_valid("taxonomy_term", get_json(client, f"/oruk/taxonomy_terms/{item['id']}"))
    assert ndjson(client, "/oruk/taxonomies") == taxonomies["contents"]
    assert ndjson(client, "/oruk/taxonomy_terms") == terms["contents"]
    return len(ids)


def test_every_api_response_validates(client: TestClient, database: Database) -> None:
    import_records(database, full_record(), *(make_record(n) for n in range(1, 8)))
    assert validate_whole_api(client) == 8


def test_every_demo_record_validates(client: TestClient, database: Database) -> None:
    from healthequity.directory.demo import load_demo_directory

    with database.session() as session:
        summary = load_demo_directory(session, AuditContext(purpose="test"))
    assert validate_whole_api(client) == summary.services

    # Opening days and times, against the schedules of the full records read here.
    services = ndjson(client, "/oruk/services", full="true")
    for day, start, end in (
        ("SA", None, None),
        ("SU", None, None),
        (None, "09:00", "17:00"),
        ("MO", "10:00", None),
        ("TH", None, "20:00"),
    ):
        expected = {
            service["id"]
            for service in services
            if any(
                (day is None or day in schedule["byday"].split(","))
                and (start is None or schedule["opens_at"] >= start)
                and (end is None or schedule["closes_at"] <= end)
                for schedule in service["schedules"]
            )
        }
        asked = {"day": day, "start_time": start, "end_time": end}
        found = get_json(client, "/oruk/services", minimal="true", **asked)
        assert {item["id"] for item in found["contents"]} == expected
        assert 0 < len(expected) < len(services)


def test_pages_and_filters(client: TestClient, database: Database) -> None:
    records = [full_record(), *(make_record(n) for n in range(1, 13))]
    import_records(database, *records)
    first = get_json(client, "/oruk/services", per_page=5)
    assert (first["total_items"], first["total_pages"], first["size"]) == (13, 3, 5)
    assert (first["page_number"], first["first_page"], first["last_page"]) == (1, True, False)
    last = get_json(client, "/oruk/services", per_page=5, page=3)
    assert (last["size"], last["last_page"], last["empty"]) == (3, True, False)
    beyond = get_json(client, "/oruk/services", per_page=5, page=4)
    assert beyond["empty"] is True
    assert beyond["contents"] == []

    def ids(**params: Any) -> set[str]:
        return {item["id"] for item in get_json(client, "/oruk/services", **params)["contents"]}

    fixture_id = records[0]["id"]
    assert ids(text="DEBT") == {fixture_id}
    assert ids(search="budgeting") == {fixture_id}
    term = records[0]["attributes"][0]["taxonomy_term"]
    assert ids(taxonomy_term_id=term["id"]) == {fixture_id}
    assert ids(taxonomy_id=term["taxonomy_id"]) == {fixture_id}
    assert ids(taxonomy_id="no-such-taxonomy") == set()
    assert len(ids(status="inactive", per_page=100)) == 4
    assert ids(modified_after="2026-02-01T00:00:00Z") == {fixture_id}
    # Within 1.5 km of the fixture's location (Westminster); the others are ~6 km off.
    near = get_json(client, "/oruk/services", lat=51.4989, long=-0.1352, proximity=1500)
    assert [item["id"] for item in near["contents"]] == [fixture_id]
    ranked = get_json(client, "/oruk/services", lat=51.5, long=-0.1, per_page=100)["contents"]
    assert ranked[0]["id"] == make_record(1)["id"]
    assert len(ranked) == 13
    sals = get_json(client, "/oruk/service_at_locations", text="debt")
    assert [item["service_id"] for item in sals["contents"]] == [fixture_id]


def test_errors_are_json(client: TestClient) -> None:
    for url in (
        "/oruk/services/nope",
        "/oruk/service_at_locations/nope",
        "/oruk/taxonomies/nope",
        "/oruk/taxonomy_terms/nope",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("no ")
    response = client.get("/oruk/services", params={"proximity": 100})
    assert response.status_code == 400
    assert "proximity needs" in response.json()["detail"]
    response = client.get("/oruk/services", params={"postcode": "ZZ99 9ZZ", "proximity": 100})
    assert response.status_code == 400
    assert client.get("/oruk/services", params={"per_page": 0}).status_code == 422
