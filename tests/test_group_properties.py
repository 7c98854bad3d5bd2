"""Hypothesis drives random sequences of actions on sibling-group handovers (and a single child's handover beside
them) by random people, against the real actions and a real database.

Whatever happens: every case has exactly one allocated worker, an enabled person; the children of a group's handover
are always in the same state; and once a group's handover closes, every child in it is allocated to the same worker
in the same team, while a child left out of it stays where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from service import actions, db
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action
from tests.conftest import seed
from tests.group_support import add_children, confirm_everything, fill_group, member_ids, start_group
from tests.helpers import CHECKLISTS, actor

PEOPLE = ["out", "out2", "smgr", "smgr2", "rec", "rec2", "rmgr", "rmgr2", "both", "other", "aud"]
MOVES = [
    *[Action.SUBMIT, Action.ENDORSE, Action.ACKNOWLEDGE, Action.APPROVE] * 3,
    Action.RETURN_TO_OUTGOING,
    Action.RETURN_TO_RECEIVER,
    Action.CANCEL,
]
LIKELY = {
    Action.SUBMIT: ["out"],
    Action.ENDORSE: ["smgr", "smgr2", "both"],
    Action.RETURN_TO_OUTGOING: ["smgr", "rec", "rmgr"],
    Action.RETURN_TO_RECEIVER: ["rmgr", "both"],
    Action.ACKNOWLEDGE: ["rec", "rec2"],
    Action.APPROVE: ["rmgr", "rmgr2", "both"],
    Action.CANCEL: ["out", "smgr"],
}
NEXT = {"draft": Action.SUBMIT, "returned": Action.SUBMIT, "submitted": Action.ENDORSE, "endorsed": Action.ACKNOWLEDGE,
        "acknowledged": Action.APPROVE}  # fmt: skip
REFUSALS = (Refused, Conflict, NotFound, Invalid)
CHILDREN = ["ava", "ben", "cal", "dee"]


class GroupTransfers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.loop = asyncio.new_event_loop()
        self.database = db.SqliteDatabase(self.folder / "h.db")
        self.run(self.database.open())
        self.world = self.run(seed(self.database))
        self.run(add_children(self.database, self.world, ["Ava Ward", "Ben Ward", "Cal Ward", "Dee Ward"]))
        self.groups: list[int] = []
        self.left_out: dict[int, set[str]] = {}

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.database.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    async def _start(self, left_out: set[str], receiver: str | None) -> int | None:
        try:
            group_id = await start_group(
                self.database, self.world, "ava" if "ava" not in left_out else "ben",
                left_out={name: "Placed for adoption" for name in left_out}, receiver=receiver,
            )  # fmt: skip
        except REFUSALS:
            return None
        await fill_group(self.database, self.world, group_id)
        return group_id

    @initialize(
        left_out=st.sets(st.sampled_from(CHILDREN[1:]), max_size=2),
        receiver=st.sampled_from(["rec", "rec", None]),
    )
    def start(self, left_out: set[str], receiver: str | None) -> None:
        group_id = self.run(self._start(left_out, receiver))
        assert group_id is not None, "a group with its own cases, none in a handover, can be handed over"
        self.groups.append(group_id)
        self.left_out[group_id] = left_out

    @rule(left_out=st.sets(st.sampled_from(CHILDREN), max_size=3), receiver=st.sampled_from(["rec", None]))
    def start_another(self, left_out: set[str], receiver: str | None) -> None:
        """A second group handover: refused while a child in it is still in a handover, or no longer the worker's."""
        group_id = self.run(self._start(left_out, receiver))
        if group_id is not None:
            self.groups.append(group_id)
            self.left_out[group_id] = left_out

    async def _move(self, group_id: int, move: Action, who: str, pick: int) -> None:
        ids = await member_ids(self.database, group_id)
        handover_id = ids[pick % len(ids)]
        view = await actions.load(self.database.reader, CHECKLISTS, handover_id)
        assert view is not None
        if move == Action.ACKNOWLEDGE and view.facts.state == "endorsed":
            with contextlib.suppress(*REFUSALS):
                await confirm_everything(self.database, self.world, group_id, who)
            view = await actions.load(self.database.reader, CHECKLISTS, handover_id)
            assert view is not None
        person = await actor(self.database, self.world, who)
        reason = "Because" if move in (Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER, Action.CANCEL) else ""
        reply = "Done" if move == Action.SUBMIT and view.facts.state == "returned" else ""
        before = [m.state for m in await db.group_members(self.database.reader, group_id)]
        try:
            await actions.act(self.database, CHECKLISTS, person, handover_id, move, view.handover.version, reason,
                              reply=reply)  # fmt: skip
        except REFUSALS:
            after = [m.state for m in await db.group_members(self.database.reader, group_id)]
            assert after == before, "a refused step changes no child's handover"

    @rule(
        move=st.sampled_from(MOVES),
        likely=st.sampled_from([True, True, True, False]),
        pick=st.integers(0, 10),
        who=st.sampled_from(PEOPLE),
        which=st.integers(0, 5),
    )
    def move(self, move: Action, likely: bool, pick: int, who: str, which: int) -> None:
        group_id = self.groups[which % len(self.groups)]
        person = LIKELY[move][pick % len(LIKELY[move])] if likely else who
        self.run(self._move(group_id, move, person, pick))

    @rule(which=st.integers(0, 5), pick=st.integers(0, 10))
    def advance(self, which: int, pick: int) -> None:
        """The step the group waits for, by a person whose step it is: so that sequences reach closure often."""
        group_id = self.groups[which % len(self.groups)]
        state = self.run(db.group_members(self.database.reader, group_id))[0].state
        move = NEXT.get(state)
        if move is not None:
            self.run(self._move(group_id, move, LIKELY[move][0], pick))

    @invariant()
    def every_case_has_one_enabled_person_allocated(self) -> None:
        async def check() -> None:
            rows = await self.database.reader.execute_fetchall(
                "SELECT c.id, u.id, u.disabled, u.is_service FROM cases c LEFT JOIN users u"
                " ON u.id = c.allocated_worker_id"
            )
            for case_id, user_id, disabled, is_service in rows:
                assert user_id is not None and not disabled and not is_service, case_id

        self.run(check())

    @invariant()
    def a_groups_children_move_together(self) -> None:
        for group_id in self.groups:
            members = self.run(db.group_members(self.database.reader, group_id))
            assert len({member.state for member in members}) == 1, members
            cases = [self.run(db.case_by_id(self.database.reader, m.case_id)) for m in members]
            holders = {(case.allocated_worker_id, case.allocated_team_id) for case in cases if case}
            event(f"a group handover reached: {members[0].state}")
            if members[0].state == "closed":
                assert len(holders) == 1, "the children of a closed group handover share an allocation"
            elif members[0].state != "cancelled":
                assert holders == {(self.world.users["out"], self.world.teams["north"])}, "nobody moved before closure"


GroupTransfers.TestCase.settings = settings(
    max_examples=30, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestGroupTransfers = GroupTransfers.TestCase
