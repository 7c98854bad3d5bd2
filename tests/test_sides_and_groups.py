"""Nobody acts on both sides of one handover, whatever the step; naming a manager for a sibling group's step names
them for every child; and the inbox offers a worker only what they may take on."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import actions, cli, db
from service.core.workflow import (
    STEP_SIDES,
    Action,
    Actor,
    Facts,
    Side,
    State,
    person_refusals,
    refusals,
    side_of,
    sides_taken,
)
from tests.conftest import Site
from tests.group_support import confirm_everything, fill_group, member_ids, start_group, step
from tests.helpers import act, actor

pytestmark = pytest.mark.anyio

SENDING, RECEIVING, ELSEWHERE = 1, 2, 3  # team ids
ME, SOMEONE = 7, 8  # user ids

# The parts a person may hold on a handover, by the side each stands on.
HATS: dict[str, Side] = {
    "author_id": Side.SENDING,
    "on_behalf_of": Side.SENDING,
    "endorsed_by": Side.SENDING,
    "receiver_id": Side.RECEIVING,
    "acknowledged_by": Side.RECEIVING,
}
# How a refusal names each part, so the person is told which of theirs stands in the way.
NAMED_AS = {
    "author_id": ("you wrote",),
    "on_behalf_of": ("written for you",),
    "endorsed_by": ("you endorsed",),
    "receiver_id": ("receiving worker",),
    "acknowledged_by": ("you acknowledged",),
}


def test_every_step_of_the_workflow_is_given_its_side() -> None:
    """A step added later is covered by the rule only once it is given a side here; only the disagreement steps
    belong to neither side."""
    assert set(STEP_SIDES) == set(Action)
    sideless = {action for action in Action if all(side_of(action, facts(state)) is None for state in State)}
    assert sideless == {Action.RAISE_DISAGREEMENT, Action.RESOLVE_DISAGREEMENT}


def facts(state: State, hats: frozenset[str] = frozenset(), **others: int | None) -> Facts:
    """A handover from team 1 to team 2, in `state`, on which the person ME holds `hats` and SOMEONE the rest."""
    people: dict[str, int | None] = {hat: (ME if hat in hats else SOMEONE) for hat in HATS}
    people["on_behalf_of"] = ME if "on_behalf_of" in hats else None
    people |= others
    author = people.pop("author_id")
    assert author is not None
    return Facts(state=state, author_id=author, sending_team_id=SENDING, receiving_team_id=RECEIVING, **people)


TEAM_SETS = st.frozensets(st.sampled_from([SENDING, RECEIVING, ELSEWHERE]))


@given(
    state=st.sampled_from(list(State)),
    hats=st.frozensets(st.sampled_from(list(HATS)), min_size=1),
    worker_teams=TEAM_SETS,
    manager_teams=TEAM_SETS,
    named_endorser=st.sampled_from([None, ME, SOMEONE]),
    named_approver=st.sampled_from([None, ME, SOMEONE]),
    team_addressed=st.booleans(),
)
def test_nobody_takes_a_step_of_the_side_they_do_not_stand_on(
    state: State,
    hats: frozenset[str],
    worker_teams: frozenset[int],
    manager_teams: frozenset[int],
    named_endorser: int | None,
    named_approver: int | None,
    team_addressed: bool,
) -> None:
    """For every step, in every state, whatever teams the person works in or manages and whatever they were named
    for: someone who wrote, endorsed or has the handover written for them never takes a receiving step, and someone
    named to receive it or who acknowledged it never takes a sending step; where nothing else stops them, the refusal
    names the part of theirs that does."""
    person = Actor(user_id=ME, worker_teams=worker_teams, manager_teams=manager_teams)
    extra: dict[str, int | None] = {"named_endorser": named_endorser, "named_approver": named_approver}
    if team_addressed and "receiver_id" not in hats:
        extra["receiver_id"] = None
    mine = facts(state, hats, **extra)
    for action in Action:
        side = side_of(action, mine)
        held_elsewhere = [hat for hat in hats if side is not None and HATS[hat] != side]
        if not held_elsewhere:
            continue
        assert refusals(action, mine, person, "A reason"), (action, hats)
        assert person_refusals(action, mine, person), (action, hats)
        # were they not on the other side, would their role let them take the step? then the refusal names them
        without = msgspec.structs.replace(
            mine,
            **{hat: (None if hat == "on_behalf_of" else SOMEONE) for hat in held_elsewhere},
        )
        if not person_refusals(action, without, person):
            said = " ".join(person_refusals(action, mine, person)).lower()
            assert any(words in said for hat in held_elsewhere for words in NAMED_AS[hat]), (action, hats, said)


@given(state=st.sampled_from(list(State)), hats=st.frozensets(st.sampled_from(list(HATS))))
def test_the_sides_a_person_stands_on_are_those_of_their_parts(state: State, hats: frozenset[str]) -> None:
    taken = sides_taken(facts(state, hats), Actor(user_id=ME))
    assert set(taken) == {HATS[hat] for hat in hats}


def test_the_author_who_manages_the_receiving_team_may_not_return_it_either_way() -> None:
    """The review's case: the author became a manager of the receiving team before the receiver acknowledged."""
    acknowledged = facts(State.ACKNOWLEDGED, frozenset({"author_id"}))
    author = Actor(user_id=ME, worker_teams=frozenset({SENDING}), manager_teams=frozenset({RECEIVING}))
    for action in (Action.RETURN_TO_RECEIVER, Action.RETURN_TO_OUTGOING, Action.APPROVE):
        reasons = refusals(action, acknowledged, author, "A query")
        assert reasons and "you wrote" in " ".join(reasons).lower(), action


