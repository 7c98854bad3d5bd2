"""Saving a section: what is kept (valid or not, answers to hidden questions dropped), its status (completed,
has_errors, in_progress), the messages returned, the version check, the audit entry, and who may save when: only the
outgoing worker, only while the handover is a draft or returned. A refused save stores nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from msgspec.structs import replace

from service import actions, db
from service.core.answers import SectionAnswers
from service.core.clock import today
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.db.engine import _one
from tests.conftest import World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete

pytestmark = pytest.mark.anyio

VIEWS = {"views": "She wants to stay at her school and see her brother.", "how_gathered": "Alone, at school, 2 May."}
TOO_LONG = "x" * 100_001  # one character over what any answer may keep, even in a draft


async def started(database: db.Database, world: World, who: str = "out", case: str = "mia") -> int:
    return await actions.start_handover(
        database, await actor(database, world, who), CHECKLIST, case_id=world.cases[case],
        receiving_team_id=world.teams["cp"], receiver_id=world.users["rec"],
        apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip


async def save(
    database: db.Database,
    world: World,
    handover_id: int,
    section_id: str,
    values: dict[str, Any],
    base_version: int = 0,
    *,
    who: str = "out",
    finished: bool = True,
    groups: dict[str, list[dict[str, Any]]] | None = None,
    **options: Any,
) -> tuple[int, dict[str, str]]:
    answers = SectionAnswers(values=values, groups=groups or {})
    person = await actor(database, world, who)
    return await actions.save_section(
        database, CHECKLISTS, person, handover_id, section_id, answers, base_version, finished=finished, **options
    )


async def stored(database: db.Database, handover_id: int, section_id: str) -> db.SectionRecord | None:
    return (await db.sections_of(database.reader, handover_id)).get(section_id)


async def saves_audited(database: db.Database) -> list[tuple[int | None, str, int | None, dict[str, Any]]]:
    entries = await db.audit_entries(database.reader)
    return [
        (e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in entries
        if e.entry.action == "save_section"
    ]


async def put_in_state(database: db.Database, handover_id: int, state: str) -> None:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    async with database.transaction() as conn:
        await db.update_handover(conn, handover_id, handover.version, state=state)


async def test_a_valid_finished_section_is_kept_completed_with_no_messages(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    assert await save(database, world, handover_id, "childs-views", VIEWS) == (1, {})
    record = await stored(database, handover_id, "childs-views")
    assert record is not None
    assert (record.answers.values, record.status, record.version) == (VIEWS, "completed", 1)
    assert record.updated_by == world.users["out"]


async def test_saving_is_audited_with_the_section_both_versions_and_the_status(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await save(database, world, handover_id, "childs-views", {"views": "Not yet asked"}, finished=False)
    await save(database, world, handover_id, "childs-views", VIEWS, 1)
    assert await saves_audited(database) == [
        (world.users["out"], "handover", handover_id,
         {"section": "childs-views", "old_version": 0, "new_version": 1, "status": "in_progress"}),
        (world.users["out"], "handover", handover_id,
         {"section": "childs-views", "old_version": 1, "new_version": 2, "status": "completed"}),
    ]  # fmt: skip


async def test_a_section_saved_as_finished_with_a_missing_answer_has_errors_and_says_what_to_enter(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    result = await save(database, world, handover_id, "childs-views", {"views": VIEWS["views"]})
    assert result == (1, {"how_gathered": "Enter how and when the child's views were gathered"})
    record = await stored(database, handover_id, "childs-views")
    assert record is not None
    assert (record.answers.values, record.status) == ({"views": VIEWS["views"]}, "has_errors")


async def test_a_section_saved_for_later_is_in_progress_and_keeps_its_messages_for_later(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    assert await save(database, world, handover_id, "childs-views", {"views": "Half"}, finished=False) == (1, {})
    record = await stored(database, handover_id, "childs-views")
    assert record is not None
    assert (record.answers.values, record.status) == ({"views": "Half"}, "in_progress")
    # a valid section saved for later is completed all the same
    assert await save(database, world, handover_id, "childs-views", VIEWS, 1, finished=False) == (2, {})
    record = await stored(database, handover_id, "childs-views")
    assert record is not None and record.status == "completed"


async def test_answers_to_questions_hidden_by_another_answer_are_not_kept(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    contacts = [{"agency": "gp", "name": "Dr Patel", "told_of_transfer": "yes"}]
    values = {"gp_engaged": "yes", "gp_not_engaged_plan": "Typed before the answer became yes"}
    assert await save(database, world, handover_id, "network", values, groups={"contacts": contacts}) == (1, {})
    record = await stored(database, handover_id, "network")
    assert record is not None
    assert record.answers == SectionAnswers(values={"gp_engaged": "yes"}, groups={"contacts": contacts})
    assert record.status == "completed"


async def test_a_section_is_critical_when_its_answers_make_it_so(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    await save(database, world, handover_id, "cp-category", {"has_cp_plan": "no"})
    await save(database, world, handover_id, "disagreements", {"any_disagreements": "yes"}, finished=False)
    await save(database, world, handover_id, "open-risks", {"has_open_risks": "no"}, finished=False)
    await save(database, world, handover_id, "cp-category", {"has_cp_plan": "yes"}, 1, finished=False)
    await save(database, world, handover_id, "childs-views", VIEWS)
    critical = {}
    for section_id in ("cp-category", "disagreements", "open-risks", "childs-views"):
        row = await _one(
            database.reader,
            "SELECT critical FROM sections WHERE handover_id = ? AND section_id = ?",
            (handover_id, section_id),
        )
        assert row is not None
        critical[section_id] = row[0]
    assert critical == {"cp-category": 1, "disagreements": 1, "open-risks": 1, "childs-views": 0}


async def test_a_save_from_an_older_version_of_the_section_is_refused_and_keeps_the_newer(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await save(database, world, handover_id, "childs-views", VIEWS)
    with pytest.raises(Conflict) as refused:
        await save(database, world, handover_id, "childs-views", {"views": "Older"}, 0)
    assert str(refused.value) == "section childs-views is at version 1, not 0"
    record = await stored(database, handover_id, "childs-views")
    assert record is not None and (record.answers.values, record.version) == (VIEWS, 1)
    assert len(await saves_audited(database)) == 1


async def test_only_the_outgoing_worker_who_started_it_may_save(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    for who in ("out2", "smgr", "rec", "rmgr", "aud", "adm"):
        with pytest.raises(Refused) as refused:
            await save(database, world, handover_id, "childs-views", VIEWS, who=who)
        assert refused.value.reasons == ["Only the outgoing worker who started the handover can do this"]
    assert await stored(database, handover_id, "childs-views") is None
    assert await saves_audited(database) == []


@pytest.mark.parametrize(
    ("state", "label"),
    [("submitted", "waiting for sending manager"), ("endorsed", "waiting for receiving worker"),
     ("acknowledged", "waiting for receiving manager"), ("closed", "closed"), ("cancelled", "cancelled")],
)  # fmt: skip
async def test_a_handover_past_its_draft_cannot_be_saved(
    database: db.Database, world: World, state: str, label: str
) -> None:
    handover_id = await started(database, world)
    await put_in_state(database, handover_id, state)
    with pytest.raises(Refused) as refused:
        await save(database, world, handover_id, "childs-views", VIEWS)
    assert refused.value.reasons == [f"This cannot be done now: the handover is {label}"]
    assert await stored(database, handover_id, "childs-views") is None
    assert await saves_audited(database) == []


async def test_a_returned_handover_can_be_saved_again_by_its_outgoing_worker(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await put_in_state(database, handover_id, "returned")
    assert await save(database, world, handover_id, "childs-views", VIEWS) == (1, {})


async def test_a_handover_moved_on_since_it_was_read_is_checked_again_before_saving(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    as_read = await db.handover_by_id(database.reader, handover_id)
    await put_in_state(database, handover_id, "submitted")
    with pytest.raises(Refused) as refused:
        await save(database, world, handover_id, "childs-views", VIEWS, loaded=as_read)
    assert refused.value.reasons == ["This cannot be done now: the handover is waiting for sending manager"]
    assert await stored(database, handover_id, "childs-views") is None


async def test_a_handover_read_as_it_is_is_not_read_again(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    as_read = await db.handover_by_id(database.reader, handover_id)
    assert await save(database, world, handover_id, "childs-views", VIEWS, loaded=as_read) == (1, {})


async def test_a_handover_read_for_another_id_is_not_taken_for_this_one(database: db.Database, world: World) -> None:
    mine = await started(database, world)
    others = await started(database, world, who="other", case="zoe")  # at the same version as mine
    mine_as_read = await db.handover_by_id(database.reader, mine)
    with pytest.raises(Refused) as refused:
        await save(database, world, others, "childs-views", VIEWS, loaded=mine_as_read)
    assert refused.value.reasons == ["Only the outgoing worker who started the handover can do this"]
    assert await stored(database, others, "childs-views") is None


async def test_an_unknown_handover_or_section_is_not_found(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    with pytest.raises(NotFound) as no_handover:
        await save(database, world, 999, "childs-views", VIEWS)
    assert str(no_handover.value) == "handover 999"
    with pytest.raises(NotFound) as no_section:
        await save(database, world, handover_id, "hobbies", VIEWS)
    assert str(no_section.value) == "section hobbies"
    assert await saves_audited(database) == []


async def test_answers_to_questions_the_section_does_not_have_are_refused(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    with pytest.raises(Invalid) as refused:
        await save(database, world, handover_id, "childs-views", {**VIEWS, "hobbies": "Football"})
    assert refused.value.errors == {"hobbies": "‘The child's views’ has no question ‘hobbies’"}
    assert await stored(database, handover_id, "childs-views") is None
    assert await saves_audited(database) == []


async def test_an_answer_too_long_to_keep_is_refused_with_nothing_stored(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    with pytest.raises(Invalid) as refused:
        await save(database, world, handover_id, "childs-views", {**VIEWS, "views": TOO_LONG})
    assert refused.value.errors == {
        "views": "What have the child and their siblings said? was not saved: it must be 100,000 characters or fewer"
    }
    assert await stored(database, handover_id, "childs-views") is None
    assert await saves_audited(database) == []


async def test_keeping_what_fits_keeps_the_stored_answer_in_place_of_one_too_long(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await save(database, world, handover_id, "childs-views", VIEWS)
    changed = {"views": TOO_LONG, "how_gathered": "At home, with her carer out of the room."}
    new_version, messages = await save(
        database, world, handover_id, "childs-views", changed, 1, finished=False, keep_what_fits=True
    )
    assert (new_version, messages) == (
        2,
        {"views": "What have the child and their siblings said? was not saved: it must be 100,000 characters or fewer"},
    )
    record = await stored(database, handover_id, "childs-views")
    assert record is not None
    assert record.answers.values == {"views": VIEWS["views"], "how_gathered": changed["how_gathered"]}
    assert record.status == "completed"


async def test_keeping_what_fits_leaves_out_an_answer_too_long_that_was_never_stored(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    new_version, messages = await save(
        database, world, handover_id, "childs-views", {"views": TOO_LONG}, keep_what_fits=True
    )
    # what was not kept is said first (not replaced by "Enter ..." for the answer left empty), then what is missing
    assert new_version == 1
    assert list(messages.items()) == [
        ("views", "What have the child and their siblings said? was not saved: it must be 100,000 characters or fewer"),
        ("how_gathered", "Enter how and when the child's views were gathered"),
    ]
    record = await stored(database, handover_id, "childs-views")
    assert record is not None
    assert (record.answers.values, record.status) == ({}, "has_errors")


async def test_an_answer_of_exactly_the_longest_kept_length_is_kept(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    longest = "x" * 100_000
    await save(database, world, handover_id, "childs-views", {"views": longest}, finished=False)
    record = await stored(database, handover_id, "childs-views")
    assert record is not None and record.answers.values == {"views": longest}


async def test_the_handover_as_the_caller_read_it_is_the_one_checked(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    as_read = await db.handover_by_id(database.reader, handover_id)
    assert as_read is not None
    # read while it waited for the manager; the page that read it must not save into it
    with pytest.raises(Refused) as refused:
        await save(database, world, handover_id, "childs-views", VIEWS, loaded=replace(as_read, state="submitted"))
    assert refused.value.reasons == ["This cannot be done now: the handover is waiting for sending manager"]
    assert await stored(database, handover_id, "childs-views") is None


async def test_a_handover_changed_since_it_was_read_but_still_editable_is_saved(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    as_read = await db.handover_by_id(database.reader, handover_id)
    await put_in_state(database, handover_id, "returned")
    assert await save(database, world, handover_id, "childs-views", VIEWS, loaded=as_read) == (1, {})
    record = await stored(database, handover_id, "childs-views")
    assert record is not None and record.answers.values == VIEWS


async def test_the_case_summary_must_restate_the_childs_case_record(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    summary = complete()["case-summary"]
    wrong = {**summary.values, "child_name": "Mia Tester"}
    assert await save(database, world, handover_id, "case-summary", wrong) == (
        1, {"child_name": "Child's full name must be as on the case record: Mia Test"},
    )  # fmt: skip
    record = await stored(database, handover_id, "case-summary")
    assert record is not None and record.status == "has_errors"
    assert await save(database, world, handover_id, "case-summary", summary.values, 1) == (2, {})


async def test_a_date_that_cannot_be_in_the_future_is_judged_against_today(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    values = dict(complete()["record-currency"].values)
    values["chronology_updated"] = (today() + timedelta(days=1)).isoformat()
    assert await save(database, world, handover_id, "record-currency", values) == (
        1, {"chronology_updated-day": "When was the chronology last updated? must be today or in the past"},
    )  # fmt: skip
    values["chronology_updated"] = today().isoformat()
    assert await save(database, world, handover_id, "record-currency", values, 1) == (2, {})


async def test_rows_past_a_groups_limit_are_not_kept_and_the_rest_is(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    contacts = [{"agency": "gp", "name": f"Dr {n}", "told_of_transfer": "yes"} for n in range(21)]
    with pytest.raises(Invalid) as refused:
        await save(database, world, handover_id, "network", {"gp_engaged": "yes"}, groups={"contacts": contacts})
    assert refused.value.errors == {"contacts": "Professionals involved can have at most 20 rows"}
    new_version, messages = await save(
        database, world, handover_id, "network", {"gp_engaged": "yes"}, groups={"contacts": contacts},
        keep_what_fits=True,
    )  # fmt: skip
    assert (new_version, messages) == (1, {"contacts": "Professionals involved can have at most 20 rows"})
    record = await stored(database, handover_id, "network")
    assert record is not None and record.answers.groups == {"contacts": contacts[:20]}
    assert record.status == "completed"
    # exactly the most rows a group may have is kept whole
    assert await save(database, world, handover_id, "network", {"gp_engaged": "yes"}, 1,
                      groups={"contacts": contacts[:20]}) == (2, {})  # fmt: skip
