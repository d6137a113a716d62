"""Life expectancy from an abridged life table (Chiang II) with Silcocks' confidence limits,
as PHEindicatormethods 2.1 `phe_life_expectancy` and the Fingertips (OHID, formerly PHE)
life expectancy calculator give it.

Method, for each group and age band i (start age x_i, width n_i, deaths D_i, population
P_i, the final band open-ended):

    m_i = D_i / P_i                                      age-specific death rate
    a_i = 0.1 for the band starting at 0, else 0.5       fraction of the band lived by those dying
    n_final = 2 / m_final                                (only used to make q_final = 1)
    q_i = n_i m_i / (1 + n_i m_i (1 - a_i))              probability of dying in the band,
          or 1 where n_i a_i m_i > 1 (deaths above 40% of the population of a 5-year band)
    l_0 = 100,000;  l_(i+1) = l_i (1 - q_i)              survivors to the start of the band
    d_i = l_i - l_(i+1)   (d_final = l_final)            deaths in the life table
    L_i = n_i (l_(i+1) + a_i d_i);  L_final = l_final / m_final   years lived in the band
    T_i = sum of L_j for j >= i;    e_i = T_i / l_i      life expectancy at x_i (0 where l_i = 0)

Variance (Chiang 1984, with Silcocks et al. 2001 for the final band):

    var(p_i)    = q_i^2 (1 - q_i) / D_i   (0 where d_i = 0)
    var(final)  = 4 / (D_final m_final^2)
    W_i         = l_i^2 ((1 - a_i) n_i + e_(i+1))^2 var(p_i);   W_final = (l_final / 2)^2 var(final)
    SE(e_i)     = sqrt(sum of W_j for j >= i) / l_i
    limits      = e_i -/+ z SE(e_i)

Rules for small or unusable data, checked per group in this order (the first that applies
is the group's reason; every row of the group then has missing value and limits):

1. any band with negative deaths;
2. any band with a population of zero or less;
3. not exactly one row for each age band;
4. any band with more deaths than population;
5. a total population of 5,000 or less (the reference tests `<= 5000`; its message says
   "less than 5,000").

Two further rules apply per starting age after the calculation: a value whose 95% confidence
interval is wider than 20 years is suppressed (its limits are still given), and no deaths in
the final (open) band make the final band's mean survival, and so every value, undefined.
Zero deaths in any other band are fine.

References: Chiang CL. The life table and its applications. Malabar (FL): Krieger; 1984
(and Introduction to stochastic processes in biostatistics, Wiley 1968:189-214). Silcocks
PBS, Jenner DA, Reza R. Life expectancy as a summary of mortality in a population:
statistical considerations and suitability for use by health authorities. J Epidemiol
Community Health 2001;55:38-43. Eayres DP, Williams ES. Evaluation of methodologies for small
area life expectancy estimation. J Epidemiol Community Health 2004;58:243-249. Toson B,
Baker A. Life expectancy at birth: methodological options for small populations. National
Statistics Methodological Series No 33; 2003 (the 5,000 minimum). Fingertips public health
technical guidance: life expectancy calculator (OHID).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

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
    group_columns,
    limit_columns,
    numbers,
    z_score,
)
from healthequity.stats.exceptions import InvalidInputError, StatsWarning

__all__ = [
    "BANDS_85_PLUS",
    "BANDS_90_PLUS",
    "MESSAGES",
    "SuppressedValuesWarning",
    "life_expectancy",
]

BANDS_90_PLUS: tuple[int, ...] = (0, 1, *range(5, 95, 5))
"""Start ages of the standard abridged bands: 0, 1-4, 5-9, ..., 85-89, 90+ (20 bands)."""

BANDS_85_PLUS: tuple[int, ...] = (0, 1, *range(5, 90, 5))
"""Start ages of the older abridged bands closing at 85+: 0, 1-4, 5-9, ..., 80-84, 85+."""

RADIX = 100_000.0
"""l_0, the life table's starting cohort."""

METHOD = "Chiang, using Silcocks et al for confidence limits"

MESSAGES: dict[str, str] = {
    "negative_deaths": "some age bands have negative deaths; outputs have been suppressed to NAs",
    "population_not_positive": (
        "some age bands have a zero or less population; outputs have been suppressed to NAs"
    ),
    "incomplete": (
        "some groups contain a different number of age bands than {bands}; life expectancy "
        "cannot be calculated for these. These groups will contain NAs."
    ),
    "deaths_above_population": (
        "some age bands have more deaths than population; outputs have been suppressed to NAs"
    ),
    "small_population": (
        "some groups have a total population of less than 5,000; outputs have been "
        "suppressed to NAs"
    ),
    "wide_interval": (
        "some life expectancy values have a 95% confidence interval > 20 years; these values "
        "have been suppressed to NAs"
    ),
    "no_final_deaths": (
        "some groups have no deaths in the final (open-ended) age band; life expectancy "
        "cannot be calculated for these and they have been suppressed to NAs"
    ),
    "le_age_missing": (
        "le_age not in the vector described by age_contents; all life expectancies will be returned"
    ),
}
"""The warnings, in the reference's words (the last-but-one is this library's: the reference
returns a missing value there without saying why)."""

