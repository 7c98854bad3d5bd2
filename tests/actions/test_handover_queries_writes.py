"""The store's own rules on writing a handover and what hangs off it: a change made on a stale version is refused
and stores nothing, only workflow columns may change, a reply answers only the latest unanswered query, and a
resolved disagreement cannot be decided again."""

from __future__ import annotations

import pytest

from service import db
from service.core.answers import SectionAnswers
from service.core.errors import Conflict
from service.core.pages import Page
from service.core.report import ReportFilter, ReportTerms
from service.db.engine import now
from tests.actions.test_handover_queries_lists import put

pytestmark = pytest.mark.anyio

OLD = "2024-05-20T09:00:00+00:00"


async def test_a_new_handover_is_a_draft_started_now_at_version_one(database, world) -> None:
    before = now()
    async with database.transaction() as conn:
        h = await db.create_handover(
            conn, case_id=world.cases["c1"], checklist_id="case-transfer", checklist_version=2,
            author_id=world.users["out"], sending_team_id=world.teams["north"], receiving_team_id=world.teams["cp"],
            receiver_id=None, transfer_reason="Step-down",
        )  # fmt: skip
    handover = await db.handover_by_id(database.reader, h)
    assert handover is not None
    assert (handover.state, handover.checklist_version, handover.receiver_id, handover.transfer_reason) == (
        "draft",
        2,
        None,
        "Step-down",
    )
    assert handover.version == 1 and handover.submitted_at is None
    assert before <= handover.started_at == handover.state_since == handover.last_activity_at


async def test_a_handover_changes_only_at_the_version_it_was_read_and_each_change_moves_it_on(database, world) -> None:
    h = await put(database, world, "c1", "submitted", since=OLD)
    async with database.transaction() as conn:
        await db.update_handover(conn, h, 1, state="endorsed", endorsed_by=world.users["smgr"], endorsed_at=OLD)
    with pytest.raises(Conflict) as refused:
        async with database.transaction() as conn:
            await db.update_handover(conn, h, 1, state="returned")
    assert str(refused.value) == "the handover was changed by someone else"
    handover = await db.handover_by_id(database.reader, h)
    assert handover is not None
    assert (handover.state, handover.endorsed_by, handover.endorsed_at, handover.version) == (
        "endorsed",
        world.users["smgr"],
        OLD,
        2,
    )
    assert handover.last_activity_at > OLD
    assert await db.handover_version(database.reader, h) == 2
    assert await db.handover_version(database.reader, h + 1) is None
    assert await db.handover_by_id(database.reader, h + 1) is None


async def test_only_workflow_columns_of_a_handover_may_change(database, world) -> None:
    h = await put(database, world, "c1", "draft", since=OLD)
    with pytest.raises(ValueError, match=r"^cannot change \{'author_id'\}$"):
        async with database.transaction() as conn:
            await db.update_handover(conn, h, 1, state="submitted", author_id=world.users["out2"])
    handover = await db.handover_by_id(database.reader, h)
    assert handover is not None
    assert (handover.state, handover.author_id, handover.version, handover.last_activity_at) == (
        "draft",
        world.users["out"],
        1,
        OLD,
    )
    async with database.transaction() as conn:
        await db.update_handover(
            conn, h, 1, state="returned", receiver_id=None, submitted_at=OLD, returned_reason="Add the plan",
            returned_by=world.users["smgr"], returned_at=OLD, state_since=OLD, record_flags="[]",
            acknowledged_by=None, acknowledged_at=None, approved_by=None, approved_at=None,
        )  # fmt: skip
    changed = await db.handover_by_id(database.reader, h)
    assert changed is not None
    assert (changed.state, changed.receiver_id, changed.returned_reason, changed.returned_by, changed.version) == (
        "returned",
        None,
        "Add the plan",
        world.users["smgr"],
        2,
    )


