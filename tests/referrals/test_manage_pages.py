"""The pages that work referrals, through the app: the referral page (passport, service,
needs, status and history; the moves the lifecycle allows, each with what it asks; illegal
moves and stale versions refused with what was typed kept), the caseload (sort, filter,
pages), the follow-ups due, the provider inbox (only the organisation's referrals, only the
minimum shared), the wellbeing scores before and after, the person's referrals on the page
about them (with the social history and letters beside them), and the figures on the home
page's cards."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from conftest import TEST_PASSWORD, csrf_token, sign_in
from conftest import TestUser as Account
from healthequity.audit.models import AuditEvent
from healthequity.audit.service import list_events
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory.search import today_in_london
from healthequity.letters import service as letters
from healthequity.letters.models import RecipientKind
from healthequity.people.exceptions import StalePersonUpdate
from healthequity.people.models import Person
from healthequity.referrals import service
from healthequity.referrals.exceptions import (
    PersonNotFound,
    ReferralInputError,
    ReferralNotFound,
    StaleReferral,
)
from healthequity.referrals.manage_pages import MOVES
from healthequity.referrals.models import Referral, ReferralStatus
from healthequity.social_history.models import IdentifiedNeed, ResponseSource
from healthequity.social_history.service import record_response
from healthequity.web.security import CSRF_FIELD

from .conftest import (
    BENEFITS_SERVICE,
    WALKING_SERVICE,
    World,
    add_needs,
    context_of,
    refer,
)

S = ReferralStatus
LONDON = ZoneInfo("Europe/London")
CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"


# Helpers


def signed_in(client: TestClient, principal: Principal) -> TestClient:
    assert principal.email is not None
    assert principal.user_id is not None
    user = Account(
        principal.email,
        TEST_PASSWORD,
        principal.roles,
        principal.user_id,
        principal.organisation_id,
    )
    sign_in(client, user)
    return client


def post(client: TestClient, path: str, data: dict[str, str]) -> httpx.Response:
    return client.post(path, data={**data, CSRF_FIELD: csrf_token(client)}, follow_redirects=False)


def text_of(response: httpx.Response) -> str:
    """The page's main content as one line of plain text."""
    match = re.search(r"<main.*?</main>", response.text, re.S)
    assert match, response.text
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))).split())


def summary(response: httpx.Response) -> list[tuple[str, str]]:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', response.text, re.S)
    assert match, "no error summary"
    return [
        (anchor, html.unescape(message))
        for anchor, message in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', match.group(1))
    ]


def status_of(world: World, referral_id: str) -> tuple[ReferralStatus, int]:
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return referral.status, referral.version


def move(
    client: TestClient, referral_id: str, to: str, version: int, **fields: str
) -> httpx.Response:
    data = {"to_status": to, "version": str(version)}
    data.update({f"{to}-{name}": value for name, value in fields.items()})
    return post(client, f"/referrals/{referral_id}/status", data)


def new_referral(world: World, **options: object) -> str:
    with world.database.session() as session:
        return refer(session, world, **options).id  # type: ignore[arg-type]


# The referral page


