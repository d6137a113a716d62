"""Reading and writing tables of indicator data: CSV, Parquet and Excel, chosen by suffix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from healthequity.stats.exceptions import StatsError

TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")


class TableFileError(StatsError):
    """A table file that cannot be read or written (its kind, or its content)."""


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise TableFileError(
            f"{path}: cannot tell the kind of table from {suffix or 'no suffix'!r}: expected "
            + ", ".join(TABLE_SUFFIXES)
        )
    return suffix


def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """A table from a CSV, Parquet or Excel (.xlsx; the first sheet unless named) file."""
    path = Path(path)
    kind = _kind(path)
    try:
        if kind == ".csv":
            return pd.read_csv(path)
        if kind == ".parquet":
            return pd.read_parquet(path)
        return pd.read_excel(path, sheet_name=sheet or 0)
    except FileNotFoundError:
        raise TableFileError(f"{path}: no such file") from None
    except (ValueError, OSError) as error:
        # pandas and its engines say what was wrong (bad encoding, unknown sheet, not a
        # Parquet file...): keep their first line, named with the file.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TableFileError(f"{path}: cannot be read as {kind[1:]}: {reason}") from None


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV, Parquet or Excel, by the file's suffix."""
    path = Path(path)
    kind = _kind(path)
    if kind == ".csv":
        frame.to_csv(path, index=False)
    elif kind == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
