"""Shared by the statistics tests: where the reference package's test data lives.

`PHE_DATA` is the shared data folder's `pheindicatormethods/`: by default the `shared/data`
folder beside the repository, or the `data` folder that HEALTHEQUITY_SHARED_DATA names.
The tests read the files there directly; nothing is copied into the repository.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("HEALTHEQUITY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
PHE_DATA = SHARED_DATA / "pheindicatormethods"


@cache
def _workbook(name: str) -> dict[str, pd.DataFrame]:
    path = PHE_DATA / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: set HEALTHEQUITY_SHARED_DATA to the shared data folder"
        )
    return pd.read_excel(path, sheet_name=None)


def phe_sheet(name: str, sheet: str) -> pd.DataFrame:
    """A fresh copy of one sheet of one of the reference's workbooks."""
    return _workbook(name)[sheet].copy()
