"""Letter templates with every version of their text, and the letters issued."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from healthequity.store.database import Base, UtcDateTime, enum_column, utc_now

UUID_STRING = String(36)


class RecipientKind(enum.StrEnum):
    HOUSING_OFFICE = "housing_office"
    BENEFITS_ASSESSOR = "benefits_assessor"
    EMPLOYER = "employer"
    OTHER = "other"


class LetterTemplate(Base):
    """A template as it is now: its latest version, and whether it is offered."""

    __tablename__ = "letter_template"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    # The file a built-in template comes from; None for an organisation's own.
    builtin_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    # The organisation whose users it is offered to; None for a built-in (offered to all).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    recipient_kind: Mapped[RecipientKind] = mapped_column(
        enum_column(RecipientKind, "letter_recipient_kind")
    )
    # Jinja2 in the sandbox (see letters.filling); the letter's text, not HTML.
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def builtin(self) -> bool:
        return self.organisation_id is None


class LetterTemplateVersion(Base):
    """One version of a template's text, never changed: letters refer to it."""

    __tablename__ = "letter_template_version"

    template_id: Mapped[str] = mapped_column(ForeignKey("letter_template.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    recipient_kind: Mapped[RecipientKind] = mapped_column(
        enum_column(RecipientKind, "letter_recipient_kind")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Letter(Base):
    """A letter as issued: its text, to whom, by whom, and the PDF that was given out."""

    __tablename__ = "letter"
    __table_args__ = (
        ForeignKeyConstraint(
            ["template_id", "template_version"],
            ["letter_template_version.template_id", "letter_template_version.version"],
        ),
    )

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    template_id: Mapped[str] = mapped_column(UUID_STRING)
    template_version: Mapped[int] = mapped_column(Integer)
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_address: Mapped[str] = mapped_column(Text)
    # The text as sent, after the clinician's changes.
    text: Mapped[str] = mapped_column(Text)
    signer_role: Mapped[str] = mapped_column(String(100))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    # The PDF given out, so that a download later is the same document (fonts, names and
    # the software may have changed since). Loaded only when asked for.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
