"""Benchmarks of `healthequity.stats`, run by hand (not in CI):

    .venv/bin/python benchmarks/stats_bench.py            # every section
    .venv/bin/python benchmarks/stats_bench.py sii        # sections whose name contains "sii"

Each section is a function in BENCHMARKS that prints its own figures: to add one, write a
`bench_<name>()` and append it to the list. Timings are the best of a few runs (wall clock,
with the process's CPU time beside it: on a shared machine the CPU time shows the work done
even when the other core is busy).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from healthequity.stats import ESP2013, dsr, life_expectancy, sii

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def timed(call: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Best wall-clock and CPU seconds of `runs` calls."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


# SII ---------------------------------------------------------------------------------------

SII_AREAS, SII_DECILES, SII_REPETITIONS = 300, 10, 100_000
REFERENCE_SECONDS = 128  # PHEindicatormethods 2.1, same work, this machine: published figure


def sii_data(areas: int = SII_AREAS, deciles: int = SII_DECILES) -> pd.DataFrame:
    """Life expectancy by deprivation decile for `areas` areas: populations, values rising
    with decile, standard errors. Fixed seed, so every run and process sees the same data."""
    rng = np.random.default_rng(2025)
    decile = np.tile(np.arange(1, deciles + 1), areas)
    return pd.DataFrame(
        {
            "area": np.repeat([f"E{6_000_000 + i:08d}" for i in range(areas)], deciles),
            "decile": decile,
            "population": rng.integers(4_000, 30_000, areas * deciles).astype(float),
            "value": 74 + 0.9 * decile + rng.normal(0, 1, areas * deciles),
            "se": rng.uniform(0.2, 2.5, areas * deciles),
        }
    )


def run_sii(data: pd.DataFrame, repetitions: int = SII_REPETITIONS) -> pd.DataFrame:
    return sii(
        data,
        "decile",
        "population",
        value="value",
        standard_error="se",
        group_by="area",
        rii=True,
        repetitions=repetitions,
        seed=1,
    )


def per_area_loop(data: pd.DataFrame, repetitions: int = SII_REPETITIONS) -> pd.DataFrame:
    """The straightforward way, as the baseline: loop over areas; for each, draw all the
    repetitions at once (numpy's normal generator), fit them all with one np.polyfit call
    (weighted by the square root of the population share), then sort the simulated SIIs and
    RIIs and take the same order statistics."""
    rng = np.random.default_rng(1)
    lower_at, upper_at = round(repetitions * 0.025) - 1, round(repetitions * 0.975) - 1
    results = []
    for area, group in data.groupby("area", sort=True):
        group = group.sort_values("decile")
        shares = group["population"].to_numpy() / group["population"].sum()
        ranks = np.cumsum(shares) - shares / 2
        values, errors = group["value"].to_numpy(), group["se"].to_numpy()
        slope, level = np.polyfit(ranks, values, 1, w=np.sqrt(shares))
        draws = rng.normal(values[:, None], errors[:, None], (len(values), repetitions))
        slopes, levels = np.polyfit(ranks, draws, 1, w=np.sqrt(shares))
        sorted_sii, sorted_rii = np.sort(slopes), np.sort((levels + slopes) / levels)
        results.append(
            {
                "area": area,
                "sii": slope,
                "rii": (level + slope) / level,
                "sii_lowercl": sorted_sii[lower_at],
                "sii_uppercl": sorted_sii[upper_at],
                "rii_lowercl": sorted_rii[lower_at],
                "rii_uppercl": sorted_rii[upper_at],
            }
        )
    return pd.DataFrame(results)


PEAK_PROBE = """
import json, sys
sys.path.insert(0, {bench!r})
from stats_bench import resident_peak_mb, run_sii, sii_data
data = sii_data()
before = resident_peak_mb()
run_sii(data)
print(json.dumps({{"before": before, "peak": resident_peak_mb()}}))
"""


def resident_peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM from /proc (getrusage's maxrss where
    there is no /proc; on Linux that survives exec, so a child would report its parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of a fresh process that builds the data and runs the SII once
    (MB), and what it had reached before the call."""
    output = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE.format(bench=str(Path(__file__).parent))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = json.loads(output)
    return figures


def traced_peak_mb(data: pd.DataFrame) -> float:
    """Peak of the memory allocated during one call, as tracemalloc sees it (numpy's arrays
    included): the call's own working memory."""
    tracemalloc.start()
    try:
        run_sii(data)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_sii() -> None:
    data = sii_data()
    work = f"{SII_AREAS} areas x {SII_DECILES} deciles x {SII_REPETITIONS:,} repetitions"
    print(f"SII with RII and 95% limits by simulation: {work}")
    run_sii(data.head(SII_DECILES * 2), repetitions=1000)  # warm up imports and caches
    wall, cpu = timed(lambda: run_sii(data))
    print(f"  healthequity.stats.sii   {wall:7.2f} s  (CPU {cpu:.2f} s), best of {RUNS}")
    memory = peak_memory_mb()
    print(
        f"  peak memory              {memory['peak']:7.0f} MB resident for the whole process "
        f"({memory['before']:.0f} MB before the call)"
    )
    print(f"  memory the call allocated{traced_peak_mb(data):7.0f} MB at most (tracemalloc)")
    proportions = sii_proportion_data()
    wall_p, cpu_p = timed(lambda: run_sii_proportions(proportions))
    print(
        f"  the same for proportions {wall_p:7.2f} s  (CPU {cpu_p:.2f} s): simulated on the "
        "logit scale and transformed back"
    )
    base_wall, base_cpu = timed(lambda: per_area_loop(data), runs=1)
    print(f"  per-area loop baseline   {base_wall:7.2f} s  (CPU {base_cpu:.2f} s), one run:")
    print("      a loop over areas; all the repetitions of an area drawn at once and fitted")
    print("      with one np.polyfit; np.sort for the limits")
    print(f"  speed-up over the loop   {base_wall / wall:7.1f}x")
    print(
        f"  PHEindicatormethods 2.1  {REFERENCE_SECONDS:7.0f} s  published figure for the same "
        "work on this machine,"
    )
    print(f"      NOT measured in this run ({REFERENCE_SECONDS / wall:.0f}x this run's time)")
    ours, loop = run_sii(data), per_area_loop(data)
    point_gap = np.abs(ours["sii"] - loop["sii"]).max()
    limit_gap = np.abs(ours["sii_lowercl"].to_numpy() / loop["sii_lowercl"].to_numpy() - 1).max()
    print(
        f"  check against the loop   point SIIs within {point_gap:.0e}, lower limits within "
        f"{limit_gap:.1%} (other random draws)"
    )
    print(
        f"  (this benchmark process peaked at {resident_peak_mb():.0f} MB resident, the "
        "baseline included)"
    )


def sii_proportion_data() -> pd.DataFrame:
    """The same areas with a proportion (say obesity) in each decile and its standard error
    on the logit scale."""
    rng = np.random.default_rng(2026)
    data = sii_data()
    data["value"] = rng.uniform(0.1, 0.3, len(data))
    data["se"] = rng.uniform(0.02, 0.1, len(data))
    return data


def run_sii_proportions(data: pd.DataFrame) -> pd.DataFrame:
    return sii(
        data,
        "decile",
        "population",
        value="value",
        value_type="proportion",
        standard_error="se",
        group_by="area",
        rii=True,
        repetitions=SII_REPETITIONS,
        seed=1,
    )


# Life expectancy and DSR ------------------------------------------------------------------

MANY_AREAS = 7_000
LE_REFERENCE_SECONDS = 29  # PHEindicatormethods 2.1, same work, this machine: published figure
LE_BANDS = (0, 1, *range(5, 95, 5))  # 0, 1-4, 5-9, ..., 85-89, 90+


def life_table_data(areas: int = MANY_AREAS) -> pd.DataFrame:
    """Deaths and populations in the 20 standard age bands for `areas` areas (fixed seed)."""
    rng = np.random.default_rng(7)
    bands = len(LE_BANDS)
    population = rng.integers(500, 6_000, areas * bands).astype(float)
    # Mortality rising roughly exponentially with age, as in England's life tables.
    mortality = np.tile(0.0002 * np.exp(0.085 * np.asarray(LE_BANDS, dtype=float)), areas)
    deaths = rng.poisson(np.minimum(population * mortality, population * 0.5)).astype(float)
    return pd.DataFrame(
        {
            "area": np.repeat([f"E{2_000_000 + i:08d}" for i in range(areas)], bands),
            "start_age": np.tile(LE_BANDS, areas),
            "population": population,
            "deaths": deaths,
        }
    )


def life_expectancy_per_area(data: pd.DataFrame) -> list[float]:
    """The straightforward way: one Chiang II life table per area in plain numpy, at birth,
    with the Silcocks variance. The baseline for `life_expectancy`."""
    results = []
    widths = np.diff(np.asarray(LE_BANDS, dtype=float))
    for _area, rows in data.groupby("area", sort=False):
        deaths = rows["deaths"].to_numpy()
        population = rows["population"].to_numpy()
        m = deaths / population
        a = np.full(len(m), 0.5)
        a[0] = 0.1
        q = np.ones(len(m))
        q[:-1] = widths * m[:-1] / (1 + widths * (1 - a[:-1]) * m[:-1])
        survivors = 100_000 * np.concatenate([[1.0], np.cumprod(1 - q[:-1])])
        died = survivors * q
        years = np.empty(len(m))
        years[:-1] = widths * (survivors[1:] + a[:-1] * died[:-1])
        years[-1] = survivors[-1] / m[-1]
        total = np.cumsum(years[::-1])[::-1]
        expectancy = total / survivors
        variance_terms = np.zeros(len(m))
        variance_terms[:-1] = (
            survivors[:-1] ** 2
            * ((1 - a[:-1]) * widths + np.append(expectancy[1:], 0)[:-1]) ** 2
            * q[:-1] ** 2
            * (1 - q[:-1])
            / np.maximum(deaths[:-1], 1)
        )
        # The open last band: l^2 / m^4 times the variance of m, which is deaths / pop^2.
        variance_terms[-1] = survivors[-1] ** 2 / m[-1] ** 4 * deaths[-1] / population[-1] ** 2
        variance = np.cumsum(variance_terms[::-1])[::-1] / survivors**2
        results.append(expectancy[0] - 1.96 * np.sqrt(variance[0]))
    return results


def bench_life_expectancy() -> None:
    data = life_table_data()
    print(f"Life expectancy with 95% limits: {MANY_AREAS:,} areas x {len(LE_BANDS)} age bands")
    life_expectancy(data.head(40), "deaths", "population", "start_age", group_by="area")
    wall, cpu = timed(
        lambda: life_expectancy(data, "deaths", "population", "start_age", group_by="area")
    )
    print(f"  healthequity.stats.life_expectancy {wall:6.2f} s  (CPU {cpu:.2f} s), every age")
    base_wall, _ = timed(lambda: life_expectancy_per_area(data), runs=1)
    print(f"  per-area loop baseline             {base_wall:6.2f} s  (one table per area, at")
    print("      birth only, in numpy; one run)")
    print(f"  speed-up over the loop             {base_wall / wall:6.1f}x")
    ours = life_expectancy(data, "deaths", "population", "start_age", group_by="area", le_age=0)
    gap = np.abs(ours["lowercl"].to_numpy() - np.asarray(life_expectancy_per_area(data))).max()
    print(f"  check against the loop             lower limits at birth within {gap:.1e} years")
    print(
        f"  PHEindicatormethods 2.1            {LE_REFERENCE_SECONDS:6.0f} s  published figure, "
        f"NOT measured in this run ({LE_REFERENCE_SECONDS / wall:.0f}x this run's time)"
    )


def dsr_data(areas: int = MANY_AREAS) -> pd.DataFrame:
    """Events and populations in the 19 bands of the European Standard Population 2013."""
    rng = np.random.default_rng(11)
    bands = len(ESP2013)
    population = rng.integers(300, 5_000, areas * bands).astype(float)
    rate = np.tile(np.linspace(0.001, 0.05, bands), areas)
    return pd.DataFrame(
        {
            "area": np.repeat([f"E{2_000_000 + i:08d}" for i in range(areas)], bands),
            "band": np.tile(np.arange(bands), areas),
            "count": rng.poisson(population * rate).astype(float),
            "population": population,
        }
    )


def dsr_per_area(data: pd.DataFrame) -> list[tuple[float, float, float]]:
    """The straightforward way: for each area, the DSR and Dobson limits in numpy."""
    results = []
    z = 1.959963984540054
    for _area, rows in data.groupby("area", sort=False):
        count = rows["count"].to_numpy()
        population = rows["population"].to_numpy()
        weights = ESP2013 / population
        value = float(np.sum(weights * count) / ESP2013.sum() * 100_000)
        total = count.sum()
        variance = np.sum(weights**2 * count)
        lower_count = total * (1 - 1 / (9 * total) - z / (3 * np.sqrt(total))) ** 3
        upper_count = (total + 1) * (1 - 1 / (9 * (total + 1)) + z / (3 * np.sqrt(total + 1))) ** 3
        scale = np.sqrt(variance / total) / ESP2013.sum() * 100_000
        results.append(
            (value, value + (lower_count - total) * scale, value + (upper_count - total) * scale)
        )
    return results


def bench_dsr() -> None:
    data = dsr_data()
    print(f"DSR (ESP 2013) with Dobson 95% limits: {MANY_AREAS:,} areas x {len(ESP2013)} bands")
    dsr(data.head(38), "count", "population", group_by="area")
    wall, cpu = timed(lambda: dsr(data, "count", "population", group_by="area"))
    print(f"  healthequity.stats.dsr   {wall:6.3f} s  (CPU {cpu:.3f} s)")
    base_wall, _ = timed(lambda: dsr_per_area(data), runs=1)
    print(f"  per-area loop baseline   {base_wall:6.3f} s  (numpy per area; one run)")
    print(f"  speed-up over the loop   {base_wall / wall:6.1f}x")
    ours = dsr(data, "count", "population", group_by="area")
    loop = np.asarray(dsr_per_area(data))
    gap = np.abs(ours[["value", "lowercl", "uppercl"]].to_numpy() / loop - 1).max()
    print(f"  check against the loop   values and limits within {gap:.1e} (relative)")


BENCHMARKS: list[Callable[[], None]] = [bench_sii, bench_life_expectancy, bench_dsr]


def main(argv: list[str] | None = None) -> None:
    wanted = sys.argv[1:] if argv is None else argv
    for benchmark in BENCHMARKS:
        name = benchmark.__name__.removeprefix("bench_")
        if wanted and not any(word in name for word in wanted):
            continue
        print(f"== {name} ==")
        benchmark()
        print()


if __name__ == "__main__":
    main()
