"""Recording a social history: the answers a clinician or the person gave, checked against their
questionnaire, stored as a QuestionnaireResponse with the needs they show (IdentifiedNeed); the
person's say in which needs they want help with and which matters most; review of answers the
person gave from a one-time link; and those links.

A link's secret is shown once, to be sent to the person; only its SHA-256 is stored. Every change
writes an audit event. Reads take no audit context: the caller that shows a person's needs audits
the view (sensitive needs above all).

Sensitive answers and needs (domestic abuse, safeguarding and feeling safe, immigration: the
items and mapping rows flagged in the instruments) follow one rule, `may_see_sensitive`: the
clinical users (clinicians, link workers) of the person's care team see them, nobody else. A
provider sees a sensitive need only on a referral made to it for that need, which is the
referrals capability's to decide. Every view that shows sensitive content calls
`audit_sensitive_view`, which names the records shown, never what they say.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, false, select, update
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.schemas import Principal
from healthequity.people.models import Person
from healthequity.people.service import CLINICAL_ROLES, DEFAULT_PURPOSE, can_see_person, visible_to
from healthequity.social_history.exceptions import (
    InvalidLinkValidity,
    InvalidPriority,
    NotReviewable,
    PatientLinkExpired,
    PatientLinkUnknown,
    PatientLinkUsed,
    RecordNotFound,
    UnknownInstrument,
)
from healthequity.social_history.instruments import findings_for, get_instrument, validate_answers
from healthequity.social_history.models import (
    IdentifiedNeed,
    NeedStatus,
    PatientLink,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
)
from healthequity.store.database import utc_now

DEFAULT_LINK_VALIDITY = timedelta(days=7)


def _new_id() -> str:
    return str(uuid.uuid4())


# Who sees sensitive answers and needs.


def may_see_sensitive(principal: Principal, person: Person) -> bool:
    """Whether the principal may see the person's sensitive answers and needs: a clinician or
    link worker (people.service.CLINICAL_ROLES) who may see the record, being of the
    organisation that holds it or named in its care team. An administrator may see the
    record, but not these."""
    return principal.has_any_role(CLINICAL_ROLES) and can_see_person(principal, person)


def sensitive_visible_to(principal: Principal) -> ColumnElement[bool]:
    """`may_see_sensitive` as a condition on the person table, for queries."""
    if not principal.has_any_role(CLINICAL_ROLES):
        return false()
    return visible_to(principal)


def audit_sensitive_view(
    session: Session, context: AuditContext, person_id: str, page: str, shown: Sequence[str]
) -> None:
    """Record that a view (`page`) showed some of the person's sensitive content: which
    records, by id (the questions answered, the needs, the referrals or letters), never
    what they say. Nothing is written when nothing sensitive was shown."""
    if shown:
        record_event(
            session,
            context if context.purpose else context.for_purpose(DEFAULT_PURPOSE),
            "social_history.sensitive.view",
            subject_type="person",
            subject_id=person_id,
            detail={"page": page, "shown": list(dict.fromkeys(shown))},
        )


def visible_needs_of_person(
    session: Session, principal: Principal, person: Person
) -> list[IdentifiedNeed]:
    """The person's needs (as `needs_of_person`) that the principal may see: the sensitive
    ones only for those `may_see_sensitive` allows. The caller audits the view."""
    return needs_of_person(session, person.id, may_see_sensitive(principal, person))


def _person(session: Session, person_id: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise RecordNotFound(f"no person with id {person_id!r}")
    return person


def record_response(
    session: Session,
    context: AuditContext,
    person_id: str,
    instrument_url: str,
    answers: Mapping[str, object],
    source: ResponseSource,
    author_user_id: int | None,
    *,
    instrument_version: str | None = None,
) -> QuestionnaireResponse:
    """Store the answers (AnswerError naming each question they do not fit) and the needs they
    show. The latest version of the instrument is used unless a version is given."""
    instrument = get_instrument(instrument_url, instrument_version)
    _person(session, person_id)
    accepted = validate_answers(instrument, answers)
    response = QuestionnaireResponse(
        id=_new_id(),
        person_id=person_id,
        questionnaire_url=instrument.url,
        questionnaire_version=instrument.version,
        status=ResponseStatus.COMPLETED,
        source=source,
        answers=accepted,
        authored_at=utc_now(),
        author_user_id=author_user_id,
    )
    session.add(response)
    session.flush()
    findings = findings_for(instrument, accepted)
    session.add_all(
        IdentifiedNeed(
            id=_new_id(),
            person_id=person_id,
            response_id=response.id,
            question_link_id=finding.link_id,
            need_code=finding.need_code,
            level=finding.level,
            snomed_code=finding.snomed_code,
            snomed_display=finding.snomed_display,
            sensitive=finding.sensitive,
        )
        for finding in findings
    )
    session.flush()
    # The audit log names the record, never the answers or the (possibly sensitive) needs.
    record_event(
        session,
        context,
        "social_history.response.record",
        subject_type="questionnaire_response",
        subject_id=response.id,
        detail={
            "person_id": person_id,
            "questionnaire": instrument.canonical,
            "source": source.value,
            "needs_identified": len(findings),
        },
    )
    return response


def set_help_wanted(
    session: Session,
    context: AuditContext,
    need_id: str,
    wants_help: bool,
    priority: int | None,
) -> IdentifiedNeed:
    """Record whether the person wants help with this need, and how much it matters to them
    (1 matters most; None when they did not say)."""
    if priority is not None and (isinstance(priority, bool) or priority < 1):
        raise InvalidPriority(
            f"priority {priority!r}: expected a whole number from 1 (what matters most), or none"
        )
    need = session.get(IdentifiedNeed, need_id)
    if need is None:
        raise RecordNotFound(f"no identified need with id {need_id!r}")
    need.wants_help = wants_help
    need.priority = priority
    session.flush()
    record_event(
        session,
        context,
        "social_history.need.help_wanted",
        subject_type="identified_need",
        subject_id=need.id,
        detail={"person_id": need.person_id, "wants_help": wants_help, "priority": priority},
    )
    return need


def needs_of_person(
    session: Session, person_id: str, include_sensitive: bool
) -> list[IdentifiedNeed]:
    """The person's needs, what matters most to them first, then the most recent; sensitive
    needs only when asked for (the caller checks who may see them, and audits the view)."""
    query = select(IdentifiedNeed).where(IdentifiedNeed.person_id == person_id)
    if not include_sensitive:
        query = query.where(IdentifiedNeed.sensitive.is_(False))
    query = query.order_by(
        IdentifiedNeed.priority.is_(None),
        IdentifiedNeed.priority,
        IdentifiedNeed.recorded_at.desc(),
        IdentifiedNeed.id,
    )
    return list(session.scalars(query))


def get_response(session: Session, response_id: str) -> QuestionnaireResponse:
    """The questionnaire response with this id (RecordNotFound if there is none)."""
    response = session.get(QuestionnaireResponse, response_id)
    if response is None:
        raise RecordNotFound(f"no questionnaire response with id {response_id!r}")
    return response


def responses_of_person(session: Session, person_id: str) -> list[QuestionnaireResponse]:
    """The person's questionnaire responses, newest first."""
    return list(
        session.scalars(
            select(QuestionnaireResponse)
            .where(QuestionnaireResponse.person_id == person_id)
            .order_by(QuestionnaireResponse.authored_at.desc(), QuestionnaireResponse.id)
        )
    )


