"""The store's lists a row at a time: what each row says, in what order the rows come, where a list stops (a page
of a worker's finished handovers, a page of the managers' queue), and the handovers a manager was named for."""

from __future__ import annotations

import pytest

from service import db
from tests.actions.test_handover_queries_lists import put

pytestmark = pytest.mark.anyio


def at(day: int, hour: int = 9) -> str:
    """A stored timestamp in May 2024."""
    return f"2024-05-{day:02d}T{hour:02d}:00:00+00:00"


# ---------------------------------------------------------------- the outgoing worker's own handovers


async def test_the_authors_list_in_progress_has_the_returned_one_first_then_the_most_recently_active(
    database, world
) -> None:
    draft = await put(database, world, "c1", "draft", since=at(3))
    returned = await put(database, world, "c2", "returned", since=at(1))
    endorsed = await put(database, world, "c3", "endorsed", since=at(2))
    await put(database, world, "c4", "closed", since=at(10))
    await put(database, world, "c4", "cancelled", since=at(11))
    await put(database, world, "c5", "draft", author="out2", since=at(25))
    # the one returned with a query first, however long ago; the finished ones and another worker's are not in it
    assert await db.handovers_by_author(database.reader, world.users["out"]) == (
        [await started(database, returned), await started(database, draft), await started(database, endorsed)],
        3,
    )
    assert [
        h.id for h in (await db.handovers_by_author(database.reader, world.users["out"], limit=2, offset=2))[0]
    ] == [endorsed]


async def test_the_authors_finished_list_is_every_closed_and_cancelled_one_a_page_at_a_time(database, world) -> None:
    finished = [
        await put(database, world, "c4", "closed" if day % 2 else "cancelled", since=at(day)) for day in range(10, 21)
    ]
    await put(database, world, "c1", "draft", since=at(25))
    await put(database, world, "c6", "closed", author="out2", since=at(26))
    newest_first = finished[::-1]
    pages = [
        await db.handovers_by_author(database.reader, world.users["out"], finished=True, limit=4, offset=offset)
        for offset in (0, 4, 8, 12)
    ]
    assert [([h.id for h in rows], total) for rows, total in pages] == [
        (newest_first[:4], 11), (newest_first[4:8], 11), (newest_first[8:], 11), ([], 11),
    ]  # fmt: skip
    assert await db.handovers_by_author(database.reader, world.users["out2"], finished=True, offset=1) == ([], 1)
    assert await db.handovers_by_author(database.reader, world.users["rec"], finished=True) == ([], 0)


async def started(database: db.Database, handover_id: int) -> db.Started:
    """The row the author's lists give for this handover, as its full record says it."""
    h = await db.handover_by_id(database.reader, handover_id)
    assert h is not None
    return db.Started(
        id=h.id, child_name=h.child_name, state=h.state, receiving_team=h.receiving_team, receiver=h.receiver,
        started_at=h.started_at, state_since=h.state_since, last_activity_at=h.last_activity_at,
        held_pending_transfer=h.held_pending_transfer, on_behalf_of_name=h.on_behalf_of_name, urgent_at=h.urgent_at,
    )  # fmt: skip


async def test_the_authors_list_gives_what_each_row_shows(database, world) -> None:
    h = await put(
        database, world, "mia", "submitted", started_at=at(17, 8), submitted_at=at(20, 10), since=at(20, 10),
        urgent_at=at(20, 9), on_behalf_of=world.users["out2"],
    )  # fmt: skip
    async with database.transaction() as conn:
        await conn.execute("UPDATE handovers SET last_activity_at = ? WHERE id = ?", (at(20, 11), h))
    to_team = await put(database, world, "liam", "draft", receiver=None, since=at(21))
    assert (await db.handovers_by_author(database.reader, world.users["out"]))[0] == [
        db.Started(
            id=to_team, child_name="Liam Test", state="draft", receiving_team="Cp Team", receiver=None,
            started_at=at(21), state_since=at(21), last_activity_at=at(21),
        ),
        db.Started(
            id=h, child_name="Mia Test", state="submitted", receiving_team="Cp Team", receiver="Rec",
            started_at=at(17, 8), state_since=at(20, 10), last_activity_at=at(20, 11), held_pending_transfer=0,
            on_behalf_of_name="Out2", urgent_at=at(20, 9),
        ),
    ]  # fmt: skip


