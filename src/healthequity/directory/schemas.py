"""Shapes of the directory search API (`/api/directory/search`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from healthequity.directory.origins import PlaceChoice
from healthequity.directory.search import SearchResult


class OriginOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    latitude: float
    longitude: float
    label: str


class SearchResponse(BaseModel):
    origin: OriginOut | None
    # Other places the `place` sent could mean, each with the code to send to mean it.
    other_places: list[PlaceChoice]
    within_miles: float | None
    stale_after_days: int
    count: int
    # The search's own records: one service found, what it is, who runs it, how far, how
    # to refer, when open.
    results: list[SearchResult]
