"""Crude rates with confidence limits for a Poisson count, as PHEindicatormethods 2.1 gives
them: exact limits below 10 events, Byar's approximation from 10.

References: Breslow NE, Day NE. Statistical methods in cancer research, volume II: the design
and analysis of cohort studies. Lyon: IARC; 1987 (Byar's approximation). Armitage P, Berry G.
Statistical methods in medical research, 4th edn. Oxford: Blackwell; 2002 (exact Poisson
limits from the chi-square distribution). Fingertips public health technical guidance,
"Confidence intervals" (OHID) and APHO Technical Briefing 3, "Commonly used public health
statistics and their confidence intervals" (2008).
"""

from __future__ import annotations

import numpy.typing as npt
import pandas as pd

from healthequity.stats._core import (
    Column,
    Confidence,
    FloatArray,
    GroupBy,
    byars_lower,
    byars_upper,
    confidence_levels,
    confidence_text,
    count_limits,
    count_method,
    frame_of,
    group_codes,
    group_sum,
    limit_columns,
    number_text,
    numbers,
    single_level,
)
from healthequity.stats._core import exact_poisson_limits as _exact_poisson_limits

__all__ = ["byars_limits", "exact_poisson_limits", "rate"]


def byars_limits(x: npt.ArrayLike, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Byar's approximate confidence limits for observed counts of events (Breslow & Day
    1987), as counts. For z the standard normal quantile at (1 + level)/2:

        lower = x (1 - 1/(9x) - z/(3 sqrt(x)))^3
        upper = (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3

    As in the reference, a lower limit that comes out negative (very small counts at high
    confidence, and x = 0) is missing: use exact limits (`exact_poisson_limits`) there.
    `x` is 0 or more (need not be whole); missing counts give missing limits.
    """
    level = single_level(confidence)
    counts = _counts(x)
    return byars_lower(counts, level), byars_upper(counts, level)


def exact_poisson_limits(
    x: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Exact confidence limits for observed counts of events from the Poisson distribution,
    through its relation to chi-square (Armitage & Berry 2002), as counts:

        lower = chi2_inv(alpha/2; 2x) / 2      (0 when x = 0)
        upper = chi2_inv(1 - alpha/2; 2x + 2) / 2
    """
    level = single_level(confidence)
    return _exact_poisson_limits(_counts(x), level)


def rate(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    n: Column = "n",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    multiplier: float = 100_000,
) -> pd.DataFrame:
    """Crude rates x/n x multiplier with confidence limits for a Poisson count, as
    PHEindicatormethods' `phe_rate` gives them (Fingertips technical guidance; APHO
    technical briefing 3).

    The limits are those of the count divided by n and times the multiplier: exact Poisson
    limits (chi-square; Armitage & Berry 2002) for fewer than 10 events, Byar's
    approximation (Breslow & Day 1987) from 10; `method` says which ("Exact" or "Byars").

    Without `group_by`, one result per input row: the data with `value`, the limit columns,
    `confidence`, `statistic` and `method` appended. With `group_by`, x and n are summed
    within each group first (a missing value makes its group's result missing) and there is
    one row per group: the group columns, the summed x and n, then the results.

    Counts must be 0 or more, denominators more than 0; counts may exceed denominators (a
    rate is not a proportion). Missing values are allowed and give missing results.
    """
    levels = confidence_levels(confidence)
    frame, names = frame_of(data, {"x": x, "n": n})
    counts = numbers(frame, names["x"], minimum=0, allow_missing=True)
    denominators = numbers(frame, names["n"], above=0, allow_missing=True)
    if group_by is None:
        result = frame.copy()
    else:
        codes, result = group_codes(frame, group_by)
        groups = len(result)
        counts = group_sum(codes, counts, groups)
        denominators = group_sum(codes, denominators, groups)
        result[names["x"]] = counts
        result[names["n"]] = denominators
    scale = multiplier / denominators
    result["value"] = counts * scale
    for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
        lower, upper = count_limits(counts, level)
        result[lower_name] = lower * scale
        result[upper_name] = upper * scale
    result["confidence"] = confidence_text(levels)
    result["statistic"] = f"rate per {number_text(multiplier)}"
    result["method"] = count_method(counts)
    return result


def _counts(x: npt.ArrayLike) -> FloatArray:
    frame, _ = frame_of(None, {"x": x})
    return numbers(frame, "x", minimum=0, allow_missing=True)
