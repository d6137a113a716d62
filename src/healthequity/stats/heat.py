"""Summary measures of health inequality as the WHO Health Equity Assessment Toolkit (HEAT,
HEAT Plus) defines them, for disaggregated data: in each group (a setting, year, indicator
and dimension of inequality) one row per subgroup with its estimate y_j and, for the
weighted measures, its population (shares p_j = N_j / sum N). Every group is calculated at
once, on arrays of groups x subgroups.

The setting average mu is the population-weighted mean sum p_j y_j when populations are
given (as HEAT computes it), otherwise the `setting_average` given.

Which subgroups are compared (HEAT's rules):

- ordered dimensions (e.g. wealth quintiles; `subgroup_order` 1 = most disadvantaged):
  D = y_most_advantaged - y_most_disadvantaged for favourable indicators, the reverse for
  adverse ones, and R likewise as a quotient; the reference subgroup of PAR and PAF is the
  most advantaged (highest order);
- non-ordered dimensions: D = y_highest - y_lowest and R = y_highest / y_lowest; the
  reference of PAR and PAF is the best-performing subgroup (highest estimate for favourable
  indicators, lowest for adverse ones);
- with a `reference_subgroup` marked (1) in a group, it replaces those choices: D = y_ref -
  y_lowest other (favourable) or y_highest other - y_ref (adverse), R likewise, and PAR and
  PAF take it as their reference.

The measures (y_best: highest estimate for favourable indicators, lowest for adverse):

    D     = y_1 - y_2                 R     = y_1 / y_2
    PAR   = y_ref - mu, 0 if it is negative (favourable) or positive (adverse)
    PAF   = 100 PAR / mu
    ACI   = sum p_j (2 X_j - 1) y_j,  X_j = cumulative share before j + p_j / 2 (by order)
    RCI   = ACI / mu
    BGV   = sum p_j (y_j - mu)^2
    IDISU = 100 (sum |y_j - mu| / J) / mu      IDISW = 100 sum p_j |y_j - mu| / mu
    MDBU  = sum |y_j - y_best| / J             MDBW  = sum p_j |y_j - y_best|
    MDMU  = sum |y_j - mu| / J                 MDMW  = sum p_j |y_j - mu|
    TI    = 1000 sum p_j r_j ln r_j,  r_j = y_j / mu (a zero estimate taken as 1e-6)
    MLD   = 1000 sum p_j (-ln r_j)

Which apply (HEAT Plus): with two subgroups D, R, PAF, PAR; ordered with more than two
ACI, RCI too; non-ordered with more than two BGV, IDISU, IDISW, MDBU, MDBW, MDMU, MDMW,
MLD, TI too. Fewer than two subgroups: none.

Standard errors and confidence limits (normal, estimate -/+ z se) where HEAT has an analytic
formula and the inputs allow: D and R (from the subgroups' `se`; R's limits on the log
scale), PAF and PAR (Walter 1978; need populations and the indicator `scale`, e.g. 100 for
a percentage), ACI and RCI (the convenient-regression standard error), BGV, TI and MLD
(Ahn et al. 2018; from `se`). HEAT's confidence limits for IDIS, MDB and MDM come from a
simulation and are not given here (missing). Unlike HEAT's code, every standard error here
is on the scale of its measure: PAF's is 100 x Walter's (which is for the fraction) and TI's
and MLD's are multiplied by 1000 with the measure.

References: WHO. Health Equity Assessment Toolkit (HEAT): technical notes. Geneva: WHO;
2016, 2017 (HEAT Plus) and 2024. WHO. Handbook on health inequality monitoring. Geneva:
WHO; 2013. Schlotheuber A, Hosseinpoor AR. Summary measures of health inequality: a review
of existing measures and their application. Int J Environ Res Public Health
2022;19(6):3697. Walter SD. Calculation of attributable risks from epidemiological data. Int
J Epidemiol 1978;7:175-182. Ahn J et al. Variance estimation and confidence intervals for 11
commonly used health disparity measures. JCO Clin Cancer Inform 2018;2:1-19. Kakwani N,
Wagstaff A, van Doorslaer E. Socioeconomic inequalities in health: measurement, computation
and statistical inference. J Econometrics 1997;77:87-103 (concentration index regression).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from healthequity.stats._core import (
    Column,
    Confidence,
    FloatArray,
    GroupBy,
    confidence_levels,
    frame_of,
    group_codes,
    limit_columns,
    numbers,
    z_score,
)
from healthequity.stats.exceptions import InvalidInputError

__all__ = [
    "MEASURES",
    "absolute_concentration_index",
    "between_group_variance",
    "difference",
    "heat_summary",
    "index_of_disparity",
    "mean_difference_from_best",
    "mean_difference_from_mean",
    "mean_log_deviation",
    "population_attributable_fraction",
    "population_attributable_risk",
    "ratio",
    "relative_concentration_index",
    "theil_index",
]

MEASURES: dict[str, str] = {
    "D": "difference",
    "R": "ratio",
    "PAF": "population attributable fraction",
    "PAR": "population attributable risk",
    "ACI": "absolute concentration index",
    "RCI": "relative concentration index",
    "BGV": "between-group variance",
    "IDISU": "index of disparity (unweighted)",
    "IDISW": "index of disparity (weighted)",
    "MDBU": "mean difference from best performing subgroup (unweighted)",
    "MDBW": "mean difference from best performing subgroup (weighted)",
    "MDMU": "mean difference from mean (unweighted)",
    "MDMW": "mean difference from mean (weighted)",
    "MLD": "mean log deviation",
    "TI": "Theil index",
}
"""The measures' HEAT abbreviations and names, in the order results list them."""

