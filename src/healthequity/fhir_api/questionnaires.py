"""Questionnaire (the social history instruments) and QuestionnaireResponse (answers to
them): read, search, and recording answers, which identifies the needs they show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as QuestionnaireResponseResource,
)
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponseItem
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.schemas import Principal
from healthequity.fhir_api.access import (
    acting_user,
    audit_sensitive,
    audit_view,
    sensitive_people,
)
from healthequity.fhir_api.exceptions import (
    FhirError,
    Issue,
    business_rule,
    not_found,
    unprocessable,
)
from healthequity.fhir_api.responses import JsonObject, validated
from healthequity.fhir_api.search import (
    SearchQuery,
    date_conditions,
    each_occurrence,
    is_value,
    page_of,
    reference_id,
    token,
)
from healthequity.people.models import Person
from healthequity.people.service import can_see_person
from healthequity.social_history import service as social_history
from healthequity.social_history.exceptions import AnswerError, UnknownInstrument
from healthequity.social_history.fhir import RESTRICTED, questionnaire_response_resource
from healthequity.social_history.instruments import Instrument, get_instrument, list_instruments
from healthequity.social_history.models import (
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
)

# Questionnaire


def _latest() -> list[Instrument]:
    latest: dict[str, Instrument] = {}
    for instrument in list_instruments():  # each url's versions in ascending order
        latest[instrument.url] = instrument
    return list(latest.values())


def questionnaire_resource(instrument: Instrument) -> Questionnaire:
    """The instrument's file, with its business version as the version read."""
    data = instrument.resource.model_dump()
    data["meta"] = {"versionId": instrument.version}
    return Questionnaire.model_validate(data)


def read_questionnaire(questionnaire_id: str, version: str | None = None) -> Questionnaire:
    """The latest version of the instrument with this id, or the version asked for."""
    candidates = _latest() if version is None else list_instruments()
    for instrument in candidates:
        if instrument.resource.id == questionnaire_id and version in (None, instrument.version):
            return questionnaire_resource(instrument)
    which = f"Questionnaire/{questionnaire_id}" + (f" version {version}" if version else "")
    known = ", ".join(sorted({str(i.resource.id) for i in list_instruments()}))
    raise not_found(f"there is no {which}: the questionnaires are {known}")


def _starts(value: str | None, text: str) -> bool:
    return (value or "").casefold().startswith(text.casefold())


QUESTIONNAIRE_FILTERS: dict[str, Callable[[Instrument, str], bool]] = {
    "_id": lambda i, v: i.resource.id == v,
    "url": lambda i, v: i.url == v,
    "version": lambda i, v: i.version == v,
    "name": lambda i, v: _starts(i.resource.name, v),
    "title": lambda i, v: _starts(i.title, v),
    "status": lambda i, v: i.resource.status == v,
}


def search_questionnaires(query: SearchQuery) -> tuple[list[Questionnaire], int]:
    found = [
        instrument
        for instrument in _latest()
        if all(
            any(test(instrument, value) for value in values)
            for name, test in QUESTIONNAIRE_FILTERS.items()
            for values in query.occurrences(name)
        )
    ]
    found.sort(key=lambda instrument: instrument.title)
    page = found[query.offset : query.offset + query.count]
    return [questionnaire_resource(instrument) for instrument in page], len(found)


