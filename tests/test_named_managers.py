"""No dead end under separation of duties: where every manager of a team is excluded from a step, the handover's page
and the queue say so and name who can act, and an administrator can name another manager for that step, audited."""

from __future__ import annotations

import anyio
import pytest

from service import actions, cli, db
from service.core.errors import Invalid, Refused
from service.core.workflow import Action, Actor, Facts, State, eligible
from tests.conftest import Site
from tests.helpers import APART, CHECKLISTS, actor, complete, on_record, version_in

pytestmark = pytest.mark.anyio


async def edge_handover(site: Site) -> int:
    """A handover from North to the Edge team, whose only manager ("both", who also manages North) endorsed it and
    so may not approve it: nobody in Edge can."""
    async with site.db.transaction() as conn:
        edge = await db.create_team(conn, "Edge Team")
        await db.add_membership(conn, site.world.users["both"], edge, "manager")
        await db.add_membership(conn, site.world.users["rec2"], edge, "worker")
    site.world.teams["edge"] = edge
    people = {name: await actor(site.db, site.world, name) for name in ("out", "both", "rec2")}
    handover_id = await actions.start_handover(
        site.db, people["out"], CHECKLISTS[("case-transfer", 1)], case_id=site.world.cases["mia"],
        receiving_team_id=edge, receiver_id=site.world.users["rec2"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    for section_id, answers in (await on_record(site.db, handover_id, complete())).items():
        await actions.save_section(
            site.db, CHECKLISTS, people["out"], handover_id, section_id, answers, 0, finished=True
        )
    for who, action in (("out", Action.SUBMIT), ("both", Action.ENDORSE), ("rec2", Action.ACKNOWLEDGE)):
        view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert view is not None
        if action == Action.ACKNOWLEDGE:
            for section in view.critical_sections():
                current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
                assert current is not None
                readback = "I will visit Mia this week and keep the safety plan going."
                await actions.confirm_item(site.db, CHECKLISTS, people[who], handover_id, section.id,
                                           current.handover.version, understood=True, readback=readback)  # fmt: skip
            view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
            assert view is not None
        await actions.act(site.db, CHECKLISTS, people[who], handover_id, action, view.handover.version)
    return handover_id


async def test_when_the_only_manager_endorsed_the_page_says_so_and_who_can_name_another(site: Site) -> None:
    handover_id = await edge_handover(site)
    both = await site.as_user("both")
    queue = (await both.get("/queue")).text
    assert "waiting for your approval" in queue and "Another manager must act" in queue
    page = (await both.get(f"/handovers/{handover_id}/view")).text
    assert "You cannot approve this handover:</strong> you endorsed this handover for the sending team" in page
    assert "No manager of Edge Team can approve it" in page and "An administrator (Adm) can name another" in page
    assert "Approve transfer" not in page


async def test_an_administrator_names_another_manager_who_then_approves(site: Site) -> None:
    handover_id = await edge_handover(site)
    admin = await actor(site.db, site.world, "adm")
    assert await actions.name_step_manager(site.db, handover_id, step="approve", manager="rmgr", by=admin) == "Rmgr"
    rmgr = await site.as_user("rmgr")
    queue = (await rmgr.get("/queue")).text
    assert "Named for you by an administrator" in queue and f"/handovers/{handover_id}/view" in queue
    page = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    approved = await rmgr.post(f"/handovers/{handover_id}/approve", {"handover_version": version_in(page)})
    assert approved.status_code == 303
    closed = await db.handover_by_id(site.db.reader, handover_id)
    assert closed is not None and closed.state == "closed" and closed.approved_by == site.world.users["rmgr"]
    entries = await db.audit_entries(site.db.reader, limit=1000)
    named = [e.entry for e in entries if e.entry.action == "name_manager"]
    assert [(n.actor_id, n.details) for n in named] == [
        (site.world.users["adm"], {"step": "approve", "manager": "rmgr", "by": "an administrator"})
    ]


async def test_naming_follows_the_separation_of_duties_and_only_administrators_name(site: Site) -> None:
    handover_id = await edge_handover(site)
    admin = await actor(site.db, site.world, "adm")
    for manager, words in (("both", "endorsed this handover"), ("rec2", "does not manage a team"),
                           ("out", "does not manage a team"), ("nobody", "no enabled person")):  # fmt: skip
        with pytest.raises(Invalid) as refused:
            await actions.name_step_manager(site.db, handover_id, step="approve", manager=manager, by=admin)
        assert words in refused.value.errors["manager"], manager
    with pytest.raises(Refused):
        await actions.name_step_manager(
            site.db, handover_id, step="approve", manager="rmgr", by=await actor(site.db, site.world, "rmgr2")
        )
    with pytest.raises(Invalid):
        await actions.name_step_manager(site.db, handover_id, step="allocate", manager="rmgr", by=admin)
    assert await db.named_for(site.db.reader, site.world.users["rmgr"]) == []


async def test_the_command_line_names_a_manager(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    handover_id = await edge_handover(site)
    settings = site.app.state.settings
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    command = ["name-manager", str(handover_id), "--step", "approve", "--manager"]
    with pytest.raises(SystemExit) as refused:
        await anyio.to_thread.run_sync(cli.main, [*command, "both"])
    assert "Both cannot approve this handover" in str(refused.value.code)
    assert await anyio.to_thread.run_sync(cli.main, [*command, "rmgr2"]) == 0
    assert [h.id for h in await db.named_for(site.db.reader, site.world.users["rmgr2"])] == [handover_id]


def test_who_may_take_a_step_leaves_out_everyone_on_the_handover() -> None:
    facts = Facts(state=State.ACKNOWLEDGED, author_id=1, sending_team_id=10, receiving_team_id=20, receiver_id=2,
                  endorsed_by=3, acknowledged_by=2)  # fmt: skip
    managers = [Actor(user_id=user_id, manager_teams=frozenset({20})) for user_id in (1, 2, 3, 4)]
    assert [a.user_id for a in eligible(Action.APPROVE, facts, managers)] == [4]
    assert eligible(Action.APPROVE, facts, managers[:3]) == [], "nobody: an administrator must name someone"
