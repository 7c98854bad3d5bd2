"""The handover state machine: who may do what to a handover, and when.

`refusals()` answers "may this person do this to this handover now, and if not, why not?" as a list of sentences,
so the pages, the command line and the tests all ask one question and show one answer. Until a handover is closed
(approved by the receiving team's manager) the case stays with the outgoing worker: nothing here moves a case
except `APPROVE`, and the one deliberate exception, an urgent transfer the head of service authorises when a child
cannot wait for the full handover (`urgent_refusals`): the case moves to the named receiving worker at once, and the
authorisation stands in for endorsement and approval while the handover is completed after the transfer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import msgspec

from service.core import validation
from service.core.clock import date_in_england
from service.core.errors import Invalid, Refused
from service.core.workdays import working_days_between


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the sending team's manager
    ENDORSED = "endorsed"  # ready to transfer: waiting for the receiving worker
    RETURNED = "returned"  # back with the outgoing worker, with a query
    ACKNOWLEDGED = "acknowledged"  # waiting for the receiving team's manager
    CLOSED = "closed"  # approved: the case now sits with the receiving worker
    CANCELLED = "cancelled"


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    ENDORSE = "endorse"
    RETURN_TO_OUTGOING = "return_to_outgoing"
    RETURN_TO_RECEIVER = "return_to_receiver"
    CONFIRM = "confirm"  # the receiver confirms one critical item
    ACKNOWLEDGE = "acknowledge"
    APPROVE = "approve"
    CANCEL = "cancel"
    RAISE_DISAGREEMENT = "raise_disagreement"
    RESOLVE_DISAGREEMENT = "resolve_disagreement"


STATE_LABELS = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Waiting for sending manager",
    State.ENDORSED: "Waiting for receiving worker",
    State.RETURNED: "Returned to outgoing worker",
    State.ACKNOWLEDGED: "Waiting for receiving manager",
    State.CLOSED: "Closed",
    State.CANCELLED: "Cancelled",
}

OPEN_STATES = frozenset({State.DRAFT, State.SUBMITTED, State.ENDORSED, State.RETURNED, State.ACKNOWLEDGED})

# Where each action may start, and where it leads.
TRANSITIONS: dict[Action, tuple[frozenset[State], State | None]] = {
    Action.EDIT: (frozenset({State.DRAFT, State.RETURNED}), None),
    Action.SUBMIT: (frozenset({State.DRAFT, State.RETURNED}), State.SUBMITTED),
    Action.ENDORSE: (frozenset({State.SUBMITTED}), State.ENDORSED),
    Action.RETURN_TO_OUTGOING: (
        frozenset({State.SUBMITTED, State.ENDORSED, State.ACKNOWLEDGED}),
        State.RETURNED,
    ),
    Action.RETURN_TO_RECEIVER: (frozenset({State.ACKNOWLEDGED}), State.ENDORSED),
    Action.CONFIRM: (frozenset({State.ENDORSED}), None),
    Action.ACKNOWLEDGE: (frozenset({State.ENDORSED}), State.ACKNOWLEDGED),
    Action.APPROVE: (frozenset({State.ACKNOWLEDGED}), State.CLOSED),
    Action.CANCEL: (frozenset({State.DRAFT, State.RETURNED, State.SUBMITTED}), State.CANCELLED),
    Action.RAISE_DISAGREEMENT: (OPEN_STATES - {State.DRAFT}, None),
    Action.RESOLVE_DISAGREEMENT: (OPEN_STATES - {State.DRAFT}, None),
}

# Escalating a disagreement is not resolving it (Case M: a disagreement never resolved travelled with nothing).
OPEN_DISAGREEMENT_REFUSAL = (
    "A professional disagreement is still open: a team manager must resolve it, with its outcome, before the "
    "transfer can be approved (escalating it does not resolve it)"
)

# Only people hold children's cases and sign handovers off: a case management system's account may read what its teams
# may read, and never takes a step of the workflow (the four sign-offs are four people).
SERVICE_ACCOUNT_REFUSAL = (
    "A service account cannot act on a handover: only people hold children's cases and sign handovers off"
)

# Nobody acts on both sides of one handover: whoever endorsed it does not also return it for the receiving side,
# and its receiving worker does not return it for the sending team.
RETURN_AS_ENDORSER_REFUSAL = (
    "You endorsed this handover for the sending team; only the receiving side can return it now"
)
RETURN_AS_RECEIVER_REFUSAL = "You are named as the receiving worker; another manager of the sending team must return it"

# While a worker's long-term absence is recorded, a team manager writes their handovers on their behalf: the worker
# keeps sight of what they could read, and changes nothing until the manager records that the absence has ended.
ABSENT_REFUSAL = (
    "Your long-term absence is recorded, so you can read handovers but not start or change them: your team "
    "manager acts on your behalf until your absence ends"
)


def absent_refusals(actor: Actor) -> list[str]:
    """Why this person may not start or change any handover now: their long-term absence is recorded."""
    return [ABSENT_REFUSAL] if actor.absent else []


NEEDS_REASON = frozenset({Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER, Action.CANCEL})

# The workflow's actions as the pages' buttons and the API's addresses name them.
ACTION_NAMES: dict[str, Action] = {
    "submit": Action.SUBMIT,
    "endorse": Action.ENDORSE,
    "return": Action.RETURN_TO_OUTGOING,
    "return-to-receiver": Action.RETURN_TO_RECEIVER,
    "acknowledge": Action.ACKNOWLEDGE,
    "approve": Action.APPROVE,
    "cancel": Action.CANCEL,
}


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in person and the teams they work in or manage."""

    user_id: int
    name: str = ""
    worker_teams: frozenset[int] = frozenset()
    manager_teams: frozenset[int] = frozenset()
    is_auditor: bool = False
    is_admin: bool = False
    is_service: bool = False  # a case management system's account (API token), not a person
    absent: bool = False  # a manager has recorded their long-term absence (`absent_refusals`)
    # teams they oversee one step up from the team managers (a service's manager, the head of service): they are
    # told when a wait there is overdue or a disagreement escalated, so they may read those handovers (not act)
    overseen_teams: frozenset[int] = frozenset()


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """What the state machine needs to know about one handover."""

    state: State
    author_id: int
    sending_team_id: int
    receiving_team_id: int
    receiver_id: int | None = None
    endorsed_by: int | None = None
    acknowledged_by: int | None = None
    # a manager an administrator named for a step, where every manager of the team was excluded from it
    named_endorser: int | None = None
    named_approver: int | None = None
    # the worker a team manager writes the handover for (their absence is recorded, or they left): they may read it
    on_behalf_of: int | None = None
    open_disagreements: int = 0  # not yet resolved, at whatever stage of escalation
    overdue_disagreements: tuple[str, ...] = ()  # a sentence for each open one past its stage's time limit
    stale_records: tuple[str, ...] = ()  # a sentence for each record found not up to date (core.currency.Flag)
    # what stops closure until the family and every agency on the plan are told, or why not is recorded
    # (core.telling.closure_refusals); always empty for a checklist version without `[telling]`
    telling_missing: tuple[str, ...] = ()
    # the head of service who authorised an urgent transfer of this handover (None: an ordinary one); the case has
    # already moved to the receiving worker, and the authorisation stands in for endorsement and approval
    urgent_by: int | None = None
    submission_problems: int = 0  # how many things stop submission (see answers.submission_problems)
    unconfirmed_items: tuple[str, ...] = ()  # titles of critical items the receiver has not yet confirmed
    unconfirmed_ids: tuple[str, ...] = ()  # the same items' section ids, in the same order (titles may repeat)
    incomplete_sections: tuple[str, ...] = ()  # titles of sections that stop submission
    # For saying whom it waits on, and for how long
    state_since: date = date(2000, 1, 1)
    today: date = date(2000, 1, 1)
    author_name: str = "the outgoing worker"
    receiver_name: str = ""
    sending_team_name: str = "the sending team"
    receiving_team_name: str = "the receiving team"


