"""Who holds and who writes an absent worker's or a leaver's cases and handovers: nobody acts on both sides of one
handover, a held case keeps naming the worker it was first held from, the absent worker keeps sight of their own
children's handovers, and an administrator never names a manager from the other side."""

from __future__ import annotations

import anyio
import pytest

from service import actions, cli, db
from service.actions import caseload as caseload_actions
from service.core import caseload as rules
from service.core.errors import Invalid, NotFound, Refused
from service.core.workflow import (
    NAMED_ON_RECEIVING_SIDE,
    NAMED_ON_SENDING_SIDE,
    RETURN_AS_ENDORSER_REFUSAL,
    Action,
    person_refusals,
    refusals,
)
from tests.conftest import Site, World
from tests.helpers import CHECKLIST, CHECKLISTS, actor, handover_in
from tests.test_caseload import add_leaver

pytestmark = pytest.mark.anyio


async def _author(database: db.Database, handover_id: int) -> int:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover.author_id


async def _draft_of_out(database: db.Database, world: World, case: str) -> int:
    out = await actor(database, world, "out")
    return await actions.start_handover(
        database, out, CHECKLIST, case_id=world.cases[case], receiving_team_id=world.teams["cp"], receiver_id=None,
        transfer_reason="Step-up",
    )  # fmt: skip


# ---------------------------------------------------------------- 1. an absence passes on only what is still to write


async def test_recording_an_absence_passes_on_drafts_and_leaves_submitted_handovers_with_their_author(
    database: db.Database, world: World
) -> None:
    endorsed = await handover_in(database, world, "endorsed", "c1")
    submitted = await handover_in(database, world, "submitted", "c2")
    returned = await handover_in(database, world, "returned", "c4")
    draft = await _draft_of_out(database, world, "c3")
    smgr = await actor(database, world, "smgr")
    continued = await caseload_actions.record_absence(database, smgr, world.users["out"])
    assert sorted(continued) == sorted([draft, returned])  # still the worker's to write: the manager writes them
    assert await _author(database, draft) == world.users["smgr"]
    assert await _author(database, returned) == world.users["smgr"]
    for handover_id in (endorsed, submitted):  # on their way: they keep their author
        assert await _author(database, handover_id) == world.users["out"]
    # so the manager who endorsed one is not its author too, and the one waiting for them can still be endorsed
    view = await actions.load(database.reader, CHECKLISTS, submitted)
    assert view is not None and person_refusals(Action.ENDORSE, view.facts, smgr) == []


def test_a_handover_passes_on_absence_only_while_still_to_write_and_never_to_the_other_side() -> None:
    assert rules.passes_on_absence(rules.Sides(state="draft"), 5)
    assert rules.passes_on_absence(rules.Sides(state="returned"), 5)
    for state in ("submitted", "endorsed", "acknowledged"):
        assert not rules.passes_on_absence(rules.Sides(state=state), 5), state
    assert not rules.passes_on_absence(rules.Sides(state="returned", endorsed_by=5), 5)
    assert not rules.passes_on_absence(rules.Sides(state="draft", receiver_id=5), 5)


async def test_the_absence_page_leaves_an_endorsed_handover_with_its_author(site: Site) -> None:
    endorsed = await handover_in(site.db, site.world, "endorsed", "c1")
    draft = await _draft_of_out(site.db, site.world, "c3")
    manager = await site.as_user("smgr")
    out = site.world.users["out"]
    assert (await manager.post(f"/caseloads/{out}/absence", {"change": "record"})).status_code == 303
    assert await _author(site.db, endorsed) == out
    assert await _author(site.db, draft) == site.world.users["smgr"]
    # the receiving worker can still acknowledge it: nobody's step was taken away
    page = (await (await site.as_user("rec")).get(f"/handovers/{endorsed}/view")).text
    assert "Handover completed by the team manager" not in page and "Out" in page


# ---------------------------------------------------------------- 2 and 3. an interim holder who leaves in turn


async def _held_and_handed_over(database: db.Database, world: World) -> tuple[int, int, int]:
    """A leaver's child, held by Both (north's first manager by name) since they left, in a handover Both writes on
    the leaver's behalf to Smgr, a north manager who is also one of its workers. Returns (leaver, case, handover)."""
    leaver, cases = await add_leaver(database, world, children=1)
    async with database.transaction() as conn:
        await db.add_membership(conn, world.users["smgr"], world.teams["north"], "worker")
    await actions.disable_person(database, user_id=leaver, by=world.users["adm"])
    both = await actor(database, world, "both")
    await caseload_actions.start_transfer(database, both, leaver)
    handover_id = await caseload_actions.start_child_handover(
        database, both, CHECKLIST, person_id=leaver, case_id=cases[0], receiving_team_id=world.teams["north"],
        receiver_id=world.users["smgr"], transfer_reason="The allocated worker has left the service",
    )  # fmt: skip
    return leaver, cases[0], handover_id


