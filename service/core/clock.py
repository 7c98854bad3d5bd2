"""Dates in England. Timestamps are stored in UTC; every date a person sees or a timescale counts is the date in
England (`Europe/London`, with British Summer Time), whatever the machine's own time zone is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in England."""
    return datetime.now(ENGLAND).date()


def _read_date_in_england(stamp: str) -> date:
    """The date in England of a stored timestamp (ISO 8601; one without an offset is taken as UTC)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ENGLAND).date()


# a row of a list or an export asks for the same timestamps' dates several times (its age, its wait, its due date);
# the rule itself stays undecorated, as workdays' are (the wrapper keeps its docstring)
date_in_england = lru_cache(maxsize=1024)(_read_date_in_england)