# QuestionnaireResponse


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Answers may hold sensitive ones: for the clinical users of the care team only
    (social_history.service.may_see_sensitive)."""
    return QuestionnaireResponse.person_id.in_(sensitive_people(principal))


def _restricted(resource: QuestionnaireResponseResource) -> bool:
    security = resource.meta.security if resource.meta else None
    return any(label.code == RESTRICTED["code"] for label in security or [])


def _sensitive_answers(response: QuestionnaireResponse) -> list[str]:
    """What of the response is sensitive, by id: the response and its sensitive questions
    answered; nothing when none is."""
    try:
        questions = get_instrument(
            response.questionnaire_url, response.questionnaire_version
        ).questions
    except UnknownInstrument:
        return []
    asked = [
        link_id
        for link_id in response.answers
        if link_id in questions and questions[link_id].sensitive
    ]
    return [response.id, *asked] if asked else []


def read_response(
    session: Session, context: AuditContext, principal: Principal, response_id: str
) -> QuestionnaireResponseResource:
    response = session.scalar(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.id == response_id, _visible(principal)
        )
    )
    if response is None:
        raise not_found(f"no QuestionnaireResponse {response_id!r} among those you can see")
    resource = questionnaire_response_resource(response)
    sensitive = int(_restricted(resource))
    audit_view(session, context, "QuestionnaireResponse", "read", [response], sensitive=sensitive)
    audit_sensitive(
        session,
        context,
        "QuestionnaireResponse",
        [(response.person_id, _sensitive_answers(response))],
    )
    return resource


def _questionnaire_condition(value: str) -> ColumnElement[bool]:
    url, _, version = value.partition("|")
    if url.startswith("Questionnaire/"):
        url = next(
            (i.url for i in list_instruments() if i.resource.id == url.split("/", 1)[1]), url
        )
    condition = QuestionnaireResponse.questionnaire_url == url
    if version:
        condition &= QuestionnaireResponse.questionnaire_version == version
    return condition


def search_responses(
    session: Session, context: AuditContext, principal: Principal, query: SearchQuery
) -> tuple[list[QuestionnaireResponseResource], int]:
    conditions = [_visible(principal)]
    conditions += each_occurrence(query, "_id", lambda v: QuestionnaireResponse.id == v)
    conditions += each_occurrence(
        query,
        "patient",
        lambda v: QuestionnaireResponse.person_id == reference_id("patient", v, "Patient"),
    )
    conditions += each_occurrence(query, "questionnaire", _questionnaire_condition)
    conditions += each_occurrence(
        query,
        "status",
        lambda v: is_value(QuestionnaireResponse.status, ResponseStatus, token(v).code),
    )
    conditions += date_conditions(query, ("authored", "date"), QuestionnaireResponse.authored_at)
    rows, total = page_of(
        session,
        select(QuestionnaireResponse).where(*conditions),
        query,
        QuestionnaireResponse.authored_at.desc(),
        QuestionnaireResponse.id,
    )
    resources = [questionnaire_response_resource(row) for row in rows]
    sensitive = sum(_restricted(resource) for resource in resources)
    audit_view(session, context, "QuestionnaireResponse", "search", rows, sensitive=sensitive)
    audit_sensitive(
        session,
        context,
        "QuestionnaireResponse",
        [(row.person_id, _sensitive_answers(row)) for row in rows],
    )
    return resources, total


def _answer_value(item: QuestionnaireResponseItem, answer: Any) -> object:
    if answer.valueCoding is not None:
        return answer.valueCoding.code
    if answer.valueBoolean is not None:
        return answer.valueBoolean
    if answer.valueString is not None:
        return answer.valueString
    raise unprocessable(
        Issue(
            "not-supported",
            f"the answer to {item.linkId!r} is not one this service takes: expected "
            "valueCoding, valueBoolean or valueString",
            f"QuestionnaireResponse.item.where(linkId='{item.linkId}').answer",
        )
    )


def _answers(
    items: Sequence[QuestionnaireResponseItem] | None, into: dict[str, list[object]]
) -> None:
    """The answers of the items and the items nested in them, by linkId."""
    for item in items or []:
        if item.answer:
            into.setdefault(str(item.linkId), []).extend(
                _answer_value(item, answer) for answer in item.answer
            )
        _answers(item.item, into)


def _reference(value: Any) -> str | None:
    return value.reference if value is not None else None


def create_response(
    session: Session, context: AuditContext, principal: Principal, data: JsonObject
) -> QuestionnaireResponseResource:
    """Record completed answers to an instrument (questionnaire: its canonical url, with
    |version or the latest) for a Patient the caller may see. The author is the Practitioner
    who asked (for a system token, a user of its organisation), or the Patient themselves
    (answers the person gave, which then await a clinician's review)."""
    resource = validated(QuestionnaireResponseResource, data)
    if resource.status != "completed":
        raise business_rule(
            f"status is {resource.status!r}: only completed answers are recorded",
            "QuestionnaireResponse.status",
        )
    url, _, version = (resource.questionnaire or "").partition("|")
    subject = _reference(resource.subject) or ""
    person_id = subject.removeprefix("Patient/") if subject.startswith("Patient/") else None
    person = session.get(Person, person_id) if person_id else None
    author = _reference(resource.author)
    if author is not None and author == subject:
        actor, actor_context, source = principal, context, ResponseSource.PERSON
    else:
        actor, actor_context = acting_user(
            session, principal, context, author, "QuestionnaireResponse.author"
        )
        source = ResponseSource.CLINICIAN
    if person is None or not can_see_person(actor, person):
        raise business_rule(
            f"subject {subject or 'missing'}: expected Patient/<id> of a person whose record "
            "you can see",
            "QuestionnaireResponse.subject",
        )
    answers: dict[str, list[object]] = {}
    _answers(resource.item, answers)
    try:
        response = social_history.record_response(
            session,
            actor_context,
            person.id,
            url,
            answers,
            source,
            actor.user_id if source is ResponseSource.CLINICIAN else None,
            instrument_version=version or None,
        )
    except UnknownInstrument as error:
        raise business_rule(str(error), "QuestionnaireResponse.questionnaire") from None
    except AnswerError as error:
        raise FhirError(
            422,
            [
                Issue(
                    "value",
                    f"{link_id}: {message}",
                    f"QuestionnaireResponse.item.where(linkId='{link_id}')",
                )
                for link_id, message in error.errors.items()
            ],
        ) from None
    return questionnaire_response_resource(response)
