"""The FHIR R4 API under /fhir/: Patient, Questionnaire, QuestionnaireResponse, Observation,
Condition, Consent, ServiceRequest and Task, with the interactions and search parameters
`capability.SUPPORTED` lists (published at /fhir/metadata). Every response is a FHIR
resource in application/fhir+json, built as a fhir.resources model (so validated); every
error an OperationOutcome. See docs/fhir.md."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fhir.resources.R4B.resource import Resource
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, allow_public, allow_signed_in, audit_context
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.fhir_api import needs, patients, questionnaires, referrals
from healthequity.fhir_api.capability import SUPPORT_BY_TYPE, capability_statement, search_params
from healthequity.fhir_api.exceptions import FhirError, Issue, not_found
from healthequity.fhir_api.patch import apply_patch
from healthequity.fhir_api.responses import (
    FHIR_JSON,
    JSON_PATCH,
    FhirResponse,
    FhirRoute,
    JsonObject,
    as_json,
    error_response,
    patch_body,
    resource_body,
    version_from,
    with_version,
)
from healthequity.fhir_api.search import SearchQuery, parse_query, searchset
from healthequity.people.exceptions import PersonAccessDenied
from healthequity.web.dependencies import get_session

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)

CLINICAL = (Role.CLINICIAN, Role.LINK_WORKER)
CARE_TEAM = (*CLINICAL, Role.ADMIN)
WITH_PROVIDERS = (*CARE_TEAM, Role.PROVIDER)

OUTCOME = {"content": {FHIR_JSON: {"schema": {"type": "object", "title": "OperationOutcome"}}}}
RESOURCE = {"content": {FHIR_JSON: {"schema": {"type": "object", "title": "FHIR resource"}}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: RESOURCE,
    400: {"description": "Not valid FHIR, or a search the server does not take", **OUTCOME},
    401: {"description": "No valid API token or session", **OUTCOME},
    403: {"description": "A role the route does not allow, or outside the care team", **OUTCOME},
    404: {"description": "Unknown, or not among those the caller may see", **OUTCOME},
    422: {"description": "Breaks a rule of the service; each issue names the element", **OUTCOME},
}
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    409: {"description": "A move the referral lifecycle does not allow", **OUTCOME},
    412: {"description": "The Task changed since the version quoted", **OUTCOME},
    428: {"description": "No version quoted (If-Match)", **OUTCOME},
}


def _body(media_type: str, what: str) -> dict[str, Any]:
    """The request body in the OpenAPI document (the route reads it itself)."""
    schema = {"type": "object" if media_type == FHIR_JSON else "array", "title": what}
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


ReadFn = Callable[[Session, AuditContext, Principal, str], Resource]
SearchFn = Callable[[Session, AuditContext, Principal, SearchQuery], tuple[Sequence[Resource], int]]
CreateFn = Callable[[Session, AuditContext, Principal, JsonObject], Resource]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _query(request: Request, resource_type: str) -> SearchQuery:
    return parse_query(
        resource_type, search_params(resource_type), request.query_params.multi_items()
    )


def _resource(resource: Resource, status_code: int = 200, **headers: str) -> FhirResponse:
    return FhirResponse(resource, status_code=status_code, headers=with_version(resource, headers))


@router.get("/metadata", response_class=FhirResponse, summary="The CapabilityStatement")
def metadata(request: Request, _principal: Principal | None = allow_public()) -> FhirResponse:
    """What this server supports: resources, interactions and search parameters."""
    return FhirResponse(capability_statement(base_url(request)))


def _search_route(resource_type: str, search: SearchFn, roles: Sequence[Role]) -> None:
    def search_type(
        request: Request,
        principal: Principal = allow(*roles),
        context: AuditContext = Depends(audit_context),
        session: Session = Depends(get_session, scope="function"),
    ) -> FhirResponse:
        query = _query(request, resource_type)
        resources, total = search(session, context, principal, query)
        return FhirResponse(searchset(base_url(request), query, resources, total))

    router.add_api_route(
        f"/{resource_type}",
        search_type,
        methods=["GET"],
        name=f"search_{resource_type}",
        summary=f"Search {resource_type}",
        description=SUPPORT_BY_TYPE[resource_type].documentation,
        response_class=FhirResponse,
        responses=RESPONSES,
    )


def _read_route(resource_type: str, read: ReadFn, roles: Sequence[Role]) -> None:
    def read_instance(
        resource_id: str,
        principal: Principal = allow(*roles),
        context: AuditContext = Depends(audit_context),
        session: Session = Depends(get_session, scope="function"),
    ) -> FhirResponse:
        return _resource(read(session, context, principal, resource_id))

    router.add_api_route(
        f"/{resource_type}/{{resource_id}}",
        read_instance,
        methods=["GET"],
        name=f"read_{resource_type}",
        summary=f"Read a {resource_type}",
        response_class=FhirResponse,
        responses=RESPONSES,
    )


def _create_route(resource_type: str, create: CreateFn, roles: Sequence[Role]) -> None:
    def create_instance(
        request: Request,
        principal: Principal = allow(*roles),
        context: AuditContext = Depends(audit_context),
        body: JsonObject = Depends(resource_body),
        session: Session = Depends(get_session, scope="function"),
    ) -> FhirResponse:
        resource = create(session, context, principal, body)
        location = f"{base_url(request)}/{resource_type}/{resource.id}"
        return _resource(resource, 201, Location=location)

    router.add_api_route(
        f"/{resource_type}",
        create_instance,
        methods=["POST"],
        status_code=201,
        name=f"create_{resource_type}",
        summary=f"Create a {resource_type}",
        response_class=FhirResponse,
        responses={
            **{code: value for code, value in RESPONSES.items() if code != 200},
            201: {"description": f"The {resource_type} created", **RESOURCE},
            409: {"description": "The person has a record already", **OUTCOME},
        },
        openapi_extra=_body(FHIR_JSON, resource_type),
    )


# Patient: a refusal is audited by the people service, so it is answered, not raised
# (a raised error would roll the audit event back with the request's transaction).


@router.get(
    "/Patient/{resource_id}",
    name="read_Patient",
    summary="Read a Patient",
    response_class=FhirResponse,
    responses=RESPONSES,
)
def read_patient(
    resource_id: str,
    principal: Principal = allow(*WITH_PROVIDERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> FhirResponse:
    try:
        return _resource(patients.read_patient(session, context, principal, resource_id))
    except PersonAccessDenied as error:
        return error_response(FhirError(403, Issue("forbidden", str(error))))


_search_route("Patient", patients.search_patients, CARE_TEAM)
_create_route("Patient", patients.create_patient, CARE_TEAM)


# Questionnaire: the instruments, the same for everyone signed in.


@router.get(
    "/Questionnaire",
    name="search_Questionnaire",
    summary="Search Questionnaire",
    response_class=FhirResponse,
    responses=RESPONSES,
)
def search_questionnaires(
    request: Request, _principal: Principal = allow_signed_in()
) -> FhirResponse:
    query = _query(request, "Questionnaire")
    found, total = questionnaires.search_questionnaires(query)
    return FhirResponse(searchset(base_url(request), query, found, total))


@router.get(
    "/Questionnaire/{resource_id}",
    name="read_Questionnaire",
    summary="Read a Questionnaire",
    response_class=FhirResponse,
    responses=RESPONSES,
)
def read_questionnaire(resource_id: str, _principal: Principal = allow_signed_in()) -> FhirResponse:
    return _resource(questionnaires.read_questionnaire(resource_id))


@router.get(
    "/Questionnaire/{resource_id}/_history/{version}",
    name="vread_Questionnaire",
    summary="Read a version of a Questionnaire",
    response_class=FhirResponse,
    responses=RESPONSES,
)
def vread_questionnaire(
    resource_id: str, version: str, _principal: Principal = allow_signed_in()
) -> FhirResponse:
    return _resource(questionnaires.read_questionnaire(resource_id, version))


_search_route("QuestionnaireResponse", questionnaires.search_responses, CLINICAL)
_read_route("QuestionnaireResponse", questionnaires.read_response, CLINICAL)
_create_route("QuestionnaireResponse", questionnaires.create_response, CLINICAL)


def _need_reader(resource_type: str) -> ReadFn:
    def read(session: Session, context: AuditContext, principal: Principal, id_: str) -> Resource:
        return needs.read_need(session, context, principal, resource_type, id_)

    return read


for _type in (needs.OBSERVATION, needs.CONDITION):
    _search_route(_type, needs.search_needs, WITH_PROVIDERS)
    _read_route(_type, _need_reader(_type), WITH_PROVIDERS)

_search_route("Consent", referrals.search_consents, CARE_TEAM)
_read_route("Consent", referrals.read_consent, CARE_TEAM)
_create_route("Consent", referrals.create_consent, CLINICAL)

_search_route("ServiceRequest", referrals.search_service_requests, WITH_PROVIDERS)
_read_route("ServiceRequest", referrals.read_service_request, WITH_PROVIDERS)
_create_route("ServiceRequest", referrals.create_service_request, CLINICAL)

_search_route("Task", referrals.search_tasks, WITH_PROVIDERS)
_read_route("Task", referrals.read_task, WITH_PROVIDERS)


# Task changes: by the provider (or the referrer), quoting the version they read.

TASK_CHANGERS = (*CLINICAL, Role.PROVIDER)


@router.put(
    "/Task/{resource_id}",
    name="update_Task",
    summary="Update a Task's status",
    response_class=FhirResponse,
    responses=CHANGE_RESPONSES,
    openapi_extra=_body(FHIR_JSON, "Task"),
)
def update_task(
    resource_id: str,
    principal: Principal = allow(*TASK_CHANGERS),
    context: AuditContext = Depends(audit_context),
    body: JsonObject = Depends(resource_body),
    if_match: str | None = Header(None, description='The version read: W/"<meta.versionId>"'),
    session: Session = Depends(get_session, scope="function"),
) -> FhirResponse:
    """Move the referral along its lifecycle: the Task as read, with a new status (and
    statusReason, or output when completed). 412 if the Task changed since it was read."""
    meta = body.get("meta")
    version = version_from(if_match, meta.get("versionId") if isinstance(meta, dict) else None)
    return _resource(referrals.update_task(session, context, principal, resource_id, body, version))


@router.patch(
    "/Task/{resource_id}",
    name="patch_Task",
    summary="Patch a Task's status (JSON Patch)",
    response_class=FhirResponse,
    responses=CHANGE_RESPONSES,
    openapi_extra=_body(JSON_PATCH, "JSON Patch"),
)
def patch_task(
    resource_id: str,
    principal: Principal = allow(*TASK_CHANGERS),
    context: AuditContext = Depends(audit_context),
    operations: list[Any] = Depends(patch_body),
    if_match: str | None = Header(None, description='The version read: W/"<meta.versionId>"'),
    session: Session = Depends(get_session, scope="function"),
) -> FhirResponse:
    """The same change as PUT, as JSON Patch operations on the Task (replace /status, add
    /statusReason or /output); If-Match is required."""
    version = version_from(if_match, None)
    current = referrals.read_task(session, context, principal, resource_id)
    proposed = apply_patch(as_json(current), operations)
    return _resource(
        referrals.update_task(session, context, principal, resource_id, proposed, version)
    )


# Anything else under /fhir/: an OperationOutcome saying what is supported.


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    name="fhir_unsupported",
    include_in_schema=False,
)
def unsupported(
    path: str, request: Request, _principal: Principal = allow_signed_in()
) -> FhirResponse:
    resource_type = path.split("/", 1)[0]
    support = SUPPORT_BY_TYPE.get(resource_type)
    if support is None:
        raise not_found(
            f"this server has no resource type {resource_type!r}: it serves "
            + ", ".join(SUPPORT_BY_TYPE)
        )
    raise FhirError(
        405,
        Issue(
            "not-supported",
            f"{request.method} /fhir/{path} is not supported: {resource_type} supports "
            + ", ".join(support.interactions),
        ),
    )