async def test_a_section_saves_only_on_the_version_it_was_read_and_a_stale_save_stores_nothing(database, world) -> None:
    before = now()
    h = await put(database, world, "c1", "draft", since=OLD)
    first = SectionAnswers(values={"risk": "Contact with father"})
    second = SectionAnswers(values={"risk": "Contact with father, supervised"}, groups={"people": [{"name": "Ann"}]})
    async with database.transaction() as conn:
        assert await db.section_version(conn, h, "open-risks") == 0
        assert await db.save_section(conn, h, "open-risks", first, "in_progress", 0, world.users["out"]) == 1
        assert (
            await db.save_section(conn, h, "open-risks", second, "completed", 1, world.users["out2"], critical=True)
            == 2
        )
        assert await db.save_section(conn, h, "history", first, "completed", 0, world.users["out"]) == 1
    with pytest.raises(Conflict) as refused:
        async with database.transaction() as conn:
            await db.save_section(conn, h, "open-risks", first, "has_errors", 1, world.users["out"])
    assert str(refused.value) == "section open-risks is at version 2, not 1"
    sections = await db.sections_of(database.reader, h)
    assert sorted(sections) == ["history", "open-risks"]
    saved = sections["open-risks"]
    assert saved.updated_at >= before
    assert (saved.section_id, saved.answers, saved.status, saved.version, saved.updated_by) == (
        "open-risks",
        second,
        "completed",
        2,
        world.users["out2"],
    )
    assert await db.section_statuses(database.reader, h) == {"history": "completed", "open-risks": "completed"}
    # a section is critical only when saved as one
    terms = ReportTerms(section_counts={}, overdue_before={})
    [row] = await db.incomplete_page(database.reader, ReportFilter(), None, terms, Page(1, 10, 1))
    assert (row.completed_sections, row.unconfirmed_critical) == ("history,open-risks", "open-risks")
    assert await db.section_version(database.reader, h, "plan") == 0
    handover = await db.handover_by_id(database.reader, h)
    assert handover is not None and handover.last_activity_at > OLD and handover.version == 1


async def test_a_confirmation_is_replaced_by_the_next_and_all_are_cleared_together(database, world) -> None:
    h = await put(database, world, "c1", "endorsed", since=OLD)
    other = await put(database, world, "c2", "endorsed", since=OLD)
    async with database.transaction() as conn:
        await db.confirm_section(conn, h, "open-risks", world.users["rec"], "I take on the risk.")
        await db.confirm_section(conn, h, "open-risks", world.users["rec2"], "I take on the risk from Liam.")
        await db.confirm_section(conn, h, "plan", world.users["rec"], "I take on the plan.")
        await db.confirm_section(conn, other, "plan", world.users["rec"], "Another child's plan.")
    confirmed = await db.confirmations_of(database.reader, h)
    assert {key: (c.section_id, c.user_id, c.readback) for key, c in confirmed.items()} == {
        "open-risks": ("open-risks", world.users["rec2"], "I take on the risk from Liam."),
        "plan": ("plan", world.users["rec"], "I take on the plan."),
    }
    async with database.transaction() as conn:
        await db.clear_confirmations(conn, h)
    assert await db.confirmations_of(database.reader, h) == {}
    assert list(await db.confirmations_of(database.reader, other)) == ["plan"]
    for handover_id in (h, other):
        handover = await db.handover_by_id(database.reader, handover_id)
        assert handover is not None and handover.last_activity_at > OLD


async def test_a_reply_answers_only_the_latest_query_and_only_once(database, world) -> None:
    h = await put(database, world, "c1", "returned", since=OLD)
    async with database.transaction() as conn:
        assert not await db.answer_query(conn, h, world.users["out"], "Nothing was asked")
        first = await db.add_query(conn, h, world.users["smgr"], "Add the date of the last core group.")
        assert await db.answer_query(conn, h, world.users["out"], "It was on 3 March.")
        second = await db.add_query(conn, h, world.users["smgr2"], "Who chairs it?")
        assert await db.answer_query(conn, h, world.users["out2"], "The IRO.")
        assert not await db.answer_query(conn, h, world.users["out"], "A second reply")
    rounds = await db.queries_of(database.reader, h)
    assert [
        (q.id, q.returned_by, q.returned_by_name, q.query, q.replied_by, q.replied_by_name, q.reply) for q in rounds
    ] == [
        (first, world.users["smgr"], "Smgr", "Add the date of the last core group.", world.users["out"], "Out",
         "It was on 3 March."),
        (second, world.users["smgr2"], "Smgr2", "Who chairs it?", world.users["out2"], "Out2", "The IRO."),
    ]  # fmt: skip
    assert all(q.returned_at and q.replied_at for q in rounds)


