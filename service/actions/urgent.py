"""The head of service authorises an urgent transfer: the case moves to a named receiving worker at once, before the
handover is complete, and the handover is completed after the transfer (the rules: `workflow.urgent_refusals`).

One transaction: the urgent transfer is recorded on the handover (when, by whom, why), the receiving worker is
named, the case is reallocated to them in the receiving team, and the audit entry keeps the reason. For a child of a
sibling group's handover, every child's handover in the group is authorised together and every child's case moves.

Errors raised: `Refused` (the rules' reasons: not the head of service, a closed or already urgent handover, someone
already on the handover), `Invalid` keyed `receiver` and `reason` (`workflow.urgent_errors`), `Conflict` (the handover
changed since the page was loaded), `NotFound` (no such handover, or none this person may see).
"""

from __future__ import annotations

from typing import Any

import msgspec

from service import db
from service.actions import notifications
from service.actions.handovers import Checklists, HandoverView, actor_for, group_of, load
from service.core import deadlines
from service.core import groups as group_rules
from service.core.clock import date_in_england, today
from service.core.deadlines import Due
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import (
    AUTHORISED_STATES,
    OPEN_STATES,
    Actor,
    Facts,
    State,
    may_view,
    sign_offs_stood_in_for,
    urgent_errors,
    urgent_receiver_problem,
    urgent_refusals,
)


class UrgentForm(msgspec.Struct, frozen=True, kw_only=True):
    """What the urgent transfer's page needs: the handover, why this person may not authorise it ([]: they may),
    the workers who may be named as its receiving worker (id, name), and who authorised it, once it is urgent."""

    view: HandoverView
    refusals: list[str]
    receivers: list[tuple[int, str]]
    authorised_by: str | None
    may_view_handover: bool  # whether the handover's own page opens for this person (`workflow.may_view`)
    due: Due | None  # once urgent and open: when completing it is due (`deadlines.due`, dates in England)


async def head_of_service_id(conn: db.Conn) -> int | None:
    """The user id of the head of service: the person recorded in the post, while their account is enabled."""
    head = await db.head_of_service(conn)
    if head is None:
        return None
    person = await db.user_by_id(conn, head[0])
    return None if person is None or person.disabled else person.id


async def _candidate(conn: db.Conn, user_id: int | None) -> Actor | None:
    """The person who may be named as receiving worker, as the rules see them (None: no enabled person)."""
    found = None if user_id is None else await db.user_and_memberships(conn, user_id)
    if found is None or found[0].disabled:
        return None
    return actor_for(*found)


async def urgent_view(conn: db.Conn, checklists: Checklists, actor: Actor, handover_id: int) -> HandoverView:
    """The handover as the urgent transfer's page shows it: to whoever may see it (`actions.visible`), and to the
    head of service while it is open, who oversees every service and is the one person who may authorise it.
    `NotFound` for anyone else, so nobody learns of a handover they may not see."""
    view = await load(conn, checklists, handover_id)
    if view is None:
        raise NotFound(f"handover {handover_id}")
    if may_view(view.facts, actor):
        return view
    if view.facts.state in OPEN_STATES and await head_of_service_id(conn) == actor.user_id:
        return view
    raise NotFound(f"handover {handover_id}")


async def urgent_form(conn: db.Conn, checklists: Checklists, actor: Actor, handover_id: int) -> UrgentForm:
    """The urgent transfer's page for this person (`urgent_view` says who may see it): for a sibling group's
    handover, a worker is offered only when they may receive every child's handover."""
    view = await urgent_view(conn, checklists, actor, handover_id)
    head = await head_of_service_id(conn)
    members = await group_of(conn, checklists, view)
    named = [(member.handover.child_name, member.facts) for member in members]
    refused = _group_refusals(named, actor, head)
    receivers = []
    for user_id, name in await db.team_workers(conn, view.handover.receiving_team_id):
        candidate = await _candidate(conn, user_id)
        if all(urgent_receiver_problem(facts, candidate, head_of_service=head) is None for _, facts in named):
            receivers.append((user_id, name))
    authorised_by = None
    if view.handover.urgent_by is not None:
        person = await db.user_by_id(conn, view.handover.urgent_by)
        authorised_by = person.name if person else None
    return UrgentForm(
        view=view, refusals=refused, receivers=receivers, authorised_by=authorised_by,
        may_view_handover=may_view(view.facts, actor), due=_due(view),
    )  # fmt: skip


def _due(view: HandoverView) -> Due | None:
    """When an urgent transfer not yet complete is due: `waits.urgent_completion` working days from its
    authorisation, or sooner where its current wait or the whole transfer is due first (`deadlines.due`)."""
    handover, limits = view.handover, view.checklist.time_limits
    if handover.urgent_at is None or limits is None:
        return None
    return deadlines.due(
        handover.state, date_in_england(handover.state_since), date_in_england(handover.started_at), limits, today(),
        urgent_since=date_in_england(handover.urgent_at),
    )  # fmt: skip


