"""The directory published as an Open Referral UK v3 API under /oruk/ (open data).

Endpoints and parameters follow the ORUK OpenAPI (`oruk_schemas/openapi.json`): `/`,
`/services`, `/services/{id}`, `/taxonomies`, `/taxonomies/{id}`, `/taxonomy_terms`,
`/taxonomy_terms/{id}`, `/service_at_locations`, `/service_at_locations/{id}`. ORUK also
defines `minimal`, `full`, `format`, `modified_after` and `organization_id` without attaching
them to an endpoint; they are served where HSDS 3.0's OpenAPI, which ORUK profiles, attaches
them. Lists are pages (total_items, total_pages, page_number, size, first_page, last_page,
empty, contents), or with `format=ndjson` every record, one a line, streamed. Every service
is published whatever its status; `status` filters.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from healthequity import geography
from healthequity.auth.dependencies import allow_public
from healthequity.auth.schemas import Principal
from healthequity.directory import oruk
from healthequity.directory.models import (
    Attribute,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.search import clock, today_in_london
from healthequity.geography import GeographyError
from healthequity.store import Database
from healthequity.web.dependencies import get_database, get_session

router = APIRouter(prefix="/oruk", tags=["oruk"])

EARTH_RADIUS_M = 6_371_000.0
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
NDJSON_MEDIA_TYPE = "application/x-ndjson"
BATCH = 200  # records read at once: a page in batches, a stream a transaction a batch
JsonObject = dict[str, Any]
Render = Callable[[Session, Sequence[str]], list[JsonObject]]
_Row = TypeVar("_Row", Service, ServiceAtLocation, Taxonomy, TaxonomyTerm)


def _bad_parameter(name: str, value: object, expected: str) -> RequestValidationError:
    """A 422 shaped as FastAPI's own, for checks that span parameters."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": expected, "input": value}]
    )


# --- Records, in pages or streamed ------------------------------------------------------


def _in_order(
    session: Session, model: type[_Row], ids: Sequence[str], *options: LoaderOption
) -> list[_Row]:
    """The rows with these ids, in the order given; any deleted meanwhile left out."""
    statement = select(model).where(model.id.in_(ids)).options(*options)
    found = {row.id: row for row in session.scalars(statement).unique()}
    return [found[row_id] for row_id in ids if row_id in found]


def _renderer(
    model: type[_Row], to_oruk: Callable[[_Row], JsonObject], *options: LoaderOption
) -> Render:
    def render(session: Session, ids: Sequence[str]) -> list[JsonObject]:
        return [to_oruk(row) for row in _in_order(session, model, ids, *options)]

    return render


def _minimal_services(session: Session, ids: Sequence[str]) -> list[JsonObject]:
    rows = session.execute(select(Service.id, Service.last_modified).where(Service.id.in_(ids)))
    found = dict(rows.all())
    return [oruk.service_minimal(sid, found[sid]) for sid in ids if sid in found]


SERVICES = _renderer(Service, oruk.service_list_item)
FULL_SERVICES = _renderer(Service, oruk.service_to_oruk, *oruk.SERVICE_LOAD_OPTIONS)
SERVICE_AT_LOCATIONS = _renderer(
    ServiceAtLocation, oruk.service_at_location_list_item, joinedload(ServiceAtLocation.service)
)
FULL_SERVICE_AT_LOCATIONS = _renderer(ServiceAtLocation, oruk.service_at_location_to_oruk)
TAXONOMIES = _renderer(Taxonomy, oruk.taxonomy_to_oruk)
TAXONOMY_TERMS = _renderer(TaxonomyTerm, oruk.taxonomy_term_to_oruk)


