"""JSON API for person records (`/api/people`): find or create, read, search, update and
the care team. Clinicians, link workers and administrators; a record itself only for its
care team (403 otherwise). Every read and change is audited by the service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.people import service
from healthequity.people.exceptions import (
    DuplicateNhsNumber,
    InvalidNhsNumber,
    PersonAccessDenied,
    PersonNotFound,
    StalePersonUpdate,
    UnknownCareTeamUser,
)
from healthequity.people.lookup import person_api_error, person_for_api
from healthequity.people.models import Person
from healthequity.people.schemas import (
    CareTeamMemberIn,
    CareTeamMemberOut,
    DuplicateOut,
    PersonCreate,
    PersonDetails,
    PersonOut,
    PersonSaved,
    PersonSearchOut,
    PersonUpdate,
)
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response

router = APIRouter(prefix="/api/people", tags=["people"])

PEOPLE_ROLES = (Role.CLINICIAN, Role.LINK_WORKER, Role.ADMIN)
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not in the person's care team"},
    404: {"description": "No person has that id"},
}


def _json(model: BaseModel, status_code: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code)


def _duplicate_out(duplicate: service.Duplicate, principal: Principal) -> DuplicateOut:
    visible = service.can_see_person(principal, duplicate.person)
    return DuplicateOut(
        person_id=duplicate.person.id,
        kind=duplicate.kind.value,
        reason=duplicate.reason,
        visible=visible,
        holding_organisation=duplicate.person.organisation.name,
        person=PersonOut.model_validate(duplicate.person) if visible else None,
    )


def _details(body: PersonDetails) -> PersonDetails:
    return PersonDetails.model_validate(body.model_dump(include=set(PersonDetails.model_fields)))


@router.post(
    "",
    response_model=PersonSaved,
    status_code=201,
    responses={
        200: {"model": PersonSaved, "description": "A record has this NHS number already"},
        409: {"model": PersonSaved, "description": "Likely duplicates: nothing created"},
    },
)
def create_person(
    body: PersonCreate,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Find or create a person, held by the caller's organisation.

    A record with the same NHS number is returned as it is (200, `created` false; its
    details only if the caller may see it). Records with the same names, date of birth and
    postcode stop the creation (409, listed in `duplicates`) unless `confirm_not_duplicate`.
    """
    result = service.find_or_create_person(
        session,
        context,
        _details(body),
        principal.organisation_id,
        confirmed=body.confirm_not_duplicate,
    )
    person = result.person
    shown = person if person is not None and service.can_see_person(principal, person) else None
    saved = PersonSaved(
        person=PersonOut.model_validate(shown) if shown else None,
        created=result.created,
        duplicates=[_duplicate_out(item, principal) for item in result.duplicates],
    )
    status = 201 if result.created else 200 if person is not None else 409
    return _json(saved, status)


@router.get("")
def search_people(
    request: Request,
    nhs_number: Annotated[str | None, Query(description="10 digits; spaces allowed")] = None,
    name: Annotated[
        str | None, Query(max_length=200, description="Words of the name, in any case")
    ] = None,
    date_of_birth: date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = service.PAGE_SIZE,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """People the caller may see, by NHS number, or by name and date of birth, or by part
    of the name; family name first."""
    try:
        found = service.find_people(
            session,
            context,
            principal=principal,
            nhs_number=nhs_number,
            name=name,
            date_of_birth=date_of_birth,
            page=page,
            page_size=page_size,
        )
    except InvalidNhsNumber as error:
        return error_response(request, 422, f"nhs_number: {error.reason}")
    return _json(
        PersonSearchOut(
            page=found.page,
            page_size=found.page_size,
            total=found.total,
            people=[PersonOut.model_validate(person) for person in found.people],
        )
    )


@router.get("/{person_id}", response_model=PersonOut, responses=ERRORS)
def read_person(
    person_id: str,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_api(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    return _json(PersonOut.model_validate(found))


@router.put(
    "/{person_id}",
    response_model=PersonOut,
    responses={**ERRORS, 409: {"description": "Changed by someone else since read"}},
)
def update_person(
    person_id: str,
    body: PersonUpdate,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Replace the person's details. `version` is the version read: if the record has
    changed since, 409 and nothing is written."""
    try:
        service.update_person(
            session,
            context,
            person_id,
            _details(body),
            expected_version=body.version,
            principal=principal,
        )
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_api_error(request, error)
    except (StalePersonUpdate, DuplicateNhsNumber) as error:
        return error_response(request, 409, str(error))
    return _json(PersonOut.model_validate(session.get(Person, person_id)))


def _care_team_response(session: Session, person: Person) -> JSONResponse:
    return JSONResponse(
        [
            CareTeamMemberOut(
                user_id=entry.user.id,
                display_name=entry.user.display_name,
                email=entry.user.email,
                organisation=entry.user.organisation.name,
                added_at=entry.member.added_at,
            ).model_dump(mode="json")
            for entry in service.care_team(session, person)
        ]
    )


@router.get("/{person_id}/care-team", response_model=list[CareTeamMemberOut], responses=ERRORS)
def read_care_team(
    person_id: str,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """The users named in the person's care team (besides the clinicians and link workers
    of the organisation that holds the record)."""
    found = person_for_api(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    return _care_team_response(session, found)


@router.post(
    "/{person_id}/care-team",
    response_model=list[CareTeamMemberOut],
    responses={**ERRORS, 422: {"description": "No active user has that id"}},
)
def add_care_team_member(
    person_id: str,
    body: CareTeamMemberIn,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Name a user in the person's care team (any organisation); the team afterwards."""
    found = person_for_api(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    try:
        service.add_care_team_member(session, context, found.id, body.user_id)
    except UnknownCareTeamUser as error:
        return error_response(request, 422, f"user_id: {error}")
    return _care_team_response(session, found)


@router.delete(
    "/{person_id}/care-team/{user_id:int}",
    response_model=list[CareTeamMemberOut],
    responses=ERRORS,
)
def remove_care_team_member(
    person_id: str,
    user_id: int,
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Take a user out of the person's care team; the team afterwards."""
    found = person_for_api(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    service.remove_care_team_member(session, context, found.id, user_id)
    return _care_team_response(session, found)
