"""Directory pages and the search API: who may use them, the form keeping what was typed,
results as cards, places by name (choices when a name fits several), errors for a place that
cannot be found, the way back from a service to its results, and the public directory."""

from __future__ import annotations

import dataclasses
import html
import re
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import sign_in
from healthequity.auth.models import Role
from healthequity.directory.models import Schedule
from healthequity.directory.pages import back_to_results
from healthequity.places.models import Postcode
from healthequity.store import Database

from .test_search import (
    ARMLEY,
    HAREWOOD_LEEDS,
    HAREWOOD_TEST_VALLEY,
    LEEDS_AND_LANGLEY,
    ORIGIN,
    TEST_POSTCODE,
    seed_directory,
    service_id,
)


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
    assert f'href="/directory/services/{service_id("Money help")}?back=' in page
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
    invalid = client.get("/directory", params={"where": "LS1 4A"})
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


def links(page: str, css_class: str | None = None) -> dict[str, str]:
    """The page's links (of a class, if given): text to address, as a browser reads them."""
    attribute = f' class="{css_class}"' if css_class else ""
    return {
        html.unescape(text).strip(): html.unescape(href)
        for href, text in re.findall(rf'<a{attribute} href="([^"]*)">([^<]*)</a>', page)
    }


def heading(page: str) -> str:
    match = re.search(r'<h2 id="results-heading">([^<]*)</h2>', page)
    assert match, "no results heading"
    return html.unescape(match.group(1))


