"""Moving a handover through the workflow with `act`: what each step stores (state, who and when), what it does
besides (the query and its reply, the confirmations cleared, the disagreements the checklist records, the case moved
at approval and never before), its audit entry, and what it refuses with the exact sentence: a stale page, a missing
or over-long reason, a reply where none is asked or none where one is. A refused step stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.actions.demo import CASE_M_DISAGREEMENT
from service.core.answers import SectionAnswers
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action, State
from tests.conftest import World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete

pytestmark = pytest.mark.anyio

OLD = "2020-01-06T09:00:00+00:00"  # a time before any step a test takes
RETURN_REASON = "Please add the date of the last core group."
REPLY = "Added: the last core group was on 3 March."
GO_BACK = "Enter the reason, so the person it goes back to knows what to do"
ANY_STEP = [Action.SUBMIT, Action.ENDORSE, Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER, Action.ACKNOWLEDGE,
            Action.APPROVE, Action.CANCEL]  # fmt: skip


async def started(database: db.Database, world: World, receiver: str | None = "rec") -> int:
    return await actions.start_handover(
        database, await actor(database, world, "out"), CHECKLIST, case_id=world.cases["mia"],
        receiving_team_id=world.teams["cp"], receiver_id=world.users[receiver] if receiver else None,
        apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip


async def read(database: db.Database, handover_id: int) -> db.Handover:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover


async def forced(database: db.Database, handover_id: int, **columns: Any) -> db.Handover:
    """The handover with these columns set directly (a state reached without the steps before it), and its state
    dated `OLD`, so that a step taken now is seen to date it."""
    async with database.transaction() as conn:
        await db.update_handover(conn, handover_id, (await read(database, handover_id)).version,
                                 **{"state_since": OLD, **columns})  # fmt: skip
    return await read(database, handover_id)


async def confirmed(database: db.Database, handover_id: int, user_id: int) -> None:
    """The sections critical whatever the answers say, confirmed by this person (as `confirm_item` stores it)."""
    async with database.transaction() as conn:
        for section_id in ("open-risks", "sibling-harm", "parenting-capacity"):
            await db.confirm_section(conn, handover_id, section_id, user_id, "I take this on.")


async def step(
    database: db.Database, world: World, who: str, handover_id: int, action: Action, reason: str = "", **options: Any
) -> State:
    version = options.pop("version", None)
    if version is None:
        version = (await read(database, handover_id)).version
    person = await actor(database, world, who)
    return await actions.act(database, CHECKLISTS, person, handover_id, action, version, reason, **options)


async def fill(database: db.Database, world: World, handover_id: int, **overrides: Any) -> None:
    out = await actor(database, world, "out")
    for section_id, answers in complete(**overrides).items():
        await actions.save_section(database, CHECKLISTS, out, handover_id, section_id, answers, 0, finished=True)


async def steps_audited(database: db.Database, handover_id: int) -> list[tuple[int | None, str, dict[str, Any]]]:
    entries = await db.audit_entries(database.reader)
    return [
        (e.entry.actor_id, e.entry.action, e.entry.details)
        for e in entries
        if (e.entry.object_type, e.entry.object_id) == ("handover", handover_id)
        and e.entry.action not in ("start", "save_section")
    ]


async def allocated(database: db.Database, world: World) -> tuple[int, int]:
    case = await db.case_by_id(database.reader, world.cases["mia"])
    assert case is not None
    return case.allocated_worker_id, case.allocated_team_id


def stamped_now(stamp: str | None) -> bool:
    return stamp is not None and stamp > OLD and stamp[:4] >= "2025"


async def test_a_handover_moves_from_draft_to_closed_and_the_case_moves_only_at_approval(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id)
    u = world.users
    with_out = (u["out"], world.teams["north"])
    assert await step(database, world, "out", handover_id, Action.SUBMIT) == State.SUBMITTED
    assert await allocated(database, world) == with_out
    assert await step(database, world, "smgr", handover_id, Action.ENDORSE) == State.ENDORSED
    assert await allocated(database, world) == with_out
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    rec = await actor(database, world, "rec")
    for item in view.critical_sections():
        version = (await read(database, handover_id)).version
        await actions.confirm_item(database, CHECKLISTS, rec, handover_id, item.id, version, understood=True,
                                   readback="I take on the risk from Liam to Mia and how it is managed.")  # fmt: skip
    assert await step(database, world, "rec", handover_id, Action.ACKNOWLEDGE) == State.ACKNOWLEDGED
    assert await allocated(database, world) == with_out
    assert await step(database, world, "rmgr", handover_id, Action.APPROVE) == State.CLOSED
    assert await allocated(database, world) == (u["rec"], world.teams["cp"])
    handover = await read(database, handover_id)
    assert handover.state == "closed"
    assert (handover.endorsed_by, handover.acknowledged_by, handover.approved_by) == (u["smgr"], u["rec"], u["rmgr"])
    assert [entry for entry in await steps_audited(database, handover_id) if entry[1] != "confirm"] == [
        (u["out"], "submit", {"from": "draft", "to": "submitted"}),
        (u["smgr"], "endorse", {"from": "submitted", "to": "endorsed"}),
        (u["rec"], "acknowledge", {"from": "endorsed", "to": "acknowledged"}),
        (u["rmgr"], "approve", {"from": "acknowledged", "to": "closed"}),
    ]  # fmt: skip


async def test_submitting_dates_the_submission_and_clears_an_earlier_endorsement_and_return(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id)
    await forced(database, handover_id, state="returned", endorsed_by=world.users["smgr"], endorsed_at=OLD,
                 returned_reason="Why?", returned_by=world.users["smgr"], returned_at=OLD)  # fmt: skip
    async with database.transaction() as conn:
        await db.add_query(conn, handover_id, world.users["smgr"], "Why?")
    await step(database, world, "out", handover_id, Action.SUBMIT, reply=REPLY)
    handover = await read(database, handover_id)
    assert (handover.state, handover.endorsed_by, handover.endorsed_at) == ("submitted", None, None)
    assert (handover.returned_reason, handover.returned_by, handover.returned_at) == (None, None, None)
    assert stamped_now(handover.state_since) and handover.submitted_at == handover.state_since


async def test_endorsing_records_the_manager_and_when(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    await forced(database, handover_id, state="submitted")
    await step(database, world, "smgr", handover_id, Action.ENDORSE, "  Checked with the worker  ")
    handover = await read(database, handover_id)
    assert (handover.state, handover.endorsed_by) == ("endorsed", world.users["smgr"])
    assert stamped_now(handover.state_since) and handover.endorsed_at == handover.state_since
    assert (handover.submitted_at, handover.acknowledged_by, handover.approved_by) == (None, None, None)
    assert await steps_audited(database, handover_id) == [
        (world.users["smgr"], "endorse", {"from": "submitted", "to": "endorsed", "reason": "Checked with the worker"})
    ]


async def test_acknowledging_a_handover_sent_to_the_team_makes_the_worker_its_receiver(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world, receiver=None)
    await forced(database, handover_id, state="endorsed", endorsed_by=world.users["smgr"], endorsed_at=OLD)
    await confirmed(database, handover_id, world.users["rec2"])
    await step(database, world, "rec2", handover_id, Action.ACKNOWLEDGE)
    handover = await read(database, handover_id)
    assert (handover.state, handover.acknowledged_by, handover.receiver_id) == (
        "acknowledged", world.users["rec2"], world.users["rec2"],
    )  # fmt: skip
    assert stamped_now(handover.state_since) and handover.acknowledged_at == handover.state_since
    assert (handover.endorsed_by, handover.endorsed_at) == (world.users["smgr"], OLD)


async def test_approving_records_the_manager_and_moves_the_case_to_the_receiver_in_the_receiving_team(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await forced(database, handover_id, state="acknowledged", acknowledged_by=world.users["rec"], acknowledged_at=OLD)
    await step(database, world, "rmgr", handover_id, Action.APPROVE)
    handover = await read(database, handover_id)
    assert (handover.state, handover.approved_by) == ("closed", world.users["rmgr"])
    assert stamped_now(handover.state_since) and handover.approved_at == handover.state_since
    assert await allocated(database, world) == (world.users["rec"], world.teams["cp"])
    case = await db.case_by_id(database.reader, world.cases["mia"])
    assert case is not None and (case.open_handover_id, case.received_by_handover_id) == (None, handover_id)


async def test_approval_moves_the_case_to_the_named_receiver_even_without_a_recorded_acknowledger(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world, receiver="rec2")
    await forced(database, handover_id, state="acknowledged")
    await step(database, world, "rmgr", handover_id, Action.APPROVE)
    assert await allocated(database, world) == (world.users["rec2"], world.teams["cp"])


async def test_approval_moves_the_case_to_whoever_acknowledged_a_handover_with_no_receiver_named(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world, receiver=None)
    await forced(database, handover_id, state="acknowledged", acknowledged_by=world.users["rec2"])
    await step(database, world, "rmgr", handover_id, Action.APPROVE)
    assert await allocated(database, world) == (world.users["rec2"], world.teams["cp"])


@pytest.mark.parametrize(("state", "who"), [("submitted", "smgr"), ("endorsed", "rec"), ("acknowledged", "rmgr")])
async def test_a_return_to_the_outgoing_worker_keeps_the_query_and_clears_the_confirmations(
    database: db.Database, world: World, state: str, who: str
) -> None:
    handover_id = await started(database, world)
    await forced(database, handover_id, state=state, acknowledged_by=world.users["rec"], acknowledged_at=OLD)
    async with database.transaction() as conn:
        await db.confirm_section(conn, handover_id, "open-risks", world.users["rec"], "I take on the risk.")
    assert await step(database, world, who, handover_id, Action.RETURN_TO_OUTGOING, f" {RETURN_REASON}\n") == (
        State.RETURNED
    )
    handover = await read(database, handover_id)
    assert (handover.state, handover.returned_reason, handover.returned_by) == (
        "returned", RETURN_REASON, world.users[who],
    )  # fmt: skip
    assert stamped_now(handover.state_since) and handover.returned_at == handover.state_since
    assert (handover.acknowledged_by, handover.acknowledged_at) == (None, None)
    assert handover.receiver_id == world.users["rec"]
    assert await db.confirmations_of(database.reader, handover_id) == {}
    queries = await db.queries_of(database.reader, handover_id)
    assert [(q.returned_by, q.query, q.reply) for q in queries] == [(world.users[who], RETURN_REASON, None)]
    assert await steps_audited(database, handover_id) == [
        (world.users[who], "return_to_outgoing", {"from": state, "to": "returned", "reason": RETURN_REASON})
    ]


async def test_a_worker_returning_a_handover_sent_to_their_team_becomes_its_receiver(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world, receiver=None)
    await forced(database, handover_id, state="endorsed")
    await step(database, world, "rec2", handover_id, Action.RETURN_TO_OUTGOING, RETURN_REASON)
    assert (await read(database, handover_id)).receiver_id == world.users["rec2"]


async def test_a_manager_returning_a_handover_before_it_reached_a_receiver_names_nobody(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world, receiver=None)
    await forced(database, handover_id, state="submitted")
    await step(database, world, "smgr", handover_id, Action.RETURN_TO_OUTGOING, RETURN_REASON)
    assert (await read(database, handover_id)).receiver_id is None


async def test_a_return_to_the_receiving_worker_keeps_their_confirmations_and_asks_no_query(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await forced(database, handover_id, state="acknowledged", acknowledged_by=world.users["rec"], acknowledged_at=OLD)
    async with database.transaction() as conn:
        await db.confirm_section(conn, handover_id, "open-risks", world.users["rec"], "I take on the risk.")
    assert await step(database, world, "rmgr", handover_id, Action.RETURN_TO_RECEIVER, "Confirm the plan again") == (
        State.ENDORSED
    )
    handover = await read(database, handover_id)
    assert (handover.state, handover.returned_reason, handover.returned_by) == (
        "endorsed", "Confirm the plan again", world.users["rmgr"],
    )  # fmt: skip
    assert (handover.acknowledged_by, handover.acknowledged_at) == (None, None)
    assert handover.receiver_id == world.users["rec"]
    assert list(await db.confirmations_of(database.reader, handover_id)) == ["open-risks"]
    assert await db.queries_of(database.reader, handover_id) == []


async def test_cancelling_keeps_the_reason_and_leaves_the_case_where_it_was(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    assert await step(database, world, "smgr", handover_id, Action.CANCEL, "Case closed by the court") == (
        State.CANCELLED
    )
    handover = await read(database, handover_id)
    assert handover.state == "cancelled" and stamped_now(handover.state_since)
    assert (handover.returned_reason, handover.returned_by, handover.submitted_at) == (None, None, None)
    assert await allocated(database, world) == (world.users["out"], world.teams["north"])
    assert await db.queries_of(database.reader, handover_id) == []
    assert await steps_audited(database, handover_id) == [
        (world.users["smgr"], "cancel", {"from": "draft", "to": "cancelled", "reason": "Case closed by the court"})
    ]


@pytest.mark.parametrize(
    ("action", "state", "who", "message"),
    [(Action.RETURN_TO_OUTGOING, "submitted", "smgr", GO_BACK),
     (Action.RETURN_TO_RECEIVER, "acknowledged", "rmgr", GO_BACK),
     (Action.CANCEL, "draft", "out", "Enter the reason for cancelling the handover")],
)  # fmt: skip
async def test_a_return_or_a_cancellation_without_a_reason_is_refused_with_what_to_enter(
    database: db.Database, world: World, action: Action, state: str, who: str, message: str
) -> None:
    handover_id = await started(database, world)
    before = await forced(database, handover_id, state=state, acknowledged_by=world.users["rec"])
    for blank in ("", "  \n "):
        with pytest.raises(Invalid) as refused:
            await step(database, world, who, handover_id, action, blank)
        assert refused.value.errors == {"reason": message}
    assert await read(database, handover_id) == before
    assert await steps_audited(database, handover_id) == []


@pytest.mark.parametrize(("action", "state", "who"), [(Action.ENDORSE, "submitted", "smgr"),
                                                      (Action.RETURN_TO_OUTGOING, "submitted", "smgr"),
                                                      (Action.CANCEL, "draft", "out")])  # fmt: skip
async def test_a_reason_is_at_most_2000_characters_whatever_the_step(
    database: db.Database, world: World, action: Action, state: str, who: str
) -> None:
    handover_id = await started(database, world)
    before = await forced(database, handover_id, state=state)
    with pytest.raises(Invalid) as refused:
        await step(database, world, who, handover_id, action, "x" * 2001)
    assert refused.value.errors == {"reason": "The reason must be 2,000 characters or fewer"}
    assert await read(database, handover_id) == before
    await step(database, world, who, handover_id, action, "x" * 2000)
    assert [details["reason"] for _, _, details in await steps_audited(database, handover_id)] == ["x" * 2000]


async def test_a_step_without_a_reason_is_audited_without_one(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    await forced(database, handover_id, state="submitted")
    await step(database, world, "smgr", handover_id, Action.ENDORSE, "   ")
    assert await steps_audited(database, handover_id) == [
        (world.users["smgr"], "endorse", {"from": "submitted", "to": "endorsed"})
    ]


async def test_a_step_from_a_page_loaded_before_the_handover_changed_is_refused(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    before = await forced(database, handover_id, state="submitted")
    for version in (before.version - 1, before.version + 1):
        with pytest.raises(Conflict) as refused:
            await step(database, world, "smgr", handover_id, Action.ENDORSE, version=version)
        assert str(refused.value) == "the handover has changed since this page was loaded"
    assert await read(database, handover_id) == before
    assert await steps_audited(database, handover_id) == []


async def test_a_step_on_a_handover_that_does_not_exist_is_not_found(database: db.Database, world: World) -> None:
    with pytest.raises(NotFound) as refused:
        await step(database, world, "smgr", 404, Action.ENDORSE, version=1)
    assert str(refused.value) == "handover 404"


async def test_a_step_the_state_machine_refuses_stores_nothing(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    before = await forced(database, handover_id, state="submitted")
    with pytest.raises(Refused) as refused:
        await step(database, world, "rmgr", handover_id, Action.ENDORSE)
    assert refused.value.reasons == ["Only a manager of the sending team can endorse it"]
    with pytest.raises(Refused) as too_early:
        await step(database, world, "rmgr", handover_id, Action.APPROVE)
    assert too_early.value.reasons[0] == "It cannot be approved: it has not been acknowledged by the receiving worker"
    assert await read(database, handover_id) == before
    assert await steps_audited(database, handover_id) == []


async def test_an_incomplete_handover_cannot_be_submitted(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    with pytest.raises(Refused) as refused:
        await step(database, world, "out", handover_id, Action.SUBMIT)
    assert refused.value.reasons == ["There are 11 things to complete or correct"]


async def test_a_first_submission_takes_no_reply(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id)
    before = await read(database, handover_id)
    with pytest.raises(Invalid) as refused:
        await step(database, world, "out", handover_id, Action.SUBMIT, reply="A reply to nothing")
    assert refused.value.errors == {
        "reply": "Send a reply only when resubmitting a handover that was returned with a query"
    }
    assert await read(database, handover_id) == before


async def test_a_step_other_than_a_resubmission_takes_no_reply(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    before = await forced(database, handover_id, state="submitted")
    with pytest.raises(Invalid) as refused:
        await step(database, world, "smgr", handover_id, Action.RETURN_TO_OUTGOING, RETURN_REASON, reply="Why")
    assert refused.value.errors == {
        "reply": "Send a reply only when resubmitting a handover that was returned with a query"
    }
    assert await read(database, handover_id) == before
    assert await db.queries_of(database.reader, handover_id) == []


async def test_resubmitting_a_returned_handover_needs_a_reply_that_answers_the_query(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id)
    await step(database, world, "out", handover_id, Action.SUBMIT)
    await step(database, world, "smgr", handover_id, Action.RETURN_TO_OUTGOING, RETURN_REASON)
    returned = await read(database, handover_id)
    with pytest.raises(Invalid) as refused:
        await step(database, world, "out", handover_id, Action.SUBMIT, reply="  ")
    assert refused.value.errors == {"reply": "Enter your reply to the query"}
    with pytest.raises(Invalid) as too_long:
        await step(database, world, "out", handover_id, Action.SUBMIT, reply="x" * 4001)
    assert too_long.value.errors == {"reply": "Your reply must be 4,000 characters or fewer"}
    assert await read(database, handover_id) == returned
    assert await step(database, world, "out", handover_id, Action.SUBMIT, reply=f"  {REPLY} ") == State.SUBMITTED
    queries = await db.queries_of(database.reader, handover_id)
    assert [(q.query, q.replied_by, q.reply) for q in queries] == [(RETURN_REASON, world.users["out"], REPLY)]
    assert (await steps_audited(database, handover_id))[-1] == (
        world.users["out"], "submit", {"from": "returned", "to": "submitted", "reply": REPLY},
    )  # fmt: skip


async def test_submitting_tracks_each_disagreement_the_checklist_records_once(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id, **CASE_M_DISAGREEMENT)
    await step(database, world, "out", handover_id, Action.SUBMIT)
    tracked = await db.disagreements_of(database.reader, handover_id)
    assert [(d.raised_by, d.with_whom, d.status) for d in tracked] == [
        (world.users["out"], "Designated safeguarding lead, Hillside Primary School", "open")
    ]
    assert await steps_audited(database, handover_id) == [
        (world.users["out"], "raise_disagreement", {"disagreement": tracked[0].id, "from_checklist": True}),
        (world.users["out"], "submit", {"from": "draft", "to": "submitted"}),
    ]
    await step(database, world, "smgr", handover_id, Action.RETURN_TO_OUTGOING, RETURN_REASON)
    await step(database, world, "out", handover_id, Action.SUBMIT, reply=REPLY)
    assert len(await db.disagreements_of(database.reader, handover_id)) == 1


async def test_only_submission_tracks_the_disagreements_the_checklist_records(
    database: db.Database, world: World
) -> None:
    handover_id = await started(database, world)
    out = await actor(database, world, "out")
    answers = complete(**CASE_M_DISAGREEMENT)["disagreements"]
    await actions.save_section(database, CHECKLISTS, out, handover_id, "disagreements", answers, 0, finished=True)
    await forced(database, handover_id, state="submitted")
    await step(database, world, "smgr", handover_id, Action.ENDORSE)
    assert await db.disagreements_of(database.reader, handover_id) == []
    assert [action for _, action, _ in await steps_audited(database, handover_id)] == ["endorse"]


async def test_every_step_returns_the_state_it_reached(database: db.Database, world: World) -> None:
    reached = {}
    for action, state, who, reason in [
        (Action.ENDORSE, "submitted", "smgr", ""), (Action.RETURN_TO_OUTGOING, "endorsed", "rec", "Why"),
        (Action.RETURN_TO_RECEIVER, "acknowledged", "rmgr", "Again"), (Action.ACKNOWLEDGE, "endorsed", "rec", ""),
        (Action.APPROVE, "acknowledged", "rmgr", ""), (Action.CANCEL, "submitted", "out", "No longer needed"),
    ]:  # fmt: skip
        case = f"c{len(reached) + 1}"
        handover_id = await actions.start_handover(
            database, await actor(database, world, "out"), CHECKLIST, case_id=world.cases[case],
            receiving_team_id=world.teams["cp"], receiver_id=world.users["rec"],
            apart_reason=APART, transfer_reason="Step-up",
        )  # fmt: skip
        await forced(database, handover_id, state=state, acknowledged_by=world.users["rec"])
        await confirmed(database, handover_id, world.users["rec"])
        reached[action.value] = (await step(database, world, who, handover_id, action, reason)).value
        assert (await read(database, handover_id)).state == reached[action.value]
    assert reached == {"endorse": "endorsed", "return_to_outgoing": "returned", "return_to_receiver": "endorsed",
                       "acknowledge": "acknowledged", "approve": "closed", "cancel": "cancelled"}  # fmt: skip


async def test_the_sections_answers_are_untouched_by_a_step(database: db.Database, world: World) -> None:
    handover_id = await started(database, world)
    await fill(database, world, handover_id)
    before = await db.sections_of(database.reader, handover_id)
    await step(database, world, "out", handover_id, Action.SUBMIT)
    after = await db.sections_of(database.reader, handover_id)
    assert {k: (v.answers, v.status, v.version) for k, v in after.items()} == {
        k: (v.answers, v.status, v.version) for k, v in before.items()
    }
    assert isinstance(after["case-summary"].answers, SectionAnswers)
