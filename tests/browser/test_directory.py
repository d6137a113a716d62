"""The service directory in a real browser: a clinician searches for debt advice within 3
miles of an LSOA in the demo authority and opens a result; the public directory passes axe
(no serious or critical violations) on a desktop and at 375 px, and works by keyboard alone.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from test_shell import (
    CLINICIAN,
    DESKTOP,
    PHONE,
    Checks,
    Server,
    _assert_accessible,
    _assert_no_horizontal_scroll,
    _new_page,
    _screenshot,
    _sign_in,
    axe_source,  # noqa: F401 (a fixture)
    browser,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

from healthequity.auth.demo import DEMO_PASSWORD
from healthequity.directory.models import (
    Attribute,
    Location,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.directory.models import Service as ServiceRow
from healthequity.store import Database

pytestmark = pytest.mark.browser


def debt_lsoa(database_url: str) -> str:
    """An LSOA of the demo authority where an active debt service has a location."""
    database = Database(database_url)
    try:
        with database.session() as session:
            code = session.scalar(
                select(Location.lsoa21_code)
                .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
                .join(ServiceRow, ServiceRow.id == ServiceAtLocation.service_id)
                .join(Attribute, Attribute.link_id == ServiceRow.id)
                .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                .where(
                    TaxonomyTerm.need_code == "debt",
                    ServiceRow.status == ServiceStatus.ACTIVE,
                    Location.lsoa21_code.is_not(None),
                )
                .order_by(Location.lsoa21_code)
                .limit(1)
            )
    finally:
        database.dispose()
    assert code, "the demo data has no debt service with a location: is the demo directory loaded?"
    return code


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_directory_in_a_real_browser(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
    database_url: str,
) -> None:
    checks = Checks()
    lsoa = debt_lsoa(database_url)

    # A clinician searches for debt advice within 3 miles of an LSOA and opens a result.
    desktop = _new_page(browser, server, DESKTOP)
    page = desktop.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")
    page.get_by_role("link", name="Find services").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find services")
    page.get_by_label("Debt", exact=True).check()
    page.get_by_label("Postcode or area (LSOA code)").fill(lsoa)
    page.get_by_label("Distance").select_option("3")
    page.get_by_role("button", name="Search").click()
    heading = page.locator("#results-heading")
    expect(heading).to_contain_text("found near")
    expect(heading).to_contain_text(lsoa)
    with checks.check("the search keeps what was typed"):
        expect(page.get_by_label("Debt", exact=True)).to_be_checked()
        expect(page.get_by_label("Postcode or area (LSOA code)")).to_have_value(lsoa)
        expect(page.get_by_label("Distance")).to_have_value("3")
    cards = page.locator(".nhsuk-card")
    assert cards.count() > 0, "no debt service within 3 miles of a debt service's own LSOA"
    first = cards.first
    with checks.check("a result shows distance, how to refer, opening times and when checked"):
        expect(first).to_contain_text("Debt")
        expect(first).to_contain_text("mile")
        expect(first).to_contain_text("How to refer")
        expect(first).to_contain_text("Opening times")
        expect(first).to_contain_text("hecked")
        distances = page.locator(".nhsuk-card dd").filter(has_text="mile").all_inner_texts()
        for text in distances:
            value = text.split(" ")[0]
            if value.replace(".", "").isdigit():
                assert float(value) <= 3.0, text
    with checks.check("the search page is accessible"):
        _assert_accessible(page, axe_source, "the professional directory search")
    _screenshot(page, "directory-search", server)
    name = first.locator(".nhsuk-card__link").inner_text().strip()
    first.locator(".nhsuk-card__link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    with checks.check("the service page shows how to refer and contact details"):
        expect(page.locator("main")).to_contain_text("How to refer")
        expect(page.get_by_role("heading", name="Contact")).to_be_visible()
    with checks.check("the service page is accessible"):
        _assert_accessible(page, axe_source, "a professional service page")
    with checks.check("no console errors or CSP violations for the clinician"):
        desktop.assert_clean("the professional directory")
    page.context.close()

    # The public directory: no sign-in, accessible, on a desktop and a phone.
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        watched = _new_page(browser, server, viewport)
        page = watched.page
        response = page.goto("/find-help")
        assert response is not None
        assert response.status == 200
        expect(page.get_by_role("heading", level=1)).to_have_text("Find help near you")
        with checks.check(f"the public search page is accessible ({label})"):
            _assert_accessible(page, axe_source, f"the public directory ({label})")
        if viewport is PHONE:
            with checks.check("the public search page fits a phone"):
                _assert_no_horizontal_scroll(page, "the public directory")
        page.get_by_label("What do you need help with?").select_option("debt")
        page.get_by_label("Your postcode").fill(lsoa)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#results-heading")).to_contain_text("found near")
        with checks.check(f"public results are accessible ({label})"):
            _assert_accessible(page, axe_source, f"public results ({label})")
        if viewport is PHONE:
            with checks.check("public results fit a phone"):
                _assert_no_horizontal_scroll(page, "public results")
        _screenshot(page, f"directory-public-{label}", server)
        page.locator(".nhsuk-card__link").first.click()
        expect(page.get_by_role("link", name="Back to search")).to_be_visible()
        with checks.check(f"a public service page is accessible ({label})"):
            _assert_accessible(page, axe_source, f"a public service page ({label})")
            assert "Stale" not in page.locator("main").inner_text()
        if viewport is PHONE:
            with checks.check("a public service page fits a phone"):
                _assert_no_horizontal_scroll(page, "a public service page")
        with checks.check(f"no console errors or CSP violations in public ({label})"):
            watched.assert_clean(f"the public directory ({label})")
        page.context.close()

    # Keyboard alone: tab to the postcode field, type, submit with Enter, open a result.
    watched = _new_page(browser, server, PHONE)
    page = watched.page
    page.goto("/find-help")
    with checks.check("the public directory works with a keyboard alone"):
        _tab_to(page, "#where")
        page.keyboard.type(lsoa)
        page.keyboard.press("Enter")
        expect(page.locator("#results-heading")).to_contain_text("found near")
        _tab_to(page, ".nhsuk-card__link")
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="Back to search")).to_be_visible()
    page.context.close()

    checks.assert_all_passed()
