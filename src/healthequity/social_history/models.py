"""Questionnaire responses, the needs they identify, and one-time links for a person to
answer on their own phone."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from healthequity.store.database import Base, UtcDateTime, enum_column, utc_now

UUID_STRING = String(36)


class ResponseStatus(enum.StrEnum):
    """FHIR QuestionnaireResponse.status (those we use)."""

    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    AMENDED = "amended"


class ResponseSource(enum.StrEnum):
    CLINICIAN = "clinician"  # asked in the consultation
    PERSON = "person"  # answered by the person from a one-time link


class NeedLevel(enum.StrEnum):
    NO_NEED = "no_need"
    AT_RISK = "at_risk"
    NEED = "need"
    URGENT = "urgent"


class NeedStatus(enum.StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class QuestionnaireResponse(Base):
    __tablename__ = "questionnaire_response"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    questionnaire_url: Mapped[str] = mapped_column(String(300))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[ResponseStatus] = mapped_column(
        enum_column(ResponseStatus, "questionnaire_response_status")
    )
    source: Mapped[ResponseSource] = mapped_column(enum_column(ResponseSource, "response_source"))
    # {linkId: [answer, ...]} with each answer a FHIR answer value (code, boolean, string...).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    authored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IdentifiedNeed(Base):
    """A need an answer showed (FHIR Observation for the finding, Condition for the need)."""

    __tablename__ = "identified_need"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("questionnaire_response.id"), index=True)
    question_link_id: Mapped[str] = mapped_column(String(100))
    need_code: Mapped[str] = mapped_column(String(40), index=True)
    level: Mapped[NeedLevel] = mapped_column(enum_column(NeedLevel, "need_level"))
    snomed_code: Mapped[str] = mapped_column(String(20))
    snomed_display: Mapped[str] = mapped_column(String(300))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # None until asked; the person decides, not the clinician.
    wants_help: Mapped[bool | None] = mapped_column(Boolean)
    priority: Mapped[int | None] = mapped_column(Integer)  # 1 = what matters most to them
    status: Mapped[NeedStatus] = mapped_column(
        enum_column(NeedStatus, "need_status"), default=NeedStatus.ACTIVE
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PatientLink(Base):
    """A one-time link for a person to answer a questionnaire on their own phone."""

    __tablename__ = "patient_link"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    questionnaire_url: Mapped[str] = mapped_column(String(300))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response_id: Mapped[str | None] = mapped_column(ForeignKey("questionnaire_response.id"))