class UrgentPanel(msgspec.Struct, frozen=True, kw_only=True):
    """What the handover's own page says of an urgent transfer: whether this person may authorise one now (its
    link), and, once authorised, who did and when completing it is due."""

    may_authorise: bool
    authorised_by: str | None = None
    due: Due | None = None


async def urgent_panel(conn: db.Conn, checklists: Checklists, actor: Actor, view: HandoverView) -> UrgentPanel:
    """The handover page's part about urgent transfers, for this person (who has already been let see the page)."""
    if view.handover.urgent_by is not None:
        person = await db.user_by_id(conn, view.handover.urgent_by)
        return UrgentPanel(may_authorise=False, authorised_by=person.name if person else None, due=_due(view))
    head = await head_of_service_id(conn)
    if head is None or head != actor.user_id:
        return UrgentPanel(may_authorise=False)
    members = await group_of(conn, checklists, view)
    refused = _group_refusals([(m.handover.child_name, m.facts) for m in members], actor, head)
    return UrgentPanel(may_authorise=not refused)


def _group_refusals(named: list[tuple[str, Facts]], actor: Actor, head: int | None) -> list[str]:
    """The refusals for every child's handover, each said once; one that is about a child names them."""
    said: dict[str, list[str]] = {}
    for child_name, facts in named:
        for refusal in urgent_refusals(facts, actor, head_of_service=head):
            said.setdefault(refusal, []).append(child_name)
    everyone = len(named)
    return [
        refusal if len(children) == everyone else group_rules.about_child(", ".join(children), refusal)
        for refusal, children in said.items()
    ]


async def authorise_urgent_transfer(
    database: db.Database,
    checklists: Checklists,
    actor: Actor,
    handover_id: int,
    version: int,
    receiver_id: int | None,
    reason: str,
) -> State:
    """The head of service authorises an urgent transfer of this handover to `receiver_id` (a worker of the receiving
    team) for `reason`; returns the handover's new state (`workflow.AUTHORISED_STATES`: a submitted handover goes to
    the receiving worker, endorsed by the head of service; an acknowledged one closes, approved by them; the others
    keep their state). The case is reallocated to the receiving worker at once, in the same transaction.

    `version` is the handover's version as the person's page showed it (`Conflict` when it has moved on).
    `NotFound` for a handover this person may not see (`urgent_view`); `Refused` (`workflow.urgent_refusals`);
    `Invalid` keyed receiver and reason (`workflow.urgent_errors`)."""
    async with database.transaction() as conn:
        view = await urgent_view(conn, checklists, actor, handover_id)
        head = await head_of_service_id(conn)
        members = await group_of(conn, checklists, view)
        refused = _group_refusals([(m.handover.child_name, m.facts) for m in members], actor, head)
        if refused:
            raise Refused(refused)
        if view.handover.version != version:
            raise Conflict("the handover has changed since this page was loaded")
        candidate = await _candidate(conn, receiver_id)
        errors: dict[str, str] = {}
        for member in members:
            errors |= urgent_errors(member.facts, receiver_id, candidate, reason, head_of_service=head)
        if errors:
            raise Invalid(errors)
        assert receiver_id is not None and candidate is not None, "urgent_errors asks for an eligible receiver"
        for member in members:
            await _authorise(conn, actor, member, candidate, reason.strip(), in_group=len(members) > 1)
            await notifications.notify_urgent(conn, actor, member.handover.id)
        return AUTHORISED_STATES.get(view.facts.state, view.facts.state)


async def _authorise(
    conn: db.Conn, actor: Actor, view: HandoverView, receiver: Actor, reason: str, *, in_group: bool
) -> None:
    """One child's handover made urgent, its case moved to the receiving worker, and the audit entry."""
    handover = view.handover
    before = State(handover.state)
    after = AUTHORISED_STATES.get(before, before)
    stamp = db.now()
    changes: dict[str, Any] = {
        "urgent_at": stamp, "urgent_by": actor.user_id, "urgent_reason": reason, "receiver_id": receiver.user_id,
    }  # fmt: skip
    if after != before:
        changes |= {"state": after.value, "state_since": stamp}
    for step in sign_offs_stood_in_for(before, after):
        changes |= {f"{step}_by": actor.user_id, f"{step}_at": stamp}
    if handover.receiver_id is not None and handover.receiver_id != receiver.user_id:
        # another worker now takes the case on: the items confirmed by the one named before are theirs to confirm
        await db.clear_confirmations(conn, handover.id)
    await db.update_handover(conn, handover.id, handover.version, **changes)
    await db.reallocate_case(
        conn, handover.case_id, receiver.user_id, handover.receiving_team_id, why="urgent", handover_id=handover.id
    )
    details: dict[str, Any] = {
        "from": before.value, "to": after.value, "reason": reason, "receiver_id": receiver.user_id,
        "receiver": receiver.name, "case_id": handover.case_id,
    }  # fmt: skip
    if in_group:
        details["for_the_group"] = True
    await db.append_audit(conn, actor.user_id, "authorise_urgent_transfer", "handover", handover.id, details)
