"""Hypothesis drives random sequences of actions by random people against the real actions and a real database.

Whatever happens, a handover only closes after a submission, an endorsement, an acknowledgement and an approval by
permitted people, four different people (three for a transfer within one team, which has no separate endorsement);
never while a professional disagreement (raised on the page or written in the checklist) is unresolved, however far it
was escalated; a service account never takes a step; and the case always has exactly one allocated worker, a person:
the outgoing worker until the moment of closure, the receiving worker after it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from service import actions, db
from service.actions.demo import CASE_M_DISAGREEMENT
from service.core.answers import SectionAnswers
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action, refusals
from tests.conftest import PASSWORD_HASH, seed
from tests.helpers import CHECKLIST, CHECKLISTS, complete

PEOPLE = ["out", "out2", "smgr", "smgr2", "rec", "rec2", "rmgr", "rmgr2", "both", "other", "aud", "swap", "svc"]
# "swap" manages the sending team and works in the receiving one: able, by roles, to act on both sides of a handover;
# "svc" is a service account given every role in both teams: by roles it could do anything, and may do nothing
# Moves towards closure come up more often than moves away from it, so that sequences reach closure.
MOVES = [
    *[Action.SUBMIT, Action.ENDORSE, Action.ACKNOWLEDGE, Action.APPROVE] * 3,
    Action.RETURN_TO_OUTGOING,
    Action.RETURN_TO_RECEIVER,
    Action.CANCEL,
]
REFUSALS = (Refused, Conflict, NotFound, Invalid)
# Most attempts come from someone the move could be for, so that sequences reach closure often; any person may
# still be chosen, so refusals are exercised too.
LIKELY = {
    Action.SUBMIT: ["out"],
    Action.ENDORSE: ["smgr", "smgr2", "both", "swap", "svc"],
    Action.RETURN_TO_OUTGOING: ["smgr", "rec", "rmgr", "svc"],
    Action.RETURN_TO_RECEIVER: ["rmgr", "both"],
    Action.ACKNOWLEDGE: ["rec", "rec2", "swap", "out2", "svc"],
    Action.APPROVE: ["rmgr", "rmgr2", "both", "smgr", "smgr2", "svc"],
    Action.CANCEL: ["out", "smgr", "aud", "rec", "other", "rmgr", "svc"],
    Action.CONFIRM: ["rec", "rec2", "swap", "out2", "svc"],
}
anyone = st.sampled_from(PEOPLE)


class Transfers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.loop = asyncio.new_event_loop()
        self.database = db.Database(self.folder / "h.db")
        self.run(self.database.open())
        self.world = self.run(seed(self.database))
        self.run(self._add_swap_and_service_account())
        self.actors = {name: self.run(self._actor(name)) for name in PEOPLE}
        self.done: list[tuple[Action, str]] = []
        self.handover_id = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _add_swap_and_service_account(self) -> None:
        async with self.database.transaction() as conn:
            swap = await db.create_user(conn, "swap", "Swap", PASSWORD_HASH)
            await db.add_membership(conn, swap, self.world.teams["north"], "manager")
            await db.add_membership(conn, swap, self.world.teams["cp"], "worker")
            svc = await db.create_user(conn, "svc", "Case system", "!", is_service=True)
            for team in ("north", "cp"):
                for role in ("worker", "manager"):
                    await db.add_membership(conn, svc, self.world.teams[team], role)
        self.world.users |= {"swap": swap, "svc": svc}

    async def _actor(self, name: str) -> Any:
        user = await db.user_by_id(self.database.reader, self.world.users[name])
        assert user is not None
        return actions.actor_for(user, await db.memberships(self.database.reader, user.id))

    def teardown(self) -> None:
        self.run(self.database.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def chosen(self, view: actions.HandoverView, move: Action, likely: bool, pick: int, who: str) -> str:
        """Usually someone the state machine would allow (when there is one), otherwise anyone at all."""
        permitted = [p for p in LIKELY[move] if not refusals(move, view.facts, self.actors[p], "Because")]
        return permitted[pick % len(permitted)] if likely and permitted else who

    async def _view(self) -> actions.HandoverView:
        view = await actions.load(self.database.reader, CHECKLISTS, self.handover_id)
        assert view is not None
        return view

    @initialize(named_receiver=st.booleans(), within_team=st.sampled_from([False, False, True]))
    def start(self, named_receiver: bool, within_team: bool) -> None:
        self.within_team = within_team
        team, receiver = ("north", "out2") if within_team else ("cp", "rec")
        self.handover_id = self.run(
            actions.start_handover(
                self.database,
                self.actors["out"],
                CHECKLIST,
                case_id=self.world.cases["mia"],
                receiving_team_id=self.world.teams[team],
                receiver_id=self.world.users[receiver] if named_receiver else None,
                transfer_reason="Step-up",
            )
        )
        self.fill_in("out", complete_it=True, with_disagreement=False)

    @rule(
        who=st.sampled_from(["out"] * 8 + PEOPLE),
        complete_it=st.sampled_from([True, True, False]),
        with_disagreement=st.sampled_from([False, False, True]),
    )
    def fill_in(self, who: str, complete_it: bool, with_disagreement: bool) -> None:
        answers = complete(**(CASE_M_DISAGREEMENT if with_disagreement else {}))
        if not complete_it:
            answers["open-risks"] = SectionAnswers(values={"has_open_risks": "no"})
        for section_id, section_answers in answers.items():
            try:
                version = self.run(self._view()).sections.get(section_id)
                self.run(
                    actions.save_section(
                        self.database, CHECKLISTS, self.actors[who], self.handover_id, section_id, section_answers,
                        version.version if version else 0, finished=True,
                    )
                )  # fmt: skip
            except REFUSALS:
                return

    @rule(likely=st.booleans(), pick=st.integers(0, 5), who=anyone, every_item=st.booleans())
    def confirm(self, likely: bool, pick: int, who: str, every_item: bool) -> None:
        view = self.run(self._view())
        who = self.chosen(view, Action.CONFIRM, likely, pick, who)
        for section in view.critical_sections()[: None if every_item else 1]:
            try:
                self.run(
                    actions.confirm_item(
                        self.database, CHECKLISTS, self.actors[who], self.handover_id, section.id,
                        view.handover.version, understood=True, readback="I am taking on the risks set out here.",
                    )
                )  # fmt: skip
            except REFUSALS:
                return

    @rule(
        move=st.sampled_from(MOVES),
        likely=st.sampled_from([True, True, True, False]),
        pick=st.integers(0, 5),
        who=anyone,
        stale=st.sampled_from([False, False, False, True]),
    )
    def act(self, move: Action, likely: bool, pick: int, who: str, stale: bool) -> None:
        view = self.run(self._view())
        who = self.chosen(view, move, likely, pick, who)
        version = view.handover.version - (1 if stale else 0)
        # a returned handover is resubmitted with a reply to its query
        reply = "Added what the query asked for." if move == Action.SUBMIT and view.handover.state == "returned" else ""
        try:
            self.run(
                actions.act(
                    self.database, CHECKLISTS, self.actors[who], self.handover_id, move, version, "Because", reply=reply
                )
            )
        except REFUSALS:
            return
        assert not stale, "a stale version must never be acted on"
        self.done.append((move, who))

    @rule(pick=st.integers(0, 5))
    def progress(self, pick: int) -> None:
        """The next step towards closure, by someone allowed to take it (if anyone is)."""
        view = self.run(self._view())
        forward = {
            "draft": Action.SUBMIT,
            "returned": Action.SUBMIT,
            "submitted": Action.ENDORSE,
            "endorsed": Action.ACKNOWLEDGE,
            "acknowledged": Action.APPROVE,
        }.get(view.handover.state)
        if forward == Action.APPROVE and view.handover.open_disagreements:
            self.decide(resolver="rmgr" if not self.within_team else "smgr", escalate=False, stage="")
        elif forward == Action.ACKNOWLEDGE and view.facts.unconfirmed_items:
            self.confirm(likely=True, pick=pick, who="rec", every_item=True)
        elif forward is not None:
            self.act(forward, likely=True, pick=pick, who="aud", stale=False)

    @rule(who=st.sampled_from(PEOPLE))
    def disagree(self, who: str) -> None:
        try:
            self.run(
                actions.raise_disagreement(
                    self.database, CHECKLISTS, self.actors[who], self.handover_id,
                    about="Capacity to protect", with_whom="The outgoing worker", view_text="Needs a PAMS",
                )
            )  # fmt: skip
        except REFUSALS:
            return

    @rule(
        resolver=st.sampled_from(["rmgr", "smgr", "both", "rec", "svc"]),
        escalate=st.booleans(),
        stage=st.sampled_from([stage.value for stage in CHECKLIST.escalation_ladder]),
    )
    def decide(self, resolver: str, escalate: bool, stage: str) -> None:
        for disagreement in self.run(db.disagreements_of(self.database.reader, self.handover_id)):
            before = disagreement.status
            try:
                self.run(
                    actions.decide_disagreement(
                        self.database, CHECKLISTS, self.actors[resolver], self.handover_id, disagreement.id,
                        decision="escalated" if escalate else "resolved", outcome="Agreed a plan", stage=stage,
                        stage_date=date.today().isoformat(),
                    )
                )  # fmt: skip
            except REFUSALS:
                continue
            assert before != "resolved", "a resolved disagreement is never decided again"
            assert resolver not in ("rec", "svc"), "only a team manager decides a disagreement"

    @invariant()
    def the_case_always_has_exactly_one_allocated_worker_a_person(self) -> None:
        case = self.run(db.case_by_id(self.database.reader, self.world.cases["mia"]))
        assert case is not None
        handover = self.run(self._view()).handover
        if handover.state == "closed":
            assert case.allocated_worker_id == handover.receiver_id == handover.acknowledged_by
            assert case.allocated_team_id == handover.receiving_team_id
        else:
            assert case.allocated_worker_id == self.world.users["out"]
            assert case.allocated_team_id == self.world.teams["north"]
        assert case.allocated_worker_id != self.world.users["svc"]

    @invariant()
    def a_service_account_never_takes_a_step(self) -> None:
        assert all(who != "svc" for _, who in self.done)

    @invariant()
    def every_return_to_the_outgoing_worker_is_a_query_answered_by_the_resubmission(self) -> None:
        queries = self.run(db.queries_of(self.database.reader, self.handover_id))
        assert len(queries) == sum(1 for move, _ in self.done if move == Action.RETURN_TO_OUTGOING)
        unanswered = [q.id for q in queries if q.reply is None]
        state = self.run(self._view()).handover.state
        if state == "returned":
            assert unanswered == [queries[-1].id]
        elif state == "cancelled":  # cancelled while returned: its query was never answered
            assert unanswered == [] or unanswered == [queries[-1].id]
        else:
            assert unanswered == []

    @invariant()
    def closure_needs_every_sign_off_by_permitted_different_people(self) -> None:
        if self.run(self._view()).handover.state != "closed":
            return
        last_submit = max(i for i, (move, _) in enumerate(self.done) if move == Action.SUBMIT)
        after = self.done[last_submit:]
        acknowledger = next(who for move, who in reversed(after) if move == Action.ACKNOWLEDGE)
        approver = next(who for move, who in reversed(after) if move == Action.APPROVE)
        assert self.done[last_submit][1] == "out"
        if self.within_team:  # one manager step: the team's manager approves, nobody endorses
            assert not any(move == Action.ENDORSE for move, _ in after)
            assert acknowledger == "out2" and approver in ("smgr", "smgr2", "both", "swap")
            assert len({acknowledger, approver, "out"}) == 3
        else:
            endorser = next(who for move, who in reversed(after) if move == Action.ENDORSE)
            assert endorser in ("smgr", "smgr2", "both", "swap")
            assert acknowledger in ("rec", "rec2", "swap")
            assert approver in ("rmgr", "rmgr2", "both")
            assert len({endorser, acknowledger, approver, "out"}) == 4

    @invariant()
    def closed_only_with_every_disagreement_resolved(self) -> None:
        view = self.run(self._view())
        found = self.run(db.disagreements_of(self.database.reader, self.handover_id))
        unresolved = [d for d in found if d.status != "resolved"]
        assert view.handover.open_disagreements == len(unresolved), "an escalated disagreement is still open"
        if view.handover.state == "closed":
            assert not unresolved
            assert all(d.outcome and d.decided_by_name and d.decided_at for d in found)


Transfers.TestCase.settings = settings(
    stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestTransfers = Transfers.TestCase
