"""Making referrals through the pages, on each database: the person's needs with the services
that suit them best (by need, distance from where they live, their age, accepting referrals),
what they want help with and what matters most; one consent for everything chosen, required
before any referral; a service not accepting referrals refused with others to choose instead;
the referrals sent with their follow-up dates; sensitive needs audited, and nothing for users
outside the care team."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_token, sign_in
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import Organisation, Role
from healthequity.directory import importer
from healthequity.directory.models import Service
from healthequity.directory.search import today_in_london
from healthequity.people.models import Person
from healthequity.referrals.models import Consent, Referral, ReferralStatus
from healthequity.referrals.pages import months_after
from healthequity.social_history import service as social_history
from healthequity.social_history.models import IdentifiedNeed, ResponseSource
from healthequity.store import Database
from healthequity.web.security import CSRF_FIELD

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
LSOA = "E01011229"
HOME = (53.639395, -1.782457)  # the LSOA's interior point
# (service id, organisation, name, needs, degrees north of home, maximum age)
SERVICES = (
    ("svc-debt-near", "Kirklees Advice", "Debt advice near", "debt", 0.005, ""),
    ("svc-clinic", "Kirklees Advice", "Benefits and debt clinic", "debt;income_benefits", 0.02, ""),
    ("svc-drop-in", "Money Help Trust", "Debt drop-in", "debt", 0.05, ""),
    ("svc-debt-far", "Money Help Trust", "Debt line far away", "debt", 0.15, ""),
    ("svc-full", "Kirklees Advice", "Debt clinic full", "debt", 0.01, ""),
    ("svc-youth", "Youth Money", "Young people's debt advice", "debt", 0.001, "25"),
    ("svc-food-bank", "Food Friends", "Food bank", "food", 0.003, ""),
    ("svc-meals", "Food Friends", "Community meals", "food", 0.03, ""),
    ("svc-safe", "Safe Homes", "Domestic abuse advice", "domestic_abuse", 0.01, ""),
)


@dataclass(frozen=True)
class Surgery:
    database: Database
    clinician: TestUser
    person_id: str

    def path(self, rest: str) -> str:
        return f"/people/{self.person_id}{rest}"


def _directory(session: object, folder: Path) -> None:
    sheet = folder / "services.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=importer.CSV_HEADER)
        writer.writeheader()
        for service_id, organisation, name, needs, north, maximum_age in SERVICES:
            writer.writerow(
                {
                    "organization_name": organisation,
                    "service_id": service_id,
                    "service_name": name,
                    "service_description": "A service for tests.",
                    "phone": "0113 496 0000",
                    "needs": needs,
                    "maximum_age": maximum_age,
                    "address_1": f"{service_id} house",
                    "city": "Huddersfield",
                    "postcode": "HD1 1AA",
                    "latitude": str(HOME[0] + north),
                    "longitude": str(HOME[1]),
                }
            )
    importer.import_csv(session, sheet)  # type: ignore[arg-type]


@pytest.fixture
def surgery(database: Database, make_user: MakeUser, tmp_path: Path) -> Surgery:
    clinician = make_user(Role.CLINICIAN)
    with database.session() as session:
        _directory(session, tmp_path)
        full = session.get(Service, "svc-full")
        assert full is not None
        full.accepting_referrals = False
        full.accepting_referrals_note = "Waiting list full"
        person = Person(
            id=str(uuid.uuid4()),
            given_name="Ada",
            family_name="Okafor",
            name_key="ada okafor",
            date_of_birth=date(1985, 3, 1),
            lsoa21_code=LSOA,
            phone="07700 900001",
            organisation_id=clinician.organisation_id,
        )
        session.add(person)
        session.flush()
        social_history.record_response(
            session,
            AuditContext(purpose="test"),
            person.id,
            CORE,
            {"debt": "behind", "food-worried": "LA28397-0", "hurt-by-someone-close": "now"},
            ResponseSource.CLINICIAN,
            clinician.user_id,
        )
    return Surgery(database, clinician, person.id)


def _post(client: TestClient, path: str, data: dict[str, object]) -> httpx.Response:
    return client.post(path, data={**data, CSRF_FIELD: csrf_token(client)}, follow_redirects=False)


def _summary(html: str) -> list[tuple[str, str]]:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert match, "no error summary"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', match.group(1))


def _offered(html: str, code: str) -> list[str]:
    return re.findall(rf'name="refer-{code}" type="checkbox" value="([^"]+)"', html)


def _count(database: Database, model: type[Consent] | type[Referral]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _needs(database: Database, person_id: str) -> dict[str, IdentifiedNeed]:
    with database.session() as session:
        return {
            need.need_code: need
            for need in session.scalars(
                select(IdentifiedNeed).where(IdentifiedNeed.person_id == person_id)
            )
        }


CHOSEN = {
    "help-debt": "yes",
    "help-food": "yes",
    "help-domestic_abuse": "no",
    "refer-debt": ["svc-debt-near", "svc-clinic"],
    "refer-food": "svc-food-bank",
    "matters_most": "debt",
}
CHOICES = "choice=debt%3Asvc-debt-near&choice=debt%3Asvc-clinic&choice=food%3Asvc-food-bank"


def _choose(client: TestClient, surgery: Surgery) -> str:
    response = _post(client, surgery.path("/needs"), {**CHOSEN, "action": "refer"})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


# The needs and their services.


def test_each_need_is_shown_with_the_services_that_suit_the_person_best(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    response = client.get(surgery.path("/needs"))
    assert response.status_code == 200
    page = response.text
    assert 'id="health-passport"' in page
    assert set(re.findall(r'<section class="nhsuk-card" id="need-([a-z_]+)"', page)) == {
        "debt",
        "food",
        "domestic_abuse",
    }
    debt = page.split('id="need-debt"', 1)[1].split("</section>", 1)[0]
    assert "Financial insecurity (finding) (SNOMED CT 1184702004)" in debt
    assert 'nhsuk-tag--orange">Need' in debt
    assert "Does Ada want help with debt?" in debt
    # Accepting referrals, for her age, nearest first; three of them.
    assert _offered(page, "debt") == ["svc-debt-near", "svc-clinic", "svc-drop-in"]
    assert "Kirklees Advice. 0.3 miles away" in debt
    assert _offered(page, "food") == ["svc-food-bank", "svc-meals"]
    assert _offered(page, "domestic_abuse") == ["svc-safe"]
    assert 'nhsuk-tag--purple">Sensitive' in page
    assert "Which matters most to Ada?" in page


def test_a_view_of_sensitive_needs_is_audited(
    client: TestClient, surgery: Surgery, database: Database
) -> None:
    sign_in(client, surgery.clinician)
    client.get(surgery.path("/needs"))
    with database.session() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "social_history.sensitive.view")
        )
    detail = json.loads(event.detail or "{}")
    assert detail == {
        "page": "needs",
        "shown": [_needs(database, surgery.person_id)["domestic_abuse"].id],
    }
    assert event.user_id == surgery.clinician.user_id


def test_more_services_for_a_need_keep_what_was_chosen(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    response = _post(
        client,
        surgery.path("/needs"),
        {"action": "more:debt", "help-debt": "yes", "refer-debt": "svc-clinic"},
    )
    assert response.status_code == 200
    assert _offered(response.text, "debt") == [
        "svc-debt-near",
        "svc-clinic",
        "svc-drop-in",
        "svc-debt-far",
    ]
    assert 'value="svc-clinic" checked' in response.text
    assert 'name="more" value="debt"' in response.text
    assert _needs(surgery.database, surgery.person_id)["debt"].wants_help is None


def test_what_the_person_wants_help_with_is_saved_and_the_choices_go_to_consent(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    location = _choose(client, surgery)
    assert location == surgery.path(f"/refer?{CHOICES}")
    needs = _needs(surgery.database, surgery.person_id)
    assert (needs["debt"].wants_help, needs["debt"].priority) == (True, 1)
    assert (needs["food"].wants_help, needs["food"].priority) == (True, None)
    assert (needs["domestic_abuse"].wants_help, needs["domestic_abuse"].priority) == (False, None)
    assert _count(surgery.database, Referral) == 0
    page = client.get(surgery.path("/needs")).text
    assert 'name="help-debt" type="radio" value="yes" checked' in page
    assert 'name="matters_most" type="radio" value="debt" checked' in page
    saved = _post(client, surgery.path("/needs"), {"help-food": "no", "action": "save"})
    assert saved.headers["location"] == surgery.path("/needs?saved=1")
    assert _needs(surgery.database, surgery.person_id)["food"].wants_help is False


def test_a_service_chosen_for_a_need_not_wanted_is_named_and_choices_kept(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    response = _post(
        client,
        surgery.path("/needs"),
        {
            "help-food": "no",
            "refer-food": "svc-meals",
            "refer-debt": "svc-clinic",
            "action": "refer",
        },
    )
    assert response.status_code == 422
    assert _summary(response.text) == [
        (
            "help-debt-1",
            "You chose a service for debt: choose yes if Ada wants help with it, or untick the "
            "service",
        ),
        (
            "help-food-1",
            "You chose a service for food: choose yes if Ada wants help with it, or untick the "
            "service",
        ),
    ]
    assert 'name="help-food" type="radio" value="no" checked' in response.text
    assert 'value="svc-clinic" checked' in response.text
    assert _needs(surgery.database, surgery.person_id)["food"].wants_help is None
    nothing = _post(client, surgery.path("/needs"), {"help-debt": "yes", "action": "refer"})
    assert nothing.status_code == 422
    assert [message for _, message in _summary(nothing.text)] == [
        "Choose at least one service to refer Ada to, or save without referring"
    ]


def test_the_services_slot_follows_the_answer_to_want_help(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    url = surgery.path("/needs/services/debt")
    hidden = _post(client, url, {"help-debt": "no", "services-shown": "debt"})
    assert hidden.status_code == 200
    assert "Not referring: Ada does not want help with debt." in hidden.text
    shown = _post(client, url, {"help-debt": "yes"})
    assert _offered(shown.text, "debt") == ["svc-debt-near", "svc-clinic", "svc-drop-in"]
    unchanged = _post(client, url, {"help-debt": "yes", "services-shown": "debt"})
    assert unchanged.status_code == 204
    assert _post(client, surgery.path("/needs/services/housing"), {}).status_code == 404


# Consent, then the referrals.


def test_the_consent_page_says_what_is_shared_with_whom_for_what_until_when(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    response = client.get(_choose(client, surgery))
    assert response.status_code == 200
    page = response.text
    assert re.findall(r"Shared with ([^<]+)</h2>", page) == ["Kirklees Advice", "Food Friends"]
    advice = page.split("Shared with Kirklees Advice", 1)[1].split("Shared with Food Friends")[0]
    assert "Debt advice near, for debt<br>Benefits and debt clinic, for debt" in advice
    assert (
        "Ada Okafor&#39;s name; how to contact them, as they prefer (phone calls, text "
        "messages, emails, letters); the needs the referral is for (debt)" in advice
    )
    assert "So that Kirklees Advice can contact Ada and help with debt" in advice
    until = months_after(today_in_london(), 6)
    assert f'<option value="6" selected>6 months, until {until.day} {until:%B %Y}</option>' in page
    assert "Ada agrees to share this information with Kirklees Advice and Food Friends" in page
    assert "Send 3 referrals" in page
    assert _count(surgery.database, Consent) == 0


def test_consent_is_required_before_any_referral(client: TestClient, surgery: Surgery) -> None:
    sign_in(client, surgery.clinician)
    _choose(client, surgery)
    choices = ["debt:svc-debt-near", "debt:svc-clinic", "food:svc-food-bank"]
    response = _post(
        client, surgery.path("/refer"), {"choice": choices, "keep": "6", "note-1": "Bailiffs"}
    )
    assert response.status_code == 422
    assert _summary(response.text) == [
        (
            "agreed",
            "Confirm that Ada agrees to share this information: without their agreement, do "
            "not refer",
        )
    ]
    assert ">Bailiffs</textarea>" in response.text
    assert (_count(surgery.database, Consent), _count(surgery.database, Referral)) == (0, 0)


def test_once_the_person_agrees_consent_is_recorded_and_the_referrals_sent(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    _choose(client, surgery)
    response = _post(
        client,
        surgery.path("/refer"),
        {
            "choice": ["debt:svc-debt-near", "debt:svc-clinic", "food:svc-food-bank"],
            "keep": "12",
            "agreed": "yes",
            "note-1": "  Has a letter from bailiffs.  ",
            "social-3": "yes",
        },
    )
    assert response.status_code == 303, response.text
    today = today_in_london()
    needs = _needs(surgery.database, surgery.person_id)
    with surgery.database.session() as session:
        consents = {c.recipient_name: c for c in session.scalars(select(Consent))}
        assert sorted(consents) == ["Food Friends", "Kirklees Advice"]
        assert {c.expires_on for c in consents.values()} == {months_after(today, 12)}
        assert consents["Food Friends"].purpose == (
            "So that Food Friends can contact Ada and help with food"
        )
        referrals = {r.service_id: r for r in session.scalars(select(Referral))}
        assert sorted(referrals) == ["svc-clinic", "svc-debt-near", "svc-food-bank"]
        near, clinic, food = (
            referrals[s] for s in ("svc-debt-near", "svc-clinic", "svc-food-bank")
        )
        assert {r.status for r in referrals.values()} == {ReferralStatus.REQUESTED}
        assert near.consent_id == clinic.consent_id == consents["Kirklees Advice"].id
        assert food.consent_id == consents["Food Friends"].id
        assert near.shared_note == "Has a letter from bailiffs."
        assert clinic.shared_note is None
        assert (near.is_social_prescription, food.is_social_prescription) == (False, True)
        assert [n.identified_need_id for n in near.needs] == [needs["debt"].id]
        assert [n.identified_need_id for n in food.needs] == [needs["food"].id]
        assert {r.follow_up_on for r in referrals.values()} == {today + timedelta(days=14)}
        assert {r.requester_user_id for r in referrals.values()} == {surgery.clinician.user_id}
    location = response.headers["location"]
    assert location.startswith(surgery.path("/refer/sent?referral="))
    sent = client.get(location)
    assert sent.status_code == 200
    follow_up = today + timedelta(days=14)
    cell = r"\s*<td[^>]*>([^<]+)</td>"
    rows = re.findall(rf'<a href="/referrals/([0-9a-f-]+)">([^<]+)</a></td>{cell}{cell}', sent.text)
    assert [(name, needs_text, when) for _, name, needs_text, when in rows] == [
        ("Debt advice near", "Debt", f"{follow_up.day} {follow_up:%B %Y}"),
        ("Benefits and debt clinic", "Debt", f"{follow_up.day} {follow_up:%B %Y}"),
        ("Food bank", "Food (social prescription)", f"{follow_up.day} {follow_up:%B %Y}"),
    ]
    assert "3 referrals sent" in sent.text


def test_a_service_not_accepting_referrals_is_refused_with_others_to_choose(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    _choose(client, surgery)
    response = client.get(surgery.path("/refer?choice=debt%3Asvc-full"))
    page = response.text
    assert _summary(page) == [
        (
            "service-1",
            "Debt clinic full is not accepting referrals now (Waiting list full): choose another "
            "service",
        )
    ]
    alternatives = re.findall(r'<a href="([^"]+)">Choose ([^<]+) instead</a>', page)
    assert [name for _, name in alternatives] == [
        "Debt advice near",
        "Benefits and debt clinic",
        "Debt drop-in",
    ]
    assert alternatives[0][0] == surgery.path("/refer?choice=debt%3Asvc-debt-near")
    assert 'name="agreed"' not in page  # nothing to agree to yet
    refused = _post(
        client, surgery.path("/refer"), {"choice": "debt:svc-full", "keep": "6", "agreed": "yes"}
    )
    assert refused.status_code == 422
    assert "Debt clinic full is not accepting referrals now" in refused.text
    assert (_count(surgery.database, Consent), _count(surgery.database, Referral)) == (0, 0)
    instead = client.get(alternatives[0][0].replace("&amp;", "&"))
    assert instead.status_code == 200
    assert 'name="agreed"' in instead.text


def test_a_need_the_person_does_not_want_help_with_cannot_be_referred(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    response = client.get(surgery.path("/refer?choice=debt%3Asvc-debt-near"))
    assert [message for _, message in _summary(response.text)] == [
        "Ada has not said they want help with debt: ask them, then choose again"
    ]
    assert 'name="agreed"' not in response.text


def test_referrals_that_cannot_all_be_made_leave_nothing_behind(
    client: TestClient, surgery: Surgery, database: Database
) -> None:
    """Only signed-in users may record consent: a clinician's API token gets past the pages'
    checks, then the first consent is refused, and nothing of the set is kept."""
    sign_in(client, surgery.clinician)
    _choose(client, surgery)
    with database.session() as session:
        organisation = session.get(Organisation, surgery.clinician.organisation_id)
        assert organisation is not None
        token = auth_service.create_api_token(
            session, AuditContext(), name="test", organisation=organisation, roles=[Role.CLINICIAN]
        ).secret
    client.cookies.clear()
    response = client.post(
        surgery.path("/refer"),
        data={"choice": ["debt:svc-debt-near", "food:svc-food-bank"], "keep": "6", "agreed": "yes"},
        headers={"Authorization": f"Bearer {token}"},
        follow_redirects=False,
    )
    assert response.status_code == 409
    assert "signed-in user" in response.text
    assert (_count(database, Consent), _count(database, Referral)) == (0, 0)


def test_users_outside_the_care_team_cannot_see_needs_or_refer(
    client: TestClient, surgery: Surgery, make_user: MakeUser
) -> None:
    sign_in(client, surgery.clinician)
    _choose(client, surgery)
    client.cookies.clear()
    sign_in(client, make_user(Role.CLINICIAN, organisation="Another Practice"))
    for response in (
        client.get(surgery.path("/needs")),
        client.get(surgery.path(f"/refer?{CHOICES}")),
        _post(client, surgery.path("/refer"), {"choice": "debt:svc-debt-near", "agreed": "yes"}),
        _post(client, surgery.path("/needs"), CHOSEN),
        client.get(surgery.path("/refer/sent?referral=x")),
    ):
        assert response.status_code == 403
        assert "Domestic abuse" not in response.text
        assert "Financial insecurity" not in response.text
    assert (_count(surgery.database, Consent), _count(surgery.database, Referral)) == (0, 0)


def test_the_sent_page_shows_only_this_persons_referrals(
    client: TestClient, surgery: Surgery
) -> None:
    sign_in(client, surgery.clinician)
    missing = client.get(surgery.path(f"/refer/sent?referral={uuid.uuid4()}"))
    assert missing.status_code == 404
