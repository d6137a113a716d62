"""Mapping between the directory's tables and Open Referral UK (ORUK) v3 JSON, and
validation of ORUK JSON against the packaged copies of the ORUK schemas.

Out: `service_to_oruk` gives the body of `GET /services/{id}` (compiled `service.json`),
`service_list_item` one item of `GET /services` (`service_list.json`), `service_minimal` one
of `GET /services?minimal=true`, `service_at_location_to_oruk` the body of
`GET /service_at_locations/{id}`, `service_at_location_list_item` one item of its list
(`service_at_location_list.json`), `taxonomy_to_oruk` and `taxonomy_term_to_oruk` those of
the taxonomy endpoints. Fields with no value are left out (ORUK's fields are not nullable).
Beyond the ORUK profile, a few HSDS 3.0 fields the tables hold are also written, so that a
round trip through the JSON keeps them: `alternate_name` and `eligibility_description` of
a service, `alternate_name` of an organization, `phones` of a service and of a contact,
`department` and `email` of a contact, `name` and `code` of a language. ORUK's schemas allow
them. The curation fields (review, referrals) are ours and are not published.

In: `service_from_oruk` validates one full service record and upserts it by id: the service,
its organization, locations, taxonomies and terms are updated in place, and the service's
child collections (schedules, contacts, phones, cost options, languages, service areas,
funding, service at locations, attributes) are replaced by the record's, so re-importing
duplicates nothing. Each change is recorded as a RecordChange with a diff.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from healthequity.directory.exceptions import InvalidRecord, Problem
from healthequity.directory.models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    CostOption,
    Funding,
    Language,
    Location,
    Organization,
    Phone,
    RecordChange,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.taxonomy import NEEDS_TAXONOMY_ID
from healthequity.geography import GeographyError
from healthequity.geography import lsoa as lsoa_record
from healthequity.needs import NEEDS
from healthequity.store.database import utc_now

JsonObject = dict[str, Any]
_Row = TypeVar("_Row", bound=Any)

# Where the ORUK profile publishes the schemas; their `$ref`s use these addresses, which
# resolve to the packaged copies here, so validation never goes to the network.
PUBLISHED = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
COMPILED = (
    "service",
    "service_list",
    "service_at_location",
    "service_at_location_list",
    "organization",
    "organization_list",
)
PER_TABLE = ("taxonomy", "taxonomy_term")
PAGE_URI = "urn:healthequity:oruk:page"

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/openreferral/uk-profile"

# Terms of the built-in needs taxonomy (directory/taxonomy.py) are needs of
# healthequity.needs, the term's code being the need's code.
NEED_CODES = frozenset(need.code for need in NEEDS)


# --- Schemas and validation -------------------------------------------------------------


def _schema_url(name: str) -> str:
    return PUBLISHED + (f"compiled/{name}.json" if name in COMPILED else f"{name}.json")


@functools.cache
def schema(name: str) -> JsonObject:
    """A packaged ORUK schema: `service`, `service_list`, `taxonomy`, `page`..."""
    text = (resources.files("healthequity.directory") / "oruk_schemas" / f"{name}.json").read_text(
        encoding="utf-8"
    )
    loaded: JsonObject = json.loads(text)
    return loaded


@functools.cache
def _registry() -> Registry[Any]:
    entries = [(_schema_url(name), schema(name)) for name in (*COMPILED, *PER_TABLE)]
    entries.append((PAGE_URI, schema("page")))
    return Registry().with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT202012))
        for uri, contents in entries
    )


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or " " in value


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


def _is_email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain and " " not in value


# ORUK's `uuid` format is not enforced: feeds use other identifier strings too, and the
# tables keep ids as given. The other formats are.
FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(_is_date_time)
FORMAT_CHECKER.checks("uri")(_is_uri)
FORMAT_CHECKER.checks("email")(_is_email)


def _make_validator(contents: JsonObject) -> Validator:
    cls = validator_for(contents, default=Draft202012Validator)
    validator: Validator = cls(contents, registry=_registry(), format_checker=FORMAT_CHECKER)
    return validator


@functools.cache
def validator(name: str) -> Validator:
    """A validator of one packaged schema, in the draft the schema declares (else 2020-12)."""
    return _make_validator(schema(name))


@functools.cache
def page_validator(item_schema: str) -> Validator:
    """A validator of a page of `GET /services` and the like: the OpenAPI Page wrapper with
    `contents` items of the named schema."""
    return _make_validator(
        {
            "allOf": [{"$ref": PAGE_URI}],
            "type": "object",
            "required": [
                "total_items",
                "total_pages",
                "page_number",
                "size",
                "first_page",
                "last_page",
                "empty",
                "contents",
            ],
            "properties": {
                "contents": {"type": "array", "items": {"$ref": _schema_url(item_schema)}}
            },
        }
    )


def record_label(record: object, position: int | None = None) -> str:
    if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"]:
        return str(record["id"])
    return f"record {position + 1}" if position is not None else "record without id"


def pointer(path: Iterable[str | int]) -> str:
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "/" + "/".join(parts) if parts else ""


def validate(name: str, record: Any, label: str | None = None) -> list[Problem]:
    """Every way `record` fails the packaged schema `name`, each with its JSON pointer."""
    label = label or record_label(record)
    errors = sorted(validator(name).iter_errors(record), key=lambda e: list(map(str, e.path)))
    return [Problem(label, pointer(error.absolute_path), error.message) for error in errors]


def validate_page(item_schema: str, page: Any) -> list[Problem]:
    errors = page_validator(item_schema).iter_errors(page)
    return [Problem("page", pointer(error.absolute_path), error.message) for error in errors]


# --- Out: tables to ORUK ----------------------------------------------------------------


def _clean(values: dict[str, Any]) -> JsonObject:
    return {key: value for key, value in values.items() if value is not None}


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _datetime(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _by_id(rows: Iterable[_Row]) -> list[_Row]:
    return sorted(rows, key=lambda row: row.id)


SERVICE_LOAD_OPTIONS: Sequence[LoaderOption] = (
    selectinload(Service.schedules),
    selectinload(Service.contacts),
    selectinload(Service.phones),
    selectinload(Service.cost_options),
    selectinload(Service.languages),
    selectinload(Service.service_areas),
    selectinload(Service.funding),
    selectinload(Service.service_at_locations)
    .joinedload(ServiceAtLocation.location)
    .selectinload(Location.addresses),
    selectinload(Service.service_at_locations)
    .joinedload(ServiceAtLocation.location)
    .selectinload(Location.accessibility),
)


def organization_to_oruk(organization: Organization, *, nested: bool = True) -> JsonObject:
    values = _clean(
        {
            "id": organization.id,
            "name": organization.name,
            "alternate_name": organization.alternate_name,
            "description": organization.description or "",
            "email": organization.email,
            "website": organization.website,
            "logo": organization.logo,
            "uri": organization.uri,
            "parent_organization_id": organization.parent_organization_id,
        }
    )
    if nested:
        values["organization_identifiers"] = []
        values["attributes"] = []
    return values


def taxonomy_to_oruk(taxonomy: Taxonomy) -> JsonObject:
    return _clean(
        {
            "id": taxonomy.id,
            "name": taxonomy.name,
            "description": taxonomy.description or "",
            "uri": taxonomy.uri,
            "version": taxonomy.version,
        }
    )


def taxonomy_term_to_oruk(term: TaxonomyTerm) -> JsonObject:
    return _clean(
        {
            "id": term.id,
            "name": term.name,
            "description": term.description or "",
            "parent_id": term.parent_id,
            "taxonomy": term.taxonomy.name if term.taxonomy is not None else None,
            "taxonomy_id": term.taxonomy_id,
            "term_uri": term.term_uri,
            "term": term.code,
        }
    )


def _attributes(session: Session | None, entity: str, link_id: str) -> list[JsonObject]:
    if session is None:
        return []
    rows = session.scalars(
        select(Attribute)
        .where(Attribute.link_entity == entity, Attribute.link_id == link_id)
        .order_by(Attribute.id)
    ).all()
    return [
        _clean(
            {
                "id": row.id,
                "link_id": row.link_id,
                "taxonomy_term_id": row.taxonomy_term_id,
                "link_type": row.link_type,
                "link_entity": row.link_entity,
                "value": row.value,
                "label": row.label,
                "taxonomy_term": taxonomy_term_to_oruk(row.taxonomy_term),
            }
        )
        for row in rows
    ]


def _phone(phone: Phone) -> JsonObject:
    return _clean(
        {
            "id": phone.id,
            "contact_id": phone.contact_id,
            "number": phone.number,
            "extension": phone.extension,
            "type": phone.type,
            "description": phone.description,
        }
    )


def location_to_oruk(location: Location, *, nested: bool = True) -> JsonObject:
    """A location; with `nested` False only its own fields, as lists give it."""
    values = _clean(
        {
            "id": location.id,
            "location_type": location.location_type,
            "name": location.name,
            "description": location.description,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "external_identifier": location.external_identifier,
            "external_identifier_type": location.external_identifier_type,
        }
    )
    if not nested:
        return values
    values["addresses"] = [
        _clean(
            {
                "id": address.id,
                "location_id": address.location_id,
                "attention": address.attention,
                "address_1": address.address_1,
                "address_2": address.address_2,
                "city": address.city,
                "region": address.region,
                "state_province": address.state_province,
                "postal_code": address.postal_code,
                "country": address.country,
                "address_type": address.address_type,
                "attributes": [],
            }
        )
        for address in _by_id(location.addresses)
    ]
    values["accessibility"] = [
        _clean(
            {
                "id": item.id,
                "location_id": item.location_id,
                "description": item.description,
                "details": item.details,
                "url": item.url,
                "attributes": [],
            }
        )
        for item in _by_id(location.accessibility)
    ]
    values["attributes"] = _attributes(object_session(location), "location", location.id)
    return values


def _service_fields(service: Service) -> JsonObject:
    return _clean(
        {
            "id": service.id,
            "organization_id": service.organization_id,
            "name": service.name,
            "alternate_name": service.alternate_name,
            "description": service.description or "",
            "url": service.url,
            "email": service.email,
            "status": ServiceStatus(service.status).value,
            "fees": service.fees,
            "accreditations": service.accreditations,
            "eligibility_description": service.eligibility_description,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "assured_date": _date(service.assured_date),
            "assurer_email": service.assurer_email,
            "alert": service.alert,
            "last_modified": _datetime(service.last_modified),
        }
    )


def service_list_item(service: Service) -> JsonObject:
    """One item of `GET /services`: the service's own fields and its organization."""
    values = _service_fields(service)
    values["organization"] = organization_to_oruk(service.organization, nested=False)
    return values


