"""`healthequity db`: migrations."""

from __future__ import annotations

import click

from healthequity.cli.common import clear_errors, open_database
from healthequity.store import (
    DatabaseNotMigrated,
    DatabaseTooNew,
    current_revision,
    head_revision,
    upgrade,
)
from healthequity.store.migrations import check_schema_current


@click.group()
def db() -> None:
    """Create or migrate the database."""


@db.command("upgrade")
@clear_errors()
def db_upgrade() -> None:
    """Apply every migration this version has (creates the database if absent)."""
    database = open_database(require_current_schema=False)
    upgrade(database.engine)
    click.echo(f"database at revision {current_revision(database.engine)} (newest)")


@db.command("current")
@clear_errors()
def db_current() -> None:
    """Show the database's revision and this version's newest."""
    database = open_database(require_current_schema=False)
    revision = current_revision(database.engine)
    head = head_revision()
    try:
        check_schema_current(database.engine)
        state = "up to date"
    except DatabaseTooNew:
        # `db upgrade` refuses such a database: the software is what needs upgrading.
        state = "the database is newer than this version: upgrade healthequity"
    except DatabaseNotMigrated:
        state = "needs `healthequity db upgrade`"
    click.echo(f"database revision: {revision or 'none (empty database)'}")
    click.echo(f"newest revision:   {head} ({state})")
