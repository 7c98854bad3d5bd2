"""What people do to handovers: start one, fill in its sections, move it through the workflow, confirm its critical
items, record and decide professional disagreements, and view it.

Each action is one write transaction: it reloads the handover, asks the state machine whether this person may do
this now, makes the change and appends the audit entry, so two people acting at once cannot both succeed. Input is
checked against the one set of rules in `service.core` (`validation`, `answers`), so the pages, the API, the
command line and the tests get the same answer and the same message.

Errors raised: `Invalid` (messages by field), `Refused` (the state machine's reasons), `Conflict` (the handover or
section moved on since it was loaded), `NotFound` (no such handover, or none this person may see).
"""

from __future__ import annotations

from typing import Any

import msgspec

from service import db
from service.actions import notifications
from service.checklist import Checklist, Section
from service.core import answers as answer_rules
from service.core import caseload, currency, telling, validation
from service.core import disagreements as disagreement_rules
from service.core import groups as group_rules
from service.core.answers import ChildRecord, Problem, SectionAnswers
from service.core.clock import today
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.readback import handed_over_texts
from service.core.workflow import (
    MANAGER_STEPS,
    NEEDS_REASON,
    OPEN_STATES,
    Action,
    Actor,
    Facts,
    State,
    absent_refusals,
    answers_may_change,
    apply,
    eligible,
    facts_for,
    may_view,
    named_manager_refusals,
    person_refusals,
    sign_offs_stood_in_for,
    step_refusals,
)
from service.db import caseload as caseload_store
from service.db import telling as telling_store

Checklists = dict[tuple[str, int], Checklist]  # every loaded checklist by (id, version)


