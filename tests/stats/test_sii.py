"""Slope and relative index of inequality against PHEindicatormethods 2.1's own test data
(testdata_SII.xlsx: every expected value; NCMP_testdata.csv), its errors and warnings, and
properties.

Point estimates (sii, rii, intercept) must match to 1e-9 relative; simulated limits within the
reference's own tolerance, 0.05 relative, with the sheet's repetitions (100,000, or 10,000
where the sheet says so)."""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats as scipy_stats

from healthequity.stats import slope_index as sii_module
from healthequity.stats.exceptions import (
    InvalidConfidenceError,
    InvalidInputError,
    MissingColumnError,
)
from healthequity.stats.slope_index import IncompleteGroupsWarning, ManyQuantilesWarning, sii

from .conftest import PHE_DATA, phe_sheet

POINT_RTOL = 1e-9
LIMIT_RTOL = 0.05
GROUPS = ["Area", "Grouping1", "Grouping2"]
SEED = 20240601


@cache
def _sheet() -> pd.DataFrame:
    return phe_sheet("testdata_SII.xlsx", "testdata_SII")


def sii_data() -> pd.DataFrame:
    return _sheet().copy()


def block(description: str) -> pd.DataFrame:
    data = sii_data()
    chosen = data[data["TestDescription"] == description]
    assert len(chosen), description
    return chosen


def rows(first: int, last: int) -> pd.DataFrame:
    """Rows by RecordNo, as the reference's tests pick them (1-based, inclusive)."""
    data = sii_data()
    return data[data["RecordNo"].between(first, last)]


# The reference's calls for each block of the sheet (testSII.R), but always asking for the RII
# and the intercept so that every expected value in the sheet is checked. Confidence levels
# are the reference tests' (the sheet's Confidence column says 95 for the 98% tests).
PARITY: dict[str, dict[str, Any]] = {
    "default (e.g. life expectancy) - default parameters": {"value_type": 0},
    "default - testing 99% confidence": {"value_type": 0, "confidence": 0.99},
    "default - testing 10,000 repetitions": {"value_type": 0},
    "default - testing quintiles": {"value_type": 0},
    "rate (e.g. infant mortality) - default parameters": {"value_type": 1},
    "proportion (e.g. child obesity) - default parameters": {"value_type": 2},
    "proportion - testing multiplier (x 100)": {"value_type": 2, "multiplier": 100},
    "proportion - testing multiplier (x -100)": {"value_type": 2, "multiplier": -100},
    "default (e.g. life expectancy) - multiple CIs": {"value_type": 0, "confidence": (95, 99)},
    "default (e.g. life expectancy) - intercept": {"value_type": "normal"},
    "rate (e.g. infant mortality) - intercept": {"value_type": "rate"},
    "proportion (e.g. child obesity) - intercept": {"value_type": "proportion"},
    "rate (e.g. infant mortality) - log transform with intercept": {
        "value_type": 1,
        "transform": True,
    },
    "proportion (e.g. child obesity) - logit transform with intercept": {
        "value_type": 2,
        "transform": True,
    },
    "proportion (e.g. child obesity) - logit transform with negative multiplier": {
        "value_type": 2,
        "transform": True,
        "multiplier": -1,
    },
    "rate (e.g. infant mortality) - log transform with multiple Cis (95 and 98)": {
        "value_type": 1,
        "transform": True,
        "confidence": (95, 98),
    },
    "rate (e.g. infant mortality) - log transform with negative multiplier": {
        "value_type": 1,
        "transform": True,
        "multiplier": -1,
    },
    "rate (e.g. infant mortality) - log transform with 98% CI": {
        "value_type": 1,
        "transform": True,
        "confidence": 98,
    },
    "rate (e.g. infant mortality) - log transform without rii": {
        "value_type": 1,
        "transform": True,
    },
    "proportion (e.g. child obesity) - logit transform without rii": {
        "value_type": 2,
        "transform": True,
    },
    "proportion (e.g. child obesity) - logit transform with 98% cis": {
        "value_type": 2,
        "transform": True,
        "confidence": 98,
    },
    "proportion (e.g. child obesity) - logit transform with 95% and 98% cis": {
        "value_type": 2,
        "transform": True,
        "confidence": (95, 98),
    },
}
SE = {"standard_error": "StandardError"}
CLS = {"lower_cl": "LowerCL", "upper_cl": "UpperCL"}
PARITY_CALLS = [
    pytest.param(description, source, id=f"{description} | {name}")
    for description, arguments in PARITY.items()
    for name, source in (("se", SE), ("limits", CLS))
    if not (arguments.get("transform") and name == "se")
]


