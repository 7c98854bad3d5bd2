"""Dates in England. Timestamps are stored in UTC; every date a person sees or a timescale counts is the date in
England (`Europe/London`, with British Summer Time), whatever the machine's own time zone is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in England."""
    return datetime.now(ENGLAND).date()


def date_in_england(stamp: str) -> date:
    """The date in England of a stored timestamp (ISO 8601; one without an offset is taken as UTC)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ENGLAND).date()
