"""The oversight page: how transfers are going, for the people `report.report_scope` allows, as figures and charts.

Pure: the database gives counts and records (every time stored in UTC, ISO 8601); this module turns them into the
page's figures. Working days are weekdays that are not bank holidays in England (`core.workdays`), counted between
dates in England (`core.clock`); months are calendar months in England. Each figure links to the report filtered to
the handovers behind it, so its words and its filters come from `core.report`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from functools import lru_cache

import msgspec

from service.core.clock import ENGLAND, date_in_england
from service.core.errors import Invalid
from service.core.numbers import whole_number
from service.core.report import FILTER_ONCE, TEAM_FILTER_MESSAGE, WAIT_BANDS, WAITING_FOR_STATES, wait_band_cutoffs
from service.core.workdays import working_days_between

MONTHS_SHOWN = 12  # closure times and returns: this month in England and the eleven before it
MONTH_MESSAGE = "Select a month from the last 12 months"
TEAM_MESSAGE = TEAM_FILTER_MESSAGE  # the report's own words for its `team` filter: the two pages agree

# Headings, captions and the words around each figure
TITLE = "Oversight"
IN_PROGRESS = "Transfers in progress by stage and how long they have waited"
IN_PROGRESS_MEANS = (
    "How long each handover has waited for the person it waits on now, in working days: since it was started (a"
    " draft), submitted, endorsed, acknowledged or returned."
)
OVERDUE_WAITS = "Overdue waits by whom they wait on"
OVERDUE_MEANS = "Handovers past their due date: the same rule as the report's ‘Overdue only’ filter."
CLOSURE_TIMES = "Working days from start to closure"
CLOSURE_MEANS = (
    "For handovers closed (approved, or completed after an urgent transfer) in each month in England: the median and"
    " the 90th percentile of the working days from the day the handover was started to the day it closed. Each is"
    " the nearest-rank value: of n closures sorted by working days, the median is the one at position ⌈n ÷ 2⌉ and the"
    " 90th percentile the one at position ⌈9n ÷ 10⌉. A team's figures count the handovers it sent or received."
)
DISAGREEMENTS = "Open professional disagreements by stage"
RETURNS = "Returns with a query per month"
RETURNS_MEANS = "Each time a manager returned a handover to its outgoing worker with a query, by the month in England."
URGENT = "Urgent transfers still completing"
ALL_TEAMS = "All teams you can see"
MEDIAN = "Median"
P90 = "90th percentile"
NO_CLOSURES = "None closed"


def nearest_rank(values: Sequence[int], percent: int) -> int:
    """The `percent`-th percentile (1 to 100) of `values` by the nearest-rank method: sorted ascending, the value at
    position ⌈percent × n ÷ 100⌉ counting from 1 (so the median of 1, 2, 3, 4 is 2, and every answer is one of the
    values: a whole number of working days). `ValueError` for no values or a percent outside 1 to 100."""
    if not values:
        raise ValueError("a percentile of no values")
    if not 1 <= percent <= 100:
        raise ValueError(f"a percentile must be from 1 to 100, not {percent}")
    ordered = sorted(values)
    return ordered[math.ceil(percent * len(ordered) / 100) - 1]


def wait_cutoffs(today: date) -> dict[str, str]:
    """For each band of `report.WAIT_BANDS` but the first, the stored time (UTC) before which a wait began if it has
    lasted at least the band's fewest working days on `today` (England): the report's own bounds
    (`report.wait_band_cutoffs`), so the page's counts and the report's `waited` filter agree."""
    return {band: before for band, (_, before) in wait_band_cutoffs(today).items() if before is not None}


def months_shown(today: date) -> list[str]:
    """The months on the page, oldest first, as "YYYY-MM": this month in England and the eleven before it."""
    year, month = today.year, today.month
    months = []
    for _ in range(MONTHS_SHOWN):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_start(month: str) -> str:
    """The stored time (UTC) at which a month ("YYYY-MM") begins in England."""
    year, number = int(month[:4]), int(month[5:7])
    midnight = datetime.combine(date(year, number, 1), time(), tzinfo=ENGLAND)
    return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def month_after(month: str) -> str:
    """The month ("YYYY-MM") after this one."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def month_words(month: str) -> str:
    """A month as the page says it: "December 2026"."""
    return date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")


def month_short(month: str) -> str:
    """A month as a chart's axis says it: "Dec 26"."""
    return date(int(month[:4]), int(month[5:7]), 1).strftime("%b %y")


def _england_date_of_hour(hour: str) -> date:
    # England's offset from UTC is a whole number of hours, so a stored time's hour ("YYYY-MM-DDTHH") gives its date
    return date_in_england(hour + ":00")


_date_of_hour = lru_cache(maxsize=16_384)(_england_date_of_hour)


def england_date(stamp: str) -> date:
    """The date in England of a stored time (UTC, ISO 8601), as `clock.date_in_england`, looked up by its hour."""
    return _date_of_hour(stamp[:13])