def _expected_columns(levels: tuple[float, ...]) -> dict[str, str]:
    """The sheet's column for each output column."""
    columns = {"sii": "sii", "rii": "rii", "Intercept": "intercept"}
    for number, level in enumerate(levels, start=1):
        label = "" if len(levels) == 1 else f"{level:.1f}".replace(".", "_")
        for metric in ("sii", "rii"):
            for side in ("lower", "upper"):
                columns[f"{metric}_{side}cl_{number}"] = f"{metric}_{side}{label}cl"
    return columns


def _levels(confidence: float | tuple[float, ...]) -> tuple[float, ...]:
    return confidence if isinstance(confidence, tuple) else (confidence,)


@pytest.mark.parametrize(("description", "source"), PARITY_CALLS)
def test_every_expected_value_matches_the_reference(
    description: str, source: dict[str, str]
) -> None:
    arguments = dict(PARITY[description])
    data = block(description)
    result = sii(
        data,
        "Quantile",
        "Population",
        value="Value",
        group_by=GROUPS,
        repetitions=int(data["Repetitions"].iloc[0]),
        seed=SEED,
        rii=True,
        intercept=True,
        **source,
        **arguments,
    )
    expected = data.drop_duplicates(GROUPS).reset_index(drop=True)
    pd.testing.assert_frame_equal(result[GROUPS], expected[GROUPS])
    checked = 0
    for sheet_column, column in _expected_columns(
        _levels(arguments.get("confidence", 0.95))
    ).items():
        want = expected[sheet_column].to_numpy(dtype=float)
        known = ~np.isnan(want)
        if not known.any():
            continue
        got = result[column].to_numpy(dtype=float)[known]
        rtol = LIMIT_RTOL if "cl_" in sheet_column else POINT_RTOL
        assert_allclose(got, want[known], rtol=rtol, err_msg=f"{description}: {column}")
        checked += int(known.sum())
    # every value the sheet gives for this block was compared
    value_columns = [c for c in _expected_columns((1, 2)) if c in expected]
    assert checked == int(expected[value_columns].notna().to_numpy().sum())


def test_a_proportion_from_count_and_population() -> None:
    """The reference's 'test proportion with count provided': x = Count for the value."""
    data = block("proportion (e.g. child obesity) - default parameters")
    result = sii(
        data,
        "Quantile",
        "Population",
        count="Count",
        value_type=2,
        group_by=GROUPS,
        seed=SEED,
        rii=True,
        **CLS,
    )
    expected = data.drop_duplicates(GROUPS).reset_index(drop=True)
    assert_allclose(result["sii"], expected["sii"], rtol=POINT_RTOL)
    assert_allclose(result["rii"], expected["rii"], rtol=POINT_RTOL)
    for column in ("sii_lowercl", "sii_uppercl", "rii_lowercl", "rii_uppercl"):
        assert_allclose(result[column], expected[f"{column}_1"], rtol=LIMIT_RTOL)


