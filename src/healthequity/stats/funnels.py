"""Funnel plots: control limits around a baseline average, and which points fall outside
them, as PHEindicatormethods 2.1 `calculate_funnel_limits` and `assign_funnel_significance`
give them, following the Fingertips technical guidance on funnel plots.

Two sets of limits: "2s" at 95% (probabilities 0.025 each side) and "3s" at 99.8% (0.001
each side), around the baseline: the average over all the points (sum of numerators over
sum of denominators).

Proportions (Spiegelhalter 2005; the points where the Wilson score interval of an observed
proportion just touches the average a):

    limit(n) = a -/+ z sqrt(a (1 - a) / n),   z = 1.959964 (2s) or 3.090232 (3s)

times the multiplier, the lower limit at least 0 and the upper at most 100.

Ratios and rates (exact Poisson limits, Spiegelhalter 2005): at O observed events the
expected count whose exact Poisson interval just touches O is

    mu_low(O)  = chi2_inv(1 - p; 2(O + 1)) / 2    (P(X <= O | mu) = p)
    mu_high(O) = chi2_inv(p; 2 O) / 2             (P(X >= O | mu) = p)

for p = 0.025 and 0.001. A ratio's limits are O / mu (minus 1 for ratio_type "count", times
100 for "isr"); a rate's are O / (mu / a) times the multiplier, at a population of mu / a
(given per year of data).

Significance of each point:

- proportion: the point's proportion against a -/+ z sqrt(a (1 - a) / n) at its own n;
- ratio: the confidence interval of O / E against 1, the interval exact (chi-square) below
  10 events and Byar's from 10 (95% for 0.025, 99.8% for 0.001);
- rate: the same interval of O / n against the average, where n is the denominator derived
  from the rate (multiplier x O / rate), or the denominator given for crude rates with no
  events. DSRs with fewer than 10 events are "Not applicable for events less than 10 for
  dsrs".

References: Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
2005;24:1185-1202. Fingertips public health technical guidance: funnel plots (OHID).
Breslow NE, Day NE. Statistical methods in cancer research, volume II. Lyon: IARC; 1987
(Byar's approximation). Wilson EB. Probable inference, the law of succession, and statistical
inference. J Am Stat Assoc 1927;22:209-212.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from healthequity.stats._core import (
    Column,
    FloatArray,
    GroupBy,
    byars_lower,
    byars_upper,
    frame_of,
    group_codes,
    group_sum,
    numbers,
    z_score,
)
from healthequity.stats.exceptions import InvalidInputError

__all__ = ["SIGNIFICANCE_LEVELS", "funnel_limits", "funnel_significance"]

Statistic = Literal["proportion", "ratio", "rate"]
RateType = Literal["dsr", "crude"]
RatioType = Literal["count", "isr"]

POINTS = 100
"""Points along each funnel line."""

PROBABILITIES = {"2s": 0.025, "3s": 0.001}
"""One-sided probabilities of the 95% ("2s") and 99.8% ("3s") limits."""

SIGNIFICANCE_LEVELS = (
    "High (0.001)",
    "High (0.025)",
    "Low (0.001)",
    "Low (0.025)",
    "Not significant",
    "Not applicable for events less than 10 for dsrs",
)
"""The significance categories, in the reference's order (the last only for DSRs)."""

_EXACT_BELOW = 10


