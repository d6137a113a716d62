"""Person pages: find a person, add one (warning of records that may be the same person),
see one (the health passport at the top), change their details, and name their care team.

Clinicians, link workers and administrators; a record only for its care team. Forms keep
what was typed when something is wrong, and say what, next to the field and in the error
summary. Every read and change goes through `people.service`, which audits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.exceptions import UnknownUser
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.dates import long_date
from healthequity.people import service
from healthequity.people.ethnicity import OTHER_ANSWERS, ethnicities_by_group
from healthequity.people.exceptions import (
    DuplicateNhsNumber,
    InvalidNhsNumber,
    StalePersonUpdate,
    UnknownCareTeamUser,
)
from healthequity.people.lookup import person_for_page
from healthequity.people.models import GpRegistration, Person, Sex
from healthequity.people.schemas import COMMUNICATION_NEEDS_LIMIT, PersonDetails
from healthequity.web.dependencies import get_session
from healthequity.web.forms import Form
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import person_sections, render

router = APIRouter(include_in_schema=False)

PEOPLE_ROLES = frozenset({Role.CLINICIAN, Role.LINK_WORKER, Role.ADMIN})
NAVIGATION = [NavItem("People", "/people", PEOPLE_ROLES)]
HOME_SECTIONS = [
    HomeSection(
        "Find a person",
        "Find a person by NHS number or name, see their health passport (how to communicate "
        "with them) and details, or add someone new.",
        "/people",
        PEOPLE_ROLES,
    )
]

TEXT_FIELDS = (
    "given_name",
    "family_name",
    "nhs_number",
    "postcode",
    "lsoa21_code",
    "preferred_language",
    "communication_needs",
    "phone",
    "email",
)
CHOICE_FIELDS = ("sex", "gp_registration", "ethnicity_code")
CHECKBOXES = ("interpreter_needed", "no_telephone", "text_messages_ok", "email_ok", "letters_ok")
DATE_PARTS = ("day", "month", "year")
DOB = "dob"
# The form's fields in page order, which the error summary follows; each maps to the id of
# the input an error about it links to.
FIELD_ANCHORS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "date_of_birth": f"{DOB}-day",
    "nhs_number": "nhs_number",
    "sex": "sex-1",
    "ethnicity_code": "ethnicity_code",
    "postcode": "postcode",
    "lsoa21_code": "lsoa21_code",
    "gp_registration": "gp_registration-1",
    "preferred_language": "preferred_language",
    "interpreter_needed": "interpreter_needed",
    "communication_needs": "communication_needs",
    "phone": "phone",
    "email": "email",
    "no_telephone": "no_telephone",
    "text_messages_ok": "text_messages_ok",
    "email_ok": "email_ok",
    "letters_ok": "letters_ok",
}
# For errors that are about the type of a value (a choice tampered with), not its content.
FALLBACK_MESSAGES = {
    "sex": "Choose the person's sex from the list",
    "gp_registration": "Choose whether the person is registered with a GP",
}
SEXES = (
    (Sex.FEMALE.value, "Female"),
    (Sex.MALE.value, "Male"),
    (Sex.OTHER.value, "Other"),
    (Sex.UNKNOWN.value, "Not known"),
)
GP_REGISTRATIONS = (
    (GpRegistration.REGISTERED.value, "Registered with a GP practice"),
    (GpRegistration.NOT_REGISTERED.value, "Not registered with a GP practice"),
    (GpRegistration.UNKNOWN.value, "Not known"),
)
LABELS = {
    "given_name": "First name",
    "family_name": "Last name",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
    "sex": "Sex",
    "ethnicity_code": "Ethnic group",
    "postcode": "Postcode",
    "lsoa21_code": "Area (LSOA)",
    "gp_registration": "GP registration",
    "preferred_language": "Preferred language",
    "interpreter_needed": "Needs an interpreter",
    "communication_needs": "Communication needs",
    "phone": "Phone",
    "email": "Email",
    "no_telephone": "Has no telephone",
    "text_messages_ok": "Text messages",
    "email_ok": "Email",
    "letters_ok": "Letters",
}
STALE = (
    "Someone else saved a change to this record while you were editing it. Nothing you "
    "typed is lost, but it is not saved yet: check the record as it is now, below, then save "
    "again."
)


@dataclass
class DatedForm(Form):
    """A form with a date of birth in three boxes."""

    @property
    def date_error(self) -> str | None:
        """The error about the date of birth, whichever of its boxes it names."""
        return next((message for key, message in self.errors if key.startswith(f"{DOB}-")), None)

    def date_of_birth(self) -> date | None:
        """The date typed; None, with the error added, if it is not a date."""
        try:
            return parse_date_of_birth(*(self.value(f"{DOB}-{part}") for part in DATE_PARTS))
        except ValueError as error:
            message, part = error.args
            self.errors.append((f"{DOB}-{part}", message))
            return None


@dataclass
class PersonForm(DatedForm):
    ticked: set[str] = field(default_factory=set)
    version: str = ""

    def is_ticked(self, name: str) -> bool:
        return name in self.ticked

    def add_error(self, field_name: str, message: str) -> None:
        self.errors.append((FIELD_ANCHORS.get(field_name, field_name), message))

    def sort_errors(self) -> None:
        """Errors in the order of the fields on the page (the date's by its first box)."""
        order = list(FIELD_ANCHORS.values())

        def rank(key: str) -> int:
            anchor = f"{DOB}-day" if key.startswith(f"{DOB}-") else key
            return order.index(anchor) if anchor in order else -1

        self.errors.sort(key=lambda item: rank(item[0]))


@dataclass
class SearchForm(DatedForm):
    q: str = ""
    submitted: bool = False


def _text(data: FormData, name: str, limit: int = 5000) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def form_of_post(data: FormData) -> PersonForm:
    values = {name: _text(data, name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    values.update({f"{DOB}-{part}": _text(data, f"{DOB}-{part}", 10) for part in DATE_PARTS})
    return PersonForm(
        values=values,
        ticked={name for name in CHECKBOXES if _text(data, name) == "yes"},
        version=_text(data, "version", 20),
    )


def form_of_person(person: Person) -> PersonForm:
    born = person.date_of_birth
    values = {name: str(getattr(person, name) or "") for name in TEXT_FIELDS}
    values["nhs_number"] = person.nhs_number_formatted or ""
    # The area is typed only for someone with no postcode; otherwise the postcode gives it.
    values["lsoa21_code"] = "" if person.postcode else person.lsoa21_code or ""
    values.update(
        sex=person.sex.value,
        gp_registration=person.gp_registration.value,
        ethnicity_code=person.ethnicity_code or "",
    )
    if born is not None:
        values.update({f"{DOB}-day": str(born.day), f"{DOB}-month": str(born.month)})
        values[f"{DOB}-year"] = str(born.year)
    return PersonForm(
        values=values,
        ticked={name for name in CHECKBOXES if getattr(person, name)},
        version=str(person.version),
    )


def parse_date_of_birth(day: str, month: str, year: str) -> date | None:
    """The date typed in the three boxes of a date input, None if all are empty.

    ValueError((message, part)) names, as the NHS design system asks, what is missing or
    wrong, and the first box to fix ("day", "month" or "year").
    """
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(parts.values()):
        return None
    missing = [name for name, value in parts.items() if not value]
    if missing:
        raise ValueError(
            f"Date of birth must include a {' and '.join(missing)}",
            missing[0],
        )
    wrong = [name for name, value in parts.items() if not value.isdigit() or not value.isascii()]
    if wrong:
        raise ValueError("Date of birth must be a real date, in numbers, like 27 3 2007", wrong[0])
    if len(parts["year"]) != 4:
        raise ValueError("Year must include 4 numbers", "year")
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        month_number, year_number = int(parts["month"]), int(parts["year"])
        part = "month" if not 1 <= month_number <= 12 else "year" if year_number < 1 else "day"
        raise ValueError("Date of birth must be a real date", part) from None


def details_of(form: PersonForm) -> PersonDetails | None:
    """The form's details, checked; None, with the form's errors set, if anything is wrong."""
    born = form.date_of_birth()
    raw: dict[str, Any] = {name: form.value(name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    raw.update({name: form.is_ticked(name) for name in CHECKBOXES})
    raw["date_of_birth"] = born
    raw["sex"] = raw["sex"] or Sex.UNKNOWN.value
    raw["gp_registration"] = raw["gp_registration"] or GpRegistration.UNKNOWN.value
    try:
        details = PersonDetails.model_validate(raw)
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            custom = problem["type"].startswith("person_")
            message = problem["msg"] if custom else FALLBACK_MESSAGES.get(name, problem["msg"])
            form.add_error(name, message)
        form.sort_errors()
        return None
    if form.errors:
        form.sort_errors()
        return None
    return details


# Rendering.


def _area(person: Person) -> dict[str, Any] | None:
    """The area the person lives in, for the person page: its name and deprivation decile."""
    if not person.lsoa21_code:
        return None
    try:
        record = geography.lsoa(person.lsoa21_code)
    except geography.GeographyError:
        return None
    return {
        "code": record.lsoa21_code,
        "name": record.lsoa21_name,
        "ward": record.ward24_name,
        "authority": record.ltla24_name,
        "imd_decile": record.iod2025.imd.decile,
    }


def _form_page(
    request: Request,
    form: PersonForm,
    *,
    person: Person | None,
    duplicates: list[dict[str, Any]] | None = None,
    same_nhs_number: bool = False,
    current: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "people/form.html",
        {
            "title": f"Change {person.full_name}'s details" if person else "Add a person",
            "person": person,
            "form": form,
            "errors": form.errors,
            "sexes": SEXES,
            "gp_registrations": GP_REGISTRATIONS,
            "ethnic_groups": ethnicities_by_group(),
            "other_ethnicities": OTHER_ANSWERS,
            "communication_limit": COMMUNICATION_NEEDS_LIMIT,
            "duplicates": duplicates or [],
            "same_nhs_number": same_nhs_number,
            "current": current or [],
        },
        status_code=status_code,
    )


def _duplicate_views(
    duplicates: list[service.Duplicate], principal: Principal
) -> list[dict[str, Any]]:
    return [
        {
            "person": item.person,
            "reason": item.reason,
            "visible": service.can_see_person(principal, item.person),
            "organisation": item.person.organisation.name,
        }
        for item in duplicates
    ]


# Finding.


_LOOKS_LIKE_NHS_NUMBER = re.compile(r"^[\d\s-]+$")


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isdigit() else 1


def _new_person_link(form: SearchForm) -> str:
    """The "add a person" address, carrying over what was searched for."""
    query: dict[str, str] = {}
    if form.q and _LOOKS_LIKE_NHS_NUMBER.match(form.q):
        query["nhs_number"] = form.q
    elif form.q:
        *given, family = form.q.split()
        query.update(given_name=" ".join(given), family_name=family)
    query.update({f"{DOB}-{part}": form.value(f"{DOB}-{part}") for part in DATE_PARTS})
    query = {key: value for key, value in query.items() if value}
    return "/people/new" + (f"?{urlencode(query)}" if query else "")


@router.get("/people", response_class=HTMLResponse)
def find_person(
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    params = request.query_params
    form = SearchForm(
        q=params.get("q", "").strip()[:200],
        values={f"{DOB}-{part}": params.get(f"{DOB}-{part}", "")[:10] for part in DATE_PARTS},
        submitted="q" in params,
    )
    found: service.PersonPage | None = None
    if form.submitted:
        born = form.date_of_birth()
        is_number = bool(form.q) and _LOOKS_LIKE_NHS_NUMBER.match(form.q) is not None
        if not form.q and born is None and not form.errors:
            form.errors.append(("q", "Enter a name or an NHS number"))
        if not form.errors:
            try:
                found = service.find_people(
                    session,
                    context,
                    principal=principal,
                    nhs_number=form.q if is_number else None,
                    name=None if is_number else form.q,
                    date_of_birth=born,
                    page=_page_number(request),
                )
            except InvalidNhsNumber as error:
                form.errors.append(("q", error.reason))
    paging = None
    if found is not None and found.pages > 1:
        query = {"q": form.q, **{k: v for k, v in form.values.items() if v}}

        def url(number: int) -> str:
            return f"/people?{urlencode({**query, 'page': number})}"

        paging = {
            "page": found.page,
            "pages": found.pages,
            "previous_url": url(found.page - 1) if found.page > 1 else None,
            "next_url": url(found.page + 1) if found.page < found.pages else None,
        }
    return render(
        request,
        "people/find.html",
        {
            "title": "Find a person",
            "form": form,
            "errors": form.errors,
            "found": found,
            "paging": paging,
            "new_person_link": _new_person_link(form),
        },
        status_code=422 if form.errors else 200,
    )


# Adding.


@router.get("/people/new", response_class=HTMLResponse)
def new_person_form(request: Request, principal: Principal = allow(*PEOPLE_ROLES)) -> Response:
    params = request.query_params
    carried = ("given_name", "family_name", "nhs_number", *(f"{DOB}-{p}" for p in DATE_PARTS))
    form = PersonForm(
        values={name: params.get(name, "")[:100] for name in carried if params.get(name)},
        ticked={"text_messages_ok", "email_ok", "letters_ok"},
    )
    return _form_page(request, form, person=None)


@router.post("/people/new", response_class=HTMLResponse)
async def create_person(
    request: Request,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    form = form_of_post(data)
    details = details_of(form)
    if details is None:
        return _form_page(request, form, person=None, status_code=422)
    result = service.find_or_create_person(
        session,
        context,
        details,
        principal.organisation_id,
        confirmed=_text(data, "confirm_not_duplicate") == "yes",
    )
    if result.created and result.person is not None:
        return RedirectResponse(f"/people/{result.person.id}?created=1", status_code=303)
    duplicates = _duplicate_views(result.duplicates, principal)
    if result.person is not None:  # a record has this NHS number already
        form.add_error("nhs_number", "A record with this NHS number exists already")
        return _form_page(
            request,
            form,
            person=None,
            duplicates=[d for d in duplicates if d["person"].id == result.person.id],
            same_nhs_number=True,
            status_code=422,
        )
    return _form_page(request, form, person=None, duplicates=duplicates)


# Seeing and changing one person.


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: str,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    return _person_view(request, session, context, principal, found)


def _person_view(
    request: Request,
    session: Session,
    context: AuditContext,
    principal: Principal,
    person: Person,
    *,
    care_team_error: str | None = None,
    care_team_email: str = "",
    status_code: int = 200,
) -> Response:
    params = request.query_params
    care_team_form = Form(values={"care_team_email": care_team_email})
    if care_team_error:
        care_team_form.errors.append(("care_team_email", care_team_error))
    return render(
        request,
        "people/person.html",
        {
            "title": person.full_name,
            "person": person,
            "area": _area(person),
            "sexes": dict(SEXES),
            "gp_registrations": dict(GP_REGISTRATIONS),
            "care_team": service.care_team(session, person),
            "created": params.get("created") == "1",
            "saved": params.get("saved") == "1",
            "team_changed": params.get("team"),
            "errors": care_team_form.errors,
            "care_team_form": care_team_form,
            "sections": [
                (section.template, section.load(session, context, principal, person))
                for section in person_sections(request)
            ],
        },
        status_code=status_code,
    )


@router.get("/people/{person_id}/edit", response_class=HTMLResponse)
def edit_person_form(
    request: Request,
    person_id: str,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    return _form_page(request, form_of_person(found), person=found)


def _differences(form: PersonForm, person: Person) -> list[tuple[str, str]]:
    """The fields where the stored record now differs from the form, with what is stored."""
    stored = form_of_person(person)
    names = [*TEXT_FIELDS, *CHOICE_FIELDS]
    changed = [
        (LABELS[n], stored.value(n) or "(blank)") for n in names if stored.value(n) != form.value(n)
    ]
    if any(stored.value(f"{DOB}-{p}") != form.value(f"{DOB}-{p}") for p in DATE_PARTS):
        born = person.date_of_birth
        changed.append((LABELS["date_of_birth"], long_date(born) if born else "(blank)"))
    changed.extend(
        (LABELS[n], "Yes" if stored.is_ticked(n) else "No")
        for n in CHECKBOXES
        if stored.is_ticked(n) != form.is_ticked(n)
    )
    return changed


@router.post("/people/{person_id}/edit", response_class=HTMLResponse)
async def edit_person(
    request: Request,
    person_id: str,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    form = form_of_post(await request.form())
    details = details_of(form)
    if details is None:
        return _form_page(request, form, person=found, status_code=422)
    expected = int(form.version) if form.version.isdigit() else 0
    try:
        service.update_person(
            session, context, person_id, details, expected_version=expected, principal=principal
        )
    except StalePersonUpdate:
        session.refresh(found)
        current = _differences(form, found)
        form.version = str(found.version)  # saving again applies what is typed to this one
        form.errors.insert(0, ("current-record", STALE))
        return _form_page(request, form, person=found, current=current, status_code=409)
    except DuplicateNhsNumber:
        form.add_error(
            "nhs_number",
            "Another record has this NHS number: check it, or find that record instead",
        )
        return _form_page(request, form, person=found, status_code=422)
    return RedirectResponse(f"/people/{person_id}?saved=1", status_code=303)


# The care team.


@router.post("/people/{person_id}/care-team", response_class=HTMLResponse)
async def add_to_care_team(
    request: Request,
    person_id: str,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    email = _text(await request.form(), "care_team_email", 254).strip()
    problem: str | None = None
    if not email:
        problem = "Enter the email address of the user to add"
    else:
        try:
            user = auth_service.get_user(session, email)
            added = service.add_care_team_member(session, context, person_id, user.id)
        except (UnknownUser, UnknownCareTeamUser):
            problem = "No active user has that email address: check it and try again"
    if problem:
        return _person_view(
            request,
            session,
            context,
            principal,
            found,
            care_team_error=problem,
            care_team_email=email,
            status_code=422,
        )
    return RedirectResponse(
        f"/people/{person_id}?team={'added' if added else 'already'}#care-team", status_code=303
    )


@router.post("/people/{person_id}/care-team/{user_id:int}/remove", response_class=HTMLResponse)
def remove_from_care_team(
    request: Request,
    person_id: str,
    user_id: int,
    principal: Principal = allow(*PEOPLE_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id)
    if not isinstance(found, Person):
        return found
    service.remove_care_team_member(session, context, person_id, user_id)
    return RedirectResponse(f"/people/{person_id}?team=removed#care-team", status_code=303)