def awaiting_review(session: Session, person_id: str) -> list[QuestionnaireResponse]:
    """Answers the person gave from a link that no clinician has reviewed yet, oldest first."""
    return list(
        session.scalars(
            select(QuestionnaireResponse)
            .where(
                QuestionnaireResponse.person_id == person_id,
                QuestionnaireResponse.source == ResponseSource.PERSON,
                QuestionnaireResponse.reviewed_at.is_(None),
            )
            .order_by(QuestionnaireResponse.authored_at, QuestionnaireResponse.id)
        )
    )


def _questions_answered(response: QuestionnaireResponse, needs: list[IdentifiedNeed]) -> set[str]:
    """The questions a response answered, with the groups they are in (a group's score is a
    finding of the group) and the questions its needs came from."""
    answered = set(response.answers) | {need.question_link_id for need in needs}
    try:
        questions = get_instrument(response.questionnaire_url, response.questionnaire_version)
    except UnknownInstrument:
        return answered  # a questionnaire no longer shipped: its own answers only
    for link_id in list(answered):
        question = questions.questions.get(link_id)
        while question is not None and question.parent is not None:
            answered.add(question.parent)
            question = questions.questions[question.parent]
    return answered


def current_needs(
    session: Session, person_id: str, include_sensitive: bool
) -> list[IdentifiedNeed]:
    """The person's needs now: for each question, the needs shown by the latest response that
    answered it. A later answer supersedes an earlier one to the same question (no longer
    worried about debt, no debt need), while questions a later response did not ask (the
    sensitive ones are never asked from a link) keep their earlier findings. Active needs only,
    in the order of `needs_of_person`; sensitive ones only when asked for (the caller checks
    who may see them, and audits the view)."""
    needs = needs_of_person(session, person_id, include_sensitive)
    by_response: dict[str, list[IdentifiedNeed]] = {}
    for need in needs:
        by_response.setdefault(need.response_id, []).append(need)
    latest: dict[tuple[str, str], str] = {}  # (questionnaire, question) -> response id
    for response in responses_of_person(session, person_id):
        for link_id in _questions_answered(response, by_response.get(response.id, [])):
            latest.setdefault((response.questionnaire_url, link_id), response.id)
    urls = {response_id: url for (url, _), response_id in latest.items()}
    return [
        need
        for need in needs
        if need.status is NeedStatus.ACTIVE
        and latest.get((urls.get(need.response_id, ""), need.question_link_id)) == need.response_id
    ]


