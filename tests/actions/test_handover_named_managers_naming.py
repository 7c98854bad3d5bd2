"""An administrator (or the operator, from the command line) names another manager for a manager step that nobody
in the team may take under the separation of duties: who may be named, when, what is stored and audited, and the
exact sentence for each refusal, with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.core.errors import Invalid, NotFound, Refused
from service.core.workflow import Action
from tests.conftest import PASSWORD_HASH, World
from tests.helpers import APART, CHECKLISTS, actor, complete, handover_in, on_record

pytestmark = pytest.mark.anyio

READBACK = "I will visit Mia this week and keep the safety plan going."


async def version_of(database: db.Database, handover_id: int) -> int:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover.version


async def last_seq(database: db.Database) -> int:
    entries = await db.audit_entries(database.reader, limit=100_000)
    return entries[-1].entry.seq if entries else 0


async def written_since(database: db.Database, seq: int) -> list[tuple[Any, ...]]:
    return [
        (e.entry.action, e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in await db.audit_entries(database.reader, after_seq=seq)
    ]


async def named_rows(database: db.Database, handover_id: int) -> list[tuple[str, int, int | None]]:
    rows = await database.reader.execute_fetchall(
        "SELECT step, user_id, named_by FROM named_managers WHERE handover_id = ? ORDER BY step", (handover_id,)
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def fill_and_submit(database: db.Database, author: Any, handover_id: int) -> None:
    for section_id, answers in (await on_record(database, handover_id, complete())).items():
        _, errors = await actions.save_section(
            database, CHECKLISTS, author, handover_id, section_id, answers, 0, finished=True
        )
        assert not errors, errors
    await actions.act(database, CHECKLISTS, author, handover_id, Action.SUBMIT, await version_of(database, handover_id))


async def edge_handover(database: db.Database, world: World) -> int:
    """Acknowledged, from North to the Edge team, whose only manager ("both", who also manages North) endorsed
    it and so may not approve it: nobody in Edge can."""
    async with database.transaction() as conn:
        edge = await db.create_team(conn, "Edge Team")
        await db.add_membership(conn, world.users["both"], edge, "manager")
        await db.add_membership(conn, world.users["rec2"], edge, "worker")
    world.teams["edge"] = edge
    people = {name: await actor(database, world, name) for name in ("out", "both", "rec2")}
    handover_id = await actions.start_handover(
        database, people["out"], CHECKLISTS[("case-transfer", 1)], case_id=world.cases["mia"],
        receiving_team_id=edge, receiver_id=world.users["rec2"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    await fill_and_submit(database, people["out"], handover_id)
    await actions.act(
        database, CHECKLISTS, people["both"], handover_id, Action.ENDORSE, await version_of(database, handover_id)
    )
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    for section in view.critical_sections():
        version = await version_of(database, handover_id)
        await actions.confirm_item(
            database, CHECKLISTS, people["rec2"], handover_id, section.id, version, understood=True, readback=READBACK
        )
    await actions.act(
        database, CHECKLISTS, people["rec2"], handover_id, Action.ACKNOWLEDGE, await version_of(database, handover_id)
    )
    return handover_id


async def solo_handover(database: db.Database, world: World) -> int:
    """Submitted from the Solo team by its only manager ("lead", who also works in it and wrote the handover):
    nobody in Solo may endorse it."""
    async with database.transaction() as conn:
        solo = await db.create_team(conn, "Solo Team")
        lead = await db.create_user(conn, "lead", "Lead", PASSWORD_HASH)
        await db.add_membership(conn, lead, solo, "worker")
        await db.add_membership(conn, lead, solo, "manager")
        case = await db.create_case(conn, "S-1", "Sam Solo", "2014-04-04", lead, solo)
    world.users["lead"], world.teams["solo"], world.cases["sam"] = lead, solo, case
    author = await actor(database, world, "lead")
    handover_id = await actions.start_handover(
        database, author, CHECKLISTS[("case-transfer", 1)], case_id=case, receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    summary = {"child_name": "Sam Solo", "date_of_birth": "2014-04-04", "local_reference": "S-1", "siblings": ""}
    for section_id, answers in complete(**{"case-summary": summary}).items():
        _, errors = await actions.save_section(
            database, CHECKLISTS, author, handover_id, section_id, answers, 0, finished=True
        )
        assert not errors, errors
    await actions.act(database, CHECKLISTS, author, handover_id, Action.SUBMIT, await version_of(database, handover_id))
    return handover_id


async def name(database: db.Database, world: World, handover_id: int, step: str, manager: str, by: str | None) -> str:
    admin = await actor(database, world, by) if by else None
    return await actions.name_step_manager(database, handover_id, step=step, manager=manager, by=admin)


async def test_an_administrator_names_a_manager_to_approve_stored_and_audited(
    database: db.Database, world: World
) -> None:
    handover_id = await edge_handover(database, world)
    before = await last_seq(database)
    assert await name(database, world, handover_id, "approve", "rmgr", "adm") == "Rmgr"
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.named_approver, handover.named_endorser) == (world.users["rmgr"], None)
    assert await named_rows(database, handover_id) == [("approve", world.users["rmgr"], world.users["adm"])]
    assert [h.id for h in await db.named_for(database.reader, world.users["rmgr"])] == [handover_id]
    assert await written_since(database, before) == [
        ("name_manager", world.users["adm"], "handover", handover_id,
         {"step": "approve", "manager": "rmgr", "by": "an administrator"}),
    ]  # fmt: skip
    rmgr = await actor(database, world, "rmgr")
    await actions.act(database, CHECKLISTS, rmgr, handover_id, Action.APPROVE, await version_of(database, handover_id))
    closed = await db.handover_by_id(database.reader, handover_id)
    assert closed is not None and closed.state == "closed"


async def test_the_command_line_names_a_manager_by_a_username_with_spaces_around(
    database: db.Database, world: World
) -> None:
    handover_id = await edge_handover(database, world)
    before = await last_seq(database)
    assert await name(database, world, handover_id, "approve", "  rmgr2\n", None) == "Rmgr2"
    assert await named_rows(database, handover_id) == [("approve", world.users["rmgr2"], None)]
    assert await written_since(database, before) == [
        ("name_manager", None, "handover", handover_id,
         {"step": "approve", "manager": "rmgr2", "by": "the command line"}),
    ]  # fmt: skip


async def test_naming_again_replaces_the_manager_named_before(database: db.Database, world: World) -> None:
    handover_id = await edge_handover(database, world)
    await name(database, world, handover_id, "approve", "rmgr", "adm")
    await name(database, world, handover_id, "approve", "omgr", None)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.named_approver == world.users["omgr"]
    assert await db.named_for(database.reader, world.users["rmgr"]) == []


async def test_an_administrator_names_a_manager_of_another_team_to_endorse(database: db.Database, world: World) -> None:
    handover_id = await solo_handover(database, world)
    before = await last_seq(database)
    assert await name(database, world, handover_id, "endorse", "smgr", "adm") == "Smgr"
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.named_endorser, handover.named_approver) == (world.users["smgr"], None)
    assert await written_since(database, before) == [
        ("name_manager", world.users["adm"], "handover", handover_id,
         {"step": "endorse", "manager": "smgr", "by": "an administrator"}),
    ]  # fmt: skip
    smgr = await actor(database, world, "smgr")
    await actions.act(database, CHECKLISTS, smgr, handover_id, Action.ENDORSE, await version_of(database, handover_id))
    endorsed = await db.handover_by_id(database.reader, handover_id)
    assert endorsed is not None and (endorsed.state, endorsed.endorsed_by) == ("endorsed", world.users["smgr"])


@pytest.mark.parametrize(
    ("manager", "message"),
    [
        (
            "both",
            "Both cannot approve this handover: You endorsed this handover for the sending team; another manager "
            "must approve it",
        ),
        ("rec2", "Rec2 does not manage a team"),
        ("out", "Out does not manage a team"),
        ("adm", "Adm does not manage a team"),
        ("nobody", "There is no enabled person with the username 'nobody'"),
        ("  ", "There is no enabled person with the username ''"),
        ("gone", "There is no enabled person with the username 'gone'"),
        ("casesys", "There is no enabled person with the username 'casesys'"),
    ],
)
async def test_only_an_enabled_person_who_manages_a_team_and_may_take_the_step_is_named(
    database: db.Database, world: World, manager: str, message: str
) -> None:
    handover_id = await edge_handover(database, world)
    async with database.transaction() as conn:
        gone = await db.create_user(conn, "gone", "Gone", PASSWORD_HASH)
        await db.add_membership(conn, gone, world.teams["south"], "manager")
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (gone,))
        casesys = await db.create_user(conn, "casesys", "Case system", "!", is_service=True)
        await db.add_membership(conn, casesys, world.teams["south"], "manager")
    before = await last_seq(database)
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, "approve", manager, "adm")
    assert refused.value.errors == {"manager": message}
    assert await named_rows(database, handover_id) == []
    assert await last_seq(database) == before


async def test_the_author_who_manages_the_sending_team_cannot_be_named_to_endorse(
    database: db.Database, world: World
) -> None:
    handover_id = await solo_handover(database, world)
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, "endorse", "lead", "adm")
    assert refused.value.errors == {
        "manager": "Lead cannot endorse this handover: You cannot endorse a handover you wrote"
    }
    assert await named_rows(database, handover_id) == []


async def test_the_named_receiver_cannot_be_named_to_endorse(database: db.Database, world: World) -> None:
    """A manager of another team who is also the handover's named receiving worker does not act on both sides."""
    handover_id = await solo_handover(database, world)
    async with database.transaction() as conn:
        await db.add_membership(conn, world.users["rec"], world.teams["south"], "manager")
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, "endorse", "rec", "adm")
    assert refused.value.errors == {
        "manager": "Rec cannot endorse this handover: You are named as the receiving worker; another manager of the "
        "sending team must endorse it"
    }


