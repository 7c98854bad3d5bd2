"""Working days: timescales in children's social care count weekdays that are not bank holidays in England."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from functools import lru_cache

import holidays

_EPOCH_MONDAY = date(1900, 1, 1)  # a Monday


# The counting functions are plain, and cached by name below: a decorated function is one mutation testing cannot
# change (scripts/mutation.sh), so the rules stay undecorated and the caches wrap them.
def _count_bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


_bank_holidays = lru_cache(maxsize=64)(_count_bank_holidays)


def _count_weekday_holiday_ordinals(year: int) -> tuple[int, ...]:
    """Bank holidays that fall on weekdays (the only ones that reduce a count of weekdays), sorted."""
    return tuple(sorted(day.toordinal() for day in _bank_holidays(year) if day.weekday() < 5))


_weekday_holiday_ordinals = lru_cache(maxsize=64)(_count_weekday_holiday_ordinals)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _weekdays_through(day: date) -> int:
    """Weekdays from a fixed Monday up to and including `day` (a running count, so ranges are a subtraction)."""
    days = (day - _EPOCH_MONDAY).days + 1
    full_weeks, rest = divmod(days, 7)
    return full_weeks * 5 + min(rest, 5)


def _count_working_days(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`: 0 on the same day, 1 the next working day (weekdays
    that are not bank holidays in England)."""
    if end <= start:
        return 0
    weekdays = _weekdays_through(end) - _weekdays_through(start)
    low, high = start.toordinal(), end.toordinal()
    holidays_in_range = 0
    for year in range(start.year, end.year + 1):
        ordinals = _weekday_holiday_ordinals(year)
        holidays_in_range += bisect_right(ordinals, high) - bisect_right(ordinals, low)
    return weekdays - holidays_in_range


# lists show the same few hundred handovers' ages on every view (the wrapper keeps the docstring above)
working_days_between = lru_cache(maxsize=8192)(_count_working_days)


def _count_forward(start: date, days: int) -> date:
    """The working day `days` working days after `start` (its own date when `days` is 0 and it is a working day)."""
    day = start
    counted = 0
    while counted < days or not is_working_day(day):
        day = date.fromordinal(day.toordinal() + 1)
        if is_working_day(day):
            counted += 1
    return day


# every list works out the due dates of the same few hundred waits (the wrapper keeps the docstring above)
add_working_days = lru_cache(maxsize=8192)(_count_forward)