def funnel_limits(
    data: pd.DataFrame | None = None,
    numerator: Column = "numerator",
    denominator: Column | None = None,
    *,
    statistic: Statistic,
    multiplier: float | None = None,
    rate: Column | None = None,
    rate_type: RateType | None = None,
    ratio_type: RatioType | None = None,
    years_of_data: float | None = None,
    group_by: GroupBy = None,
    output: Literal["full", "standard"] = "full",
) -> pd.DataFrame:
    """The lines of a funnel plot: 100 points along the x axis, each with its 95% ("2s") and
    99.8% ("3s") lower and upper limits, as `calculate_funnel_limits` gives them.

    - proportion: `numerator` and `denominator` (people), `multiplier` (100 for %). Columns
      Population, lower_2s_limit, upper_2s_limit, lower_3s_limit, upper_3s_limit, baseline.
    - ratio: `numerator` observed and `denominator` expected events, `ratio_type` "count"
      (limits of O/E - 1) or "isr" (limits of 100 O/E); `multiplier` is required, as in the
      reference, but not used. Columns Observed_events and, per limit, the expected events
      (`lower_2s_exp_events`...) and the limit.
    - rate: `numerator` events, `rate` (per `multiplier`), `rate_type` "dsr" or "crude",
      `years_of_data`, and `denominator` for crude rates with no events. Columns Events
      and, per limit, the population per year (`lower_2s_population_1_year`...) and the
      limit, then baseline.

    With output "full", `statistic` and `method` columns are added. With `group_by`, one
    funnel (100 rows) per group, each around its own average.

    The axis runs from 0 when the largest denominator is more than twice the smallest,
    otherwise from 95% of the smallest rounded down to one significant figure; it ends at
    105% of the largest rounded up to two significant figures (per year for rates, then in
    events: times the average). Its 100 points grow geometrically from max(1, start): each
    is the larger of round((end / previous)^(1 / (101 - j)) x previous) and previous + 1
    (101 - j + 1 for ratios, as in the reference, whose last ratio point stops short of the
    end).
    """
    kind = _check_statistic(statistic)
    if output not in ("full", "standard"):
        raise InvalidInputError(f"output must be 'full' or 'standard', got {output!r}")
    frame, names = frame_of(
        data, {"numerator": numerator, "denominator": denominator, "rate": rate}
    )
    _require(kind, names, multiplier, rate_type, ratio_type, years_of_data, limits=True)
    codes, keys = group_codes(frame, group_by)
    n_groups = len(keys)
    observed, derived = _derived_denominators(frame, names, kind, rate_type, multiplier)
    average = group_sum(codes, observed, n_groups) / _nan_group_sum(codes, derived, n_groups)
    smallest, largest = _group_extremes(codes, derived, n_groups)

    years = float(years_of_data) if kind == "rate" and years_of_data is not None else 1.0
    scale = years if kind == "rate" else 1.0
    start = np.where(largest > 2 * smallest, 0.0, _round_down(smallest / scale) * scale)
    end = _round_up(largest / scale) * scale
    if kind == "rate":
        start = np.floor(start * average)
        end = np.ceil(end * average)
    axis = _axis_points(start, end, ratio=kind == "ratio")  # groups x 100

    mult = float(multiplier) if multiplier is not None else 1.0
    columns: dict[str, FloatArray] = {}
    if kind == "proportion":
        columns["Population"] = axis
        for name, p in PROBABILITIES.items():
            half = z_score(1 - 2 * p) * np.sqrt(average[:, None] * (1 - average[:, None]) / axis)
            columns[f"lower_{name}_limit"] = np.maximum(0.0, (average[:, None] - half) * mult)
            columns[f"upper_{name}_limit"] = np.minimum(100.0, (average[:, None] + half) * mult)
        columns["baseline"] = np.broadcast_to(average[:, None] * mult, axis.shape)
        columns = _reorder_proportion(columns)
    elif kind == "ratio":
        columns["Observed_events"] = axis
        for name, p in PROBABILITIES.items():
            for side, mu in (("lower", _mu_low(axis, p)), ("upper", _mu_high(axis, p))):
                limit = axis / mu
                limit = limit - 1 if ratio_type == "count" else limit * 100
                columns[f"{side}_{name}_exp_events"] = mu
                columns[f"{side}_{name}_limit"] = limit
    else:
        columns["Events"] = axis
        for name, p in PROBABILITIES.items():
            for side, mu in (("lower", _mu_low(axis, p)), ("upper", _mu_high(axis, p))):
                people = mu / average[:, None]
                columns[f"{side}_{name}_population_1_year"] = people / years
                columns[f"{side}_{name}_limit"] = axis / people * mult
        columns["baseline"] = np.broadcast_to(average[:, None] * mult, axis.shape)

    out = keys.loc[np.repeat(np.arange(n_groups), POINTS)].reset_index(drop=True)
    for name, values in columns.items():
        out[name] = np.asarray(values, dtype=np.float64).ravel()
    if output == "full":
        out["statistic"] = _statistic_label(kind, ratio_type, rate_type, multiplier)
        out["method"] = "Wilson" if kind == "proportion" else "Poisson"
    return out


