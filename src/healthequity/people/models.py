"""The person record and its care team."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from healthequity.auth.models import Organisation
from healthequity.dates import LONDON
from healthequity.people.ethnicity import ETHNICITIES_BY_CODE
from healthequity.people.nhs_number import format_digits
from healthequity.store.database import Base, UtcDateTime, enum_column, utc_now

UUID_STRING = String(36)


class Sex(enum.StrEnum):
    """FHIR administrative gender, as the NHS records it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class GpRegistration(enum.StrEnum):
    REGISTERED = "registered"
    NOT_REGISTERED = "not_registered"
    UNKNOWN = "unknown"


class Person(Base):
    __tablename__ = "person"

    id: Mapped[str] = mapped_column(UUID_STRING, primary_key=True)
    # Optional: people without one (not registered, newly arrived) must be served too.
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # Both names case-folded without accents ("lacatus mihai" for "Mihai Lăcătuș"), kept by
    # the service: searched with LIKE, which folds only ASCII case on SQLite.
    name_key: Mapped[str] = mapped_column(String(201))
    # Indexed: duplicate checks and searches by name and date of birth start from it.
    date_of_birth: Mapped[date | None] = mapped_column(Date, index=True)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "person_sex"), default=Sex.UNKNOWN)
    # 2021 Census ethnic group code (see people.ethnicity), or None if not asked.
    ethnicity_code: Mapped[str | None] = mapped_column(String(4))
    postcode: Mapped[str | None] = mapped_column(String(8))
    lsoa21_code: Mapped[str | None] = mapped_column(String(9), index=True)
    gp_registration: Mapped[GpRegistration] = mapped_column(
        enum_column(GpRegistration, "gp_registration"), default=GpRegistration.UNKNOWN
    )
    preferred_language: Mapped[str | None] = mapped_column(String(100))
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The "health passport": shown at the top of every page about the person.
    communication_needs: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    no_telephone: Mapped[bool] = mapped_column(Boolean, default=False)
    text_messages_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    email_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    letters_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    # The organisation that holds the record; its clinical users are the care team, with
    # anyone added by name.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    care_team: Mapped[list[CareTeamMember]] = relationship(cascade="all, delete-orphan")
    organisation: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_formatted(self) -> str | None:
        return format_digits(self.nhs_number) if self.nhs_number else None

    @property
    def ethnicity_label(self) -> str | None:
        found = ETHNICITIES_BY_CODE.get(self.ethnicity_code or "")
        return found.full_label if found else None

    @property
    def contact_ways(self) -> list[str]:
        """How the person is happy to be contacted, besides phone calls."""
        ways = {"text message": self.text_messages_ok, "email": self.email_ok}
        ways["letter"] = self.letters_ok
        return [way for way, wanted in ways.items() if wanted]

    @property
    def age(self) -> int | None:
        """Age in whole years today in England."""
        if self.date_of_birth is None:
            return None
        today = datetime.now(LONDON).date()
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def area_note(self) -> str | None:
        """Why the area (LSOA) the person lives in is not known, when it is not."""
        if self.lsoa21_code is not None:
            return None
        if self.postcode is None:
            return "No postcode or area is recorded."
        return (
            f"The postcode {self.postcode} was not in the postcode directory when the record "
            "was saved, so the area it is in (LSOA) is not known."
        )


class CareTeamMember(Base):
    """A user outside the record's organisation who cares for the person."""

    __tablename__ = "person_care_team_member"

    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
