"""Import ORUK v3 service records into the directory: from a feed's API, a JSON file, or
the CSV template for small organisations.

Every record is validated against the ORUK schema before anything is stored. By default an
import is all or nothing: one invalid record and nothing is imported (ImportRejected names
every problem: record id and JSON pointer, or CSV row and column). With `skip_invalid`, the
valid records are imported and the report lists the rest. Records are upserted by id, so
importing the same feed again updates and duplicates nothing. The caller owns the
transaction (`Database.session()` commits on success).
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from healthequity.directory import oruk, taxonomy
from healthequity.directory.exceptions import (
    DirectoryError,
    FeedUnavailable,
    ImportRejected,
    InvalidRecord,
    Problem,
)
from healthequity.directory.models import ServiceStatus
from healthequity.geography import GeographyError, normalise_postcode
from healthequity.needs import NEEDS

JsonObject = dict[str, Any]
# Called as (records done, records in all); total is 0 while still unknown.
ProgressCallback = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did: the ids imported, and the problems of the records left out."""

    imported: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    @property
    def rejected(self) -> list[str]:
        return list(dict.fromkeys(problem.record for problem in self.problems))

    def as_json(self) -> JsonObject:
        return {
            "total": self.total,
            "imported": len(self.imported),
            "rejected": len(self.rejected),
            "problems": [
                {"record": p.record, "where": p.where, "problem": p.message} for p in self.problems
            ],
        }


@dataclass(frozen=True)
class LabelledRecord:
    """A record to import and how to name it in errors ("svc-1", "row 4")."""

    label: str
    record: Any
    # For CSV rows: maps a JSON pointer prefix to the (row, column) it came from.
    origin: Callable[[Problem], Problem] | None = None


