"""`healthequity.stats` as a library of its own: its public names and its dependencies."""

from __future__ import annotations

import subprocess
import sys

import healthequity.stats as stats


def test_every_public_name_is_there() -> None:
    for name in stats.__all__:
        assert hasattr(stats, name), name
    assert callable(stats.sii)


def test_imports_no_web_database_or_other_capability() -> None:
    forbidden = {"sqlalchemy", "fastapi", "starlette", "sqlite3", "alembic", "psycopg", "uvicorn"}
    code = (
        "import sys\nfrom healthequity.stats import sii, dsr, life_expectancy\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r} "
        "or (m.startswith('healthequity.') and not m.startswith('healthequity.stats'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