def test_ungrouped_data_gives_one_result() -> None:
    """The reference's 'test on ungrouped data'."""
    data = rows(1, 10)
    result = sii(data, "Quantile", "Population", value="Value", seed=SEED, rii=True, **CLS)
    assert len(result) == 1
    assert "Area" not in result
    expected = data.iloc[0]
    assert result["sii"].iloc[0] == pytest.approx(expected["sii"], rel=POINT_RTOL)
    assert result["sii_lowercl"].iloc[0] == pytest.approx(expected["sii_lowercl_1"], rel=0.05)


def test_the_output_columns() -> None:
    result = sii(
        rows(1, 20),
        "Quantile",
        "Population",
        value="Value",
        group_by=GROUPS,
        repetitions=1000,
        rii=True,
        intercept=True,
        confidence=(0.95, 0.998),
        **SE,
    )
    assert list(result.columns) == [
        *GROUPS,
        "sii",
        "rii",
        "sii_lower95_0cl",
        "sii_upper95_0cl",
        "sii_lower99_8cl",
        "sii_upper99_8cl",
        "rii_lower95_0cl",
        "rii_upper95_0cl",
        "rii_lower99_8cl",
        "rii_upper99_8cl",
        "intercept",
        "value_type",
        "multiplier",
        "transform",
        "confidence",
        "method",
    ]
    assert result["confidence"].tolist() == ["95%, 99.8%"] * 2
    assert result["method"].iloc[0] == "simulation, 1000 repetitions"
    assert result["value_type"].iloc[0] == "normal"
    assert result["transform"].iloc[0] == "none"
    # the 99.8% interval holds the 95% one
    assert (result["sii_lower99_8cl"] <= result["sii_lower95_0cl"]).all()
    assert (result["sii_upper99_8cl"] >= result["sii_upper95_0cl"]).all()
    plain = sii(rows(1, 20), "Quantile", "Population", value="Value", group_by=GROUPS, **SE)
    assert list(plain.columns) == [
        *GROUPS,
        "sii",
        "sii_lowercl",
        "sii_uppercl",
        "value_type",
        "multiplier",
        "transform",
        "confidence",
        "method",
    ]


