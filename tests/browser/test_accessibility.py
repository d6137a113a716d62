"""Every page of the people, social history, referrals and letters capabilities passes axe (no
serious or critical violations), in each state that changes its markup, where the other
browser tests do not check it already: the empty lists, the error summary after a form sent
with something wrong, someone else's change (409), the states only seen without JavaScript,
each role's view of the person page, and the lists and the person page at 375 px, where
nothing may scroll sideways either.

The other browser tests (test_people, test_social_history, test_referrals, test_letters)
check the pages on their happy paths; VISITS here lists the rest, one line a page and state,
each with the demo user who sees it and the address or the steps that lead there. A failure
names the page and state. Each page is photographed, full length, to
`test-artifacts/accessibility/` for people to look at.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares. Before the visits, the test adds
what the demo data lack: answers a person sent from their own phone (waiting for review),
two unused links, a clinician with no referrals yet and a provider organisation not linked
to the directory (for the empty lists).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from test_shell import (
    ARTIFACTS,
    CLINICIAN,
    DESKTOP,
    PHONE,
    Checks,
    Server,
    _assert_accessible,
    _assert_no_horizontal_scroll,
    _new_page,
    _sign_in,
    axe_source,  # noqa: F401 (a fixture)
    browser,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.demo import DEMO_PASSWORD, DEMO_USERS, DemoUser
from healthequity.auth.models import OrganisationKind, Role
from healthequity.directory.models import Service, ServiceStatus
from healthequity.directory.search import today_in_london
from healthequity.letters.service import builtin_templates
from healthequity.people.demo import DEMO_PEOPLE, demo_person_id
from healthequity.people.models import CareTeamMember, Person
from healthequity.referrals.models import (
    OutcomeMeasure,
    ProviderLink,
    Referral,
    ReferralStatus,
)
from healthequity.social_history import service as social_history
from healthequity.social_history.instruments import FHIR_BASE
from healthequity.store import Database

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "accessibility"
PAGE_SCRIPTS = re.compile(r"\.m?js(\?.*)?$")
CORE = f"{FHIR_BASE}/Questionnaire/social-history-core"
HOUSING_LETTER = "Supporting a housing application or repair"
LINK_WORKER = next(user for user in DEMO_USERS if user.roles == (Role.LINK_WORKER,))
PROVIDER = next(user for user in DEMO_USERS if user.roles == (Role.PROVIDER,))
ORG_ADMIN = next(user for user in DEMO_USERS if user.roles == (Role.ORG_ADMIN,))
ADMIN = next(user for user in DEMO_USERS if user.roles == (Role.ADMIN,))
# Added by the test: a clinician with no referrals yet, and a provider adviser whose
# organisation is linked to nothing in the directory; both see empty lists.
NEW_CLINICIAN = DemoUser(
    "new.clinician@test.healthequity.test",
    "Dr Lee Newman (test)",
    CLINICIAN.organisation,
    (Role.CLINICIAN,),
)
UNLINKED_PROVIDER = DemoUser(
    "unlinked.adviser@test.healthequity.test",
    "Kim Unlinked (test adviser)",
    "Unlinked Advice Service (test)",
    (Role.PROVIDER,),
)
ALL_STATUSES = "&".join(f"status={status.value}" for status in ReferralStatus)
SENT_STATUSES = "&".join(
    f"status={status.value}" for status in ReferralStatus if status != ReferralStatus.DRAFT
)


def _person_index(given_name: str) -> int:
    return next(i for i, person in enumerate(DEMO_PEOPLE) if person.given_name == given_name)


# Demo people, by what their record shows.
NOT_ASKED = _person_index("Eleanor")  # no social history, referral or letter
ANSWERED_ON_PHONE = _person_index("Grace")  # answers from her phone are added, unreviewed
WITH_REFERRALS = _person_index("Tomasz")  # referrals to the demo provider's services
FOR_LETTERS = _person_index("Derek")


# What the visits go to, found in the demo data (and added to it) before they start.
Ids = dict[str, str]
Steps = Callable[[Page, Ids], None]


def _prepare(database_url: str) -> Ids:
    database = Database(database_url)
    try:
        with database.session() as session:
            context = AuditContext(purpose="test set-up")
            clinician = auth_service.get_user(session, CLINICIAN.email)
            link_worker = auth_service.get_user(session, LINK_WORKER.email)
            provider = auth_service.get_user(session, PROVIDER.email)
            for extra, kind in (
                (NEW_CLINICIAN, OrganisationKind.PRACTICE),
                (UNLINKED_PROVIDER, OrganisationKind.PROVIDER),
            ):
                auth_service.create_user(
                    session,
                    context,
                    email=extra.email,
                    display_name=extra.display_name,
                    password=DEMO_PASSWORD,
                    organisation=auth_service.ensure_organisation(
                        session, extra.organisation, kind
                    ),
                    roles=extra.roles,
                )

            grace = demo_person_id(ANSWERED_ON_PHONE)
            sent = social_history.create_patient_link(
                session, context, grace, CORE, clinician.id, valid_for=timedelta(days=7)
            )
            social_history.submit_patient_link(
                session,
                context,
                sent,
                {"money-enough": "often-not", "benefits-checked": "no", "debt": "behind"},
            )
            unused = [
                social_history.create_patient_link(
                    session, context, grace, CORE, clinician.id, valid_for=timedelta(days=7)
                )
                for _ in range(2)
            ]

            today = today_in_london()
            referrals = list(session.scalars(select(Referral).order_by(Referral.created_at)))
            scored = set(session.scalars(select(OutcomeMeasure.referral_id)))
            linked = set(
                session.scalars(
                    select(ProviderLink.directory_organization_id).where(
                        ProviderLink.organisation_id == provider.organisation_id
                    )
                )
            )
            attendance_due = _first(
                "an open referral by the link worker due a still-attending check",
                [
                    r
                    for r in referrals
                    if r.requester_user_id == link_worker.id
                    and r.status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
                    and r.attendance_check_on is not None
                    and r.attendance_check_on <= today
                ],
            )
            completed = _first(
                "a completed referral with wellbeing scores",
                [r for r in referrals if r.status == ReferralStatus.COMPLETED and r.id in scored],
            )
            draft = _first(
                "a draft referral", [r for r in referrals if r.status == ReferralStatus.DRAFT]
            )
            in_inbox = [
                r
                for r in referrals
                if r.provider_organization_id in linked and r.status == ReferralStatus.REQUESTED
            ]
            assert len(in_inbox) >= 2, "the demo provider's inbox has fewer than two requested"
            closed = session.scalars(
                select(Service)
                .where(Service.status == ServiceStatus.ACTIVE)
                .where(Service.accepting_referrals.is_(False))
                .order_by(Service.name)
            ).first()
            assert closed is not None, "the demo directory has no service closed to referrals"
            with_team = session.scalars(
                select(CareTeamMember.person_id).order_by(CareTeamMember.person_id)
            ).first()
            assert with_team is not None, "no demo person has a care team"
            derek = session.get(Person, demo_person_id(FOR_LETTERS))
            assert derek is not None
            assert derek.nhs_number, "the demo person for letters has no NHS number"
            return {
                "eleanor": demo_person_id(NOT_ASKED),
                "grace": grace,
                "tomasz": demo_person_id(WITH_REFERRALS),
                "derek": derek.id,
                "derek_nhs_number": derek.nhs_number,
                "with_team": with_team,
                "unused_link": unused[0],
                "no_javascript_link": unused[1],
                "attendance_due": attendance_due.id,
                "attendance_due_service": attendance_due.service_name,
                "completed": completed.id,
                "completed_service": completed.service_name,
                "draft": draft.id,
                "draft_service": draft.service_name,
                "in_inbox": in_inbox[0].id,
                "in_inbox_service": in_inbox[0].service_name,
                "raced": in_inbox[1].id,
                "raced_service": in_inbox[1].service_name,
                "closed_service": closed.id,
                "housing_letter": next(
                    t.template_id for t in builtin_templates() if t.name == HOUSING_LETTER
                ),
            }
    finally:
        database.dispose()


def _first(what: str, found: list[Referral]) -> Referral:
    assert found, f"the demo data have no {what}"
    return found[0]


# Steps that lead to a state no address shows.


def _question(page: Page, text: str) -> Locator:
    return page.get_by_role("group", name=text, exact=False)


def _second_page_found(page: Page, ids: Ids) -> None:
    page.goto("/people?q=demo&page=2")
    expect(page.get_by_role("navigation", name=re.compile("^Pages of"))).to_be_visible()


def _care_team_error(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['eleanor']}")
    page.get_by_role("button", name="Add to the care team").click()


def _same_nhs_number(page: Page, ids: Ids) -> None:
    page.goto(
        f"/people/new?given_name=Derek&family_name=Pickersgill&nhs_number={ids['derek_nhs_number']}"
    )
    page.get_by_role("button", name="Add the person").click()


def _edit_error(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['derek']}/edit")
    page.get_by_label("First name").fill("")
    page.get_by_label("Postcode").fill("not a postcode")
    page.get_by_role("button", name="Save changes").click()


def _send_meanwhile(page: Page, form: Locator, **changes: str) -> None:
    """Send a form of the page as someone else's browser would, the page left as it is."""
    fields = form.evaluate("(form) => Array.from(new FormData(form).entries())")
    action = form.get_attribute("action")
    assert action, "the form has no action"
    response = page.request.post(action, form={**dict(fields), **changes})
    assert response.ok, f"sending {action} meanwhile answered {response.status}"


