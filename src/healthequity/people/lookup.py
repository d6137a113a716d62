"""The person a page or an API call names, or the error response saying why it cannot have
them: 404 when there is no such record, 403 when the viewer is not in its care team.

Pages say so in plain words, each capability's refusal naming what the viewer cannot do
there; API clients get the service's own message. `people.service.get_person` audits the
read, and the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.schemas import Principal
from healthequity.people import service
from healthequity.people.exceptions import PersonAccessDenied, PersonNotFound
from healthequity.people.models import Person
from healthequity.web.errors import error_response

NO_PERSON = "There is no person record with that reference."


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a page says to a viewer outside the person's care team."""

    title: str
    detail: str


RECORD_REFUSAL = Refusal(
    "You cannot see this person's record",
    "You are not in this person's care team, so you cannot see their record. Ask a "
    "clinician of the organisation that holds it to add you to the care team.",
)


def person_page_error(
    request: Request, error: PersonNotFound | PersonAccessDenied, refusal: Refusal
) -> Response:
    if isinstance(error, PersonNotFound):
        return error_response(request, 404, NO_PERSON)
    return error_response(request, 403, refusal.detail, title=refusal.title)


def person_for_page(
    request: Request,
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
    refusal: Refusal = RECORD_REFUSAL,
) -> Person | Response:
    try:
        return service.get_person(session, context, person_id, principal=principal)
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_page_error(request, error, refusal)


def person_api_error(request: Request, error: PersonNotFound | PersonAccessDenied) -> Response:
    return error_response(request, 404 if isinstance(error, PersonNotFound) else 403, str(error))


def person_for_api(
    request: Request,
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
) -> Person | Response:
    try:
        return service.get_person(session, context, person_id, principal=principal)
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_api_error(request, error)
