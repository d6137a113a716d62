"""A small world for referral tests, on each database: a practice with a clinician and a link
worker, a provider organisation linked to the directory organisation that runs the advice
services, an unlinked charity, two people with identified needs, and a tiny directory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory.models import Organization, Service, ServiceStatus
from healthequity.people.models import Person
from healthequity.referrals import service
from healthequity.referrals.models import Consent, Referral
from healthequity.social_history.models import (
    IdentifiedNeed,
    NeedLevel,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
)
from healthequity.store import Database

TODAY = date(2026, 11, 23)
ADVICE_ORG = "dir-org-advice"
WALKING_ORG = "dir-org-walking"
DEBT_SERVICE = "svc-debt-advice"
BENEFITS_SERVICE = "svc-benefits"
FULL_SERVICE = "svc-full"
CLOSED_SERVICE = "svc-closed"
WALKING_SERVICE = "svc-walking-group"


@dataclass(frozen=True)
class World:
    database: Database
    clinician: Principal
    link_worker: Principal
    provider: Principal  # works for the advice network's provider organisation
    stranger: Principal  # a provider organisation linked to nobody
    person_id: str
    other_person_id: str
    needs: dict[str, str]  # need code -> identified need id, of the person
    other_needs: dict[str, str]  # of the other person


def context_of(principal: Principal) -> AuditContext:
    return principal.audit_context(request_id="test")


def seed_directory(session: Session) -> None:
    session.add(Organization(id=ADVICE_ORG, name="Leeds Advice Network"))
    session.add(Organization(id=WALKING_ORG, name="Leeds Walking Friends"))
    session.flush()
    for service_id, organization_id, name, status, accepting in (
        (DEBT_SERVICE, ADVICE_ORG, "Debt advice", ServiceStatus.ACTIVE, True),
        (BENEFITS_SERVICE, ADVICE_ORG, "Benefits check", ServiceStatus.ACTIVE, True),
        (FULL_SERVICE, ADVICE_ORG, "Housing advice", ServiceStatus.ACTIVE, False),
        (CLOSED_SERVICE, ADVICE_ORG, "Energy advice", ServiceStatus.INACTIVE, True),
        (WALKING_SERVICE, WALKING_ORG, "Walking group", ServiceStatus.ACTIVE, True),
    ):
        session.add(
            Service(
                id=service_id,
                organization_id=organization_id,
                name=name,
                description="Demonstration record for tests.",
                status=status,
                accepting_referrals=accepting,
                accepting_referrals_note=None if accepting else "Waiting list full",
            )
        )


def add_person(session: Session, organisation_id: int, given: str, family: str) -> str:
    person = Person(
        id=str(uuid.uuid4()),
        given_name=given,
        family_name=family,
        name_key=f"{given} {family}".casefold(),
        organisation_id=organisation_id,
    )
    session.add(person)
    session.flush()
    return person.id


def add_needs(session: Session, person_id: str, codes: Sequence[str]) -> dict[str, str]:
    response = QuestionnaireResponse(
        id=str(uuid.uuid4()),
        person_id=person_id,
        questionnaire_url="urn:test:social-history",
        questionnaire_version="1",
        status=ResponseStatus.COMPLETED,
        source=ResponseSource.CLINICIAN,
        answers={},
    )
    session.add(response)
    session.flush()
    needs = {}
    for code in codes:
        need = IdentifiedNeed(
            id=str(uuid.uuid4()),
            person_id=person_id,
            response_id=response.id,
            question_link_id=code,
            need_code=code,
            level=NeedLevel.NEED,
            snomed_code="160903007",
            snomed_display="Test finding",
            wants_help=True,
        )
        session.add(need)
        needs[code] = need.id
    session.flush()
    return needs


@pytest.fixture
def world(database: Database, make_user, fast_password_hashing: None) -> World:  # type: ignore[no-untyped-def]
    def principal(role: Role, organisation: str) -> Principal:
        user = make_user(role, organisation=organisation)
        return Principal(
            display_name=user.email,
            organisation_id=user.organisation_id,
            organisation_name=organisation,
            roles=user.roles,
            user_id=user.user_id,
            email=user.email,
        )

    clinician = principal(Role.CLINICIAN, "Test Practice")
    link_worker = principal(Role.LINK_WORKER, "Test Practice")
    provider = principal(Role.PROVIDER, "Leeds Advice Network (provider)")
    stranger = principal(Role.PROVIDER, "Another Charity")
    with database.session() as session:
        seed_directory(session)
        service.link_provider(session, context_of(provider), provider.organisation_id, ADVICE_ORG)
        person_id = add_person(session, clinician.organisation_id, "Ada", "Lovelace")
        other_person_id = add_person(session, clinician.organisation_id, "Bob", "Ashworth")
        needs = add_needs(session, person_id, ["debt", "income_benefits", "social_isolation"])
        other_needs = add_needs(session, other_person_id, ["debt"])
    return World(
        database,
        clinician,
        link_worker,
        provider,
        stranger,
        person_id,
        other_person_id,
        needs,
        other_needs,
    )


def record_consent(
    session: Session,
    world: World,
    *,
    person_id: str | None = None,
    service_id: str = DEBT_SERVICE,
    expires_on: date = TODAY + timedelta(days=365),
    today: date = TODAY,
) -> Consent:
    return service.record_consent(
        session,
        context_of(world.clinician),
        person_id=person_id or world.person_id,
        service_id=service_id,
        shared_information="Name, telephone number and the need for debt advice",
        purpose="So that the advice service can contact them and help with their debts",
        expires_on=expires_on,
        recorded_by=world.clinician,
        today=today,
    )


def refer(
    session: Session,
    world: World,
    *,
    service_id: str = DEBT_SERVICE,
    needs: Sequence[str] = ("debt",),
    requester: Principal | None = None,
    person_id: str | None = None,
    today: date = TODAY,
    **options: object,
) -> Referral:
    """A referral of the person (or another) to a service, with a fresh consent for it."""
    person = person_id or world.person_id
    person_needs = world.needs if person == world.person_id else world.other_needs
    consent = record_consent(session, world, person_id=person, service_id=service_id)
    return service.refer_person(
        session,
        context_of(requester or world.clinician),
        person,
        service_id,
        [person_needs[code] for code in needs],
        consent.id,
        requester or world.clinician,
        "Has rent arrears and a county court letter; prefers a morning call.",
        today=today,
        **options,  # type: ignore[arg-type]
    )
