"""Load an ONS postcode directory into the database and look postcodes up in it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from healthequity.geography import (
    Area,
    PostcodeRecord,
    UnknownPostcode,
    lsoa,
    normalise_postcode,
    read_postcode_directory,
)
from healthequity.places.models import Postcode

# Called after each batch with (bytes read, file size in bytes).
ProgressCallback = Callable[[int, int], None]


def load_postcode_directory(
    session: Session,
    path: str | os.PathLike[str],
    *,
    batch_size: int = 10_000,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Load (or refresh) postcodes from an NSPL or ONSPD CSV; return how many rows were read.

    Runs in the caller's transaction, so a bad row anywhere leaves the table as it was.
    A postcode already present is updated, so loading a newer directory duplicates nothing.
    """
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Postcode)
    upsert = insert.on_conflict_do_update(
        index_elements=[Postcode.postcode],
        set_={
            "lsoa21_code": insert.excluded.lsoa21_code,
            "latitude": insert.excluded.latitude,
            "longitude": insert.excluded.longitude,
        },
    )
    count = 0
    with read_postcode_directory(path, batch_size) as reader:
        for batch in reader:
            # A repeated postcode within one statement would make PostgreSQL's upsert fail.
            rows = {record.postcode: _row(record) for record in batch}
            session.execute(upsert, list(rows.values()))
            count += len(batch)
            if on_progress is not None:
                on_progress(reader.bytes_read, reader.size_bytes)
    return count


def _row(record: PostcodeRecord) -> dict[str, object]:
    return {
        "postcode": record.postcode,
        "lsoa21_code": record.lsoa21_code,
        "latitude": record.latitude,
        "longitude": record.longitude,
    }


def find_postcode(session: Session, postcode: str) -> PostcodeRecord:
    """The directory's record of a postcode typed in any spacing or case.

    Raises InvalidPostcode for a value not shaped as a postcode, UnknownPostcode for one
    the loaded directory does not have.
    """
    normalised = normalise_postcode(postcode)
    row = session.get(Postcode, normalised)
    if row is None:
        raise UnknownPostcode(postcode, "not in the loaded postcode directory")
    return PostcodeRecord(row.postcode, row.lsoa21_code, row.latitude, row.longitude)


def postcode_to_lsoa(session: Session, postcode: str) -> str:
    """The 2021 LSOA code of a postcode; UnknownPostcode if it has none in the directory."""
    record = find_postcode(session, postcode)
    if record.lsoa21_code is None:
        raise UnknownPostcode(postcode, "the postcode directory gives it no LSOA")
    return record.lsoa21_code


def count_postcodes(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Postcode)) or 0


@dataclass(frozen=True, slots=True)
class DecileShare:
    """How many of an area's LSOAs, and residents, fall in one IMD 2025 decile."""

    decile: int
    lsoa_count: int
    usual_residents_2021: int
    share_of_residents: float


def imd_decile_profile(area: Area) -> list[DecileShare]:
    """The area's residents along England's deprivation gradient, decile 1 (most deprived) first."""
    lsoa_counts = [0] * 10
    residents = [0] * 10
    for code in area.lsoa21_codes:
        record = lsoa(code)
        index = record.iod2025.imd.decile - 1
        lsoa_counts[index] += 1
        residents[index] += record.usual_residents_2021
    total = sum(residents) or 1
    return [
        DecileShare(decile + 1, lsoa_counts[decile], residents[decile], residents[decile] / total)
        for decile in range(10)
    ]
