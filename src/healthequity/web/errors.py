"""Errors as NHS-styled pages for people and as JSON for API clients; never a stack trace."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from healthequity.auth.exceptions import NotAuthenticated, PermissionDenied
from healthequity.people.exceptions import StalePersonUpdate
from healthequity.referrals.exceptions import ReferralInputError, ReferralNotFound
from healthequity.store.exceptions import StaleRecord
from healthequity.web.security import CsrfFailed
from healthequity.web.templating import render

API_PREFIXES = ("/api/", "/fhir/", "/oruk/")

_TITLES = {
    400: "There is a problem with the request",
    401: "Sign in to continue",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not possible here",
    422: "There is a problem with the request",
    500: "Sorry, there is a problem with the service",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES) or request.url.path == "/healthz"


def error_response(
    request: Request, status_code: int, detail: str, *, title: str | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status_code)
    title = title or _TITLES.get(status_code, HTTPStatus(status_code).phrase)
    return render(
        request,
        "web/error.html",
        {"status_code": status_code, "title": title, "detail": detail},
        status_code=status_code,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and not wants_json(request):
        detail = "If you typed the web address, check it is correct."
    response = error_response(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _not_authenticated(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        response = error_response(request, 401, str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _permission_denied(request: Request, exc: Exception) -> Response:
    return error_response(request, 403, str(exc))


def _csrf_failed(request: Request, exc: Exception) -> Response:
    return error_response(
        request,
        403,
        "For your security, forms expire. Go back, reload the page and try again: "
        "what you typed may need entering again.",
        title="The form has expired",
    )


def _stale(request: Request, exc: Exception) -> Response:
    """Someone else changed the record since it was read: nothing was written (409)."""
    return error_response(request, 409, str(exc), title="Someone else changed this record")


def _bad_referral_input(request: Request, exc: Exception) -> Response:
    """Fields a referral change cannot take: 400 for API clients, 422 for a form."""
    return error_response(request, 400 if wants_json(request) else 422, str(exc))


def _referral_not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, str(exc))


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        return JSONResponse({"detail": jsonable_errors(exc)}, status_code=422)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}"
        for error in exc.errors()
    )
    return error_response(request, 422, problems)


def jsonable_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(PermissionDenied, _permission_denied)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Services' expected errors that a route left to these handlers.
    app.add_exception_handler(StaleRecord, _stale)
    app.add_exception_handler(StalePersonUpdate, _stale)
    app.add_exception_handler(ReferralInputError, _bad_referral_input)
    app.add_exception_handler(ReferralNotFound, _referral_not_found)
