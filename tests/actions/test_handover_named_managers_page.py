"""What a handover's page says about the manager step it waits for (who can take it, why the viewer cannot, and
which administrators can name another manager when nobody can), and the audit entry every view of it writes."""

from __future__ import annotations

import pytest

from service import actions, db
from service.actions.handovers import StepHelp
from tests.actions.test_handover_named_managers_naming import edge_handover, last_seq, solo_handover, written_since
from tests.conftest import World
from tests.helpers import CHECKLISTS, actor, handover_in

pytestmark = pytest.mark.anyio


async def help_for(database: db.Database, world: World, handover_id: int, who: str) -> StepHelp | None:
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    return await actions.step_help(database.reader, view, await actor(database, world, who))


async def name_directly(database: db.Database, handover_id: int, step: str, user_id: int) -> None:
    async with database.transaction() as conn:
        await db.name_manager(conn, handover_id, step, user_id, None)


@pytest.mark.parametrize("state", ["draft", "endorsed", "returned", "closed", "cancelled"])
async def test_no_help_where_the_handover_waits_for_no_manager(database: db.Database, world: World, state: str) -> None:
    handover_id = await handover_in(database, world, state, "mia")
    assert await help_for(database, world, handover_id, "smgr") is None
    assert await help_for(database, world, handover_id, "rmgr") is None


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("smgr", StepHelp(step="endorse", team="North Team", you_can=True, yours="", others=["Both", "Smgr2"],
                          administrators=[])),
        ("out", StepHelp(step="endorse", team="North Team", you_can=False, yours="", others=["Both", "Smgr", "Smgr2"],
                         administrators=[])),
        ("rmgr", StepHelp(step="endorse", team="North Team", you_can=False, yours="",
                          others=["Both", "Smgr", "Smgr2"], administrators=[])),
    ],
)  # fmt: skip
async def test_a_submitted_handover_names_the_sending_managers_who_can_endorse(
    database: db.Database, world: World, who: str, expected: StepHelp
) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    assert await help_for(database, world, handover_id, who) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rmgr", StepHelp(step="approve", team="Cp Team", you_can=True, yours="", others=["Both", "Rmgr2"],
                          administrators=[])),
        ("smgr", StepHelp(step="approve", team="Cp Team", you_can=False, yours="", others=["Both", "Rmgr", "Rmgr2"],
                          administrators=[])),
    ],
)  # fmt: skip
async def test_an_acknowledged_handover_names_the_receiving_managers_who_can_approve(
    database: db.Database, world: World, who: str, expected: StepHelp
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    assert await help_for(database, world, handover_id, who) == expected


async def test_a_manager_the_separation_of_duties_leaves_out_is_told_why(database: db.Database, world: World) -> None:
    """ "both" manages both teams: having endorsed, they cannot approve; the others can."""
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    async with database.transaction() as conn:
        await conn.execute("UPDATE handovers SET endorsed_by = ? WHERE id = ?", (world.users["both"], handover_id))
    assert await help_for(database, world, handover_id, "both") == StepHelp(
        step="approve", team="Cp Team", you_can=False,
        yours="You endorsed this handover for the sending team; another manager must approve it",
        others=["Rmgr", "Rmgr2"], administrators=[],
    )  # fmt: skip


async def test_with_nobody_able_the_administrators_are_named(database: db.Database, world: World) -> None:
    handover_id = await edge_handover(database, world)
    async with database.transaction() as conn:
        await db.create_user(conn, "adm2", "Another Admin", "!", is_admin=True)
        gone = await db.create_user(conn, "adm3", "Gone Admin", "!", is_admin=True)
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (gone,))
    assert await help_for(database, world, handover_id, "both") == StepHelp(
        step="approve", team="Edge Team", you_can=False,
        yours="You endorsed this handover for the sending team; another manager must approve it",
        others=[], administrators=["Adm", "Another Admin"],
    )  # fmt: skip