def service_minimal(service_id: str, last_modified: datetime) -> JsonObject:
    """One item of `GET /services?minimal=true`: ORUK's minimal form is the service's id and
    when it was last modified (the OpenAPI's "modified_date", the schema's `last_modified`)."""
    return {"id": service_id, "last_modified": _datetime(last_modified)}


def _service_nested(service: Service, *, with_locations: bool) -> JsonObject:
    session = object_session(service)
    values = _service_fields(service)
    values["schedules"] = [
        _clean(
            {
                "id": row.id,
                "service_id": row.service_id,
                "service_at_location_id": row.service_at_location_id,
                "valid_from": _date(row.valid_from),
                "valid_to": _date(row.valid_to),
                "dtstart": _date(row.dtstart),
                "freq": row.freq,
                "interval": row.interval,
                "byday": row.byday,
                "bymonthday": row.bymonthday,
                "description": row.description,
                "opens_at": row.opens_at,
                "closes_at": row.closes_at,
                "schedule_link": row.schedule_link,
                "attending_type": row.attending_type,
                "notes": row.notes,
            }
        )
        for row in _by_id(service.schedules)
    ]
    values["service_areas"] = [
        _clean(
            {
                "id": row.id,
                "service_id": row.service_id,
                "name": row.name,
                "extent": row.extent,
                "extent_type": row.extent_type,
                "uri": row.uri,
                "service_area": row.service_area,
            }
        )
        for row in _by_id(service.service_areas)
    ]
    if with_locations:
        values["service_at_locations"] = [
            _clean(
                {
                    "id": row.id,
                    "service_id": row.service_id,
                    "location_id": row.location_id,
                    "description": row.description,
                    "location": location_to_oruk(row.location),
                }
            )
            for row in _by_id(service.service_at_locations)
        ]
    values["languages"] = [
        _clean(
            {
                "id": row.id,
                "service_id": row.service_id,
                "phone_id": row.phone_id,
                "name": row.name,
                "code": row.code,
            }
        )
        for row in _by_id(service.languages)
    ]
    values["organization"] = organization_to_oruk(service.organization)
    values["funding"] = [
        _clean({"id": row.id, "service_id": row.service_id, "source": row.source})
        for row in _by_id(service.funding)
    ]
    values["cost_options"] = [
        _clean(
            {
                "id": row.id,
                "service_id": row.service_id,
                "valid_from": _date(row.valid_from),
                "valid_to": _date(row.valid_to),
                "option": row.option,
                "amount": row.amount,
                "amount_description": row.amount_description,
            }
        )
        for row in _by_id(service.cost_options)
    ]
    phones = _by_id(service.phones)
    values["contacts"] = [
        _clean(
            {
                "id": row.id,
                "service_id": row.service_id,
                "name": row.name,
                "title": row.title,
                "department": row.department,
                "email": row.email,
                "phones": [_phone(phone) for phone in phones if phone.contact_id == row.id],
                "attributes": [],
            }
        )
        for row in _by_id(service.contacts)
    ]
    values["phones"] = [_phone(phone) for phone in phones if phone.contact_id is None]
    values["attributes"] = _attributes(session, "service", service.id)
    return values


