"""The curator pages: each renders, saves, names the wrong field and keeps what was typed,
writes history that its page shows, audits every change, and lets only curators and admins
in. The curation underneath is tested in test_curation.py, whose records these use."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import csrf_token, sign_in
from healthequity.audit.models import AuditEvent
from healthequity.auth.models import Role
from healthequity.directory import curation
from healthequity.directory.models import (
    Attribute,
    Location,
    Organization,
    RecordChange,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.search import today_in_london
from healthequity.store import Database
from healthequity.web.security import CSRF_FIELD

from .test_curation import add_postcodes, counts, seed, seed_terms

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def curator(database: Database, client: TestClient, make_user):  # type: ignore[no-untyped-def]
    """A curator signed in on `client`, over the records of test_curation's `seed`."""
    seed(database)
    user = make_user(Role.CURATOR)
    sign_in(client, user)
    return user


def _post(client: TestClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={CSRF_FIELD: csrf_token(client), **data}, follow_redirects=False)


def _actions(database: Database) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("directory.%"))
                .order_by(AuditEvent.id)
            )
        )


def _changes(database: Database, entity_type: str, entity_id: str) -> list[dict[str, object]]:
    """The record's changes, newest first, as diffs."""
    with database.session() as session:
        return [json.loads(c.change) for c in curation.history(session, entity_type, entity_id)]


def _input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]* name="{re.escape(name)}"[^>]* value="([^"]*)"', html)
    assert match, f"no input {name} on the page"
    return match.group(1)


# The service editor


FORM = {
    "name": "Debt Advice",
    "description": "Free debt advice.",
    "status": "active",
    "email": "debt@example.org",
    "url": "",
    "phone-1-number": "0113 496 0000",
    "phone-1-description": "",
    "phone-2-number": "",
    "phone-2-description": "",
    "referral_method": "",
    "accepting_referrals": "yes",
    "accepting_referrals_note": "",
    "minimum_age": "",
    "maximum_age": "",
    "eligibility_description": "",
    "needs": ["debt"],
    "opening-1-days": "",
    "opening-1-opens": "",
    "opening-1-closes": "",
}