class HandoverParties(Protocol):
    """What any stored shape of a handover says about its state and the people on it (the full record, and the
    report's row, both have these)."""

    @property
    def state(self) -> str: ...
    @property
    def author_id(self) -> int: ...
    @property
    def author(self) -> str: ...
    @property
    def sending_team_id(self) -> int: ...
    @property
    def sending_team(self) -> str: ...
    @property
    def receiving_team_id(self) -> int: ...
    @property
    def receiving_team(self) -> str: ...
    @property
    def receiver_id(self) -> int | None: ...
    @property
    def receiver(self) -> str | None: ...
    @property
    def endorsed_by(self) -> int | None: ...
    @property
    def acknowledged_by(self) -> int | None: ...
    @property
    def open_disagreements(self) -> int: ...
    @property
    def state_since(self) -> str: ...


def facts_for(
    handover: HandoverParties,
    today: date,
    *,
    submission_problems: int = 0,
    unconfirmed_items: tuple[str, ...] = (),
    unconfirmed_ids: tuple[str, ...] = (),
    incomplete_sections: tuple[str, ...] = (),
    overdue_disagreements: tuple[str, ...] = (),
    stale_records: tuple[str, ...] = (),
    telling_missing: tuple[str, ...] = (),
) -> Facts:
    """The state machine's facts about one handover: the one place they are built.

    `today` is the date in England; `state_since` (stored in UTC) is counted from its date in England. What the
    answers and confirmations say is passed in by whoever has read them; without it the facts serve the actions
    that do not depend on answers (viewing, editing, the workflow's who-may checks).
    """
    return Facts(
        state=State(handover.state),
        author_id=handover.author_id,
        sending_team_id=handover.sending_team_id,
        receiving_team_id=handover.receiving_team_id,
        receiver_id=handover.receiver_id,
        endorsed_by=handover.endorsed_by,
        acknowledged_by=handover.acknowledged_by,
        # only the full record reads who was named (the report's and the lists' rows have no use for it)
        named_endorser=getattr(handover, "named_endorser", None),
        named_approver=getattr(handover, "named_approver", None),
        on_behalf_of=getattr(handover, "on_behalf_of", None),
        # a list's row without the column is an ordinary handover to the rules (it is only read for words there)
        urgent_by=getattr(handover, "urgent_by", None),
        open_disagreements=handover.open_disagreements,
        overdue_disagreements=overdue_disagreements,
        stale_records=stale_records,
        telling_missing=telling_missing,
        submission_problems=submission_problems,
        unconfirmed_items=unconfirmed_items,
        unconfirmed_ids=unconfirmed_ids,
        incomplete_sections=incomplete_sections,
        state_since=date_in_england(handover.state_since),
        today=today,
        author_name=handover.author,
        receiver_name=handover.receiver or "",
        sending_team_name=handover.sending_team,
        receiving_team_name=handover.receiving_team,
    )


