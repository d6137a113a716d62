"""What every method shares: confidence levels, limit column names, and checked input.

Methods take either a DataFrame and the names of its columns, or arrays in place of the
names (then `data` is None). `frame_of` turns both into one DataFrame; `numbers` reads a
column as floats, refusing non-numeric, missing or out-of-range values with an error that
names the column and the first offending row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from healthequity.stats.exceptions import (
    InvalidConfidenceError,
    InvalidInputError,
    MissingColumnError,
)

FloatArray: TypeAlias = npt.NDArray[np.float64]
Confidence: TypeAlias = float | Sequence[float]
Column: TypeAlias = str | npt.ArrayLike
GroupBy: TypeAlias = str | Sequence[str] | None


def confidence_levels(confidence: Confidence) -> tuple[float, ...]:
    """Confidence levels as fractions. As the reference does, accepts 0.95 or 95, and only
    levels from 90% up to (not including) 100%."""
    values = [confidence] if isinstance(confidence, int | float) else list(confidence)
    if not values:
        raise InvalidConfidenceError("no confidence level given: expected, say, 0.95")
    levels = []
    for value in values:
        level = float(value) / 100 if float(value) >= 90 else float(value)
        if not 0.9 <= level < 1:
            raise InvalidConfidenceError(
                f"confidence level {value!r} is out of range: expected between 0.9 and 1 "
                "(or 90 and 100)"
            )
        levels.append(level)
    return tuple(levels)


def level_label(level: float) -> str:
    """ "95_0" for 0.95 and "99_8" for 0.998, as the reference names its columns."""
    return f"{level * 100:.1f}".replace(".", "_")


def limit_columns(levels: Sequence[float]) -> list[tuple[str, str]]:
    """Names of the (lower, upper) limit columns: `lowercl`/`uppercl` for one level,
    `lower95_0cl`/`upper95_0cl`... for several, as PHEindicatormethods names them."""
    if len(levels) == 1:
        return [("lowercl", "uppercl")]
    return [(f"lower{level_label(level)}cl", f"upper{level_label(level)}cl") for level in levels]


def confidence_text(levels: Sequence[float]) -> str:
    """ "95%" or "95%, 99.8%", for the results' `confidence` column."""
    return ", ".join(f"{level * 100:g}%" for level in levels)


def group_columns(group_by: GroupBy) -> list[str]:
    if group_by is None:
        return []
    return [group_by] if isinstance(group_by, str) else list(group_by)


def frame_of(
    data: pd.DataFrame | None, columns: Mapping[str, Column | None]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The data as a DataFrame and the name of each role's column in it.

    With `data`, each role's value must name a column of it. Without, each value is an
    array (or scalar) and becomes a column named after its role.
    """
    if data is not None:
        names = {}
        for role, name in columns.items():
            if name is None:
                continue
            if not isinstance(name, str):
                raise InvalidInputError(
                    f"{role} must name a column of the data, got {type(name).__name__}"
                )
            if name not in data.columns:
                raise MissingColumnError(name, [str(column) for column in data.columns])
            names[role] = name
        return data, names
    arrays = {role: value for role, value in columns.items() if value is not None}
    for role, value in arrays.items():
        if isinstance(value, str):
            raise InvalidInputError(f"{role} names a column {value!r}, but no data was given")
    lengths = {np.size(value) for value in arrays.values() if np.ndim(value) > 0}
    if len(lengths) > 1:
        raise InvalidInputError(f"the arrays differ in length: {sorted(lengths)}")
    frame = pd.DataFrame(
        {role: np.asarray(value).ravel() for role, value in arrays.items()}
        if lengths
        else {role: [value] for role, value in arrays.items()}
    )
    return frame, {role: role for role in arrays}


def numbers(
    frame: pd.DataFrame,
    column: str,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    whole: bool = False,
    allow_missing: bool = False,
) -> FloatArray:
    """A column as float64, checked: numeric, present (unless allowed), within the bounds.

    Raises InvalidInputError naming the column and the first offending row (1-based).
    """
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing_in = raw.isna().to_numpy()
    not_numeric = np.isnan(values) & ~missing_in
    _refuse(not_numeric, raw, column, "expected a number")
    if not allow_missing:
        _refuse(missing_in, raw, column, "expected a number, the value is missing")
    present = ~np.isnan(values)
    if minimum is not None:
        _refuse(present & (values < minimum), raw, column, f"expected at least {minimum:g}")
    if above is not None:
        _refuse(present & (values <= above), raw, column, f"expected more than {above:g}")
    if maximum is not None:
        _refuse(present & (values > maximum), raw, column, f"expected at most {maximum:g}")
    if whole:
        _refuse(present & (values != np.round(values)), raw, column, "expected a whole number")
    return values


def _refuse(bad: npt.NDArray[np.bool_], raw: pd.Series, column: str, expected: str) -> None:
    if bad.any():
        position = int(np.argmax(bad))
        raise InvalidInputError(
            f"{expected}, got {raw.iloc[position]!r}", column=column, row=position + 1
        )