_NOTES: dict[str, str] = {
    "negative_deaths": "suppressed: an age band has negative deaths",
    "population_not_positive": "suppressed: an age band has a population of zero or less",
    "incomplete": "suppressed: the group does not have exactly one row for each of the {bands} "
    "age bands",
    "deaths_above_population": "suppressed: an age band has more deaths than population",
    "small_population": "suppressed: total population is 5,000 or less",
    "no_final_deaths": "suppressed: no deaths in the final (open-ended) age band",
    "wide_interval": "value suppressed: the 95% confidence interval is wider than 20 years",
}
"""The value_note of each suppressed row."""

MINIMUM_POPULATION = 5_000.0
WIDEST_INTERVAL = 20.0

_GROUP_RULES = (
    "negative_deaths",
    "population_not_positive",
    "incomplete",
    "deaths_above_population",
    "small_population",
)


class SuppressedValuesWarning(StatsWarning):
    """Some results were suppressed (or could not be calculated); the value_note column says
    which and why."""


def life_expectancy(
    data: pd.DataFrame | None = None,
    deaths: Column = "deaths",
    population: Column = "population",
    start_age: Column = "start_age",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    le_age: Literal["all"] | int | str | Sequence[int | str] = "all",
    age_contents: Sequence[int | str] | None = None,
    output: Literal["full", "standard"] = "full",
) -> pd.DataFrame:
    """Life expectancy at each starting age, with confidence limits, for each group.

    `deaths` and `population` are the deaths and mid-year populations (person-years) in each
    age band; `start_age` is the band's start age (0, 1, 5, ..., 90) or its label ("0",
    "1-4", ..., "90+": the first whole number in a label is its start age). There is one row
    per group and age band; `group_by` names the columns that identify a group (area, sex,
    period...). All groups are calculated at once (arrays of groups x age bands).

    `age_contents` lists the bands in ascending order, as start ages or as the labels used in
    `start_age`. By default the bands are inferred: the standard 20 bands closing at 90+
    (BANDS_90_PLUS), or the older 19 bands closing at 85+ (BANDS_85_PLUS).

    `le_age` picks the starting ages to return ("all", or one or more start ages or labels);
    if none of them is a band, every age is returned with a warning, as in the reference.

    Returns one row per input row, sorted by group and age, with the other input columns
    (not deaths or population), `value` (life expectancy in years), the limit columns
    (`lowercl`/`uppercl`, or `lower95_0cl`... for several levels), and with output "full"
    `pops_used` and `dths_used` (population and deaths at this age and above), `confidence`,
    `statistic` ("life expectancy at <age>") and `method`. `value_note` says why a row's
    results are missing or suppressed (empty otherwise); suppression also issues a
    SuppressedValuesWarning with the reference's message. See the module docstring for the
    formulas and rules.
    """
    if output not in ("full", "standard"):
        raise InvalidInputError(f"output must be 'full' or 'standard', got {output!r}")
    levels = confidence_levels(confidence)
    frame, names = frame_of(
        data, {"deaths": deaths, "population": population, "start_age": start_age}
    )
    groups = group_columns(group_by)
    d_col, p_col, a_col = names["deaths"], names["population"], names["start_age"]
    death_values = numbers(frame, d_col)
    population_values = numbers(frame, p_col)
    starts, band, contents = _bands(frame, a_col, age_contents)
    bands = len(contents)
    codes, keys = group_codes(frame, groups)
    n_groups = len(keys)

    # Rows into a groups x bands panel; cells without exactly one row mark the group incomplete.
    cell = codes * bands + band
    counts = np.bincount(cell, minlength=n_groups * bands).reshape(n_groups, bands)
    deaths_panel = np.zeros((n_groups, bands))
    pops_panel = np.zeros((n_groups, bands))
    np.add.at(deaths_panel.ravel(), cell, death_values)
    np.add.at(pops_panel.ravel(), cell, population_values)

    def any_row(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        return np.bincount(codes, weights=flags.astype(np.float64), minlength=n_groups) > 0

    failed = {
        "negative_deaths": any_row(death_values < 0),
        "population_not_positive": any_row(population_values <= 0),
        "incomplete": (counts != 1).any(axis=1),
        "deaths_above_population": any_row(death_values > population_values),
        "small_population": np.bincount(codes, weights=population_values, minlength=n_groups)
        <= MINIMUM_POPULATION,
    }
    reason = np.full(n_groups, "", dtype=object)
    for rule in reversed(_GROUP_RULES):  # the first rule that applies wins
        reason[failed[rule]] = rule
    usable = reason == ""

    widths = np.diff(np.asarray(contents, dtype=np.float64))
    table = _life_table(deaths_panel, pops_panel, widths, contents[0] == 0)
    no_final_deaths = usable & ~(deaths_panel[:, -1] > 0)
    reason[no_final_deaths] = "no_final_deaths"
    usable &= ~no_final_deaths

    value = np.where(usable[:, None], table.e, np.nan)
    value[~np.isfinite(value)] = np.nan
    se = np.where(usable[:, None], table.se, np.nan)
    wide = usable[:, None] & (z_score(0.95) * se > WIDEST_INTERVAL / 2)
    shown = np.where(wide, np.nan, value)
    limits = [(value - z_score(level) * se, value + z_score(level) * se) for level in levels]
    pops_used = np.cumsum(pops_panel[:, ::-1], axis=1)[:, ::-1]
    dths_used = np.cumsum(deaths_panel[:, ::-1], axis=1)[:, ::-1]

    _warn(failed, reason, wide, bands)

    # Back to rows, sorted by group and band (stable, so ties keep their input order).
    order = np.lexsort((band, codes))
    g, b = codes[order], band[order]
    out = frame.drop(columns=[d_col, p_col]).iloc[order].reset_index(drop=True)
    out["value"] = shown[g, b]
    for (lower_name, upper_name), (lower, upper) in zip(limit_columns(levels), limits, strict=True):
        out[lower_name] = lower[g, b]
        out[upper_name] = upper[g, b]
    if output == "full":
        out["pops_used"] = pops_used[g, b]
        out["dths_used"] = dths_used[g, b]
        out["confidence"] = confidence_text(levels)
        out["statistic"] = ("life expectancy at " + frame[a_col].iloc[order].astype(str)).to_numpy()
        out["method"] = METHOD
    group_note = np.array(
        [_NOTES[rule].format(bands=bands) if rule else "" for rule in reason], dtype=object
    )[g]
    out["value_note"] = np.where(
        group_note != "", group_note, np.where(wide[g, b], _NOTES["wide_interval"], "")
    ).astype(object)
    return _select_ages(out, a_col, starts[order], le_age, contents)


class _LifeTable:
    """The arrays of a life table (groups x bands) that the results need."""

    def __init__(self, e: FloatArray, se: FloatArray) -> None:
        self.e = e
        self.se = se


def _life_table(
    deaths: FloatArray, population: FloatArray, widths: FloatArray, starts_at_zero: bool
) -> _LifeTable:
    """Chiang II life table and Silcocks' standard errors, for every group at once."""
    n_groups, bands = deaths.shape
    last = bands - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = deaths / population
        a = np.full(bands, 0.5)
        if starts_at_zero:
            a[0] = 0.1
        n = np.broadcast_to(np.append(widths, np.nan), (n_groups, bands)).copy()
        n[:, last] = 2 / m[:, last]
        q = np.where(
            n * a * m <= 1, n * m / (1 + n * m * (1 - a)), 1.0
        )  # deaths <= population / (n a)
        q[:, last] = 1.0
        p = 1 - q
        survivors = np.empty((n_groups, bands))
        survivors[:, 0] = RADIX
        survivors[:, 1:] = RADIX * np.cumprod(p[:, :-1], axis=1)
        following = np.zeros((n_groups, bands))
        following[:, :-1] = survivors[:, 1:]
        dying = survivors - following
        years = n * (following + a * dying)
        years[:, last] = survivors[:, last] / m[:, last]
        total_years = np.cumsum(years[:, ::-1], axis=1)[:, ::-1]
        e = np.where(survivors == 0, 0.0, total_years / survivors)

        var_p = np.where(dying == 0, 0.0, q**2 * (1 - q) / deaths)
        var_p[:, last] = 4 / (deaths[:, last] * m[:, last] ** 2)
        next_e = np.zeros((n_groups, bands))
        next_e[:, :-1] = e[:, 1:]
        weighted = var_p * survivors**2 * ((1 - a) * n + next_e) ** 2
        weighted[:, last] = (survivors[:, last] / 2) ** 2 * var_p[:, last]
        total_weighted = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]
        se = np.sqrt(total_weighted / survivors**2)
    return _LifeTable(e, se)