def is_owner(facts: Facts, actor: Actor) -> bool:
    return facts.author_id == actor.user_id


def is_sending_manager(facts: Facts, actor: Actor) -> bool:
    """A manager of the sending team, or the manager an administrator named to endorse this handover."""
    return facts.sending_team_id in actor.manager_teams or facts.named_endorser == actor.user_id


def is_receiving_manager(facts: Facts, actor: Actor) -> bool:
    """A manager of the receiving team, or the manager an administrator named to approve this handover."""
    return facts.receiving_team_id in actor.manager_teams or facts.named_approver == actor.user_id


def is_receiver(facts: Facts, actor: Actor) -> bool:
    """The named receiving worker or, for a handover addressed to a team, any worker in that team."""
    if facts.receiver_id is not None:
        return facts.receiver_id == actor.user_id
    return facts.receiving_team_id in actor.worker_teams


def is_party(facts: Facts, actor: Actor) -> bool:
    return (
        is_owner(facts, actor)
        or is_receiver(facts, actor)
        or is_sending_manager(facts, actor)
        or is_receiving_manager(facts, actor)
    )


# Who returns a handover to its outgoing worker at each stage it may be returned from.
RETURNERS: dict[State, Callable[[Facts, Actor], bool]] = {
    State.SUBMITTED: is_sending_manager,
    State.ENDORSED: is_receiver,
    State.ACKNOWLEDGED: is_receiving_manager,
}


def is_returner(facts: Facts, actor: Actor) -> bool:
    """Whether this person holds the role that returns the handover to its outgoing worker at its present stage."""
    role = RETURNERS.get(facts.state)
    return role is not None and role(facts, actor)


# The role that takes each step of the handover (before the separation of duties and what the handover lacks).
STEP_ROLES: dict[Action, Callable[[Facts, Actor], bool]] = {
    Action.ENDORSE: is_sending_manager,
    Action.ACKNOWLEDGE: is_receiver,
    Action.APPROVE: is_receiving_manager,
    Action.RETURN_TO_OUTGOING: is_returner,
    Action.RETURN_TO_RECEIVER: is_receiving_manager,
}


# Actions whose refusals depend only on the handover's parties and state, never on its answers or confirmations:
# they may be checked with Facts built without loading the sections (their answer fields left at the defaults).
# may_view is answer-blind too.
ANSWER_BLIND = frozenset({Action.EDIT})


# The states in which the handover is with the receiving worker: endorsed to them, acknowledged, or closed.
WITH_RECEIVER = frozenset({State.ENDORSED, State.ACKNOWLEDGED, State.CLOSED})


def answers_may_change(state: State) -> bool:
    """Whether the outgoing worker may still change the answers and submit them (a draft, or returned with a query):
    only then can anything stop the submission. Once submitted, a handover keeps the answers it was submitted with
    (`TRANSITIONS`: editing starts from these states only), which were complete then."""
    return state in TRANSITIONS[Action.EDIT][0]


def may_view(facts: Facts, actor: Actor) -> bool:
    """Parties to a handover, auditors, and the managers one step up from either team (its service's manager, the
    head of service) may read it; a receiver sees it only once it is endorsed to them, or once
    an urgent transfer has moved the case to them (and the head of service who authorised it follows it). The
    worker a manager writes it for keeps sight of it: it is their child's handover, though they no longer write it."""
    if actor.is_auditor or is_owner(facts, actor) or is_sending_manager(facts, actor):
        return True
    if facts.on_behalf_of is not None and facts.on_behalf_of == actor.user_id:
        return True
    if {facts.sending_team_id, facts.receiving_team_id} & actor.overseen_teams:
        return True  # one step up: told when it is overdue or escalated, so they read what they are chased about
    if facts.urgent_by is not None and facts.urgent_by == actor.user_id:
        return True  # the head of service who moved the case before sign-off follows it to completion
    # an urgent transfer has moved the case already: its receiving side reads the handover from then on
    reached_receiver = facts.state in WITH_RECEIVER or facts.urgent_by is not None
    if facts.state == State.RETURNED and facts.receiver_id is not None:
        reached_receiver = True
    return reached_receiver and (is_receiver(facts, actor) or is_receiving_manager(facts, actor))


class Side(StrEnum):
    """The two sides of a handover: the team that hands the child over, and the team that takes them on."""

    SENDING = "sending"
    RECEIVING = "receiving"


