"""Person records in a real browser: the demo clinician finds a demo person by name and
opens their record, with the health passport at the top; adds a person with a mistyped NHS
number, sees the error with everything typed kept, fixes it and saves; adding them again
without the NHS number shows the likely-duplicate warning. Every page passes axe (no
serious or critical violations), and the person page fits a phone.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
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

pytestmark = pytest.mark.browser

WRONG_NHS_NUMBER = "943 476 5918"  # the check digit of 943 476 591- is 9
RIGHT_NHS_NUMBER = "943 476 5919"
NEEDS = "Uses a wheelchair: step-free rooms only."


def _fill_new_person(page: Page) -> None:
    page.get_by_label("First name").fill("Esther")
    page.get_by_label("Last name").fill("Fairweather")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("14")
    birth.get_by_label("Month").fill("6")
    birth.get_by_label("Year").fill("1948")
    page.get_by_label("NHS number (optional)").fill(WRONG_NHS_NUMBER)
    page.get_by_role("group", name="Sex").get_by_label("Female").check()
    page.get_by_label("Ethnic group").select_option("16")
    page.get_by_label("Postcode").fill("LS9 7AB")
    page.get_by_role("group", name="GP registration").get_by_label(
        "Registered with a GP practice", exact=True
    ).check()
    page.get_by_label("Preferred language").fill("Romanian")
    page.get_by_label("Needs an interpreter").check()
    page.get_by_label("Communication needs (health passport)").fill(NEEDS)
    page.get_by_label("Has no telephone").check()
    page.get_by_label("Text messages are fine").uncheck()


def test_people_in_a_real_browser(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    checks = Checks()
    desktop = _new_page(browser, server, DESKTOP)
    page = desktop.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")

    # Find a demo person and open their record.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person")
    with checks.check("the find page is accessible"):
        _assert_accessible(page, axe_source, "the find a person page")
    page.get_by_label("Name or NHS number").fill("pickersgill")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_have_text("1 person found")
    with checks.check("the results are accessible"):
        _assert_accessible(page, axe_source, "people found")
    _screenshot(page, "people-find", server)
    page.get_by_role("link", name="Pickersgill (demo), Derek").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Derek Pickersgill (demo)")
    passport = page.locator("#health-passport")
    with checks.check("the health passport is at the top, saying how to communicate"):
        expect(passport.get_by_role("heading", name=re.compile("^Health passport"))).to_be_visible()
        expect(passport).to_contain_text("British Sign Language")
        expect(passport).to_contain_text("NHS number 999")
        box = passport.bounding_box()
        heading = page.get_by_role("heading", level=1).bounding_box()
        assert box is not None
        assert heading is not None
        assert box["y"] < heading["y"], "the passport is not above the person's name"
    with checks.check("the person page shows the area and its deprivation decile"):
        expect(page.locator("#area")).to_contain_text("Index of Multiple Deprivation 2025 decile")
    with checks.check("the person page is accessible"):
        _assert_accessible(page, axe_source, "a person's page")
    _screenshot(page, "people-person", server)
    person_url = page.url

    # Add a person with a mistyped NHS number, then fix it.
    page.get_by_role("link", name="Back to find a person").click()
    page.get_by_role("link", name="Add a person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a person")
    with checks.check("the blank form is accessible"):
        _assert_accessible(page, axe_source, "the add a person form")
    _fill_new_person(page)
    page.get_by_role("button", name="Add the person").click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("a wrong NHS number is named, and everything typed is kept"):
        expect(summary).to_be_focused()
        expect(summary).to_contain_text(f"{WRONG_NHS_NUMBER} is not a valid NHS number")
        expect(page.get_by_label("NHS number (optional)")).to_have_value(WRONG_NHS_NUMBER)
        expect(page.get_by_label("First name")).to_have_value("Esther")
        expect(page.get_by_label("Last name")).to_have_value("Fairweather")
        expect(page.get_by_role("group", name="Date of birth").get_by_label("Year")).to_have_value(
            "1948"
        )
        expect(page.get_by_role("group", name="Sex").get_by_label("Female")).to_be_checked()
        expect(page.get_by_label("Ethnic group")).to_have_value("16")
        expect(page.get_by_label("Postcode")).to_have_value("LS9 7AB")
        expect(page.get_by_label("Needs an interpreter")).to_be_checked()
        expect(page.get_by_label("Communication needs (health passport)")).to_have_value(NEEDS)
        expect(page.get_by_label("Has no telephone")).to_be_checked()
        expect(page.get_by_label("Text messages are fine")).not_to_be_checked()
    with checks.check("the form with an error is accessible"):
        _assert_accessible(page, axe_source, "the form with a wrong NHS number")
    _screenshot(page, "people-form-error", server)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("NHS number (optional)")).to_be_focused()
    page.get_by_label("NHS number (optional)").fill(RIGHT_NHS_NUMBER)
    page.get_by_role("button", name="Add the person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Esther Fairweather")
    with checks.check("the new record shows what was typed, the passport first"):
        expect(page.locator("#saved-banner")).to_contain_text("Record added")
        passport = page.locator("#health-passport")
        expect(passport).to_contain_text(NEEDS)
        expect(passport).to_contain_text("Interpreter needed")
        expect(passport).to_contain_text("No telephone")
        expect(passport).to_contain_text(f"NHS number {RIGHT_NHS_NUMBER}")
        expect(page.locator("main")).to_contain_text("White: Roma")
    with checks.check("the new person's page is accessible"):
        _assert_accessible(page, axe_source, "the new person's page")
    _screenshot(page, "people-created", server)

    # The same person again, without the NHS number: a likely duplicate.
    page.goto("/people/new")
    _fill_new_person(page)
    page.get_by_label("NHS number (optional)").fill("")
    page.get_by_role("button", name="Add the person").click()
    warning = page.locator("#duplicates")
    with checks.check("a likely duplicate is shown with a link and a choice"):
        expect(warning).to_contain_text("This person may have a record already")
        expect(warning.get_by_role("link", name="Esther Fairweather")).to_be_visible()
        expect(warning.get_by_role("button", name="This is someone else: add them")).to_be_visible()
    with checks.check("the duplicate warning is accessible"):
        _assert_accessible(page, axe_source, "the likely duplicate warning")
    _screenshot(page, "people-duplicate", server)
    with checks.check("no console errors or CSP violations"):
        desktop.assert_clean("the people pages")
    page.context.close()

    # A phone: the person page fits.
    phone = _new_page(browser, server, PHONE)
    page = phone.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    page.goto(person_url)
    with checks.check("the person page fits a phone and is accessible"):
        expect(page.locator("#health-passport")).to_be_visible()
        _assert_no_horizontal_scroll(page, "a person's page")
        _assert_accessible(page, axe_source, "a person's page on a phone")
    _screenshot(page, "people-person-phone", server)
    page.context.close()

    checks.assert_all_passed()
