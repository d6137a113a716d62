"""JSON API over the reference geography and the postcode directory (open data)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from healthequity import geography
from healthequity.auth.dependencies import allow_public
from healthequity.auth.schemas import Principal
from healthequity.geography import Area, AreaLevel, GeographyError, Lsoa, PostcodeRecord
from healthequity.places import service
from healthequity.places.schemas import AreaSummary
from healthequity.web.dependencies import get_session

router = APIRouter(prefix="/api", tags=["geography"])

AREA_LOOKUPS = {
    AreaLevel.WARD: geography.ward,
    AreaLevel.LTLA: geography.ltla,
    AreaLevel.SUB_ICB: geography.sub_icb,
    AreaLevel.ICB: geography.icb,
    AreaLevel.REGION: geography.region,
}


def not_found(error: GeographyError) -> HTTPException:
    status = 422 if isinstance(error, ValueError) else 404
    return HTTPException(status_code=status, detail=str(error))


@router.get("/areas/lsoa/{lsoa21_code}")
def get_lsoa(lsoa21_code: str, principal: Principal | None = allow_public()) -> Lsoa:
    """One LSOA 2021: the areas it lies in, IMD 2025, Census 2021 population, location."""
    try:
        return geography.lsoa(lsoa21_code)
    except GeographyError as error:
        raise not_found(error) from None


@router.get("/areas/{level}/{code}")
def get_area(level: AreaLevel, code: str, principal: Principal | None = allow_public()) -> Area:
    """A ward, local authority, sub-ICB location, ICB or region, with its LSOAs."""
    try:
        return AREA_LOOKUPS[level](code)
    except GeographyError as error:
        raise not_found(error) from None


@router.get("/areas")
def search_areas(
    q: str = Query(min_length=2, description="Part of an area's name, or its code"),
    level: AreaLevel | None = None,
    limit: int = Query(20, ge=1, le=200),
    principal: Principal | None = allow_public(),
) -> list[AreaSummary]:
    """Areas whose name contains the text (case-insensitive), best matches first."""
    return [AreaSummary.of(area) for area in geography.search_areas(q, level, limit)]


@router.get("/postcodes/{postcode}")
def get_postcode(
    postcode: str,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> PostcodeRecord:
    """A postcode's LSOA and location, from the loaded ONS postcode directory."""
    try:
        return service.find_postcode(session, postcode)
    except GeographyError as error:
        raise not_found(error) from None