def test_the_referral_page_shows_passport_service_needs_status_and_history(
    client: TestClient, world: World
) -> None:
    referral_id = new_referral(world, needs=("debt", "income_benefits"))
    provider, context = world.provider, context_of(world.provider)
    with world.database.session() as session:
        service.change_status(session, context, referral_id, S.RECEIVED, 1, actor=provider)
        service.change_status(session, context, referral_id, S.ACCEPTED, 2, actor=provider)
        service.record_contact_attempt(
            session,
            context,
            referral_id,
            method="phone",
            reached=False,
            actor=provider,
            note="Left a voicemail",
        )
    signed_in(client, world.clinician)
    response = client.get(f"/referrals/{referral_id}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Health passport" in page
    assert "Ada Lovelace" in page
    assert "Referral of Ada Lovelace Debt advice" in page
    # The referrer may open the person's record from here.
    assert f'<a href="/people/{world.person_id}" id="person-link">Ada Lovelace</a>' in (
        response.text
    )
    assert re.search(r"Needs Debt Income and benefits", page)
    assert "Status Accepted" in page
    assert '<p id="status"><strong class="nhsuk-tag nhsuk-tag--aqua-green">Accepted</strong>' in (
        response.text
    )
    assert "Shared with the service Has rent arrears and a county court letter" in page
    assert "Referred by Test " + world.clinician.email in page
    # The history: newest first, with who did what for which organisation.
    history = page[page.index("History") :]
    assert history.index("Contact attempt Phone: not reached. Left a voicemail") < history.index(
        "Status: Received → Accepted"
    )
    assert history.index("Status: Requested → Received") < history.index("Referral made and sent")
    assert f"Test {world.provider.email}, Leeds Advice Network (provider)" in history
    # Only the moves the lifecycle allows from accepted.
    assert "From accepted, the referral can go to in progress, cancelled or failed." in page
    buttons = re.findall(r'<button class="nhsuk-button[^"]*"[^>]*>([^<]+)</button>', response.text)
    assert [b for b in buttons if b in {move.button for move in MOVES.values()}] == [
        "Mark as in progress",
        "Cancel the referral",
        "Record that it failed",
    ]
    # Each change carries the version seen.
    assert response.text.count('name="version" value="3"') >= 4
    assert 'name="version" value="1"' not in response.text
    audit = list_events_of(world, "referral.read")
    assert audit[-1].subject_id == referral_id


def list_events_of(world: World, action: str) -> list[AuditEvent]:
    with world.database.session() as session:
        return list_events(session, action=action)


def test_no_such_referral_and_one_of_another_provider_are_not_found(
    client: TestClient, world: World
) -> None:
    referral_id = new_referral(world)
    signed_in(client, world.stranger)
    assert client.get(f"/referrals/{uuid.uuid4()}").status_code == 404
    response = client.get(f"/referrals/{referral_id}")
    assert response.status_code == 404
    assert "There is no referral with that reference among those you can see." in response.text
    response = move(client, referral_id, "accepted", 1)
    assert response.status_code == 404
    assert status_of(world, referral_id) == (S.REQUESTED, 1)
    assert client.get("/referrals/not-a-reference").status_code == 404


# Moves through the page


def test_a_provider_moves_a_referral_through_its_lifecycle(
    client: TestClient, world: World
) -> None:
    referral_id = new_referral(world)
    signed_in(client, world.provider)

    response = move(client, referral_id, "accepted", 1)
    assert response.status_code == 303
    assert response.headers["location"] == f"/referrals/{referral_id}?done=status#status"
    shown = client.get(response.headers["location"])
    page = text_of(shown)
    assert "Saved: the referral is now accepted." in page
    assert f'href="/people/{world.person_id}"' not in shown.text  # not their record to open

    # An illegal move names the current and the asked-for status, and keeps what was typed.
    response = move(client, referral_id, "rejected", 2, reason="We are too busy")
    assert response.status_code == 409
    assert summary(response) == [
        (
            "referral-status",
            "Cannot go from accepted to rejected: from accepted a referral can go to "
            "in-progress, cancelled or failed",
        )
    ]
    assert "What you typed" in text_of(response)
    assert "We are too busy" in text_of(response)
    assert status_of(world, referral_id) == (S.ACCEPTED, 2)

    # A move that needs something says what, next to the field, and keeps the rest.
    response = move(client, referral_id, "failed", 2, reason="Tried all week")
    assert response.status_code == 422
    assert summary(response) == [
        (
            "failed-failure_reason-1",
            "Choose why the referral failed: not_reached, declined, service_full, ineligible",
        )
    ]
    assert '<details class="nhsuk-details" id="status-failed" open>' in response.text
    assert ">Tried all week</textarea>" in response.text

    assert move(client, referral_id, "in-progress", 2).status_code == 303
    response = move(client, referral_id, "completed", 3, outcome="  ")
    assert response.status_code == 422
    assert summary(response) == [
        ("completed-outcome", "Say what the outcome was: what the person got from the service")
    ]
    response = move(
        client, referral_id, "completed", 3, outcome="Debt relief order: £9,000 written off."
    )
    assert response.status_code == 303
    assert status_of(world, referral_id) == (S.COMPLETED, 4)

    # The referrer sees every change the provider made.
    referrer = signed_in(TestClient(client.app), world.clinician)
    page = text_of(referrer.get(f"/referrals/{referral_id}"))
    assert "Status Completed" in page
    assert "Outcome: Debt relief order: £9,000 written off." in page
    for change in ("Requested → Accepted", "Accepted → In progress", "In progress → Completed"):
        assert f"Status: {change}" in page
    assert "The referral is completed: that is final." in page
    assert "Change the status" not in page


def test_declining_and_failing_need_their_reasons(client: TestClient, world: World) -> None:
    declined = new_referral(world)
    signed_in(client, world.provider)
    response = move(client, declined, "rejected", 1, reason="")
    assert response.status_code == 422
    assert summary(response) == [("rejected-reason", "Give the reason for rejecting the referral")]
    response = move(client, declined, "rejected", 1, reason="Outside the area we cover")
    assert response.status_code == 303
    with world.database.session() as session:
        referral = session.get(Referral, declined)
        assert referral is not None
        assert (referral.status, referral.status_reason) == (
            S.REJECTED,
            "Outside the area we cover",
        )

    failed = new_referral(world, service_id=BENEFITS_SERVICE, needs=("income_benefits",))
    assert move(client, failed, "accepted", 1).status_code == 303
    response = move(client, failed, "failed", 2, failure_reason="service_full", reason="Until May")
    assert response.status_code == 303
    with world.database.session() as session:
        referral = session.get(Referral, failed)
        assert referral is not None
        assert referral.status == S.FAILED
        assert referral.status_reason == "The service is full: Until May"
    page = text_of(client.get(f"/referrals/{failed}"))
    assert "Status Failed The service is full: Until May" in page


def test_a_stale_version_shows_the_change_and_keeps_what_was_typed(
    client: TestClient, app: FastAPI, world: World
) -> None:
    referral_id = new_referral(world)
    referrer = signed_in(client, world.clinician)
    provider = signed_in(TestClient(app), world.provider)
    # Both see version 1; the provider accepts it first.
    assert 'name="version" value="1"' in referrer.get(f"/referrals/{referral_id}").text
    assert move(provider, referral_id, "accepted", 1).status_code == 303

    response = move(referrer, referral_id, "cancelled", 1, reason="Moved to Bradford")
    assert response.status_code == 409
    assert summary(response)[0] == (
        "referral-status",
        "Someone else changed this referral while you were looking. It is now accepted. "
        "Nothing you typed is lost, but it is not saved: check the referral as it is now, then "
        "send your change again if it still applies.",
    )
    assert "Status Accepted" in text_of(response)
    assert '<details class="nhsuk-details" id="status-cancelled" open>' in response.text
    assert ">Moved to Bradford</textarea>" in response.text
    assert 'name="version" value="2"' in response.text
    assert status_of(world, referral_id) == (S.ACCEPTED, 2)

    # Sent again from the page as it is now, it is made.
    assert (
        move(referrer, referral_id, "cancelled", 2, reason="Moved to Bradford").status_code == 303
    )
    assert status_of(world, referral_id) == (S.CANCELLED, 3)

    # The follow-up date quotes the version too.
    other = new_referral(world)
    later = today_in_london() + timedelta(days=30)
    assert move(provider, other, "received", 1).status_code == 303
    response = post(
        referrer,
        f"/referrals/{other}/follow-up",
        {
            "version": "1",
            "follow_up-day": str(later.day),
            "follow_up-month": str(later.month),
            "follow_up-year": str(later.year),
            "follow_up-note": "Waiting for the landlord",
        },
    )
    assert response.status_code == 409
    assert (
        f'name="follow_up-day" type="text" inputmode="numeric" value="{later.day}"' in response.text
    )
    assert ">Waiting for the landlord</textarea>" in response.text


def test_a_change_that_loses_the_race_is_refused_and_the_referral_read_afresh(
    client: TestClient, world: World
) -> None:
    """Another writer commits between the version check and the write: the versioned UPDATE
    matches no row, nothing is written, and the page shows the referral as it is now."""
    referral_id = new_referral(world)
    signed_in(client, world.provider)
    raced: list[str] = []

    def another_writer(session: Session, *_: object) -> None:
        if raced or not any(
            isinstance(item, Referral) and item.id == referral_id for item in session.dirty
        ):
            return
        raced.append(referral_id)
        with world.database.engine.begin() as connection:
            connection.execute(
                update(Referral)
                .where(Referral.id == referral_id)
                .values(version=Referral.version + 1, status=S.RECEIVED)
            )

    event.listen(Session, "before_flush", another_writer)
    try:
        response = move(client, referral_id, "accepted", 1)
    finally:
        event.remove(Session, "before_flush", another_writer)
    assert raced == [referral_id]
    assert response.status_code == 409
    assert summary(response)[0][1].startswith(
        "Someone else changed this referral while you were looking. It is now received."
    )
    assert 'name="version" value="2"' in response.text
    assert status_of(world, referral_id) == (S.RECEIVED, 2)
    assert move(client, referral_id, "accepted", 2).status_code == 303


def test_contact_attempts_notes_follow_up_and_attendance(client: TestClient, world: World) -> None:
    referral_id = new_referral(
        world, service_id=WALKING_SERVICE, needs=("social_isolation",), is_social_prescription=True
    )
    # The walking group's organisation is not linked: the referrer records what it said.
    referrer = signed_in(client, world.link_worker)
    assert move(referrer, referral_id, "accepted", 1).status_code == 303

    response = post(referrer, f"/referrals/{referral_id}/contact-attempts", {"contact-note": "Hi"})
    assert response.status_code == 422
    assert summary(response) == [
        ("contact-method-1", "Choose how you tried to contact them"),
        ("contact-reached-1", "Say whether you reached them"),
    ]
    assert ">Hi</textarea>" in response.text
    response = post(
        referrer,
        f"/referrals/{referral_id}/contact-attempts",
        {"contact-method": "text_message", "contact-reached": "yes", "contact-note": "Replied"},
    )
    assert response.status_code == 303
    assert post(referrer, f"/referrals/{referral_id}/notes", {"note-text": " "}).status_code == 422
    response = post(referrer, f"/referrals/{referral_id}/notes", {"note-text": "Loves it"})
    assert response.status_code == 303
    page = text_of(referrer.get(f"/referrals/{referral_id}"))
    assert "Contact attempt Text message: reached. Replied" in page
    assert "Note Loves it" in page

    # The follow-up date: a real date, today or later.
    base = {"version": "2"}
    response = post(
        referrer,
        f"/referrals/{referral_id}/follow-up",
        {**base, "follow_up-day": "31", "follow_up-month": "2", "follow_up-year": "2030"},
    )
    assert response.status_code == 422
    assert summary(response) == [("follow_up-day", "The follow-up date must be a real date")]
    past = today_in_london() - timedelta(days=1)
    response = post(
        referrer,
        f"/referrals/{referral_id}/follow-up",
        {
            **base,
            "follow_up-day": str(past.day),
            "follow_up-month": str(past.month),
            "follow_up-year": str(past.year),
        },
    )
    assert response.status_code == 422
    assert summary(response) == [
        ("follow_up-day", f"Expected today ({today_in_london().isoformat()}) or later")
    ]
    later = today_in_london() + timedelta(days=21)
    response = post(
        referrer,
        f"/referrals/{referral_id}/follow-up",
        {
            **base,
            "follow_up-day": str(later.day),
            "follow_up-month": str(later.month),
            "follow_up-year": str(later.year),
        },
    )
    assert response.status_code == 303
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert referral.follow_up_on == later
        # Make the "still attending?" check due, as four weeks on.
        referral.attendance_check_on = today_in_london()
    page = referrer.get(f"/referrals/{referral_id}")
    assert "Is Ada still attending?" in text_of(page)
    response = post(referrer, f"/referrals/{referral_id}/attendance", {"version": "4"})
    assert response.status_code == 422
    assert summary(response) == [
        ("attendance-still_attending-1", "Say whether they are still attending")
    ]
    response = post(
        referrer,
        f"/referrals/{referral_id}/attendance",
        {"version": "4", "attendance-still_attending": "yes", "attendance-note": "Every week"},
    )
    assert response.status_code == 303
    page = text_of(referrer.get(f"/referrals/{referral_id}"))
    assert "Follow-up Still attending: yes. Every week" in page
    assert "Is Ada still attending?" not in page


# Wellbeing before and after


def test_outcome_scores_are_checked_item_by_item_and_the_change_shown(
    client: TestClient, world: World
) -> None:
    referral_id = new_referral(world)
    signed_in(client, world.clinician)
    path = f"/referrals/{referral_id}/outcomes/ons4"
    response = post(
        client,
        path,
        {
            "ons4-life_satisfaction": "11",
            "ons4-worthwhile": "",
            "ons4-happiness": "x",
            "ons4-anxiety": "6",
        },
    )
    assert response.status_code == 422
    assert summary(response) == [
        ("ons4-timing-1", "Choose whether these scores are from before or after the referral"),
        (
            "ons4-life_satisfaction",
            "The score for “Satisfied with life nowadays” must be a whole number from 0 to 10",
        ),
        (
            "ons4-worthwhile",
            "Enter a score for “Things done in life are worthwhile”: a whole number from 0 to 10",
        ),
        ("ons4-happiness", "The score for “Happy yesterday” must be a whole number from 0 to 10"),
    ]
    assert '<details class="nhsuk-details" id="ons4-form" open>' in response.text
    assert 'name="ons4-life_satisfaction" type="text" value="11"' in response.text
    assert 'name="ons4-anxiety" type="text" value="6"' in response.text

    before = {"life_satisfaction": "4", "worthwhile": "5", "happiness": "3", "anxiety": "6"}
    after = {"life_satisfaction": "7", "worthwhile": "5", "happiness": "2", "anxiety": "3"}
    for timing, scores in (("before", before), ("after", after)):
        data = {"ons4-timing": timing, **{f"ons4-{k}": v for k, v in scores.items()}}
        response = post(client, path, data)
        assert response.status_code == 303, summary(response)
    swemwbs = (
        "optimistic",
        "useful",
        "relaxed",
        "dealing_with_problems",
        "thinking_clearly",
        "close_to_others",
        "own_mind",
    )
    for timing, scores in (("before", (2, 3, 2, 3, 3, 2, 3)), ("after", (4, 3, 3, 4, 3, 3, 4))):
        data = {"swemwbs-timing": timing}
        data.update(
            {f"swemwbs-{key}": str(score) for key, score in zip(swemwbs, scores, strict=True)}
        )
        assert post(client, f"/referrals/{referral_id}/outcomes/swemwbs", data).status_code == 303
    response = client.get(f"/referrals/{referral_id}?done=swemwbs")
    page = text_of(response)
    assert "SWEMWBS scores recorded." in page
    assert "Satisfied with life nowadays Before 4 After 7 Change 4 → 7, +3 (better)" in page
    assert "Things done in life are worthwhile Before 5 After 5 Change 5 → 5, no change" in page
    assert "Happy yesterday Before 3 After 2 Change 3 → 2, \N{MINUS SIGN}1 (worse)" in page
    anxiety = "Anxious yesterday (lower is better) Before 6 After 3 Change 6 → 3"
    assert f"{anxiety}, \N{MINUS SIGN}3 (better)" in page
    assert "For anxiety a lower score is better." in page
    assert "Total (raw score, 7 to 35) Before 18 After 24 Change 18 → 24, +6 (better)" in page

    assert post(client, f"/referrals/{referral_id}/outcomes/phq9", {}).status_code == 404


# The caseload


def test_the_caseload_sorts_filters_and_pages(client: TestClient, world: World) -> None:
    today = today_in_london()
    with world.database.session() as session:
        debt = refer(session, world, today=today - timedelta(days=20)).id  # overdue by 6 days
        benefits = refer(
            session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",), today=today
        ).id
        other_person = refer(
            session, world, person_id=world.other_person_id, today=today - timedelta(days=3)
        ).id
        walking = refer(
            session,
            world,
            service_id=WALKING_SERVICE,
            needs=("social_isolation",),
            today=today - timedelta(days=1),
        ).id
        refer(session, world, requester=world.link_worker)  # the link worker's, not shown
        service.change_status(
            session, context_of(world.provider), benefits, S.ACCEPTED, 1, actor=world.provider
        )
        service.change_status(
            session,
            context_of(world.clinician),
            walking,
            S.CANCELLED,
            1,
            reason="Moved",
            actor=world.clinician,
        )
    signed_in(client, world.clinician)

    def listed(query: str = "") -> list[str]:
        response = client.get(f"/referrals{query}")
        assert response.status_code == 200, summary(response)
        return re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', response.text)

    # By default the open ones, soonest follow-up first.
    assert listed() == [debt, other_person, benefits]
    page = text_of(client.get("/referrals"))
    assert "3 referrals found, sorted by follow-up date, soonest first." in page
    assert "Overdue by 6 days" in page
    assert "1 follow-up is due" in page
    by_person = listed("?sort=person")  # Bob Ashworth, then Ada Lovelace's two
    assert by_person[0] == other_person
    assert set(by_person[1:]) == {debt, benefits}
    assert listed("?sort=service")[0] == benefits  # Benefits check, then Debt advice
    assert listed("?sort=status") == [debt, other_person, benefits]  # requested, accepted
    assert listed("?sort=updated")[0] in {benefits, other_person}
    assert listed("?status=cancelled") == [walking]
    assert set(listed("?status=cancelled&status=accepted")) == {walking, benefits}
    assert listed("?overdue=yes") == [debt]
    assert listed("?need=income_benefits") == [benefits]
    assert listed(f"?service={BENEFITS_SERVICE}") == [benefits]
    # The sort links keep the filters.
    response = client.get("/referrals?status=requested&sort=person")
    assert 'href="/referrals?status=requested&amp;sort=service"' in response.text
    assert 'aria-sort="ascending"' in response.text
    # Stacked rows on a phone: every cell carries its heading.
    assert (
        response.text.count('<span class="nhsuk-table__heading" aria-hidden="true">Service ') == 2
    )

    response = client.get("/referrals?status=lost&sort=sideways&need=unicorns&page=0")
    assert response.status_code == 422
    assert summary(response) == [
        ("status-1", "Choose statuses from the list"),
        ("need", "Choose a need from the list"),
        ("sort", "Choose how to sort from the list"),
        ("page", "The page must be a whole number from 1, not '0'"),
    ]


def test_the_caseload_pages(client: TestClient, world: World) -> None:
    with world.database.session() as session:
        made = [refer(session, world).id for _ in range(27)]
    signed_in(client, world.clinician)
    first = client.get("/referrals")
    assert "27 referrals found, sorted by follow-up date, soonest first; page 1 of 2." in text_of(
        first
    )
    assert 'href="/referrals?page=2" rel="next"' in first.text
    second = client.get("/referrals?page=2")
    ids = re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', first.text + second.text)
    assert sorted(ids) == sorted(made)
    assert client.get("/referrals?page=9").status_code == 200  # past the end: the last page


def test_referrers_only_see_the_caseload_and_providers_only_the_inbox(
    client: TestClient, world: World
) -> None:
    signed_in(client, world.provider)
    assert client.get("/referrals").status_code == 403
    assert client.get("/referrals/overdue").status_code == 403
    home = client.get("/").text
    assert "Referrals inbox" in home
    assert "Your referrals" not in home
    clinician = signed_in(TestClient(client.app), world.clinician)
    assert clinician.get("/referrals/inbox").status_code == 403
    home = clinician.get("/").text
    assert "Your referrals" in home
    assert "Follow-ups due" in home


# The checks due


def test_the_overdue_list_has_late_follow_ups_and_still_attending_checks(
    client: TestClient, world: World
) -> None:
    today = today_in_london()
    with world.database.session() as session:
        late = refer(session, world, today=today - timedelta(days=20)).id
        refer(session, world, today=today)  # not due
        walking = refer(
            session,
            world,
            service_id=WALKING_SERVICE,
            needs=("social_isolation",),
            is_social_prescription=True,
            today=today - timedelta(days=5),
        ).id
        # Accepted five weeks ago: "still attending?" from a week ago.
        service.change_status(
            session,
            context_of(world.clinician),
            walking,
            S.ACCEPTED,
            1,
            actor=world.clinician,
            today=today - timedelta(days=35),
        )
        colleagues = refer(
            session, world, requester=world.link_worker, today=today - timedelta(days=16)
        ).id
    signed_in(client, world.clinician)
    response = client.get("/referrals/overdue")
    assert response.status_code == 200
    page = text_of(response)
    follow_ups = page[
        page.index("Past their follow-up date") : page.index("Ask “still attending?”")
    ]
    assert re.findall(
        r"/referrals/([0-9a-f-]{36})",
        response.text.split("follow-ups-heading")[1].split("attendance-heading")[0],
    ) == [late]
    assert "Overdue by 6 days" in follow_ups
    attendance = page[page.index("Ask “still attending?” (1)") :]
    assert "Ada Lovelace" in attendance
    assert "Walking group" in attendance
    assert "Due for 7 days" in attendance
    # Everyone's in the organisation: the link worker's too.
    response = client.get("/referrals/overdue?whose=organisation")
    assert colleagues in response.text
    assert late in response.text
    assert client.get("/referrals/overdue?whose=nobody").status_code == 422


# The provider's inbox


def test_the_inbox_shows_the_organisations_referrals_and_only_what_is_shared(
    client: TestClient, world: World
) -> None:
    with world.database.session() as session:
        person = session.get(Person, world.person_id)
        assert person is not None
        person.communication_needs = "Hard of hearing: face her when speaking."
        person.phone = "07700 900123"
        person.email = "ada@example.org"
        person.no_telephone = True
        person.email_ok = False
        person.nhs_number = "9434765919"
        abuse = add_needs(session, world.person_id, ["domestic_abuse"])["domestic_abuse"]
        session.get(IdentifiedNeed, abuse).sensitive = True  # type: ignore[union-attr]
        world.needs["domestic_abuse"] = abuse
        debt = refer(session, world).id
        safety = refer(session, world, needs=("domestic_abuse",)).id
        draft = refer(session, world, draft=True).id
        walking = refer(session, world, service_id=WALKING_SERVICE, needs=("social_isolation",)).id
    signed_in(client, world.provider)
    response = client.get("/referrals/inbox")
    assert response.status_code == 200
    ids = re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', response.text)
    assert ids == [debt, safety]
    assert draft not in response.text
    assert walking not in response.text
    assert "Referrals to the services of Leeds Advice Network, oldest first." in text_of(response)

    page = text_of(client.get(f"/referrals/{debt}"))
    assert "Health passport" not in page
    assert "Contacting Ada Lovelace" in page
    assert "Communication needs Hard of hearing: face her when speaking." in page
    assert "Phone No telephone: do not phone or send text messages" in page
    assert "07700 900123" not in page
    assert "ada@example.org" not in page
    assert "943 476 5919" not in page
    assert "Need Debt" in page
    for hidden in ("Domestic abuse", "Income and benefits", "Social isolation"):
        assert hidden not in page, hidden
    # The referral for the sensitive need shows it, and the view is audited.
    page = text_of(client.get(f"/referrals/{safety}"))
    assert "Need Domestic abuse Sensitive" in page
    views = [
        (event.subject_id, json.loads(event.detail or ""))
        for event in list_events_of(world, "social_history.sensitive.view")
    ]
    # The inbox listed it (with the need), the referral's page showed it: each named by id.
    assert views == [
        (world.person_id, {"page": "referral.inbox", "shown": [safety, abuse]}),
        (world.person_id, {"page": "referral", "shown": [safety, abuse]}),
    ]

    # Filter by status.
    with world.database.session() as session:
        service.change_status(
            session,
            context_of(world.provider),
            debt,
            S.REJECTED,
            1,
            reason="Full",
            actor=world.provider,
        )
    ids = re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', client.get("/referrals/inbox").text)
    assert ids == [safety]
    response = client.get("/referrals/inbox?status=rejected")
    assert re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', response.text) == [debt]
    assert client.get("/referrals/inbox?status=draft").status_code == 422

    # Another provider's inbox is empty, and says why.
    stranger = signed_in(TestClient(client.app), world.stranger)
    response = stranger.get("/referrals/inbox")
    assert "0 referrals." in text_of(response)
    assert "Another Charity is not yet linked to any organisation" in text_of(response)


# The person's referrals, on the page about them


def in_england(moment: datetime) -> str:
    """A moment as the pages write it: 23 November 2026 at 14:05."""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def referral_rows(response: httpx.Response, table_id: str) -> list[dict[str, Any]]:
    """Each row of a referral table: the referral its link leads to, and the text of each
    cell by its column's heading."""
    table = re.search(rf'<table[^>]* id="{table_id}">(.*?)</table>', response.text, re.S)
    assert table, f"no table {table_id}"
    headings = re.findall(r'<th class="nhsuk-table__header"[^>]*>(.*?)</th>', table.group(1), re.S)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1).split("<tbody")[1], re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        texts = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell.split("</span>", 1)[1])).split())
            for cell in cells
        ]
        rows.append(
            {
                "links": re.findall(r'<a href="/referrals/([0-9a-f-]{36})">', row),
                **dict(zip([h.strip() for h in headings], texts, strict=True)),
            }
        )
    return rows


