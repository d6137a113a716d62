"""The /oruk/ API's query options: minimal and full records, ndjson, opening days and times,
lists of terms, postcode coverage with proximity, and errors naming the bad parameter."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from healthequity.store import Database

from .test_oruk import (
    assert_valid,
    assert_valid_minimal_page,
    assert_valid_page,
    full_record,
    get_json,
    import_records,
    make_record,
    ndjson,
)

POSTCODES = Path(__file__).resolve().parents[1] / "data" / "postcodes_sample.csv"


def key(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "-".join(map(str, parts))))


def schedule(number: int, byday: str, opens: str, closes: str, **more: Any) -> dict[str, Any]:
    """A weekly schedule of service `number` (of the service at a location, if asked)."""
    return {
        "id": key("schedule", number, byday, opens),
        "service_id": make_record(number)["id"],
        "freq": "WEEKLY",
        "byday": byday,
        "opens_at": opens,
        "closes_at": closes,
        **more,
    }


def second_location(record: dict[str, Any], latitude: float, longitude: float) -> str:
    """Add another location to the record; the id of its service at location."""
    number = record["name"].split()[-1]
    sal_id = key("sal-b", number)
    record["service_at_locations"].append(
        {
            "id": sal_id,
            "location": {
                "id": key("location-b", number),
                "location_type": "physical",
                "latitude": latitude,
                "longitude": longitude,
            },
        }
    )
    return sal_id


def sal_id_of(number: int) -> str:
    return str(make_record(number)["service_at_locations"][0]["id"])


# Opening times: 1 Saturdays only, 2 weekdays, 3 the first Saturday of each month, 4 Monday
# mornings at its first location and Saturday afternoons at its second, 5 Saturdays until
# 2020, 6 no opening times, 7 Friday nights past midnight.
SATURDAYS, WEEKDAYS, FIRST_SATURDAY, TWO_PLACES, EXPIRED, UNKNOWN, NIGHTS = range(1, 8)


def opening_records() -> tuple[list[dict[str, Any]], str]:
    """The records above, and the id of service 4's second service at location."""
    records = {number: make_record(number, status="active") for number in range(1, 8)}
    records[SATURDAYS]["schedules"] = [schedule(SATURDAYS, "SA", "10:00", "13:00")]
    records[WEEKDAYS]["schedules"] = [schedule(WEEKDAYS, "MO,TU,WE,TH,FR", "09:00", "17:00")]
    records[FIRST_SATURDAY]["schedules"] = [
        schedule(FIRST_SATURDAY, "1SA", "09:30", "12:00", freq="MONTHLY")
    ]
    saturday_place = second_location(records[TWO_PLACES], 51.6, -0.2)
    records[TWO_PLACES]["schedules"] = [
        schedule(TWO_PLACES, "MO", "08:00", "12:00", service_at_location_id=sal_id_of(TWO_PLACES)),
        schedule(TWO_PLACES, "SA", "14:00", "18:00", service_at_location_id=saturday_place),
    ]
    records[EXPIRED]["schedules"] = [
        schedule(EXPIRED, "SA", "10:00", "12:00", valid_from="2019-01-01", valid_to="2020-01-01")
    ]
    records[NIGHTS]["schedules"] = [schedule(NIGHTS, "FR", "22:00", "02:00")]
    return list(records.values()), saturday_place


def service_numbers(client: TestClient, **params: Any) -> set[int]:
    """The numbers of the services /oruk/services finds (see make_record)."""
    body = get_json(client, "/oruk/services", per_page=100, **params)
    assert_valid_page("service_list", body)
    return {int(item["name"].split()[-1]) for item in body["contents"]}


