"""JSON API to search the directory, for any signed-in user (`/api/directory/search`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from healthequity.auth.dependencies import allow_signed_in
from healthequity.auth.schemas import Principal
from healthequity.directory import origins, search
from healthequity.directory.schemas import OriginOut, SearchResponse
from healthequity.needs import NEEDS_BY_CODE
from healthequity.web.dependencies import get_session

router = APIRouter(prefix="/api/directory", tags=["directory"])


@router.get("/search")
def search_directory(
    request: Request,
    need: Annotated[list[str], Query(description="A need code; repeat for several")] = [],  # noqa: B006
    place: Annotated[
        str | None,
        Query(
            max_length=100,
            description="What a search page's 'where' box takes: a postcode, a postcode "
            "district (LS9), an LSOA code, or a ward's or local authority's code or name "
            "(Armley, Leeds). Instead of postcode, lsoa, lat and lon.",
        ),
    ] = None,
    postcode: str | None = None,
    lsoa: Annotated[str | None, Query(description="A 2021 LSOA code, e.g. E01000001")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    within: Annotated[float | None, Query(gt=0, le=200, description="Miles")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Free text")] = None,
    age: Annotated[int | None, Query(ge=0, le=130)] = None,
    open_now: bool = False,
    accepting: Annotated[bool | None, Query(description="Accepting referrals")] = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT)] = 50,
    principal: Principal = allow_signed_in(),
    session: Session = Depends(get_session, scope="function"),
) -> SearchResponse:
    """Services by need, distance from a place, postcode, LSOA or point, free text, age,
    opening and referrals; ranked by needs matched, then distance, then how recently checked.

    A place that could be several (a ward name found in two authorities) is an error (422)
    listing them, each with the code to send as `place` to mean it."""
    unknown = [code for code in need if code not in NEEDS_BY_CODE]
    if unknown:
        raise HTTPException(
            422, f"unknown need {unknown[0]!r}: expected one of {', '.join(NEEDS_BY_CODE)}"
        )
    if place is not None and (postcode or lsoa or lat is not None or lon is not None):
        raise HTTPException(422, "give place, or postcode, lsoa or lat and lon: not both")
    stale_days = request.app.state.settings.directory_stale_days
    try:
        if place is not None:
            found = origins.resolve_place(session, place)
        else:
            point = search.resolve_origin(
                session, postcode=postcode, lsoa=lsoa, latitude=lat, longitude=lon
            )
            found = origins.Place(point) if point else None
        origin = found.origin if found else None
        results = search.search_services(
            session,
            needs=need,
            near=(origin.latitude, origin.longitude) if origin else None,
            within_miles=within,
            text=q,
            age=age,
            open_now=open_now,
            accepting_referrals=accepting,
            stale_after_days=stale_days,
            limit=limit,
        )
    except origins.PlaceNotClear as unclear:
        choices = "; ".join(f"{choice.label}: place={choice.code}" for choice in unclear.choices)
        raise HTTPException(422, f"{unclear} {choices}") from None
    except search.OriginError as error:
        raise HTTPException(422, str(error)) from None
    return SearchResponse(
        origin=OriginOut.model_validate(origin) if origin else None,
        other_places=list(found.others) if found else [],
        within_miles=within,
        stale_after_days=stale_days,
        count=len(results),
        results=results,
    )
