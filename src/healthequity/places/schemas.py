"""Shapes of the places API."""

from __future__ import annotations

from pydantic import BaseModel

from healthequity.geography import Area, AreaLevel


class AreaSummary(BaseModel):
    """An area in search results: without its (possibly thousands of) LSOA codes."""

    level: AreaLevel
    code: str
    name: str
    nhs_code: str | None
    lsoa_count: int
    usual_residents_2021: int

    @classmethod
    def of(cls, area: Area) -> AreaSummary:
        return cls(
            level=area.level,
            code=area.code,
            name=area.name,
            nhs_code=area.nhs_code,
            lsoa_count=len(area.lsoa21_codes),
            usual_residents_2021=area.usual_residents_2021,
        )