def service_to_oruk(service: Service) -> JsonObject:
    """The body of ORUK `GET /services/{id}`: the service with everything nested."""
    return _service_nested(service, with_locations=True)


def service_at_location_to_oruk(row: ServiceAtLocation) -> JsonObject:
    """The body of ORUK `GET /service_at_locations/{id}` (and an item of its list with
    `full`): the location and the service with everything nested."""
    return _clean(
        {
            "id": row.id,
            "service_id": row.service_id,
            "location_id": row.location_id,
            "description": row.description,
            "location": location_to_oruk(row.location),
            "service": _service_nested(row.service, with_locations=False),
        }
    )


def service_at_location_list_item(row: ServiceAtLocation) -> JsonObject:
    """One item of `GET /service_at_locations`: its own fields, and the location's and the
    service's (with its organization), without their child collections."""
    return _clean(
        {
            "id": row.id,
            "service_id": row.service_id,
            "location_id": row.location_id,
            "description": row.description,
            "location": location_to_oruk(row.location, nested=False),
            "service": service_list_item(row.service),
        }
    )


# --- In: ORUK to tables -----------------------------------------------------------------


class _Reader:
    """Typed access to a record's values; a bad value is a Problem at its JSON pointer."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, where: str, message: str) -> InvalidRecord:
        return InvalidRecord([Problem(self.label, where, message)])

    def date(self, values: JsonObject, key: str, where: str) -> date | None:
        value = values.get(key)
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise self.fail(f"{where}/{key}", f"{value!r} is not a date (YYYY-MM-DD)") from None

    def datetime(self, values: JsonObject, key: str, where: str) -> datetime | None:
        value = values.get(key)
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(f"{where}/{key}", f"{value!r} is not a date and time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def text(self, values: JsonObject, key: str, where: str, limit: int | None = None) -> Any:
        value = values.get(key)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise self.fail(f"{where}/{key}", f"longer than {limit} characters")
        return value

    def integer(self, values: JsonObject, key: str, where: str) -> int | None:
        value = values.get(key)
        if value is None:
            return None
        if float(value) != int(value):
            raise self.fail(f"{where}/{key}", f"{value!r} is not a whole number")
        return int(value)


def _diff(before: JsonObject | None, after: JsonObject) -> dict[str, list[Any]]:
    if before is None:
        return {key: [None, value] for key, value in after.items()}
    keys = sorted(set(before) | set(after))
    return {
        key: [before.get(key), after.get(key)] for key in keys if before.get(key) != after.get(key)
    }


def _upsert_organization(
    session: Session, reader: _Reader, values: JsonObject, where: str
) -> Organization:
    organization = session.get(Organization, values["id"])
    if organization is None:
        organization = Organization(id=values["id"])
        session.add(organization)
    organization.name = values["name"]
    organization.alternate_name = values.get("alternate_name")
    organization.description = values.get("description") or ""
    organization.email = reader.text(values, "email", where, 254)
    organization.website = reader.text(values, "website", where, 500)
    organization.logo = reader.text(values, "logo", where, 500)
    organization.uri = reader.text(values, "uri", where, 500)
    organization.parent_organization_id = values.get("parent_organization_id")
    return organization


def upsert_taxonomy(session: Session, values: JsonObject) -> Taxonomy:
    """Insert or update a taxonomy from its ORUK record (`GET /taxonomies/{id}`)."""
    taxonomy = session.get(Taxonomy, values["id"])
    if taxonomy is None:
        taxonomy = Taxonomy(id=values["id"])
        session.add(taxonomy)
    taxonomy.name = values["name"]
    taxonomy.description = values.get("description") or ""
    taxonomy.uri = values.get("uri")
    taxonomy.version = values.get("version")
    return taxonomy


def upsert_taxonomy_term(session: Session, values: JsonObject) -> TaxonomyTerm:
    """Insert or update a term; its taxonomy is created (named from `taxonomy`) if new.

    A curator's mapping of the term to a need is kept; terms of the built-in needs
    taxonomy are the need their code names.
    """
    taxonomy_id = values.get("taxonomy_id")
    if taxonomy_id and session.get(Taxonomy, taxonomy_id) is None:
        session.add(
            Taxonomy(id=taxonomy_id, name=values.get("taxonomy") or taxonomy_id, description="")
        )
        session.flush()
    term = session.get(TaxonomyTerm, values["id"])
    if term is None:
        term = TaxonomyTerm(id=values["id"])
        session.add(term)
    term.name = values["name"]
    term.description = values.get("description") or ""
    term.parent_id = values.get("parent_id")
    term.taxonomy_id = taxonomy_id
    term.term_uri = values.get("term_uri")
    term.code = values.get("term")
    if taxonomy_id == NEEDS_TAXONOMY_ID and term.code in NEED_CODES:
        term.need_code = term.code
    return term


def _place(session: Session, location: Location, postcodes: list[str]) -> None:
    """Set the location's LSOA (and a missing point) from its postcode, else its LSOA."""
    from healthequity.places.service import find_postcode

    for postcode in postcodes:
        try:
            found = find_postcode(session, postcode)
        except GeographyError:
            continue
        if found.lsoa21_code is not None:
            location.lsoa21_code = found.lsoa21_code
        if (location.latitude is None or location.longitude is None) and (
            found.latitude is not None and found.longitude is not None
        ):
            location.latitude, location.longitude = found.latitude, found.longitude
        return
    if location.lsoa21_code and (location.latitude is None or location.longitude is None):
        try:
            point = lsoa_record(location.lsoa21_code).interior_point
        except GeographyError:
            return
        location.latitude, location.longitude = point.latitude, point.longitude