def funnel_significance(
    data: pd.DataFrame | None = None,
    numerator: Column = "numerator",
    denominator: Column | None = None,
    *,
    statistic: Statistic,
    rate: Column | None = None,
    rate_type: RateType | None = None,
    multiplier: float | None = None,
    group_by: GroupBy = None,
) -> pd.DataFrame:
    """Each point's position against the funnel's limits, as `assign_funnel_significance`
    gives it: the data with a `significance` column, one of SIGNIFICANCE_LEVELS (a pandas
    categorical). "High (0.001)" is above the 99.8% limit, "High (0.025)" above the 95%
    limit only, and likewise "Low"; otherwise "Not significant".

    - proportion: `numerator` and `denominator`, each point against the average proportion;
    - ratio: `numerator` observed and `denominator` expected events, against 1;
    - rate: `numerator` events, `rate`, `rate_type` ("dsr" or "crude"), `multiplier` (the
      rate's "per"), and `denominator` where a crude rate has no events; against the
      average rate. DSRs from fewer than 10 events are "Not applicable for events less than
      10 for dsrs".

    With `group_by`, each group's points are judged against their own group's average.
    """
    kind = _check_statistic(statistic)
    frame, names = frame_of(
        data, {"numerator": numerator, "denominator": denominator, "rate": rate}
    )
    _require(kind, names, multiplier, rate_type, None, None, limits=False)
    codes, keys = group_codes(frame, group_by)
    n_groups = len(keys)
    observed = numbers(frame, names["numerator"])
    _refuse_where(
        observed < 0, frame, names["numerator"], "numerators must be greater than or equal to zero"
    )
    given = None
    if "denominator" in names:
        given = numbers(frame, names["denominator"], allow_missing=kind == "rate")
        _refuse_where(
            given <= 0, frame, names["denominator"], "denominators must be greater than zero"
        )
    if kind == "proportion":
        assert given is not None
        _refuse_where(
            observed > given,
            frame,
            names["numerator"],
            "numerators must be less than or equal to denominator for a proportion statistic",
        )
        share = observed / given
        average = (group_sum(codes, observed, n_groups) / group_sum(codes, given, n_groups))[codes]
        label = np.full(len(frame), "Not significant", dtype=object)
        for p, tag in ((0.025, "0.025"), (0.001, "0.001")):  # the stricter level last wins
            half = z_score(1 - 2 * p) * np.sqrt(average * (1 - average) / given)
            label = np.where(share > average + half, f"High ({tag})", label)
        for p, tag in ((0.025, "0.025"), (0.001, "0.001")):
            half = z_score(1 - 2 * p) * np.sqrt(average * (1 - average) / given)
            label = np.where(share < average - half, f"Low ({tag})", label)
    else:
        if kind == "ratio":
            assert given is not None
            expected, target = given, np.ones(len(frame))
        else:
            observed, expected = _derived_denominators(frame, names, kind, rate_type, multiplier)
            target = (
                group_sum(codes, observed, n_groups) / _nan_group_sum(codes, expected, n_groups)
            )[codes]
        label = _ratio_significance(observed, expected, target)
        if kind == "rate" and rate_type == "dsr":
            label = np.where(observed < _EXACT_BELOW, SIGNIFICANCE_LEVELS[5], label)
    out = frame.copy()
    categories = SIGNIFICANCE_LEVELS if kind == "rate" else SIGNIFICANCE_LEVELS[:5]
    out["significance"] = pd.Categorical(label, categories=list(categories))
    return out


