"""Letter pages and API, on each database: writing a letter from a person's record (choose,
fill in, check and change, preview, issue, download), errors that keep what was typed, the
letters on the record, who is refused, and the template editor."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import csrf_token, sign_in
from healthequity.auth.models import Role
from healthequity.letters import service
from healthequity.letters.models import RecipientKind
from healthequity.web.security import CSRF_FIELD

from .conftest import PRACTICE, Practice

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

HOUSING = next(
    b for b in service.builtin_templates() if b.recipient_kind is RecipientKind.HOUSING_OFFICE
)
TYPED = {
    "template_id": HOUSING.template_id,
    "recipient_name": "Housing Options, Leeds City Council",
    "recipient_address": "Merrion House\r\nLeeds\r\nLS2 8BB",
    "job_title": "GP",
    "extra_text": "The mould is in the bedroom where his son sleeps.",
}


def _post(client: TestClient, path: str, data: dict[str, Any]) -> httpx.Response:
    return client.post(path, data={**data, CSRF_FIELD: csrf_token(client)}, follow_redirects=False)


def _summary(page: str) -> list[tuple[str, str]]:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', page, re.S)
    assert match, "no error summary"
    found = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', match.group(1))
    return [(anchor, html.unescape(text)) for anchor, text in found]


def _textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]* name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1))


def _ticked(page: str) -> list[str]:
    return re.findall(r'name="needs" type="checkbox" value="([a-z_]+)" checked', page)


def test_a_clinician_writes_a_letter_from_the_record_and_downloads_it(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician_user)
    letters = f"/people/{practice.person_id}/letters"
    page = client.get(letters)
    assert page.status_code == 200
    assert HOUSING.name in page.text
    assert "No letters have been issued about Mihai yet." in page.text

    form = client.get(f"{letters}/new", params={"template_id": HOUSING.template_id})
    assert form.status_code == 200
    # Non-sensitive needs ticked to start with; the sensitive one offered, not ticked.
    assert _ticked(form.text) == ["homelessness", "fuel_poverty", "food"]
    assert 'value="domestic_abuse"' in form.text

    filled = _post(client, f"{letters}/new", {**TYPED, "needs": ["fuel_poverty"]})
    assert filled.status_code == 200
    text = _textarea(filled.text, "text")
    assert "Re: Mihai Lăcătuș, date of birth 7 November 1961, NHS number 943 476 5919" in text
    assert "- Cold or damp home and fuel poverty: Lives in damp conditions\n" in text
    assert "Homelessness" not in text
    assert "abuse" not in text.lower()
    assert "The mould is in the bedroom where his son sleeps." in text

    changed = text.replace(
        "Yours sincerely,", "I have known Mihai for six years.\n\nYours sincerely,"
    )
    check = {
        "template_id": HOUSING.template_id,
        "template_version": "1",
        "template_name": HOUSING.name,
        "recipient_name": TYPED["recipient_name"],
        "recipient_address": "Merrion House\nLeeds\nLS2 8BB",
        "job_title": "GP",
        "text": changed,
    }
    preview = _post(client, letters, {**check, "action": "preview"})
    assert preview.status_code == 200
    assert 'id="preview-heading">Preview</h2>' in preview.text
    assert "<p>I have known Mihai for six years.</p>" in preview.text
    assert _textarea(preview.text, "text") == changed

    issued = _post(client, letters, {**check, "action": "issue"})
    assert issued.status_code == 303
    location = issued.headers["location"]
    letter_id = re.fullmatch(rf"{letters}/([0-9a-f-]{{36}})\?issued=1", location)
    assert letter_id
    shown = client.get(location)
    assert shown.status_code == 200
    assert "Letter issued and saved to Mihai&#39;s record." in shown.text
    assert "<p>I have known Mihai for six years.</p>" in shown.text

    download = client.get(f"{letters}/{letter_id.group(1)}/pdf")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert re.fullmatch(
        r'attachment; filename="letter-lacatus-\d{4}-\d{2}-\d{2}\.pdf"',
        download.headers["content-disposition"],
    )
    assert download.content.startswith(b"%PDF-")
    assert hashlib.sha256(download.content).hexdigest() in shown.text.replace(" ", "").replace(
        "<code>", ""
    )

    listed = client.get(letters)
    assert f'href="{letters}/{letter_id.group(1)}/pdf"' in listed.text
    assert "Letters issued (1)" in listed.text

    api = client.get(f"/api/people/{practice.person_id}/letters")
    assert api.status_code == 200
    [letter] = api.json()
    assert letter["id"] == letter_id.group(1)
    assert (letter["template_name"], letter["template_version"]) == (HOUSING.name, 1)
    assert letter["text"] == changed
    assert letter["pdf_sha256"] == hashlib.sha256(download.content).hexdigest()
    assert client.get(letter["pdf_url"]).content == download.content


def test_a_letter_form_with_mistakes_says_what_and_keeps_everything_typed(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician_user)
    typed = {
        **TYPED,
        "recipient_name": "",
        "job_title": " ",
        "needs": ["food", "domestic_abuse"],
    }
    page = _post(client, f"/people/{practice.person_id}/letters/new", typed)
    assert page.status_code == 422
    assert _summary(page.text) == [
        ("recipient_name", "Enter who the letter is to, like Housing Options, Leeds City Council"),
        ("job_title", "Enter your job title, like GP or Practice nurse"),
    ]
    assert _textarea(page.text, "recipient_address") == TYPED["recipient_address"]
    assert _textarea(page.text, "extra_text") == TYPED["extra_text"]
    assert _ticked(page.text) == ["food", "domestic_abuse"]

    check = {
        "template_id": HOUSING.template_id,
        "template_version": "1",
        "template_name": HOUSING.name,
        "recipient_name": "Housing Options",
        "recipient_address": "",
        "job_title": "GP",
        "text": "  ",
        "action": "issue",
    }
    refused = _post(client, f"/people/{practice.person_id}/letters", check)
    assert refused.status_code == 422
    assert _summary(refused.text) == [
        ("recipient_address", "Enter the address the letter goes to"),
        ("text", "Enter the text of the letter"),
    ]
    assert 'value="Housing Options"' in refused.text


def test_continuing_without_choosing_a_letter_says_so(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician_user)
    page = client.get(f"/people/{practice.person_id}/letters/new")
    assert page.status_code == 422
    assert _summary(page.text) == [("template_id-1", "Choose the letter you want to write")]


def test_users_outside_the_care_team_are_refused(
    client: TestClient, practice: Practice, make_user: Any
) -> None:
    sign_in(client, make_user(Role.CLINICIAN, organisation="Elsewhere"))
    letters = f"/people/{practice.person_id}/letters"
    for response in (
        client.get(letters),
        client.get(f"{letters}/new", params={"template_id": HOUSING.template_id}),
        _post(client, f"{letters}/new", TYPED),
        _post(client, letters, {**TYPED, "text": "Dear Sir", "action": "issue"}),
        client.get(f"/api/people/{practice.person_id}/letters"),
    ):
        assert response.status_code == 403, response.request.url
    assert "Mihai" not in client.get(letters).text


def test_an_organisation_administrator_edits_templates_and_mistakes_name_their_line(
    client: TestClient, practice: Practice, make_user: Any
) -> None:
    sign_in(client, make_user(Role.ORG_ADMIN, organisation=PRACTICE))
    listed = client.get("/letters/templates")
    assert listed.status_code == 200
    assert HOUSING.name in listed.text

    body = "Dear Sir or Madam,\r\n\r\nRe: {{ person.name }}\r\n{{ person.adress }}\r\n{% if %}"
    typed = {"name": "Our letter", "recipient_kind": "employer", "body": body, "active": "yes"}
    refused = _post(client, "/letters/templates/new", typed)
    assert refused.status_code == 422
    assert _summary(refused.text) == [
        (
            "body",
            "Line 5: this is not a template the letters can use: Expected an expression, "
            "got 'end of statement block'",
        )
    ]
    assert _textarea(refused.text, "body") == body
    assert 'value="Our letter"' in refused.text
    assert 'value="employer" checked' in refused.text

    typed["body"] = "Dear Sir or Madam,\n\nRe: {{ person.name }}\n\nFirst wording."
    saved = _post(client, "/letters/templates/new", typed)
    assert saved.status_code == 303
    template_page = client.get(saved.headers["location"])
    assert "Saved as version 1." in template_page.text

    path = saved.headers["location"].split("?")[0]
    changed = {**typed, "body": typed["body"].replace("First", "Second"), "version": "1"}
    assert _post(client, path, changed).status_code == 303
    assert "Saved as version 2." in client.get(f"{path}?saved=1").text
    stale = _post(client, path, {**changed, "body": "Dear Sir or Madam,\n\nThird.", "version": "1"})
    assert stale.status_code == 422
    assert _summary(stale.text) == [
        (
            "name",
            "Someone saved version 2 of 'Our letter' while you were changing version 1: check "
            "their version, then save your changes again",
        )
    ]
    assert _textarea(stale.text, "body") == "Dear Sir or Madam,\n\nThird."
    assert 'name="version" value="2"' in stale.text

    # Built-in templates are shown, not edited; a copy starts from their text.
    builtin = client.get(f"/letters/templates/{HOUSING.template_id}")
    assert "Make a copy to change" in builtin.text
    assert 'action="/letters/templates/' not in builtin.text
    copy = client.get("/letters/templates/new", params={"copy": HOUSING.template_id})
    assert _textarea(copy.text, "body") == HOUSING.body
    assert f'value="{HOUSING.name} (our version)"' in copy.text


def test_the_person_page_lists_the_last_three_letters(
    client: TestClient, practice: Practice, make_user: Any
) -> None:
    recipients = ["Housing Options", "Leeds Credit Union", "Jobcentre Plus", "The landlord"]
    issued = []
    for recipient in recipients:
        with practice.database.session() as session:
            letter = service.issue_letter(
                session,
                practice.context(),
                practice.clinician,
                practice.person_id,
                HOUSING.template_id,
                1,
                f"Dear {recipient},\n\nMihai lives in a damp home.\n\nYours faithfully,",
                service.Recipient(recipient, "1 Merrion Street\nLeeds"),
                job_title="GP",
            )
            local = letter.created_at.astimezone(ZoneInfo("Europe/London"))
            issued.append((letter.id, recipient, f"{local.day} {local:%B %Y} at {local:%H:%M}"))
    user = practice.clinician_user
    letters = f"/people/{practice.person_id}/letters"

    def listed(page: str) -> list[tuple[str, str, str, str]]:
        section = re.search(r'<section id="letters".*?</section>', page, re.S)
        assert section, "no letters section"
        return re.findall(
            rf'<li><a href="{letters}/([0-9a-f-]{{36}})">([^<]+)</a> to ([^,]+), (.+?), by '
            r"([^<]+)</li>",
            html.unescape(section.group(0)),
        )

    newest_three = [
        (letter_id, HOUSING.name, recipient, when) for letter_id, recipient, when in issued[:0:-1]
    ]
    sign_in(client, user)
    page = client.get(f"/people/{practice.person_id}").text
    assert listed(page) == [(*letter, f"Test {user.email}") for letter in newest_three]
    assert "And 1 more." in page
    assert f'<a href="{letters}">Write a letter in support of Mihai</a>' in page
    assert client.get(f"{letters}/{issued[-1][0]}").status_code == 200

    # An administrator sees the letters, and not the social history beside them.
    with TestClient(client.app) as other:
        sign_in(other, make_user(Role.ADMIN, organisation="Platform team"))
        page = other.get(f"/people/{practice.person_id}").text
    assert listed(page) == [(*letter, f"Test {user.email}") for letter in newest_three]
    assert 'id="social-history"' not in page
    assert "Last taken" not in page