class HandoverView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a page needs about one handover, loaded together."""

    handover: db.Handover
    checklist: Checklist
    sections: dict[str, db.SectionRecord]
    confirmations: dict[str, db.Confirmation]
    facts: Facts
    # what stops its submission (`answers.submission_problems`), as worked out for `facts` when it was loaded: the
    # pages that list them show the same ones the state machine counted, without validating every section again
    problems: tuple[Problem, ...]

    def answers(self, section_id: str) -> SectionAnswers:
        record = self.sections.get(section_id)
        return record.answers if record else SectionAnswers()

    def all_answers(self) -> dict[str, SectionAnswers]:
        return {section_id: record.answers for section_id, record in self.sections.items()}

    @property
    def child(self) -> ChildRecord:
        return child_of(self.handover)

    def critical_sections(self) -> list[Section]:
        return [s for s in self.checklist.sections if answer_rules.is_critical(s, self.answers(s.id))]


def checklist_for(checklists: Checklists, handover: db.Handover) -> Checklist:
    """The handover's own checklist version, with the children of the child's sibling group on record offered where a
    field chooses one of them (`Checklist.for_children`)."""
    child = child_of(handover)
    children = ((child.name, child.reference), *child.siblings)
    return checklists[(handover.checklist_id, handover.checklist_version)].for_children(children)


def child_of(handover: db.Handover) -> ChildRecord:
    """The child's case record as the handover's answers must restate it (`answers.record_message`)."""
    siblings = msgspec.json.decode(handover.siblings_on_record or "[]", type=list[tuple[str, str]])
    return ChildRecord(
        name=handover.child_name,
        date_of_birth=handover.date_of_birth,
        reference=handover.case_reference,
        siblings=tuple(sorted(siblings)),
        corrected_at=handover.record_corrected_at,
    )


def actor_for(user: db.User, memberships: list[db.Membership]) -> Actor:
    """The person as the state machine sees them: their teams by role, and whether they audit or administer."""
    return Actor(
        user_id=user.id,
        name=user.name,
        worker_teams=frozenset(m.team_id for m in memberships if m.role == "worker"),
        manager_teams=frozenset(m.team_id for m in memberships if m.role == "manager"),
        is_auditor=user.is_auditor,
        is_admin=user.is_admin,
        is_service=user.is_service,
        absent=user.absent,
        overseen_teams=frozenset(int(team) for team in user.overseen_teams.split(",") if team),
    )


def parties_and_state(handover: db.Handover) -> Facts:
    """Facts for the actions that do not depend on the answers: everything but what answers and confirmations say."""
    return facts_for(handover, today())


def build_facts(
    handover: db.Handover,
    checklist: Checklist,
    sections: dict[str, db.SectionRecord],
    confirmations: dict[str, db.Confirmation],
) -> tuple[Facts, tuple[Problem, ...]]:
    """Facts with what the answers and the receiver's confirmations say, and what stops the handover's submission
    (`answers.submission_problems` on today's date in England), which the facts count: none once it has been
    submitted and its answers can no longer change (`workflow.answers_may_change`)."""
    all_answers = {section_id: record.answers for section_id, record in sections.items()}
    # validating every answer is most of loading a handover: done only where it can still be submitted
    problems = (
        tuple(answer_rules.submission_problems(checklist, all_answers, today(), child_of(handover)))
        if answers_may_change(State(handover.state))
        else ()
    )
    # an item counts as confirmed only by the worker who takes the case on (the receiver, once named or taken on)
    unconfirmed_sections = [
        s
        for s in checklist.sections
        if answer_rules.is_critical(s, all_answers.get(s.id, SectionAnswers()))
        and (
            s.id not in confirmations
            or (handover.receiver_id is not None and confirmations[s.id].user_id != handover.receiver_id)
        )
    ]
    overdue = disagreement_rules.overdue(checklist, handover.open_disagreement_stages, today())
    facts = facts_for(
        handover,
        today(),
        overdue_disagreements=tuple(item.sentence() for item in overdue),
        stale_records=tuple(flag.sentence() for flag in currency.stored_flags(handover.record_flags)),
        telling_missing=telling.missing(checklist, bool(handover.family_told), handover.agencies_waiting),
        submission_problems=len(problems),
        unconfirmed_items=tuple(s.title for s in unconfirmed_sections),
        unconfirmed_ids=tuple(s.id for s in unconfirmed_sections),
        incomplete_sections=tuple(dict.fromkeys(p.section_title for p in problems)),
    )
    return facts, problems


async def load(conn: db.Conn, checklists: Checklists, handover_id: int) -> HandoverView | None:
    """A handover with its answers and confirmations, or None; no check of who is asking (see `visible`)."""
    handover = await db.handover_by_id(conn, handover_id)
    if handover is None:
        return None
    checklist = checklist_for(checklists, handover)
    sections = await db.sections_of(conn, handover_id)
    confirmations = await db.confirmations_of(conn, handover_id)
    facts, problems = build_facts(handover, checklist, sections, confirmations)
    return HandoverView(
        handover=handover,
        checklist=checklist,
        sections=sections,
        confirmations=confirmations,
        facts=facts,
        problems=problems,
    )


async def visible(conn: db.Conn, checklists: Checklists, actor: Actor, handover_id: int) -> HandoverView:
    """The handover with its answers, if this person may see it; `NotFound` otherwise, so that nobody learns that a
    handover they may not see exists. Every page, the API and the command line ask this one question."""
    view = await load(conn, checklists, handover_id)
    if view is None or not may_view(view.facts, actor):
        raise NotFound(f"handover {handover_id}")
    return view


async def visible_record(conn: db.Conn, actor: Actor, handover_id: int) -> db.Handover:
    """As `visible`, reading only the handover's row (not its answers): for pages that show no answers."""
    handover = await db.handover_by_id(conn, handover_id)
    if handover is None or not may_view(parties_and_state(handover), actor):
        raise NotFound(f"handover {handover_id}")
    return handover


async def received_by(
    conn: db.Conn, actor: Actor, *, finished: bool = False, limit: int = db.EVERY_ROW, offset: int = 0
) -> tuple[list[db.Received], int]:
    """One page of the handovers this person received as the receiving worker and that no longer wait for them
    (`db.handovers_received_by`: in progress, or `finished`, closed), most recent activity first, each one they may
    see; and how many the list holds."""
    received, total = await db.handovers_received_by(conn, actor.user_id, finished=finished, limit=limit, offset=offset)
    now = today()
    return [handover for handover in received if may_view(facts_for(handover, now), actor)], total


async def waiting_for(conn: db.Conn, actor: Actor) -> db.WaitingCounts:
    """How many handovers wait for this person, by what they are to do: their own drafts and returned ones; as a
    worker, what is endorsed to them or to their team (their inbox); as a manager, what their teams' handovers
    need of a manager (their queue). Auditing and administering are nobody's next step on a handover, so those
    roles add nothing."""
    return await db.waiting_counts(conn, actor.user_id, sorted(actor.worker_teams), sorted(actor.manager_teams))


async def _existing(conn: db.Conn, checklists: Checklists, handover_id: int) -> HandoverView:
    view = await load(conn, checklists, handover_id)
    if view is None:
        raise NotFound(f"handover {handover_id}")
    return view


async def _load_for_change(conn: db.Conn, checklists: Checklists, handover_id: int, version: int) -> HandoverView:
    view = await _existing(conn, checklists, handover_id)
    _check_version(view, version)
    return view


def _check_version(view: HandoverView, version: int) -> None:
    """`Conflict` when the handover has moved on since the person's page was loaded."""
    if view.handover.version != version:
        raise Conflict("the handover has changed since this page was loaded")


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
    caseload_of: int | None = None,
    apart_reason: str = "",
) -> int:
    """Start a handover of a case allocated to this person, on `checklist`; returns its id. The case stays with them
    until the transfer is approved. `Invalid` keyed receiving_team, receiver, transfer_reason or apart_reason.

    `apart_reason`: for a child of a sibling group, handed over here without their siblings, why the siblings are not
    moving together; required then (`groups.apart_errors`), kept with the handover and shown to both managers and in
    the report. Ignored for a child outside a sibling group.

    `caseload_of`: a team manager starts it from that person's caseload (`actions.caseload`): the person writes it,
    or, when they are unavailable, the manager writes it on their behalf (`core.caseload.author_for`). A manager who
    holds a leaver's case pending transfer writes it on the leaver's behalf by the same rule, whether they start it
    from the caseload, their own start page or the API. `Refused` while the person's own absence is recorded."""
    refused = absent_refusals(actor)
    if refused:
        raise Refused(refused)
    async with database.transaction() as conn:
        case = await db.case_by_id(conn, case_id)
        author_id, on_behalf_of, worker, held = actor.user_id, None, None, False
        if caseload_of is None and case is not None and case.allocated_worker_id == actor.user_id:
            caseload_of = await caseload_store.held_for(conn, case.id)  # a leaver's case this manager holds
            held = caseload_of is not None
        if caseload_of is not None and case is not None:
            teams = sorted(actor.manager_teams)
            if not held and not await caseload_store.on_caseload(conn, case.id, caseload_of, teams):
                raise NotFound(f"case {case_id}")
            worker = await db.user_by_id(conn, caseload_of)
            away = worker is None or caseload.unavailable(disabled=worker.disabled, absent=worker.absent)
            author_id, on_behalf_of = caseload.author_for(actor.user_id, caseload_of, worker_unavailable=away)
        elif case is None or case.allocated_worker_id != actor.user_id:
            raise NotFound(f"case {case_id}")
        errors = await _start_errors(conn, case, receiving_team_id, receiver_id, transfer_reason)
        if case.sibling_group_id is not None:
            errors |= group_rules.apart_errors(apart_reason)
        if errors:
            raise Invalid(errors)
        assert receiving_team_id is not None
        handover_id = await db.create_handover(
            conn,
            case_id=case_id,
            checklist_id=checklist.id,
            checklist_version=checklist.version,
            author_id=author_id,
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
            {"case_id": case_id, "checklist": f"{checklist.id} v{checklist.version}", "to_team": receiving_team_id}
            | ({} if caseload_of is None else {"caseload_of": caseload_of, "author_user_id": author_id})
            | ({} if on_behalf_of is None or worker is None else {"on_behalf_name": worker.name})
            | ({} if case.sibling_group_id is None else {"apart_from_siblings": apart_reason.strip()}),
        )
        if case.sibling_group_id is not None:
            await db.record_apart_reason(conn, handover_id, apart_reason.strip())
        if on_behalf_of is not None:
            await caseload_store.set_on_behalf(conn, handover_id, on_behalf_of)
        return handover_id


