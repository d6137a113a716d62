"""Curator pages: the dashboard of records needing attention, the service editor (which
keeps what was typed when something is wrong), a service's change history, and marking a
service as reviewed. Curators and admins only; every change goes through `curation`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Role, User
from healthequity.auth.schemas import Principal
from healthequity.directory import curation
from healthequity.directory.models import Organization, ReferralMethod, Service, ServiceStatus
from healthequity.directory.search import get_service, today_in_london
from healthequity.directory.taxonomy import needs_of_service
from healthequity.needs import NEEDS
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

CURATORS = frozenset({Role.CURATOR, Role.ADMIN})
NAVIGATION = [NavItem("Curate directory", "/curate", CURATORS)]
HOME_SECTIONS = [
    HomeSection(
        "Curate the directory",
        "Edit services, mark them as reviewed, and see the records that need attention: "
        "stale, incomplete or looking duplicated.",
        "/curate",
        CURATORS,
    )
]

TEXT_FIELDS = (
    "name",
    "description",
    "status",
    "email",
    "url",
    "phone",
    "referral_method",
    "accepting_referrals_note",
    "minimum_age",
    "maximum_age",
    "eligibility_description",
)
OPENING_ROWS_BLANK = 2
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
    "description": "Description",
    "status": "Status",
    "email": "Email",
    "url": "Website",
    "phone": "Phone",
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
    "id": "Reference",
}


@dataclass
class ServiceForm:
    """The editor's values as typed (or as stored, before any typing) and its errors."""

    values: dict[str, str] = field(default_factory=dict)
    accepting_referrals: bool = True
    needs: list[str] = field(default_factory=list)
    opening_times: list[curation.OpeningTime] = field(default_factory=list)
    organization_id: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error_for(self, name: str) -> str | None:
        return next((message for key, message in self.errors if key == name), None)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def edit(self) -> curation.ServiceEdit:
        rows = [row for row in self.opening_times if row.days or row.opens or row.closes]
        return curation.ServiceEdit(
            **{name: self.values.get(name, "") for name in TEXT_FIELDS},
            accepting_referrals=self.accepting_referrals,
            needs=self.needs,
            opening_times=rows,
        )


def _age(value: float | None) -> str:
    return "" if value is None else str(int(value))


def form_of_service(session: Session, service: Service) -> ServiceForm:
    phone = next((p.number for p in service.phones if p.contact_id is None), "")
    return ServiceForm(
        values={
            "name": service.name,
            "description": service.description or "",
            "status": service.status.value,
            "email": service.email or "",
            "url": service.url or "",
            "phone": phone,
            "referral_method": service.referral_method.value if service.referral_method else "",
            "accepting_referrals_note": service.accepting_referrals_note or "",
            "minimum_age": _age(service.minimum_age),
            "maximum_age": _age(service.maximum_age),
            "eligibility_description": service.eligibility_description or "",
        },
        accepting_referrals=service.accepting_referrals,
        needs=needs_of_service(session, service.id),
        opening_times=curation.opening_time_rows_of(service),
        organization_id=service.organization_id,
    )


def form_of_post(data: FormData) -> ServiceForm:
    def text(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    rows = []
    number = 1
    while f"opening-{number}-days" in data:
        rows.append(
            curation.OpeningTime(
                text(f"opening-{number}-days")[:100],
                text(f"opening-{number}-opens")[:10],
                text(f"opening-{number}-closes")[:10],
            )
        )
        number += 1
        if number > 50:
            break
    return ServiceForm(
        values={name: text(name)[:5000] for name in TEXT_FIELDS},
        accepting_referrals=text("accepting_referrals") == "yes",
        needs=[code for code in data.getlist("needs") if isinstance(code, str)],
        opening_times=rows,
        organization_id=text("organization_id"),
    )


# Error ids of the form: each names the input the summary links to.
_NEEDS_INPUT = "needs-1"


def _errors(error: curation.CurationError) -> list[tuple[str, str]]:
    order = [*TEXT_FIELDS, "organization_id", "needs"]
    ranked = sorted(
        error.errors.items(),
        key=lambda item: order.index(item[0]) if item[0] in order else len(order),
    )
    return [(_NEEDS_INPUT if name == "needs" else name, message) for name, message in ranked]


def _editor(
    request: Request,
    session: Session,
    form: ServiceForm,
    *,
    service: Service | None,
    status_code: int = 200,
) -> Response:
    rows = list(form.opening_times) + [
        curation.OpeningTime("", "", "") for _ in range(OPENING_ROWS_BLANK)
    ]
    context: dict[str, Any] = {
        "title": f"Edit {service.name}" if service else "Add a service",
        "service": service,
        "form": form,
        "errors": form.errors,
        "opening_rows": rows,
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
        form.errors = _errors(error)
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
        return error_response(request, 404, "There is no service with that reference.")
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
        return error_response(request, 404, "There is no service with that reference.")
    form = form_of_post(await request.form())
    form.organization_id = service.organization_id
    try:
        curation.update_service(session, context, service_id, form.edit())
    except curation.CurationError as error:
        form.errors = _errors(error)
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
        return error_response(request, 404, "There is no service with that reference.")
    return RedirectResponse(f"/curate/services/{service_id}?reviewed=1", status_code=303)


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


@router.get("/curate/services/{service_id}/history", response_class=HTMLResponse)
def service_history(
    request: Request,
    service_id: str,
    principal: Principal = allow(Role.CURATOR, Role.ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    service = get_service(session, service_id, include_inactive=True)
    if service is None:
        return error_response(request, 404, "There is no service with that reference.")
    changes = curation.history(session, "service", service_id)
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
    return render(
        request,
        "directory/curate_history.html",
        {"title": f"History of {service.name}", "service": service, "rows": rows},
    )
