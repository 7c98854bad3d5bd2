"""What people do to handovers: the same actions for the pages, the command line and the tests.

Each action runs in one write transaction: it reloads the handover, asks the state machine whether this person may
do this now, makes the change, and appends the audit entry, so two people acting at once cannot both succeed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from service import db
from service.checklist import Checklist, Section
from service.core import answers as answer_rules
from service.core.answers import SectionAnswers
from service.core.workflow import Action, Actor, Facts, Refused, State, apply

Checklists = dict[tuple[str, int], Checklist]


class Invalid(Exception):
    """Input that cannot be accepted, with a message for each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class HandoverView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a page needs about one handover, loaded together."""

    handover: db.Handover
    checklist: Checklist
    sections: dict[str, db.SectionRecord]
    confirmations: dict[str, db.Confirmation]
    facts: Facts

    def answers(self, section_id: str) -> SectionAnswers:
        record = self.sections.get(section_id)
        return record.answers if record else SectionAnswers()

    def all_answers(self) -> dict[str, SectionAnswers]:
        return {section_id: record.answers for section_id, record in self.sections.items()}

    def critical_sections(self) -> list[Section]:
        return [s for s in self.checklist.sections if answer_rules.is_critical(s, self.answers(s.id))]


def today() -> date:
    return date.today()


def actor_for(user: db.User, memberships: list[db.Membership]) -> Actor:
    return Actor(
        user_id=user.id,
        name=user.name,
        worker_teams=frozenset(m.team_id for m in memberships if m.role == "worker"),
        manager_teams=frozenset(m.team_id for m in memberships if m.role == "manager"),
        is_auditor=user.is_auditor,
        is_admin=user.is_admin,
    )


def parties_and_state(handover: db.Handover) -> Facts:
    """Facts for the ANSWER_BLIND actions: everything but what the answers and confirmations say."""
    return Facts(
        state=State(handover.state),
        author_id=handover.author_id,
        sending_team_id=handover.sending_team_id,
        receiving_team_id=handover.receiving_team_id,
        receiver_id=handover.receiver_id,
        endorsed_by=handover.endorsed_by,
        acknowledged_by=handover.acknowledged_by,
        open_disagreements=handover.open_disagreements,
        state_since=datetime.fromisoformat(handover.state_since).date(),
        today=today(),
        author_name=handover.author,
        receiver_name=handover.receiver or "",
        sending_team_name=handover.sending_team,
        receiving_team_name=handover.receiving_team,
    )


def build_facts(
    handover: db.Handover,
    checklist: Checklist,
    sections: dict[str, db.SectionRecord],
    confirmations: dict[str, db.Confirmation],
) -> Facts:
    all_answers = {section_id: record.answers for section_id, record in sections.items()}
    problems = answer_rules.submission_problems(checklist, all_answers, today())
    unconfirmed = tuple(
        s.title
        for s in checklist.sections
        if answer_rules.is_critical(s, all_answers.get(s.id, SectionAnswers())) and s.id not in confirmations
    )
    return msgspec.structs.replace(
        parties_and_state(handover),
        submission_problems=len(problems),
        unconfirmed_items=unconfirmed,
        incomplete_sections=tuple(dict.fromkeys(p.section_title for p in problems)),
    )


async def load(conn: db.Conn, checklists: Checklists, handover_id: int) -> HandoverView | None:
    handover = await db.handover_by_id(conn, handover_id)
    if handover is None:
        return None
    checklist = checklists[(handover.checklist_id, handover.checklist_version)]
    sections = await db.sections_of(conn, handover_id)
    confirmations = await db.confirmations_of(conn, handover_id)
    facts = build_facts(handover, checklist, sections, confirmations)
    return HandoverView(
        handover=handover, checklist=checklist, sections=sections, confirmations=confirmations, facts=facts
    )


async def _load_for_change(conn: db.Conn, checklists: Checklists, handover_id: int, version: int) -> HandoverView:
    view = await load(conn, checklists, handover_id)
    if view is None:
        raise db.NotFound(f"handover {handover_id}")
    if view.handover.version != version:
        raise db.Conflict("the handover has changed since this page was loaded")
    return view


# ---------------------------------------------------------------- starting and filling in


async def start_handover(
    database: db.Database,
    actor: Actor,
    checklist: Checklist,
    *,
    case_id: int,
    receiving_team_id: int | None,
    receiver_id: int | None,
    transfer_reason: str,
) -> int:
    async with database.transaction() as conn:
        case = await db.case_by_id(conn, case_id)
        if case is None or case.allocated_worker_id != actor.user_id:
            raise db.NotFound(f"case {case_id}")
        errors = await _start_errors(conn, case, receiving_team_id, receiver_id, transfer_reason)
        if errors:
            raise Invalid(errors)
        assert receiving_team_id is not None
        handover_id = await db.create_handover(
            conn,
            case_id=case_id,
            checklist_id=checklist.id,
            checklist_version=checklist.version,
            author_id=actor.user_id,
            sending_team_id=case.allocated_team_id,
            receiving_team_id=receiving_team_id,
            receiver_id=receiver_id,
            transfer_reason=transfer_reason.strip(),
        )
        await db.append_audit(
            conn,
            actor.user_id,
            "start",
            "handover",
            handover_id,
            {"case_id": case_id, "checklist": f"{checklist.id} v{checklist.version}", "to_team": receiving_team_id},
        )
        return handover_id


async def _start_errors(
    conn: db.Conn, case: db.Case, team_id: int | None, receiver_id: int | None, reason: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if case.open_handover_id is not None:
        errors["receiving_team"] = "This case already has a handover in progress"
    team_ids = {team.id for team in await db.teams(conn)}
    if team_id is None or team_id not in team_ids:
        errors["receiving_team"] = "Select the team the case is moving to"
    elif receiver_id is not None:
        if receiver_id == case.allocated_worker_id:
            errors["receiver"] = "Select a different worker: the case is already allocated to you"
        elif not await db.is_team_worker(conn, receiver_id, team_id):
            errors["receiver"] = "Select a worker in the receiving team, or leave it for the team to allocate"
    if not reason.strip():
        errors["transfer_reason"] = "Enter the reason for the transfer"
    elif len(reason) > 1000:
        errors["transfer_reason"] = "The reason for the transfer must be 1,000 characters or fewer"
    return errors


def section_status(section: Section, answers: SectionAnswers, finished: bool) -> tuple[str, dict[str, str]]:
    """'completed' when valid; when not, 'has_errors' if the person said they had finished, else 'in_progress'."""
    errors = answer_rules.validate_section(section, answers, today())
    if not errors:
        return "completed", {}
    return ("has_errors" if finished else "in_progress"), errors


async def save_section(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    section_id: str,
    answers: SectionAnswers,
    base_version: int,
    *,
    finished: bool,
    loaded: db.Handover | None = None,
) -> tuple[int, dict[str, str]]:
    """Store what was typed (valid or not, so nothing is lost); returns the new version and any messages.

    The handover is loaded (or `loaded`, as the caller read it), checked and the answers validated before the write
    lock is taken, so that the work done while every other writer waits is only the writes; if the handover changed
    in between (its version moved on), the check is made again inside the transaction.
    """
    handover = await _editable(database.reader, actor, handover_id, loaded)
    section = checklists[(handover.checklist_id, handover.checklist_version)].section(section_id)
    if section is None:
        raise db.NotFound(f"section {section_id}")
    status, errors = section_status(section, answers, finished)
    critical = answer_rules.is_critical(section, answers)
    async with database.transaction() as conn:
        if await db.handover_version(conn, handover_id) != handover.version:
            await _editable(conn, actor, handover_id)
        new_version = await db.save_section(
            conn, handover_id, section_id, answers, status, base_version, actor.user_id, critical=critical
        )
        await db.append_audit(
            conn,
            actor.user_id,
            "save_section",
            "handover",
            handover_id,
            {"section": section_id, "old_version": base_version, "new_version": new_version, "status": status},
        )
        return new_version, errors


async def _editable(conn: db.Conn, actor: Actor, handover_id: int, loaded: db.Handover | None = None) -> db.Handover:
    """The handover, if this person may edit it now: checked without loading its answers (EDIT is ANSWER_BLIND)."""
    handover = loaded if loaded is not None and loaded.id == handover_id else await db.handover_by_id(conn, handover_id)
    if handover is None:
        raise db.NotFound(f"handover {handover_id}")
    apply(Action.EDIT, parties_and_state(handover), actor)
    return handover


# ---------------------------------------------------------------- workflow


async def act(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    action: Action,
    version: int,
    reason: str = "",
) -> State:
    """Submit, endorse, return, acknowledge, approve or cancel, if the state machine allows it."""
    async with database.transaction() as conn:
        view = await _load_for_change(conn, checklists, handover_id, version)
        new_state = apply(action, view.facts, actor, reason)
        changes = _changes_for(action, view, actor, new_state, reason.strip())
        await db.update_handover(conn, handover_id, version, **changes)
        await _side_effects(conn, action, view, actor)
        details: dict[str, Any] = {"from": view.handover.state, "to": new_state.value}
        if reason.strip():
            details["reason"] = reason.strip()
        await db.append_audit(conn, actor.user_id, action.value, "handover", handover_id, details)
        return new_state


def _changes_for(action: Action, view: HandoverView, actor: Actor, new_state: State, reason: str) -> dict[str, Any]:
    stamp = db.now()
    changes: dict[str, Any] = {"state": new_state.value}
    if new_state != State(view.handover.state):
        changes["state_since"] = stamp
    if action == Action.SUBMIT:
        changes |= {"submitted_at": stamp, "endorsed_by": None, "endorsed_at": None}
    elif action == Action.ENDORSE:
        changes |= {"endorsed_by": actor.user_id, "endorsed_at": stamp}
    elif action == Action.ACKNOWLEDGE:
        changes |= {"acknowledged_by": actor.user_id, "acknowledged_at": stamp, "receiver_id": actor.user_id}
    elif action == Action.APPROVE:
        changes |= {"approved_by": actor.user_id, "approved_at": stamp}
    elif action in (Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER):
        changes |= {"returned_reason": reason, "returned_by": actor.user_id, "returned_at": stamp}
        changes |= {"acknowledged_by": None, "acknowledged_at": None}
        if view.handover.state == State.ENDORSED and view.handover.receiver_id is None:
            changes["receiver_id"] = actor.user_id  # resubmission goes back to the same receiver
    return changes


async def _side_effects(conn: db.Conn, action: Action, view: HandoverView, actor: Actor) -> None:
    if action == Action.RETURN_TO_OUTGOING:
        await db.clear_confirmations(conn, view.handover.id)
    elif action == Action.APPROVE:
        receiver_id = view.handover.receiver_id or view.handover.acknowledged_by
        assert receiver_id is not None, "an acknowledged handover has a receiver"
        await db.reallocate_case(conn, view.handover.case_id, receiver_id, view.handover.receiving_team_id)


async def confirm_item(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    section_id: str,
    version: int,
    *,
    understood: bool,
    readback: str,
) -> None:
    async with database.transaction() as conn:
        view = await _load_for_change(conn, checklists, handover_id, version)
        section = view.checklist.section(section_id)
        if section is None or not answer_rules.is_critical(section, view.answers(section_id)):
            raise db.NotFound(f"critical item {section_id}")
        apply(Action.CONFIRM, view.facts, actor)
        errors = confirmation_errors(section, understood, readback)
        if errors:
            raise Invalid(errors)
        await db.confirm_section(conn, handover_id, section_id, actor.user_id, readback.strip())
        await db.append_audit(
            conn, actor.user_id, "confirm", "handover", handover_id, {"section": section_id, "readback": bool(readback)}
        )


def confirmation_errors(section: Section, understood: bool, readback: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not understood:
        errors[f"understood-{section.id}"] = f"Confirm you have read and understood ‘{section.title}’"
    if section.readback and len(readback.strip()) < 20:
        errors[f"readback-{section.id}"] = (
            f"Write, in your own words, what you are taking on from ‘{section.title}’ (at least 20 characters)"
        )
    if len(readback) > 4000:
        errors[f"readback-{section.id}"] = "Your summary must be 4,000 characters or fewer"
    return errors


# ---------------------------------------------------------------- disagreements and views


async def raise_disagreement(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    *,
    about: str,
    with_whom: str,
    view_text: str,
) -> int:
    errors: dict[str, str] = {}
    for key, value, missing, limit in (
        ("about", about, "Enter what the disagreement is about", 2000),
        ("with_whom", with_whom, "Enter who you disagree with", 200),
        ("view", view_text, "Enter your view", 4000),
    ):
        if not value.strip():
            errors[key] = missing
        elif len(value) > limit:
            errors[key] = f"This must be {limit:,} characters or fewer"
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        view = await load(conn, checklists, handover_id)
        if view is None:
            raise db.NotFound(f"handover {handover_id}")
        apply(Action.RAISE_DISAGREEMENT, view.facts, actor)
        disagreement_id = await db.raise_disagreement(
            conn, handover_id, actor.user_id, about.strip(), with_whom.strip(), view_text.strip()
        )
        await db.append_audit(
            conn, actor.user_id, "raise_disagreement", "handover", handover_id, {"disagreement": disagreement_id}
        )
        return disagreement_id


async def decide_disagreement(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    disagreement_id: int,
    *,
    decision: str,
    outcome: str,
    stage: str,
    stage_date: str,
) -> None:
    errors: dict[str, str] = {}
    if decision not in ("resolved", "escalated"):
        errors["decision"] = "Select whether the disagreement is resolved or escalated"
    if not outcome.strip():
        errors["outcome"] = "Enter the resolution, or what was decided at escalation"
    if decision == "escalated" and not stage.strip():
        errors["stage"] = "Enter the escalation stage"
    if decision == "escalated" and answer_rules.parse_date(stage_date) is None:
        errors["stage_date-day"] = "Enter the date of the escalation as a real date"
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        view = await load(conn, checklists, handover_id)
        if view is None:
            raise db.NotFound(f"handover {handover_id}")
        if disagreement_id not in {d.id for d in await db.disagreements_of(conn, handover_id)}:
            raise db.NotFound(f"disagreement {disagreement_id}")
        apply(Action.RESOLVE_DISAGREEMENT, view.facts, actor)
        await db.decide_disagreement(
            conn, disagreement_id, actor.user_id, decision, outcome.strip(), stage.strip(), stage_date
        )
        await db.append_audit(
            conn,
            actor.user_id,
            f"disagreement_{decision}",
            "handover",
            handover_id,
            {"disagreement": disagreement_id, "stage": stage.strip()},
        )


async def record_view(database: db.Database, actor: Actor, handover_id: int, page: str) -> None:
    """Every view of a handover is in the audit trail: who looked at which child's record, and when."""
    async with database.transaction() as conn:
        await db.append_audit(conn, actor.user_id, "view", "handover", handover_id, {"page": page})


__all__ = ["Refused"]
