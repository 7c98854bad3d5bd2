"""Every core test starts with the working-day caches empty: a count cached by an earlier test would hide a fault in
the counting (mutation testing runs each mutant in a process where the unmutated code already filled the caches)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.core import workdays


@pytest.fixture(autouse=True)
def _empty_working_day_caches() -> Iterator[None]:
    for cached in (workdays.working_days_between, workdays._bank_holidays, workdays._weekday_holiday_ordinals):
        cached.cache_clear()
    yield
