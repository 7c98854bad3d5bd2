"""Every list of open handovers shows when each is due and marks an overdue one: `deadlines.due` (the one rule)
applied to a listed row, and what the auditors' report needs to filter and sort by it in SQL.

A row's times are stored in UTC; the rule counts working days (weekdays that are not bank holidays in England) from
their dates in England (`clock.date_in_england`). The newest time limits apply to every handover
(`service.time_limits`), so any loaded checklist's `time_limits` will do.

Pure: no web, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from service.checklist import Checklist
from service.core.clock import ENGLAND, date_in_england
from service.core.deadlines import WAIT_LABELS, WAIT_OF_STATE, Due, due
from service.core.workdays import is_working_day

# The words of the lists, the report's filter and sort, and the exports' columns
DUE_HEADING = "Due"
OVERDUE_FILTER = "Overdue only"
MOST_OVERDUE = "Most overdue first"
DUE_FOR_HEADING = "Due for"
OVERDUE_BY_HEADING = "Working days overdue"


class Listed(Protocol):
    """What a listed handover must give for its due date: its state and its stored times (ISO 8601, UTC)."""

    @property
    def id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def state_since(self) -> str: ...
    @property
    def started_at(self) -> str: ...
    @property
    def urgent_at(self) -> str | None: ...


def limits_checklist(checklists: Iterable[Checklist]) -> Checklist:
    """A loaded checklist carrying the time limits (each loaded one carries the newest). `ValueError` when none does:
    the checklists were not loaded by `checklist.load_all`."""
    for checklist in checklists:
        if checklist.time_limits is not None:
            return checklist
    raise ValueError("the checklists carry no time limits: load them with checklist.load_all")


def due_on_stored(
    checklist: Checklist, state: str, state_since: str, started_at: str, urgent_at: str | None, today: date
) -> Due | None:
    """`deadlines.due` for a handover as stored: times in UTC (ISO 8601), counted from their dates in England; `today`
    in England. None for a closed or cancelled handover."""
    limits = checklist.time_limits
    if limits is None:
        raise ValueError(f"{checklist.id} version {checklist.version} carries no time limits")
    return due(
        state,
        date_in_england(state_since),
        date_in_england(started_at),
        limits,
        today,
        urgent_since=date_in_england(urgent_at) if urgent_at else None,
    )


def due_of(row: Listed, checklist: Checklist, today: date) -> Due | None:
    """When this listed handover is due, and how overdue it is on `today` (England); None once closed or cancelled."""
    return due_on_stored(checklist, row.state, row.state_since, row.started_at, row.urgent_at, today)


def dues(rows: Iterable[Listed], checklists: Iterable[Checklist], today: date) -> dict[int, Due | None]:
    """Each listed handover's due date by its id, as a list's template reads them."""
    checklist = limits_checklist(checklists)
    return {row.id: due_of(row, checklist, today) for row in rows}


def wait_label(wait: str) -> str:
    """What the due date is for ("Approval by the receiving team's manager"); "" for no wait, and a name the time
    limits do not know as it is."""
    return WAIT_LABELS.get(wait, wait)


def words(due_on: date, overdue_by: int) -> str:
    """The due date as every list says it (`Due.words`), from a report row's due date and working days overdue."""
    return Due(wait="transfer", due_on=due_on, overdue_by=overdue_by, due_tomorrow=False).words()


# ---------------------------------------------------------------- the report's "overdue only" in SQL


def latest_overdue_start(days: int, today: date) -> date:
    """The latest date (in England) a wait of `days` working days can have begun on and be overdue on `today`; a wait
    begun on it or earlier is overdue, one begun later is not (the due date only moves later with the start).

    A wait is overdue once a working day has passed since its due date (`deadlines.due`), so the latest overdue due
    date is the working day before the last working day on or before `today`. A wait begun `days` working days
    before that is due on it, and so is one begun on any non-working day straight after.
    """
    last = today
    while not is_working_day(last):
        last -= timedelta(days=1)
    start = last - timedelta(days=1)
    while not is_working_day(start):
        start -= timedelta(days=1)
    counted = 0
    while counted < days:
        start -= timedelta(days=1)
        counted += is_working_day(start)
    while not is_working_day(start + timedelta(days=1)):
        start += timedelta(days=1)
    return start


def first_moment_after(day: date) -> str:
    """The stored time (UTC, ISO 8601 without an offset, which sorts before any stored time of the same second) at
    which the day after `day` begins in England: a stored time before it falls on `day` or earlier in England."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=ENGLAND)
    return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def overdue_cutoffs(checklist: Checklist, today: date) -> dict[str, str]:
    """For each wait (a key of `deadlines.WAIT_LABELS`), the stored time (UTC) before which a wait that began is
    overdue on `today` (England): the report's SQL compares each handover's `state_since` (its step's wait),
    `started_at` (the whole transfer) and `urgent_at` (an urgent transfer's completion) with these."""
    limits = checklist.time_limits
    if limits is None:
        raise ValueError(f"{checklist.id} version {checklist.version} carries no time limits")
    waits = [*WAIT_OF_STATE.values(), "transfer", "urgent_completion"]
    return {wait: first_moment_after(latest_overdue_start(getattr(limits.waits, wait), today)) for wait in waits}
