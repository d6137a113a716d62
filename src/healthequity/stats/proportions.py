"""Proportions with Wilson score confidence limits, as PHEindicatormethods 2.1 gives them.

References: Wilson EB. Probable inference, the law of succession, and statistical inference.
J Am Stat Assoc 1927;22:209-212. Newcombe RG. Two-sided confidence intervals for the single
proportion: comparison of seven methods. Stat Med 1998;17:857-872 (and Newcombe RG, Altman
DG, in Statistics with confidence, 2nd edn, BMJ Books 2000, pp 46-48). Fingertips public
health technical guidance, "Confidence intervals" (OHID).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from healthequity.stats._core import (
    Column,
    Confidence,
    FloatArray,
    GroupBy,
    confidence_levels,
    confidence_text,
    frame_of,
    group_codes,
    group_sum,
    limit_columns,
    number_text,
    numbers,
    single_level,
    z_score,
)
from healthequity.stats.exceptions import InvalidInputError

__all__ = ["proportion", "wilson_limits"]


def _wilson(x: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    z = z_score(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        scale = 2 * (n + z**2)
        return (centre - spread) / scale, (centre + spread) / scale


def _check_not_above(x: FloatArray, n: FloatArray, column: str) -> None:
    above = ~np.isnan(x) & ~np.isnan(n) & (x > n)
    if above.any():
        row = int(np.argmax(above))
        raise InvalidInputError(
            f"the numerator ({x[row]:g}) must not exceed the denominator ({n[row]:g}) "
            "for a proportion",
            column=column,
            row=row + 1,
        )


def wilson_limits(
    x: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits of the proportions x/n, as proportions (0 to 1).

    For z the standard normal quantile at (1 + level)/2 (Wilson 1927; Newcombe 1998,
    method 3; Fingertips technical guidance):

        limits = (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))

    `x` (cases, 0 or more, need not be whole) and `n` (sample sizes, more than 0, at least
    x) are arrays or scalars; missing values give missing limits. `confidence` is one level,
    0.95 or 95.
    """
    level = single_level(confidence)
    frame, _ = frame_of(None, {"x": x, "n": n})
    cases = numbers(frame, "x", minimum=0, allow_missing=True)
    sizes = numbers(frame, "n", above=0, allow_missing=True)
    _check_not_above(cases, sizes, "x")
    return _wilson(cases, sizes, level)


def proportion(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    n: Column = "n",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Proportions x/n with Wilson score confidence limits (Wilson 1927; Newcombe 1998).

    The value is x/n x multiplier (1 for a proportion, 100 for a percentage) and the limits
    are the Wilson score limits (see `wilson_limits`) times the multiplier, as
    PHEindicatormethods' `phe_proportion` gives them.

    Without `group_by`, one result per input row: the data with `value`, the limit columns,
    `confidence`, `statistic` and `method` appended. With `group_by`, x and n are summed
    within each group first (a missing value makes its group's result missing) and there is
    one row per group: the group columns, the summed x and n, then the results.

    Numerators must be 0 or more and no more than their denominators; denominators more than
    0. Missing values are allowed and give missing results.
    """
    levels = confidence_levels(confidence)
    frame, names = frame_of(data, {"x": x, "n": n})
    cases = numbers(frame, names["x"], minimum=0, allow_missing=True)
    sizes = numbers(frame, names["n"], above=0, allow_missing=True)
    _check_not_above(cases, sizes, names["x"])
    if group_by is None:
        result = frame.copy()
    else:
        codes, result = group_codes(frame, group_by)
        groups = len(result)
        cases = group_sum(codes, cases, groups)
        sizes = group_sum(codes, sizes, groups)
        result[names["x"]] = cases
        result[names["n"]] = sizes
    with np.errstate(invalid="ignore", divide="ignore"):
        result["value"] = cases / sizes * multiplier
    for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
        lower, upper = _wilson(cases, sizes, level)
        result[lower_name] = lower * multiplier
        result[upper_name] = upper * multiplier
    result["confidence"] = confidence_text(levels)
    result["statistic"] = (
        "percentage" if multiplier == 100 else f"proportion of {number_text(multiplier)}"
    )
    result["method"] = "Wilson"
    return result
