"""Consents, referrals, their history, provider links and outcome measures."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from healthequity.store.database import Base, UtcDateTime, enum_column, utc_now

UUID_STRING = String(36)


class ReferralStatus(enum.StrEnum):
    """FHIR Task.status, the referral's lifecycle."""

    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class FailureReason(enum.StrEnum):
    NOT_REACHED = "not_reached"
    DECLINED = "declined"
    SERVICE_FULL = "service_full"
    INELIGIBLE = "ineligible"


class ConsentStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ReferralEventKind(enum.StrEnum):
    STATUS = "status"
    CONTACT_ATTEMPT = "contact_attempt"
    NOTE = "note"
    FOLLOW_UP = "follow_up"


class Consent(Base):
    """What the person agreed to share, with whom, for what, until when."""

    __tablename__ = "referral_consent"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[ConsentStatus] = mapped_column(
        enum_column(ConsentStatus, "consent_status"), default=ConsentStatus.ACTIVE
    )
    shared_information: Mapped[str] = mapped_column(Text)
    recipient_organization_id: Mapped[str] = mapped_column(String(64))  # directory organisation
    recipient_name: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class Referral(Base):
    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    # The directory service and its organisation (ids kept as given by the directory).
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    service_name: Mapped[str] = mapped_column(String(300))
    provider_organization_id: Mapped[str] = mapped_column(String(64), index=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("referral_consent.id"))
    status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus, "referral_status"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[FailureReason | None] = mapped_column(
        enum_column(FailureReason, "referral_failure_reason")
    )
    # The minimum the provider needs, as agreed in the consent.
    shared_note: Mapped[str | None] = mapped_column(Text)
    is_social_prescription: Mapped[bool] = mapped_column(default=False)
    requester_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requester_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    follow_up_on: Mapped[date] = mapped_column(Date)
    # Social prescriptions only: when to ask "still attending?" (four weeks after acceptance);
    # None when not due or once asked.
    attendance_check_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    consent: Mapped[Consent] = relationship()
    needs: Mapped[list[ReferralNeed]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list[ReferralEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ReferralEvent.occurred_at"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The caseload and overdue lists: open referrals by requester and follow-up date.
        Index(
            "ix_referral_requester_status_follow_up", "requester_user_id", "status", "follow_up_on"
        ),
        Index("ix_referral_status_follow_up", "status", "follow_up_on"),
        # The "still attending?" checks due on a caseload.
        Index("ix_referral_requester_attendance_check", "requester_user_id", "attendance_check_on"),
    )


class ReferralNeed(Base):
    __tablename__ = "referral_need"

    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), primary_key=True)
    identified_need_id: Mapped[str] = mapped_column(
        ForeignKey("identified_need.id"), primary_key=True
    )
    need_code: Mapped[str] = mapped_column(String(40))


class ReferralEvent(Base):
    """Everything that happened to a referral: status changes, contact attempts, notes."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    kind: Mapped[ReferralEventKind] = mapped_column(
        enum_column(ReferralEventKind, "referral_event_kind")
    )
    from_status: Mapped[ReferralStatus | None] = mapped_column(
        enum_column(ReferralStatus, "referral_event_from_status")
    )
    to_status: Mapped[ReferralStatus | None] = mapped_column(
        enum_column(ReferralStatus, "referral_event_to_status")
    )
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))


class ServiceReferralSettings(Base):
    """How a directory service wants its referrals followed up, where it differs from the
    default. Kept here, keyed by the directory's service id, because it is about referrals,
    not about the service as the directory (and its ORUK feeds) describe it."""

    __tablename__ = "referral_service_settings"

    service_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    follow_up_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ProviderLink(Base):
    """Which directory organisation a provider organisation's users act for."""

    __tablename__ = "referral_provider_link"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    directory_organization_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class OutcomeMeasure(Base):
    """A wellbeing score before or after: ONS4 personal wellbeing or SWEMWBS."""

    __tablename__ = "referral_outcome_measure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(20))  # "ons4" or "swemwbs"
    timing: Mapped[str] = mapped_column(String(10))  # "before" or "after"
    item_scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
