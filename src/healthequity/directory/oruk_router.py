"""The directory published as an Open Referral UK v3 API under /oruk/ (open data).

Endpoints and parameters follow the ORUK OpenAPI (`schemas/openapi.json`): `/`,
`/services`, `/services/{id}`, `/taxonomies`, `/taxonomies/{id}`, `/taxonomy_terms`,
`/taxonomy_terms/{id}`, `/service_at_locations`, `/service_at_locations/{id}`. Lists are
pages (total_items, total_pages, page_number, size, first_page, last_page, empty, contents).
Every service is published whatever its status; `status` filters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from healthequity.auth.dependencies import allow_public
from healthequity.auth.schemas import Principal
from healthequity.directory import oruk
from healthequity.directory.models import (
    Attribute,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.geography import GeographyError
from healthequity.web.dependencies import get_session

router = APIRouter(prefix="/oruk", tags=["oruk"])

EARTH_RADIUS_M = 6_371_000.0
MAX_PER_PAGE = 1000
JsonObject = dict[str, Any]


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


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True)
class ServiceFilter:
    """The query parameters of /services and /service_at_locations."""

    text: str | None
    taxonomy_term_id: str | None
    taxonomy_id: str | None
    organization_id: str | None
    status: ServiceStatus | None
    modified_after: datetime | None
    minimum_age: float | None
    maximum_age: float | None
    point: tuple[float, float] | None
    proximity: float | None

    def statement(self) -> Select[Any]:
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
        if self.taxonomy_term_id:
            statement = statement.where(
                Service.id.in_(
                    select(Attribute.link_id).where(
                        Attribute.link_entity == "service",
                        Attribute.taxonomy_term_id == self.taxonomy_term_id,
                    )
                )
            )
        if self.taxonomy_id:
            statement = statement.where(
                Service.id.in_(
                    select(Attribute.link_id)
                    .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                    .where(
                        Attribute.link_entity == "service",
                        TaxonomyTerm.taxonomy_id == self.taxonomy_id,
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
        return statement.order_by(Service.name, Service.id)

    def service_ids(self, session: Session) -> list[str]:
        ids: list[str] = list(session.scalars(self.statement()))
        if self.point is None:
            return ids
        # Nearest first; with a proximity, only those within it (metres, as in ORUK).
        lat, lon = self.point
        rows = session.execute(
            select(ServiceAtLocation.service_id, Location.latitude, Location.longitude)
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .where(Location.latitude.is_not(None), Location.longitude.is_not(None))
        )
        nearest: dict[str, float] = {}
        for service_id, latitude, longitude in rows:
            metres = distance_m(lat, lon, latitude or 0.0, longitude or 0.0)
            if metres < nearest.get(service_id, math.inf):
                nearest[service_id] = metres
        order = {service_id: position for position, service_id in enumerate(ids)}
        kept = [
            service_id
            for service_id in ids
            if self.proximity is None or nearest.get(service_id, math.inf) <= self.proximity
        ]
        return sorted(kept, key=lambda sid: (nearest.get(sid, math.inf), order[sid]))


def service_filter(
    session: Session = Depends(get_session, scope="function"),
    text: str | None = Query(None, description="Free text in the name or description"),
    search: str | None = Query(None, description="The same as text (ORUK's name)"),
    taxonomy_term_id: str | None = None,
    taxonomy_id: str | None = None,
    organization_id: str | None = None,
    status: ServiceStatus | None = None,
    modified_after: datetime | None = Query(None, description="ISO 8601 date and time"),
    minimum_age: float | None = None,
    maximum_age: float | None = None,
    postcode: str | None = Query(None, description="The centre of a proximity search"),
    lat: float | None = Query(None, ge=-90, le=90, description="Latitude of the centre"),
    long: float | None = Query(None, ge=-180, le=180, description="Longitude of the centre"),
    proximity: float | None = Query(None, gt=0, description="Metres from the centre"),
) -> ServiceFilter:
    point: tuple[float, float] | None = None
    if postcode:
        from healthequity.places.service import find_postcode

        try:
            found = find_postcode(session, postcode)
        except GeographyError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
        if found.latitude is None or found.longitude is None:
            raise HTTPException(status_code=400, detail=f"{postcode} has no location")
        point = (found.latitude, found.longitude)
    elif lat is not None and long is not None:
        point = (lat, long)
    elif lat is not None or long is not None:
        raise HTTPException(status_code=400, detail="give both lat and long")
    if proximity is not None and point is None:
        raise HTTPException(
            status_code=400, detail="proximity needs a postcode, or lat and long, to measure from"
        )
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=UTC)
    return ServiceFilter(
        text=text or search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        status=status,
        modified_after=modified_after,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        point=point,
        proximity=proximity,
    )


def _slice(ids: Sequence[str], page: int, per_page: int) -> Sequence[str]:
    return ids[(page - 1) * per_page : page * per_page]


def _services(session: Session, ids: Sequence[str], *, full: bool) -> list[Service]:
    statement = select(Service).where(Service.id.in_(ids))
    if full:
        statement = statement.options(*oruk.SERVICE_LOAD_OPTIONS)
    found = {service.id: service for service in session.scalars(statement).unique()}
    return [found[service_id] for service_id in ids]


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


@router.get("/services")
def list_services(
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PER_PAGE),
    filters: ServiceFilter = Depends(service_filter),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A page of services, each with its own fields and its organization."""
    ids = filters.service_ids(session)
    services = _services(session, _slice(ids, page, per_page), full=False)
    return _page([oruk.service_list_item(s) for s in services], len(ids), page, per_page)


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


