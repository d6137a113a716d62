"""England's reference geography: 2021 LSOAs, the areas they make up, and postcodes.

Data for the 33,755 LSOAs ship in the package (see data/ATTRIBUTION.md) and load on first
use. This package is pure: it uses no database or web framework.
"""

from healthequity.geography.areas import (
    areas,
    icb,
    ltla,
    region,
    search_areas,
    sub_icb,
    ward,
)
from healthequity.geography.exceptions import (
    GeographyError,
    InvalidAreaCode,
    InvalidPostcode,
    PostcodeFileError,
    UnknownArea,
    UnknownPostcode,
)
from healthequity.geography.lsoas import is_lsoa21_code, lsoa, lsoas
from healthequity.geography.models import (
    IOD2025_INDICES,
    Area,
    AreaLevel,
    Deprivation,
    IndicesOfDeprivation,
    InteriorPoint,
    Lsoa,
)
from healthequity.geography.postcodes import (
    POSTCODE_DIRECTORY_COLUMNS,
    PostcodeDirectoryReader,
    PostcodeRecord,
    normalise_postcode,
    postcode_to_lsoa,
    read_postcode_directory,
)

__all__ = [
    "IOD2025_INDICES",
    "POSTCODE_DIRECTORY_COLUMNS",
    "Area",
    "AreaLevel",
    "Deprivation",
    "GeographyError",
    "IndicesOfDeprivation",
    "InteriorPoint",
    "InvalidAreaCode",
    "InvalidPostcode",
    "Lsoa",
    "PostcodeDirectoryReader",
    "PostcodeFileError",
    "PostcodeRecord",
    "UnknownArea",
    "UnknownPostcode",
    "areas",
    "icb",
    "is_lsoa21_code",
    "lsoa",
    "lsoas",
    "ltla",
    "normalise_postcode",
    "postcode_to_lsoa",
    "read_postcode_directory",
    "region",
    "search_areas",
    "sub_icb",
    "ward",
]