def test_transform_names_the_transform() -> None:
    data = block("rate (e.g. infant mortality) - log transform with intercept")
    result = sii(
        data,
        "Quantile",
        "Population",
        value="Value",
        value_type="rate",
        transform=True,
        group_by=GROUPS,
        repetitions=1000,
        **CLS,
    )
    assert result["transform"].tolist() == ["log", "log"]
    assert result["value_type"].tolist() == ["rate", "rate"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_normal_limits_match_the_exact_distribution(seed: int) -> None:
    """For normal values the simulated SII is exactly normal, with standard deviation
    sqrt(sum k_i^2 se_i^2) for the fit's weights k_i: with many repetitions the simulated
    limits converge on its quantiles, whatever the seed. (The sheet's expected 99% lower limit
    for area1, 1.924, is itself 2.3% above the exact 1.882: the reference's simulation error.)"""
    data = block("default - testing 99% confidence")
    result = sii(
        data,
        "Quantile",
        "Population",
        value="Value",
        group_by=GROUPS,
        repetitions=1_000_000,
        seed=seed,
        confidence=(0.95, 0.99),
        **SE,
    )
    for index, (_, area) in enumerate(data.groupby(GROUPS)):
        area = area.sort_values("Quantile")
        shares = area["Population"].to_numpy() / area["Population"].sum()
        ranks = np.cumsum(shares) - shares / 2
        deviation = ranks - (shares * ranks).sum()
        weights = shares * deviation / (shares * deviation**2).sum()
        centre = (weights * area["Value"].to_numpy()).sum()
        spread = np.sqrt(((weights * area["StandardError"].to_numpy()) ** 2).sum())
        assert result["sii"].iloc[index] == pytest.approx(centre, rel=POINT_RTOL)
        for level, label in ((0.95, "95_0"), (0.99, "99_0")):
            z = scipy_stats.norm.ppf(0.5 + level / 2)
            lower, upper = (
                result[f"sii_lower{label}cl"].iloc[index],
                result[f"sii_upper{label}cl"].iloc[index],
            )
            assert lower == pytest.approx(centre - z * spread, rel=0.02)
            assert upper == pytest.approx(centre + z * spread, rel=0.02)


# NCMP (real shape of an SII input) ---------------------------------------------------------


@cache
def _ncmp() -> pd.DataFrame:
    return pd.read_csv(PHE_DATA / "NCMP_testdata.csv", dtype={"SchoolYear": str})


NCMP_GROUPS = ["Period", "SchoolYear"]


def test_ncmp_expected_values() -> None:
    """Rate = 100 Count / Measured, LCL/UCL its 95% Wilson limits, SE = (UCL - LCL) /
    (2 x 1.959964): the value and standard error the SII takes from them."""
    data = _ncmp()
    count, measured = data["Count"].to_numpy(float), data["Measured"].to_numpy(float)
    z = scipy_stats.norm.ppf(0.975)
    spread = z * np.sqrt(z**2 + 4 * count * (1 - count / measured))
    lower = (2 * count + z**2 - spread) / (2 * (measured + z**2))
    upper = (2 * count + z**2 + spread) / (2 * (measured + z**2))
    assert_allclose(100 * count / measured, data["Rate"], rtol=POINT_RTOL)
    assert_allclose(100 * lower, data["LCL"], rtol=POINT_RTOL)
    assert_allclose(100 * upper, data["UCL"], rtol=POINT_RTOL)
    assert_allclose((data["UCL"] - data["LCL"]) / (2 * z), data["SE"], rtol=POINT_RTOL)

    # The SII derives the same standard error from the limits: same seed, same draws, same
    # limits as with the SE column.
    common = {"group_by": NCMP_GROUPS, "seed": SEED, "rii": True, "repetitions": 10_000}
    from_limits = sii(
        data, "Decile", "Measured", value="Rate", lower_cl="LCL", upper_cl="UCL", **common
    )
    from_se = sii(data, "Decile", "Measured", value="Rate", standard_error="SE", **common)
    assert len(from_se) == 24
    limit_columns = ["sii_lowercl", "sii_uppercl", "rii_lowercl", "rii_uppercl"]
    assert_allclose(from_limits[limit_columns], from_se[limit_columns], rtol=1e-6)
    assert_allclose(from_limits["sii"], from_se["sii"], rtol=POINT_RTOL)

    # ... and the value from count and population: the proportion x 100 is the rate.
    from_count = sii(
        data.assign(lower=data["LCL"] / 100, upper=data["UCL"] / 100),
        "Decile",
        "Measured",
        count="Count",
        value_type="proportion",
        multiplier=100,
        lower_cl="lower",
        upper_cl="upper",
        **common,
    )
    assert_allclose(from_count["sii"], from_se["sii"], rtol=POINT_RTOL)
    assert_allclose(from_count["rii"], from_se["rii"], rtol=POINT_RTOL)
    # prevalence falls from the most to the least deprived decile: a negative SII, its limits
    # either side, and the logit-scale simulation close to the normal one
    assert (from_count["sii"] < 0).all()
    for result in (from_se, from_count):
        assert (result["sii_lowercl"] <= result["sii"]).all()
        assert (result["sii"] <= result["sii_uppercl"]).all()
    assert_allclose(from_count["sii_lowercl"], from_se["sii_lowercl"], rtol=0.05)


# Errors and warnings, as the reference raises them ----------------------------------------


def _call(data: pd.DataFrame, **arguments: Any) -> pd.DataFrame:
    defaults: dict[str, Any] = {"value": "Value", "group_by": GROUPS, "repetitions": 1000}
    return sii(data, "Quantile", "Population", **(defaults | arguments))


@pytest.mark.parametrize(
    ("first", "last", "arguments", "column", "row", "message"),
    [
        (151, 160, SE, "Population", 2, "more than 0"),
        (161, 165, SE, "StandardError", 3, "at least 0"),
        (191, 200, SE, "StandardError", 1, "missing"),
        (
            166,
            170,
            {"count": "Count", "value": None, "value_type": 2, **SE},
            "Count",
            3,
            "more than 0",
        ),
        (1, 20, {"value_type": 2, **SE}, "Value", 1, "at most 1"),
        (171, 175, {"value_type": 2, **CLS}, "UpperCL", 4, "at most 1"),
        (176, 180, {"value_type": 2, **CLS}, "LowerCL", 2, "at most 1"),
        (191, 200, CLS, "LowerCL", 1, "missing"),
        (181, 190, SE, "Value", 1, "missing"),
        (201, 210, SE, "Population", 5, "missing"),
        (151, 160, {"population": "Grouping1", **SE}, "Grouping1", 1, "expected a number"),
    ],
    ids=[
        "negative population",
        "negative standard error",
        "missing standard error",
        "zero count",
        "value proportions outside 0 to 1",
        "upper limit proportion above 1",
        "lower limit proportion above 1",
        "missing limits",
        "missing values",
        "missing population",
        "non-numeric population",
    ],
)
def test_invalid_data_is_refused_naming_column_and_row(
    first: int,
    last: int,
    arguments: dict[str, Any],
    column: str,
    row: int,
    message: str,
) -> None:
    data = rows(first, last)
    call = {"value": "Value", "group_by": GROUPS, "repetitions": 1000} | arguments
    population = call.pop("population", "Population")
    if call["value"] is None:
        call.pop("value")
    with pytest.raises(InvalidInputError, match=message) as caught:
        sii(data, "Quantile", population, **call)
    assert (caught.value.column, caught.value.row) == (column, row)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"value": None, **SE}, InvalidInputError, "needs value, or count"),
        ({"lower_cl": "LowerCL"}, InvalidInputError, "lower_cl and upper_cl, or standard_error"),
        ({"value_type": 3, **SE}, InvalidInputError, "value_type should be 0, 1 or 2"),
        ({"value_type": "ratio", **SE}, InvalidInputError, "value_type should be 0, 1 or 2"),
        ({"value_type": True, **SE}, InvalidInputError, "value_type should be 0, 1 or 2"),
        ({"multiplier": "none", **SE}, InvalidInputError, "multiplier must be a number"),
        ({"multiplier": 0, **SE}, InvalidInputError, "multiplier must be a number"),
        ({"repetitions": 0, **SE}, InvalidInputError, "1000 or greater"),
        ({"repetitions": 999, **SE}, InvalidInputError, "1000 or greater"),
        ({"repetitions": "none", **SE}, InvalidInputError, "whole number"),
        ({"confidence": 0.35, **SE}, InvalidConfidenceError, "out of range"),
        ({"confidence": 40, **SE}, InvalidConfidenceError, "out of range"),
        ({"confidence": 135, **SE}, InvalidConfidenceError, "out of range"),
        ({"transform": True, "value_type": 0, **CLS}, InvalidInputError, "1 .rate. or 2"),
        ({"transform": True, "value_type": 1, **SE}, InvalidInputError, "not standard_error"),
        ({"count": "Count", "value": None, **SE}, InvalidInputError, "only for proportions"),
        ({"seed": -1, **SE}, InvalidInputError, "seed"),
    ],
    ids=[
        "no value or count",
        "one limit and no standard error",
        "value type 3",
        "value type text",
        "value type logical",
        "multiplier text",
        "multiplier zero",
        "no repetitions",
        "too few repetitions",
        "repetitions text",
        "confidence too low",
        "confidence percent too low",
        "confidence too high",
        "transform of normal values",
        "transform with a standard error",
        "count for a rate",
        "negative seed",
    ],
)
def test_invalid_arguments_are_refused(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    call = {"value": "Value", "group_by": GROUPS, "repetitions": 1000} | arguments
    if call["value"] is None:
        call.pop("value")
    with pytest.raises(error, match=message):
        sii(rows(1, 20), "Quantile", "Population", **call)


def test_missing_quantile_or_population_columns_are_named() -> None:
    with pytest.raises(MissingColumnError, match="'quantile'"):
        sii(rows(1, 20), population="Population", value="Value", **SE)
    with pytest.raises(MissingColumnError, match="'population'"):
        sii(rows(1, 20), "Quantile", value="Value", **SE)


def test_too_few_quantiles_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="between 5 and 100, found 3"):
        _call(rows(1, 3), **CLS)


