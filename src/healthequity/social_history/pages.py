"""Social history pages: take a questionnaire in the consultation (the core social history or a
screener) on one page, see and review a person's answers, and send a one-time link for the
person to answer on their own phone, at `/my-answers/{secret}`, without signing in.

Questionnaires are drawn from their FHIR Questionnaire: a choice is radios (checkboxes when it
repeats), a boolean is yes or no, a string is a text box. A follow-up question (enableWhen) is
on the page only while the answers call for it: without JavaScript, saving with an answer that
calls for follow-ups not yet shown shows them instead of saving; with htmx, changing the answer
shows or hides them at once. Sensitive items (domestic abuse, feeling safe, immigration) carry
"ask only if the person is alone" for the clinician and are never on the person's own page.

Clinicians and link workers of the person's care team only (people.service.can_see_person);
anyone else is refused. Every view of sensitive answers or needs is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, allow_public, audit_context
from healthequity.auth.schemas import Principal
from healthequity.dates import long_moment
from healthequity.needs import NEEDS_BY_CODE
from healthequity.people import service as people_service
from healthequity.people.lookup import Refusal, person_for_page
from healthequity.people.models import Person
from healthequity.social_history import service
from healthequity.social_history.exceptions import (
    AnswerError,
    NotReviewable,
    PatientLinkError,
    PatientLinkExpired,
    PatientLinkUsed,
    RecordNotFound,
    UnknownInstrument,
)
from healthequity.social_history.instruments import (
    MAX_TEXT_ANSWER,
    AnswerValue,
    Instrument,
    Question,
    get_instrument,
    is_enabled,
    list_instruments,
)
from healthequity.social_history.models import (
    IdentifiedNeed,
    NeedLevel,
    QuestionnaireResponse,
    ResponseSource,
)
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.navigation import PersonSection
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

# Who takes and reads social histories: the clinical users of the person's care team.
CLINICAL_ROLES = people_service.CLINICAL_ROLES
# A one-time link's secret is the segment after this: the request log never shows it.
SECRET_PATH_PREFIXES = ("/my-answers/",)
CORE_SLUG = "social-history-core"
# What a link may be valid for, in days; a week unless the clinician chooses less.
LINK_DAYS = (("1", "1 day"), ("3", "3 days"), ("7", "7 days"))
DEFAULT_LINK_DAYS = "7"
# What people may type into a text answer before it is cut (the limit itself is lower, and
# going over it is an error that keeps what was typed).
TYPED_TEXT_LIMIT = 4 * MAX_TEXT_ANSWER
NO_RESPONSE = "There are no answers with that reference for this person."
# Shared with the referral pages, which are made from the social history.
REFUSAL = Refusal(
    "You cannot see this person's social history",
    "You are not in this person's care team, so you cannot see their record or their social "
    "history. Ask a clinician of the organisation that holds it to add you to the care team.",
)
LEVEL_LABELS = {
    NeedLevel.URGENT: "Urgent",
    NeedLevel.NEED: "Need",
    NeedLevel.AT_RISK: "At risk",
    NeedLevel.NO_NEED: "No need",
}
LEVEL_TAGS = {
    NeedLevel.URGENT: "nhsuk-tag--red",
    NeedLevel.NEED: "nhsuk-tag--orange",
    NeedLevel.AT_RISK: "nhsuk-tag--yellow",
    NeedLevel.NO_NEED: "nhsuk-tag--grey",
}


def _user_id(request: Request, principal: Principal) -> int | Response:
    if principal.user_id is None:
        return error_response(
            request, 403, "Sign in as a person to do this, not with an API token."
        )
    return principal.user_id


# Instruments by the last part of their url, as the addresses of the pages name them.


def slug_of(instrument: Instrument) -> str:
    return instrument.url.rsplit("/", 1)[-1]


def _latest_instruments() -> list[Instrument]:
    latest: dict[str, Instrument] = {}
    for instrument in list_instruments():  # sorted by url, then version
        latest[instrument.url] = instrument
    return list(latest.values())


def _instrument(slug: str) -> Instrument | None:
    return next((i for i in _latest_instruments() if slug_of(i) == slug), None)


def _offered_to_person(question: Question) -> bool:
    """On the person's own page: no sensitive item, and no text for the one who asks."""
    return not question.sensitive and question.type != "display"


