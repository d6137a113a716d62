"""`healthequity geography`: load the postcode directory, look up areas."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from healthequity import geography as reference
from healthequity.cli.common import clear_errors, open_database
from healthequity.geography import GeographyError
from healthequity.places import service


@click.group()
def geography() -> None:
    """England's reference geography and the postcode directory."""


@geography.command("load-postcodes")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=10_000, show_default=True, type=click.IntRange(min=1))
@clear_errors(GeographyError)
def load_postcodes(csv_file: Path, batch_size: int) -> None:
    """Load an ONS postcode directory (NSPL or ONSPD CSV: pcds, lsoa21cd, lat, long).

    All or nothing: a bad row loads nothing. Postcodes already loaded are updated.
    """
    database = open_database()
    size = csv_file.stat().st_size
    with (
        click.progressbar(length=size, label="Loading postcodes", file=sys.stderr) as progress,
        database.session() as session,
    ):
        done = 0

        def advance(bytes_read: int, _size: int) -> None:
            nonlocal done
            progress.update(bytes_read - done)
            done = bytes_read

        count = service.load_postcode_directory(
            session, csv_file, batch_size=batch_size, on_progress=advance
        )
        total = service.count_postcodes(session)
    click.echo(f"loaded {count:,} postcodes from {csv_file.name}; {total:,} in the directory")


@geography.command("lsoa")
@click.argument("code")
@clear_errors(GeographyError)
def show_lsoa(code: str) -> None:
    """Print one LSOA's record as JSON."""
    click.echo(json.dumps(asdict(reference.lsoa(code)), indent=2))


@geography.command("postcode")
@click.argument("postcode")
@clear_errors(GeographyError)
def show_postcode(postcode: str) -> None:
    """Print a postcode's LSOA and location from the loaded directory."""
    database = open_database()
    with database.session() as session:
        record = service.find_postcode(session, postcode)
    click.echo(json.dumps(asdict(record), indent=2))
