"""Curating the directory in a real browser: the demo curator opens the dashboard, edits a
service (a changed field, a second phone number, a mistake kept with what was typed, then
saved) and sees its history, moves a location to a new postcode, finds an organisation, and
maps an imported taxonomy term to a need. Every curator page passes axe (no serious or
critical violations).

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares; the test adds an imported taxonomy
term and one postcode to the demo data first.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from test_shell import (
    DESKTOP,
    Checks,
    Server,
    _assert_accessible,
    _new_page,
    _screenshot,
    _sign_in,
    axe_source,  # noqa: F401 (a fixture)
    browser,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

from healthequity import geography
from healthequity.auth.demo import DEMO_PASSWORD, DEMO_USERS
from healthequity.auth.models import Role
from healthequity.directory.models import (
    Address,
    Attribute,
    Location,
    Phone,
    Service,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.places.models import Postcode
from healthequity.store import Database

pytestmark = pytest.mark.browser

CURATOR = next(user for user in DEMO_USERS if user.roles == (Role.CURATOR,))
TERM_ID = "b7e0c6d2-5a53-4c1e-9f0e-7d1f3c2a9b01"
TERM_NAME = "Welfare rights advice"
LEEDS = "E08000035"
KNOWN_POSTCODE = "LS2 9JT"
UNKNOWN_POSTCODE = "LS99 9ZZ"
SECOND_PHONE = "0800 123 4567"


def add_term_and_postcode(database_url: str) -> str:
    """An imported taxonomy term used by one demo service, and a postcode in a Leeds LSOA
    (the demo loads no postcode directory); the LSOA's code."""
    lsoa = geography.lsoa(geography.ltla(LEEDS).lsoa21_codes[0])
    database = Database(database_url)
    try:
        with database.session() as session:
            service_id = session.scalars(select(Service.id).order_by(Service.name)).first()
            assert service_id, "no demo services: is the demo directory loaded?"
            session.add(Taxonomy(id="b7e0c6d2-5a53-4c1e-9f0e-7d1f3c2a9b00", name="LGA services"))
            session.flush()
            session.add(
                TaxonomyTerm(
                    id=TERM_ID,
                    code="LGA-1234",
                    name=TERM_NAME,
                    taxonomy_id="b7e0c6d2-5a53-4c1e-9f0e-7d1f3c2a9b00",
                )
            )
            session.flush()
            session.add(
                Attribute(
                    id="b7e0c6d2-5a53-4c1e-9f0e-7d1f3c2a9b02",
                    link_id=service_id,
                    taxonomy_term_id=TERM_ID,
                )
            )
            session.add(
                Postcode(
                    postcode=KNOWN_POSTCODE,
                    lsoa21_code=lsoa.lsoa21_code,
                    latitude=lsoa.interior_point.latitude,
                    longitude=lsoa.interior_point.longitude,
                )
            )
    finally:
        database.dispose()
    return lsoa.lsoa21_code


def stored(database_url: str) -> tuple[str | None, list[str], list[str]]:
    """The mapped term's need, every service phone number, and every location's postcode."""
    database = Database(database_url)
    try:
        with database.session() as session:
            need = session.get_one(TaxonomyTerm, TERM_ID).need_code
            phones = list(
                session.scalars(select(Phone.number).where(Phone.service_id.is_not(None)))
            )
            postcodes = list(
                session.scalars(
                    select(Address.postal_code)
                    .join(Location, Location.id == Address.location_id)
                    .where(Address.postal_code != "")
                )
            )
    finally:
        database.dispose()
    return need, phones, postcodes


def _accessible(checks: Checks, page: Page, axe: str, what: str) -> None:
    with checks.check(f"{what} is accessible"):
        _assert_accessible(page, axe, what)


