"""Shapes of the people capability: a person's details as given (checked field by field,
with messages that name the field and say what is expected), and the API's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from healthequity import geography
from healthequity.people.ethnicity import ETHNICITIES_BY_CODE
from healthequity.people.exceptions import InvalidNhsNumber
from healthequity.people.models import GpRegistration, Sex
from healthequity.people.nhs_number import normalise_nhs_number
from healthequity.validation import clean_email, clean_phone, clean_postcode

EARLIEST_BIRTH = date(1900, 1, 1)
NAME_LIMIT = 100
LANGUAGE_LIMIT = 100
COMMUNICATION_NEEDS_LIMIT = 2000


def _problem(field: str, message: str) -> PydanticCustomError:
    # The message is shown as written, on a form next to its field and in the API's 422.
    return PydanticCustomError(f"person_{field}", message)


def _optional(value: str | None) -> str | None:
    return value or None


class PersonDetails(BaseModel):
    """Everything about a person that is typed in. Only the names are required: people
    without an NHS number, a date of birth or a fixed address are served too.

    Fields that depend on others come after them (their checks read the values already
    checked): `preferred_language` after `interpreter_needed`, `text_messages_ok` and
    `phone` after `no_telephone`.
    """

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    given_name: str = Field(description="First name (given name)")
    family_name: str = Field(description="Last name (family name)")
    date_of_birth: date | None = None
    nhs_number: str | None = Field(
        None, description="10 digits with a valid check digit; spaces and dashes allowed"
    )
    sex: Sex = Sex.UNKNOWN
    ethnicity_code: str | None = Field(
        None, description="A 2021 Census ethnic group code (`healthequity.people.ethnicity`)"
    )
    postcode: str | None = None
    lsoa21_code: str | None = Field(
        None,
        description="Where the person lives when there is no postcode (no fixed address) or "
        "the postcode directory does not have it; the postcode's LSOA wins otherwise",
    )
    gp_registration: GpRegistration = GpRegistration.UNKNOWN
    interpreter_needed: bool = False
    preferred_language: str | None = Field(None, validate_default=True)
    communication_needs: str | None = Field(
        None, description="The health passport: how to communicate with the person"
    )
    no_telephone: bool = False
    text_messages_ok: bool = True
    email_ok: bool = True
    letters_ok: bool = True
    phone: str | None = Field(None, validate_default=True)
    email: str | None = None

    @field_validator("given_name", "family_name")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        which = "first" if info.field_name == "given_name" else "last"
        if not value:
            raise _problem(str(info.field_name), f"Enter the person's {which} name")
        if len(value) > NAME_LIMIT:
            raise _problem(
                str(info.field_name), f"The {which} name must be {NAME_LIMIT} characters or fewer"
            )
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _date_of_birth(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise _problem("date_of_birth", "The date of birth must be today or in the past")
        if value is not None and value < EARLIEST_BIRTH:
            raise _problem("date_of_birth", "The date of birth must be after 1 January 1900")
        return value

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return normalise_nhs_number(value)
        except InvalidNhsNumber as error:
            raise _problem("nhs_number", error.reason) from None

    @field_validator("ethnicity_code")
    @classmethod
    def _ethnicity(cls, value: str | None) -> str | None:
        if value and value not in ETHNICITIES_BY_CODE:
            raise _problem(
                "ethnicity_code",
                "Choose an ethnic group from the list (a 2021 Census code, "
                f"{', '.join(ETHNICITIES_BY_CODE)})",
            )
        return _optional(value)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return clean_postcode(value)
        except ValueError as error:
            raise _problem("postcode", str(error)) from None

    @field_validator("lsoa21_code")
    @classmethod
    def _lsoa(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = value.upper().replace(" ", "")
        try:
            return geography.lsoa(code).lsoa21_code
        except geography.GeographyError:
            raise _problem(
                "lsoa21_code", "Enter a 2021 LSOA code in England, like E01011264"
            ) from None

    @field_validator("preferred_language")
    @classmethod
    def _language(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and len(value) > LANGUAGE_LIMIT:
            raise _problem(
                "preferred_language", f"The language must be {LANGUAGE_LIMIT} characters or fewer"
            )
        if not value and info.data.get("interpreter_needed"):
            raise _problem(
                "preferred_language", "Enter the language the person needs an interpreter for"
            )
        return _optional(value)

    @field_validator("communication_needs")
    @classmethod
    def _communication_needs(cls, value: str | None) -> str | None:
        if value and len(value) > COMMUNICATION_NEEDS_LIMIT:
            raise _problem(
                "communication_needs",
                f"Communication needs must be {COMMUNICATION_NEEDS_LIMIT} characters or fewer: "
                "keep the passport short",
            )
        return _optional(value)

    @field_validator("text_messages_ok")
    @classmethod
    def _text_messages(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("no_telephone"):
            raise _problem(
                "text_messages_ok",
                "Text messages need a telephone: untick text messages, or untick "
                "'has no telephone'",
            )
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("no_telephone"):
            raise _problem(
                "phone",
                "You said the person has no telephone: remove the phone number, or untick "
                "'has no telephone'",
            )
        if not value:
            return None
        try:
            return clean_phone(value)
        except ValueError as error:
            raise _problem("phone", str(error)) from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return clean_email(value)
        except ValueError as error:
            raise _problem("email", str(error)) from None

    def stored_values(self) -> dict[str, Any]:
        """The values as the person table keeps them (the LSOA is placed by the service)."""
        values = self.model_dump(include=set(PersonDetails.model_fields))
        # Nobody can be texted without a telephone, whatever the default said.
        values["text_messages_ok"] = self.text_messages_ok and not self.no_telephone
        return values


class PersonCreate(PersonDetails):
    """`POST /api/people`: find or create. A likely duplicate (same name, date of birth and
    postcode) is refused with 409 unless `confirm_not_duplicate` is true."""

    confirm_not_duplicate: bool = False


class PersonUpdate(PersonDetails):
    """`PUT /api/people/{id}`: every field, and the `version` the change was made from."""

    version: int = Field(ge=1, description="The version read: a stale one is refused (409)")


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    nhs_number: str | None
    nhs_number_formatted: str | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    sex: Sex
    ethnicity_code: str | None
    ethnicity_label: str | None
    postcode: str | None
    lsoa21_code: str | None
    area_note: str | None = Field(description="Why the LSOA is not known, when it is not")
    gp_registration: GpRegistration
    preferred_language: str | None
    interpreter_needed: bool
    communication_needs: str | None
    phone: str | None
    email: str | None
    no_telephone: bool
    text_messages_ok: bool
    email_ok: bool
    letters_ok: bool
    organisation_id: int
    created_at: datetime
    updated_at: datetime
    version: int


class DuplicateOut(BaseModel):
    """An existing record that may be the same person. Details only if the caller may see
    the record; otherwise who holds it."""

    person_id: str
    kind: str = Field(description="'nhs_number' (certain) or 'likely' (name, birth, postcode)")
    reason: str
    visible: bool
    holding_organisation: str
    person: PersonOut | None


class PersonSaved(BaseModel):
    """`POST /api/people`: the record found or created, and any records it may duplicate."""

    person: PersonOut | None
    created: bool
    duplicates: list[DuplicateOut]


class PersonSearchOut(BaseModel):
    page: int
    page_size: int
    total: int
    people: list[PersonOut]


class CareTeamMemberIn(BaseModel):
    user_id: int


class CareTeamMemberOut(BaseModel):
    user_id: int
    display_name: str
    email: str
    organisation: str
    added_at: datetime
