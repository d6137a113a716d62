"""`healthequity`: one command for the server, the database, users, tokens, audit and data."""

from __future__ import annotations

import click

from healthequity import __version__
from healthequity.cli.audit import audit
from healthequity.cli.common import EXIT_BAD_INPUT
from healthequity.cli.database import db
from healthequity.cli.directory import directory
from healthequity.cli.geography import geography
from healthequity.cli.referrals import referrals
from healthequity.cli.server import demo, serve
from healthequity.cli.stats import stats
from healthequity.cli.users import tokens, users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="healthequity")
def cli() -> None:
    """healthequity: social history, referral to local services, and inequality statistics.

    The database is HEALTHEQUITY_DATABASE_URL (default sqlite:///./healthequity.db).
    """


for group in (db, users, tokens, audit, geography, stats, directory, referrals, serve, demo):
    cli.add_command(group)


def main() -> None:
    cli(prog_name="healthequity")


__all__ = ["EXIT_BAD_INPUT", "cli", "main"]
