"""WHO HEAT summary measures checked against values worked by hand from the HEAT technical
notes' definitions (WHO HEAT technical notes 2016/2017/2024; WHO Handbook on health
inequality monitoring 2013; Schlotheuber & Hosseinpoor 2022).

Worked example: skilled birth attendance (%, favourable) by wealth quintile (ordered, Q1
poorest = order 1):

    quintile   estimate  population  share p   cumulative mid-point X
    Q1            40        2200       0.22      0.110
    Q2            52        2100       0.21      0.325
    Q3            61        2000       0.20      0.530
    Q4            70        1900       0.19      0.725
    Q5            85        1800       0.18      0.910

    mu  = 0.22 x 40 + 0.21 x 52 + 0.20 x 61 + 0.19 x 70 + 0.18 x 85 = 60.52
    D   = y_Q5 - y_Q1 = 85 - 40 = 45             R = 85 / 40 = 2.125
    PAR = y_Q5 - mu = 24.48                      PAF = 100 x 24.48 / 60.52 = 40.4494
    ACI = sum p (2X - 1) y = 0.22(-0.78)40 + 0.21(-0.35)52 + 0.20(0.06)61 + 0.19(0.45)70
          + 0.18(0.82)85 = -6.864 - 3.822 + 0.732 + 5.985 + 12.546 = 8.577
    RCI = 8.577 / 60.52 = 0.141722

The same numbers as five regions (non-ordered), where the best-performing subgroup is the
highest (85):
    BGV   = sum p (y - mu)^2 = 232.8696
    MDBU  = (45 + 33 + 24 + 15 + 0) / 5 = 23.4     MDBW = sum p |y - 85| = 24.48
    MDMU  = (20.52 + 8.52 + 0.48 + 9.48 + 24.48) / 5 = 12.696
    IDISU = 100 x 12.696 / 60.52 = 20.9782
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthequity.stats import heat
from healthequity.stats.exceptions import InvalidInputError

Z95 = 1.959963984540054
EST = [40.0, 52.0, 61.0, 70.0, 85.0]
POP = [2200.0, 2100.0, 2000.0, 1900.0, 1800.0]
SE = [2.0, 1.8, 1.7, 1.5, 1.2]

QUINTILES = pd.DataFrame({
    "setting": "Country",
    "quintile": ["Q1", "Q2", "Q3", "Q4", "Q5"],
    "order": [1, 2, 3, 4, 5],
    "estimate": EST,
    "population": POP,
    "se": SE,
})  # fmt: skip
REGIONS = QUINTILES.drop(columns="order").assign(
    quintile=["North", "South", "East", "West", "Capital"]
)


def shares() -> list[float]:
    return [n / sum(POP) for n in POP]


def mean() -> float:
    return sum(p * y for p, y in zip(shares(), EST, strict=True))


def summary(frame: pd.DataFrame, **options: object) -> dict[str, pd.Series]:
    result = heat.heat_summary(frame, "estimate", **options)  # type: ignore[arg-type]
    return {row.measure: row for row in result.itertuples()}  # type: ignore[misc]


# The worked example ----------------------------------------------------------------------------


def test_worked_numbers() -> None:
    assert mean() == pytest.approx(60.52)
    x, before = [], 0.0
    for p in shares():
        x.append(before + p / 2)
        before += p
    assert x == pytest.approx([0.11, 0.325, 0.53, 0.725, 0.91])
    aci = sum(p * (2 * xj - 1) * y for p, xj, y in zip(shares(), x, EST, strict=True))
    assert aci == pytest.approx(8.577)


def test_ordered_favourable_measures() -> None:
    got = summary(QUINTILES, group_by="setting", population="population", se="se",
                  subgroup_order="order", ordered=True, favourable=True, scale=100)  # fmt: skip
    assert list(got) == ["D", "R", "PAF", "PAR", "ACI", "RCI"]
    assert got["D"].estimate == pytest.approx(45)
    assert got["D"].se == pytest.approx(math.sqrt(1.2**2 + 2.0**2))
    assert got["D"].lowercl == pytest.approx(45 - Z95 * math.sqrt(1.2**2 + 2.0**2))
    assert got["R"].estimate == pytest.approx(2.125)
    r_se = math.sqrt((1.2**2 + 2.125**2 * 2.0**2) / 40**2)
    assert got["R"].se == pytest.approx(r_se)
    assert got["R"].uppercl == pytest.approx(math.exp(math.log(2.125) + Z95 * r_se / 2.125))
    assert got["PAR"].estimate == pytest.approx(24.48)
    assert got["PAF"].estimate == pytest.approx(100 * 24.48 / 60.52)
    assert got["ACI"].estimate == pytest.approx(8.577)
    assert got["RCI"].estimate == pytest.approx(8.577 / 60.52)


def test_ordered_adverse_measures_reverse_the_comparison() -> None:
    """Under-five mortality (adverse): D = y_most_disadvantaged - y_most_advantaged and the
    reference of PAR is still the most advantaged subgroup."""
    deaths = QUINTILES.assign(estimate=[85.0, 70.0, 61.0, 52.0, 40.0])
    got = summary(deaths, population="population", subgroup_order="order", ordered=True,
                  favourable=False)  # fmt: skip
    mu = sum(p * y for p, y in zip(shares(), [85, 70, 61, 52, 40], strict=True))
    assert got["D"].estimate == pytest.approx(45)
    assert got["R"].estimate == pytest.approx(85 / 40)
    assert got["PAR"].estimate == pytest.approx(40 - mu)
    assert got["PAF"].estimate == pytest.approx(100 * (40 - mu) / mu)
    assert got["PAR"].estimate < 0


def test_non_ordered_measures_by_hand() -> None:
    got = summary(REGIONS, population="population", se="se", favourable=True)
    assert list(got) == ["D", "R", "PAF", "PAR", "BGV", "IDISU", "IDISW", "MDBU", "MDBW",
                         "MDMU", "MDMW", "MLD", "TI"]  # fmt: skip
    p, mu = shares(), mean()
    assert got["D"].estimate == pytest.approx(85 - 40)
    assert got["R"].estimate == pytest.approx(85 / 40)
    assert got["PAR"].estimate == pytest.approx(85 - mu)
    bgv = sum(pj * (y - mu) ** 2 for pj, y in zip(p, EST, strict=True))
    assert got["BGV"].estimate == pytest.approx(bgv)
    assert got["BGV"].estimate == pytest.approx(232.8696)
    assert got["MDBU"].estimate == pytest.approx(23.4)
    assert got["MDBW"].estimate == pytest.approx(
        sum(pj * abs(y - 85) for pj, y in zip(p, EST, strict=True))
    )
    assert got["MDMU"].estimate == pytest.approx(12.696)
    mdmw = sum(pj * abs(y - mu) for pj, y in zip(p, EST, strict=True))
    assert got["MDMW"].estimate == pytest.approx(mdmw)
    assert got["IDISU"].estimate == pytest.approx(100 * 12.696 / mu)
    assert got["IDISW"].estimate == pytest.approx(100 * mdmw / mu)
    ti = 1000 * sum(pj * (y / mu) * math.log(y / mu) for pj, y in zip(p, EST, strict=True))
    mld = 1000 * sum(pj * -math.log(y / mu) for pj, y in zip(p, EST, strict=True))
    assert got["TI"].estimate == pytest.approx(ti)
    assert got["MLD"].estimate == pytest.approx(mld)
    for code in ("IDISU", "IDISW", "MDBU", "MDBW", "MDMU", "MDMW"):  # HEAT simulates these
        assert math.isnan(got[code].lowercl)


def test_best_performing_is_the_lowest_for_adverse_indicators() -> None:
    got = summary(REGIONS, population="population", favourable=False)
    p, mu = shares(), mean()
    assert got["MDBU"].estimate == pytest.approx(sum(abs(y - 40) for y in EST) / 5)
    assert got["MDBW"].estimate == pytest.approx(
        sum(pj * abs(y - 40) for pj, y in zip(p, EST, strict=True))
    )
    assert got["PAR"].estimate == pytest.approx(40 - mu)
    assert got["D"].estimate == pytest.approx(45)  # non-ordered: highest - lowest either way


def test_two_subgroups_get_the_simple_and_attributable_measures_only() -> None:
    sex = pd.DataFrame(
        {"sex": ["Female", "Male"], "estimate": [72.0, 64.0], "population": [5100, 4900]}
    )
    got = summary(sex, population="population", favourable=True, subgroup="sex")
    assert list(got) == ["D", "R", "PAF", "PAR"]
    mu = (72 * 5100 + 64 * 4900) / 10000
    assert got["D"].estimate == pytest.approx(8)
    assert got["PAR"].estimate == pytest.approx(72 - mu)


def test_a_reference_subgroup_replaces_the_default_comparisons() -> None:
    marked = REGIONS.assign(ref=[0, 0, 1, 0, 0])  # East, 61
    got = summary(marked, population="population", reference_subgroup="ref", favourable=True)
    assert got["D"].estimate == pytest.approx(61 - 40)  # y_ref - lowest other
    assert got["R"].estimate == pytest.approx(61 / 40)
    # PAR: 61 - 60.52 = 0.48
    assert got["PAR"].estimate == pytest.approx(61 - mean())
    adverse = summary(marked, population="population", reference_subgroup="ref", favourable=False)
    assert adverse["D"].estimate == pytest.approx(85 - 61)  # highest other - y_ref
    assert adverse["R"].estimate == pytest.approx(85 / 61)
    assert adverse["PAR"].estimate == 0  # 61 - 60.52 > 0 for an adverse indicator: 0
    assert adverse["PAF"].estimate == 0


def test_par_and_paf_are_zero_when_no_improvement_is_possible() -> None:
    marked = REGIONS.assign(ref=[1, 0, 0, 0, 0])  # 40, below the mean, favourable
    got = summary(marked, population="population", reference_subgroup="ref", favourable=True)
    assert got["PAR"].estimate == 0
    assert got["PAF"].estimate == 0


def test_without_populations_the_setting_average_is_used() -> None:
    frame = REGIONS.drop(columns="population").assign(average=62.0)
    got = summary(frame, setting_average="average", favourable=True)
    assert list(got) == ["D", "R", "PAF", "PAR", "IDISU", "MDBU", "MDMU"]
    assert got["PAR"].estimate == pytest.approx(85 - 62)
    assert got["MDMU"].estimate == pytest.approx(sum(abs(y - 62) for y in EST) / 5)
    assert list(summary(frame.drop(columns="average"))) == ["D", "R", "MDBU"]


# Standard errors ---------------------------------------------------------------------------


def test_concentration_index_standard_error_from_the_regression() -> None:
    """The convenient regression 2 var(X) y sqrt(N) = b X sqrt(N) + a sqrt(N), solved here
    with numpy's least squares: b is the ACI and its standard error the ACI's."""
    p = np.array(shares())
    x = np.cumsum(p) - p / 2
    var_x = float(np.sum(p * (x - 0.5) ** 2))
    root = np.sqrt(POP)
    design = np.column_stack([x * root, root])
    response = 2 * var_x * np.array(EST) * root
    coefficients, residual, *_ = np.linalg.lstsq(design, response, rcond=None)
    sigma2 = residual[0] / (5 - 2)
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    aci = heat.absolute_concentration_index(
        QUINTILES, population="population", subgroup_order="order"
    )
    assert aci["estimate"].iloc[0] == pytest.approx(coefficients[0])
    assert aci["estimate"].iloc[0] == pytest.approx(8.577)
    assert aci["se"].iloc[0] == pytest.approx(math.sqrt(covariance[0, 0]))
    rci = heat.relative_concentration_index(
        QUINTILES, population="population", subgroup_order="order"
    )
    assert rci["se"].iloc[0] == pytest.approx(math.sqrt(covariance[0, 0]) / 60.52)


def test_attributable_risk_standard_errors_walter() -> None:
    """Walter (1978) on the 2 x 2 table of the reference subgroup against the rest."""
    mu, ref, ref_n, total = mean(), 85.0, 1800.0, sum(POP)
    c = ref / 100 * ref_n
    d = ref_n - c
    a = mu / 100 * total - c
    b = total - a - ref_n
    walter = math.sqrt(c * total * (a * d * (total - c) + b * c**2) / ((a + c) ** 3 * (c + d) ** 3))
    options = {"population": "population", "subgroup_order": "order", "ordered": True, "scale": 100}
    paf = heat.population_attributable_fraction(QUINTILES, **options)  # type: ignore[arg-type]
    assert paf["se"].iloc[0] == pytest.approx(100 * walter)
    par = heat.population_attributable_risk(QUINTILES, **options)  # type: ignore[arg-type]
    assert par["se"].iloc[0] == pytest.approx(mu * walter)
    assert par["lowercl"].iloc[0] == pytest.approx(24.48 - Z95 * mu * walter)


def test_variance_and_theil_standard_errors() -> None:
    p, mu = shares(), mean()
    bgv_se = math.sqrt(
        4 * sum(pj**2 * s**2 * (y - mu) ** 2 for pj, s, y in zip(p, SE, EST, strict=True))
        + 2 * (sum(pj**2 * s**2 for pj, s in zip(p, SE, strict=True)) ** 2
               - sum(pj**4 * s**4 for pj, s in zip(p, SE, strict=True))
               + sum(pj**2 * (1 - pj) ** 2 * s**4 for pj, s in zip(p, SE, strict=True)))
    )  # fmt: skip
    bgv = heat.between_group_variance(REGIONS, se="se")
    assert bgv["se"].iloc[0] == pytest.approx(bgv_se)
    r = [y / mu for y in EST]
    centre = sum(pj * rj * (1 + math.log(rj)) for pj, rj in zip(p, r, strict=True))
    ti_se = math.sqrt(sum((1 + math.log(rj) - centre) ** 2 * pj**2 * s**2 / mu**2
                          for pj, rj, s in zip(p, r, SE, strict=True)))  # fmt: skip
    assert heat.theil_index(REGIONS, se="se")["se"].iloc[0] == pytest.approx(1000 * ti_se)
    mld_se = math.sqrt(sum(s**2 * pj**2 / mu**2 * (1 - 1 / rj) ** 2
                           for pj, rj, s in zip(p, r, SE, strict=True)))  # fmt: skip
    assert heat.mean_log_deviation(REGIONS, se="se")["se"].iloc[0] == pytest.approx(1000 * mld_se)


def test_individual_functions_agree_with_the_summary() -> None:
    got = summary(REGIONS, population="population", favourable=True)
    calls = {
        "IDISU": heat.index_of_disparity(REGIONS, population="population"),
        "IDISW": heat.index_of_disparity(REGIONS, population="population", weighted=True),
        "MDBW": heat.mean_difference_from_best(REGIONS, population="population", weighted=True),
        "MDMU": heat.mean_difference_from_mean(REGIONS, population="population"),
        "D": heat.difference(REGIONS),
        "R": heat.ratio(REGIONS),
    }
    for code, frame in calls.items():
        assert frame["measure"].iloc[0] == code
        assert frame["estimate"].iloc[0] == pytest.approx(got[code].estimate)


def test_zero_estimates_count_as_one_millionth_in_the_logs() -> None:
    frame = REGIONS.assign(estimate=[0.0, 52.0, 61.0, 70.0, 85.0])
    p = shares()
    mu = sum(pj * y for pj, y in zip(p, frame["estimate"], strict=True))
    nonzero = [1e-6, 52.0, 61.0, 70.0, 85.0]
    mld = 1000 * sum(pj * -math.log(y / mu) for pj, y in zip(p, nonzero, strict=True))
    assert heat.mean_log_deviation(frame)["estimate"].iloc[0] == pytest.approx(mld)


# Checked input -----------------------------------------------------------------------------


def test_input_errors() -> None:
    with pytest.raises(InvalidInputError, match="ordered dimensions need subgroup_order"):
        heat.heat_summary(REGIONS, "estimate", ordered=True)
    with pytest.raises(InvalidInputError, match="same value for every subgroup") as error:
        heat.heat_summary(REGIONS.assign(fav=[1, 1, 0, 1, 1]), "estimate", favourable="fav")
    assert error.value.column == "fav"
    assert error.value.row == 3
    with pytest.raises(InvalidInputError, match="more than one reference subgroup"):
        heat.difference(REGIONS.assign(ref=[1, 1, 0, 0, 0]), reference_subgroup="ref")
    with pytest.raises(InvalidInputError, match="unknown measures"):
        heat.heat_summary(REGIONS, "estimate", measures=["SII"])
    with pytest.raises(InvalidInputError, match="at least two subgroups"):
        heat.difference(REGIONS.iloc[:1])
    with pytest.raises(InvalidInputError, match="repeats"):
        heat.heat_summary(
            QUINTILES.assign(order=[1, 2, 2, 4, 5]),
            "estimate",
            subgroup_order="order",
            ordered=True,
        )
    with pytest.raises(InvalidInputError) as error:
        heat.difference(REGIONS.assign(estimate=[1.0, None, 3.0, 4.0, 5.0]))
    assert error.value.row == 2


# Properties --------------------------------------------------------------------------------


def settings_frame(seed: int, count: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(count):
        k = int(rng.integers(2, 8))
        parts.append(pd.DataFrame({
            "setting": f"S{i}",
            "indicator": "anc" if i % 2 else "sba",
            "subgroup": [f"g{j}" for j in range(k)],
            "order": rng.permutation(k) + 1,
            "estimate": rng.uniform(1, 99, k).round(1),
            "population": rng.integers(100, 10_000, k),
            "se": rng.uniform(0.5, 3, k),
            "ordered": int(i % 3 == 0),
            "favourable": int(i % 2 == 0),
        }))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


OPTIONS = dict(group_by=["setting", "indicator"], subgroup="subgroup", population="population",
               se="se", subgroup_order="order", ordered="ordered", favourable="favourable",
               scale=100)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(seed: int, shuffle: int) -> None:
    frame = settings_frame(seed, 6)
    once = heat.heat_summary(frame, "estimate", **OPTIONS)  # type: ignore[arg-type]
    again = heat.heat_summary(frame.sample(frac=1, random_state=shuffle), "estimate", **OPTIONS)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(once, again)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_groups_at_once_equal_groups_one_by_one(seed: int) -> None:
    frame = settings_frame(seed, 5)
    together = heat.heat_summary(frame, "estimate", **OPTIONS)  # type: ignore[arg-type]
    for (setting, indicator), rows in frame.groupby(["setting", "indicator"]):
        alone = heat.heat_summary(rows, "estimate", **OPTIONS)  # type: ignore[arg-type]
        mine = together[(together["setting"] == setting) & (together["indicator"] == indicator)]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_limits_bracket_the_estimate_and_no_inequality_is_zero(seed: int) -> None:
    frame = settings_frame(seed, 4)
    result = heat.heat_summary(frame, "estimate", **OPTIONS)  # type: ignore[arg-type]
    has = result["lowercl"].notna()
    assert (result.loc[has, "lowercl"] <= result.loc[has, "estimate"] + 1e-12).all()
    assert (result.loc[has, "estimate"] <= result.loc[has, "uppercl"] + 1e-12).all()
    flat = frame.assign(estimate=50.0)
    equal = heat.heat_summary(flat, "estimate", **OPTIONS)  # type: ignore[arg-type]
    for code, expected in {"D": 0, "R": 1, "PAR": 0, "PAF": 0, "ACI": 0, "BGV": 0, "TI": 0,
                           "MLD": 0, "MDBU": 0, "IDISW": 0}.items():  # fmt: skip
        values = equal.loc[equal["measure"] == code, "estimate"]
        np.testing.assert_allclose(values, expected, atol=1e-9)