def _edit_raced(page: Page, ids: Ids) -> None:
    """Someone else saves the record while the form is open; then the form is saved."""
    page.goto(f"/people/{ids['derek']}/edit")
    _send_meanwhile(page, page.locator("#person-form"), preferred_language="Welsh")
    page.get_by_label("Preferred language").fill("Cornish")
    page.get_by_role("button", name="Save changes").click()


def _history_follow_ups_without_javascript(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['eleanor']}/social-history/new/social-history-core")
    _question(page, "Where are you living at the moment?").get_by_label(
        "In my own or a rented home"
    ).check()
    page.get_by_role("button", name="Save and see needs").click()
    expect(page.locator("#follow-ups-added")).to_be_visible()


def _review_raced(page: Page, ids: Ids) -> None:
    """Someone else marks the answers as reviewed while the page is open."""
    page.goto(f"/people/{ids['grace']}/social-history")
    page.locator("#answers-waiting").get_by_role("link").first.click()
    _send_meanwhile(page, page.locator("form[action$='/review']"))
    page.get_by_role("button", name="Mark as reviewed").click()


def _link_error(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['grace']}/social-history/link")
    page.locator("input[name=instrument]").evaluate_all(
        "(radios) => radios.forEach((radio) => { radio.checked = false; })"
    )
    page.get_by_role("button", name="Create the link").click()