def test_the_person_page_shows_their_social_history_referrals_and_letters(
    client: TestClient, world: World
) -> None:
    today = today_in_london()
    with world.database.session() as session:
        history = record_response(
            session,
            context_of(world.clinician),
            world.person_id,
            CORE,
            {"debt": "behind"},
            ResponseSource.CLINICIAN,
            world.clinician.user_id,
        )
        taken = in_england(history.authored_at)
    late = new_referral(world, today=today - timedelta(days=20))  # follow-up 6 days ago
    accepted = new_referral(
        world, service_id=BENEFITS_SERVICE, needs=("income_benefits",), today=today
    )
    with world.database.session() as session:
        service.change_status(
            session, context_of(world.provider), accepted, S.ACCEPTED, 1, actor=world.provider
        )
        housing = next(
            b
            for b in letters.builtin_templates()
            if b.recipient_kind is RecipientKind.HOUSING_OFFICE
        )
        letter = letters.issue_letter(
            session,
            context_of(world.clinician),
            world.clinician,
            world.person_id,
            housing.template_id,
            1,
            "Dear Sir or Madam,\n\nAda is behind with her rent.\n\nYours faithfully,",
            letters.Recipient("Housing Options, Leeds City Council", "Merrion House\nLeeds"),
            job_title="GP",
        )
        letter_id, issued = letter.id, in_england(letter.created_at)
    signed_in(client, world.clinician)
    response = client.get(f"/people/{world.person_id}")
    assert response.status_code == 200
    page = response.text
    # After the details, in the order of the capabilities.
    assert (
        page.index('id="details-heading"')
        < page.index('<section id="social-history"')
        < page.index('<section id="referrals"')
        < page.index('<section id="letters"')
        < page.index('id="care-team"')
    )
    text = text_of(response)

    # The social history: when it was last taken, and what to do next.
    assert f"Last taken {taken}: Social history (core)." in text
    history_path = f"/people/{world.person_id}/social-history"
    assert re.search(
        rf'<a class="nhsuk-button"[^>]* href="{history_path}/new/social-history-core"'
        r"[^>]*>Take social history</a>",
        page,
    )
    assert f'href="{history_path}/new/domestic-abuse-screen">Screen: Domestic abuse' in page
    assert f'<a href="/people/{world.person_id}/needs">Needs and services to refer to</a>' in page

    # The referrals, the newest first: each links to itself, with its status; the late one
    # says how late.
    assert referral_rows(response, "person-referrals") == [
        {
            "links": [accepted],
            "Service": "Benefits check",
            "Needs": "Income and benefits",
            "Status": "Accepted",
            "Follow up by": f"{(today + timedelta(days=14)):%-d %B %Y}",
            "Referred": f"{today:%-d %B %Y}",
        },
        {
            "links": [late],
            "Service": "Debt advice",
            "Needs": "Debt",
            "Status": "Requested",
            "Follow up by": f"{(today - timedelta(days=6)):%-d %B %Y} Overdue by 6 days",
            "Referred": f"{today:%-d %B %Y}",  # made today, dated as if 20 days ago
        },
    ]
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue by 6 days</strong>' in page, (
        "the overdue tag"
    )
    assert f'<a href="/people/{world.person_id}/needs">Refer Ada to a service</a>' in page
    followed = text_of(client.get(f"/referrals/{accepted}"))
    assert "Referral of Ada Lovelace Benefits check" in followed
    assert "Status Accepted" in followed
    [read] = list_events_of(world, "referral.person.read")
    assert (read.subject_type, read.subject_id, read.user_id) == (
        "person",
        world.person_id,
        world.clinician.user_id,
    )
    assert json.loads(read.detail or "{}") == {"referral_ids": [accepted, late]}

    # The letter issued.
    letters_path = f"/people/{world.person_id}/letters"
    assert (
        f'<a href="{letters_path}/{letter_id}">{html.escape(housing.name)}</a> to Housing '
        f"Options, Leeds City Council, {issued}, by Test {world.clinician.email}"
    ) in page
    assert f'<a href="{letters_path}">Write a letter in support of Ada</a>' in page

    # The other person's page has none of Ada's.
    other = client.get(f"/people/{world.other_person_id}")
    assert "No referrals have been made for Bob yet." in text_of(other)
    assert "No letters have been issued about Bob yet." in text_of(other)
    for referral_id in (late, accepted):
        assert referral_id not in other.text