async def start_group_handover(
    database: db.Database,
    actor: Actor,
    checklist: Checklist,
    *,
    case_id: int,
    included: list[int],
    left_out: dict[int, str],
    receiving_team_id: int | None,
    receiver_id: int | None,
    transfer_reason: str,
) -> int:
    """Start one handover for the sibling group of a case allocated to this person; returns the group handover's id.
    Each child of the group is in `included` (a handover is started for them, all with the same author, teams,
    receiver, reason and checklist) or left out with the reason why in `left_out` (by case id). A child this manager
    holds pending transfer since their worker left is written on the leaver's behalf, as in `start_handover`.
    `Invalid` keyed
    receiving_team, receiver, transfer_reason, children (no child included, or one who cannot be) or
    reason-<case id>. `Refused` while the person's own absence is recorded."""
    if absent_refusals(actor):
        raise Refused(absent_refusals(actor))
    async with database.transaction() as conn:
        case = await db.case_by_id(conn, case_id)
        if case is None or case.allocated_worker_id != actor.user_id:
            raise NotFound(f"case {case_id}")
        if case.sibling_group_id is None:
            raise Invalid({"children": group_rules.NOT_IN_GROUP})
        children = await db.cases_in_sibling_group(conn, case.sibling_group_id)
        chosen = [child for child in children if child[0] in set(included)]
        errors = await _start_errors(conn, case, receiving_team_id, receiver_id, transfer_reason, group=True)
        if errors.get("receiving_team") == ALREADY_IN_HANDOVER:
            del errors["receiving_team"]  # each child's own handover in progress is said under "children"
        if not chosen:
            errors["children"] = group_rules.CHOOSE_A_CHILD
        not_yours: list[str] = []
        busy: list[str] = []
        for child_id, name, _, worker_id, team_id in children:
            if child_id not in set(included):
                errors |= group_rules.exclusion_errors(name, child_id, left_out.get(child_id, ""))
                continue
            found = await db.case_by_id(conn, child_id)
            if not (worker_id == actor.user_id and team_id == case.allocated_team_id):
                not_yours.append(name)
            elif found is not None and found.open_handover_id is not None:
                busy.append(name)
            elif receiver_id is not None and receiver_id == worker_id:
                errors.setdefault("receiver", "Select a different worker: the case is already allocated to you")
        problem = group_rules.cannot_include_all(not_yours=not_yours, in_handover=busy)
        if problem and "children" not in errors:
            errors["children"] = problem
        if errors:
            raise Invalid(errors)
        assert receiving_team_id is not None
        group_id = await db.create_group_handover(conn, case.sibling_group_id, actor.user_id)
        handover_ids = []
        for child_id, *_ in chosen:
            handover_id = await db.create_handover(
                conn,
                case_id=child_id,
                checklist_id=checklist.id,
                checklist_version=checklist.version,
                author_id=actor.user_id,
                sending_team_id=case.allocated_team_id,
                receiving_team_id=receiving_team_id,
                receiver_id=receiver_id,
                transfer_reason=transfer_reason.strip(),
            )
            await db.join_group(conn, handover_id, group_id)
            handover_ids.append(handover_id)
            details = {"case_id": child_id, "checklist": f"{checklist.id} v{checklist.version}",
                       "to_team": receiving_team_id, "group": group_id}  # fmt: skip
            # a leaver's child this manager holds pending transfer: written on the leaver's behalf, as for one child
            leaver_id = await caseload_store.held_for(conn, child_id)
            if leaver_id is not None:
                await caseload_store.set_on_behalf(conn, handover_id, leaver_id)
                leaver = await db.user_by_id(conn, leaver_id)
                details |= {"caseload_of": leaver_id, "on_behalf_name": leaver.name if leaver else ""}
            await db.append_audit(conn, actor.user_id, "start", "handover", handover_id, details)
        for child_id, *_ in children:
            if child_id not in set(included):
                await db.exclude_from_group(conn, group_id, child_id, left_out[child_id].strip())
        details = {
            "sibling_group": case.sibling_group_id, "handovers": handover_ids,
            "left_out": {str(child_id): left_out[child_id].strip() for child_id, *_ in children
                         if child_id not in set(included)},
        }  # fmt: skip
        await db.append_audit(conn, actor.user_id, "start_group", "group_handover", group_id, details)
        return group_id


class GroupView(msgspec.Struct, frozen=True, kw_only=True):
    """A sibling group's handover: each child's handover, loaded with its answers, and the children left out."""

    group: db.GroupHandover
    members: list[HandoverView]
    left_out: list[db.Exclusion]

    @property
    def first(self) -> HandoverView:
        return self.members[0]

    @property
    def checklist(self) -> Checklist:
        return self.first.checklist

    def family_sections(self) -> list[Section]:
        return self.first.checklist.family_sections()

    def child_sections(self) -> list[Section]:
        return [s for s in self.first.checklist.sections if s.level != "family"]


async def visible_group(conn: db.Conn, checklists: Checklists, actor: Actor, group_id: int) -> GroupView:
    """The group handover with every child's handover, if this person may see each of them; `NotFound` otherwise."""
    group = await db.group_handover_by_id(conn, group_id)
    members = await db.group_members(conn, group_id) if group else []
    if group is None or not members:
        raise NotFound(f"group handover {group_id}")
    views = [await visible(conn, checklists, actor, member.handover_id) for member in members]
    return GroupView(group=group, members=views, left_out=await db.group_exclusions(conn, group_id))


async def group_left_out(conn: db.Conn, handover: db.Handover) -> list[db.Exclusion]:
    """The children of the handover's sibling group left out of it, with the reasons: those left out of its group
    handover, or, for a child of a sibling group handed over alone, every sibling, with why they are not moving
    together ([] for a child outside a sibling group)."""
    if handover.group_handover_id is None:
        if handover.sibling_group is None:  # no siblings on record to have stayed behind: nothing to read
            return []
        return await db.apart_from_siblings(conn, handover.id)
    return await db.group_exclusions(conn, handover.group_handover_id)


