"""The report's filters by how long a handover has waited for its current person, whom it waits on, urgency, an open
disagreement's stage, and whose handovers a manager may see, as the store applies them: each against the pure rule
(`working_days_between` from the wait's date in England), at every band's boundary across the bank holidays of
Christmas 2026 (in GMT) and the spring bank holiday of 2024 (in British Summer Time, when midnight in England is
23:00 UTC)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from service import db, reporting
from service.core.clock import date_in_england
from service.core.pages import Page
from service.core.report import WAIT_BANDS, WAITING_FOR_STATES, ReportFilter, wait_band
from service.core.workdays import working_days_between
from tests.actions.test_handover_queries_lists import put
from tests.actions.test_report_queries_filters import with_disagreement
from tests.conftest import World
from tests.helpers import CHECKLISTS

pytestmark = pytest.mark.anyio

# Tuesday 29 December 2026: Friday 25 December and Monday 28 December (Boxing Day's substitute) are bank holidays
AFTER_CHRISTMAS = date(2026, 12, 29)
# Tuesday 28 May 2024, the day after the spring bank holiday, in British Summer Time
AFTER_SPRING_HOLIDAY = date(2024, 5, 28)


async def ids_for(database: db.Database, today: date, started_before: str | None = None, **wanted: Any) -> list[int]:
    """The report's rows for this filter on `today` (England), with the terms the service gives its SQL that day,
    after checking that the count agrees with the rows."""
    report_filter = ReportFilter(**wanted)
    terms = reporting.report_terms(CHECKLISTS, today)
    total = await db.count_incomplete(database.reader, report_filter, started_before, terms)
    rows = await db.incomplete_page(database.reader, report_filter, started_before, terms, Page(1, 1000, total))
    assert total == len(rows)
    return sorted(row.id for row in rows)


def stored(moment: datetime) -> str:
    """A timestamp as the service stores it (UTC, with its offset)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def boundary_moments(first: date, last: date, midnight_utc_hour: int) -> list[str]:
    """For each day from `first` to `last`: the last second of the day before in England and its first second
    (midnight in England is `midnight_utc_hour`:00 UTC the day before in summer, 00:00 in winter), and noon."""
    moments = []
    day = first
    while day <= last:
        midnight = datetime(day.year, day.month, day.day) - timedelta(hours=24 - midnight_utc_hour) * (
            midnight_utc_hour != 0
        )
        moments += [stored(midnight - timedelta(seconds=1)), stored(midnight), stored(midnight + timedelta(hours=12))]
        day += timedelta(days=1)
    return moments


async def handovers_waiting_since(
    database: db.Database, world: World, moments: list[str], **columns: Any
) -> dict[int, str]:
    """A submitted handover of a case of its own for each moment, its wait (and start) beginning then."""
    found = {}
    for number, moment in enumerate(moments):
        async with database.transaction() as conn:
            case_id = await db.create_case(
                conn, f"W-{number}", f"Child W{number}", "2016-05-05", world.users["out"], world.teams["north"]
            )
        world.cases[f"w{number}"] = case_id
        handover_id = await put(database, world, f"w{number}", "submitted", since=moment, **columns)
        found[handover_id] = moment
    return found


@pytest.mark.parametrize(
    ("today", "first", "midnight_utc_hour"),
    [(AFTER_CHRISTMAS, date(2026, 11, 20), 0), (AFTER_SPRING_HOLIDAY, date(2024, 4, 19), 23)],
    ids=["christmas-gmt", "spring-bst"],
)
async def test_each_wait_band_keeps_exactly_the_handovers_whose_wait_the_rule_puts_in_it(
    database: db.Database, world: World, today: date, first: date, midnight_utc_hour: int
) -> None:
    waiting = await handovers_waiting_since(database, world, boundary_moments(first, today, midnight_utc_hour))
    lengths = {
        handover_id: working_days_between(date_in_england(since), today) for handover_id, since in waiting.items()
    }
    for band in WAIT_BANDS:
        expected = sorted(handover_id for handover_id, days in lengths.items() if wait_band(days) == band)
        assert expected, f"the sweep reaches into {band}"
        assert await ids_for(database, today, waited=band) == expected, band


async def test_the_wait_bands_meet_at_the_christmas_bank_holidays(database: db.Database, world: World) -> None:
    """On Tuesday 29 December 2026 a wait begun on Monday 28 or Friday 25 December (bank holidays) or Thursday 24 is
    one working day old, one begun on Wednesday 23 two; a wait begun on Monday 21 December is 4 working days old (22,
    23, 24 and 29 December), one begun the second before (Sunday 20 December) 5."""
    ids = await handovers_waiting_since(
        database, world,
        ["2026-12-28T23:59:59+00:00", "2026-12-24T00:00:00+00:00", "2026-12-23T23:59:59+00:00",
         "2026-12-21T00:00:00+00:00", "2026-12-20T23:59:59+00:00", "2026-12-29T00:00:00+00:00"],
    )  # fmt: skip
    monday, thursday, wednesday, four_days, five_days, today = ids
    assert await ids_for(database, AFTER_CHRISTMAS, waited="under-5") == [
        monday, thursday, wednesday, four_days, today
    ]  # fmt: skip
    assert await ids_for(database, AFTER_CHRISTMAS, waited="5-to-9") == [five_days]