def test_day_start_time_and_end_time(client: TestClient, database: Database) -> None:
    records, saturday_place = opening_records()
    import_records(database, *records)
    assert service_numbers(client) == set(range(1, 8))
    assert service_numbers(client, day="SA") == {SATURDAYS, FIRST_SATURDAY, TWO_PLACES}
    assert service_numbers(client, day="sa") == {SATURDAYS, FIRST_SATURDAY, TWO_PLACES}
    assert service_numbers(client, day="MO") == {WEEKDAYS, TWO_PLACES}
    assert service_numbers(client, day="FR") == {WEEKDAYS, NIGHTS}
    assert service_numbers(client, day="SU") == set()
    assert service_numbers(client, day="", start_time="", end_time="") == set(range(1, 8))
    # Opening at or after start_time; closing at or before end_time; both, the same session.
    assert service_numbers(client, start_time="09:00") == {
        SATURDAYS,
        WEEKDAYS,
        FIRST_SATURDAY,
        TWO_PLACES,
        NIGHTS,
    }
    assert service_numbers(client, end_time="12:00") == {FIRST_SATURDAY, TWO_PLACES}
    assert service_numbers(client, start_time="09:00", end_time="13:00") == {
        SATURDAYS,
        FIRST_SATURDAY,
    }
    assert service_numbers(client, day="SA", start_time="10:00", end_time="13:00:00") == {SATURDAYS}
    assert service_numbers(client, day="MO", start_time="09:00") == {WEEKDAYS}
    assert service_numbers(client, day="SA", end_time="12:00") == {FIRST_SATURDAY}
    # A session past midnight does not end by any time of the same day.
    assert service_numbers(client, start_time="21:00") == {NIGHTS}
    assert service_numbers(client, start_time="21:00", end_time="23:59") == set()

    # Each service at a location is judged by its own schedules and the service's.
    def places(**params: Any) -> list[str]:
        body = get_json(client, "/oruk/service_at_locations", per_page=100, **params)
        assert_valid_page("service_at_location_list", body)
        return [item["id"] for item in body["contents"]]

    assert places(day="SA") == [
        sal_id_of(SATURDAYS),
        sal_id_of(FIRST_SATURDAY),
        saturday_place,
    ]
    assert places(day="MO") == [sal_id_of(WEEKDAYS), sal_id_of(TWO_PLACES)]
    assert places(day="MO", start_time="09:00") == [sal_id_of(WEEKDAYS)]
    assert len(places()) == 8


def test_minimal_and_full_services(client: TestClient, database: Database) -> None:
    records = [full_record(), *(make_record(n) for n in range(1, 60))]
    import_records(database, *records)
    minimal = get_json(client, "/oruk/services", minimal="true")
    # All in one page unless a page size is asked: ORUK's "aim to return all ... in one call".
    assert (minimal["total_items"], minimal["total_pages"], minimal["size"]) == (60, 1, 60)
    assert minimal["last_page"] is True
    assert_valid_minimal_page(minimal)
    given = {record["id"]: record["last_modified"] for record in records}
    assert {item["id"]: item["last_modified"] for item in minimal["contents"]} == given
    ordered = get_json(client, "/oruk/services", per_page=100)["contents"]
    assert [item["id"] for item in minimal["contents"]] == [item["id"] for item in ordered]
    paged = get_json(client, "/oruk/services", minimal=1, per_page=25, page=3)
    assert (paged["total_pages"], paged["size"], paged["last_page"]) == (3, 10, True)
    assert_valid_minimal_page(paged)
    filtered = get_json(client, "/oruk/services", minimal="true", text="debt")
    fixture_id = records[0]["id"]
    assert filtered["contents"] == [{"id": fixture_id, "last_modified": given[fixture_id]}]

    full = get_json(client, "/oruk/services", full="true", per_page=20, page=1)
    assert (full["total_items"], full["size"]) == (60, 20)
    assert_valid_page("service", full)
    for item in full["contents"]:
        assert item == get_json(client, f"/oruk/services/{item['id']}")
    fixture = get_json(client, "/oruk/services", full="true", text="debt")["contents"]
    assert fixture == [records[0]]  # everything nested, as imported
    listed = get_json(client, "/oruk/services", text="debt")["contents"][0]
    assert "schedules" not in listed
    assert "service_at_locations" not in listed


def test_full_and_one_to_one_service_at_locations(client: TestClient, database: Database) -> None:
    record = full_record()
    import_records(database, record)
    sal = record["service_at_locations"][0]
    listed = get_json(client, "/oruk/service_at_locations")
    assert_valid_page("service_at_location_list", listed)
    item = listed["contents"][0]
    assert item["location"] == {
        key: value
        for key, value in sal["location"].items()
        if key not in ("addresses", "accessibility", "attributes")
    }
    assert item["service"]["organization"]["id"] == record["organization"]["id"]
    assert "schedules" not in item["service"]
    full = get_json(client, "/oruk/service_at_locations", full="true")
    assert_valid_page("service_at_location", full)
    assert full["contents"] == [get_json(client, f"/oruk/service_at_locations/{sal['id']}")]
    assert full["contents"][0]["location"]["addresses"] == sal["location"]["addresses"]
    assert full["contents"][0]["service"]["schedules"] == record["schedules"]


