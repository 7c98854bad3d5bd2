"""Every date and time a page shows is England's (Europe/London, British Summer Time in summer), from timestamps
stored in UTC, whatever the machine's own time zone: an entry made at 23:30 UTC on a summer evening was made on the
next day in England, and a page that said otherwise would put a child's visit or a manager's decision on the wrong
day."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.app import _format_date, _format_time, _short_date
from service.core.clock import ENGLAND, date_in_england

STAMPS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=UTC).isoformat()
)


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def machine_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine's own time zone, which must make no difference."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@given(stamp=STAMPS)
def test_a_timestamp_is_shown_as_its_date_and_time_in_england(stamp: str) -> None:
    england = datetime.fromisoformat(stamp).astimezone(ENGLAND)
    day = date_in_england(stamp)
    assert _format_date(stamp) == f"{day.day} {day:%B %Y}"
    assert _format_time(stamp) == f"{england.day} {england:%B %Y} at {england:%H:%M}"
    assert _short_date(stamp) == f'<time datetime="{stamp}">{day.day} {day:%b %Y}</time>'


@pytest.mark.parametrize(
    ("stamp", "date_shown", "time_shown"),
    [
        ("2024-05-27T23:30:00+00:00", "28 May 2024", "28 May 2024 at 00:30"),  # British Summer Time
        ("2024-05-27T22:59:59+00:00", "27 May 2024", "27 May 2024 at 23:59"),
        ("2024-01-27T23:30:00+00:00", "27 January 2024", "27 January 2024 at 23:30"),  # Greenwich Mean Time
        ("2024-03-31T00:59:00", "31 March 2024", "31 March 2024 at 00:59"),  # stored without an offset: UTC
        ("2024-03-31T01:00:00", "31 March 2024", "31 March 2024 at 02:00"),  # clocks go forward
        ("2024-10-27T00:30:00+00:00", "27 October 2024", "27 October 2024 at 01:30"),  # the hour that repeats
        ("2024-10-27T01:30:00+00:00", "27 October 2024", "27 October 2024 at 01:30"),
    ],
)
def test_dates_and_times_either_side_of_midnight_and_the_clock_changes(
    machine_zone: str, stamp: str, date_shown: str, time_shown: str
) -> None:
    _format_date.cache_clear()
    _format_time.cache_clear()
    _short_date.cache_clear()
    assert _format_date(stamp) == date_shown
    assert _format_time(stamp) == time_shown
    day, month, year = date_shown.split(" ")
    assert _short_date(stamp) == f'<time datetime="{stamp}">{day} {month[:3]} {year}</time>'


def test_a_date_without_a_time_and_text_that_is_no_date_are_shown_as_they_are() -> None:
    assert _format_date("2024-05-27") == "27 May 2024"
    assert _format_date("") == _format_time(None) == ""
    assert _format_date("not a date") == "not a date"
    assert _format_time("soon") == "soon"
    assert str(_short_date("<b>")) == "&lt;b&gt;"
    assert _short_date(None) == ""