# ---------------------------------------------------------------- what a receiving worker received


async def test_the_received_list_in_progress_is_what_was_acknowledged_or_sent_back_after_endorsement(
    database, world
) -> None:
    acknowledged = await put(database, world, "c1", "acknowledged", since=at(22))
    sent_back = await put(database, world, "c2", "returned", since=at(5), endorsed_at=at(4))
    await put(database, world, "c3", "returned", since=at(6))  # returned before it was endorsed: it never came
    await put(database, world, "c4", "closed", since=at(23))
    await put(database, world, "c5", "acknowledged", receiver="rec2", since=at(23))
    await put(database, world, "c6", "cancelled", since=at(24), endorsed_at=at(23))
    await put(database, world, "c7", "endorsed", since=at(25))  # in her inbox: it waits for her
    received, total = await db.handovers_received_by(database.reader, world.users["rec"])
    assert ([h.id for h in received], total) == ([acknowledged, sent_back], 2)


async def test_the_received_list_of_closed_ones_is_every_one_a_page_at_a_time_most_recent_first(
    database, world
) -> None:
    closed = [await put(database, world, "c3", "closed", since=at(day)) for day in range(6, 17)]
    await put(database, world, "c1", "acknowledged", since=at(22))
    await put(database, world, "c4", "closed", receiver="rec2", since=at(23))
    await put(database, world, "c4", "cancelled", since=at(24), endorsed_at=at(23))
    newest_first = closed[::-1]
    pages = [
        await db.handovers_received_by(database.reader, world.users["rec"], finished=True, limit=5, offset=offset)
        for offset in (0, 5, 10, 15)
    ]
    assert [([h.id for h in rows], total) for rows, total in pages] == [
        (newest_first[:5], 11), (newest_first[5:10], 11), (newest_first[10:], 11), ([], 11),
    ]  # fmt: skip
    assert await db.handovers_received_by(database.reader, world.users["rec2"], offset=1) == ([], 0)


async def test_a_received_row_names_its_parties_and_counts_disagreements_not_yet_resolved(database, world) -> None:
    h = await put(
        database, world, "c1", "acknowledged", since=at(21), last_activity_at=at(22),
        endorsed_by=world.users["smgr"], acknowledged_by=world.users["rec"],
    )  # fmt: skip
    async with database.transaction() as conn:
        for about in ("Contact plan", "Threshold", "Capacity to protect"):
            await db.raise_disagreement(
                conn, h, world.users["rec"], about, "Out", "A view", stage="informal", stage_since="2024-05-21"
            )
        [first, _, third] = await db.disagreements_of(conn, h)
        await db.decide_disagreement(conn, first.id, world.users["rmgr"], "resolved", "Agreed")
        # escalating is not resolving: it still counts, as on the handover's page and in the report
        await db.decide_disagreement(conn, third.id, world.users["rmgr"], "escalated", "Up", "manager", "2024-05-22")
        await conn.execute("UPDATE handovers SET last_activity_at = ? WHERE id = ?", (at(22), h))
    assert await db.handovers_received_by(database.reader, world.users["rec"]) == ([
        db.Received(
            id=h, child_name="Child 1", state="acknowledged", author_id=world.users["out"], author="Out",
            sending_team_id=world.teams["north"], sending_team="North Team", receiving_team_id=world.teams["cp"],
            receiving_team="Cp Team", receiver_id=world.users["rec"], receiver="Rec",
            endorsed_by=world.users["smgr"], acknowledged_by=world.users["rec"], open_disagreements=2,
            state_since=at(21), last_activity_at=at(22), started_at=at(21),
        )
    ], 1)  # fmt: skip


