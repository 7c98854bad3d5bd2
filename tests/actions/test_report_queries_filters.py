"""The auditors' report as the store gives it: which open handovers each filter, blocker, minimum age, order and
page returns, and every column of a row, against literal values. The checklist terms are written out too: version 1
has three sections and version 2 two; a disagreement is overdue at a stage when it reached it on or before that
stage's cut-off date."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from service import db
from service.core.answers import SectionAnswers
from service.core.pages import Page
from service.core.report import IncompleteRecord, ReportFilter, ReportTerms
from tests.actions.test_handover_queries_lists import put
from tests.conftest import World

pytestmark = pytest.mark.anyio

TERMS = ReportTerms(
    section_counts={("case-transfer", 1): 3, ("case-transfer", 2): 2},
    overdue_before={
        ("case-transfer", 1, "informal"): "2024-05-10",
        ("case-transfer", 1, "manager"): "2024-05-19",
        ("case-transfer", 2, "manager"): "2024-05-12",
    },
)


def at(day: int, hour: int = 9) -> str:
    """A stored timestamp in May 2024."""
    return f"2024-05-{day:02d}T{hour:02d}:00:00+00:00"


async def ids_for(database: db.Database, started_before: str | None = None, **wanted: Any) -> list[int]:
    """The ids of the report's rows for this filter, in order, after checking the count agrees with them."""
    report_filter = ReportFilter(**wanted)
    total = await db.count_incomplete(database.reader, report_filter, started_before, TERMS)
    rows = await db.incomplete_page(database.reader, report_filter, started_before, TERMS, Page(1, 100, total))
    assert total == len(rows)
    return [row.id for row in rows]


async def with_sections(database: db.Database, world: World, handover_id: int, **statuses: str) -> None:
    async with database.transaction() as conn:
        for section_id, status in statuses.items():
            await db.save_section(conn, handover_id, section_id, SectionAnswers(), status, 0, world.users["out"])


async def with_disagreement(
    database: db.Database, world: World, handover_id: int, stage: str, since: str, status: str = "open"
) -> None:
    async with database.transaction() as conn:
        await db.raise_disagreement(
            conn, handover_id, world.users["rec"], "Contact", "Out", "Too soon", stage=stage, stage_since=since
        )
        if status != "open":
            [*_, raised] = await db.disagreements_of(conn, handover_id)
            await db.decide_disagreement(conn, raised.id, world.users["rmgr"], status, "Decided", stage, since)


# ---------------------------------------------------------------- a row, column by column


async def test_a_row_gives_every_column_the_report_needs(database, world) -> None:
    h = await put(
        database, world, "mia", "endorsed", checklist_version=2, started_at=at(13, 8), submitted_at=at(14, 10),
        since=at(15, 11), last_activity_at=at(16, 12), endorsed_by=world.users["smgr"],
        record_flags='[{"record":"plan"}]',
    )  # fmt: skip
    async with database.transaction() as conn:
        for section_id, status, critical in [
            ("case-summary", "completed", False),
            ("open-risks", "completed", True),
            ("plan", "in_progress", True),
            ("health", "completed", True),
        ]:
            await db.save_section(
                conn, h, section_id, SectionAnswers(), status, 0, world.users["out"], critical=critical
            )
        await db.confirm_section(conn, h, "open-risks", world.users["rec"], "I take on the risks.")
    await with_disagreement(database, world, h, "informal", "2024-05-15")
    await with_disagreement(database, world, h, "manager", "2024-05-16", status="escalated")
    await with_disagreement(database, world, h, "informal", "2024-05-01", status="resolved")
    async with database.transaction() as conn:
        await conn.execute("UPDATE handovers SET last_activity_at = ? WHERE id = ?", (at(16, 12), h))
    [row] = await db.incomplete_page(database.reader, ReportFilter(), None, TERMS, Page(1, 10, 1))
    # each open disagreement's stage and since when, in no particular order
    assert sorted(row.open_disagreement_stages.split("\x1e")) == ["informal\x1f2024-05-15", "manager\x1f2024-05-16"]
    assert msgspec.structs.replace(row, open_disagreement_stages="") == IncompleteRecord(
        id=h, case_reference="T-1", sibling_group="Test family", checklist_id="case-transfer", checklist_version=2,
        state="endorsed", author_id=world.users["out"], author="Out", sending_team_id=world.teams["north"],
        sending_team="North Team", receiver_id=world.users["rec"], receiver="Rec", receiving_team_id=world.teams["cp"],
        receiving_team="Cp Team", started_at=at(13, 8), submitted_at=at(14, 10), state_since=at(15, 11),
        last_activity_at=at(16, 12), endorsed_by=world.users["smgr"], acknowledged_by=None,
        record_flags='[{"record":"plan"}]', open_disagreements=2,
        open_disagreement_stages="",
        completed_sections="case-summary,health,open-risks", unconfirmed_critical="health,plan",
    )  # fmt: skip


