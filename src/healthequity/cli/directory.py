"""`healthequity directory`: import ORUK feeds and files, write the CSV template, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from healthequity.audit.service import record_event
from healthequity.cli.common import clear_errors, command_line_context, open_database
from healthequity.directory import importer
from healthequity.directory.exceptions import DirectoryError
from healthequity.geography import GeographyError


class _Progress:
    """A progress bar on stderr, started when the total is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not total:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
        self.bar.update(done - self.done)
        self.done = done

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


@click.group()
def directory() -> None:
    """The service directory (Open Referral UK v3)."""


@directory.command("import")
@click.argument("source")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid records and report the rest (default: all or nothing).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write a JSON report of what was imported and what was not.",
)
@click.option("--retries", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.1))
@clear_errors(DirectoryError, GeographyError)
def import_command(
    source: str, skip_invalid: bool, report: Path | None, retries: int, timeout: float
) -> None:
    """Import services from SOURCE: an ORUK v3 API base URL, a .json file of service
    records (the body of /services/{id}, one or a list), or a .csv file of the template.

    Every record is validated against the ORUK schemas; records are updated by id.
    """
    database = open_database()
    context = command_line_context(f"directory import {source}")
    fetching, importing = _Progress("Fetching services"), _Progress("Importing services")

    with database.session() as session:
        result = importer.import_source(
            session,
            source,
            skip_invalid=skip_invalid,
            on_fetch=fetching,
            on_progress=importing,
            retries=retries,
            timeout=timeout,
        )
        record_event(
            session,
            context,
            "directory.import",
            subject_type="directory",
            detail={
                "source": source,
                "imported": len(result.imported),
                "rejected": len(result.rejected),
            },
        )
    fetching.finish()
    importing.finish()
    if report is not None:
        report.write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")
    for problem in result.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(
        f"imported {len(result.imported)} of {result.total} services"
        + (f"; {len(result.rejected)} invalid, not imported" if result.problems else "")
    )


@directory.command("template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def template(out: Path) -> None:
    """Write a blank CSV template (one row per service at a location) to OUT."""
    importer.write_csv_template(out)
    click.echo(f"wrote the directory CSV template to {out} (columns: docs/directory.md)")


@directory.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@clear_errors(DirectoryError)
def export(out: Path) -> None:
    """Write every service to OUT as a JSON list of ORUK v3 service records."""
    database = open_database()
    with database.session() as session:
        records = importer.export_services(session)
    out.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"exported {len(records)} services to {out}")