ALREADY_IN_HANDOVER = "This case already has a handover in progress"
# Also said by the start page when a team is chosen that is not one of the teams (its "Continue" step).
CHOOSE_RECEIVING_TEAM = "Select the team the case is moving to"


async def receiving_team_problem(conn: db.Conn, team_id: int | None, *, group: bool = False) -> str:
    """What is said about a receiving team that may not be chosen: none, or not a team at all, or a team with no
    enabled worker to take the case on (`db.receiving_teams`); of the cases, for a sibling group's (`group`)."""
    if team_id is not None and team_id in {team.id for team in await db.teams(conn)}:
        return group_rules.NO_WORKER_IN_TEAM_FOR_GROUP if group else group_rules.NO_WORKER_IN_TEAM
    return group_rules.CHOOSE_RECEIVING_TEAM_FOR_GROUP if group else CHOOSE_RECEIVING_TEAM


async def _start_errors(
    conn: db.Conn, case: db.Case, team_id: int | None, receiver_id: int | None, reason: str, *, group: bool = False
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if case.open_handover_id is not None:
        errors["receiving_team"] = ALREADY_IN_HANDOVER
    receiving = {team.id for team in await db.receiving_teams(conn)}
    if team_id is None or team_id not in receiving:
        errors["receiving_team"] = await receiving_team_problem(conn, team_id, group=group)
    elif receiver_id is not None:
        if receiver_id == case.allocated_worker_id:
            errors["receiver"] = (
                "Select a different worker: the " + ("cases are" if group else "case is") + " already allocated to you"
            )
        elif not await db.is_team_worker(conn, receiver_id, team_id):
            errors["receiver"] = "Select a worker in the receiving team, or leave it for the team to allocate"
    return errors | validation.transfer_reason_errors(reason)


def section_status(
    section: Section, answers: SectionAnswers, finished: bool, child: ChildRecord | None = None
) -> tuple[str, dict[str, str]]:
    """'completed' when valid; when not, 'has_errors' if the person said they had finished, else 'in_progress'.
    `child`: the case record the answers must agree with."""
    errors = answer_rules.validate_section(section, answers, today(), child)
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
    keep_what_fits: bool = False,
) -> tuple[int, dict[str, str]]:
    """Store what was typed (valid or not, so nothing is lost); returns the new version and the messages to show:
    for a finished section every message, for a draft only what could not be kept.

    Answers to questions that the answers themselves do not ask (hidden by a condition) are dropped. `Invalid` for
    answers to questions the section does not have, and for what cannot be kept even as a draft
    (`answers.storage_errors`), unless `keep_what_fits`: then those answers keep their stored value, the rest is
    saved, and their messages come first among those returned (the pages: nothing else typed is lost). `Conflict`
    if the section is no longer at `base_version`.

    The handover is loaded (or `loaded`, as the caller read it), checked and the answers validated before the write
    lock is taken, so that the work done while every other writer waits is only the writes; if the handover changed
    in between (its version moved on), the check is made again inside the transaction.
    """
    handover = await _editable(database.reader, actor, handover_id, loaded)
    section = checklist_for(checklists, handover).section(section_id)
    if section is None:
        raise NotFound(f"section {section_id}")
    unknown = answer_rules.unknown_errors(section, answers)
    if unknown:
        raise Invalid(unknown)
    unkeepable = answer_rules.storage_errors(section, answers)
    if unkeepable and not keep_what_fits:
        raise Invalid(unkeepable)
    if unkeepable:
        stored = (await db.sections_of(database.reader, handover_id)).get(section_id)
        previous = stored.answers if stored else SectionAnswers()
        answers = answer_rules.keeping_what_fits(section, answers, unkeepable, previous)
    answers = answer_rules.without_hidden(section, answers)
    status, errors = section_status(section, answers, finished, child_of(handover))
    # what was not kept is said, not replaced by the section's own message for the answer left empty in its place
    messages = unkeepable | {key: message for key, message in errors.items() if finished and key not in unkeepable}
    critical = answer_rules.is_critical(section, answers)
    async with database.transaction() as conn:
        if await db.handover_version(conn, handover_id) != handover.version:
            await _editable(conn, actor, handover_id)
        new_version = await db.save_section(
            conn, handover_id, section_id, answers, status, base_version, actor.user_id, critical=critical
        )
        details: dict[str, Any] = {
            "section": section_id, "old_version": base_version, "new_version": new_version, "status": status,
        }  # fmt: skip
        if handover.group_handover_id is not None and section.level == "family":
            details["for_the_family"] = await _save_for_family(
                conn, checklists, actor, handover, section_id, answers, finished=finished
            )
        await db.append_audit(conn, actor.user_id, "save_section", "handover", handover_id, details)
        return new_version, messages


async def _save_for_family(
    conn: db.Conn,
    checklists: Checklists,
    actor: Actor,
    saved: db.Handover,
    section_id: str,
    answers: SectionAnswers,
    *,
    finished: bool,
) -> list[int]:
    """The same answers to a family-level section, written to every other child's handover in the group (each
    judged against its own child's record); returns the ids of those handovers."""
    assert saved.group_handover_id is not None
    others = [m.handover_id for m in await db.group_members(conn, saved.group_handover_id) if m.handover_id != saved.id]
    for member_id in others:
        member = await _editable(conn, actor, member_id)
        section = checklist_for(checklists, member).section(section_id)
        assert section is not None, "the children of a group share a checklist version"
        unknown = answer_rules.unknown_errors(section, answers)
        if unknown:  # a child not in this child's group on record: the whole save is refused (the transaction ends)
            raise Invalid(unknown)
        status, _ = section_status(section, answers, finished, child_of(member))
        current = await db.section_version(conn, member_id, section_id)
        critical = answer_rules.is_critical(section, answers)
        await db.save_section(conn, member_id, section_id, answers, status, current, actor.user_id, critical=critical)
    return others