def month_of(stamp: str) -> str:
    """The month in England ("YYYY-MM") of a stored time (UTC)."""
    return england_date(stamp).strftime("%Y-%m")


class OversightFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What the oversight page and its lists were asked for: one team (None: every team in scope) and, for the
    lists, one month ("YYYY-MM", or None)."""

    team_id: int | None = None
    month: str | None = None


def parse_oversight_filter(
    query: Mapping[str, str], scope: frozenset[int] | None, known_teams: Iterable[int], today: date
) -> OversightFilter:
    """The page's `team` (a team's id, within `scope`: None for every team) and `month` (one of `months_shown`).
    Empty or missing ones are left out. Raises `Invalid` keyed `team` (`TEAM_MESSAGE`) or `month` (`MONTH_MESSAGE`)."""
    errors: dict[str, str] = {}
    team_id: int | None = None
    month: str | None = None
    if query.get("team"):
        team_id = whole_number(query["team"])
        if team_id is None or team_id not in set(known_teams) or (scope is not None and team_id not in scope):
            errors["team"] = TEAM_MESSAGE
    if query.get("month"):
        month = query["month"]
        if month not in months_shown(today):
            errors["month"] = MONTH_MESSAGE
    if errors:
        raise Invalid(errors)
    return OversightFilter(team_id=team_id, month=month)


# The query string's names each page reads: the oversight page its `team`; the lists behind its figures a `team`, a
# `month` and a `page`
DASHBOARD_PARAMETERS = ("team",)
LIST_PARAMETERS = ("team", "month", "page")


def repeated_parameter_errors(names: Iterable[str], parameters: Iterable[str]) -> dict[str, str]:
    """For a query string's names in order, those of `parameters` given more than once, keyed by name, each with the
    report's message (`report.FILTER_ONCE`): the page's links and form send each once, and which of two values was
    meant cannot be known, so neither is used. Other names are not this page's and are left alone."""
    wanted = set(parameters)
    counted = Counter(name for name in names if name in wanted)
    return {name: FILTER_ONCE for name, count in counted.items() if count > 1}


# ---------------------------------------------------------------- records from the database


class ClosedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A handover closed within the months shown: its teams and its stored start and close times (UTC)."""

    id: int
    sending_team_id: int
    receiving_team_id: int
    started_at: str
    closed_at: str


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """What the database counted, within the page's scope and team.

    `by_state_band`: (state, band) -> open handovers; `overdue_by_state`: state -> open handovers past their due date;
    `disagreements_by_stage`: stage -> handovers with an unresolved disagreement there; `returns_by_hour`: the hour
    ("YYYY-MM-DDTHH", UTC) -> returns; `urgent`: urgent transfers not yet closed."""

    by_state_band: dict[tuple[str, str], int]
    overdue_by_state: dict[str, int]
    disagreements_by_stage: dict[str, int]
    returns_by_hour: dict[str, int]
    urgent: int
    closed: list[ClosedRecord]


# ---------------------------------------------------------------- the figures


class Closure(msgspec.Struct, frozen=True, kw_only=True):
    """Closures in one month (for one team, or all in scope): how many, and the nearest-rank median and 90th
    percentile of their working days from start to closure (None when none closed)."""

    month: str
    count: int
    median: int | None
    p90: int | None


class TeamClosures(msgspec.Struct, frozen=True, kw_only=True):
    team_id: int | None  # None: every handover in scope once
    team: str
    months: list[Closure]


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the oversight page shows, in the order it shows it."""

    states: list[str]  # open states, in the order of the workflow
    bands: list[str]
    by_state_band: dict[str, dict[str, int]]  # state -> band -> count (every pair, zeros included)
    state_totals: dict[str, int]
    band_totals: dict[str, int]
    in_progress: int
    overdue_by_role: dict[str, int]  # `report.WAITING_FOR_LABELS` id -> count
    closures: list[TeamClosures]  # all teams in scope first, then each team in scope
    disagreements_by_stage: dict[str, int]  # every stage of the ladders, in ladder order
    returns_by_month: dict[str, int]  # every month shown, oldest first
    urgent: int


def working_days_taken(started_at: str, closed_at: str) -> int:
    """Working days from the day a handover started to the day it closed (stored times, UTC), both days in England:
    0 if it closed the day it started, 1 the next working day."""
    return working_days_between(england_date(started_at), england_date(closed_at))


def _month_and_days(started_at: str, closed_at: str) -> tuple[str, int]:
    closed_on = england_date(closed_at)
    return f"{closed_on.year:04d}-{closed_on.month:02d}", working_days_between(england_date(started_at), closed_on)


def closures(records: Iterable[ClosedRecord], months: Sequence[str]) -> list[Closure]:
    """Each month's closures among `records`, for every month in `months`."""
    return _closures_of([_month_and_days(r.started_at, r.closed_at) for r in records], months)


