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
from scipy import stats

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
        value = raw.iloc[position]
        # A plain Python value in the message: "got -26", not "got np.int64(-26)".
        shown = value.item() if isinstance(value, np.generic) else value
        raise InvalidInputError(f"{expected}, got {shown!r}", column=column, row=position + 1)


# Shared by the rate, proportion, mean and standardisation methods: groups, the normal
# quantile for a level, and confidence limits for a count of events.


def group_codes(
    frame: pd.DataFrame, group_by: GroupBy
) -> tuple[npt.NDArray[np.intp], pd.DataFrame]:
    """Each row's group as a code 0..G-1, and the groups' keys (one row per group, in
    sorted key order, as dplyr orders grouped results; missing keys form a group too).

    Without groups every row is in group 0 and the keys frame has one row, no columns.
    """
    columns = group_columns(group_by)
    for column in columns:
        if column not in frame.columns:
            raise MissingColumnError(column, [str(name) for name in frame.columns])
    if not columns:
        return np.zeros(len(frame), dtype=np.intp), pd.DataFrame(index=pd.RangeIndex(1))
    codes = np.asarray(
        frame.groupby(columns, sort=True, dropna=False, observed=True).ngroup(), dtype=np.intp
    )
    _, first = np.unique(codes, return_index=True)
    keys = frame[columns].iloc[first].reset_index(drop=True)
    return codes, keys


def group_sum(codes: npt.NDArray[np.intp], values: FloatArray, groups: int) -> FloatArray:
    """Sum of the values in each group; a missing value makes its group's sum missing."""
    return np.bincount(codes, weights=values, minlength=groups).astype(np.float64)


def z_score(level: float) -> float:
    """The two-sided standard normal quantile for a confidence level (1.959964 for 95%)."""
    return float(stats.norm.ppf(level + (1 - level) / 2))


def byars_lower(x: FloatArray, level: float) -> FloatArray:
    """Byar's approximation to the lower limit of a Poisson count (Breslow & Day 1987):
    x (1 - 1/(9x) - z/(3 sqrt x))^3; missing where that is negative or undefined (x = 0)."""
    z = z_score(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return np.where(lower < 0, np.nan, lower)


def byars_upper(x: FloatArray, level: float) -> FloatArray:
    """Byar's approximation to the upper limit of a Poisson count (Breslow & Day 1987):
    (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3."""
    z = z_score(level)
    with np.errstate(invalid="ignore"):
        return np.asarray((x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3)


def exact_poisson_limits(x: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Exact limits of a Poisson count from the chi-square distribution (Armitage & Berry
    2002): chi2(alpha/2; 2x)/2 and chi2(1 - alpha/2; 2x + 2)/2, the lower limit 0 at x = 0."""
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        lower = np.where(x == 0, 0.0, stats.chi2.ppf(alpha / 2, 2 * x) / 2)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


EXACT_BELOW = 10
"""Counts below this take exact Poisson limits, counts from it Byar's (Fingertips)."""


def count_limits(x: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Limits of Poisson counts as Fingertips gives them: exact below 10 events, Byar's
    approximation from 10. Missing counts give missing limits."""
    exact_lower, exact_upper = exact_poisson_limits(x, level)
    small = x < EXACT_BELOW
    lower = np.where(small, exact_lower, byars_lower(x, level))
    upper = np.where(small, exact_upper, byars_upper(x, level))
    return lower, upper


def count_method(x: FloatArray) -> npt.NDArray[np.object_]:
    """ "Exact" below 10 events, "Byars" from 10, missing where the count is missing."""
    method = np.where(x < EXACT_BELOW, "Exact", "Byars").astype(object)
    method[np.isnan(x)] = None
    return method


def number_text(value: float) -> str:
    """A multiplier as the reference writes it: 100000 rather than 1e+05, 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def single_level(confidence: float) -> float:
    """One confidence level (0.95 or 95) as a fraction, for functions that take just one."""
    if not isinstance(confidence, int | float):
        raise InvalidConfidenceError("give one confidence level here, say 0.95")
    return confidence_levels(confidence)[0]


# Shared by the inequality methods (quantiles, SII): group names for messages.


def group_label(keys: pd.DataFrame, group: int) -> str:
    """One group named by its key, for messages: "Area='E06000001', Sex='Female'", or "all
    the data" when there are no groups."""
    if keys.shape[1] == 0:
        return "all the data"
    row = keys.iloc[group]
    return ", ".join(f"{column}={_plain(row[column])!r}" for column in keys.columns)


def _plain(value: object) -> object:
    """numpy scalars as Python ones, so messages read 3, not np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value