# Limits -----------------------------------------------------------------------------------


def _mu_low(observed: FloatArray, p: float) -> FloatArray:
    """The Poisson mean at which P(X <= O) = p (exactly chi2_inv(1 - p; 2(O + 1)) / 2)."""
    return _poisson_funnel(observed, p, upper_tail=False)


def _mu_high(observed: FloatArray, p: float) -> FloatArray:
    """The Poisson mean at which P(X >= O) = p (exactly chi2_inv(p; 2 O) / 2)."""
    return _poisson_funnel(observed, p, upper_tail=True)


def _poisson_funnel(observed: FloatArray, p: float, *, upper_tail: bool) -> FloatArray:
    """Solve for the Poisson mean as the reference (and the Fingertips funnel tool) does: by
    bisection on v = mu / (1 + O + mu) in (0, 1), halving the step from 0.5 until it is at
    most 1e-7, so that the limits agree with the reference's to about 1e-9. They differ
    from the exact chi-square values by less than 1e-6 (relative) from 2 events, and by up
    to 5e-5 at 1 event."""
    v = np.full(observed.shape, 0.5)
    step = 0.5
    while step > 1e-7:
        step /= 2
        mu = (1 + observed) * v / (1 - v)
        if upper_tail:  # P(X >= O) too large: mu too large
            too_far = stats.poisson.sf(observed - 1, mu) > p
        else:  # P(X <= O) too small: mu too large
            too_far = stats.poisson.cdf(observed, mu) < p
        v = np.where(too_far, v - step, v + step)
    return np.asarray((1 + observed) * v / (1 - v), dtype=np.float64)


def _axis_points(start: FloatArray, end: FloatArray, *, ratio: bool) -> FloatArray:
    """The 100 x-axis points of each group's funnel (groups x 100)."""
    points = np.empty((len(start), POINTS))
    points[:, 0] = np.maximum(1.0, start)
    for j in range(2, POINTS + 1):
        offset = j - 1 if ratio else j
        previous = points[:, j - 2]
        grown = np.rint((end / previous) ** (1 / (101 - offset)) * previous)
        points[:, j - 1] = np.maximum(grown, previous + 1)
    return points


def _r_width(x: float) -> int:
    """nchar() of a whole number in R: its digits, or its width in scientific notation
    ("1e+05") where that is narrower, as R prints doubles."""
    if x == 0:
        return 1
    digits = len(str(int(x)))
    significant = len(str(int(x)).rstrip("0"))
    exponent = digits - 1
    scientific = (1 if significant == 1 else significant + 1) + (4 if exponent < 100 else 5)
    return digits if digits <= scientific else scientific


def _round_down(x: FloatArray) -> FloatArray:
    """95% of x rounded down to one significant figure (0 stays 0), as the reference's
    signif.floor: floor(0.95 x / 10^k) 10^k, k = nchar(floor(0.95 x)) - 1."""
    out = np.zeros(len(x))
    for i, value in enumerate(x):
        if value != 0 and np.isfinite(value):
            k = _r_width(math.floor(value * 0.95)) - 1
            out[i] = math.floor(value * 0.95 / 10**k) * 10**k
    return out


def _round_up(x: FloatArray) -> FloatArray:
    """105% of x rounded up to two significant figures (0 stays 0), as the reference's
    signif.ceiling: ceiling(1.05 x / 10^k) 10^k, k = nchar(ceiling(1.05 x)) - 2."""
    out = np.zeros(len(x))
    for i, value in enumerate(x):
        if value != 0 and np.isfinite(value):
            k = _r_width(math.ceil(value * 1.05)) - 2
            out[i] = math.ceil(value * 1.05 / 10.0**k) * 10.0**k
    return out


def _reorder_proportion(columns: dict[str, FloatArray]) -> dict[str, FloatArray]:
    order = [
        "Population",
        "lower_2s_limit",
        "upper_2s_limit",
        "lower_3s_limit",
        "upper_3s_limit",
        "baseline",
    ]
    return {name: columns[name] for name in order}