# Which side takes each step of the workflow; returning it to the outgoing worker is the step of the side it waits on
# (`RETURNERS`). Recording and deciding a professional disagreement belong to neither side: anyone involved records
# one and a manager of either team decides it. Every action is here, so a step added later must be given its side.
STEP_SIDES: dict[Action, Side | dict[State, Side] | None] = {
    Action.EDIT: Side.SENDING,
    Action.SUBMIT: Side.SENDING,
    Action.ENDORSE: Side.SENDING,
    Action.CANCEL: Side.SENDING,
    Action.RETURN_TO_OUTGOING: {
        State.SUBMITTED: Side.SENDING,
        State.ENDORSED: Side.RECEIVING,
        State.ACKNOWLEDGED: Side.RECEIVING,
    },
    Action.CONFIRM: Side.RECEIVING,
    Action.ACKNOWLEDGE: Side.RECEIVING,
    Action.APPROVE: Side.RECEIVING,
    Action.RETURN_TO_RECEIVER: Side.RECEIVING,
    Action.RAISE_DISAGREEMENT: None,
    Action.RESOLVE_DISAGREEMENT: None,
}


def side_of(action: Action, facts: Facts) -> Side | None:
    """The side of the handover that takes this step now (None: neither side's, or not a step at this stage)."""
    side = STEP_SIDES[action]
    return side.get(facts.state) if isinstance(side, dict) else side


def sides_taken(facts: Facts, actor: Actor) -> dict[Side, str]:
    """The sides of this handover this person already stands on, each with the first part of their handover they
    hold there, in words said to them."""
    held = {
        Side.SENDING: [
            (facts.author_id, "You wrote this handover"),
            (facts.on_behalf_of, "This handover is written for you"),
            (facts.endorsed_by, "You endorsed this handover for the sending team"),
        ],
        Side.RECEIVING: [
            (facts.receiver_id, "You are named as the receiving worker"),
            (facts.acknowledged_by, "You acknowledged this handover for the receiving team"),
        ],
    }
    taken = {}
    for side, parts in held.items():
        said = next((words for user_id, words in parts if user_id is not None and user_id == actor.user_id), None)
        if said is not None:
            taken[side] = said
    return taken


def other_side_refusal(part: str, side: Side) -> str:
    """Why someone who stands on one side of a handover may not take a step of the other `side`."""
    return f"{part}, so you cannot also act for the {side.value} side of it"


