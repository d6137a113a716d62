"""Means with t-distribution limits against PHEindicatormethods 2.1's test data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from healthequity.stats.exceptions import InvalidInputError, MissingColumnError
from healthequity.stats.means import mean

from .conftest import phe_sheet

RTOL = 1e-9
NUMBERS = [
    "value_sum",
    "value_count",
    "stdev",
    "value",
    "lower95_0cl",
    "upper95_0cl",
    "lower99_8cl",
    "upper99_8cl",
]


def _expected() -> pd.DataFrame:
    return phe_sheet("testdata_Mean.xlsx", "testdata_Mean_results")


def test_grouped_means_match_the_reference() -> None:
    data = phe_sheet("testdata_Mean.xlsx", "testdata_Mean")
    expected = _expected().iloc[:2].reset_index(drop=True)
    result = mean(data, "values", group_by="area", confidence=[0.95, 0.998])
    assert list(result.columns) == ["area", *NUMBERS, "confidence", "statistic", "method"]
    assert list(result["area"]) == list(expected["area"])
    for column in NUMBERS:
        assert_allclose(result[column], expected[column], rtol=RTOL, err_msg=column)
    assert list(result["statistic"]) == list(expected["statistic"])
    assert list(result["method"]) == list(expected["method"])
    assert set(result["confidence"]) == {"95%, 99.8%"}


def test_ungrouped_mean_matches_the_reference() -> None:
    data = phe_sheet("testdata_Mean.xlsx", "testdata_Mean")
    expected = _expected().iloc[2]
    assert expected["area"] == "No grouping"
    result = mean(data, "values", confidence=(95, 99.8))
    assert len(result) == 1
    assert list(result.columns) == [*NUMBERS, "confidence", "statistic", "method"]
    for column in NUMBERS:
        assert_allclose(result[column].iloc[0], expected[column], rtol=RTOL, err_msg=column)


@pytest.mark.parametrize(("confidence", "suffix"), [(0.95, "95_0"), (99.8, "99_8")])
def test_one_level(confidence: float, suffix: str) -> None:
    data = phe_sheet("testdata_Mean.xlsx", "testdata_Mean")
    expected = _expected()
    result = mean(x=data["values"].to_numpy(), confidence=confidence)
    assert_allclose(result["lowercl"], expected[f"lower{suffix}cl"].iloc[2:], rtol=RTOL)
    assert_allclose(result["uppercl"], expected[f"upper{suffix}cl"].iloc[2:], rtol=RTOL)


def test_missing_value_and_single_value() -> None:
    frame = pd.DataFrame({"g": ["a", "a", "b", "c", "c"], "v": [1.0, None, 5.0, 2.0, 4.0]})
    result = mean(frame, "v", group_by="g").set_index("g")
    assert np.isnan(result.loc["a", "value"])
    assert result.loc["a", "value_count"] == 2
    assert result.loc["b", "value"] == 5
    assert np.isnan(result.loc["b", "lowercl"])
    assert result.loc["c", "value"] == 3
    assert result.loc["c", "stdev"] == pytest.approx(np.sqrt(2))


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"column 'v', row 2: expected a number") as info:
        mean(pd.DataFrame({"v": [1, "two", 3]}), "v")
    assert info.value.row == 2
    with pytest.raises(MissingColumnError, match="'area'"):
        mean(pd.DataFrame({"v": [1, 2]}), "v", group_by="area")


samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=40
)


@settings(deadline=None)
@given(samples, st.sampled_from([0.9, 0.95, 0.99, 0.998]))
def test_limits_bracket_the_mean(values: list[float], level: float) -> None:
    result = mean(x=values, confidence=level).iloc[0]
    tolerance = 1e-9 * (1 + abs(result["value"]))
    assert result["lowercl"] <= result["value"] + tolerance
    assert result["value"] <= result["uppercl"] + tolerance


@settings(deadline=None)
@given(samples, st.integers(min_value=2, max_value=10))
def test_more_values_give_narrower_limits(values: list[float], copies: int) -> None:
    small = mean(x=values).iloc[0]
    large = mean(x=values * copies).iloc[0]
    if small["stdev"] > 1e-6 * (1 + abs(small["value"])):
        assert large["uppercl"] - large["lowercl"] < small["uppercl"] - small["lowercl"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABC"), st.integers(min_value=-1000, max_value=1000)),
        min_size=1,
        max_size=30,
    ),
    st.permutations(range(30)),
)
def test_results_do_not_depend_on_row_order(
    rows: list[tuple[str, int]], permutation: list[int]
) -> None:
    frame = pd.DataFrame(rows, columns=["area", "v"])
    shuffled = frame.iloc[[i for i in permutation if i < len(frame)]]
    pd.testing.assert_frame_equal(
        mean(frame, "v", group_by="area"), mean(shuffled, "v", group_by="area"), rtol=1e-9
    )
