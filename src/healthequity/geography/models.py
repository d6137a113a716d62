"""The records the geography package returns: LSOAs and the areas built from them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Deprivation:
    """One LSOA's place on one index of deprivation, among England's 33,755 LSOAs."""

    decile: int  # 1 = the most deprived 10%
    rank: int  # 1 = the most deprived
    score: float


@dataclass(frozen=True, slots=True)
class IndicesOfDeprivation:
    """English Indices of Deprivation 2025: the IMD and its seven domains."""

    imd: Deprivation
    income: Deprivation
    employment: Deprivation
    education: Deprivation
    health: Deprivation
    crime: Deprivation
    housing_and_services: Deprivation
    environment: Deprivation


IOD2025_INDICES: tuple[str, ...] = tuple(field.name for field in fields(IndicesOfDeprivation))
"""The indices of `IndicesOfDeprivation`, the IMD first, then the domains."""


@dataclass(frozen=True, slots=True)
class InteriorPoint:
    """A point inside an LSOA, in WGS84 and on the British National Grid."""

    latitude: float
    longitude: float
    easting: int
    northing: int


@dataclass(frozen=True, slots=True)
class Lsoa:
    """A 2021 Lower layer Super Output Area in England, with the areas it lies in."""

    lsoa21_code: str
    lsoa21_name: str
    ward24_code: str
    ward24_name: str
    ltla24_code: str
    ltla24_name: str
    sicbl24_code: str
    sicbl24_code_nhs: str
    sicbl24_name: str
    icb24_code: str
    icb24_code_nhs: str
    icb24_name: str
    region24_code: str
    region24_name: str
    ruc21_code: str  # 2021 rural-urban classification, e.g. "UN1"
    ruc21_name: str  # e.g. "Urban: Nearer to a major town or city"
    ruc21_urban_rural: str  # "Urban" or "Rural"
    usual_residents_2021: int
    households_2021: int
    # Census 2021 households deprived in 0, 1, 2, 3 and 4 of the dimensions employment,
    # education, health and disability, and housing: index n counts those deprived in n.
    households_by_deprivation_dimensions: tuple[int, int, int, int, int]
    iod2025: IndicesOfDeprivation
    interior_point: InteriorPoint


class AreaLevel(StrEnum):
    """The kinds of area that LSOAs nest in."""

    WARD = "ward"
    LTLA = "ltla"  # lower-tier local authority
    SUB_ICB = "sub_icb"  # sub-ICB location
    ICB = "icb"  # integrated care board
    REGION = "region"


@dataclass(frozen=True, slots=True)
class Area:
    """A ward, local authority, sub-ICB location, ICB or region of England (2024 boundaries).

    Parent codes are set where the area lies wholly within one: wards in an LTLA and a
    region, LTLAs in a region, sub-ICB locations in an ICB (ICBs can straddle regions).
    """

    level: AreaLevel
    code: str  # the ONS code
    name: str
    nhs_code: str | None  # sub-ICB locations and ICBs only
    ltla24_code: str | None
    icb24_code: str | None
    region24_code: str | None
    lsoa21_codes: tuple[str, ...]
    usual_residents_2021: int
    households_2021: int