async def _held_from(database: db.Database, case_id: int) -> tuple[int, int]:
    rows = await database.reader.execute_fetchall(
        "SELECT held_from_id, allocated_worker_id FROM cases WHERE id = ?", (case_id,)
    )
    return rows[0][0], rows[0][1]


async def test_disabling_an_interim_holder_never_makes_the_receiver_the_author(
    database: db.Database, world: World
) -> None:
    _, _, handover_id = await _held_and_handed_over(database, world)
    assert await _author(database, handover_id) == world.users["both"]
    outcome = await actions.disable_person(database, user_id=world.users["both"], by=world.users["adm"])
    # Smgr comes first by name, but is to receive it: Smgr2 continues it, still on the leaver's behalf
    assert await _author(database, handover_id) == world.users["smgr2"]
    assert outcome.handovers_continued == [(handover_id, "Smgr2", "Lee Leaver")]  # written for the leaver, not Both
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.on_behalf_of_name == "Lee Leaver"
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    smgr = await actor(database, world, "smgr")
    assert person_refusals(Action.ACKNOWLEDGE, view.facts, smgr) == []  # the receiver can still take it on


async def test_a_held_case_keeps_naming_the_worker_it_was_first_held_from(database: db.Database, world: World) -> None:
    leaver, case_id, _ = await _held_and_handed_over(database, world)
    assert await _held_from(database, case_id) == (leaver, world.users["both"])
    await actions.disable_person(database, user_id=world.users["both"], by=world.users["adm"])
    held_from, holder = await _held_from(database, case_id)
    assert held_from == leaver and holder == world.users["smgr"]
    smgr = await actor(database, world, "smgr")
    people = {person.id: person for person in await caseload_actions.people(database.reader, smgr)}
    assert people[leaver].children == 1
    assert world.users["both"] not in people  # Both never had this child of their own
    loaded = await caseload_actions.caseload(database.reader, smgr, leaver)
    assert loaded.counts == rules.Counts(with_them=0, in_transfer=1, moved=0)
    assert [child.child.id for child in loaded.children] == [case_id]


async def test_an_interim_holder_is_not_disabled_while_nobody_can_continue_their_handover(
    database: db.Database, world: World
) -> None:
    _, case_id, handover_id = await _held_and_handed_over(database, world)
    await actions.disable_person(database, user_id=world.users["smgr2"], by=world.users["adm"])
    with pytest.raises(Invalid) as refused:  # Smgr is north's only other manager, and is to receive it
        await actions.disable_person(database, user_id=world.users["both"], by=world.users["adm"])
    expected = rules.no_interim_author_message("Both", "Leaver Child 1", handover_id, "North Team")
    assert refused.value.errors == {"disable": expected}
    both = await db.user_by_id(database.reader, world.users["both"])
    assert both is not None and not both.disabled  # nothing changed
    assert await _author(database, handover_id) == world.users["both"]
    assert (await _held_from(database, case_id))[1] == world.users["both"]


async def test_the_disable_page_says_which_handover_stops_it(site: Site) -> None:
    _, _, handover_id = await _held_and_handed_over(site.db, site.world)
    await actions.disable_person(site.db, user_id=site.world.users["smgr2"], by=site.world.users["adm"])
    admin = await site.as_user("adm")
    response = await admin.post(f"/admin/people/{site.world.users['both']}/disable")
    assert response.status_code == 400
    assert f"the handover of Leaver Child 1 (handover {handover_id})" in response.text
    assert "Add another manager to North Team" in response.text
    assert await _author(site.db, handover_id) == site.world.users["both"]


# ---------------------------------------------------------------- 4. the absent worker keeps sight of their children


