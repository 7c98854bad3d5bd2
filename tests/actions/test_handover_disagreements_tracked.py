"""Each disagreement the checklist's rows record becomes a tracked disagreement when the handover is submitted: once
(the same about and with whom, in any case and spacing, is one disagreement, on a later submission too), raised by
the outgoing worker, at the row's stage, since the date the row gives or else the day it is submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service import actions, db
from service.actions.demo import complete_answers
from service.actions.handovers import _reached
from service.checklist import load_file
from service.core.clock import today
from service.core.workflow import Action
from tests.conftest import World
from tests.helpers import APART, CHECKLISTS, actor, checklist_changed, on_record_of

pytestmark = pytest.mark.anyio

SCHOOL = {
    "about": "Whether the mother can protect Mia if Liam comes home.",
    "with_whom": "Designated safeguarding lead, Hillside Primary School",
    "stage": "informal",
    "next_step": "Discuss at the next core group.",
    "next_step_by": "2030-05-01",
}
POLICE = {
    "about": "Whether Liam should be charged.",
    "with_whom": "Police child abuse investigation team",
    "stage": "manager",
    "next_step": "Meeting of both managers.",
    "next_step_by": "2030-06-12",
}
SCHOOL_KEY = (
    "whether the mother can protect mia if liam comes home.\x1fdesignated safeguarding lead, hillside primary school"
)


def rows(*given: dict[str, str]) -> dict[str, Any]:
    return {"disagreements": {"any_disagreements": "yes", "disagreements_rows": list(given)}}


async def version_of(database: db.Database, handover_id: int) -> int:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover.version


async def submitted(
    database: db.Database, world: World, answers: dict[str, Any], *, version: int = 1, case: str = "mia"
) -> int:
    out = await actor(database, world, "out")
    checklist = CHECKLISTS[("case-transfer", version)]
    handover_id = await actions.start_handover(
        database, out, checklist, case_id=world.cases[case], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    for section_id, section_answers in complete_answers(
        checklist, today(), **answers, **{"case-summary": on_record_of(case)}
    ).items():
        _, errors = await actions.save_section(
            database, CHECKLISTS, out, handover_id, section_id, section_answers, 0, finished=True
        )
        assert not errors, errors
    await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, await version_of(database, handover_id))
    return handover_id


def tracked(disagreement: db.Disagreement) -> tuple[Any, ...]:
    d = disagreement
    return (d.raised_by, d.about, d.with_whom, d.view, d.status, d.stage, d.stage_since, d.next_step, d.next_step_by)


async def test_every_row_becomes_a_tracked_disagreement_raised_by_the_outgoing_worker_at_its_stage(
    database: db.Database, world: World
) -> None:
    handover_id = await submitted(database, world, rows(SCHOOL, POLICE))
    found = await db.disagreements_of(database.reader, handover_id)
    out, day = world.users["out"], today().isoformat()
    assert [tracked(d) for d in found] == [
        (out, SCHOOL["about"], SCHOOL["with_whom"], "", "open", "informal", day, "Discuss at the next core group.",
         "2030-05-01"),
        (out, POLICE["about"], POLICE["with_whom"], "", "open", "manager", day, "Meeting of both managers.",
         "2030-06-12"),
    ]  # fmt: skip
    assert found[0].checklist_key == SCHOOL_KEY
    assert found[1].checklist_key == "whether liam should be charged.\x1fpolice child abuse investigation team"


async def test_the_same_row_twice_is_tracked_once(database: db.Database, world: World) -> None:
    again = SCHOOL | {"about": "  WHETHER the mother can protect  Mia if Liam comes home. ", "stage": "manager"}
    handover_id = await submitted(database, world, rows(SCHOOL, again, POLICE))
    found = await db.disagreements_of(database.reader, handover_id)
    assert [(d.about, d.stage) for d in found] == [(SCHOOL["about"], "informal"), (POLICE["about"], "manager")]


async def test_a_resubmission_tracks_only_the_new_rows_and_keeps_removed_ones_open(
    database: db.Database, world: World
) -> None:
    handover_id = await submitted(database, world, rows(POLICE, SCHOOL))
    smgr, out = await actor(database, world, "smgr"), await actor(database, world, "out")
    await actions.act(database, CHECKLISTS, smgr, handover_id, Action.RETURN_TO_OUTGOING,
                      await version_of(database, handover_id), "Add the school's view")  # fmt: skip
    new = {**SCHOOL, "about": "Whether Mia should change school.", "stage": "head_of_service"}
    answers = complete_answers(CHECKLISTS[("case-transfer", 1)], today(), **rows(SCHOOL, new))["disagreements"]
    _, errors = await actions.save_section(
        database, CHECKLISTS, out, handover_id, "disagreements", answers, 1, finished=True
    )
    assert not errors, errors
    await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, await version_of(database, handover_id),
                      reply="Added the school's view")  # fmt: skip
    found = await db.disagreements_of(database.reader, handover_id)
    assert [(d.about, d.stage, d.status) for d in found] == [
        (POLICE["about"], "manager", "open"),
        (SCHOOL["about"], "informal", "open"),
        ("Whether Mia should change school.", "head_of_service", "open"),
    ]


async def test_a_handover_recording_no_disagreement_tracks_none(database: db.Database, world: World) -> None:
    handover_id = await submitted(database, world, {})
    assert await db.disagreements_of(database.reader, handover_id) == []


async def test_the_time_at_a_stage_counts_from_the_date_the_row_gives(database: db.Database, world: World) -> None:
    handover_id = await submitted(
        database, world, rows(SCHOOL | {"stage_reached_on": "2025-01-06"}, POLICE | {"stage_reached_on": ""}),
        version=2,
    )  # fmt: skip
    found = await db.disagreements_of(database.reader, handover_id)
    assert [d.stage_since for d in found] == ["2025-01-06", today().isoformat()]


def test_a_stage_reached_in_the_future_or_not_a_date_counts_from_today() -> None:
    assert _reached("2025-01-06") == "2025-01-06"
    assert _reached(today().isoformat()) == today().isoformat()
    for given in ("2999-01-01", "", "6/1/2025", "nonsense"):
        assert _reached(given) == today().isoformat(), given


async def test_a_row_without_a_stage_starts_at_the_lowest_stage_where_the_checklist_makes_it_optional(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    optional = load_file(checklist_changed(tmp_path, 1, 'id = "stage"\ntype = "radios"\n',
                                           'id = "stage"\ntype = "radios"\nrequired = false\n'))  # fmt: skip
    checklists = {**CHECKLISTS, ("case-transfer", 1): optional}
    out = await actor(database, world, "out")
    handover_id = await actions.start_handover(
        database, out, optional, case_id=world.cases["mia"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    answers = rows(SCHOOL | {"stage": ""}, POLICE)
    for section_id, section_answers in complete_answers(
        optional, today(), **answers, **{"case-summary": on_record_of("mia")}
    ).items():
        _, errors = await actions.save_section(
            database, checklists, out, handover_id, section_id, section_answers, 0, finished=True
        )
        assert not errors, errors
    await actions.act(database, checklists, out, handover_id, Action.SUBMIT, await version_of(database, handover_id))
    found = await db.disagreements_of(database.reader, handover_id)
    assert [(d.about, d.stage) for d in found] == [(SCHOOL["about"], "informal"), (POLICE["about"], "manager")]
