"""Curator pages: the dashboard of records needing attention; editors for services (with
their phone numbers and opening times), organisations and locations (with the services
offered there), which keep what was typed when something is wrong; the mapping of imported
taxonomy terms to needs; and each record's change history. Curators and admins only; every
change goes through `curation` (or `taxonomy.map_term_to_need`), which audits it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Role, User
from healthequity.auth.schemas import Principal
from healthequity.directory import curation
from healthequity.directory.models import (
    Location,
    Organization,
    ReferralMethod,
    Service,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.directory.search import get_service, today_in_london
from healthequity.directory.taxonomy import (
    UnknownTaxonomyTerm,
    map_term_to_need,
    needs_of_service,
)
from healthequity.geography import GeographyError
from healthequity.needs import NEEDS, NEEDS_BY_CODE, UnknownNeed
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

CURATORS = frozenset({Role.CURATOR, Role.ADMIN})
NAVIGATION = [NavItem("Curate directory", "/curate", CURATORS)]
HOME_SECTIONS = [
    HomeSection(
        "Curate the directory",
        "See the records that need attention (stale, incomplete or looking duplicated), edit "
        "services, organisations and locations, and map imported taxonomy terms to needs.",
        "/curate",
        CURATORS,
    )
]

BLANK_ROWS = 2  # empty rows of opening times and of phone numbers, to add more
PAGE_SIZE = 100
MAX_ROWS = 50

TEXT_FIELDS = (
    "name",
    "description",
    "status",
    "email",
    "url",
    "referral_method",
    "accepting_referrals_note",
    "minimum_age",
    "maximum_age",
    "eligibility_description",
)
ORGANIZATION_FIELDS = ("name", "alternate_name", "description", "email", "website")
LOCATION_FIELDS = (
    "name",
    "description",
    "address_1",
    "address_2",
    "city",
    "postal_code",
    "latitude",
    "longitude",
)
# The order of each form's fields on the page, which the error summary follows; a name
# stands for itself and for its rows ("phone" for "phone-2-number").
SERVICE_ORDER = (
    "organization_id",
    "name",
    "description",
    "status",
    "phone",
    "email",
    "url",
    "referral_method",
    "accepting_referrals_note",
    "minimum_age",
    "maximum_age",
    "eligibility_description",
    "needs",
    "opening",
)
LOCATION_ORDER = ("service_id", *LOCATION_FIELDS)
REFERRAL_METHODS = (
    ("", "Not recorded"),
    (ReferralMethod.IN_APP.value, "Through this service (in the app)"),
    (ReferralMethod.EMAIL.value, "By email"),
    (ReferralMethod.PHONE.value, "By phone"),
    (ReferralMethod.SELF_REFERRAL.value, "People refer themselves"),
)
STATUSES = tuple((status.value, status.value.capitalize()) for status in ServiceStatus)
FIELD_LABELS = {
    "name": "Name",
    "alternate_name": "Other name",
    "description": "Description",
    "status": "Status",
    "email": "Email",
    "url": "Website",
    "website": "Website",
    "phone": "Phone",  # in changes saved when a service had one phone number here
    "phones": "Phone numbers",
    "referral_method": "How to refer",
    "accepting_referrals": "Accepting referrals",
    "accepting_referrals_note": "Referrals note",
    "minimum_age": "Minimum age",
    "maximum_age": "Maximum age",
    "eligibility_description": "Who it is for",
    "fees": "Fees",
    "needs": "Needs",
    "opening_times": "Opening times",
    "last_reviewed": "Last reviewed",
    "reviewed_by_user_id": "Reviewed by (user id)",
    "organization_id": "Organisation",
    "locations": "Locations",
    "services": "Services",
    "address_1": "Address line 1",
    "address_2": "Address line 2",
    "city": "Town or city",
    "postal_code": "Postcode",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "lsoa21_code": "Area (LSOA)",
    "need_code": "Need",
    "id": "Reference",
}
NO_SERVICE = "There is no service with that reference."
NO_ORGANIZATION = "There is no organisation with that reference."
NO_LOCATION = "There is no location with that reference."
NO_TERM = "There is no taxonomy term with that reference."


# Forms: what was typed (or what is stored, before any typing) and what is wrong with it.


@dataclass
class ServiceForm(Form):
    accepting_referrals: bool = True
    needs: list[str] = field(default_factory=list)
    phones: list[curation.PhoneNumber] = field(default_factory=list)
    opening_times: list[curation.OpeningTime] = field(default_factory=list)
    organization_id: str = ""

    def edit(self) -> curation.ServiceEdit:
        return curation.ServiceEdit(
            **{name: self.values.get(name, "") for name in TEXT_FIELDS},
            accepting_referrals=self.accepting_referrals,
            needs=self.needs,
            phones=self.phones,
            opening_times=self.opening_times,
        )


@dataclass
class LocationForm(Form):
    service_id: str = ""
    # Set when the postcode is not in the loaded postcode directory: the curator may save
    # it anyway by ticking the box this offers.
    offer_unknown_postcode: bool = False
    allow_unknown_postcode: bool = False

    def edit(self) -> curation.LocationEdit:
        return curation.LocationEdit(**{name: self.value(name) for name in LOCATION_FIELDS})


def _text(data: FormData, name: str, limit: int = 5000) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _rows(data: FormData, prefix: str, parts: Sequence[str], limit: int) -> list[list[str]]:
    """Numbered rows of a form ("opening-1-days", "opening-1-opens", ...) as typed."""
    rows: list[list[str]] = []
    while f"{prefix}-{len(rows) + 1}-{parts[0]}" in data and len(rows) < MAX_ROWS:
        number = len(rows) + 1
        rows.append([_text(data, f"{prefix}-{number}-{part}", limit) for part in parts])
    return rows


def _errors(
    error: curation.CurationError, order: Sequence[str], aliases: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """The errors in the order of the form's fields, each by the id of the input it names."""

    def rank(name: str) -> int:
        return next(
            (i for i, key in enumerate(order) if name == key or name.startswith(f"{key}-")),
            len(order),
        )

    ranked = sorted(error.errors.items(), key=lambda item: rank(item[0]))
    return [((aliases or {}).get(name, name), message) for name, message in ranked]


