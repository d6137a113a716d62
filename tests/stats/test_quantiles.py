"""Quantiles within parent areas against PHEindicatormethods 2.1's own test data
(testdata_Quantiles.xlsx, every row), its warnings and errors, and properties."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthequity.stats.exceptions import InvalidInputError, MissingColumnError
from healthequity.stats.quantiles import TooFewAreasWarning, assign_quantiles

from .conftest import PHE_DATA

# The reference's loader turns the polarity text into its `invert` logical: low is good means
# the highest (worst) values go to quantile 1.
POLARITY = {"RAG - High is good": False, "RAG - Low is good": True, True: True, False: False}


@cache
def _sheet() -> pd.DataFrame:
    path = PHE_DATA / "testdata_Quantiles.xlsx"
    # keep "None" (the ungrouped grouping set's name) as text, not missing
    sheet = pd.read_excel(path, keep_default_na=False, na_values=[""])
    sheet["Invert"] = sheet["Polarity"].map(POLARITY).astype(bool)
    return sheet


def quantile_data() -> pd.DataFrame:
    return _sheet().copy()


def _good() -> pd.DataFrame:
    data = quantile_data()
    return data[data["Test"].str.startswith("Good")]


# The reference's test calls: (rows, group_by, quantiles, invert). Together they cover every
# row of the sheet; the BadPolarity rows' expected quantiles are for one uniform invert (their
# polarity column varies within the group, which is refused: see below).
CASES = {
    "deciles within region, polarity column": (
        lambda d: d[d["Test"].str.startswith("Good") & (d["GroupSet"] == "IndSexReg")],
        ["IndSexRef", "ParentCode"],
        10,
        "Invert",
    ),
    "septiles within indicator, polarity column": (
        lambda d: d[d["Test"].str.startswith("Good") & (d["GroupSet"] == "IndSex")],
        ["IndSexRef"],
        7,
        "Invert",
    ),
    "quartiles, ungrouped, highest first": (
        lambda d: d[d["Test"].str.startswith("Good") & (d["GroupSet"] == "None")],
        None,
        4,
        True,
    ),
    "septiles, bad polarity rows, highest first": (
        lambda d: d[d["Test"] == "BadPolarity"],
        "IndSexRef",
        7,
        True,
    ),
}


def _same(actual: pd.Series, expected: pd.Series) -> None:
    """Every row equal, missing matching missing."""
    got = actual.to_numpy(dtype=object)
    want = expected.astype("Int64").to_numpy(dtype=object)
    mismatched = [
        (i, g, w)
        for i, (g, w) in enumerate(zip(got, want, strict=True))
        if not (pd.isna(g) and pd.isna(w)) and (pd.isna(g) or pd.isna(w) or g != w)
    ]
    assert not mismatched, (
        f"{len(mismatched)} rows differ, first (row, got, expected): {mismatched[:5]}"
    )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_every_row_matches_the_reference(case: str) -> None:
    rows, group_by, count, invert = CASES[case]
    data = rows(quantile_data())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TooFewAreasWarning)
        result = assign_quantiles(data, "Value", group_by=group_by, quantiles=count, invert=invert)
    _same(result["quantile"], data["QuantileInGrp"])


def test_the_cases_cover_every_row_of_the_sheet() -> None:
    data = quantile_data()
    covered = np.zeros(len(data), dtype=bool)
    for rows, *_ in CASES.values():
        chosen = rows(data).index.to_numpy()
        assert not covered[chosen].any()
        covered[chosen] = True
    assert covered.all()
    assert len(data) == 1017


def test_grouped_with_a_logical_invert() -> None:
    """The reference's 'test grouped df logical': one indicator, invert FALSE."""
    data = _good()
    data = data[(data["IndSexRef"] == "90366Female") & (data["GroupSet"] == "IndSexReg")]
    with pytest.warns(TooFewAreasWarning, match="too few small areas"):
        result = assign_quantiles(
            data, "Value", group_by=["IndSexRef", "ParentCode"], quantiles=10, invert=False
        )
    _same(result["quantile"], data["QuantileInGrp"])


def test_grouping_by_a_constant_column_is_the_same_as_no_groups() -> None:
    """The reference's df4 and df5: ungrouped and grouped by the one grouping set."""
    data = _good()
    data = data[data["GroupSet"] == "None"]
    ungrouped = assign_quantiles(data, "Value", quantiles=4, invert=True)
    grouped = assign_quantiles(data, "Value", group_by="GroupSet", quantiles=4, invert=True)
    pd.testing.assert_series_equal(ungrouped["quantile"], grouped["quantile"])


def test_groups_without_values_get_no_quantiles_and_a_warning_naming_them() -> None:
    """The reference's df6: one region's values all missing."""
    data = _good()
    data = data[(data["IndSexRef"] == "90366Female") & (data["GroupSet"] == "IndSexReg")]
    data = data[~data["AreaCode"].isin(["E06000053", "E09000001"])].copy()
    data.loc[data["ParentCode"] == "E12000006", "Value"] = np.nan
    with pytest.warns(TooFewAreasWarning) as caught:
        result = assign_quantiles(
            data, "Value", group_by=["IndSexRef", "ParentCode"], quantiles=10, invert=False
        )
    message = str(caught[0].message)
    assert "ParentCode='E12000006'" in message
    assert "ParentCode='E12000006' (0 with a value)" in message
    assert result.loc[data["ParentCode"] == "E12000006", "quantile"].isna().all()
    assert result.loc[data["ParentCode"] == "E12000001", "quantile"].notna().all()


