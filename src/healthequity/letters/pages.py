"""Letter pages: from a person's record, write a letter (choose a template; say who it is
to and which needs to mention; check and change the filled-in text, with a preview; issue
it and download the PDF), and see the letters issued about them with their PDFs. For
organisation administrators (and administrators), the template editor, whose errors name
the line of the template and keep what was typed.

Every read and change goes through `letters.service`, which checks the user may see the
person and audits it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Organisation, Role, User
from healthequity.auth.schemas import Principal
from healthequity.letters import service
from healthequity.letters.exceptions import (
    InvalidLetter,
    InvalidTemplate,
    LetterAltered,
    LetterNotFound,
    StaleTemplate,
    TemplateNotEditable,
    TemplateNotFound,
)
from healthequity.letters.filling import PLACEHOLDERS
from healthequity.letters.layout import LetterPage, blocks_of
from healthequity.letters.models import LetterTemplate, RecipientKind
from healthequity.people.exceptions import PersonAccessDenied, PersonNotFound
from healthequity.people.lookup import Refusal, person_for_page, person_page_error
from healthequity.people.models import Person
from healthequity.store.database import utc_now
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.navigation import HomeSection, NavItem, PersonSection
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

WRITERS = (Role.CLINICIAN, Role.LINK_WORKER, Role.ADMIN)
EDITORS = tuple(service.EDITORS)
NAVIGATION = [NavItem("Letter templates", "/letters/templates", service.EDITORS)]
HOME_SECTIONS = [
    HomeSection(
        "Letter templates",
        "Write and change your organisation's templates for letters in support of a person "
        "(to a housing office, a benefits assessor, an employer), and see the built-in ones.",
        "/letters/templates",
        service.EDITORS,
    )
]
PERSON_SECTIONS = [
    PersonSection(
        "letters/_person_section.html",
        lambda session, context, principal, person: service.issued_letters(
            session, person, viewer=principal
        ),
        frozenset(WRITERS),
    )
]

NO_LETTER = "There is no letter with that reference for this person."
NO_TEMPLATE = "There is no letter template with that reference that you can use."
REFUSAL = Refusal(
    "You cannot see this person's record",
    "You are not in this person's care team, so you cannot see their record or write "
    "letters about them. Ask a clinician of the organisation that holds it to add you.",
)
# The fields of each form in page order, which the error summary follows.
LETTER_FIELDS = ("recipient_name", "recipient_address", "job_title", "needs", "extra_text")
CHECK_FIELDS = ("recipient_name", "recipient_address", "job_title", "text", "template")
# What the check page sends back: its fields, and the template the text was filled from.
CHECK_VALUES = (*CHECK_FIELDS[:-1], "template_id", "template_version", "template_name")
TEMPLATE_FIELDS = ("name", "recipient_kind", "body")
RECIPIENT_KINDS = tuple((kind.value, text) for kind, text in service.RECIPIENT_KIND_LABELS.items())


@dataclass
class LetterForm(Form):
    """What was typed, with the needs ticked (by code)."""

    ticked: set[str] = field(default_factory=set)

    def is_ticked(self, name: str) -> bool:
        return name in self.ticked


def _text(data: FormData, name: str, limit: int = 40_000) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _sorted_errors(errors: list[tuple[str, str]], order: tuple[str, ...]) -> list[tuple[str, str]]:
    rank = {name: index for index, name in enumerate(order)}
    return sorted(errors, key=lambda item: rank.get(item[0], len(order)))


def _loaded(session: Session, person_id: str) -> Person:
    """A person the service has just read (and audited) for this request."""
    person = session.get(Person, person_id)
    assert person is not None
    return person


# A person's letters, and writing one.


def _letters_page(
    request: Request,
    session: Session,
    principal: Principal,
    person: Person,
    *,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "letters/letters.html",
        {
            "title": f"Letters about {person.full_name}",
            "person": person,
            "letters": service.issued_letters(session, person, viewer=principal),
            "templates": service.templates_to_write(session, principal),
            "kinds": service.RECIPIENT_KIND_LABELS,
            "errors": errors or [],
            "form": Form(errors=errors or []),
        },
        status_code=status_code,
    )


@router.get("/people/{person_id}/letters", response_class=HTMLResponse)
def letters(
    request: Request,
    person_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    return _letters_page(request, session, principal, found)


def _letter_form_page(
    request: Request,
    person: Person,
    template: LetterTemplate,
    form: LetterForm,
    needs: list[service.LetterNeed],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "letters/letter_form.html",
        {
            "title": template.name,
            "person": person,
            "template": template,
            "form": form,
            "errors": form.errors,
            "needs": [need for need in needs if not need.sensitive],
            "sensitive_needs": [need for need in needs if need.sensitive],
        },
        status_code=status_code,
    )


@router.get("/people/{person_id}/letters/new", response_class=HTMLResponse)
def new_letter(
    request: Request,
    person_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    template_id = request.query_params.get("template_id", "")
    try:
        template = service.get_template(session, principal, template_id)
        if not template.active:
            raise TemplateNotFound(template_id)
    except TemplateNotFound:
        error = ("template_id-1", "Choose the letter you want to write")
        return _letters_page(request, session, principal, found, errors=[error], status_code=422)
    needs = service.needs_for_letter(session, context, principal, found)
    form = LetterForm(
        values={"job_title": service.last_job_title(session, principal.user_id)},
        ticked={need.code for need in needs if not need.sensitive},
    )
    return _letter_form_page(request, found, template, form, needs)


def _recipient(form: Form) -> service.Recipient:
    return service.Recipient(form.value("recipient_name"), form.value("recipient_address"))


def _check_page(
    request: Request,
    person: Person,
    form: Form,
    *,
    preview: LetterPage | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "letters/letter_check.html",
        {
            "title": "Check the letter",
            "person": person,
            "form": form,
            "errors": form.errors,
            "preview": preview,
        },
        status_code=status_code,
    )


@router.post("/people/{person_id}/letters/new", response_class=HTMLResponse)
async def fill_in_letter(
    request: Request,
    person_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    template_id = _text(data, "template_id", 100)
    form = LetterForm(
        values={name: _text(data, name) for name in LETTER_FIELDS if name != "needs"},
        ticked={code for code in data.getlist("needs") if isinstance(code, str)},
    )
    try:
        draft = service.draft_letter(
            session,
            context,
            principal,
            person_id,
            template_id,
            form.value("extra_text"),
            _recipient(form),
            job_title=form.value("job_title"),
            need_codes=form.ticked,
        )
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_page_error(request, error, REFUSAL)
    except TemplateNotFound:
        return error_response(request, 404, NO_TEMPLATE)
    except InvalidLetter as error:
        person = _loaded(session, person_id)
        form.errors = _sorted_errors(error.errors, LETTER_FIELDS)
        return _letter_form_page(
            request,
            person,
            service.get_template(session, principal, template_id),
            form,
            service.needs_for_letter(session, context, principal, person),
            status_code=422,
        )
    checked = Form(
        values={
            "recipient_name": form.value("recipient_name").strip(),
            "recipient_address": form.value("recipient_address").strip(),
            "job_title": form.value("job_title").strip(),
            "text": draft.text,
            "template_id": draft.template_id,
            "template_version": str(draft.template_version),
            "template_name": draft.template_name,
        }
    )
    return _check_page(request, _loaded(session, person_id), checked)


@router.post("/people/{person_id}/letters", response_class=HTMLResponse)
async def preview_or_issue_letter(
    request: Request,
    person_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    form = Form(values={name: _text(data, name) for name in CHECK_VALUES})
    form.values["template_name"] = form.value("template_name")[:200]
    if _text(data, "action") != "issue":
        found = person_for_page(request, session, context, principal, person_id, REFUSAL)
        if not isinstance(found, Person):
            return found
        preview = service.letter_page(
            found,
            organisation=principal.organisation_name,
            sender_name=principal.display_name,
            sender_role=form.value("job_title").strip(),
            sender_email=principal.email,
            recipient=_recipient(form),
            text=form.value("text"),
            created_at=utc_now(),
        )
        return _check_page(request, found, form, preview=preview)
    version = form.value("template_version")
    try:
        letter = service.issue_letter(
            session,
            context,
            principal,
            person_id,
            form.value("template_id"),
            int(version) if version.isdigit() else 0,
            form.value("text"),
            _recipient(form),
            job_title=form.value("job_title"),
        )
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_page_error(request, error, REFUSAL)
    except TemplateNotFound:
        return error_response(request, 404, NO_TEMPLATE)
    except InvalidLetter as error:
        form.errors = _sorted_errors(error.errors, CHECK_FIELDS)
        return _check_page(request, _loaded(session, person_id), form, status_code=422)
    return RedirectResponse(f"/people/{person_id}/letters/{letter.id}?issued=1", status_code=303)


@router.get("/people/{person_id}/letters/{letter_id}", response_class=HTMLResponse)
def letter(
    request: Request,
    person_id: str,
    letter_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        issued = service.get_letter(session, context, principal, person_id, letter_id)
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_page_error(request, error, REFUSAL)
    except LetterNotFound:
        return error_response(request, 404, NO_LETTER)
    return render(
        request,
        "letters/letter.html",
        {
            "title": f"Letter to {issued.letter.recipient_name}",
            "person": _loaded(session, person_id),
            "issued": issued,
            "blocks": blocks_of(issued.letter.text),
            "address_lines": issued.letter.recipient_address.splitlines(),
            "just_issued": request.query_params.get("issued") == "1",
        },
    )


def pdf_file_name(person: Person, issued: service.IssuedLetter) -> str:
    """An ASCII name for the PDF: "letter-pickersgill-2026-11-22.pdf"."""
    folded = unicodedata.normalize("NFKD", person.family_name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "person"
    return f"letter-{name}-{issued.letter.created_at:%Y-%m-%d}.pdf"


def pdf_response(person: Person, issued: service.IssuedLetter, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{pdf_file_name(person, issued)}"'},
    )


@router.get("/people/{person_id}/letters/{letter_id}/pdf")
def letter_pdf(
    request: Request,
    person_id: str,
    letter_id: str,
    principal: Principal = allow(*WRITERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        issued, pdf = service.letter_document(session, context, principal, person_id, letter_id)
    except (PersonNotFound, PersonAccessDenied) as error:
        return person_page_error(request, error, REFUSAL)
    except LetterNotFound:
        return error_response(request, 404, NO_LETTER)
    except LetterAltered as error:
        return error_response(request, 500, str(error))
    return pdf_response(_loaded(session, person_id), issued, pdf)


# The template editor.


def _owner_names(session: Session, templates: list[LetterTemplate]) -> dict[int, str]:
    ids = {template.organisation_id for template in templates if template.organisation_id}
    return {org_id: org.name for org_id in ids if (org := session.get(Organisation, org_id))}


@router.get("/letters/templates", response_class=HTMLResponse)
def templates(
    request: Request,
    principal: Principal = allow(*EDITORS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = service.templates_to_edit(session, principal)
    return render(
        request,
        "letters/templates.html",
        {
            "title": "Letter templates",
            "templates": found,
            "owners": _owner_names(session, found),
            "kinds": service.RECIPIENT_KIND_LABELS,
        },
    )


def _template_form(template: LetterTemplate) -> LetterForm:
    return LetterForm(
        values={
            "name": template.name,
            "recipient_kind": template.recipient_kind.value,
            "body": template.body,
            "version": str(template.version),
        },
        ticked={"active"} if template.active else set(),
    )


def _template_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: LetterForm,
    *,
    template: LetterTemplate | None,
    status_code: int = 200,
) -> Response:
    versions = service.template_versions(session, template.id) if template else []
    authors = {
        version.created_by_user_id: user.display_name
        for version in versions
        if version.created_by_user_id
        and (user := session.get(User, version.created_by_user_id)) is not None
    }
    return render(
        request,
        "letters/template_form.html",
        {
            "title": template.name if template else "Add a letter template",
            "template": template,
            "editable": template is None or service.may_edit(principal, template),
            "form": form,
            "errors": form.errors,
            "kinds": RECIPIENT_KINDS,
            "placeholders": PLACEHOLDERS,
            "versions": versions,
            "authors": authors,
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status_code,
    )


def _template_edit(data: FormData) -> tuple[LetterForm, service.TemplateEdit]:
    form = LetterForm(
        values={name: _text(data, name) for name in (*TEMPLATE_FIELDS, "version")},
        ticked={"active"} if _text(data, "active") == "yes" else set(),
    )
    edit = service.TemplateEdit(
        name=form.value("name"),
        recipient_kind=form.value("recipient_kind"),
        body=form.value("body"),
        active=form.is_ticked("active"),
    )
    return form, edit


def _anchored(errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Errors by the id of the input they are about (the first radio for the recipient)."""
    ranked = _sorted_errors(errors, TEMPLATE_FIELDS)
    return [("recipient_kind-1" if name == "recipient_kind" else name, m) for name, m in ranked]