async def test_a_row_of_a_handover_to_a_team_with_nothing_saved_has_empty_columns(database, world) -> None:
    h = await put(database, world, "c1", "draft", receiver=None, since=at(2))
    [row] = await db.incomplete_page(database.reader, ReportFilter(), None, TERMS, Page(1, 10, 1))
    assert row == IncompleteRecord(
        id=h, case_reference="C-1", sibling_group=None, checklist_id="case-transfer", checklist_version=1,
        state="draft", author_id=world.users["out"], author="Out", sending_team_id=world.teams["north"],
        sending_team="North Team", receiver_id=None, receiver=None, receiving_team_id=world.teams["cp"],
        receiving_team="Cp Team", started_at=at(2), submitted_at=None, state_since=at(2), last_activity_at=at(2),
        endorsed_by=None, acknowledged_by=None, record_flags="[]", open_disagreements=0, open_disagreement_stages="",
        completed_sections="", unconfirmed_critical="",
    )  # fmt: skip


# ---------------------------------------------------------------- which handovers: states, teams, age


async def test_the_report_has_every_open_state_and_never_a_closed_or_cancelled_handover(database, world) -> None:
    closed = await put(database, world, "c1", "closed", since=at(1))
    cancelled = await put(database, world, "c2", "cancelled", since=at(2))
    open_ones = [
        await put(database, world, case, state, since=at(day))
        for case, state, day in [
            ("c1", "draft", 3), ("c2", "submitted", 4), ("c3", "returned", 5), ("c4", "endorsed", 6),
            ("c5", "acknowledged", 7),
        ]
    ]  # fmt: skip
    assert await ids_for(database) == open_ones
    assert closed not in open_ones and cancelled not in open_ones
    for state, handover_id in zip(
        ["draft", "submitted", "returned", "endorsed", "acknowledged"], open_ones, strict=True
    ):
        assert await ids_for(database, state=state) == [handover_id]


async def test_a_team_is_found_on_the_side_of_the_transfer_asked_for(database, world) -> None:
    north_to_cp = await put(database, world, "c1", "draft", since=at(1))
    cp_to_south = await put(database, world, "c2", "draft", sending="cp", receiving="south", since=at(2))
    south_to_north = await put(database, world, "c3", "draft", sending="south", receiving="north", since=at(3))
    north_to_south = await put(database, world, "c4", "draft", receiving="south", since=at(4))
    north, cp = world.teams["north"], world.teams["cp"]
    assert await ids_for(database, team_id=cp) == [north_to_cp, cp_to_south]
    assert await ids_for(database, team_id=cp, team_side="either") == [north_to_cp, cp_to_south]
    assert await ids_for(database, team_id=cp, team_side="sending") == [cp_to_south]
    assert await ids_for(database, team_id=cp, team_side="receiving") == [north_to_cp]
    assert await ids_for(database, team_id=north) == [north_to_cp, south_to_north, north_to_south]
    assert await ids_for(database, team_id=north, team_side="sending") == [north_to_cp, north_to_south]
    assert await ids_for(database, team_id=north, team_side="receiving") == [south_to_north]


async def test_a_minimum_age_keeps_only_handovers_started_before_the_day_given(database, world) -> None:
    """`started_before` is the first day too recent to count (reporting.started_before works it out)."""
    last_second = await put(database, world, "c1", "draft", started_at="2024-05-19T23:59:59+00:00")
    await put(database, world, "c2", "draft", started_at="2024-05-20T00:00:00+00:00")
    earlier = await put(database, world, "c3", "draft", started_at="2024-05-02T10:00:00+00:00")
    assert await ids_for(database, "2024-05-20") == [earlier, last_second]
    assert await ids_for(database, "2024-05-02") == []


async def test_every_filter_at_once_keeps_only_what_meets_each(database, world) -> None:
    wanted = await put(database, world, "c1", "draft", started_at=at(3))
    await put(database, world, "c2", "draft", started_at=at(22))  # too recent
    await put(database, world, "c3", "submitted", started_at=at(3))  # another state
    await put(database, world, "c4", "draft", sending="south", receiving="north", started_at=at(3))  # north receives
    complete = await put(database, world, "c5", "draft", started_at=at(3))
    await with_sections(database, world, complete, a="completed", b="completed", c="completed")
    found = await ids_for(
        database,
        "2024-05-20",
        team_id=world.teams["north"],
        team_side="sending",
        state="draft",
        blocker="missing_sections",
    )
    assert found == [wanted]


