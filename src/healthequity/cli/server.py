"""`healthequity serve` and `healthequity demo`."""

from __future__ import annotations

import click
import uvicorn

from healthequity import geography
from healthequity.auth import demo as auth_demo
from healthequity.cli.common import clear_errors, command_line_context, open_database
from healthequity.config import load_settings
from healthequity.directory import demo as directory_demo
from healthequity.people import demo as people_demo
from healthequity.referrals import demo as referrals_demo
from healthequity.store import upgrade
from healthequity.web.logging import configure_logging

# Each capability's demo loader: (session, audit context) -> lines to print.
DEMO_LOADERS = (
    auth_demo.load_demo,
    directory_demo.load_demo,
    people_demo.load_demo,
    referrals_demo.load_demo,
)


def _serve(host: str, port: int, workers: int = 1) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        "healthequity.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="HEALTHEQUITY_WORKERS",
    help="Server processes; about one per CPU core (also HEALTHEQUITY_WORKERS).",
)
@clear_errors()
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app (the database must be migrated)."""
    open_database()
    _serve(host, port, workers)


@click.command()
@click.option(
    "--serve/--no-serve",
    "then_serve",
    default=True,
    help="Serve after loading (default), or only load and exit.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@clear_errors()
def demo(then_serve: bool, host: str, port: int) -> None:
    """Migrate the database, load or refresh the demo data, print the demo sign-ins, serve."""
    database = open_database(require_current_schema=False)
    upgrade(database.engine)
    authorities = geography.areas(geography.AreaLevel.LTLA)
    lsoa_count = sum(len(area.lsoa21_codes) for area in authorities)
    click.echo(
        f"reference geography: {lsoa_count:,} LSOAs in {len(authorities)} local authorities "
        "(shipped with the package)"
    )
    context = command_line_context("demonstration data")
    with database.session() as session:
        lines = [line for load in DEMO_LOADERS for line in load(session, context)]
    database.dispose()
    for line in lines:
        click.echo(line)
    if then_serve:
        click.echo(f"serving on http://{host}:{port}")
        _serve(host, port)