def _without_blank_tail(rows: Sequence[Any]) -> list[Any]:
    """Rows (dataclasses of text) as typed without the empty ones at the end; each row keeps
    its place, so that an error about "row 3" is shown on the third row."""
    kept = list(rows)
    while kept and not any(part.strip() for part in astuple(kept[-1])):
        kept.pop()
    return kept


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    pages: int
    total: int
    previous_url: str | None
    next_url: str | None


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isdigit() else 1


def _paging(path: str, query: dict[str, str], page: int, total: int) -> Paging:
    pages = max(1, -(-total // PAGE_SIZE))

    def url(number: int) -> str:
        return f"{path}?{urlencode({**{k: v for k, v in query.items() if v}, 'page': number})}"

    return Paging(
        page,
        pages,
        total,
        url(page - 1) if page > 1 else None,
        url(page + 1) if page < pages else None,
    )


def _service_choices(
    session: Session, *, organization_id: str | None = None, leave_out: Sequence[str] = ()
) -> list[tuple[str, list[Service]]]:
    """Services by organisation (name order), for a select with a group per organisation."""
    query = (
        select(Service)
        .join(Organization, Organization.id == Service.organization_id)
        .order_by(Organization.name, Organization.id, Service.name, Service.id)
    )
    if organization_id:
        query = query.where(Service.organization_id == organization_id)
    left_out = set(leave_out)
    services = [s for s in session.scalars(query) if s.id not in left_out]
    return [
        (name, list(group))
        for (_org_id, name), group in groupby(
            services, key=lambda s: (s.organization_id, s.organization.name)
        )
    ]


# The dashboard and the service editor.


def _age(value: float | None) -> str:
    return "" if value is None else str(int(value))


def form_of_service(session: Session, service: Service) -> ServiceForm:
    return ServiceForm(
        values={
            "name": service.name,
            "description": service.description or "",
            "status": service.status.value,
            "email": service.email or "",
            "url": service.url or "",
            "referral_method": service.referral_method.value if service.referral_method else "",
            "accepting_referrals_note": service.accepting_referrals_note or "",
            "minimum_age": _age(service.minimum_age),
            "maximum_age": _age(service.maximum_age),
            "eligibility_description": service.eligibility_description or "",
        },
        accepting_referrals=service.accepting_referrals,
        needs=needs_of_service(session, service.id),
        phones=curation.phone_numbers_of(service),
        opening_times=curation.opening_time_rows_of(service),
        organization_id=service.organization_id,
    )


def form_of_post(data: FormData) -> ServiceForm:
    return ServiceForm(
        values={name: _text(data, name) for name in TEXT_FIELDS},
        accepting_referrals=_text(data, "accepting_referrals") == "yes",
        needs=[code for code in data.getlist("needs") if isinstance(code, str)],
        phones=[
            curation.PhoneNumber(*row)
            for row in _rows(data, "phone", ("number", "description"), 200)
        ],
        opening_times=[
            curation.OpeningTime(*row)
            for row in _rows(data, "opening", ("days", "opens", "closes"), 100)
        ],
        organization_id=_text(data, "organization_id", 100),
    )


def _editor(
    request: Request,
    session: Session,
    form: ServiceForm,
    *,
    service: Service | None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "title": f"Edit {service.name}" if service else "Add a service",
        "service": service,
        "form": form,
        "errors": form.errors,
        "phone_rows": _without_blank_tail(form.phones)
        + [curation.PhoneNumber("") for _ in range(BLANK_ROWS)],
        "opening_rows": _without_blank_tail(form.opening_times)
        + [curation.OpeningTime("", "", "") for _ in range(BLANK_ROWS)],
        "needs": NEEDS,
        "statuses": STATUSES,
        "referral_methods": REFERRAL_METHODS,
        "saved": request.query_params.get("saved") == "1",
        "reviewed": request.query_params.get("reviewed") == "1",
        "organizations": []
        if service
        else list(session.scalars(select(Organization).order_by(Organization.name))),
    }
    if service is not None:
        context["reviewer"] = (
            session.get(User, service.reviewed_by_user_id) if service.reviewed_by_user_id else None
        )
        context["locations"] = sorted(
            (
                (curation.location_label(link.location), link.location)
                for link in service.service_at_locations
            ),
            key=lambda pair: (pair[0], pair[1].id),
        )
    return render(request, "directory/curate_service.html", context, status_code=status_code)


@router.get("/curate", response_class=HTMLResponse)
def dashboard(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    stale_days = request.app.state.settings.directory_stale_days
    board = curation.curator_dashboard(session, today_in_london(), stale_days)
    return render(
        request,
        "directory/curate_dashboard.html",
        {"title": "Curate the directory", "dashboard": board, "stale_days": stale_days},
    )


@router.get("/curate/services/new", response_class=HTMLResponse)
def new_service_form(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = ServiceForm(values={"status": ServiceStatus.ACTIVE.value})
    form.organization_id = request.query_params.get("organization_id", "")
    return _editor(request, session, form, service=None)


@router.post("/curate/services/new", response_class=HTMLResponse)
async def create_service(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = form_of_post(await request.form())
    try:
        service = curation.create_service(session, context, form.organization_id, form.edit())
    except curation.CurationError as error:
        form.errors = _errors(error, SERVICE_ORDER, {"needs": "needs-1"})
        return _editor(request, session, form, service=None, status_code=422)
    return RedirectResponse(f"/curate/services/{service.id}?saved=1", status_code=303)


@router.get("/curate/services/{service_id}", response_class=HTMLResponse)
def edit_service_form(
    request: Request,
    service_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    service = get_service(session, service_id, include_inactive=True)
    if service is None:
        return error_response(request, 404, NO_SERVICE)
    return _editor(request, session, form_of_service(session, service), service=service)


@router.post("/curate/services/{service_id}", response_class=HTMLResponse)
async def edit_service(
    request: Request,
    service_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    service = get_service(session, service_id, include_inactive=True)
    if service is None:
        return error_response(request, 404, NO_SERVICE)
    form = form_of_post(await request.form())
    form.organization_id = service.organization_id
    try:
        curation.update_service(session, context, service_id, form.edit())
    except curation.CurationError as error:
        form.errors = _errors(error, SERVICE_ORDER, {"needs": "needs-1"})
        service = get_service(session, service_id, include_inactive=True)
        return _editor(request, session, form, service=service, status_code=422)
    return RedirectResponse(f"/curate/services/{service_id}?saved=1", status_code=303)


@router.post("/curate/services/{service_id}/review")
def review_service(
    request: Request,
    service_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        curation.mark_reviewed(session, context, service_id)
    except curation.RecordNotFound:
        return error_response(request, 404, NO_SERVICE)
    return RedirectResponse(f"/curate/services/{service_id}?reviewed=1", status_code=303)


# Organisations.


def _organization_form(organization: Organization) -> Form:
    return Form(values={name: getattr(organization, name) or "" for name in ORGANIZATION_FIELDS})


def _organization_page(
    request: Request,
    session: Session,
    form: Form,
    *,
    organization_id: str | None,
    status_code: int = 200,
) -> Response:
    records = curation.organization_records(session, organization_id) if organization_id else None
    name = records.organization.name if records else None
    return render(
        request,
        "directory/curate_organisation.html",
        {
            "title": f"Edit {name}" if name else "Add an organisation",
            "records": records,
            "locations": [
                (curation.location_label(location), location)
                for location in (records.locations if records else [])
            ],
            "form": form,
            "errors": form.errors,
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status_code,
    )


def _organization_edit(data: FormData) -> tuple[Form, curation.OrganizationEdit]:
    form = Form(values={name: _text(data, name) for name in ORGANIZATION_FIELDS})
    return form, curation.OrganizationEdit(**form.values)


@router.get("/curate/organisations", response_class=HTMLResponse)
def organisations(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    text = request.query_params.get("q", "")[:200]
    page = _page_number(request)
    found, total = curation.find_organizations(
        session, text, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "directory/curate_organisations.html",
        {
            "title": "Organisations",
            "text": text,
            "organizations": found,
            "paging": _paging("/curate/organisations", {"q": text}, page, total),
        },
    )


@router.get("/curate/organisations/new", response_class=HTMLResponse)
def new_organisation_form(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return _organization_page(request, session, Form(), organization_id=None)


@router.post("/curate/organisations/new", response_class=HTMLResponse)
async def create_organisation(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form, edit = _organization_edit(await request.form())
    try:
        organization = curation.create_organization(session, context, edit)
    except curation.CurationError as error:
        form.errors = _errors(error, ORGANIZATION_FIELDS)
        return _organization_page(request, session, form, organization_id=None, status_code=422)
    return RedirectResponse(f"/curate/organisations/{organization.id}?saved=1", status_code=303)


@router.get("/curate/organisations/{organization_id}", response_class=HTMLResponse)
def edit_organisation_form(
    request: Request,
    organization_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    organization = session.get(Organization, organization_id)
    if organization is None:
        return error_response(request, 404, NO_ORGANIZATION)
    form = _organization_form(organization)
    return _organization_page(request, session, form, organization_id=organization.id)


@router.post("/curate/organisations/{organization_id}", response_class=HTMLResponse)
async def edit_organisation(
    request: Request,
    organization_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    if session.get(Organization, organization_id) is None:
        return error_response(request, 404, NO_ORGANIZATION)
    form, edit = _organization_edit(await request.form())
    try:
        curation.update_organization(session, context, organization_id, edit)
    except curation.CurationError as error:
        form.errors = _errors(error, ORGANIZATION_FIELDS)
        return _organization_page(
            request, session, form, organization_id=organization_id, status_code=422
        )
    return RedirectResponse(f"/curate/organisations/{organization_id}?saved=1", status_code=303)


# Locations.


def _location_form(location: Location) -> LocationForm:
    address = location.addresses[0] if location.addresses else None
    return LocationForm(
        values={
            "name": location.name or "",
            "description": location.description or "",
            "address_1": address.address_1 if address else "",
            "address_2": (address.address_2 or "") if address else "",
            "city": address.city if address else "",
            "postal_code": address.postal_code if address else "",
            # As stored (a float's shortest exact text), so that saving unchanged moves nothing.
            "latitude": "" if location.latitude is None else str(location.latitude),
            "longitude": "" if location.longitude is None else str(location.longitude),
        }
    )


def _location_post(data: FormData) -> LocationForm:
    return LocationForm(
        values={name: _text(data, name) for name in LOCATION_FIELDS},
        service_id=_text(data, "service_id", 100),
        allow_unknown_postcode=_text(data, "allow_unknown_postcode") == "yes",
    )


def _area_name(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return geography.lsoa(code).lsoa21_name
    except GeographyError:
        return None


def _location_page(
    request: Request,
    session: Session,
    form: LocationForm,
    *,
    location: Location | None,
    organization_id: str | None = None,
    status_code: int = 200,
) -> Response:
    label = curation.location_label(location) if location else None
    context: dict[str, Any] = {
        "title": f"Edit {label}" if label else "Add a location",
        "label": label,
        "location": location,
        "form": form,
        "errors": form.errors,
        "saved": request.query_params.get("saved") == "1",
        "unplaced": request.query_params.get("unplaced") == "1",
        "linked": request.query_params.get("linked"),
    }
    if location is None:
        context["service_choices"] = _service_choices(session, organization_id=organization_id)
    else:
        here = curation.services_at_location(session, location.id)
        context["services_here"] = here
        context["service_choices"] = _service_choices(
            session, leave_out=[service.id for service in here]
        )
        context["area_name"] = _area_name(location.lsoa21_code)
    return render(request, "directory/curate_location.html", context, status_code=status_code)


def _location_errors(form: LocationForm, error: curation.CurationError) -> None:
    form.errors = _errors(error, LOCATION_ORDER)
    form.offer_unknown_postcode = isinstance(error, curation.PostcodeNotFound)


def _saved_location_url(location_id: str, warning: str | None) -> str:
    return f"/curate/locations/{location_id}?saved=1" + ("&unplaced=1" if warning else "")


@router.get("/curate/locations/new", response_class=HTMLResponse)
def new_location_form(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    service_id = request.query_params.get("service_id", "")
    service = session.get(Service, service_id) if service_id else None
    organization_id = request.query_params.get("organization_id") or (
        service.organization_id if service else None
    )
    form = LocationForm(service_id=service.id if service else "")
    return _location_page(request, session, form, location=None, organization_id=organization_id)


@router.post("/curate/locations/new", response_class=HTMLResponse)
async def create_location(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = _location_post(await request.form())
    try:
        result = curation.create_location(
            session,
            context,
            form.service_id,
            form.edit(),
            allow_unknown_postcode=form.allow_unknown_postcode,
        )
    except curation.CurationError as error:
        _location_errors(form, error)
        return _location_page(request, session, form, location=None, status_code=422)
    return RedirectResponse(
        _saved_location_url(result.location.id, result.warning), status_code=303
    )


@router.get("/curate/locations/{location_id}", response_class=HTMLResponse)
def edit_location_form(
    request: Request,
    location_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        location = curation.get_location(session, location_id)
    except curation.RecordNotFound:
        return error_response(request, 404, NO_LOCATION)
    return _location_page(request, session, _location_form(location), location=location)


@router.post("/curate/locations/{location_id}", response_class=HTMLResponse)
async def edit_location(
    request: Request,
    location_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        location = curation.get_location(session, location_id)
    except curation.RecordNotFound:
        return error_response(request, 404, NO_LOCATION)
    form = _location_post(await request.form())
    try:
        result = curation.update_location(
            session,
            context,
            location_id,
            form.edit(),
            allow_unknown_postcode=form.allow_unknown_postcode,
        )
    except curation.CurationError as error:
        _location_errors(form, error)
        return _location_page(request, session, form, location=location, status_code=422)
    return RedirectResponse(_saved_location_url(location_id, result.warning), status_code=303)


async def _link_or_unlink(
    request: Request, session: Session, context: AuditContext, location_id: str, *, link: bool
) -> Response:
    try:
        location = curation.get_location(session, location_id)
    except curation.RecordNotFound:
        return error_response(request, 404, NO_LOCATION)
    service_id = _text(await request.form(), "service_id", 100)
    change = curation.link_service_to_location if link else curation.unlink_service_from_location
    try:
        change(session, context, location_id, service_id)
    except curation.CurationError as error:
        form = _location_form(location)
        form.errors = [("link-service", error.errors["service_id"])]
        return _location_page(request, session, form, location=location, status_code=422)
    outcome = "added" if link else "removed"
    return RedirectResponse(f"/curate/locations/{location_id}?linked={outcome}", status_code=303)


@router.post("/curate/locations/{location_id}/link", response_class=HTMLResponse)
async def link_service(
    request: Request,
    location_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return await _link_or_unlink(request, session, context, location_id, link=True)


@router.post("/curate/locations/{location_id}/unlink", response_class=HTMLResponse)
async def unlink_service(
    request: Request,
    location_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return await _link_or_unlink(request, session, context, location_id, link=False)


# Taxonomy terms and their needs.


@dataclass(frozen=True, slots=True)
class TermRow:
    use: curation.TermUse
    field_id: str  # the id of the row's need select
    chosen: str  # the need selected: the mapping, or what was chosen when it failed
    error: str | None = None


def _taxonomy_page(
    request: Request,
    session: Session,
    *,
    failed: tuple[str, str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The terms, filtered as the query asks; `failed` is (term id, need chosen, error)."""
    params = request.query_params
    unmapped = params.get("unmapped") == "1"
    text = params.get("q", "")[:200]
    page = _page_number(request)
    uses, total = curation.imported_terms(
        session,
        unmapped_only=unmapped,
        text=text,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    rows = []
    for number, use in enumerate(uses, start=1):
        row = TermRow(use, f"need-{number}", use.term.need_code or "")
        if failed and failed[0] == use.term.id:
            row = TermRow(use, row.field_id, failed[1], failed[2])
        rows.append(row)
    errors = [(row.field_id, row.error) for row in rows if row.error]
    if failed and not errors:  # the term is not on this page of the list
        errors = [("terms-heading", failed[2])]
    saved = session.get(TaxonomyTerm, params.get("saved", "")) if params.get("saved") else None
    query = {"unmapped": "1" if unmapped else "", "q": text}
    back = {**query, "page": str(page) if page > 1 else ""}
    return render(
        request,
        "directory/curate_taxonomy.html",
        {
            "title": "Taxonomy terms and needs",
            "rows": rows,
            "errors": errors,
            "unmapped": unmapped,
            "text": text,
            "needs": NEEDS,
            "needs_by_code": NEEDS_BY_CODE,
            "saved": saved,
            "return_query": urlencode({k: v for k, v in back.items() if v}),
            "paging": _paging("/curate/taxonomy", query, page, total),
        },
        status_code=status_code,
    )


@router.get("/curate/taxonomy", response_class=HTMLResponse)
def taxonomy_terms(
    request: Request,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return _taxonomy_page(request, session)


@router.post("/curate/taxonomy/terms/{term_id}", response_class=HTMLResponse)
async def map_term(
    request: Request,
    term_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    need_code = _text(await request.form(), "need_code", 100)
    try:
        map_term_to_need(session, context, term_id, need_code or None)
    except UnknownTaxonomyTerm:
        return error_response(request, 404, NO_TERM)
    except (UnknownNeed, ValueError):
        # Only a tampered form or a built-in needs term gets here: the list offers neither.
        failed = (term_id, need_code, "Choose a need from the list, or none")
        return _taxonomy_page(request, session, failed=failed, status_code=422)
    back = {**dict(request.query_params), "saved": term_id}
    return RedirectResponse(f"/curate/taxonomy?{urlencode(back)}", status_code=303)


# Histories.


@dataclass(frozen=True, slots=True)
class HistoryRow:
    when: Any
    who: str
    source: str
    field: str
    before: str
    after: str


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _history_rows(session: Session, entity_type: str, entity_id: str) -> list[HistoryRow]:
    """Every change to the record, newest first: one row for each field changed."""
    changes = curation.history(session, entity_type, entity_id)
    user_ids = {change.user_id for change in changes if change.user_id is not None}
    names = {
        user.id: user.display_name
        for user in session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    rows: list[HistoryRow] = []
    for change in changes:
        try:
            diff = json.loads(change.change)
        except ValueError:
            diff = {}
        if not isinstance(diff, dict):
            diff = {}
        who = names.get(change.user_id, "Unknown user") if change.user_id else change.source
        for name, pair in sorted(diff.items()):
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            rows.append(
                HistoryRow(
                    change.changed_at,
                    who,
                    change.source,
                    FIELD_LABELS.get(name, name),
                    _shown(before),
                    _shown(after),
                )
            )
        if not diff:
            rows.append(
                HistoryRow(change.changed_at, who, change.source, "(record)", "", "changed")
            )
    return rows


def _history_page(
    request: Request,
    session: Session,
    entity_type: str,
    entity_id: str,
    *,
    name: str,
    caption: str,
    back: tuple[str, str],
) -> Response:
    return render(
        request,
        "directory/curate_history.html",
        {
            "title": f"History of {name}",
            "name": name,
            "caption": caption,
            "back_href": back[0],
            "back_text": back[1],
            "rows": _history_rows(session, entity_type, entity_id),
        },
    )


@router.get("/curate/services/{service_id}/history", response_class=HTMLResponse)
def service_history(
    request: Request,
    service_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    service = session.get(Service, service_id)
    if service is None:
        return error_response(request, 404, NO_SERVICE)
    return _history_page(
        request,
        session,
        "service",
        service.id,
        name=service.name,
        caption=service.organization.name,
        back=(f"/curate/services/{service.id}", "Back to the service"),
    )


@router.get("/curate/organisations/{organization_id}/history", response_class=HTMLResponse)
def organisation_history(
    request: Request,
    organization_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    organization = session.get(Organization, organization_id)
    if organization is None:
        return error_response(request, 404, NO_ORGANIZATION)
    return _history_page(
        request,
        session,
        "organization",
        organization.id,
        name=organization.name,
        caption="Organisation",
        back=(f"/curate/organisations/{organization.id}", "Back to the organisation"),
    )


@router.get("/curate/locations/{location_id}/history", response_class=HTMLResponse)
def location_history(
    request: Request,
    location_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        location = curation.get_location(session, location_id)
    except curation.RecordNotFound:
        return error_response(request, 404, NO_LOCATION)
    return _history_page(
        request,
        session,
        "location",
        location.id,
        name=curation.location_label(location),
        caption="Location",
        back=(f"/curate/locations/{location.id}", "Back to the location"),
    )


@router.get("/curate/taxonomy/terms/{term_id}/history", response_class=HTMLResponse)
def term_history(
    request: Request,
    term_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        return error_response(request, 404, NO_TERM)
    return _history_page(
        request,
        session,
        "taxonomy_term",
        term.id,
        name=term.name,
        caption=f"Term of {term.taxonomy.name}" if term.taxonomy else "Taxonomy term",
        back=("/curate/taxonomy", "Back to the taxonomy terms"),
    )