async def test_an_absent_worker_still_reads_the_handovers_written_for_them(site: Site) -> None:
    draft = await _draft_of_out(site.db, site.world, "c3")
    smgr = await actor(site.db, site.world, "smgr")
    out = site.world.users["out"]
    await caseload_actions.record_absence(site.db, smgr, out)
    await caseload_actions.start_transfer(site.db, smgr, out)
    written_for = await caseload_actions.start_child_handover(
        site.db, smgr, CHECKLIST, person_id=out, case_id=site.world.cases["c5"],
        receiving_team_id=site.world.teams["cp"], receiver_id=None, transfer_reason="Worker absent",
    )  # fmt: skip
    worker = await actor(site.db, site.world, "out")
    for handover_id in (draft, written_for):
        assert await _author(site.db, handover_id) == site.world.users["smgr"]
        assert (await actions.visible_record(site.db.reader, worker, handover_id)).id == handover_id
        page = await (await site.as_user("out")).get(f"/handovers/{handover_id}/view")
        assert page.status_code == 200, handover_id
        assert "on behalf of Out" in page.text
        # reading is all: the worker no longer writes it
        loaded = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert loaded is not None and refusals(Action.EDIT, loaded.facts, worker)
        # and finds it by their child's name
        found = (await (await site.as_user("out")).get("/search", params={"q": "C-"})).text
        assert f"/handovers/{handover_id}" in found
        # another worker of the team still has no such handover
        assert (await (await site.as_user("out2")).get(f"/handovers/{handover_id}/view")).status_code == 404
        with pytest.raises(NotFound):
            await actions.visible_record(site.db.reader, await actor(site.db, site.world, "out2"), handover_id)


# ---------------------------------------------------------------- 8b. naming a manager from the other side


async def _submitted_for_absent_other(database: db.Database, world: World) -> int:
    """South's only manager writes a handover to cp for their absent worker and submits it: nobody in south may
    endorse it, so an administrator must name someone."""
    omgr = await actor(database, world, "omgr")
    other = world.users["other"]
    await caseload_actions.record_absence(database, omgr, other)
    await caseload_actions.start_transfer(database, omgr, other)
    return await caseload_actions.start_child_handover(
        database, omgr, CHECKLIST, person_id=other, case_id=world.cases["zoe"],
        receiving_team_id=world.teams["cp"], receiver_id=world.users["rec"], transfer_reason="Worker absent",
    )  # fmt: skip


async def _submit(database: db.Database, handover_id: int) -> None:
    async with database.transaction() as conn:  # straight to the step under test: its answers are not what it tests
        await conn.execute("UPDATE handovers SET state = 'submitted' WHERE id = ?", (handover_id,))


async def test_a_receiving_teams_manager_is_never_named_to_endorse(database: db.Database, world: World) -> None:
    handover_id = await _submitted_for_absent_other(database, world)
    await _submit(database, handover_id)
    admin = await actor(database, world, "adm")
    with pytest.raises(Invalid) as refused:
        await actions.name_step_manager(database, handover_id, step="endorse", manager="rmgr", by=admin)
    assert refused.value.errors == {"manager": f"Rmgr cannot endorse this handover: {NAMED_ON_RECEIVING_SIDE}"}
    assert await db.named_for(database.reader, world.users["rmgr"]) == []
    assert await actions.name_step_manager(database, handover_id, step="endorse", manager="smgr", by=admin) == "Smgr"


async def test_a_sending_teams_manager_is_never_named_to_approve(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "c1")
    async with database.transaction() as conn:  # every cp manager already acts on it, so one must be named
        await conn.execute("UPDATE handovers SET acknowledged_by = ?, receiver_id = ?, endorsed_by = ? WHERE id = ?",
                           (world.users["rmgr"], world.users["rmgr"], world.users["rmgr2"], handover_id))  # fmt: skip
        await conn.execute(
            "DELETE FROM memberships WHERE user_id = ? AND team_id = ?", (world.users["both"], world.teams["cp"])
        )
    admin = await actor(database, world, "adm")
    with pytest.raises(Invalid) as refused:
        await actions.name_step_manager(database, handover_id, step="approve", manager="smgr2", by=admin)
    assert refused.value.errors == {"manager": f"Smgr2 cannot approve this handover: {NAMED_ON_SENDING_SIDE}"}
    assert await actions.name_step_manager(database, handover_id, step="approve", manager="omgr", by=admin) == "Omgr"