def test_an_invert_column_that_varies_within_a_group_is_refused() -> None:
    data = quantile_data()
    data = data[data["Test"] == "BadPolarity"]
    with pytest.raises(InvalidInputError, match="same value for every row") as caught:
        assign_quantiles(data, "Value", group_by="IndSexRef", quantiles=7, invert="Invert")
    assert caught.value.column == "Invert"
    assert caught.value.row == 14  # the first Region2 row, after 13 of Region1
    assert "IndSexRef='11111Female'" in str(caught.value)


def test_an_invert_column_must_be_logical() -> None:
    with pytest.raises(InvalidInputError, match="True or False") as caught:
        assign_quantiles(quantile_data(), "Value", group_by="IndSexRef", invert="Polarity")
    assert (caught.value.column, caught.value.row) == ("Polarity", 1)


def test_an_invert_column_that_is_not_in_the_data_is_refused() -> None:
    with pytest.raises(MissingColumnError):
        assign_quantiles(quantile_data(), "Value", invert="Pol")


def test_values_must_be_numeric() -> None:
    with pytest.raises(InvalidInputError, match="expected a number") as caught:
        assign_quantiles(quantile_data(), "AreaName", group_by="IndSexRef")
    assert (caught.value.column, caught.value.row) == ("AreaName", 1)


@pytest.mark.parametrize("count", [0, -3, 2.5, True, "10"])
def test_the_number_of_quantiles_must_be_a_whole_number_from_1(count: object) -> None:
    with pytest.raises(InvalidInputError, match="quantiles must be a whole number"):
        assign_quantiles(quantile_data(), "Value", quantiles=count)  # type: ignore[arg-type]


def test_group_by_needs_data() -> None:
    with pytest.raises(InvalidInputError, match="group_by"):
        assign_quantiles(None, [1.0, 2.0], group_by="region")


def test_arrays_without_data() -> None:
    result = assign_quantiles(None, [3, 1, 2, np.nan, 5, 4], quantiles=3)
    assert list(result.columns) == ["values", "quantile"]
    assert result["quantile"].tolist() == [2, 1, 1, pd.NA, 3, 2]
    inverted = assign_quantiles(None, [3, 1, 2, 5, 4, 6], quantiles=3, invert=[1, 1, 1, 1, 1, 1])
    assert inverted["quantile"].tolist() == [2, 3, 3, 1, 2, 1]


def test_the_data_keeps_its_rows_order_and_index_and_is_not_changed() -> None:
    data = pd.DataFrame(
        {"value": [5.0, 1.0, 3.0, 2.0, 4.0], "region": list("ababa")}, index=[10, 20, 30, 40, 50]
    )
    before = data.copy()
    result = assign_quantiles(data, group_by="region", quantiles=2)
    pd.testing.assert_frame_equal(data, before)
    assert list(result.index) == [10, 20, 30, 40, 50]
    assert result["quantile"].tolist() == [2, 1, 1, 2, 1]
    assert str(result["quantile"].dtype) == "Int64"


# Properties --------------------------------------------------------------------------------

values_lists = st.lists(
    st.one_of(st.none(), st.integers(-50, 50).map(float)), min_size=1, max_size=60
).map(lambda values: [np.nan if value is None else value for value in values])


@settings(max_examples=60, deadline=None)
@given(values=values_lists, count=st.integers(1, 12))
def test_properties_of_the_assignment(values: list[float], count: int) -> None:
    data = pd.DataFrame({"value": values})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = assign_quantiles(data, quantiles=count)["quantile"]
        inverted = assign_quantiles(data, quantiles=count, invert=True)["quantile"]
    present = ~np.isnan(np.asarray(values))
    areas = int(present.sum())
    if areas < count:
        assert plain.isna().all()
        assert inverted.isna().all()
        assert any(issubclass(w.category, TooFewAreasWarning) for w in caught)
        return
    assert not caught
    got = plain.to_numpy(dtype=float)
    assert np.isnan(got[~present]).all()
    quantiles = got[present]
    assert quantiles.min() >= 1
    assert quantiles.max() <= count
    # higher values never fall in a lower quantile
    ordered = quantiles[np.argsort(np.asarray(values)[present], kind="stable")]
    assert (np.diff(ordered) >= 0).all()
    # inverting is ranking the negated values
    negated = assign_quantiles(pd.DataFrame({"value": [-v for v in values]}), quantiles=count)
    pd.testing.assert_series_equal(inverted, negated["quantile"])
    # distinct values share the quantiles out as evenly as the ranks allow
    if len(set(np.asarray(values)[present])) == areas and areas % count == 0:
        assert (np.bincount(quantiles.astype(int))[1:] == areas // count).all()


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.integers(0, 30).map(float), min_size=12, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_order_does_not_matter(values: list[float], seed: int) -> None:
    data = pd.DataFrame(
        {
            "value": values,
            "region": ["a", "b", "c"] * (len(values) // 3) + ["a"] * (len(values) % 3),
        }
    )
    shuffled = data.sample(frac=1, random_state=np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TooFewAreasWarning)
        straight = assign_quantiles(data, group_by="region", quantiles=4)["quantile"]
        mixed = assign_quantiles(shuffled, group_by="region", quantiles=4)["quantile"]
    pd.testing.assert_series_equal(straight, mixed.loc[straight.index])
