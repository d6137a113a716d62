"""Shapes exchanged by the auth capability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import OrganisationKind, Role


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever makes a request: a signed-in user or a machine client's API token."""

    display_name: str
    organisation_id: int
    organisation_name: str
    roles: frozenset[Role]
    user_id: int | None = None
    api_token_id: int | None = None
    email: str | None = None

    def has_any_role(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    def audit_context(
        self, request_id: str | None = None, client_address: str | None = None
    ) -> AuditContext:
        return AuditContext(
            user_id=self.user_id,
            api_token_id=self.api_token_id,
            organisation_id=self.organisation_id,
            request_id=request_id,
            client_address=client_address,
        )


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A secret shown once (session cookie value or API token) and the row that holds its hash."""

    secret: str
    record_id: int
    expires_at: datetime | None


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: OrganisationKind
    ods_code: str | None


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    organisation: OrganisationOut
    roles: list[Role]
    is_active: bool


class PrincipalOut(BaseModel):
    """`GET /api/me`: who the caller is."""

    display_name: str
    email: str | None
    organisation_id: int
    organisation_name: str
    roles: list[Role]
    kind: str
