"""The lists people work from, read straight from the store: who finds which handover in their own list, inbox,
received list or manager's queue in each state, how many wait for them, and in what order. Handovers are written
as rows in known states with every date written out, so each list can be compared with literal values."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from tests.conftest import PEOPLE, World

pytestmark = pytest.mark.anyio

MAY_20 = "2024-05-20T09:00:00+00:00"


async def put(
    database: db.Database,
    world: World,
    case: str,
    state: str,
    *,
    author: str = "out",
    sending: str = "north",
    receiving: str = "cp",
    receiver: str | None = "rec",
    since: str = MAY_20,
    **columns: Any,
) -> int:
    """A handover row of `case` in `state` since `since` (its last activity then too), from `author` in the
    `sending` team to `receiver` (None: to the `receiving` team, no worker named); `columns` set any other column."""
    async with database.transaction() as conn:
        handover_id = await db.create_handover(
            conn,
            case_id=world.cases[case],
            checklist_id=columns.pop("checklist_id", "case-transfer"),
            checklist_version=columns.pop("checklist_version", 1),
            author_id=world.users[author],
            sending_team_id=world.teams[sending],
            receiving_team_id=world.teams[receiving],
            receiver_id=world.users[receiver] if receiver else None,
            transfer_reason="Step-up to child protection",
        )
        values = {"state": state, "state_since": since, "last_activity_at": since, "started_at": since, **columns}
        assignments = ", ".join(f"{column} = ?" for column in values)
        await conn.execute(f"UPDATE handovers SET {assignments} WHERE id = ?", (*values.values(), handover_id))
    return handover_id


async def teams_of(database: db.Database, world: World, name: str) -> tuple[list[int], list[int]]:
    """The teams this person works in and the teams they manage, sorted as the pages pass them."""
    memberships = await db.memberships(database.reader, world.users[name])
    user = await db.user_by_id(database.reader, world.users[name])
    assert user is not None
    person = actions.actor_for(user, memberships)
    return sorted(person.worker_teams), sorted(person.manager_teams)


async def lists_of(database: db.Database, world: World, name: str) -> dict[str, list[int]]:
    """Every list this person's pages show, by name, each the handover ids in order (empty lists left out), and
    the counts of what waits for them (zeros left out)."""
    user_id = world.users[name]
    workers, managers = await teams_of(database, world, name)
    conn = database.reader
    found = {
        "own": [h.id for h in (await db.handovers_by_author(conn, user_id))[0]],
        "own finished": [h.id for h in (await db.handovers_by_author(conn, user_id, finished=True))[0]],
        "inbox": [h.id for h in await db.handovers_waiting_for_receiver(conn, user_id, workers)],
        "received": [h.id for h in (await db.handovers_received_by(conn, user_id))[0]],
        "received finished": [h.id for h in (await db.handovers_received_by(conn, user_id, finished=True))[0]],
        "to endorse": [
            h.id for h in (await db.handovers_for_managers(conn, "submitted", "sending_team_id", managers))[0]
        ],
        "to approve": [
            h.id for h in (await db.handovers_for_managers(conn, "acknowledged", "receiving_team_id", managers))[0]
        ],
        "named": [h.id for h in await db.named_for(conn, user_id)],
    }
    counts = await db.waiting_counts(conn, user_id, workers, managers)
    counted = {f"{key} count": value for key, value in named_counts(counts) if value}
    return {key: value for key, value in found.items() if value} | counted


def named_counts(counts: db.WaitingCounts) -> list[tuple[str, int]]:
    return [
        ("drafts", counts.drafts),
        ("returned", counts.returned),
        ("to_acknowledge", counts.to_acknowledge),
        ("to_endorse", counts.to_endorse),
        ("to_approve", counts.to_approve),
    ]


async def everyone(database: db.Database, world: World) -> dict[str, dict[str, list[int]]]:
    """What each seeded person finds in their lists, leaving out the people who find nothing."""
    seen = {name: await lists_of(database, world, name) for name in PEOPLE}
    return {name: lists for name, lists in seen.items() if lists}


# ---------------------------------------------------------------- who finds a handover in each state


async def test_a_draft_is_only_in_its_authors_own_list_and_counted_as_their_draft(database, world) -> None:
    h = await put(database, world, "c1", "draft")
    assert await everyone(database, world) == {"out": {"own": [h], "drafts count": 1}}


async def test_a_submitted_handover_waits_in_the_queue_of_every_manager_of_the_sending_team_only(
    database, world
) -> None:
    h = await put(database, world, "c1", "submitted")
    assert await everyone(database, world) == {
        "out": {"own": [h]},
        "smgr": {"to endorse": [h], "to_endorse count": 1},
        "smgr2": {"to endorse": [h], "to_endorse count": 1},
        "both": {"to endorse": [h], "to_endorse count": 1},
    }


async def test_a_handover_returned_before_endorsement_never_reached_its_named_receiver(database, world) -> None:
    h = await put(database, world, "c1", "returned")
    assert await everyone(database, world) == {"out": {"own": [h], "returned count": 1}}


async def test_a_handover_returned_after_endorsement_stays_in_its_named_receivers_received_list_only(
    database, world
) -> None:
    h = await put(database, world, "c1", "returned", endorsed_at="2024-05-17T10:00:00+00:00")
    assert await everyone(database, world) == {"out": {"own": [h], "returned count": 1}, "rec": {"received": [h]}}


async def test_an_endorsed_handover_waits_in_the_named_receivers_inbox_and_no_other_workers(database, world) -> None:
    h = await put(database, world, "c1", "endorsed")
    assert await everyone(database, world) == {"out": {"own": [h]}, "rec": {"inbox": [h], "to_acknowledge count": 1}}


async def test_an_endorsed_handover_sent_to_a_team_waits_in_the_inbox_of_each_of_its_workers_not_its_managers(
    database, world
) -> None:
    h = await put(database, world, "c1", "endorsed", receiver=None)
    assert await everyone(database, world) == {
        "out": {"own": [h]},
        "rec": {"inbox": [h], "to_acknowledge count": 1},
        "rec2": {"inbox": [h], "to_acknowledge count": 1},
    }


async def test_an_acknowledged_handover_is_received_by_its_receiver_and_waits_for_the_receiving_managers(
    database, world
) -> None:
    h = await put(database, world, "c1", "acknowledged")
    assert await everyone(database, world) == {
        "out": {"own": [h]},
        "rec": {"received": [h]},
        "rmgr": {"to approve": [h], "to_approve count": 1},
        "rmgr2": {"to approve": [h], "to_approve count": 1},
        "both": {"to approve": [h], "to_approve count": 1},
    }


async def test_a_closed_handover_is_in_its_authors_and_its_receivers_finished_lists_and_waits_for_nobody(
    database, world
) -> None:
    h = await put(database, world, "c1", "closed")
    assert await everyone(database, world) == {"out": {"own finished": [h]}, "rec": {"received finished": [h]}}


async def test_a_cancelled_handover_is_only_in_its_authors_finished_list(database, world) -> None:
    """Even one cancelled after it was endorsed to a receiver: it never came to them."""
    h = await put(database, world, "c1", "cancelled", endorsed_at="2024-05-17T10:00:00+00:00")
    assert await everyone(database, world) == {"out": {"own finished": [h]}}


async def test_an_author_who_is_also_the_named_receiver_is_not_offered_it_to_take_on(database, world) -> None:
    """Rec hands a case over within the Cp Team and names herself: it is in her own list, and once acknowledged in
    her received list, but her inbox does not offer her a handover she wrote (nobody acts on both sides of one)."""
    endorsed = await put(database, world, "c1", "endorsed", author="rec", sending="cp", receiver="rec")
    acknowledged = await put(
        database, world, "c2", "acknowledged", author="rec", sending="cp", since="2024-05-21T09:00:00+00:00"
    )
    assert await lists_of(database, world, "rec") == {
        "own": [acknowledged, endorsed],
        "received": [acknowledged],
    }


async def test_a_handover_to_another_team_reaches_none_of_the_cp_teams_people(database, world) -> None:
    """From North to South, no worker named: Other (a South worker) and Omgr (its manager) are the ones it reaches."""
    endorsed = await put(database, world, "c1", "endorsed", receiving="south", receiver=None)
    acknowledged = await put(
        database, world, "c2", "acknowledged", receiving="south", receiver="other", since="2024-05-21T09:00:00+00:00"
    )
    assert await everyone(database, world) == {
        "out": {"own": [acknowledged, endorsed]},
        "other": {"inbox": [endorsed], "received": [acknowledged], "to_acknowledge count": 1},
        "omgr": {"to approve": [acknowledged], "to_approve count": 1},
    }
