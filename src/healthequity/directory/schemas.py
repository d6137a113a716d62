"""Shapes of the directory search API (`/api/directory/search`)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class NeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label: str


class SearchResultOut(BaseModel):
    """One service found: what it is, who runs it, how far, how to refer, when open."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    organisation_id: str
    organisation_name: str
    status: str
    matched_needs: list[NeedOut]
    needs: list[NeedOut]
    distance_miles: float | None
    nearest_location: str | None
    how_to_refer: str
    referral_method: str | None
    accepting_referrals: bool
    accepting_referrals_note: str | None
    opening_times: str | None
    open_now: bool | None
    last_reviewed: date | None
    days_since_review: int | None
    checked: str
    stale: bool
    minimum_age: float | None
    maximum_age: float | None
    phones: list[str]


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
    results: list[SearchResultOut]