# ---------------------------------------------------------------- the receiving worker's inbox


async def test_the_inbox_lists_what_waits_longest_first_in_every_team_the_worker_is_in(database, world) -> None:
    to_rec = await put(database, world, "c1", "endorsed", since=at(14))
    to_cp = await put(database, world, "c2", "endorsed", receiver=None, since=at(10))
    to_south = await put(database, world, "c3", "endorsed", receiving="south", receiver=None, since=at(12))
    await put(database, world, "c4", "endorsed", receiver="rec2", since=at(9))
    await put(database, world, "c5", "acknowledged", receiver=None, since=at(8))
    cp, south = world.teams["cp"], world.teams["south"]
    rec = world.users["rec"]
    assert [h.id for h in await db.handovers_waiting_for_receiver(database.reader, rec, [cp, south])] == [
        to_cp,
        to_south,
        to_rec,
    ]
    assert [h.id for h in await db.handovers_waiting_for_receiver(database.reader, rec, [south])] == [to_south, to_rec]
    # someone named as the receiver who is no longer in any team still finds what was endorsed to them
    assert [h.id for h in await db.handovers_waiting_for_receiver(database.reader, rec, [])] == [to_rec]
    counts = await db.waiting_counts(database.reader, rec, [cp, south], [])
    assert counts == db.WaitingCounts(to_acknowledge=3)


async def test_an_inbox_row_says_who_sent_what_to_whom_since_when(database, world) -> None:
    h = await put(database, world, "mia", "endorsed", since=at(21, 15), endorsed_by=world.users["smgr"])
    assert await db.handovers_waiting_for_receiver(database.reader, world.users["rec"], [world.teams["cp"]]) == [
        db.Waiting(
            h, "Mia Test", "Out", "North Team", world.users["rec"], "Rec", "Cp Team", at(21, 15), world.users["out"],
            world.users["smgr"], None, "endorsed", world.teams["north"], world.teams["cp"], started_at=at(21, 15),
        )
    ]  # fmt: skip


# ---------------------------------------------------------------- the managers' queue


async def test_the_managers_queue_is_paged_longest_waiting_first_and_counts_every_one(database, world) -> None:
    north = world.teams["north"]
    ids = [
        await put(database, world, case, "submitted", since=since)
        for case, since in [("c1", at(13)), ("c2", at(11)), ("c3", at(12)), ("c4", at(11)), ("c5", at(14))]
    ]
    from_south = await put(database, world, "c6", "submitted", sending="south", author="other", since=at(1))
    await put(database, world, "c7", "endorsed", since=at(1))
    in_order = [ids[1], ids[3], ids[2], ids[0], ids[4]]  # 11 May twice (the first started first), 12, 13, 14
    queue = db.handovers_for_managers
    rows, total = await queue(database.reader, "submitted", "sending_team_id", [north])
    assert ([h.id for h in rows], total) == (in_order, 5)
    rows, total = await queue(database.reader, "submitted", "sending_team_id", [north], 2, 2)
    assert ([h.id for h in rows], total) == (in_order[2:4], 5)
    rows, total = await queue(database.reader, "submitted", "sending_team_id", [north], 2, 4)
    assert ([h.id for h in rows], total) == (in_order[4:], 5)
    rows, total = await queue(database.reader, "submitted", "sending_team_id", [north, world.teams["south"]], 1)
    assert ([h.id for h in rows], total) == ([from_south], 6)


