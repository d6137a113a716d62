"""Curation of the directory: curators add and edit organisations, services and locations,
and link services to locations.

Every edit is validated first (UK postcode, UK phone numbers, email, http(s) web address,
opening times that make sense, a map point in the UK) and changes nothing if any field is
wrong: a CurationError names each wrong field. A change that passes writes a RecordChange
for each record it changes (source "curator", the curator's user id, a JSON diff
`{field: [before, after]}` of the changed fields only), sets `last_modified` and appends an
audit event. The dashboard lists the records that need a curator's eye: stale, incomplete
and duplicate-looking; the lists of organisations and of imported taxonomy terms are the
starting points for the rest.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.directory.models import (
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    RecordChange,
    ReferralMethod,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.search import today_in_london
from healthequity.directory.taxonomy import (
    NEEDS_TAXONOMY_ID,
    SERVICE_ENTITY,
    needs_of_service,
    tag_service_with_needs,
)
from healthequity.geography import UnknownPostcode
from healthequity.needs import NEEDS_BY_CODE
from healthequity.places.service import find_postcode
from healthequity.store.database import utc_now
from healthequity.validation import (
    clean_email,
    clean_phone,
    clean_postcode,
    clean_text,
    clean_url,
)

SOURCE = "curator"

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_WORDS = {
    **{code.lower(): code for code in DAY_CODES},
    **{name.lower(): code for name, code in zip(DAY_NAMES, DAY_CODES, strict=True)},
    "monday": "MO",
    "tuesday": "TU",
    "tues": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "thur": "TH",
    "thurs": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
# The UK (with the Channel Islands and the Isle of Man) in decimal degrees: a point outside
# is a typing slip, most often latitude and longitude swapped.
UK_LATITUDES = (49.0, 61.0)
UK_LONGITUDES = (-9.0, 2.0)


class CurationError(ValueError):
    """An edit with wrong fields: `errors` maps each field's name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class PostcodeNotFound(CurationError):
    """A location edit whose (new) postcode is not in the loaded postcode directory, so the
    location cannot be placed from it; `errors` has it under "postal_code" (with any other
    wrong fields). Saving it anyway needs `allow_unknown_postcode`."""


class RecordNotFound(LookupError):
    """No directory record with that id."""


# Edits: what a curator typed, as text. A field left as None is not changed.


@dataclass(frozen=True, slots=True)
class OpeningTime:
    """One row of weekly opening times: days ("Mon-Fri", "MO,WE" or "Saturday") and hours."""

    days: str
    opens: str
    closes: str


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """One of a service's phone numbers and what it is for ("Text only", "Freephone")."""

    number: str
    description: str = ""

    def __str__(self) -> str:
        return f"{self.number} ({self.description})" if self.description else self.number


@dataclass(frozen=True, slots=True)
class ServiceEdit:
    name: str | None = None
    description: str | None = None
    status: str | None = None
    email: str | None = None
    url: str | None = None
    phones: Sequence[PhoneNumber] | None = None
    referral_method: str | None = None
    accepting_referrals: bool | None = None
    accepting_referrals_note: str | None = None
    minimum_age: str | None = None
    maximum_age: str | None = None
    eligibility_description: str | None = None
    fees: str | None = None
    needs: Sequence[str] | None = None
    opening_times: Sequence[OpeningTime] | None = None


@dataclass(frozen=True, slots=True)
class OrganizationEdit:
    name: str | None = None
    alternate_name: str | None = None
    description: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class LocationEdit:
    """A location's fields as typed. Latitude and longitude go together: both empty means
    "from the postcode"; typed, they place the location even if the postcode gives a point."""

    name: str | None = None
    description: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    latitude: str | None = None
    longitude: str | None = None


@dataclass(frozen=True, slots=True)
class LocationResult:
    location: Location
    changed: dict[str, list[Any]]
    # Set when the postcode is not in the loaded postcode directory: the point was kept.
    warning: str | None = None


# Validation of single values: each gives the value to store, or raises ValueError(message).


def _clean_degrees(
    value: str, bounds: tuple[float, float], what: str, example: str
) -> float | None:
    text = value.strip()
    if not text:
        return None
    low, high = bounds
    try:
        degrees = float(text)
    except ValueError:
        degrees = math.nan
    if not low <= degrees <= high:  # also rejects NaN and infinities
        raise ValueError(
            f"Enter the {what} in decimal degrees, from {low:g} to {high:g} (the UK), "
            f"like {example}"
        )
    return degrees


def clean_latitude(value: str) -> float | None:
    return _clean_degrees(value, UK_LATITUDES, "latitude", "53.7997")


def clean_longitude(value: str) -> float | None:
    return _clean_degrees(value, UK_LONGITUDES, "longitude", "-1.5492")


