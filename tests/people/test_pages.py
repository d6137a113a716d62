"""Person pages: finding, the form keeping everything typed when the NHS number (or
anything else) is wrong, the likely-duplicate warning and the choice to go on, the person
page with its health passport, a stale edit, the care team, and who may see what."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_token, sign_in
from healthequity.auth.models import Role
from healthequity.people.models import Person
from healthequity.people.pages import parse_date_of_birth
from healthequity.store import Database
from healthequity.web.security import CSRF_FIELD

from .support import VALID_NHS_NUMBER, add_person, events, load

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]

TYPED = {
    "given_name": "Zofia",
    "family_name": "Kowalska-Brown",
    "dob-day": "7",
    "dob-month": "11",
    "dob-year": "1961",
    "nhs_number": "943 476 5918",  # the last digit is wrong
    "sex": "female",
    "ethnicity_code": "17",
    "postcode": "LS9 7AB",
    "gp_registration": "not_registered",
    "preferred_language": "Polish",
    "interpreter_needed": "yes",
    "communication_needs": "Deaf in the left ear: sit on her right.\nLarge print.",
    "phone": "",
    "no_telephone": "yes",
    "email_ok": "yes",
    "email": "zofia@example.org",
}


def _count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def _post(client: TestClient, path: str, data: dict[str, str]) -> httpx.Response:
    return client.post(path, data={**data, CSRF_FIELD: csrf_token(client)}, follow_redirects=False)


def _summary(html: str) -> list[tuple[str, str]]:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert match, "no error summary"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', match.group(1))


def test_an_invalid_nhs_number_says_so_and_keeps_everything_typed(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    sign_in(client, make_user(Role.CLINICIAN))
    response = _post(client, "/people/new", TYPED)
    assert response.status_code == 422
    page: str = response.text
    assert _summary(page) == [
        (
            "nhs_number",
            "943 476 5918 is not a valid NHS number: its last digit does not match the "
            "others, so a digit may be mistyped. Check it and enter it again",
        )
    ]
    assert "<title>Error: Add a person" in page
    assert 'id="nhs_number-error"' in page
    assert "nhsuk-input--error" in page
    for name in ("given_name", "family_name", "nhs_number", "postcode", "preferred_language"):
        assert f'id="{name}" name="{name}" type="text" value="{TYPED[name]}"' in page, name
    assert 'value="zofia@example.org"' in page
    for part in ("day", "month", "year"):
        assert (
            f'name="dob-{part}" type="text" inputmode="numeric" value="{TYPED["dob-" + part]}"'
            in page
        )
    assert 'name="sex" type="radio" value="female" checked' in page
    assert 'name="gp_registration" type="radio" value="not_registered" checked' in page
    assert '<option value="17" selected>' in page
    for ticked in ("interpreter_needed", "no_telephone", "email_ok"):
        assert f'id="{ticked}" name="{ticked}" type="checkbox" value="yes" checked' in page
    for unticked in ("text_messages_ok", "letters_ok"):
        assert f'id="{unticked}" name="{unticked}" type="checkbox" value="yes">' in page
    assert ">Deaf in the left ear: sit on her right.\nLarge print.</textarea>" in page
    assert _count(database) == 0

    # Fixed, it is saved with everything that was typed.
    response = _post(client, "/people/new", {**TYPED, "nhs_number": "943 476 5919"})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?created=1")
    person = load(database, location.split("/")[2].split("?")[0])
    assert person.nhs_number == VALID_NHS_NUMBER
    assert (person.family_name, person.postcode, person.ethnicity_code) == (
        "Kowalska-Brown",
        "LS9 7AB",
        "17",
    )
    assert person.date_of_birth is not None
    assert person.date_of_birth.isoformat() == "1961-11-07"
    assert person.interpreter_needed
    assert person.no_telephone
    assert (person.text_messages_ok, person.email_ok, person.letters_ok) == (False, True, False)


def test_every_wrong_field_is_named_in_page_order(client: TestClient, make_user: MakeUser) -> None:
    sign_in(client, make_user(Role.LINK_WORKER))
    response = _post(
        client,
        "/people/new",
        {
            "given_name": "",
            "family_name": "Jones",
            "dob-day": "31",
            "dob-month": "",
            "dob-year": "1990",
            "interpreter_needed": "yes",
            "phone": "0113 496 0000",
            "no_telephone": "yes",
            "sex": "shape-shifter",
        },
    )
    assert response.status_code == 422
    assert _summary(response.text) == [
        ("given_name", "Enter the person&#39;s first name"),
        ("dob-month", "Date of birth must include a month"),
        ("sex-1", "Choose the person&#39;s sex from the list"),
        ("preferred_language", "Enter the language the person needs an interpreter for"),
        (
            "phone",
            "You said the person has no telephone: remove the phone number, or untick "
            "&#39;has no telephone&#39;",
        ),
    ]


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "part"),
    [
        ("", "3", "1990", "Date of birth must include a day", "day"),
        ("", "", "1990", "Date of birth must include a day and month", "day"),
        ("1", "3", "", "Date of birth must include a year", "year"),
        ("x", "3", "1990", "Date of birth must be a real date, in numbers, like 27 3 2007", "day"),
        ("30", "2", "1990", "Date of birth must be a real date", "day"),
        ("1", "13", "1990", "Date of birth must be a real date", "month"),
        ("1", "3", "90", "Year must include 4 numbers", "year"),
        ("1", "3", "0000", "Date of birth must be a real date", "year"),
    ],
)
def test_dates_of_birth_are_checked_as_the_design_system_asks(
    day: str, month: str, year: str, message: str, part: str
) -> None:
    with pytest.raises(ValueError) as raised:  # noqa: PT011 (its args are checked)
        parse_date_of_birth(day, month, year)
    assert raised.value.args == (message, part)


def test_a_date_of_birth_is_optional_and_read_as_typed() -> None:
    assert parse_date_of_birth("", "", "") is None
    assert parse_date_of_birth(" 7", "11 ", "1961").isoformat() == "1961-11-07"  # type: ignore[union-attr]


def test_a_likely_duplicate_warns_with_links_and_lets_the_user_go_on(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    existing = add_person(
        database,
        clinician.organisation_id,
        given_name="Zofia",
        family_name="Kowalska-Brown",
        postcode="LS9 7AB",
        date_of_birth="1961-11-07",
    )
    sign_in(client, clinician)
    typed = {**TYPED, "nhs_number": "", "given_name": "ZOFIA", "postcode": "ls97ab"}
    response = _post(client, "/people/new", typed)
    assert response.status_code == 200
    page: str = response.text
    assert "This person may have a record already" in page
    assert f'<a href="/people/{existing}">Zofia Kowalska-Brown</a>' in page
    assert "has the same name, date of birth and postcode" in page
    assert 'form="person-form" name="confirm_not_duplicate" value="yes"' in page
    assert 'value="ZOFIA"' in page  # what was typed is still there
    assert _count(database) == 1

    response = _post(client, "/people/new", {**typed, "confirm_not_duplicate": "yes"})
    assert response.status_code == 303
    assert _count(database) == 2


def test_a_record_with_the_same_nhs_number_is_shown_not_duplicated(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    existing = add_person(database, clinician.organisation_id, nhs_number=VALID_NHS_NUMBER)
    elsewhere = add_person(
        database,
        make_user(Role.CLINICIAN, organisation="Elsewhere").organisation_id,
        nhs_number="9434765870",
    )
    sign_in(client, clinician)
    response = _post(client, "/people/new", {**TYPED, "nhs_number": "9434765919"})
    assert response.status_code == 422
    page: str = response.text
    assert ("nhs_number", "A record with this NHS number exists already") in _summary(page)
    assert f'<a href="/people/{existing}">' in page
    assert "confirm_not_duplicate" not in page  # no creating a second record
    # Held where the user cannot see it: who holds it, and no link.
    response = _post(client, "/people/new", {**TYPED, "nhs_number": "9434765870"})
    page = response.text
    assert "A record held by Elsewhere has the same NHS number" in page
    assert f"/people/{elsewhere}" not in page
    assert _count(database) == 2


def test_the_person_page_starts_with_the_health_passport(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(
        database,
        clinician.organisation_id,
        nhs_number=VALID_NHS_NUMBER,
        communication_needs="Deaf: uses British Sign Language\nBook a BSL interpreter",
        preferred_language="British Sign Language",
        interpreter_needed=True,
        no_telephone=True,
        text_messages_ok=False,
        lsoa21_code="E01011264",
        postcode=None,
    )
    sign_in(client, clinician)
    response = client.get(f"/people/{person_id}")
    assert response.status_code == 200
    page = response.text
    passport = page.index('id="health-passport"')
    assert passport < page.index("<h1>")
    assert "Deaf: uses British Sign Language<br>Book a BSL interpreter" in page
    assert "Interpreter needed</strong> British Sign Language" in page
    assert "No telephone</strong> Do not try to phone or text." in page
    assert "Happy to be contacted by email or letter." in page
    assert "943 476 5919" in page
    assert "Leeds 011A" in page
    assert "decile 6 of 10" in page
    assert events(database, "person.read")[-1].subject_id == person_id

    edit = client.get(f"/people/{person_id}/edit")
    assert edit.status_code == 200
    assert edit.text.index('id="health-passport"') < edit.text.index("<h1>")
    assert 'name="version" value="1"' in edit.text


def test_a_person_outside_the_care_team_is_refused(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    person_id = add_person(
        database, make_user(Role.CLINICIAN, organisation="Holder").organisation_id
    )
    outsider = make_user(Role.CLINICIAN, organisation="Outsider")
    sign_in(client, outsider)
    for path in (f"/people/{person_id}", f"/people/{person_id}/edit"):
        response = client.get(path)
        assert response.status_code == 403
        assert "not in this person&#39;s care team" in response.text
        assert "Deaf" not in response.text
    assert client.get("/people/no-such-person").status_code == 404
    assert len(events(database, "person.access_refused")) == 2
    # Nor are they found by a search.
    found = client.get("/people", params={"q": "Smith"})
    assert "0 people found" in found.text


def test_a_stale_edit_keeps_what_was_typed_and_shows_the_record_now(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(database, clinician.organisation_id)
    sign_in(client, clinician)
    form = {
        "version": "1",
        "given_name": "Ann",
        "family_name": "Smith",
        "dob-day": "1",
        "dob-month": "2",
        "dob-year": "1980",
        "postcode": "LS1 1UR",
        "sex": "unknown",
        "gp_registration": "unknown",
        "text_messages_ok": "yes",
        "email_ok": "yes",
        "letters_ok": "yes",
    }
    first = _post(client, f"/people/{person_id}/edit", {**form, "phone": "0113 496 0001"})
    assert first.status_code == 303
    assert first.headers["location"] == f"/people/{person_id}?saved=1"
    second = _post(client, f"/people/{person_id}/edit", {**form, "preferred_language": "Urdu"})
    assert second.status_code == 409
    page: str = second.text
    assert _summary(page)[0][0] == "current-record"
    assert "Someone else saved a change to this record" in page
    assert 'value="Urdu"' in page
    assert 'name="version" value="2"' in page
    assert re.search(r"Phone</dt>\s*<dd[^>]*>0113 496 0001</dd>", page)
    assert load(database, person_id).preferred_language is None
    # Saving again, from the version now shown, applies what was typed.
    third = _post(
        client, f"/people/{person_id}/edit", {**form, "version": "2", "preferred_language": "Urdu"}
    )
    assert third.status_code == 303
    person = load(database, person_id)
    assert (person.preferred_language, person.phone, person.version) == ("Urdu", None, 3)


def test_find_a_person_by_name_or_nhs_number(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(database, clinician.organisation_id, nhs_number=VALID_NHS_NUMBER)
    sign_in(client, clinician)
    empty = client.get("/people")
    assert empty.status_code == 200
    assert "Find a person" in empty.text
    assert "people found" not in empty.text
    for query in (
        {"q": "ann smi"},
        {"q": "943 476 5919"},
        {"q": "smith", "dob-day": "1", "dob-month": "2", "dob-year": "1980"},
    ):
        response = client.get("/people", params=query)
        assert response.status_code == 200
        assert "1 person found" in response.text, query
        assert f'<a href="/people/{person_id}">Smith, Ann</a>' in response.text
    wrong = client.get("/people", params={"q": "943 476 5918"})
    assert wrong.status_code == 422
    assert _summary(wrong.text)[0][0] == "q"
    assert 'value="943 476 5918"' in wrong.text
    nothing = client.get("/people", params={"q": ""})
    assert _summary(nothing.text) == [("q", "Enter a name or an NHS number")]
    none_found = client.get("/people", params={"q": "Nobody Here"})
    assert "0 people found" in none_found.text
    assert 'href="/people/new?given_name=Nobody&amp;family_name=Here"' in none_found.text
    carried = client.get("/people/new", params={"given_name": "Nobody", "family_name": "Here"})
    assert 'id="family_name" name="family_name" type="text" value="Here"' in carried.text


def test_the_care_team_is_named_on_the_person_page(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN, organisation="Holder")
    adviser = make_user(Role.PROVIDER, organisation="Advice Centre")
    person_id = add_person(database, clinician.organisation_id)
    sign_in(client, clinician)
    missing = _post(
        client, f"/people/{person_id}/care-team", {"care_team_email": "nobody@example.org"}
    )
    assert missing.status_code == 422
    assert _summary(missing.text) == [
        ("care_team_email", "No active user has that email address: check it and try again")
    ]
    assert 'value="nobody@example.org"' in missing.text
    added = _post(
        client, f"/people/{person_id}/care-team", {"care_team_email": adviser.email.upper()}
    )
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert f"Test {adviser.email}, Advice Centre" in page
    assert "Added to the care team." in page

    # The adviser now sees the record, from another organisation.
    with TestClient(client.app) as other:
        sign_in(other, adviser)
        assert other.get(f"/api/people/{person_id}").status_code == 403  # providers: no API
    removed = _post(client, f"/people/{person_id}/care-team/{adviser.user_id}/remove", {})
    assert removed.status_code == 303
    assert f"Test {adviser.email}" not in client.get(f"/people/{person_id}").text


def _sections(page: str) -> list[str]:
    """The sections other capabilities add to the person page, in order."""
    return re.findall(r'<section id="(social-history|referrals|letters)"', page)


def test_the_person_page_shows_the_sections_each_role_may_see(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(database, clinician.organisation_id)
    sign_in(client, clinician)
    page = client.get(f"/people/{person_id}").text
    assert _sections(page) == ["social-history", "referrals", "letters"]
    assert "No social history has been taken yet." in page
    assert f'href="/people/{person_id}/social-history/new/social-history-core"' in page
    assert "No referrals have been made for Ann yet." in page
    assert f'<a href="/people/{person_id}/needs">Refer Ann to a service</a>' in page
    assert "No letters have been issued about Ann yet." in page
    assert f'<a href="/people/{person_id}/letters">Write a letter in support of Ann</a>' in page

    # An administrator, who is not clinical, may write letters but sees neither the social
    # history nor the referrals.
    admin = make_user(Role.ADMIN, organisation="Platform team")
    with TestClient(client.app) as other:
        sign_in(other, admin)
        response = other.get(f"/people/{person_id}")
        assert response.status_code == 200
        page = response.text
    assert _sections(page) == ["letters"]
    assert f'<a href="/people/{person_id}/letters">Write a letter in support of Ann</a>' in page
    for hidden in ("Social history", "Take social history", "Referrals", "Refer Ann"):
        assert hidden not in page, hidden
