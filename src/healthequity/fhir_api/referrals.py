"""Consent, ServiceRequest and Task: the person's consent to share, the referral made on it,
and the Task that tracks the referral (the same id as its ServiceRequest), whose status a
provider system moves along the referral lifecycle.

Two extensions of ours carry what FHIR R4's Consent has no element for, on create and on
every read: what the person agreed to share (`consent-shared-information`, a string) and
who recorded the consent (`consent-recorded-by`, a Practitioner)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Organisation, User
from healthequity.auth.schemas import Principal
from healthequity.dates import LONDON
from healthequity.fhir_api.access import (
    acting_user,
    audit_view,
    visible_people,
    visible_referrals,
)
from healthequity.fhir_api.exceptions import (
    FhirError,
    Issue,
    business_rule,
    conflict,
    invalid,
    not_found,
)
from healthequity.fhir_api.responses import JsonObject, as_json, validated
from healthequity.fhir_api.search import (
    SearchQuery,
    any_of,
    date_conditions,
    each_occurrence,
    is_value,
    page_of,
    reference_id,
    token,
)
from healthequity.referrals import fhir, lifecycle
from healthequity.referrals import service as referrals
from healthequity.referrals.exceptions import (
    ConsentNotValid,
    IllegalTransition,
    PersonNotFound,
    ReferralInputError,
    ReferralNotFound,
    ServiceNotAcceptingReferrals,
    ServiceNotFound,
    StaleReferral,
)
from healthequity.referrals.models import (
    Consent,
    ConsentStatus,
    FailureReason,
    Referral,
    ReferralStatus,
)
from healthequity.referrals.schemas import ShownNeeds
from healthequity.social_history.instruments import FHIR_BASE

SHARED_INFORMATION = f"{FHIR_BASE}/StructureDefinition/consent-shared-information"
RECORDED_BY = f"{FHIR_BASE}/StructureDefinition/consent-recorded-by"
HEALTHCARE_SERVICE = "HealthcareService"
CONSENT_STATUS = {ConsentStatus.ACTIVE: "active", ConsentStatus.WITHDRAWN: "inactive"}

CONSENT_FIELDS = {
    "shared_information": f"Consent.extension('{SHARED_INFORMATION}')",
    "purpose": "Consent.policyRule.text",
    "expires_on": "Consent.provision.period.end",
    "recorded_by": f"Consent.extension('{RECORDED_BY}')",
}
REFERRAL_FIELDS = {
    "identified_need_ids": "ServiceRequest.reasonReference",
    "shared_note": "ServiceRequest.note",
    "requester": "ServiceRequest.requester",
    "follow_up_days": "ServiceRequest",
}
TASK_FIELDS = {
    "reason": "Task.statusReason.text",
    "outcome": "Task.output",
    "failure_reason": f"Task.statusReason.coding.where(system='{fhir.FAILURE_REASON_SYSTEM}')",
}


def _input_error(error: ReferralInputError, paths: dict[str, str]) -> FhirError:
    return FhirError(
        422,
        [
            Issue("business-rule", f"{name}: {message}", paths.get(name))
            for name, message in error.errors.items()
        ],
    )


def _reference(value: Any) -> str:
    return (value.reference or "") if value is not None else ""


def _id_of(reference: str, resource_type: str) -> str | None:
    prefix = f"{resource_type}/"
    return reference.removeprefix(prefix) if reference.startswith(prefix) else None


# Consent


def consent_resource(session: Session, record: Consent, *, withheld: bool = False) -> FhirConsent:
    """The consent as the referrals capability gives it, with what is shared and who
    recorded it; the custodian is the recorder's organisation. `withheld`: what is shared
    and what for speak of a sensitive need the reader may not see."""
    recorder = session.get(User, record.recorded_by_user_id)
    assert recorder is not None  # the consent's foreign key
    data = as_json(fhir.consent(record, recorder.organisation, withheld=withheld))
    shared = fhir.WITHHELD if withheld else record.shared_information
    data["extension"] = [
        {"url": SHARED_INFORMATION, "valueString": shared},
        {
            "url": RECORDED_BY,
            "valueReference": {
                "reference": f"Practitioner/{recorder.id}",
                "display": recorder.display_name,
            },
        },
    ]
    return FhirConsent.model_validate(data)


def _visible_consents(principal: Principal) -> ColumnElement[bool]:
    return Consent.person_id.in_(visible_people(principal))


def read_consent(
    session: Session, context: AuditContext, principal: Principal, consent_id: str
) -> FhirConsent:
    record = session.scalar(
        select(Consent).where(Consent.id == consent_id, _visible_consents(principal))
    )
    if record is None:
        raise not_found(f"no Consent {consent_id!r} among those you can see")
    audit_view(session, context, "Consent", "read", [record])
    withheld = referrals.consent_withheld(
        session, context, record, viewer=principal, page="fhir.Consent"
    )
    return consent_resource(session, record, withheld=withheld)


def search_consents(
    session: Session, context: AuditContext, principal: Principal, query: SearchQuery
) -> tuple[list[FhirConsent], int]:
    by_status = {value: status for status, value in CONSENT_STATUS.items()}
    conditions = [_visible_consents(principal)]
    conditions += each_occurrence(query, "_id", lambda v: Consent.id == v)
    conditions += each_occurrence(
        query, "patient", lambda v: Consent.person_id == reference_id("patient", v, "Patient")
    )
    conditions += each_occurrence(
        query,
        "status",
        lambda v: is_value(Consent.status, ConsentStatus, by_status.get(token(v).code or "")),
    )
    conditions += date_conditions(query, ("date",), Consent.recorded_at)
    records, total = page_of(
        session,
        select(Consent).where(*conditions),
        query,
        Consent.recorded_at.desc(),
        Consent.id,
    )
    audit_view(session, context, "Consent", "search", records)
    return [
        consent_resource(
            session,
            record,
            withheld=referrals.consent_withheld(
                session, context, record, viewer=principal, page="fhir.Consent"
            ),
        )
        for record in records
    ], total


def _extension(resource: Any, url: str) -> Any:
    return next((e for e in resource.extension or [] if e.url == url), None)


def _expiry(value: object) -> date:
    if isinstance(value, datetime):
        return value.astimezone(LONDON).date()
    if isinstance(value, date):
        return value
    raise business_rule(
        "say until when the person agrees: provision.period.end, a day like 2027-11-22",
        CONSENT_FIELDS["expires_on"],
    )


def _recipient_service(resource: FhirConsent) -> str:
    provision = resource.provision
    for actor in (provision.actor or []) if provision else []:
        service_id = _id_of(_reference(actor.reference), HEALTHCARE_SERVICE)
        if service_id:
            return service_id
    raise business_rule(
        "name the directory service whose organisation receives the information: "
        "provision.actor with role IRCP and reference HealthcareService/<id>",
        "Consent.provision.actor",
    )


def create_consent(
    session: Session, context: AuditContext, principal: Principal, data: JsonObject
) -> FhirConsent:
    """Record the person's consent to share information with the organisation that runs a
    directory service, for a purpose, up to and including a day."""
    resource = validated(FhirConsent, data)
    if resource.status != "active":
        raise business_rule(
            f"status is {resource.status!r}: a consent is recorded as active", "Consent.status"
        )
    if resource.provision is None or resource.provision.type != "permit":
        raise business_rule(
            "a consent to share is a provision of type permit", "Consent.provision.type"
        )
    recorded_by = _extension(resource, RECORDED_BY)
    actor, actor_context = acting_user(
        session,
        principal,
        context,
        _reference(recorded_by.valueReference) if recorded_by else None,
        CONSENT_FIELDS["recorded_by"],
    )
    shared = _extension(resource, SHARED_INFORMATION)
    period = resource.provision.period
    person_reference = _reference(resource.patient)
    try:
        record = referrals.record_consent(
            session,
            actor_context,
            person_id=_id_of(person_reference, "Patient") or person_reference,
            service_id=_recipient_service(resource),
            shared_information=(shared.valueString or "") if shared else "",
            purpose=(resource.policyRule.text or "") if resource.policyRule else "",
            expires_on=_expiry(period.end if period else None),
            recorded_by=actor,
        )
    except ReferralInputError as error:
        raise _input_error(error, CONSENT_FIELDS) from None
    except PersonNotFound as error:
        raise business_rule(str(error), "Consent.patient") from None
    except ServiceNotFound as error:
        raise business_rule(str(error), "Consent.provision.actor") from None
    return consent_resource(session, record)


# ServiceRequest and Task


def _requester(session: Session, referral: Referral) -> Organisation:
    organisation = session.get(Organisation, referral.requester_organisation_id)
    assert organisation is not None  # the referral's foreign key
    return organisation


def service_request_resource(
    session: Session, referral: Referral, shown: ShownNeeds | None = None
) -> ServiceRequest:
    return fhir.service_request(referral, _requester(session, referral), shown)


def task_resource(session: Session, referral: Referral, shown: ShownNeeds | None = None) -> Task:
    return fhir.task(referral, _requester(session, referral), shown)


def _shown(
    session: Session,
    context: AuditContext,
    principal: Principal,
    resource_type: str,
    found: Sequence[Referral],
) -> dict[str, ShownNeeds]:
    """What the reader may see of each referral's needs (referrals.service.shown_needs)."""
    return referrals.shown_needs(
        session, context, found, viewer=principal, page=f"fhir.{resource_type}"
    )


