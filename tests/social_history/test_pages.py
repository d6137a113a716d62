"""Social history pages on each database: the questionnaire drawn from its FHIR file, follow-up
questions shown only when an answer calls for them (without JavaScript, and for htmx), answers
that do not fit named with every answer kept, saving; sensitive items marked for the clinician,
hidden from users outside the care team, their views audited, and never on the person's own
page; one-time links from creation to the person's answers, their review, and the page a used,
expired or unknown link shows. Also the reads the pages rely on (`current_needs`)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from conftest import csrf_token, sign_in
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.people.models import Person
from healthequity.social_history import service
from healthequity.social_history.instruments import get_instrument
from healthequity.social_history.models import (
    PatientLink,
    QuestionnaireResponse,
    ResponseSource,
)
from healthequity.store import Database
from healthequity.store.database import utc_now
from healthequity.web.logging import JsonFormatter
from healthequity.web.security import CSRF_FIELD

from .conftest import CORE, LOW_MOOD

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
SENSITIVE = ("feel-safe", "hurt-by-someone-close", "legal-or-immigration")
FOLLOW_UPS = ("losing-home", "home-conditions", "benefits-checked", "healthy-start", "work-secure")
ALONE = "Ask only if the person is alone"


@dataclass(frozen=True)
class Practice:
    database: Database
    clinician: TestUser
    person_id: str

    @property
    def history(self) -> str:
        return f"/people/{self.person_id}/social-history"

    @property
    def form(self) -> str:
        return f"{self.history}/new/social-history-core"


@pytest.fixture
def practice(database: Database, make_user: MakeUser) -> Practice:
    clinician = make_user(Role.CLINICIAN)
    with database.session() as session:
        person = Person(
            id=str(uuid.uuid4()),
            given_name="Ada",
            family_name="Okafor",
            name_key="ada okafor",
            organisation_id=clinician.organisation_id,
        )
        session.add(person)
    return Practice(database, clinician, person.id)


def _post(client: TestClient, path: str, data: dict[str, object]) -> httpx.Response:
    return client.post(path, data={**data, CSRF_FIELD: csrf_token(client)}, follow_redirects=False)


def _summary(html: str) -> list[tuple[str, str]]:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert match, "no error summary"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', match.group(1))


def _names(html: str) -> set[str]:
    """The questions on a page, by linkId."""
    return set(re.findall(r'name="q-([a-z0-9-]+)"', html))


def _checked(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(
        r'name="q-([a-z0-9-]+)" type="(?:radio|checkbox)" value="([^"]+)" checked', html
    ):
        found.setdefault(name, []).append(value)
    return found


def _responses(database: Database) -> list[QuestionnaireResponse]:
    with database.session() as session:
        return list(
            session.scalars(
                select(QuestionnaireResponse).order_by(QuestionnaireResponse.authored_at)
            )
        )


def _events(database: Database, action: str) -> list[AuditEvent]:
    with database.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by("id"))
        )


# The questionnaire as a page.


def test_the_core_social_history_is_drawn_from_its_questionnaire(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    response = client.get(practice.form)
    assert response.status_code == 200
    page = response.text
    core = get_instrument(CORE)
    asked = {q.link_id for q in core.answerable()}
    assert _names(page) == asked - set(FOLLOW_UPS), "follow-ups are asked before any answer"
    assert 'id="health-passport"' in page
    assert page.index('id="health-passport"') < page.index("<h1")
    for group in ("Home", "Money, food and work", "Daily life", "Safety and health"):
        assert f">{group}</h2>" in page
    # A choice is radios, a repeating choice boxes, a boolean yes or no, a string a text box.
    assert 'name="q-housing-situation" type="radio" value="own-or-rented"' in page
    assert 'name="q-pregnant-or-under-four" type="radio" value="true"' in page
    assert 'name="q-strengths" rows="3"' in page
    # The sensitive questions, and only they, say to ask only when the person is alone.
    for link_id in SENSITIVE:
        block = page.split(f'id="question-{link_id}"', 1)[1].split("</fieldset>", 1)[0]
        assert ALONE in block, link_id
    assert page.count(f'nhsuk-tag--orange">{ALONE}') == len(SENSITIVE)
    assert "Ask the next two questions only when the person is on their own." in page


def test_the_screeners_have_pages_and_an_unknown_questionnaire_has_none(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    screen = client.get(f"{practice.history}/new/domestic-abuse-screen")
    assert screen.status_code == 200
    assert _names(screen.text) == {"safe-at-home", "afraid", "hurt-or-controlled"}
    assert screen.text.count(f'nhsuk-tag--orange">{ALONE}') == 3
    mood = client.get(f"{practice.history}/new/low-mood-phq2")
    assert _names(mood.text) == {"little-interest", "feeling-down"}
    missing = client.get(f"{practice.history}/new/no-such-thing")
    assert missing.status_code == 404
    assert "social-history-core" in missing.text


def test_without_javascript_follow_ups_are_shown_before_anything_is_saved(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    answers = {"q-housing-situation": "own-or-rented", "q-money-enough": "often-not"}
    response = _post(client, practice.form, answers)
    assert response.status_code == 200
    page = response.text
    notice = page.split('id="follow-ups-added"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'href="#question-([a-z-]+)"', notice) == [
        "losing-home",
        "home-conditions",
        "benefits-checked",
    ]
    assert {"losing-home", "home-conditions", "benefits-checked"} <= _names(page)
    assert _checked(page) == {"housing-situation": ["own-or-rented"], "money-enough": ["often-not"]}
    assert _responses(practice.database) == []
    # Sent again with the follow-ups on the page, the history is saved.
    shown = {"shown": ["losing-home", "home-conditions", "benefits-checked"]}
    saved = _post(client, practice.form, {**answers, **shown})
    assert saved.status_code == 303
    assert len(_responses(practice.database)) == 1


def test_htmx_gets_only_the_follow_ups_that_appear_or_go(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    url = f"{practice.form}/follow-ups"
    appear = _post(client, url, {"q-housing-situation": "temporary"})
    assert appear.status_code == 200
    slots = re.findall(r'<div id="slot-([a-z-]+)" hx-swap-oob="true">', appear.text)
    assert slots == ["home-conditions"]
    assert 'name="shown" value="home-conditions"' in appear.text
    assert "Follow-up question added: Is your home any of these?" in appear.text
    # From temporary to their own home: one more appears; the one shown stays as it is.
    changed = _post(
        client,
        url,
        {"q-housing-situation": "own-or-rented", "shown": "home-conditions"},
    )
    assert re.findall(r'<div id="slot-([a-z-]+)" hx-swap-oob="true">', changed.text) == [
        "losing-home"
    ]
    gone = _post(
        client, url, {"q-housing-situation": "no-home", "shown": ["home-conditions", "losing-home"]}
    )
    assert re.findall(r'<div id="slot-([a-z-]+)" hx-swap-oob="true">', gone.text) == [
        "losing-home",
        "home-conditions",
    ]
    assert "Follow-up question removed" in gone.text
    assert 'name="q-losing-home"' not in gone.text


def test_answers_that_do_not_fit_are_named_and_every_answer_is_kept(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    typed = {
        "q-housing-situation": "own-or-rented",
        "shown": ["losing-home", "home-conditions"],
        "q-home-conditions": ["damp", "cold"],
        "q-debt": "sometimes",  # not one of its answers
        "q-pregnant-or-under-four": "maybe",
        "q-feel-safe": "not-at-home",
        "q-strengths": "My sister " * 201,  # 2,010 characters
    }
    response = _post(client, practice.form, typed)
    assert response.status_code == 422
    assert _summary(response.text) == [
        (
            "q-pregnant-or-under-four-1",
            "Choose yes or no for “Are you pregnant, or do you look after a child under 4?”",
        ),
        (
            "q-debt-1",
            "Choose an answer to “Are you behind with any bills, loans or payments, or worried "
            "about debt?” from the list",
        ),
        (
            "q-strengths",
            "The answer to “What or who helps you most? Your strengths, the people and the "
            "things that keep you going.” must be 2,000 characters or fewer: it has 2,010",
        ),
    ]
    page = response.text
    assert "<title>Error: " in page
    assert _checked(page) == {
        "housing-situation": ["own-or-rented"],
        "home-conditions": ["damp", "cold"],
        "feel-safe": ["not-at-home"],
    }
    assert "My sister " * 201 in page
    assert 'id="q-debt-error"' in page
    assert _responses(practice.database) == []


def test_an_empty_history_is_refused(client: TestClient, practice: Practice) -> None:
    sign_in(client, practice.clinician)
    response = _post(client, practice.form, {"q-strengths": "   "})
    assert response.status_code == 422
    assert _summary(response.text) == [("q-housing-situation-1", "Answer at least one question")]


def test_saving_records_the_answers_and_goes_on_to_the_needs(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    response = _post(
        client,
        practice.form,
        {
            # Losing-home was answered while the person was in their own home; then the answer
            # changed, so it is no longer asked and its answer is dropped.
            "q-housing-situation": "temporary",
            "shown": ["losing-home", "home-conditions"],
            "q-losing-home": "yes",
            "q-pregnant-or-under-four": "false",
            "q-debt": "behind",
            "q-strengths": "  My church  ",
        },
    )
    assert response.status_code == 303
    [stored] = _responses(practice.database)
    assert (
        response.headers["location"] == f"/people/{practice.person_id}/needs?recorded={stored.id}"
    )
    assert stored.answers == {
        "housing-situation": ["temporary"],
        "pregnant-or-under-four": [False],
        "debt": ["behind"],
        "strengths": ["My church"],
    }
    assert stored.source is ResponseSource.CLINICIAN
    assert stored.author_user_id == practice.clinician.user_id


# Who may see what.


def _record_sensitive(practice: Practice) -> str:
    with practice.database.session() as session:
        return service.record_response(
            session,
            AuditContext(purpose="test"),
            practice.person_id,
            CORE,
            {"debt": "worried", "hurt-by-someone-close": "now", "legal-or-immigration": "asylum"},
            ResponseSource.CLINICIAN,
            practice.clinician.user_id,
        ).id


def test_users_outside_the_care_team_are_refused_and_see_nothing_sensitive(
    client: TestClient, practice: Practice, make_user: MakeUser
) -> None:
    response_id = _record_sensitive(practice)
    outsider = make_user(Role.CLINICIAN, organisation="Another Practice")
    sign_in(client, outsider)
    for path in (
        practice.history,
        practice.form,
        f"{practice.history}/responses/{response_id}",
        f"{practice.history}/link",
    ):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "You are not in this person&#39;s care team" in refused.text
        assert "asylum" not in refused.text.lower()
        assert "Yes, and it is still happening" not in refused.text
    assert len(_events(practice.database, "person.access_refused")) == 4
    assert _events(practice.database, "social_history.sensitive.view") == []
    assert _post(client, practice.form, {"q-debt": "no"}).status_code == 403
    assert len(_responses(practice.database)) == 1


def test_the_care_team_sees_sensitive_answers_marked_and_each_view_is_audited(
    client: TestClient, practice: Practice, make_user: MakeUser
) -> None:
    response_id = _record_sensitive(practice)
    sign_in(client, practice.clinician)
    page = client.get(f"{practice.history}/responses/{response_id}")
    assert page.status_code == 200
    assert "Yes, and it is still happening" in page.text
    assert "Yes, I am waiting for a decision on asylum" in page.text
    assert page.text.count('data-sensitive="true"') == 2
    assert "Domestic abuse" in page.text
    [event] = _events(practice.database, "social_history.sensitive.view")
    detail = json.loads(event.detail or "{}")
    assert detail["page"] == "response"
    assert detail["shown"][:2] == ["hurt-by-someone-close", "legal-or-immigration"]
    assert len(detail["shown"]) == 4  # and the two sensitive needs, by id
    assert "asylum" not in (event.detail or "")
    assert (event.subject_type, event.subject_id) == ("person", practice.person_id)
    assert event.user_id == practice.clinician.user_id
    # Answers with nothing sensitive are viewed without such an event.
    with practice.database.session() as session:
        plain = service.record_response(
            session,
            AuditContext(),
            practice.person_id,
            LOW_MOOD,
            {"little-interest": "LA6569-3"},
            ResponseSource.CLINICIAN,
            None,
        ).id
    assert client.get(f"{practice.history}/responses/{plain}").status_code == 200
    assert len(_events(practice.database, "social_history.sensitive.view")) == 1


def test_answers_of_another_person_are_not_shown(
    client: TestClient, practice: Practice, database: Database
) -> None:
    response_id = _record_sensitive(practice)
    with database.session() as session:
        other = Person(
            id=str(uuid.uuid4()),
            given_name="Bo",
            family_name="Lee",
            name_key="bo lee",
            organisation_id=practice.clinician.organisation_id,
        )
        session.add(other)
    sign_in(client, practice.clinician)
    response = client.get(f"/people/{other.id}/social-history/responses/{response_id}")
    assert response.status_code == 404
    assert "asylum" not in response.text


# The person's own phone.


def _link(client: TestClient, practice: Practice, instrument: str = "social-history-core") -> str:
    response = _post(client, f"{practice.history}/link", {"instrument": instrument, "days": "7"})
    assert response.status_code == 200, response.text
    match = re.search(r'value="http://testserver(/my-answers/[^"]+)"', response.text)
    assert match, "no link on the page"
    return match.group(1)


def test_a_link_is_shown_once_to_copy_and_offers_only_what_a_person_can_answer(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    form = client.get(f"{practice.history}/link")
    offered = re.findall(r'name="instrument" type="radio" value="([^"]+)"', form.text)
    assert offered == ["low-mood-phq2", "social-history-core"]  # every question of the
    # domestic abuse screen is sensitive: it is never sent
    wrong = _post(
        client, f"{practice.history}/link", {"instrument": "domestic-abuse-screen", "days": "30"}
    )
    assert wrong.status_code == 422
    assert _summary(wrong.text) == [
        ("instrument-1", "Choose the questions to send"),
        ("days", "Choose how long the link works, from the list"),
    ]
    path = _link(client, practice)
    assert re.fullmatch(r"/my-answers/[A-Za-z0-9_-]{43}", path)
    with practice.database.session() as session:
        [link] = session.scalars(select(PatientLink))
        assert link.questionnaire_url == CORE
        assert link.token_hash not in path
        assert link.expires_at - link.created_at == timedelta(days=7)


def test_the_persons_page_never_offers_a_sensitive_item(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    path = _link(client, practice)
    client.cookies.clear()  # the person, not signed in
    page = client.get(path)
    assert page.status_code == 200
    names = _names(page.text)
    assert not names & set(SENSITIVE)
    assert "drugs" in names
    assert "alone" not in page.text
    assert "Do you feel safe" not in page.text
    assert 'name="q-housing-situation" type="radio"' in page.text
    assert "nhsuk-fieldset__legend--m" in page.text  # larger questions on a phone
    assert "Ada" not in page.text  # nothing of the record on a page anyone with the link sees
    # A sensitive answer slipped into what is sent is not taken.
    sent = _post(client, path, {"q-debt": "behind", "q-feel-safe": "not-at-home"})
    assert sent.status_code == 200
    assert "Thank you" in sent.text
    [stored] = _responses(practice.database)
    assert stored.answers == {"debt": ["behind"]}
    assert stored.source is ResponseSource.PERSON
    assert stored.author_user_id is None


def test_the_persons_page_names_what_does_not_fit_and_keeps_the_link(
    client: TestClient, practice: Practice
) -> None:
    sign_in(client, practice.clinician)
    path = _link(client, practice)
    client.cookies.clear()
    response = _post(client, path, {"q-debt": "behind", "q-strengths": "x" * 2001})
    assert response.status_code == 422
    assert [anchor for anchor, _ in _summary(response.text)] == ["q-strengths"]
    assert _checked(response.text) == {"debt": ["behind"]}
    follow_ups = _post(client, f"{path}/follow-ups", {"q-money-enough": "often-not"})
    assert re.findall(r'<div id="slot-([a-z-]+)" hx-swap-oob="true">', follow_ups.text) == [
        "benefits-checked"
    ]
    assert _post(client, path, {"q-debt": "behind"}).status_code == 200
    assert len(_responses(practice.database)) == 1


def test_the_request_log_never_shows_a_links_secret(
    client: TestClient, practice: Practice, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in(client, practice.clinician)
    path = _link(client, practice)
    secret = path.removeprefix("/my-answers/")
    client.cookies.clear()
    with caplog.at_level(logging.INFO, logger="healthequity.web"):
        assert client.get(path).status_code == 200
        follow_ups = _post(client, f"{path}/follow-ups", {"q-money-enough": "often-not"})
        assert follow_ups.status_code == 200
        assert _post(client, path, {"q-debt": "behind"}).status_code == 200
        assert client.get(path).status_code == 410  # used
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines
    assert not [line for line in lines if secret in line]
    assert secret not in caplog.text
    logged = [json.loads(line) for line in lines]
    assert [
        (entry["method"], entry["path"], entry["status"])
        for entry in logged
        if entry["message"] == "request" and entry["path"].startswith("/my-answers")
    ] == [
        ("GET", "/my-answers/…", 200),
        ("POST", "/my-answers/…/follow-ups", 200),
        ("POST", "/my-answers/…", 200),
        ("GET", "/my-answers/…", 410),
    ]


def test_a_used_expired_or_unknown_link_says_so(client: TestClient, practice: Practice) -> None:
    sign_in(client, practice.clinician)
    used = _link(client, practice)
    expired = _link(client, practice)
    with practice.database.session() as session:
        secret = expired.rsplit("/", 1)[1]
        session.execute(
            update(PatientLink)
            .where(PatientLink.token_hash == hashlib.sha256(secret.encode()).hexdigest())
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    client.cookies.clear()
    assert _post(client, used, {"q-debt": "no"}).status_code == 200
    for path, status, title in (
        (used, 410, "This link has already been used"),
        (expired, 410, "This link has expired"),
        ("/my-answers/not-a-link", 404, "This link does not work"),
    ):
        for response in (client.get(path), _post(client, path, {"q-debt": "no"})):
            assert response.status_code == status, path
            assert f"<h1>{title}</h1>" in response.text
            assert "ask the person who sent you the link for a new one" in response.text
        assert _post(client, f"{path}/follow-ups", {}).status_code == status
    assert len(_responses(practice.database)) == 1


def test_answers_from_a_link_wait_for_review(client: TestClient, practice: Practice) -> None:
    sign_in(client, practice.clinician)
    path = _link(client, practice)
    assert "Answers waiting for review" not in client.get(practice.history).text
    _post(client, path, {"q-debt": "worried"})
    [stored] = _responses(practice.database)
    history = client.get(practice.history).text
    assert "Answers waiting for review" in history
    review_link = f"{practice.history}/responses/{stored.id}"
    assert f'href="{review_link}">Review the answers to Social history (core)' in history
    page = client.get(review_link).text
    assert "Mark as reviewed" in page
    assert "Yes, I am worried about debt" in page
    reviewed = _post(client, f"{review_link}/review", {})
    assert reviewed.status_code == 303
    assert (
        reviewed.headers["location"] == f"/people/{practice.person_id}/needs?reviewed={stored.id}"
    )
    [stored] = _responses(practice.database)
    assert stored.reviewed_by_user_id == practice.clinician.user_id
    assert "Answers waiting for review" not in client.get(practice.history).text
    again = _post(client, f"{review_link}/review", {})
    assert again.status_code == 409
    assert "These answers were reviewed already" in again.text
    assert len(_events(practice.database, "social_history.response.review")) == 1


def test_the_person_section_summarises_the_history(client: TestClient, practice: Practice) -> None:
    sign_in(client, practice.clinician)
    page = client.get(practice.history).text
    assert "No social history has been taken yet." in page
    assert f'href="{practice.form}"' in page
    assert f'href="{practice.history}/new/domestic-abuse-screen">Screen: Domestic abuse' in page
    assert f'href="{practice.history}/link">Send a link' in page
    assert f'href="/people/{practice.person_id}/needs"' in page
    _record_sensitive(practice)
    page = client.get(practice.history).text
    assert "Last taken " in page
    assert page.count("Asked in a consultation") == 1


def test_the_person_page_says_when_the_history_was_taken_and_what_waits_for_review(
    client: TestClient, practice: Practice
) -> None:
    person_page = f"/people/{practice.person_id}"
    sign_in(client, practice.clinician)
    taken_id = _record_sensitive(practice)
    path = _link(client, practice)
    page = client.get(person_page).text
    [taken] = [r for r in _responses(practice.database) if r.id == taken_id]
    local = taken.authored_at.astimezone(ZoneInfo("Europe/London"))
    taken_at = f"{local.day} {local:%B %Y} at {local:%H:%M}"
    assert f"<p>Last taken {taken_at}: Social history (core).</p>" in page
    assert "Answers waiting for review" not in page
    assert re.search(
        rf'<a class="nhsuk-button"[^>]* href="{practice.form}"[^>]*>Take social history</a>', page
    )
    assert f'href="{practice.history}/new/low-mood-phq2">Screen: ' in page
    assert f'<a href="/people/{practice.person_id}/needs">Needs and services to refer to</a>' in (
        page
    )
    assert f'<a href="{practice.history}">Every social history taken</a>' in page
    assert "hurt" not in page.lower()  # dates and titles, never answers

    # The person answers from their phone: the page asks for a review of those answers.
    client.cookies.clear()
    assert _post(client, path, {"q-debt": "behind"}).status_code == 200
    answered = max(_responses(practice.database), key=lambda r: r.authored_at)
    sign_in(client, practice.clinician)
    page = client.get(person_page).text
    review = f"{practice.history}/responses/{answered.id}"
    local = answered.authored_at.astimezone(ZoneInfo("Europe/London"))
    sent = f"{local.day} {local:%B %Y} at {local:%H:%M}"
    callout = page[page.index('id="answers-waiting"') : page.index("Last taken")]
    assert "Answers waiting for review" in callout
    assert f'<a href="{review}">Review the answers to Social history (core), sent {sent}</a>' in (
        callout
    )
    assert f"Last taken {sent}: Social history (core)." in page
    assert _post(client, f"{review}/review", {}).status_code == 303
    assert "Answers waiting for review" not in client.get(person_page).text


# What the pages read.


def test_current_needs_are_those_of_the_latest_answer_to_each_question(
    practice: Practice,
) -> None:
    def record(answers: dict[str, object], source: ResponseSource) -> None:
        with practice.database.session() as session:
            service.record_response(
                session, AuditContext(), practice.person_id, CORE, answers, source, None
            )

    record(
        {"debt": "behind", "food-worried": "LA28397-0", "hurt-by-someone-close": "now"},
        ResponseSource.CLINICIAN,
    )
    # From a link later: no longer in debt, food not asked, nothing sensitive asked.
    record({"debt": "no", "transport": "cost"}, ResponseSource.PERSON)
    with practice.database.session() as session:
        current = service.current_needs(session, practice.person_id, include_sensitive=True)
        assert sorted(need.need_code for need in current) == ["domestic_abuse", "food", "transport"]
        hidden = service.current_needs(session, practice.person_id, include_sensitive=False)
        assert sorted(need.need_code for need in hidden) == ["food", "transport"]
        assert len(service.needs_of_person(session, practice.person_id, True)) == 4
        [waiting] = service.awaiting_review(session, practice.person_id)
        assert waiting.source is ResponseSource.PERSON
        assert session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 2
