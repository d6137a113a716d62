"""Who did something, and in what request: what every audit event carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True, slots=True)
class AuditContext:
    """The actor and request behind an action. Built once per request (or CLI command)."""

    user_id: int | None = None
    api_token_id: int | None = None
    organisation_id: int | None = None
    request_id: str | None = None
    client_address: str | None = None
    purpose: str | None = None

    def for_purpose(self, purpose: str) -> AuditContext:
        return AuditContext(
            self.user_id,
            self.api_token_id,
            self.organisation_id,
            self.request_id,
            self.client_address,
            purpose,
        )


class AuditEventOut(BaseModel):
    """One audit event as the API gives it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    user_id: int | None
    api_token_id: int | None
    organisation_id: int | None
    action: str
    subject_type: str | None
    subject_id: str | None
    purpose: str | None
    request_id: str | None
    client_address: str | None
    detail: str | None
