"""Funnel plot limits and significance checked against limits worked from their definitions
with scipy.stats distributions (Spiegelhalter 2005; Fingertips technical guidance on funnel
plots; PHEindicatormethods 2.1 `calculate_funnel_limits` / `assign_funnel_significance`).

Worked example (proportions). Five areas with denominators 12,345 to 23,456 and 14,311 events
among 88,801 people: the average is a = 14311 / 88801 = 0.161158.

Axis: the largest denominator (23,456) is not more than twice the smallest (12,345), so the
axis starts at 95% of the smallest rounded down to one significant figure: 0.95 x 12345 =
11727.75 -> 10,000; it ends at 105% of the largest rounded up to two significant figures:
1.05 x 23456 = 24628.8 -> 25,000. Its 100 points grow geometrically: x_1 = 10,000 and
x_j = max(round((25000 / x_(j-1))^(1 / (101 - j)) x_(j-1)), x_(j-1) + 1), so x_2 =
round(10000 x 2.5^(1/99)) = 10,093 and x_100 = 25,000.

Limits: the 95% lower limit at n is the proportion whose Wilson score interval has its upper
end exactly at a (and the upper limit, whose interval has its lower end at a). Solving that
with a root finder in the test (no closed form used) gives, at n = 10,000, 0.153952 and
0.168364: a -/+ 1.959964 sqrt(a (1 - a) / 10000).

Ratios and rates: at O observed events the 95% limits use the Poisson means mu with
P(X <= O | mu) = 0.025 and P(X >= O | mu) = 0.025, e.g. at O = 20, mu = 30.8884 and 12.2165
(scipy.stats.poisson checks them), giving ratio limits 20 / 30.8884 = 0.6475 and 20 / 12.2165
= 1.6371.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from healthequity.stats.exceptions import InvalidInputError
from healthequity.stats.funnels import SIGNIFICANCE_LEVELS, funnel_limits, funnel_significance

Z95 = stats.norm.ppf(0.975)
Z998 = stats.norm.ppf(0.999)

AREAS = pd.DataFrame({
    "area": ["A", "B", "C", "D", "E"],
    "events": [2100, 2800, 3300, 2011, 4100],
    "people": [12345, 15000, 18000, 20000, 23456],
})  # fmt: skip


def wilson(x: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for x events in n (Wilson 1927)."""
    centre = 2 * x + z**2
    spread = z * math.sqrt(z**2 + 4 * x * (1 - x / n))
    return (centre - spread) / (2 * (n + z**2)), (centre + spread) / (2 * (n + z**2))


def axis_by_hand(start: float, end: float, ratio: bool = False) -> list[float]:
    points = [max(1.0, start)]
    for j in range(2, 101):
        offset = j - 1 if ratio else j
        grown = round((end / points[-1]) ** (1 / (101 - offset)) * points[-1])
        points.append(max(grown, points[-1] + 1))
    return points


# Proportions ------------------------------------------------------------------------------


def test_proportion_axis_worked_by_hand() -> None:
    frame = AREAS
    result = funnel_limits(frame, "events", "people", statistic="proportion", multiplier=100)
    assert len(result) == 100
    assert result["Population"].iloc[0] == 10_000
    assert result["Population"].iloc[1] == 10_093
    assert result["Population"].iloc[-1] == 25_000
    assert result["Population"].tolist() == axis_by_hand(10_000, 25_000)


def test_proportion_limits_solve_the_wilson_interval() -> None:
    frame = AREAS
    a = frame["events"].sum() / frame["people"].sum()
    assert a == pytest.approx(14311 / 88801)
    result = funnel_limits(frame, "events", "people", statistic="proportion", multiplier=100)
    for row in result.iloc[[0, 1, 50, 99]].itertuples():
        n = row.Population
        for z, lower, upper in ((Z95, row.lower_2s_limit, row.upper_2s_limit),
                                (Z998, row.lower_3s_limit, row.upper_3s_limit)):  # fmt: skip
            # The proportion p whose interval's upper end is at a, and the one whose lower is.
            low = optimize.brentq(lambda p, z=z, n=n: wilson(p * n, n, z)[1] - a, 1e-9, a)
            high = optimize.brentq(lambda p, z=z, n=n: wilson(p * n, n, z)[0] - a, a, 1 - 1e-9)
            assert lower == pytest.approx(100 * low, rel=1e-9)
            assert upper == pytest.approx(100 * high, rel=1e-9)
        assert row.baseline == pytest.approx(100 * a)
    assert result["lower_2s_limit"].iloc[0] == pytest.approx(15.3952, abs=1e-4)
    assert result["upper_2s_limit"].iloc[0] == pytest.approx(16.8364, abs=1e-4)
    assert set(result["statistic"]) == {"proportion"}
    assert set(result["method"]) == {"Wilson"}