def test_ndjson_streams_every_record(client: TestClient, database: Database) -> None:
    records = [full_record(), *(make_record(n) for n in range(1, 8))]
    import_records(database, *records)
    paged = get_json(client, "/oruk/services", per_page=100)["contents"]
    # Without pages: page and per_page do not apply.
    services = ndjson(client, "/oruk/services", per_page=2, page=2)
    assert services == paged
    for item in services:
        assert_valid("service_list", item)
    full = ndjson(client, "/oruk/services", full="true")
    assert [item["id"] for item in full] == [item["id"] for item in paged]
    for item in full:
        assert_valid("service", item)
    assert full[[item["id"] for item in full].index(records[0]["id"])] == records[0]
    minimal = ndjson(client, "/oruk/services", minimal="true")
    assert [set(item) for item in minimal] == [{"id", "last_modified"}] * 8
    assert ndjson(client, "/oruk/services", text="debt") == [
        item for item in paged if item["id"] == records[0]["id"]
    ]
    assert ndjson(client, "/oruk/services", text="nothing like this") == []

    places = ndjson(client, "/oruk/service_at_locations")
    assert len(places) == 8
    for item in places:
        assert_valid("service_at_location_list", item)
    for item in ndjson(client, "/oruk/service_at_locations", full="true"):
        assert_valid("service_at_location", item)
    taxonomies = ndjson(client, "/oruk/taxonomies")
    assert [item["id"] for item in taxonomies] == [
        records[0]["attributes"][0]["taxonomy_term"]["taxonomy_id"]
    ]
    for item in taxonomies:
        assert_valid("taxonomy", item)
    terms = ndjson(client, "/oruk/taxonomy_terms", format="NDJSON")
    assert [item["id"] for item in terms] == [records[0]["attributes"][0]["taxonomy_term_id"]]
    for item in terms:
        assert_valid("taxonomy_term", item)


def tagged(number: int, term: str) -> dict[str, Any]:
    """Service `number` described by `term` of the taxonomy "kinds"."""
    service_id = make_record(number)["id"]
    return make_record(
        number,
        attributes=[
            {
                "id": key("attribute", number),
                "link_id": service_id,
                "taxonomy_term_id": key("term", term),
                "link_type": "service",
                "link_entity": "service",
                "taxonomy_term": {
                    "id": key("term", term),
                    "name": term.title(),
                    "description": "",
                    "taxonomy": "Kinds",
                    "taxonomy_id": key("taxonomy", "kinds"),
                },
            }
        ],
    )


def test_lists_of_terms_and_taxonomies(client: TestClient, database: Database) -> None:
    import_records(
        database, full_record(), tagged(1, "food"), tagged(2, "housing"), tagged(3, "debt")
    )
    food, housing, debt = key("term", "food"), key("term", "housing"), key("term", "debt")
    assert service_numbers(client, taxonomy_term_id=food) == {1}
    assert service_numbers(client, taxonomy_term_id=f"{food},{housing}") == {1, 2}
    assert service_numbers(client, taxonomy_term_id=[food, debt]) == {1, 3}
    assert service_numbers(client, taxonomy_term_id=f" {food} ,") == {1}
    kinds = key("taxonomy", "kinds")
    assert service_numbers(client, taxonomy_id=kinds) == {1, 2, 3}
    fixture_taxonomy = full_record()["attributes"][0]["taxonomy_term"]["taxonomy_id"]
    both = get_json(client, "/oruk/services", taxonomy_id=f"{kinds},{fixture_taxonomy}")
    assert both["total_items"] == 4
    assert service_numbers(client, taxonomy_id=kinds, taxonomy_term_id=housing) == {2}


def located(number: int, latitude: float, longitude: float, **area: str) -> dict[str, Any]:
    """Service `number` at a point, with a service area if given."""
    record = make_record(number, status="active")
    location = record["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = latitude, longitude
    if area:
        record["service_areas"] = [{"id": key("area", number), **area}]
    return record


def ring(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def polygon(*rings: list[list[float]]) -> str:
    """A GeoJSON feature: the first ring its outline, any others holes in it."""
    return json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings}})


# Services with areas ORUK's postcode is checked against, and where they are.
LEEDS, WESTMINSTER_CODE, WESTMINSTER_SHAPE, OUR_BOROUGH, NO_AREA, BEYOND_HOLE = range(1, 7)