def _referral(
    session: Session, context: AuditContext, principal: Principal, resource_type: str, id_: str
) -> Referral:
    try:
        return referrals.get_referral(session, context, id_, actor=principal)
    except ReferralNotFound:
        raise not_found(f"no {resource_type} {id_!r} among those you can see") from None


def read_service_request(
    session: Session, context: AuditContext, principal: Principal, request_id: str
) -> ServiceRequest:
    referral = _referral(session, context, principal, "ServiceRequest", request_id)
    shown = _shown(session, context, principal, "ServiceRequest", [referral])
    return service_request_resource(session, referral, shown[referral.id])


def read_task(session: Session, context: AuditContext, principal: Principal, task_id: str) -> Task:
    referral = _referral(session, context, principal, "Task", task_id)
    shown = _shown(session, context, principal, "Task", [referral])
    return task_resource(session, referral, shown[referral.id])


def _statuses_of_request(value: str) -> ColumnElement[bool]:
    code = token(value).code
    wanted = [status for status, shown in fhir.SERVICE_REQUEST_STATUS.items() if shown == code]
    return Referral.status.in_(wanted)


def _owner(value: str) -> ColumnElement[bool]:
    return Referral.provider_organization_id == reference_id("owner", value, "Organization")


def _owner_identifier(value: str) -> ColumnElement[bool]:
    wanted = token(value)
    if not wanted.matches_system(fhir.DIRECTORY_ORGANIZATION_SYSTEM) or wanted.code is None:
        return any_of([])
    return Referral.provider_organization_id == wanted.code