def _upsert_location(session: Session, reader: _Reader, values: JsonObject, where: str) -> Location:
    location = session.get(Location, values["id"])
    if location is None:
        location = Location(id=values["id"])
        session.add(location)
    else:
        location.addresses.clear()
        location.accessibility.clear()
        session.execute(
            delete(Attribute).where(
                Attribute.link_entity == "location", Attribute.link_id == location.id
            )
        )
        session.flush()
    location.location_type = values["location_type"]
    location.name = values.get("name")
    location.description = values.get("description")
    location.latitude = values.get("latitude")
    location.longitude = values.get("longitude")
    location.external_identifier = values.get("external_identifier")
    location.external_identifier_type = values.get("external_identifier_type")
    postcodes = []
    for index, item in enumerate(values.get("addresses") or []):
        here = f"{where}/addresses/{index}"
        location.addresses.append(
            Address(
                id=item["id"],
                attention=item.get("attention"),
                address_1=item["address_1"],
                address_2=item.get("address_2"),
                city=reader.text(item, "city", here, 100),
                region=reader.text(item, "region", here, 100),
                state_province=reader.text(item, "state_province", here, 100),
                postal_code=reader.text(item, "postal_code", here, 10),
                country=reader.text(item, "country", here, 2),
                address_type=item["address_type"],
            )
        )
        if item["postal_code"]:
            postcodes.append(item["postal_code"])
    for item in values.get("accessibility") or []:
        location.accessibility.append(
            Accessibility(
                id=item["id"],
                description=item.get("description"),
                details=item.get("details"),
                url=item.get("url"),
            )
        )
    _place(session, location, postcodes)
    session.flush()
    _add_attributes(session, reader, values, where, "location", location.id)
    return location