def test_proportion_limits_are_kept_within_0_and_100() -> None:
    high = pd.DataFrame({"x": [9, 18, 95], "n": [10, 20, 100]})  # a = 0.94, axis from 0
    result = funnel_limits(
        high, "x", "n", statistic="proportion", multiplier=100, output="standard"
    )
    assert list(result.columns) == ["Population", "lower_2s_limit", "upper_2s_limit",
                                    "lower_3s_limit", "upper_3s_limit", "baseline"]  # fmt: skip
    assert result["Population"].iloc[0] == 1
    assert result["upper_2s_limit"].iloc[0] == 100  # 0.94 + 1.96 x 0.24 > 1
    assert (result["upper_3s_limit"] <= 100).all()
    low = pd.DataFrame({"x": [1, 2, 5], "n": [10, 20, 100]})  # a = 0.06
    result = funnel_limits(low, "x", "n", statistic="proportion", multiplier=100)
    assert result["lower_2s_limit"].iloc[0] == 0  # 0.06 - 1.96 x 0.24 < 0
    assert (result["lower_3s_limit"] >= 0).all()


def test_axis_rounding_follows_how_r_writes_numbers() -> None:
    """The reference counts the digits of 0.95 x the smallest denominator as R prints it:
    19,000,000 prints as "1.9e+07" (7 characters, not 8), so the axis starts at 19,000,000
    rather than 10,000,000; 31,500,000 prints in full, so the end is 32,000,000."""
    frame = pd.DataFrame({"x": [2_000_000, 3_000_000], "n": [20_000_000, 30_000_000]})
    result = funnel_limits(frame, "x", "n", statistic="proportion", multiplier=100)
    assert result["Population"].iloc[0] == 19_000_000
    assert result["Population"].iloc[-1] == 32_000_000


# Ratios -------------------------------------------------------------------------------------


RATIOS = pd.DataFrame(
    {"obs": [8, 151, 159, 191, 124, 220], "expected": [6.2, 106.4, 232.9, 184.1, 183.9, 249.8]}
)


def test_ratio_limits_are_exact_poisson_limits() -> None:
    result = funnel_limits(
        RATIOS, "obs", "expected", statistic="ratio", ratio_type="count", multiplier=100
    )
    # Axis: 249.8 > 2 x 6.2, so from 1 to 1.05 x 249.8 = 262.29 -> 270; ratio points stop short.
    assert result["Observed_events"].tolist() == axis_by_hand(0, 270, ratio=True)
    at_20 = result[result["Observed_events"] == 20].iloc[0]
    mu_low = stats.chi2.ppf(0.975, 2 * 21) / 2  # P(X <= 20 | mu) = 0.025
    mu_high = stats.chi2.ppf(0.025, 2 * 20) / 2  # P(X >= 20 | mu) = 0.025
    # Within the reference's bisection tolerance (1e-7 on mu / (1 + O + mu)).
    assert stats.poisson.cdf(20, at_20["lower_2s_exp_events"]) == pytest.approx(0.025, abs=1e-6)
    assert stats.poisson.sf(19, at_20["upper_2s_exp_events"]) == pytest.approx(0.025, abs=1e-6)
    assert at_20["lower_2s_exp_events"] == pytest.approx(mu_low, rel=1e-6)
    assert at_20["upper_2s_exp_events"] == pytest.approx(mu_high, rel=1e-6)
    assert at_20["lower_2s_exp_events"] == pytest.approx(30.8884, abs=1e-4)
    assert at_20["upper_2s_exp_events"] == pytest.approx(12.2165, abs=1e-4)
    assert at_20["lower_2s_limit"] == pytest.approx(20 / mu_low - 1, rel=1e-6)
    assert at_20["upper_2s_limit"] == pytest.approx(20 / mu_high - 1, rel=1e-6)
    mu_low_3s = stats.chi2.ppf(0.999, 2 * 21) / 2
    assert at_20["lower_3s_limit"] == pytest.approx(20 / mu_low_3s - 1, rel=1e-6)
    assert set(result["statistic"]) == {"ratio (count)"}
    assert set(result["method"]) == {"Poisson"}
    assert "baseline" not in result


