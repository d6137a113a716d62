"""A practice with a clinician, and a person it holds whose social history shows needs
(one of them sensitive), on each database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.people import service as people
from healthequity.people.schemas import PersonDetails
from healthequity.social_history.models import ResponseSource
from healthequity.social_history.service import record_response
from healthequity.store import Database

PRACTICE = "Chapeltown Health Centre"
CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
# Temporary accommodation, a damp home, worried about food, and abuse in the past (sensitive).
HISTORY = {
    "housing-situation": "temporary",
    "home-conditions": ["damp"],
    "food-worried": "LA6729-3",
    "hurt-by-someone-close": "in-the-past",
}


@dataclass(frozen=True)
class Practice:
    database: Database
    clinician: Principal
    person_id: str
    clinician_user: Any  # conftest.TestUser, to sign in with

    def context(self, principal: Principal | None = None) -> AuditContext:
        return (principal or self.clinician).audit_context("test")


def principal_of(user: Any, organisation: str = PRACTICE, name: str = "Dr Ama Mensah") -> Principal:
    return Principal(
        display_name=name,
        organisation_id=user.organisation_id,
        organisation_name=organisation,
        roles=user.roles,
        user_id=user.user_id,
        email=user.email,
    )


@pytest.fixture
def practice(database: Database, make_user: Any, fast_password_hashing: None) -> Practice:
    user = make_user(Role.CLINICIAN, organisation=PRACTICE)
    clinician = principal_of(user)
    context = clinician.audit_context("test")
    with database.session() as session:
        person = people.create_person(
            session,
            context,
            PersonDetails(
                given_name="Mihai",
                family_name="Lăcătuș",
                date_of_birth=date(1961, 11, 7),
                nhs_number="9434765919",
                postcode="LS7 3QH",
            ),
            clinician.organisation_id,
        )
        record_response(
            session, context, person.id, CORE, HISTORY, ResponseSource.CLINICIAN, clinician.user_id
        )
        return Practice(database, clinician, person.id, user)
