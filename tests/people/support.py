"""Helpers of the person tests: details to create, principals for test users, audit events."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from conftest import TestUser
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.schemas import Principal
from healthequity.people import service
from healthequity.people.models import Person
from healthequity.people.schemas import PersonDetails
from healthequity.store import Database

VALID_NHS_NUMBER = "9434765919"
OTHER_NHS_NUMBER = "9434765870"


def details(**changes: Any) -> PersonDetails:
    values: dict[str, Any] = {
        "given_name": "Ann",
        "family_name": "Smith",
        "date_of_birth": date(1980, 2, 1),
        "postcode": "LS1 1UR",
    }
    return PersonDetails.model_validate({**values, **changes})


def principal(user: TestUser) -> Principal:
    return Principal(
        display_name=user.email,
        organisation_id=user.organisation_id,
        organisation_name="Test organisation",
        roles=user.roles,
        user_id=user.user_id,
    )


def context(user: TestUser | None = None) -> AuditContext:
    if user is None:
        return AuditContext(request_id="test")
    return principal(user).audit_context("test")


def add_person(database: Database, organisation_id: int, **changes: Any) -> str:
    with database.session() as session:
        return service.create_person(session, context(), details(**changes), organisation_id).id


def load(database: Database, person_id: str) -> Person:
    with database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        return person


def events(database: Database, action: str | None = None) -> list[AuditEvent]:
    with database.session() as session:
        query = select(AuditEvent).where(AuditEvent.action.startswith("person."))
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query.order_by(AuditEvent.id)))
