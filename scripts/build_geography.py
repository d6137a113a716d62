"""Build the geography package's data from the shared reference data.

Reads England's LSOA 2021 files from the shared geography folder (--shared-data, else
$HEALTHEQUITY_SHARED_DATA/geography, else ../shared/data/geography from the repository root),
checks them, and writes src/healthequity/geography/data/lsoa21.parquet and ATTRIBUTION.md.
Rerunnable:

    python scripts/build_geography.py [--shared-data DIR]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from healthequity.geography._storage import COLUMNS, LSOA21_FILE

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "src" / "healthequity" / "geography" / "data"
LSOA21_COUNT = 33_755
AREAS_FILE = "lsoa21_areas.csv"
SOURCE_FILES = (AREAS_FILE, "imd2025_lsoa21.csv", "census2021_household_deprivation_lsoa21.csv")
LSOA21_CODE = re.compile(r"E01[0-9]{6}")

# The source gives only the code and "Urban"/"Rural"; these are ONS's names for the codes.
RUC21_NAMES = {
    "UN1": "Urban: Nearer to a major town or city",
    "UF1": "Urban: Further from a major town or city",
    "RLN1": "Larger rural: Nearer to a major town or city",
    "RLF1": "Larger rural: Further from a major town or city",
    "RSN1": "Smaller rural: Nearer to a major town or city",
    "RSF1": "Smaller rural: Further from a major town or city",
}

# Each key column determines these columns: the package reads an area's name, NHS code
# and parents from any one of its LSOAs, so every LSOA must agree.
DETERMINES = {
    "ward24_code": ("ward24_name", "ltla24_code"),
    "ltla24_code": ("ltla24_name", "region24_code"),
    "sicbl24_code": ("sicbl24_name", "sicbl24_code_nhs", "icb24_code"),
    "sicbl24_code_nhs": ("sicbl24_code",),
    "icb24_code": ("icb24_name", "icb24_code_nhs"),
    "icb24_code_nhs": ("icb24_code",),
    "region24_code": ("region24_name",),
}

ATTRIBUTION = """\
# Attribution

`lsoa21.parquet` is built by `scripts/build_geography.py` from these sources:

- Ministry of Housing, Communities and Local Government, English Indices of Deprivation 2025;
- Office for National Statistics, Census 2021 and ONS Geography lookups;

all under the [Open Government Licence v3.0](https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).
Contains OS data © Crown copyright and database right 2024.

Compiled from the humaniverse IMD, geographr and demographr data packages (MIT licence).
"""


class SourceError(Exception):
    """A problem in a source file, located as precisely as it can be."""

    def __init__(
        self, path: Path, problem: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = path.name
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Source:
    """One source file's rows by LSOA code, each with its line number."""

    path: Path
    headers: dict[str, str]  # each column's name lower-cased, to its name in the file
    rows: dict[str, tuple[int, dict[str, str]]]  # rows are keyed by lower-cased names


def read_source(path: Path) -> Source:
    """Read a source file, checking that each row is complete and has a new LSOA code."""
    if not path.is_file():
        raise SourceError(path, f"no such file in {path.parent}")
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        try:
            headers = {name.strip().lower(): name for name in next(reader, [])}
            if "lsoa21_code" not in headers:
                raise SourceError(path, "the header has no lsoa21_code column", 1)
            rows: dict[str, tuple[int, dict[str, str]]] = {}
            for values in reader:
                line = reader.line_num
                if len(values) != len(headers):
                    raise SourceError(path, f"{len(values)} fields, expected {len(headers)}", line)
                row = dict(zip(headers, values, strict=True))
                for column, value in row.items():
                    if not value.strip():
                        raise SourceError(path, "missing value", line, headers[column])
                code = row["lsoa21_code"]
                if not LSOA21_CODE.fullmatch(code):
                    raise SourceError(
                        path,
                        f"expected an English LSOA 2021 code, got {code!r}",
                        line,
                        "lsoa21_code",
                    )
                if code in rows:
                    raise SourceError(
                        path, f"{code} again (first on line {rows[code][0]})", line, "lsoa21_code"
                    )
                rows[code] = (line, row)
        except csv.Error as error:
            raise SourceError(path, f"not readable as CSV: {error}", reader.line_num) from None
        except UnicodeDecodeError:
            raise SourceError(path, "not UTF-8 text", reader.line_num + 1) from None
    if len(rows) != LSOA21_COUNT:
        raise SourceError(path, f"{len(rows):,} LSOAs, expected {LSOA21_COUNT:,}")
    return Source(path, headers, rows)


def check_join(areas: Source, other: Source) -> None:
    """Check that two sources have the same LSOAs."""
    for source, reference in ((other, areas), (areas, other)):
        for code, (line, _) in source.rows.items():
            if code not in reference.rows:
                raise SourceError(
                    source.path, f"{code} is not in {reference.path.name}", line, "lsoa21_code"
                )