def test_a_quantile_twice_in_a_group_is_refused() -> None:
    data = rows(1, 10)
    data = pd.concat([data, data.iloc[[3]]])
    with pytest.raises(InvalidInputError, match="quantile 4 appears more than once") as caught:
        _call(data, **SE)
    assert (caught.value.column, caught.value.row) == ("Quantile", 11)


def test_limits_the_wrong_way_round_are_refused() -> None:
    data = rows(1, 10).copy()
    data.iloc[2, data.columns.get_loc("LowerCL")] = 99.0
    with pytest.raises(InvalidInputError, match="above the upper limit") as caught:
        _call(data, **CLS)
    assert (caught.value.column, caught.value.row) == ("LowerCL", 3)


def test_a_limit_with_no_logit_is_refused() -> None:
    data = block("proportion (e.g. child obesity) - default parameters").copy()
    data.iloc[1, data.columns.get_loc("LowerCL")] = 0.0
    with pytest.raises(InvalidInputError, match="has no logit") as caught:
        _call(data, value_type=2, **CLS)
    assert (caught.value.column, caught.value.row) == ("LowerCL", 2)


def test_a_group_lacking_a_quantile_is_dropped_with_a_warning_naming_it() -> None:
    """The reference's 'incomplete or invalid records' warning: rows 1-15 and 17-20, so that
    area2 lacks quantile 6."""
    data = pd.concat([rows(1, 15), rows(17, 20)])
    with pytest.warns(IncompleteGroupsWarning, match="incomplete data") as caught:
        result = _call(data, seed=SEED, **CLS)
    message = str(caught[0].message)
    assert "Area='area2', Grouping1='group A', Grouping2='group C' (no quantile 6)" in message
    assert result["Area"].tolist() == ["area1"]
    assert result["sii"].iloc[0] == pytest.approx(data["sii"].iloc[0], rel=POINT_RTOL)