def test_curator_in_a_real_browser(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
    database_url: str,
) -> None:
    checks = Checks()
    lsoa = add_term_and_postcode(database_url)
    watched = _new_page(browser, server, DESKTOP)
    page = watched.page
    page.goto("/login")
    _sign_in(page, CURATOR.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")

    # The dashboard, from the header navigation.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Curate directory").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Curate the directory")
    with checks.check("the dashboard links to the other curator pages"):
        curation = page.get_by_role("navigation", name="Curation")
        expect(curation.get_by_role("link", name="Organisations")).to_be_visible()
        expect(curation.get_by_role("link", name="Taxonomy terms and needs")).to_be_visible()
    _accessible(checks, page, axe_source, "the curator dashboard")
    _screenshot(page, "curator-dashboard", server)

    # A service: a field changed, a second phone number, and a mistake in the email.
    stale = page.locator("table[aria-labelledby='stale-heading'] a").first
    name = stale.inner_text().strip()
    stale.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {name}")
    _accessible(checks, page, axe_source, "the service editor")
    email = page.get_by_label("Email", exact=True)
    original_email = email.input_value()
    note = "Waiting list of 2 weeks (checked in the browser test)"
    page.get_by_label("Referrals note").fill(note)
    page.get_by_label("Number (phone 2)").fill(SECOND_PHONE)
    page.get_by_label("What it is for (optional) (phone 2)").fill("Freephone")
    email.fill("not-an-email")
    page.get_by_role("button", name="Save changes").click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("a wrong email is named, and everything typed is kept"):
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Enter an email address in the correct format")
        expect(page).to_have_title(f"Error: Edit {name} \N{EN DASH} healthequity")
        expect(email).to_have_value("not-an-email")
        expect(page.get_by_label("Referrals note")).to_have_value(note)
        expect(page.get_by_label("Number (phone 2)")).to_have_value(SECOND_PHONE)
        expect(page.get_by_label("What it is for (optional) (phone 2)")).to_have_value("Freephone")
        summary.get_by_role("link", name="Enter an email address in the correct format").click()
        expect(email).to_be_focused()
    _accessible(checks, page, axe_source, "the service editor with an error")
    _screenshot(page, "curator-service-error", server)
    email.fill(original_email)
    page.get_by_role("button", name="Save changes").click()
    with checks.check("the service is saved with both phone numbers"):
        expect(page.locator("#saved-banner")).to_be_visible()
        expect(page.get_by_label("Number (phone 2)")).to_have_value(SECOND_PHONE)
        expect(page.get_by_label("Number (phone 3)")).to_have_value("")
        assert SECOND_PHONE in stored(database_url)[1]
    page.get_by_role("link", name="See the history of changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"History of {name}")
    with checks.check("the history shows the new phone number and note, and who changed them"):
        table = page.locator("table")
        expect(table).to_contain_text("Phone numbers")
        expect(table).to_contain_text(f"{SECOND_PHONE} (Freephone)")
        expect(table).to_contain_text(note)
        expect(table).to_contain_text(CURATOR.display_name)
    _accessible(checks, page, axe_source, "a service's history")
    _screenshot(page, "curator-service-history", server)

    # Its location moves to a new postcode: an unknown one is said and kept, then a known one.
    page.get_by_role("link", name="Back to the service").click()
    page.locator("ul[aria-labelledby='locations-heading'] a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit ")
    _accessible(checks, page, axe_source, "the location editor")
    postcode = page.get_by_label("Postcode", exact=True)
    postcode.fill(UNKNOWN_POSTCODE)
    page.get_by_role("button", name="Save changes").click()
    with checks.check("an unknown postcode is said, kept, and may be saved anyway"):
        expect(summary).to_contain_text(f"{UNKNOWN_POSTCODE} is not in the loaded postcode")
        expect(postcode).to_have_value(UNKNOWN_POSTCODE)
        expect(page.get_by_label("Save with this postcode anyway")).not_to_be_checked()
    _accessible(checks, page, axe_source, "the location editor with an unknown postcode")
    _screenshot(page, "curator-location-error", server)
    postcode.fill(KNOWN_POSTCODE.lower().replace(" ", ""))
    page.get_by_role("button", name="Save changes").click()
    with checks.check("a known postcode places the location in its LSOA"):
        expect(page.locator("#saved-banner")).to_be_visible()
        expect(postcode).to_have_value(KNOWN_POSTCODE)
        expect(page.locator(".nhsuk-summary-list")).to_contain_text(lsoa)
        assert KNOWN_POSTCODE in stored(database_url)[2]
    _accessible(checks, page, axe_source, "a saved location")
    _screenshot(page, "curator-location-saved", server)

    # Organisations: the list, a search, and one organisation's page.
    page.goto("/curate")
    page.get_by_role("navigation", name="Curation").get_by_role(
        "link", name="Organisations"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations")
    _accessible(checks, page, axe_source, "the organisations list")
    first = page.locator("table a").first.inner_text().strip()
    page.get_by_label("Name contains").fill(first.split(" ")[0])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=first, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {first}")
    with checks.check("an organisation's page lists its services and locations"):
        expect(page.locator("#services-heading")).to_contain_text("Services (")
        expect(page.locator("#locations-heading")).to_contain_text("Locations of its services")
    _accessible(checks, page, axe_source, "an organisation's page")
    _screenshot(page, "curator-organisation", server)

    # The imported term is mapped to a need.
    page.goto("/curate/taxonomy")
    page.get_by_label("Only terms not mapped to a need").check()
    page.get_by_role("button", name="Show terms").click()
    expect(page.locator("#terms-heading")).to_contain_text("not mapped to a need")
    _accessible(checks, page, axe_source, "the taxonomy terms page")
    _screenshot(page, "curator-taxonomy", server)
    page.get_by_label(f"Need that “{TERM_NAME}” means").select_option("income_benefits")
    page.get_by_role("button", name=f"Save the need of {TERM_NAME}").click()
    with checks.check("the term is mapped and the page says so"):
        expect(page.locator("#saved-banner")).to_contain_text(
            f"“{TERM_NAME}” now means Income and benefits"
        )
        expect(page.get_by_label("Only terms not mapped to a need")).to_be_checked()
        assert stored(database_url)[0] == "income_benefits"
    _accessible(checks, page, axe_source, "the taxonomy terms page after saving")

    with checks.check("no console errors or CSP violations on the curator pages"):
        watched.assert_clean("the curator pages")
    page.context.close()
    checks.assert_all_passed()