def _bands(
    frame: pd.DataFrame, column: str, age_contents: Sequence[int | str] | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], tuple[int, ...]]:
    """Each row's start age and band number, and the bands' start ages."""
    raw = frame[column]
    if raw.isna().any():
        position = int(np.argmax(raw.isna().to_numpy()))
        raise InvalidInputError(
            "expected an age band, the value is missing", column=column, row=position + 1
        )
    starts = _start_ages(raw, column)
    if age_contents is None:
        present = set(np.unique(starts).tolist())
        for standard in (BANDS_90_PLUS, BANDS_85_PLUS):
            if present == set(standard):
                contents = standard
                break
        else:
            raise InvalidInputError(
                "the contents in the startage field do not match the standard age bands "
                f"(0, 1, 5, 10, ..., 90 or ..., 85); found start ages {sorted(present)}: give "
                "age_contents for other bands",
                column=column,
            )
        band = np.searchsorted(np.asarray(contents), starts).astype(np.intp)
        return starts, band, contents

    labels = list(age_contents)
    if not labels:
        raise InvalidInputError("age_contents is empty")
    label_starts = _start_ages(pd.Series(labels, dtype=object), "age_contents")
    if label_starts[0] != 0:
        raise InvalidInputError("first age band in age_contents must be 0")
    if not bool(np.all(np.diff(label_starts) > 0)):
        out_of_place = [
            str(label)
            for label, start, ordered in zip(
                labels, label_starts, np.sort(label_starts), strict=True
            )
            if start != ordered
        ]
        raise InvalidInputError(
            "age_contents doesn't appear to be in ascending order; the following age bands "
            f"appear out of position: {', '.join(out_of_place) or ', '.join(map(str, labels))}"
        )
    as_text = [str(label) for label in labels]
    band = pd.Index(as_text).get_indexer(pd.Index(raw.astype(str)))
    if (band < 0).any() or set(np.unique(band).tolist()) != set(range(len(labels))):
        raise InvalidInputError(
            "the contents in the startage field do not match the contents of the age_contents "
            "vector",
            column=column,
        )
    contents = tuple(int(start) for start in label_starts)
    return starts, band.astype(np.intp), contents


