"""Pages to look up England's areas: LSOAs, wards, local authorities, ICBs, regions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from healthequity import geography
from healthequity.auth.dependencies import ALL_ROLES, allow_public
from healthequity.auth.schemas import Principal
from healthequity.geography import AreaLevel, GeographyError
from healthequity.places import service
from healthequity.places.router import AREA_LOOKUPS
from healthequity.web.errors import error_response
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

NAVIGATION = [NavItem("Areas", "/areas", ALL_ROLES)]
HOME_SECTIONS = [
    HomeSection(
        "Look up an area",
        "Find a neighbourhood (LSOA), ward, local authority, ICB or region and see where it "
        "sits on England's deprivation gradient (IMD 2025) and who lives there (Census 2021).",
        "/areas",
        ALL_ROLES,
    )
]

LEVEL_NAMES = {
    AreaLevel.WARD: "Ward",
    AreaLevel.LTLA: "Local authority",
    AreaLevel.SUB_ICB: "Sub-ICB location",
    AreaLevel.ICB: "Integrated care board",
    AreaLevel.REGION: "Region",
}
DOMAIN_NAMES = {
    "imd": "Index of Multiple Deprivation",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health deprivation and disability",
    "crime": "Crime",
    "housing_and_services": "Barriers to housing and services",
    "environment": "Living environment",
}


@router.get("/areas", response_class=HTMLResponse)
def search_page(
    request: Request, q: str = "", principal: Principal | None = allow_public()
) -> Response:
    query = q.strip()
    results = geography.search_areas(query, limit=50) if len(query) >= 2 else []
    lsoa_match = None
    if geography.is_lsoa21_code(query.upper()):
        try:
            lsoa_match = geography.lsoa(query)
        except GeographyError:
            lsoa_match = None
    return render(
        request,
        "places/search.html",
        {
            "title": "Look up an area",
            "q": query,
            "results": results,
            "lsoa_match": lsoa_match,
            "level_names": LEVEL_NAMES,
            "too_short": 0 < len(query) < 2,
        },
    )


@router.get("/areas/lsoa/{lsoa21_code}", response_class=HTMLResponse)
def lsoa_page(
    request: Request, lsoa21_code: str, principal: Principal | None = allow_public()
) -> Response:
    try:
        record = geography.lsoa(lsoa21_code)
    except GeographyError as error:
        return error_response(request, 404, str(error))
    return render(
        request,
        "places/lsoa.html",
        {"title": record.lsoa21_name, "lsoa": record, "domain_names": DOMAIN_NAMES},
    )


@router.get("/areas/{level}/{code}", response_class=HTMLResponse)
def area_page(
    request: Request, level: AreaLevel, code: str, principal: Principal | None = allow_public()
) -> Response:
    try:
        area = AREA_LOOKUPS[level](code)
    except GeographyError as error:
        return error_response(request, 404, str(error))
    lsoas = [geography.lsoa(code) for code in area.lsoa21_codes[:LSOA_LIST_LIMIT]]
    return render(
        request,
        "places/area.html",
        {
            "title": area.name,
            "area": area,
            "level_name": LEVEL_NAMES[area.level],
            "profile": service.imd_decile_profile(area),
            "lsoas": sorted(lsoas, key=lambda record: record.lsoa21_name),
            "lsoa_list_limit": LSOA_LIST_LIMIT,
        },
    )


# Regions hold thousands of LSOAs: list only so many on one page.
LSOA_LIST_LIMIT = 500