async def group_acknowledged(site: Site) -> tuple[int, list[int]]:
    """Mia and Liam's group handover from "out" (North) to "rec" (Cp), endorsed by "smgr" and acknowledged."""
    from service.core.workflow import Action as A

    group_id = await start_group(site.db, site.world)
    await fill_group(site.db, site.world, group_id)
    ids = await member_ids(site.db, group_id)
    await step(site.db, site.world, "out", ids[0], A.SUBMIT)
    await step(site.db, site.world, "smgr", ids[0], A.ENDORSE)
    await confirm_everything(site.db, site.world, group_id)
    await step(site.db, site.world, "rec", ids[0], A.ACKNOWLEDGE)
    return group_id, ids


async def test_the_author_made_a_receiving_manager_cannot_return_their_group_handover(site: Site) -> None:
    _, ids = await group_acknowledged(site)
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["out"], site.world.teams["cp"], "manager")
    out = await site.as_user("out")
    page = (await out.get(f"/handovers/{ids[0]}/view")).text
    assert "Return to receiving worker" not in page and "Approve transfer" not in page
    for button, data in (("return-to-receiver", {"reason": "Please check"}), ("return", {"reason": "Please check"})):
        handover = await db.handover_by_id(site.db.reader, ids[0])
        assert handover is not None
        form = {"handover_version": str(handover.version), **data}
        response = await out.post(f"/handovers/{ids[0]}/{button}", form)
        assert response.status_code != 303, button
        assert "you wrote this handover" in response.text.lower(), button
    for handover_id in ids:
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None and handover.state == "acknowledged"
    # the receiving team's own manager still can
    rmgr = await site.as_user("rmgr")
    assert (await act(rmgr, ids[0], "return-to-receiver", reason="Please check the plan")).status_code == 303


async def group_submitted_with_no_sending_manager(site: Site) -> tuple[int, list[int]]:
    """The group handover submitted from North, whose managers have all since left the team: an administrator must
    name someone to endorse it."""
    group_id = await start_group(site.db, site.world)
    await fill_group(site.db, site.world, group_id)
    ids = await member_ids(site.db, group_id)
    await step(site.db, site.world, "out", ids[0], Action.SUBMIT)
    async with site.db.transaction() as conn:
        await conn.execute(
            "DELETE FROM memberships WHERE team_id = ? AND role = 'manager'", (site.world.teams["north"],)
        )
    return group_id, ids