async def _editable(conn: db.Conn, actor: Actor, handover_id: int, loaded: db.Handover | None = None) -> db.Handover:
    """The handover, if this person may edit it now: checked without loading its answers (EDIT is ANSWER_BLIND)."""
    handover = loaded if loaded is not None and loaded.id == handover_id else await db.handover_by_id(conn, handover_id)
    if handover is None:
        raise NotFound(f"handover {handover_id}")
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
    *,
    reply: str = "",
    stale_reasons: dict[str, str] | None = None,
) -> State:
    """Submit, endorse, return, acknowledge, approve or cancel, if the state machine allows it; returns the new state.

    A return or a cancellation needs a reason (`Invalid` under "reason" without one, or with one over the limit).
    Submission judges whether the records are up to date (`currency.stale_items`, on today's date in England): each
    stale one needs the outgoing worker's reason in `stale_reasons`, by its key (`Invalid` keyed `stale-<key>`
    otherwise); approval judges them again. What was found, with the reasons, is kept on the handover as its flags.
    A return to the outgoing worker starts a round of `db.queries` with its reason as the query; resubmitting a
    handover so returned needs the outgoing worker's reply to that query (`Invalid` under "reply" without one, or
    with one over the limit), which completes the round. No other action takes a reply (`validation.reply_errors`).
    """
    async with database.transaction() as conn:
        # who the person is before whether their page is current: someone who may never take this step is told
        # that, not that the handover has changed (nor, by the state machine, that it cannot be done yet)
        view = await _existing(conn, checklists, handover_id)
        if view.handover.group_handover_id is not None:
            return await _act_on_group(
                conn, checklists, actor, view, action, version, reason, reply=reply, stale_reasons=stale_reasons or {}
            )
        mine = person_refusals(action, view.facts, actor)
        if mine:
            raise Refused(mine)
        _check_version(view, version)
        ahead = step_refusals(action, view.facts, actor)
        if ahead:
            raise Refused(ahead)
        _check_reason(action, reason)
        new_state = apply(action, view.facts, actor, reason)
        answering = action == Action.SUBMIT and view.handover.state == State.RETURNED
        flags, stale_errors = _judge_currency(action, view, stale_reasons or {})
        errors = validation.reply_errors(reply, answering=answering) | stale_errors
        if errors:
            raise Invalid(errors)
        changes = _changes_for(action, view, actor, new_state, reason.strip())
        if flags is not None:
            changes["record_flags"] = msgspec.json.encode(flags).decode()
        await db.update_handover(conn, handover_id, version, **changes)
        await _side_effects(conn, action, view, actor, reason.strip(), reply.strip())
        details: dict[str, Any] = {"from": view.handover.state, "to": new_state.value}
        if reason.strip():
            details["reason"] = reason.strip()
        if flags:
            details["records_not_up_to_date"] = [msgspec.structs.asdict(flag) for flag in flags]
        if answering:
            details["reply"] = reply.strip()
        await db.append_audit(conn, actor.user_id, action.value, "handover", handover_id, details)
        await notifications.notify_step(conn, actor, handover_id, action)
        return new_state


async def group_of(conn: db.Conn, checklists: Checklists, view: HandoverView) -> list[HandoverView]:
    """Every child's handover in the group this one belongs to, by the child's name (just this one when it is not
    part of a group)."""
    if view.handover.group_handover_id is None:
        return [view]
    members = []
    for member in await db.group_members(conn, view.handover.group_handover_id):
        same = member.handover_id == view.handover.id
        members.append(view if same else await _existing(conn, checklists, member.handover_id))
    return members


def stale_key(handover_id: int, key: str) -> str:
    """How a reason for a stale record of one child's handover is named when a group is submitted."""
    return f"{handover_id}:{key}"


def _check_reason(action: Action, reason: str) -> None:
    """`Invalid` under "reason" for a step's reason that is missing where the step needs one, or too long
    (`validation.workflow_reason_errors`). Judged once the person may take the step on the version they saw: someone
    who may not, or whose page is out of date, is told that rather than about a box their page may not have."""
    errors = validation.workflow_reason_errors(
        reason, required=action in NEEDS_REASON, cancelling=action == Action.CANCEL
    )
    if errors:
        raise Invalid(errors)


async def _act_on_group(
    conn: db.Conn,
    checklists: Checklists,
    actor: Actor,
    view: HandoverView,
    action: Action,
    version: int,
    reason: str,
    *,
    reply: str,
    stale_reasons: dict[str, str],
) -> State:
    """The action on every child's handover in the group, in this one transaction: allowed only when the state machine
    allows it on each (`groups.group_refusals`, each reason naming its child), so that the children move together and
    approval reallocates them all at once. A reason for a stale record of one child's handover is given under
    `stale_key`; an audit entry is written on each child's handover."""
    members = await group_of(conn, checklists, view)
    named = [(member.handover.child_name, member.facts) for member in members]
    mine = list(dict.fromkeys(r for _, facts in named for r in person_refusals(action, facts, actor)))
    if mine:
        raise Refused(mine)
    _check_version(view, version)
    ahead = list(dict.fromkeys(r for _, facts in named for r in step_refusals(action, facts, actor)))
    if ahead:  # the children move together: their states and people are the group's
        raise Refused(ahead)
    _check_reason(action, reason)
    family_ids = {section.id for section in view.checklist.family_sections()}
    things_to_do = group_rules.group_things_to_do([member.problems for member in members], family_ids)
    reasons = group_rules.group_refusals(action, named, actor, reason, things_to_do)
    if reasons:
        raise Refused(reasons)
    errors: dict[str, str] = {}
    planned = []
    for member in members:
        member_id = member.handover.id
        given = {key: text for key, text in stale_reasons.items() if ":" not in key}
        given |= {key.partition(":")[2]: text for key, text in stale_reasons.items() if key.startswith(f"{member_id}:")}
        flags, stale_errors = _judge_currency(action, member, given)
        errors |= {f"stale-{stale_key(member_id, key.removeprefix('stale-'))}": m for key, m in stale_errors.items()}
        answering = action == Action.SUBMIT and member.handover.state == State.RETURNED
        errors |= validation.reply_errors(reply, answering=answering)
        planned.append((member, apply(action, member.facts, actor, reason), flags, answering))
    if errors:
        raise Invalid(errors)
    for member, new_state, flags, answering in planned:
        changes = _changes_for(action, member, actor, new_state, reason.strip())
        if flags is not None:
            changes["record_flags"] = msgspec.json.encode(flags).decode()
        await db.update_handover(conn, member.handover.id, member.handover.version, **changes)
        await _side_effects(conn, action, member, actor, reason.strip(), reply.strip())
        details: dict[str, Any] = {"from": member.handover.state, "to": new_state.value, "for_the_group": True}
        if reason.strip():
            details["reason"] = reason.strip()
        if flags:
            details["records_not_up_to_date"] = [msgspec.structs.asdict(flag) for flag in flags]
        if answering:
            details["reply"] = reply.strip()
        await db.append_audit(conn, actor.user_id, action.value, "handover", member.handover.id, details)
        await notifications.notify_step(conn, actor, member.handover.id, action)  # each child's handover: its own link
    return next(new_state for member, new_state, _, _ in planned if member is view)


