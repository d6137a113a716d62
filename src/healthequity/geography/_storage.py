"""The LSOA table shipped in `data/`: its columns, and reading it once, on first use."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, TypeVar

from healthequity.geography.exceptions import GeographyError
from healthequity.geography.models import IOD2025_INDICES

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

T = TypeVar("T")

LSOA21_FILE = "lsoa21.parquet"

# Column name -> Arrow type. "dictionary" marks strings repeated across LSOAs (a ward's
# name in each of its LSOAs): stored once, and loaded as small integer arrays.
COLUMNS: dict[str, str] = {
    "lsoa21_code": "string",
    "lsoa21_name": "string",
    "ward24_code": "dictionary",
    "ward24_name": "dictionary",
    "ltla24_code": "dictionary",
    "ltla24_name": "dictionary",
    "sicbl24_code": "dictionary",
    "sicbl24_code_nhs": "dictionary",
    "sicbl24_name": "dictionary",
    "icb24_code": "dictionary",
    "icb24_code_nhs": "dictionary",
    "icb24_name": "dictionary",
    "region24_code": "dictionary",
    "region24_name": "dictionary",
    "ruc21_code": "dictionary",
    "ruc21_name": "dictionary",
    "ruc": "dictionary",
    "usual_residents_2021": "uint16",
    "households_2021": "uint16",
    "hh_deprived_0_dimensions": "uint16",
    "hh_deprived_1_dimension": "uint16",
    "hh_deprived_2_dimensions": "uint16",
    "hh_deprived_3_dimensions": "uint16",
    "hh_deprived_4_dimensions": "uint16",
    **{
        f"{index}_{measure}": dtype
        for index in IOD2025_INDICES
        for measure, dtype in (("decile", "uint8"), ("rank", "uint16"), ("score", "float64"))
    },
    "easting": "uint32",
    "northing": "uint32",
    "latitude": "float64",
    "longitude": "float64",
}


def load_once(build: Callable[[], T]) -> Callable[[], T]:
    """Make `build` run on the first call only; threads racing that call share its result."""
    lock = threading.Lock()
    built: list[T] = []

    @functools.wraps(build)
    def load() -> T:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    return load


class LsoaTable:
    """The table's columns, and each LSOA's row.

    Columns of each kind sit side by side in one array: a row's values come out in one
    call, and each value takes a few bytes, where a Python object would take 30 or more.
    """

    __slots__ = (
        "_integer_columns",
        "_integers",
        "_real_columns",
        "_reals",
        "_text_columns",
        "_text_indices",
        "_text_values",
        "codes",
        "names",
        "row_of",
    )

    def __init__(self, table: pa.Table) -> None:
        import numpy as np  # deferred, as is pyarrow, to keep importing the package cheap

        if table.column_names != list(COLUMNS):
            raise GeographyError(
                f"the package's {LSOA21_FILE} has columns {table.column_names}, expected "
                f"{list(COLUMNS)}: rebuild it with scripts/build_geography.py"
            )
        self.codes: list[str] = table.column("lsoa21_code").to_pylist()
        self.names: list[str] = table.column("lsoa21_name").to_pylist()
        self.row_of: dict[str, int] = {code: row for row, code in enumerate(self.codes)}
        self._text_columns = _columns_of_type("dictionary")
        texts = [table.column(name).combine_chunks() for name in self._text_columns]
        self._text_values: list[list[str]] = [text.dictionary.to_pylist() for text in texts]
        self._text_indices: npt.NDArray[np.int16] = np.column_stack(
            [text.indices.to_numpy() for text in texts]
        )
        self._integer_columns = _columns_of_type("uint8", "uint16", "uint32")
        self._integers: npt.NDArray[np.int32] = np.column_stack(
            [table.column(name).to_numpy().astype(np.int32) for name in self._integer_columns]
        )
        self._real_columns = _columns_of_type("float64")
        self._reals: npt.NDArray[np.float64] = np.column_stack(
            [table.column(name).to_numpy() for name in self._real_columns]
        )

    def __len__(self) -> int:
        return len(self.codes)

    def texts(self, row: int) -> dict[str, str]:
        """A row's values in the dictionary columns."""
        indices = self._text_indices[row].tolist()
        return {
            name: values[index]
            for name, values, index in zip(
                self._text_columns, self._text_values, indices, strict=True
            )
        }

    def integers(self, row: int) -> dict[str, int]:
        """A row's values in the integer columns."""
        return dict(zip(self._integer_columns, self._integers[row].tolist(), strict=True))

    def reals(self, row: int) -> dict[str, float]:
        """A row's values in the floating-point columns."""
        return dict(zip(self._real_columns, self._reals[row].tolist(), strict=True))

    def text_column(self, name: str) -> tuple[npt.NDArray[np.int16], list[str]]:
        """A dictionary column: each row's index into its distinct values, and the values."""
        position = self._text_columns.index(name)
        return self._text_indices[:, position], self._text_values[position]

    def integer_column(self, name: str) -> npt.NDArray[np.int32]:
        """An integer column."""
        return self._integers[:, self._integer_columns.index(name)]


def _columns_of_type(*dtypes: str) -> tuple[str, ...]:
    return tuple(name for name, dtype in COLUMNS.items() if dtype in dtypes)


@load_once
def lsoa_table() -> LsoaTable:
    """The LSOA table, read from the package data on first use."""
    # Deferred so that importing the package (say, only for postcodes) stays cheap.
    import pyarrow.parquet as pq

    data = resources.files("healthequity.geography") / "data" / LSOA21_FILE
    with data.open("rb") as file:
        return LsoaTable(pq.read_table(file))
