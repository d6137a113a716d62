"""Directory pages and the search API: who may use them, the form keeping what was typed,
results as cards, errors for a place that cannot be found, and the public directory."""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import sign_in
from healthequity.auth.models import Role
from healthequity.store import Database

from .test_search import ORIGIN, TEST_POSTCODE, seed_directory, service_id


def signed_in(client: TestClient, make_user, role: Role = Role.CLINICIAN) -> TestClient:  # type: ignore[no-untyped-def]
    sign_in(client, make_user(role))
    return client


def test_api_search(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    assert client.get("/api/directory/search", params={"need": "debt"}).status_code == 401
    signed_in(client, make_user, Role.PROVIDER)
    response = client.get(
        "/api/directory/search",
        params={
            "need": ["debt", "income_benefits"],
            "lat": ORIGIN[0],
            "lon": ORIGIN[1],
            "within": 3,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["name"] for r in body["results"]] == [
        "Debt advice centre",
        "Money help",
        "Money help drop-in",
        "Benefits clinic",
    ]
    first = body["results"][0]
    assert first["distance_miles"] == 1.0
    assert first["checked"].startswith("checked ")
    assert first["opening_times"] == "Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00"
    assert [n["code"] for n in first["matched_needs"]] == ["debt", "income_benefits"]
    assert body["stale_after_days"] == 180
    assert body["origin"]["latitude"] == ORIGIN[0]

    typo = client.get(
        "/api/directory/search", params={"q": "det advise", "postcode": TEST_POSTCODE}
    )
    assert typo.json()["results"][0]["name"] == "Debt advice centre"


def test_api_errors(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    signed_in(client, make_user)
    unknown = client.get("/api/directory/search", params={"postcode": "ZZ9 9ZZ", "within": 3})
    assert unknown.status_code == 422
    assert "nearby postcode" in unknown.json()["detail"]
    bad_need = client.get("/api/directory/search", params={"need": "unicorns"})
    assert bad_need.status_code == 422
    assert "unknown need" in bad_need.json()["detail"]
    assert client.get("/api/directory/search", params={"within": 3}).status_code == 422


def test_stale_days_setting_reaches_the_api(
    database: Database,
    app: FastAPI,
    client: TestClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    seed_directory(database)
    signed_in(client, make_user)
    app.state.settings = dataclasses.replace(app.state.settings, directory_stale_days=1)
    body = client.get("/api/directory/search", params={"need": "debt"}).json()
    assert body["stale_after_days"] == 1
    assert all(result["stale"] for result in body["results"])


def test_professional_page_keeps_the_form_and_shows_cards(
    database: Database,
    client: TestClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    seed_directory(database)
    response = client.get("/directory", follow_redirects=False)
    assert response.status_code == 303  # sign in first
    signed_in(client, make_user, Role.LINK_WORKER)
    empty = client.get("/directory")
    assert empty.status_code == 200
    assert "Find services" in empty.text
    response = client.get(
        "/directory",
        params={
            "need": ["debt", "income_benefits"],
            "where": TEST_POSTCODE,
            "within": "3",
            "q": "money",
            "age": "42",
            "accepting": "yes",
        },
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert 'value="debt" checked' in page
    assert 'value="income_benefits" checked' in page
    assert 'value="food" checked' not in page
    assert f'value="{TEST_POSTCODE}"' in page
    assert '<option value="3" selected>' in page
    assert 'id="q" name="q" type="search" value="money"' in page
    assert 'name="age" type="text" value="42"' in page
    assert 'id="accepting" name="accepting" type="checkbox" value="yes" checked' in page
    assert 'id="open_now" name="open_now" type="checkbox" value="yes" checked' not in page
    assert "nhsuk-card" in page
    assert "Money help" in page
    assert "0.5 miles" in page
    assert "Refer by phone: 0113 496 0000" in page
    assert "Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00" in page
    assert "Checked 5 days ago" in page or "Checked " in page
    assert f'href="/directory/services/{service_id("Money help")}"' in page
    # The drop-in, checked 100 days before the seed's date, is stale by now.
    stale = client.get("/directory", params={"q": "benefits clinic"}).text
    assert "Stale" in stale


def test_professional_page_unknown_postcode(
    database: Database,
    client: TestClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    seed_directory(database)
    signed_in(client, make_user)
    response = client.get("/directory", params={"where": "ZZ9 9ZZ", "within": "3"})
    assert response.status_code == 422
    page = response.text
    assert "nhsuk-error-summary" in page
    assert "There is a problem" in page
    assert 'href="#where"' in page
    assert "We could not find the postcode ZZ9 9ZZ" in page
    assert "Enter a nearby postcode, or choose the area" in page
    assert 'value="ZZ9 9ZZ"' in page  # kept as typed
    assert "<title>Error: " in page
    invalid = client.get("/directory", params={"where": "not a postcode"})
    assert invalid.status_code == 422
    assert "is not a postcode" in invalid.text
    bad_age = client.get("/directory", params={"age": "old"})
    assert bad_age.status_code == 422
    assert "Enter the age in whole years" in bad_age.text


def test_lsoa_in_the_place_field(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    signed_in(client, make_user)
    response = client.get("/directory", params={"where": "E01000001", "within": "25"})
    assert response.status_code == 200
    assert "near" in response.text
    assert "E01000001" in response.text


def test_service_detail_pages(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    public = client.get(f"/find-help/services/{service_id('Debt advice centre')}")
    assert public.status_code == 200
    assert "Debt advice centre" in public.text
    assert "0113 496 0000" in public.text
    assert "Ages 18 and over" in public.text
    assert "1 Test Street" in public.text
    hidden = client.get(f"/find-help/services/{service_id('Closed debt service')}")
    assert hidden.status_code == 404
    assert client.get("/directory/services/no-such-id", follow_redirects=False).status_code == 303
    signed_in(client, make_user)
    detail = client.get(f"/directory/services/{service_id('Benefits clinic')}")
    assert detail.status_code == 200
    page = detail.text
    assert "Not accepting referrals now (Waiting list full)" in page
    assert "Stale" in page
    assert "Lives in the test area." in page
    assert "Free" in page
    assert "Income and benefits" in page
    inactive = client.get(f"/directory/services/{service_id('Closed debt service')}")
    assert inactive.status_code == 200
    assert "Inactive" in inactive.text
    assert client.get("/directory/services/no-such-id").status_code == 404


def test_public_page_needs_no_sign_in_and_hides_inactive(
    database: Database, client: TestClient
) -> None:
    seed_directory(database)
    page = client.get("/find-help")
    assert page.status_code == 200
    assert "Find help near you" in page.text
    response = client.get(
        "/find-help", params={"need": "debt", "where": TEST_POSTCODE, "within": "5"}
    )
    assert response.status_code == 200
    text = response.text
    assert "Money help" in text
    assert "Closed debt service" not in text  # inactive, though nearest
    assert "Far away debt service" not in text  # 20 miles
    assert '<option value="debt" selected>' in text
    assert f'value="{TEST_POSTCODE}"' in text
    assert "Stale" not in text
    unknown = client.get("/find-help", params={"where": "ZZ9 9ZZ"})
    assert unknown.status_code == 422
    assert "Enter a nearby postcode" in unknown.text


def test_navigation_and_home_section(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in(client, make_user, Role.ANALYST)
    home = client.get("/").text
    assert 'href="/directory"' in home  # the menu, for every role
    assert "Search the directory of local services" not in home  # the home card is not
    client.cookies.clear()
    signed_in(client, make_user, Role.CLINICIAN)
    assert "Search the directory of local services" in client.get("/").text