def _add_attributes(
    session: Session, reader: _Reader, values: JsonObject, where: str, entity: str, link_id: str
) -> None:
    for index, item in enumerate(values.get("attributes") or []):
        here = f"{where}/attributes/{index}"
        term_values = item.get("taxonomy_term")
        if term_values is not None:
            term = upsert_taxonomy_term(session, term_values)
        else:
            term_id = item.get("taxonomy_term_id")
            found = session.get(TaxonomyTerm, term_id) if term_id else None
            if found is None:
                raise reader.fail(here, "an attribute needs its taxonomy_term, or the id of one")
            term = found
        session.flush()
        attribute = session.get(Attribute, item["id"])
        if attribute is None:
            attribute = Attribute(id=item["id"])
            session.add(attribute)
        attribute.link_id = link_id
        attribute.link_entity = entity
        attribute.link_type = item.get("link_type")
        attribute.taxonomy_term_id = term.id
        attribute.value = item.get("value") if isinstance(item.get("value"), str) else None
        attribute.label = item.get("label")
    session.flush()


def _phones(items: Iterable[JsonObject], contact_id: str | None = None) -> list[Phone]:
    return [
        Phone(
            id=item["id"],
            contact_id=contact_id,
            number=item["number"],
            extension=item.get("extension"),
            type=item.get("type"),
            description=item.get("description"),
        )
        for item in items
    ]


