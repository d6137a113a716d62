"""The service directory in a real browser: a clinician searches for debt advice within 3
miles of an LSOA in the demo authority, opens a result and goes back to the results; the
public directory finds places by name (and offers the places a name could mean), passes axe
(no serious or critical violations) on a desktop and at 375 px, and works by keyboard alone.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares.
"""

from __future__ import annotations

import re

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

PROFESSIONAL_WHERE = "Postcode, place or area"
PUBLIC_WHERE = "Postcode or place"


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
    page.get_by_label(PROFESSIONAL_WHERE).fill(lsoa)
    page.get_by_label("Distance").select_option("3")
    page.get_by_role("button", name="Search").click()
    heading = page.locator("#results-heading")
    expect(heading).to_contain_text("found near")
    expect(heading).to_contain_text(lsoa)
    with checks.check("the search keeps what was typed"):
        expect(page.get_by_label("Debt", exact=True)).to_be_checked()
        expect(page.get_by_label(PROFESSIONAL_WHERE)).to_have_value(lsoa)
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
    results_heading = heading.inner_text()
    names = page.locator(".nhsuk-card__link").all_inner_texts()
    name = first.locator(".nhsuk-card__link").inner_text().strip()
    first.locator(".nhsuk-card__link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    with checks.check("the service page shows how to refer and contact details"):
        expect(page.locator("main")).to_contain_text("How to refer")
        expect(page.get_by_role("heading", name="Contact")).to_be_visible()
    with checks.check("the service page is accessible"):
        _assert_accessible(page, axe_source, "a professional service page")
    _screenshot(page, "directory-service", server)
    with checks.check("Back to results returns to the same results, the form as it was"):
        page.get_by_role("link", name="Back to results").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(server.base_url)}/directory\?"))
        expect(page.locator("#results-heading")).to_have_text(results_heading)
        assert page.locator(".nhsuk-card__link").all_inner_texts() == names
        expect(page.get_by_label("Debt", exact=True)).to_be_checked()
        expect(page.get_by_label(PROFESSIONAL_WHERE)).to_have_value(lsoa)
        expect(page.get_by_label("Distance")).to_have_value("3")
    with checks.check("a local authority's name finds it, and other places it fits are offered"):
        page.get_by_label(PROFESSIONAL_WHERE).fill("Leeds")
        page.get_by_label("Distance").select_option("5")
        page.get_by_role("button", name="Search").click()
        expect(heading).to_contain_text("found near the centre of Leeds")
        expect(page.locator(".nhsuk-inset-text")).to_contain_text("Not the place you meant?")
        expect(page.get_by_role("link", name="Leeds & Langley ward, Maidstone")).to_be_visible()
        _assert_accessible(page, axe_source, "results with other places offered")
        _screenshot(page, "directory-search-place", server)
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
        page.get_by_label(PUBLIC_WHERE).fill("Harehills")
        page.get_by_role("button", name="Search").click()
        results = page.locator("#results-heading")
        expect(results).to_contain_text("found near the centre of Gipton & Harehills ward, Leeds")
        with checks.check(f"a place name finds services near it ({label})"):
            assert page.locator(".nhsuk-card").count() > 0, "no debt service near Harehills"
        with checks.check(f"public results are accessible ({label})"):
            _assert_accessible(page, axe_source, f"public results ({label})")
        if viewport is PHONE:
            with checks.check("public results fit a phone"):
                _assert_no_horizontal_scroll(page, "public results")
        _screenshot(page, f"directory-public-{label}", server)
        results_heading = results.inner_text()
        page.locator(".nhsuk-card__link").first.click()
        expect(page.get_by_role("link", name="Back to results")).to_be_visible()
        with checks.check(f"a public service page is accessible ({label})"):
            _assert_accessible(page, axe_source, f"a public service page ({label})")
            assert "Stale" not in page.locator("main").inner_text()
        if viewport is PHONE:
            with checks.check("a public service page fits a phone"):
                _assert_no_horizontal_scroll(page, "a public service page")
        with checks.check(f"Back to results returns to the results ({label})"):
            page.get_by_role("link", name="Back to results").click()
            expect(page.locator("#results-heading")).to_have_text(results_heading)
            expect(page.get_by_label(PUBLIC_WHERE)).to_have_value("Harehills")
        with checks.check(f"a name of two places offers both ({label})"):
            page.get_by_label(PUBLIC_WHERE).fill("Harewood")
            page.get_by_role("button", name="Search").click()
            summary = page.locator(".nhsuk-error-summary")
            expect(summary).to_contain_text("'Harewood' could mean 2 places")
            expect(page.get_by_role("heading", name="Choose the place you mean")).to_be_visible()
            _assert_accessible(page, axe_source, f"the places to choose from ({label})")
            if viewport is PHONE:
                _assert_no_horizontal_scroll(page, "the places to choose from")
            _screenshot(page, f"directory-public-choices-{label}", server)
            page.get_by_role("link", name="Harewood ward, Leeds").click()
            expect(results).to_contain_text("near the centre of Harewood ward, Leeds")
            expect(page.get_by_label("What do you need help with?")).to_have_value("debt")
        with checks.check(f"no console errors or CSP violations in public ({label})"):
            watched.assert_clean(f"the public directory ({label})")
        page.context.close()

    # Keyboard alone: tab to the place field, type, submit with Enter, open a result, and
    # go back to the results.
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
        expect(page.get_by_role("link", name="Back to results")).to_be_visible()
        _tab_to(page, ".nhsuk-back-link")
        page.keyboard.press("Enter")
        expect(page.locator("#results-heading")).to_contain_text("found near")
        expect(page.locator("#where")).to_have_value(lsoa)
    page.context.close()

    checks.assert_all_passed()