def _statistic_label(
    kind: Statistic,
    ratio_type: str | None,
    rate_type: str | None,
    multiplier: float | None,
) -> str:
    if kind == "ratio":
        return f"ratio ({ratio_type})"
    if kind == "rate":
        assert multiplier is not None
        per = f"{int(multiplier):,}" if float(multiplier).is_integer() else f"{multiplier:,}"
        return f"rate ({rate_type} per {per})"
    return "proportion"


# Significance -----------------------------------------------------------------------------


def _ratio_interval(observed: FloatArray, p: float) -> tuple[FloatArray, FloatArray]:
    """Limits of a Poisson count at two-sided level p: exact (chi-square) below 10 events,
    Byar's from 10; the lower limit 0 at 0 events."""
    level = p
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        exact_lower = np.where(observed == 0, 0.0, stats.chi2.ppf(alpha / 2, 2 * observed) / 2)
        exact_upper = stats.chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2
    small = observed < _EXACT_BELOW
    lower = np.where(small, exact_lower, byars_lower(observed, level))
    upper = np.where(small, exact_upper, byars_upper(observed, level))
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _ratio_significance(
    observed: FloatArray, expected: FloatArray, target: FloatArray
) -> npt.NDArray[np.object_]:
    label = np.full(len(observed), "Not significant", dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        wide_lower, wide_upper = _ratio_interval(observed, 0.998)
        narrow_lower, narrow_upper = _ratio_interval(observed, 0.95)
        # Checked in the reference's order: the first that holds wins (NaN never holds).
        checks = [
            (target < wide_lower / expected, "High (0.001)"),
            (target < narrow_lower / expected, "High (0.025)"),
            (target > wide_upper / expected, "Low (0.001)"),
            (target > narrow_upper / expected, "Low (0.025)"),
        ]
    for holds, name in reversed(checks):
        label = np.where(holds, name, label)
    return label


# Inputs -----------------------------------------------------------------------------------


def _check_statistic(statistic: object) -> Statistic:
    if statistic not in ("proportion", "ratio", "rate"):
        raise InvalidInputError(
            f"statistic must be provided as proportion, rate or ratio, got {statistic!r}"
        )
    return statistic


def _require(
    kind: Statistic,
    names: dict[str, str],
    multiplier: float | None,
    rate_type: str | None,
    ratio_type: str | None,
    years_of_data: float | None,
    *,
    limits: bool,
) -> None:
    """The reference's checks that the arguments each statistic needs are there."""
    if kind == "rate":
        needed = "data, numerator, rate, rate_type, multiplier" + (
            ", years_of_data" if limits else ""
        )
        if (
            "rate" not in names
            or rate_type is None
            or multiplier is None
            or (limits and years_of_data is None)
        ):
            raise InvalidInputError(f"the following arguments are required for rates: {needed}")
        if rate_type not in ("dsr", "crude"):
            raise InvalidInputError(f"rate_type must be 'dsr' or 'crude', got {rate_type!r}")
        if limits and years_of_data is not None and not years_of_data > 0:
            raise InvalidInputError(f"years_of_data must be more than 0, got {years_of_data!r}")
    elif kind == "ratio":
        if "denominator" not in names or (limits and (ratio_type is None or multiplier is None)):
            needed = "data, numerator, denominator" + (", ratio_type, multiplier" if limits else "")
            raise InvalidInputError(f"the following arguments are required for ratios: {needed}")
        if limits and ratio_type not in ("count", "isr"):
            raise InvalidInputError(f"ratio_type must be 'count' or 'isr', got {ratio_type!r}")
    else:
        if "denominator" not in names or (limits and multiplier is None):
            needed = "data, numerator, denominator" + (", multiplier" if limits else "")
            raise InvalidInputError(
                f"the following arguments are required for proportions: {needed}"
            )
    if multiplier is not None and not multiplier > 0:
        raise InvalidInputError(f"multiplier must be more than 0, got {multiplier!r}")


def _derived_denominators(
    frame: pd.DataFrame,
    names: dict[str, str],
    kind: Statistic,
    rate_type: str | None,
    multiplier: float | None,
) -> tuple[FloatArray, FloatArray]:
    """Numerators, and the denominators the funnel uses: as given for proportions and
    ratios; for rates, multiplier x events / rate (missing for a DSR with no events, the
    given denominator for a crude rate with no events)."""
    num_col = names["numerator"]
    if kind != "rate":
        complete = (
            "for proportions, numerators and denominators must be provided for all records, "
            "even when their values are zero"
            if kind == "proportion"
            else None
        )
        observed = _present(frame, num_col, complete, minimum=0)
        given = _present(frame, names["denominator"], complete, above=0)
        if kind == "proportion":
            _refuse_where(
                observed > given,
                frame,
                num_col,
                "numerators must be less than or equal to denominator for a proportion statistic",
            )
        return observed, given
    observed = _present(
        frame,
        num_col,
        "for rates, numerators must be provided for all records, even when their values are zero",
        minimum=0,
    )
    rates = numbers(frame, names["rate"], minimum=0, allow_missing=True)
    given = (
        numbers(frame, names["denominator"], allow_missing=True)
        if "denominator" in names
        else np.full(len(frame), np.nan)
    )
    no_rate = np.isnan(rates) & np.isnan(given)
    _refuse_where(
        no_rate,
        frame,
        names["rate"],
        "for rates, rates must be provided for all "
        "records, or a denominator must be provided if the rate is zero",
    )
    zero = observed == 0
    if zero.any():
        if "denominator" not in names:
            _refuse_where(
                zero,
                frame,
                num_col,
                "for rates, where there are 0 events for a "
                "record, the denominator field needs to be provided using the "
                "denominator argument",
            )
        _refuse_where(
            zero & ~(given > 0),
            frame,
            names["denominator"],
            "for rates, where there are 0 events for a record, the denominator must be provided",
        )
    assert multiplier is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        from_rate = multiplier * observed / rates
    if rate_type == "dsr":
        derived = np.where(zero, np.nan, from_rate)
    else:
        derived = np.where(zero, given, from_rate)
    return observed, np.asarray(derived, dtype=np.float64)


def _present(
    frame: pd.DataFrame,
    column: str,
    message: str | None,
    *,
    minimum: float | None = None,
    above: float | None = None,
) -> FloatArray:
    """A numeric column with no missing values, a missing one refused with `message` (the
    reference's words) when given."""
    missing = frame[column].isna().to_numpy()
    if message is not None and missing.any():
        raise InvalidInputError(message, column=column, row=int(np.argmax(missing)) + 1)
    return numbers(frame, column, minimum=minimum, above=above)


def _refuse_where(
    bad: npt.NDArray[np.bool_], frame: pd.DataFrame, column: str, problem: str
) -> None:
    if bad.any():
        position = int(np.argmax(bad))
        raise InvalidInputError(
            f"{problem} (got {frame[column].iloc[position]!r})", column=column, row=position + 1
        )


def _nan_group_sum(codes: npt.NDArray[np.intp], values: FloatArray, groups: int) -> FloatArray:
    """Sum of the present values of each group (the reference's na.rm = TRUE)."""
    present = ~np.isnan(values)
    return np.bincount(codes[present], weights=values[present], minlength=groups).astype(np.float64)


def _group_extremes(
    codes: npt.NDArray[np.intp], values: FloatArray, groups: int
) -> tuple[FloatArray, FloatArray]:
    """Smallest and largest present value of each group."""
    smallest = np.full(groups, np.inf)
    largest = np.full(groups, -np.inf)
    present = ~np.isnan(values)
    np.minimum.at(smallest, codes[present], values[present])
    np.maximum.at(largest, codes[present], values[present])
    return smallest, largest