def test_the_referrals_of_a_person_are_only_for_those_who_may_see_them(
    world: World, make_user: Any
) -> None:
    first = new_referral(world)
    second = new_referral(world, requester=world.link_worker)
    new_referral(world, person_id=world.other_person_id)
    with world.database.session() as session:
        found = service.referrals_of_person(
            session, context_of(world.link_worker), world.person_id, actor=world.link_worker
        )
    assert [(item.id, item.person_name) for item in found] == [
        (second, "Ada Lovelace"),
        (first, "Ada Lovelace"),
    ]
    [read] = list_events_of(world, "referral.person.read")
    assert (read.subject_id, read.user_id) == (world.person_id, world.link_worker.user_id)
    assert json.loads(read.detail or "{}") == {"referral_ids": [second, first]}

    elsewhere = make_user(Role.CLINICIAN, organisation="Another Practice")
    outsider = Principal(
        display_name="Dr Elsewhere",
        organisation_id=elsewhere.organisation_id,
        organisation_name="Another Practice",
        roles=elsewhere.roles,
        user_id=elsewhere.user_id,
    )
    for principal in (outsider, world.provider):
        with world.database.session() as session, pytest.raises(PersonNotFound) as refused:
            service.referrals_of_person(
                session, context_of(principal), world.person_id, actor=principal
            )
        assert str(refused.value) == (
            f"no person with id {world.person_id!r} among those you can see"
        )
    with world.database.session() as session, pytest.raises(PersonNotFound):
        service.referrals_of_person(
            session, context_of(world.clinician), str(uuid.uuid4()), actor=world.clinician
        )
    assert len(list_events_of(world, "referral.person.read")) == 1  # refusals read nothing


