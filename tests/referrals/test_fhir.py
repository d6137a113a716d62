"""FHIR R4B ServiceRequest, Task and Consent built from referrals and consents: they
validate (as made, and again from their JSON), and carry status, reasons and references in
the style of the Gravity SDOH Clinical Care guide."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from pydantic import BaseModel
from sqlalchemy.orm import Session

from healthequity.auth.models import Organisation
from healthequity.referrals import fhir, service
from healthequity.referrals.models import FailureReason, Referral, ReferralStatus
from healthequity.social_history.fhir import NEED_SYSTEM

from .conftest import ADVICE_ORG, DEBT_SERVICE, TODAY, World, context_of, record_consent, refer

S = ReferralStatus


def as_json(resource: BaseModel) -> dict[str, Any]:
    """The resource's FHIR JSON, after checking it reads back as the same valid resource."""
    text = resource.model_dump_json()
    assert type(resource).model_validate_json(text) == resource
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def requester_of(session: Session, referral: Referral) -> Organisation:
    organisation = session.get(Organisation, referral.requester_organisation_id)
    assert organisation is not None
    return organisation


def walk(
    session: Session, world: World, referral: Referral, *moves: tuple[S, dict[str, object]]
) -> None:
    for to, details in moves:
        service.change_status(
            session,
            context_of(world.provider),
            referral.id,
            to,
            referral.version,
            actor=world.provider,
            **details,  # type: ignore[arg-type]
        )


def test_a_referral_is_a_service_request(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world, needs=("debt", "income_benefits"))
        resource = fhir.service_request(referral, requester_of(session, referral))
        assert isinstance(resource, ServiceRequest)
        data = as_json(resource)
    assert data["resourceType"] == "ServiceRequest"
    assert data["id"] == referral.id
    assert (data["status"], data["intent"]) == ("active", "order")
    assert data["subject"]["reference"] == f"Patient/{world.person_id}"
    assert data["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "3457005",
        "display": "Patient referral",
    }
    assert data["code"]["text"] == "Referral to Debt advice"
    assert sorted(category["coding"][0]["code"] for category in data["category"]) == [
        "debt",
        "income_benefits",
    ]
    assert sorted(reason["reference"] for reason in data["reasonReference"]) == sorted(
        f"Condition/{world.needs[code]}" for code in ("debt", "income_benefits")
    )
    assert data["supportingInfo"] == [{"reference": f"Consent/{referral.consent_id}"}]
    assert {category["coding"][0]["system"] for category in data["category"]} == {NEED_SYSTEM}
    assert data["performer"][0]["identifier"] == {
        "system": fhir.DIRECTORY_SERVICE_SYSTEM,
        "value": DEBT_SERVICE,
    }
    assert data["requester"]["display"] == "Test Practice"
    assert data["note"] == [{"text": referral.shared_note}]
    assert data["meta"]["versionId"] == "1"


def test_a_referral_is_tracked_by_a_task(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world)
        data = as_json(fhir.task(referral, requester_of(session, referral)))
    assert data["resourceType"] == "Task"
    assert (data["status"], data["intent"]) == ("requested", "order")
    assert data["code"]["coding"][0]["code"] == "fulfill"
    assert data["focus"]["reference"] == f"ServiceRequest/{referral.id}"
    assert data["for"]["reference"] == f"Patient/{world.person_id}"
    assert data["owner"] == {
        "type": "Organization",
        "identifier": {"system": fhir.DIRECTORY_ORGANIZATION_SYSTEM, "value": ADVICE_ORG},
        "display": "Leeds Advice Network",
    }
    assert "statusReason" not in data
    assert "output" not in data


def test_a_completed_task_carries_its_outcome(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world)
        walk(
            session,
            world,
            referral,
            (S.ACCEPTED, {}),
            (S.IN_PROGRESS, {}),
            (S.COMPLETED, {"outcome": "Debt relief order arranged"}),
        )
        task = fhir.task(referral, requester_of(session, referral))
        request = as_json(fhir.service_request(referral, requester_of(session, referral)))
    assert isinstance(task, Task)
    data = as_json(task)
    assert data["status"] == "completed"
    assert data["meta"]["versionId"] == "4"
    assert data["output"] == [
        {
            "type": {
                "coding": [
                    {"system": fhir.TASK_OUTPUT_SYSTEM, "code": "outcome", "display": "Outcome"}
                ]
            },
            "valueString": "Debt relief order arranged",
        }
    ]
    assert request["status"] == "completed"


def test_rejected_and_failed_tasks_say_why(world: World) -> None:
    with world.database.session() as session:
        rejected = refer(session, world)
        walk(session, world, rejected, (S.REJECTED, {"reason": "Only for LS postcodes"}))
        failed = refer(session, world)
        walk(
            session,
            world,
            failed,
            (S.ACCEPTED, {}),
            (S.FAILED, {"failure_reason": FailureReason.DECLINED, "reason": "Wants to wait"}),
        )
        requester = requester_of(session, rejected)
        rejected_task = as_json(fhir.task(rejected, requester))
        failed_task = as_json(fhir.task(failed, requester))
        rejected_request = as_json(fhir.service_request(rejected, requester))
    assert rejected_task["status"] == "rejected"
    assert rejected_task["statusReason"] == {"text": "Only for LS postcodes"}
    assert rejected_request["status"] == "revoked"
    assert failed_task["status"] == "failed"
    assert failed_task["statusReason"] == {
        "coding": [
            {
                "system": fhir.FAILURE_REASON_SYSTEM,
                "code": "declined",
                "display": "The person declined the service",
            }
        ],
        "text": "The person declined the service: Wants to wait",
    }


def test_a_consent_is_a_consent_to_disclose(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world)
        custodian = session.get(Organisation, world.clinician.organisation_id)
        assert custodian is not None
        resource = fhir.consent(consent, custodian)
        assert isinstance(resource, FhirConsent)
        data = as_json(resource)
        service.withdraw_consent(
            session, context_of(world.clinician), consent.id, actor=world.clinician
        )
        withdrawn = as_json(fhir.consent(consent, custodian))
    assert data["resourceType"] == "Consent"
    assert data["status"] == "active"
    assert withdrawn["status"] == "inactive"
    assert data["scope"]["coding"][0]["code"] == "patient-privacy"
    assert data["category"][0]["coding"][0]["code"] == "IDSCL"
    assert data["patient"]["reference"] == f"Patient/{world.person_id}"
    assert data["organization"][0]["display"] == "Test Practice"
    provision = data["provision"]
    assert provision["type"] == "permit"
    assert provision["period"]["end"] == (TODAY + timedelta(days=365)).isoformat()
    assert provision["actor"][0]["role"]["coding"][0]["code"] == "IRCP"
    assert provision["actor"][0]["reference"]["identifier"]["value"] == ADVICE_ORG
    assert provision["actor"][0]["reference"]["display"] == "Leeds Advice Network"
    assert "Name, telephone number" in data["text"]["div"]
