"""Hypothesis draws sequences of joiners, movers, leavers and transfers against the real actions and a real database.

Whatever the sequence, every child's case has exactly one allocated worker, and that worker is an enabled person
(never a disabled account, never a service account): a leaver's cases move to their team's manager in the same
transaction that disables them, a handover they started continues with that manager, and a handover they were to
receive goes back to the receiving team, so that no approval can hand a case to someone who has left.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from service import actions, db
from service.actions import accounts
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action, refusals
from service.db.engine import _rows
from tests.conftest import PEOPLE, seed
from tests.helpers import CHECKLISTS, handover_in

TEAMS = ["North Team", "Cp Team", "South Team"]
CASES = ["mia", "liam", "c1", "c2", "c3", "zoe"]
STATES = ["draft", "submitted", "returned", "endorsed", "acknowledged", "closed"]
NEXT_MOVE = {
    "draft": Action.SUBMIT,
    "returned": Action.SUBMIT,
    "submitted": Action.ENDORSE,
    "endorsed": Action.ACKNOWLEDGE,
    "acknowledged": Action.APPROVE,
}
# handover_in takes a handover from "out" in North Team to "rec" in Cp Team through these people
TRANSFER_PARTIES = {"out": ("North Team", "worker"), "smgr": ("North Team", "manager"),
                    "rec": ("Cp Team", "worker"), "rmgr": ("Cp Team", "manager")}  # fmt: skip
REFUSALS = (Refused, Conflict, NotFound, Invalid)


async def fast_rehash(password: str) -> str:
    return "hashed:" + password


class Allocations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.loop = asyncio.new_event_loop()
        self.database = db.SqliteDatabase(self.folder / "h.db")
        self.run(self.database.open())
        self.world = self.run(seed(self.database))
        self.real_rehash = accounts.rehash
        accounts.rehash = fast_rehash  # argon2 is slow on purpose; what is hashed does not matter here
        self.joined = 0
        self.disabled: set[str] = set()
        self.moved: set[str] = set()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        accounts.rehash = self.real_rehash
        self.run(self.database.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def people(self) -> list[str]:
        return sorted(self.world.users)

    @rule(team=st.sampled_from(TEAMS), role=st.sampled_from(["worker", "manager"]))
    def create(self, team: str, role: str) -> None:
        self.joined += 1
        username = f"new{self.joined}"
        roles = actions.TeamRoles(worker=[team]) if role == "worker" else actions.TeamRoles(manager=[team])
        self.world.users[username] = self.run(
            actions.add_person(
                self.database, username=username, full_name=f"New {self.joined}", email=f"{username}@example.gov.uk",
                password="a long enough password", roles=roles, by=None,
            )
        )  # fmt: skip

    @rule(data=st.data())
    def disable(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self.people()))
        try:
            self.run(actions.disable_person(self.database, user_id=self.world.users[name], by=None))
            self.disabled.add(name)
        except Invalid:
            pass  # already disabled, or a team with cases and no manager left: nothing changed

    @rule(
        data=st.data(),
        worker=st.sets(st.sampled_from(TEAMS), max_size=2),
        manager=st.sets(st.sampled_from(TEAMS), max_size=2),
    )
    def move(self, data: st.DataObject, worker: set[str], manager: set[str]) -> None:
        name = data.draw(st.sampled_from(self.people()))
        roles = actions.TeamRoles(worker=sorted(worker), manager=sorted(manager), admin=name == "adm")
        try:
            self.run(actions.change_roles(self.database, user_id=self.world.users[name], roles=roles, by=None))
            self.moved.add(name)
        except Invalid:
            pass  # still holding cases in a team they would leave, disabled, or no role at all

    @rule(case=st.sampled_from(CASES), state=st.sampled_from(STATES))
    def transfer(self, case: str, state: str) -> None:
        """A handover through the real actions, while its usual parties are still there in their roles."""
        if self.disabled & set(TRANSFER_PARTIES) or self.moved & set(TRANSFER_PARTIES):
            return
        found = self.run(db.case_by_id(self.database.reader, self.world.cases[case]))
        if found is None or found.allocated_worker_id != self.world.users["out"] or found.open_handover_id:
            return
        self.run(handover_in(self.database, self.world, state, case))

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The next step of an open handover, taken by someone enabled whom the state machine allows."""
        rows = self.run(_rows(self.database.reader, "SELECT id FROM handovers WHERE state IN (?, ?, ?, ?, ?)",
                              list(NEXT_MOVE)))  # fmt: skip
        if not rows:
            return
        handover_id = data.draw(st.sampled_from([int(r[0]) for r in rows]))
        self.run(self._advance(handover_id))

    async def _advance(self, handover_id: int) -> None:
        view = await actions.load(self.database.reader, CHECKLISTS, handover_id)
        assert view is not None
        move = NEXT_MOVE[view.handover.state]
        for name in self.people():
            user = await db.user_by_id(self.database.reader, self.world.users[name])
            assert user is not None
            if user.disabled:
                continue
            actor = actions.actor_for(user, await db.memberships(self.database.reader, user.id))
            try:
                if move == Action.ACKNOWLEDGE and not refusals(Action.CONFIRM, view.facts, actor):
                    for item in view.critical_sections():
                        await actions.confirm_item(
                            self.database, CHECKLISTS, actor, handover_id, item.id, view.handover.version,
                            understood=True, readback="I take on these risks and the plan to manage them.",
                        )  # fmt: skip
                    view = await actions.load(self.database.reader, CHECKLISTS, handover_id)
                    assert view is not None
                if refusals(move, view.facts, actor, "Because"):
                    continue
                await actions.act(self.database, CHECKLISTS, actor, handover_id, move, view.handover.version, "Because")
                return
            except REFUSALS:
                view = await actions.load(self.database.reader, CHECKLISTS, handover_id)
                assert view is not None

    @invariant()
    def every_case_is_held_by_exactly_one_enabled_person(self) -> None:
        rows = self.run(
            _rows(
                self.database.reader,
                "SELECT c.id, COUNT(u.id), MIN(u.disabled), MIN(u.is_service) FROM cases c"
                " LEFT JOIN users u ON u.id = c.allocated_worker_id GROUP BY c.id",
            )
        )
        assert len(rows) == len(self.world.cases)
        for case_id, holders, disabled, service in rows:
            assert holders == 1, f"case {case_id} has {holders} allocated workers"
            assert disabled == 0, f"case {case_id} is allocated to a disabled account"
            assert service == 0, f"case {case_id} is allocated to a service account"

    @invariant()
    def no_open_handover_waits_on_a_disabled_author_or_receiver(self) -> None:
        rows = self.run(
            _rows(
                self.database.reader,
                "SELECT h.id FROM handovers h JOIN users a ON a.id = h.author_id"
                " LEFT JOIN users r ON r.id = h.receiver_id"
                " WHERE h.state NOT IN ('closed', 'cancelled') AND (a.disabled = 1 OR r.disabled = 1)",
            )
        )
        assert rows == []


assert {"out", "smgr", "rec", "rmgr"} <= set(PEOPLE)
Allocations.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestAllocations = Allocations.TestCase