def test_isr_ratio_limits_are_per_100() -> None:
    counts = funnel_limits(
        RATIOS, "obs", "expected", statistic="ratio", ratio_type="count", multiplier=100
    )
    isrs = funnel_limits(
        RATIOS, "obs", "expected", statistic="ratio", ratio_type="isr", multiplier=100
    )
    np.testing.assert_allclose(
        isrs["upper_3s_limit"], (counts["upper_3s_limit"] + 1) * 100, rtol=1e-12
    )
    assert set(isrs["statistic"]) == {"ratio (isr)"}


def test_ratio_limits_at_one_event_agree_with_the_reference_bisection() -> None:
    """The reference solves for mu by bisection to 1e-7 on mu / (1 + O + mu); the published
    expected events at O = 1 are 5.571644585 and 0.025317898 (95%), 9.233410143 and
    0.001000547 (99.8%), and the 99.8% count limit 998.4532721."""
    result = funnel_limits(
        RATIOS, "obs", "expected", statistic="ratio", ratio_type="count", multiplier=100
    )
    first = result.iloc[0]
    assert first["Observed_events"] == 1
    assert first["lower_2s_exp_events"] == pytest.approx(5.571644585, rel=1e-9)
    assert first["upper_2s_exp_events"] == pytest.approx(0.025317898, rel=1e-7)
    assert first["lower_3s_exp_events"] == pytest.approx(9.233410143, rel=1e-9)
    assert first["upper_3s_exp_events"] == pytest.approx(0.001000547, rel=1e-6)
    assert first["upper_3s_limit"] == pytest.approx(998.4532721, rel=1e-6)


# Rates --------------------------------------------------------------------------------------


RATES = pd.DataFrame({"events": [414, 462, 178, 525, 13, 90], "rate": [184, 102, 83, 118, 70, 55]})


def test_dsr_rate_limits_worked_by_hand() -> None:
    result = funnel_limits(RATES, "events", rate="rate", statistic="rate", rate_type="dsr",
                           multiplier=100_000, years_of_data=3)  # fmt: skip
    people = 100_000 * RATES["events"] / RATES["rate"]  # the denominators the rates imply
    average = RATES["events"].sum() / people.sum()
    assert result["baseline"].iloc[0] == pytest.approx(average * 100_000)
    # Axis in events: the denominators run 18,571 to 452,941 (> 2x), so from 0; per year the
    # largest is 150,980.4, 105% of it 158,529.4 -> 160,000 (two figures), 480,000 in three
    # years, and in events 480,000 x the average rate.
    end = math.ceil(480_000 * average)
    assert result["Events"].tolist() == axis_by_hand(0, end)
    row = result[result["Events"] == 50].iloc[0]
    mu = stats.chi2.ppf(0.975, 2 * 51) / 2
    assert row["lower_2s_population_1_year"] == pytest.approx(mu / average / 3, rel=1e-6)
    assert row["lower_2s_limit"] == pytest.approx(50 / (mu / average) * 100_000, rel=1e-6)
    mu3 = stats.chi2.ppf(0.001, 2 * 50) / 2
    assert row["upper_3s_limit"] == pytest.approx(50 / (mu3 / average) * 100_000, rel=1e-6)
    assert set(result["statistic"]) == {"rate (dsr per 100,000)"}


def test_crude_rates_with_no_events_use_the_denominator_given() -> None:
    frame = RATES.assign(pop=100_000 * RATES["events"] / RATES["rate"])
    frame.loc[0, ["events", "rate"]] = 0
    result = funnel_limits(frame, "events", "pop", rate="rate", statistic="rate",
                           rate_type="crude", multiplier=100_000, years_of_data=1)  # fmt: skip
    average = frame["events"].sum() / frame["pop"].sum()
    assert result["baseline"].iloc[0] == pytest.approx(average * 100_000)
    with pytest.raises(InvalidInputError, match="denominator field needs to be provided"):
        funnel_limits(frame, "events", rate="rate", statistic="rate", rate_type="crude",
                      multiplier=100_000, years_of_data=1)  # fmt: skip


def test_one_funnel_per_group() -> None:
    frame = pd.concat(
        [
            AREAS.assign(region="North"),
            RATIOS.rename(columns={"obs": "events", "expected": "people"}).assign(
                region="South", area="x"
            ),
        ]
    )
    both = funnel_limits(
        frame,
        "events",
        "people",
        statistic="ratio",
        ratio_type="isr",
        multiplier=100,
        group_by="region",
    )
    assert len(both) == 200
    for region, rows in frame.groupby("region"):
        alone = funnel_limits(
            rows, "events", "people", statistic="ratio", ratio_type="isr", multiplier=100
        )
        got = both[both["region"] == region].drop(columns="region").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone)


