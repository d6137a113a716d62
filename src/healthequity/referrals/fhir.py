"""Consents and referrals as FHIR R4B resources, in the style of the HL7 Gravity Project's
SDOH Clinical Care implementation guide (http://hl7.org/fhir/us/sdoh-clinicalcare/):

- a referral is a ServiceRequest (what is asked of which service, for whom, for which needs
  (Conditions), on what consent) and a Task that tracks its progress: Task.focus is the
  ServiceRequest, Task.for the Patient, Task.owner the provider Organization,
  Task.statusReason says why it stands where it does, Task.output carries the outcome;
- a consent is a Consent to disclose information (IDSCL) that permits the recipient
  organisation to receive it until the consent runs out.

Each resource is built as a fhir.resources model, which validates it as it is made. The
guide's profiles build on US Core, so the resources follow its patterns without claiming
its profiles. Organisations and directory services are referred to by identifier: the FHIR
API does not serve them as resources; needs are coded, Conditions and Patients referred to,
as the social history's resources are. meta.versionId is the referral's version, the one a
change must quote (optimistic locking).

A reader who may not see the sensitive needs a referral is for (`service.shown_needs`) gets
its resources without them and without their free text: the note, the reasons in words, the
outcome, and what the consent shares and what for.
"""

from __future__ import annotations

import html
from typing import Any

from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from healthequity.auth.models import Organisation
from healthequity.needs import NEEDS_BY_CODE
from healthequity.referrals.lifecycle import FAILURE_REASON_LABELS
from healthequity.referrals.models import Consent, ConsentStatus, Referral, ReferralStatus
from healthequity.referrals.schemas import ShownNeeds
from healthequity.social_history.fhir import NEED_SYSTEM
from healthequity.social_history.instruments import FHIR_BASE

SNOMED_CT = "http://snomed.info/sct"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ORGANISATION_SYSTEM = f"{FHIR_BASE}/Id/organisation"
DIRECTORY_ORGANIZATION_SYSTEM = f"{FHIR_BASE}/Id/directory-organization"
DIRECTORY_SERVICE_SYSTEM = f"{FHIR_BASE}/Id/directory-service"
REFERRAL_KIND_SYSTEM = f"{FHIR_BASE}/CodeSystem/referral-kind"
FAILURE_REASON_SYSTEM = f"{FHIR_BASE}/CodeSystem/referral-failure-reason"
TASK_OUTPUT_SYSTEM = f"{FHIR_BASE}/CodeSystem/referral-task-output"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

# ServiceRequest.status is the requester's view: active while the provider works on it,
# revoked once it ended without being done.
SERVICE_REQUEST_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.REQUESTED: "active",
    ReferralStatus.RECEIVED: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.IN_PROGRESS: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.REJECTED: "revoked",
    ReferralStatus.CANCELLED: "revoked",
    ReferralStatus.FAILED: "revoked",
}


def _patient(person_id: str) -> dict[str, Any]:
    return {"reference": f"Patient/{person_id}"}


def _organisation(organisation: Organisation) -> dict[str, Any]:
    identifier = (
        {"system": ODS_SYSTEM, "value": organisation.ods_code}
        if organisation.ods_code
        else {"system": ORGANISATION_SYSTEM, "value": str(organisation.id)}
    )
    return {"type": "Organization", "identifier": identifier, "display": organisation.name}


def _directory_organization(organization_id: str, name: str | None) -> dict[str, Any]:
    reference: dict[str, Any] = {
        "type": "Organization",
        "identifier": {"system": DIRECTORY_ORGANIZATION_SYSTEM, "value": organization_id},
    }
    if name:
        reference["display"] = name
    return reference


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _reader_needs(referral: Referral, shown: ShownNeeds | None) -> list[tuple[str, str]]:
    """(identified need id, need code) of the needs the reader may see: all of them when
    nothing is `shown` apart."""
    if shown is None:
        return [(need.identified_need_id, need.need_code) for need in referral.needs]
    return [(need.identified_need_id, need.code) for need in shown.needs]


