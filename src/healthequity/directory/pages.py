"""Directory pages: the professionals' search (`/directory`), which needs signing in, and
the public one (`/find-help`), which does not and shows only active records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from healthequity import geography
from healthequity.auth.dependencies import ALL_ROLES, allow_public, allow_signed_in
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory import search
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [NavItem("Find services", "/directory", ALL_ROLES)]
HOME_SECTIONS = [
    HomeSection(
        "Find services",
        "Search the directory of local services by the needs a person has, how far they can "
        "travel, their age and when they can go: see how to refer and when each record was "
        "last checked.",
        "/directory",
        frozenset({Role.CLINICIAN, Role.LINK_WORKER}),
    )
]

DISTANCES = (1, 3, 5, 10, 25)
PUBLIC_DEFAULT_MILES = "5"
FORM_FIELDS = ("need", "where", "within", "q", "age", "open_now", "accepting")


@dataclass
class SearchForm:
    """What was typed, kept as typed, and what it means once checked."""

    needs: list[str] = field(default_factory=list)
    where: str = ""
    within: str = ""
    q: str = ""
    age: str = ""
    open_now: bool = False
    accepting: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field id, message)
    submitted: bool = False

    def error_for(self, name: str) -> str | None:
        return next((message for key, message in self.errors if key == name), None)


def read_form(request: Request, *, default_within: str = "") -> SearchForm:
    params = request.query_params
    form = SearchForm(
        needs=[code for code in params.getlist("need") if code],
        where=params.get("where", "").strip()[:100],
        within=params.get("within", default_within).strip(),
        q=params.get("q", "").strip()[:200],
        age=params.get("age", "").strip()[:5],
        open_now=params.get("open_now") == "yes",
        accepting=params.get("accepting") == "yes",
        submitted=any(name in params for name in FORM_FIELDS),
    )
    unknown = [code for code in form.needs if code not in NEEDS_BY_CODE]
    if unknown:
        form.errors.append(("need-1", "Choose needs from the list"))
        form.needs = [code for code in form.needs if code in NEEDS_BY_CODE]
    if form.within and (not form.within.isdigit() or int(form.within) not in DISTANCES):
        form.errors.append(("within", "Choose a distance from the list"))
    if form.age and (not form.age.isdigit() or int(form.age) > 130):
        form.errors.append(("age", "Enter the age in whole years, for example 42"))
    return form


def run_search(
    session: Session, form: SearchForm, *, stale_after_days: int, include_inactive: bool = False
) -> tuple[search.Origin | None, list[search.SearchResult]]:
    """Search as the form asks; problems go to `form.errors` and give no results."""
    if form.errors or not form.submitted:
        return None, []
    where = form.where
    try:
        origin = search.resolve_origin(
            session,
            lsoa=where if geography.is_lsoa21_code(where.upper().replace(" ", "")) else None,
            postcode=None if geography.is_lsoa21_code(where.upper().replace(" ", "")) else where,
        )
    except search.OriginError as error:
        form.errors.append(("where", str(error)))
        return None, []
    within = float(form.within) if form.within and origin else None
    results = search.search_services(
        session,
        needs=form.needs,
        near=(origin.latitude, origin.longitude) if origin else None,
        within_miles=within,
        text=form.q or None,
        age=int(form.age) if form.age else None,
        open_now=form.open_now,
        accepting_referrals=True if form.accepting else None,
        include_inactive=include_inactive,
        stale_after_days=stale_after_days,
    )
    return origin, results


def _context(form: SearchForm, origin: search.Origin | None, results: list[Any]) -> dict[str, Any]:
    return {
        "form": form,
        "errors": form.errors,
        "origin": origin,
        "results": results,
        "needs": NEEDS,
        "needs_by_code": NEEDS_BY_CODE,
        "distances": DISTANCES,
    }


@router.get("/directory", response_class=HTMLResponse)
def professional_search(
    request: Request,
    principal: Principal = allow_signed_in(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = read_form(request)
    origin, results = run_search(
        session, form, stale_after_days=request.app.state.settings.directory_stale_days
    )
    context = _context(form, origin, results)
    context["title"] = "Find services"
    return render(
        request, "directory/search.html", context, status_code=422 if form.errors else 200
    )


@router.get("/directory/services/{service_id}", response_class=HTMLResponse)
def professional_service(
    request: Request,
    service_id: str,
    principal: Principal = allow_signed_in(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return _service_page(request, session, service_id, public=False)


@router.get("/find-help", response_class=HTMLResponse)
def public_search(
    request: Request,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = read_form(request, default_within=PUBLIC_DEFAULT_MILES)
    # The public form has no age, opening or referral filters.
    form.age, form.open_now, form.accepting = "", False, False
    origin, results = run_search(
        session,
        form,
        stale_after_days=request.app.state.settings.directory_stale_days,
        include_inactive=False,
    )
    context = _context(form, origin, results)
    context["title"] = "Find help near you"
    return render(
        request, "directory/public_search.html", context, status_code=422 if form.errors else 200
    )


@router.get("/find-help/services/{service_id}", response_class=HTMLResponse)
def public_service(
    request: Request,
    service_id: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return _service_page(request, session, service_id, public=True)


def _service_page(request: Request, session: Session, service_id: str, *, public: bool) -> Response:
    service = search.get_service(session, service_id, include_inactive=not public)
    if service is None:
        return error_response(request, 404, "There is no service with that reference.")
    schedules = [*service.schedules, *search.location_schedules_of(session, service)]
    stale_days = request.app.state.settings.directory_stale_days
    today = search.today_in_london()
    days = (today - service.last_reviewed).days if service.last_reviewed else None
    return render(
        request,
        "directory/service.html",
        {
            "title": service.name,
            "service": service,
            "public": public,
            "back_href": "/find-help" if public else "/directory",
            "needs": search.needs_of_service(session, service.id),
            "opening_times": search.opening_times_text(schedules),
            "schedules": schedules,
            "how_to_refer": search.how_to_refer(service, [p.number for p in service.phones]),
            "checked": search.checked_text(days),
            "stale": days is None or days > stale_days,
            "stale_days": stale_days,
        },
    )
