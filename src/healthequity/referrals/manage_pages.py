"""Pages to work referrals once they are made: a referral's page (the person's health
passport, the service, the needs, the status and its whole history, follow-up, contact
attempts, notes, the moves the lifecycle allows from where it stands, the wellbeing
scores before and after, and recording that the person withdrew their consent); the
caseload of the referrer or link worker (sortable, filterable, paged, stacked rows on a
phone); the list of follow-ups and "still attending?" checks that are due; and a
provider's inbox.

Who sees what. Clinicians and link workers who may see the person's record see the health
passport; everyone else who may act on the referral (users of the provider organisation
linked to the service) sees only the minimum shared: the shared note, the needs the
referral is for (sensitive ones only because the referral is for them) and the contact
details the person's preferences allow. Every read and change goes through
`referrals.service`, which checks access and audits it.

Every change quotes the version of the referral the page showed. If someone changed the
referral meanwhile, the page says so (409), shows the referral as it is now and keeps what
was typed; nothing is overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, QueryParams

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import ApiToken, Role, User
from healthequity.auth.schemas import Principal
from healthequity.dates import LONDON, long_date, long_moment
from healthequity.directory.models import Organization
from healthequity.directory.search import today_in_london
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.people.models import Person
from healthequity.people.service import can_see_person, get_person
from healthequity.referrals import lifecycle, outcomes, service
from healthequity.referrals.exceptions import (
    ConsentNotValid,
    IllegalTransition,
    ReferralInputError,
    ReferralNotFound,
    StaleReferral,
)
from healthequity.referrals.models import (
    ConsentStatus,
    FailureReason,
    ProviderLink,
    Referral,
    ReferralEvent,
    ReferralEventKind,
    ReferralStatus,
)
from healthequity.referrals.outcomes import INSTRUMENTS, Instrument, Timing
from healthequity.referrals.schemas import (
    CaseloadFilters,
    CaseloadSort,
    ContactMethod,
    DueCheck,
    DueCheckKind,
    ReferralPage,
    ReferralSummary,
    ShownNeeds,
)
from healthequity.web.dependencies import get_database, get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.navigation import HomeSection, NavItem, PersonSection
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

S = ReferralStatus
REFERRERS = frozenset({Role.CLINICIAN, Role.LINK_WORKER})
PROVIDERS = frozenset({Role.PROVIDER})
VIEWERS = (Role.CLINICIAN, Role.LINK_WORKER, Role.PROVIDER, Role.ADMIN)
CASELOAD = "/referrals"
OVERDUE = "/referrals/overdue"
INBOX = "/referrals/inbox"

NAVIGATION = [
    NavItem("Referrals", CASELOAD, REFERRERS),
    NavItem("Referrals inbox", INBOX, PROVIDERS),
]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _due_figure(session: Session, principal: Principal) -> str | None:
    if principal.user_id is None:
        return None
    return _plural(service.count_due(session, principal.user_id), "check due", "checks due")


def _inbox_figure(session: Session, principal: Principal) -> str:
    waiting = service.count_waiting_in_inbox(session, principal.organisation_id)
    return _plural(waiting, "new referral to open", "new referrals to open")


HOME_SECTIONS = [
    HomeSection(
        "Your referrals",
        "The referrals you made: where each one stands, sorted and filtered as you need, "
        "with everything the service has done about it.",
        CASELOAD,
        REFERRERS,
    ),
    HomeSection(
        "Follow-ups due",
        "Open referrals past their follow-up date, and people on a social prescription to ask "
        "whether they are still attending.",
        OVERDUE,
        REFERRERS,
        figure=_due_figure,
    ),
    HomeSection(
        "Referrals inbox",
        "Referrals to your organisation's services: accept or decline them, record contact "
        "with the person and the outcome.",
        INBOX,
        PROVIDERS,
        figure=_inbox_figure,
    ),
]


def _person_referrals(
    session: Session, context: AuditContext, principal: Principal, person: Person
) -> list[Row]:
    found = service.referrals_of_person(session, context, person.id, actor=principal)
    return rows_of(found, today_in_london())


PERSON_SECTIONS = [PersonSection("referrals/_person_section.html", _person_referrals, REFERRERS)]

STATUS_LABELS: Mapping[ReferralStatus, str] = {
    S.DRAFT: "Draft",
    S.REQUESTED: "Requested",
    S.RECEIVED: "Received",
    S.ACCEPTED: "Accepted",
    S.REJECTED: "Rejected",
    S.IN_PROGRESS: "In progress",
    S.COMPLETED: "Completed",
    S.CANCELLED: "Cancelled",
    S.FAILED: "Failed",
}
STATUS_TAGS: Mapping[ReferralStatus, str] = {
    S.DRAFT: "grey",
    S.REQUESTED: "blue",
    S.RECEIVED: "white",
    S.ACCEPTED: "aqua-green",
    S.REJECTED: "orange",
    S.IN_PROGRESS: "purple",
    S.COMPLETED: "green",
    S.CANCELLED: "grey",
    S.FAILED: "red",
}


@dataclass(frozen=True, slots=True)
class Move:
    """A status change offered on the referral page, and what it asks for."""

    to: ReferralStatus
    button: str
    # "reason" (required), "outcome" (required), "failure_reason" (with optional detail).
    asks: str | None = None
    reason_label: str = ""


MOVES: Mapping[ReferralStatus, Move] = {
    S.REQUESTED: Move(S.REQUESTED, "Send the referral"),
    S.RECEIVED: Move(S.RECEIVED, "Mark as received"),
    S.ACCEPTED: Move(S.ACCEPTED, "Accept the referral"),
    S.REJECTED: Move(S.REJECTED, "Decline the referral", "reason", "Why are you declining it?"),
    S.IN_PROGRESS: Move(S.IN_PROGRESS, "Mark as in progress"),
    S.COMPLETED: Move(S.COMPLETED, "Complete with the outcome", "outcome"),
    S.FAILED: Move(S.FAILED, "Record that it failed", "failure_reason", "More detail (optional)"),
    S.CANCELLED: Move(S.CANCELLED, "Cancel the referral", "reason", "Why is it cancelled?"),
}
FAILURE_REASONS = tuple(
    (code.value, label) for code, label in lifecycle.FAILURE_REASON_LABELS.items()
)
CONTACT_METHODS = tuple((method.value, method.label) for method in ContactMethod)
YES_NO = (("yes", "Yes"), ("no", "No"))
TIMINGS = (
    (Timing.BEFORE.value, "Before the referral (or at its start)"),
    (Timing.AFTER.value, "After the referral"),
)
# What the banner says after each kind of change, by the `done` query parameter.
DONE = {
    "contact": "Contact attempt recorded.",
    "note": "Note added.",
    "follow_up": "Follow-up date changed.",
    "attendance": "Answer to \u201cstill attending?\u201d recorded.",
    Instrument.ONS4.value: "ONS4 personal well-being scores recorded.",
    Instrument.SWEMWBS.value: "SWEMWBS scores recorded.",
    "consent": "Recorded: the person withdrew their consent. No new referral can use it, and "
    "each open referral made with it is cancelled, with the reason \u201cConsent withdrawn\u201d, "
    "which the service sees.",
}
NO_REFERRAL = "There is no referral with that reference among those you can see."
STALE = (
    "Someone else changed this referral while you were looking. It is now {status}. Nothing "
    "you typed is lost, but it is not saved: check the referral as it is now, then send your "
    "change again if it still applies."
)
CASELOAD_SORTS = (
    (CaseloadSort.FOLLOW_UP, "Follow-up date, soonest first"),
    (CaseloadSort.STATUS, "Status, in the order of the referral's steps"),
    (CaseloadSort.PERSON, "Person, by last name"),
    (CaseloadSort.SERVICE, "Service, by name"),
    (CaseloadSort.UPDATED, "Last change, most recent first"),
)
PAGE_LIMIT = 100_000


# Small presentation helpers.


def need_label(code: str) -> str:
    found = NEEDS_BY_CODE.get(code)
    return found.label if found else code


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _text(data: FormData, name: str, limit: int = 5000) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _version(data: FormData) -> int:
    text = _text(data, "version", 12)
    return int(text) if text.isdigit() else 0


def _referral_path(referral_id: str, fragment: str = "", **query: str) -> str:
    return f"/referrals/{referral_id}" + (f"?{urlencode(query)}" if query else "") + fragment


# Who is looking at a referral.


@dataclass(frozen=True, slots=True)
class Side:
    """How the viewer stands to a referral: with the person's record (care team), with the
    organisation that made it, or for the provider (the minimum shared)."""

    sees_record: bool
    referrer: bool

    @property
    def provider(self) -> bool:
        return not self.referrer


def side_of(principal: Principal, referral: Referral, person: Person) -> Side:
    sees_record = can_see_person(principal, person)
    referrer = sees_record or principal.organisation_id == referral.requester_organisation_id
    return Side(sees_record, referrer)


def contact_details(person: Person) -> list[tuple[str, str]]:
    """How a provider may contact the person: only the ways their preferences allow."""
    lines: list[tuple[str, str]] = []
    if person.no_telephone:
        lines.append(("Phone", "No telephone: do not phone or send text messages"))
    elif person.phone:
        ways = "calls and text messages" if person.text_messages_ok else "calls only, no texts"
        lines.append(("Phone", f"{person.phone} ({ways})"))
    if person.email_ok and person.email:
        lines.append(("Email", person.email))
    lines.append(("Letters", "Happy to get letters" if person.letters_ok else "No letters"))
    if not lines[:-1]:
        lines.insert(0, ("Contact", "Ask the referrer how to reach them"))
    return lines


# The history.


@dataclass(frozen=True, slots=True)
class EventView:
    when: str
    at: datetime
    who: str
    what: str
    detail: str | None
    kind: ReferralEventKind


def _event_what(event: ReferralEvent) -> str:
    if event.kind == ReferralEventKind.STATUS:
        to = STATUS_LABELS[event.to_status] if event.to_status else "?"
        if event.from_status is None:
            return "Referral made" + (" as a draft" if event.to_status == S.DRAFT else " and sent")
        return f"Status: {STATUS_LABELS[event.from_status]} \u2192 {to}"
    return {
        ReferralEventKind.CONTACT_ATTEMPT: "Contact attempt",
        ReferralEventKind.NOTE: "Note",
        ReferralEventKind.FOLLOW_UP: "Follow-up",
    }[event.kind]


def history(session: Session, events: Sequence[ReferralEvent]) -> list[EventView]:
    """The referral's events, newest first, each with who did it and for which organisation."""
    user_ids = {event.user_id for event in events if event.user_id is not None}
    token_ids = {event.api_token_id for event in events if event.api_token_id is not None}
    users = {
        user.id: f"{user.display_name}, {user.organisation.name}"
        for user in session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    tokens = {
        token.id: f"{token.organisation.name} (system: {token.name})"
        for token in session.scalars(select(ApiToken).where(ApiToken.id.in_(token_ids)))
    }
    newest_first = sorted(events, key=lambda event: (event.occurred_at, event.id), reverse=True)
    return [
        EventView(
            long_moment(event.occurred_at),
            event.occurred_at,
            users.get(event.user_id or 0) or tokens.get(event.api_token_id or 0) or "Unknown",
            _event_what(event),
            event.detail,
            event.kind,
        )
        for event in newest_first
    ]


# The referral page.


@dataclass
class Attempt:
    """A form of the referral page sent back: what was typed, what is wrong with it, and
    whether someone else changed the referral meanwhile."""

    key: str
    form: Form
    stale: bool = False
    asked: ReferralStatus | None = None


@dataclass(frozen=True, slots=True)
class NeedView:
    code: str
    label: str
    sensitive: bool


def _needs(shown: ShownNeeds) -> list[NeedView]:
    views = [NeedView(item.code, need_label(item.code), item.sensitive) for item in shown.needs]
    return sorted(views, key=lambda view: view.label)


def _default_forms(referral: Referral) -> dict[str, Form]:
    due = referral.follow_up_on
    keys = (
        "contact",
        "note",
        "attendance",
        "withdraw",
        *(instrument.value for instrument in Instrument),
    )
    forms = {key: Form() for key in keys}
    forms["follow_up"] = Form(
        values={
            "follow_up-day": str(due.day),
            "follow_up-month": str(due.month),
            "follow_up-year": str(due.year),
        }
    )
    for move in MOVES:
        forms[f"status-{move}"] = Form()
    return forms


def _input_errors(
    error: ReferralInputError, anchors: Mapping[str, str], fallback: str
) -> list[tuple[str, str]]:
    return [
        (anchors.get(name, fallback), _sentence(message)) for name, message in error.errors.items()
    ]


Change = Callable[[], object]


@dataclass(frozen=True, slots=True)
class ReferralView:
    """The referral page for one request: shown, or shown again with a form sent back; and
    the changes made from its forms."""

    request: Request
    session: Session
    context: AuditContext
    principal: Principal
    referral_id: str

    def show(self, attempt: Attempt | None = None, status_code: int = 200) -> Response:
        request, session, context = self.request, self.session, self.context
        principal, referral_id = self.principal, self.referral_id
        try:
            referral = service.get_referral(session, context, referral_id, actor=principal)
            changes = service.outcome_changes(session, context, referral_id, actor=principal)
        except ReferralNotFound:
            return error_response(request, 404, NO_REFERRAL)
        person = session.get(Person, referral.person_id)
        assert person is not None  # a referral's person is never deleted
        side = side_of(principal, referral, person)
        if side.sees_record:
            get_person(session, context, person.id, principal=principal)  # audits the passport
        # Sensitive needs only for the care team's clinical users and the provider it was sent
        # to; for anyone else they, and the free text that speaks of them, are withheld.
        shown = service.shown_needs(session, context, [referral], viewer=principal, page="referral")
        needs = _needs(shown[referral.id])
        forms = _default_forms(referral)
        errors: list[tuple[str, str]] = []
        kept: list[tuple[str, str]] = []
        moves = [MOVES[to] for to in lifecycle.next_statuses(referral.status)]
        if attempt is not None:
            forms[attempt.key] = attempt.form
            errors = list(attempt.form.errors)
            offered = attempt.asked is None or attempt.asked in {move.to for move in moves}
            if attempt.stale:
                message = STALE.format(status=STATUS_LABELS[referral.status].lower())
                errors.insert(0, ("referral-status", message))
            if not offered:
                # The form for that move is not on the page now: show what was typed.
                kept = [(name, value) for name, value in attempt.form.values.items() if value]
        requester = session.get(User, referral.requester_user_id)
        today = today_in_london()
        consent = referral.consent
        may_withdraw = consent.status == ConsentStatus.ACTIVE and service.may_withdraw_consent(
            session, principal, consent
        )
        # What withdrawing the consent would cancel, to say so before it is done.
        to_cancel = [
            made
            for made in (service.referrals_made_on(session, consent.id) if may_withdraw else [])
            if not lifecycle.is_terminal(made.status)
        ]
        return render(
            request,
            "referrals/manage_referral.html",
            {
                "title": f"Referral of {person.full_name} to {referral.service_name}",
                "referral": referral,
                "person": person,
                "side": side,
                "contact": contact_details(person),
                "needs": needs,
                "withheld": shown[referral.id].withheld,
                "status_label": STATUS_LABELS[referral.status],
                "status_colour": STATUS_TAGS[referral.status],
                "status_labels": STATUS_LABELS,
                "moves": moves,
                "forms": forms,
                "attempt": attempt,
                "errors": errors,
                "kept": kept,
                "events": history(session, referral.events),
                "requester": requester,
                "follow_up_overdue": (
                    not lifecycle.is_terminal(referral.status) and referral.follow_up_on < today
                ),
                "attendance_due": (
                    referral.attendance_check_on is not None
                    and referral.attendance_check_on <= today
                ),
                "changes": {change.instrument.value: change for change in changes},
                "may_withdraw": may_withdraw,
                "to_cancel": to_cancel,
                "instruments": INSTRUMENTS,
                "failure_reasons": FAILURE_REASONS,
                "contact_methods": CONTACT_METHODS,
                "yes_no": YES_NO,
                "timings": TIMINGS,
                "done": DONE.get(request.query_params.get("done", "")),
                "moved": request.query_params.get("done") == "status",
                "long_date": long_date,
                "long_moment": long_moment,
            },
            status_code=status_code,
        )

    def apply(
        self,
        attempt: Attempt,
        change: Change,
        anchors: Mapping[str, str],
        done: str,
        fragment: str,
    ) -> Response:
        """Make a change from a form of the page: back to the page when it is made; the page
        again, with what was typed and why it was not made, when it is not."""
        try:
            change()
        except ReferralNotFound:
            return error_response(self.request, 404, NO_REFERRAL)
        except StaleReferral:
            return self._stale(attempt)
        except IllegalTransition as error:
            attempt.form.errors.append(("referral-status", _sentence(str(error))))
            return self.show(attempt, 409)
        except ReferralInputError as error:
            attempt.form.errors.extend(_input_errors(error, anchors, f"{attempt.key}-form"))
            return self.show(attempt, 422)
        return RedirectResponse(
            _referral_path(self.referral_id, fragment, done=done), status_code=303
        )

    def _stale(self, attempt: Attempt) -> Response:
        """The page after a change lost the race: this request's transaction is rolled back
        (a failed versioned write leaves it unusable) and the referral read afresh."""
        self.session.rollback()
        attempt.stale = True
        with get_database(self.request).session() as fresh:
            return replace(self, session=fresh).show(attempt, 409)


@router.get("/referrals/{referral_id:uuid}", response_class=HTMLResponse)
def referral_page(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    return ReferralView(request, session, context, principal, str(referral_id)).show()


@router.post("/referrals/{referral_id:uuid}/status", response_class=HTMLResponse)
async def change_status(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    wanted = _text(data, "to_status", 20)
    try:
        to = ReferralStatus(wanted)
    except ValueError:
        return error_response(
            request,
            422,
            f"{wanted!r} is not a referral status: expected one of "
            + ", ".join(status.value for status in ReferralStatus),
        )
    names = {"reason": f"{to}-reason", "outcome": f"{to}-outcome"}
    names["failure_reason"] = f"{to}-failure_reason"
    form = Form(values={name: _text(data, name) for name in names.values()})
    attempt = Attempt(f"status-{to}", form, asked=to)
    failure: FailureReason | None = None
    if to == S.FAILED:
        try:
            failure = FailureReason(form.value(names["failure_reason"]))
        except ValueError:
            failure = None  # the service names what is missing
    reason = form.value(names["reason"]) if to in (S.REJECTED, S.CANCELLED, S.FAILED) else None
    anchors = {**names, "failure_reason": f"{to}-failure_reason-1"}
    page = ReferralView(request, session, context, principal, str(referral_id))
    return page.apply(
        attempt,
        lambda: service.change_status(
            session,
            context,
            page.referral_id,
            to,
            _version(data),
            reason=reason,
            outcome=form.value(names["outcome"]) if to == S.COMPLETED else None,
            failure_reason=failure,
            actor=principal,
        ),
        anchors,
        "status",
        "#status",
    )


@router.post("/referrals/{referral_id:uuid}/contact-attempts", response_class=HTMLResponse)
async def record_contact_attempt(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    form = Form(
        values={name: _text(data, name) for name in ("contact-method", "contact-reached")}
        | {"contact-note": _text(data, "contact-note")}
    )
    attempt = Attempt("contact", form)
    if form.value("contact-method") not in {method.value for method in ContactMethod}:
        form.errors.append(("contact-method-1", "Choose how you tried to contact them"))
    if form.value("contact-reached") not in ("yes", "no"):
        form.errors.append(("contact-reached-1", "Say whether you reached them"))
    page = ReferralView(request, session, context, principal, str(referral_id))
    if form.errors:
        return page.show(attempt, 422)
    return page.apply(
        attempt,
        lambda: service.record_contact_attempt(
            session,
            context,
            page.referral_id,
            method=form.value("contact-method"),
            reached=form.value("contact-reached") == "yes",
            note=form.value("contact-note"),
            actor=principal,
        ),
        {"method": "contact-method-1", "note": "contact-note"},
        "contact",
        "#history",
    )


@router.post("/referrals/{referral_id:uuid}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    form = Form(values={"note-text": _text(data, "note-text")})
    page = ReferralView(request, session, context, principal, str(referral_id))
    return page.apply(
        Attempt("note", form),
        lambda: service.add_note(
            session, context, page.referral_id, form.value("note-text"), actor=principal
        ),
        {"text": "note-text"},
        "note",
        "#history",
    )


@router.post("/referrals/{referral_id:uuid}/consent/withdraw", response_class=HTMLResponse)
async def withdraw_consent(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*REFERRERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """The person withdrew the consent this referral was made on: service.withdraw_consent
    cancels the open referrals made on it and notes it on the others."""
    data = await request.form()
    form = Form(values={"withdraw-note": _text(data, "withdraw-note")})
    page = ReferralView(request, session, context, principal, str(referral_id))

    def withdraw() -> None:
        referral = service.get_referral(session, context, page.referral_id, actor=principal)
        try:
            service.withdraw_consent(
                session,
                context,
                referral.consent_id,
                actor=principal,
                note=form.value("withdraw-note"),
            )
        except ConsentNotValid as error:
            raise ReferralInputError({"consent": str(error)}) from None

    return page.apply(
        Attempt("withdraw", form),
        withdraw,
        {"note": "withdraw-note", "consent": "consent"},
        "consent",
        "#status",
    )


def typed_date(form: Form, name: str, what: str) -> date | None:
    """The date typed in the day, month and year boxes `name-day`...; None, with the error
    added (keyed by the box to correct), if it is not a date."""
    parts = {part: form.value(f"{name}-{part}").strip() for part in ("day", "month", "year")}
    missing = [part for part, value in parts.items() if not value]
    if missing:
        form.errors.append(
            (f"{name}-{missing[0]}", f"{what} must include a {' and '.join(missing)}")
        )
        return None
    wrong = [part for part, value in parts.items() if not (value.isascii() and value.isdigit())]
    if wrong or len(parts["year"]) != 4:
        form.errors.append(
            (f"{name}-{(wrong or ['year'])[0]}", f"{what} must be a real date, like 27 3 2027")
        )
        return None
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        part = "month" if not 1 <= int(parts["month"]) <= 12 else "day"
        form.errors.append((f"{name}-{part}", f"{what} must be a real date"))
        return None


@router.post("/referrals/{referral_id:uuid}/follow-up", response_class=HTMLResponse)
async def reschedule_follow_up(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    names = ("follow_up-day", "follow_up-month", "follow_up-year", "follow_up-note")
    form = Form(values={name: _text(data, name, 100) for name in names})
    attempt = Attempt("follow_up", form)
    due = typed_date(form, "follow_up", "The follow-up date")
    page = ReferralView(request, session, context, principal, str(referral_id))
    if due is None:
        return page.show(attempt, 422)
    return page.apply(
        attempt,
        lambda: service.reschedule_follow_up(
            session,
            context,
            page.referral_id,
            _version(data),
            due,
            note=form.value("follow_up-note"),
            actor=principal,
        ),
        {"follow_up_on": "follow_up-day", "note": "follow_up-note"},
        "follow_up",
        "#follow-up",
    )


@router.post("/referrals/{referral_id:uuid}/attendance", response_class=HTMLResponse)
async def record_attendance_check(
    request: Request,
    referral_id: uuid.UUID,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    names = ("attendance-still_attending", "attendance-note")
    form = Form(values={name: _text(data, name) for name in names})
    attempt = Attempt("attendance", form)
    page = ReferralView(request, session, context, principal, str(referral_id))
    if form.value("attendance-still_attending") not in ("yes", "no"):
        form.errors.append(("attendance-still_attending-1", "Say whether they are still attending"))
        return page.show(attempt, 422)
    return page.apply(
        attempt,
        lambda: service.record_attendance_check(
            session,
            context,
            page.referral_id,
            _version(data),
            form.value("attendance-still_attending") == "yes",
            note=form.value("attendance-note"),
            actor=principal,
        ),
        {"still_attending": "attendance-still_attending-1", "note": "attendance-note"},
        "attendance",
        "#follow-up",
    )


def score_errors(instrument: Instrument, form: Form) -> None:
    """Each item's error, in the words of the form, for scores that are missing or out of
    range; and whether the scores are from before or after."""
    spec = INSTRUMENTS[instrument]
    expected = f"a whole number from {spec.lowest} to {spec.highest}"
    if form.value(f"{instrument}-timing") not in {timing.value for timing in Timing}:
        form.errors.append(
            (
                f"{instrument}-timing-1",
                "Choose whether these scores are from before or after the referral",
            )
        )
    try:
        outcomes.score(
            instrument, {item.key: form.value(f"{instrument}-{item.key}") for item in spec.items}
        )
    except ReferralInputError as error:
        for item in spec.items:
            if item.key not in error.errors:
                continue
            typed = form.value(f"{instrument}-{item.key}").strip()
            message = (
                f"Enter a score for \u201c{item.label}\u201d: {expected}"
                if not typed
                else f"The score for \u201c{item.label}\u201d must be {expected}"
            )
            form.errors.append((f"{instrument}-{item.key}", message))


@router.post("/referrals/{referral_id:uuid}/outcomes/{instrument}", response_class=HTMLResponse)
async def record_outcome_measure(
    request: Request,
    referral_id: uuid.UUID,
    instrument: str,
    principal: Principal = allow(*VIEWERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        measured = Instrument(instrument)
    except ValueError:
        return error_response(
            request,
            404,
            f"There is no outcome measure {instrument!r}: expected "
            + " or ".join(item.value for item in Instrument),
        )
    data = await request.form()
    spec = INSTRUMENTS[measured]
    names = [f"{measured}-timing", *(f"{measured}-{item.key}" for item in spec.items)]
    form = Form(values={name: _text(data, name, 20) for name in names})
    attempt = Attempt(measured.value, form)
    page = ReferralView(request, session, context, principal, str(referral_id))
    score_errors(measured, form)
    if form.errors:
        return page.show(attempt, 422)
    return page.apply(
        attempt,
        lambda: service.record_outcome_measure(
            session,
            context,
            page.referral_id,
            measured,
            form.value(f"{measured}-timing"),
            {item.key: form.value(f"{measured}-{item.key}") for item in spec.items},
            actor=principal,
        ),
        {item.key: f"{measured}-{item.key}" for item in spec.items},
        measured.value,
        "#outcomes",
    )


# Lists: the caseload, the checks due, the provider's inbox.


@dataclass(frozen=True, slots=True)
class Row:
    """A referral in a list, ready to show."""

    item: ReferralSummary
    status_label: str
    status_tag: str
    needs: list[str]
    follow_up: str
    overdue_days: int | None
    referred: str
    updated: str


def rows_of(items: Sequence[ReferralSummary], today: date) -> list[Row]:
    rows = []
    for item in items:
        late = not lifecycle.is_terminal(item.status) and item.follow_up_on < today
        rows.append(
            Row(
                item,
                STATUS_LABELS[item.status],
                STATUS_TAGS[item.status],
                [need_label(code) for code in item.need_codes],
                long_date(item.follow_up_on),
                (today - item.follow_up_on).days if late else None,
                long_date(item.created_at.astimezone(LONDON).date()),
                long_moment(item.updated_at),
            )
        )
    return rows


@dataclass
class ListQuery:
    """A list page's filters as typed in its address, with what is wrong with them."""

    params: QueryParams
    errors: list[tuple[str, str]] = field(default_factory=list)

    def statuses(
        self, allowed: Sequence[ReferralStatus], default: frozenset[ReferralStatus]
    ) -> frozenset[ReferralStatus]:
        given = self.params.getlist("status")
        chosen = {status for status in allowed if status.value in given}
        if len(chosen) < len(set(given)):
            self.errors.append(("status-1", "Choose statuses from the list"))
        return frozenset(chosen) or default

    def page(self) -> int:
        text = self.params.get("page", "1")
        if not text.isdigit() or not 1 <= int(text) <= PAGE_LIMIT:
            self.errors.append(("page", f"The page must be a whole number from 1, not {text!r}"))
            return 1
        return int(text)

    def url(self, path: str, **changes: str | None) -> str:
        """This list's address with some parameters changed (None drops one)."""
        pairs = [(key, value) for key, value in self.params.multi_items() if key not in changes]
        pairs += [(key, value) for key, value in changes.items() if value is not None]
        return path + (f"?{urlencode(pairs)}" if pairs else "")


def paging(query: ListQuery, path: str, found: ReferralPage) -> dict[str, Any]:
    def url(number: int) -> str:
        return query.url(path, page=str(number))

    return {
        "page": found.page,
        "pages": found.pages,
        "previous_url": url(found.page - 1) if found.page > 1 else None,
        "next_url": url(found.page + 1) if found.page < found.pages else None,
    }


def status_choices(
    allowed: Sequence[ReferralStatus], chosen: frozenset[ReferralStatus]
) -> list[dict[str, Any]]:
    return [
        {"value": status.value, "label": STATUS_LABELS[status], "ticked": status in chosen}
        for status in allowed
    ]


@router.get(CASELOAD, response_class=HTMLResponse)
def caseload_page(
    request: Request,
    principal: Principal = allow(*REFERRERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    query = ListQuery(request.query_params)
    user_id = principal.user_id or 0
    statuses = query.statuses(tuple(ReferralStatus), lifecycle.OPEN_STATUSES)
    need_code = query.params.get("need") or None
    if need_code is not None and need_code not in NEEDS_BY_CODE:
        query.errors.append(("need", "Choose a need from the list"))
        need_code = None
    services = service.caseload_services(session, user_id)
    service_id = query.params.get("service") or None
    sort_text = query.params.get("sort", CaseloadSort.FOLLOW_UP.value)
    sorts = {sort.value: sort for sort, _label in CASELOAD_SORTS}
    if sort_text not in sorts:
        query.errors.append(("sort", "Choose how to sort from the list"))
    sort = sorts.get(sort_text, CaseloadSort.FOLLOW_UP)
    overdue_only = query.params.get("overdue") == "yes"
    filters = CaseloadFilters(
        statuses=statuses, need_code=need_code, service_id=service_id, overdue_only=overdue_only
    )
    page = query.page()
    found = service.caseload(session, context, user_id, filters, sort, page, viewer=principal)
    if found.page > found.pages:  # asked past the end: show the last page
        found = service.caseload(
            session, context, user_id, filters, sort, found.pages, viewer=principal
        )
    due = service.overdue(session, context, user_id=user_id, viewer=principal)
    headers = [
        ("person", "Person", CaseloadSort.PERSON),
        ("service", "Service", CaseloadSort.SERVICE),
        ("needs", "Needs", None),
        ("status", "Status", CaseloadSort.STATUS),
        ("follow_up", "Follow up by", CaseloadSort.FOLLOW_UP),
        ("updated", "Last change", CaseloadSort.UPDATED),
    ]
    return render(
        request,
        "referrals/manage_caseload.html",
        {
            "title": "Your referrals",
            "errors": query.errors,
            "rows": rows_of(found.items, today_in_london()),
            "found": found,
            "paging": paging(query, CASELOAD, found),
            "headers": [
                {
                    "key": key,
                    "label": label,
                    "current": sort_key == sort,
                    "direction": "descending" if sort_key == CaseloadSort.UPDATED else "ascending",
                    "url": query.url(CASELOAD, sort=sort_key.value, page=None)
                    if sort_key
                    else None,
                }
                for key, label, sort_key in headers
            ],
            "statuses": status_choices(tuple(ReferralStatus), statuses),
            "needs": [("", "Any need")] + [(item.code, item.label) for item in NEEDS],
            "services": [("", "Any service"), *services],
            "sorts": [(sort_key.value, label) for sort_key, label in CASELOAD_SORTS],
            "form": Form(
                values={"need": need_code or "", "service": service_id or "", "sort": sort.value},
                errors=query.errors,
            ),
            "overdue_only": overdue_only,
            "sort_label": dict(CASELOAD_SORTS)[sort],
            "due_count": len(due),
        },
        status_code=422 if query.errors else 200,
    )


@router.get(OVERDUE, response_class=HTMLResponse)
def overdue_page(
    request: Request,
    principal: Principal = allow(*REFERRERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    whose = request.query_params.get("whose", "mine")
    errors: list[tuple[str, str]] = []
    if whose not in ("mine", "organisation"):
        errors.append(("whose-1", "Choose your referrals or your organisation's"))
        whose = "mine"
    checks = (
        service.overdue(
            session, context, organisation_id=principal.organisation_id, viewer=principal
        )
        if whose == "organisation"
        else service.overdue(session, context, user_id=principal.user_id or 0, viewer=principal)
    )
    today = today_in_london()

    def view(check: DueCheck) -> dict[str, Any]:
        return {
            "check": check,
            "row": rows_of([check.referral], today)[0],
            "due": long_date(check.due_on),
        }

    return render(
        request,
        "referrals/manage_overdue.html",
        {
            "title": "Follow-ups due",
            "errors": errors,
            "whose": whose,
            "follow_ups": [view(c) for c in checks if c.kind == DueCheckKind.FOLLOW_UP],
            "attendance": [view(c) for c in checks if c.kind == DueCheckKind.STILL_ATTENDING],
            "form": Form(values={"whose": whose}, errors=errors),
        },
        status_code=422 if errors else 200,
    )


SENT_STATUSES = tuple(status for status in ReferralStatus if status != S.DRAFT)


@router.get(INBOX, response_class=HTMLResponse)
def inbox_page(
    request: Request,
    principal: Principal = allow(*PROVIDERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    query = ListQuery(request.query_params)
    statuses = query.statuses(SENT_STATUSES, lifecycle.SENT_OPEN_STATUSES)
    page = query.page()
    organisation_id = principal.organisation_id
    found = service.provider_inbox(session, context, organisation_id, statuses, page)
    if found.page > found.pages:
        found = service.provider_inbox(session, context, organisation_id, statuses, found.pages)
    linked = [
        found_organization.name
        for link in session.scalars(
            select(ProviderLink).where(ProviderLink.organisation_id == organisation_id)
        )
        if (found_organization := session.get(Organization, link.directory_organization_id))
    ]
    return render(
        request,
        "referrals/manage_inbox.html",
        {
            "title": "Referrals inbox",
            "errors": query.errors,
            "rows": rows_of(found.items, today_in_london()),
            "found": found,
            "paging": paging(query, INBOX, found),
            "statuses": status_choices(SENT_STATUSES, statuses),
            "form": Form(errors=query.errors),
            "linked": sorted(linked),
        },
        status_code=422 if query.errors else 200,
    )
