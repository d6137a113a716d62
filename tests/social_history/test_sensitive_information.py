"""Sensitive information, view by view and viewer by viewer, through the real app.

Domestic abuse, safeguarding and immigration answers and needs are visible only to the
clinical users (clinicians, link workers) of the person's care team; a provider sees a
sensitive need only on a referral made to it for that need; and every view that shows one
writes an audit event naming the records shown (never what they say).

One person, held by a practice, answered the core social history: behind with payments (a
debt need), hurt by someone close now (domestic abuse, sensitive) and waiting for a decision
on asylum (an immigration need, sensitive). They were referred to a domestic abuse service
for the one, and to a debt service for the other, and a letter naming the abuse was issued.
Each viewer opens each view; the table says what each must see, on each database.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import sign_in
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory import curation
from healthequity.letters import service as letters
from healthequity.letters.models import RecipientKind
from healthequity.people import service as people
from healthequity.people.schemas import PersonDetails
from healthequity.referrals import service as referrals
from healthequity.social_history import service
from healthequity.social_history.instruments import list_instruments
from healthequity.social_history.models import ResponseSource
from healthequity.store import Database

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
PRACTICE = "Harehills Surgery"
ANSWERS = {"debt": "behind", "hurt-by-someone-close": "now", "legal-or-immigration": "asylum"}
SETUP = AuditContext(purpose="test set-up")
SENSITIVE_VIEW = "social_history.sensitive.view"

# What a view shows when it shows the sensitive content, case-folded: the needs' names and
# SNOMED CT findings, the answers in words, the free text of the referral for the abuse
# and of its consent, and the letter (which names the need and its finding).
ABUSE, IMMIGRATION = "abuse", "immigration"
MARKERS = {
    ABUSE: (
        "domestic abuse",
        "victim of intimate partner abuse",
        "yes, and it is still happening",
        "partner checks her phone",
    ),
    IMMIGRATION: (
        "legal and immigration advice",
        "asylum seeker awaiting decision on refugee status",
        "waiting for a decision on asylum",
    ),
}
# The title of the domestic abuse screen, which every clinician is offered: not about her.
NOT_ABOUT_HER = ("domestic abuse: routine enquiry",)


@dataclass(frozen=True)
class Scene:
    database: Database
    person_id: str
    response_id: str
    abuse_referral_id: str
    debt_referral_id: str
    abuse_letter_id: str
    template_id: str
    abuse_service_id: str
    users: dict[str, TestUser]
    # What may be named in an audit event of a sensitive view, by what it is about.
    records: dict[str, set[str]]


def _principal(user: TestUser, organisation: str) -> Principal:
    return Principal(
        display_name=f"Test {user.email}",
        organisation_id=user.organisation_id,
        organisation_name=organisation,
        roles=user.roles,
        user_id=user.user_id,
        email=user.email,
    )


def _directory_service(session: Any, organisation: str, name: str, need: str) -> tuple[str, str]:
    """A directory organisation running one service for `need`: (organisation id, service id)."""
    organization = curation.create_organization(
        session, SETUP, curation.OrganizationEdit(name=organisation)
    )
    found = curation.create_service(
        session,
        SETUP,
        organization.id,
        curation.ServiceEdit(
            name=name, description=f"{name} (test record).", needs=[need], accepting_referrals=True
        ),
    )
    return organization.id, found.id


def _refer(
    session: Any,
    clinician: Principal,
    person_id: str,
    service_id: str,
    need_id: str,
    shared: str,
    note: str,
    *,
    today: date | None = None,
) -> str:
    consent = referrals.record_consent(
        session,
        clinician.audit_context("set-up"),
        person_id=person_id,
        service_id=service_id,
        shared_information=shared,
        purpose="So that the service can contact her and help",
        expires_on=date.today() + timedelta(days=180),
        recorded_by=clinician,
    )
    return referrals.refer_person(
        session,
        clinician.audit_context("set-up"),
        person_id,
        service_id,
        [need_id],
        consent.id,
        clinician,
        note,
        today=today,
    ).id


def _letter(
    session: Any, clinician: Principal, person_id: str, template_id: str, needs: set[str]
) -> str:
    context = clinician.audit_context("set-up")
    recipient = letters.Recipient("Housing Options", "Merrion House\nLeeds\nLS2 8BB")
    draft = letters.draft_letter(
        session,
        context,
        clinician,
        person_id,
        template_id,
        "",
        recipient,
        job_title="GP",
        need_codes=needs,
    )
    return letters.issue_letter(
        session,
        context,
        clinician,
        person_id,
        draft.template_id,
        draft.template_version,
        draft.text,
        recipient,
        job_title="GP",
    ).id


@pytest.fixture
def scene(database: Database, make_user: Callable[..., TestUser]) -> Scene:
    users = {
        "care team clinician": make_user(Role.CLINICIAN, organisation=PRACTICE),
        "clinician of another practice": make_user(Role.CLINICIAN, organisation="Other Surgery"),
        "care team link worker": make_user(Role.LINK_WORKER, organisation="Community Hub"),
        "administrator": make_user(Role.ADMIN, organisation="The ICB"),
        "abuse service provider": make_user(Role.PROVIDER, organisation="Safe Haven"),
        "debt service provider": make_user(Role.PROVIDER, organisation="Money Matters"),
    }
    clinician = _principal(users["care team clinician"], PRACTICE)
    context = clinician.audit_context("set-up")
    template_id = next(
        b.template_id
        for b in letters.builtin_templates()
        if b.recipient_kind is RecipientKind.HOUSING_OFFICE
    )
    with database.session() as session:
        person = people.create_person(
            session,
            context,
            PersonDetails(given_name="Amina", family_name="Yusuf", postcode="LS8 3PX"),
            clinician.organisation_id,
        )
        # The link worker is of another organisation, in the care team by name.
        people.add_care_team_member(
            session, context, person.id, users["care team link worker"].user_id
        )
        response = service.record_response(
            session, context, person.id, CORE, ANSWERS, ResponseSource.CLINICIAN, clinician.user_id
        )
        needs = {n.need_code: n for n in service.needs_of_person(session, person.id, True)}
        abuse_org, abuse_service = _directory_service(
            session, "Safe Haven", "Safe Haven outreach", "domestic_abuse"
        )
        debt_org, debt_service = _directory_service(
            session, "Money Matters", "Money Matters advice", "debt"
        )
        for provider, directory_id in (
            ("abuse service provider", abuse_org),
            ("debt service provider", debt_org),
        ):
            referrals.link_provider(session, SETUP, users[provider].organisation_id, directory_id)
        abuse_referral = _refer(
            session,
            clinician,
            person.id,
            abuse_service,
            needs["domestic_abuse"].id,
            "her name, her mobile number and her need for help with domestic abuse",
            "Partner checks her phone: text first, and only on weekday mornings.",
        )
        debt_referral = _refer(
            session,
            clinician,
            person.id,
            debt_service,
            needs["debt"].id,
            "her name, her mobile number and her need for help with debt",
            "Behind with council tax since the spring.",
        )
        abuse_letter = _letter(
            session, clinician, person.id, template_id, {"debt", "domestic_abuse"}
        )
        _letter(session, clinician, person.id, template_id, {"debt"})
        return Scene(
            database,
            person.id,
            response.id,
            abuse_referral,
            debt_referral,
            abuse_letter,
            template_id,
            abuse_service,
            users,
            {
                ABUSE: {
                    needs["domestic_abuse"].id,
                    abuse_referral,
                    abuse_letter,
                    response.id,
                    "hurt-by-someone-close",
                },
                IMMIGRATION: {needs["legal_immigration"].id, response.id, "legal-or-immigration"},
            },
        )


# The views, each an address to get.
VIEWS: dict[str, Callable[[Scene], str]] = {
    "social history": lambda s: f"/people/{s.person_id}/social-history",
    "answers": lambda s: f"/people/{s.person_id}/social-history/responses/{s.response_id}",
    "needs": lambda s: f"/people/{s.person_id}/needs",
    "abuse referral": lambda s: f"/referrals/{s.abuse_referral_id}",
    "debt referral": lambda s: f"/referrals/{s.debt_referral_id}",
    "provider inbox": lambda s: "/referrals/inbox",
    "letter form": lambda s: f"/people/{s.person_id}/letters/new?template_id={s.template_id}",
    "letter": lambda s: f"/people/{s.person_id}/letters/{s.abuse_letter_id}",
    "letters API": lambda s: f"/api/people/{s.person_id}/letters",
    "FHIR Observation": lambda s: f"/fhir/Observation?patient={s.person_id}",
    "FHIR Condition": lambda s: f"/fhir/Condition?patient={s.person_id}",
    "FHIR QuestionnaireResponse": lambda s: f"/fhir/QuestionnaireResponse?patient={s.person_id}",
    "FHIR ServiceRequest": lambda s: f"/fhir/ServiceRequest?patient={s.person_id}",
    "audit log": lambda s: "/admin/audit",
}
VIEWERS = (
    "care team clinician",
    "clinician of another practice",
    "care team link worker",
    "administrator",
    "abuse service provider",
    "debt service provider",
)
BOTH, ABUSE_ONLY = frozenset({ABUSE, IMMIGRATION}), frozenset({ABUSE})
NOTHING: frozenset[str] = frozenset()
# What a viewer gets: refused (403) or told there is no such thing (404), seeing nothing; or
# the view (200) with no sensitive content, with the abuse only, or with all of it.
CELLS = {
    "403": (403, NOTHING),
    "404": (404, NOTHING),
    "none": (200, NOTHING),
    "abuse": (200, ABUSE_ONLY),
    "all": (200, BOTH),
}
# For each view, what each viewer gets, in the order of VIEWERS.
# fmt: off
TABLE: dict[str, tuple[str, ...]] = {
    #                             clinician outsider link worker admin  abuse svc debt svc
    "social history":             ("none",  "403",   "none",     "403", "403",    "403"),
    "answers":                    ("all",   "403",   "all",      "403", "403",    "403"),
    "needs":                      ("all",   "403",   "all",      "403", "403",    "403"),
    "abuse referral":             ("abuse", "404",   "abuse",    "none", "abuse", "404"),
    "debt referral":              ("none",  "404",   "none",     "none", "404",   "none"),
    "provider inbox":             ("403",   "403",   "403",      "403", "abuse",  "none"),
    "letter form":                ("all",   "403",   "all",      "none", "403",   "403"),
    "letter":                     ("abuse", "403",   "abuse",    "404", "403",    "403"),
    "letters API":                ("abuse", "403",   "abuse",    "none", "403",   "403"),
    "FHIR Observation":           ("all",   "none",  "all",      "none", "abuse", "none"),
    "FHIR Condition":             ("all",   "none",  "all",      "none", "abuse", "none"),
    "FHIR QuestionnaireResponse": ("all",   "none",  "all",      "403", "403",    "403"),
    "FHIR ServiceRequest":        ("abuse", "none",  "abuse",    "none", "abuse", "none"),
    "audit log":                  ("403",   "403",   "403",      "none", "403",   "403"),
}
# fmt: on
CASES = [
    pytest.param(view, viewer, *CELLS[TABLE[view][column]], id=f"{view} | {viewer}")
    for view in VIEWS
    for column, viewer in enumerate(VIEWERS)
]


def sensitive_in(text: str) -> frozenset[str]:
    """Which sensitive content a page, a JSON answer or an audit event's detail shows."""
    flat = html.unescape(text).casefold()
    for phrase in NOT_ABOUT_HER:
        flat = flat.replace(phrase, "")
    return frozenset(kind for kind, markers in MARKERS.items() if any(m in flat for m in markers))