def _judge_currency(
    action: Action, view: HandoverView, reasons: dict[str, str]
) -> tuple[list[currency.Flag] | None, dict[str, str]]:
    """The records' flags to keep after this action (None: keep what is there), and what stops it: at submission
    every stale record needs a reason; at approval they are judged again (time has passed), keeping the reasons."""
    if action not in (Action.SUBMIT, Action.APPROVE):
        return None, {}
    stale = currency.stale_items(view.checklist, view.all_answers(), today())
    if action == Action.SUBMIT:
        return currency.flags(stale, reasons, "submission"), currency.reason_errors(stale, reasons)
    given = {flag.key: flag.reason for flag in currency.stored_flags(view.handover.record_flags)}
    return currency.flags(stale, given, "approval"), {}


def _changes_for(action: Action, view: HandoverView, actor: Actor, new_state: State, reason: str) -> dict[str, Any]:
    stamp = db.now()
    changes: dict[str, Any] = {"state": new_state.value}
    if new_state != State(view.handover.state):
        changes["state_since"] = stamp
    if action == Action.SUBMIT:
        changes |= {"submitted_at": stamp, "endorsed_by": None, "endorsed_at": None}
        # the query is answered: the return no longer stands (every round stays in `db.queries_of`)
        changes |= {"returned_reason": None, "returned_by": None, "returned_at": None}
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
    if view.handover.urgent_by is not None:  # an urgent transfer: the head of service's authorisation stands in
        for step in sign_offs_stood_in_for(State(view.handover.state), new_state):
            changes |= {f"{step}_by": view.handover.urgent_by, f"{step}_at": stamp}
    return changes


async def _side_effects(
    conn: db.Conn, action: Action, view: HandoverView, actor: Actor, reason: str, reply: str
) -> None:
    if action == Action.SUBMIT:
        for disagreement_id in await _track_checklist_disagreements(conn, view):
            details = {"disagreement": disagreement_id, "from_checklist": True}
            await db.append_audit(conn, actor.user_id, "raise_disagreement", "handover", view.handover.id, details)
        await track_agency_contacts(conn, view, actor)  # each professional on the plan is to be told (core.telling)
    if action == Action.RETURN_TO_OUTGOING:
        await db.clear_confirmations(conn, view.handover.id)
        await db.add_query(conn, view.handover.id, actor.user_id, reason)
    elif action == Action.SUBMIT and view.handover.state == State.RETURNED:
        answered = await db.answer_query(conn, view.handover.id, actor.user_id, reply)
        assert answered, "a handover returned to its outgoing worker has an unanswered query"
    elif action == Action.APPROVE:
        receiver_id = view.handover.receiver_id or view.handover.acknowledged_by
        assert receiver_id is not None, "an acknowledged handover has a receiver"
        await db.reallocate_case(
            conn, view.handover.case_id, receiver_id, view.handover.receiving_team_id,
            why="handover", handover_id=view.handover.id,
        )  # fmt: skip


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
    """The receiving worker confirms one critical item, with their read-back in their own words (every critical item
    needs one: `validation.confirmation_errors`; `Invalid` keyed `understood-<section>` / `readback-<section>`)."""
    async with database.transaction() as conn:
        view = await _load_for_change(conn, checklists, handover_id, version)
        section = view.checklist.section(section_id)
        if section is None or not answer_rules.is_critical(section, view.answers(section_id)):
            raise NotFound(f"critical item {section_id}")
        apply(Action.CONFIRM, view.facts, actor)
        errors = validation.confirmation_errors(
            section,
            understood,
            readback,
            handed_over=[
                *(text for answers in view.all_answers().values() for text in handed_over_texts(answers)),
                *(s.why for s in view.checklist.sections if s.why),
            ],
            minimum=view.checklist.readback_min_characters,
        )
        if errors:
            raise Invalid(errors)
        # a group's children are taken on together, and a family-level item is confirmed once for all of them
        members = await group_of(conn, checklists, view)
        for member in members:
            if member is not view:
                apply(Action.CONFIRM, member.facts, actor)
        if view.handover.receiver_id is None:
            # sent to a team: the first worker to confirm an item takes the handover on, so the worker who
            # acknowledges and is allocated the case is the one whose own words are on every item
            for member in members:
                await db.take_on(conn, member.handover.id, actor.user_id)
                await db.append_audit(conn, actor.user_id, "take_on", "handover", member.handover.id, {})
        confirmed = [view]
        if section.level == "family":
            confirmed = [m for m in members if answer_rules.is_critical(section, m.answers(section_id))]
        for member in confirmed:
            await db.confirm_section(conn, member.handover.id, section_id, actor.user_id, readback.strip())
        # the read-back itself, in the receiver's own words, is kept in the audit trail: a later confirmation or a
        # return replaces the stored one, and what was said at each point must stay on the record
        details: dict[str, Any] = {"section": section_id, "readback": readback.strip()}
        if len(confirmed) > 1:
            details["for_the_family"] = [m.handover.id for m in confirmed if m is not view]
        await db.append_audit(conn, actor.user_id, "confirm", "handover", handover_id, details)


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
    """Record a professional disagreement (anyone on the handover, once it has left the draft); returns its id. It
    starts at the lowest stage of the escalation ladder, today (`disagreements.first_stage`)."""
    errors = validation.disagreement_errors(about, with_whom, view_text)
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        view = await _existing(conn, checklists, handover_id)
        apply(Action.RAISE_DISAGREEMENT, view.facts, actor)
        disagreement_id = await db.raise_disagreement(
            conn,
            handover_id,
            actor.user_id,
            about.strip(),
            with_whom.strip(),
            view_text.strip(),
            stage=disagreement_rules.first_stage(view.checklist),
            stage_since=today().isoformat(),
        )
        await db.append_audit(
            conn, actor.user_id, "raise_disagreement", "handover", handover_id, {"disagreement": disagreement_id}
        )
        await notifications.notify_disagreement(conn, actor, handover_id, escalated=False)
        return disagreement_id


