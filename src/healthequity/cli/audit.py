"""`healthequity audit export`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from healthequity.audit import service
from healthequity.audit.exceptions import AuditError
from healthequity.cli.common import clear_errors, fail, open_database


@click.group()
def audit() -> None:
    """Read the append-only audit log."""


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r} is not a date: expected YYYY-MM-DD or an ISO 8601 time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit.command("export")
@click.option("--since", default=None, help="Only events from this date (YYYY-MM-DD) on.")
@click.option("--format", "export_format", type=click.Choice(service.EXPORT_FORMATS), default="csv")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
@clear_errors(AuditError)
def audit_export(since: str | None, export_format: str, out: str | None) -> None:
    """Export audit events as CSV or JSON lines."""
    since_time = _parse_since(since)
    database = open_database()
    with database.session() as session:
        if out is None:
            count = service.export_events(
                session, sys.stdout, since=since_time, export_format=export_format
            )
        else:
            with open(out, "w", encoding="utf-8", newline="") as output:
                count = service.export_events(
                    session, output, since=since_time, export_format=export_format
                )
    click.echo(f"exported {count} audit events", err=True)
