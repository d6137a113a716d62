"""Small areas assigned to quantiles (deciles, quintiles...) of a value within parent areas, as
PHEindicatormethods 2.1's `phe_quantile` assigns them.

The method is the one in OHID's Fingertips public health technical guidance, "Assigning
deprivation categories" (https://fingertips.phe.org.uk/profile/guidance/supporting-information/
PH-methods): within each group, areas with a value are ranked (ties take the lowest rank) and
area of rank r among n goes to quantile

    q = (N + 1) - ceil((n + 1 - r) / (n / N)),   with q = 0 taken as 1,

for N quantiles, so that quantile 1 holds the lowest values (or, inverted, the highest) and the
areas are shared out as evenly as the ranks allow. A group with fewer areas with a value than
quantiles gets no quantiles, and a warning names it.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pandas as pd

from healthequity.stats._core import (
    Column,
    GroupBy,
    frame_of,
    group_codes,
    group_label,
    numbers,
)
from healthequity.stats.exceptions import InvalidInputError, StatsWarning

__all__ = ["TooFewAreasWarning", "assign_quantiles"]


class TooFewAreasWarning(StatsWarning):
    """Some groups have fewer areas with a value than quantiles: they get no quantiles."""


def assign_quantiles(
    data: pd.DataFrame | None = None,
    values: Column = "value",
    *,
    group_by: GroupBy = None,
    quantiles: int = 10,
    invert: bool | Column = False,
) -> pd.DataFrame:
    """The data with a `quantile` column: each row's quantile of `values` within its group.

    Parameters
    ----------
    data, values:
        A DataFrame and the name of its numeric column to rank by, or (data None) an array of
        values. Missing values are allowed: those rows get no quantile and are not counted.
    group_by:
        Column(s) of `data` whose combinations are the grouping sets (say the parent area, or
        indicator and parent area): quantiles are assigned within each. None: one set.
    quantiles:
        How many quantiles (10 deciles, 5 quintiles...), a whole number from 1.
    invert:
        False: quantile 1 holds the lowest values. True: quantile 1 holds the highest values
        (as `phe_quantile`'s default, `invert = TRUE`; so that quantile 1 is the worst when
        low is good). Or a column of `data` (an array without data) holding True/False for
        each row, the polarity of each group's indicator: it must be the same throughout a
        group.

    Returns a copy of the data (a frame of the arrays without data) with `quantile` (a
    nullable whole number, 1 to `quantiles`) appended; an existing `quantile` column is
    replaced. Rows keep their order and index.

    Raises InvalidInputError (naming the column and first offending row) for non-numeric
    values, an invert column that is not True/False or varies within a group, and a number of
    quantiles that is not a whole number from 1. Warns TooFewAreasWarning, naming them, when
    groups have fewer areas with a value than quantiles; their quantiles are missing.
    """
    count = _quantile_count(quantiles)
    invert_role: Column | None = None if isinstance(invert, bool | np.bool_) else invert
    frame, names = frame_of(data, {"values": values, "invert": invert_role})
    if data is None and group_by is not None:
        raise InvalidInputError("group_by names columns of data: give data to group by")
    ranked = numbers(frame, names["values"], allow_missing=True)
    codes, keys = group_codes(frame, group_by)
    if "invert" in names:
        inverted = _logical(frame, names["invert"])
        _same_within_groups(inverted, codes, keys, names["invert"])
    else:
        inverted = np.full(len(frame), bool(invert))

    order_by = pd.Series(np.where(inverted, -ranked, ranked))
    by_group = order_by.groupby(codes)
    rank = by_group.rank(method="min", na_option="keep").to_numpy(dtype=np.float64)
    areas = by_group.transform("count").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        quantile = np.floor((count + 1) - np.ceil(((areas + 1) - rank) / (areas / count)))
    quantile[quantile == 0] = 1
    too_few = areas < count
    quantile[too_few] = np.nan

    if too_few.any():
        groups = [int(group) for group in np.unique(codes[too_few])]
        sizes = np.bincount(codes[~np.isnan(ranked)], minlength=len(keys))
        named = "; ".join(
            f"{group_label(keys, group)} ({sizes[group]} with a value)" for group in groups[:5]
        )
        more = f"; and {len(groups) - 5} more" if len(groups) > 5 else ""
        warnings.warn(
            "One or more groups had too few small areas with values to allow quantiles to be "
            f"assigned ({count} quantiles asked, so no quantiles for them): {named}{more}",
            TooFewAreasWarning,
            stacklevel=2,
        )

    result = frame.copy()
    result["quantile"] = pd.array(quantile, dtype="Int64")
    return result


def _quantile_count(quantiles: object) -> int:
    if (
        isinstance(quantiles, bool)
        or not isinstance(quantiles, int | float | np.integer | np.floating)
        or not float(quantiles).is_integer()
        or quantiles < 1
    ):
        raise InvalidInputError(
            f"quantiles must be a whole number from 1 (say 10 for deciles), got {quantiles!r}"
        )
    return int(quantiles)


def _logical(frame: pd.DataFrame, column: str) -> npt.NDArray[np.bool_]:
    """A column of True/False (or 1/0), refusing anything else with its first row."""
    raw = frame[column]
    values = raw.to_numpy(dtype=object)
    good = np.array(
        [
            isinstance(value, bool | np.bool_)
            or (
                isinstance(value, int | float | np.integer | np.floating)
                and not pd.isna(value)
                and value in (0, 1)
            )
            for value in values
        ],
        dtype=bool,
    )
    if not good.all():
        position = int(np.argmin(good))
        raise InvalidInputError(
            f"expected True or False (whether the group's quantile 1 holds its highest "
            f"values), got {values[position]!r}",
            column=column,
            row=position + 1,
        )
    return np.array([bool(value) for value in values], dtype=bool)


def _same_within_groups(
    inverted: npt.NDArray[np.bool_],
    codes: npt.NDArray[np.intp],
    keys: pd.DataFrame,
    column: str,
) -> None:
    """Refuse an invert column that differs within a group, naming the group and the first
    row that differs from its group's first row."""
    if len(codes) == 0:
        return
    first_row = np.full(len(keys), -1, dtype=np.intp)
    positions = np.arange(len(codes))
    first_row[codes[::-1]] = positions[::-1]
    differs = inverted != inverted[first_row[codes]]
    if differs.any():
        position = int(np.argmax(differs))
        grouping = ", ".join(keys.columns) if len(keys.columns) else "the data (no groups)"
        raise InvalidInputError(
            "invert must take the same value for every row of a grouping set (grouped by "
            f"{grouping}), but {group_label(keys, int(codes[position]))} has both True and "
            "False",
            column=column,
            row=position + 1,
        )