async def track_agency_contacts(conn: db.Conn, view: HandoverView, actor: Actor) -> list[int]:
    """On submission, inside its transaction: each professional the multi-agency network lists becomes an agency
    contact, once (`core.telling.Contact.key`); one already tracked keeps what was recorded of them. One the network
    no longer lists (taken out on a resubmission) and of whom nothing is recorded is no longer tracked: they are not on
    the plan, so nobody waits to tell them. Returns the new contacts' ids; each change is audited."""
    added: list[int] = []
    listed = telling.contacts_from_answers(view.checklist, view.all_answers())
    for gone in await telling_store.untrack_unlisted(conn, view.handover.id, [c.key for c in listed]):
        details = {"contact": gone.id, "agency": gone.agency, "name": gone.name}
        await db.append_audit(conn, actor.user_id, "untrack_agency_contact", "handover", view.handover.id, details)
    for contact in listed:
        contact_id = await telling_store.track_agency_contact(
            conn, view.handover.id, key=contact.key, agency=contact.agency, name=contact.name, role=contact.role,
            email=contact.email,
        )  # fmt: skip
        if contact_id is not None:
            added.append(contact_id)
            details = {"contact": contact_id, "agency": contact.agency, "name": contact.name}
            await db.append_audit(conn, actor.user_id, "track_agency_contact", "handover", view.handover.id, details)
    return added


async def _track_checklist_disagreements(conn: db.Conn, view: HandoverView) -> list[int]:
    """On submission, each disagreement the checklist records becomes a tracked one, raised by the outgoing worker
    at the stage the row gives, since the date the row gives (or today); a row already tracked (the same about and
    with whom, from an earlier submission) is not tracked twice, and a tracked one whose row was since removed stays
    open until resolved."""
    tracked = {d.checklist_key for d in await db.disagreements_of(conn, view.handover.id) if d.checklist_key}
    added: list[int] = []
    for row in disagreement_rules.from_answers(view.checklist, view.all_answers()):
        if row.key in tracked:
            continue
        tracked.add(row.key)
        added.append(
            await db.raise_disagreement(
                conn,
                view.handover.id,
                view.handover.author_id,
                row.about,
                row.with_whom,
                "",
                stage=row.stage or disagreement_rules.first_stage(view.checklist),
                stage_since=_reached(row.stage_since),
                checklist_key=row.key,
                next_step=row.next_step,
                next_step_by=row.next_step_by,
            )
        )
    return added


def _reached(given: str) -> str:
    """When a disagreement written in the checklist reached its stage: the date the row gives (a real date, today or
    earlier: the section's validation asks that), else today, the day it is submitted."""
    day = answer_rules.parse_date(given)
    return (day if day is not None and day <= today() else today()).isoformat()


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
    """A team manager resolves the disagreement with its outcome, or records its escalation to a higher stage of the
    ladder on a date (its time at the new stage counts from then). An escalated disagreement is still open: only
    resolving it lets the transfer be approved. `stage_date` is ISO text or three boxes as `dates.join_date` keeps
    them; resolving keeps the stage reached. `Invalid` keyed decision, outcome, stage or stage_date-<box>;
    `NotFound` for a disagreement not on this handover; `Conflict` once it is resolved."""
    async with database.transaction() as conn:
        view = await _existing(conn, checklists, handover_id)
        current = next((d for d in await db.disagreements_of(conn, handover_id) if d.id == disagreement_id), None)
        if current is None:
            raise NotFound(f"disagreement {disagreement_id}")
        apply(Action.RESOLVE_DISAGREEMENT, view.facts, actor)
        errors = validation.decision_errors(decision, outcome, stage_date, today())
        if decision == "escalated":
            errors |= disagreement_rules.escalation_stage_errors(view.checklist, current.stage, stage)
            errors |= disagreement_rules.escalation_date_errors(view.checklist, current.stage, current.stage_since,
                                                                 stage_date, errors)  # fmt: skip
        if errors:
            raise Invalid(validation.in_form_order(errors, validation.DECISION_FORM_ORDER))
        if decision == "escalated":
            escalated_on = answer_rules.parse_date(stage_date)
            assert escalated_on is not None, "decision_errors checked the date"
            await db.decide_disagreement(
                conn, disagreement_id, actor.user_id, decision, outcome.strip(), stage, escalated_on.isoformat()
            )
        else:
            await db.decide_disagreement(conn, disagreement_id, actor.user_id, decision, outcome.strip())
        await db.append_audit(
            conn,
            actor.user_id,
            f"disagreement_{decision}",
            "handover",
            handover_id,
            {"disagreement": disagreement_id, "stage": stage if decision == "escalated" else current.stage},
        )
        if decision == "escalated":
            await notifications.notify_disagreement(conn, actor, handover_id, escalated=True)


