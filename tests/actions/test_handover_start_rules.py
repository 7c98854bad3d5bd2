"""Starting a handover: only the worker the case is allocated to may start one, to a team that exists, with a
receiving worker (if one is named) who works in that team and is not the outgoing worker, and a reason. What is
stored, the audit entry, and the exact sentences a refused person reads; a refused start stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.core.errors import Invalid, NotFound
from tests.conftest import World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor

pytestmark = pytest.mark.anyio

V2 = CHECKLISTS[("case-transfer", 2)]


async def start(database: db.Database, world: World, who: str = "out", case: str = "mia", **given: Any) -> int:
    arguments: dict[str, Any] = {
        "case_id": world.cases[case],
        "receiving_team_id": world.teams["cp"],
        "receiver_id": world.users["rec"],
        "transfer_reason": "Step-up to child protection",
        "apart_reason": APART,  # Mia and Liam are a sibling group
    }
    return await actions.start_handover(
        database, await actor(database, world, who), given.pop("checklist", CHECKLIST), **(arguments | given)
    )


async def audit_log(database: db.Database) -> list[tuple[int | None, str, str, int | None, dict[str, Any]]]:
    entries = await db.audit_entries(database.reader)
    return [
        (e.entry.actor_id, e.entry.action, e.entry.object_type, e.entry.object_id, e.entry.details) for e in entries
    ]


async def refused_start(database: db.Database, world: World, **given: Any) -> dict[str, str]:
    """The messages of a start that is refused as invalid, having checked it stored nothing."""
    with pytest.raises(Invalid) as refused:
        await start(database, world, **given)
    assert await db.handover_by_id(database.reader, 1) is None
    assert await audit_log(database) == []
    return refused.value.errors


async def test_a_started_handover_stores_the_case_both_teams_the_receiver_and_the_trimmed_reason(
    database: db.Database, world: World
) -> None:
    handover_id = await start(database, world, transfer_reason="  Step-up to child protection \n")
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.case_id, handover.child_name, handover.case_reference) == (world.cases["mia"], "Mia Test", "T-1")
    assert (handover.checklist_id, handover.checklist_version, handover.state) == ("case-transfer", 1, "draft")
    assert (handover.author_id, handover.author) == (world.users["out"], "Out")
    assert (handover.sending_team_id, handover.sending_team) == (world.teams["north"], "North Team")
    assert (handover.receiving_team_id, handover.receiving_team) == (world.teams["cp"], "Cp Team")
    assert (handover.receiver_id, handover.receiver) == (world.users["rec"], "Rec")
    assert handover.transfer_reason == "Step-up to child protection"
    assert (handover.version, handover.submitted_at, handover.endorsed_by) == (1, None, None)


async def test_starting_is_audited_with_the_case_the_checklist_and_the_receiving_team(
    database: db.Database, world: World
) -> None:
    handover_id = await start(database, world, checklist=V2, receiver_id=None)
    assert await audit_log(database) == [
        (world.users["out"], "start", "handover", handover_id,
         {"case_id": world.cases["mia"], "checklist": "case-transfer v2", "to_team": world.teams["cp"],
          "apart_from_siblings": APART}),
    ]  # fmt: skip
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.checklist_version, handover.receiver_id, handover.receiver) == (2, None, None)


async def test_the_case_stays_with_the_outgoing_worker_once_a_handover_is_started(
    database: db.Database, world: World
) -> None:
    handover_id = await start(database, world)
    case = await db.case_by_id(database.reader, world.cases["mia"])
    assert case is not None
    assert (case.allocated_worker_id, case.allocated_team_id) == (world.users["out"], world.teams["north"])
    assert case.open_handover_id == handover_id


async def test_nobody_but_the_allocated_worker_may_start_a_handover_of_the_case(
    database: db.Database, world: World
) -> None:
    for who in ("out2", "smgr", "aud", "adm", "rec"):
        with pytest.raises(NotFound) as refused:
            await start(database, world, who=who)
        assert str(refused.value) == f"case {world.cases['mia']}"
    with pytest.raises(NotFound) as missing:
        await start(database, world, case_id=9999)
    assert str(missing.value) == "case 9999"
    assert await audit_log(database) == []


async def test_another_teams_worker_may_start_one_of_their_own_cases_from_their_own_team(
    database: db.Database, world: World
) -> None:
    handover_id = await start(database, world, who="other", case="zoe")
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.author_id, handover.sending_team_id) == (world.users["other"], world.teams["south"])


async def test_a_case_with_a_handover_in_progress_cannot_have_a_second(database: db.Database, world: World) -> None:
    first = await start(database, world)
    with pytest.raises(Invalid) as refused:
        await start(database, world)
    assert refused.value.errors == {"receiving_team": "This case already has a handover in progress"}
    assert [row[1] for row in await audit_log(database)] == ["start"]
    assert await db.handover_by_id(database.reader, first + 1) is None


async def test_the_receiving_team_must_be_chosen_and_exist(database: db.Database, world: World) -> None:
    missing = {"receiving_team": "Select the team the case is moving to"}
    assert await refused_start(database, world, receiving_team_id=None, receiver_id=None) == missing
    assert await refused_start(database, world, receiving_team_id=9999, receiver_id=None) == missing


async def test_without_a_team_the_named_receiver_is_not_judged(database: db.Database, world: World) -> None:
    # rec works in cp, not in the unknown team: only the team is asked for
    errors = await refused_start(database, world, receiving_team_id=None, receiver_id=world.users["rec"])
    assert errors == {"receiving_team": "Select the team the case is moving to"}


async def test_a_missing_team_replaces_the_in_progress_message_and_keeps_the_reason_message(
    database: db.Database, world: World
) -> None:
    await start(database, world)
    with pytest.raises(Invalid) as refused:
        await start(database, world, receiving_team_id=None, transfer_reason=" ")
    assert refused.value.errors == {
        "receiving_team": "Select the team the case is moving to",
        "transfer_reason": "Enter the reason for the transfer",
    }


async def test_the_outgoing_worker_cannot_name_themself_as_the_receiver(database: db.Database, world: World) -> None:
    # even for a move within their own team, where they are a worker of the receiving team
    errors = await refused_start(
        database, world, receiving_team_id=world.teams["north"], receiver_id=world.users["out"]
    )
    assert errors == {"receiver": "Select a different worker: the case is already allocated to you"}


async def test_the_named_receiver_must_be_a_worker_of_the_receiving_team(database: db.Database, world: World) -> None:
    message = {"receiver": "Select a worker in the receiving team, or leave it for the team to allocate"}
    for who in ("out2", "rmgr", "other", "aud"):  # another team's worker, the team's manager, a stranger
        assert await refused_start(database, world, receiver_id=world.users[who]) == message
    assert await refused_start(database, world, receiver_id=9999) == message


async def test_a_worker_of_the_sending_team_may_receive_a_move_within_the_team(
    database: db.Database, world: World
) -> None:
    handover_id = await start(database, world, receiving_team_id=world.teams["north"], receiver_id=world.users["out2"])
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.receiving_team_id, handover.receiver_id) == (world.teams["north"], world.users["out2"])


async def test_a_reason_for_the_transfer_is_required_and_at_most_1000_characters(
    database: db.Database, world: World
) -> None:
    assert await refused_start(database, world, transfer_reason="   ") == {
        "transfer_reason": "Enter the reason for the transfer"
    }
    assert await refused_start(database, world, transfer_reason="x" * 1001) == {
        "transfer_reason": "The reason for the transfer must be 1,000 characters or fewer"
    }
    handover_id = await start(database, world, transfer_reason="x" * 1000)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.transfer_reason == "x" * 1000


async def test_every_problem_with_a_start_is_reported_at_once(database: db.Database, world: World) -> None:
    errors = await refused_start(database, world, receiver_id=world.users["out2"], transfer_reason="")
    assert errors == {
        "receiver": "Select a worker in the receiving team, or leave it for the team to allocate",
        "transfer_reason": "Enter the reason for the transfer",
    }


async def test_a_sibling_group_names_its_cases_in_the_receivers_message(database: db.Database, world: World) -> None:
    """The group's start form asks which team the cases are moving to; its messages say "cases" as well."""
    from service.actions.handovers import start_group_handover

    case = await db.case_by_id(database.reader, world.cases["mia"])
    assert case is not None and case.sibling_group_id is not None
    children = [child[0] for child in await db.cases_in_sibling_group(database.reader, case.sibling_group_id)]
    with pytest.raises(Invalid) as refused:
        await start_group_handover(
            database, await actor(database, world, "out"), CHECKLIST, case_id=case.id, included=children,
            left_out={}, receiving_team_id=world.teams["north"], receiver_id=world.users["out"],
            transfer_reason="Step-up",
        )  # fmt: skip
    assert refused.value.errors == {"receiver": "Select a different worker: the cases are already allocated to you"}
