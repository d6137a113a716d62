"""A clinician of a practice, and a person whose record the practice holds, on each database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.people.models import Person
from healthequity.store import Database

CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
DOMESTIC_ABUSE = "https://healthequity.example/fhir/Questionnaire/domestic-abuse-screen"
LOW_MOOD = "https://healthequity.example/fhir/Questionnaire/low-mood-phq2"


@dataclass(frozen=True)
class Clinic:
    database: Database
    clinician_id: int
    context: AuditContext
    person_id: str


@pytest.fixture
def clinic(database: Database, make_user: Any, fast_password_hashing: None) -> Clinic:
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
    context = AuditContext(
        user_id=clinician.user_id,
        organisation_id=clinician.organisation_id,
        request_id="test",
        purpose="direct care",
    )
    return Clinic(database, clinician.user_id, context, person.id)
