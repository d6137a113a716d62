"""Life expectancy (Chiang II abridged life table, Silcocks' confidence limits) checked
against a life table worked by hand.

The worked example is the population used in the PHEindicatormethods 2.1 reference manual
(`phe_life_expectancy` examples), which reproduces the PHE Life Expectancy Calculator of the
Fingertips technical guidance: 20 bands, 0, 1-4, 5-9, ..., 85-89, 90+, with
  populations 7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209,
              56416, 46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936
  deaths      17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390,
              1605, 1936, 1937.

Worked by hand (Chiang 1984; Silcocks, Jenner & Reza 2001; `by_hand` below does every band
with plain loops and no code from the library):

Band 0 (n = 1, a = 0.1):
  m_0 = 17 / 7060 = 0.002407932
  q_0 = n m / (1 + n m (1 - a)) = 0.002407932 / (1 + 0.002407932 x 0.9) = 0.002402725
  l_0 = 100000, d_0 = l_0 q_0 = 240.2725
  L_0 = n (l_1 + a d_0) = 99759.7275 + 0.1 x 240.2725 = 99783.75475
Band 1-4 (n = 4, a = 0.5):
  m_1 = 9 / 35059 = 0.00025671, q_1 = 4 m / (1 + 2 m) = 0.0010263135
  l_1 = 99759.7275, d_1 = 102.384759, L_1 = 4 (l_2 + 0.5 d_1) = 398834.1405
...
Band 85-89: m = 1936 / 11936 = 0.16219839, q = 5 m / (1 + 2.5 m) = 0.57701478,
  l = 42248.75814, d = 24378.15801, L = 5 (17870.60013 + 0.5 x 24378.15801) = 150298.3957
Band 90+ (open): m = 1937 / 11936 = 0.16228217, q = 1, l = d = 17870.60013,
  L = l / m = 110120.5385
T_x = sum of L from x up: T_0 = 8016960.813, T_90 = 110120.5385
e_x = T_x / l_x:  e_0 = 80.16960813, e_1 = 79.36245674, e_85 = 6.163942934, e_90 = 6.16210635

Silcocks variance:
  var(p_x) = q^2 (1 - q) / D:   band 0: 0.002402725^2 x 0.997597 / 17 = 3.387774e-07
  final band: var = 4 / (D m^2) = 4 / (1937 x 0.16228217^2) = 0.0784131227
  W_x = l_x^2 ((1 - a) n + e_(x+1))^2 var(p_x):  W_0 = 21824251.36,
  W_90 = (l_90 / 2)^2 var = 6260471.352
  SE(e_0) = sqrt(sum of all W) / l_0 = sqrt(214297707.3) / 100000 = 0.1463891
  95% limits: 80.16960813 -/+ 1.959964 x 0.1463891 = 79.88269, 80.45653

The reference's own test suite gives e_0 = 80.16960813 with limits 79.88268548 and
80.45653078 (calculated with z = 1.96 by the Excel calculator, hence agreement to about 5e-6
in the limits).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthequity.stats.exceptions import InvalidInputError
from healthequity.stats.life_expectancy import (
    BANDS_85_PLUS,
    MESSAGES,
    SuppressedValuesWarning,
    life_expectancy,
)

AGES = [0, 1, *range(5, 95, 5)]
POPS = [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416,
        46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936]  # fmt: skip
DEATHS = [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390, 1605,
          1936, 1937]  # fmt: skip
Z95 = 1.959963984540054


def by_hand(
    ages: Sequence[int], deaths: Sequence[float], pops: Sequence[float]
) -> dict[str, list[float]]:
    """Chiang II life table and Silcocks' standard errors, one band at a time."""
    k = len(ages)
    last = k - 1
    m = [deaths[i] / pops[i] for i in range(k)]
    a = [0.1 if ages[i] == 0 else 0.5 for i in range(k)]
    n = [ages[i + 1] - ages[i] for i in range(last)]
    q = []
    for i in range(last):
        if n[i] * a[i] * m[i] > 1:  # more deaths than the band's formula allows
            q.append(1.0)
        else:
            q.append(n[i] * m[i] / (1 + n[i] * m[i] * (1 - a[i])))
    q.append(1.0)
    l = [100000.0]  # noqa: E741 - the life table's l_x
    for i in range(1, k):
        l.append(l[i - 1] * (1 - q[i - 1]))
    d = [l[i] - l[i + 1] for i in range(last)] + [l[last]]
    big_l = [n[i] * (l[i + 1] + a[i] * d[i]) for i in range(last)] + [l[last] / m[last]]
    t = [sum(big_l[i:]) for i in range(k)]
    e = [t[i] / l[i] if l[i] > 0 else 0.0 for i in range(k)]
    var = []
    for i in range(last):
        var.append(q[i] ** 2 * (1 - q[i]) / deaths[i] if d[i] != 0 else 0.0)
    var.append(4 / (deaths[last] * m[last] ** 2))
    w = [var[i] * l[i] ** 2 * ((1 - a[i]) * n[i] + e[i + 1]) ** 2 for i in range(last)]
    w.append((l[last] / 2) ** 2 * var[last])
    se = [math.sqrt(sum(w[i:])) / l[i] if l[i] > 0 else math.nan for i in range(k)]
    return {"m": m, "q": q, "l": l, "d": d, "L": big_l, "T": t, "e": e, "var": var, "W": w,
            "se": se}  # fmt: skip


