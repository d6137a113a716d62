"""Slope and relative index of inequality (SII, RII) with confidence limits by simulation, as
PHEindicatormethods 2.1's `phe_sii` gives them (the method of OHID's Fingertips profiles).

Method (Low & Low 2004; Mackenbach & Kunst 1997; Fingertips public health technical guidance,
"Slope index of inequality (SII) and relative index of inequality (RII)",
https://fingertips.phe.org.uk/static-reports/public-health-technical-guidance/Inequality/
SII.html, which follows the Association of Public Health Observatories' SII tool):

* The Q quantiles of an area (deprivation deciles, say), ordered from 1 (most deprived) up,
  have population shares a_i = P_i / sum P. Each gets a relative rank x_i, the midpoint of its
  range in the cumulative population share: x_i = a_1 + ... + a_(i-1) + a_i / 2.
* The indicator values y_i are regressed on x_i by least squares weighted by a_i (the
  regression of y sqrt(a) on sqrt(a) and x sqrt(a) without a constant, which is how the
  guidance writes it). In closed form, with weighted means xbar = sum a x / sum a and
  ybar = sum a y / sum a:

      slope b1 = sum a (x - xbar)(y - ybar) / sum a (x - xbar)^2,  intercept b0 = ybar - b1 xbar.

  As x runs from 0 to 1, SII = b1 x multiplier: the fitted gap between the bottom and the top
  of the social scale. The intercept is the fitted value at x = 0 and RII = (b0 + b1) / b0,
  the fitted value at x = 1 over that at x = 0 (its inverse with a negative multiplier, which
  flips the polarity).
* Rates (value_type 1) and proportions (value_type 2) can be log and logit transformed before
  the regression (`transform`); SII, RII and the intercept are then the back-transformed
  fitted values at x = 1 and 0: SII = (g(b0 + b1) - g(b0)) x multiplier, RII = g(b0 + b1) /
  g(b0), intercept = g(b0), with g = exp or the inverse logit.
* Confidence limits by simulation: each quantile's value is drawn `repetitions` times from
  its sampling distribution, the regression is refitted to every set of draws, and the
  limits are order statistics of the simulated SIIs (and RIIs). The sampling distribution is
  normal with the value's standard error; for rates and proportions it is normal on the log
  or logit scale (the standard error on that scale, as given or derived from 95% limits,
  SE = (h(upper) - h(lower)) / (2 x 1.959964) with h the transform), drawn values being
  transformed back unless `transform`. For a confidence level C the limits are the
  round(R (1 - C) / 2)-th and round(R (1 + C) / 2)-th of the R sorted simulated values, as the
  reference takes them. With `transform`, the simulated slopes (on the log or logit scale)
  give limits that are centred on the fitted midpoint m = b0 + b1 / 2 and back-transformed:
  a slope limit s gives SII limit (g(m + s/2) - g(m - s/2)) x multiplier and RII limit
  g(m + s/2) / g(m - s/2).
* Reliability statistic (PHEindicatormethods' `reliability_stat`): the simulation is run ten
  times (10 R draws, in ten samples of R) and, for each limit, the mean absolute difference
  between the first sample's limits and those of the other nine is reported; the limits
  themselves are the first sample's.

References: Low A, Low A. Measuring the gap: quantifying and comparing local health
inequalities. J Public Health 2004;26(4):388-395 (doi:10.1093/pubmed/fdh175). Mackenbach JP,
Kunst AE. Measuring the magnitude of socio-economic inequalities in health: an overview of
available measures illustrated with two examples from Europe. Soc Sci Med 1997;44(6):757-771.
Fingertips public health technical guidance (OHID), as above. PHEindicatormethods (UKHSA/OHID,
GPL-3) documentation of `phe_sii`, for the reliability statistic and the data checks.

Implementation: the simulation is vectorised over blocks of (groups x repetitions x
quantiles). The fit is linear in the values, so each group's slope and intercept are fixed
weighted sums of the quantile values and a whole block is fitted by one batched matrix
product. Each group draws from its own PCG64 stream (numpy Generator), spawned from `seed` in
the groups' sorted order, so results do not depend on row order, block sizes or threads. The
normal deviates come from the Box-Muller transform of 23-bit uniforms in single precision (the
tails are accurate to beyond 5.6 standard deviations, far past any percentile used); the fitted
slopes, ratios and limits are double precision. Blocks of groups run on the available cores;
memory stays bounded (tens of MB per core) however many groups and repetitions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeAlias

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
    group_label,
    level_label,
    limit_columns,
    numbers,
    z_score,
)
from healthequity.stats.exceptions import InvalidInputError, StatsWarning

__all__ = ["IncompleteGroupsWarning", "ManyQuantilesWarning", "sii"]

ValueType: TypeAlias = int | Literal["normal", "rate", "proportion"]
Seed: TypeAlias = int | np.random.SeedSequence | None

VALUE_TYPES = {"normal": 0, "rate": 1, "proportion": 2}
_TYPE_NAMES = {code: name for name, code in VALUE_TYPES.items()}
_TRANSFORM_NAMES = {0: "none", 1: "log", 2: "logit"}
MIN_REPETITIONS = 1000
MIN_QUANTILES, MAX_QUANTILES, MANY_QUANTILES = 5, 100, 10
RELIABILITY_SAMPLES = 10
_LIMITS_LEVEL = 0.95  # the given limits are taken as 95% limits, as the reference does
_BLOCK_NORMALS = 8192  # normals drawn per group per block: a block stays in cache
_STORE_BYTES = 64 * 2**20  # simulated values kept per block of groups, per thread
_INLINE_WORK = 2_000_000  # below this many normals in all, no threads


class IncompleteGroupsWarning(StatsWarning):
    """Groups lacking some of the quantiles were left out: the SII needs all of them."""


class ManyQuantilesWarning(StatsWarning):
    """More than 10 quantiles: small values can make the SII unstable."""


def sii(
    data: pd.DataFrame | None = None,
    quantile: Column = "quantile",
    population: Column = "population",
    *,
    value: Column | None = None,
    value_type: ValueType = 0,
    count: Column | None = None,
    lower_cl: Column | None = None,
    upper_cl: Column | None = None,
    standard_error: Column | None = None,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    repetitions: int = 100_000,
    seed: Seed = None,
    rii: bool = False,
    intercept: bool = False,
    reliability_stat: bool = False,
    transform: bool = False,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Slope index of inequality for each group, with confidence limits by simulation (and
    optionally the relative index of inequality, the intercept and the reliability
    statistic), as PHEindicatormethods 2.1's `phe_sii`. The method is in the module's
    docstring.

    Parameters
    ----------
    data, quantile, population:
        A DataFrame with one row per group and quantile, and the names of its quantile label
        (numbers, or text, which sorts as text: "10" before "2"; sorted, the labels must run
        from the most to the least deprived, or the SII changes sign) and quantile
        population columns; or (data None) arrays. Populations must be more than 0. Every
        group needs every quantile found in the data (5 to 100 of them): a group lacking any
        is dropped with an IncompleteGroupsWarning naming it.
    value, value_type, count:
        The indicator value of each quantile, and its type: 0 or "normal" (any value, say life
        expectancy), 1 or "rate" (values 0 or more, simulated on the log scale) or 2 or
        "proportion" (0 to 1, simulated on the logit scale). For a proportion, `count` (more
        than 0 and at most the population) may stand in for `value`: value = count /
        population.
    lower_cl, upper_cl, standard_error:
        The value's 95% confidence limits, or its standard error (on the log or logit scale
        for rates and proportions; used in preference to the limits when both are given).
    group_by:
        Column(s) of `data` naming the groups (areas) to give an SII each; None: one SII.
    confidence:
        Level(s) of the SII's limits: 0.95 or 95, or several, as (0.95, 0.998).
    repetitions, seed:
        Simulation size (at least 1000) and the seed of the random streams (None: fresh).
    rii, intercept, reliability_stat:
        Also return the RII and its limits; the intercept (the fitted value at the most
        deprived end, times |multiplier|); the mean absolute difference of each limit over
        ten simulations (`sii_mad`, `rii_mad`), which takes ten times as long.
    transform:
        Fit rates on the log scale and proportions on the logit scale (the limits are then
        needed, not a standard error), back-transforming the results.
    multiplier:
        Scale of the SII and its limits (100 for percentages). Negative flips the polarity:
        the SII changes sign and the RII is inverted.

    Returns one row per group, in sorted group order: the group columns, `sii`, `rii`, the
    limits (`sii_lowercl`, `sii_uppercl`, `rii_lowercl`, `rii_uppercl` for one level;
    `sii_lower95_0cl`, `sii_upper95_0cl`... for several), `sii_mad`/`rii_mad` (or
    `sii_mad95_0`...), `intercept`, then `value_type`, `multiplier`, `transform`,
    `confidence` and `method`.

    Raises InvalidInputError naming the column and first offending row for missing, non-numeric
    or out-of-range data, and for arguments the reference refuses (no value or count, no
    limits or standard error, a transform of normal values or with a standard error, fewer
    than 1000 repetitions, fewer than 5 or more than 100 quantiles, a quantile given twice in
    a group); InvalidConfidenceError for a level outside 0.9 to 1 (or 90 to 100). Warns
    ManyQuantilesWarning above 10 quantiles.

    Differences from the reference, where its answer would be unusable or inconsistent: the
    intercept is scaled by |multiplier| without a transform too (the reference scales it only
    with one); with a transform, a rate's limits are swapped only for a negative multiplier
    (the reference also swaps them for multipliers between 0 and 1); missing values, limits
    below 0 for rates, lower limits above upper ones and limits whose log or logit is infinite
    are refused rather than giving missing or infinite limits.
    """
    kind = _value_kind(value_type)
    levels = confidence_levels(confidence)
    total_repetitions = _repetitions(repetitions)
    scale = _multiplier(multiplier)
    seed_sequence = _seed(seed)
    if value is None and count is None:
        raise InvalidInputError(
            "sii needs value, or count (with population) if the indicator is a proportion"
        )
    if value is None and kind != 2:
        raise InvalidInputError(
            "count stands in for value only for proportions (value_type 2): give value"
        )
    if standard_error is None and (lower_cl is None or upper_cl is None):
        raise InvalidInputError("sii needs either lower_cl and upper_cl, or standard_error")
    if transform and kind == 0:
        raise InvalidInputError(
            "value_type should be 1 (rate) or 2 (proportion) when transform is true"
        )
    if transform and standard_error is not None:
        raise InvalidInputError(
            "give lower_cl and upper_cl, not standard_error, when transform is true: the "
            "transform needs the limits"
        )
    if data is None and group_by is not None:
        raise InvalidInputError("group_by names columns of data: give data to group by")

    frame, names = frame_of(
        data,
        {
            "quantile": quantile,
            "population": population,
            "value": value,
            "count": count,
            "lower_cl": lower_cl,
            "upper_cl": upper_cl,
            "standard_error": standard_error,
        },
    )
    inputs = _read_inputs(frame, names, kind, transform)
    labels, label_index = _quantile_labels(frame, names["quantile"])
    codes, keys = group_codes(frame, group_by)
    complete = _complete_groups(codes, keys, label_index, labels, names["quantile"])

    # (groups x quantiles) arrays, quantiles in sorted label order.
    rows = np.flatnonzero(complete[codes])
    rows = rows[np.lexsort((label_index[rows], codes[rows]))]
    groups, quantiles = int(complete.sum()), len(labels)
    shape = (groups, quantiles)
    populations = inputs.population[rows].reshape(shape)
    values = inputs.value[rows].reshape(shape)
    means = inputs.mean[rows].reshape(shape)
    errors = inputs.error[rows].reshape(shape)

    weights = _fit_weights(populations)
    fitted = values if not transform else means
    b0, b1 = np.einsum("gq,gqk->kg", fitted, weights)
    estimates = _point_estimates(b0, b1, kind, transform, scale)

    samples = RELIABILITY_SAMPLES if reliability_stat else 1
    positions = [_limit_positions(level, total_repetitions) for level in levels]
    kth = sorted({position for pair in positions for position in pair})
    sii_order, rii_order = _simulate(
        means,
        errors,
        weights,
        inverse=None if transform else _INVERSES[kind],
        sii_scale=1.0 if transform else scale,
        rii_mode=None if (transform or not rii) else ("inverse" if scale < 0 else "ratio"),
        samples=samples,
        repetitions=total_repetitions,
        kth=kth,
        seed=seed_sequence,
    )
    limits = _limits(
        sii_order, rii_order, kth, positions, levels, b0, b1, kind, transform, scale, rii
    )

    result = keys.iloc[np.flatnonzero(complete)].reset_index(drop=True)
    result["sii"] = estimates["sii"]
    if rii:
        result["rii"] = estimates["rii"]
    for metric in ("sii", "rii") if rii else ("sii",):
        for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
            lower, upper = limits[(metric, level)]
            result[f"{metric}_{lower_name}"] = lower[:, 0]
            result[f"{metric}_{upper_name}"] = upper[:, 0]
    if reliability_stat:
        for metric in ("sii", "rii") if rii else ("sii",):
            for level in levels:
                lower, upper = limits[(metric, level)]
                suffix = "" if len(levels) == 1 else level_label(level)
                result[f"{metric}_mad{suffix}"] = _mean_absolute_difference(lower, upper)
    if intercept:
        result["intercept"] = estimates["intercept"]
    result["value_type"] = _TYPE_NAMES[kind]
    result["multiplier"] = float(scale)
    result["transform"] = _TRANSFORM_NAMES[kind] if transform else "none"
    result["confidence"] = confidence_text(levels)
    result["method"] = f"simulation, {total_repetitions} repetitions" + (
        f", {RELIABILITY_SAMPLES} times for reliability" if reliability_stat else ""
    )
    return result