async def test_the_managers_queue_reads_the_team_column_asked_for_and_nothing_for_no_team_or_another_column(
    database, world
) -> None:
    north, cp = world.teams["north"], world.teams["cp"]
    h = await put(database, world, "c1", "acknowledged", since=at(13))
    queue = db.handovers_for_managers
    rows, total = await queue(database.reader, "acknowledged", "receiving_team_id", [cp])
    assert ([r.id for r in rows], total) == ([h], 1)
    rows, total = await queue(database.reader, "acknowledged", "sending_team_id", [north])
    assert ([r.id for r in rows], total) == ([h], 1)
    assert await queue(database.reader, "acknowledged", "receiving_team_id", [north]) == ([], 0)
    assert await queue(database.reader, "acknowledged", "receiving_team_id", []) == ([], 0)
    assert await queue(database.reader, "acknowledged", "author_id", [world.users["out"]]) == ([], 0)
    assert await queue(database.reader, "acknowledged", "state_since", [cp]) == ([], 0)


async def test_a_queue_row_says_who_sent_it_and_who_acknowledged_it(database, world) -> None:
    h = await put(
        database, world, "c2", "acknowledged", since=at(21, 11),
        endorsed_by=world.users["smgr"], acknowledged_by=world.users["rec"],
    )  # fmt: skip
    rows, total = await db.handovers_for_managers(
        database.reader, "acknowledged", "receiving_team_id", [world.teams["cp"]]
    )
    assert total == 1
    assert rows == [
        db.Waiting(
            h, "Child 2", "Out", "North Team", world.users["rec"], "Rec", "Cp Team", at(21, 11), world.users["out"],
            world.users["smgr"], world.users["rec"], "acknowledged", world.teams["north"], world.teams["cp"],
            started_at=at(21, 11),
        )
    ]  # fmt: skip


# ---------------------------------------------------------------- managers named for a step


async def test_a_named_manager_finds_only_the_handovers_at_the_step_they_were_named_for(database, world) -> None:
    omgr = world.users["omgr"]
    to_endorse = await put(database, world, "c1", "submitted", since=at(15))
    endorsed_already = await put(database, world, "c2", "endorsed", since=at(10))
    to_approve = await put(database, world, "c3", "acknowledged", since=at(12))
    not_yet_acknowledged = await put(database, world, "c4", "submitted", since=at(11))
    to_approve_too = await put(database, world, "c5", "acknowledged", since=at(12))
    someone_elses = await put(database, world, "c6", "submitted", since=at(9))
    async with database.transaction() as conn:
        for handover_id, step, who in [
            (to_endorse, "endorse", omgr),
            (endorsed_already, "endorse", omgr),
            (to_approve, "approve", omgr),
            (not_yet_acknowledged, "approve", omgr),
            (to_approve_too, "approve", omgr),
            (someone_elses, "endorse", world.users["rmgr"]),
        ]:
            await db.name_manager(conn, handover_id, step, who, world.users["adm"])
    assert [h.id for h in await db.named_for(database.reader, omgr)] == [to_approve, to_approve_too, to_endorse]
    assert [h.id for h in await db.named_for(database.reader, world.users["rmgr"])] == [someone_elses]
    assert await db.named_for(database.reader, world.users["smgr"]) == []


# ---------------------------------------------------------------- taking on a handover sent to a team


async def test_a_worker_takes_on_a_handover_sent_to_the_team_but_not_one_named_to_someone_else(database, world) -> None:
    to_team = await put(database, world, "c1", "endorsed", receiver=None)
    to_rec2 = await put(database, world, "c2", "endorsed", receiver="rec2")
    async with database.transaction() as conn:
        await db.take_on(conn, to_team, world.users["rec"])
        await db.take_on(conn, to_rec2, world.users["rec"])
    taken = await db.handover_by_id(database.reader, to_team)
    kept = await db.handover_by_id(database.reader, to_rec2)
    assert taken is not None and kept is not None
    assert (taken.receiver_id, taken.receiver, taken.version) == (world.users["rec"], "Rec", 1)
    assert (kept.receiver_id, kept.receiver, kept.version) == (world.users["rec2"], "Rec2", 1)