# ---------------------------------------------------------------- what each blocker finds


async def test_missing_sections_counts_completed_sections_against_the_handovers_own_checklist_version(
    database, world
) -> None:
    two_of_three = await put(database, world, "c1", "draft", since=at(1))
    await with_sections(database, world, two_of_three, a="completed", b="completed", c="in_progress")
    three_of_three = await put(database, world, "c2", "draft", since=at(2))
    await with_sections(database, world, three_of_three, a="completed", b="completed", c="completed")
    two_of_two = await put(database, world, "c3", "returned", checklist_version=2, since=at(3))
    await with_sections(database, world, two_of_two, a="completed", b="completed")
    one_of_two = await put(database, world, "c4", "returned", checklist_version=2, since=at(4))
    await with_sections(database, world, one_of_two, a="completed", b="has_errors")
    await put(database, world, "c5", "submitted", since=at(5))  # no sections, but no longer the outgoing worker's
    await put(database, world, "c6", "endorsed", since=at(6))
    await put(database, world, "c7", "draft", checklist_id="unknown", since=at(7))  # a checklist the terms lack
    assert await ids_for(database, blocker="missing_sections") == [two_of_three, one_of_two]


async def test_each_state_blocker_finds_the_handovers_waiting_at_that_step(database, world) -> None:
    states = ["draft", "submitted", "returned", "endorsed", "acknowledged"]
    h = {state: await put(database, world, f"c{n}", state, since=at(n)) for n, state in enumerate(states, start=1)}
    assert await ids_for(database, blocker="returned_with_query") == [h["returned"]]
    assert await ids_for(database, blocker="awaiting_endorsement") == [h["submitted"]]
    assert await ids_for(database, blocker="awaiting_acknowledgement") == [h["endorsed"]]
    assert await ids_for(database, blocker="awaiting_approval") == [h["acknowledged"]]
    assert await ids_for(database, blocker="stale_record") == []
    assert await ids_for(database, blocker="open_disagreement") == []
    assert await ids_for(database, blocker="overdue_disagreement") == []


async def test_a_stale_record_is_a_handover_with_any_record_flag(database, world) -> None:
    stale = await put(database, world, "c1", "submitted", record_flags='[{"record":"plan"}]', since=at(1))
    await put(database, world, "c2", "submitted", since=at(2))
    assert await ids_for(database, blocker="stale_record") == [stale]


async def test_an_open_disagreement_is_one_open_or_escalated_and_a_resolved_one_is_not(database, world) -> None:
    raised = await put(database, world, "c1", "endorsed", since=at(1))
    await with_disagreement(database, world, raised, "informal", "2024-05-02")
    escalated = await put(database, world, "c2", "endorsed", since=at(2))
    await with_disagreement(database, world, escalated, "manager", "2024-05-03", status="escalated")
    resolved = await put(database, world, "c3", "endorsed", since=at(3))
    await with_disagreement(database, world, resolved, "informal", "2024-05-01", status="resolved")
    assert await ids_for(database, blocker="open_disagreement") == [raised, escalated]


async def test_a_disagreement_is_overdue_from_its_stages_cut_off_date_for_its_checklist_version(
    database, world
) -> None:
    on_the_cut_off = await put(database, world, "c1", "endorsed", since=at(1))
    await with_disagreement(database, world, on_the_cut_off, "manager", "2024-05-19", status="escalated")
    day_after = await put(database, world, "c2", "endorsed", since=at(2))
    await with_disagreement(database, world, day_after, "manager", "2024-05-20", status="escalated")
    version_two_day_after = await put(database, world, "c3", "endorsed", checklist_version=2, since=at(3))
    await with_disagreement(database, world, version_two_day_after, "manager", "2024-05-13", status="escalated")
    version_two_on_it = await put(database, world, "c4", "endorsed", checklist_version=2, since=at(4))
    await with_disagreement(database, world, version_two_on_it, "manager", "2024-05-12", status="escalated")
    informal = await put(database, world, "c5", "endorsed", since=at(5))
    await with_disagreement(database, world, informal, "informal", "2024-05-10")
    resolved = await put(database, world, "c6", "endorsed", since=at(6))
    await with_disagreement(database, world, resolved, "manager", "2024-05-01", status="resolved")
    no_cut_off = await put(database, world, "c7", "endorsed", since=at(7))  # a stage the terms have no limit for
    await with_disagreement(database, world, no_cut_off, "head_of_service", "2024-01-01", status="escalated")
    assert await ids_for(database, blocker="overdue_disagreement") == [on_the_cut_off, version_two_on_it, informal]
    assert await ids_for(database, blocker="open_disagreement") == [
        on_the_cut_off, day_after, version_two_day_after, version_two_on_it, informal, no_cut_off,
    ]  # fmt: skip