# Arguments --------------------------------------------------------------------------------


def _value_kind(value_type: object) -> int:
    if isinstance(value_type, str) and value_type.lower() in VALUE_TYPES:
        return VALUE_TYPES[value_type.lower()]
    if (
        isinstance(value_type, int | np.integer)
        and not isinstance(value_type, bool)
        and int(value_type) in _TYPE_NAMES
    ):
        return int(value_type)
    raise InvalidInputError(
        f"value_type should be 0, 1 or 2 (or 'normal', 'rate', 'proportion'), got {value_type!r}"
    )


def _repetitions(repetitions: object) -> int:
    if isinstance(repetitions, bool) or not isinstance(repetitions, int | np.integer):
        raise InvalidInputError(f"repetitions must be a whole number, got {repetitions!r}")
    if repetitions < MIN_REPETITIONS:
        raise InvalidInputError(
            f"number of repetitions must be {MIN_REPETITIONS} or greater (default 100,000), "
            f"got {repetitions}"
        )
    return int(repetitions)


def _multiplier(multiplier: object) -> float:
    if (
        isinstance(multiplier, bool)
        or not isinstance(multiplier, int | float | np.integer | np.floating)
        or not np.isfinite(multiplier)
        or multiplier == 0
    ):
        raise InvalidInputError(
            f"multiplier must be a number other than 0 (say 100 for percentages), got "
            f"{multiplier!r}"
        )
    return float(multiplier)


