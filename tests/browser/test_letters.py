"""Letters in a real browser: the demo clinician opens a demo person whose social history
shows a damp home (and a sensitive need), writes a housing letter (a missing recipient is
named and everything typed kept), checks it, previews it, issues it and downloads the PDF,
which holds the person's name; an organisation administrator's template editor names the
line of a mistake. Every page passes axe (no serious or critical violations).

The first page of the PDF is kept in `test-artifacts/` as PDF and, when Poppler's pdftoppm
is there, as PNG, for people to look at.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser, expect
from pypdf import PdfReader
from test_shell import (
    ARTIFACTS,
    CLINICIAN,
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

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.demo import DEMO_PASSWORD, DEMO_USERS
from healthequity.auth.models import Role
from healthequity.people.demo import DEMO_PEOPLE, demo_person_id
from healthequity.social_history.models import ResponseSource
from healthequity.social_history.service import record_response
from healthequity.store import Database

pytestmark = pytest.mark.browser

ORG_ADMIN = next(user for user in DEMO_USERS if user.roles == (Role.ORG_ADMIN,))
CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
DEREK = next(i for i, person in enumerate(DEMO_PEOPLE) if person.given_name == "Derek")
NAME = "Derek Pickersgill (demo)"
HOUSING_LETTER = "Supporting a housing application or repair"
EXTRA = "Black mould has come back in the bedroom twice since the landlord painted over it."


def _record_social_history(database_url: str) -> str:
    """The demo person, with a social history showing a damp, overcrowded home (and, to be
    left out of the letter, domestic abuse in the past)."""
    person_id = demo_person_id(DEREK)
    database = Database(database_url)
    try:
        with database.session() as session:
            clinician = auth_service.get_user(session, CLINICIAN.email)
            record_response(
                session,
                AuditContext(user_id=clinician.id, purpose="test set-up"),
                person_id,
                CORE,
                {
                    "housing-situation": "own-or-rented",
                    "home-conditions": ["damp", "overcrowded"],
                    "hurt-by-someone-close": "in-the-past",
                },
                ResponseSource.CLINICIAN,
                clinician.id,
            )
    finally:
        database.dispose()
    return person_id


def _pdf_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_letters_in_a_real_browser(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
    database_url: str,
) -> None:
    person_id = _record_social_history(database_url)
    checks = Checks()
    desktop = _new_page(browser, server, DESKTOP)
    page = desktop.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")

    # The person's letters (the person page does not link here yet).
    page.goto(f"/people/{person_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    page.goto(f"/people/{person_id}/letters")
    expect(page.get_by_role("heading", level=1)).to_have_text("Letters")
    with checks.check("the letters page shows the passport and no letters yet"):
        expect(page.locator("#health-passport")).to_contain_text("British Sign Language")
        expect(page.locator("main")).to_contain_text("No letters have been issued about Derek")
    with checks.check("the letters page is accessible"):
        _assert_accessible(page, axe_source, "a person's letters")
    _screenshot(page, "letters-choose", server)
    page.get_by_label(HOUSING_LETTER).check()
    page.get_by_role("button", name="Continue").click()

    # Who it is to, and what to mention.
    expect(page.get_by_role("heading", level=1)).to_have_text(HOUSING_LETTER)
    damp = page.get_by_role("checkbox", name="Cold or damp home and fuel poverty")
    with checks.check("the needs are offered, the sensitive one not ticked"):
        expect(damp).to_be_checked()
        expect(page.get_by_role("checkbox", name="Housing", exact=True)).to_be_checked()
        expect(page.get_by_role("checkbox", name="Domestic abuse")).not_to_be_checked()
    with checks.check("the letter form is accessible"):
        _assert_accessible(page, axe_source, "the letter form")
    page.get_by_label("Their address").fill("Merrion House\n110 Merrion Centre\nLeeds\nLS2 8BB")
    page.get_by_label("Your job title").fill("GP")
    page.get_by_label("What you want to add").fill(EXTRA)
    page.get_by_role("button", name="Fill in the letter").click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("a missing recipient is named, and everything typed is kept"):
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Enter who the letter is to")
        expect(page.get_by_label("Your job title")).to_have_value("GP")
        expect(page.get_by_label("What you want to add")).to_have_value(EXTRA)
        expect(damp).to_be_checked()
    with checks.check("the letter form with an error is accessible"):
        _assert_accessible(page, axe_source, "the letter form with an error")
    _screenshot(page, "letters-form-error", server)
    page.get_by_label("Who is the letter to?").fill("Housing Options, Leeds City Council")
    page.get_by_role("button", name="Fill in the letter").click()

    # Check, change and preview.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the letter")
    text = page.get_by_label("The letter", exact=True)
    with checks.check("the letter is filled in from the record, without the sensitive need"):
        value = text.input_value()
        assert f"Re: {NAME}, date of birth" in value
        assert "- Cold or damp home and fuel poverty: Lives in damp conditions" in value
        assert EXTRA in value
        assert "abuse" not in value.lower()
    with checks.check("the check page is accessible"):
        _assert_accessible(page, axe_source, "the check page")
    text.fill(
        text.input_value().replace(
            "Yours sincerely,", "I have known Derek for eleven years.\n\nYours sincerely,"
        )
    )
    page.get_by_role("button", name="Preview the letter").click()
    preview = page.locator("section[aria-labelledby=preview-heading]")
    with checks.check("the preview shows the letter as changed"):
        expect(preview).to_contain_text("I have known Derek for eleven years.")
        expect(preview).to_contain_text("Housing Options, Leeds City Council")
        assert "I have known Derek for eleven years." in text.input_value()
    with checks.check("the preview is accessible"):
        _assert_accessible(page, axe_source, "the letter preview")
    _screenshot(page, "letters-preview", server)

    # Issue it and download the PDF.
    page.get_by_role("button", name="Issue the letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Letter to Housing Options, Leeds City Council"
    )
    with checks.check("the issued letter says so and shows its text"):
        expect(page.locator("#issued-banner")).to_contain_text("Letter issued and saved")
        expect(page.locator("main")).to_contain_text("I have known Derek for eleven years.")
    with checks.check("the issued letter page is accessible"):
        _assert_accessible(page, axe_source, "an issued letter")
    _screenshot(page, "letters-issued", server)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download the letter (PDF)").click()
    download = downloading.value
    ARTIFACTS.mkdir(exist_ok=True)
    saved = ARTIFACTS / f"letter-{server.kind}.pdf"
    download.save_as(saved)
    pdf = saved.read_bytes()
    with checks.check("the download is the letter as a PDF, with the person's name"):
        assert download.suggested_filename.startswith("letter-pickersgill-demo-")
        assert pdf.startswith(b"%PDF-")
        words = _pdf_text(pdf)
        assert NAME in words
        assert "Housing Options, Leeds City Council" in words
        assert "I have known Derek for eleven years." in words
        assert "Dr Asha Patel (demo)" in words
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        first_page = ["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"]
        target = ARTIFACTS / f"letter-{server.kind}"
        subprocess.run([pdftoppm, *first_page, str(saved), str(target)], check=True, timeout=60)

    # The letter is on the record.
    page.get_by_role("link", name="Back to Derek's letters").click()
    with checks.check("the letter is listed on the record with its download"):
        expect(page.get_by_role("heading", name="Letters issued (1)")).to_be_visible()
        expect(page.get_by_role("link", name=HOUSING_LETTER)).to_be_visible()
    with checks.check("the letters page with a letter is accessible"):
        _assert_accessible(page, axe_source, "a person's letters with one issued")
    with checks.check("no console errors or CSP violations"):
        desktop.assert_clean("the letter pages")
    page.context.close()

    # The template editor: a mistake names its line and keeps what was typed.
    editor = _new_page(browser, server, DESKTOP)
    page = editor.page
    page.goto("/login")
    _sign_in(page, ORG_ADMIN.email, DEMO_PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Letter templates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Letter templates")
    with checks.check("the template list is accessible"):
        _assert_accessible(page, axe_source, "the letter templates")
    page.get_by_role("button", name="Add a template").click()
    page.get_by_label("Name", exact=True).fill("Supporting a school place appeal")
    page.get_by_label("Someone else").check()
    body = "Dear Sir or Madam,\n\nRe: {{ person.name }}\n\nI support {{ person.frist_name }}."
    page.get_by_label("The letter").fill(body)
    page.get_by_role("button", name="Add the template").click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("an unknown placeholder is named with its line, and the text is kept"):
        expect(summary).to_be_focused()
        expect(summary).to_contain_text(
            "Line 5: there is no placeholder person.frist_name: did you mean person.first_name?"
        )
        expect(page.get_by_label("The letter")).to_have_value(body)
    with checks.check("the template editor with an error is accessible"):
        _assert_accessible(page, axe_source, "the template editor with an error")
    _screenshot(page, "letters-template-error", server)
    page.get_by_label("The letter").fill(body.replace("frist_name", "first_name"))
    page.get_by_role("button", name="Add the template").click()
    with checks.check("the template is saved as version 1"):
        expect(page.locator("#saved-banner")).to_contain_text("Saved as version 1.")
    with checks.check("the editor has no console errors or CSP violations"):
        editor.assert_clean("the template editor")
    page.context.close()

    checks.assert_all_passed()