def _page(contents: list[JsonObject], total: int, page: int, per_page: int) -> JsonObject:
    total_pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _ndjson(database: Database, ids: Sequence[str], render: Render) -> StreamingResponse:
    """Every record, one JSON object a line, sent as it is rendered. Each batch is read in a
    short transaction of its own: the request's has ended before the body is sent."""

    def lines() -> Iterator[bytes]:
        for start in range(0, len(ids), BATCH):
            with database.session() as session:
                records = render(session, ids[start : start + BATCH])
            for record in records:
                text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                yield (text + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type=NDJSON_MEDIA_TYPE)


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class Listing:
    """How a list is answered: which page, how big, and in which format."""

    page: int
    per_page: int | None
    format: Literal["json", "ndjson"]

    def respond(
        self,
        session: Session,
        database: Database,
        ids: Sequence[str],
        render: Render,
        *,
        whole: bool = False,
    ) -> JsonObject | StreamingResponse:
        """A page of the records with these ids, or all of them as ndjson. With `whole`
        and no per_page asked, the page holds them all."""
        if self.format == "ndjson":
            return _ndjson(database, ids, render)
        per_page = self.per_page or (max(len(ids), 1) if whole else DEFAULT_PER_PAGE)
        chosen = ids[(self.page - 1) * per_page : self.page * per_page]
        contents = [
            record
            for start in range(0, len(chosen), BATCH)
            for record in render(session, chosen[start : start + BATCH])
        ]
        return _page(contents, len(ids), self.page, per_page)


def listing(
    page: int = Query(1, ge=1, description="Page number, from 1"),
    per_page: int | None = Query(
        None,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Records a page: {DEFAULT_PER_PAGE} unless asked (with minimal, all)",
    ),
    result_format: Annotated[
        Literal["json", "ndjson"],
        BeforeValidator(_lower),
        Query(
            alias="format",
            description="json (a page), or ndjson: every record, one a line, without pages",
        ),
    ] = "json",
) -> Listing:
    return Listing(page=page, per_page=per_page, format=result_format)


# --- Opening times ----------------------------------------------------------------------

_BYDAY = re.compile(r"[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU)")
_TIME_OF_DAY = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def schedule_days(byday: str | None) -> set[str]:
    """The weekdays of a schedule's byday: "MO,WE" and monthly "2MO,-1FR" alike."""
    parts = (part.strip().upper() for part in (byday or "").split(","))
    return {match.group(1) for part in parts if (match := _BYDAY.fullmatch(part))}


def _time_of_day(value: object) -> object:
    if value == "":  # a blank field of a form: not asked
        return None
    if isinstance(value, str) and _TIME_OF_DAY.fullmatch(value.strip()):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("expected a time of day on the 24-hour clock, HH:MM or HH:MM:SS, e.g. 09:30")


def _upper(value: object) -> object:
    if isinstance(value, str):
        return value.strip().upper() or None  # blank: not asked
    return value


Day = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]  # a schedule's byday codes


@dataclass(frozen=True)
class OpeningFilter:
    """ORUK's `day`, `start_time` and `end_time`, read as its OpenAPI describes them.

    A schedule matches when every one given holds for that same schedule:

    - `day` (MO, TU, WE, TH, FR, SA or SU; any case): the day is in the schedule's byday,
      weekly ("MO,WE") or monthly ("1SA" is a Saturday too), whatever the interval;
    - `start_time` ("a start time of at least"): the schedule opens at or after it;
    - `end_time` ("an end time equal to or below"): it closes at or before it, the same day.

    So `day=SA&start_time=09:00&end_time=17:00` finds services with a Saturday session that
    lies within 09:00-17:00. Times are compared as the clock shows them; an offset written
    after a schedule's time ("09:00Z") is ignored, as opening times are local. A schedule
    whose valid_to has passed is not counted; one without days or times cannot match a day or
    a time. A service matches if its own schedule or one at any of its locations does; a
    service at a location, if the service's general schedule or one at that location does.
    """

    day: str | None
    start_time: time | None
    end_time: time | None

    def admits(self, schedule: Schedule, today: date) -> bool:
        if schedule.valid_to is not None and schedule.valid_to < today:
            return False
        if self.day is not None and self.day not in schedule_days(schedule.byday):
            return False
        opens, closes = clock(schedule.opens_at), clock(schedule.closes_at)
        if self.start_time is not None and (opens is None or opens < self.start_time):
            return False
        overnight = opens is not None and closes is not None and closes < opens
        return self.end_time is None or (
            closes is not None and not overnight and closes <= self.end_time
        )

    def open_places(self, session: Session, services: Select[Any]) -> set[tuple[str, str | None]]:
        """(service id, service at location id) of each matching schedule of these services;
        the second is None for a schedule of the service wherever it is given."""
        owner = func.coalesce(Schedule.service_id, ServiceAtLocation.service_id)
        statement = (
            select(owner, Schedule)
            .outerjoin(ServiceAtLocation, ServiceAtLocation.id == Schedule.service_at_location_id)
            .where(owner.in_(services))
        )
        if self.day is not None:  # the database sifts; admits() decides
            statement = statement.where(func.upper(Schedule.byday).like(f"%{self.day}%"))
        today = today_in_london()
        return {
            (service_id, schedule.service_at_location_id)
            for service_id, schedule in session.execute(statement)
            if self.admits(schedule, today)
        }