async def test_naming_a_manager_for_one_child_names_them_for_the_whole_group(site: Site) -> None:
    group_id, ids = await group_submitted_with_no_sending_manager(site)
    admin = await actor(site.db, site.world, "adm")
    assert await actions.name_step_manager(site.db, ids[-1], step="endorse", manager="omgr", by=admin) == "Omgr"
    named = await db.named_for(site.db.reader, site.world.users["omgr"])
    assert sorted(h.id for h in named) == sorted(ids)
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=1000) if e.entry.action == "name_manager"]
    assert sorted(e.object_id or 0 for e in entries) == sorted(ids)
    assert all(e.actor_id == site.world.users["adm"] and e.details.get("for_the_group") for e in entries)
    omgr = await site.as_user("omgr")
    for handover_id in ids:
        assert "Endorse: ready to transfer" in (await omgr.get(f"/handovers/{handover_id}/view")).text
    assert (await act(omgr, ids[0], "endorse")).status_code == 303
    for handover_id in ids:
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None and handover.state == "endorsed"
        assert handover.endorsed_by == site.world.users["omgr"] and handover.group_handover_id == group_id


async def test_a_step_button_shows_only_when_it_can_be_taken_for_the_whole_group(site: Site) -> None:
    """A manager named for one child's step alone (as before naming covered the group) is not offered a button
    that the group's other children would refuse."""
    _, ids = await group_submitted_with_no_sending_manager(site)
    async with site.db.transaction() as conn:
        await db.name_manager(conn, ids[0], "endorse", site.world.users["omgr"], site.world.users["adm"])
    omgr = await site.as_user("omgr")
    page = (await omgr.get(f"/handovers/{ids[0]}/view")).text
    assert "Endorse: ready to transfer" not in page


async def test_naming_for_a_group_refuses_whoever_may_not_take_the_step_for_any_child(site: Site) -> None:
    _, ids = await group_submitted_with_no_sending_manager(site)
    admin = await actor(site.db, site.world, "adm")
    # rmgr manages the receiving team: naming them would put them on both sides of every child's handover
    from service.core.errors import Invalid

    with pytest.raises(Invalid) as refused:
        await actions.name_step_manager(site.db, ids[0], step="endorse", manager="rmgr", by=admin)
    assert "receiving team" in refused.value.errors["manager"]
    assert await db.named_for(site.db.reader, site.world.users["rmgr"]) == []


async def test_the_command_line_names_a_manager_for_the_whole_group(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ids = await group_submitted_with_no_sending_manager(site)
    settings = site.app.state.settings
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    command = ["name-manager", str(ids[0]), "--step", "endorse", "--manager", "omgr"]
    assert await anyio.to_thread.run_sync(cli.main, command) == 0
    named = await db.named_for(site.db.reader, site.world.users["omgr"])
    assert sorted(h.id for h in named) == sorted(ids)


async def test_the_inbox_leaves_out_a_group_the_worker_endorsed(site: Site) -> None:
    """ "both" manages North and Cp and also works in Cp: a group addressed to Cp that he endorsed is not offered to
    him to take on (he may not), and his count of what waits for him agrees; Cp's other workers are offered it."""
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["both"], site.world.teams["cp"], "worker")
    group_id = await start_group(site.db, site.world, receiver=None)
    await fill_group(site.db, site.world, group_id)
    ids = await member_ids(site.db, group_id)
    await step(site.db, site.world, "out", ids[0], Action.SUBMIT)
    await step(site.db, site.world, "both", ids[0], Action.ENDORSE)
    both = await site.as_user("both")
    inbox = (await both.get("/inbox")).text
    assert not any(f"/handovers/{handover_id}/" in inbox for handover_id in ids)
    counts = await db.waiting_counts(site.db.reader, site.world.users["both"], [site.world.teams["cp"]], [])
    assert counts.to_acknowledge == 0
    rec = await site.as_user("rec")
    offered = (await rec.get("/inbox")).text
    assert all(f"/handovers/{handover_id}/" in offered for handover_id in ids)
    counts = await db.waiting_counts(site.db.reader, site.world.users["rec"], [site.world.teams["cp"]], [])
    assert counts.to_acknowledge == len(ids)