def _closures_of(closed: Iterable[tuple[str, int]], months: Sequence[str]) -> list[Closure]:
    days: dict[str, list[int]] = {month: [] for month in months}
    for month, taken in closed:
        if month in days:
            days[month].append(taken)
    return [
        Closure(
            month=month,
            count=len(values),
            median=nearest_rank(values, 50) if values else None,
            p90=nearest_rank(values, 90) if values else None,
        )
        for month, values in days.items()
    ]


def figures(
    counts: Counts,
    *,
    open_states: Sequence[str],
    stages: Iterable[str],
    teams: Mapping[int, str],
    scope: frozenset[int] | None,
    team_id: int | None,
    today: date,
) -> Figures:
    """The page's figures from the database's counts. `teams`: every team's name by id; the closure times are given
    for all handovers in view and for each team in `scope` (every team when None), or only the one chosen."""
    bands = list(WAIT_BANDS)
    grid = {state: {band: counts.by_state_band.get((state, band), 0) for band in bands} for state in open_states}
    months = months_shown(today)
    shown_teams = [team_id] if team_id is not None else [t for t in teams if scope is None or t in scope]
    # each closure's month and working days worked out once (many share their hours), then shared out by team
    worked: dict[tuple[str, str], tuple[str, int]] = {}
    every: list[tuple[str, int]] = []
    by_team: dict[int, list[tuple[str, int]]] = {t: [] for t in shown_teams}
    for record in counts.closed:
        hours = (record.started_at[:13], record.closed_at[:13])
        found = worked.get(hours)
        if found is None:
            found = worked[hours] = _month_and_days(record.started_at, record.closed_at)
        every.append(found)
        for side in {record.sending_team_id, record.receiving_team_id}:
            if side in by_team:
                by_team[side].append(found)
    team_rows = [TeamClosures(team_id=None, team=ALL_TEAMS, months=_closures_of(every, months))]
    team_rows += [
        TeamClosures(team_id=t, team=teams[t], months=_closures_of(by_team[t], months))
        for t in sorted(shown_teams, key=lambda t: teams[t])
    ]
    returns = dict.fromkeys(months, 0)
    for hour, count in counts.returns_by_hour.items():
        day = _date_of_hour(hour)
        month = f"{day.year:04d}-{day.month:02d}"
        if month in returns:
            returns[month] += count
    return Figures(
        states=list(open_states),
        bands=bands,
        by_state_band=grid,
        state_totals={state: sum(row.values()) for state, row in grid.items()},
        band_totals={band: sum(grid[state][band] for state in open_states) for band in bands},
        in_progress=sum(sum(row.values()) for row in grid.values()),
        overdue_by_role={
            role: sum(counts.overdue_by_state.get(state, 0) for state in states)
            for role, states in WAITING_FOR_STATES.items()
        },
        closures=team_rows,
        disagreements_by_stage={stage: counts.disagreements_by_stage.get(stage, 0) for stage in stages},
        returns_by_month=returns,
        urgent=counts.urgent,
    )


# ---------------------------------------------------------------- charts


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    """One bar of a chart: its label, its value, and its length as a share of the chart's scale (0 to 1)."""

    label: str
    value: int
    share: float
    series: int = 0  # which series it belongs to (0 drawn solid, 1 drawn as an outline)


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    """A bar chart as the chart macro draws it: a title and a summary in words (the SVG's `title` and `desc`), the
    series' names, groups of bars (one group per label on the axis), and the scale's top value and ticks."""

    id: str
    title: str
    summary: str
    series: list[str]
    groups: list[tuple[str, list[Bar]]]
    top: int
    ticks: list[int]
    label_lines: list[list[str]] = []  # each group's label as the axis writes it, wrapped to fit under its bars


def wrapped(label: str, characters: int) -> list[str]:
    """A label in lines of about `characters` (whole words; a longer word has a line of its own)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= characters:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def scale_top(largest: int) -> int:
    """The top of a chart's scale: the smallest of 1, 2 or 5 times a power of ten that is at least `largest` (at
    least 1, so an empty chart still has a scale)."""
    if largest <= 1:
        return 1
    power = int(10 ** (len(str(largest)) - 1))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= largest)


def chart(
    chart_id: str, title: str, summary: str, series: Sequence[str], groups: Sequence[tuple[str, Sequence[int | None]]]
) -> Chart:
    """A bar chart of `groups` (a label and one value per series; None draws no bar) on a scale from 0 to
    `scale_top` of the largest value, with ticks at every fifth of it when they are whole numbers."""
    values = [value for _, row in groups for value in row if value is not None]
    top = scale_top(max(values, default=0))
    ticks = [top * n // 5 for n in range(6)] if top % 5 == 0 else list(range(top + 1))
    return Chart(
        id=chart_id,
        title=title,
        summary=summary,
        series=list(series),
        groups=[
            (label, [Bar(label=label, value=v, share=v / top, series=s) for s, v in enumerate(row) if v is not None])
            for label, row in groups
        ],
        top=top,
        ticks=ticks,
        # the macro's plot is 584 units wide; a character of its labels takes about 9 (with room between groups)
        label_lines=[wrapped(label, max(3, 584 // max(1, len(groups)) // 9)) for label, _ in groups],
    )