# --- Where: postcode, point, proximity and service areas --------------------------------

_ONS_CODE = re.compile(r"\b[EWSNK]\d{8}\b")


@dataclass(frozen=True)
class Centre:
    """The point a search measures from; for a postcode, also the areas it lies in (their
    ONS codes and case-folded names; empty when the postcode has no LSOA we know)."""

    latitude: float
    longitude: float
    postcode: str | None = None
    codes: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()


def _postcode_centre(session: Session, postcode: str) -> Centre:
    from healthequity.places.service import find_postcode

    try:
        found = find_postcode(session, postcode)
    except GeographyError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None
    if found.latitude is None or found.longitude is None:
        raise HTTPException(status_code=400, detail=f"{postcode} has no location")
    centre = Centre(found.latitude, found.longitude, found.postcode)
    if not found.lsoa21_code:
        return centre
    try:
        lsoa = geography.lsoa(found.lsoa21_code)
    except GeographyError:
        return centre
    return Centre(
        found.latitude,
        found.longitude,
        found.postcode,
        codes=frozenset(
            (
                lsoa.lsoa21_code,
                lsoa.ward24_code,
                lsoa.ltla24_code,
                lsoa.sicbl24_code,
                lsoa.icb24_code,
                lsoa.region24_code,
            )
        ),
        names=frozenset(
            name.casefold()
            for name in (
                lsoa.ward24_name,
                lsoa.ltla24_name,
                lsoa.sicbl24_name,
                lsoa.icb24_name,
                lsoa.region24_name,
            )
        ),
    )


@functools.cache
def _area_names() -> frozenset[str]:
    """The names of England's wards, local authorities, sub-ICB locations, ICBs, regions."""
    return frozenset(
        area.name.casefold() for level in geography.AreaLevel for area in geography.areas(level)
    )


def _in_ring(ring: list[Any], x: float, y: float) -> bool:
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _polygons(shape: Any) -> Iterator[list[Any]]:
    """Each polygon (outer ring, then holes) of a GeoJSON object."""
    if not isinstance(shape, dict):
        return
    kind = shape.get("type")
    if kind == "Feature":
        yield from _polygons(shape.get("geometry"))
    elif kind in ("FeatureCollection", "GeometryCollection"):
        for part in shape.get("features") or shape.get("geometries") or []:
            yield from _polygons(part)
    elif kind == "Polygon":
        yield shape.get("coordinates") or []
    elif kind == "MultiPolygon":
        yield from shape.get("coordinates") or []


def _in_geojson(extent: str, latitude: float, longitude: float) -> bool | None:
    try:
        polygons = list(_polygons(json.loads(extent)))
        if not polygons:
            return None
        return any(
            _in_ring(outer, longitude, latitude)
            and not any(_in_ring(hole, longitude, latitude) for hole in holes)
            for outer, *holes in polygons
        )
    except (ValueError, TypeError, KeyError):  # not JSON, or not GeoJSON's shape: unknown
        return None


def covers(area: ServiceArea, centre: Centre) -> bool | None:
    """Whether a service area covers the postcode at `centre`; None when it cannot be told.

    A GeoJSON extent is tested against the postcode's point. Otherwise ONS area codes in the
    area's uri, extent or text (E08000035), or its extent or text being the name of a ward,
    local authority, sub-ICB location, ICB or region ("Leeds"), are compared with the areas
    the postcode lies in. Other text, and KML and TopoJSON extents, say nothing either way.
    """
    extent = (area.extent or "").strip()
    if (area.extent_type or "").lower() == "geojson" or extent.startswith("{"):
        return _in_geojson(extent, centre.latitude, centre.longitude)
    if not centre.codes:
        return None
    texts = [
        text.strip() for text in (area.service_area, area.name, extent) if text and text.strip()
    ]
    codes = set(_ONS_CODE.findall(" ".join([area.uri or "", *texts])))
    if codes:
        return bool(codes & centre.codes)
    for text in texts:
        if text.casefold() in _area_names():
            return text.casefold() in centre.names
    return None