def linkable_instruments() -> list[Instrument]:
    """The instruments a person can answer from a link: those with questions left to ask
    once the sensitive ones are taken out."""
    return [
        instrument
        for instrument in _latest_instruments()
        if any(q.answerable and _offered_to_person(q) for q in instrument.questions.values())
    ]


# What was answered, and the questionnaire as a page.


def field_name(question: Question) -> str:
    return f"q-{question.link_id}"


def anchor(question: Question) -> str:
    """The id of the input an error about the question links to."""
    name = field_name(question)
    return name if question.type in ("string", "text") else f"{name}-1"


@dataclass
class AnswerForm(Form):
    """The answers as sent, by input name (`values` holds the first of each, `chosen` all),
    and which follow-up questions were on the page."""

    chosen_values: dict[str, list[str]] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)

    def chosen(self, name: str) -> list[str]:
        return self.chosen_values.get(name, [])


@dataclass
class QuestionnaireView:
    """An instrument as a form: which questions are on it now, and what each holds."""

    instrument: Instrument
    form: AnswerForm
    for_person: bool  # the person's own phone
    follow_ups_url: str
    answers: dict[str, list[AnswerValue]] = field(default_factory=dict)
    max_text: ClassVar[int] = MAX_TEXT_ANSWER

    def __post_init__(self) -> None:
        given = {
            question.link_id: _typed(question, self.form.chosen(field_name(question)))
            for question in self.instrument.answerable()
            if self.offered(question)
        }
        # Document order, so that a follow-up counts only when what calls for it is asked:
        # an answer to a question no longer asked is dropped, as enableWhen means.
        for question in self.instrument.questions.values():
            values = given.get(question.link_id)
            if values and is_enabled(self.instrument, question, self.answers):
                self.answers[question.link_id] = values

    @property
    def top_items(self) -> list[Question]:
        return [q for q in self.instrument.questions.values() if q.parent is None]

    def children(self, question: Question) -> list[Question]:
        return [self.instrument.questions[link_id] for link_id in question.children]

    def offered(self, question: Question) -> bool:
        if not self.for_person:
            return True
        if question.type == "group":
            return any(self.offered(child) for child in self.children(question))
        return _offered_to_person(question)

    def enabled(self, question: Question) -> bool:
        return is_enabled(self.instrument, question, self.answers)

    def is_trigger(self, question: Question) -> bool:
        """Whether answering it may show or hide other questions."""
        return any(
            condition.question == question.link_id
            for other in self.instrument.questions.values()
            for condition in other.enable_when
        )

    def conditional(self) -> list[Question]:
        return [q for q in self.instrument.questions.values() if q.enable_when and self.offered(q)]

    def changed_follow_ups(self) -> list[Question]:
        """Follow-ups whose being asked differs from whether they were on the page, outermost
        only (a group brings its questions with it)."""
        changed = [
            q for q in self.conditional() if self.enabled(q) != (q.link_id in self.form.shown)
        ]
        ids = {q.link_id for q in changed}
        return [q for q in changed if not (self._ancestors(q) & ids)]

    def added_follow_ups(self) -> list[Question]:
        return [q for q in self.changed_follow_ups() if self.enabled(q)]

    def _ancestors(self, question: Question) -> set[str]:
        found: set[str] = set()
        while question.parent is not None:
            found.add(question.parent)
            question = self.instrument.questions[question.parent]
        return found

    def options(self, question: Question) -> list[tuple[str, str]]:
        if question.type == "boolean":
            return [("true", "Yes"), ("false", "No")]
        return [(choice.code, choice.display) for choice in question.choices]

    def first_question(self) -> Question:
        return next(
            q for q in self.instrument.questions.values() if q.answerable and self.offered(q)
        )

    def check(self) -> None:
        """Add an error, in words naming the question, for each answer that does not fit."""
        for question in self.instrument.questions.values():
            values = self.answers.get(question.link_id)
            if values:
                problem = _problem(question, values)
                if problem:
                    self.form.errors.append((anchor(question), problem))
        if not self.answers and not self.form.errors:
            self.form.errors.append((anchor(self.first_question()), "Answer at least one question"))


def _typed(question: Question, values: list[str]) -> list[AnswerValue]:
    """The values as the questionnaire's answers: a boolean is true or false; blank text is no
    answer. Values that do not fit are kept, for `_problem` to name."""
    if question.type == "boolean":
        return [{"true": True, "false": False}.get(value, value) for value in values if value]
    if question.type in ("string", "text"):
        return [value for value in values if value.strip()]
    return [value for value in values if value]