def _sensitive_views(database: Database, user_id: int, after: int) -> list[AuditEvent]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.id > after,
                    AuditEvent.action == SENSITIVE_VIEW,
                    AuditEvent.user_id == user_id,
                )
                .order_by(AuditEvent.id)
            )
        )


def _last_event_id(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.max(AuditEvent.id))) or 0


@pytest.mark.parametrize(("view", "viewer", "status", "expected"), CASES)
def test_who_sees_sensitive_information_where(
    scene: Scene,
    client: TestClient,
    view: str,
    viewer: str,
    status: int,
    expected: frozenset[str],
) -> None:
    user = scene.users[viewer]
    sign_in(client, user)
    before = _last_event_id(scene.database)
    response = client.get(VIEWS[view](scene))
    assert response.status_code == status, response.text[:2000]
    assert sensitive_in(response.text) == expected

    # Shown: audited, naming the records shown (their ids), never what they say.
    events = _sensitive_views(scene.database, user.user_id, before)
    assert bool(events) == bool(expected), [event.detail for event in events]
    named: set[str] = set()
    for event in events:
        assert (event.subject_type, event.subject_id) == ("person", scene.person_id)
        assert sensitive_in(event.detail or "") == NOTHING, event.detail
        detail = json.loads(event.detail or "{}")
        assert detail["shown"], detail
        named |= set(detail["shown"])
    for kind in expected:
        assert named & scene.records[kind], (kind, named)
    assert named <= scene.records[ABUSE] | scene.records[IMMIGRATION], named


