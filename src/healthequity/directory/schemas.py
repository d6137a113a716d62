"""Shapes of the directory search API (`/api/directory/search`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from healthequity.directory.search import SearchResult


class OriginOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    latitude: float
    longitude: float
    label: str


class SearchResponse(BaseModel):
    origin: OriginOut | None
    within_miles: float | None
    stale_after_days: int
    count: int
    # The search's own records: one service found, what it is, who runs it, how far, how
    # to refer, when open.
    results: list[SearchResult]
