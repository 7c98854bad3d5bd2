"""Working days: the fast count agrees with counting day by day, across weekends and bank holidays."""

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


@given(start=st.dates(date(2010, 1, 1), date(2035, 12, 31)), span=st.integers(-10, 900))
def test_fast_count_matches_counting_each_day(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    slow = sum(is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert working_days_between(start, end) == slow


def test_bank_holidays_in_england_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 12, 28)), "Boxing Day substitute"
    assert not is_working_day(date(2024, 5, 27)), "spring bank holiday"
    assert is_working_day(date(2024, 8, 5)), "Scotland's August holiday is not England's"
