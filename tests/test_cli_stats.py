"""`healthequity stats <method>`: tables in and out, options naming columns, one-line errors.

Each command's output is compared with the library called directly on the same data, so
these tests check the command line, not the statistics (tests/stats/ check those).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from healthequity import stats
from healthequity.cli.main import cli

AREAS = pd.DataFrame(
    {
        "area": ["North"] * 5 + ["South"] * 5,
        "decile": list(range(1, 6)) * 2,
        "pop": [12_000, 11_000, 10_500, 9_800, 9_000, 8_000, 8_500, 9_000, 9_500, 10_000],
        "deaths": [150, 120, 101, 80, 66, 90, 84, 75, 70, 60],
    }
)


def run(*arguments: str) -> Result:
    return CliRunner().invoke(cli, ["stats", *arguments])


def write(frame: pd.DataFrame, path: Path) -> Path:
    stats.write_table(frame, path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_rate_reads_and_writes_every_kind_of_table(tmp_path: Path, suffix: str) -> None:
    source = write(AREAS, tmp_path / f"areas{suffix}")
    out = tmp_path / f"rates{suffix}"
    result = run("rate", str(source), "--out", str(out), "--count", "deaths",
                 "--population", "pop", "--group", "area", "--confidence", "0.95",
                 "--confidence", "0.998")  # fmt: skip
    assert result.exit_code == 0, result.output
    written = stats.read_table(out)
    expected = stats.rate(AREAS, "deaths", "pop", group_by="area", confidence=[0.95, 0.998])
    assert list(written["area"]) == ["North", "South"]
    for column in ("value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"):
        np.testing.assert_allclose(written[column], expected[column], rtol=1e-12)


def test_sii_with_the_options_named_in_the_issue(tmp_path: Path) -> None:
    rates = AREAS.assign(rate=AREAS["deaths"] / AREAS["pop"] * 100_000)
    rates["se"] = rates["rate"] / np.sqrt(rates["deaths"])
    source = write(rates, tmp_path / "areas.csv")
    out = tmp_path / "sii.csv"
    result = run("sii", str(source), "--out", str(out), "--group", "area",
                 "--quantile", "decile", "--population", "pop", "--value", "rate",
                 "--standard-error", "se", "--value-type", "rate", "--multiplier", "100000",
                 "--rii", "--repetitions", "10000", "--seed", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    expected = stats.sii(rates, "decile", "pop", value="rate", standard_error="se",
                         value_type="rate", multiplier=100_000, group_by="area", rii=True,
                         repetitions=10_000, seed=3)  # fmt: skip
    np.testing.assert_allclose(written["sii"], expected["sii"], rtol=1e-12)
    np.testing.assert_allclose(written["rii"], expected["rii"], rtol=1e-12)
    np.testing.assert_allclose(written["sii_lowercl"], expected["sii_lowercl"], rtol=1e-12)


@pytest.mark.parametrize(
    ("command", "options", "library"),
    [
        ("proportion", ["--count", "deaths", "--denominator", "pop"],
         lambda d: stats.proportion(d, "deaths", "pop", group_by="area")),
        ("mean", ["--value", "deaths"], lambda d: stats.mean(d, "deaths", group_by="area")),
        ("quantiles", ["--value", "deaths", "--quantiles", "2"],
         lambda d: stats.assign_quantiles(d, "deaths", group_by="area", quantiles=2)),
        ("heat", ["--estimate", "deaths", "--subgroup", "decile", "--population", "pop",
                  "--order", "decile", "--unfavourable"],
         lambda d: stats.heat_summary(d, "deaths", group_by="area", subgroup="decile",
                                      population="pop", subgroup_order="decile", ordered=True,
                                      favourable=False)),
        ("funnel-significance", ["--numerator", "deaths", "--denominator", "pop",
                                 "--statistic", "proportion", "--multiplier", "100"],
         lambda d: stats.funnel_significance(d, "deaths", "pop", statistic="proportion",
                                             multiplier=100, group_by="area")),
    ],
    ids=["proportion", "mean", "quantiles", "heat", "funnel-significance"],
)  # fmt: skip
def test_commands_give_what_the_library_gives(
    tmp_path: Path, command: str, options: list[str], library: object
) -> None:
    source = write(AREAS, tmp_path / "areas.csv")
    out = tmp_path / "out.parquet"
    result = run(command, str(source), "--out", str(out), "--group", "area", *options)
    assert result.exit_code == 0, result.output
    assert callable(library)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out), library(AREAS), check_dtype=False, check_categorical=False
    )


def test_dsr_and_life_expectancy_run_on_their_standard_bands(tmp_path: Path) -> None:
    bands = pd.DataFrame(
        {
            "start_age": [0, 1, *range(5, 95, 5)],
            "deaths": [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872,
                       1390, 1605, 1936, 1937],
            "pop": [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601,
                    50209, 56416, 46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936],
        }
    )  # fmt: skip
    source = write(bands, tmp_path / "bands.csv")
    out = tmp_path / "le.csv"
    result = run("life-expectancy", str(source), "--out", str(out), "--deaths", "deaths",
                 "--population", "pop", "--start-age", "start_age", "--from-age", "0",
                 "--from-age", "65")  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    expected = stats.life_expectancy(bands, "deaths", "pop", "start_age", le_age=[0, 65])
    np.testing.assert_allclose(written["value"], expected["value"], rtol=1e-12)
    esp_bands = write(bands.iloc[1:].reset_index(drop=True), tmp_path / "esp.csv")
    result = run("dsr", str(esp_bands), "--out", str(out), "--count", "deaths",
                 "--population", "pop")  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = stats.dsr(bands.iloc[1:], "deaths", "pop")
    np.testing.assert_allclose(pd.read_csv(out)["value"], expected["value"], rtol=1e-12)


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.drop(columns="pop"),
         "areas.csv: column 'pop': not in the data (its columns are 'area', 'decile', 'deaths')"),
        (lambda d: d.assign(deaths=d["deaths"].astype(object).where(d.index != 3, "ten")),
         "areas.csv: column 'deaths', row 4: expected a number, got 'ten'"),
        (lambda d: d.assign(deaths=d["deaths"].where(d.index != 6, -2)),
         "areas.csv: column 'deaths', row 7: expected at least 0, got -2"),
        (lambda d: d.assign(pop=d["pop"].where(d.index != 1, 0)),
         "areas.csv: column 'pop', row 2: expected more than 0, got 0"),
    ],
    ids=["missing-column", "not-a-number", "negative-count", "zero-population"],
)  # fmt: skip
def test_bad_input_gives_one_line_naming_column_and_row(
    tmp_path: Path, change: object, expected: str
) -> None:
    assert callable(change)
    source = write(change(AREAS), tmp_path / "areas.csv")
    result = run("rate", str(source), "--out", str(tmp_path / "out.csv"), "--count", "deaths",
                 "--population", "pop", "--group", "area")  # fmt: skip
    assert one_error_line(result) == f"healthequity: error: {expected}"
    assert not (tmp_path / "out.csv").exists()


def test_unknown_table_kind_and_unreadable_file(tmp_path: Path) -> None:
    odd = tmp_path / "areas.txt"
    odd.write_text("area,pop\n")
    line = one_error_line(run("mean", str(odd), "--out", "x.csv", "--value", "pop"))
    assert "cannot tell the kind of table from '.txt'" in line
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    line = one_error_line(run("mean", str(broken), "--out", "x.csv", "--value", "pop"))
    assert line.startswith(f"healthequity: error: {broken}: cannot be read as parquet")


def test_warnings_are_printed_and_the_result_written(tmp_path: Path) -> None:
    gappy = AREAS.drop(index=7)  # South lacks decile 3: SII drops it with a warning
    gappy = gappy.assign(rate=gappy["deaths"] / gappy["pop"] * 100_000)
    gappy["se"] = gappy["rate"] / np.sqrt(gappy["deaths"])
    source = write(gappy, tmp_path / "areas.csv")
    out = tmp_path / "sii.csv"
    result = run("sii", str(source), "--out", str(out), "--group", "area",
                 "--quantile", "decile", "--population", "pop", "--value", "rate",
                 "--standard-error", "se", "--value-type", "rate", "--multiplier", "100000",
                 "--repetitions", "1000", "--seed", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "healthequity: warning:" in result.stderr
    assert "South" in result.stderr
    assert list(pd.read_csv(out)["area"]) == ["North"]
