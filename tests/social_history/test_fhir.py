"""FHIR R4 resources from the stored social history, on each database: the answers as a
QuestionnaireResponse nested like its questionnaire, each need as an SDOH Observation of its
SNOMED CT finding and as a health-concern Condition; sensitive ones labelled restricted."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as QuestionnaireResponseResource,
)

from healthequity.social_history import service
from healthequity.social_history.fhir import (
    condition_resources,
    observation_resources,
    questionnaire_response_resource,
)
from healthequity.social_history.models import IdentifiedNeed, QuestionnaireResponse, ResponseSource

from .conftest import CORE, LOW_MOOD, Clinic

SNOMED = "http://snomed.info/sct"


def _record(
    clinic: Clinic, url: str, answers: dict[str, object], source: ResponseSource
) -> tuple[QuestionnaireResponse, list[IdentifiedNeed]]:
    with clinic.database.session() as session:
        response = service.record_response(
            session, clinic.context, clinic.person_id, url, answers, source, clinic.clinician_id
        )
    with clinic.database.session() as session:
        stored = session.get(QuestionnaireResponse, response.id)
        assert stored is not None
        needs = service.needs_of_person(session, clinic.person_id, True)
        return stored, sorted(needs, key=lambda n: n.need_code)


def _reparsed(resource: QuestionnaireResponseResource | Observation | Condition) -> dict[str, Any]:
    """The resource as JSON, validated again from that JSON as a receiver would."""
    data = resource.model_dump(mode="json", exclude_none=True)
    type(resource).model_validate(data)
    return data


def test_the_answers_become_a_valid_questionnaire_response(clinic: Clinic) -> None:
    response, _ = _record(
        clinic,
        CORE,
        {
            "housing-situation": "temporary",
            "food-worried": "LA28397-0",
            "pregnant-or-under-four": False,
            "strengths": "Church on Sundays",
        },
        ResponseSource.CLINICIAN,
    )
    data = _reparsed(questionnaire_response_resource(response))
    assert data["resourceType"] == "QuestionnaireResponse"
    assert data["id"] == response.id
    assert data["questionnaire"] == f"{CORE}|1.0.0"
    assert data["status"] == "completed"
    assert data["subject"] == {"reference": f"Patient/{clinic.person_id}"}
    assert data["author"] == {"reference": f"Practitioner/{clinic.clinician_id}"}
    assert "meta" not in data  # nothing sensitive answered
    home, money, strengths = data["item"]
    assert home["linkId"] == "home"
    assert home["item"] == [
        {
            "linkId": "housing-situation",
            "text": "Where are you living at the moment?",
            "answer": [
                {
                    "valueCoding": {
                        "system": "https://healthequity.example/fhir/CodeSystem/social-history-core",
                        "code": "temporary",
                        "display": "In temporary accommodation, like a hostel, B&B or council "
                        "placement",
                    }
                }
            ],
        }
    ]
    assert [item["linkId"] for item in money["item"]] == ["food-worried", "pregnant-or-under-four"]
    assert money["item"][0]["answer"] == [
        {
            "valueCoding": {
                "system": "http://loinc.org",
                "code": "LA28397-0",
                "display": "Often true",
            }
        }
    ]
    assert money["item"][1]["answer"] == [{"valueBoolean": False}]
    assert strengths["answer"] == [{"valueString": "Church on Sundays"}]


def test_sensitive_answers_are_labelled_restricted_and_a_persons_own_answers_name_them(
    clinic: Clinic,
) -> None:
    response, _ = _record(clinic, CORE, {"hurt-by-someone-close": "now"}, ResponseSource.PERSON)
    data = _reparsed(questionnaire_response_resource(response))
    assert data["meta"]["security"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R",
            "display": "restricted",
        }
    ]
    assert data["author"] == {"reference": f"Patient/{clinic.person_id}"}


def test_each_need_becomes_an_sdoh_observation_of_its_snomed_finding(clinic: Clinic) -> None:
    response, needs = _record(
        clinic,
        CORE,
        {"housing-situation": "temporary", "hurt-by-someone-close": "now"},
        ResponseSource.CLINICIAN,
    )
    abuse, homelessness = (_reparsed(o) for o in observation_resources(needs))
    assert homelessness["id"] == needs[1].id
    assert homelessness["status"] == "final"
    assert homelessness["code"]["coding"] == [
        {
            "system": SNOMED,
            "code": "365510008",
            "display": "Finding of temporary shelter arrangements",
        }
    ]
    assert homelessness["valueBoolean"] is True
    assert [c["coding"][0]["code"] for c in homelessness["category"]] == [
        "social-history",
        "sdoh",
        "homelessness",
    ]
    assert homelessness["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response.id}"}]
    assert homelessness["subject"] == {"reference": f"Patient/{clinic.person_id}"}
    assert homelessness["extension"] == [
        {
            "url": "https://healthequity.example/fhir/StructureDefinition/need-level",
            "valueCode": "need",
        }
    ]
    assert "meta" not in homelessness
    assert abuse["code"]["coding"][0]["code"] == "706893006"
    assert abuse["meta"]["security"][0]["code"] == "R"
    assert abuse["extension"][0]["valueCode"] == "urgent"


def test_each_need_becomes_a_health_concern_with_its_observation_as_evidence(
    clinic: Clinic,
) -> None:
    _, needs = _record(
        clinic,
        LOW_MOOD,
        {"little-interest": "LA6571-9", "feeling-down": "LA6570-1"},
        ResponseSource.CLINICIAN,
    )
    [condition] = (_reparsed(c) for c in condition_resources(needs))
    assert condition["resourceType"] == "Condition"
    assert condition["id"] == needs[0].id
    assert condition["code"]["coding"] == [
        {"system": SNOMED, "code": "366979004", "display": "Depressed mood (finding)"}
    ]
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert [c["coding"][0]["code"] for c in condition["category"]] == [
        "health-concern",
        "sdoh",
        "mental_wellbeing",
    ]
    assert condition["evidence"] == [{"detail": [{"reference": f"Observation/{needs[0].id}"}]}]
    assert condition["extension"][0]["valueCode"] == "at_risk"