# Significance -------------------------------------------------------------------------------


def test_proportion_significance_against_each_points_wilson_interval() -> None:
    frame = pd.DataFrame({"x": [100, 145, 171, 203, 260, 172, 345], "n": [1000] * 6 + [2000]})
    result = funnel_significance(frame, "x", "n", statistic="proportion")
    a = frame["x"].sum() / frame["n"].sum()
    expected = []
    for x, n in zip(frame["x"], frame["n"], strict=True):
        low95, high95 = wilson(x, n, Z95)
        low998, high998 = wilson(x, n, Z998)
        if high998 < a:
            expected.append("Low (0.001)")
        elif high95 < a:
            expected.append("Low (0.025)")
        elif low998 > a:
            expected.append("High (0.001)")
        elif low95 > a:
            expected.append("High (0.025)")
        else:
            expected.append("Not significant")
    assert result["significance"].astype(str).tolist() == expected
    assert set(expected) == {
        "Low (0.001)",
        "Low (0.025)",
        "Not significant",
        "High (0.025)",
        "High (0.001)",
    }
    assert list(result["significance"].cat.categories) == list(SIGNIFICANCE_LEVELS[:5])


def byars(o: float, z: float) -> tuple[float, float]:
    lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return lower, upper


def exact(o: float, level: float) -> tuple[float, float]:
    alpha = 1 - level
    lower = 0.0 if o == 0 else stats.chi2.ppf(alpha / 2, 2 * o) / 2
    return lower, stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2


def test_ratio_significance_uses_exact_limits_below_10_and_byars_from_10() -> None:
    frame = pd.DataFrame({
        "obs": [0, 3, 9, 8, 10, 151, 159, 150, 101, 191],
        "expected": [5.0, 0.7, 3.5, 6.24, 18.0, 106.4, 232.9, 119.6, 126.3, 184.1],
    })  # fmt: skip
    result = funnel_significance(frame, "obs", "expected", statistic="ratio")
    expected = []
    for o, e in zip(frame["obs"], frame["expected"], strict=True):
        limits = {level: (exact(o, level) if o < 10 else byars(o, stats.norm.ppf(0.5 + level / 2)))
                  for level in (0.95, 0.998)}  # fmt: skip
        if limits[0.998][0] / e > 1:
            expected.append("High (0.001)")
        elif limits[0.95][0] / e > 1:
            expected.append("High (0.025)")
        elif limits[0.998][1] / e < 1:
            expected.append("Low (0.001)")
        elif limits[0.95][1] / e < 1:
            expected.append("Low (0.025)")
        else:
            expected.append("Not significant")
    assert result["significance"].astype(str).tolist() == expected
    # The reference's published classifications for four of these points.
    assert result["significance"].astype(str).tolist()[5:9] == [
        "High (0.001)", "Low (0.001)", "High (0.025)", "Low (0.025)"]  # fmt: skip


def test_dsr_significance_needs_10_events() -> None:
    frame = pd.DataFrame({"count": [0, 5, 40, 400, 900], "rate": [0.0, 80.0, 60.0, 100.0, 160.0],
                          "pop": [5000, 6000, 60000, 400000, 560000]})  # fmt: skip
    result = funnel_significance(frame, "count", "pop", rate="rate", statistic="rate",
                                 rate_type="dsr", multiplier=100_000)  # fmt: skip
    labels = result["significance"].astype(str).tolist()
    assert labels[:2] == ["Not applicable for events less than 10 for dsrs"] * 2
    # The others against the average rate, with Byar's limits on their counts.
    people = 100_000 * frame["count"][2:] / frame["rate"][2:]
    average = frame["count"][2:].sum() / people.sum()
    for label, o, n in zip(labels[2:], frame["count"][2:], people, strict=True):
        low, high = byars(o, Z95)
        low3, high3 = byars(o, Z998)
        if average < low3 / n:
            assert label == "High (0.001)"
        elif average < low / n:
            assert label == "High (0.025)"
        elif average > high3 / n:
            assert label == "Low (0.001)"
        elif average > high / n:
            assert label == "Low (0.025)"
        else:
            assert label == "Not significant"
    assert list(result["significance"].cat.categories) == list(SIGNIFICANCE_LEVELS)


