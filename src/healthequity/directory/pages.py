"""Directory pages: the professionals' search (`/directory`), which needs signing in, and
the public one (`/find-help`), which does not and shows only active records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from healthequity.auth.dependencies import ALL_ROLES, allow_public, allow_signed_in
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory import origins, search
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

PROFESSIONAL_SEARCH = "/directory"
PUBLIC_SEARCH = "/find-help"
NAVIGATION = [NavItem("Find services", PROFESSIONAL_SEARCH, ALL_ROLES)]
HOME_SECTIONS = [
    HomeSection(
        "Find services",
        "Search the directory of local services by the needs a person has, how far they can "
        "travel, their age and when they can go: see how to refer and when each record was "
        "last checked.",
        PROFESSIONAL_SEARCH,
        frozenset({Role.CLINICIAN, Role.LINK_WORKER}),
    )
]

DISTANCES = (1, 3, 5, 10, 25)
PUBLIC_DEFAULT_MILES = "5"
FORM_FIELDS = ("need", "where", "within", "q", "age", "open_now", "accepting")
MAX_BACK_LENGTH = 2000  # a search's address is far shorter


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

    def query_string(self, *, where: str | None = None) -> str:
        """The search as its form sends it, to run it again (from somewhere else if asked)."""
        pairs = [("need", code) for code in self.needs]
        pairs += [("where", self.where if where is None else where)]
        pairs += [("within", self.within), ("q", self.q)]
        if self.age:
            pairs.append(("age", self.age))
        if self.open_now:
            pairs.append(("open_now", "yes"))
        if self.accepting:
            pairs.append(("accepting", "yes"))
        return urlencode(pairs)


@dataclass(frozen=True)
class Found:
    """What a search found: where it measured from and the services; or, when the words in
    the "where" box fit several places, those places to choose from instead."""

    place: origins.Place | None = None
    results: list[search.SearchResult] = field(default_factory=list)
    unclear: origins.PlaceNotClear | None = None


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
) -> Found:
    """Search as the form asks; problems go to `form.errors` and give no results."""
    if form.errors or not form.submitted:
        return Found()
    try:
        place = origins.resolve_place(session, form.where)
    except origins.PlaceNotClear as unclear:
        form.errors.append(("where", str(unclear)))
        return Found(unclear=unclear)
    except search.OriginError as error:
        form.errors.append(("where", str(error)))
        return Found()
    origin = place.origin if place else None
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
    return Found(place, results)


def _context(form: SearchForm, found: Found, search_path: str) -> dict[str, Any]:
    def choices(places: tuple[origins.PlaceChoice, ...]) -> list[tuple[str, str]]:
        """Each place as a link to the same search from it."""
        return [
            (choice.label, f"{search_path}?{form.query_string(where=choice.code)}")
            for choice in places
        ]

    unclear = found.unclear
    return {
        "form": form,
        "errors": form.errors,
        "origin": found.place.origin if found.place else None,
        "other_places": choices(found.place.others) if found.place else [],
        "place_choices": choices(unclear.choices) if unclear else [],
        "unlisted_places": unclear.matches - len(unclear.choices) if unclear else 0,
        "results": found.results,
        # Appended to each service's address, for its "Back to results" link.
        "service_query": "?" + urlencode({"back": f"{search_path}?{form.query_string()}"}),
        "needs": NEEDS,
        "needs_by_code": NEEDS_BY_CODE,
        "distances": DISTANCES,
    }


def back_to_results(back: str | None, search_path: str) -> str | None:
    """The link back to the search a service page was opened from, given its `back`
    parameter: `search_path` with the search form's own fields only, rebuilt here, so that
    it can lead nowhere else (no open redirect). None if `back` is not such a search."""
    if not back or len(back) > MAX_BACK_LENGTH:
        return None
    try:
        address = urlsplit(back)
    except ValueError:  # such as a malformed IPv6 host: not ours either
        return None
    if address.scheme or address.netloc or address.fragment or address.path != search_path:
        return None
    pairs = [
        (name, value)
        for name, value in parse_qsl(address.query, keep_blank_values=True)
        if name in FORM_FIELDS
    ]
    return f"{search_path}?{urlencode(pairs)}" if pairs else None


@router.get(PROFESSIONAL_SEARCH, response_class=HTMLResponse)
def professional_search(
    request: Request,
    principal: Principal = allow_signed_in(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = read_form(request)
    found = run_search(
        session, form, stale_after_days=request.app.state.settings.directory_stale_days
    )
    context = _context(form, found, PROFESSIONAL_SEARCH)
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


@router.get(PUBLIC_SEARCH, response_class=HTMLResponse)
def public_search(
    request: Request,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    form = read_form(request, default_within=PUBLIC_DEFAULT_MILES)
    # The public form has no age, opening or referral filters.
    form.age, form.open_now, form.accepting = "", False, False
    found = run_search(
        session,
        form,
        stale_after_days=request.app.state.settings.directory_stale_days,
        include_inactive=False,
    )
    context = _context(form, found, PUBLIC_SEARCH)
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
    search_path = PUBLIC_SEARCH if public else PROFESSIONAL_SEARCH
    results_href = back_to_results(request.query_params.get("back"), search_path)
    return render(
        request,
        "directory/service.html",
        {
            "title": service.name,
            "service": service,
            "public": public,
            "back_href": results_href or search_path,
            "back_text": "Back to results" if results_href else "Back to search",
            "needs": search.needs_of_service(session, service.id),
            "opening_times": search.opening_times_text(schedules),
            "schedules": schedules,
            "how_to_refer": search.how_to_refer(service, [p.number for p in service.phones]),
            "checked": search.checked_text(days),
            "stale": days is None or days > stale_days,
            "stale_days": stale_days,
        },
    )