def test_all_groups_dropped_gives_no_rows() -> None:
    data = pd.concat([rows(1, 9), rows(12, 20)])
    with pytest.warns(IncompleteGroupsWarning, match="2 groups"):
        result = _call(data, rii=True, **SE)
    assert len(result) == 0
    assert {"sii", "rii", "sii_lowercl", "rii_uppercl"} <= set(result.columns)


def test_many_quantiles_warn() -> None:
    with pytest.warns(ManyQuantilesWarning, match="15 here"):
        result = _call(rows(211, 225), **CLS)
    assert len(result) == 1
    assert np.isfinite(result["sii"]).all()


# Reliability statistic, seeds, threads ---------------------------------------------------


def test_reliability_statistic() -> None:
    """The reference's dimension tests, and more: the limits are the first of the ten
    simulations, which is the simulation without the statistic for the same seed."""
    data = rows(1, 20)
    for rii, columns in ((False, ["sii_mad"]), (True, ["sii_mad", "rii_mad"])):
        with_stat = _call(data, rii=rii, reliability_stat=True, seed=SEED, **CLS)
        without = _call(data, rii=rii, seed=SEED, **CLS)
        assert len(with_stat.columns) == len(without.columns) + len(columns)
        assert set(with_stat.columns) - set(without.columns) == set(columns)
        pd.testing.assert_frame_equal(
            with_stat[["sii", "sii_lowercl", "sii_uppercl"]],
            without[["sii", "sii_lowercl", "sii_uppercl"]],
        )
        widths = with_stat["sii_uppercl"] - with_stat["sii_lowercl"]
        assert (with_stat["sii_mad"] > 0).all()
        assert (with_stat["sii_mad"] < 0.1 * widths).all()
        assert "10 times for reliability" in with_stat["method"].iloc[0]
    several = _call(
        data,
        rii=True,
        reliability_stat=True,
        confidence=(0.95, 0.998),
        transform=True,
        value_type=1,
        seed=SEED,
        **CLS,
    )
    assert {"sii_mad95_0", "sii_mad99_8", "rii_mad95_0", "rii_mad99_8"} <= set(several.columns)