def check_determines(areas: Source) -> None:
    """Check that every LSOA of an area gives the area the same name, codes and parents."""
    for key, dependents in DETERMINES.items():
        first_seen: dict[str, tuple[int, dict[str, str]]] = {}
        for line, row in areas.rows.values():
            first_line, first = first_seen.setdefault(row[key], (line, row))
            for column in dependents:
                if row[column] != first[column]:
                    raise SourceError(
                        areas.path,
                        f"{row[column]!r} for {key} {row[key]}, which line {first_line} "
                        f"gives as {first[column]!r}",
                        line,
                        column,
                    )


def ruc21_name(path: Path, line: int, row: dict[str, str]) -> str:
    """The ONS name of a row's rural-urban class, checked against its Urban/Rural flag."""
    code = row["ruc21_code"]
    if code not in RUC21_NAMES:
        raise SourceError(
            path, f"expected one of {', '.join(RUC21_NAMES)}, got {code!r}", line, "ruc21_code"
        )
    urban_rural = "Urban" if code.startswith("U") else "Rural"
    if row["ruc"] != urban_rural:
        raise SourceError(
            path, f"expected {urban_rural!r} for {code}, got {row['ruc']!r}", line, "ruc"
        )
    return RUC21_NAMES[code]


Parser = Callable[[str], str | int | float]


def parser_for(column: str, dtype: str) -> Parser:
    """A function that reads a source value of a column, raising ValueError if it is wrong."""
    if dtype in ("string", "dictionary"):
        return str
    if dtype == "float64":

        def parse_number(value: str) -> float:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise ValueError(f"expected a number, got {value!r}")
            return number

        return parse_number
    low, high = 0, 2 ** arrow_type(dtype).bit_width - 1
    if column.endswith("_decile"):
        low, high = 1, 10
    elif column.endswith("_rank"):
        low, high = 1, LSOA21_COUNT

    def parse_whole_number(value: str) -> int:
        if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return int(value)

    return parse_whole_number


def build_table(sources: list[Source]) -> pa.Table:
    """The package's LSOA table from the checked sources, in LSOA code order."""
    areas = sources[0]
    readers: dict[str, tuple[Source, Parser]] = {}
    for column, dtype in COLUMNS.items():
        if column == "ruc21_name":
            continue
        holders = [source for source in sources if column in source.headers]
        if not holders:
            files = ", ".join(source.path.name for source in sources)
            raise SourceError(areas.path.parent, f"no source file ({files}) has a {column} column")
        readers[column] = (holders[0], parser_for(column, dtype))
    values: dict[str, list[str | int | float]] = {column: [] for column in COLUMNS}
    for code in sorted(areas.rows):
        for column, (source, parse) in readers.items():
            line, row = source.rows[code]
            try:
                values[column].append(parse(row[column]))
            except ValueError as error:
                raise SourceError(source.path, str(error), line, source.headers[column]) from None
        values["ruc21_name"].append(ruc21_name(areas.path, *areas.rows[code]))
    return pa.table(
        {column: pa.array(values[column], arrow_type(dtype)) for column, dtype in COLUMNS.items()}
    )


def arrow_type(dtype: str) -> pa.DataType:
    """The Arrow type for a `COLUMNS` type name."""
    if dtype == "dictionary":
        return pa.dictionary(pa.int16(), pa.string())
    return pa.type_for_alias(dtype)


def write(table: pa.Table, output_dir: Path) -> Path:
    """Write the table and its attribution, replacing any earlier build whole."""
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / LSOA21_FILE
    partial = target.with_suffix(".partial")
    try:
        pq.write_table(
            table,
            partial,
            compression="zstd",
            compression_level=19,
            row_group_size=table.num_rows,
            # Only strings repeat enough to gain from Parquet dictionaries: on the numbers
            # (ranks are permutations) they cost more than plain values under zstd.
            use_dictionary=[
                column for column, dtype in COLUMNS.items() if dtype in ("string", "dictionary")
            ],
        )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)  # everything in data/ ships
    (output_dir / "ATTRIBUTION.md").write_text(ATTRIBUTION, encoding="utf-8")
    return target


def default_shared_data() -> Path:
    """The shared geography folder: under $HEALTHEQUITY_SHARED_DATA, else beside the repository."""
    shared = os.environ.get("HEALTHEQUITY_SHARED_DATA")
    return (
        Path(shared) / "geography" if shared else REPO_ROOT.parent / "shared" / "data" / "geography"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=default_shared_data(),
        help="folder holding the geography CSV files (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        sources = [read_source(args.shared_data / name) for name in SOURCE_FILES]
        for other in sources[1:]:
            check_join(sources[0], other)
        check_determines(sources[0])
        table = build_table(sources)
    except SourceError as error:
        print(f"build_geography: {error}", file=sys.stderr)
        return 1
    target = write(table, OUTPUT_DIR)
    size = target.stat().st_size
    print(f"wrote {table.num_rows:,} LSOAs to {target.relative_to(REPO_ROOT)} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