@pytest.mark.parametrize("by", ["rmgr2", "smgr", "aud", "out"])
async def test_only_an_administrator_names_a_manager(database: db.Database, world: World, by: str) -> None:
    handover_id = await edge_handover(database, world)
    before = await last_seq(database)
    with pytest.raises(Refused) as refused:
        await name(database, world, handover_id, "approve", "rmgr", by)
    assert refused.value.reasons == ["Only an administrator can name a manager for a step"]
    assert await named_rows(database, handover_id) == []
    assert await last_seq(database) == before


@pytest.mark.parametrize("step", ["allocate", "", "Approve"])
async def test_the_step_is_endorse_or_approve(database: db.Database, world: World, step: str) -> None:
    handover_id = await edge_handover(database, world)
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, step, "rmgr", "adm")
    assert refused.value.errors == {"step": "Choose the step: endorse or approve"}


async def test_a_manager_is_named_only_for_the_step_the_handover_waits_for(database: db.Database, world: World) -> None:
    edge = await edge_handover(database, world)
    with pytest.raises(Invalid) as refused:
        await name(database, world, edge, "endorse", "smgr", "adm")
    assert refused.value.errors == {"step": "The handover is not waiting for a manager to endorse it"}
    solo = await solo_handover(database, world)
    with pytest.raises(Invalid) as refused:
        await name(database, world, solo, "approve", "rmgr", "adm")
    assert refused.value.errors == {"step": "The handover is not waiting for a manager to approve it"}
    draft = await handover_in(database, world, "draft", "c1")
    with pytest.raises(Invalid) as refused:
        await name(database, world, draft, "endorse", "smgr", "adm")
    assert refused.value.errors == {"step": "The handover is not waiting for a manager to endorse it"}
    assert await named_rows(database, edge) == await named_rows(database, solo) == await named_rows(database, draft)
    assert await named_rows(database, draft) == []