async def test_the_solo_author_cannot_endorse_and_is_told_why(database: db.Database, world: World) -> None:
    handover_id = await solo_handover(database, world)
    assert await help_for(database, world, handover_id, "lead") == StepHelp(
        step="endorse", team="Solo Team", you_can=False, yours="You cannot endorse a handover you wrote",
        others=[], administrators=["Adm"],
    )  # fmt: skip


async def test_a_manager_named_from_another_team_is_listed_and_can_act(database: db.Database, world: World) -> None:
    handover_id = await edge_handover(database, world)
    admin = await actor(database, world, "adm")
    await actions.name_step_manager(database, handover_id, step="approve", manager="rmgr", by=admin)
    assert await help_for(database, world, handover_id, "both") == StepHelp(
        step="approve", team="Edge Team", you_can=False,
        yours="You endorsed this handover for the sending team; another manager must approve it",
        others=["Rmgr"], administrators=[],
    )  # fmt: skip
    assert await help_for(database, world, handover_id, "rmgr") == StepHelp(
        step="approve", team="Edge Team", you_can=True, yours="", others=[], administrators=[]
    )
    assert await help_for(database, world, handover_id, "rmgr2") == StepHelp(
        step="approve", team="Edge Team", you_can=False, yours="", others=["Rmgr"], administrators=[]
    )


async def test_a_manager_named_to_endorse_from_another_team_is_listed(database: db.Database, world: World) -> None:
    handover_id = await solo_handover(database, world)
    admin = await actor(database, world, "adm")
    await actions.name_step_manager(database, handover_id, step="endorse", manager="omgr", by=admin)
    assert await help_for(database, world, handover_id, "lead") == StepHelp(
        step="endorse", team="Solo Team", you_can=False, yours="You cannot endorse a handover you wrote",
        others=["Omgr"], administrators=[],
    )  # fmt: skip
    assert await help_for(database, world, handover_id, "omgr") == StepHelp(
        step="endorse", team="Solo Team", you_can=True, yours="", others=[], administrators=[]
    )


async def test_a_named_manager_since_disabled_is_not_listed(database: db.Database, world: World) -> None:
    handover_id = await edge_handover(database, world)
    admin = await actor(database, world, "adm")
    await actions.name_step_manager(database, handover_id, step="approve", manager="rmgr", by=admin)
    async with database.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (world.users["rmgr"],))
    assert await help_for(database, world, handover_id, "both") == StepHelp(
        step="approve", team="Edge Team", you_can=False,
        yours="You endorsed this handover for the sending team; another manager must approve it",
        others=[], administrators=["Adm"],
    )  # fmt: skip


async def test_a_named_manager_of_the_team_is_listed_once(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    await name_directly(database, handover_id, "approve", world.users["rmgr"])
    assert await help_for(database, world, handover_id, "rmgr2") == StepHelp(
        step="approve", team="Cp Team", you_can=True, yours="", others=["Both", "Rmgr"], administrators=[]
    )


async def test_a_named_person_who_may_not_take_the_step_is_told_why(database: db.Database, world: World) -> None:
    """Named (past the checks that naming makes) after acknowledging it: the named person sees why not."""
    handover_id = await edge_handover(database, world)
    await name_directly(database, handover_id, "approve", world.users["rec2"])
    assert await help_for(database, world, handover_id, "rec2") == StepHelp(
        step="approve", team="Edge Team", you_can=False,
        yours="You cannot approve a handover you acknowledged",
        others=[], administrators=["Adm"],
    )  # fmt: skip


# ---------------------------------------------------------------- views


@pytest.mark.parametrize("page", ["view", "review", "api"])
async def test_every_view_is_audited_with_the_page(database: db.Database, world: World, page: str) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    before = await last_seq(database)
    await actions.record_view(database, await actor(database, world, "aud"), handover_id, page, audit_reads=True)
    assert await written_since(database, before) == [("view", world.users["aud"], "handover", handover_id,
                                                      {"page": page})]  # fmt: skip


async def test_views_are_not_audited_when_reads_are_not(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    before = await last_seq(database)
    await actions.record_view(database, await actor(database, world, "aud"), handover_id, "view", audit_reads=False)
    assert await last_seq(database) == before
