"""Due dates of every wait: working days (weekdays that are not bank holidays in England) from the day, in England,
the handover began waiting; tested across bank holidays and the changes to and from British Summer Time."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
from hypothesis import given
from hypothesis import strategies as st

from service.core.clock import date_in_england
from service.core.deadlines import WAIT_LABELS, WAIT_OF_STATE, due
from service.core.workdays import add_working_days, is_working_day, working_days_between
from service.core.workflow import State
from service.time_limits import TimeLimits, Waits

LIMITS = TimeLimits(
    version=1,
    waits=Waits(endorsement=5, acknowledgement=10, approval=10, reply=5, transfer=28, urgent_completion=2),
    escalation={"informal": 5},
)
ENGLAND_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=range(2020, 2032))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
limits = st.integers(min_value=0, max_value=250)


def counted_by_hand(start: date, count: int) -> date:
    """The obvious way: step a day at a time, counting weekdays that are not bank holidays."""
    day, counted = start, 0
    while counted < count or day.weekday() >= 5 or day in ENGLAND_HOLIDAYS:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in ENGLAND_HOLIDAYS:
            counted += 1
    return day


@given(days, limits)
def test_adding_working_days_agrees_with_counting_them_one_by_one(start: date, count: int) -> None:
    end = add_working_days(start, count)
    assert end == counted_by_hand(start, count)
    assert is_working_day(end)
    assert working_days_between(start, end) == count or (count == 0 and end > start)


def test_bank_holidays_are_skipped() -> None:
    # Christmas 2026: Friday 25th, and Monday 28th for Boxing Day on a Saturday
    assert add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    # a wait that starts on a bank holiday counts from it: 1 working day on is the next working day after it
    assert add_working_days(date(2026, 12, 25), 1) == date(2026, 12, 29)


@given(st.sampled_from(sorted(WAIT_OF_STATE)), days, days, days)
def test_an_open_wait_is_due_on_the_earlier_of_its_step_and_the_whole_transfer(
    state: State, started: date, since: date, today: date
) -> None:
    since = max(since, started)
    found = due(state, since, started, LIMITS, today)
    assert found is not None
    step = add_working_days(since, getattr(LIMITS.waits, WAIT_OF_STATE[state]))
    transfer = add_working_days(started, LIMITS.waits.transfer)
    assert found.due_on == min(step, transfer)
    assert found.wait == (WAIT_OF_STATE[state] if step <= transfer else "transfer")
    assert found.label == WAIT_LABELS[found.wait]


@given(days, days)
def test_overdue_from_the_working_day_after_the_due_date_counted_in_working_days(started: date, today: date) -> None:
    found = due(State.DRAFT, started, started, LIMITS, today)
    assert found is not None and found.wait == "transfer"
    assert found.overdue == (today > found.due_on and working_days_between(found.due_on, today) > 0)
    assert found.overdue_by == (working_days_between(found.due_on, today) if today > found.due_on else 0)
    later = due(State.DRAFT, started, started, LIMITS, today + timedelta(days=1))
    assert later is not None and later.overdue_by >= found.overdue_by
    if found.overdue:
        assert found.words().startswith(f"Overdue by {found.overdue_by} working day")
    else:
        assert found.words() == f"Due {found.due_on.day} {found.due_on:%B %Y}"


@given(days)
def test_due_tomorrow_means_the_next_working_day(today: date) -> None:
    started = today - timedelta(days=60)
    found = due(State.SUBMITTED, today - timedelta(days=3), started, LIMITS, today)
    assert found is not None
    assert found.due_tomorrow == (found.due_on > today and working_days_between(today, found.due_on) == 1)


@given(days, days)
def test_closed_and_cancelled_handovers_wait_on_nobody(since: date, today: date) -> None:
    assert due(State.CLOSED, since, since, LIMITS, today) is None
    assert due(State.CANCELLED, since, since, LIMITS, today) is None


@given(st.sampled_from([State.DRAFT, *WAIT_OF_STATE]), days, days)
def test_an_urgent_transfer_is_due_within_its_short_limit_of_authorisation(
    state: State, authorised: date, today: date
) -> None:
    started = authorised - timedelta(days=3)
    found = due(state, authorised, started, LIMITS, today, urgent_since=authorised)
    assert found is not None
    assert found.due_on == add_working_days(authorised, LIMITS.waits.urgent_completion)
    assert found.wait == "urgent_completion"


def test_the_day_a_wait_starts_is_its_date_in_england_across_summer_time() -> None:
    # British Summer Time began at 01:00 UTC on Sunday 29 March 2026: 23:30 UTC that night is 00:30 on Monday
    # 30 March in England; five working days from it, skipping Good Friday and Easter Monday, end on 8 April.
    spring = date_in_england("2026-03-29T23:30:00+00:00")
    assert spring == date(2026, 3, 30)
    found = due(State.SUBMITTED, spring, spring, LIMITS, date(2026, 4, 8))
    assert found is not None and found.due_on == date(2026, 4, 8) and not found.overdue
    # and just before midnight in England, in winter time (GMT), it is still that day
    assert date_in_england("2026-03-28T23:30:00+00:00") == date(2026, 3, 28)
    # Summer time ended at 01:00 UTC on Sunday 25 October 2026: 23:30 UTC on the 25th is 23:30 in England, the same
    # day, a Sunday, so five working days from it end on Friday 30 October.
    autumn = date_in_england("2026-10-25T23:30:00+00:00")
    assert autumn == date(2026, 10, 25)
    found = due(State.SUBMITTED, autumn, autumn, LIMITS, date(2026, 11, 2))
    assert found is not None and found.due_on == date(2026, 10, 30) and found.overdue_by == 1
    # in summer, 23:30 UTC is already the next day in England
    assert date_in_england("2026-10-24T23:30:00+00:00") == date(2026, 10, 25)
