"""Alembic migrations, run from code so that no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from healthequity.store.exceptions import DatabaseNotMigrated, DatabaseTooNew

_HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration this version of healthequity knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations are packaged"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _check_known(engine: Engine) -> str | None:
    revision = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if revision is not None and _get_revision_or_none(script, revision) is None:
        raise DatabaseTooNew(
            f"the database is at schema revision {revision!r}, which this version of "
            f"healthequity does not know (its newest is {head_revision()!r}): it was migrated "
            "by a newer version. Upgrade healthequity instead of migrating the database."
        )
    return revision


def _get_revision_or_none(script: ScriptDirectory, revision: str) -> object:
    try:
        return script.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; refuse a database from a newer version."""
    _check_known(engine)
    config = alembic_config(engine)
    command.upgrade(config, revision)


def check_schema_current(engine: Engine) -> None:
    """Raise unless the database is exactly at this version's newest revision."""
    revision = _check_known(engine)
    if revision != head_revision():
        raise DatabaseNotMigrated(
            f"the database is at schema revision {revision!r}, not {head_revision()!r}: "
            "run `healthequity db upgrade`"
        )