def _quoted(question: Question) -> str:
    return f"\N{LEFT DOUBLE QUOTATION MARK}{question.text}\N{RIGHT DOUBLE QUOTATION MARK}"


def _problem(question: Question, values: list[AnswerValue]) -> str | None:
    if question.type == "boolean":
        if any(not isinstance(value, bool) for value in values) or len(values) > 1:
            return f"Choose yes or no for {_quoted(question)}"
        return None
    if question.type == "choice":
        unknown = any(question.choice(str(value)) is None for value in values)
        if unknown or (len(values) > 1 and not question.repeats):
            return f"Choose an answer to {_quoted(question)} from the list"
        return None
    longest = max(len(str(value)) for value in values)
    if longest > MAX_TEXT_ANSWER:
        return (
            f"The answer to {_quoted(question)} must be {MAX_TEXT_ANSWER:,} characters or "
            f"fewer: it has {longest:,}"
        )
    return None


def answer_form_of(data: FormData) -> AnswerForm:
    chosen = {
        name: [value[:TYPED_TEXT_LIMIT] for value in data.getlist(name) if isinstance(value, str)]
        for name in set(data.keys())
        if name.startswith("q-")
    }
    return AnswerForm(
        values={name: values[0] for name, values in chosen.items() if values},
        chosen_values=chosen,
        shown={value for value in data.getlist("shown") if isinstance(value, str)},
    )


def _questionnaire_page(
    request: Request,
    template: str,
    view: QuestionnaireView,
    context: dict[str, Any],
    *,
    added: Sequence[Question] = (),
    status_code: int = 200,
) -> Response:
    return render(
        request,
        template,
        {"view": view, "errors": view.form.errors, "added": added, **context},
        status_code=status_code,
    )


def _follow_ups_fragment(request: Request, view: QuestionnaireView) -> Response:
    return render(
        request,
        "social_history/follow_ups.html",
        {"view": view, "changed": view.changed_follow_ups()},
    )


# A person's social history.


@dataclass(frozen=True)
class ResponseLine:
    """One questionnaire response, as a list of them shows it."""

    id: str
    title: str
    answered: str
    source: str
    waiting: bool


def response_lines(responses: Sequence[QuestionnaireResponse]) -> list[ResponseLine]:
    titles = {i.url: i.title for i in list_instruments()}
    return [
        ResponseLine(
            id=response.id,
            title=titles.get(response.questionnaire_url, response.questionnaire_url),
            answered=long_moment(response.authored_at),
            source="Asked in a consultation"
            if response.source is ResponseSource.CLINICIAN
            else "Answered by the person from a link",
            waiting=response.source is ResponseSource.PERSON and response.reviewed_at is None,
        )
        for response in responses
    ]


@dataclass(frozen=True)
class HistorySummary:
    """What the person page says about the person's social history: the latest, the answers
    waiting for review, and what can be asked."""

    person_id: str
    latest: ResponseLine | None
    waiting: list[ResponseLine]
    core_slug: str
    screeners: list[tuple[str, str]]  # (slug, title)


def history_summary(session: Session, person: Person) -> HistorySummary:
    """For the person page (not audited: it shows dates and titles, not answers)."""
    latest = response_lines(service.responses_of_person(session, person.id)[:1])
    return HistorySummary(
        person_id=person.id,
        latest=latest[0] if latest else None,
        waiting=response_lines(service.awaiting_review(session, person.id)),
        core_slug=CORE_SLUG,
        screeners=[(slug_of(i), i.title) for i in _latest_instruments() if slug_of(i) != CORE_SLUG],
    )


PERSON_SECTIONS = [
    PersonSection(
        "social_history/_person_page_section.html",
        lambda session, context, principal, person: history_summary(session, person),
        CLINICAL_ROLES,
    )
]


