"""Curation of the directory: curators add and edit organisations, services and locations.

Every edit is validated first (UK postcode, UK phone number, email, http(s) web address,
opening times that make sense) and changes nothing if any field is wrong: a CurationError
names each wrong field. A change that passes writes one RecordChange (source "curator",
the curator's user id, a JSON diff `{field: [before, after]}` of the changed fields only),
sets `last_modified` and appends an audit event. The dashboard lists the records that need
a curator's eye: stale, incomplete and duplicate-looking.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.directory.models import (
    Address,
    Attribute,
    Location,
    Organization,
    Phone,
    RecordChange,
    ReferralMethod,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.directory.search import today_in_london
from healthequity.directory.taxonomy import SERVICE_ENTITY, needs_of_service, tag_service_with_needs
from healthequity.geography import InvalidPostcode, UnknownPostcode, normalise_postcode
from healthequity.needs import NEEDS_BY_CODE
from healthequity.places.service import find_postcode
from healthequity.store.database import utc_now

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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class CurationError(ValueError):
    """An edit with wrong fields: `errors` maps each field's name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


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
class ServiceEdit:
    name: str | None = None
    description: str | None = None
    status: str | None = None
    email: str | None = None
    url: str | None = None
    phone: str | None = None
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
    description: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class LocationEdit:
    name: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class LocationResult:
    location: Location
    changed: dict[str, list[Any]]
    # Set when the postcode is not in the loaded postcode directory: the point was kept.
    warning: str | None = None


# Validation of single values: each gives the value to store, or raises ValueError(message).


def clean_text(value: str | None, *, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValueError(f"must be {limit} characters or fewer")
    return text or None


def clean_email(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError("Enter an email address in the correct format, like name@example.org")
    return text


def clean_url(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if len(text) > 500 or parts.scheme not in ("http", "https") or "." not in parts.netloc:
        raise ValueError(
            "Enter a web address starting http:// or https://, like https://www.example.org"
        )
    return text


def clean_phone(value: str) -> str | None:
    """A UK phone number: 0 then 9 or 10 digits (+44 allowed), or a short code like 111."""
    text = value.strip()
    if not text:
        return None
    digits = re.sub(r"[\s()-]", "", text)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("(0)").removeprefix("0")
    short_code = digits.isdigit() and digits.startswith("1") and len(digits) in (3, 5, 6)
    national = digits.isdigit() and digits.startswith("0") and len(digits) in (10, 11)
    if not (short_code or national) or len(text) > 40:
        raise ValueError("Enter a UK phone number, like 0113 496 0000 or 07700 900 982")
    return text


def clean_postcode(value: str) -> str:
    try:
        return normalise_postcode(value)
    except InvalidPostcode:
        raise ValueError("Enter a real UK postcode, like LS1 4AP") from None


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
        ("phone", clean_phone),
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
    if edit.opening_times is not None:
        values["opening_times"] = _opening_time_rows(edit.opening_times, errors)
    if errors:
        raise CurationError(errors)
    return values


def _main_phone(service: Service) -> Phone | None:
    return next((phone for phone in service.phones if phone.contact_id is None), None)


def _service_snapshot(session: Session, service: Service) -> dict[str, Any]:
    phone = _main_phone(service)
    return {
        "name": service.name,
        "description": service.description,
        "status": service.status.value if service.status else None,
        "email": service.email,
        "url": service.url,
        "phone": phone.number if phone else None,
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
    return value.value if isinstance(value, ServiceStatus | ReferralMethod) else value


def _diff(before: dict[str, Any], values: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), _jsonable(value)]
        for name, value in values.items()
        if before.get(name) != _jsonable(value)
    }


def _apply_service(session: Session, service: Service, diff: dict[str, list[Any]]) -> None:
    for name, (_before, after) in diff.items():
        if name == "status":
            service.status = ServiceStatus(after)
        elif name == "referral_method":
            service.referral_method = ReferralMethod(after) if after else None
        elif name == "phone":
            phone = _main_phone(service)
            if after is None and phone is not None:
                service.phones.remove(phone)
            elif phone is None:
                service.phones.append(Phone(id=str(uuid.uuid4()), number=after))
            else:
                phone.number = after
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


def _record(
    session: Session,
    context: AuditContext,
    entity: str,
    entity_id: str,
    action: str,
    diff: dict[str, list[Any]],
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
    diff = _diff(_service_snapshot(session, service), values)
    if not diff:
        return diff
    _apply_service(session, service, diff)
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
    _apply_service(session, service, diff)
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
        "address_1": address.address_1 if address else None,
        "address_2": address.address_2 if address else None,
        "city": address.city if address else None,
        "postal_code": address.postal_code if address else None,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "lsoa21_code": location.lsoa21_code,
    }


def update_location(
    session: Session, context: AuditContext, location_id: str, changes: LocationEdit
) -> LocationResult:
    """Edit a location's name and address. A new postcode found in the loaded postcode
    directory also sets the location's point and LSOA; one not found there keeps the old
    point and LSOA, and the result's `warning` asks the curator to check them."""
    location = session.scalar(
        select(Location).where(Location.id == location_id).options(selectinload(Location.addresses))
    )
    if location is None:
        raise RecordNotFound(f"no location with id {location_id!r}")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = _check(errors, "name", changes.name, lambda v: clean_text(v, limit=300))
    for name, limit in (("address_1", 300), ("address_2", 300), ("city", 100)):
        raw = getattr(changes, name)
        if raw is not None:
            values[name] = _check(errors, name, raw, lambda v, n=limit: clean_text(v, limit=n))
    if changes.address_1 is not None and not values.get("address_1") and "address_1" not in errors:
        errors["address_1"] = "Enter the first line of the address"
    if changes.postal_code is not None:
        values["postal_code"] = _check(errors, "postal_code", changes.postal_code, clean_postcode)
    if errors:
        raise CurationError(errors)
    before = _location_snapshot(location)
    warning = None
    postcode = values.get("postal_code")
    if postcode is not None and postcode != before["postal_code"]:
        try:
            record = find_postcode(session, postcode)
        except UnknownPostcode:
            warning = (
                f"{postcode} is not in the loaded postcode directory, so the location's map "
                "point and area were kept: check them"
            )
        else:
            if record.latitude is not None and record.longitude is not None:
                values["latitude"], values["longitude"] = record.latitude, record.longitude
            if record.lsoa21_code is not None:
                values["lsoa21_code"] = record.lsoa21_code
    diff = _diff(before, values)
    if diff:
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
        _record(session, context, "location", location.id, "update", diff)
        for link in session.scalars(
            select(ServiceAtLocation).where(ServiceAtLocation.location_id == location.id)
        ):
            link.service.last_modified = utc_now()
    return LocationResult(location, diff, warning)


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
    session.add(
        RecordChange(
            entity_type="service",
            entity_id=service.id,
            user_id=context.user_id,
            source=SOURCE,
            change=json.dumps(diff, sort_keys=True, default=str),
        )
    )
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
    "RecordNotFound",
    "ServiceEdit",
    "create_organization",
    "create_service",
    "curator_dashboard",
    "history",
    "mark_reviewed",
    "normalise_name",
    "update_location",
    "update_organization",
    "update_service",
]
