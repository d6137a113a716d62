"""Proportions and Wilson limits against PHEindicatormethods 2.1's own test data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from healthequity.stats.exceptions import (
    InvalidConfidenceError,
    InvalidInputError,
    MissingColumnError,
)
from healthequity.stats.proportions import proportion, wilson_limits

from .conftest import phe_sheet

RTOL = 1e-9
LIMITS_BOTH = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]


def _prop_inputs() -> pd.DataFrame:
    return phe_sheet("testdata_Proportion.xlsx", "testdata_Prop")[
        ["Area", "Numerator", "Denominator"]
    ]


def _same_text(actual: pd.Series, expected: pd.Series) -> None:
    """Text columns equal, missing matching missing."""
    assert [None if pd.isna(v) else v for v in actual] == [
        None if pd.isna(v) else v for v in expected
    ]


# Parity ------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", ["95%", "99.8%"])
def test_wilson_limits_match_the_reference(confidence: str) -> None:
    sheet = phe_sheet("testdata_Byars_Wilson.xlsx", "testdata_B_W")
    rows = sheet[(sheet["method"] == "Wilson") & (sheet["confidence"] == confidence)]
    assert len(rows) == 3
    level = float(confidence.rstrip("%"))
    lower, upper = wilson_limits(rows["x"], rows["n"], level)
    assert_allclose(lower, rows["lowercl"], rtol=RTOL)
    assert_allclose(upper, rows["uppercl"], rtol=RTOL)


@pytest.mark.parametrize("multiplier", [1, 100])
def test_proportions_with_two_levels_match_the_reference(multiplier: int) -> None:
    sheet = phe_sheet("testdata_Proportion.xlsx", "testdata_Prop")
    expected = sheet[sheet["multiplier"] == multiplier].reset_index(drop=True)
    result = proportion(
        expected[["Area", "Numerator", "Denominator"]],
        "Numerator",
        "Denominator",
        confidence=[0.95, 0.998],
        multiplier=multiplier,
    )
    assert list(result.columns) == [
        "Area",
        "Numerator",
        "Denominator",
        "value",
        *LIMITS_BOTH,
        "confidence",
        "statistic",
        "method",
    ]
    assert list(result["Area"]) == list(expected["Area"])
    for column in ["value", *LIMITS_BOTH]:
        assert_allclose(result[column], expected[column], rtol=RTOL, err_msg=column)
    _same_text(result["statistic"], expected["statistic"])
    _same_text(result["method"], expected["method"])
    assert set(result["confidence"]) == {"95%, 99.8%"}


@pytest.mark.parametrize(("confidence", "suffix"), [(0.95, "95_0"), (99.8, "99_8")])
def test_one_level_gives_lowercl_and_uppercl(confidence: float, suffix: str) -> None:
    sheet = phe_sheet("testdata_Proportion.xlsx", "testdata_Prop")
    result = proportion(sheet, "Numerator", "Denominator", confidence=confidence)
    expected = sheet[sheet["multiplier"] == 1]
    got = result[sheet["multiplier"] == 1]
    assert_allclose(got["lowercl"], expected[f"lower{suffix}cl"], rtol=RTOL)
    assert_allclose(got["uppercl"], expected[f"upper{suffix}cl"], rtol=RTOL)
    assert set(result["confidence"]) == {"95%" if confidence == 0.95 else "99.8%"}


def test_grouped_proportions_match_the_reference() -> None:
    expected = phe_sheet("testdata_Proportion.xlsx", "testdata_Prop_g").set_index("Area")
    result = proportion(_prop_inputs(), "Numerator", "Denominator", group_by="Area")
    assert list(result.columns[:3]) == ["Area", "Numerator", "Denominator"]
    assert list(result["Area"]) == sorted(expected.index)
    got = result.set_index("Area").loc[expected.index]
    for column in ["Numerator", "Denominator", "value", "lowercl", "uppercl"]:
        assert_allclose(got[column], expected[column], rtol=RTOL, err_msg=column)
    for column in ["confidence", "statistic", "method"]:
        _same_text(got[column], expected[column])


def test_arrays_in_place_of_columns() -> None:
    sheet = phe_sheet("testdata_Proportion.xlsx", "testdata_Prop")
    expected = sheet[sheet["multiplier"] == 100]
    result = proportion(
        x=expected["Numerator"].to_numpy(),
        n=expected["Denominator"].to_numpy(),
        confidence=(95, 99.8),
        multiplier=100,
    )
    assert list(result.columns[:2]) == ["x", "n"]
    for column in ["value", *LIMITS_BOTH]:
        assert_allclose(result[column], expected[column], rtol=RTOL)


def test_statistic_names_the_multiplier() -> None:
    result = proportion(x=[5], n=[1000], multiplier=1000)
    assert result["statistic"].iloc[0] == "proportion of 1000"
    assert result["value"].iloc[0] == pytest.approx(5)


# Errors ------------------------------------------------------------------------------


def test_numerator_above_denominator_names_column_and_row() -> None:
    frame = pd.DataFrame({"num": [1, 5, 12], "den": [10, 10, 10]})
    with pytest.raises(InvalidInputError, match=r"column 'num', row 3: .*must not exceed") as info:
        proportion(frame, "num", "den")
    assert (info.value.column, info.value.row) == ("num", 3)


@pytest.mark.parametrize(
    ("num", "den", "column", "row", "message"),
    [
        ([1, -1], [10, 10], "num", 2, "expected at least 0"),
        ([1, 1], [10, 0], "den", 2, "expected more than 0"),
        ([1, 1], [-5, 10], "den", 1, "expected more than 0"),
        (["1", "a"], [10, 10], "num", 2, "expected a number"),
    ],
)
def test_bad_input_names_column_and_row(
    num: list[object], den: list[object], column: str, row: int, message: str
) -> None:
    frame = pd.DataFrame({"num": num, "den": den})
    with pytest.raises(InvalidInputError, match=message) as info:
        proportion(frame, "num", "den")
    assert (info.value.column, info.value.row) == (column, row)


def test_missing_column_and_bad_confidence() -> None:
    frame = pd.DataFrame({"num": [1], "den": [10]})
    with pytest.raises(MissingColumnError, match="'denominator'"):
        proportion(frame, "num", "denominator")
    with pytest.raises(InvalidConfidenceError, match="out of range"):
        proportion(frame, "num", "den", confidence=0.8)
    with pytest.raises(InvalidConfidenceError, match="one confidence level"):
        wilson_limits([1], [10], confidence=[0.95, 0.998])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="must not exceed"):
        wilson_limits([11], [10])


# Properties --------------------------------------------------------------------------


@st.composite
def cases_and_sizes(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=100_000))
    return draw(st.integers(min_value=0, max_value=n)), n


@settings(deadline=None)
@given(cases_and_sizes(), st.sampled_from([0.9, 0.95, 0.99, 0.998]))
def test_limits_bracket_the_proportion(case: tuple[int, int], level: float) -> None:
    x, n = case
    lower, upper = wilson_limits([x], [n], level)
    assert 0 <= lower[0] <= x / n + 1e-12
    assert x / n - 1e-12 <= upper[0] <= 1 + 1e-12


@settings(deadline=None)
@given(cases_and_sizes(), st.integers(min_value=2, max_value=50))
def test_more_people_give_narrower_limits(case: tuple[int, int], factor: int) -> None:
    x, n = case
    lower, upper = wilson_limits([x, x * factor], [n, n * factor])
    width = upper - lower
    assert width[1] < width[0]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), cases_and_sizes()), min_size=1, max_size=30),
    st.permutations(range(30)),
)
def test_results_do_not_depend_on_row_order(
    rows: list[tuple[str, tuple[int, int]]], permutation: list[int]
) -> None:
    frame = pd.DataFrame(
        {"area": [a for a, _ in rows], "x": [c[0] for _, c in rows], "n": [c[1] for _, c in rows]}
    )
    shuffled = frame.iloc[[i for i in permutation if i < len(frame)]]
    grouped = proportion(frame, "x", "n", group_by="area")
    pd.testing.assert_frame_equal(grouped, proportion(shuffled, "x", "n", group_by="area"))
    rows_each = proportion(shuffled, "x", "n").sort_index()
    pd.testing.assert_frame_equal(proportion(frame, "x", "n"), rows_each)
    assert np.all(np.isfinite(grouped["value"]))