def import_records(
    session: Session,
    records: Iterable[LabelledRecord],
    *,
    skip_invalid: bool = False,
    source: str = "import",
    user_id: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Validate every record, then store them (see the module's description)."""
    items = list(records)
    report = ImportReport(total=len(items))
    valid: list[LabelledRecord] = []
    for item in items:
        problems = oruk.validate("service", item.record, item.label)
        if item.origin is not None:
            problems = [item.origin(problem) for problem in problems]
        report.problems.extend(problems)
        if not problems:
            valid.append(item)
    if report.problems and not skip_invalid:
        raise ImportRejected(report.problems, len(items))
    for done, item in enumerate(valid, start=1):
        try:
            if skip_invalid:
                with session.begin_nested():
                    oruk.service_from_oruk(
                        session, item.record, source=source, user_id=user_id, label=item.label
                    )
            else:
                oruk.service_from_oruk(
                    session, item.record, source=source, user_id=user_id, label=item.label
                )
        except InvalidRecord as error:
            problems = error.problems
            if item.origin is not None:
                problems = [item.origin(problem) for problem in problems]
            if not skip_invalid:
                raise ImportRejected(problems, len(items)) from None
            report.problems.extend(problems)
        except DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            problem = Problem(item.label, "", f"could not be stored: {reason}")
            if not skip_invalid:
                raise ImportRejected([problem], len(items)) from None
            report.problems.append(problem)
        else:
            report.imported.append(item.label)
        if on_progress is not None:
            on_progress(done, len(valid))
    return report


def import_taxonomies(
    session: Session, taxonomies: Iterable[JsonObject], terms: Iterable[JsonObject] = ()
) -> int:
    """Upsert taxonomies and terms from their ORUK records (`GET /taxonomies`,
    `GET /taxonomy_terms`); an invalid one rejects the import, as a service does."""
    count = 0
    for schema, records in (("taxonomy", taxonomies), ("taxonomy_term", terms)):
        for position, record in enumerate(records):
            problems = oruk.validate(schema, record, oruk.record_label(record, position))
            if problems:
                raise ImportRejected(problems, position + 1)
            if schema == "taxonomy":
                oruk.upsert_taxonomy(session, record)
            else:
                oruk.upsert_taxonomy_term(session, record)
            session.flush()
            count += 1
    return count


# --- JSON files -------------------------------------------------------------------------


def read_json_records(path: Path) -> list[LabelledRecord]:
    """Service records from a JSON file: one record, a list, or a page with `contents`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DirectoryError(f"{path.name} could not be read: {error}") from None
    except json.JSONDecodeError as error:
        raise DirectoryError(
            f"{path.name} is not JSON: {error.msg} at line {error.lineno}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    items = data if isinstance(data, list) else [data]
    return [
        LabelledRecord(oruk.record_label(record, position), record)
        for position, record in enumerate(items)
    ]


# --- ORUK feeds -------------------------------------------------------------------------


class FeedClient:
    """A client of an ORUK v3 API, retrying what fails with back-off."""

    def __init__(
        self,
        base_url: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.retries = max(1, retries)
        self.backoff = backoff
        self.client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
            headers={"Accept": "application/json", "User-Agent": "healthequity-directory"},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        url = urljoin(self.base_url, path.lstrip("/"))
        reason = ""
        for attempt in range(1, self.retries + 1):
            try:
                response = self.client.get(url, params=params)
            except httpx.HTTPError as error:
                reason = str(error) or type(error).__name__
            else:
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code < 500 and response.status_code != 429:
                    if response.status_code >= 400:
                        raise FeedUnavailable(f"the feed answered {response.status_code} for {url}")
                    try:
                        return response.json()
                    except ValueError:
                        raise FeedUnavailable(f"the feed did not send JSON for {url}") from None
                reason = f"HTTP {response.status_code}"
            if attempt < self.retries:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        raise FeedUnavailable(
            f"the feed at {self.base_url} could not be reached ({url}) after {self.retries}"
            f" attempts: {reason}"
        )

    def pages(self, path: str, per_page: int, *, missing_ok: bool = False) -> Iterator[JsonObject]:
        page = 1
        while True:
            body = self.get(path, {"page": page, "per_page": per_page}, missing_ok=missing_ok)
            if body is None:
                return
            contents = body.get("contents") if isinstance(body, dict) else None
            if not isinstance(contents, list):
                raise FeedUnavailable(f"{path} of the feed is not an ORUK page (no contents)")
            yield from contents
            total_pages = body.get("total_pages")
            if not contents or body.get("last_page") is True:
                return
            if isinstance(total_pages, int) and page >= total_pages:
                return
            page += 1


@dataclass(frozen=True)
class Feed:
    taxonomies: list[JsonObject]
    taxonomy_terms: list[JsonObject]
    services: list[LabelledRecord]


def fetch_feed(
    base_url: str,
    *,
    per_page: int = 100,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float = 15.0,
    on_progress: ProgressCallback | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Feed:
    """The taxonomies, taxonomy terms and full service records of an ORUK v3 feed.

    Pages through `/services`, then fetches each `/services/{id}`; `/taxonomies` and
    `/taxonomy_terms` are read if the feed has them (terms no service uses travel so).
    Raises FeedUnavailable, with the reason, after the retries.
    """
    with FeedClient(
        base_url, retries=retries, backoff=backoff, timeout=timeout, transport=transport
    ) as client:
        listed = list(client.pages("services", per_page))
        ids: list[str] = []
        for item in listed:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                ids.append(item["id"])
        if on_progress is not None:
            on_progress(0, len(ids))
        records = []
        for done, service_id in enumerate(dict.fromkeys(ids), start=1):
            record = client.get(f"services/{service_id}")
            records.append(LabelledRecord(oruk.record_label(record) or service_id, record))
            if on_progress is not None:
                on_progress(done, len(ids))
        taxonomies = list(client.pages("taxonomies", per_page, missing_ok=True))
        terms = list(client.pages("taxonomy_terms", per_page, missing_ok=True))
    return Feed(taxonomies, terms, records)


# --- The CSV template -------------------------------------------------------------------

# One row per service at a location. Ids are optional: blank ones are derived from the
# names (and postcode), so re-importing the same sheet updates rather than duplicates.
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("organization_id", "optional; the organisation's id"),
    ("organization_name", "required"),
    ("organization_description", "optional"),
    ("organization_website", "optional; https://..."),
    ("organization_email", "optional"),
    ("service_id", "optional; rows with the same id (or name) are one service"),
    ("service_name", "required"),
    ("service_description", "optional"),
    ("service_status", "active (default), inactive, defunct or temporarily closed"),
    ("service_url", "optional; https://..."),
    ("service_email", "optional"),
    ("phone", "optional; the service's phone number"),
    ("contact_name", "optional"),
    ("needs", "optional; need codes separated by ';', e.g. debt;income_benefits"),
    ("minimum_age", "optional; years"),
    ("maximum_age", "optional; years"),
    ("eligibility", "optional; who the service is for"),
    ("fees", "optional; blank if free"),
    ("location_id", "optional"),
    ("location_name", "optional"),
    ("address_1", "required if there is a location"),
    ("city", "required if there is a location"),
    ("postcode", "required if there is a location"),
    ("latitude", "optional; filled from the postcode when the postcode directory has it"),
    ("longitude", "optional"),
    ("opening_days", "optional; MO,TU,WE,TH,FR,SA,SU"),
    ("opens_at", "optional; HH:MM"),
    ("closes_at", "optional; HH:MM"),
)
CSV_HEADER = tuple(name for name, _ in CSV_COLUMNS)
_ID_NAMESPACE = uuid.UUID("6f1b6a3e-2f61-4c4e-9a53-0d6c1f7a2b10")
_DAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
_NEEDS = {need.code: need for need in NEEDS}


def write_csv_template(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(CSV_HEADER)


def _derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "|".join(part.strip().lower() for part in parts)))


def need_term(code: str) -> JsonObject:
    """The ORUK taxonomy term of a built-in need, as directory/taxonomy.py seeds it."""
    need = _NEEDS[code]
    return {
        "id": taxonomy.need_term_id(code),
        "name": need.label,
        "description": need.description,
        "taxonomy": taxonomy.NEEDS_TAXONOMY_NAME,
        "taxonomy_id": taxonomy.NEEDS_TAXONOMY_ID,
        "term": code,
    }


class _RowProblems:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(f"row {row}", column, message))


def _number(value: str, row: int, column: str, errors: _RowProblems) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        errors.add(row, column, f"{value!r} is not a number")
        return None


def _time(value: str, row: int, column: str, errors: _RowProblems) -> str | None:
    if not value:
        return None
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        errors.add(row, column, f"{value!r} is not a time (HH:MM)")
        return None
    return f"{int(hours):02d}:{int(minutes):02d}"


def read_csv_records(path: Path) -> tuple[list[LabelledRecord], list[Problem]]:
    """Service records built from the CSV template, and the problems of its rows (row
    numbers count the header as row 1, as a spreadsheet shows them)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else set()
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DirectoryError(f"{path.name} could not be read as CSV: {error}") from None
    missing = [name for name in ("organization_name", "service_name") if name not in header]
    if rows and missing:
        raise DirectoryError(f"{path.name} lacks the column(s) {', '.join(missing)}")
    errors = _RowProblems()
    services: dict[str, JsonObject] = {}
    service_rows: dict[str, list[int]] = {}
    for number, raw in enumerate(rows, start=2):
        row = {key: (value or "").strip() for key, value in raw.items() if key}
        before = len(errors.problems)
        for column in ("organization_name", "service_name"):
            if not row.get(column):
                errors.add(number, column, "required")
        status = row.get("service_status") or "active"
        if status not in {s.value for s in ServiceStatus}:
            errors.add(number, "service_status", f"{status!r} is not a status")
        needs = [code.strip() for code in row.get("needs", "").split(";") if code.strip()]
        for code in needs:
            if code not in _NEEDS:
                errors.add(number, "needs", f"{code!r} is not a need code")
        minimum_age = _number(row.get("minimum_age", ""), number, "minimum_age", errors)
        maximum_age = _number(row.get("maximum_age", ""), number, "maximum_age", errors)
        latitude = _number(row.get("latitude", ""), number, "latitude", errors)
        longitude = _number(row.get("longitude", ""), number, "longitude", errors)
        opens_at = _time(row.get("opens_at", ""), number, "opens_at", errors)
        closes_at = _time(row.get("closes_at", ""), number, "closes_at", errors)
        days = [day.strip().upper() for day in row.get("opening_days", "").split(",") if day]
        if any(day not in _DAYS for day in days):
            errors.add(number, "opening_days", "days are MO,TU,WE,TH,FR,SA,SU")
        postcode = row.get("postcode", "")
        has_location = any(row.get(c) for c in ("address_1", "city", "postcode", "location_id"))
        if has_location:
            for column in ("address_1", "city", "postcode"):
                if not row.get(column):
                    errors.add(number, column, "required for a location")
            if postcode:
                try:
                    postcode = normalise_postcode(postcode)
                except GeographyError:
                    errors.add(number, "postcode", f"{postcode!r} is not a UK postcode")
        for column in ("service_email", "organization_email"):
            if row.get(column) and not oruk._is_email(row[column]):
                errors.add(number, column, f"{row[column]!r} is not an email address")
        for column in ("service_url", "organization_website"):
            if row.get(column) and not oruk._is_uri(row[column]):
                errors.add(number, column, f"{row[column]!r} is not a web address (https://...)")
        if len(errors.problems) > before:
            continue

        organization_id = row.get("organization_id") or _derived_id(
            "organization", row["organization_name"]
        )
        service_id = row.get("service_id") or _derived_id(
            "service", row["organization_name"], row["service_name"]
        )
        service = services.get(service_id)
        if service is None:
            service = oruk_service_skeleton(service_id, organization_id, row, status)
            service["minimum_age"] = minimum_age
            service["maximum_age"] = maximum_age
            service["attributes"] = [
                {
                    "id": taxonomy.need_attribute_id(service_id, code),
                    "link_id": service_id,
                    "link_type": "service",
                    "taxonomy_term_id": need_term(code)["id"],
                    "taxonomy_term": need_term(code),
                }
                for code in needs
            ]
            services[service_id] = service
        service_rows.setdefault(service_id, []).append(number)
        if has_location:
            location_id = row.get("location_id") or _derived_id(
                "location", row.get("location_name", ""), row["address_1"], postcode
            )
            sal_id = _derived_id("service_at_location", service_id, location_id)
            location: JsonObject = {
                "id": location_id,
                "location_type": "physical",
                "name": row.get("location_name") or None,
                "latitude": latitude,
                "longitude": longitude,
                "addresses": [
                    {
                        "id": _derived_id("address", location_id),
                        "location_id": location_id,
                        "address_1": row["address_1"],
                        "city": row["city"],
                        "state_province": "",
                        "postal_code": postcode,
                        "country": "GB",
                        "address_type": "physical",
                    }
                ],
            }
            service["service_at_locations"].append(
                {
                    "id": sal_id,
                    "service_id": service_id,
                    "location_id": location_id,
                    "location": {k: v for k, v in location.items() if v is not None},
                }
            )
            if days or opens_at or closes_at:
                service["schedules"].append(
                    {
                        "id": _derived_id("schedule", sal_id),
                        "service_id": service_id,
                        "service_at_location_id": sal_id,
                        "freq": "WEEKLY",
                        "byday": ",".join(days) or None,
                        "opens_at": opens_at,
                        "closes_at": closes_at,
                    }
                )
    records = []
    for service_id, service in services.items():
        cleaned = _drop_none(service)
        first_row = service_rows[service_id][0]
        records.append(LabelledRecord(f"row {first_row}", cleaned, origin=_csv_origin(first_row)))
    return records, errors.problems


def _csv_origin(row: int) -> Callable[[Problem], Problem]:
    def origin(problem: Problem) -> Problem:
        column = problem.where.strip("/").split("/")[-1] if problem.where else ""
        return Problem(f"row {row}", column, problem.message)

    return origin


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def oruk_service_skeleton(
    service_id: str, organization_id: str, row: dict[str, str], status: str
) -> JsonObject:
    phone = row.get("phone")
    contact_name = row.get("contact_name")
    contacts: list[JsonObject] = []
    if contact_name:
        contacts.append(
            {
                "id": _derived_id("contact", service_id),
                "service_id": service_id,
                "name": contact_name,
            }
        )
    return {
        "id": service_id,
        "organization_id": organization_id,
        "name": row["service_name"],
        "description": row.get("service_description", ""),
        "url": row.get("service_url") or None,
        "email": row.get("service_email") or None,
        "status": status,
        "fees": row.get("fees") or None,
        "eligibility_description": row.get("eligibility") or None,
        "organization": {
            "id": organization_id,
            "name": row["organization_name"],
            "description": row.get("organization_description", ""),
            "website": row.get("organization_website") or None,
            "email": row.get("organization_email") or None,
        },
        "service_at_locations": [],
        "schedules": [],
        "contacts": contacts,
        "phones": ([{"id": _derived_id("phone", service_id), "number": phone}] if phone else []),
    }


def import_csv(
    session: Session,
    path: Path,
    *,
    skip_invalid: bool = False,
    source: str = "import",
    user_id: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the CSV template; problems name the row and the column."""
    records, row_problems = read_csv_records(path)
    taxonomy.ensure_needs_taxonomy(session)
    bad_rows = len({problem.record for problem in row_problems})
    if row_problems and not skip_invalid:
        raise ImportRejected(row_problems, len(records) + bad_rows)
    report = import_records(
        session,
        records,
        skip_invalid=skip_invalid,
        source=source,
        user_id=user_id,
        on_progress=on_progress,
    )
    report.problems[:0] = row_problems
    report.total += bad_rows
    return report


def import_source(
    session: Session,
    source: str,
    *,
    skip_invalid: bool = False,
    user_id: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_fetch: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float = 15.0,
) -> ImportReport:
    """Import from an ORUK API base URL (http/https), a .json file or a .csv file."""
    if source.startswith(("http://", "https://")):
        feed = fetch_feed(
            source, retries=retries, backoff=backoff, timeout=timeout, on_progress=on_fetch
        )
        import_taxonomies(session, feed.taxonomies, feed.taxonomy_terms)
        return import_records(
            session,
            feed.services,
            skip_invalid=skip_invalid,
            user_id=user_id,
            on_progress=on_progress,
        )
    path = Path(source)
    if not path.is_file():
        raise DirectoryError(f"{source} is neither a URL nor a file")
    if path.suffix.lower() == ".csv":
        return import_csv(
            session, path, skip_invalid=skip_invalid, user_id=user_id, on_progress=on_progress
        )
    return import_records(
        session,
        read_json_records(path),
        skip_invalid=skip_invalid,
        user_id=user_id,
        on_progress=on_progress,
    )


def export_services(session: Session) -> list[JsonObject]:
    """Every service as its ORUK record (the body of `GET /services/{id}`), by id."""
    from sqlalchemy import select

    from healthequity.directory.models import Service

    services = session.scalars(
        select(Service).options(*oruk.SERVICE_LOAD_OPTIONS).order_by(Service.id)
    ).unique()
    return [oruk.service_to_oruk(service) for service in services]


__all__: Sequence[str] = (
    "CSV_COLUMNS",
    "FeedClient",
    "ImportReport",
    "LabelledRecord",
    "export_services",
    "fetch_feed",
    "import_csv",
    "import_records",
    "import_source",
    "read_csv_records",
    "read_json_records",
    "write_csv_template",
)