async def test_the_command_line_refuses_a_manager_from_the_other_side(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    handover_id = await _submitted_for_absent_other(site.db, site.world)
    await _submit(site.db, handover_id)
    settings = site.app.state.settings
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    command = ["name-manager", str(handover_id), "--step", "endorse", "--manager"]
    with pytest.raises(SystemExit) as refused:
        await anyio.to_thread.run_sync(cli.main, [*command, "rmgr"])
    assert f"Rmgr cannot endorse this handover: {NAMED_ON_RECEIVING_SIDE}" in str(refused.value.code)
    assert await db.named_for(site.db.reader, site.world.users["rmgr"]) == []
    assert await anyio.to_thread.run_sync(cli.main, [*command, "smgr"]) == 0


# ---------------------------------------------------------------- the endorser is not offered "Return"


async def test_the_manager_who_endorsed_is_not_offered_return_for_the_receiving_side(site: Site) -> None:
    """Smgr endorses a handover addressed to cp as a team, and is also one of cp's workers: the receiving worker's
    step, and so returning it in their place, is not Smgr's."""
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["smgr"], site.world.teams["cp"], "worker")
        await db.add_membership(conn, site.world.users["smgr2"], site.world.teams["cp"], "worker")
    handover_id = await handover_in(site.db, site.world, "endorsed", "c1")
    async with site.db.transaction() as conn:  # addressed to the team, so any of its workers may take it on
        await conn.execute("UPDATE handovers SET receiver_id = NULL WHERE id = ?", (handover_id,))
    smgr = await actor(site.db, site.world, "smgr")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert refusals(Action.RETURN_TO_OUTGOING, view.facts, smgr, "A query") == [RETURN_AS_ENDORSER_REFUSAL]
    with pytest.raises(Refused):
        await actions.act(site.db, CHECKLISTS, smgr, handover_id, Action.RETURN_TO_OUTGOING, view.handover.version, "Q")
    page = (await (await site.as_user("smgr")).get(f"/handovers/{handover_id}/view")).text
    assert "Return to outgoing worker" not in page
    assert RETURN_AS_ENDORSER_REFUSAL[1:] in page  # said where the button would be
    # another worker of cp, who did not endorse it, is offered it
    other = (await (await site.as_user("smgr2")).get(f"/handovers/{handover_id}/view")).text
    assert "Return to outgoing worker" in other


# ---------------------------------------------------------------- a handover returned to a worker while they are absent


async def test_a_handover_returned_to_an_absent_worker_is_listed_and_continued_by_the_manager(site: Site) -> None:
    submitted = await handover_in(site.db, site.world, "submitted", "c2")
    out = site.world.users["out"]
    manager = await site.as_user("smgr")
    assert (await manager.post(f"/caseloads/{out}/absence", {"change": "record"})).status_code == 303
    assert await _author(site.db, submitted) == out  # submitted before the absence: it keeps its author
    smgr = await actor(site.db, site.world, "smgr")
    view = await actions.load(site.db.reader, CHECKLISTS, submitted)
    assert view is not None
    await actions.act(
        site.db, CHECKLISTS, smgr, submitted, Action.RETURN_TO_OUTGOING, view.handover.version, "Say more about school"
    )
    page = (await manager.get(f"/caseloads/{out}")).text
    assert (
        "1 handover still to be written (a draft, or one returned) waits on" in page
        and "Continue it on their behalf" in page
    )
    assert (await manager.post(f"/caseloads/{out}/absence", {"change": "continue"})).status_code == 303
    assert await _author(site.db, submitted) == site.world.users["smgr"]
    page = (await manager.get(f"/caseloads/{out}")).text
    assert "Continue it on their behalf" not in page
    # nothing else waits now: asking again is refused by the field, and changes nothing
    again = await manager.post(f"/caseloads/{out}/absence", {"change": "continue"})
    assert again.status_code == 400 and rules.NOTHING_WAITS_ON_ABSENT in again.text


async def test_continuing_an_absent_workers_handovers_needs_a_recorded_absence(
    database: db.Database, world: World
) -> None:
    await handover_in(database, world, "returned", "c4")
    smgr = await actor(database, world, "smgr")
    with pytest.raises(Invalid) as refused:
        await caseload_actions.continue_waiting(database, smgr, world.users["out"])
    assert refused.value.errors == {"absence": rules.NOT_ABSENT}


async def test_a_draft_the_recording_manager_receives_stays_and_they_are_told_who_continues_it(site: Site) -> None:
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["smgr"], site.world.teams["cp"], "worker")
    out = await actor(site.db, site.world, "out")
    draft = await actions.start_handover(
        site.db, out, CHECKLIST, case_id=site.world.cases["c3"], receiving_team_id=site.world.teams["cp"],
        receiver_id=site.world.users["smgr"], transfer_reason="Step-up",
    )  # fmt: skip
    out_id = site.world.users["out"]
    manager = await site.as_user("smgr")
    assert (await manager.post(f"/caseloads/{out_id}/absence", {"change": "record"})).status_code == 303
    assert await _author(site.db, draft) == out_id  # Smgr is to receive it, so it is not theirs to write
    page = (await manager.get(f"/caseloads/{out_id}")).text
    assert "1 handover still to be written stays with Out, because you already have a part in it" in page
    assert "Continue it on their behalf" not in page
    other = await site.as_user("smgr2")
    page = (await other.get(f"/caseloads/{out_id}")).text
    assert "Continue it on their behalf" in page and "stays with Out" not in page
    assert (await other.post(f"/caseloads/{out_id}/absence", {"change": "continue"})).status_code == 303
    assert await _author(site.db, draft) == site.world.users["smgr2"]
