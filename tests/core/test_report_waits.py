"""How long a handover has waited, in the report's bands: the cut-offs handed to SQL agree with counting working
days from the wait's date in England, for any stored moment and any report day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.clock import date_in_england
from service.core.report import (
    WAIT_BAND_LABELS,
    WAIT_BANDS,
    latest_start_for,
    wait_band,
    wait_band_cutoffs,
)
from service.core.workdays import working_days_between

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
moments = st.datetimes(min_value=datetime(2023, 10, 1), max_value=datetime(2027, 12, 31, 23, 59, 59))


def stored(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@given(start=days, today=days, wanted=st.integers(min_value=1, max_value=60))
def test_the_latest_start_is_the_last_day_that_has_lasted_long_enough(start: date, today: date, wanted: int) -> None:
    latest = latest_start_for(today, wanted)
    assert (working_days_between(start, today) >= wanted) == (start <= latest)


@pytest.mark.parametrize(
    ("today", "wanted", "latest"),
    [
        (date(2024, 5, 28), 1, date(2024, 5, 27)),  # the spring bank holiday counts as a start, not as a day waited
        (date(2024, 5, 28), 2, date(2024, 5, 23)),
        (date(2026, 12, 29), 2, date(2026, 12, 23)),  # over Christmas and Boxing Day's substitute (28 December)
        (date(2026, 12, 29), 5, date(2026, 12, 20)),
        (date(2026, 12, 27), 1, date(2026, 12, 23)),  # a Sunday: the last working day was Thursday 24 December
    ],
)
def test_the_latest_start_written_out(today: date, wanted: int, latest: date) -> None:
    assert latest_start_for(today, wanted) == latest


@given(moment=moments, today=days)
def test_a_stored_moment_falls_between_the_cut_offs_of_exactly_the_band_its_wait_is_in(
    moment: datetime, today: date
) -> None:
    text = stored(moment)
    waited = working_days_between(date_in_england(text), today)
    inside = [
        band
        for band, (since, before) in wait_band_cutoffs(today).items()
        if (since is None or text >= since) and (before is None or text < before)
    ]
    assert inside == [wait_band(waited)]


def test_the_cut_offs_are_the_first_moments_of_days_in_england() -> None:
    """On Tuesday 28 May 2024 (British Summer Time, the day after the spring bank holiday) a wait begun on Tuesday 21
    May is 4 working days old (22, 23, 24 and 28 May): under 5 is from midnight starting 21 May in England, 23:00 UTC
    on the 20th. 10 working days are reached by a start on Monday 13 May, and 20 by one on Sunday 28 April (the early
    May bank holiday on the 6th not counted)."""
    cutoffs = wait_band_cutoffs(date(2024, 5, 28))
    assert cutoffs == {
        "under-5": ("2024-05-20T23:00:00", None),
        "5-to-9": ("2024-05-13T23:00:00", "2024-05-20T23:00:00"),
        "10-to-19": ("2024-04-28T23:00:00", "2024-05-13T23:00:00"),
        "20-or-more": (None, "2024-04-28T23:00:00"),
    }


def test_every_band_has_a_label_and_the_bands_cover_every_wait_once() -> None:
    assert set(WAIT_BAND_LABELS) == set(WAIT_BANDS)
    assert [wait_band(n) for n in (0, 4, 5, 9, 10, 19, 20, 500)] == [
        "under-5", "under-5", "5-to-9", "5-to-9", "10-to-19", "10-to-19", "20-or-more", "20-or-more"
    ]  # fmt: skip