# --- The filters ------------------------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def _id_list(values: Sequence[str]) -> tuple[str, ...]:
    """Ids given repeated (?a=1&a=2) or separated by commas (?a=1,2)."""
    return tuple(
        dict.fromkeys(part.strip() for value in values for part in value.split(",") if part.strip())
    )


@dataclass(frozen=True)
class ServiceFilter:
    """The query parameters of /services and /service_at_locations that choose records."""

    text: str | None
    taxonomy_term_ids: tuple[str, ...]
    taxonomy_ids: tuple[str, ...]
    organization_id: str | None
    status: ServiceStatus | None
    modified_after: datetime | None
    minimum_age: float | None
    maximum_age: float | None
    centre: Centre | None
    proximity: float | None
    opening: OpeningFilter | None

    def selection(self) -> Select[Any]:
        """The ids of the services passing the filters the database applies."""
        statement = select(Service.id).join(Service.organization)
        if self.text:
            needle = f"%{self.text.strip().lower()}%"
            statement = statement.where(
                or_(
                    func.lower(Service.name).like(needle),
                    func.lower(Service.description).like(needle),
                    func.lower(Organization.name).like(needle),
                )
            )
        if self.taxonomy_term_ids:
            statement = statement.where(
                Service.id.in_(
                    select(Attribute.link_id).where(
                        Attribute.link_entity == "service",
                        Attribute.taxonomy_term_id.in_(self.taxonomy_term_ids),
                    )
                )
            )
        if self.taxonomy_ids:
            statement = statement.where(
                Service.id.in_(
                    select(Attribute.link_id)
                    .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                    .where(
                        Attribute.link_entity == "service",
                        TaxonomyTerm.taxonomy_id.in_(self.taxonomy_ids),
                    )
                )
            )
        if self.organization_id:
            statement = statement.where(Service.organization_id == self.organization_id)
        if self.status is not None:
            statement = statement.where(Service.status == self.status)
        if self.modified_after is not None:
            statement = statement.where(Service.last_modified >= self.modified_after)
        if self.minimum_age is not None:
            statement = statement.where(Service.minimum_age >= self.minimum_age)
        if self.maximum_age is not None:
            statement = statement.where(Service.maximum_age <= self.maximum_age)
        return statement

    def _services(self, session: Session) -> list[str]:
        """Matching services by name; with a postcode, only those whose service areas cover
        it, or say nothing about it (ORUK: "if service_area is available")."""
        ids = list(session.scalars(self.selection().order_by(Service.name, Service.id)))
        centre = self.centre
        if centre is None or centre.postcode is None:
            return ids
        covered: dict[str, bool] = {}
        areas = select(ServiceArea).where(ServiceArea.service_id.in_(self.selection()))
        for area in session.scalars(areas):
            verdict = covers(area, centre)
            if verdict is not None:
                covered[area.service_id] = covered.get(area.service_id, False) or verdict
        return [sid for sid in ids if covered.get(sid, True)]

    def _places(self, session: Session) -> list[tuple[str, str, float | None, float | None]]:
        """(service at location id, service id, latitude, longitude) of matching services."""
        statement = (
            select(
                ServiceAtLocation.id,
                ServiceAtLocation.service_id,
                Location.latitude,
                Location.longitude,
            )
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .where(ServiceAtLocation.service_id.in_(self.selection()))
        )
        return list(session.execute(statement))

    def _metres(self, latitude: float | None, longitude: float | None) -> float:
        if self.centre is None or latitude is None or longitude is None:
            return math.inf
        return distance_m(self.centre.latitude, self.centre.longitude, latitude, longitude)

    def service_ids(self, session: Session) -> list[str]:
        """Matching services: by name, or nearest first from a centre (its nearest location),
        within `proximity` metres if given."""
        ids = self._services(session)
        if self.opening is not None:
            open_services = {sid for sid, _ in self.opening.open_places(session, self.selection())}
            ids = [sid for sid in ids if sid in open_services]
        if self.centre is None:
            return ids
        nearest: dict[str, float] = defaultdict(lambda: math.inf)
        for _, service_id, latitude, longitude in self._places(session):
            nearest[service_id] = min(nearest[service_id], self._metres(latitude, longitude))
        order = {sid: position for position, sid in enumerate(ids)}
        kept = [sid for sid in ids if self.proximity is None or nearest[sid] <= self.proximity]
        return sorted(kept, key=lambda sid: (nearest[sid], order[sid]))

    def service_at_location_ids(self, session: Session) -> list[str]:
        """The services at locations of matching services, each judged at its own location:
        open there (by the service's schedule or that location's), within `proximity` of a
        centre (nearest first); else in the services' order."""
        rank = {sid: position for position, sid in enumerate(self._services(session))}
        opened = (
            self.opening.open_places(session, self.selection())
            if self.opening is not None
            else None
        )
        ranked: list[tuple[float, int, str]] = []
        for sal_id, service_id, latitude, longitude in self._places(session):
            if service_id not in rank:
                continue
            if opened is not None and not {(service_id, None), (service_id, sal_id)} & opened:
                continue
            metres = self._metres(latitude, longitude)
            if self.proximity is not None and metres > self.proximity:
                continue
            ranked.append((metres, rank[service_id], sal_id))
        return [sal_id for *_, sal_id in sorted(ranked)]