def _own_answers_error(page: Page, ids: Ids) -> None:
    page.goto(f"/my-answers/{ids['unused_link']}")
    page.get_by_label("What or who helps you most?").fill("x" * 2001)
    page.get_by_role("button", name="Send my answers").click()


def _own_follow_ups_without_javascript(page: Page, ids: Ids) -> None:
    page.goto(f"/my-answers/{ids['no_javascript_link']}")
    _question(page, "Do you have enough money each month").get_by_label("Sometimes not").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("#follow-ups-added")).to_be_visible()


def _needs_error(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['grace']}/needs")
    page.get_by_role("button", name="Continue to consent").click()


def _needs_more_services(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['grace']}/needs")
    more = page.get_by_role("button", name=re.compile("^Show more services"))
    offered = more.count()
    more.first.click()
    expect(more).to_have_count(offered - 1)


def _needs_saved(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['grace']}/needs")
    page.get_by_role("button", name="Save without referring").click()
    expect(page.locator("#saved-banner")).to_be_visible()


def _wants_help_with_debt(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['grace']}/needs")
    debt = page.locator("#need-debt")
    debt.get_by_role("group", name="want help with debt?").get_by_label("Yes").check()


def _consent_closed(page: Page, ids: Ids) -> None:
    _wants_help_with_debt(page, ids)
    page.get_by_role("button", name="Save without referring").click()
    expect(page.locator("#saved-banner")).to_be_visible()
    page.goto(f"/people/{ids['grace']}/refer?choice=debt:{ids['closed_service']}")
    expect(page.locator(".nhsuk-warning-callout")).to_contain_text("Choose another service")


def _consent_error(page: Page, ids: Ids) -> None:
    _wants_help_with_debt(page, ids)
    page.locator("#need-debt .nhsuk-checkboxes__input").first.check()
    page.get_by_role("button", name="Continue to consent").click()
    page.get_by_role("button", name=re.compile("^Send ")).click()