@router.get("/people/{person_id}/social-history", response_class=HTMLResponse)
def history_page(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    summary = history_summary(session, found)
    return render(
        request,
        "social_history/history.html",
        {
            "title": f"Social history: {found.full_name}",
            "person": found,
            "summary": summary,
            "responses": response_lines(service.responses_of_person(session, found.id)),
            "reviewed": request.query_params.get("reviewed") == "1",
        },
    )


def _new_history_view(
    person_id: str, instrument: Instrument, form: AnswerForm
) -> QuestionnaireView:
    return QuestionnaireView(
        instrument,
        form,
        for_person=False,
        follow_ups_url=f"/people/{person_id}/social-history/new/{slug_of(instrument)}/follow-ups",
    )


def _history_form_page(
    request: Request,
    person: Person,
    view: QuestionnaireView,
    *,
    added: Sequence[Question] = (),
    status_code: int = 200,
) -> Response:
    return _questionnaire_page(
        request,
        "social_history/form.html",
        view,
        {
            "title": f"{view.instrument.title}: {person.full_name}",
            "person": person,
            "action": f"/people/{person.id}/social-history/new/{slug_of(view.instrument)}",
        },
        added=added,
        status_code=status_code,
    )


def _unknown_instrument(request: Request) -> Response:
    known = ", ".join(slug_of(i) for i in _latest_instruments())
    return error_response(
        request, 404, f"There is no questionnaire with that name: expected {known}"
    )


@router.get("/people/{person_id}/social-history/new/{slug}", response_class=HTMLResponse)
def new_history_form(
    request: Request,
    person_id: str,
    slug: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    instrument = _instrument(slug)
    if instrument is None:
        return _unknown_instrument(request)
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    return _history_form_page(
        request, found, _new_history_view(person_id, instrument, AnswerForm())
    )


@router.post("/people/{person_id}/social-history/new/{slug}", response_class=HTMLResponse)
async def record_history(
    request: Request,
    person_id: str,
    slug: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    instrument = _instrument(slug)
    if instrument is None:
        return _unknown_instrument(request)
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    view = _new_history_view(person_id, instrument, answer_form_of(await request.form()))
    view.check()
    if view.form.errors:
        return _history_form_page(request, found, view, status_code=422)
    added = view.added_follow_ups()
    if added:  # without JavaScript: ask the follow-ups the answers call for before saving
        return _history_form_page(request, found, view, added=added)
    try:
        response = service.record_response(
            session,
            context,
            found.id,
            instrument.url,
            view.answers,
            ResponseSource.CLINICIAN,
            principal.user_id,
            instrument_version=instrument.version,
        )
    except AnswerError as error:
        view.form.errors.extend(_answer_errors(instrument, error))
        return _history_form_page(request, found, view, status_code=422)
    return RedirectResponse(f"/people/{found.id}/needs?recorded={response.id}", status_code=303)


def _answer_errors(instrument: Instrument, error: AnswerError) -> list[tuple[str, str]]:
    """The service's own checks, should they find what the page's did not."""
    found: list[tuple[str, str]] = []
    for link_id, message in error.errors.items():
        question = instrument.questions.get(link_id)
        if question is not None:
            found.append((anchor(question), f"{_quoted(question)}: {message}"))
    return found


@router.post(
    "/people/{person_id}/social-history/new/{slug}/follow-ups", response_class=HTMLResponse
)
async def history_follow_ups(
    request: Request,
    person_id: str,
    slug: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """For htmx: the follow-up questions to show or hide as the answers now stand."""
    instrument = _instrument(slug)
    if instrument is None:
        return _unknown_instrument(request)
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    view = _new_history_view(person_id, instrument, answer_form_of(await request.form()))
    return _follow_ups_fragment(request, view)


# Answers given, and their review.


@dataclass(frozen=True)
class AnswerRow:
    question: Question
    answer: str | None  # None: hidden from this viewer


def answer_sections(
    instrument: Instrument, answers: dict[str, Any], *, show_sensitive: bool
) -> list[tuple[str | None, list[AnswerRow]]]:
    """Each answered question with its answer in words, in the questionnaire's order, under
    the heading of its group (None for a question in no group)."""
    sections: list[tuple[str | None, list[AnswerRow]]] = []
    for question in instrument.questions.values():
        values = answers.get(question.link_id)
        if not values:
            continue
        words: list[str] = []
        for value in values:
            if isinstance(value, bool):
                words.append("Yes" if value else "No")
            else:
                choice = question.choice(str(value))
                words.append(choice.display if choice else str(value))
        visible = show_sensitive or not question.sensitive
        row = AnswerRow(question, "; ".join(words) if visible else None)
        group = instrument.questions[question.parent].text if question.parent else None
        if sections and sections[-1][0] == group:
            sections[-1][1].append(row)
        else:
            sections.append((group, [row]))
    return sections


def need_labels(need: IdentifiedNeed) -> dict[str, str]:
    """A need in words: what it is, its level and the colour of the level's tag."""
    known = NEEDS_BY_CODE.get(need.need_code)
    return {
        "label": known.label if known else need.need_code,
        "level": LEVEL_LABELS[need.level],
        "tag": LEVEL_TAGS[need.level],
    }


@router.get(
    "/people/{person_id}/social-history/responses/{response_id}", response_class=HTMLResponse
)
def response_page(
    request: Request,
    person_id: str,
    response_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    return _response_view(request, session, context, principal, found, response_id)


def _response_view(
    request: Request,
    session: Session,
    context: AuditContext,
    principal: Principal,
    person: Person,
    response_id: str,
    *,
    problem: str | None = None,
) -> Response:
    try:
        response = service.get_response(session, response_id)
        instrument = get_instrument(response.questionnaire_url, response.questionnaire_version)
    except (RecordNotFound, UnknownInstrument):
        return error_response(request, 404, NO_RESPONSE)
    if response.person_id != person.id:
        return error_response(request, 404, NO_RESPONSE)
    sensitive = service.may_see_sensitive(principal, person)
    sections = answer_sections(instrument, response.answers, show_sensitive=sensitive)
    needs = [
        need
        for need in service.needs_of_person(session, person.id, include_sensitive=sensitive)
        if need.response_id == response.id
    ]
    service.audit_sensitive_view(
        session,
        context,
        person.id,
        "response",
        [
            row.question.link_id
            for _group, rows in sections
            for row in rows
            if row.question.sensitive and row.answer is not None
        ]
        + [need.id for need in needs if need.sensitive],
    )
    return render(
        request,
        "social_history/response.html",
        {
            "title": f"{instrument.title}: {person.full_name}",
            "person": person,
            "response": response,
            "line": response_lines([response])[0],
            "reviewed": long_moment(response.reviewed_at) if response.reviewed_at else None,
            "sections": sections,
            "needs": needs,
            "levels": {need.id: need_labels(need) for need in needs},
            "errors": [("review", problem)] if problem else [],
        },
        status_code=409 if problem else 200,
    )


@router.post(
    "/people/{person_id}/social-history/responses/{response_id}/review",
    response_class=HTMLResponse,
)
def review(
    request: Request,
    person_id: str,
    response_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    reviewer = _user_id(request, principal)
    if not isinstance(reviewer, int):
        return reviewer
    try:
        response = service.get_response(session, response_id)
        if response.person_id != found.id:
            raise RecordNotFound(response_id)
        service.review_response(session, context, response.id, reviewer)
    except RecordNotFound:
        return error_response(request, 404, NO_RESPONSE)
    except NotReviewable as error:
        message = str(error)
        return _response_view(
            request,
            session,
            context,
            principal,
            found,
            response_id,
            problem=message[:1].upper() + message[1:],
        )
    return RedirectResponse(f"/people/{found.id}/needs?reviewed={response.id}", status_code=303)


# Sending a link.


def _link_form_page(
    request: Request, person: Person, form: Form, *, status_code: int = 200
) -> Response:
    return render(
        request,
        "social_history/link_new.html",
        {
            "title": f"Send a link: {person.full_name}",
            "person": person,
            "form": form,
            "errors": form.errors,
            "instruments": [
                (
                    slug_of(i),
                    i.title,
                    "Sensitive questions are left out: ask those in person."
                    if any(q.sensitive for q in i.questions.values())
                    else None,
                )
                for i in linkable_instruments()
            ],
            "days": LINK_DAYS,
        },
        status_code=status_code,
    )


@router.get("/people/{person_id}/social-history/link", response_class=HTMLResponse)
def new_link_form(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    form = Form(values={"instrument": CORE_SLUG, "days": DEFAULT_LINK_DAYS})
    return _link_form_page(request, found, form)


@router.post("/people/{person_id}/social-history/link", response_class=HTMLResponse)
async def create_link(
    request: Request,
    person_id: str,
    principal: Principal = allow(*CLINICAL_ROLES),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    found = person_for_page(request, session, context, principal, person_id, REFUSAL)
    if not isinstance(found, Person):
        return found
    creator = _user_id(request, principal)
    if not isinstance(creator, int):
        return creator
    data = await request.form()
    form = Form(values={name: str(data.get(name, ""))[:100] for name in ("instrument", "days")})
    instrument = next(
        (i for i in linkable_instruments() if slug_of(i) == form.value("instrument")), None
    )
    if instrument is None:
        form.errors.append(("instrument-1", "Choose the questions to send"))
    if form.value("days") not in dict(LINK_DAYS):
        form.errors.append(("days", "Choose how long the link works, from the list"))
    if instrument is None or form.errors:
        return _link_form_page(request, found, form, status_code=422)
    days = int(form.value("days"))
    secret = service.create_patient_link(
        session, context, found.id, instrument.url, creator, valid_for=timedelta(days=days)
    )
    return render(
        request,
        "social_history/link_created.html",
        {
            "title": f"Link created: {found.full_name}",
            "person": found,
            "instrument": instrument,
            "url": f"{str(request.base_url).rstrip('/')}/my-answers/{secret}",
            "days": days,
        },
    )


# The person's own phone.


def _my_answers_view(secret: str, instrument: Instrument, form: AnswerForm) -> QuestionnaireView:
    return QuestionnaireView(
        instrument, form, for_person=True, follow_ups_url=f"/my-answers/{secret}/follow-ups"
    )


def _link_gone(request: Request, error: PatientLinkError) -> Response:
    """A link that cannot be used, in plain words: gone (410) when used or expired, else not
    found (404)."""
    if isinstance(error, PatientLinkUsed):
        title, detail = "This link has already been used", "Each link works only once."
    elif isinstance(error, PatientLinkExpired):
        title, detail = "This link has expired", "Each link works for a few days only."
    else:
        title, detail = "This link does not work", "Check that you copied all of the link."
    return render(
        request,
        "social_history/link_gone.html",
        {"title": title, "detail": detail},
        status_code=404 if title == "This link does not work" else 410,
    )


def _my_answers_page(
    request: Request,
    view: QuestionnaireView,
    secret: str,
    *,
    added: Sequence[Question] = (),
    status_code: int = 200,
) -> Response:
    return _questionnaire_page(
        request,
        "social_history/my_answers.html",
        view,
        {"title": "Questions about you", "action": f"/my-answers/{secret}"},
        added=added,
        status_code=status_code,
    )


@router.get("/my-answers/{secret}", response_class=HTMLResponse)
def my_answers_form(
    request: Request,
    secret: str,
    principal: Principal | None = allow_public(),  # the secret is the key
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        link = service.open_patient_link(session, secret)
    except PatientLinkError as error:
        return _link_gone(request, error)
    view = _my_answers_view(secret, get_instrument(link.questionnaire_url), AnswerForm())
    return _my_answers_page(request, view, secret)


@router.post("/my-answers/{secret}", response_class=HTMLResponse)
async def send_my_answers(
    request: Request,
    secret: str,
    principal: Principal | None = allow_public(),  # the secret is the key
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        link = service.open_patient_link(session, secret)
    except PatientLinkError as error:
        return _link_gone(request, error)
    instrument = get_instrument(link.questionnaire_url)
    view = _my_answers_view(secret, instrument, answer_form_of(await request.form()))
    view.check()
    if view.form.errors:
        return _my_answers_page(request, view, secret, status_code=422)
    added = view.added_follow_ups()
    if added:
        return _my_answers_page(request, view, secret, added=added)
    try:
        service.submit_patient_link(
            session, context.for_purpose("own answers"), secret, view.answers
        )
    except PatientLinkError as error:
        return _link_gone(request, error)
    except AnswerError as error:
        view.form.errors.extend(_answer_errors(instrument, error))
        return _my_answers_page(request, view, secret, status_code=422)
    return render(request, "social_history/my_answers_sent.html", {"title": "Thank you"})


@router.post("/my-answers/{secret}/follow-ups", response_class=HTMLResponse)
async def my_answers_follow_ups(
    request: Request,
    secret: str,
    principal: Principal | None = allow_public(),  # the secret is the key
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    try:
        link = service.open_patient_link(session, secret)
    except PatientLinkError as error:
        return _link_gone(request, error)
    form = answer_form_of(await request.form())
    view = _my_answers_view(secret, get_instrument(link.questionnaire_url), form)
    return _follow_ups_fragment(request, view)