@router.get("/letters/templates/new", response_class=HTMLResponse)
def new_template(
    request: Request,
    principal: Principal = allow(*EDITORS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = LetterForm(values={"recipient_kind": RecipientKind.OTHER.value}, ticked={"active"})
    copied = request.query_params.get("copy")
    if copied:
        try:
            original = service.get_template(session, principal, copied)
        except TemplateNotFound:
            return error_response(request, 404, NO_TEMPLATE)
        form = _template_form(original)
        form.values["name"] = f"{original.name} (our version)"
    return _template_page(request, session, principal, form, template=None)


@router.post("/letters/templates/new", response_class=HTMLResponse)
async def create_template(
    request: Request,
    principal: Principal = allow(*EDITORS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form, edit = _template_edit(await request.form())
    try:
        template = service.create_template(session, context, principal, edit)
    except InvalidTemplate as error:
        form.errors = _anchored(error.errors)
        return _template_page(request, session, principal, form, template=None, status_code=422)
    except TemplateNotEditable as error:
        return error_response(request, 403, str(error))
    return RedirectResponse(f"/letters/templates/{template.id}?saved=1", status_code=303)


@router.get("/letters/templates/{template_id}", response_class=HTMLResponse)
def edit_template_form(
    request: Request,
    template_id: str,
    principal: Principal = allow(*EDITORS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        template = service.get_template(session, principal, template_id)
    except TemplateNotFound:
        return error_response(request, 404, NO_TEMPLATE)
    return _template_page(request, session, principal, _template_form(template), template=template)


@router.post("/letters/templates/{template_id}", response_class=HTMLResponse)
async def edit_template(
    request: Request,
    template_id: str,
    principal: Principal = allow(*EDITORS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        template = service.get_template(session, principal, template_id)
    except TemplateNotFound:
        return error_response(request, 404, NO_TEMPLATE)
    form, edit = _template_edit(await request.form())
    version = form.value("version")
    try:
        service.update_template(
            session,
            context,
            principal,
            template.id,
            edit,
            expected_version=int(version) if version.isdigit() else 0,
        )
    except InvalidTemplate as error:
        form.errors = _anchored(error.errors)
    except StaleTemplate as error:
        form.values["version"] = str(error.current)  # saving again applies this change to it
        form.errors = [("name", f"{str(error)[:1].upper()}{str(error)[1:]}")]
    except TemplateNotEditable as error:
        return error_response(request, 403, str(error))
    if form.errors:
        return _template_page(request, session, principal, form, template=template, status_code=422)
    return RedirectResponse(f"/letters/templates/{template.id}?saved=1", status_code=303)
