"""`healthequity geography`: load the postcode directory, look up areas."""

from __future__ import annotations

import click


@click.group()
def geography() -> None:
    """England's reference geography and the postcode directory."""