def _referral_form(button: str, details: str | None = None) -> Callable[[str], Steps]:
    """A form of a referral page sent with nothing filled in (after opening its details)."""

    def for_referral(key: str) -> Steps:
        def steps(page: Page, ids: Ids) -> None:
            page.goto(f"/referrals/{ids[key]}")
            scope = page.locator(f"#{details}") if details else page.locator("main")
            if details:
                scope.locator("summary").click()
            scope.get_by_role("button", name=button, exact=True).click()

        return steps

    return for_referral


def _follow_up_not_a_date(page: Page, ids: Ids) -> None:
    page.goto(f"/referrals/{ids['attendance_due']}")
    date = page.get_by_role("group", name="Follow up by")
    date.get_by_label("Day").fill("31")
    date.get_by_label("Month").fill("2")
    page.get_by_role("button", name="Change the follow-up date").click()


def _scores_out_of_range(page: Page, ids: Ids) -> None:
    page.goto(f"/referrals/{ids['attendance_due']}")
    form = page.locator("#ons4-form")
    form.locator("summary").click()
    form.locator("input[type=text]").first.fill("11")
    form.get_by_role("button", name="Save the ONS4 scores").click()


def _status_raced(page: Page, ids: Ids) -> None:
    """The adviser types a reason to decline while someone else accepts the referral."""
    page.goto(f"/referrals/{ids['raced']}")
    accept = page.locator("form").filter(has=page.get_by_role("button", name="Accept the referral"))
    _send_meanwhile(page, accept)
    decline = page.locator("#status-rejected")
    decline.locator("summary").click()
    decline.get_by_label("Why are you declining it?").fill("We only see people in Bradford.")
    decline.get_by_role("button", name="Decline the referral").click()


def _letters_none_chosen(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['derek']}/letters")
    page.get_by_role("button", name="Continue").click()


def _letter_checked(page: Page, ids: Ids) -> None:
    page.goto(f"/people/{ids['derek']}/letters/new?template_id={ids['housing_letter']}")
    page.get_by_label("Who is the letter to?").fill("Housing Options, Leeds City Council")
    page.get_by_label("Their address").fill("Merrion House\n110 Merrion Centre\nLeeds\nLS2 8BB")
    page.get_by_label("Your job title").fill("GP")
    page.get_by_role("button", name="Fill in the letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the letter")


def _letter_emptied(page: Page, ids: Ids) -> None:
    _letter_checked(page, ids)
    page.get_by_label("The letter", exact=True).fill("")
    page.get_by_role("button", name="Issue the letter").click()


def _person_with_a_letter(page: Page, ids: Ids) -> None:
    _letter_checked(page, ids)
    page.get_by_role("button", name="Issue the letter").click()
    expect(page.locator("#issued-banner")).to_be_visible()
    page.goto(f"/people/{ids['derek']}")


def _template_saved(page: Page, ids: Ids) -> None:
    page.goto("/letters/templates/new")
    page.get_by_label("Name", exact=True).fill("Supporting a school place appeal")
    page.get_by_label("Someone else").check()
    page.get_by_label("The letter").fill("Dear Sir or Madam,\n\nRe: {{ person.name }}\n")
    page.get_by_role("button", name="Add the template").click()
    expect(page.locator("#saved-banner")).to_be_visible()


def _template_edit_error(page: Page, ids: Ids) -> None:
    _template_saved(page, ids)
    page.get_by_label("The letter").fill("Dear Sir or Madam,\n\nRe: {{ person.nmae }}\n")
    page.get_by_role("button", name="Save a new version").click()


@dataclass(frozen=True)
class Visit:
    """A page in one state: who sees it, the address (formatted with the ids) or the steps
    that lead there, and what its main heading says (to be sure it is that page)."""

    what: str  # named by a failure
    shot: str  # the screenshot's file name
    who: DemoUser | None  # None: no one signed in (the person's own phone)
    go: str | Steps
    heading: str
    viewport: dict[str, int] = field(default_factory=lambda: DESKTOP)
    errors: bool = False  # the error summary shows
    javascript: bool = True  # False: as without JavaScript (the page's scripts blocked)


def _lists(
    what: str, shot: str, who: DemoUser, go: str, heading: str, errors: bool = False
) -> list[Visit]:
    """A list, on a desktop and on a phone."""
    return [
        Visit(what, shot, who, go, heading, errors=errors),
        Visit(f"{what}, on a phone", f"{shot}-phone", who, go, heading, PHONE, errors=errors),
    ]


