"""Records not up to date (checklist v2's currency rules) through the workflow: submission asks the outgoing worker
why for each stale record and keeps what was found with the reasons; the steps between keep those flags as they are;
approval judges the records again, keeping the reasons given. The flags are in the audit entry of the step that
judged them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from service import actions, db
from service.actions.demo import complete_answers
from service.core.clock import today
from service.core.errors import Invalid
from service.core.workflow import Action
from tests.conftest import World
from tests.helpers import APART, CHECKLISTS, MIA_ON_RECORD, actor

pytestmark = pytest.mark.anyio

V2 = CHECKLISTS[("case-transfer", 2)]
KEY = "record-currency.chronology_updated"
SOURCE = "this checklist: a chronology no more than 14 days old travels with the case"


def chronology_message(days_ago: int) -> str:
    day = today() - timedelta(days=days_ago)
    when = f"{day.day} {day:%B %Y}"
    return f"The chronology was last updated: {when}, {days_ago} days ago; the limit is 14 days ({SOURCE})"


async def submitted_v2(
    database: db.Database, world: World, chronology_days_ago: int, reasons: dict[str, str] | None = None
) -> int:
    """Mia's handover on checklist v2, complete, its chronology last updated that many days ago, submitted."""
    out = await actor(database, world, "out")
    handover_id = await actions.start_handover(
        database, out, V2, case_id=world.cases["mia"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    chronology = (today() - timedelta(days=chronology_days_ago)).isoformat()
    answers = complete_answers(V2, today(), **{"case-summary": MIA_ON_RECORD,
                                               "record-currency": {"chronology_updated": chronology}})  # fmt: skip
    for section_id, section_answers in answers.items():
        await actions.save_section(
            database, CHECKLISTS, out, handover_id, section_id, section_answers, 0, finished=True
        )
    await step(database, world, "out", handover_id, Action.SUBMIT, stale_reasons=reasons)
    return handover_id


async def step(database: db.Database, world: World, who: str, handover_id: int, action: Action, **options: Any) -> None:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    person = await actor(database, world, who)
    await actions.act(database, CHECKLISTS, person, handover_id, action, handover.version, **options)


async def flags_of(database: db.Database, handover_id: int) -> Any:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return msgspec.json.decode(handover.record_flags)


async def audited(database: db.Database, action: str) -> dict[str, Any]:
    entries = [e.entry for e in await db.audit_entries(database.reader) if e.entry.action == action]
    assert len(entries) == 1
    return entries[0].details


async def test_a_stale_record_stops_submission_until_the_outgoing_worker_says_why(
    database: db.Database, world: World
) -> None:
    with pytest.raises(Invalid) as refused:
        await submitted_v2(database, world, 15)
    assert refused.value.errors == {
        f"stale-{KEY}": chronology_message(15) + ". Update it, or say why it is not up to date"
    }
    handover = await db.handover_by_id(database.reader, 1)
    assert handover is not None and (handover.state, handover.record_flags) == ("draft", "[]")
    with pytest.raises(Invalid) as blank:
        await step(database, world, "out", 1, Action.SUBMIT, stale_reasons={KEY: "  "})
    assert list(blank.value.errors) == [f"stale-{KEY}"]
    with pytest.raises(Invalid) as other_record:
        await step(database, world, "out", 1, Action.SUBMIT, stale_reasons={"record-currency.last_visit": "Leave"})
    assert list(other_record.value.errors) == [f"stale-{KEY}"]


async def test_a_stale_record_submitted_with_a_reason_is_flagged_with_it(database: db.Database, world: World) -> None:
    handover_id = await submitted_v2(database, world, 15, {KEY: "  The worker was on leave; updated next week. "})
    flagged = [{"key": KEY, "message": chronology_message(15), "judged_at": "submission",
                "reason": "The worker was on leave; updated next week."}]  # fmt: skip
    assert await flags_of(database, handover_id) == flagged
    assert await audited(database, "submit") == {"from": "draft", "to": "submitted", "records_not_up_to_date": flagged}


async def test_records_up_to_date_at_submission_are_not_flagged(database: db.Database, world: World) -> None:
    handover_id = await submitted_v2(database, world, 14)  # exactly the limit: still up to date
    assert await flags_of(database, handover_id) == []
    assert await audited(database, "submit") == {"from": "draft", "to": "submitted"}


async def test_the_steps_between_submission_and_approval_keep_the_flags_as_judged_at_submission(
    database: db.Database, world: World
) -> None:
    handover_id = await submitted_v2(database, world, 20, {KEY: "On leave"})
    flagged = [{"key": KEY, "message": chronology_message(20), "judged_at": "submission", "reason": "On leave"}]
    await step(database, world, "smgr", handover_id, Action.ENDORSE)
    assert await flags_of(database, handover_id) == flagged
    assert await audited(database, "endorse") == {"from": "submitted", "to": "endorsed"}
    await step(database, world, "rec", handover_id, Action.RETURN_TO_OUTGOING, reason="Please update it")
    assert await flags_of(database, handover_id) == flagged


async def test_approval_judges_the_records_again_and_keeps_the_reasons_given(
    database: db.Database, world: World
) -> None:
    handover_id = await submitted_v2(database, world, 20, {KEY: "On leave"})
    async with database.transaction() as conn:
        version = await db.handover_version(conn, handover_id)
        assert version is not None
        await db.update_handover(conn, handover_id, version, state="acknowledged", acknowledged_by=world.users["rec"])
    await step(database, world, "rmgr", handover_id, Action.APPROVE)
    flagged = [{"key": KEY, "message": chronology_message(20), "judged_at": "approval", "reason": "On leave"}]
    assert await flags_of(database, handover_id) == flagged
    assert await audited(database, "approve") == {"from": "acknowledged", "to": "closed",
                                                   "records_not_up_to_date": flagged}  # fmt: skip


async def test_a_record_found_stale_only_at_approval_is_flagged_without_a_reason(
    database: db.Database, world: World
) -> None:
    handover_id = await submitted_v2(database, world, 20, {KEY: "On leave"})
    async with database.transaction() as conn:
        version = await db.handover_version(conn, handover_id)
        assert version is not None
        # as if the chronology was up to date when submitted, and time has passed since
        await db.update_handover(conn, handover_id, version, state="acknowledged", acknowledged_by=world.users["rec"],
                                 record_flags="[]")  # fmt: skip
    await step(database, world, "rmgr", handover_id, Action.APPROVE)
    assert await flags_of(database, handover_id) == [
        {"key": KEY, "message": chronology_message(20), "judged_at": "approval", "reason": ""}
    ]


async def test_a_checklist_without_currency_rules_flags_nothing(database: db.Database, world: World) -> None:
    """Checklist v1 has no currency rules: its handovers are never asked why, and keep no flags."""
    from tests.helpers import CHECKLIST, complete

    out = await actor(database, world, "out")
    handover_id = await actions.start_handover(
        database, out, CHECKLIST, case_id=world.cases["mia"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    chronology = (today() - timedelta(days=200)).isoformat()
    for section_id, answers in complete(**{"record-currency": {"chronology_updated": chronology}}).items():
        await actions.save_section(database, CHECKLISTS, out, handover_id, section_id, answers, 0, finished=True)
    await step(database, world, "out", handover_id, Action.SUBMIT)
    assert await flags_of(database, handover_id) == []