def service_request(
    referral: Referral, requester: Organisation, shown: ShownNeeds | None = None
) -> ServiceRequest:
    """The referral as the request for a service: for whom, from whom, to which service,
    for which needs, on which consent, with the note shared with the provider. `shown`:
    what the reader may see of its needs, when that is not all of them."""
    needs = _reader_needs(referral, shown)
    withheld = shown is not None and shown.withheld
    categories = [
        {"coding": [_coding(NEED_SYSTEM, code, NEEDS_BY_CODE[code].label)]} for _, code in needs
    ]
    if referral.is_social_prescription:
        categories.append(
            {
                "coding": [
                    _coding(REFERRAL_KIND_SYSTEM, "social-prescription", "Social prescription")
                ]
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": referral.id,
        "meta": {"versionId": str(referral.version), "lastUpdated": referral.updated_at},
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "category": categories,
        "code": {
            "coding": [_coding(SNOMED_CT, "3457005", "Patient referral")],
            "text": f"Referral to {referral.service_name}",
        },
        "subject": _patient(referral.person_id),
        "authoredOn": referral.created_at,
        "requester": _organisation(requester),
        "performer": [
            {
                "type": "HealthcareService",
                "identifier": {"system": DIRECTORY_SERVICE_SYSTEM, "value": referral.service_id},
                "display": referral.service_name,
            }
        ],
        "reasonReference": [{"reference": f"Condition/{need_id}"} for need_id, _ in needs],
        "supportingInfo": [{"reference": f"Consent/{referral.consent_id}"}],
    }
    if referral.shared_note and not withheld:
        resource["note"] = [{"text": referral.shared_note}]
    return ServiceRequest.model_validate(resource)


def _status_reason(referral: Referral, withheld: bool) -> dict[str, Any] | None:
    if withheld:  # the words may speak of the sensitive need; the coded reason does not
        if referral.failure_reason is None:
            return None
        code = referral.failure_reason
        return {"coding": [_coding(FAILURE_REASON_SYSTEM, code.value, FAILURE_REASON_LABELS[code])]}
    if referral.failure_reason is not None:
        return {
            "coding": [
                _coding(
                    FAILURE_REASON_SYSTEM,
                    referral.failure_reason.value,
                    FAILURE_REASON_LABELS[referral.failure_reason],
                )
            ],
            "text": referral.status_reason or FAILURE_REASON_LABELS[referral.failure_reason],
        }
    return {"text": referral.status_reason} if referral.status_reason else None


def task(referral: Referral, requester: Organisation, shown: ShownNeeds | None = None) -> Task:
    """The Task that tracks the referral: its status and why, who owns it, its outcome.
    `shown`: what the reader may see of its needs, when that is not all of them."""
    withheld = shown is not None and shown.withheld
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": referral.id,
        "meta": {"versionId": str(referral.version), "lastUpdated": referral.updated_at},
        "status": referral.status.value,
        "intent": "order",
        "code": {"coding": [_coding(TASK_CODE_SYSTEM, "fulfill", "Fulfill the focal request")]},
        "focus": {"reference": f"ServiceRequest/{referral.id}"},
        "for": _patient(referral.person_id),
        "authoredOn": referral.created_at,
        "lastModified": referral.updated_at,
        "requester": _organisation(requester),
        "owner": _directory_organization(
            referral.provider_organization_id, referral.consent.recipient_name
        ),
    }
    reason = _status_reason(referral, withheld)
    if reason is not None:
        resource["statusReason"] = reason
    if referral.status == ReferralStatus.COMPLETED and referral.outcome and not withheld:
        resource["output"] = [
            {
                "type": {"coding": [_coding(TASK_OUTPUT_SYSTEM, "outcome", "Outcome")]},
                "valueString": referral.outcome,
            }
        ]
    return Task.model_validate(resource)


WITHHELD = "Withheld: it speaks of a sensitive need"


def consent(record: Consent, custodian: Organisation, *, withheld: bool = False) -> FhirConsent:
    """The person's consent to disclose information to the recipient organisation, from
    when it was recorded up to and including the day it runs out. `custodian` is the
    organisation that recorded it. `withheld`: what is shared and what for name a sensitive
    need the reader may not see, and are left out."""
    shared = WITHHELD if withheld else record.shared_information
    purpose = WITHHELD if withheld else record.purpose
    narrative = (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        f"<p>Shares with {html.escape(record.recipient_name)}: "
        f"{html.escape(shared)}</p>"
        f"<p>For: {html.escape(purpose)}</p>"
        f"<p>Until: {record.expires_on.isoformat()}</p></div>"
    )
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": record.id,
        "text": {"status": "generated", "div": narrative},
        "status": "active" if record.status == ConsentStatus.ACTIVE else "inactive",
        "scope": {"coding": [_coding(CONSENT_SCOPE_SYSTEM, "patient-privacy", "Privacy Consent")]},
        "category": [{"coding": [_coding(ACT_CODE_SYSTEM, "IDSCL", "information disclosure")]}],
        "patient": _patient(record.person_id),
        "dateTime": record.recorded_at,
        "performer": [_patient(record.person_id)],
        "organization": [_organisation(custodian)],
        "policyRule": {
            "coding": [_coding(ACT_CODE_SYSTEM, "OPTIN", "opt-in")],
            "text": purpose,
        },
        "provision": {
            "type": "permit",
            "period": {"start": record.recorded_at, "end": record.expires_on},
            "actor": [
                {
                    "role": {
                        "coding": [
                            _coding(PARTICIPATION_TYPE_SYSTEM, "IRCP", "information recipient")
                        ]
                    },
                    "reference": _directory_organization(
                        record.recipient_organization_id, record.recipient_name
                    ),
                }
            ],
        },
    }
    return FhirConsent.model_validate(resource)