# In order: the steps of some change what later pages show.
VISITS: list[Visit] = [
    # People.
    Visit("find a person, nothing typed", "people-find-error", CLINICIAN, "/people?q=",
          "Find a person", errors=True),
    Visit("find a person, no one found", "people-find-none", CLINICIAN, "/people?q=Zzyzx",
          "Find a person"),
    Visit("find a person, the second page of those found", "people-find-page-2", CLINICIAN,
          _second_page_found, "Find a person"),
    Visit("add a person, an NHS number that has a record", "people-new-same-nhs-number",
          CLINICIAN, _same_nhs_number, "Add a person", errors=True),
    Visit("the person page with nothing recorded yet", "person-empty", CLINICIAN,
          "/people/{eleanor}", "Eleanor Ashworth"),
    Visit("the person page with nothing recorded yet, on a phone", "person-empty-phone",
          CLINICIAN, "/people/{eleanor}", "Eleanor Ashworth", PHONE),
    Visit("the person page with answers waiting for review", "person-answers-waiting",
          CLINICIAN, "/people/{grace}", "Grace Okafor"),
    Visit("the person page with referrals, for the link worker", "person-referrals",
          LINK_WORKER, "/people/{tomasz}", "Tomasz Nowak"),
    Visit("the person page with referrals, for the link worker, on a phone",
          "person-referrals-phone", LINK_WORKER, "/people/{tomasz}", "Tomasz Nowak", PHONE),
    Visit("the person page, for an administrator", "person-admin", ADMIN, "/people/{tomasz}",
          "Tomasz Nowak"),
    Visit("the person page with a care team, just added to", "person-care-team", CLINICIAN,
          "/people/{with_team}?team=added", "(demo)"),
    Visit("the person page, adding to the care team with no email", "person-care-team-error",
          CLINICIAN, _care_team_error, "Eleanor Ashworth", errors=True),
    Visit("change a person's details", "person-edit", CLINICIAN, "/people/{derek}/edit",
          "Change Derek Pickersgill"),
    Visit("change a person's details, with mistakes", "person-edit-error", CLINICIAN,
          _edit_error, "Change Derek Pickersgill", errors=True),
    Visit("change a person's details, changed by someone else meanwhile", "person-edit-stale",
          CLINICIAN, _edit_raced, "Change Derek Pickersgill", errors=True),
    # Social history.
    Visit("the social history, none taken yet", "history-empty", CLINICIAN,
          "/people/{eleanor}/social-history", "Social history"),
    Visit("the social history, answers waiting for review", "history-waiting", CLINICIAN,
          "/people/{grace}/social-history", "Social history"),
    Visit("the social history, answers waiting for review, on a phone",
          "history-waiting-phone", CLINICIAN, "/people/{grace}/social-history",
          "Social history", PHONE),
    Visit("the core social history without JavaScript, follow-ups added",
          "history-follow-ups-no-javascript", CLINICIAN,
          _history_follow_ups_without_javascript, "Social history (core)", javascript=False),
    Visit("answers to review, reviewed by someone else meanwhile", "response-review-raced",
          CLINICIAN, _review_raced, "Social history (core)", errors=True),
    Visit("send a link, no questions chosen", "link-error", CLINICIAN, _link_error,
          "Send a link", errors=True),
    Visit("the person's own page, an answer too long", "own-answers-error", None,
          _own_answers_error, "Questions about you", PHONE, errors=True),
    Visit("the person's own page without JavaScript, follow-ups added",
          "own-answers-follow-ups-no-javascript", None, _own_follow_ups_without_javascript,
          "Questions about you", PHONE, javascript=False),
    Visit("a link that does not work", "own-answers-no-such-link", None,
          "/my-answers/no-such-link", "This link does not work", PHONE),
    # Making referrals.
    Visit("needs and services, no needs found", "needs-empty", CLINICIAN,
          "/people/{eleanor}/needs", "Needs and services"),
    Visit("needs and services, no service chosen", "needs-error", CLINICIAN, _needs_error,
          "Needs and services", errors=True),
    Visit("needs and services, more services shown", "needs-more", CLINICIAN,
          _needs_more_services, "Needs and services"),
    Visit("needs and services, saved without referring", "needs-saved", CLINICIAN,
          _needs_saved, "Needs and services"),
    Visit("consent, no service chosen", "consent-none", CLINICIAN, "/people/{grace}/refer",
          "Consent to share", errors=True),
    Visit("consent, a service not taking referrals", "consent-closed", CLINICIAN,
          _consent_closed, "Consent to share",
          errors=True),
    Visit("consent, sent without the person's agreement", "consent-error", CLINICIAN,
          _consent_error, "Consent to share", errors=True),
    # Working referrals.
    Visit("a referral with wellbeing scores before and after", "referral-scores", LINK_WORKER,
          "/referrals/{completed}", "{completed_service}"),
    Visit("a referral with wellbeing scores before and after, on a phone",
          "referral-scores-phone", LINK_WORKER, "/referrals/{completed}",
          "{completed_service}", PHONE),
    Visit("a referral with wellbeing scores, for an administrator", "referral-admin", ADMIN,
          "/referrals/{completed}", "{completed_service}"),
    Visit("a draft referral", "referral-draft", CLINICIAN, "/referrals/{draft}",
          "{draft_service}"),
    Visit("a referral due a still-attending check", "referral-attendance", LINK_WORKER,
          "/referrals/{attendance_due}", "{attendance_due_service}"),
    Visit("a referral, a contact attempt with nothing chosen", "referral-contact-error",
          LINK_WORKER, _referral_form("Record the contact attempt")("attendance_due"),
          "{attendance_due_service}", errors=True),
    Visit("a referral, still attending not answered", "referral-attendance-error",
          LINK_WORKER, _referral_form("Record the answer")("attendance_due"),
          "{attendance_due_service}", errors=True),
    Visit("a referral, a follow-up date that is not a date", "referral-follow-up-error",
          LINK_WORKER, _follow_up_not_a_date, "{attendance_due_service}", errors=True),
    Visit("a referral, a score out of range", "referral-scores-error", LINK_WORKER,
          _scores_out_of_range, "{attendance_due_service}", errors=True),
    Visit("a referral, an empty note", "referral-note-error", LINK_WORKER,
          _referral_form("Add the note")("attendance_due"), "{attendance_due_service}",
          errors=True),
    Visit("a referral, cancelled without a reason", "referral-cancel-error", LINK_WORKER,
          _referral_form("Cancel the referral", "status-cancelled")("attendance_due"),
          "{attendance_due_service}", errors=True),
    Visit("a referral, declined without a reason", "referral-decline-error", PROVIDER,
          _referral_form("Decline the referral", "status-rejected")("in_inbox"),
          "{in_inbox_service}", errors=True),
    Visit("a referral, changed by someone else meanwhile", "referral-stale", PROVIDER,
          _status_raced, "{raced_service}", errors=True),
    *_lists("the caseload, every status", "caseload-all", LINK_WORKER,
            f"/referrals?{ALL_STATUSES}", "Your referrals"),
    *_lists("the caseload, a filter that is not in the list", "caseload-error", LINK_WORKER,
            "/referrals?sort=nonsense&need=nonsense", "Your referrals", errors=True),
    *_lists("the caseload, no referrals yet", "caseload-empty", NEW_CLINICIAN, "/referrals",
            "Your referrals"),
    *_lists("the follow-ups due, everyone's in the organisation", "overdue-organisation",
            LINK_WORKER, "/referrals/overdue?whose=organisation", "Follow-ups due"),
    *_lists("the follow-ups due, a choice that is not in the list", "overdue-error",
            LINK_WORKER, "/referrals/overdue?whose=nonsense", "Follow-ups due", errors=True),
    *_lists("the follow-ups due, none", "overdue-empty", NEW_CLINICIAN, "/referrals/overdue",
            "Follow-ups due"),
    *_lists("the inbox, every status", "inbox-all", PROVIDER,
            f"/referrals/inbox?{SENT_STATUSES}", "Referrals inbox"),
    *_lists("the inbox, a page that is not a number", "inbox-error", PROVIDER,
            "/referrals/inbox?page=first", "Referrals inbox", errors=True),
    *_lists("the inbox, not linked to the directory", "inbox-empty", UNLINKED_PROVIDER,
            "/referrals/inbox", "Referrals inbox"),
    # Letters.
    Visit("letters, no letter chosen", "letters-error", CLINICIAN, _letters_none_chosen,
          "Letters", errors=True),
    Visit("a letter for a person with no needs recorded", "letter-form-no-needs", CLINICIAN,
          "/people/{eleanor}/letters/new?template_id={housing_letter}", HOUSING_LETTER),
    Visit("check the letter, its text emptied", "letter-check-error", CLINICIAN,
          _letter_emptied, "Check the letter", errors=True),
    Visit("the person page with a letter issued", "person-letter", CLINICIAN,
          _person_with_a_letter, "Derek Pickersgill"),
    Visit("the person page with a letter issued, on a phone", "person-letter-phone",
          CLINICIAN, "/people/{derek}", "Derek Pickersgill", PHONE),
    Visit("letter templates, for an administrator", "templates-admin", ADMIN,
          "/letters/templates", "Letter templates"),
    Visit("add a letter template", "template-new", ORG_ADMIN, "/letters/templates/new",
          "Add a letter template"),
    Visit("add a letter template, copied from a built-in one", "template-copy", ORG_ADMIN,
          "/letters/templates/new?copy={housing_letter}", "Add a letter template"),
    Visit("a built-in letter template", "template-built-in", ORG_ADMIN,
          "/letters/templates/{housing_letter}", HOUSING_LETTER),
    Visit("a letter template just saved", "template-saved", ORG_ADMIN, _template_saved,
          "Supporting a school place appeal"),
    Visit("a letter template, a new version with a mistake", "template-edit-error",
          ORG_ADMIN, _template_edit_error, "Supporting a school place appeal", errors=True),
]  # fmt: skip


