"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./healthequity.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Run-time settings. Every field has an environment variable `HEALTHEQUITY_<FIELD>`."""

    database_url: str
    secret_key: str
    assets_dir: Path
    environment: str
    log_level: str
    # Days after its last review that a directory record is marked stale.
    directory_stale_days: int = 180

    @property
    def is_development(self) -> bool:
        return self.environment == "development"


def load_settings() -> Settings:
    """Read the settings from the environment now (never cached: tests change it)."""
    return Settings(
        database_url=os.environ.get("HEALTHEQUITY_DATABASE_URL", DEFAULT_DATABASE_URL),
        # Sessions are server-side, so the key only signs the CSRF cookie; a random
        # per-process key is safe but logs everyone's forms out on restart.
        secret_key=os.environ.get("HEALTHEQUITY_SECRET_KEY", _process_secret()),
        assets_dir=Path(
            os.environ.get("HEALTHEQUITY_ASSETS_DIR", Path.cwd() / "assets" / "node_modules")
        ),
        environment=os.environ.get("HEALTHEQUITY_ENVIRONMENT", "development"),
        log_level=os.environ.get("HEALTHEQUITY_LOG_LEVEL", "INFO"),
        directory_stale_days=_positive_whole_number("HEALTHEQUITY_DIRECTORY_STALE_DAYS", 180),
    )


class InvalidSetting(ValueError):
    """An environment variable whose value cannot be used."""


def _positive_whole_number(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise InvalidSetting(f"{variable} must be a whole number of days from 1, not {value!r}")
    return int(value)


_PROCESS_SECRET: list[str] = []


def _process_secret() -> str:
    if not _PROCESS_SECRET:
        _PROCESS_SECRET.append(os.urandom(32).hex())
    return _PROCESS_SECRET[0]