def test_place_names_in_the_where_box(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    signed_in(client, make_user)
    armley = client.get("/directory", params={"need": "debt", "where": "Armley", "within": "5"})
    assert armley.status_code == 200, armley.text
    # The active debt services 2 to 3 miles from Armley's centre; not the one 20 miles away.
    assert heading(armley.text) == "3 services found near the centre of Armley ward, Leeds"
    assert set(links(armley.text, "nhsuk-card__link")) == {
        "Debt advice centre",
        "Money help",
        "Money help drop-in",
    }
    assert 'value="Armley"' in armley.text  # kept as typed
    assert "Not the place you meant?" not in armley.text
    public = client.get("/find-help", params={"where": "harehills", "within": "5"})
    assert public.status_code == 200
    assert heading(public.text).endswith("near the centre of Gipton & Harehills ward, Leeds")
    # Leeds is the city; the ward Leeds & Langley is offered, keeping the rest of the query.
    leeds = client.get("/find-help", params={"need": "debt", "where": "Leeds", "within": "10"})
    assert heading(leeds.text).endswith("found near the centre of Leeds")
    assert "Not the place you meant?" in leeds.text
    other = links(leeds.text)["Leeds & Langley ward, Maidstone"]
    assert other == f"/find-help?need=debt&where={LEEDS_AND_LANGLEY}&within=10&q="


def test_a_name_of_several_places_offers_them(
    database: Database,
    client: TestClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    seed_directory(database)
    query = {"need": "debt", "where": "Harewood", "within": "25", "q": "money"}
    public = client.get("/find-help", params=query)
    assert public.status_code == 422
    page = public.text
    assert "There is a problem" in page
    assert 'href="#where">&#39;Harewood&#39; could mean 2 places. Choose the one you mean.' in page
    assert 'aria-describedby="where-hint where-error"' in page
    assert "Choose the place you mean" in page
    choices = links(page)
    assert choices["Harewood ward, Leeds"] == (
        f"/find-help?need=debt&where={HAREWOOD_LEEDS}&within=25&q=money"
    )
    assert HAREWOOD_TEST_VALLEY in choices["Harewood ward, Test Valley"]
    chosen = client.get(choices["Harewood ward, Leeds"])
    assert chosen.status_code == 200
    assert heading(chosen.text) == "2 services found near the centre of Harewood ward, Leeds"
    assert set(links(chosen.text, "nhsuk-card__link")) == {"Money help", "Money help drop-in"}
    assert '<option value="debt" selected>' in chosen.text
    assert 'value="money"' in chosen.text
    # The professional page, its own fields kept in its links.
    signed_in(client, make_user)
    professional = client.get("/directory", params={**query, "age": "42", "accepting": "yes"})
    assert professional.status_code == 422
    assert links(professional.text)["Harewood ward, Leeds"] == (
        f"/directory?need=debt&where={HAREWOOD_LEEDS}&within=25&q=money&age=42&accepting=yes"
    )


def test_a_place_that_cannot_be_found_on_the_pages(database: Database, client: TestClient) -> None:
    seed_directory(database)
    nowhere = client.get("/find-help", params={"where": "Xyzzyville"})
    assert nowhere.status_code == 422
    assert (
        "We could not find a place called &#39;Xyzzyville&#39;. Enter a postcode, or the name of "
        "a ward or local authority, or choose the area (LSOA code) instead."
    ) in nowhere.text
    assert 'href="#where"' in nowhere.text
    assert 'value="Xyzzyville"' in nowhere.text
    assert "Choose the place you mean" not in nowhere.text
    slip = client.get("/find-help", params={"where": "Armly"})
    assert slip.status_code == 422
    assert ARMLEY in links(slip.text)["Armley ward, Leeds"]


def test_postcode_district_on_the_page(database: Database, client: TestClient) -> None:
    seed_directory(database)
    with database.session() as session:
        session.add(
            Postcode(postcode="LS1 5AB", lsoa21_code=None, latitude=ORIGIN[0], longitude=ORIGIN[1])
        )
    response = client.get("/find-help", params={"where": "LS1", "within": "1"})
    assert response.status_code == 200
    assert heading(response.text) == "3 services found near the centre of postcode district LS1"
    unknown = client.get("/find-help", params={"where": "LS9"})
    assert unknown.status_code == 422
    assert "We could not find the postcode district LS9." in unknown.text


def test_back_to_results_keeps_the_whole_query(
    database: Database,
    client: TestClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    seed_directory(database)
    with database.session() as session:  # open all week, so that "open now" finds it
        session.add(
            Schedule(
                id="sch-always",
                service_id=service_id("Money help"),
                freq="WEEKLY",
                byday="MO,TU,WE,TH,FR,SA,SU",
                opens_at="00:00",
                closes_at="24:00",
            )
        )
    signed_in(client, make_user)
    query = {
        "need": ["debt", "income_benefits"],
        "where": TEST_POSTCODE,
        "within": "3",
        "q": "money",
        "age": "42",
        "open_now": "yes",
        "accepting": "yes",
    }
    results = client.get("/directory", params=query).text
    opened = client.get(links(results, "nhsuk-card__link")["Money help"])
    assert opened.status_code == 200
    back = links(opened.text, "nhsuk-back-link")
    assert list(back) == ["Back to results"]
    address = urlsplit(back["Back to results"])
    assert address.path == "/directory"
    assert parse_qs(address.query) == {
        key: value if isinstance(value, list) else [value] for key, value in query.items()
    }
    again = client.get(back["Back to results"]).text
    assert heading(again) == heading(results)
    assert links(again, "nhsuk-card__link") == links(results, "nhsuk-card__link")
    assert 'id="open_now" name="open_now" type="checkbox" value="yes" checked' in again
    assert 'name="age" type="text" value="42"' in again

    public = client.get("/find-help", params={"need": "debt", "where": "Armley", "q": "help"})
    card = links(public.text, "nhsuk-card__link")["Money help"]
    assert card.startswith(f"/find-help/services/{service_id('Money help')}?back=")
    back = links(client.get(card).text, "nhsuk-back-link")
    assert back == {"Back to results": "/find-help?need=debt&where=Armley&within=5&q=help"}


def test_back_link_leads_only_to_our_search(database: Database, client: TestClient) -> None:
    seed_directory(database)
    page = f"/find-help/services/{service_id('Money help')}"
    for back in (
        "https://evil.example/find-help?need=debt",
        "//evil.example/find-help?need=debt",
        "/\\evil.example/find-help",
        "javascript:alert(1)",
        "/directory?need=debt",  # the professional search, from a public page
        "/find-help#https://evil.example",
        "/find-help?redirect=https://evil.example",  # no field of the search
    ):
        response = client.get(page, params={"back": back})
        assert response.status_code == 200
        assert links(response.text, "nhsuk-back-link") == {"Back to search": "/find-help"}, back
        assert "evil" not in response.text
    # Only the search's own fields are kept; anything else is dropped.
    kept = client.get(page, params={"back": "/find-help?need=debt&next=https://evil.example"})
    assert links(kept.text, "nhsuk-back-link") == {"Back to results": "/find-help?need=debt"}
    assert back_to_results("/directory?where=LS1+4AP&within=3", "/directory") == (
        "/directory?where=LS1+4AP&within=3"
    )
    assert back_to_results("/find-help?" + "q=x&" * 1000, "/find-help") is None  # too long


def test_api_place(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed_directory(database)
    signed_in(client, make_user)
    armley = client.get("/api/directory/search", params={"place": "Armley", "within": 5})
    assert armley.status_code == 200, armley.text
    body = armley.json()
    assert body["origin"]["label"] == "the centre of Armley ward, Leeds"
    assert body["other_places"] == []
    assert "Far away debt service" not in [result["name"] for result in body["results"]]
    leeds = client.get("/api/directory/search", params={"place": "Leeds"}).json()
    assert leeds["other_places"] == [
        {"label": "Leeds & Langley ward, Maidstone", "code": LEEDS_AND_LANGLEY}
    ]
    several = client.get("/api/directory/search", params={"place": "Harewood"})
    assert several.status_code == 422
    assert several.json()["detail"] == (
        "'Harewood' could mean 2 places. Choose the one you mean. "
        f"Harewood ward, Leeds: place={HAREWOOD_LEEDS}; "
        f"Harewood ward, Test Valley: place={HAREWOOD_TEST_VALLEY}"
    )
    chosen = client.get("/api/directory/search", params={"place": HAREWOOD_LEEDS}).json()
    assert chosen["origin"]["label"] == "the centre of Harewood ward, Leeds"
    both = client.get("/api/directory/search", params={"place": "Leeds", "postcode": "LS1 4AP"})
    assert both.status_code == 422
    assert "not both" in both.json()["detail"]
    postcode = client.get("/api/directory/search", params={"place": TEST_POSTCODE}).json()
    assert postcode["origin"]["latitude"] == ORIGIN[0]