def _search_referrals(
    session: Session,
    context: AuditContext,
    principal: Principal,
    query: SearchQuery,
    *order: Any,
) -> tuple[list[Referral], int]:
    conditions = [visible_referrals(principal)]
    conditions += each_occurrence(query, "_id", lambda v: Referral.id == v)
    conditions += each_occurrence(
        query, "patient", lambda v: Referral.person_id == reference_id("patient", v, "Patient")
    )
    if query.resource_type == "ServiceRequest":
        conditions += each_occurrence(query, "status", _statuses_of_request)
        conditions += each_occurrence(
            query,
            "performer",
            lambda v: Referral.service_id == reference_id("performer", v, HEALTHCARE_SERVICE),
        )
        conditions += date_conditions(query, ("authored", "date"), Referral.created_at)
    else:
        conditions += each_occurrence(
            query, "status", lambda v: is_value(Referral.status, ReferralStatus, token(v).code)
        )
        conditions += each_occurrence(query, "owner", _owner)
        conditions += each_occurrence(query, "owner:identifier", _owner_identifier)
        conditions += each_occurrence(
            query, "focus", lambda v: Referral.id == reference_id("focus", v, "ServiceRequest")
        )
        conditions += date_conditions(query, ("authored-on", "date"), Referral.created_at)
        conditions += date_conditions(query, ("modified",), Referral.updated_at)
    found, total = page_of(session, select(Referral).where(*conditions), query, *order)
    audit_view(session, context, query.resource_type, "search", found)
    return found, total