def service_from_oruk(
    session: Session,
    record: object,
    *,
    source: str = "import",
    user_id: int | None = None,
    label: str | None = None,
) -> Service:
    """Validate one ORUK service record (the body of `GET /services/{id}`) and upsert it.

    Raises InvalidRecord (naming the record and the JSON pointer) if it fails the schema
    or cannot be stored. Runs in the caller's transaction.
    """
    problems = validate("service", record, label)
    if problems:
        raise InvalidRecord(problems)
    assert isinstance(record, dict)
    reader = _Reader(label or record_label(record))
    service_id = record["id"]
    if len(service_id) > 64:
        raise reader.fail("/id", "longer than 64 characters")

    existing = session.get(Service, service_id, options=SERVICE_LOAD_OPTIONS)
    before = service_to_oruk(existing) if existing is not None else None

    organization_values = record.get("organization")
    if organization_values is not None:
        organization = _upsert_organization(session, reader, organization_values, "/organization")
    else:
        found = session.get(Organization, record.get("organization_id") or "")
        if found is None:
            raise reader.fail(
                "/organization", "a service needs its organization (or the id of one held)"
            )
        organization = found

    if existing is None:
        service = Service(id=service_id)
        session.add(service)
    else:
        service = existing
        # Replace the child collections: clear, and flush in dependency order, so that a
        # re-import with the same child ids updates rather than collides.
        service.languages.clear()
        service.schedules.clear()
        session.flush()
        service.phones.clear()
        session.flush()
        service.contacts.clear()
        service.cost_options.clear()
        service.service_areas.clear()
        service.funding.clear()
        service.service_at_locations.clear()
        session.execute(
            delete(Attribute).where(
                Attribute.link_entity == "service", Attribute.link_id == service_id
            )
        )
        session.flush()

    service.organization = organization
    service.name = reader.text(record, "name", "", 300)
    service.alternate_name = reader.text(record, "alternate_name", "", 300)
    service.description = record.get("description") or ""
    service.url = reader.text(record, "url", "", 500)
    service.email = reader.text(record, "email", "", 254)
    service.status = ServiceStatus(record["status"])
    service.fees = record.get("fees")
    service.accreditations = record.get("accreditations")
    service.eligibility_description = record.get("eligibility_description")
    service.minimum_age = record.get("minimum_age")
    service.maximum_age = record.get("maximum_age")
    service.assured_date = reader.date(record, "assured_date", "")
    service.assurer_email = record.get("assurer_email")
    service.alert = record.get("alert")
    given_modified = reader.datetime(record, "last_modified", "")
    service.last_modified = given_modified or (
        existing.last_modified if existing is not None else utc_now()
    )

    for index, item in enumerate(record.get("service_at_locations") or []):
        here = f"/service_at_locations/{index}"
        location_values = item.get("location")
        if location_values is not None:
            location = _upsert_location(session, reader, location_values, f"{here}/location")
        else:
            held = session.get(Location, item.get("location_id") or "")
            if held is None:
                raise reader.fail(here, "needs its location, or the id of one held")
            location = held
        service.service_at_locations.append(
            ServiceAtLocation(id=item["id"], location=location, description=item.get("description"))
        )
    session.flush()
    for index, item in enumerate(record.get("schedules") or []):
        here = f"/schedules/{index}"
        service.schedules.append(
            Schedule(
                id=item["id"],
                service_at_location_id=item.get("service_at_location_id"),
                valid_from=reader.date(item, "valid_from", here),
                valid_to=reader.date(item, "valid_to", here),
                dtstart=reader.date(item, "dtstart", here),
                freq=item.get("freq"),
                interval=reader.integer(item, "interval", here),
                byday=reader.text(item, "byday", here, 40),
                bymonthday=reader.text(item, "bymonthday", here, 40),
                opens_at=reader.text(item, "opens_at", here, 8),
                closes_at=reader.text(item, "closes_at", here, 8),
                description=item.get("description"),
                schedule_link=item.get("schedule_link"),
                attending_type=reader.text(item, "attending_type", here, 40),
                notes=item.get("notes"),
            )
        )
    for item in record.get("service_areas") or []:
        service.service_areas.append(
            ServiceArea(
                id=item["id"],
                name=item.get("name"),
                extent=item.get("extent"),
                extent_type=item.get("extent_type"),
                uri=item.get("uri"),
                service_area=item.get("service_area"),
            )
        )
    for item in record.get("funding") or []:
        service.funding.append(Funding(id=item["id"], source=item.get("source")))
    for index, item in enumerate(record.get("cost_options") or []):
        here = f"/cost_options/{index}"
        service.cost_options.append(
            CostOption(
                id=item["id"],
                valid_from=reader.date(item, "valid_from", here),
                valid_to=reader.date(item, "valid_to", here),
                option=item.get("option"),
                amount=item.get("amount"),
                amount_description=item.get("amount_description"),
            )
        )
    for item in record.get("contacts") or []:
        service.contacts.append(
            Contact(
                id=item["id"],
                name=item.get("name"),
                title=item.get("title"),
                department=item.get("department"),
                email=item.get("email"),
            )
        )
    session.flush()
    for item in record.get("contacts") or []:
        service.phones.extend(_phones(item.get("phones") or [], item["id"]))
    service.phones.extend(_phones(record.get("phones") or []))
    session.flush()
    for item in record.get("languages") or []:
        service.languages.append(
            Language(
                id=item["id"],
                phone_id=item.get("phone_id"),
                name=item.get("name"),
                code=item.get("code"),
            )
        )
    session.flush()
    _add_attributes(session, reader, record, "", "service", service_id)

    session.flush()
    after = service_to_oruk(service)
    comparable_before = {k: v for k, v in (before or {}).items() if k != "last_modified"}
    comparable_after = {k: v for k, v in after.items() if k != "last_modified"}
    if before is None or comparable_before != comparable_after:
        if given_modified is None and before is not None:
            service.last_modified = utc_now()
            after["last_modified"] = _datetime(service.last_modified)
        session.add(
            RecordChange(
                entity_type="service",
                entity_id=service_id,
                user_id=user_id,
                source=source,
                change=json.dumps(_diff(before, after), default=str),
            )
        )
    return service


def load_service(session: Session, service_id: str) -> Service | None:
    return session.get(Service, service_id, options=SERVICE_LOAD_OPTIONS)