def test_editor_keeps_what_was_typed_on_error(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/curate/services/svc-good")
    assert page.status_code == 200
    assert 'value="debt@example.org"' in page.text
    assert _input_value(page.text, "phone-1-number") == "0113 496 0000"
    # Two empty rows to add more numbers.
    assert _input_value(page.text, "phone-2-number") == ""
    assert _input_value(page.text, "phone-3-number") == ""
    assert 'name="phone-4-number"' not in page.text
    typed = {
        **FORM,
        "name": "Debt Advice Plus",
        "email": "nobody-at-example",
        "phone-2-number": "",
        "phone-3-number": "0113 49",
        "phone-3-description": "Text only",
        "opening-1-days": "Tue",
        "opening-1-opens": "18:00",
        "opening-1-closes": "10:00",
        "needs": ["debt", "housing"],
    }
    response = _post(client, "/curate/services/svc-good", typed)
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert "<title>Error: " in response.text
    summary = response.text[: response.text.index("<h1>")]
    # The summary follows the form's order, each message linking to its field.
    assert summary.index('href="#phone-3-number"') < summary.index('href="#email"')
    assert summary.index('href="#email"') < summary.index('href="#opening-1-closes"')
    assert "Enter a UK phone number" in summary
    # What was typed is kept, each on its own row (the empty row 2 stays empty).
    assert 'value="Debt Advice Plus"' in response.text
    assert 'value="nobody-at-example"' in response.text
    assert _input_value(response.text, "phone-2-number") == ""
    assert _input_value(response.text, "phone-3-number") == "0113 49"
    assert _input_value(response.text, "phone-3-description") == "Text only"
    assert 'aria-describedby="phone-3-number-error"' in response.text
    assert 'value="Tue"' in response.text
    assert 'value="18:00"' in response.text
    assert 'value="housing" checked' in response.text
    with database.session() as session:
        assert session.get_one(Service, "svc-good").name == "Debt Advice"
    assert counts(database) == (0, 0)


def test_editor_saves_then_history_lists_the_change(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    user = curator
    response = _post(
        client,
        "/curate/services/svc-good",
        {
            **FORM,
            "email": "new@example.org",
            "opening-1-days": "Mon-Fri",
            "opening-1-opens": "09:00",
            "opening-1-closes": "17:00",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/curate/services/svc-good?saved=1"
    saved = client.get(response.headers["location"])
    assert "saved-banner" in saved.text
    assert 'value="new@example.org"' in saved.text
    assert 'value="Mon-Fri"' in saved.text
    assert _changes(database, "service", "svc-good") == [
        {
            "email": ["debt@example.org", "new@example.org"],
            "opening_times": [[], ["MO,TU,WE,TH,FR 09:00-17:00"]],
        }
    ]
    history = client.get("/curate/services/svc-good/history")
    assert history.status_code == 200
    assert "debt@example.org" in history.text
    assert "new@example.org" in history.text
    assert f"Test {user.email}" in history.text

    reviewed = _post(client, "/curate/services/svc-good/review", {})
    assert reviewed.status_code == 303
    assert "Marked as reviewed" in client.get(reviewed.headers["location"]).text
    with database.session() as session:
        assert session.get_one(Service, "svc-good").last_reviewed == today_in_london()
    assert "Last reviewed" in client.get("/curate/services/svc-good/history").text
    assert _actions(database) == ["directory.service.update", "directory.service.review"]


def test_editor_keeps_several_phone_numbers(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    response = _post(
        client,
        "/curate/services/svc-good",
        {**FORM, "phone-2-number": "0800 123 4567", "phone-2-description": "Freephone"},
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    numbers = {
        _input_value(page.text, f"phone-{n}-number"): _input_value(
            page.text, f"phone-{n}-description"
        )
        for n in (1, 2)
    }
    assert numbers == {"0113 496 0000": "", "0800 123 4567": "Freephone"}
    assert _input_value(page.text, "phone-4-number") == ""  # and two empty rows after them
    with database.session() as session:
        service = session.get_one(Service, "svc-good")
        assert {(p.number, p.description) for p in service.phones} == {
            ("0113 496 0000", None),
            ("0800 123 4567", "Freephone"),
        }
    assert _changes(database, "service", "svc-good") == [
        {"phones": [["0113 496 0000"], ["0113 496 0000", "0800 123 4567 (Freephone)"]]}
    ]
    history = client.get("/curate/services/svc-good/history")
    assert "Phone numbers" in history.text
    assert "0113 496 0000; 0800 123 4567 (Freephone)" in history.text
    assert _actions(database) == ["directory.service.update"]

    # Emptying a row removes that number.
    kept = next(n for n in numbers if n != "0113 496 0000")
    response = _post(
        client,
        "/curate/services/svc-good",
        {**FORM, "phone-1-number": kept, "phone-1-description": "Freephone"},
    )
    assert response.status_code == 303
    with database.session() as session:
        assert [p.number for p in session.get_one(Service, "svc-good").phones] == [kept]


def test_dashboard_and_new_service_pages(database: Database, client: TestClient, curator) -> None:  # type: ignore[no-untyped-def]
    board = client.get("/curate")
    assert board.status_code == 200
    assert 'href="/curate/services/svc-bare"' in board.text
    assert "Possible duplicates (2)" in board.text
    navigation = board.text[board.text.index('aria-label="Curation"') :]
    assert 'aria-current="page"' in navigation.split("</nav>")[0]
    for href in ("/curate/organisations", "/curate/taxonomy", "/curate/organisations/new"):
        assert f'href="{href}"' in board.text
    assert client.get("/curate/services/nope").status_code == 404
    assert client.get("/curate/services/new").status_code == 200
    missing = _post(
        client, "/curate/services/new", {**FORM, "name": "Warm space", "organization_id": ""}
    )
    assert missing.status_code == 422
    assert 'href="#organization_id"' in missing.text
    assert 'value="Warm space"' in missing.text
    created = _post(
        client, "/curate/services/new", {**FORM, "name": "Warm space", "organization_id": "org-b"}
    )
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert "saved-banner" in page.text
    assert "No location yet." in page.text
    service_id = created.headers["location"].split("/")[-1].split("?")[0]
    assert f'href="/curate/locations/new?service_id={service_id}"' in page.text
    assert 'href="/curate/organisations/org-b"' in page.text


# Organisations


def test_organisation_list_and_search(database: Database, client: TestClient, curator) -> None:  # type: ignore[no-untyped-def]
    listing = client.get("/curate/organisations")
    assert listing.status_code == 200
    assert "2 organisations" in listing.text
    assert 'href="/curate/organisations/org-a"' in listing.text
    assert 'href="/curate/organisations/org-b"' in listing.text
    found = client.get("/curate/organisations", params={"q": "advice"})
    assert "1 organisation with “advice” in the name" in found.text
    assert 'href="/curate/organisations/org-a"' in found.text
    assert 'href="/curate/organisations/org-b"' not in found.text
    assert 'value="advice"' in found.text
    none = client.get("/curate/organisations", params={"q": "zebra"})
    assert "No organisation matches" in none.text


def test_organisation_create_edit_and_history(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    user = curator
    assert client.get("/curate/organisations/new").status_code == 200
    typed = {
        "name": "",
        "alternate_name": "NT",
        "description": "Helps people.",
        "email": "not-an-email",
        "website": "new.example.org",
    }
    wrong = _post(client, "/curate/organisations/new", typed)
    assert wrong.status_code == 422
    summary = wrong.text[: wrong.text.index("<h1>")]
    assert summary.index('href="#name"') < summary.index('href="#email"')
    assert 'href="#website"' in summary
    assert "Enter the name of the organisation" in summary
    assert 'value="NT"' in wrong.text
    assert 'value="not-an-email"' in wrong.text
    assert 'value="new.example.org"' in wrong.text
    assert "Helps people.</textarea>" in wrong.text
    assert counts(database) == (0, 0)

    created = _post(
        client,
        "/curate/organisations/new",
        {**typed, "name": "New Trust", "email": "", "website": "https://new.example.org"},
    )
    assert created.status_code == 303, created.text
    org_id = created.headers["location"].split("/")[-1].split("?")[0]
    page = client.get(created.headers["location"])
    assert "saved-banner" in page.text
    assert "No services yet." in page.text
    assert f'href="/curate/services/new?organization_id={org_id}"' in page.text
    assert f'href="/curate/locations/new?organization_id={org_id}"' in page.text

    edited = _post(
        client,
        f"/curate/organisations/{org_id}",
        {**typed, "name": "New Trust", "email": "hello@new.example.org", "website": ""},
    )
    assert edited.status_code == 303
    with database.session() as session:
        organization = session.get_one(Organization, org_id)
        assert (organization.email, organization.website) == ("hello@new.example.org", None)
    assert _changes(database, "organization", org_id)[0] == {
        "email": [None, "hello@new.example.org"],
        "website": ["https://new.example.org", None],
    }
    history = client.get(f"/curate/organisations/{org_id}/history")
    assert history.status_code == 200
    assert "History of New Trust" in history.text
    assert "hello@new.example.org" in history.text
    assert f"Test {user.email}" in history.text
    assert _actions(database) == ["directory.organization.create", "directory.organization.update"]

    wrong_edit = _post(client, f"/curate/organisations/{org_id}", {**typed, "name": "X" * 301})
    assert wrong_edit.status_code == 422
    assert "300 characters or fewer" in wrong_edit.text
    assert client.get("/curate/organisations/nope").status_code == 404
    assert client.get("/curate/organisations/nope/history").status_code == 404
    assert _post(client, "/curate/organisations/nope", typed).status_code == 404


def test_organisation_page_lists_its_services_and_locations(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/curate/organisations/org-a")
    assert page.status_code == 200
    assert 'value="Advice Leeds"' in page.text
    assert "Services (3)" in page.text
    for service_id in ("svc-good", "svc-bare", "svc-twin"):
        assert f'href="/curate/services/{service_id}"' in page.text
    assert "svc-elsewhere" not in page.text
    assert "Locations of its services (1)" in page.text
    assert 'href="/curate/locations/loc-1"' in page.text
    assert "1 Street, LS1 1AA" in page.text


# Locations


LOCATION = {
    "name": "Chapeltown Centre",
    "description": "",
    "address_1": "1 Reginald Terrace",
    "address_2": "",
    "city": "Leeds",
    "postal_code": "LS7 3DT",
    "latitude": "",
    "longitude": "",
}


def test_location_create_by_postcode(database: Database, client: TestClient, curator) -> None:  # type: ignore[no-untyped-def]
    add_postcodes(database)
    new = client.get("/curate/locations/new", params={"service_id": "svc-bare"})
    assert new.status_code == 200
    # The services of the service's organisation, the service chosen.
    assert '<option value="svc-bare" selected>' in new.text
    assert 'value="svc-elsewhere"' not in new.text
    every = client.get("/curate/locations/new")
    assert 'value="svc-elsewhere"' in every.text
    assert '<optgroup label="Other Charity">' in every.text

    typed = {**LOCATION, "service_id": "", "address_1": "", "postal_code": "LS7", "latitude": "1"}
    wrong = _post(client, "/curate/locations/new", typed)
    assert wrong.status_code == 422
    summary = wrong.text[: wrong.text.index("<h1>")]
    for field in ("service_id", "address_1", "postal_code", "latitude"):
        assert f'href="#{field}"' in summary
    assert summary.index('href="#service_id"') < summary.index('href="#address_1"')
    assert "Enter the first line of the address" in summary
    assert "Enter a real UK postcode" in summary
    assert 'value="Chapeltown Centre"' in wrong.text
    assert _input_value(wrong.text, "postal_code") == "LS7"
    assert _input_value(wrong.text, "latitude") == "1"
    assert counts(database) == (0, 0)

    created = _post(client, "/curate/locations/new", {**LOCATION, "service_id": "svc-bare"})
    assert created.status_code == 303, created.text
    assert created.headers["location"].endswith("?saved=1")
    location_id = created.headers["location"].split("/")[-1].split("?")[0]
    page = client.get(created.headers["location"])
    assert "saved-banner" in page.text
    assert "E01011352" in page.text
    assert _input_value(page.text, "latitude") == "53.82"
    assert _input_value(page.text, "postal_code") == "LS7 3DT"
    assert 'href="/curate/services/svc-bare"' in page.text
    with database.session() as session:
        assert session.get_one(Location, location_id).lsoa21_code == "E01011352"
    assert _actions(database) == [
        "directory.location.create",
        "directory.service_at_location.create",
    ]
    history = client.get(f"/curate/locations/{location_id}/history")
    assert history.status_code == 200
    assert "History of Chapeltown Centre" in history.text
    assert "Area (LSOA)" in history.text
    assert "E01011352" in history.text
    # The service's page lists its new location.
    service_page = client.get("/curate/services/svc-bare")
    assert f'href="/curate/locations/{location_id}"' in service_page.text
    assert "Locations" in client.get("/curate/services/svc-bare/history").text


def test_an_unknown_postcode_is_said_and_kept(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    typed = {**LOCATION, "name": "Hub (moved)", "postal_code": "ls99 9zz"}
    refused = _post(client, "/curate/locations/loc-1", typed)
    assert refused.status_code == 422
    assert "LS99 9ZZ is not in the loaded postcode directory" in refused.text
    assert 'href="#postal_code"' in refused.text
    assert _input_value(refused.text, "postal_code") == "ls99 9zz"
    assert 'value="Hub (moved)"' in refused.text
    assert 'name="allow_unknown_postcode"' in refused.text
    assert counts(database) == (0, 0)

    saved = _post(client, "/curate/locations/loc-1", {**typed, "allow_unknown_postcode": "yes"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/curate/locations/loc-1?saved=1&unplaced=1"
    page = client.get(saved.headers["location"])
    assert "unplaced-warning" in page.text
    assert "Check the map point and area" in page.text
    # The point typed was empty, so the location kept its point.
    with database.session() as session:
        location = session.get_one(Location, "loc-1")
        assert (location.name, location.latitude, location.longitude) == ("Hub (moved)", 1.0, 1.0)
        assert location.addresses[0].postal_code == "LS99 9ZZ"
    assert _changes(database, "location", "loc-1")[0]["postal_code"] == ["LS1 1AA", "LS99 9ZZ"]


def test_location_edit_and_point_validation(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    add_postcodes(database)
    page = client.get("/curate/locations/loc-1")
    assert page.status_code == 200
    assert _input_value(page.text, "address_1") == "1 Street"
    assert _input_value(page.text, "latitude") == "1.0"
    # The services here, each with a button to remove it, and the others to add.
    assert 'href="/curate/services/svc-good"' in page.text
    link_form = page.text[page.text.index('action="/curate/locations/loc-1/link"') :]
    assert 'value="svc-bare"' in link_form
    assert 'value="svc-good"' not in link_form

    swapped = _post(
        client,
        "/curate/locations/loc-1",
        {**LOCATION, "postal_code": "LS2 9JT", "latitude": "-1.55", "longitude": "53.8"},
    )
    assert swapped.status_code == 422
    assert 'href="#latitude"' in swapped.text
    assert 'href="#longitude"' in swapped.text
    assert "from 49 to 61 (the UK)" in swapped.text
    assert _input_value(swapped.text, "latitude") == "-1.55"
    assert _input_value(swapped.text, "longitude") == "53.8"

    saved = _post(client, "/curate/locations/loc-1", {**LOCATION, "postal_code": "ls2 9jt"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/curate/locations/loc-1?saved=1"
    with database.session() as session:
        location = session.get_one(Location, "loc-1")
        assert (location.lsoa21_code, location.latitude, location.longitude) == (
            "E01011365",
            53.8,
            -1.55,
        )
    # Saving the page unchanged changes nothing.
    page = client.get("/curate/locations/loc-1")
    unchanged = {name: _input_value(page.text, name) for name in LOCATION if name != "description"}
    assert (
        _post(client, "/curate/locations/loc-1", {**unchanged, "description": ""}).status_code
        == 303
    )
    assert counts(database) == (1, 1)
    assert client.get("/curate/locations/nope").status_code == 404
    assert client.get("/curate/locations/nope/history").status_code == 404
    assert _post(client, "/curate/locations/nope", LOCATION).status_code == 404


def test_link_and_unlink_services_on_the_location_page(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    nothing = _post(client, "/curate/locations/loc-1/link", {"service_id": ""})
    assert nothing.status_code == 422
    assert 'href="#link-service"' in nothing.text
    assert "Choose a service from the list" in nothing.text

    linked = _post(client, "/curate/locations/loc-1/link", {"service_id": "svc-bare"})
    assert linked.status_code == 303
    assert linked.headers["location"] == "/curate/locations/loc-1?linked=added"
    page = client.get(linked.headers["location"])
    assert "Service added to this location." in page.text
    assert 'href="/curate/services/svc-bare"' in page.text

    unlinked = _post(client, "/curate/locations/loc-1/unlink", {"service_id": "svc-good"})
    assert unlinked.status_code == 303
    assert "Service removed" in client.get(unlinked.headers["location"]).text
    with database.session() as session:
        here = session.scalars(
            select(ServiceAtLocation.service_id)
            .where(ServiceAtLocation.location_id == "loc-1")
            .order_by(ServiceAtLocation.service_id)
        )
        assert list(here) == ["svc-bare", "svc-twin"]
    assert _actions(database) == [
        "directory.service_at_location.create",
        "directory.service_at_location.delete",
    ]
    history = client.get("/curate/locations/loc-1/history").text
    assert "Services" in history
    assert "Debt Advice; The debt advice!" in history
    service_history = client.get("/curate/services/svc-good/history").text
    assert "Locations" in service_history
    assert "Hub" in service_history
    assert (
        _post(client, "/curate/locations/nope/link", {"service_id": "svc-bare"}).status_code == 404
    )


# Taxonomy terms


def test_taxonomy_page_maps_terms_to_needs(
    database: Database, client: TestClient, curator, make_user
) -> None:  # type: ignore[no-untyped-def]
    user = curator
    seed_terms(database)
    with database.session() as session:
        # A service found by a need only through an imported term.
        session.add(Attribute(id="att-bare", link_id="svc-bare", taxonomy_term_id="term-pets"))
    page = client.get("/curate/taxonomy")
    assert page.status_code == 200
    assert "3 terms" in page.text
    assert "Searches by need use this mapping" in page.text
    rows = page.text[page.text.index("<tbody") :]
    assert rows.index("Debt counselling") < rows.index("Food banks") < rows.index("Pet care")
    assert "LGA service types" in rows
    assert "Social isolation" not in rows.split("<option")[0]  # no built-in needs term listed
    assert '<option value="food" selected>' in rows
    assert ">2</td>" in rows  # two services use "Debt counselling"

    unmapped = client.get("/curate/taxonomy", params={"unmapped": "1"})
    assert "2 terms not mapped to a need" in unmapped.text
    assert "Food banks" not in unmapped.text
    assert 'id="unmapped" name="unmapped" type="checkbox" value="1" checked' in unmapped.text
    action = 'action="/curate/taxonomy/terms/term-pets?unmapped=1"'
    assert action in unmapped.text

    with TestClient(client.app) as clinician:
        sign_in(clinician, make_user(Role.CLINICIAN))

        def found_for_food() -> list[str]:
            response = clinician.get("/api/directory/search", params={"need": "food"})
            assert response.status_code == 200, response.text
            return [result["id"] for result in response.json()["results"]]

        assert "svc-bare" not in found_for_food()
        saved = _post(client, "/curate/taxonomy/terms/term-pets?unmapped=1", {"need_code": "food"})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/curate/taxonomy?unmapped=1&saved=term-pets"
        assert "svc-bare" in found_for_food()

    after = client.get(saved.headers["location"])
    assert "saved-banner" in after.text
    assert "“Pet care 100%” now means Food" in after.text
    assert "1 term not mapped to a need" in after.text
    with database.session() as session:
        assert session.get_one(TaxonomyTerm, "term-pets").need_code == "food"
    assert _changes(database, "taxonomy_term", "term-pets") == [{"need_code": [None, "food"]}]
    assert _actions(database) == ["directory.taxonomy_term.map_need"]
    history = client.get("/curate/taxonomy/terms/term-pets/history")
    assert history.status_code == 200
    assert "History of Pet care 100%" in history.text
    assert f"Test {user.email}" in history.text

    unmap = _post(client, "/curate/taxonomy/terms/term-food", {"need_code": ""})
    assert unmap.status_code == 303
    assert "is no longer mapped to a need" in client.get(unmap.headers["location"]).text
    with database.session() as session:
        assert session.get_one(TaxonomyTerm, "term-food").need_code is None

    tampered = _post(client, "/curate/taxonomy/terms/term-debt", {"need_code": "unicorns"})
    assert tampered.status_code == 422
    assert 'href="#need-1"' in tampered.text
    assert "Choose a need from the list, or none" in tampered.text
    assert _post(client, "/curate/taxonomy/terms/nope", {"need_code": "food"}).status_code == 404
    assert client.get("/curate/taxonomy/terms/nope/history").status_code == 404
    with database.session() as session:
        changes = session.scalars(
            select(RecordChange.entity_id).where(RecordChange.entity_type == "taxonomy_term")
        )
        assert sorted(changes) == ["term-food", "term-pets"]


def test_taxonomy_page_without_imported_terms(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/curate/taxonomy")
    assert page.status_code == 200
    assert "No imported taxonomy terms yet" in page.text
    search = client.get("/curate/taxonomy", params={"q": "debt"})
    assert "No term matches" in search.text


def test_terms_come_a_hundred_to_a_page(database: Database, client: TestClient, curator) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        session.add(Taxonomy(id="tax-many", name="Many", description=""))
        session.flush()
        session.add_all(
            TaxonomyTerm(id=f"term-{n:03d}", name=f"Term {n:03d}", taxonomy_id="tax-many")
            for n in range(1, 102)
        )
    first = client.get("/curate/taxonomy", params={"unmapped": "1"})
    assert "101 terms not mapped to a need" in first.text
    assert "Term 100" in first.text
    assert "Term 101" not in first.text
    assert 'href="/curate/taxonomy?unmapped=1&amp;page=2"' in first.text
    assert "Page 2 of 2" in first.text
    second = client.get("/curate/taxonomy", params={"unmapped": "1", "page": "2"})
    assert "Term 101" in second.text
    assert "Term 100" not in second.text
    assert 'href="/curate/taxonomy?unmapped=1&amp;page=1"' in second.text
    # Saving on the second page comes back to it.
    assert 'action="/curate/taxonomy/terms/term-101?unmapped=1&amp;page=2"' in second.text
    assert client.get("/curate/taxonomy", params={"page": "x"}).status_code == 200


# Who may use the pages


PAGES = (
    "/curate/organisations",
    "/curate/organisations/new",
    "/curate/organisations/org-a",
    "/curate/organisations/org-a/history",
    "/curate/locations/new",
    "/curate/locations/loc-1",
    "/curate/locations/loc-1/history",
    "/curate/taxonomy",
)


def test_only_curators_and_admins(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed(database)
    sign_in(client, make_user(Role.CLINICIAN, Role.LINK_WORKER, Role.ORG_ADMIN))
    for path in ("/curate", "/curate/services/svc-good", *PAGES):
        assert client.get(path).status_code == 403, path
    assert _post(client, "/curate/services/svc-good", FORM).status_code == 403
    assert _post(client, "/curate/locations/loc-1", LOCATION).status_code == 403
    assert (
        _post(client, "/curate/locations/loc-1/link", {"service_id": "svc-bare"}).status_code == 403
    )
    assert _post(client, "/curate/organisations/new", {"name": "X"}).status_code == 403
    assert "Curate directory" not in client.get("/").text
    assert counts(database) == (0, 0)
    with TestClient(client.app) as admin:
        sign_in(admin, make_user(Role.ADMIN))
        for path in ("/curate", *PAGES):
            assert admin.get(path).status_code == 200, path
        assert "Curate directory" in admin.get("/").text