def _seed(seed: object) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0
    ):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise InvalidInputError(f"seed must be a whole number from 0, or None, got {seed!r}")


# Data -------------------------------------------------------------------------------------


class _Inputs:
    """Per row: population, value, the simulation's mean (value on the log/logit scale for
    rates and proportions) and standard error (on that scale)."""

    def __init__(
        self, population: FloatArray, value: FloatArray, mean: FloatArray, error: FloatArray
    ) -> None:
        self.population = population
        self.value = value
        self.mean = mean
        self.error = error


def _log(values: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.log(values)


def _logit(values: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.log(values) - np.log1p(-values)


_TRANSFORMS: dict[int, Callable[[FloatArray], FloatArray]] = {
    0: lambda values: values,
    1: _log,
    2: _logit,
}


def _read_inputs(frame: pd.DataFrame, names: dict[str, str], kind: int, transform: bool) -> _Inputs:
    population = numbers(frame, names["population"], above=0)
    minimum = None if kind == 0 else 0.0
    maximum = 1.0 if kind == 2 else None
    if "value" in names:
        value_column = names["value"]
        value = numbers(frame, value_column, minimum=minimum, maximum=maximum)
    else:
        value_column = names["count"]
        counts = numbers(frame, value_column, above=0)
        over = counts > population
        if over.any():
            row = int(np.argmax(over))
            raise InvalidInputError(
                f"the count ({counts[row]:g}) must not exceed the population "
                f"({population[row]:g}) for a proportion",
                column=value_column,
                row=row + 1,
            )
        value = counts / population
    transformed = _TRANSFORMS[kind]
    mean = transformed(value)
    if transform:
        _refuse_infinite(mean, value, value_column, kind)

    if "standard_error" in names:
        error = numbers(frame, names["standard_error"], minimum=0)
    else:
        lower = numbers(frame, names["lower_cl"], minimum=minimum, maximum=maximum)
        upper = numbers(frame, names["upper_cl"], minimum=minimum, maximum=maximum)
        reversed_limits = lower > upper
        if reversed_limits.any():
            row = int(np.argmax(reversed_limits))
            raise InvalidInputError(
                f"the lower limit ({lower[row]:g}) is above the upper limit ({upper[row]:g})",
                column=names["lower_cl"],
                row=row + 1,
            )
        low, high = transformed(lower), transformed(upper)
        _refuse_infinite(low, lower, names["lower_cl"], kind)
        _refuse_infinite(high, upper, names["upper_cl"], kind)
        error = (high - low) / (2 * z_score(_LIMITS_LEVEL))
    return _Inputs(population, value, mean, error)


def _refuse_infinite(transformed: FloatArray, raw: FloatArray, column: str, kind: int) -> None:
    infinite = ~np.isfinite(transformed)
    if infinite.any():
        row = int(np.argmax(infinite))
        scale = "log" if kind == 1 else "logit"
        allowed = "more than 0" if kind == 1 else "between 0 and 1, exclusive"
        raise InvalidInputError(
            f"{raw[row]:g} has no {scale}: values and limits used on the {scale} scale must be "
            f"{allowed}",
            column=column,
            row=row + 1,
        )


def _quantile_labels(
    frame: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.intp]]:
    """The sorted distinct quantile labels and each row's position among them."""
    raw = frame[column]
    missing = raw.isna().to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise InvalidInputError("the quantile is missing", column=column, row=row + 1)
    numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    # Text labels sort as text, as the reference's arrange() sorts them ("10" before "2").
    values = raw.to_numpy(dtype=np.float64) if numeric else raw.astype(str).to_numpy(dtype=str)
    labels, label_index = np.unique(values, return_inverse=True)
    if not MIN_QUANTILES <= len(labels) <= MAX_QUANTILES:
        raise InvalidInputError(
            f"Number of quantiles must be between {MIN_QUANTILES} and {MAX_QUANTILES}, found "
            f"{len(labels)}",
            column=column,
        )
    if len(labels) > MANY_QUANTILES:
        warnings.warn(
            f"Small values can make the SII unstable when using a large number of quantiles "
            f"({len(labels)} here)",
            ManyQuantilesWarning,
            stacklevel=3,
        )
    return labels, label_index.astype(np.intp).ravel()


def _complete_groups(
    codes: npt.NDArray[np.intp],
    keys: pd.DataFrame,
    label_index: npt.NDArray[np.intp],
    labels: npt.NDArray[np.generic],
    column: str,
) -> npt.NDArray[np.bool_]:
    """Which groups have every quantile once; refuses a quantile given twice in a group and
    warns, naming them, of groups lacking some."""
    quantiles = len(labels)
    cell = codes * quantiles + label_index
    order = np.argsort(cell, kind="stable")
    repeated = np.flatnonzero(cell[order][1:] == cell[order][:-1])
    if repeated.size:
        row = int(order[repeated + 1].min())
        raise InvalidInputError(
            f"quantile {_label_text(labels[label_index[row]])} appears more than once for "
            f"{group_label(keys, int(codes[row]))}",
            column=column,
            row=row + 1,
        )
    present = np.bincount(codes, minlength=len(keys))
    complete: npt.NDArray[np.bool_] = present == quantiles
    if not complete.all():
        incomplete = [int(group) for group in np.flatnonzero(~complete)]
        have = np.zeros((len(keys), quantiles), dtype=bool)
        have[codes, label_index] = True
        details = []
        for group in incomplete[:5]:
            lacking = [_label_text(labels[i]) for i in np.flatnonzero(~have[group])]
            details.append(
                f"{group_label(keys, group)} (no quantile {', '.join(lacking[:10])}"
                f"{'...' if len(lacking) > 10 else ''})"
            )
        more = f"; and {len(incomplete) - 5} more" if len(incomplete) > 5 else ""
        warnings.warn(
            f"some records have been removed due to incomplete data: {len(incomplete)} "
            f"group{'s' if len(incomplete) > 1 else ''} without all {quantiles} quantiles "
            f"left out: {'; '.join(details)}{more}",
            IncompleteGroupsWarning,
            stacklevel=3,
        )
    return complete


def _label_text(label: object) -> str:
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label)


