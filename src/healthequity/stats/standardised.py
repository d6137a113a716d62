"""Directly and indirectly standardised rates and ratios, as PHEindicatormethods 2.1 gives
them: `dsr` (Dobson limits, optionally adjusted for non-independent events), `isr` and
`isratio` (exact limits below 10 observed events, Byar's from 10).

References: Dobson AJ, Kuulasmaa K, Eberle E, Scherer J. Confidence intervals for weighted sums
of Poisson parameters. Stat Med 1991;10:457-462. Breslow NE, Day NE. Statistical methods in
cancer research, volume II. Lyon: IARC; 1987 (Byar's approximation). Armitage P, Berry G.
Statistical methods in medical research, 4th edn. Oxford: Blackwell; 2002 (exact Poisson
limits). Fingertips public health technical guidance (OHID), chapters "Directly standardised
rates" (including DSRs for non-independent events) and "Indirectly standardised ratios and
rates"; APHO Technical Briefing 3 (2008). Eurostat. Revision of the European Standard
Population: report of Eurostat's task force. Luxembourg: Publications Office of the European
Union; 2013.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
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
    group_columns,
    group_label,
    group_sum,
    limit_columns,
    number_text,
    numbers,
)
from healthequity.stats.exceptions import InvalidInputError, MissingColumnError

__all__ = ["ESP2013", "ESP2013_BANDS", "dsr", "isr", "isratio"]

ESP2013_BANDS: tuple[str, ...] = (
    *(f"{age}-{age + 4}" for age in range(0, 90, 5)),
    "90+",
)
"""The 19 age bands of the European Standard Population 2013: 0-4, 5-9, ..., 85-89, 90+."""

ESP2013: FloatArray = np.array(
    [
        *(5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000),
        *(7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000),
    ],
    dtype=np.float64,
)
"""The European Standard Population 2013 (Eurostat 2013), one value per band of
`ESP2013_BANDS`, summing to 100,000. Read-only."""
ESP2013.setflags(write=False)

DSR_MINIMUM_COUNT = 10
"""DSRs of fewer events than this are not published (Fingertips technical guidance)."""


def dsr(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    n: Column = "n",
    *,
    group_by: GroupBy = None,
    standard_population: Column | None = None,
    confidence: Confidence = 0.95,
    multiplier: float = 100_000,
    independent_events: bool = True,
    event_frequency: str | npt.ArrayLike | None = None,
    event_persons: Sequence[str] | Sequence[npt.ArrayLike] | None = None,
    age_band: Column | None = None,
) -> pd.DataFrame:
    """Directly standardised rates with Dobson confidence limits, as PHEindicatormethods'
    `calculate_dsr` gives them (Fingertips technical guidance, "Directly standardised
    rates"; Dobson et al. 1991).

    For each group, with x_i events, n_i people and w_i the standard population in band i:

        value = sum(w_i x_i / n_i) / sum(w_i) x multiplier
        var   = sum(x_i (w_i / n_i)^2) / sum(w_i)^2
        limit = value + sqrt(var / O) (O_limit - O) x multiplier

    where O = sum(x_i) and O_limit is Byar's lower or upper limit for O (Breslow & Day
    1987). Groups with fewer than 10 events get no value or limits and the statistic
    "dsr NA for total count < 10". Missing counts count as 0.

    `standard_population` is the standard population of each row: by default the European
    Standard Population 2013 (`ESP2013`, 19 five-year bands 0-4 to 90+), or another array,
    matched by position to the rows of every group (each group must then have as many rows,
    in the same band order); or a column name or an array with a value for every row.

    Non-independent events (one person counted more than once; Fingertips guidance): set
    `independent_events=False` and give how many people had each number of events, in one
    of two layouts. Then var = sum over frequencies f of f^2 var_f, var_f being the
    variance above computed from the people with f events.

    * Wide, one row per band (`event_persons`): columns (or arrays) of the people with 1,
      2, 3, ... events in the band, and `x` the events in the band (it must equal
      sum(f x people)); `event_frequency` optionally lists the frequencies those columns
      stand for (default 1, 2, 3, ...). Missing numbers of people count as 0.
    * Long, as the reference takes it (`event_frequency` a column): one row per band and
      frequency, `x` the people with that many events, `age_band` the column naming the
      band; rows of the same band must share their population and standard population.

    Aggregates: without `group_by` one result for all the rows, with it one row per group
    (group columns first). Columns: total_count, total_pop, value, the limit columns,
    confidence, statistic ("dsr per 100000") and method ("Dobson", or "Dobson, with
    confidence adjusted for non-independent events").
    """
    levels = confidence_levels(confidence)
    if independent_events and (event_frequency is not None or event_persons is not None):
        raise InvalidInputError(
            "event_frequency and event_persons are for non-independent events: "
            "set independent_events=False to use them"
        )
    long_layout = not independent_events and event_persons is None
    if long_layout and (event_frequency is None or age_band is None):
        raise InvalidInputError(
            "non-independent events need either event_persons (people with 1, 2, 3, ... "
            "events in each row) or event_frequency and age_band (one row per band and "
            "frequency, x being the people with that many events)"
        )
    roles: dict[str, Column | None] = {"x": x, "n": n}
    persons_roles: list[str] = []
    if not independent_events and not long_layout:
        persons_roles = _persons_roles(event_persons, roles)
    if long_layout:
        roles["event_frequency"] = event_frequency
        roles["age_band"] = age_band
    frame, names = frame_of(data, roles)
    codes, keys = group_codes(frame, group_by)
    groups = len(keys)
    counts = numbers(frame, names["x"], minimum=0, allow_missing=True)
    events = np.nan_to_num(counts, nan=0.0)
    population = numbers(frame, names["n"], above=0)
    standard = _per_row(
        frame,
        codes,
        keys,
        ESP2013 if standard_population is None else standard_population,
        "standard_population",
        data is not None,
        minimum=0,
        allow_missing=False,
    )
    weight = standard / population
    if long_layout:
        total_count, total_pop, weighted_sum, standard_sum, variance = _long_layout(
            frame,
            names,
            codes,
            groups,
            events,
            population,
            standard,
            weight,
            standard_population if isinstance(standard_population, str) else "standard_population",
        )
    else:
        if independent_events:
            variance_terms = events * weight**2
        else:
            frequencies = _wide_frequencies(event_frequency, len(persons_roles))
            people = np.column_stack(
                [
                    np.nan_to_num(numbers(frame, names[role], minimum=0, allow_missing=True))
                    for role in persons_roles
                ]
            )
            events = people @ frequencies
            _check_events(counts, events, names["x"])
            variance_terms = weight**2 * (people @ frequencies**2)
        standard_sum = group_sum(codes, standard, groups)
        total_count = group_sum(codes, events, groups)
        total_pop = group_sum(codes, population, groups)
        weighted_sum = group_sum(codes, events * weight, groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            variance = group_sum(codes, variance_terms, groups) / standard_sum**2

    result = keys
    result["total_count"] = total_count
    result["total_pop"] = total_pop
    small = total_count < DSR_MINIMUM_COUNT
    with np.errstate(invalid="ignore", divide="ignore"):
        value = weighted_sum / standard_sum * multiplier
        scale = np.sqrt(variance / total_count) * multiplier
    result["value"] = np.where(small, np.nan, value)
    for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
        lower = value + scale * (byars_lower(total_count, level) - total_count)
        upper = value + scale * (byars_upper(total_count, level) - total_count)
        result[lower_name] = np.where(small, np.nan, lower)
        result[upper_name] = np.where(small, np.nan, upper)
    result["confidence"] = confidence_text(levels)
    result["statistic"] = np.where(
        small, "dsr NA for total count < 10", f"dsr per {number_text(multiplier)}"
    )
    result["method"] = (
        "Dobson"
        if independent_events
        else "Dobson, with confidence adjusted for non-independent events"
    )
    return result


def isr(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    n: Column = "n",
    x_ref: Column = "x_ref",
    n_ref: Column = "n_ref",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    multiplier: float = 100_000,
    observed_totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indirectly standardised rates, as PHEindicatormethods' `calculate_ISRate` gives
    them (Fingertips technical guidance, "Indirectly standardised ratios and rates").

    For each group, with x_i observed events and n_i people in band i and the reference
    population's events X_i among N_i people:

        expected = sum(X_i / N_i x n_i),   ref_rate = sum(X_i) / sum(N_i) x multiplier
        value    = observed / expected x ref_rate

    and the limits are those of the observed count divided by the expected and times the
    reference rate: exact Poisson limits (Armitage & Berry 2002) below 10 observed events,
    Byar's approximation (Breslow & Day 1987) from 10, as `method` says.

    `x_ref` and `n_ref` are columns, or arrays with a value for every row, or arrays
    matched by position to the rows of every group (each group then has as many rows, in
    the same band order). Missing counts, populations and reference counts count as 0.

    `observed_totals`, when the observed events are known only in total: a DataFrame with
    the group columns and, named by `x`, each group's observed events.

    Aggregates: without `group_by` one result for all the rows, with it one row per group
    (group columns first). Columns: observed, expected, ref_rate, value, the limit columns,
    confidence, statistic ("indirectly standardised rate per 100000") and method.
    """
    levels = confidence_levels(confidence)
    result, observed, expected, reference = _indirect(
        data, x, n, x_ref, n_ref, group_by, observed_totals
    )
    ref_rate = reference * multiplier
    result["observed"] = observed
    result["expected"] = expected
    result["ref_rate"] = ref_rate
    _indirect_results(result, observed, ref_rate / expected, levels)
    result["statistic"] = f"indirectly standardised rate per {number_text(multiplier)}"
    result["method"] = count_method(observed)
    return result


def isratio(
    data: pd.DataFrame | None = None,
    x: Column = "x",
    n: Column = "n",
    x_ref: Column = "x_ref",
    n_ref: Column = "n_ref",
    *,
    group_by: GroupBy = None,
    confidence: Confidence = 0.95,
    multiplier: float = 1,
    observed_totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indirectly standardised ratios (standardised mortality ratios, SMRs), as
    PHEindicatormethods' `calculate_ISRatio` gives them (Fingertips technical guidance,
    "Indirectly standardised ratios and rates"; Breslow & Day 1987).

        value = observed / expected x multiplier

    with expected as in `isr`, and `multiplier` the reference's `refvalue` (1 for a ratio,
    100 for the ratio as a percentage). The limits are those of the observed count (exact
    Poisson below 10 events, Byar's from 10) divided by the expected, times the multiplier.
    Inputs are as for `isr`. Columns: observed, expected, value, the limit columns,
    confidence, statistic ("indirectly standardised ratio x 1") and method.
    """
    levels = confidence_levels(confidence)
    result, observed, expected, _ = _indirect(data, x, n, x_ref, n_ref, group_by, observed_totals)
    result["observed"] = observed
    result["expected"] = expected
    _indirect_results(result, observed, multiplier / expected, levels)
    result["statistic"] = f"indirectly standardised ratio x {number_text(multiplier)}"
    result["method"] = count_method(observed)
    return result


def _indirect(
    data: pd.DataFrame | None,
    x: Column,
    n: Column,
    x_ref: Column,
    n_ref: Column,
    group_by: GroupBy,
    observed_totals: pd.DataFrame | None,
) -> tuple[pd.DataFrame, FloatArray, FloatArray, FloatArray]:
    """The groups' keys, observed and expected events, and the reference rate (per 1)."""
    roles: dict[str, Column | None] = {"n": n}
    totals_column = x if isinstance(x, str) else None
    if observed_totals is None:
        roles["x"] = x
    elif totals_column is None:
        raise InvalidInputError("with observed_totals, x must name its column of observed events")
    frame, names = frame_of(data, roles)
    codes, keys = group_codes(frame, group_by)
    groups = len(keys)
    population = np.nan_to_num(numbers(frame, names["n"], minimum=0, allow_missing=True))
    reference_count = np.nan_to_num(
        _per_row(frame, codes, keys, x_ref, "x_ref", data is not None, minimum=0)
    )
    reference_population = _per_row(
        frame, codes, keys, n_ref, "n_ref", data is not None, above=0, allow_missing=False
    )
    expected = group_sum(codes, reference_count / reference_population * population, groups)
    reference = group_sum(codes, reference_count, groups) / group_sum(
        codes, reference_population, groups
    )
    if observed_totals is not None and totals_column is not None:
        observed = _observed_totals(observed_totals, totals_column, keys, group_by)
    else:
        counts = numbers(frame, names["x"], minimum=0, allow_missing=True)
        observed = group_sum(codes, np.nan_to_num(counts), groups)
    return keys, observed, expected, reference


def _indirect_results(
    result: pd.DataFrame, observed: FloatArray, scale: FloatArray, levels: tuple[float, ...]
) -> None:
    result["value"] = observed * scale
    for level, (lower_name, upper_name) in zip(levels, limit_columns(levels), strict=True):
        lower, upper = count_limits(observed, level)
        result[lower_name] = lower * scale
        result[upper_name] = upper * scale
    result["confidence"] = confidence_text(levels)


def _observed_totals(
    totals: pd.DataFrame, x: str, keys: pd.DataFrame, group_by: GroupBy
) -> FloatArray:
    columns = group_columns(group_by)
    for column in [*columns, x]:
        if column not in totals.columns:
            raise MissingColumnError(column, [str(name) for name in totals.columns])
    observed = numbers(totals, x, minimum=0, allow_missing=True)
    if not columns:
        if len(totals) != 1:
            raise InvalidInputError(
                f"without group_by, observed_totals must have one row, it has {len(totals)}"
            )
        return observed
    duplicated = totals.duplicated(columns).to_numpy()
    if duplicated.any():
        raise InvalidInputError(
            "observed_totals has more than one row for a group",
            row=int(np.argmax(duplicated)) + 1,
        )
    lookup = pd.Series(observed, index=pd.MultiIndex.from_frame(totals[columns]))
    found = lookup.reindex(pd.MultiIndex.from_frame(keys[columns]))
    return np.asarray(found.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _per_row(
    frame: pd.DataFrame,
    codes: npt.NDArray[np.intp],
    keys: pd.DataFrame,
    value: Column,
    role: str,
    from_data: bool,
    *,
    minimum: float | None = None,
    above: float | None = None,
    allow_missing: bool = True,
) -> FloatArray:
    """A reference input's value for every row: a column of the data, an array with a value
    per row, or an array matched by position to the rows of every group."""
    if isinstance(value, str):
        if not from_data:
            raise InvalidInputError(f"{role} names a column {value!r}, but no data was given")
        if value not in frame.columns:
            raise MissingColumnError(value, [str(column) for column in frame.columns])
        source, column = frame, value
    else:
        source, column = pd.DataFrame({role: np.asarray(value).ravel()}), role
    values = numbers(source, column, minimum=minimum, above=above, allow_missing=allow_missing)
    if isinstance(value, str):
        return values
    if len(values) == len(frame):
        return values
    sizes = np.bincount(codes, minlength=len(keys))
    wrong = sizes != len(values)
    if wrong.any():
        group = int(np.argmax(wrong))
        if keys.shape[1] == 0:
            where = f"the data has {sizes[group]} rows (group them with group_by?)"
        else:
            where = f"the group {group_label(keys, group)} has {sizes[group]} rows"
        raise InvalidInputError(
            f"{len(values)} values, one per row of each group by position, but {where}",
            column=role,
        )
    order = np.argsort(codes, kind="stable")
    starts = np.cumsum(sizes) - sizes
    position = np.empty(len(codes), dtype=np.intp)
    position[order] = np.arange(len(codes)) - starts[codes[order]]
    return values[position]


def _persons_roles(
    event_persons: Sequence[str] | Sequence[npt.ArrayLike] | None,
    roles: dict[str, Column | None],
) -> list[str]:
    if event_persons is None or isinstance(event_persons, str) or len(event_persons) == 0:
        raise InvalidInputError(
            "event_persons must list the columns (or arrays) of people with 1, 2, 3, ... events"
        )
    names = []
    for index, persons in enumerate(event_persons):
        role = f"event_persons[{index}]"
        roles[role] = persons
        names.append(role)
    return names


def _wide_frequencies(event_frequency: str | npt.ArrayLike | None, columns: int) -> FloatArray:
    if event_frequency is None:
        return np.arange(1, columns + 1, dtype=np.float64)
    if isinstance(event_frequency, str):
        raise InvalidInputError(
            "with event_persons, event_frequency lists the number of events of each of its "
            "columns (say [1, 2, 3, 4]), not a column"
        )
    array = np.asarray(event_frequency).ravel()
    frequencies = numbers(pd.DataFrame({"event_frequency": array}), "event_frequency", above=0)
    if len(frequencies) != columns:
        raise InvalidInputError(
            f"event_frequency has {len(frequencies)} values for {columns} event_persons columns"
        )
    return frequencies


def _check_events(counts: FloatArray, events: FloatArray, column: str) -> None:
    differs = ~np.isnan(counts) & ~np.isclose(counts, events, rtol=1e-9, atol=1e-9)
    if differs.any():
        row = int(np.argmax(differs))
        raise InvalidInputError(
            f"the events ({counts[row]:g}) differ from those of event_persons "
            f"({events[row]:g}, the people times their number of events)",
            column=column,
            row=row + 1,
        )


def _long_layout(
    frame: pd.DataFrame,
    names: dict[str, str],
    codes: npt.NDArray[np.intp],
    groups: int,
    persons: FloatArray,
    population: FloatArray,
    standard: FloatArray,
    weight: FloatArray,
    standard_column: str,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Sums for non-independent events given one row per group, band and frequency."""
    frequency = numbers(frame, names["event_frequency"], above=0)
    band_column = names["age_band"]
    band_missing = frame[band_column].isna().to_numpy()
    if band_missing.any():
        raise InvalidInputError(
            "the age band is missing", column=band_column, row=int(np.argmax(band_missing)) + 1
        )
    # Variance for the people with each frequency, as if their events were independent.
    frequency_code, frequency_values = pd.factorize(frequency)
    kinds = len(frequency_values)
    pair_code, pair_values = pd.factorize(codes.astype(np.int64) * kinds + frequency_code)
    pair_code = pair_code.astype(np.intp)
    pairs = len(pair_values)
    pair_variance = (
        group_sum(pair_code, persons * weight**2, pairs)
        / group_sum(pair_code, standard, pairs) ** 2
    )
    pair_group = (np.asarray(pair_values) // kinds).astype(np.intp)
    pair_frequency = np.asarray(frequency_values, dtype=np.float64)[np.asarray(pair_values) % kinds]
    variance = group_sum(pair_group, pair_frequency**2 * pair_variance, groups)
    # Events in each band: rows of a band share its population and standard population.
    band_code, band_values = pd.factorize(frame[band_column])
    band_row, band_keys = pd.factorize(codes.astype(np.int64) * len(band_values) + band_code)
    band_row = band_row.astype(np.intp)
    bands = len(band_keys)
    _, first = np.unique(band_row, return_index=True)
    for values, column in ((population, names["n"]), (standard, standard_column)):
        differs = values != values[first][band_row]
        if differs.any():
            raise InvalidInputError(
                "rows of the same group and age band have different populations",
                column=column,
                row=int(np.argmax(differs)) + 1,
            )
    band_events = group_sum(band_row, frequency * persons, bands)
    band_group = (np.asarray(band_keys) // len(band_values)).astype(np.intp)
    total_count = group_sum(band_group, band_events, groups)
    total_pop = group_sum(band_group, population[first], groups)
    weighted_sum = group_sum(band_group, band_events * weight[first], groups)
    standard_sum = group_sum(band_group, standard[first], groups)
    return total_count, total_pop, weighted_sum, standard_sum, variance
