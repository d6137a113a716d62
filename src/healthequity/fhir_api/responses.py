"""FHIR over HTTP: responses in `application/fhir+json`, errors as OperationOutcomes, request
bodies read as FHIR JSON (or JSON Patch), and versions in ETag and If-Match.

`FhirRoute` is the route class of every FHIR endpoint: whatever goes wrong in a request
(no or a bad token, a role the route does not allow, a missing CSRF token, a parameter
FastAPI refuses, a FhirError, or a fault, logged) is answered as an OperationOutcome, where
the rest of the app answers JSON or a page."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from healthequity.auth.exceptions import NotAuthenticated, PermissionDenied
from healthequity.fhir_api.exceptions import FhirError, Issue, invalid
from healthequity.web.security import CsrfFailed

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
# What a client may send a resource as: FHIR JSON, or plain JSON (FHIR allows both).
RESOURCE_MEDIA_TYPES = (FHIR_JSON, "application/json")

JsonObject = dict[str, Any]
logger = logging.getLogger("healthequity.web")

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


class FhirResponse(Response):
    """A FHIR resource, validated (it is a fhir.resources model), as FHIR JSON."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        if not isinstance(content, Resource):
            raise TypeError(f"a FHIR response needs a FHIR resource, got {type(content)!r}")
        return content.model_dump_json().encode("utf-8")


def operation_outcome(issues: tuple[Issue, ...]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "diagnostics": issue.diagnostics,
                    **({"expression": [issue.expression]} if issue.expression else {}),
                }
                for issue in issues
            ],
        }
    )


def error_response(error: FhirError) -> FhirResponse:
    return FhirResponse(
        operation_outcome(error.issues), status_code=error.status_code, headers=error.headers
    )


def _as_fhir_error(exc: Exception) -> FhirError | None:
    """The FhirError an exception of the stack is answered as; None for a real fault."""
    if isinstance(exc, FhirError):
        return exc
    if isinstance(exc, NotAuthenticated):
        return FhirError(401, Issue("login", str(exc)), {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, PermissionDenied):
        return FhirError(403, Issue("forbidden", str(exc)))
    if isinstance(exc, CsrfFailed):
        return FhirError(
            403,
            Issue(
                "forbidden",
                "a request signed in with a browser session must carry the CSRF token; "
                "machine clients send 'Authorization: Bearer <API token>' instead",
            ),
        )
    if isinstance(exc, RequestValidationError):
        return FhirError(
            400,
            [Issue("invalid", str(error["msg"]), str(error["loc"][-1])) for error in exc.errors()],
        )
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return FhirError(exc.status_code, Issue("processing", detail), exc.headers)
    return None


class FhirRoute(APIRoute):
    """A route whose errors are OperationOutcomes (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = _as_fhir_error(exc)
                if error is None:
                    # A fault: the trace goes to the log only, as for the rest of the app.
                    logger.exception("unhandled error", extra={"path": request.url.path})
                    reference = getattr(request.state, "request_id", "none")
                    error = FhirError(
                        500,
                        Issue(
                            "exception",
                            "Try again later. If the problem continues, give the support "
                            f"team this reference: {reference}.",
                        ),
                    )
                return error_response(error)

        return fhir_handler


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def resource_body(request: Request) -> JsonObject:
    """The resource sent, as a JSON object (its FHIR validity is checked by the caller)."""
    media_type = _media_type(request)
    if media_type not in RESOURCE_MEDIA_TYPES:
        raise FhirError(
            415,
            Issue(
                "not-supported",
                f"Content-Type {media_type or 'missing'}: send the resource as {FHIR_JSON}",
            ),
        )
    return _json_object(await request.body())


async def patch_body(request: Request) -> list[Any]:
    """The JSON Patch document sent (RFC 6902), as FHIR's patch interaction takes it."""
    media_type = _media_type(request)
    if media_type != JSON_PATCH:
        raise FhirError(
            415,
            Issue(
                "not-supported",
                f"Content-Type {media_type or 'missing'}: send a JSON Patch as {JSON_PATCH}",
            ),
        )
    document = _json(await request.body())
    if not isinstance(document, list):
        raise invalid("a JSON Patch is a JSON array of operations")
    return document


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"the body is not JSON: {error}", code="structure") from None


def _json_object(body: bytes) -> JsonObject:
    data = _json(body)
    if not isinstance(data, dict):
        raise invalid("the body must be one FHIR resource: a JSON object", code="structure")
    return data


def as_json(resource: Resource) -> JsonObject:
    """The resource as FHIR JSON data."""
    loaded: JsonObject = json.loads(resource.model_dump_json())
    return loaded


def validated(model: type[Resource], data: JsonObject) -> Any:
    """The resource sent as a fhir.resources model of its type; 400 naming each element that
    is not valid FHIR otherwise."""
    expected = model.get_resource_type()
    if data.get("resourceType") != expected:
        raise invalid(
            f"resourceType is {data.get('resourceType')!r}: expected {expected!r}",
            f"{expected}.resourceType",
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FhirError(
            400,
            [
                Issue(
                    "structure",
                    f"not valid FHIR: {problem['msg']}",
                    _fhir_path(expected, problem["loc"]),
                )
                for problem in error.errors()
            ],
        ) from None


def _fhir_path(resource_type: str, location: tuple[int | str, ...]) -> str:
    path = resource_type
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def with_version(resource: Resource, headers: dict[str, str] | None = None) -> dict[str, str]:
    """The headers of a response that gives the resource: its version as the ETag, if any."""
    headers = dict(headers or {})
    meta = getattr(resource, "meta", None)
    if meta is not None and meta.versionId:
        headers["ETag"] = f'W/"{meta.versionId}"'
    return headers


def version_from(if_match: str | None, meta_version: str | None) -> int:
    """The version a change was made from: If-Match (W/"3"), or else meta.versionId. 428 if
    neither is given, 400 if it is not a version."""
    if if_match is not None:
        found = _ETAG.match(if_match)
        if found is None:
            raise invalid(
                f'If-Match {if_match!r} is not a version: expected W/"<version>", like W/"3"',
                "If-Match",
            )
        return int(found.group(1))
    if meta_version is not None:
        if not meta_version.isdigit():
            raise invalid(f"meta.versionId {meta_version!r}: expected a whole number", "meta")
        return int(meta_version)
    raise FhirError(
        428,
        Issue(
            "required",
            'say which version you changed: send If-Match: W/"<version>" with the '
            "meta.versionId you read",
            "If-Match",
        ),
    )
