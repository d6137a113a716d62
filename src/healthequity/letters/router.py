"""JSON API for the letters issued about a person (`/api/people/{id}/letters`): the list,
and each letter's PDF as it was issued. Clinicians, link workers and administrators, for
a person whose record they may see (403 otherwise). Reads are audited by the service."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.letters import service
from healthequity.letters.exceptions import LetterAltered, LetterNotFound
from healthequity.letters.pages import pdf_response
from healthequity.letters.schemas import LetterOut
from healthequity.people.exceptions import PersonAccessDenied, PersonNotFound
from healthequity.people.lookup import person_api_error, person_for_api
from healthequity.people.models import Person
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response

router = APIRouter(prefix="/api/people/{person_id}/letters", tags=["letters"])

READERS = (Role.CLINICIAN, Role.LINK_WORKER, Role.ADMIN)
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not in the person's care team"},
    404: {"description": "No such person, or no such letter for them"},
}


def _letter_out(issued: service.IssuedLetter) -> LetterOut:
    letter = issued.letter
    return LetterOut(
        id=letter.id,
        person_id=letter.person_id,
        template_id=letter.template_id,
        template_version=letter.template_version,
        template_name=issued.template_name,
        recipient_name=letter.recipient_name,
        recipient_address=letter.recipient_address,
        text=letter.text,
        signer_role=letter.signer_role,
        created_by_user_id=letter.created_by_user_id,
        created_by=issued.author,
        created_at=letter.created_at,
        pdf_sha256=letter.pdf_sha256,
        pdf_url=f"/api/people/{letter.person_id}/letters/{letter.id}/pdf",
    )


@router.get("", response_model=list[LetterOut], responses=ERRORS)
def list_letters(
    person_id: str,
    request: Request,
    principal: Principal = allow(*READERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """The letters issued about the person, the newest first."""
    person = person_for_api(request, session, context, principal, person_id)
    if not isinstance(person, Person):
        return person
    issued = service.issued_letters(session, person, viewer=principal)
    service.audit_letters_shown(session, context, person, "api.letters", issued)
    letters = [_letter_out(found) for found in issued]
    return JSONResponse([letter.model_dump(mode="json") for letter in letters])


@router.get(
    "/{letter_id}/pdf",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
)
def letter_pdf(
    person_id: str,
    letter_id: str,
    request: Request,
    principal: Principal = allow(*READERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """The letter's PDF as it was issued (its SHA-256 is checked first)."""
    try:
        issued, pdf = service.letter_document(session, context, principal, person_id, letter_id)
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_api_error(request, error)
    except LetterNotFound as error:
        return error_response(request, 404, str(error))
    except LetterAltered as error:
        return error_response(request, 500, str(error))
    person = session.get(Person, person_id)
    assert person is not None
    return pdf_response(person, issued, pdf)