# Fit --------------------------------------------------------------------------------------


def _fit_weights(populations: FloatArray) -> FloatArray:
    """(groups x quantiles x 2) weights giving each group's intercept and slope as weighted
    sums of its quantile values: the weighted least squares fit in closed form."""
    shares = populations / populations.sum(axis=1, keepdims=True)
    ranks = np.cumsum(shares, axis=1) - shares / 2
    total = shares.sum(axis=1, keepdims=True)
    centre = (shares * ranks).sum(axis=1, keepdims=True) / total
    deviation = ranks - centre
    slope = shares * deviation / (shares * deviation**2).sum(axis=1, keepdims=True)
    level = shares / total - centre * slope
    return np.stack([level, slope], axis=2)


def _expit(values: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        return np.asarray(1 / (1 + np.exp(-values)))


def _exp(values: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        return np.exp(values)


_BACK: dict[int, Callable[[FloatArray], FloatArray]] = {1: _exp, 2: _expit}


def _point_estimates(
    b0: FloatArray, b1: FloatArray, kind: int, transform: bool, scale: float
) -> dict[str, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if transform:
            back = _BACK[kind]
            bottom, top = back(b0), back(b0 + b1)
            gap = (top - bottom) * scale
        else:
            bottom, top = b0, b0 + b1
            gap = b1 * scale
        ratio = top / bottom
        return {
            "sii": gap,
            "rii": 1 / ratio if scale < 0 else ratio,
            "intercept": bottom * abs(scale),
        }


def _limit_positions(level: float, repetitions: int) -> tuple[int, int]:
    """0-based positions in the sorted simulated values of the lower and upper limits: the
    reference's round(R (1 - C)/2) and round(R (1 + C)/2), counted from 1."""
    upper_tail = level + (1 - level) / 2
    lower = round(repetitions * (1 - upper_tail))
    upper = round(repetitions * upper_tail)
    return min(max(lower, 1), repetitions) - 1, min(max(upper, 1), repetitions) - 1


def _limits(
    sii_order: FloatArray,
    rii_order: FloatArray | None,
    kth: list[int],
    positions: list[tuple[int, int]],
    levels: Sequence[float],
    b0: FloatArray,
    b1: FloatArray,
    kind: int,
    transform: bool,
    scale: float,
    rii: bool,
) -> dict[tuple[str, float], tuple[FloatArray, FloatArray]]:
    """(lower, upper), each (groups x samples), for each metric and level, from the order
    statistics `kth` of the simulated values (back-transformed with `transform`)."""
    column = {position: i for i, position in enumerate(kth)}
    limits: dict[tuple[str, float], tuple[FloatArray, FloatArray]] = {}
    for level, (low, high) in zip(levels, positions, strict=True):
        sii_low, sii_high = sii_order[:, :, column[low]], sii_order[:, :, column[high]]
        if not transform:
            limits[("sii", level)] = (sii_low, sii_high)
            if rii and rii_order is not None:
                limits[("rii", level)] = (
                    rii_order[:, :, column[low]],
                    rii_order[:, :, column[high]],
                )
            continue
        back = _BACK[kind]
        middle = (b0 + b1 / 2)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            top_low, bottom_low = back(middle + sii_low / 2), back(middle - sii_low / 2)
            top_high, bottom_high = back(middle + sii_high / 2), back(middle - sii_high / 2)
            gap_low, gap_high = (top_low - bottom_low) * scale, (top_high - bottom_high) * scale
            ratio_low, ratio_high = top_low / bottom_low, top_high / bottom_high
        if scale < 0:
            limits[("sii", level)] = (gap_high, gap_low)
            limits[("rii", level)] = (1 / ratio_high, 1 / ratio_low)
        else:
            limits[("sii", level)] = (gap_low, gap_high)
            limits[("rii", level)] = (ratio_low, ratio_high)
    return limits


def _mean_absolute_difference(lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Mean over the lower and upper limits of samples 2 to 10 of their absolute difference
    from sample 1's."""
    differences = np.concatenate(
        [np.abs(lower[:, 1:] - lower[:, :1]), np.abs(upper[:, 1:] - upper[:, :1])], axis=1
    )
    return np.asarray(differences.mean(axis=1), dtype=np.float64)


# Simulation -------------------------------------------------------------------------------


def _exp32(values: npt.NDArray[np.float32]) -> None:
    with np.errstate(over="ignore"):
        np.exp(values, out=values)


def _expit32(values: npt.NDArray[np.float32]) -> None:
    with np.errstate(over="ignore"):
        np.negative(values, out=values)
        np.exp(values, out=values)
        values += np.float32(1)
        np.reciprocal(values, out=values)


_INVERSES: dict[int, Callable[[npt.NDArray[np.float32]], None] | None] = {
    0: None,
    1: _exp32,
    2: _expit32,
}


def _simulate(
    means: FloatArray,
    errors: FloatArray,
    weights: FloatArray,
    *,
    inverse: Callable[[npt.NDArray[np.float32]], None] | None,
    sii_scale: float,
    rii_mode: Literal["ratio", "inverse"] | None,
    samples: int,
    repetitions: int,
    kth: list[int],
    seed: np.random.SeedSequence,
    workers: int | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Order statistics `kth` (0-based) of each group's simulated SIIs (and RIIs), for each
    of `samples` runs of `repetitions`: arrays (groups x samples x len(kth))."""
    groups, quantiles = means.shape
    bit_generators = [np.random.PCG64(child) for child in seed.spawn(groups)]
    total = samples * repetitions
    per_group = total * 8 * (2 if rii_mode else 1)
    cores = workers or _cores()
    size = max(1, min(_STORE_BYTES // per_group, -(-groups // cores)))
    chunks = [range(start, min(groups, start + size)) for start in range(0, groups, size)]

    def run(chunk: range) -> tuple[FloatArray, FloatArray | None]:
        part = slice(chunk.start, chunk.stop)
        return _simulate_chunk(
            bit_generators[part],
            means[part],
            errors[part],
            weights[part],
            inverse=inverse,
            sii_scale=sii_scale,
            rii_mode=rii_mode,
            samples=samples,
            repetitions=repetitions,
            kth=kth,
        )

    if groups * total * quantiles < _INLINE_WORK or len(chunks) == 1 or cores == 1:
        results = [run(chunk) for chunk in chunks]
    else:
        with ThreadPoolExecutor(max_workers=min(cores, len(chunks))) as pool:
            results = list(pool.map(run, chunks))
    empty = np.empty((0, samples, len(kth)))
    sii_order = np.concatenate([result[0] for result in results]) if results else empty
    if rii_mode is None:
        return sii_order, None
    rii_parts = [result[1] for result in results if result[1] is not None]
    return sii_order, np.concatenate(rii_parts) if rii_parts else empty


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _simulate_chunk(
    bit_generators: Sequence[np.random.PCG64],
    means: FloatArray,
    errors: FloatArray,
    weights: FloatArray,
    *,
    inverse: Callable[[npt.NDArray[np.float32]], None] | None,
    sii_scale: float,
    rii_mode: Literal["ratio", "inverse"] | None,
    samples: int,
    repetitions: int,
    kth: list[int],
) -> tuple[FloatArray, FloatArray | None]:
    """Simulate a block of groups: draws, fits, and the order statistics of the fits."""
    groups, quantiles = means.shape
    total = samples * repetitions
    per_block = max(1, _BLOCK_NORMALS // quantiles)
    sii_draws = np.empty((groups, total))
    rii_draws = np.empty((groups, total)) if rii_mode else None
    width = per_block * quantiles + 1
    bits = np.empty((groups, width), dtype=np.uint32)
    scratch = np.empty((groups, width // 2 + 1), dtype=np.float32)
    # Fit weights as (groups x 2 x quantiles): each block's fit comes out as rows of
    # intercepts and slopes, (groups x 2 x repetitions), contiguous.
    if inverse is None:
        # Linear: the fit of value + error x z is the fit of the values plus that of error x z.
        fit_weights = (weights * errors[:, :, None]).transpose(0, 2, 1).astype(np.float32)
        centre = np.einsum("gq,gqk->gk", means, weights)
    else:
        fit_weights = weights.transpose(0, 2, 1).astype(np.float32)
        centre = np.zeros((groups, 2))
        # Each group's means and errors laid out as a block row, so that the elementwise
        # work runs along whole rows rather than in runs of `quantiles`.
        means_row = np.tile(means.astype(np.float32), (1, per_block))
        errors_row = np.tile(errors.astype(np.float32), (1, per_block))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Blocks restart with each sample, so that a sample's draws do not depend on how many
        # samples there are: the first of the reliability statistic's ten is the simulation
        # without it.
        starts = [
            (sample * repetitions + offset, min(per_block, repetitions - offset))
            for sample in range(samples)
            for offset in range(0, repetitions, per_block)
        ]
        for start, count in starts:
            normals = _normals(bit_generators, bits, scratch, count * quantiles)
            if inverse is not None:
                used = count * quantiles
                normals *= errors_row[:, :used]
                normals += means_row[:, :used]
                inverse(normals)
            fit = np.matmul(
                fit_weights, normals.reshape(groups, count, quantiles).transpose(0, 2, 1)
            )
            slope = sii_draws[:, start : start + count]
            np.add(fit[:, 1], centre[:, 1:], out=slope)
            if rii_draws is not None:
                level = np.add(fit[:, 0], centre[:, :1])
                ratio = rii_draws[:, start : start + count]
                if rii_mode == "ratio":  # (level + slope) / level
                    np.divide(slope, level, out=ratio)
                    ratio += 1
                else:  # level / (level + slope)
                    np.add(level, slope, out=ratio)
                    np.divide(level, ratio, out=ratio)
            if sii_scale != 1:
                slope *= sii_scale
    sii_order = _order_statistics(sii_draws, samples, repetitions, kth)
    rii_order = (
        None if rii_draws is None else _order_statistics(rii_draws, samples, repetitions, kth)
    )
    return sii_order, rii_order


def _normals(
    bit_generators: Sequence[np.random.PCG64],
    bits: npt.NDArray[np.uint32],
    scratch: npt.NDArray[np.float32],
    count: int,
) -> npt.NDArray[np.float32]:
    """`count` standard normal deviates per group (groups x count, single precision), from
    each group's own stream: Box-Muller on 23-bit uniforms."""
    even = count + (count & 1)
    block = bits[:, :even]
    for row, bit_generator in enumerate(bit_generators):
        raw = bit_generator.random_raw(even // 2).view(np.uint32)
        np.right_shift(raw, np.uint32(9), out=block[row])
    block |= np.uint32(0x3F800000)  # 23 random bits as the mantissa of a float in [1, 2)
    uniform = block.view(np.float32)
    uniform -= np.float32(1)
    half = even // 2
    radius, angle = uniform[:, :half], uniform[:, half:]
    np.negative(radius, out=radius)
    np.log1p(radius, out=radius)
    radius *= np.float32(-2)
    np.sqrt(radius, out=radius)
    angle *= np.float32(2 * np.pi)
    cosine = scratch[:, :half]
    np.cos(angle, out=cosine)
    np.sin(angle, out=angle)
    angle *= radius
    radius *= cosine
    return uniform[:, :count]


def _order_statistics(
    draws: FloatArray, samples: int, repetitions: int, kth: list[int]
) -> FloatArray:
    """The kth smallest (0-based) of each group's draws in each sample, by successive
    in-place partitions (one position at a time: numpy's fastest selection)."""
    groups = draws.shape[0]
    runs = draws.reshape(groups, samples, repetitions)
    order = np.empty((groups, samples, len(kth)))
    done = 0
    for i, position in enumerate(kth):
        runs[:, :, done:].partition(position - done, axis=-1)
        order[:, :, i] = runs[:, :, position]
        done = position + 1
    return order
