"""Authorisation in one place: every route declares who may use it with `allow(...)`.

`allow(Role.CLINICIAN, Role.LINK_WORKER)` admits principals holding any of those roles;
`allow_signed_in()` any signed-in user or token; `allow_public()` everyone. A test walks
every route of the app and fails on a route that declares none of these.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service
from healthequity.auth.exceptions import NotAuthenticated, PermissionDenied
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.web.dependencies import client_address, get_session

SESSION_COOKIE = "he_session"
ALL_ROLES = frozenset(Role)


# Declared so that the OpenAPI document offers bearer tokens; the header is read below.
_BEARER = HTTPBearer(auto_error=False, description="An API token from `healthequity tokens create`")


def current_principal(
    request: Request,
    session: Session = Depends(get_session, scope="function"),
    _bearer: HTTPAuthorizationCredentials | None = Depends(_BEARER),
) -> Principal | None:
    """The caller: a bearer token if one is sent (and then only that), else the session cookie."""
    authorization = request.headers.get("authorization")
    principal: Principal | None
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("the Authorization header must be 'Bearer <API token>'")
        principal = service.principal_for_api_token(session, secret.strip())
        if principal is None:
            raise NotAuthenticated("the API token is not valid, or was revoked or has expired")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        principal = service.principal_for_session(session, cookie) if cookie else None
    request.state.principal = principal
    return principal


class RoleRequirement:
    """A route dependency admitting principals that hold at least one of `roles`."""

    def __init__(self, roles: frozenset[Role]) -> None:
        if not roles:
            raise ValueError("a route must allow at least one role")
        self.roles = roles

    # Async although it awaits nothing: it only reads the principal, so it need not take a
    # trip through the thread pool as a plain function would.
    async def __call__(self, principal: Principal | None = Depends(current_principal)) -> Principal:
        if principal is None:
            raise NotAuthenticated("sign in to see this page")
        if not principal.has_any_role(self.roles):
            raise PermissionDenied(
                "this needs one of the roles " + ", ".join(sorted(r.value for r in self.roles))
            )
        return principal


class PublicAccess:
    """A route dependency for pages anyone may see; gives the principal if signed in."""

    async def __call__(  # async: see RoleRequirement
        self, principal: Principal | None = Depends(current_principal)
    ) -> Principal | None:
        return principal


def allow(*roles: Role) -> Any:
    return Depends(RoleRequirement(frozenset(roles)))


def allow_signed_in() -> Any:
    return Depends(RoleRequirement(ALL_ROLES))


def allow_public() -> Any:
    return Depends(PublicAccess())


def audit_context(
    request: Request, principal: Principal | None = Depends(current_principal)
) -> AuditContext:
    """The audit context of this request: who, from where, in which request."""
    if principal is None:
        return AuditContext(
            request_id=request.state.request_id, client_address=client_address(request)
        )
    return principal.audit_context(request.state.request_id, client_address(request))
