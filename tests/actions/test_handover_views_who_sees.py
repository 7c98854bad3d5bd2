"""What a person is shown: the handover with its answers and what the state machine knows of it (`load`,
`visible`), its row alone (`visible_record`), what they received (`received_by`) and how many wait for them
(`waiting_for`), for each person, including the cases the demo never makes: a handover returned after a receiver
was named, one sent to a team with no receiver named, an auditor, a person with no role in it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from msgspec.structs import replace

from service import actions, db
from service.core.answers import ChildRecord, SectionAnswers
from service.core.clock import today
from service.core.errors import NotFound
from service.core.workflow import Actor, State
from tests.conftest import PASSWORD_HASH, World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete

pytestmark = pytest.mark.anyio

EVERYONE = ["out", "out2", "rec", "rec2", "smgr", "smgr2", "rmgr", "rmgr2", "both", "other", "omgr", "aud", "adm"]
TITLES = ["Case summary", "Records up to date", "Open risks", "Sibling abuse history", "Parenting-capacity assessment",
          "Child protection plan and category", "The child's views", "Multi-agency network", "Outstanding actions",
          "Professional disagreements", "Handover arrangements"]  # fmt: skip
CRITICAL = ("Open risks", "Sibling abuse history", "Parenting-capacity assessment")


async def handover(
    database: db.Database, world: World, case: str = "mia", receiver: str | None = "rec", **columns: Any
) -> int:
    """A handover of `case` from out (North) to the CP team, with these columns set as if the steps were taken."""
    handover_id = await actions.start_handover(
        database, await actor(database, world, "out"), CHECKLIST, case_id=world.cases[case],
        receiving_team_id=world.teams["cp"], receiver_id=world.users[receiver] if receiver else None,
        apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    last_activity_at = columns.pop("last_activity_at", None)
    async with database.transaction() as conn:
        if columns:
            await db.update_handover(conn, handover_id, 1, **columns)
        if last_activity_at:  # the order of the lists by most recent activity
            await conn.execute(
                "UPDATE handovers SET last_activity_at = ? WHERE id = ?", (last_activity_at, handover_id)
            )
    return handover_id


async def who_sees(database: db.Database, world: World, handover_id: int) -> list[str]:
    """Everyone who may see the handover, asked both ways (its answers and its row alone), which must agree."""
    seen = []
    for name in EVERYONE:
        person = await actor(database, world, name)
        try:
            view = await actions.visible(database.reader, CHECKLISTS, person, handover_id)
        except NotFound as refused:
            assert str(refused) == f"handover {handover_id}"
            with pytest.raises(NotFound) as also:
                await actions.visible_record(database.reader, person, handover_id)
            assert str(also.value) == f"handover {handover_id}"
            continue
        assert view.handover.id == handover_id
        assert (await actions.visible_record(database.reader, person, handover_id)) == view.handover
        seen.append(name)
    return seen


async def test_a_draft_is_seen_only_by_its_author_the_sending_managers_and_the_auditor(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world)
    assert await who_sees(database, world, handover_id) == ["out", "smgr", "smgr2", "both", "aud"]


async def test_a_submitted_handover_has_not_yet_reached_the_receiving_side(database: db.Database, world: World) -> None:
    handover_id = await handover(database, world, state="submitted")
    assert await who_sees(database, world, handover_id) == ["out", "smgr", "smgr2", "both", "aud"]


@pytest.mark.parametrize("state", ["endorsed", "acknowledged", "closed"])
async def test_once_endorsed_the_named_receiver_and_the_receiving_managers_see_it(
    database: db.Database, world: World, state: str
) -> None:
    handover_id = await handover(database, world, state=state)
    assert await who_sees(database, world, handover_id) == ["out", "rec", "smgr", "smgr2", "rmgr", "rmgr2", "both",
                                                            "aud"]  # fmt: skip


async def test_once_endorsed_to_a_team_every_worker_of_that_team_sees_it(database: db.Database, world: World) -> None:
    handover_id = await handover(database, world, receiver=None, state="endorsed")
    assert await who_sees(database, world, handover_id) == ["out", "rec", "rec2", "smgr", "smgr2", "rmgr", "rmgr2",
                                                            "both", "aud"]  # fmt: skip


async def test_a_returned_handover_with_a_named_receiver_stays_visible_to_that_receiver_only(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, state="returned")
    assert await who_sees(database, world, handover_id) == ["out", "rec", "smgr", "smgr2", "rmgr", "rmgr2", "both",
                                                            "aud"]  # fmt: skip


async def test_a_returned_handover_sent_to_a_team_is_hidden_from_the_teams_workers(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, receiver=None, state="returned")
    assert await who_sees(database, world, handover_id) == ["out", "smgr", "smgr2", "both", "aud"]


async def test_a_cancelled_handover_is_seen_by_the_sending_side_and_the_auditor(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, state="cancelled")
    assert await who_sees(database, world, handover_id) == ["out", "smgr", "smgr2", "both", "aud"]


async def test_a_handover_that_does_not_exist_is_not_found_even_by_the_auditor(
    database: db.Database, world: World
) -> None:
    auditor = await actor(database, world, "aud")
    with pytest.raises(NotFound) as refused:
        await actions.visible(database.reader, CHECKLISTS, auditor, 77)
    assert str(refused.value) == "handover 77"
    with pytest.raises(NotFound) as also:
        await actions.visible_record(database.reader, auditor, 77)
    assert str(also.value) == "handover 77"
    assert await actions.load(database.reader, CHECKLISTS, 77) is None


async def test_loading_a_handover_reads_its_checklist_answers_and_confirmations(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, state="endorsed")
    out = await actor(database, world, "out")
    async with database.transaction() as conn:
        await db.update_handover(conn, handover_id, 2, state="draft")
    await actions.save_section(database, CHECKLISTS, out, handover_id, "childs-views",
                               SectionAnswers(values={"views": "Stay at school"}), 0, finished=False)  # fmt: skip
    async with database.transaction() as conn:
        await db.update_handover(conn, handover_id, 3, state="endorsed")
        await db.confirm_section(conn, handover_id, "open-risks", world.users["rec"], "I take on the risk.")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert (view.handover.id, view.checklist.id, view.checklist.version) == (handover_id, "case-transfer", 1)
    assert {k: (v.answers.values, v.status) for k, v in view.sections.items()} == {
        "childs-views": ({"views": "Stay at school"}, "in_progress")
    }
    assert {k: (c.user_id, c.readback) for k, c in view.confirmations.items()} == {
        "open-risks": (world.users["rec"], "I take on the risk.")
    }
    assert view.answers("childs-views") == SectionAnswers(values={"views": "Stay at school"})
    assert view.answers("network") == SectionAnswers()
    assert view.facts.state == State.ENDORSED
    assert view.facts.unconfirmed_items == CRITICAL[1:]


async def test_a_handover_on_checklist_v2_is_loaded_with_checklist_v2(database: db.Database, world: World) -> None:
    handover_id = await actions.start_handover(
        database, await actor(database, world, "out"), CHECKLISTS[("case-transfer", 2)], case_id=world.cases["mia"],
        receiving_team_id=world.teams["cp"], receiver_id=None, apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None and (view.checklist.id, view.checklist.version) == ("case-transfer", 2)


async def test_what_stops_submission_is_counted_and_named_by_section_in_checklist_order(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world)
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert (view.facts.submission_problems, view.facts.incomplete_sections) == (11, tuple(TITLES))
    out = await actor(database, world, "out")
    await actions.save_section(database, CHECKLISTS, out, handover_id, "childs-views", SectionAnswers(), 0,
                               finished=False)  # fmt: skip
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    # two answers missing from one section: two things to do, one section named once
    assert (view.facts.submission_problems, view.facts.incomplete_sections) == (12, tuple(TITLES))


async def test_a_case_summary_that_does_not_restate_the_case_record_stops_submission(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world)
    out = await actor(database, world, "out")
    answers = complete()
    answers["case-summary"] = SectionAnswers(values={**answers["case-summary"].values, "child_name": "Mia Tester"})
    for section_id, section_answers in answers.items():
        await actions.save_section(
            database, CHECKLISTS, out, handover_id, section_id, section_answers, 0, finished=False
        )
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert (view.facts.submission_problems, view.facts.incomplete_sections) == (1, ("Case summary",))


async def test_an_item_counts_as_confirmed_only_by_the_named_receiver(database: db.Database, world: World) -> None:
    handover_id = await handover(database, world, state="endorsed")
    async with database.transaction() as conn:
        await db.confirm_section(conn, handover_id, "open-risks", world.users["rec2"], "I take it on.")
        await db.confirm_section(conn, handover_id, "sibling-harm", world.users["rec"], "I take it on.")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert view.facts.unconfirmed_items == ("Open risks", "Parenting-capacity assessment")


async def test_with_no_receiver_named_an_item_confirmed_by_a_worker_of_the_team_counts(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, receiver=None, state="endorsed")
    async with database.transaction() as conn:
        await db.confirm_section(conn, handover_id, "open-risks", world.users["rec2"], "I take it on.")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert view.facts.unconfirmed_items == ("Sibling abuse history", "Parenting-capacity assessment")


async def test_a_section_made_critical_by_its_answers_must_be_confirmed(database: db.Database, world: World) -> None:
    handover_id = await handover(database, world)
    out = await actor(database, world, "out")
    await actions.save_section(database, CHECKLISTS, out, handover_id, "cp-category",
                               SectionAnswers(values={"has_cp_plan": "yes"}), 0, finished=False)  # fmt: skip
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert view.facts.unconfirmed_items == (*CRITICAL, "Child protection plan and category")
    assert [s.id for s in view.critical_sections()] == ["open-risks", "sibling-harm", "parenting-capacity",
                                                        "cp-category"]  # fmt: skip


async def test_the_facts_carry_the_stored_stale_records_and_overdue_disagreements_as_sentences(
    database: db.Database, world: World
) -> None:
    flags = [{"key": "k", "message": "The chronology was last updated: 1 May 2025", "judged_at": "submission",
              "reason": "On leave"}]  # fmt: skip
    handover_id = await handover(database, world, state="submitted", record_flags=msgspec.json.encode(flags).decode())
    async with database.transaction() as conn:
        await db.raise_disagreement(conn, handover_id, world.users["smgr"], "Contact", "School", "", stage="informal",
                                    stage_since="2020-01-06")  # fmt: skip
        await db.raise_disagreement(conn, handover_id, world.users["smgr"], "Plan", "GP", "", stage="informal",
                                    stage_since=today().isoformat())  # fmt: skip
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    assert view.facts.stale_records == (
        "Record not up to date at submission: The chronology was last updated: 1 May 2025 (reason given: On leave)",
    )
    assert view.facts.open_disagreements == 2
    [overdue] = view.facts.overdue_disagreements
    assert overdue.startswith("A professional disagreement is overdue at ‘Informal discussion between professionals’: ")
    assert overdue.endswith(" working days since 6 January 2020, against a limit of 5")


async def test_the_child_is_the_case_record_with_the_siblings_in_order(database: db.Database, world: World) -> None:
    async with database.transaction() as conn:
        group = (await db.case_by_id(conn, world.cases["mia"])).sibling_group_id  # type: ignore[union-attr]
        await db.create_case(conn, "T-0", "Aaron Test", "2019-09-09", world.users["out2"], world.teams["north"], group)
    mia = await handover(database, world)
    alone = await handover(database, world, case="c1")
    view = await actions.load(database.reader, CHECKLISTS, mia)
    assert view is not None
    assert view.child == ChildRecord(name="Mia Test", date_of_birth="2015-03-14", reference="T-1",
                                     siblings=(("Aaron Test", "T-0"), ("Liam Test", "T-2")))  # fmt: skip
    assert actions.handovers.child_of(view.handover) == view.child
    alone_view = await actions.load(database.reader, CHECKLISTS, alone)
    assert alone_view is not None
    assert alone_view.child == ChildRecord(name="Child 1", date_of_birth="2016-05-05", reference="C-1", siblings=())
    # a handover whose sibling list was never stored has no siblings on record
    unstored = actions.handovers.child_of(replace(alone_view.handover, siblings_on_record=""))
    assert unstored == ChildRecord(name="Child 1", date_of_birth="2016-05-05", reference="C-1", siblings=())


async def test_the_parties_and_state_are_as_stored_and_dated_today_in_england(
    database: db.Database, world: World
) -> None:
    handover_id = await handover(database, world, receiver=None, state="endorsed", endorsed_by=world.users["smgr"],
                                 state_since="2025-06-30T23:30:00+00:00")  # fmt: skip
    record = await db.handover_by_id(database.reader, handover_id)
    assert record is not None
    facts = actions.parties_and_state(record)
    assert (facts.state, facts.author_id, facts.receiver_id, facts.endorsed_by) == (
        State.ENDORSED, world.users["out"], None, world.users["smgr"],
    )  # fmt: skip
    assert (facts.sending_team_id, facts.receiving_team_id) == (world.teams["north"], world.teams["cp"])
    assert (facts.today, str(facts.state_since)) == (today(), "2025-07-01")
    assert (facts.submission_problems, facts.unconfirmed_items, facts.incomplete_sections) == (0, (), ())


async def test_a_person_is_seen_with_their_teams_by_role_and_their_other_roles(
    database: db.Database, world: World
) -> None:
    teams = world.teams
    assert await actor(database, world, "rec") == Actor(user_id=world.users["rec"], name="Rec",
                                                        worker_teams=frozenset({teams["cp"]}))  # fmt: skip
    assert await actor(database, world, "both") == Actor(
        user_id=world.users["both"], name="Both", manager_teams=frozenset({teams["north"], teams["cp"]})
    )
    assert await actor(database, world, "aud") == Actor(user_id=world.users["aud"], name="Aud", is_auditor=True)
    assert await actor(database, world, "adm") == Actor(user_id=world.users["adm"], name="Adm", is_admin=True)
    async with database.transaction() as conn:
        service_id = await db.create_user(conn, "cms", "Case system", PASSWORD_HASH, is_service=True)
        await db.add_membership(conn, service_id, teams["south"], "worker")
    user = await db.user_by_id(database.reader, service_id)
    assert user is not None
    memberships = await db.memberships(database.reader, service_id)
    assert actions.actor_for(user, memberships) == Actor(
        user_id=service_id, name="Case system", worker_teams=frozenset({teams["south"]}), is_service=True
    )


async def test_what_each_person_received_that_no_longer_waits_for_them(database: db.Database, world: World) -> None:
    u = world.users
    waiting = await handover(database, world, case="c1", state="endorsed")
    acknowledged = await handover(database, world, case="c2", state="acknowledged", acknowledged_by=u["rec"])
    returned = await handover(database, world, case="c3", state="returned", endorsed_at="2025-01-06T09:00:00+00:00")
    await handover(database, world, case="c4", state="returned")  # returned before it was endorsed: never reached rec
    closed = await handover(database, world, case="c5", state="closed", last_activity_at="2025-01-01T09:00:00+00:00")
    to_rec2 = await handover(database, world, case="c6", receiver="rec2", state="closed")
    rec = await actor(database, world, "rec")
    received, total = await actions.received_by(database.reader, rec)
    assert sorted(h.id for h in received) == sorted([acknowledged, returned]) and total == 2
    assert waiting not in [h.id for h in received]
    assert [h.id for h in (await actions.received_by(database.reader, rec, finished=True))[0]] == [closed]
    rec2 = await actor(database, world, "rec2")
    assert await actions.received_by(database.reader, rec2) == ([], 0)
    assert [h.id for h in (await actions.received_by(database.reader, rec2, finished=True))[0]] == [to_rec2]
    rmgr = await actor(database, world, "rmgr")
    for finished in (False, True):
        assert await actions.received_by(database.reader, rmgr, finished=finished) == ([], 0)


async def test_every_closed_handover_received_is_listed_a_page_at_a_time_most_recent_first(
    database: db.Database, world: World
) -> None:
    async with database.transaction() as conn:
        for number in range(9, 12):
            world.cases[f"c{number}"] = await db.create_case(conn, f"C-{number}", f"Child {number}", "2016-05-05",
                                                             world.users["out"], world.teams["north"])  # fmt: skip
    closed = []
    for number in range(1, 12):
        stamp = f"2025-01-{number:02}T09:00:00+00:00"
        closed.append(await handover(database, world, case=f"c{number}", state="closed", last_activity_at=stamp))
    rec = await actor(database, world, "rec")
    received, total = await actions.received_by(database.reader, rec, finished=True)
    assert [h.id for h in received] == closed[::-1] and total == 11
    received, total = await actions.received_by(database.reader, rec, finished=True, limit=2, offset=10)
    assert [h.id for h in received] == [closed[0]] and total == 11


async def test_how_many_handovers_wait_for_each_person(database: db.Database, world: World) -> None:
    await handover(database, world, case="c1")
    await handover(database, world, case="c2", state="returned")
    await handover(database, world, case="c3", state="submitted")
    await handover(database, world, case="c4", state="endorsed")
    await handover(database, world, case="c5", receiver=None, state="endorsed")
    await handover(database, world, case="c6", receiver="rec2", state="endorsed")
    await handover(database, world, case="c7", state="acknowledged", acknowledged_by=world.users["rec"])
    await handover(database, world, case="c8", state="acknowledged", acknowledged_by=world.users["rec"])
    counts = {}
    for name in ("out", "rec", "rec2", "smgr", "rmgr", "both", "other", "aud", "adm"):
        waits = await actions.waiting_for(database.reader, await actor(database, world, name))
        counts[name] = (waits.drafts, waits.returned, waits.to_acknowledge, waits.to_endorse, waits.to_approve)
    assert counts == {
        "out": (1, 1, 0, 0, 0),
        "rec": (0, 0, 2, 0, 0),
        "rec2": (0, 0, 2, 0, 0),
        "smgr": (0, 0, 0, 1, 0),
        "rmgr": (0, 0, 0, 0, 2),
        "both": (0, 0, 0, 1, 2),
        "other": (0, 0, 0, 0, 0),
        "aud": (0, 0, 0, 0, 0),
        "adm": (0, 0, 0, 0, 0),
    }
