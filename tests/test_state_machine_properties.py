"""Hypothesis drives random sequences of actions by random people against the real actions and a real database.

Whatever happens, a handover only closes after a submission, an endorsement, an acknowledgement and an approval by
permitted people, four different people (three for a transfer within one team, which has no separate endorsement);
never while a professional disagreement (raised on the page or written in the checklist) is unresolved, however far it
was escalated; a service account never takes a step; a return or a cancellation never happens without a reason; and
the case always has exactly one allocated worker, a person: the outgoing worker until the moment of closure, the
receiving worker after it.

What the examples fix, the machine draws: the reasons people give (empty, blank, any text), the optional parts of the
checklist left out (optional rows and fields; which child, so which case record the summary must agree with), the
checklist version, who is named as the receiving worker (anyone, the outgoing worker and a service account included),
and the roles of four more people (any mix of worker and manager in either team).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from service import actions, db
from service.actions.demo import CASE_M_DISAGREEMENT, complete_answers
from service.core import clock
from service.core.allocations import AllocationFilter
from service.core.answers import SectionAnswers
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action, refusals
from tests.conftest import PASSWORD_HASH, seed
from tests.helpers import APART, CHECKLIST, CHECKLISTS, on_record_of

DRAWN = ["p1", "p2", "p3", "p4"]  # people whose roles each run draws
PEOPLE = ["out", "out2", "smgr", "smgr2", "rec", "rec2", "rmgr", "rmgr2", "both", "other", "aud", "swap", "svc", *DRAWN]
ROLES = [("north", "worker"), ("north", "manager"), ("cp", "worker"), ("cp", "manager")]
# The roles of the fixed people (tests/conftest.py PEOPLE, plus "swap"); the drawn people's are added per run.
FIXED_ROLES = {
    "out": {("north", "worker")}, "out2": {("north", "worker")}, "rec": {("cp", "worker")}, "rec2": {("cp", "worker")},
    "smgr": {("north", "manager")}, "smgr2": {("north", "manager")}, "rmgr": {("cp", "manager")},
    "rmgr2": {("cp", "manager")}, "both": {("north", "manager"), ("cp", "manager")}, "other": set(), "aud": set(),
    "swap": {("north", "manager"), ("cp", "worker")}, "svc": set(),  # a service account acts in no role
}  # fmt: skip
VERSIONS = sorted({1, max(version for checklist_id, version in CHECKLISTS if checklist_id == CHECKLIST.id)})
OPTIONAL_ROWS = [("parenting-capacity", "agreements"), ("network", "meetings"), ("actions", "actions")]  # min_rows 0
# A reason as a person might give it: nothing, blanks, or any text at all.
reasons = st.one_of(st.sampled_from(["", " ", "\n\t", "Because", "No chronology since June"]), st.text(max_size=12))
# "swap" manages the sending team and works in the receiving one: able, by roles, to act on both sides of a handover;
# "svc" is a service account given every role in both teams: by roles it could do anything, and may do nothing
# Moves towards closure come up more often than moves away from it, so that sequences reach closure.
MOVES = [
    *[Action.SUBMIT, Action.ENDORSE, Action.ACKNOWLEDGE, Action.APPROVE] * 3,
    Action.RETURN_TO_OUTGOING,
    Action.RETURN_TO_RECEIVER,
    Action.CANCEL,
]
# Written out, not read from the workflow: a return either way, and a cancellation, always say why (the query or the
# reason is what the other person reads).
NEEDS_A_REASON = {Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER, Action.CANCEL}
REFUSALS = (Refused, Conflict, NotFound, Invalid)
# Most attempts come from someone the move could be for, so that sequences reach closure often; any person may
# still be chosen, so refusals are exercised too.
LIKELY = {
    Action.SUBMIT: ["out"],
    Action.ENDORSE: ["smgr", "smgr2", "both", "swap", "svc", *DRAWN],
    Action.RETURN_TO_OUTGOING: ["smgr", "rec", "rmgr", "svc", *DRAWN],
    Action.RETURN_TO_RECEIVER: ["rmgr", "both", *DRAWN],
    Action.ACKNOWLEDGE: ["rec", "rec2", "swap", "out2", "svc", *DRAWN],
    Action.APPROVE: ["rmgr", "rmgr2", "both", "smgr", "smgr2", "svc", *DRAWN],
    Action.CANCEL: ["out", "smgr", "aud", "rec", "other", "rmgr", "svc", *DRAWN],
    Action.CONFIRM: ["rec", "rec2", "swap", "out2", "svc", *DRAWN],
}
anyone = st.sampled_from(PEOPLE)


class Transfers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.loop = asyncio.new_event_loop()
        self.database = db.SqliteDatabase(self.folder / "h.db")
        self.run(self.database.open())
        self.world = self.run(seed(self.database))
        self.run(self._add_swap_and_service_account())
        self.actors = {name: self.run(self._actor(name)) for name in PEOPLE if name not in DRAWN}
        self.roles = {name: set(roles) for name, roles in FIXED_ROLES.items()}
        self.done: list[tuple[Action, str]] = []
        self.handover_id = 0
        self.named: str | None = None

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

    async def _add_drawn_people(self, roles: list[set[tuple[str, str]]]) -> None:
        async with self.database.transaction() as conn:
            for name, held in zip(DRAWN, roles, strict=True):
                self.world.users[name] = await db.create_user(conn, name, name.title(), PASSWORD_HASH)
                for team, role in sorted(held):
                    await db.add_membership(conn, self.world.users[name], self.world.teams[team], role)
                self.roles[name] = set(held)

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

    @initialize(
        within_team=st.sampled_from([False, False, True]),
        named=st.sampled_from([None, None, "rec", "rec", "out2", "out2", "rec2", "out", "svc", "smgr", *DRAWN]),
        drawn_roles=st.lists(st.sets(st.sampled_from(ROLES), max_size=3), min_size=len(DRAWN), max_size=len(DRAWN)),
        version=st.sampled_from(VERSIONS),
        child=st.sampled_from(["mia", "c1"]),
        left_out=st.sets(st.sampled_from(["agreements", "meetings", "actions", "stage_reached_on"])),
    )
    def start(
        self,
        within_team: bool,
        named: str | None,
        drawn_roles: list[set[tuple[str, str]]],
        version: int,
        child: str,
        left_out: set[str],
    ) -> None:
        self.run(self._add_drawn_people(drawn_roles))
        self.actors |= {name: self.run(self._actor(name)) for name in DRAWN}
        checklist = CHECKLISTS[(CHECKLIST.id, version)]
        self.within_team, self.checklist, self.child, self.left_out = within_team, checklist, child, left_out
        team = "north" if within_team else "cp"
        start = actions.start_handover(
            self.database, self.actors["out"], checklist, case_id=self.world.cases[child],
            receiving_team_id=self.world.teams[team], receiver_id=self.world.users[named] if named else None,
            apart_reason=APART, transfer_reason="Step-up",
        )  # fmt: skip
        try:
            self.handover_id = self.run(start)
            # accepted only for a person working in the receiving team, other than the outgoing worker
            assert named is None or (named != "out" and (team, "worker") in self.roles[named]), named
            self.named = named
            event(f"named receiver accepted: {named}")
        except Invalid as refused:
            # only a person working in the receiving team, other than the outgoing worker, may be named
            assert named is not None and (named == "out" or (team, "worker") not in self.roles[named]), refused
            self.handover_id = self.run(
                actions.start_handover(
                    self.database, self.actors["out"], checklist, case_id=self.world.cases[child],
                    receiving_team_id=self.world.teams[team], receiver_id=None,
                    apart_reason=APART, transfer_reason="Step-up",
                )
            )  # fmt: skip
        self.fill_in("out", complete_it=True, with_disagreement=False)

    def answers(self, complete_it: bool, with_disagreement: bool) -> dict[str, SectionAnswers]:
        """Complete answers for the drawn child and checklist, without the optional parts this run leaves out."""
        overrides: dict[str, dict[str, Any]] = {"case-summary": on_record_of(self.child)}
        if with_disagreement:
            overrides |= CASE_M_DISAGREEMENT
        answers = complete_answers(self.checklist, clock.today(), **overrides)
        for section_id, group_id in (
            ("parenting-capacity", "agreements"),
            ("network", "meetings"),
            ("actions", "actions"),
        ):
            if group_id in self.left_out and section_id in answers:
                answers[section_id].groups[group_id] = []  # optional rows: none given
        for row in answers["disagreements"].groups.get("disagreements", []):
            if "stage_reached_on" in self.left_out:
                row.pop("stage_reached_on", None)  # an optional date, left out
        if not complete_it:
            answers["open-risks"] = SectionAnswers(values={"has_open_risks": "no"})
        return answers

    @rule(
        who=st.sampled_from(["out"] * 8 + PEOPLE),
        complete_it=st.sampled_from([True, True, False]),
        with_disagreement=st.sampled_from([False, False, True]),
    )
    def fill_in(self, who: str, complete_it: bool, with_disagreement: bool) -> None:
        for section_id, section_answers in self.answers(complete_it, with_disagreement).items():
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
        view = self.run(self._view())
        if complete_it and view.handover.state in ("draft", "returned"):
            # leaving out what is optional never stops submission
            assert view.facts.submission_problems == 0, (self.left_out, self.child, view.facts.incomplete_sections)

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
        reason=reasons,
    )
    def act(self, move: Action, likely: bool, pick: int, who: str, stale: bool, reason: str = "Because") -> None:
        view = self.run(self._view())
        who = self.chosen(view, move, likely, pick, who)
        version = view.handover.version - (1 if stale else 0)
        # a returned handover is resubmitted with a reply to its query
        reply = "Added what the query asked for." if move == Action.SUBMIT and view.handover.state == "returned" else ""
        try:
            self.run(
                actions.act(
                    self.database, CHECKLISTS, self.actors[who], self.handover_id, move, version, reason, reply=reply
                )
            )
        except REFUSALS:
            return
        assert not stale, "a stale version must never be acted on"
        assert move not in NEEDS_A_REASON or reason.strip(), f"{move} happened without a reason"
        self.done.append((move, who))

    @rule(pick=st.integers(0, 5), reason=reasons)
    def turn_back(self, pick: int, reason: str) -> None:
        """A step back (a return, rarely a cancellation) open at the handover's state, by someone who may take it,
        with a drawn reason: blank ones must be refused."""
        backward = {
            "draft": [Action.CANCEL],
            "returned": [Action.CANCEL],
            "submitted": [Action.RETURN_TO_OUTGOING, Action.RETURN_TO_OUTGOING, Action.CANCEL],
            "endorsed": [Action.RETURN_TO_OUTGOING],
            "acknowledged": [Action.RETURN_TO_RECEIVER, Action.RETURN_TO_OUTGOING],
        }.get(self.run(self._view()).handover.state, [])
        if backward and (backward[pick % len(backward)] != Action.CANCEL or pick == 0):
            self.act(backward[pick % len(backward)], likely=True, pick=pick, who="aud", stale=False, reason=reason)

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
                        stage_date=clock.today().isoformat(),
                    )
                )  # fmt: skip
            except REFUSALS:
                continue
            assert before != "resolved", "a resolved disagreement is never decided again"
            assert resolver not in ("rec", "svc"), "only a team manager decides a disagreement"

    @invariant()
    def the_case_always_has_exactly_one_allocated_worker_a_person(self) -> None:
        case = self.run(db.case_by_id(self.database.reader, self.world.cases[self.child]))
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
    def the_childs_allocation_history_ends_with_the_case_as_it_is(self) -> None:
        """One current allocation, the case's worker and team; a closed handover's move names the handover."""
        case_id = self.world.cases[self.child]
        history = self.run(db.allocations_of(self.database.reader, AllocationFilter()))
        mine = [row for row in history if row.case_id == case_id]
        case = self.run(db.case_by_id(self.database.reader, case_id))
        assert case is not None
        assert [(r.worker_id, r.team_id) for r in mine if r.allocated_to is None] == [
            (case.allocated_worker_id, case.allocated_team_id)
        ]
        if self.run(self._view()).handover.state == "closed":
            assert (mine[-1].reason, mine[-1].handover_id) == ("handover", self.handover_id)
        else:
            assert [r.reason for r in mine] == ["opened"]

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
        event("closed " + ("within one team" if self.within_team else "between teams"))
        event("closed by a named receiving worker" if self.named else "closed by a worker the team allocated")
        last_submit = max(i for i, (move, _) in enumerate(self.done) if move == Action.SUBMIT)
        after = self.done[last_submit:]
        acknowledger = next(who for move, who in reversed(after) if move == Action.ACKNOWLEDGE)
        approver = next(who for move, who in reversed(after) if move == Action.APPROVE)
        receiving = "north" if self.within_team else "cp"
        assert self.done[last_submit][1] == "out"
        if self.named is not None:
            assert acknowledger == self.named, "only the named receiving worker takes the case on"
        else:
            assert (receiving, "worker") in self.roles[acknowledger]
        assert (receiving, "manager") in self.roles[approver]
        if self.within_team:  # one manager step: the team's manager approves, nobody endorses
            assert not any(move == Action.ENDORSE for move, _ in after)
            assert len({acknowledger, approver, "out"}) == 3
        else:
            endorser = next(who for move, who in reversed(after) if move == Action.ENDORSE)
            assert ("north", "manager") in self.roles[endorser]
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