def clean_age(value: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 130:
        raise ValueError("Enter the age in whole years, from 0 to 130")
    return float(int(text))


def parse_days(value: str) -> list[str]:
    """Day codes in week order from "Mon-Fri", "MO,WE,FR", "Saturday and Sunday"..."""
    words = re.split(r"[\s,;/&]+|\band\b", value.strip().lower())
    days: set[int] = set()
    for word in (w for w in words if w):
        start, dash, end = word.partition("-")
        if start not in _DAY_WORDS or (dash and end not in _DAY_WORDS):
            raise ValueError("Enter days like Mon-Fri or Mon, Wed, Sat")
        first = DAY_CODES.index(_DAY_WORDS[start])
        last = DAY_CODES.index(_DAY_WORDS[end]) if dash else first
        if last < first:
            raise ValueError("Enter a range of days in week order, like Mon-Fri")
        days.update(range(first, last + 1))
    if not days:
        raise ValueError("Enter the days it is open, like Mon-Fri")
    return [DAY_CODES[index] for index in sorted(days)]


def parse_clock(value: str) -> str:
    match = _CLOCK.match(value.strip())
    if match is None:
        raise ValueError("Enter a time on the 24-hour clock, like 09:00 or 17:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def days_text(codes: Iterable[str]) -> str:
    """Day codes as the form shows them: "Mon-Fri", "Mon, Wed"."""
    indexes = sorted(DAY_CODES.index(code) for code in codes if code in DAY_CODES)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
        for run in runs
    )


def _opening_time_rows(rows: Sequence[OpeningTime], errors: dict[str, str]) -> list[str]:
    """Valid rows as "MO,TU 09:00-17:00" strings; a problem goes to `errors` by row field."""
    cleaned: list[str] = []
    for number, row in enumerate(rows, start=1):
        if not (row.days.strip() or row.opens.strip() or row.closes.strip()):
            continue  # a blank row of the editor
        prefix = f"opening-{number}"
        try:
            days = parse_days(row.days)
        except ValueError as error:
            errors[f"{prefix}-days"] = str(error)
            days = []
        times: list[str] = []
        for part in ("opens", "closes"):
            try:
                times.append(parse_clock(getattr(row, part)))
            except ValueError as error:
                errors[f"{prefix}-{part}"] = str(error)
        if len(times) == 2 and times[0] >= times[1]:
            errors[f"{prefix}-closes"] = "The closing time must be after the opening time"
        if days and len(times) == 2 and times[0] < times[1]:
            cleaned.append(f"{','.join(days)} {times[0]}-{times[1]}")
    return cleaned


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _phone_rows(rows: Sequence[PhoneNumber], errors: dict[str, str]) -> list[PhoneNumber]:
    """Valid rows, each number once; a problem goes to `errors` by row field."""
    cleaned: list[PhoneNumber] = []
    for position, row in enumerate(rows, start=1):
        if not (row.number.strip() or row.description.strip()):
            continue  # a blank row of the editor
        number_field, description_field = (
            f"phone-{position}-number",
            f"phone-{position}-description",
        )
        number = _check(errors, number_field, row.number, clean_phone)
        description = _check(
            errors, description_field, row.description, lambda v: clean_text(v, limit=200)
        )
        if number is None:
            errors.setdefault(number_field, "Enter the phone number, or clear its description")
        elif any(_digits(number) == _digits(item.number) for item in cleaned):
            errors[number_field] = "This number is listed twice: give each number once"
        else:
            cleaned.append(PhoneNumber(number, description or ""))
    return cleaned


def service_phones(service: Service) -> list[Phone]:
    """The service's own phones (not its contacts'), in the order the directory shows them."""
    return sorted(
        (phone for phone in service.phones if phone.contact_id is None), key=lambda p: p.id
    )


def phone_numbers_of(service: Service) -> list[PhoneNumber]:
    return [PhoneNumber(phone.number, phone.description or "") for phone in service_phones(service)]


def opening_times_of(service: Service) -> list[str]:
    """The service's own weekly opening times as "MO,TU 09:00-17:00" strings."""
    return [
        f"{schedule.byday or ''} {schedule.opens_at or ''}-{schedule.closes_at or ''}"
        for schedule in _weekly_schedules(service)
    ]


def opening_time_rows_of(service: Service) -> list[OpeningTime]:
    return [
        OpeningTime(
            days_text((schedule.byday or "").split(",")),
            schedule.opens_at or "",
            schedule.closes_at or "",
        )
        for schedule in _weekly_schedules(service)
    ]


def _weekly_schedules(service: Service) -> list[Schedule]:
    return sorted(
        (
            schedule
            for schedule in service.schedules
            if (schedule.freq or "WEEKLY").upper() == "WEEKLY" and schedule.byday
        ),
        key=lambda s: (s.byday or "", s.opens_at or "", s.id),
    )


def _check(errors: dict[str, str], name: str, value: str | None, cleaner: Any) -> Any:
    if value is None:
        return None
    try:
        return cleaner(value)
    except ValueError as error:
        errors[name] = str(error)
        return None


def _validate_service(edit: ServiceEdit, *, creating: bool) -> dict[str, Any]:
    """The edit's values to store, by field, or CurationError naming every wrong field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if edit.name is not None or creating:
        name = (edit.name or "").strip()
        if not name:
            errors["name"] = "Enter the name of the service"
        elif len(name) > 300:
            errors["name"] = "The name must be 300 characters or fewer"
        values["name"] = name
    if edit.description is not None:
        values["description"] = edit.description.strip()
    if edit.status is not None:
        if edit.status not in {status.value for status in ServiceStatus}:
            errors["status"] = "Choose a status from the list"
        else:
            values["status"] = ServiceStatus(edit.status)
    if edit.referral_method is not None:
        if edit.referral_method and edit.referral_method not in {m.value for m in ReferralMethod}:
            errors["referral_method"] = "Choose how to refer from the list"
        else:
            values["referral_method"] = (
                ReferralMethod(edit.referral_method) if edit.referral_method else None
            )
    if edit.accepting_referrals is not None:
        values["accepting_referrals"] = edit.accepting_referrals
    for name, cleaner in (
        ("email", clean_email),
        ("url", clean_url),
        ("minimum_age", clean_age),
        ("maximum_age", clean_age),
    ):
        raw = getattr(edit, name)
        if raw is not None:
            values[name] = _check(errors, name, raw, cleaner)
    for name in ("accepting_referrals_note", "eligibility_description", "fees"):
        raw = getattr(edit, name)
        if raw is not None:
            values[name] = _check(errors, name, raw, lambda v: clean_text(v, limit=2000))
    low, high = values.get("minimum_age"), values.get("maximum_age")
    if low is not None and high is not None and low > high:
        errors["maximum_age"] = "The maximum age must be the same as or more than the minimum"
    if edit.needs is not None:
        unknown = [code for code in edit.needs if code not in NEEDS_BY_CODE]
        if unknown:
            errors["needs"] = "Choose needs from the list"
        values["needs"] = [code for code in NEEDS_BY_CODE if code in set(edit.needs)]
    if edit.phones is not None:
        values["phones"] = _phone_rows(edit.phones, errors)
    if edit.opening_times is not None:
        values["opening_times"] = _opening_time_rows(edit.opening_times, errors)
    if errors:
        raise CurationError(errors)
    return values


def _service_snapshot(session: Session, service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "status": service.status.value if service.status else None,
        "email": service.email,
        "url": service.url,
        "phones": [str(number) for number in phone_numbers_of(service)],
        "referral_method": service.referral_method.value if service.referral_method else None,
        "accepting_referrals": service.accepting_referrals,
        "accepting_referrals_note": service.accepting_referrals_note,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "eligibility_description": service.eligibility_description,
        "fees": service.fees,
        "needs": needs_of_service(session, service.id) if service.id else [],
        "opening_times": opening_times_of(service),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, ServiceStatus | ReferralMethod):
        return value.value
    if isinstance(value, PhoneNumber):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _diff(before: dict[str, Any], values: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), _jsonable(value)]
        for name, value in values.items()
        if before.get(name) != _jsonable(value)
    }


def _id_after(ids: Iterable[str]) -> str:
    """A new UUID that sorts after these UUIDs: the directory lists a service's phones in id
    order (and shows the first), so a number added goes after those already there."""
    fresh = str(uuid.uuid4())
    last = max(ids, default="")
    if fresh > last:
        return fresh
    if not re.fullmatch(r"[0-9a-f]{8}", last[:8]) or last[:8] == "ffffffff":
        return fresh  # not a UUID, or no room after it: any new id will do
    return f"{int(last[:8], 16) + 1:08x}{fresh[8:]}"  # still a version 4 UUID


def _in_stored_order(service: Service, numbers: Sequence[PhoneNumber]) -> list[PhoneNumber]:
    """The numbers as the directory will list them: those the service has already, in their
    order (phones are listed by id and keep theirs), then new ones as typed."""
    stored = [_digits(phone.number) for phone in service_phones(service)]

    def rank(item: PhoneNumber) -> int:
        digits = _digits(item.number)
        return stored.index(digits) if digits in stored else len(stored)

    return sorted(numbers, key=rank)


def _replace_phones(session: Session, service: Service, wanted: Sequence[PhoneNumber]) -> None:
    """Give the service exactly these phones. A number still listed keeps its row (its id,
    type and extension, and the languages spoken on it); a number no longer listed goes."""
    current = service_phones(service)
    kept: list[Phone] = []
    for item in wanted:
        phone = next(
            (p for p in current if p not in kept and _digits(p.number) == _digits(item.number)),
            None,
        )
        if phone is None:
            phone = Phone(id=_id_after(p.id for p in service.phones), number=item.number)
            service.phones.append(phone)
        else:
            kept.append(phone)
        phone.number = item.number
        phone.description = item.description or None
    gone = [phone for phone in current if phone not in kept]
    if gone:
        session.execute(
            update(Language)
            .where(Language.phone_id.in_([phone.id for phone in gone]))
            .values(phone_id=None)
        )
        for phone in gone:
            service.phones.remove(phone)


def _apply_service(
    session: Session, service: Service, diff: dict[str, list[Any]], values: dict[str, Any]
) -> None:
    for name, (_before, after) in diff.items():
        if name == "status":
            service.status = ServiceStatus(after)
        elif name == "referral_method":
            service.referral_method = ReferralMethod(after) if after else None
        elif name == "phones":
            _replace_phones(session, service, values["phones"])
        elif name == "needs":
            tag_service_with_needs(session, service, after)
        elif name == "opening_times":
            for schedule in _weekly_schedules(service):
                service.schedules.remove(schedule)
            for row in after:
                days, _, hours = row.partition(" ")
                opens, _, closes = hours.partition("-")
                service.schedules.append(
                    Schedule(
                        id=str(uuid.uuid4()),
                        freq="WEEKLY",
                        byday=days,
                        opens_at=opens,
                        closes_at=closes,
                    )
                )
        else:
            setattr(service, name, after)


def _record_change(
    session: Session, context: AuditContext, entity: str, entity_id: str, diff: dict[str, Any]
) -> None:
    session.add(
        RecordChange(
            entity_type=entity,
            entity_id=entity_id,
            user_id=context.user_id,
            source=SOURCE,
            change=json.dumps(diff, sort_keys=True, default=str),
        )
    )


def _record(
    session: Session,
    context: AuditContext,
    entity: str,
    entity_id: str,
    action: str,
    diff: dict[str, list[Any]],
) -> None:
    _record_change(session, context, entity, entity_id, diff)
    record_event(
        session,
        context,
        f"directory.{entity}.{action}",
        subject_type=f"directory_{entity}",
        subject_id=entity_id,
        detail={"fields": sorted(diff)},
    )
    session.flush()


def _load_service(session: Session, service_id: str) -> Service:
    service = session.scalar(
        select(Service)
        .where(Service.id == service_id)
        .options(selectinload(Service.phones), selectinload(Service.schedules))
    )
    if service is None:
        raise RecordNotFound(f"no service with id {service_id!r}")
    return service


def update_service(
    session: Session, context: AuditContext, service_id: str, changes: ServiceEdit
) -> dict[str, list[Any]]:
    """Apply a curator's edit; the diff of what changed ({} and nothing written if nothing)."""
    service = _load_service(session, service_id)
    values = _validate_service(changes, creating=False)
    if "phones" in values:
        values["phones"] = _in_stored_order(service, values["phones"])
    diff = _diff(_service_snapshot(session, service), values)
    if not diff:
        return diff
    _apply_service(session, service, diff, values)
    service.last_modified = utc_now()
    _record(session, context, "service", service.id, "update", diff)
    return diff


def create_service(
    session: Session, context: AuditContext, organization_id: str, changes: ServiceEdit
) -> Service:
    errors: dict[str, str] = {}
    if not organization_id or session.get(Organization, organization_id) is None:
        errors["organization_id"] = "Choose the organisation that runs the service"
    try:
        values = _validate_service(changes, creating=True)
    except CurationError as error:
        raise CurationError({**errors, **error.errors}) from None
    if errors:
        raise CurationError(errors)
    service = Service(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        name=values["name"],
        description="",
        status=ServiceStatus.ACTIVE,
        accepting_referrals=True,
    )
    service.phones = []
    service.schedules = []
    session.add(service)
    session.flush()
    before = {**_service_snapshot(session, service), "name": None}
    diff = _diff(before, values)
    _apply_service(session, service, diff, values)
    diff = {"id": [None, service.id], "organization_id": [None, organization_id], **diff}
    service.last_modified = utc_now()
    _record(session, context, "service", service.id, "create", diff)
    return service


def _validate_organization(edit: OrganizationEdit, *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if edit.name is not None or creating:
        name = (edit.name or "").strip()
        if not name:
            errors["name"] = "Enter the name of the organisation"
        elif len(name) > 300:
            errors["name"] = "The name must be 300 characters or fewer"
        values["name"] = name
    if edit.alternate_name is not None:
        values["alternate_name"] = _check(
            errors, "alternate_name", edit.alternate_name, lambda v: clean_text(v, limit=300)
        )
    if edit.description is not None:
        values["description"] = edit.description.strip()
    if edit.email is not None:
        values["email"] = _check(errors, "email", edit.email, clean_email)
    if edit.website is not None:
        values["website"] = _check(errors, "website", edit.website, clean_url)
    if errors:
        raise CurationError(errors)
    return values


def _organization_snapshot(organization: Organization) -> dict[str, Any]:
    return {
        "name": organization.name,
        "alternate_name": organization.alternate_name,
        "description": organization.description,
        "email": organization.email,
        "website": organization.website,
    }


def update_organization(
    session: Session, context: AuditContext, organization_id: str, changes: OrganizationEdit
) -> dict[str, list[Any]]:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise RecordNotFound(f"no organisation with id {organization_id!r}")
    values = _validate_organization(changes, creating=False)
    diff = _diff(_organization_snapshot(organization), values)
    if not diff:
        return diff
    for name, (_before, after) in diff.items():
        setattr(organization, name, after)
    organization.last_modified = utc_now()
    _record(session, context, "organization", organization.id, "update", diff)
    return diff


def create_organization(
    session: Session, context: AuditContext, changes: OrganizationEdit
) -> Organization:
    values = _validate_organization(changes, creating=True)
    organization = Organization(id=str(uuid.uuid4()), name=values["name"], description="")
    session.add(organization)
    diff = _diff({**_organization_snapshot(organization), "name": None}, values)
    for name, (_before, after) in diff.items():
        setattr(organization, name, after)
    organization.last_modified = utc_now()
    session.flush()
    _record(
        session,
        context,
        "organization",
        organization.id,
        "create",
        {"id": [None, organization.id], **diff},
    )
    return organization


def _address_of(location: Location) -> Address | None:
    return location.addresses[0] if location.addresses else None


def _location_snapshot(location: Location) -> dict[str, Any]:
    address = _address_of(location)
    return {
        "name": location.name,
        "description": location.description,
        "address_1": address.address_1 if address else None,
        "address_2": address.address_2 if address else None,
        "city": address.city if address else None,
        "postal_code": address.postal_code if address else None,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "lsoa21_code": location.lsoa21_code,
    }


def location_label(location: Location) -> str:
    """How a location is named in lists and histories: its name, else its first address line."""
    address = _address_of(location)
    return location.name or (address.address_1 if address else "") or location.id


def _validate_location(
    edit: LocationEdit, *, creating: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The edit's values to store, by field, and what is wrong, by field (not raised yet, so
    that the postcode's check can join in)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit in (("name", 300), ("description", 5000), ("address_2", 300)):
        raw = getattr(edit, name)
        if raw is not None:
            values[name] = _check(errors, name, raw, lambda v, n=limit: clean_text(v, limit=n))
    for name, limit, missing in (
        ("address_1", 300, "Enter the first line of the address"),
        ("city", 100, "Enter the town or city"),
    ):
        raw = getattr(edit, name)
        if raw is None and creating:
            raw = ""
        if raw is not None:
            values[name] = _check(errors, name, raw, lambda v, n=limit: clean_text(v, limit=n))
            if values[name] is None:
                errors.setdefault(name, missing)
    if edit.postal_code is not None or creating:
        if (edit.postal_code or "").strip():
            values["postal_code"] = _check(errors, "postal_code", edit.postal_code, clean_postcode)
        else:
            errors["postal_code"] = "Enter the postcode, like LS1 4AP"
    if edit.latitude is not None or edit.longitude is not None:
        latitude = _check(errors, "latitude", edit.latitude or "", clean_latitude)
        longitude = _check(errors, "longitude", edit.longitude or "", clean_longitude)
        half = (latitude is None) != (longitude is None)
        if half and "latitude" not in errors and "longitude" not in errors:
            missing = "latitude" if latitude is None else "longitude"
            errors[missing] = (
                f"Enter the {missing} too, or leave both empty to take the map point from "
                "the postcode"
            )
        values["latitude"], values["longitude"] = latitude, longitude
    return values, errors


def _place_by_postcode(
    session: Session,
    before: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    allow_unknown_postcode: bool,
) -> str | None:
    """Put the location in the LSOA of a new postcode, and at its point unless the curator
    typed another point; a point left empty is taken from the postcode too.

    A new postcode that the loaded postcode directory lacks raises PostcodeNotFound (with
    the other `errors`) unless `allow_unknown_postcode`; allowed, the location keeps its
    area (and its point, unless typed) and the warning returned says so."""
    if "postal_code" in errors:
        return None
    postcode = values.get("postal_code") or before["postal_code"]
    given = "latitude" in values
    point = (values.pop("latitude", None), values.pop("longitude", None))
    if point != (None, None):
        values["latitude"], values["longitude"] = point
    moved = point != (None, None) and point != (before["latitude"], before["longitude"])
    new_postcode = postcode != before["postal_code"]
    if not postcode or not (new_postcode or (given and point == (None, None))):
        return None
    try:
        record = find_postcode(session, postcode)
    except UnknownPostcode:
        if not new_postcode:
            return None  # the postcode was saved as unknown before: nothing to place it by
        if not allow_unknown_postcode:
            raise PostcodeNotFound(
                {
                    **errors,
                    "postal_code": f"{postcode} is not in the loaded postcode directory, so "
                    "the location cannot be placed in its area from it: check the postcode",
                }
            ) from None
        return (
            f"{postcode} is not in the loaded postcode directory, so the location's area "
            "(LSOA) and map point could not be set from it: check them"
        )
    if record.lsoa21_code is not None:
        values["lsoa21_code"] = record.lsoa21_code
    if not moved and record.latitude is not None and record.longitude is not None:
        values["latitude"], values["longitude"] = record.latitude, record.longitude
    return None


def _apply_location(location: Location, diff: dict[str, list[Any]]) -> None:
    address = _address_of(location)
    if address is None and any(
        k in diff for k in ("address_1", "address_2", "city", "postal_code")
    ):
        address = Address(id=str(uuid.uuid4()), location_id=location.id)
        location.addresses.append(address)
    for name, (_before, after) in diff.items():
        if name in ("address_1", "city", "postal_code"):
            setattr(address, name, after or "")
        elif name == "address_2":
            setattr(address, name, after)
        else:
            setattr(location, name, after)


def get_location(session: Session, location_id: str) -> Location:
    location = session.scalar(
        select(Location).where(Location.id == location_id).options(selectinload(Location.addresses))
    )
    if location is None:
        raise RecordNotFound(f"no location with id {location_id!r}")
    return location


def update_location(
    session: Session,
    context: AuditContext,
    location_id: str,
    changes: LocationEdit,
    *,
    allow_unknown_postcode: bool = True,
) -> LocationResult:
    """Edit a location's name, description, address and map point. A new postcode found in
    the loaded postcode directory also sets the location's LSOA and (unless a point is typed)
    its point; for one not found there, see `_place_by_postcode`."""
    location = get_location(session, location_id)
    values, errors = _validate_location(changes, creating=False)
    before = _location_snapshot(location)
    warning = _place_by_postcode(
        session, before, values, errors, allow_unknown_postcode=allow_unknown_postcode
    )
    if errors:
        raise CurationError(errors)
    diff = _diff(before, values)
    if diff:
        _apply_location(location, diff)
        _record(session, context, "location", location.id, "update", diff)
        for link in session.scalars(
            select(ServiceAtLocation).where(ServiceAtLocation.location_id == location.id)
        ):
            link.service.last_modified = utc_now()
    return LocationResult(location, diff, warning)


def create_location(
    session: Session,
    context: AuditContext,
    service_id: str,
    changes: LocationEdit,
    *,
    allow_unknown_postcode: bool = True,
) -> LocationResult:
    """Add a physical location, with its address, where a service is offered; placed by its
    postcode as `update_location` does. The name, the address's first line, the town and
    the postcode are needed."""
    service = session.get(Service, service_id) if service_id else None
    values, errors = _validate_location(changes, creating=True)
    if service is None:
        errors["service_id"] = "Choose the service offered at this location"
    location = Location(id=str(uuid.uuid4()), location_type="physical", addresses=[])
    before = _location_snapshot(location)
    warning = _place_by_postcode(
        session, before, values, errors, allow_unknown_postcode=allow_unknown_postcode
    )
    if errors or service is None:
        raise CurationError(errors)
    diff = _diff(before, values)
    _apply_location(location, diff)
    session.add(location)
    session.flush()
    _record(
        session, context, "location", location.id, "create", {"id": [None, location.id], **diff}
    )
    _change_link(session, context, location, service, linked=True)
    return LocationResult(location, diff, warning)


def _service_to_link(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id) if service_id else None
    if service is None:
        raise CurationError({"service_id": "Choose a service from the list"})
    return service


def link_service_to_location(
    session: Session, context: AuditContext, location_id: str, service_id: str
) -> bool:
    """Offer the service at the location; False, and nothing written, if it already is."""
    location = get_location(session, location_id)
    return _change_link(
        session, context, location, _service_to_link(session, service_id), linked=True
    )


def unlink_service_from_location(
    session: Session, context: AuditContext, location_id: str, service_id: str
) -> bool:
    """Stop offering the service at the location, with the opening times kept for the
    service there; False, and nothing written, if it was not offered there."""
    location = get_location(session, location_id)
    return _change_link(
        session, context, location, _service_to_link(session, service_id), linked=False
    )


def _change_link(
    session: Session, context: AuditContext, location: Location, service: Service, *, linked: bool
) -> bool:
    """Link or unlink; the location's history gets its services before and after, the
    service's its locations (and opening times, if some went with the link)."""
    links = list(
        session.scalars(
            select(ServiceAtLocation)
            .where(ServiceAtLocation.location_id == location.id)
            .order_by(ServiceAtLocation.id)
        )
    )
    link = next((item for item in links if item.service_id == service.id), None)
    if (link is not None) == linked:
        return False
    services = sorted(item.service.name for item in links)
    locations = sorted(location_label(item.location) for item in service.service_at_locations)
    times = opening_times_of(service)
    label = location_label(location)
    if link is None:
        link = ServiceAtLocation(
            id=str(uuid.uuid4()), service_id=service.id, location_id=location.id
        )
        service.service_at_locations.append(link)
        services_after, locations_after = sorted([*services, service.name]), [*locations, label]
    else:
        for schedule in [s for s in service.schedules if s.service_at_location_id == link.id]:
            service.schedules.remove(schedule)
        session.flush()
        session.execute(delete(Schedule).where(Schedule.service_at_location_id == link.id))
        service.service_at_locations.remove(link)
        services_after, locations_after = list(services), list(locations)
        services_after.remove(service.name)
        locations_after.remove(label)
    service.last_modified = utc_now()
    session.flush()
    _record_change(
        session, context, "location", location.id, {"services": [services, services_after]}
    )
    service_diff: dict[str, list[Any]] = {"locations": [locations, sorted(locations_after)]}
    if opening_times_of(service) != times:
        service_diff["opening_times"] = [times, opening_times_of(service)]
    _record_change(session, context, "service", service.id, service_diff)
    record_event(
        session,
        context,
        f"directory.service_at_location.{'create' if linked else 'delete'}",
        subject_type="directory_service_at_location",
        subject_id=link.id,
        detail={"service_id": service.id, "location_id": location.id},
    )
    session.flush()
    return True


def mark_reviewed(
    session: Session, context: AuditContext, service_id: str, today: date | None = None
) -> Service:
    """Record that a curator checked the service today (London date unless given)."""
    service = _load_service(session, service_id)
    day = today or today_in_london()
    diff = {
        name: [before, after]
        for name, before, after in (
            ("last_reviewed", service.last_reviewed, day),
            ("reviewed_by_user_id", service.reviewed_by_user_id, context.user_id),
        )
        if before != after
    }
    service.last_reviewed = day
    service.reviewed_by_user_id = context.user_id
    _record_change(session, context, "service", service.id, diff)
    record_event(
        session,
        context,
        "directory.service.review",
        subject_type="directory_service",
        subject_id=service.id,
        detail={"last_reviewed": day.isoformat()},
    )
    session.flush()
    return service


def history(session: Session, entity_type: str, entity_id: str) -> list[RecordChange]:
    """Every change to one record, newest first."""
    return list(
        session.scalars(
            select(RecordChange)
            .where(RecordChange.entity_type == entity_type, RecordChange.entity_id == entity_id)
            .order_by(RecordChange.changed_at.desc(), RecordChange.id.desc())
        )
    )


# The lists curators start from.


@dataclass(frozen=True, slots=True)
class OrganizationSummary:
    organization: Organization
    services: int


@dataclass(frozen=True, slots=True)
class OrganizationRecords:
    """An organisation with its services and the locations where they are offered."""

    organization: Organization
    services: list[Service]
    locations: list[Location]


@dataclass(frozen=True, slots=True)
class TermUse:
    """A term of an imported taxonomy, its taxonomy's name and how many services use it."""

    term: TaxonomyTerm
    taxonomy_name: str
    services: int


def find_organizations(
    session: Session, text: str = "", *, offset: int = 0, limit: int = 100
) -> tuple[list[OrganizationSummary], int]:
    """Organisations whose name (or other name) contains `text`, by name, with how many
    services each runs; and how many match in all."""
    query = select(Organization)
    if text.strip():
        query = query.where(
            or_(
                Organization.name.icontains(text.strip(), autoescape=True),
                Organization.alternate_name.icontains(text.strip(), autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    counts = (
        select(Service.organization_id, func.count().label("services"))
        .group_by(Service.organization_id)
        .subquery()
    )
    rows = session.execute(
        query.add_columns(func.coalesce(counts.c.services, 0))
        .outerjoin(counts, counts.c.organization_id == Organization.id)
        .order_by(Organization.name, Organization.id)
        .offset(offset)
        .limit(limit)
    )
    return [OrganizationSummary(organization, services) for organization, services in rows], total


def organization_records(session: Session, organization_id: str) -> OrganizationRecords:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise RecordNotFound(f"no organisation with id {organization_id!r}")
    services = list(
        session.scalars(
            select(Service)
            .where(Service.organization_id == organization.id)
            .order_by(Service.name, Service.id)
        )
    )
    locations = list(
        session.scalars(
            select(Location)
            .where(
                Location.id.in_(
                    select(ServiceAtLocation.location_id)
                    .join(Service, Service.id == ServiceAtLocation.service_id)
                    .where(Service.organization_id == organization.id)
                )
            )
            .options(selectinload(Location.addresses))
            .order_by(Location.name, Location.id)
        )
    )
    return OrganizationRecords(organization, services, locations)


def services_at_location(session: Session, location_id: str) -> list[Service]:
    return list(
        session.scalars(
            select(Service)
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .where(ServiceAtLocation.location_id == location_id)
            .order_by(Service.name, Service.id)
        )
    )


def imported_terms(
    session: Session,
    *,
    unmapped_only: bool = False,
    text: str = "",
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[TermUse], int]:
    """Terms of every taxonomy but the built-in needs taxonomy, by taxonomy and name, with
    how many services are tagged with each; and how many match in all."""
    query = select(TaxonomyTerm).where(
        or_(TaxonomyTerm.taxonomy_id.is_(None), TaxonomyTerm.taxonomy_id != NEEDS_TAXONOMY_ID)
    )
    if unmapped_only:
        query = query.where(TaxonomyTerm.need_code.is_(None))
    if text.strip():
        query = query.where(
            or_(
                TaxonomyTerm.name.icontains(text.strip(), autoescape=True),
                TaxonomyTerm.code.icontains(text.strip(), autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    uses = (
        select(
            Attribute.taxonomy_term_id,
            func.count(Attribute.link_id.distinct()).label("services"),
        )
        .where(Attribute.link_entity == SERVICE_ENTITY)
        .group_by(Attribute.taxonomy_term_id)
        .subquery()
    )
    taxonomy_name = func.coalesce(Taxonomy.name, "")
    rows = session.execute(
        query.add_columns(taxonomy_name, func.coalesce(uses.c.services, 0))
        .outerjoin(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
        .outerjoin(uses, uses.c.taxonomy_term_id == TaxonomyTerm.id)
        .order_by(taxonomy_name, TaxonomyTerm.name, TaxonomyTerm.id)
        .offset(offset)
        .limit(limit)
    )
    return [TermUse(term, name, services) for term, name, services in rows], total


# The dashboard.


@dataclass(frozen=True, slots=True)
class DashboardItem:
    service_id: str
    name: str
    organisation_name: str
    detail: str


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    reason: str
    services: tuple[DashboardItem, ...]


@dataclass
class Dashboard:
    stale: list[DashboardItem] = field(default_factory=list)
    incomplete: list[DashboardItem] = field(default_factory=list)
    duplicates: list[DuplicateGroup] = field(default_factory=list)


def normalise_name(name: str) -> str:
    """A name compared for duplicates: case, punctuation, spacing and a leading "the" ignored."""
    words = re.sub(r"[^\w\s]", " ", name.lower().replace("&", " and ")).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def curator_dashboard(session: Session, today: date, stale_after_days: int) -> Dashboard:
    """Services (not defunct) that need a curator: stale, incomplete, or looking duplicated."""
    services = list(
        session.scalars(
            select(Service)
            .where(Service.status != ServiceStatus.DEFUNCT)
            .options(
                selectinload(Service.phones),
                selectinload(Service.contacts),
                selectinload(Service.service_at_locations)
                .selectinload(ServiceAtLocation.location)
                .selectinload(Location.addresses),
            )
            .order_by(Service.name, Service.id)
        )
    )
    with_needs = set(
        session.scalars(
            select(Attribute.link_id)
            .join(TaxonomyTerm, Attribute.taxonomy_term_id == TaxonomyTerm.id)
            .where(Attribute.link_entity == SERVICE_ENTITY, TaxonomyTerm.need_code.is_not(None))
            .distinct()
        )
    )
    dashboard = Dashboard()
    cutoff = today - timedelta(days=stale_after_days)
    by_org_name: dict[tuple[str, str], list[DashboardItem]] = defaultdict(list)
    by_name_postcode: dict[tuple[str, str], list[DashboardItem]] = defaultdict(list)
    for service in services:

        def item(detail: str, service: Service = service) -> DashboardItem:
            return DashboardItem(service.id, service.name, service.organization.name, detail)

        if service.last_reviewed is None:
            dashboard.stale.append(item("Never reviewed"))
        elif service.last_reviewed < cutoff:
            days = (today - service.last_reviewed).days
            dashboard.stale.append(item(f"Last reviewed {days} days ago"))
        missing = []
        has_contact = bool(service.phones or service.email) or any(
            contact.email for contact in service.contacts
        )
        if not has_contact:
            missing.append("no phone or email")
        if not service.service_at_locations:
            missing.append("no location")
        if service.id not in with_needs:
            missing.append("no need")
        if missing:
            dashboard.incomplete.append(item("Has " + ", ".join(missing)))
        name = normalise_name(service.name)
        by_org_name[(service.organization_id, name)].append(item(service.organization.name))
        postcodes = {
            address.postal_code.upper().replace(" ", "")
            for link in service.service_at_locations
            for address in link.location.addresses
            if address.postal_code
        }
        for postcode in postcodes:
            by_name_postcode[(name, postcode)].append(item(postcode))
    seen: set[frozenset[str]] = set()
    for reason, groups in (
        ("Same name in the same organisation", by_org_name.values()),
        ("Same name at the same postcode", by_name_postcode.values()),
    ):
        for group in groups:
            ids = frozenset(member.service_id for member in group)
            if len(ids) > 1 and ids not in seen:
                seen.add(ids)
                dashboard.duplicates.append(DuplicateGroup(reason, tuple(group)))
    return dashboard


__all__ = [
    "CurationError",
    "Dashboard",
    "DashboardItem",
    "DuplicateGroup",
    "LocationEdit",
    "LocationResult",
    "OpeningTime",
    "OrganizationEdit",
    "OrganizationRecords",
    "OrganizationSummary",
    "PhoneNumber",
    "PostcodeNotFound",
    "RecordNotFound",
    "ServiceEdit",
    "TermUse",
    "create_location",
    "create_organization",
    "create_service",
    "curator_dashboard",
    "find_organizations",
    "get_location",
    "history",
    "imported_terms",
    "link_service_to_location",
    "location_label",
    "mark_reviewed",
    "normalise_name",
    "organization_records",
    "phone_numbers_of",
    "service_phones",
    "services_at_location",
    "unlink_service_from_location",
    "update_location",
    "update_organization",
    "update_service",
]