def _start_ages(raw: pd.Series, column: str) -> npt.NDArray[np.int64]:
    """Start ages: numbers as they are (whole, 0 or more), labels by their first number."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=np.float64)
        bad = (values < 0) | (values != np.round(values))
        if bad.any():
            position = int(np.argmax(bad))
            raise InvalidInputError(
                f"expected a whole start age of 0 or more, got {raw.iloc[position]!r}",
                column=column,
                row=position + 1,
            )
        return values.astype(np.int64)
    extracted = raw.astype(str).str.extract(r"^\D*(\d+)", expand=False)
    missing = extracted.isna().to_numpy()
    if missing.any():
        position = int(np.argmax(missing))
        raise InvalidInputError(
            f"expected an age band such as 0, 5 or '5-9', got {raw.iloc[position]!r}",
            column=column,
            row=position + 1,
        )
    return np.asarray(extracted.astype(np.int64).to_numpy(), dtype=np.int64)


def _warn(
    failed: dict[str, npt.NDArray[np.bool_]],
    reason: npt.NDArray[np.object_],
    wide: npt.NDArray[np.bool_],
    bands: int,
) -> None:
    # As the reference, one warning per rule that any group fails (a group can fail several).
    for rule in _GROUP_RULES:
        if failed[rule].any():
            message = MESSAGES[rule].format(bands=bands)
            warnings.warn(message, SuppressedValuesWarning, stacklevel=3)
    if (reason == "no_final_deaths").any():
        warnings.warn(MESSAGES["no_final_deaths"], SuppressedValuesWarning, stacklevel=3)
    if wide.any():
        warnings.warn(MESSAGES["wide_interval"], SuppressedValuesWarning, stacklevel=3)


def _select_ages(
    out: pd.DataFrame,
    column: str,
    starts: npt.NDArray[np.int64],
    le_age: Literal["all"] | int | str | Sequence[int | str],
    contents: tuple[int, ...],
) -> pd.DataFrame:
    if isinstance(le_age, str) and le_age == "all":
        return out
    wanted = [le_age] if isinstance(le_age, int | str) else list(le_age)
    as_text = {str(age) for age in wanted}
    numeric = {int(age) for age in wanted if isinstance(age, int | np.integer)}
    labels = out[column].astype(str).to_numpy()
    keep = np.isin(labels, list(as_text)) | np.isin(starts, list(numeric))
    if not keep.any():
        warnings.warn(MESSAGES["le_age_missing"], SuppressedValuesWarning, stacklevel=3)
        return out
    return out.loc[keep].reset_index(drop=True)
