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

from healthequity.stats.sii import sii

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


BENCHMARKS: list[Callable[[], None]] = [bench_sii]


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