def _assert_errors_lead_somewhere(page: Page) -> None:
    """Each link of the error summary leads to an element of the page (the field to fix)."""
    targets = page.locator(".nhsuk-error-summary a").evaluate_all(
        "(links) => links.map((link) => [link.textContent.trim(), link.hash.slice(1)])"
    )
    nowhere = [
        f"{text!r} -> #{target}"
        for text, target in targets
        if not page.evaluate("(id) => document.getElementById(id) !== null", target)
    ]
    assert not nowhere, "error summary links to nothing on the page:\n" + "\n".join(nowhere)


class Browsers:
    """A signed-in page for each user, viewport and JavaScript setting, opened once."""

    def __init__(self, chromium: Browser, running: Server) -> None:
        self.browser = chromium
        self.server = running
        self.pages: dict[tuple[str, int, bool], Page] = {}

    def page(self, visit: Visit) -> Page:
        who = visit.who.email if visit.who else ""
        key = (who, visit.viewport["width"], visit.javascript)
        if key not in self.pages:
            if visit.javascript:
                page = _new_page(self.browser, self.server, visit.viewport).page
            else:
                # The page's own scripts are blocked, not JavaScript itself: axe needs it (a
                # page with JavaScript turned off never runs axe's timers).
                context = self.browser.new_context(
                    base_url=self.server.base_url, viewport=visit.viewport, locale="en-GB"
                )
                context.set_default_timeout(10_000)
                context.route(PAGE_SCRIPTS, lambda route: route.abort())
                page = context.new_page()
            if visit.who:
                page.goto("/login")
                _sign_in(page, visit.who.email, DEMO_PASSWORD)
                expect(page).to_have_url(f"{self.server.base_url}/")
            self.pages[key] = page
        return self.pages[key]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def browsers(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> Iterator[Browsers]:
    opened = Browsers(browser, server)
    yield opened
    opened.close()


def test_every_page_and_state_is_accessible(
    server: Server,  # noqa: F811
    browsers: Browsers,
    axe_source: str,  # noqa: F811
    database_url: str,
) -> None:
    ids = _prepare(database_url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    checks = Checks()
    for visit in VISITS:
        what = f"{visit.what} ({visit.who.display_name if visit.who else 'not signed in'})"
        page = browsers.page(visit)
        reached = False
        with checks.check(f"{what}: getting there"):
            if isinstance(visit.go, str):
                page.goto(visit.go.format(**ids))
            else:
                visit.go(page, ids)
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                visit.heading.format(**ids)
            )
            expect(page.locator(".nhsuk-error-summary")).to_have_count(1 if visit.errors else 0)
            reached = True
        if not reached:
            continue
        if visit.errors:
            with checks.check(f"{what}: each error links to what it is about"):
                _assert_errors_lead_somewhere(page)
        page.screenshot(path=SHOTS / f"{visit.shot}-{server.kind}.png", full_page=True)
        if visit.viewport == PHONE:
            with checks.check(f"{what} fits {PHONE['width']} px"):
                _assert_no_horizontal_scroll(page, visit.what)
        with checks.check(f"{what} is accessible"):
            _assert_accessible(page, axe_source, what)
    checks.assert_all_passed()