def search_service_requests(
    session: Session, context: AuditContext, principal: Principal, query: SearchQuery
) -> tuple[list[ServiceRequest], int]:
    """Referrals the principal may see, newest first."""
    found, total = _search_referrals(
        session, context, principal, query, Referral.created_at.desc(), Referral.id
    )
    shown = _shown(session, context, principal, "ServiceRequest", found)
    return [
        service_request_resource(session, referral, shown[referral.id]) for referral in found
    ], total


def search_tasks(
    session: Session, context: AuditContext, principal: Principal, query: SearchQuery
) -> tuple[list[Task], int]:
    """Referrals' Tasks the principal may see, oldest first, as a provider's inbox is."""
    found, total = _search_referrals(
        session, context, principal, query, Referral.created_at.asc(), Referral.id
    )
    shown = _shown(session, context, principal, "Task", found)
    return [task_resource(session, referral, shown[referral.id]) for referral in found], total


def _service_of(resource: ServiceRequest) -> str:
    performers = resource.performer or []
    if len(performers) == 1:
        performer = performers[0]
        service_id = _id_of(_reference(performer), HEALTHCARE_SERVICE)
        identifier = performer.identifier
        if service_id is None and identifier and identifier.system == fhir.DIRECTORY_SERVICE_SYSTEM:
            service_id = identifier.value
        if service_id:
            return service_id
    raise business_rule(
        "name one directory service as the performer: HealthcareService/<directory service id>",
        "ServiceRequest.performer",
    )


def _ids_of(references: Sequence[Any] | None, resource_type: str) -> list[str]:
    return [
        found
        for reference in references or []
        if (found := _id_of(_reference(reference), resource_type)) is not None
    ]


def create_service_request(
    session: Session, context: AuditContext, principal: Principal, data: JsonObject
) -> ServiceRequest:
    """Refer the person (subject) to a directory service (performer) for some of their
    needs (reasonReference Conditions), on their consent (supportingInfo Consent). Sent to
    the provider (status active) unless a draft."""
    resource = validated(ServiceRequest, data)
    if resource.intent != "order":
        raise business_rule(
            f"intent is {resource.intent!r}: a referral is an order", "ServiceRequest.intent"
        )
    if resource.status not in ("active", "draft"):
        raise business_rule(
            f"status is {resource.status!r}: expected active (send the referral) or draft",
            "ServiceRequest.status",
        )
    actor, actor_context = acting_user(
        session,
        principal,
        context,
        _reference(resource.requester) or None,
        "ServiceRequest.requester",
    )
    consents = _ids_of(resource.supportingInfo, "Consent")
    if len(consents) != 1:
        raise business_rule(
            "reference the person's consent to share with the provider: one supportingInfo "
            "Consent/<id>",
            "ServiceRequest.supportingInfo",
        )
    kinds = [coding for category in resource.category or [] for coding in category.coding or []]
    social_prescription = any(
        coding.system == fhir.REFERRAL_KIND_SYSTEM and coding.code == "social-prescription"
        for coding in kinds
    )
    subject = _reference(resource.subject)
    try:
        referral = referrals.refer_person(
            session,
            actor_context,
            _id_of(subject, "Patient") or subject,
            _service_of(resource),
            _ids_of(resource.reasonReference, "Condition"),
            consents[0],
            actor,
            "\n".join(note.text for note in resource.note or [] if note.text) or None,
            is_social_prescription=social_prescription,
            draft=resource.status == "draft",
        )
    except ReferralInputError as error:
        raise _input_error(error, REFERRAL_FIELDS) from None
    except PersonNotFound as error:
        raise business_rule(str(error), "ServiceRequest.subject") from None
    except (ServiceNotFound, ServiceNotAcceptingReferrals) as error:
        raise business_rule(str(error), "ServiceRequest.performer") from None
    except ConsentNotValid as error:
        raise business_rule(str(error), "ServiceRequest.supportingInfo") from None
    shown = _shown(session, context, principal, "ServiceRequest", [referral])
    return service_request_resource(session, referral, shown[referral.id])