def test_significance_within_groups() -> None:
    frame = pd.DataFrame(
        {"g": ["a"] * 3 + ["b"] * 3, "x": [10, 50, 90, 500, 510, 900], "n": [100] * 3 + [1000] * 3}
    )
    together = funnel_significance(frame, "x", "n", statistic="proportion", group_by="g")
    for _, rows in frame.groupby("g"):
        alone = funnel_significance(rows, "x", "n", statistic="proportion")
        assert together.loc[rows.index, "significance"].tolist() == alone["significance"].tolist()


# Checked input ------------------------------------------------------------------------------


def test_the_reference_error_messages() -> None:
    bad = pd.DataFrame({"obs": [65, 80, 30], "pop": [100, 100, 0]})
    with pytest.raises(InvalidInputError, match="denominators must be greater than zero") as error:
        funnel_significance(bad, "obs", "pop", statistic="proportion")
    assert error.value.row == 3
    with pytest.raises(InvalidInputError, match="numerators must be greater than or equal to zero"):
        funnel_significance(
            bad.assign(obs=[65, -80, 30], pop=[100, 100, 100]), "obs", "pop", statistic="proportion"
        )
    with pytest.raises(InvalidInputError, match="less than or equal to denominator"):
        funnel_significance(bad.assign(pop=[100, 50, 100]), "obs", "pop", statistic="proportion")
    with pytest.raises(
        InvalidInputError, match="statistic must be provided as proportion, rate or ratio"
    ):
        funnel_limits(bad, "obs", "pop", statistic="pop", multiplier=100)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInputError,
        match="required for proportions: data, numerator, denominator, multiplier",
    ):
        funnel_limits(bad, "obs", "pop", statistic="proportion")
    with pytest.raises(InvalidInputError, match="required for rates"):
        funnel_limits(
            RATES, "events", rate="rate", statistic="rate", multiplier=1e5, rate_type="dsr"
        )
    with pytest.raises(InvalidInputError, match="required for ratios"):
        funnel_limits(RATIOS, "obs", "expected", statistic="ratio", multiplier=100)


# Properties ---------------------------------------------------------------------------------


def areas(seed: int, count: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    people = rng.integers(50, 200_000, count)
    events = rng.binomial(people, rng.uniform(0.05, 0.6))
    return pd.DataFrame({"area": [f"A{i}" for i in range(count)], "x": events, "n": people})


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30))
def test_limits_bracket_the_baseline_and_narrow_with_more_people(seed: int, count: int) -> None:
    result = funnel_limits(areas(seed, count), "x", "n", statistic="proportion", multiplier=100)
    assert (result["lower_3s_limit"] <= result["lower_2s_limit"]).all()
    assert (result["lower_2s_limit"] <= result["baseline"]).all()
    assert (result["baseline"] <= result["upper_2s_limit"]).all()
    assert (result["upper_2s_limit"] <= result["upper_3s_limit"]).all()
    assert result["Population"].is_monotonic_increasing
    inside = (result["lower_3s_limit"] > 0) & (result["upper_3s_limit"] < 100)
    width = (result["upper_3s_limit"] - result["lower_3s_limit"])[inside]
    assert (np.diff(width.to_numpy()) < 0).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30))
def test_ratio_limits_bracket_one(seed: int, count: int) -> None:
    frame = areas(seed, count).assign(expected=lambda f: f["x"] * 1.1 + 1)
    result = funnel_limits(
        frame, "x", "expected", statistic="ratio", ratio_type="isr", multiplier=100
    )
    assert (result["lower_3s_limit"] < result["lower_2s_limit"]).all()
    assert (result["lower_2s_limit"] < 100).all()
    assert (result["upper_2s_limit"] > 100).all()
    assert (result["upper_3s_limit"] > result["upper_2s_limit"]).all()
    width = result["upper_2s_limit"] - result["lower_2s_limit"]
    assert (np.diff(width.to_numpy()) < 0).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(seed: int, shuffle: int) -> None:
    frame = areas(seed, 12).assign(g=lambda f: np.where(f.index % 2 == 0, "even", "odd"))
    shuffled = frame.sample(frac=1, random_state=shuffle)
    limits = funnel_limits(frame, "x", "n", statistic="proportion", multiplier=100, group_by="g")
    again = funnel_limits(shuffled, "x", "n", statistic="proportion", multiplier=100, group_by="g")
    pd.testing.assert_frame_equal(limits, again)
    flags = funnel_significance(frame, "x", "n", statistic="proportion", group_by="g")
    flags_again = funnel_significance(shuffled, "x", "n", statistic="proportion", group_by="g")
    pd.testing.assert_frame_equal(flags, flags_again.loc[frame.index])