# The home page's figures


def home_figures(response: httpx.Response) -> dict[str, str | None]:
    """Each card's title, with the figure it shows (None for a card without one)."""
    cards = re.findall(
        r'class="nhsuk-card__link" href="[^"]+">([^<]+)</a></h3>\s*'
        r'(?:<p class="[^"]*home-figure">([^<]+)</p>)?',
        response.text,
    )
    return {title: figure or None for title, figure in cards}


def test_the_home_page_counts_the_checks_due_and_the_referrals_to_open(
    client: TestClient, world: World
) -> None:
    today = today_in_london()
    with world.database.session() as session:
        refer(session, world, today=today - timedelta(days=20))  # follow-up 6 days ago
        refer(session, world, today=today)  # nothing due yet
        walking = refer(
            session,
            world,
            service_id=WALKING_SERVICE,
            needs=("social_isolation",),
            is_social_prescription=True,
            today=today - timedelta(days=5),
        ).id
        # Accepted five weeks ago: "still attending?" is due.
        service.change_status(
            session,
            context_of(world.clinician),
            walking,
            S.ACCEPTED,
            1,
            actor=world.clinician,
            today=today - timedelta(days=35),
        )
        refer(session, world, requester=world.link_worker, today=today - timedelta(days=16))
        opened = refer(session, world, requester=world.link_worker).id
        service.change_status(
            session, context_of(world.provider), opened, S.RECEIVED, 1, actor=world.provider
        )
    with world.database.session() as session:
        due = service.overdue(session, context_of(world.clinician), user_id=world.clinician.user_id)
    assert len(due) == 2
    figures = home_figures(signed_in(client, world.clinician).get("/"))
    assert figures["Follow-ups due"] == "2 checks due"
    assert figures["Your referrals"] is None
    with TestClient(client.app) as other:
        figures = home_figures(signed_in(other, world.link_worker).get("/"))
        assert figures["Follow-ups due"] == "1 check due"
    # The provider's inbox: three sent to the advice network's services and not yet opened
    # (the walking group is not theirs; the one received is opened).
    with TestClient(client.app) as other:
        figures = home_figures(signed_in(other, world.provider).get("/"))
        assert figures["Referrals inbox"] == "3 new referrals to open"
        assert "Follow-ups due" not in figures
    with TestClient(client.app) as other:
        figures = home_figures(signed_in(other, world.stranger).get("/"))
        assert figures["Referrals inbox"] == "0 new referrals to open"


