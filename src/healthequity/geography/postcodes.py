"""UK postcodes: normalising them, and reading ONS postcode directories (NSPL or ONSPD)."""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from healthequity.geography.exceptions import InvalidPostcode, PostcodeFileError, UnknownPostcode

# The shape of a postcode without its space: outward code (A9, A99, AA9, AA99, A9A or
# AA9A), then inward code (9AA); plus Girobank's GIR 0AA.
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}|GIR0AA")

POSTCODE_DIRECTORY_COLUMNS = ("pcds", "lsoa21cd", "lat", "long")
"""The columns read from a postcode directory; ONS's other columns are ignored."""

# ONS's latitude for a postcode without a grid reference (its longitude is then 0.000000,
# which is also a real longitude, so only the latitude tells).
_NO_GRID_REFERENCE_LATITUDE = 99.999999


def normalise_postcode(value: str) -> str:
    """A postcode in ONS `pcds` form ("SW1A 1AA") from any spacing and case ("sw1a1aa").

    Raises InvalidPostcode if the value is not formed as a UK postcode.
    """
    compact = "".join(value.split())
    # isascii first: str.upper() turns some other letters into ASCII ones (U+017F into "S").
    if not (compact.isascii() and _POSTCODE.fullmatch(compact := compact.upper())):
        raise InvalidPostcode(value)
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True, slots=True)
class PostcodeRecord:
    """A postcode's 2021 LSOA and location, as a postcode directory gives them."""

    postcode: str  # pcds form
    lsoa21_code: str | None  # None: no LSOA (blank, or an ONS pseudo-code)
    latitude: float | None  # None: no grid reference
    longitude: float | None


class PostcodeDirectoryReader:
    """Batches of records from an ONS postcode directory CSV, checked as they are read.

    Opening the file checks its header, so a file lacking columns fails before any batch.
    `bytes_read` out of `size_bytes` measures progress. Close it, or use it in a `with`.
    """

    def __init__(self, path: str | os.PathLike[str], batch_size: int = 10_000) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.path = Path(path)
        self.batch_size = batch_size
        self.bytes_read = 0
        try:
            self._file = self.path.open("rb")
        except OSError as error:
            raise PostcodeFileError(self.path, f"cannot open: {error.strerror}") from None
        try:
            self.size_bytes = os.fstat(self._file.fileno()).st_size
            self._rows = csv.reader(self._lines())
            self._header = next(self._rows, [])
            self._positions = self._find_columns(self._header)
            self._width = max(self._positions) + 1
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __iter__(self) -> Iterator[list[PostcodeRecord]]:
        batch: list[PostcodeRecord] = []
        for row in self._rows:
            if not row:
                continue  # a blank line, such as one after the last row
            batch.append(self._record(row, self._rows.line_num))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _lines(self) -> Iterator[str]:
        for number, raw in enumerate(self._file, start=1):
            self.bytes_read += len(raw)
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise PostcodeFileError(self.path, "expected UTF-8 text", number) from None
            yield line

    def _find_columns(self, header: list[str]) -> tuple[int, int, int, int]:
        """The positions of the wanted columns, whose names ONS writes in either case."""
        positions = {name.strip().lower(): position for position, name in enumerate(header)}
        missing = [name for name in POSTCODE_DIRECTORY_COLUMNS if name not in positions]
        if missing:
            raise PostcodeFileError(
                self.path,
                f"missing column(s) {', '.join(missing)}: a postcode directory needs "
                f"{', '.join(POSTCODE_DIRECTORY_COLUMNS)}",
                1,
            )
        return positions["pcds"], positions["lsoa21cd"], positions["lat"], positions["long"]

    def _record(self, row: list[str], line: int) -> PostcodeRecord:
        pcds, lsoa21cd, lat, long = self._positions
        if len(row) < self._width:
            raise PostcodeFileError(
                self.path,
                f"expected {len(self._header)} fields as in the header, found {len(row)}",
                line,
                self._header[len(row)],
            )
        try:
            postcode = normalise_postcode(row[pcds])
        except InvalidPostcode:
            raise PostcodeFileError(
                self.path, f"expected a postcode, got {row[pcds]!r}", line, self._header[pcds]
            ) from None
        latitude: float | None = None
        longitude: float | None = None
        if _number(row[lat]) != _NO_GRID_REFERENCE_LATITUDE:
            latitude = self._coordinate(row, lat, line, 90.0)
            longitude = self._coordinate(row, long, line, 180.0)
        lsoa21_code = row[lsoa21cd].strip().upper()
        # ONS pseudo-codes ("L99999999" in the Channel Islands...) mean there is no LSOA.
        if not lsoa21_code or lsoa21_code[1:] == "99999999":
            return PostcodeRecord(postcode, None, latitude, longitude)
        return PostcodeRecord(postcode, lsoa21_code, latitude, longitude)

    def _coordinate(self, row: list[str], position: int, line: int, limit: float) -> float:
        value = row[position]
        number = _number(value)
        if not -limit <= number <= limit:  # also rejects NaN
            raise PostcodeFileError(
                self.path,
                f"expected a number of degrees from {-limit:g} to {limit:g}, got {value!r}",
                line,
                self._header[position],
            )
        return number


def _number(value: str) -> float:
    """A number, or NaN for a value that is not one."""
    try:
        return float(value)
    except ValueError:
        return math.nan


def read_postcode_directory(
    path: str | os.PathLike[str], batch_size: int = 10_000
) -> PostcodeDirectoryReader:
    """Open an ONS postcode directory CSV (NSPL or ONSPD) to read in batches of records.

    Raises PostcodeFileError, naming every missing column, if the header lacks any of
    pcds, lsoa21cd, lat and long; and while reading, naming the line and column of a
    malformed value.
    """
    return PostcodeDirectoryReader(path, batch_size)


def postcode_to_lsoa(postcode: str, directory: Mapping[str, str | None]) -> str:
    """The 2021 LSOA code of a postcode, from a directory of pcds-form postcodes.

    Raises InvalidPostcode for a malformed postcode, and UnknownPostcode for one the
    directory lacks or gives no LSOA.
    """
    normalised = normalise_postcode(postcode)
    try:
        lsoa21_code = directory[normalised]
    except KeyError:
        raise UnknownPostcode(postcode, "not in the postcode directory") from None
    if lsoa21_code is None:
        raise UnknownPostcode(postcode, "the postcode directory gives it no LSOA")
    return lsoa21_code