def test_a_colleague_of_the_referrer_outside_the_care_team_sees_the_referral_without_it(
    scene: Scene, client: TestClient, make_user: Callable[..., TestUser]
) -> None:
    """The care team's link worker referred her for the abuse a month ago; a colleague of
    theirs, not in her care team, follows up the organisation's referrals: the referral is
    theirs to follow up, but not the need, nor what was written about it."""
    link_worker = _principal(scene.users["care team link worker"], "Community Hub")
    colleague = make_user(Role.LINK_WORKER, organisation="Community Hub")
    with scene.database.session() as session:
        need_id = next(
            need.id
            for need in service.needs_of_person(session, scene.person_id, True)
            if need.need_code == "domestic_abuse"
        )
        referral_id = _refer(
            session,
            link_worker,
            scene.person_id,
            scene.abuse_service_id,
            need_id,
            "her name and her need for help with domestic abuse",
            "Partner checks her phone: write to the library instead.",
            today=date.today() - timedelta(days=30),
        )
    sign_in(client, colleague)
    before = _last_event_id(scene.database)
    due = client.get("/referrals/overdue?whose=organisation")
    assert due.status_code == 200
    assert referral_id in due.text
    assert sensitive_in(due.text) == NOTHING
    page = client.get(f"/referrals/{referral_id}")
    assert page.status_code == 200
    assert sensitive_in(page.text) == NOTHING
    assert "Withheld: the referral is also for a sensitive need" in html.unescape(page.text)
    assert _sensitive_views(scene.database, colleague.user_id, before) == []
    # What the list holds: the need for the link worker who referred her, in her care team
    # (audited, by id), not for the colleague.
    colleague_principal = _principal(colleague, "Community Hub")
    with scene.database.session() as session:
        for viewer, codes in ((colleague_principal, ()), (link_worker, ("domestic_abuse",))):
            [check] = referrals.overdue(
                session,
                viewer.audit_context("test"),
                organisation_id=viewer.organisation_id,
                viewer=viewer,
            )
            assert (check.referral.id, check.referral.need_codes) == (referral_id, codes)
    assert _sensitive_views(scene.database, colleague.user_id, before) == []
    [event] = _sensitive_views(scene.database, scene.users["care team link worker"].user_id, before)
    assert json.loads(event.detail or "{}") == {
        "page": "referral.overdue",
        "shown": [referral_id, need_id],
    }


