"""Working days at their edges: each weekday into the weekend and out of it, bank holidays at either end of a range,
a bank holiday on a Saturday (its substitute is the holiday that counts), and ranges across the new year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.workdays import is_working_day, working_days_between


@pytest.fixture(autouse=True)
def count_working_days_afresh() -> None:
    """The count is cached across calls: clear it, so each test checks the counting and not an earlier answer."""
    working_days_between.cache_clear()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # the week of Monday 23 November 2026, with no bank holiday
        (date(2026, 11, 27), date(2026, 11, 27), 0),  # the same day
        (date(2026, 11, 27), date(2026, 11, 23), 0),  # backwards
        (date(2026, 11, 26), date(2026, 11, 27), 1),  # Thursday to Friday
        (date(2026, 11, 27), date(2026, 11, 28), 0),  # Friday to Saturday
        (date(2026, 11, 27), date(2026, 11, 29), 0),  # Friday to Sunday
        (date(2026, 11, 28), date(2026, 11, 29), 0),  # Saturday to Sunday
        (date(2026, 11, 27), date(2026, 11, 30), 1),  # Friday to Monday
        (date(2026, 11, 28), date(2026, 11, 30), 1),  # Saturday to Monday
        (date(2026, 11, 29), date(2026, 11, 30), 1),  # Sunday to Monday
        (date(2026, 11, 23), date(2026, 11, 27), 4),  # Monday to Friday
        (date(2026, 11, 23), date(2026, 11, 30), 5),  # Monday to Monday
        (date(2026, 11, 22), date(2026, 11, 28), 5),  # Sunday to Saturday
        (date(2026, 11, 16), date(2026, 11, 30), 10),  # two weeks
        (date(2026, 6, 1), date(2026, 6, 29), 20),  # four weeks in June: no bank holiday
    ],
)
def test_working_days_around_weekends(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Easter 2026: Good Friday 3 April and Easter Monday 6 April
        (date(2026, 4, 2), date(2026, 4, 3), 0),  # ends on a bank holiday
        (date(2026, 4, 2), date(2026, 4, 6), 0),  # across the whole Easter weekend
        (date(2026, 4, 2), date(2026, 4, 7), 1),
        (date(2026, 4, 2), date(2026, 4, 8), 2),  # two working days, across both bank holidays
        (date(2026, 4, 3), date(2026, 4, 6), 0),  # from one bank holiday to the next
        (date(2026, 4, 3), date(2026, 4, 7), 1),  # starts on a bank holiday
        (date(2026, 3, 30), date(2026, 4, 10), 7),  # the fortnight around Easter
        # Christmas 2021 fell on a Saturday: its substitute is Monday 27, Boxing Day's Tuesday 28
        (date(2021, 12, 24), date(2021, 12, 29), 1),
        (date(2021, 12, 24), date(2021, 12, 27), 0),
        # Christmas 2026: Friday 25, and Boxing Day (a Saturday) on Monday 28
        (date(2026, 12, 24), date(2026, 12, 29), 1),
        # across the new year: New Year's Day 2026 was a Thursday
        (date(2025, 12, 31), date(2026, 1, 1), 0),
        (date(2025, 12, 31), date(2026, 1, 2), 1),
        # New Year's Day 2022 was a Saturday: its substitute was Monday 3 January
        (date(2021, 12, 24), date(2022, 1, 4), 4),
        # three calendar years: 2026's 261 weekdays less its eight bank holidays, then New Year's Day 2027
        (date(2025, 12, 31), date(2027, 1, 1), 253),
    ],
)
def test_working_days_across_bank_holidays_in_england(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 27), True),  # a Friday
        (date(2026, 11, 28), False),  # a Saturday
        (date(2026, 11, 29), False),  # a Sunday
        (date(2026, 11, 30), True),  # a Monday, and St Andrew's Day: Scotland's, not England's
        (date(2026, 4, 6), False),  # Easter Monday: England's, not Scotland's
        (date(2026, 8, 31), False),  # the late summer bank holiday
        (date(2026, 8, 3), True),  # Scotland's summer bank holiday
        (date(2026, 1, 2), True),  # Scotland's second of January
        (date(2026, 12, 28), False),  # Boxing Day's substitute
    ],
)
def test_which_days_are_working_days_in_england(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@given(start=st.dates(date(2020, 1, 1), date(2030, 12, 31)), span=st.integers(0, 400))
def test_a_range_counts_what_its_two_halves_count(start: date, span: int) -> None:
    middle, end = start + timedelta(days=span // 2), start + timedelta(days=span)
    whole = working_days_between(start, end)
    assert whole == working_days_between(start, middle) + working_days_between(middle, end)
    assert whole == sum(is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
