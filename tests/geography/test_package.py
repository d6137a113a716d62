"""The package as shipped: its data, its dependencies, loading, and the build's checks."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from .source_data import REPO_ROOT, SOURCE_FILES, shared_geography, source_rows

DATA = resources.files("healthequity.geography") / "data"


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip()


def test_imports_no_database_or_web_framework() -> None:
    forbidden = {"sqlalchemy", "fastapi", "starlette", "sqlite3", "alembic", "psycopg", "uvicorn"}
    code = (
        "import sys, healthequity.geography as g; g.lsoa('E01000001'); g.search_areas('x'); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r} "
        "or m.startswith(('healthequity.store', 'healthequity.web'))))"
    )
    assert run_python(code) == "[]"


def test_threads_racing_for_the_first_lookup_share_one_load() -> None:
    code = """
import threading
import pyarrow.parquet as pq
reads = []
read_table = pq.read_table
pq.read_table = lambda *args, **kwargs: reads.append(1) or read_table(*args, **kwargs)
import healthequity.geography as g
start = threading.Barrier(8)
found = []
def look_up():
    start.wait()
    found.append((g.lsoa("E01000001"), g.ltla("E09000001")))
threads = [threading.Thread(target=look_up) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(len(reads), len(found), len(set(found)))
"""
    assert run_python(code) == "1 8 1"


def test_data_is_small_and_attributed() -> None:
    assert len((DATA / "lsoa21.parquet").read_bytes()) < 4_000_000
    attribution = (DATA / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for phrase in (
        "Open Government Licence v3.0",
        "Contains OS data © Crown copyright and database right 2024",
        "humaniverse IMD, geographr and demographr",
        "MIT",
    ):
        assert phrase in attribution


@pytest.fixture(scope="module")
def build_script() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location(
        "build_geography", REPO_ROOT / "scripts" / "build_geography.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def copy_sources(folder: Path) -> Path:
    source_rows()  # skips without the shared data
    for name in SOURCE_FILES:
        (folder / name).write_bytes((shared_geography() / name).read_bytes())
    return folder


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_build_rejects_a_missing_value(
    build_script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_sources(tmp_path)
    edit_line(folder / "imd2025_lsoa21.csv", 3, ",10,10,10,", ",10,,10,")
    assert build_script.main(["--shared-data", str(folder)]) == 1
    assert "imd2025_lsoa21.csv, line 3, column Income_decile: missing value" in (
        capsys.readouterr().err
    )


def test_build_rejects_an_lsoa_missing_from_a_file(
    build_script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_sources(tmp_path)
    edit_line(folder / "census2021_household_deprivation_lsoa21.csv", 2, "E01000001", "E01999999")
    assert build_script.main(["--shared-data", str(folder)]) == 1
    assert (
        "census2021_household_deprivation_lsoa21.csv, line 2, column lsoa21_code: "
        "E01999999 is not in lsoa21_areas.csv"
    ) in capsys.readouterr().err


def test_build_rejects_an_area_named_two_ways(
    build_script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_sources(tmp_path)
    edit_line(folder / "lsoa21_areas.csv", 3, ",City of London,", ",London City,")
    assert build_script.main(["--shared-data", str(folder)]) == 1
    assert "lsoa21_areas.csv, line 3, column ltla24_name: 'London City' for ltla24_code" in (
        capsys.readouterr().err
    )


def test_build_rejects_a_missing_file(
    build_script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build_script.main(["--shared-data", str(tmp_path)]) == 1
    assert "lsoa21_areas.csv: no such file" in capsys.readouterr().err