async def name_step_manager(
    database: db.Database, handover_id: int, *, step: str, manager: str, by: Actor | None, os_user: str | None = None
) -> str:
    """An administrator names another manager for one manager step ("endorse" or "approve") of an open handover,
    where the separation of duties leaves nobody in the team who may take it; returns the manager's name. `by` is
    the administrator (None from the command line, run by the service's operator). The named person must be an
    enabled person who manages a team and whom the state machine allows the step (not the author, the receiver, or
    whoever took the other manager step, nor anyone already on the other side: `workflow.named_manager_refusals`).
    `Invalid` keyed step or manager; `Refused` for someone who does not administer; `NotFound` for no such open
    handover."""
    if by is not None and not by.is_admin:
        raise Refused(["Only an administrator can name a manager for a step"])
    if step not in MANAGER_STEPS:
        raise Invalid({"step": "Choose the step: endorse or approve"})
    action, waiting_in = MANAGER_STEPS[step]
    async with database.transaction() as conn:
        handover = await db.handover_by_id(conn, handover_id)
        if handover is None or State(handover.state) not in OPEN_STATES:
            raise NotFound(f"handover {handover_id}")
        # a sibling group's children move together, so whoever is named for one child's step is named for them all
        handovers = await _group_handovers(conn, handover)
        if any(member.state != waiting_in for member in handovers):
            raise Invalid({"step": f"The handover is not waiting for a manager to {step} it"})
        team_id = handover.sending_team_id if step == "endorse" else handover.receiving_team_id
        team_managers = await db.team_managers(conn, team_id)
        managers = [Actor(user_id=user_id, manager_teams=frozenset({team_id})) for user_id, _ in team_managers]
        able = {manager.user_id for manager in managers}
        for member in handovers:
            able &= {manager.user_id for manager in eligible(action, parties_and_state(member), managers)}
        if able:
            who = ", ".join(name for user_id, name in team_managers if user_id in able)
            raise Invalid({"step": f"A manager of the team can {step} it already: {who}"})
        person = await db.user_by_username(conn, manager.strip())
        found = await db.user_and_memberships(conn, person.id) if person else None
        if person is None or found is None or person.disabled or person.is_service:
            raise Invalid({"manager": f"There is no enabled person with the username {manager.strip()!r}"})
        candidate = actor_for(*found)
        if not candidate.manager_teams:
            raise Invalid({"manager": f"{person.name} does not manage a team"})
        field = "named_endorser" if step == "endorse" else "named_approver"
        for member in handovers:
            named = msgspec.structs.replace(parties_and_state(member), **{field: person.id})
            reasons = named_manager_refusals(action, named, candidate)
            if reasons:
                raise Invalid({"manager": f"{person.name} cannot {step} this handover: {reasons[0]}"})
        details: dict[str, Any] = {
            "step": step, "manager": person.username, "by": "an administrator" if by else "the command line"
        }  # fmt: skip
        if handover.group_handover_id is not None:
            details["for_the_group"] = True
        if os_user:
            details["os_user"] = os_user  # the operating-system account that ran the command
        for member in handovers:
            await db.name_manager(conn, member.id, step, person.id, by.user_id if by else None)
            await db.append_audit(conn, by.user_id if by else None, "name_manager", "handover", member.id, details)
            await notifications.notify_named(conn, by, member.id, step, person.id)
        return person.name


async def _group_handovers(conn: db.Conn, handover: db.Handover) -> list[db.Handover]:
    """The handover and, for a child of a sibling group's handover, every other child's handover in the group."""
    if handover.group_handover_id is None:
        return [handover]
    found = []
    for member in await db.group_members(conn, handover.group_handover_id):
        other = handover if member.handover_id == handover.id else await db.handover_by_id(conn, member.handover_id)
        if other is not None:
            found.append(other)
    return found


class StepHelp(msgspec.Struct, frozen=True, kw_only=True):
    """Who can take the manager step a handover waits for, as its page says it: `yours` is why the viewer cannot
    (empty when they can, or are not a manager of the team); `others` the names of those who can; with nobody, the
    administrators who can name another manager."""

    step: str  # "endorse" or "approve"
    team: str
    you_can: bool
    yours: str
    others: list[str]
    administrators: list[str]
    team_has_managers: bool = True  # False: the team has no manager at all, so an administrator must name one


async def step_help(conn: db.Conn, view: HandoverView, actor: Actor) -> StepHelp | None:
    """For a handover waiting for a manager's endorsement or approval, who can give it; None otherwise."""
    step = next((name for name, (_, state) in MANAGER_STEPS.items() if state == view.facts.state), None)
    if step is None:
        return None
    action, _ = MANAGER_STEPS[step]
    handover = view.handover
    team_id, team = (
        (handover.sending_team_id, handover.sending_team)
        if step == "endorse"
        else (handover.receiving_team_id, handover.receiving_team)
    )
    team_managers = await db.team_managers(conn, team_id)
    managers = [(user_id, name) for user_id, name in team_managers]
    named = handover.named_endorser if step == "endorse" else handover.named_approver
    if named is not None and named not in {user_id for user_id, _ in managers}:
        person = await db.user_by_id(conn, named)
        if person is not None and not person.disabled:
            managers.append((person.id, person.name))
    candidates = {user_id: Actor(user_id=user_id, manager_teams=frozenset({team_id})) for user_id, _ in managers}
    able = {candidate.user_id for candidate in eligible(action, view.facts, list(candidates.values()))}
    mine = (
        person_refusals(action, view.facts, actor) if team_id in actor.manager_teams or named == actor.user_id else []
    )
    return StepHelp(
        step=step,
        team=team,
        you_can=actor.user_id in able,
        yours=mine[0] if mine else "",
        others=[name for user_id, name in managers if user_id in able and user_id != actor.user_id],
        administrators=await db.administrators(conn) if not able else [],
        team_has_managers=bool(team_managers),
    )


async def record_view(database: db.Database, actor: Actor, handover_id: int, page: str, *, audit_reads: bool) -> None:
    """Every view of a handover is in the audit trail: who looked at which child's record, and when; unless reads
    are not audited (`HANDOVER_AUDIT_READS=false`), which the pages and the API honour alike."""
    if not audit_reads:
        return
    async with database.transaction() as conn:
        await db.append_audit(conn, actor.user_id, "view", "handover", handover_id, {"page": page})
