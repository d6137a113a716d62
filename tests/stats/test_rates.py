"""Crude rates, Byar's and exact Poisson limits against PHEindicatormethods 2.1's test data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from healthequity.stats.exceptions import InvalidConfidenceError, InvalidInputError
from healthequity.stats.rates import byars_limits, exact_poisson_limits, rate

from .conftest import phe_sheet

RTOL = 1e-9
LIMITS_BOTH = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]


def _same_text(actual: pd.Series, expected: pd.Series) -> None:
    assert [None if pd.isna(v) else v for v in actual] == [
        None if pd.isna(v) else v for v in expected
    ]


# Parity ------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", ["95%", "99.8%"])
def test_byars_limits_match_the_reference(confidence: str) -> None:
    sheet = phe_sheet("testdata_Byars_Wilson.xlsx", "testdata_B_W")
    rows = sheet[(sheet["method"] == "Byars") & (sheet["confidence"] == confidence)]
    assert len(rows) == (3 if confidence == "95%" else 4)
    lower, upper = byars_limits(rows["x"], float(confidence.rstrip("%")) / 100)
    # The 99.8% lower limit of 1 event comes out negative: missing, as in the reference.
    assert_allclose(lower, rows["lowercl"], rtol=RTOL)
    assert_allclose(upper, rows["uppercl"], rtol=RTOL)


@pytest.mark.parametrize("multiplier", [100, 100_000])
def test_rates_with_two_levels_match_the_reference(multiplier: int) -> None:
    sheet = phe_sheet("testdata_Rate.xlsx", "testdata_Rate")
    expected = sheet[sheet["multiplier"] == multiplier].reset_index(drop=True)
    result = rate(
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
    for column in ["value", *LIMITS_BOTH]:
        assert_allclose(result[column], expected[column], rtol=RTOL, err_msg=column)
    _same_text(result["statistic"], expected["statistic"])
    _same_text(result["method"], expected["method"])


@pytest.mark.parametrize(("confidence", "suffix"), [(95, "95_0"), (0.998, "99_8")])
def test_one_level_gives_lowercl_and_uppercl(confidence: float, suffix: str) -> None:
    sheet = phe_sheet("testdata_Rate.xlsx", "testdata_Rate")
    result = rate(sheet, "Numerator", "Denominator", confidence=confidence)
    rows = sheet["multiplier"] == 100_000
    assert_allclose(result["lowercl"][rows], sheet[f"lower{suffix}cl"][rows], rtol=RTOL)
    assert_allclose(result["uppercl"][rows], sheet[f"upper{suffix}cl"][rows], rtol=RTOL)


def test_grouped_rates_match_the_reference() -> None:
    inputs = phe_sheet("testdata_Rate.xlsx", "testdata_Rate")[["Area", "Numerator", "Denominator"]]
    expected = phe_sheet("testdata_Rate.xlsx", "testdata_Rate_g").set_index("Area")
    result = rate(inputs, "Numerator", "Denominator", group_by="Area")
    assert list(result["Area"]) == sorted(expected.index)
    got = result.set_index("Area").loc[expected.index]
    for column in ["Numerator", "Denominator", "value", "lowercl", "uppercl"]:
        assert_allclose(got[column], expected[column], rtol=RTOL, err_msg=column)
    for column in ["confidence", "statistic", "method"]:
        _same_text(got[column], expected[column])


def test_exact_limits_are_those_the_rates_use_below_ten() -> None:
    sheet = phe_sheet("testdata_Rate.xlsx", "testdata_Rate")
    exact = sheet[sheet["method"] == "Exact"]
    assert len(exact) == 4
    for level, suffix in [(0.95, "95_0"), (0.998, "99_8")]:
        lower, upper = exact_poisson_limits(exact["Numerator"], level)
        scale = exact["multiplier"] / exact["Denominator"]
        assert_allclose(lower * scale, exact[f"lower{suffix}cl"], rtol=RTOL)
        assert_allclose(upper * scale, exact[f"upper{suffix}cl"], rtol=RTOL)


def test_no_events() -> None:
    result = rate(x=[0], n=[1000])
    assert result["value"].iloc[0] == 0
    assert result["lowercl"].iloc[0] == 0
    assert result["uppercl"].iloc[0] == pytest.approx(3.688879454113936 / 1000 * 100_000)
    assert result["method"].iloc[0] == "Exact"
    lower, _ = byars_limits([0])
    assert np.isnan(lower[0])


# Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "column", "row", "message"),
    [
        ([1, 2, -3], [10, 10, 10], "deaths", 3, r"expected at least 0, got (np\.\w+\()?-3\b"),
        ([1, 2, 3], [10, 0, 10], "population", 2, r"expected more than 0, got (np\.\w+\()?0\b"),
        ([1, 2, 3], [10, 10, "many"], "population", 3, "expected a number, got 'many'"),
    ],
)
def test_bad_input_names_column_and_row(
    x: list[object], n: list[object], column: str, row: int, message: str
) -> None:
    frame = pd.DataFrame({"deaths": x, "population": n})
    with pytest.raises(InvalidInputError, match=message) as info:
        rate(frame, "deaths", "population")
    assert (info.value.column, info.value.row) == (column, row)
    assert str(info.value).startswith(f"column '{column}', row {row}: ")


def test_bad_confidence() -> None:
    with pytest.raises(InvalidConfidenceError, match="out of range"):
        rate(x=[1], n=[10], confidence=50)
    with pytest.raises(InvalidInputError, match="x"):
        byars_limits([-1])


# Properties --------------------------------------------------------------------------


@settings(deadline=None)
@given(
    st.integers(min_value=0, max_value=1_000_000),
    st.integers(min_value=1, max_value=10_000_000),
    st.sampled_from([0.9, 0.95, 0.99, 0.998]),
)
def test_limits_bracket_the_rate(x: int, n: int, level: float) -> None:
    result = rate(x=[x], n=[n], confidence=level).iloc[0]
    assert result["lowercl"] <= result["value"] * (1 + 1e-12)
    assert result["value"] <= result["uppercl"]


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=100_000), st.integers(min_value=2, max_value=100))
def test_more_events_give_relatively_narrower_limits(x: int, factor: int) -> None:
    result = rate(x=[x, x * factor], n=[1000, 1000 * factor])
    width = (result["uppercl"] - result["lowercl"]) / result["value"]
    assert width[1] < width[0]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["E1", "E2", "E3", "E4"]),
            st.integers(min_value=0, max_value=500),
            st.integers(min_value=1, max_value=50_000),
        ),
        min_size=1,
        max_size=30,
    ),
    st.permutations(range(30)),
)
def test_results_do_not_depend_on_row_order(
    rows: list[tuple[str, int, int]], permutation: list[int]
) -> None:
    frame = pd.DataFrame(rows, columns=["area", "x", "n"])
    order = [i for i in permutation if i < len(frame)]
    shuffled = frame.iloc[order]
    pd.testing.assert_frame_equal(
        rate(frame, "x", "n", group_by="area"), rate(shuffled, "x", "n", group_by="area")
    )
    pd.testing.assert_frame_equal(rate(frame, "x", "n"), rate(shuffled, "x", "n").sort_index())
