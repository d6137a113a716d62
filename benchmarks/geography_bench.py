"""Cold and warm `geography.lsoa()` look-ups against reading the source CSVs directly.

Run by hand: `.venv/bin/python benchmarks/geography_bench.py`. Each cold figure is
measured in a fresh Python process (imports included), best of five. The baseline is
the straightforward way: read the three source CSVs with the csv module into dicts, then
look up. Prints the figures and the ratios.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HEALTHEQUITY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
RUNS = 5

PACKAGE = """
t0 = time.perf_counter()
from healthequity import geography
t1 = time.perf_counter()
geography.lsoa(sample[0])
t2 = time.perf_counter()
for code in sample[1:999]:
    geography.lsoa(code)
t3 = time.perf_counter()
geography.lsoa(sample[999])
t4 = time.perf_counter()
print(json.dumps({"first": t2 - t1, "first_with_import": t2 - t0,
                  "thousandth": t4 - t3}))
"""

BASELINE = """
t0 = t1 = time.perf_counter()
def load():
    tables = {}
    for name in ("lsoa21_areas.csv", "imd2025_lsoa21.csv",
                 "census2021_household_deprivation_lsoa21.csv"):
        with open(GEOGRAPHY + "/" + name, newline="") as f:
            tables[name] = {row["lsoa21_code"]: row for row in csv.DictReader(f)}
    return tables
tables = None
def lookup(code):
    global tables
    if tables is None:
        tables = load()
    return {**tables["lsoa21_areas.csv"][code], **tables["imd2025_lsoa21.csv"][code],
            **tables["census2021_household_deprivation_lsoa21.csv"][code]}
lookup(sample[0])
t2 = time.perf_counter()
for code in sample[1:999]:
    lookup(code)
t3 = time.perf_counter()
lookup(sample[999])
t4 = time.perf_counter()
print(json.dumps({"first": t2 - t1, "first_with_import": t2 - t0, "thousandth": t4 - t3}))
"""


def measure(body: str) -> dict[str, float]:
    geography_dir = SHARED / "geography"
    # The same 1000 random LSOAs, chosen before the clock starts.
    prelude = (
        "import csv, json, random, time\n"
        f"GEOGRAPHY = {str(geography_dir)!r}\n"
        "with open(GEOGRAPHY + '/lsoa21_areas.csv', newline='') as f:\n"
        "    codes = [row['lsoa21_code'] for row in csv.DictReader(f)]\n"
        "random.seed(1)\nsample = random.sample(codes, 1000)\n"
    )
    results = []
    for _ in range(RUNS):
        output = subprocess.run(
            [sys.executable, "-c", prelude + body], capture_output=True, text=True, check=True
        ).stdout
        results.append(json.loads(output))
    return {key: min(result[key] for result in results) for key in results[0]}


def main() -> None:
    package = measure(PACKAGE)
    baseline = measure(BASELINE)
    print(f"geography.lsoa(), best of {RUNS} fresh processes:")
    print(f"{'':28}{'package':>12}{'source CSVs':>14}{'ratio':>9}")
    for key, label in [
        ("first_with_import", "first look-up incl. import"),
        ("first", "first look-up"),
        ("thousandth", "1000th look-up"),
    ]:
        ratio = baseline[key] / package[key]
        print(
            f"{label:28}{package[key] * 1000:10.3f} ms{baseline[key] * 1000:12.3f} ms{ratio:8.1f}x"
        )


if __name__ == "__main__":
    main()
