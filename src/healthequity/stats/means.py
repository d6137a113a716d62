"""Means with Student's t-distribution confidence limits, as PHEindicatormethods 2.1 gives
them.

References: Student (Gosset WS). The probable error of a mean. Biometrika 1908;6:1-25.
Fingertips public health technical guidance, "Confidence intervals" (OHID), and APHO
Technical Briefing 3, "Commonly used public health statistics and their confidence
intervals" (2008), section on means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from healthequity.stats._core import (
    Column,
    Confidence,
    GroupBy,
    confidence_levels,
    confidence_text,
    frame_of,
    group_codes,
    group_sum,
    limit_columns,
    numbers,
)

__all__ = ["mean"]


def mean(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """The mean of x, with confidence limits from Student's t-distribution, as
    PHEindicatormethods' `phe_mean` gives them (Fingertips technical guidance; APHO
    technical briefing 3):

        value = sum(x) / k,   limits = value -/+ t(1 - alpha/2; k - 1) s / sqrt(k)

    where k is the number of values and s their sample standard deviation (divisor k - 1).

    Aggregates: without `group_by` one result for all the rows; with it one row per group,
    the group columns first. Columns: value_sum, value_count, stdev, value, the limit
    columns, confidence, statistic ("mean") and method ("Student's t-distribution").

    As in the reference, a missing value makes its group's sum, standard deviation, mean
    and limits missing (it still counts in value_count); one value gives missing limits.
    """
    levels = confidence_levels(confidence)
    frame, names = frame_of(data, {"x": x})
    values = numbers(frame, names["x"], allow_missing=True)
    codes, result = group_codes(frame, group_by)
    groups = len(result)
    value_sum = group_sum(codes, values, groups)
    value_count = np.bincount(codes, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = value_sum / value_count
        squares = group_sum(codes, (values - value[codes]) ** 2, groups)
        stdev = np.sqrt(squares / (value_count - 1))
        standard_error = stdev / np.sqrt(value_count)
    result["value_sum"] = value_sum
    result["value_count"] = value_count
    result["stdev"] = stdev
    result["value"] = value
    degrees = np.where(value_count > 1, value_count - 1, np.nan)
    for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
        half_width = stats.t.ppf(level + (1 - level) / 2, degrees) * standard_error
        result[lower_name] = value - half_width
        result[upper_name] = value + half_width
    result["confidence"] = confidence_text(levels)
    result["statistic"] = "mean"
    result["method"] = "Student's t-distribution"
    return result