# ---------------------------------------------------------------- order, pages, the export, the counts


async def orderly(database: db.Database, world: World) -> dict[str, int]:
    """Five handovers whose start, last activity and state each put them in a different order (b and d started at
    the same time; e started first though written last)."""
    return {
        "b": await put(database, world, "c1", "submitted", started_at=at(3), last_activity_at=at(20)),
        "a": await put(database, world, "c2", "draft", started_at=at(1), last_activity_at=at(19)),
        "d": await put(database, world, "c3", "endorsed", started_at=at(3), last_activity_at=at(22)),
        "c": await put(database, world, "c4", "acknowledged", started_at=at(2), last_activity_at=at(21)),
        "e": await put(database, world, "c7", "submitted", started_at=at(1, 8), last_activity_at=at(18)),
    }


async def test_each_order_sorts_by_its_own_column_and_then_by_handover(database, world) -> None:
    h = await orderly(database, world)
    assert await ids_for(database) == [h["e"], h["a"], h["c"], h["b"], h["d"]]
    assert await ids_for(database, sort="oldest") == [h["e"], h["a"], h["c"], h["b"], h["d"]]
    assert await ids_for(database, sort="newest") == [h["d"], h["b"], h["c"], h["a"], h["e"]]
    assert await ids_for(database, sort="last_activity") == [h["e"], h["a"], h["b"], h["c"], h["d"]]
    # by state name, and within a state the oldest first
    assert await ids_for(database, sort="state") == [h["c"], h["a"], h["d"], h["e"], h["b"]]


async def test_a_page_is_the_rows_after_the_pages_before_it(database, world) -> None:
    h = await orderly(database, world)
    report_filter = ReportFilter(sort="oldest")
    pages = [
        [row.id for row in await db.incomplete_page(database.reader, report_filter, None, TERMS, Page(number, 3, 5))]
        for number in (1, 2, 3)
    ]
    assert pages == [[h["e"], h["a"], h["c"]], [h["b"], h["d"]], []]


async def test_the_export_streams_every_row_in_order_a_batch_at_a_time(database, world) -> None:
    h = await orderly(database, world)
    await put(database, world, "c5", "closed", started_at=at(1))
    recent = await put(database, world, "c6", "endorsed", started_at=at(10))

    async def streamed(report_filter: ReportFilter, started_before: str | None = None, batch: int = 1000) -> list[int]:
        return [row.id async for row in db.stream_incomplete(database, report_filter, started_before, TERMS, batch)]

    assert await streamed(ReportFilter(sort="newest"), batch=3) == [recent, h["d"], h["b"], h["c"], h["a"], h["e"]]
    assert await streamed(ReportFilter(state="endorsed")) == [h["d"], recent]
    assert await streamed(ReportFilter(state="endorsed"), "2024-05-04") == [h["d"]]
    assert await streamed(ReportFilter(blocker="missing_sections")) == [h["a"]]
    [row] = [row async for row in db.stream_incomplete(database, ReportFilter(state="draft"), None, TERMS)]
    assert (row.id, row.case_reference, row.state, row.started_at) == (h["a"], "C-2", "draft", at(1))


async def test_the_counts_by_state_include_finished_ones_and_the_oldest_start_is_of_an_open_one(
    database, world
) -> None:
    assert await db.handover_counts(database.reader) == ({}, None)
    await put(database, world, "c1", "closed", started_at=at(1))
    await put(database, world, "c2", "cancelled", started_at=at(2))
    assert await db.handover_counts(database.reader) == ({"closed": 1, "cancelled": 1}, None)
    await put(database, world, "c1", "draft", started_at=at(5))
    await put(database, world, "c2", "draft", started_at=at(4))
    await put(database, world, "c3", "acknowledged", started_at=at(6))
    assert await db.handover_counts(database.reader) == (
        {"acknowledged": 1, "cancelled": 1, "closed": 1, "draft": 2},
        at(4),
    )