def review_response(
    session: Session, context: AuditContext, response_id: str, reviewer_user_id: int
) -> QuestionnaireResponse:
    """Mark answers the person gave from a link as reviewed by a clinician."""
    response = session.get(QuestionnaireResponse, response_id)
    if response is None:
        raise RecordNotFound(f"no questionnaire response with id {response_id!r}")
    if response.source is not ResponseSource.PERSON:
        raise NotReviewable(
            "a clinician recorded these answers: only answers a person gave from a link need review"
        )
    if response.reviewed_at is not None:
        raise NotReviewable(
            f"these answers were reviewed already, on {response.reviewed_at:%d %B %Y}"
        )
    response.reviewed_at = utc_now()
    response.reviewed_by_user_id = reviewer_user_id
    session.flush()
    record_event(
        session,
        context,
        "social_history.response.review",
        subject_type="questionnaire_response",
        subject_id=response.id,
        detail={"person_id": response.person_id},
    )
    return response


# One-time links


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_patient_link(
    session: Session,
    context: AuditContext,
    person_id: str,
    instrument_url: str,
    created_by_user_id: int,
    valid_for: timedelta = DEFAULT_LINK_VALIDITY,
) -> str:
    """A new link for the person to answer the instrument on their own phone: its secret, to be
    sent to them now (it is not stored, and cannot be shown again)."""
    if valid_for <= timedelta(0):
        raise InvalidLinkValidity(f"a link must be valid for some time: got {valid_for}")
    instrument = get_instrument(instrument_url)
    _person(session, person_id)
    secret = secrets.token_urlsafe(32)
    now = utc_now()
    link = PatientLink(
        id=_new_id(),
        token_hash=_hash(secret),
        person_id=person_id,
        questionnaire_url=instrument.url,
        created_by_user_id=created_by_user_id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(link)
    session.flush()
    record_event(
        session,
        context,
        "social_history.patient_link.create",
        subject_type="patient_link",
        subject_id=link.id,
        detail={
            "person_id": person_id,
            "questionnaire": instrument.url,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return secret


def open_patient_link(session: Session, secret: str) -> PatientLink:
    """The link with this secret, if it can still be used; otherwise PatientLinkUnknown,
    PatientLinkUsed or PatientLinkExpired, each saying what to do."""
    link = session.scalar(select(PatientLink).where(PatientLink.token_hash == _hash(secret)))
    if link is None:
        raise PatientLinkUnknown(
            "this link is not known: check that all of it was copied, or ask for a new one"
        )
    if link.used_at is not None:
        raise PatientLinkUsed(
            f"this link was used on {link.used_at:%d %B %Y}: each link works once, so ask "
            "for a new one"
        )
    if link.expires_at <= utc_now():
        raise PatientLinkExpired(
            f"this link expired on {link.expires_at:%d %B %Y at %H:%M} UTC: ask for a new one"
        )
    return link


def submit_patient_link(
    session: Session, context: AuditContext, secret: str, answers: Mapping[str, object]
) -> QuestionnaireResponse:
    """Record the answers the person gave from their link, which is then used up. The answers
    wait for a clinician's review (review_response)."""
    link = open_patient_link(session, secret)
    # Answers that do not fit leave the link unused, for the person to correct and send again.
    validate_answers(get_instrument(link.questionnaire_url), answers)
    # Claim the link in one statement, so that two submissions at once cannot both use it.
    claimed = session.execute(
        update(PatientLink)
        .where(PatientLink.id == link.id, PatientLink.used_at.is_(None))
        .values(used_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise PatientLinkUsed("this link was used a moment ago: each link works once")
    response = record_response(
        session,
        context,
        link.person_id,
        link.questionnaire_url,
        answers,
        ResponseSource.PERSON,
        None,
    )
    session.refresh(link)
    link.response_id = response.id
    session.flush()
    record_event(
        session,
        context,
        "social_history.patient_link.use",
        subject_type="patient_link",
        subject_id=link.id,
        detail={"person_id": link.person_id, "response_id": response.id},
    )
    return response