async def test_a_disagreement_escalates_to_a_stage_from_its_date_and_once_resolved_cannot_be_decided_again(
    database, world
) -> None:
    h = await put(database, world, "c1", "endorsed", since=OLD)
    async with database.transaction() as conn:
        raised = await db.raise_disagreement(
            conn, h, world.users["rec"], "Contact", "Out", "Too soon", stage="informal", stage_since="2024-05-01",
            checklist_key="row-1", next_step="Meet", next_step_by="2024-05-08",
        )  # fmt: skip
        await db.decide_disagreement(
            conn, raised, world.users["rmgr"], "escalated", "Not agreed", "manager", "2024-05-09"
        )
    other = await put(database, world, "c2", "endorsed", since=OLD)
    async with database.transaction() as conn:
        plain = await db.raise_disagreement(
            conn, other, world.users["rec"], "Plan", "Smgr", "Too thin", stage="informal", stage_since="2024-05-02"
        )
    [not_from_a_row] = await db.disagreements_of(database.reader, other)
    assert (not_from_a_row.id, not_from_a_row.status, not_from_a_row.stage, not_from_a_row.stage_since) == (
        plain,
        "open",
        "informal",
        "2024-05-02",
    )
    assert (not_from_a_row.checklist_key, not_from_a_row.next_step, not_from_a_row.next_step_by) == ("", "", "")
    touched = await db.handover_by_id(database.reader, other)
    assert touched is not None and touched.last_activity_at > OLD
    [escalated] = await db.disagreements_of(database.reader, h)
    assert (escalated.id, escalated.raised_by_name, escalated.status, escalated.stage, escalated.stage_date) == (
        raised,
        "Rec",
        "escalated",
        "manager",
        "2024-05-09",
    )
    assert (escalated.stage_since, escalated.outcome, escalated.decided_by_name) == ("2024-05-09", "Not agreed", "Rmgr")
    assert (escalated.checklist_key, escalated.next_step, escalated.next_step_by) == ("row-1", "Meet", "2024-05-08")
    async with database.transaction() as conn:
        await db.decide_disagreement(conn, raised, world.users["rmgr2"], "resolved", "Agreed in supervision")
    with pytest.raises(Conflict) as refused:
        async with database.transaction() as conn:
            await db.decide_disagreement(conn, raised, world.users["rmgr"], "escalated", "Again", "head_of_service", "")
    assert str(refused.value) == "the disagreement has already been resolved"
    [resolved] = await db.disagreements_of(database.reader, h)
    assert (resolved.status, resolved.stage, resolved.stage_since, resolved.outcome, resolved.decided_by_name) == (
        "resolved",
        "manager",
        "2024-05-09",
        "Agreed in supervision",
        "Rmgr2",
    )


async def test_naming_a_manager_for_a_step_replaces_whoever_was_named_before(database, world) -> None:
    h = await put(database, world, "c1", "submitted", since=OLD)
    async with database.transaction() as conn:
        await db.name_manager(conn, h, "endorse", world.users["omgr"], world.users["adm"])
        await db.name_manager(conn, h, "endorse", world.users["smgr2"], None)
        await db.name_manager(conn, h, "approve", world.users["rmgr"], world.users["adm"])
    handover = await db.handover_by_id(database.reader, h)
    assert handover is not None
    assert (handover.named_endorser, handover.named_approver) == (world.users["smgr2"], world.users["rmgr"])
    assert handover.last_activity_at > OLD