async def test_a_minimum_age_keeps_exactly_the_rows_open_that_many_working_days(
    database: db.Database, world: World
) -> None:
    """The minimum age counts as the "Working days open" column does, from the start's date in England: a handover
    started at 23:30 UTC on Thursday 23 May 2024 started on Friday 24 May in England."""
    moments = boundary_moments(date(2024, 4, 29), AFTER_SPRING_HOLIDAY, 23)
    started = {h: since for h, since in (await handovers_waiting_since(database, world, moments)).items()}
    for days in (1, 2, 5, 10, 20):
        before = reporting.started_before(ReportFilter(min_working_days=days), AFTER_SPRING_HOLIDAY)
        expected = sorted(
            h
            for h, since in started.items()
            if working_days_between(date_in_england(since), AFTER_SPRING_HOLIDAY) >= days
        )
        assert await ids_for(database, AFTER_SPRING_HOLIDAY, before) == expected, days


async def test_whom_a_handover_waits_on_is_found_by_its_state(database: db.Database, world: World) -> None:
    ids = {state: await put(database, world, case, state)
           for state, case in [("draft", "c1"), ("returned", "c2"), ("submitted", "c3"), ("endorsed", "c4"),
                               ("acknowledged", "c5"), ("closed", "c6"), ("cancelled", "c7")]}  # fmt: skip
    found = {role: await ids_for(database, AFTER_SPRING_HOLIDAY, waiting_for=role) for role in WAITING_FOR_STATES}
    assert found == {
        "outgoing_worker": sorted([ids["draft"], ids["returned"]]),
        "sending_manager": [ids["submitted"]],
        "receiving_worker": [ids["endorsed"]],
        "receiving_manager": [ids["acknowledged"]],
    }


async def test_urgent_keeps_only_urgent_transfers_still_completing(database: db.Database, world: World) -> None:
    urgent = {"urgent_by": world.users["smgr"], "urgent_at": "2024-05-21T09:00:00+00:00"}
    still_completing = await put(database, world, "c1", "endorsed", **urgent)
    await put(database, world, "c2", "closed", **urgent)
    await put(database, world, "c3", "endorsed")
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, urgent=True) == [still_completing]
    assert len(await ids_for(database, AFTER_SPRING_HOLIDAY)) == 2


async def test_a_disagreement_stage_finds_handovers_with_an_unresolved_disagreement_at_it(
    database: db.Database, world: World
) -> None:
    at_manager = await put(database, world, "c1", "endorsed")
    await with_disagreement(database, world, at_manager, "manager", "2024-05-16", status="escalated")
    informal = await put(database, world, "c2", "endorsed")
    await with_disagreement(database, world, informal, "informal", "2024-05-16")
    resolved = await put(database, world, "c3", "endorsed")
    await with_disagreement(database, world, resolved, "manager", "2024-05-16", status="resolved")
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, disagreement_stage="manager") == [at_manager]
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, disagreement_stage="informal") == [informal]
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, disagreement_stage="head_of_service") == []


async def test_a_scope_keeps_handovers_sent_from_or_to_its_teams_and_nothing_between_others(
    database: db.Database, world: World
) -> None:
    north, cp, south = (world.teams[name] for name in ("north", "cp", "south"))
    north_to_cp = await put(database, world, "c1", "submitted")
    south_to_cp = await put(database, world, "c2", "submitted", sending="south", receiving="cp")
    north_to_south = await put(database, world, "c3", "submitted", sending="north", receiving="south")
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, scope=frozenset({south})) == [south_to_cp, north_to_south]
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, scope=frozenset({cp})) == [north_to_cp, south_to_cp]
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, scope=frozenset({north, south})) == [
        north_to_cp, south_to_cp, north_to_south
    ]  # fmt: skip
    # a team filter within the scope narrows it; the scope still holds
    assert await ids_for(database, AFTER_SPRING_HOLIDAY, scope=frozenset({south}), team_id=cp) == [south_to_cp]
    streamed = [
        row.id
        async for row in db.stream_incomplete(
            database,
            ReportFilter(scope=frozenset({south})),
            None,
            reporting.report_terms(CHECKLISTS, AFTER_SPRING_HOLIDAY),
        )
    ]
    assert sorted(streamed) == [south_to_cp, north_to_south]