def service_filter(
    session: Session = Depends(get_session, scope="function"),
    text: str | None = Query(None, description="Free text in the name or description"),
    search: str | None = Query(None, description="The same as text (ORUK's name)"),
    taxonomy_term_id: list[str] = Query(
        [], description="Services with this term; several, comma-separated or repeated: any"
    ),
    taxonomy_id: list[str] = Query(
        [], description="Services with any term of this taxonomy; several: any of them"
    ),
    organization_id: str | None = None,
    status: ServiceStatus | None = None,
    modified_after: datetime | None = Query(None, description="ISO 8601 date and time"),
    minimum_age: float | None = None,
    maximum_age: float | None = None,
    postcode: str | None = Query(
        None, description="Services whose service areas cover it; the centre of a proximity"
    ),
    lat: float | None = Query(None, ge=-90, le=90, description="Latitude of the centre"),
    long: float | None = Query(None, ge=-180, le=180, description="Longitude of the centre"),
    proximity: float | None = Query(None, gt=0, description="Metres from the centre"),
    day: Annotated[
        Day | None,
        BeforeValidator(_upper),
        Query(description="Open on this day: MO, TU, WE, TH, FR, SA or SU"),
    ] = None,
    start_time: Annotated[
        time | None,
        BeforeValidator(_time_of_day),
        Query(description="Opening at or after this time, HH:MM"),
    ] = None,
    end_time: Annotated[
        time | None,
        BeforeValidator(_time_of_day),
        Query(description="Closing at or before this time, HH:MM"),
    ] = None,
) -> ServiceFilter:
    if start_time is not None and end_time is not None and end_time < start_time:
        raise _bad_parameter(
            "end_time",
            end_time.isoformat("minutes"),
            f"expected end_time at or after start_time ({start_time.isoformat('minutes')})",
        )
    centre: Centre | None = None
    if postcode:
        centre = _postcode_centre(session, postcode)
    elif lat is not None and long is not None:
        centre = Centre(lat, long)
    elif lat is not None or long is not None:
        raise HTTPException(status_code=400, detail="give both lat and long")
    if proximity is not None and centre is None:
        raise HTTPException(
            status_code=400, detail="proximity needs a postcode, or lat and long, to measure from"
        )
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=UTC)
    opening = (
        OpeningFilter(day, start_time, end_time)
        if day is not None or start_time is not None or end_time is not None
        else None
    )
    return ServiceFilter(
        text=text or search,
        taxonomy_term_ids=_id_list(taxonomy_term_id),
        taxonomy_ids=_id_list(taxonomy_id),
        organization_id=organization_id,
        status=status,
        modified_after=modified_after,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        centre=centre,
        proximity=proximity,
        opening=opening,
    )


# --- Endpoints --------------------------------------------------------------------------