def example(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame({"age": AGES, "pops": POPS, "deaths": DEATHS})
    return frame.assign(**changes)


def quiet(*args: object, **kwargs: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuppressedValuesWarning)
        return life_expectancy(*args, **kwargs)  # type: ignore[arg-type]


# The worked example --------------------------------------------------------------------------


def test_the_worked_numbers_in_the_docstring() -> None:
    t = by_hand(AGES, DEATHS, POPS)
    assert t["m"][0] == pytest.approx(0.002407932, rel=1e-7)
    assert t["q"][0] == pytest.approx(0.002402725, rel=1e-6)
    assert t["L"][0] == pytest.approx(99783.75475, rel=1e-9)
    assert t["q"][1] == pytest.approx(0.0010263135, rel=1e-7)
    assert t["L"][1] == pytest.approx(398834.1405, rel=1e-9)
    assert t["q"][18] == pytest.approx(0.57701478, rel=1e-7)
    assert t["L"][19] == pytest.approx(110120.5385, rel=1e-9)
    assert t["T"][0] == pytest.approx(8016960.813, rel=1e-9)
    assert t["var"][0] == pytest.approx(3.387774e-07, rel=1e-6)
    assert t["var"][19] == pytest.approx(0.0784131227, rel=1e-9)
    assert t["W"][0] == pytest.approx(21824251.36, rel=1e-9)
    assert sum(t["W"]) == pytest.approx(214297707.3, rel=1e-9)
    assert t["se"][0] == pytest.approx(0.1463891, rel=1e-6)


def test_every_age_matches_the_hand_worked_table() -> None:
    t = by_hand(AGES, DEATHS, POPS)
    result = life_expectancy(example(), "deaths", "pops", "age")
    assert list(result["age"]) == AGES
    np.testing.assert_allclose(result["value"], t["e"], rtol=1e-12)
    np.testing.assert_allclose(
        result["lowercl"], np.array(t["e"]) - Z95 * np.array(t["se"]), rtol=1e-12
    )
    np.testing.assert_allclose(
        result["uppercl"], np.array(t["e"]) + Z95 * np.array(t["se"]), rtol=1e-12
    )
    assert (result["value_note"] == "").all()


def test_agrees_with_the_reference_published_values() -> None:
    """PHEindicatormethods' test suite: e_0, e_1 and e_90 and their 95% limits (z = 1.96)."""
    result = life_expectancy(example(), "deaths", "pops", "age")
    assert result["value"].iloc[[0, 1, 19]].tolist() == pytest.approx(
        [80.16960813, 79.36245674, 6.16210635], abs=1e-8
    )
    assert result["lowercl"].iloc[[0, 19]].tolist() == pytest.approx(
        [79.88268548, 5.887683386], abs=1e-4
    )
    assert result["uppercl"].iloc[[0, 19]].tolist() == pytest.approx(
        [80.45653078, 6.436529314], abs=1e-4
    )
    # pops_used and dths_used: the population and deaths at this age and above.
    assert result["pops_used"].iloc[[0, 1, 19]].tolist() == [787954, 780894, 11936]
    assert result["dths_used"].iloc[[0, 1, 19]].tolist() == [9357, 9340, 1937]


def test_full_output_has_the_reference_metadata() -> None:
    result = life_expectancy(example(), "deaths", "pops", "age", le_age=[5, 25])
    assert list(result.columns) == ["age", "value", "lowercl", "uppercl", "pops_used", "dths_used",
                                    "confidence", "statistic", "method", "value_note"]  # fmt: skip
    assert result["statistic"].tolist() == ["life expectancy at 5", "life expectancy at 25"]
    assert set(result["confidence"]) == {"95%"}
    assert set(result["method"]) == {"Chiang, using Silcocks et al for confidence limits"}
    standard = life_expectancy(example(), "deaths", "pops", "age", output="standard")
    assert list(standard.columns) == ["age", "value", "lowercl", "uppercl", "value_note"]


def test_several_confidence_levels_name_their_columns() -> None:
    t = by_hand(AGES, DEATHS, POPS)
    result = life_expectancy(example(), "deaths", "pops", "age", confidence=[95, 99.8])
    z998 = 3.090232306167813
    assert result["lower99_8cl"].iloc[0] == pytest.approx(t["e"][0] - z998 * t["se"][0], rel=1e-12)
    assert result["upper95_0cl"].iloc[0] == pytest.approx(t["e"][0] + Z95 * t["se"][0], rel=1e-12)
    assert result["confidence"].iloc[0] == "95%, 99.8%"


def test_arrays_without_a_data_frame() -> None:
    result = life_expectancy(None, DEATHS, POPS, AGES, le_age=0)
    assert result["value"].iloc[0] == pytest.approx(80.16960813, abs=1e-8)
    assert list(result.columns[:2]) == ["start_age", "value"]


def test_band_labels_in_any_order_with_age_contents() -> None:
    labels = ["0", "1-4", *[f"{a} - {a + 4}" for a in range(5, 90, 5)], "90 +"]
    frame = example(age=labels).sample(frac=1, random_state=3)
    result = life_expectancy(
        frame, "deaths", "pops", "age", age_contents=labels, le_age=["0", "90 +"]
    )
    assert result["age"].tolist() == ["0", "90 +"]
    assert result["value"].tolist() == pytest.approx([80.16960813, 6.16210635], abs=1e-8)
    assert result["statistic"].tolist() == ["life expectancy at 0", "life expectancy at 90 +"]


def test_labels_are_recognised_without_age_contents() -> None:
    labels = ["0", "1-4", *[f"{a}-{a + 4}" for a in range(5, 90, 5)], "90+"]
    result = life_expectancy(example(age=labels), "deaths", "pops", "age", le_age=0)
    assert result["value"].iloc[0] == pytest.approx(80.16960813, abs=1e-8)


def test_the_older_85_plus_bands() -> None:
    ages = list(BANDS_85_PLUS)
    pops = [*POPS[:18], POPS[18] + POPS[19]]
    deaths = [*DEATHS[:18], DEATHS[18] + DEATHS[19]]
    t = by_hand(ages, deaths, pops)
    frame = pd.DataFrame({"age": ages, "pops": pops, "deaths": deaths})
    result = life_expectancy(frame, "deaths", "pops", "age")
    np.testing.assert_allclose(result["value"], t["e"], rtol=1e-12)
    np.testing.assert_allclose(
        result["uppercl"], np.array(t["e"]) + Z95 * np.array(t["se"]), rtol=1e-12
    )


def test_le_age_not_among_the_bands_returns_all_with_a_warning() -> None:
    with pytest.warns(SuppressedValuesWarning, match="le_age not in the vector"):
        result = life_expectancy(example(), "deaths", "pops", "age", le_age=[4, 6])
    assert len(result) == 20


# Zero deaths and small populations -----------------------------------------------------------


def test_zero_deaths_in_a_band_is_fine() -> None:
    deaths = list(DEATHS)
    deaths[3] = 0  # 10-14
    t = by_hand(AGES, deaths, POPS)
    result = life_expectancy(example(deaths=deaths), "deaths", "pops", "age")
    np.testing.assert_allclose(result["value"], t["e"], rtol=1e-12)
    np.testing.assert_allclose(
        result["lowercl"], np.array(t["e"]) - Z95 * np.array(t["se"]), rtol=1e-12
    )
    assert t["var"][3] == 0


def test_zero_deaths_in_the_final_band_cannot_be_calculated() -> None:
    deaths = list(DEATHS)
    deaths[19] = 0
    with pytest.warns(SuppressedValuesWarning, match="no deaths in the final"):
        result = life_expectancy(example(deaths=deaths), "deaths", "pops", "age")
    assert result[["value", "lowercl", "uppercl"]].isna().all().all()
    assert set(result["value_note"]) == {"suppressed: no deaths in the final (open-ended) age band"}


def test_a_band_with_deaths_above_40_percent_of_its_population_has_q_of_1() -> None:
    """n a m > 1: for a 5-year band (a = 0.5) more than 40% of its population dying."""
    deaths = list(DEATHS)
    deaths[17] = 12000  # 80-84, population 23306: m = 0.515
    t = by_hand(AGES, deaths, POPS)
    assert t["q"][17] == 1.0
    result = life_expectancy(example(deaths=deaths), "deaths", "pops", "age")
    np.testing.assert_allclose(result["value"], t["e"], rtol=1e-12)
    # Nobody survives past 84: life expectancy 0 from 85, with no limits (as the reference).
    assert result["value"].iloc[18:].tolist() == [0.0, 0.0]
    assert result["lowercl"].iloc[18:].isna().all()


GROUP_RULES = {
    "Negative deaths": ("deaths", 3, -2, "negative_deaths", "an age band has negative deaths"),
    "Zero population": ("pops", 5, 0, "population_not_positive", "population of zero or less"),
    "Deaths more than pops": ("deaths", 5, 50000, "deaths_above_population", "more deaths than"),
}


def grouped_with_problems() -> pd.DataFrame:
    parts = [example(area="Good data")]
    for area, (column, band, value, _, _) in GROUP_RULES.items():
        part = example(area=area)
        part.loc[band, column] = value
        parts.append(part)
    parts.append(example(area="Low pops", pops=[250] * 20, deaths=[5] * 20))  # total 5,000
    parts.append(example(area="Missing age band").iloc[:19])
    return pd.concat(parts, ignore_index=True)


def test_each_suppression_rule_with_the_reference_message() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = life_expectancy(grouped_with_problems(), "deaths", "pops", "age", group_by="area")
    messages = {str(w.message) for w in caught}
    for _, _, _, rule, _ in GROUP_RULES.values():
        assert MESSAGES[rule] in messages
    assert MESSAGES["small_population"] in messages
    assert MESSAGES["incomplete"].format(bands=20) in messages
    assert (
        "some groups contain a different number of age bands than 20; life expectancy cannot "
        "be calculated for these. These groups will contain NAs." in messages
    )
    good = result[result["area"] == "Good data"]
    assert good["value"].iloc[0] == pytest.approx(80.16960813, abs=1e-8)
    for area, (_, _, _, _, note) in GROUP_RULES.items():
        rows = result[result["area"] == area]
        assert len(rows) == 20
        assert rows[["value", "lowercl", "uppercl"]].isna().all().all()
        assert rows["value_note"].str.contains(note).all()
    assert (
        result.loc[result["area"] == "Low pops", "value_note"].str.contains("5,000 or less").all()
    )
    missing = result[result["area"] == "Missing age band"]
    assert len(missing) == 19
    assert missing["value"].isna().all()
    assert missing["value_note"].str.contains("exactly one row for each of the 20").all()


def test_total_population_of_5000_is_suppressed_and_5001_is_not() -> None:
    pops = [250] * 20
    deaths = [1] * 20
    at_limit = quiet(example(pops=pops, deaths=deaths), "deaths", "pops", "age")
    assert at_limit["value"].isna().all()
    pops[0] = 251
    above = quiet(example(pops=pops, deaths=deaths), "deaths", "pops", "age")
    assert above["value_note"].str.contains("5,000").sum() == 0
    assert above["lowercl"].notna().all()


def test_the_first_failing_rule_is_the_reason() -> None:
    frame = example(pops=[100] * 20, deaths=[5] * 20)
    frame.loc[2, "deaths"] = -1  # negative deaths and a small population: negative deaths wins
    result = quiet(frame, "deaths", "pops", "age")
    assert set(result["value_note"]) == {"suppressed: an age band has negative deaths"}


def test_wide_intervals_suppress_the_value_but_keep_the_limits() -> None:
    """The reference's test: small populations where CIs pass 20 years from age 40."""
    pops = [270, 235, 246, 248, 243, 238, 246, 257, 261, 355, 350, 356, 346, 339, 337, 337, 333,
            323, 311, 311]  # fmt: skip
    deaths = [17, 9, 4, 8, 20, 15, 24, 33, 50, 51, 10, 16, 26, 30, 36, 22, 13, 5, 6, 1]
    frame = example(pops=pops, deaths=deaths)
    with pytest.warns(SuppressedValuesWarning, match="confidence interval > 20 years"):
        result = life_expectancy(frame, "deaths", "pops", "age", confidence=[95, 99.8])
    t = by_hand(AGES, deaths, pops)
    wide = Z95 * np.array(t["se"]) > 10
    assert wide.tolist() == [False] * 9 + [True] * 11
    assert result["value"].iloc[:9].tolist() == pytest.approx(t["e"][:9], rel=1e-12)
    assert result["value"].iloc[9:].isna().all()
    # The reference's published values for these data.
    assert result["value"].iloc[0] == pytest.approx(19.22914685, abs=1e-7)
    assert result["lower95_0cl"].iloc[9] == pytest.approx(-1.60695210, abs=1e-4)
    assert result["upper95_0cl"].iloc[19] == pytest.approx(920.54880400, abs=1e-3)
    assert result["value_note"].iloc[9].startswith("value suppressed")


# Checked input --------------------------------------------------------------------------------


def test_non_numeric_deaths_name_the_column_and_row() -> None:
    frame = example().astype({"deaths": object})
    frame.loc[4, "deaths"] = "many"
    with pytest.raises(InvalidInputError) as error:
        life_expectancy(frame, "deaths", "pops", "age")
    assert error.value.column == "deaths"
    assert error.value.row == 5


def test_unknown_bands_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="do not match the standard age bands"):
        life_expectancy(example(age=[a + 1 for a in AGES]), "deaths", "pops", "age")
    with pytest.raises(InvalidInputError, match="first age band in age_contents must be 0"):
        life_expectancy(example(), "deaths", "pops", "age", age_contents=AGES[1:])
    with pytest.raises(InvalidInputError, match="ascending order"):
        life_expectancy(example(), "deaths", "pops", "age", age_contents=[0, 5, 1, *AGES[3:]])
    with pytest.raises(InvalidInputError, match="do not match the contents of the age_contents"):
        life_expectancy(example(), "deaths", "pops", "age", age_contents=AGES[:-1])


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidInputError, match="'population'"):
        life_expectancy(example(), "deaths", "population", "age")


