"""The shared reference data the package is built from, read here independently of it."""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

import pytest

from healthequity.geography import (
    Deprivation,
    IndicesOfDeprivation,
    InteriorPoint,
    Lsoa,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_FILES = (
    "lsoa21_areas.csv",
    "imd2025_lsoa21.csv",
    "census2021_household_deprivation_lsoa21.csv",
)

# Source column prefixes of the IMD and its domains, by IndicesOfDeprivation field.
IOD2025_SOURCE_PREFIXES = {
    "imd": "IMD",
    "income": "Income",
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "crime": "Crime",
    "housing_and_services": "Housing_and_Services",
    "environment": "Environment",
}

# ONS names of the 2021 rural-urban classes; the source has only the codes.
RUC21_NAMES = {
    "UN1": "Urban: Nearer to a major town or city",
    "UF1": "Urban: Further from a major town or city",
    "RLN1": "Larger rural: Nearer to a major town or city",
    "RLF1": "Larger rural: Further from a major town or city",
    "RSN1": "Smaller rural: Nearer to a major town or city",
    "RSF1": "Smaller rural: Further from a major town or city",
}


def shared_geography() -> Path:
    """The shared geography folder: under $HEALTHEQUITY_SHARED_DATA, else beside the repo."""
    shared = os.environ.get("HEALTHEQUITY_SHARED_DATA")
    return (Path(shared) if shared else REPO_ROOT.parent / "shared" / "data") / "geography"


def source_rows() -> dict[str, dict[str, str]]:
    """Each LSOA's columns from all three source files; skips the test without them."""
    folder = shared_geography()
    if not all((folder / name).is_file() for name in SOURCE_FILES):
        pytest.skip(f"the shared reference data is not in {folder}")
    return _read_rows(folder)


@functools.cache
def _read_rows(folder: Path) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for name in SOURCE_FILES:
        with (folder / name).open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                merged.setdefault(row["lsoa21_code"], {}).update(row)
    return merged


def expected_lsoa(row: dict[str, str]) -> Lsoa:
    """The LSOA record that a source row describes."""
    return Lsoa(
        lsoa21_code=row["lsoa21_code"],
        lsoa21_name=row["lsoa21_name"],
        ward24_code=row["ward24_code"],
        ward24_name=row["ward24_name"],
        ltla24_code=row["ltla24_code"],
        ltla24_name=row["ltla24_name"],
        sicbl24_code=row["sicbl24_code"],
        sicbl24_code_nhs=row["sicbl24_code_nhs"],
        sicbl24_name=row["sicbl24_name"],
        icb24_code=row["icb24_code"],
        icb24_code_nhs=row["icb24_code_nhs"],
        icb24_name=row["icb24_name"],
        region24_code=row["region24_code"],
        region24_name=row["region24_name"],
        ruc21_code=row["ruc21_code"],
        ruc21_name=RUC21_NAMES[row["ruc21_code"]],
        ruc21_urban_rural=row["ruc"],
        usual_residents_2021=int(row["usual_residents_2021"]),
        households_2021=int(row["households_2021"]),
        households_by_deprivation_dimensions=(
            int(row["hh_deprived_0_dimensions"]),
            int(row["hh_deprived_1_dimension"]),
            int(row["hh_deprived_2_dimensions"]),
            int(row["hh_deprived_3_dimensions"]),
            int(row["hh_deprived_4_dimensions"]),
        ),
        iod2025=IndicesOfDeprivation(
            **{
                index: Deprivation(
                    decile=int(row[f"{prefix}_decile"]),
                    rank=int(row[f"{prefix}_rank"]),
                    score=float(row[f"{prefix}_score"]),
                )
                for index, prefix in IOD2025_SOURCE_PREFIXES.items()
            }
        ),
        interior_point=InteriorPoint(
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            easting=int(row["easting"]),
            northing=int(row["northing"]),
        ),
    )
