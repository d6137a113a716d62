"""Shapes of the letters API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LetterOut(BaseModel):
    """A letter issued about a person (its text and PDF as sent)."""

    id: str
    person_id: str
    template_id: str
    template_version: int
    template_name: str
    recipient_name: str
    recipient_address: str
    text: str
    signer_role: str = Field(description="The job title it was signed with")
    created_by_user_id: int
    created_by: str = Field(description="The name of the user who issued it")
    created_at: datetime
    pdf_sha256: str = Field(description="SHA-256 of the PDF, hex")
    pdf_url: str