def _other_side(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Nobody acts on both sides of one handover: a step of one side is refused to anyone who stands on the other."""
    side = side_of(action, facts)
    if side is None:
        return []
    other = Side.RECEIVING if side == Side.SENDING else Side.SENDING
    part = sides_taken(facts, actor).get(other)
    return [] if part is None else [other_side_refusal(part, side)]


def _who_may(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Refusals about the person, separate from the state and the contents: their role, the separation of duties,
    and then whether they stand on the other side of the handover from the step."""
    return _role_refusals(action, facts, actor) or _other_side(action, facts, actor)


def _role_refusals(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Whether this person holds the role that takes the step, and the separation of duties within it."""
    if action in (Action.EDIT, Action.SUBMIT):
        return [] if is_owner(facts, actor) else ["Only the outgoing worker who started the handover can do this"]
    if action == Action.CANCEL:
        allowed = is_owner(facts, actor) or is_sending_manager(facts, actor)
        return [] if allowed else ["Only the outgoing worker or the sending team's manager can cancel it"]
    if action == Action.ENDORSE:
        if not is_sending_manager(facts, actor):
            return ["Only a manager of the sending team can endorse it"]
        if is_owner(facts, actor):
            return ["You cannot endorse a handover you wrote"]
        if facts.receiver_id == actor.user_id:  # nobody acts on both sides of one handover
            return ["You are named as the receiving worker; another manager of the sending team must endorse it"]
        return []
    if action in (Action.CONFIRM, Action.ACKNOWLEDGE):
        if not is_receiver(facts, actor):
            return ["Only the receiving worker can do this"]
        if is_owner(facts, actor):
            return ["You cannot acknowledge a handover you wrote"]
        if facts.endorsed_by == actor.user_id:  # nobody acts on both sides of one handover
            return ["You endorsed this handover for the sending team; another receiving worker must take it on"]
        return []
    if action == Action.APPROVE:
        return _approver_refusals(facts, actor)
    if action == Action.RETURN_TO_OUTGOING:
        return _returner_refusals(facts, actor)
    if action == Action.RETURN_TO_RECEIVER:
        if is_receiving_manager(facts, actor):
            return []
        return ["Only a manager of the receiving team can return it to the receiving worker"]
    if action == Action.RAISE_DISAGREEMENT:
        return [] if is_party(facts, actor) else ["Only people involved in this handover can record a disagreement"]
    if action == Action.RESOLVE_DISAGREEMENT:
        allowed = is_sending_manager(facts, actor) or is_receiving_manager(facts, actor)
        return [] if allowed else ["Only a team manager can resolve or escalate a disagreement"]
    return ["This action is not known"]


def _approver_refusals(facts: Facts, actor: Actor) -> list[str]:
    if not is_receiving_manager(facts, actor):
        return ["Only a manager of the receiving team can approve it"]
    reasons = []
    if is_owner(facts, actor):
        reasons.append("You cannot approve a handover you wrote")
    if facts.acknowledged_by == actor.user_id:
        reasons.append("You cannot approve a handover you acknowledged")
    elif facts.receiver_id == actor.user_id:  # nobody acts on both sides of one handover
        reasons.append("You are named as the receiving worker; another manager must approve it")
    if facts.endorsed_by == actor.user_id:
        reasons.append("You endorsed this handover for the sending team; another manager must approve it")
    return reasons


# The manager steps, and the state each is taken in: the steps an administrator can name another manager for.
MANAGER_STEPS: dict[str, tuple[Action, State]] = {
    "endorse": (Action.ENDORSE, State.SUBMITTED),
    "approve": (Action.APPROVE, State.ACKNOWLEDGED),
}


def person_refusals(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Why this person may not take this step of this handover, whatever its state and contents (their roles and
    the separation of duties only): for saying who else can, and whether an administrator must name someone."""
    if actor.is_service:
        return [SERVICE_ACCOUNT_REFUSAL]
    return absent_refusals(actor) or _who_may(action, facts, actor)


def eligible(action: Action, facts: Facts, candidates: list[Actor]) -> list[Actor]:
    """Those of `candidates` who may take this step of this handover by their roles and the separation of duties:
    when none may (every manager of the team wrote, endorsed, or is to receive it), an administrator must name
    another manager for the step (`MANAGER_STEPS`)."""
    return [candidate for candidate in candidates if not person_refusals(action, facts, candidate)]


def _returner_refusals(facts: Facts, actor: Actor) -> list[str]:
    if is_returner(facts, actor):
        # returning is a step of the side the handover waits on: nobody takes it who acted for the other side
        if facts.state == State.SUBMITTED and facts.receiver_id == actor.user_id:
            return [RETURN_AS_RECEIVER_REFUSAL]
        if facts.state in (State.ENDORSED, State.ACKNOWLEDGED) and facts.endorsed_by == actor.user_id:
            return [RETURN_AS_ENDORSER_REFUSAL]
        return []
    if not any(role(facts, actor) for role in RETURNERS.values()):
        return ["Only the sending team's manager, the receiving worker or the receiving team's manager can return it"]
    return ["You cannot return this handover at this stage"]


def confirm_item_refusal(title: str) -> str:
    """Why a receiver may not acknowledge yet, for one critical item they have not confirmed."""
    return f"Confirm ‘{title}’"


def things_to_do_refusal(count: int) -> str:
    """What a submission refused for its answers says: how many things stop it (`answers.submission_problems`)."""
    return f"There {'is' if count == 1 else 'are'} {count} thing{'s'[: count != 1]} to complete or correct"


def what_is_missing(action: Action, facts: Facts) -> list[str]:
    """What the handover lacks before this step may be taken, whoever takes it (the state machine's own check)."""
    if action == Action.SUBMIT and facts.submission_problems:
        return [things_to_do_refusal(facts.submission_problems)]
    if action == Action.ACKNOWLEDGE:
        missing = [confirm_item_refusal(title) for title in facts.unconfirmed_items]
        if facts.urgent_by is not None and facts.open_disagreements:
            missing.append(URGENT_OPEN_DISAGREEMENT_REFUSAL)  # acknowledging an urgent transfer closes it
        if facts.urgent_by is not None:
            missing.extend(facts.telling_missing)
        return missing
    if action == Action.APPROVE:
        return ([OPEN_DISAGREEMENT_REFUSAL] if facts.open_disagreements else []) + list(facts.telling_missing)
    return []


def refusals(action: Action, facts: Facts, actor: Actor, reason: str = "") -> list[str]:
    """Why this person may not do this now; an empty list means they may."""
    reasons = step_refusals(action, facts, actor)
    if reasons:
        return reasons
    if action in NEEDS_REASON and not reason.strip():
        return ["Enter a reason"]
    return what_is_missing(action, facts)


def refusals_before_the_form(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Why this person may not take the step on the handover as it is (`person_refusals`, then `step_refusals`),
    whatever its form held: said before anything about the form, whose boxes their page may not have."""
    return person_refusals(action, facts, actor) or step_refusals(action, facts, actor)


def step_refusals(action: Action, facts: Facts, actor: Actor) -> list[str]:
    """Why the step cannot be taken by this person in the handover's state, whatever was written with it (its
    reason, and what the handover is missing, are judged after): the first of `refusals`."""
    allowed_from, _ = TRANSITIONS[action]
    if facts.state not in allowed_from:
        return _wrong_state(action, facts)
    if actor.is_service:
        return [SERVICE_ACCOUNT_REFUSAL]
    reasons = absent_refusals(actor) or _who_may(action, facts, actor)
    if reasons:
        return reasons
    if facts.urgent_by is not None and action in URGENT_REFUSALS:
        return [URGENT_REFUSALS[action]]
    return []


def _wrong_state(action: Action, facts: Facts) -> list[str]:
    label = STATE_LABELS[facts.state].lower()
    if action == Action.APPROVE and facts.state in OPEN_STATES:
        return ["It cannot be approved: it has not been acknowledged by the receiving worker", *blockers(facts)]
    if action == Action.ACKNOWLEDGE and facts.state in OPEN_STATES:
        return ["It cannot be acknowledged yet", *blockers(facts)]
    return [f"This cannot be done now: the handover is {label}"]


def waited(facts: Facts) -> str:
    """How long the handover has waited in its state, in words: "since 4 December 2026, 3 working days"."""
    return waited_words(facts.state_since, facts.today)


def _wait_in_words(since_date: date, today: date) -> str:
    days = working_days_between(since_date, today)
    since = f"since {since_date.day} {since_date:%B %Y}"
    return f"{since}, less than a working day" if days == 0 else f"{since}, {days} working day{'s'[: days != 1]}"


# a report or an export says the same few hundred dates' waits for thousands of rows (the wrapper keeps the words)
waited_words = lru_cache(maxsize=4096)(_wait_in_words)


def waits_on(facts: Facts) -> str:
    """Who has to act next, in words."""
    receiver = facts.receiver_name or f"a worker in {facts.receiving_team_name}"
    return {
        State.DRAFT: facts.author_name,
        State.RETURNED: facts.author_name,
        State.SUBMITTED: f"the manager of {facts.sending_team_name}",
        State.ENDORSED: receiver,
        State.ACKNOWLEDGED: f"the manager of {facts.receiving_team_name}",
    }.get(facts.state, "nobody")


def blockers(facts: Facts) -> list[str]:
    """What stands between this handover and closure, in words an auditor or manager can act on."""
    since = waited(facts)
    found: list[str] = []
    if facts.urgent_by is not None and facts.state in OPEN_STATES:
        found.append(urgent_blocker(facts))
    if facts.state == State.DRAFT:
        if facts.incomplete_sections:
            found.append("Sections not complete: " + ", ".join(facts.incomplete_sections))
        found.append(f"Not yet submitted by {facts.author_name} ({since})")
    elif facts.state == State.RETURNED:
        found.append(f"Returned with a query to {facts.author_name} {since}")
    elif facts.state == State.SUBMITTED:
        found.append(f"Awaiting endorsement by {waits_on(facts)} {since}")
    elif facts.state == State.ENDORSED:
        found.append(f"Awaiting acknowledgement by {waits_on(facts)} {since}")
        found.extend(f"Not yet confirmed: {title}" for title in facts.unconfirmed_items)
    elif facts.state == State.ACKNOWLEDGED:
        found.append(f"Awaiting approval by {waits_on(facts)} {since}")
    if facts.state in OPEN_STATES - {State.DRAFT}:
        found.extend(facts.stale_records)
        found.extend(facts.telling_missing)
    if facts.open_disagreements and facts.state in OPEN_STATES:
        count = facts.open_disagreements
        found.append(f"{count} open professional disagreement{'s'[: count != 1]}, not yet resolved")
        found.extend(facts.overdue_disagreements)
    return found


def within_one_team(facts: Facts) -> bool:
    """A transfer between two workers of one team: it has one manager step, the team manager's approval (the
    sending and receiving managers are the same people, so a separate endorsement would be one person twice)."""
    return facts.sending_team_id == facts.receiving_team_id


def next_state(action: Action, facts: Facts) -> State:
    _, target = TRANSITIONS[action]
    if facts.urgent_by is not None and action in URGENT_TARGETS:
        return URGENT_TARGETS[action]  # the head of service's authorisation stands in for the manager's step
    if action == Action.SUBMIT and within_one_team(facts):
        return State.ENDORSED  # straight to the receiving worker: the team's manager approves at the end
    return facts.state if target is None else target


def apply(action: Action, facts: Facts, actor: Actor, reason: str = "") -> State:
    """The state after the action, or `Refused` with every reason it may not happen."""
    reasons = refusals(action, facts, actor, reason)
    if reasons:
        raise Refused(reasons)
    return next_state(action, facts)


# Why an administrator may not name someone for a manager step who already stands on the handover's other side.
NAMED_ON_RECEIVING_SIDE = (
    "they manage the receiving team, so they act for the receiving side; name a manager of another team"
)
NAMED_ON_SENDING_SIDE = "they manage the sending team, so they act for the sending side; name a manager of another team"
NAMED_FOR_OTHER_STEP = "they are named for the other manager step of this handover; name someone else"


def named_manager_refusals(action: Action, facts: Facts, candidate: Actor) -> list[str]:
    """Why an administrator may not name this person for a manager step (`MANAGER_STEPS`), with `facts` saying they
    are named for it: the separation of duties (`person_refusals`), and anyone already on the other side of the
    handover (a manager of the other team, or the person named for the other step), who would then act for both
    sides of it and might leave the other step with nobody to take it."""
    reasons = person_refusals(action, facts, candidate)
    if reasons:
        return reasons
    if action == Action.ENDORSE:
        if not within_one_team(facts) and facts.receiving_team_id in candidate.manager_teams:
            return [NAMED_ON_RECEIVING_SIDE]
        if facts.named_approver == candidate.user_id:
            return [NAMED_FOR_OTHER_STEP]
    if action == Action.APPROVE:
        if not within_one_team(facts) and facts.sending_team_id in candidate.manager_teams:
            return [NAMED_ON_SENDING_SIDE]
        if facts.named_endorser == candidate.user_id:
            return [NAMED_FOR_OTHER_STEP]
    return []


# ---------------------------------------------------------------- urgent transfers
#
# When a child cannot wait for the full handover, the head of service may authorise an urgent transfer: the one
# deliberate exception to "the child keeps their current worker until the transfer closes". A receiving worker is
# named and the case moves to them at once, with the reason recorded. The authorisation stands in for the sending
# manager's endorsement and the receiving manager's approval, so the people are still separate: the author, the head
# of service, and the receiver (who is neither). The handover stays open: the author completes every missing
# section and submits it, which takes it straight to the receiving worker (endorsed, by the head of service); the
# receiver confirms every critical item in their own words and acknowledges it, which closes it (approved, by the
# head of service), once every professional disagreement is resolved. It cannot be cancelled: the case has moved.

# How an urgent transfer that is not yet complete is listed everywhere (its page's tag, the first of its blockers).
URGENT_LABEL = "Urgent, completing after transfer"

URGENT_ONLY_HEAD_OF_SERVICE = "Only the head of service can authorise an urgent transfer"
URGENT_ALREADY = "An urgent transfer of this handover has already been authorised"
URGENT_CANCEL_REFUSAL = (
    "The case has already moved to the receiving worker under an urgent transfer, so the handover cannot be "
    "cancelled: it must be completed"
)
URGENT_OPEN_DISAGREEMENT_REFUSAL = (
    "A professional disagreement is still open: a team manager must resolve it, with its outcome, before the urgent "
    "transfer can be completed (escalating it does not resolve it)"
)
# The steps an urgent transfer no longer takes, and why: it cannot be cancelled once the case has moved, and it never
# waits for a manager's endorsement or approval (its states never reach those steps: these say why, should they).
URGENT_REFUSALS: dict[Action, str] = {
    Action.CANCEL: URGENT_CANCEL_REFUSAL,
    Action.ENDORSE: "This is an urgent transfer: the head of service's authorisation stands in for endorsement",
    Action.APPROVE: (
        "This is an urgent transfer: the head of service's authorisation stands in for approval, and it is complete "
        "when the receiving worker acknowledges it"
    ),
    Action.RETURN_TO_RECEIVER: (
        "This is an urgent transfer: it is complete when the receiving worker acknowledges it, with no manager's "
        "approval to return it from"
    ),
}
# Where an urgent transfer's steps lead: submitting goes straight to the receiving worker, acknowledging closes it.
URGENT_TARGETS: dict[Action, State] = {Action.SUBMIT: State.ENDORSED, Action.ACKNOWLEDGE: State.CLOSED}
# Where authorising leads from each open state: a submitted handover no longer waits for endorsement, and an
# acknowledged one no longer waits for approval; in the others the author or the receiver still has work to do.
AUTHORISED_STATES: dict[State, State] = {State.SUBMITTED: State.ENDORSED, State.ACKNOWLEDGED: State.CLOSED}

URGENT_REASON_FIELD = "reason"
URGENT_RECEIVER_FIELD = "receiver"
URGENT_REASON_LABEL = "Why can the child not wait for the full handover?"
URGENT_RECEIVER_LABEL = "Who will the case move to?"
URGENT_REASON_MISSING = "Enter why the child cannot wait for the full handover"
URGENT_RECEIVER_MISSING = "Select the worker the case moves to"


def urgent_blocker(facts: Facts) -> str:
    """The first thing said of an urgent transfer not yet complete, wherever it is listed."""
    receiver = facts.receiver_name or "the receiving worker"
    return f"{URGENT_LABEL}: the case has already moved to {receiver}"


def urgent_refusals(facts: Facts, actor: Actor, *, head_of_service: int | None) -> list[str]:
    """Why this person may not authorise an urgent transfer of this handover now ([]: they may).

    `head_of_service` is the user id of the person recorded as head of service now (None: the post is vacant). Only
    they may, while not absent, on an open handover not already urgent, and never when they already stand on either
    side of it (`sides_taken`: they wrote it, it is written for them, they endorsed it, are its receiving worker or
    acknowledged it). An acknowledged handover closes on authorisation, so what stops approval stops it too."""
    if facts.state not in OPEN_STATES:
        return [f"This cannot be done now: the handover is {STATE_LABELS[facts.state].lower()}"]
    if facts.urgent_by is not None:
        return [URGENT_ALREADY]
    if actor.is_service:
        return [SERVICE_ACCOUNT_REFUSAL]
    if head_of_service is None or head_of_service != actor.user_id:
        return [URGENT_ONLY_HEAD_OF_SERVICE]
    absent = absent_refusals(actor)
    if absent:
        return absent
    taken = sides_taken(facts, actor)
    if taken:
        part = next(iter(taken.values()))
        return [f"{part}, so you cannot also authorise an urgent transfer of it"]
    if facts.state == State.ACKNOWLEDGED:
        return what_is_missing(Action.APPROVE, facts)
    return []


def urgent_receiver_problem(facts: Facts, candidate: Actor | None, *, head_of_service: int | None) -> str | None:
    """Why this person may not be named as the receiving worker of an urgent transfer (None: they may).

    `candidate` is None for nobody who may hold a case (no such enabled person). The receiver must be a worker of
    the receiving team, not a service account, not absent, not the head of service who authorises it, and on neither
    the sending side (the author, the worker it is written for, its endorser); an acknowledged handover's receiver
    has confirmed every critical item, so it is them."""
    team = facts.receiving_team_name
    if candidate is None or candidate.is_service or facts.receiving_team_id not in candidate.worker_teams:
        return f"Select a worker in {team}"
    name = candidate.name or "This worker"
    if candidate.user_id == head_of_service:
        return "Select another worker: you authorise the transfer, so you cannot also take the case on"
    if candidate.user_id in (facts.author_id, facts.on_behalf_of):
        return f"Select another worker: {name} is on the sending side of this handover, which is written for them"
    if candidate.user_id == facts.endorsed_by:
        return f"Select another worker: {name} endorsed this handover for the sending team"
    if candidate.absent:
        return f"Select another worker: {name}’s long-term absence is recorded"
    if facts.state == State.ACKNOWLEDGED and candidate.user_id != facts.receiver_id:
        who = facts.receiver_name or "the receiving worker"
        return f"Select {who}: they acknowledged the handover, having confirmed every critical item"
    return None


def urgent_errors(
    facts: Facts, receiver_id: int | None, candidate: Actor | None, reason: str, *, head_of_service: int | None
) -> dict[str, str]:
    """The urgent transfer's form, checked: messages keyed `receiver` and `reason` ({}: it may go ahead).
    `receiver_id` is who was chosen (None: nobody), `candidate` that person as the rules see them (None when they
    are no enabled person). The reason is free text of at most `validation.WORKFLOW_REASON_MAX` characters."""
    errors = validation.text_errors(
        URGENT_REASON_FIELD, reason, missing=URGENT_REASON_MISSING, limit=validation.WORKFLOW_REASON_MAX,
        what="The reason",
    )  # fmt: skip
    if receiver_id is None:
        errors[URGENT_RECEIVER_FIELD] = URGENT_RECEIVER_MISSING
    else:
        problem = urgent_receiver_problem(facts, candidate, head_of_service=head_of_service)
        if problem is not None:
            errors[URGENT_RECEIVER_FIELD] = problem
    return errors


def urgent_receivers(facts: Facts, candidates: list[Actor], *, head_of_service: int | None) -> list[Actor]:
    """Those of `candidates` who may be named as the receiving worker of an urgent transfer of this handover."""
    return [c for c in candidates if urgent_receiver_problem(facts, c, head_of_service=head_of_service) is None]


def authorise_urgent(
    facts: Facts,
    actor: Actor,
    receiver: Actor | None,
    reason: str,
    *,
    receiver_id: int | None,
    head_of_service: int | None,
) -> State:
    """The state the handover is in once the urgent transfer is authorised (`AUTHORISED_STATES`); `Refused` with
    `urgent_refusals`, or `Invalid` with `urgent_errors`, otherwise."""
    refused = urgent_refusals(facts, actor, head_of_service=head_of_service)
    if refused:
        raise Refused(refused)
    errors = urgent_errors(facts, receiver_id, receiver, reason, head_of_service=head_of_service)
    if errors:
        raise Invalid(errors)
    return AUTHORISED_STATES.get(facts.state, facts.state)


def sign_offs_stood_in_for(before: State, after: State) -> tuple[str, ...]:
    """The sign-offs ("endorsed", "approved") an urgent transfer's authorisation gives when its handover moves from
    `before` to `after`: the endorsement when it reaches the receiving worker with no sending manager's, the
    approval when it closes. The caller records the head of service who authorised it as having given them."""
    given: list[str] = []
    if after in (State.ENDORSED, State.CLOSED) and before in (State.DRAFT, State.RETURNED, State.SUBMITTED):
        given.append("endorsed")
    if after == State.CLOSED:
        given.append("approved")
    return tuple(given)


def urgent_next_steps(facts: Facts) -> list[str]:
    """What happens next to an urgent transfer, as sentences: who still has work to do before it is complete (said
    on the confirmation after authorising it, and after each later step)."""
    receiver = facts.receiver_name or "the receiving worker"
    allocated = f"The case is now allocated to {receiver} in {facts.receiving_team_name}."
    if facts.state not in OPEN_STATES:
        return [allocated, "Nobody needs to do anything more with this handover."]
    listed = f"Until the handover is complete it is listed as ‘{URGENT_LABEL}’."
    if facts.state in (State.DRAFT, State.RETURNED, State.SUBMITTED):
        return [
            allocated,
            f"{facts.author_name} must still complete every missing section and submit the handover. It then goes "
            f"straight to {receiver}: the head of service's authorisation stands in for the sending manager's "
            "endorsement.",
            listed,
        ]
    return [
        allocated,
        f"{receiver} must still confirm each critical item in their own words and acknowledge the handover. That "
        "completes it: the head of service's authorisation stands in for the receiving manager's approval.",
        listed,
    ]