@router.get("/service_at_locations")
def list_service_at_locations(
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PER_PAGE),
    filters: ServiceFilter = Depends(service_filter),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A page of services at locations, of the services the filters select."""
    service_ids = filters.service_ids(session)
    rank = {service_id: position for position, service_id in enumerate(service_ids)}
    rows = session.execute(
        select(ServiceAtLocation.id, ServiceAtLocation.service_id).where(
            ServiceAtLocation.service_id.in_(service_ids)
        )
    ).all()
    ids = [row.id for row in sorted(rows, key=lambda row: (rank[row.service_id], row.id))]
    chosen = _slice(ids, page, per_page)
    found = {
        row.id: row
        for row in session.scalars(
            select(ServiceAtLocation).where(ServiceAtLocation.id.in_(chosen))
        ).unique()
    }
    contents = [oruk.service_at_location_to_oruk(found[sal_id]) for sal_id in chosen]
    return _page(contents, len(ids), page, per_page)


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


@router.get("/taxonomies")
def list_taxonomies(
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PER_PAGE),
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A page of the taxonomies whose terms describe services."""
    total = session.scalar(select(func.count()).select_from(Taxonomy)) or 0
    rows = session.scalars(
        select(Taxonomy).order_by(Taxonomy.id).offset((page - 1) * per_page).limit(per_page)
    )
    return _page([oruk.taxonomy_to_oruk(row) for row in rows], total, page, per_page)


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


@router.get("/taxonomy_terms")
def list_taxonomy_terms(
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PER_PAGE),
    taxonomy_id: str | None = None,
    parent_id: str | None = None,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> JsonObject:
    """A page of taxonomy terms, of one taxonomy or under one parent if asked."""
    statement = select(TaxonomyTerm)
    if taxonomy_id:
        statement = statement.where(TaxonomyTerm.taxonomy_id == taxonomy_id)
    if parent_id:
        statement = statement.where(TaxonomyTerm.parent_id == parent_id)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(TaxonomyTerm.id).offset((page - 1) * per_page).limit(per_page)
    ).unique()
    return _page([oruk.taxonomy_term_to_oruk(row) for row in rows], total, page, per_page)


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
