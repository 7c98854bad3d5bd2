"""A sibling group's handover through the real actions: one handover per child, started together; the family's
sections answered once for every child; the workflow acting on every child's handover at once, refused for all
when refused for one (naming the child); approval moving every child together."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.core.answers import SectionAnswers
from service.core.errors import Invalid, Refused
from service.core.workflow import Action
from tests.conftest import World
from tests.group_support import (
    V3,
    add_children,
    answers_for,
    confirm_everything,
    fill_group,
    member_ids,
    start_group,
    step,
)
from tests.helpers import CHECKLISTS, actor

pytestmark = pytest.mark.anyio


async def entries(database: db.Database, object_type: str, action: str) -> list[Any]:
    return [e.entry for e in await db.audit_entries(database.reader)
            if e.entry.object_type == object_type and e.entry.action == action]  # fmt: skip


async def states(database: db.Database, group_id: int) -> list[str]:
    return [member.state for member in await db.group_members(database.reader, group_id)]


async def test_starting_a_group_starts_one_handover_per_child_with_the_same_people(
    database: db.Database, world: World
) -> None:
    group_id = await start_group(database, world)
    handovers = [await db.handover_by_id(database.reader, i) for i in await member_ids(database, group_id)]
    assert [h.child_name for h in handovers if h] == ["Liam Test", "Mia Test"]
    assert {(h.author_id, h.sending_team_id, h.receiving_team_id, h.receiver_id, h.checklist_version, h.state)
            for h in handovers if h} == {(world.users["out"], world.teams["north"], world.teams["cp"],
                                          world.users["rec"], 3, "draft")}  # fmt: skip
    assert {h.group_handover_id for h in handovers if h} == {group_id}
    started = await entries(database, "group_handover", "start_group")
    assert [entry.object_id for entry in started] == [group_id]


async def test_leaving_a_child_out_needs_a_reason_said_by_the_child(database: db.Database, world: World) -> None:
    with pytest.raises(Invalid) as refused:
        await start_group(database, world, left_out={"liam": "  "})
    assert refused.value.errors == {f"reason-{world.cases['liam']}": "Enter why Liam Test is not part of this handover"}
    assert await db.case_by_id(database.reader, world.cases["mia"]) is not None
    assert (await db.case_by_id(database.reader, world.cases["mia"])).open_handover_id is None  # type: ignore[union-attr]

    group_id = await start_group(database, world, left_out={"liam": "Liam stays with the leaving care team"})
    assert [m.child_name for m in await db.group_members(database.reader, group_id)] == ["Mia Test"]
    left = await db.group_exclusions(database.reader, group_id)
    assert [(x.child_name, x.reason) for x in left] == [("Liam Test", "Liam stays with the leaving care team")]


async def test_nobody_included_or_a_child_not_yours_is_refused(database: db.Database, world: World) -> None:
    with pytest.raises(Invalid) as refused:
        await start_group(database, world, left_out={"mia": "Elsewhere", "liam": "Elsewhere"})
    assert refused.value.errors["children"] == "Select at least one child to hand over"
    async with database.transaction() as conn:
        await db.reallocate_case(conn, world.cases["liam"], world.users["out2"], world.teams["north"])
    with pytest.raises(Invalid) as refused:
        await start_group(database, world)
    assert refused.value.errors["children"] == "Liam Test is not allocated to you: leave them out and say why"


async def test_a_family_section_is_saved_for_every_child_in_one_audit_entry(
    database: db.Database, world: World
) -> None:
    group_id = await start_group(database, world)
    liam_id, mia_id = await member_ids(database, group_id)
    answers = (await answers_for(database, mia_id))["network"]
    out = await actor(database, world, "out")
    await actions.save_section(database, CHECKLISTS, out, mia_id, "network", answers, 0, finished=True)
    liam = await db.sections_of(database.reader, liam_id)
    mia = await db.sections_of(database.reader, mia_id)
    assert liam["network"].answers == mia["network"].answers == answers
    assert liam["network"].status == "completed"
    saves = await entries(database, "handover", "save_section")
    assert len(saves) == 1 and saves[0].details["for_the_family"] == [liam_id]
    # a child's own section stays theirs
    summary = (await answers_for(database, mia_id))["case-summary"]
    await actions.save_section(database, CHECKLISTS, out, mia_id, "case-summary", summary, 0, finished=True)
    assert "case-summary" not in await db.sections_of(database.reader, liam_id)


async def test_sibling_harm_names_children_of_the_group_or_someone_outside(database: db.Database, world: World) -> None:
    group_id = await start_group(database, world)
    _, mia_id = await member_ids(database, group_id)
    section = V3.section("sibling-harm")
    assert section is not None
    row = dict((await answers_for(database, mia_id))["sibling-harm"].groups["incidents"][0])
    out = await actor(database, world, "out")
    for chosen, outside, expected in (("T-1", "", "completed"), ("outside", "Their half-brother Kai, 19", "completed"),
                                      ("outside", "", "has_errors")):  # fmt: skip
        incident = {**row, "child_harmed": chosen, "child_harmed_outside": outside}
        answers = SectionAnswers(values={"sibling_harm": "yes"}, groups={"incidents": [incident]})
        version = await db.section_version(database.reader, mia_id, "sibling-harm")
        _, messages = await actions.save_section(database, CHECKLISTS, out, mia_id, "sibling-harm", answers, version,
                                                 finished=True)  # fmt: skip
        assert (await db.sections_of(database.reader, mia_id))["sibling-harm"].status == expected, (chosen, messages)
    # a child not in the group is refused, and nothing of the save is stored
    incident = {**row, "child_harmed": "Z-9", "child_harmed_outside": ""}
    answers = SectionAnswers(values={"sibling_harm": "yes"}, groups={"incidents": [incident]})
    version = await db.section_version(database.reader, mia_id, "sibling-harm")
    with pytest.raises(Invalid) as refused:
        await actions.save_section(database, CHECKLISTS, out, mia_id, "sibling-harm", answers, version, finished=True)
    assert refused.value.errors == {
        "incidents-0-child_harmed": "Select one of the children given for ‘Child who was harmed’"
    }
    assert await db.section_version(database.reader, mia_id, "sibling-harm") == version


async def test_submitting_is_refused_for_all_when_one_child_is_not_ready(database: db.Database, world: World) -> None:
    group_id = await start_group(database, world)
    liam_id, mia_id = await member_ids(database, group_id)
    await fill_group(database, world, group_id, skip=(liam_id, "childs-views"))
    with pytest.raises(Refused) as refused:
        await step(database, world, "out", mia_id, Action.SUBMIT)
    assert refused.value.reasons == ["Liam Test: There is 1 thing to complete or correct"]
    assert await states(database, group_id) == ["draft", "draft"]


async def test_the_group_moves_together_and_approval_moves_every_child(database: db.Database, world: World) -> None:
    group_id = await start_group(database, world)
    liam_id, mia_id = await member_ids(database, group_id)
    await fill_group(database, world, group_id)
    await step(database, world, "out", mia_id, Action.SUBMIT)
    assert await states(database, group_id) == ["submitted", "submitted"]
    await step(database, world, "smgr", liam_id, Action.ENDORSE)
    assert await states(database, group_id) == ["endorsed", "endorsed"]
    # acknowledging with a child's item unconfirmed is refused for both, naming the child
    with pytest.raises(Refused) as refused:
        await step(database, world, "rec", mia_id, Action.ACKNOWLEDGE)
    assert any(reason.startswith("Liam Test, Mia Test: Confirm") for reason in refused.value.reasons), refused.value
    await confirm_everything(database, world, group_id)
    confirmed = {i: set(await db.confirmations_of(database.reader, i)) for i in (liam_id, mia_id)}
    assert confirmed[liam_id] == confirmed[mia_id] and "sibling-harm" in confirmed[mia_id]
    await step(database, world, "rec", mia_id, Action.ACKNOWLEDGE)
    for case in ("mia", "liam"):
        assert (await db.case_by_id(database.reader, world.cases[case])).allocated_worker_id == world.users["out"]  # type: ignore[union-attr]
    await step(database, world, "rmgr", liam_id, Action.APPROVE)
    assert await states(database, group_id) == ["closed", "closed"]
    for case in ("mia", "liam"):
        case_row = await db.case_by_id(database.reader, world.cases[case])
        assert case_row is not None
        assert (case_row.allocated_worker_id, case_row.allocated_team_id) == (world.users["rec"], world.teams["cp"])


async def test_a_return_and_a_cancellation_act_on_every_child(database: db.Database, world: World) -> None:
    group_id = await start_group(database, world)
    liam_id, mia_id = await member_ids(database, group_id)
    await fill_group(database, world, group_id)
    await step(database, world, "out", mia_id, Action.SUBMIT)
    await step(database, world, "smgr", liam_id, Action.RETURN_TO_OUTGOING, "Add the date of the last core group")
    assert await states(database, group_id) == ["returned", "returned"]
    for handover_id in (liam_id, mia_id):
        assert [q.query for q in await db.queries_of(database.reader, handover_id)] == [
            "Add the date of the last core group"
        ]
    await step(database, world, "out", liam_id, Action.CANCEL, "The family moved away")
    assert await states(database, group_id) == ["cancelled", "cancelled"]


async def test_a_group_of_four_with_one_left_out(database: db.Database, world: World) -> None:
    await add_children(database, world, ["Ava Ward", "Ben Ward", "Cal Ward", "Dee Ward"])
    group_id = await start_group(database, world, "ava", left_out={"dee": "Dee is adopted next week"})
    assert len(await member_ids(database, group_id)) == 3
    await fill_group(database, world, group_id)
    first = (await member_ids(database, group_id))[0]
    await step(database, world, "out", first, Action.SUBMIT)
    await step(database, world, "smgr", first, Action.ENDORSE)
    await confirm_everything(database, world, group_id)
    await step(database, world, "rec", first, Action.ACKNOWLEDGE)
    await step(database, world, "rmgr", first, Action.APPROVE)
    workers = {name: (await db.case_by_id(database.reader, world.cases[name])).allocated_worker_id  # type: ignore[union-attr]
               for name in ("ava", "ben", "cal", "dee")}  # fmt: skip
    assert workers == {"ava": world.users["rec"], "ben": world.users["rec"], "cal": world.users["rec"],
                       "dee": world.users["out"]}  # fmt: skip