@router.get("/")
def api_information(request: Request, principal: Principal | None = allow_public()) -> JsonObject:
    """Information about this API and its relationship with HSDS."""
    return {
        "version": oruk.HSDS_VERSION,
        "profile": oruk.PROFILE_URL,
        "openapi_url": str(request.url_for("oruk_openapi")),
    }


@router.get("/openapi.json", name="oruk_openapi")
def openapi_description(principal: Principal | None = allow_public()) -> JsonObject:
    """The ORUK OpenAPI description this API follows."""
    return oruk.schema("openapi")


@router.get("/services", response_model=None)
def list_services(
    minimal: bool = Query(False, description="Each service's id and last_modified only"),
    full: bool = Query(False, description="Fully nested services, as /services/{id} gives"),
    answer: Listing = Depends(listing),
    filters: ServiceFilter = Depends(service_filter),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
    database: Database = Depends(get_database),
) -> JsonObject | StreamingResponse:
    """Services, each with its own fields and its organization; `minimal`: just id and
    last_modified, all in one page unless per_page is asked; `full`: everything nested."""
    if minimal and full:
        raise _bad_parameter("full", full, "expected minimal or full, not both")
    render = _minimal_services if minimal else FULL_SERVICES if full else SERVICES
    return answer.respond(session, database, filters.service_ids(session), render, whole=minimal)


@router.get("/services/{service_id}")
def get_service(
    service_id: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A service with everything about it nested."""
    service = oruk.load_service(session, service_id)
    if service is None:
        raise HTTPException(status_code=404, detail=f"no service with id {service_id}")
    return oruk.service_to_oruk(service)


@router.get("/service_at_locations", response_model=None)
def list_service_at_locations(
    full: bool = Query(False, description="Fully nested, as /service_at_locations/{id} gives"),
    answer: Listing = Depends(listing),
    filters: ServiceFilter = Depends(service_filter),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
    database: Database = Depends(get_database),
) -> JsonObject | StreamingResponse:
    """Services at locations of the services the filters select, each with the location's
    and the service's own fields; `full`: everything nested."""
    render = FULL_SERVICE_AT_LOCATIONS if full else SERVICE_AT_LOCATIONS
    return answer.respond(session, database, filters.service_at_location_ids(session), render)


@router.get("/service_at_locations/{service_at_location_id}")
def get_service_at_location(
    service_at_location_id: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A service at a location: the location and the service, nested."""
    row = session.get(ServiceAtLocation, service_at_location_id)
    if row is None:
        raise HTTPException(
            status_code=404, detail=f"no service at location with id {service_at_location_id}"
        )
    return oruk.service_at_location_to_oruk(row)


@router.get("/taxonomies", response_model=None)
def list_taxonomies(
    answer: Listing = Depends(listing),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
    database: Database = Depends(get_database),
) -> JsonObject | StreamingResponse:
    """The taxonomies whose terms describe services."""
    ids = list(session.scalars(select(Taxonomy.id).order_by(Taxonomy.id)))
    return answer.respond(session, database, ids, TAXONOMIES)


@router.get("/taxonomies/{taxonomy_id}")
def get_taxonomy(
    taxonomy_id: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    taxonomy = session.get(Taxonomy, taxonomy_id)
    if taxonomy is None:
        raise HTTPException(status_code=404, detail=f"no taxonomy with id {taxonomy_id}")
    return oruk.taxonomy_to_oruk(taxonomy)


@router.get("/taxonomy_terms", response_model=None)
def list_taxonomy_terms(
    taxonomy_id: str | None = None,
    parent_id: str | None = None,
    answer: Listing = Depends(listing),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
    database: Database = Depends(get_database),
) -> JsonObject | StreamingResponse:
    """Taxonomy terms, of one taxonomy or under one parent if asked."""
    statement = select(TaxonomyTerm.id).order_by(TaxonomyTerm.id)
    if taxonomy_id:
        statement = statement.where(TaxonomyTerm.taxonomy_id == taxonomy_id)
    if parent_id:
        statement = statement.where(TaxonomyTerm.parent_id == parent_id)
    return answer.respond(session, database, list(session.scalars(statement)), TAXONOMY_TERMS)


@router.get("/taxonomy_terms/{term_id}")
def get_taxonomy_term(
    term_id: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        raise HTTPException(status_code=404, detail=f"no taxonomy term with id {term_id}")
    return oruk.taxonomy_term_to_oruk(term)