# Words of questions about safeguarding (feeling safe; being hurt, threatened, afraid or
# controlled; abuse or violence) and immigration.
SAFEGUARDING_WORDS = ("safe", "hurt", "threat", "afraid", "control", "abuse", "violen")
IMMIGRATION_WORDS = ("immigra", "asylum", "refugee")


def test_every_question_about_safety_abuse_or_immigration_is_sensitive() -> None:
    """Safeguarding included: each question of the shipped instruments that asks about
    feeling safe, being hurt, threatened, afraid or controlled, or immigration (in its text
    or its answers) is flagged sensitive, and so is every need its answers show."""
    asked = [
        (instrument, question)
        for instrument in list_instruments()
        for question in instrument.answerable()
        if any(
            word in " ".join([question.text, *(c.display for c in question.choices)]).casefold()
            for word in SAFEGUARDING_WORDS + IMMIGRATION_WORDS
        )
    ]
    assert sorted(question.link_id for _, question in asked) == [
        "afraid",
        "feel-safe",
        "hurt-by-someone-close",
        "hurt-or-controlled",
        "legal-or-immigration",
        "safe-at-home",
    ]
    for instrument, question in asked:
        assert question.sensitive, (instrument.url, question.link_id)
        rules = [rule for rule in instrument.rules if rule.link_id == question.link_id]
        assert all(rule.sensitive for rule in rules), (instrument.url, question.link_id)