def test_the_same_seed_gives_the_same_limits_and_another_seed_close_ones() -> None:
    data = rows(1, 20)
    first = _call(data, seed=1, rii=True, **SE)
    again = _call(data, seed=1, rii=True, **SE)
    other = _call(data, seed=2, rii=True, **SE)
    pd.testing.assert_frame_equal(first, again)
    assert not first["sii_lowercl"].equals(other["sii_lowercl"])
    assert_allclose(first["sii_lowercl"], other["sii_lowercl"], rtol=0.1)


def test_threads_do_not_change_the_results(monkeypatch: pytest.MonkeyPatch) -> None:
    data = pd.concat(
        [rows(1, 20)]
        + [rows(1, 20).assign(Area=lambda d, i=i: d["Area"] + f" copy {i}") for i in range(5)]
    )
    monkeypatch.setattr(sii_module, "_INLINE_WORK", 0)
    monkeypatch.setattr(sii_module, "_STORE_BYTES", 1)  # one group per block
    results = []
    for cores in (1, 2, 3):
        monkeypatch.setattr(sii_module, "_cores", lambda cores=cores: cores)
        results.append(_call(data, seed=SEED, rii=True, value_type=1, **CLS))
    for result in results[1:]:
        pd.testing.assert_frame_equal(results[0], result)


def test_arrays_without_data() -> None:
    data = rows(1, 10)
    from_frame = sii(data, "Quantile", "Population", value="Value", seed=SEED, **SE)
    from_arrays = sii(
        None,
        data["Quantile"].to_numpy(),
        data["Population"].to_numpy(),
        value=data["Value"].to_numpy(),
        standard_error=data["StandardError"].to_numpy(),
        seed=SEED,
    )
    pd.testing.assert_frame_equal(from_frame, from_arrays)
    with pytest.raises(InvalidInputError, match="group_by"):
        sii(None, [1, 2], [3, 4], value=[1, 2], standard_error=[1, 1], group_by="area")


# Properties --------------------------------------------------------------------------------