_TWO_SUBGROUPS = ("D", "R", "PAF", "PAR")
_ORDERED = (*_TWO_SUBGROUPS, "ACI", "RCI")
_NON_ORDERED = (
    *_TWO_SUBGROUPS,
    "BGV",
    "IDISU",
    "IDISW",
    "MDBU",
    "MDBW",
    "MDMU",
    "MDMW",
    "MLD",
    "TI",
)
_NEEDS_POPULATION = {"ACI", "RCI", "BGV", "IDISW", "MDBW", "MDMW", "MLD", "TI"}
_NEEDS_MEAN = {"PAF", "PAR", "IDISU", "MDMU"}
_ZERO = 1e-6
"""What TI and MLD take a zero estimate as (HEAT)."""

Flag = bool | int | str


@dataclass(frozen=True)
class _Panel:
    """The groups' subgroups as arrays of groups x subgroups, padded where a group has fewer
    subgroups than the largest (valid marks the real cells)."""

    keys: pd.DataFrame
    valid: npt.NDArray[np.bool_]
    estimate: FloatArray
    population: FloatArray | None
    se: FloatArray | None
    order: FloatArray | None
    reference: npt.NDArray[np.bool_] | None
    ordered: npt.NDArray[np.bool_]
    favourable: npt.NDArray[np.bool_]
    setting_average: FloatArray | None
    scale: FloatArray | None

    @property
    def count(self) -> npt.NDArray[np.intp]:
        return np.asarray(self.valid.sum(axis=1), dtype=np.intp)

    @property
    def share(self) -> FloatArray:
        if self.population is None:
            raise InvalidInputError("this measure needs the subgroups' population")
        population = np.where(self.valid, self.population, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(population / population.sum(axis=1, keepdims=True))

    @property
    def mean(self) -> FloatArray:
        """mu: the population-weighted mean, or the setting average given."""
        if self.population is not None:
            return np.asarray((self.share * self._estimate0).sum(axis=1))
        if self.setting_average is not None:
            return self.setting_average
        raise InvalidInputError(
            "this measure needs the setting average: give the subgroups' population or the "
            "setting_average"
        )

    @property
    def _estimate0(self) -> FloatArray:
        return np.where(self.valid, self.estimate, 0.0)


@dataclass(frozen=True)
class _Result:
    estimate: FloatArray
    se: FloatArray
    lower: list[FloatArray]
    upper: list[FloatArray]


# Public functions --------------------------------------------------------------------------


def heat_summary(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    population: Column | None = None,
    se: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    setting_average: Column | None = None,
    scale: Column | float | None = None,
    confidence: Confidence = 0.95,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every summary measure that HEAT applies to each group (see the module docstring):
    one row per group and measure, with the group columns, `measure` (HEAT's abbreviation),
    `estimate`, `se` and the limit columns (`lowercl`/`uppercl`, or `lower95_0cl`... for
    several levels; missing where HEAT has no analytic interval or the inputs lack `se`).

    `estimate` is each subgroup's value; `population` its size (needed by the weighted
    measures, which are left out without it); `se` its standard error; `subgroup_order`
    its rank for ordered dimensions (1 = most disadvantaged); `ordered` and `favourable`
    say whether the dimension is ordered and whether higher values are better (True or
    False for every group, or the name of a column constant within each group);
    `reference_subgroup` a 0/1 column marking at most one subgroup per group;
    `setting_average` the group's average (used when there are no populations); `scale`
    the indicator's scale (100 for a percentage; a number or a column), for PAF and PAR's
    standard errors. `measures` restricts the output to the listed abbreviations.
    """
    panel, levels = _prepare(
        data,
        estimate,
        group_by,
        subgroup,
        population,
        se,
        subgroup_order,
        ordered,
        favourable,
        reference_subgroup,
        setting_average,
        scale,
        confidence,
    )
    wanted = list(MEASURES) if measures is None else [m.upper() for m in measures]
    unknown = [m for m in wanted if m not in MEASURES]
    if unknown:
        raise InvalidInputError(
            f"unknown measures {unknown}: expected some of {', '.join(MEASURES)}"
        )
    count = panel.count
    applies: dict[str, npt.NDArray[np.bool_]] = {}
    for code in MEASURES:
        if code not in wanted:
            continue
        if code in _NEEDS_POPULATION and panel.population is None:
            continue
        if code in _NEEDS_MEAN and panel.population is None and panel.setting_average is None:
            continue
        if code in ("ACI", "RCI") and panel.order is None:
            continue
        in_two = code in _TWO_SUBGROUPS
        in_ordered = code in _ORDERED
        in_non_ordered = code in _NON_ORDERED
        applies[code] = ((count == 2) & in_two) | (
            (count > 2) & np.where(panel.ordered, in_ordered, in_non_ordered)
        )
    frames = []
    for code, rows in applies.items():
        if not rows.any():
            continue
        result = _CALCULATE[code](panel, levels)
        frames.append(_frame(panel.keys, code, result, levels).loc[rows])
    columns = [
        *panel.keys.columns,
        "measure",
        "estimate",
        "se",
        *[name for pair in limit_columns(levels) for name in pair],
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=False)
    position = {code: i for i, code in enumerate(MEASURES)}
    out["_group"] = out.index
    out["_measure"] = out["measure"].map(position)
    out = out.sort_values(["_group", "_measure"], kind="stable")
    return out.drop(columns=["_group", "_measure"]).reset_index(drop=True)[columns]


def difference(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    se: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Difference (D) between the two subgroups HEAT compares (module docstring): absolute,
    simple, in the indicator's unit; 0 means no inequality. Limits from the two subgroups'
    `se`: D -/+ z sqrt(se_1^2 + se_2^2)."""
    return _one(
        "D",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        se=se,
        subgroup_order=subgroup_order,
        ordered=ordered,
        favourable=favourable,
        reference_subgroup=reference_subgroup,
        confidence=confidence,
    )


def ratio(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    se: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Ratio (R) of the two subgroups HEAT compares: relative, simple; 1 means no
    inequality (missing where the divisor is 0). se = sqrt((se_1^2 + R^2 se_2^2) / y_2^2),
    limits exp(ln R -/+ z se / R)."""
    return _one(
        "R",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        se=se,
        subgroup_order=subgroup_order,
        ordered=ordered,
        favourable=favourable,
        reference_subgroup=reference_subgroup,
        confidence=confidence,
    )


def population_attributable_risk(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    population: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    setting_average: Column | None = None,
    scale: Column | float | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Population attributable risk (PAR) = y_ref - mu, the improvement in the average if
    every subgroup reached the reference: absolute, weighted; positive for favourable and
    negative for adverse indicators, 0 when no improvement is possible. se = mu x Walter's
    (1978) standard error of the attributable fraction (needs populations and `scale`)."""
    return _one(
        "PAR",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        subgroup_order=subgroup_order,
        ordered=ordered,
        favourable=favourable,
        reference_subgroup=reference_subgroup,
        setting_average=setting_average,
        scale=scale,
        confidence=confidence,
    )


def population_attributable_fraction(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    population: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    setting_average: Column | None = None,
    scale: Column | float | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Population attributable fraction (PAF) = 100 PAR / mu, in %: relative, weighted.
    se = 100 x Walter's (1978) standard error (needs populations and `scale`)."""
    return _one(
        "PAF",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        subgroup_order=subgroup_order,
        ordered=ordered,
        favourable=favourable,
        reference_subgroup=reference_subgroup,
        setting_average=setting_average,
        scale=scale,
        confidence=confidence,
    )


def absolute_concentration_index(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    population: Column = "population",
    subgroup_order: Column = "subgroup_order",
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Absolute concentration index (ACI) = sum p_j (2 X_j - 1) y_j over subgroups ranked
    from most disadvantaged (order 1): absolute, weighted, for ordered dimensions; positive
    when the indicator is concentrated among the advantaged. Standard error from the
    convenient regression of 2 var(X) y_j on X_j weighted by population (as HEAT)."""
    return _one(
        "ACI",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        subgroup_order=subgroup_order,
        ordered=True,
        confidence=confidence,
    )


def relative_concentration_index(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    population: Column = "population",
    subgroup_order: Column = "subgroup_order",
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Relative concentration index (RCI) = ACI / mu, between -1 and 1 (HEAT shows it x
    100): relative, weighted, for ordered dimensions."""
    return _one(
        "RCI",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        subgroup_order=subgroup_order,
        ordered=True,
        confidence=confidence,
    )


def between_group_variance(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    population: Column = "population",
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    se: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Between-group variance (BGV) = sum p_j (y_j - mu)^2: absolute, weighted, for
    non-ordered dimensions; in the indicator's unit squared. Standard error (Ahn et al.
    2018) from the subgroups' `se`."""
    return _one(
        "BGV",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        se=se,
        confidence=confidence,
    )


def index_of_disparity(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    weighted: bool = False,
    population: Column | None = None,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    setting_average: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Index of disparity, in %: unweighted IDISU = 100 (sum |y_j - mu| / J) / mu, or
    weighted IDISW = 100 sum p_j |y_j - mu| / mu. Relative, for non-ordered dimensions;
    0 means no inequality. No limits (HEAT simulates them)."""
    return _one(
        "IDISW" if weighted else "IDISU",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        setting_average=setting_average,
        confidence=confidence,
    )


def mean_difference_from_best(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    weighted: bool = False,
    population: Column | None = None,
    favourable: Flag = True,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Mean difference from the best-performing subgroup (the highest estimate for
    favourable indicators, the lowest for adverse): unweighted MDBU = sum |y_j - y_best| /
    J, weighted MDBW = sum p_j |y_j - y_best|. Absolute, for non-ordered dimensions. No
    limits (HEAT simulates them)."""
    return _one(
        "MDBW" if weighted else "MDBU",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        favourable=favourable,
        confidence=confidence,
    )


def mean_difference_from_mean(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    weighted: bool = False,
    population: Column | None = None,
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    setting_average: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Mean difference from the mean: unweighted MDMU = sum |y_j - mu| / J, weighted MDMW =
    sum p_j |y_j - mu|. Absolute, for non-ordered dimensions. No limits (HEAT simulates
    them)."""
    return _one(
        "MDMW" if weighted else "MDMU",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        setting_average=setting_average,
        confidence=confidence,
    )


def theil_index(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    population: Column = "population",
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    se: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Theil index (TI) = 1000 sum p_j r_j ln r_j, r_j = y_j / mu: relative, weighted, for
    non-ordered dimensions; 0 means no inequality. Standard error (Ahn et al. 2018) from
    `se`, times 1000 like the index."""
    return _one(
        "TI",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        se=se,
        confidence=confidence,
    )


def mean_log_deviation(
    data: pd.DataFrame | None = None,
    estimate: Column = "estimate",
    *,
    population: Column = "population",
    group_by: GroupBy = None,
    subgroup: Column | None = None,
    se: Column | None = None,
    confidence: Confidence = 0.95,
) -> pd.DataFrame:
    """Mean log deviation (MLD) = 1000 sum p_j (-ln(y_j / mu)): relative, weighted, for
    non-ordered dimensions; 0 means no inequality. Standard error (Ahn et al. 2018) from
    `se`, times 1000 like the index."""
    return _one(
        "MLD",
        data,
        estimate,
        group_by=group_by,
        subgroup=subgroup,
        population=population,
        se=se,
        confidence=confidence,
    )


# The measures ------------------------------------------------------------------------------


def _pairs(panel: _Panel) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The subgroups (as column positions) of y_1 and y_2 in D = y_1 - y_2, R = y_1 / y_2."""
    est, valid = panel.estimate, panel.valid
    highest = np.where(valid, est, -np.inf).argmax(axis=1)
    lowest = np.where(valid, est, np.inf).argmin(axis=1)
    first, second = highest.copy(), lowest.copy()
    if panel.order is not None:
        advantaged = np.where(valid, panel.order, -np.inf).argmax(axis=1)
        disadvantaged = np.where(valid, panel.order, np.inf).argmin(axis=1)
        by_order_1 = np.where(panel.favourable, advantaged, disadvantaged)
        by_order_2 = np.where(panel.favourable, disadvantaged, advantaged)
        first = np.where(panel.ordered, by_order_1, first)
        second = np.where(panel.ordered, by_order_2, second)
    elif panel.ordered.any():
        raise InvalidInputError("ordered dimensions need subgroup_order")
    if panel.reference is not None:
        has = panel.reference.any(axis=1)
        ref = panel.reference.argmax(axis=1)
        others = valid & ~panel.reference
        other_low = np.where(others, est, np.inf).argmin(axis=1)
        other_high = np.where(others, est, -np.inf).argmax(axis=1)
        first = np.where(has, np.where(panel.favourable, ref, other_high), first)
        second = np.where(has, np.where(panel.favourable, other_low, ref), second)
    return first, second


def _reference(panel: _Panel) -> npt.NDArray[np.intp]:
    """The reference subgroup of PAR and PAF (column positions)."""
    est, valid = panel.estimate, panel.valid
    best = np.where(
        panel.favourable,
        np.where(valid, est, -np.inf).argmax(axis=1),
        np.where(valid, est, np.inf).argmin(axis=1),
    )
    if panel.order is not None:
        advantaged = np.where(valid, panel.order, -np.inf).argmax(axis=1)
        best = np.where(panel.ordered, advantaged, best)
    elif panel.ordered.any():
        raise InvalidInputError("ordered dimensions need subgroup_order")
    if panel.reference is not None:
        best = np.where(panel.reference.any(axis=1), panel.reference.argmax(axis=1), best)
    return np.asarray(best, dtype=np.intp)


def _pick(values: FloatArray, columns: npt.NDArray[np.intp]) -> FloatArray:
    return np.asarray(np.take_along_axis(values, columns[:, None], axis=1)[:, 0])


def _normal(estimate: FloatArray, se: FloatArray, levels: Sequence[float]) -> _Result:
    return _Result(
        estimate,
        se,
        [estimate - z_score(level) * se for level in levels],
        [estimate + z_score(level) * se for level in levels],
    )


def _no_limits(estimate: FloatArray, levels: Sequence[float]) -> _Result:
    missing = np.full(estimate.shape, np.nan)
    return _Result(estimate, missing, [missing] * len(levels), [missing] * len(levels))


def _se_or_missing(panel: _Panel) -> FloatArray:
    if panel.se is None:
        return np.full(panel.estimate.shape, np.nan)
    return panel.se


def _d(panel: _Panel, levels: Sequence[float]) -> _Result:
    first, second = _pairs(panel)
    y1, y2 = _pick(panel.estimate, first), _pick(panel.estimate, second)
    se = _se_or_missing(panel)
    s1, s2 = _pick(se, first), _pick(se, second)
    return _normal(y1 - y2, np.sqrt(s1**2 + s2**2), levels)


def _r(panel: _Panel, levels: Sequence[float]) -> _Result:
    first, second = _pairs(panel)
    y1, y2 = _pick(panel.estimate, first), _pick(panel.estimate, second)
    se = _se_or_missing(panel)
    s1, s2 = _pick(se, first), _pick(se, second)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = y1 / y2
        value = np.where(np.isfinite(value), value, np.nan)
        r_se = np.sqrt((s1**2 + value**2 * s2**2) / y2**2)
        log_se = r_se / value
        lower = [np.exp(np.log(value) - z_score(level) * log_se) for level in levels]
        upper = [np.exp(np.log(value) + z_score(level) * log_se) for level in levels]
    return _Result(value, r_se, lower, upper)


def _par_parts(panel: _Panel) -> tuple[FloatArray, FloatArray, FloatArray]:
    """PAR (truncated as HEAT does), mu, and Walter's standard error of the fraction."""
    mu = panel.mean
    ref = _reference(panel)
    y_ref = _pick(panel.estimate, ref)
    par = y_ref - mu
    par = np.where((panel.favourable & (par < 0)) | (~panel.favourable & (par > 0)), 0.0, par)
    walter = np.full(mu.shape, np.nan)
    if panel.population is not None and panel.scale is not None:
        population = np.where(panel.valid, panel.population, 0.0)
        total = population.sum(axis=1)
        ref_population = _pick(population, ref)
        c = y_ref / panel.scale * ref_population
        d = ref_population - c
        a = mu / panel.scale * total - c
        b = total - a - ref_population
        with np.errstate(divide="ignore", invalid="ignore"):
            walter = np.sqrt(
                c * total * (a * d * (total - c) + b * c**2) / ((a + c) ** 3 * (c + d) ** 3)
            )
    return par, mu, walter


def _par(panel: _Panel, levels: Sequence[float]) -> _Result:
    par, mu, walter = _par_parts(panel)
    return _normal(par, mu * walter, levels)


def _paf(panel: _Panel, levels: Sequence[float]) -> _Result:
    par, mu, walter = _par_parts(panel)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _normal(100 * par / mu, 100 * walter, levels)


def _concentration(panel: _Panel, relative: bool, levels: Sequence[float]) -> _Result:
    if panel.order is None or panel.population is None:
        raise InvalidInputError(
            "the concentration indices need the subgroups' subgroup_order and population"
        )
    share = panel.share
    # Rank from the most disadvantaged: sort each group's subgroups by order.
    rank_order = np.argsort(np.where(panel.valid, panel.order, np.inf), axis=1, kind="stable")
    p = np.take_along_axis(share, rank_order, axis=1)
    y = np.take_along_axis(panel._estimate0, rank_order, axis=1)
    w = np.take_along_axis(np.where(panel.valid, panel.population, 0.0), rank_order, axis=1)
    valid = np.take_along_axis(panel.valid, rank_order, axis=1)
    x = np.cumsum(p, axis=1) - p / 2
    mu = (p * y).sum(axis=1)
    aci = (p * (2 * x - 1) * y).sum(axis=1)
    # Convenient regression 2 var(X) y_j sqrt(N_j) = b X_j sqrt(N_j) + a sqrt(N_j): b = ACI
    # and the standard error of b from the residuals (K - 2 degrees of freedom).
    var_x = (p * (x - 0.5) ** 2).sum(axis=1)
    root = np.sqrt(w)
    lhs = 2 * var_x[:, None] * y * root
    rhs = x * root
    s_rr = (rhs * rhs).sum(axis=1)
    s_ri = (rhs * root).sum(axis=1)
    s_ii = (root * root).sum(axis=1)
    s_rl = (rhs * lhs).sum(axis=1)
    s_il = (root * lhs).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        det = s_rr * s_ii - s_ri**2
        slope = (s_ii * s_rl - s_ri * s_il) / det
        intercept = (s_rr * s_il - s_ri * s_rl) / det
        residual = np.where(valid, lhs - slope[:, None] * rhs - intercept[:, None] * root, 0.0)
        dof = valid.sum(axis=1) - 2
        sigma2 = np.where(dof > 0, (residual**2).sum(axis=1) / dof, np.nan)
        se = np.sqrt(sigma2 * s_ii / det)
        if relative:
            return _normal(aci / mu, se / mu, levels)
    return _normal(aci, se, levels)


def _bgv(panel: _Panel, levels: Sequence[float]) -> _Result:
    p, y, mu = panel.share, panel._estimate0, panel.mean
    value = (p * (y - mu[:, None]) ** 2).sum(axis=1)
    s = _se_or_missing(panel)
    s = np.where(panel.valid, s, 0.0)
    se = np.sqrt(
        4 * (p**2 * s**2 * (y - mu[:, None]) ** 2).sum(axis=1)
        + 2
        * (
            (p**2 * s**2).sum(axis=1) ** 2
            - (p**4 * s**4).sum(axis=1)
            + (p**2 * (1 - p) ** 2 * s**4).sum(axis=1)
        )
    )
    if panel.se is None:
        se = np.full(value.shape, np.nan)
    return _normal(value, se, levels)


def _deviation(
    panel: _Panel, levels: Sequence[float], *, weighted: bool, from_best: bool, relative: bool
) -> _Result:
    y, valid = panel.estimate, panel.valid
    if from_best:
        centre = np.where(
            panel.favourable,
            np.where(valid, y, -np.inf).max(axis=1),
            np.where(valid, y, np.inf).min(axis=1),
        )
    else:
        centre = panel.mean
    gaps = np.where(valid, np.abs(y - centre[:, None]), 0.0)
    value = (panel.share * gaps).sum(axis=1) if weighted else gaps.sum(axis=1) / panel.count
    if relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = 100 * value / centre
    return _no_limits(np.asarray(value, dtype=np.float64), levels)


def _logs(panel: _Panel, levels: Sequence[float], *, theil: bool) -> _Result:
    p, valid = panel.share, panel.valid
    nonzero = np.where(valid, np.where(panel.estimate == 0, _ZERO, panel.estimate), 1.0)
    mu = panel.mean
    with np.errstate(divide="ignore", invalid="ignore"):
        r = nonzero / mu[:, None]
        terms = p * r * np.log(r) if theil else p * -np.log(r)
        value = 1000 * np.where(valid, terms, 0.0).sum(axis=1)
        # Standard error (Ahn et al. 2018), about the weighted mean of the non-zero estimates.
        mu_nz = (p * np.where(valid, nonzero, 0.0)).sum(axis=1)
        r_nz = nonzero / mu_nz[:, None]
        s = np.where(valid, _se_or_missing(panel), 0.0)
        if theil:
            centre = (np.where(valid, p * r_nz * (1 + np.log(r_nz)), 0.0)).sum(axis=1)
            parts = (1 + np.log(r_nz) - centre[:, None]) ** 2 * p**2 * s**2 / mu_nz[:, None] ** 2
        else:
            parts = s**2 * p**2 / mu_nz[:, None] ** 2 * (1 - 1 / r_nz) ** 2
        se = 1000 * np.sqrt(np.where(valid, parts, 0.0).sum(axis=1))
    if panel.se is None:
        se = np.full(value.shape, np.nan)
    return _normal(value, se, levels)


_CALCULATE: dict[str, Callable[[_Panel, Sequence[float]], _Result]] = {
    "D": _d,
    "R": _r,
    "PAF": _paf,
    "PAR": _par,
    "ACI": lambda panel, levels: _concentration(panel, False, levels),
    "RCI": lambda panel, levels: _concentration(panel, True, levels),
    "BGV": _bgv,
    "IDISU": lambda panel, levels: _deviation(
        panel, levels, weighted=False, from_best=False, relative=True
    ),
    "IDISW": lambda panel, levels: _deviation(
        panel, levels, weighted=True, from_best=False, relative=True
    ),
    "MDBU": lambda panel, levels: _deviation(
        panel, levels, weighted=False, from_best=True, relative=False
    ),
    "MDBW": lambda panel, levels: _deviation(
        panel, levels, weighted=True, from_best=True, relative=False
    ),
    "MDMU": lambda panel, levels: _deviation(
        panel, levels, weighted=False, from_best=False, relative=False
    ),
    "MDMW": lambda panel, levels: _deviation(
        panel, levels, weighted=True, from_best=False, relative=False
    ),
    "MLD": lambda panel, levels: _logs(panel, levels, theil=False),
    "TI": lambda panel, levels: _logs(panel, levels, theil=True),
}


# Inputs ------------------------------------------------------------------------------------


def _one(
    code: str,
    data: pd.DataFrame | None,
    estimate: Column,
    *,
    group_by: GroupBy,
    subgroup: Column | None,
    confidence: Confidence,
    population: Column | None = None,
    se: Column | None = None,
    subgroup_order: Column | None = None,
    ordered: Flag = False,
    favourable: Flag = True,
    reference_subgroup: Column | None = None,
    setting_average: Column | None = None,
    scale: Column | float | None = None,
) -> pd.DataFrame:
    """One measure for each group: the shared work behind the per-measure functions."""
    panel, levels = _prepare(
        data,
        estimate,
        group_by,
        subgroup,
        population,
        se,
        subgroup_order,
        ordered,
        favourable,
        reference_subgroup,
        setting_average,
        scale,
        confidence,
    )
    if (panel.count < 2).any():
        raise InvalidInputError(f"{MEASURES[code]} needs at least two subgroups in each group")
    return _frame(panel.keys, code, _CALCULATE[code](panel, levels), levels).reset_index(drop=True)


def _frame(keys: pd.DataFrame, code: str, result: _Result, levels: Sequence[float]) -> pd.DataFrame:
    out = keys.copy()
    out["measure"] = code
    out["estimate"] = result.estimate
    out["se"] = result.se
    for (lower_name, upper_name), lower, upper in zip(
        limit_columns(levels), result.lower, result.upper, strict=True
    ):
        out[lower_name] = lower
        out[upper_name] = upper
    return out


def _prepare(
    data: pd.DataFrame | None,
    estimate: Column,
    group_by: GroupBy,
    subgroup: Column | None,
    population: Column | None,
    se: Column | None,
    subgroup_order: Column | None,
    ordered: Flag,
    favourable: Flag,
    reference_subgroup: Column | None,
    setting_average: Column | None,
    scale: Column | float | None,
    confidence: Confidence,
) -> tuple[_Panel, tuple[float, ...]]:
    levels = confidence_levels(confidence)
    scale_column = None if isinstance(scale, int | float) else scale
    roles: dict[str, Column | None] = {
        "estimate": estimate,
        "subgroup": subgroup,
        "population": population,
        "se": se,
        "subgroup_order": subgroup_order,
        "reference_subgroup": reference_subgroup,
        "setting_average": setting_average,
        "scale": scale_column,
    }
    flags = {"ordered": ordered, "favourable": favourable}
    for role, flag in flags.items():
        as_column = isinstance(flag, str) or (
            data is None and not isinstance(flag, bool | int | np.integer | np.bool_)
        )
        if as_column:
            roles[role] = flag
    frame, names = frame_of(data, roles)
    codes, keys = group_codes(frame, group_by)
    n_groups = len(keys)

    values = {"estimate": numbers(frame, names["estimate"])}
    if "population" in names:
        values["population"] = numbers(frame, names["population"], minimum=0)
    if "se" in names:
        values["se"] = numbers(frame, names["se"], minimum=0)
    if "subgroup_order" in names:
        values["subgroup_order"] = numbers(frame, names["subgroup_order"])
    if "reference_subgroup" in names:
        values["reference_subgroup"] = numbers(
            frame, names["reference_subgroup"], minimum=0, maximum=1, whole=True
        )

    # Sort each group's subgroups (by order, label, estimate) so results do not depend on
    # the order of the input rows, then lay them out as groups x subgroups.
    sort_keys: list[FloatArray] = [values["estimate"]]
    if "subgroup" in names:
        labels = np.array(frame[names["subgroup"]].astype(str).tolist(), dtype=str)
        sort_keys.insert(0, np.unique(labels, return_inverse=True)[1].astype(np.float64))
    if "subgroup_order" in names:
        sort_keys.insert(0, values["subgroup_order"])
    rows = np.lexsort([*reversed(sort_keys), codes.astype(np.float64)])
    sorted_codes = codes[rows]
    starts = np.searchsorted(sorted_codes, np.arange(n_groups))
    column = np.arange(len(rows)) - starts[sorted_codes]
    width = int(column.max()) + 1 if len(rows) else 0
    valid = np.zeros((n_groups, width), dtype=bool)
    valid[sorted_codes, column] = True

    def panel_of(name: str) -> FloatArray | None:
        if name not in values:
            return None
        panel = np.full((n_groups, width), np.nan)
        panel[sorted_codes, column] = values[name][rows]
        return panel

    reference = panel_of("reference_subgroup")
    reference_mask = None
    if reference is not None:
        reference_mask = np.asarray(np.nan_to_num(reference) == 1)
        too_many = reference_mask.sum(axis=1) > 1
        if too_many.any():
            group = int(np.argmax(too_many))
            row = int(np.flatnonzero(codes == group)[1])
            raise InvalidInputError(
                "more than one reference subgroup in a group",
                column=names["reference_subgroup"],
                row=row + 1,
            )
    ordered_flags = _group_flag(frame, names, "ordered", ordered, codes, n_groups)
    favourable_flags = _group_flag(frame, names, "favourable", favourable, codes, n_groups)
    average = None
    if "setting_average" in names:
        average = _group_constant(
            numbers(frame, names["setting_average"]),
            codes,
            n_groups,
            frame,
            names["setting_average"],
        )
    scale_values = None
    if "scale" in names:
        scale_values = _group_constant(
            numbers(frame, names["scale"], above=0), codes, n_groups, frame, names["scale"]
        )
    elif isinstance(scale, int | float):
        if not scale > 0:
            raise InvalidInputError(f"scale must be more than 0, got {scale!r}")
        scale_values = np.full(n_groups, float(scale))
    panel = _Panel(
        keys=keys,
        valid=valid,
        estimate=np.asarray(panel_of("estimate")),
        population=panel_of("population"),
        se=panel_of("se"),
        order=panel_of("subgroup_order"),
        reference=reference_mask,
        ordered=ordered_flags,
        favourable=favourable_flags,
        setting_average=average,
        scale=scale_values,
    )
    if panel.order is not None:
        order = np.where(valid, panel.order, np.nan)
        sorted_order = np.sort(order, axis=1)
        repeated = (np.diff(sorted_order, axis=1) == 0).any(axis=1)
        if repeated.any():
            raise InvalidInputError(
                "subgroup_order repeats within a group: each subgroup needs its own rank",
                column=names["subgroup_order"],
            )
    if (ordered_flags & (panel.order is None)).any():
        raise InvalidInputError("ordered dimensions need subgroup_order")
    return panel, levels


def _group_flag(
    frame: pd.DataFrame,
    names: dict[str, str],
    role: str,
    flag: Flag,
    codes: npt.NDArray[np.intp],
    n_groups: int,
) -> npt.NDArray[np.bool_]:
    """A yes/no per group: the value given, or a column constant within each group."""
    if role not in names:
        if not isinstance(flag, bool | int | np.integer | np.bool_) or flag not in (0, 1):
            raise InvalidInputError(f"{role} must be True or False (or 1 or 0), got {flag!r}")
        return np.full(n_groups, bool(flag))
    column = names[role]
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=np.float64)
    else:
        values = numbers(frame, column, minimum=0, maximum=1, whole=True)
    return np.asarray(_group_constant(values, codes, n_groups, frame, column) == 1, dtype=bool)


def _group_constant(
    values: FloatArray,
    codes: npt.NDArray[np.intp],
    n_groups: int,
    frame: pd.DataFrame,
    column: str,
) -> FloatArray:
    """One value per group, refusing a column that varies within a group."""
    first = np.full(n_groups, np.nan)
    first[codes[::-1]] = values[::-1]  # the first row's value wins
    differs = values != first[codes]
    if differs.any():
        position = int(np.argmax(differs))
        raise InvalidInputError(
            "expected the same value for every subgroup of a group, got "
            f"{frame[column].iloc[position]!r}",
            column=column,
            row=position + 1,
        )
    return first
