"""Making referrals, in few clicks: the person's needs with matched services, their consent,
and the referrals sent.

1. `/people/{id}/needs`: each need the social history shows (its level and SNOMED CT
   finding), "Do they want help with this?" and, under yes, the three best services for it
   (by need, distance from the person's postcode or area, their age, accepting referrals),
   each with a box to tick, so that referrals for several needs are chosen at once; and
   "Which matters most to them?".
2. `/people/{id}/refer`: one consent for everything chosen: what is shared (name, contact as
   the person prefers, the needs, a short note), with which organisation, for what and until
   when. A service that is not accepting referrals is refused there, with others to choose
   instead. Once the person agrees, their consent is recorded for each organisation, then a
   referral made to each service.
3. `/people/{id}/refer/sent`: the referrals sent, with their follow-up dates.

Clinicians and link workers of the person's care team only. Sensitive needs are shown to
them alone, and every view of them is audited.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.schemas import Principal
from healthequity.dates import long_date
from healthequity.directory import search
from healthequity.directory.models import Service, ServiceStatus
from healthequity.needs import NEEDS_BY_CODE
from healthequity.people.lookup import person_for_page
from healthequity.people.models import Person
from healthequity.referrals import service
from healthequity.referrals.exceptions import ReferralError, ReferralNotFound
from healthequity.referrals.models import Referral
from healthequity.social_history import service as social_history
from healthequity.social_history.models import IdentifiedNeed, NeedLevel
from healthequity.social_history.pages import CLINICAL_ROLES, REFUSAL, need_labels
from healthequity.social_history.service import audit_sensitive_view, may_see_sensitive
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

SERVICES_SHOWN = 3
MORE_SERVICES = 10
NOTE_LIMIT = 1000
# How long the provider may keep what is shared, in months; six unless the person says.
KEEP_MONTHS = (("3", "3 months"), ("6", "6 months"), ("12", "1 year"))
DEFAULT_KEEP_MONTHS = "6"
REFER = "refer"
SAVE = "save"
MORE = "more:"


def months_after(day: date, months: int) -> date:
    """The same day `months` later (the month's last day if it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# The person's needs, one block a need.


@dataclass
class NeedBlock:
    """A need the person has now (all its findings), what they said about it, and the
    services matched to it."""

    code: str
    label: str
    findings: list[IdentifiedNeed]
    level: dict[str, str]  # the highest level's words and tag
    sensitive: bool
    wants_help: bool | None
    matters_most: bool
    waiting_review: bool  # from the person's own answers, not reviewed yet
    services: list[search.SearchResult] = field(default_factory=list)
    showing_more: bool = False
    follow_up_days: dict[str, int] = field(default_factory=dict)  # by service id

    @property
    def need_ids(self) -> list[str]:
        return [finding.id for finding in self.findings]

    @property
    def service_options(self) -> list[tuple[str, str, str]]:
        """Each service as a box to tick: its id, its name, and what to know to choose it."""
        return [
            (result.id, result.name, service_hint(result, self.follow_up_days.get(result.id)))
            for result in self.services
        ]


def need_blocks(session: Session, person: Person, principal: Principal) -> list[NeedBlock]:
    """The person's current needs by need, what matters most to them first."""
    findings = social_history.current_needs(
        session, person.id, include_sensitive=may_see_sensitive(principal, person)
    )
    waiting = {response.id for response in social_history.awaiting_review(session, person.id)}
    grouped: dict[str, list[IdentifiedNeed]] = {}
    for finding in findings:
        grouped.setdefault(finding.need_code, []).append(finding)
    levels = list(NeedLevel)
    blocks: list[NeedBlock] = []
    for code, group in grouped.items():
        highest = max(group, key=lambda finding: levels.index(finding.level))
        known = NEEDS_BY_CODE.get(code)
        blocks.append(
            NeedBlock(
                code=code,
                label=known.label if known else code,
                findings=group,
                level=need_labels(highest),
                sensitive=any(finding.sensitive for finding in group),
                wants_help=next((f.wants_help for f in group if f.wants_help is not None), None),
                matters_most=any(finding.priority == 1 for finding in group),
                waiting_review=any(finding.response_id in waiting for finding in group),
            )
        )
    return blocks


def person_origin(session: Session, person: Person) -> search.Origin | None:
    """Where distances are measured from: the person's postcode if the postcode directory
    knows it, else the area (LSOA) they live in; None if neither is known."""
    for postcode, lsoa in ((person.postcode, None), (None, person.lsoa21_code)):
        try:
            origin = search.resolve_origin(session, postcode=postcode, lsoa=lsoa)
        except search.OriginError:
            continue
        if origin is not None:
            return origin
    return None


def directory_place(person: Person) -> str:
    """Where the directory's search should start from for this person."""
    return person.postcode or person.lsoa21_code or ""


def match_services(
    request: Request,
    session: Session,
    person: Person,
    blocks: Sequence[NeedBlock],
    origin: search.Origin | None,
    *,
    more: set[str],
) -> None:
    """The best services accepting referrals for each need: the three best, or more where
    asked."""
    for block in blocks:
        block.showing_more = block.code in more
        block.services = search.search_services(
            session,
            needs=[block.code],
            near=(origin.latitude, origin.longitude) if origin else None,
            age=person.age,
            accepting_referrals=True,
            stale_after_days=request.app.state.settings.directory_stale_days,
            limit=MORE_SERVICES if block.showing_more else SERVICES_SHOWN,
        )
        block.follow_up_days = service.follow_up_days_of(
            session, [result.id for result in block.services]
        )


def service_hint(result: search.SearchResult, follow_up_days: int | None = None) -> str:
    """What to know to choose a service, in one line under its name."""
    parts = [result.organisation_name]
    if result.distance_miles is not None:
        parts.append(f"{result.distance_miles:.1f} miles away")
    parts.append(result.how_to_refer)
    if result.opening_times:
        parts.append(f"Open {result.opening_times}")
    if follow_up_days is not None:
        parts.append(f"Referrals followed up after {follow_up_days} days")
    return ". ".join(part.rstrip(".") for part in parts) + "."


@dataclass
class NeedsForm(Form):
    """What was chosen on the needs page: yes or no for each need (`help-{code}`), the
    services ticked (`refer-{code}`), what matters most (`matters_most`)."""

    chosen_values: dict[str, list[str]] = field(default_factory=dict)

    def chosen(self, name: str) -> list[str]:
        return self.chosen_values.get(name) or ([self.values[name]] if name in self.values else [])

    def refer_choices(self, blocks: Sequence[NeedBlock]) -> list[tuple[str, str]]:
        """(need code, service id) for every service ticked, in the order of the needs."""
        return [
            (block.code, service_id)
            for block in blocks
            for service_id in self.chosen(f"refer-{block.code}")
        ]


def _form_of_needs(blocks: Sequence[NeedBlock], choices: Sequence[tuple[str, str]]) -> NeedsForm:
    """The needs form as stored, with the services of `choices` ticked."""
    values = {
        f"help-{block.code}": "yes" if block.wants_help else "no"
        for block in blocks
        if block.wants_help is not None
    }
    most = next((block.code for block in blocks if block.matters_most), None)
    if most:
        values["matters_most"] = most
    chosen: dict[str, list[str]] = {}
    for code, service_id in choices:
        chosen.setdefault(f"refer-{code}", []).append(service_id)
    return NeedsForm(values=values, chosen_values=chosen)


def _form_of_post(data: FormData, blocks: Sequence[NeedBlock]) -> NeedsForm:
    values: dict[str, str] = {}
    chosen: dict[str, list[str]] = {}
    for block in blocks:
        answer = data.get(f"help-{block.code}")
        if isinstance(answer, str) and answer:
            values[f"help-{block.code}"] = answer[:10]
        ticked = [v[:100] for v in data.getlist(f"refer-{block.code}") if isinstance(v, str)]
        chosen[f"refer-{block.code}"] = list(dict.fromkeys(ticked))
    most = data.get("matters_most")
    if isinstance(most, str) and most:
        values["matters_most"] = most[:50]
    return NeedsForm(values=values, chosen_values=chosen)


def _check_needs(form: NeedsForm, blocks: Sequence[NeedBlock], person: Person, action: str) -> None:
    codes = {block.code for block in blocks}
    for block in blocks:
        answer = form.value(f"help-{block.code}")
        anchor = f"help-{block.code}-1"
        if answer not in ("", "yes", "no"):
            form.errors.append((anchor, f"Choose yes or no for {block.label.lower()}"))
        elif form.chosen(f"refer-{block.code}") and answer != "yes":
            form.errors.append(
                (
                    anchor,
                    f"You chose a service for {block.label.lower()}: choose yes if "
                    f"{person.given_name} wants help with it, or untick the service",
                )
            )
    if form.value("matters_most") not in ("", *codes):
        form.errors.append(("matters_most-1", "Choose what matters most from the list"))
    if action == REFER and not form.errors and not form.refer_choices(blocks):
        form.errors.append(
            (
                f"help-{blocks[0].code}-1",
                f"Choose at least one service to refer {person.given_name} to, or save "
                "without referring",
            )
        )


def _needs_page(
    request: Request,
    session: Session,
    context: AuditContext,
    person: Person,
    blocks: list[NeedBlock],
    form: NeedsForm,
    *,
    more: set[str],
    status_code: int = 200,
) -> Response:
    origin = person_origin(session, person)
    match_services(request, session, person, blocks, origin, more=more)
    audit_sensitive_view(
        session,
        context,
        person.id,
        "needs",
        [need_id for block in blocks if block.sensitive for need_id in block.need_ids],
    )
    params = request.query_params
    return render(
        request,
        "referrals/make_needs.html",
        {
            "title": f"Needs and services: {person.full_name}",
            "person": person,
            "blocks": blocks,
            "priority_options": [(block.code, block.label) for block in blocks],
            "form": form,
            "errors": form.errors,
            "origin": origin,
            "more": sorted(more),
            "where": directory_place(person),
            "recorded": "recorded" in params,
            "reviewed": "reviewed" in params,
            "saved": params.get("saved") == "1",
        },
        status_code=status_code,
    )


def _choices_of(values: Sequence[str]) -> list[tuple[str, str]]:
    """(need code, service id) pairs from "code:service id" values, in order, once each."""
    pairs = [tuple(value.split(":", 1)) for value in values if ":" in value]
    return list(dict.fromkeys((code, service_id) for code, service_id in pairs))


def _choice_values(choices: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{code}:{service_id}" for code, service_id in choices]


@router.get("/people/{person_id}/needs", response_class=HTMLResponse)
def needs_page(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    blocks = need_blocks(session, found, principal)
    choices = _choices_of(request.query_params.getlist("choice"))
    form = _form_of_needs(blocks, choices)
    more = {code for code in request.query_params.getlist("more")}
    return _needs_page(request, session, context, found, blocks, form, more=more)


@router.post("/people/{person_id}/needs", response_class=HTMLResponse)
async def choose_services(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    blocks = need_blocks(session, found, principal)
    if not blocks:
        return RedirectResponse(f"/people/{found.id}/needs", status_code=303)
    data = await request.form()
    form = _form_of_post(data, blocks)
    action = str(data.get("action", REFER))
    more = {str(code) for code in data.getlist("more")}
    if action.startswith(MORE):  # more services for one need: nothing saved yet
        more.add(action.removeprefix(MORE))
        return _needs_page(request, session, context, found, blocks, form, more=more)
    _check_needs(form, blocks, found, action)
    if form.errors:
        return _needs_page(
            request, session, context, found, blocks, form, more=more, status_code=422
        )
    most = form.value("matters_most")
    for block in blocks:
        answer = form.value(f"help-{block.code}")
        if answer:
            for need_id in block.need_ids:
                social_history.set_help_wanted(
                    session, context, need_id, answer == "yes", 1 if block.code == most else None
                )
    if action != REFER:
        return RedirectResponse(f"/people/{found.id}/needs?saved=1", status_code=303)
    query = urlencode([("choice", value) for value in _choice_values(form.refer_choices(blocks))])
    return RedirectResponse(f"/people/{found.id}/refer?{query}", status_code=303)


@router.post("/people/{person_id}/needs/services/{code}", response_class=HTMLResponse)
async def services_for_need(
    request: Request,
    person_id: str,
    code: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """For htmx, when "want help?" changes: the need's services, or the line saying there
    are none to choose because the person does not want help; nothing (204) when what is on
    the page stands, so that a box ticked meanwhile stays ticked."""
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    block = next((b for b in need_blocks(session, found, principal) if b.code == code), None)
    if block is None:
        return error_response(request, 404, f"{found.given_name} has no need for {code} now.")
    data = await request.form()
    form = _form_of_post(data, [block])
    shown = code in data.getlist("services-shown")
    if shown == (form.value(f"help-{code}") != "no"):
        return Response(status_code=204)
    more = {str(value) for value in data.getlist("more")}
    match_services(request, session, found, [block], person_origin(session, found), more=more)
    return render(
        request,
        "referrals/make_services_fragment.html",
        {
            "block": block,
            "form": form,
            "person": found,
            "where": directory_place(found),
        },
    )


# Consent, then the referrals.


@dataclass
class Chosen:
    """A service chosen, the needs it is chosen for, and why it cannot be referred to, if it
    cannot (with services to choose instead)."""

    service_id: str
    service: Service | None
    blocks: list[NeedBlock]
    problem: str | None = None
    alternatives: list[tuple[str, str]] = field(default_factory=list)  # (name, consent url)

    @property
    def need_ids(self) -> list[str]:
        return [need_id for block in self.blocks for need_id in block.need_ids]

    @property
    def needs_text(self) -> str:
        return " and ".join(block.label.lower() for block in self.blocks)


@dataclass
class Recipient:
    """An organisation that would receive referrals, and what the person agrees to share
    with it."""

    organization_id: str
    name: str
    referrals: list[Chosen]
    shared: str
    purpose: str


def contact_preferences(person: Person) -> str:
    ways = [] if person.no_telephone else ["phone calls"]
    ways += [f"{way}s" for way in person.contact_ways]
    text = ", ".join(ways) if ways else "no way of contact recorded"
    return f"no telephone; {text}" if person.no_telephone else text


def _referrals_chosen(
    session: Session,
    person: Person,
    blocks: Sequence[NeedBlock],
    choices: Sequence[tuple[str, str]],
) -> tuple[list[Chosen], list[str]]:
    """The services chosen, each with its needs; and what is wrong with the choices that
    cannot stand (a need the person no longer has, or does not want help with)."""
    by_code = {block.code: block for block in blocks}
    problems: list[str] = []
    chosen: dict[str, Chosen] = {}
    for code, service_id in choices:
        block = by_code.get(code)
        if block is None:
            problems.append(f"{person.given_name} has no need for {code} now: choose again")
            continue
        if block.wants_help is not True:
            problems.append(
                f"{person.given_name} has not said they want help with {block.label.lower()}: "
                "ask them, then choose again"
            )
            continue
        if service_id not in chosen:
            found = search.get_service(session, service_id, include_inactive=True)
            chosen[service_id] = Chosen(service_id, found, [])
        chosen[service_id].blocks.append(block)
    return list(chosen.values()), problems


def _refuse_closed(
    request: Request,
    session: Session,
    person: Person,
    chosen: Sequence[Chosen],
    choices: Sequence[tuple[str, str]],
) -> None:
    """Mark each service that cannot take referrals now, with up to three others for its
    needs to choose instead (each a link to this page with that one swapped in)."""
    origin = person_origin(session, person)
    taken = {service_id for _code, service_id in choices}
    for item in chosen:
        found = item.service
        if found is None:
            item.problem = "This service is no longer in the directory"
        elif found.status != ServiceStatus.ACTIVE:
            item.problem = f"{found.name} is {found.status}: it is not taking referrals"
        elif not found.accepting_referrals:
            why = found.accepting_referrals_note or "the directory says so"
            item.problem = f"{found.name} is not accepting referrals now ({why})"
        if item.problem is None:
            continue
        others = search.search_services(
            session,
            needs=[block.code for block in item.blocks],
            near=(origin.latitude, origin.longitude) if origin else None,
            age=person.age,
            accepting_referrals=True,
            stale_after_days=request.app.state.settings.directory_stale_days,
            limit=SERVICES_SHOWN + len(taken),
        )
        for other in [o for o in others if o.id not in taken][:SERVICES_SHOWN]:
            swapped = [
                (code, other.id if service_id == item.service_id else service_id)
                for code, service_id in choices
            ]
            query = urlencode([("choice", value) for value in _choice_values(swapped)])
            item.alternatives.append((other.name, f"/people/{person.id}/refer?{query}"))


def _recipients(person: Person, chosen: Sequence[Chosen]) -> list[Recipient]:
    by_organisation: dict[str, list[Chosen]] = {}
    for item in chosen:
        assert item.service is not None
        by_organisation.setdefault(item.service.organization_id, []).append(item)
    recipients: list[Recipient] = []
    for organization_id, items in by_organisation.items():
        name = items[0].service.organization.name if items[0].service else organization_id
        needs = " and ".join(
            dict.fromkeys(block.label.lower() for item in items for block in item.blocks)
        )
        recipients.append(
            Recipient(
                organization_id=organization_id,
                name=name,
                referrals=items,
                shared=(
                    f"{person.full_name}'s name; how to contact them, as they prefer "
                    f"({contact_preferences(person)}); the needs the referral is for "
                    f"({needs}); and the short note written here, if any"
                ),
                purpose=f"So that {name} can contact {person.given_name} and help with {needs}",
            )
        )
    return recipients


@dataclass
class ConsentForm(Form):
    """The consent page: the note and social prescribing box of each referral (`note-N`,
    `social-N`), how long (`keep`), and the person's agreement (`agreed`)."""

    ticked: set[str] = field(default_factory=set)

    def is_ticked(self, name: str) -> bool:
        return name in self.ticked


def _consent_page(
    request: Request,
    session: Session,
    context: AuditContext,
    principal: Principal,
    person: Person,
    choices: Sequence[tuple[str, str]],
    form: ConsentForm,
    *,
    status_code: int = 200,
) -> Response:
    blocks = need_blocks(session, person, principal)
    chosen, problems = _referrals_chosen(session, person, blocks, choices)
    _refuse_closed(request, session, person, chosen, choices)
    closed = [item for item in chosen if item.problem]
    form.errors[:0] = [("choices", problem) for problem in problems] + [
        (f"service-{chosen.index(item) + 1}", f"{item.problem}: choose another service")
        for item in closed
    ]
    if not chosen and not problems:
        form.errors.append(("choices", "Choose at least one service on the needs page"))
    audit_sensitive_view(
        session,
        context,
        person.id,
        "consent",
        [need_id for item in chosen for b in item.blocks if b.sensitive for need_id in b.need_ids],
    )
    today = search.today_in_london()
    return render(
        request,
        "referrals/make_consent.html",
        {
            "title": f"Consent and referral: {person.full_name}",
            "person": person,
            "chosen": chosen,
            "recipients": _recipients(person, chosen) if not closed and not problems else [],
            "choices": _choice_values(choices),
            "form": form,
            "errors": form.errors,
            "keep_options": [
                (value, f"{label}, until {long_date(months_after(today, int(value)))}")
                for value, label in KEEP_MONTHS
            ],
            "note_limit": NOTE_LIMIT,
            "needs_link": f"/people/{person.id}/needs?"
            + urlencode([("choice", value) for value in _choice_values(choices)]),
            "can_send": bool(chosen) and not closed and not problems,
        },
        status_code=status_code,
    )


@router.get("/people/{person_id}/refer", response_class=HTMLResponse)
def consent_page(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    choices = _choices_of(request.query_params.getlist("choice"))
    form = ConsentForm(values={"keep": DEFAULT_KEEP_MONTHS})
    return _consent_page(request, session, context, principal, found, choices, form)


@router.post("/people/{person_id}/refer", response_class=HTMLResponse)
async def send_referrals(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    data = await request.form()
    choices = _choices_of([str(value) for value in data.getlist("choice")])
    blocks = need_blocks(session, found, principal)
    chosen, problems = _referrals_chosen(session, found, blocks, choices)
    names = ["keep", *(f"note-{n}" for n in range(1, len(chosen) + 1))]
    form = ConsentForm(
        values={name: str(data.get(name, ""))[: 2 * NOTE_LIMIT] for name in names},
        ticked={
            name
            for name in ("agreed", *(f"social-{n}" for n in range(1, len(chosen) + 1)))
            if data.get(name) == "yes"
        },
    )
    if form.value("keep") not in dict(KEEP_MONTHS):
        form.errors.append(("keep", "Choose how long they may keep it, from the list"))
    for number in range(1, len(chosen) + 1):
        note = form.value(f"note-{number}").strip()
        if len(note) > NOTE_LIMIT:
            form.errors.append(
                (f"note-{number}", f"The note must be {NOTE_LIMIT:,} characters or fewer")
            )
    if not form.is_ticked("agreed"):
        form.errors.append(
            (
                "agreed",
                f"Confirm that {found.given_name} agrees to share this information: without "
                "their agreement, do not refer",
            )
        )
    _refuse_closed(request, session, found, chosen, choices)
    if form.errors or problems or not chosen or any(item.problem for item in chosen):
        return _consent_page(
            request, session, context, principal, found, choices, form, status_code=422
        )
    try:
        # All or nothing: a set of referrals that cannot all be made (a service that stopped
        # taking referrals a moment ago, say) leaves no consent and no referral behind.
        with session.begin_nested():
            sent = _refer(session, context, principal, found, chosen, form)
    except ReferralError as error:
        form.errors.append(("choices", str(error)[:1].upper() + str(error)[1:]))
        return _consent_page(
            request, session, context, principal, found, choices, form, status_code=409
        )
    query = urlencode([("referral", referral.id) for referral in sent])
    return RedirectResponse(f"/people/{found.id}/refer/sent?{query}", status_code=303)


def _refer(
    session: Session,
    context: AuditContext,
    principal: Principal,
    person: Person,
    chosen: Sequence[Chosen],
    form: ConsentForm,
) -> list[Referral]:
    """Record the person's consent for each organisation, then refer them to each service."""
    expires_on = months_after(search.today_in_london(), int(form.value("keep")))
    sent: list[Referral] = []
    for recipient in _recipients(person, chosen):
        consent = service.record_consent(
            session,
            context,
            person_id=person.id,
            service_id=recipient.referrals[0].service_id,
            shared_information=recipient.shared,
            purpose=recipient.purpose,
            expires_on=expires_on,
            recorded_by=principal,
        )
        for item in recipient.referrals:
            number = list(chosen).index(item) + 1
            sent.append(
                service.refer_person(
                    session,
                    context,
                    person.id,
                    item.service_id,
                    item.need_ids,
                    consent.id,
                    principal,
                    form.value(f"note-{number}").strip() or None,
                    is_social_prescription=form.is_ticked(f"social-{number}"),
                )
            )
    return sent


@router.get("/people/{person_id}/refer/sent", response_class=HTMLResponse)
def referrals_sent(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    sent: list[Referral] = []
    for referral_id in request.query_params.getlist("referral")[:50]:
        try:
            referral = service.get_referral(session, context, referral_id, actor=principal)
        except ReferralNotFound:
            continue
        if referral.person_id == found.id:
            sent.append(referral)
    if not sent:
        return error_response(request, 404, "There are no referrals with those references.")
    shown = service.shown_needs(session, context, sent, viewer=principal, page="referrals_sent")
    return render(
        request,
        "referrals/make_sent.html",
        {
            "title": f"Referrals sent: {found.full_name}",
            "person": found,
            "sent": [
                (
                    referral,
                    ", ".join(
                        NEEDS_BY_CODE[code].label if code in NEEDS_BY_CODE else code
                        for code in dict.fromkeys(need.code for need in shown[referral.id].needs)
                    ),
                )
                for referral in sent
            ],
            "long_date": long_date,
        },
    )