@st.composite
def sii_inputs(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Groups of 5 to 10 quantiles with plausible values and 95% limits for each value type,
    and the sii() arguments for them."""
    kind = draw(st.sampled_from(["normal", "rate", "proportion"]))
    transform = kind != "normal" and draw(st.booleans())
    quantiles = draw(st.integers(5, 10))
    groups = draw(st.integers(1, 3))
    size = groups * quantiles
    floats = st.floats
    population = draw(st.lists(floats(100, 1e5), min_size=size, max_size=size))
    spread = draw(st.lists(floats(0.01, 0.2), min_size=size, max_size=size))
    z = 1.959963984540054
    if kind == "normal":
        value = np.array(draw(st.lists(floats(50, 90), min_size=size, max_size=size)))
        lower, upper = value - z * 20 * np.array(spread), value + z * 20 * np.array(spread)
    elif kind == "rate":
        value = np.array(draw(st.lists(floats(1, 500), min_size=size, max_size=size)))
        lower, upper = value * np.exp(-z * np.array(spread)), value * np.exp(z * np.array(spread))
    else:
        value = np.array(draw(st.lists(floats(0.05, 0.95), min_size=size, max_size=size)))
        logit = np.log(value / (1 - value))
        lower = 1 / (1 + np.exp(-(logit - z * np.array(spread))))
        upper = 1 / (1 + np.exp(-(logit + z * np.array(spread))))
    data = pd.DataFrame(
        {
            "area": np.repeat([f"area{i}" for i in range(groups)], quantiles),
            "quantile": np.tile(np.arange(1, quantiles + 1), groups),
            "population": population,
            "value": value,
            "lower": lower,
            "upper": upper,
        }
    )
    arguments = {
        "value": "value",
        "value_type": kind,
        "transform": transform,
        "lower_cl": "lower",
        "upper_cl": "upper",
        "group_by": "area",
        "repetitions": 1000,
        "rii": True,
        "intercept": True,
        "seed": draw(st.integers(0, 2**32)),
        "multiplier": draw(st.sampled_from([1, 100, -1])),
    }
    return data, arguments


PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(case=sii_inputs())
def test_reversing_the_quantiles_flips_the_sii_and_inverts_the_rii(
    case: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    data, arguments = case
    reversed_data = data.assign(quantile=data["quantile"].max() + 1 - data["quantile"])
    forward = sii(data, **arguments)
    backward = sii(reversed_data, **arguments)
    assert_allclose(backward["sii"], -forward["sii"], rtol=1e-9, atol=1e-8)
    assert_allclose(backward["rii"], 1 / forward["rii"], rtol=1e-9)
    # the fitted ends swap: the reversed intercept is the fitted value at the other end
    top = forward["intercept"] + forward["sii"] * np.sign(arguments["multiplier"])
    assert_allclose(backward["intercept"], top, rtol=1e-9)


@PROPERTY_SETTINGS
@given(case=sii_inputs())
def test_the_limits_bracket_the_estimates(case: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    data, arguments = case
    result = sii(data, **arguments)
    for metric in ("sii", "rii"):
        assert (result[f"{metric}_lowercl"] <= result[metric]).all(), metric
        assert (result[metric] <= result[f"{metric}_uppercl"]).all(), metric


@PROPERTY_SETTINGS
@given(case=sii_inputs(), order=st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_results(
    case: tuple[pd.DataFrame, dict[str, Any]], order: Any
) -> None:
    data, arguments = case
    positions = list(range(len(data)))
    order.shuffle(positions)
    pd.testing.assert_frame_equal(sii(data, **arguments), sii(data.iloc[positions], **arguments))


@PROPERTY_SETTINGS
@given(case=sii_inputs(), dropped=st.integers(0, 100))
def test_a_group_missing_a_quantile_is_dropped_with_a_warning_naming_it(
    case: tuple[pd.DataFrame, dict[str, Any]], dropped: int
) -> None:
    data, arguments = case
    areas = data["area"].unique()
    if len(areas) < 2:
        data = pd.concat([data, data.assign(area="area9")], ignore_index=True)
        areas = data["area"].unique()
    victim = areas[dropped % len(areas)]
    rows_of_victim = np.flatnonzero(data["area"].to_numpy() == victim)
    gone = rows_of_victim[dropped % len(rows_of_victim)]
    lost_quantile = int(data["quantile"].iloc[gone])
    with pytest.warns(IncompleteGroupsWarning) as caught:
        result = sii(data.drop(index=data.index[gone]), **arguments)
    message = " ".join(str(warning.message) for warning in caught)
    assert f"area={victim!r} (no quantile {lost_quantile})" in message
    assert victim not in set(result["area"])
    assert set(result["area"]) == set(areas) - {victim}
    complete = sii(data, **arguments)
    kept = complete[complete["area"] != victim].reset_index(drop=True)
    assert_allclose(result["sii"], kept["sii"], rtol=1e-12)


def test_warnings_can_be_made_errors() -> None:
    data = pd.concat([rows(1, 15), rows(17, 20)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteGroupsWarning)
        with pytest.raises(IncompleteGroupsWarning):
            _call(data, **CLS)
