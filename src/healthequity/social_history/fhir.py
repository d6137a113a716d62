"""FHIR R4 resources (validated with `fhir.resources` R4B) built from the stored social history,
in the style of the HL7 Gravity Project SDOH Clinical Care guide: the answers as a
QuestionnaireResponse, each identified need as an Observation of its SNOMED CT finding and as a
Condition (a health concern) with that Observation as its evidence.

Sensitive answers and needs carry the security label "restricted" (v3 Confidentiality R). The
person is `Patient/{person id}`; a clinician author is `Practitioner/{user id}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as QuestionnaireResponseResource,
)

from healthequity.needs import NEEDS_BY_CODE
from healthequity.social_history.instruments import (
    FHIR_BASE,
    AnswerValue,
    Instrument,
    Question,
    get_instrument,
)
from healthequity.social_history.models import (
    IdentifiedNeed,
    NeedStatus,
    QuestionnaireResponse,
    ResponseSource,
)

SNOMED = "http://snomed.info/sct"
NEED_SYSTEM = f"{FHIR_BASE}/CodeSystem/need"
NEED_LEVEL_EXTENSION = f"{FHIR_BASE}/StructureDefinition/need-level"
RESTRICTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "code": "R",
    "display": "restricted",
}
SOCIAL_HISTORY = {
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "social-history",
    "display": "Social History",
}
SDOH = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
    "code": "sdoh",
    "display": "SDOH",
}
HEALTH_CONCERN = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
    "code": "health-concern",
    "display": "Health Concern",
}


def _meta(sensitive: bool) -> dict[str, Any]:
    return {"meta": {"security": [RESTRICTED]}} if sensitive else {}


def _patient(person_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{person_id}"}


def _answer(question: Question, value: AnswerValue) -> dict[str, Any]:
    if question.type == "choice":
        choice = question.choice(str(value))
        if choice is None:  # stored answers were checked against this very version
            raise ValueError(f"{question.link_id!r} has no answer {value!r}")
        coding = {"code": choice.code, "display": choice.display}
        return {"valueCoding": {"system": choice.system, **coding} if choice.system else coding}
    if question.type == "boolean":
        return {"valueBoolean": value}
    return {"valueString": value}


def _items(
    instrument: Instrument, link_ids: Sequence[str], answers: dict[str, list[AnswerValue]]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for link_id in link_ids:
        question = instrument.questions[link_id]
        if question.type == "group":
            children = _items(instrument, question.children, answers)
            if children:
                items.append({"linkId": link_id, "text": question.text, "item": children})
        elif link_id in answers:
            items.append(
                {
                    "linkId": link_id,
                    "text": question.text,
                    "answer": [_answer(question, value) for value in answers[link_id]],
                }
            )
    return items


def questionnaire_response_resource(
    response: QuestionnaireResponse,
) -> QuestionnaireResponseResource:
    """The stored answers as a FHIR QuestionnaireResponse, nested as their questionnaire is."""
    instrument = get_instrument(response.questionnaire_url, response.questionnaire_version)
    top_level = [q.link_id for q in instrument.questions.values() if q.parent is None]
    sensitive = any(instrument.questions[link_id].sensitive for link_id in response.answers)
    if response.source is ResponseSource.PERSON:
        author = _patient(response.person_id)
    else:
        author = {"reference": f"Practitioner/{response.author_user_id}"}
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response.id,
        **_meta(sensitive),
        "questionnaire": instrument.canonical,
        "status": response.status.value,
        "subject": _patient(response.person_id),
        "authored": response.authored_at.isoformat(),
        "author": author,
        "source": _patient(response.person_id),
        "item": _items(instrument, top_level, response.answers),
    }
    return QuestionnaireResponseResource.model_validate(data)


def _need_category(need: IdentifiedNeed) -> dict[str, Any]:
    label = NEEDS_BY_CODE[need.need_code].label
    return {"coding": [{"system": NEED_SYSTEM, "code": need.need_code, "display": label}]}


def _need_parts(need: IdentifiedNeed) -> dict[str, Any]:
    """What a need's Observation and Condition share: its id, finding, person and level."""
    finding = {"system": SNOMED, "code": need.snomed_code, "display": need.snomed_display}
    return {
        "id": need.id,
        **_meta(need.sensitive),
        "extension": [{"url": NEED_LEVEL_EXTENSION, "valueCode": need.level.value}],
        "code": {
            "coding": [finding],
            "text": need.snomed_display,
        },
        "subject": _patient(need.person_id),
    }


def observation_resources(needs: Sequence[IdentifiedNeed]) -> list[Observation]:
    """Each need as an SDOH Observation: its SNOMED CT finding, present (valueBoolean true),
    derived from the answers that showed it."""
    resources: list[Observation] = []
    for need in needs:
        data = {
            "resourceType": "Observation",
            **_need_parts(need),
            "status": "final",
            "category": [{"coding": [SOCIAL_HISTORY]}, {"coding": [SDOH]}, _need_category(need)],
            "effectiveDateTime": need.recorded_at.isoformat(),
            "valueBoolean": True,
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{need.response_id}"}],
        }
        resources.append(Observation.model_validate(data))
    return resources


def condition_resources(needs: Sequence[IdentifiedNeed]) -> list[Condition]:
    """Each need as a health concern, its Observation (same id) as the evidence."""
    resources: list[Condition] = []
    for need in needs:
        status = "active" if need.status is NeedStatus.ACTIVE else "resolved"
        data = {
            "resourceType": "Condition",
            **_need_parts(need),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": status,
                    }
                ]
            },
            # Screening answers, not a diagnosis: as the Gravity examples record them.
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "unconfirmed",
                    }
                ]
            },
            "category": [{"coding": [HEALTH_CONCERN]}, {"coding": [SDOH]}, _need_category(need)],
            "recordedDate": need.recorded_at.isoformat(),
            "evidence": [{"detail": [{"reference": f"Observation/{need.id}"}]}],
        }
        resources.append(Condition.model_validate(data))
    return resources
