"""Hypothesis drives random sequences of steps, urgent transfers among them, by random people against the state
machine, with the changes each step makes to the handover kept as the actions keep them.

Whatever happens: only the head of service authorises an urgent transfer, never while they stand on either side of
the handover, and never twice; the case moves once, to the receiving worker, either at the authorisation or at the
approval of an ordinary transfer; an urgent handover is never cancelled, endorsed or approved by a manager, never
waits for a manager (submitted or acknowledged), and closes only when its receiving worker, having confirmed every
critical item with every disagreement resolved, acknowledges it; it then stands endorsed and approved by the head of
service, and its author, the head of service and its receiving worker are three different people.

A second property runs the real action against a real database: for a handover in any open state, authorised to any
worker, the case moves at once, and only to an eligible worker of the receiving team.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from service import actions, db
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import (
    AUTHORISED_STATES,
    OPEN_STATES,
    Action,
    Actor,
    Facts,
    State,
    apply,
    next_state,
    refusals,
    sides_taken,
    sign_offs_stood_in_for,
    urgent_errors,
    urgent_refusals,
)
from tests.conftest import seed
from tests.helpers import CHECKLISTS, actor, handover_in, settings_for_tests

AUTHOR, SENDING_MANAGER, RECEIVER, OTHER_RECEIVER, RECEIVING_MANAGER, HEAD, STRANGER = range(1, 8)
NORTH, CP, SOUTH = 10, 20, 30
PEOPLE = {
    AUTHOR: Actor(user_id=AUTHOR, name="Author", worker_teams=frozenset({NORTH})),
    SENDING_MANAGER: Actor(user_id=SENDING_MANAGER, name="Sending manager", manager_teams=frozenset({NORTH})),
    RECEIVER: Actor(user_id=RECEIVER, name="Receiver", worker_teams=frozenset({CP})),
    OTHER_RECEIVER: Actor(user_id=OTHER_RECEIVER, name="Other receiver", worker_teams=frozenset({CP})),
    RECEIVING_MANAGER: Actor(user_id=RECEIVING_MANAGER, name="Receiving manager", manager_teams=frozenset({CP})),
    HEAD: Actor(user_id=HEAD, name="Head", manager_teams=frozenset({SOUTH})),
    STRANGER: Actor(user_id=STRANGER, name="Stranger", worker_teams=frozenset({SOUTH})),
}
# Who the drawn person may be: anyone above, or someone holding any mix of roles, the head of service's post among
# them (so the head may also work or manage in either team, or be absent).
team_sets = st.frozensets(st.sampled_from([NORTH, CP, SOUTH]))
drawn_person = st.builds(
    Actor, user_id=st.just(8), name=st.just("Drawn"), worker_teams=team_sets, manager_teams=team_sets,
    absent=st.booleans(), is_service=st.booleans(),
)  # fmt: skip
STEPS = [Action.SUBMIT, Action.ENDORSE, Action.ACKNOWLEDGE, Action.APPROVE, Action.RETURN_TO_OUTGOING,
         Action.RETURN_TO_RECEIVER, Action.CANCEL]  # fmt: skip
CRITICAL = ("Open risks", "Sibling abuse history")


class UrgentTransfers(RuleBasedStateMachine):
    """One handover from north to cp, and the record the actions would keep of it."""

    @initialize(
        head=st.sampled_from([HEAD, AUTHOR, SENDING_MANAGER, RECEIVER, RECEIVING_MANAGER, 8]),
        drawn=drawn_person,
        addressed_to_team=st.booleans(),
    )
    def start(self, head: int, drawn: Actor, addressed_to_team: bool) -> None:
        self.head = head  # who is recorded as the head of service for this run
        self.people = {**PEOPLE, 8: drawn}
        self.facts = Facts(
            state=State.DRAFT, author_id=AUTHOR, sending_team_id=NORTH, receiving_team_id=CP,
            receiver_id=None if addressed_to_team else RECEIVER, submission_problems=2,
            author_name="Author", receiver_name="" if addressed_to_team else "Receiver",
        )  # fmt: skip
        self.approved_by: int | None = None
        self.allocated = AUTHOR
        self.moves = 0  # how many times the case was reallocated
        self.confirmed_by: int | None = None  # who confirmed the critical items (cleared by a return)

    # ------------------------------------------------------------ the outgoing worker completes the sections

    @rule()
    def complete_sections(self) -> None:
        if not refusals(Action.EDIT, self.facts, self.people[AUTHOR]):
            self.facts = msgspec.structs.replace(self.facts, submission_problems=0)

    # ------------------------------------------------------------ the receiver confirms every critical item

    @rule(who=st.sampled_from([RECEIVER, OTHER_RECEIVER, 8]))
    def confirm_items(self, who: int) -> None:
        if refusals(Action.CONFIRM, self.facts, self.people[who]):
            return
        if self.facts.receiver_id is None:  # the first worker of the team to confirm takes it on
            self.facts = msgspec.structs.replace(self.facts, receiver_id=who, receiver_name=self.people[who].name)
        self.confirmed_by = who

    @rule(open_disagreements=st.integers(0, 1))
    def disagreement(self, open_disagreements: int) -> None:
        self.facts = msgspec.structs.replace(self.facts, open_disagreements=open_disagreements)

    def _unconfirmed(self) -> tuple[str, ...]:
        mine = self.confirmed_by is not None and self.confirmed_by == self.facts.receiver_id
        return () if mine else CRITICAL

    # ------------------------------------------------------------ the workflow's steps

    @rule(action=st.sampled_from(STEPS), who=st.sampled_from(sorted({*PEOPLE, 8})), reason=st.sampled_from(["", "Why"]))
    def step(self, action: Action, who: int, reason: str) -> None:
        facts = msgspec.structs.replace(self.facts, unconfirmed_items=self._unconfirmed())
        person = self.people[who]
        try:
            after = apply(action, facts, person, reason)
        except Refused:
            return
        before = facts.state
        changes: dict[str, Any] = {"state": after}
        if action == Action.SUBMIT:
            changes["endorsed_by"] = None
        elif action == Action.ENDORSE:
            changes["endorsed_by"] = who
        elif action == Action.ACKNOWLEDGE:
            changes |= {"acknowledged_by": who, "receiver_id": who}
        elif action in (Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER):
            changes["acknowledged_by"] = None
            if action == Action.RETURN_TO_OUTGOING:
                self.confirmed_by = None
        elif action == Action.APPROVE:
            self.approved_by = who
            self.allocated, self.moves = facts.receiver_id or facts.acknowledged_by or 0, self.moves + 1
        if facts.urgent_by is not None:
            for sign_off in sign_offs_stood_in_for(before, after):
                if sign_off == "endorsed":
                    changes["endorsed_by"] = facts.urgent_by
                else:
                    self.approved_by = facts.urgent_by
        self.facts = msgspec.structs.replace(self.facts, **changes)

    # ------------------------------------------------------------ the head of service's urgent transfer

    @rule(who=st.sampled_from(sorted({*PEOPLE, 8})), receiver=st.sampled_from(sorted({*PEOPLE, 8})))
    def authorise(self, who: int, receiver: int) -> None:
        facts = msgspec.structs.replace(self.facts, unconfirmed_items=self._unconfirmed())
        person = self.people[who]
        refused = urgent_refusals(facts, person, head_of_service=self.head)
        errors = urgent_errors(facts, receiver, self.people[receiver], "Placed tonight", head_of_service=self.head)
        if refused or errors:
            return
        assert who == self.head and not person.absent and not person.is_service
        assert not sides_taken(facts, person), "nobody authorises a transfer they already act on"
        assert facts.state in OPEN_STATES and facts.urgent_by is None
        after = AUTHORISED_STATES.get(facts.state, facts.state)
        changes: dict[str, Any] = {"state": after, "urgent_by": who, "receiver_id": receiver}
        changes["receiver_name"] = self.people[receiver].name
        for sign_off in sign_offs_stood_in_for(facts.state, after):
            if sign_off == "endorsed":
                changes["endorsed_by"] = who
            else:
                self.approved_by = who
        if facts.receiver_id != receiver:
            self.confirmed_by = None  # another worker takes it on: the items are theirs to confirm
        self.facts = msgspec.structs.replace(self.facts, **changes)
        self.allocated, self.moves = receiver, self.moves + 1

    # ------------------------------------------------------------ what always holds

    @invariant()
    def the_case_moves_once_to_the_receiving_worker(self) -> None:
        facts = self.facts
        if facts.urgent_by is None and facts.state != State.CLOSED:
            assert (self.allocated, self.moves) == (AUTHOR, 0)
        else:
            assert self.moves == 1
            assert self.allocated == facts.receiver_id
            assert CP in self.people[self.allocated].worker_teams

    @invariant()
    def an_urgent_transfer_never_waits_for_a_manager_nor_is_cancelled(self) -> None:
        facts = self.facts
        if facts.urgent_by is None:
            return
        assert facts.urgent_by == self.head
        assert facts.state not in (State.SUBMITTED, State.ACKNOWLEDGED, State.CANCELLED)
        for action in (Action.ENDORSE, Action.APPROVE, Action.CANCEL):
            assert all(refusals(action, facts, person, "Why") for person in self.people.values())
        if facts.state in OPEN_STATES:
            assert next_state(Action.SUBMIT, facts) == State.ENDORSED
            assert next_state(Action.ACKNOWLEDGE, facts) == State.CLOSED

    @invariant()
    def an_urgent_transfer_closes_signed_off_by_the_head_of_service(self) -> None:
        facts = self.facts
        if facts.state != State.CLOSED or facts.urgent_by is None:
            return
        assert self.approved_by == facts.urgent_by
        assert facts.endorsed_by is not None
        assert facts.acknowledged_by == facts.receiver_id == self.allocated
        assert len({facts.author_id, facts.urgent_by, facts.acknowledged_by}) == 3
        assert facts.endorsed_by != facts.acknowledged_by

    @precondition(lambda self: self.facts.urgent_by is not None and self.facts.state == State.ENDORSED)
    @invariant()
    def an_urgent_transfer_is_not_acknowledged_with_anything_left(self) -> None:
        facts = msgspec.structs.replace(self.facts, unconfirmed_items=self._unconfirmed())
        receiver = self.people.get(facts.receiver_id or 0)
        if receiver is not None and (facts.unconfirmed_items or facts.open_disagreements):
            assert refusals(Action.ACKNOWLEDGE, facts, receiver)


UrgentTransfers.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestUrgentTransfers = UrgentTransfers.TestCase


# ---------------------------------------------------------------- the real action, on a real database


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)  # a loop of its own, closed after (each example has its own database)


async def _authorise_in(folder: Path, state: str, receiver: str, head: str) -> tuple[Any, Any, Any, Any]:
    database = db.SqliteDatabase(settings_for_tests(folder).database)
    await database.open()
    try:
        world = await seed(database)
        async with database.transaction() as conn:
            await db.set_head_of_service(conn, world.users[head])
        handover_id = await handover_in(database, world, state, "c1")
        before = await db.handover_by_id(database.reader, handover_id)
        assert before is not None
        outcome: Any
        try:
            outcome = await actions.authorise_urgent_transfer(
                database, CHECKLISTS, await actor(database, world, head), handover_id, before.version,
                world.users[receiver], "The child was placed in an emergency tonight",
            )  # fmt: skip
        except (Refused, Invalid, Conflict, NotFound) as exc:
            outcome = exc
        after = await db.handover_by_id(database.reader, handover_id)
        case = await db.case_by_id(database.reader, world.cases["c1"])
        return outcome, after, case, world
    finally:
        await database.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    state=st.sampled_from(["draft", "submitted", "returned", "endorsed", "acknowledged", "closed", "cancelled"]),
    receiver=st.sampled_from(["rec", "rec2", "out", "rmgr", "other"]),
    head=st.sampled_from(["omgr", "smgr", "rmgr", "both"]),
)
def test_the_action_moves_the_case_at_once_and_only_to_an_eligible_receiver(
    state: str, receiver: str, head: str
) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        outcome, after, case, world = _run(_authorise_in(folder, state, receiver, head))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if isinstance(outcome, Exception):
        assert after.urgent_by is None
        expected_holder = world.users["rec"] if state == "closed" else world.users["out"]
        assert case.allocated_worker_id == expected_holder  # nothing moved
        if isinstance(outcome, Invalid):
            assert set(outcome.errors) == {"receiver"}
        return
    assert state in {s.value for s in OPEN_STATES}
    assert receiver in ("rec", "rec2") and head in ("omgr", "smgr", "rmgr", "both")
    assert head != "smgr" or state in ("draft", "returned", "submitted")  # nor after endorsing it: sides_taken
    assert (case.allocated_worker_id, case.allocated_team_id) == (world.users[receiver], world.teams["cp"])
    assert (after.urgent_by, after.receiver_id) == (world.users[head], world.users[receiver])
    assert outcome == AUTHORISED_STATES.get(State(state), State(state)) == State(after.state)