# Changing a Task


def _status_reason(task: Task) -> tuple[str | None, str | None]:
    """The reason's text and failure reason code a Task carries."""
    reason = task.statusReason
    if reason is None:
        return None, None
    code = next(
        (
            coding.code
            for coding in reason.coding or []
            if coding.system == fhir.FAILURE_REASON_SYSTEM
        ),
        None,
    )
    return reason.text, code


def _outcome(task: Task) -> str | None:
    outputs = task.output or []
    for output in outputs:
        if output.valueString is None:
            raise business_rule(
                "an output is the outcome, as valueString: what the person got from the service",
                "Task.output",
            )
    return "\n".join(str(output.valueString) for output in outputs) or None


def _failure_reason(code: str | None) -> FailureReason | None:
    if code is None:
        return None
    try:
        return FailureReason(code)
    except ValueError:
        raise business_rule(
            f"failure reason {code!r}: expected one of {', '.join(FailureReason)}",
            TASK_FIELDS["failure_reason"],
        ) from None


def _detail(text: str | None, failure: FailureReason | None) -> str | None:
    """A failure's own words, without the label of its reason that the Task shows first."""
    if failure is None or text is None:
        return text
    label = lifecycle.FAILURE_REASON_LABELS[failure]
    return None if text == label else text.removeprefix(f"{label}: ")


def update_task(
    session: Session,
    context: AuditContext,
    principal: Principal,
    task_id: str,
    proposed: JsonObject,
    expected_version: int,
) -> Task:
    """Move the referral to the status the proposed Task has, with its statusReason (the
    reason, and for a failure its code) and output (the outcome). A reason or failure code
    the Task carried already is not taken as given again. The rest of the Task stays as it
    is. A version other than the current one is refused (412), a move the lifecycle does not
    allow too (409, naming both statuses); nothing changes when nothing does."""
    referral = _referral(session, context, principal, "Task", task_id)
    task = validated(Task, proposed)
    if task.id != task_id:
        raise invalid(
            f"the Task's id is {task.id!r}: expected {task_id!r}, as in the URL", "Task.id"
        )
    try:
        to_status = ReferralStatus(task.status)
    except ValueError:
        raise business_rule(
            f"status {task.status!r}: expected one of {', '.join(ReferralStatus)}", "Task.status"
        ) from None
    current = task_resource(session, referral)
    if expected_version != referral.version:
        raise FhirError(
            412,
            Issue("conflict", str(StaleReferral(referral.id, expected_version, referral.version))),
        )
    text, code = _status_reason(task)
    had_text, had_code = _status_reason(current)
    failure = _failure_reason(code if code != had_code else None)
    reason = _detail(text if text != had_text else None, failure)
    outcome = _outcome(task)
    unchanged = (to_status, reason, failure, outcome) == (
        referral.status,
        None,
        None,
        _outcome(current),
    )
    if unchanged:
        shown = _shown(session, context, principal, "Task", [referral])
        return task_resource(session, referral, shown[referral.id])
    try:
        changed = referrals.change_status(
            session,
            context,
            referral.id,
            to_status,
            expected_version,
            reason=reason,
            outcome=outcome,
            failure_reason=failure,
            actor=principal,
        )
    except StaleReferral as error:
        raise FhirError(412, Issue("conflict", str(error))) from None
    except IllegalTransition as error:
        raise conflict(str(error), "Task.status") from None
    except ReferralInputError as error:
        raise _input_error(error, TASK_FIELDS) from None
    shown = _shown(session, context, principal, "Task", [changed])
    return task_resource(session, changed, shown[changed.id])
