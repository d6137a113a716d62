"""Dates and times as people in England read them, in the GOV.UK style: "5 June 2026",
"23 November 2026 at 14:05" (no leading zero, the month in words, England's clock)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def long_date(day: date) -> str:
    """5 June 2026."""
    return f"{day.day} {day:%B %Y}"


def long_moment(moment: datetime) -> str:
    """A moment on England's clock: 23 November 2026 at 14:05."""
    local = moment.astimezone(LONDON)
    return f"{long_date(local)} at {local:%H:%M}"