def test_postcode_service_areas_and_proximity(client: TestClient, database: Database) -> None:
    from healthequity.places import service as places

    with database.session() as session:
        places.load_postcode_directory(session, POSTCODES)
    # SW1A 1AA is at 51.49889, -0.135185 (Westminster); LS1 1UR in Leeds.
    westminster = "http://statistics.data.gov.uk/id/statistical-geography/E09000033"
    palace = ring(-0.14, 51.49, -0.13, 51.51)
    import_records(
        database,
        located(LEEDS, 53.8703, -1.6809, name="Leeds", service_area="Leeds"),
        located(WESTMINSTER_CODE, 51.4990, -0.1350, name="Westminster", uri=westminster),
        located(
            WESTMINSTER_SHAPE,
            51.5200,
            -0.1000,
            name="Around the palace",
            extent_type="geojson",
            extent=polygon(palace),
        ),
        located(OUR_BOROUGH, 51.4985, -0.1300, name="Residents of our borough"),
        located(NO_AREA, 51.4500, -0.2000),
        located(
            BEYOND_HOLE,
            51.4989,
            -0.1352,
            name="London but the palace",
            extent=polygon(ring(-0.2, 51.4, -0.1, 51.6), palace),
        ),
    )
    # A postcode alone: the services whose areas cover it, or say nothing about it.
    assert service_numbers(client, postcode="SW1A 1AA") == {
        WESTMINSTER_CODE,
        WESTMINSTER_SHAPE,
        OUR_BOROUGH,
        NO_AREA,
    }
    assert service_numbers(client, postcode="ls11ur") == {LEEDS, OUR_BOROUGH, NO_AREA}
    # With a proximity, also within that many metres of the postcode; nearest first.
    near = get_json(client, "/oruk/services", postcode="SW1A 1AA", proximity=1000)
    assert [int(item["name"].split()[-1]) for item in near["contents"]] == [
        WESTMINSTER_CODE,
        OUR_BOROUGH,
    ]
    sals = get_json(client, "/oruk/service_at_locations", postcode="SW1A 1AA", proximity=1000)
    assert [item["service_id"] for item in sals["contents"]] == [
        make_record(WESTMINSTER_CODE)["id"],
        make_record(OUR_BOROUGH)["id"],
    ]
    # A point is not a postcode: no service areas are checked, only the distance.
    around = get_json(client, "/oruk/services", lat=51.49889, long=-0.135185, proximity=1000)
    assert [int(item["name"].split()[-1]) for item in around["contents"]] == [
        BEYOND_HOLE,
        WESTMINSTER_CODE,
        OUR_BOROUGH,
    ]
    everything = get_json(client, "/oruk/services", lat=51.49889, long=-0.135185)["contents"]
    assert len(everything) == 6
    assert int(everything[-1]["name"].split()[-1]) == LEEDS


def test_services_at_locations_are_nearest_first_each_by_its_own_place(
    client: TestClient, database: Database
) -> None:
    record = located(1, 51.60, -0.10)
    far_place = record["service_at_locations"][0]["id"]
    near_place = second_location(record, 51.5, -0.1)
    import_records(database, record, located(2, 51.55, -0.10))
    body = get_json(client, "/oruk/service_at_locations", lat=51.5, long=-0.1)
    assert [item["id"] for item in body["contents"]] == [near_place, sal_id_of(2), far_place]
    within = get_json(client, "/oruk/service_at_locations", lat=51.5, long=-0.1, proximity=6000)
    # 0.05 degrees of latitude is about 5.6 km; 0.1, 11 km.
    assert [item["id"] for item in within["contents"]] == [near_place, sal_id_of(2)]


@pytest.mark.parametrize(
    ("url", "params", "name", "expected"),
    [
        ("/oruk/services", {"day": "XX"}, "day", "'MO', 'TU', 'WE', 'TH', 'FR', 'SA' or 'SU'"),
        ("/oruk/services", {"day": "Saturday"}, "day", "'SA'"),
        ("/oruk/service_at_locations", {"day": "funday"}, "day", "'SU'"),
        ("/oruk/services", {"start_time": "9am"}, "start_time", "HH:MM"),
        ("/oruk/services", {"start_time": "25:00"}, "start_time", "HH:MM"),
        ("/oruk/services", {"end_time": "3600"}, "end_time", "HH:MM"),
        ("/oruk/service_at_locations", {"end_time": "12:60"}, "end_time", "24-hour clock"),
        (
            "/oruk/services",
            {"start_time": "17:00", "end_time": "09:00"},
            "end_time",
            "at or after start_time (17:00)",
        ),
        ("/oruk/services", {"format": "xml"}, "format", "'json' or 'ndjson'"),
        ("/oruk/taxonomies", {"format": "csv"}, "format", "'json' or 'ndjson'"),
        ("/oruk/services", {"minimal": "perhaps"}, "minimal", "boolean"),
        ("/oruk/services", {"minimal": "true", "full": "true"}, "full", "minimal or full"),
        ("/oruk/services", {"per_page": "1001"}, "per_page", "1000"),
    ],
)
def test_bad_values_are_named(
    client: TestClient, url: str, params: dict[str, str], name: str, expected: str
) -> None:
    response = client.get(url, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", name]
    assert expected in problem["msg"]