# Properties ------------------------------------------------------------------------------------


RATES = np.array(DEATHS) / np.array(POPS)


def simulated(seed: int, groups: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.05, 3, groups)
    pops = rng.poisson(np.outer(size, POPS)) + 1
    deaths = rng.binomial(pops, np.clip(RATES * rng.uniform(0.6, 1.6, (groups, 1)), 0, 1))
    deaths[:, -1] = np.maximum(deaths[:, -1], 1)
    return pd.DataFrame({
        "area": np.repeat([f"A{i:03d}" for i in range(groups)], len(AGES)),
        "age": np.tile(AGES, groups),
        "pops": pops.ravel(),
        "deaths": deaths.ravel(),
    })  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_limits_bracket_the_value(seed: int) -> None:
    result = quiet(simulated(seed, 5), "deaths", "pops", "age", group_by="area")
    shown = result["value"].notna()
    assert (result.loc[shown, "lowercl"] <= result.loc[shown, "value"]).all()
    assert (result.loc[shown, "value"] <= result.loc[shown, "uppercl"]).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 10))
def test_more_people_give_narrower_limits(seed: int, times: int) -> None:
    """The same death rates in `times` as many people: the same life expectancy, limits
    narrower by sqrt(times)."""
    frame = simulated(seed, 1)
    bigger = frame.assign(pops=frame["pops"] * times, deaths=frame["deaths"] * times)
    small = quiet(frame, "deaths", "pops", "age")
    large = quiet(bigger, "deaths", "pops", "age")
    if small["lowercl"].isna().any():  # suppressed (e.g. 5,000 or fewer people)
        return
    shown = small["value"].notna() & large["value"].notna()
    np.testing.assert_allclose(large.loc[shown, "value"], small.loc[shown, "value"], rtol=1e-9)
    width_small = small["uppercl"] - small["lowercl"]
    width_large = large["uppercl"] - large["lowercl"]
    assert (width_large < width_small).all()
    np.testing.assert_allclose(width_large * math.sqrt(times), width_small, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(seed: int, shuffle: int) -> None:
    frame = simulated(seed, 6)
    once = quiet(frame, "deaths", "pops", "age", group_by="area")
    again = quiet(frame.sample(frac=1, random_state=shuffle % 2**32), "deaths", "pops", "age",
                  group_by="area")  # fmt: skip
    pd.testing.assert_frame_equal(once, again)


def test_groups_are_calculated_independently() -> None:
    frame = simulated(7, 4)
    together = quiet(frame, "deaths", "pops", "age", group_by="area")
    for area, rows in frame.groupby("area"):
        alone = quiet(rows, "deaths", "pops", "age", group_by="area")
        pd.testing.assert_frame_equal(
            together[together["area"] == area].reset_index(drop=True), alone
        )
        t = by_hand(AGES, rows["deaths"].tolist(), rows["pops"].tolist())
        if alone["lowercl"].notna().all():
            np.testing.assert_allclose(
                alone["lowercl"], np.array(t["e"]) - Z95 * np.array(t["se"]), rtol=1e-10
            )