# The app-wide handlers for errors a route leaves to them


@pytest.mark.parametrize(
    ("error", "api_status", "page_status"),
    [
        (StaleReferral("r1", 1, 2), 409, 409),
        (ReferralInputError({"reason": "give the reason"}), 400, 422),
        (ReferralNotFound("no referral 'r1' among those you can see"), 404, 404),
    ],
)
def test_referral_errors_reaching_the_app_are_mapped(
    app: FastAPI, error: Exception, api_status: int, page_status: int
) -> None:
    def fail() -> None:
        raise error

    app.add_api_route("/api/test-failure", fail)
    app.add_api_route("/test-failure", fail)
    with TestClient(app) as test_client:
        response = test_client.get("/api/test-failure")
        assert response.status_code == api_status
        assert response.json() == {"detail": str(error)}
        response = test_client.get("/test-failure")
        assert response.status_code == page_status
        assert response.headers["content-type"].startswith("text/html")
        # The page says it as a sentence: its first letter a capital.
        assert str(error)[1:] in html.unescape(response.text)


def test_a_stale_person_update_reaching_the_app_is_a_conflict(app: FastAPI) -> None:
    def fail() -> None:
        raise StalePersonUpdate("p1", "Ada Lovelace", 1, 2)

    app.add_api_route("/api/test-stale-person", fail)
    with TestClient(app) as test_client:
        response = test_client.get("/api/test-stale-person")
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