@pytest.mark.parametrize("state", ["closed", "cancelled"])
async def test_a_finished_handover_is_not_found(database: db.Database, world: World, state: str) -> None:
    handover_id = await handover_in(database, world, state, "mia")
    for step in ("endorse", "approve"):
        with pytest.raises(NotFound) as refused:
            await name(database, world, handover_id, step, "rmgr", "adm")
        assert str(refused.value) == f"handover {handover_id}"
    with pytest.raises(NotFound) as refused:
        await name(database, world, 999, "approve", "rmgr", "adm")
    assert str(refused.value) == "handover 999"


@pytest.mark.parametrize(
    ("state", "step", "message"),
    [
        ("submitted", "endorse", "A manager of the team can endorse it already: Both, Smgr, Smgr2"),
        ("acknowledged", "approve", "A manager of the team can approve it already: Both, Rmgr, Rmgr2"),
    ],
)
async def test_nobody_is_named_where_a_manager_of_the_team_can_take_the_step(
    database: db.Database, world: World, state: str, step: str, message: str
) -> None:
    handover_id = await handover_in(database, world, state, "mia")
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, step, "omgr", "adm")
    assert refused.value.errors == {"step": message}
    assert await named_rows(database, handover_id) == []


async def test_the_managers_who_can_are_those_the_separation_of_duties_leaves(
    database: db.Database, world: World
) -> None:
    """Of the receiving team's managers, the one who endorsed it is not listed as able to approve."""
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    async with database.transaction() as conn:
        await conn.execute("UPDATE handovers SET endorsed_by = ? WHERE id = ?", (world.users["both"], handover_id))
    with pytest.raises(Invalid) as refused:
        await name(database, world, handover_id, "approve", "omgr", "adm")
    assert refused.value.errors == {"step": "A manager of the team can approve it already: Rmgr, Rmgr2"}
