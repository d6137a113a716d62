"""Look up England's 2021 LSOAs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from healthequity.geography._storage import LsoaTable, lsoa_table
from healthequity.geography.exceptions import InvalidAreaCode, UnknownArea
from healthequity.geography.models import (
    IOD2025_INDICES,
    Deprivation,
    IndicesOfDeprivation,
    InteriorPoint,
    Lsoa,
)

_LSOA21_CODE = re.compile(r"[EW]01[0-9]{6}")
_IOD2025_COLUMNS = tuple(
    (f"{index}_decile", f"{index}_rank", f"{index}_score") for index in IOD2025_INDICES
)


def is_lsoa21_code(value: str) -> bool:
    """Whether `value` is formed as a 2021 LSOA code: E01 or W01 and six digits."""
    return _LSOA21_CODE.fullmatch(value) is not None


def lsoa(code: str) -> Lsoa:
    """The LSOA with this 2021 code, which may have stray spaces or lower-case letters.

    Raises InvalidAreaCode for a value not formed as an LSOA code, and UnknownArea for
    one that is not an LSOA in England.
    """
    normalised = code.strip().upper()
    if not is_lsoa21_code(normalised):
        raise InvalidAreaCode(code, "an LSOA 2021 code: E01 or W01 and six digits")
    table = lsoa_table()
    row = table.row_of.get(normalised)
    if row is None:
        raise UnknownArea(code, "LSOA")
    return _lsoa_at(table, row)


def lsoas() -> Iterator[Lsoa]:
    """Every LSOA in England, in code order."""
    table = lsoa_table()
    return (_lsoa_at(table, row) for row in range(len(table)))


def _lsoa_at(table: LsoaTable, row: int) -> Lsoa:
    text = table.texts(row)
    integer = table.integers(row)
    real = table.reals(row)
    return Lsoa(
        lsoa21_code=table.codes[row],
        lsoa21_name=table.names[row],
        ward24_code=text["ward24_code"],
        ward24_name=text["ward24_name"],
        ltla24_code=text["ltla24_code"],
        ltla24_name=text["ltla24_name"],
        sicbl24_code=text["sicbl24_code"],
        sicbl24_code_nhs=text["sicbl24_code_nhs"],
        sicbl24_name=text["sicbl24_name"],
        icb24_code=text["icb24_code"],
        icb24_code_nhs=text["icb24_code_nhs"],
        icb24_name=text["icb24_name"],
        region24_code=text["region24_code"],
        region24_name=text["region24_name"],
        ruc21_code=text["ruc21_code"],
        ruc21_name=text["ruc21_name"],
        ruc21_urban_rural=text["ruc"],
        usual_residents_2021=integer["usual_residents_2021"],
        households_2021=integer["households_2021"],
        households_by_deprivation_dimensions=(
            integer["hh_deprived_0_dimensions"],
            integer["hh_deprived_1_dimension"],
            integer["hh_deprived_2_dimensions"],
            integer["hh_deprived_3_dimensions"],
            integer["hh_deprived_4_dimensions"],
        ),
        iod2025=IndicesOfDeprivation(
            *(
                Deprivation(integer[decile], integer[rank], real[score])
                for decile, rank, score in _IOD2025_COLUMNS
            )
        ),
        interior_point=InteriorPoint(
            latitude=real["latitude"],
            longitude=real["longitude"],
            easting=integer["easting"],
            northing=integer["northing"],
        ),
    )
