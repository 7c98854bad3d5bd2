"""Separation of duties beyond the demo's four people: who is refused, with the exact sentence they read.

The four sign-offs (the outgoing worker, the sending manager, the receiving worker, the receiving manager) stay four
people even when one person holds several roles: the author is also the named receiver, a manager runs both teams,
an administrator named a manager for a step, or the transfer is within one team.
"""

from __future__ import annotations

from datetime import date
from typing import cast

import pytest

from service.core.errors import Refused
from service.core.workflow import Action, Actor, Facts, State, apply, eligible, next_state, person_refusals, refusals

NORTH, CP, SOUTH = 10, 20, 30
AUTHOR, SENDING_MANAGER, RECEIVER, RECEIVING_MANAGER = 1, 2, 3, 4

OWNER = Actor(user_id=AUTHOR, worker_teams=frozenset({NORTH}))
SENDER_MANAGER = Actor(user_id=SENDING_MANAGER, manager_teams=frozenset({NORTH}))
NAMED_RECEIVER = Actor(user_id=RECEIVER, worker_teams=frozenset({CP}))
RECEIVER_MANAGER = Actor(user_id=RECEIVING_MANAGER, manager_teams=frozenset({CP}))
RECEIVING_COLLEAGUE = Actor(user_id=5, worker_teams=frozenset({CP}))
OUTSIDER = Actor(user_id=6, worker_teams=frozenset({SOUTH}), manager_teams=frozenset({SOUTH}))
SERVICE = Actor(user_id=7, worker_teams=frozenset({NORTH, CP}), manager_teams=frozenset({NORTH, CP}), is_service=True)

ONLY_OUTGOING = "Only the outgoing worker who started the handover can do this"
ONLY_RECEIVER = "Only the receiving worker can do this"
CANNOT_RETURN = "You cannot return this handover at this stage"
# said to someone who holds none of the roles that return a handover, at any stage
NEVER_RETURNS = "Only the sending team's manager, the receiving worker or the receiving team's manager can return it"
SERVICE_REFUSAL = "A service account cannot act on a handover: only people hold children's cases and sign handovers off"


def facts(state: State, **changes: object) -> Facts:
    values: dict[str, object] = {
        "state": state,
        "author_id": AUTHOR,
        "sending_team_id": NORTH,
        "receiving_team_id": CP,
        "receiver_id": RECEIVER,
        "endorsed_by": SENDING_MANAGER if state not in (State.DRAFT, State.SUBMITTED) else None,
        "acknowledged_by": RECEIVER if state in (State.ACKNOWLEDGED, State.CLOSED) else None,
        "state_since": date(2026, 11, 20),
        "today": date(2026, 11, 27),
    }
    values.update(changes)
    return Facts(**values)  # type: ignore[arg-type]


# --- the refusal sentences, one for each kind of person turned away ---------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "actor", "sentence"),
    [
        (Action.EDIT, State.DRAFT, SENDER_MANAGER, ONLY_OUTGOING),
        (Action.SUBMIT, State.RETURNED, NAMED_RECEIVER, ONLY_OUTGOING),
        (
            Action.CANCEL,
            State.SUBMITTED,
            NAMED_RECEIVER,
            "Only the outgoing worker or the sending team's manager can cancel it",
        ),
        (Action.ENDORSE, State.SUBMITTED, RECEIVER_MANAGER, "Only a manager of the sending team can endorse it"),
        (Action.CONFIRM, State.ENDORSED, RECEIVING_COLLEAGUE, ONLY_RECEIVER),
        (Action.ACKNOWLEDGE, State.ENDORSED, RECEIVER_MANAGER, ONLY_RECEIVER),
        (Action.APPROVE, State.ACKNOWLEDGED, SENDER_MANAGER, "Only a manager of the receiving team can approve it"),
        (Action.RETURN_TO_OUTGOING, State.SUBMITTED, RECEIVER_MANAGER, CANNOT_RETURN),
        (Action.RETURN_TO_OUTGOING, State.ENDORSED, RECEIVER_MANAGER, CANNOT_RETURN),
        (Action.RETURN_TO_OUTGOING, State.ACKNOWLEDGED, NAMED_RECEIVER, CANNOT_RETURN),
        (
            Action.RETURN_TO_RECEIVER,
            State.ACKNOWLEDGED,
            SENDER_MANAGER,
            "Only a manager of the receiving team can return it to the receiving worker",
        ),
        (
            Action.RAISE_DISAGREEMENT,
            State.ENDORSED,
            RECEIVING_COLLEAGUE,
            "Only people involved in this handover can record a disagreement",
        ),
        (
            Action.RESOLVE_DISAGREEMENT,
            State.ENDORSED,
            NAMED_RECEIVER,
            "Only a team manager can resolve or escalate a disagreement",
        ),
    ],
)
def test_a_person_without_the_role_reads_why_they_cannot(
    action: Action, state: State, actor: Actor, sentence: str
) -> None:
    assert refusals(action, facts(state), actor, "Because") == [sentence]
    assert person_refusals(action, facts(state), actor) == [sentence]
    with pytest.raises(Refused) as refused:
        apply(action, facts(state), actor, "Because")
    assert refused.value.reasons == [sentence]
    assert str(refused.value) == sentence


def test_an_action_the_rules_do_not_know_is_refused_in_words() -> None:
    unknown = cast(Action, "transfer_everything")
    assert person_refusals(unknown, facts(State.SUBMITTED), SENDER_MANAGER) == ["This action is not known"]


def test_a_service_account_takes_no_step_whatever_teams_its_token_covers() -> None:
    for action, state in [
        (Action.EDIT, State.DRAFT),
        (Action.SUBMIT, State.DRAFT),
        (Action.ENDORSE, State.SUBMITTED),
        (Action.ACKNOWLEDGE, State.ENDORSED),
        (Action.APPROVE, State.ACKNOWLEDGED),
        (Action.RAISE_DISAGREEMENT, State.ENDORSED),
    ]:
        assert refusals(action, facts(state), SERVICE, "Because") == [SERVICE_REFUSAL], action
        assert person_refusals(action, facts(state), SERVICE) == [SERVICE_REFUSAL], action
    # the state is told first: there is nothing anyone could do to a closed handover
    assert refusals(Action.EDIT, facts(State.CLOSED), SERVICE) == ["This cannot be done now: the handover is closed"]


def test_a_plain_actor_is_a_person_with_no_roles() -> None:
    nobody = Actor(user_id=99)
    assert nobody.name == ""
    assert (nobody.worker_teams, nobody.manager_teams) == (frozenset(), frozenset())
    assert (nobody.is_auditor, nobody.is_admin, nobody.is_service) == (False, False, False)
    author = Actor(user_id=AUTHOR)
    assert refusals(Action.EDIT, facts(State.DRAFT), author) == [], "a person, not a service account"


# --- one person, several roles ----------------------------------------------------------------------------------------

# The author named themselves as the receiving worker (a transfer to a colleague's team they also work in).
AUTHOR_AS_RECEIVER = Actor(user_id=AUTHOR, worker_teams=frozenset({NORTH, CP}), manager_teams=frozenset({NORTH, CP}))


def test_an_author_named_as_the_receiver_cannot_take_it_on() -> None:
    endorsed = facts(State.ENDORSED, receiver_id=AUTHOR)
    for action in (Action.CONFIRM, Action.ACKNOWLEDGE):
        assert refusals(action, endorsed, AUTHOR_AS_RECEIVER) == ["You cannot acknowledge a handover you wrote"]
    submitted = facts(State.SUBMITTED, receiver_id=AUTHOR)
    assert refusals(Action.ENDORSE, submitted, AUTHOR_AS_RECEIVER) == ["You cannot endorse a handover you wrote"]


def test_an_author_named_as_receiver_who_acknowledged_and_endorsed_hears_every_reason_at_approval() -> None:
    everything = facts(State.ACKNOWLEDGED, receiver_id=AUTHOR, acknowledged_by=AUTHOR, endorsed_by=AUTHOR)
    assert refusals(Action.APPROVE, everything, AUTHOR_AS_RECEIVER) == [
        "You cannot approve a handover you wrote",
        "You cannot approve a handover you acknowledged",
        "You endorsed this handover for the sending team; another manager must approve it",
    ]


def test_the_named_receiver_who_did_not_acknowledge_cannot_approve_either() -> None:
    # a colleague of the receiving team acknowledged (addressed to the team earlier), but this manager is named
    named = Actor(user_id=RECEIVER, worker_teams=frozenset({CP}), manager_teams=frozenset({CP}))
    acknowledged = facts(State.ACKNOWLEDGED, acknowledged_by=5)
    assert refusals(Action.APPROVE, acknowledged, named) == [
        "You are named as the receiving worker; another manager must approve it"
    ]


def test_an_acknowledger_is_told_only_that_they_acknowledged_not_also_that_they_are_named() -> None:
    named = Actor(user_id=RECEIVER, worker_teams=frozenset({CP}), manager_teams=frozenset({CP}))
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED), named) == [
        "You cannot approve a handover you acknowledged"
    ]


def test_a_manager_of_both_teams_who_endorsed_cannot_approve() -> None:
    both = Actor(user_id=SENDING_MANAGER, manager_teams=frozenset({NORTH, CP}))
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED), both) == [
        "You endorsed this handover for the sending team; another manager must approve it"
    ]
    fresh = Actor(user_id=40, manager_teams=frozenset({NORTH, CP}))
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED), fresh) == []


def test_an_author_who_manages_the_receiving_team_cannot_approve_their_own_handover() -> None:
    author_manager = Actor(user_id=AUTHOR, manager_teams=frozenset({CP}))
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED), author_manager) == [
        "You cannot approve a handover you wrote"
    ]


def test_the_endorser_working_in_the_receiving_team_cannot_acknowledge() -> None:
    endorser = Actor(user_id=SENDING_MANAGER, manager_teams=frozenset({NORTH}), worker_teams=frozenset({CP}))
    named_to_them = facts(State.ENDORSED, receiver_id=SENDING_MANAGER)
    assert refusals(Action.ACKNOWLEDGE, named_to_them, endorser) == [
        "You endorsed this handover for the sending team; another receiving worker must take it on"
    ]


def test_the_named_receiver_who_manages_the_sending_team_cannot_endorse() -> None:
    manager = Actor(user_id=RECEIVER, manager_teams=frozenset({NORTH}), worker_teams=frozenset({CP}))
    assert refusals(Action.ENDORSE, facts(State.SUBMITTED), manager) == [
        "You are named as the receiving worker; another manager of the sending team must endorse it"
    ]


def test_a_named_receiver_excludes_the_rest_of_the_receiving_team() -> None:
    endorsed = facts(State.ENDORSED)
    assert refusals(Action.ACKNOWLEDGE, endorsed, RECEIVING_COLLEAGUE) == [ONLY_RECEIVER]
    assert refusals(Action.ACKNOWLEDGE, endorsed, NAMED_RECEIVER) == []
    assert refusals(Action.RETURN_TO_OUTGOING, endorsed, RECEIVING_COLLEAGUE, "Because") == [NEVER_RETURNS]
    assert refusals(Action.RETURN_TO_OUTGOING, endorsed, NAMED_RECEIVER, "Because") == []


def test_a_team_addressed_handover_is_open_to_its_workers_only() -> None:
    team = facts(State.ENDORSED, receiver_id=None)
    assert refusals(Action.ACKNOWLEDGE, team, RECEIVING_COLLEAGUE) == []
    assert refusals(Action.ACKNOWLEDGE, team, RECEIVER_MANAGER) == [ONLY_RECEIVER]
    assert refusals(Action.ACKNOWLEDGE, team, Actor(user_id=50, worker_teams=frozenset({NORTH}))) == [ONLY_RECEIVER]


# --- managers an administrator named for a step -----------------------------------------------------------------------

NAMED_MANAGER = Actor(user_id=60, manager_teams=frozenset({SOUTH}))


def test_a_manager_named_to_endorse_may_endorse_return_cancel_and_resolve_but_not_approve() -> None:
    submitted = facts(State.SUBMITTED, named_endorser=60)
    assert refusals(Action.ENDORSE, submitted, NAMED_MANAGER) == []
    assert refusals(Action.RETURN_TO_OUTGOING, submitted, NAMED_MANAGER, "Because") == []
    assert refusals(Action.CANCEL, submitted, NAMED_MANAGER, "Because") == []
    assert refusals(Action.RESOLVE_DISAGREEMENT, submitted, NAMED_MANAGER) == []
    acknowledged = facts(State.ACKNOWLEDGED, named_endorser=60)
    assert refusals(Action.APPROVE, acknowledged, NAMED_MANAGER) == [
        "Only a manager of the receiving team can approve it"
    ]
    # naming someone else does not make this manager one
    assert refusals(Action.ENDORSE, facts(State.SUBMITTED, named_endorser=61), NAMED_MANAGER) == [
        "Only a manager of the sending team can endorse it"
    ]


def test_a_manager_named_to_approve_may_approve_and_return_but_not_endorse() -> None:
    acknowledged = facts(State.ACKNOWLEDGED, named_approver=60)
    assert refusals(Action.APPROVE, acknowledged, NAMED_MANAGER) == []
    assert refusals(Action.RETURN_TO_RECEIVER, acknowledged, NAMED_MANAGER, "Because") == []
    assert refusals(Action.RETURN_TO_OUTGOING, acknowledged, NAMED_MANAGER, "Because") == []
    assert refusals(Action.RAISE_DISAGREEMENT, acknowledged, NAMED_MANAGER) == []
    assert refusals(Action.ENDORSE, facts(State.SUBMITTED, named_approver=60), NAMED_MANAGER) == [
        "Only a manager of the sending team can endorse it"
    ]
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED, named_approver=61), NAMED_MANAGER) == [
        "Only a manager of the receiving team can approve it"
    ]


def test_eligible_keeps_only_those_who_may_take_the_step_in_the_order_given() -> None:
    both = Actor(user_id=SENDING_MANAGER, manager_teams=frozenset({NORTH, CP}))
    fresh = Actor(user_id=41, manager_teams=frozenset({CP}))
    candidates = [RECEIVER_MANAGER, both, SENDER_MANAGER, fresh, SERVICE]
    assert eligible(Action.APPROVE, facts(State.ACKNOWLEDGED), candidates) == [RECEIVER_MANAGER, fresh]
    assert eligible(Action.ENDORSE, facts(State.SUBMITTED), candidates) == [both, SENDER_MANAGER]
    assert eligible(Action.APPROVE, facts(State.ACKNOWLEDGED), [both]) == []


def test_who_may_return_is_asked_of_the_person_whatever_the_state() -> None:
    """person_refusals does not look at the state: a return from a draft is nobody's step."""
    for actor in (SENDER_MANAGER, NAMED_RECEIVER, RECEIVER_MANAGER):
        assert person_refusals(Action.RETURN_TO_OUTGOING, facts(State.DRAFT), actor) == [CANNOT_RETURN]
    assert person_refusals(Action.RETURN_TO_OUTGOING, facts(State.DRAFT), OWNER) == [NEVER_RETURNS]


# --- reasons ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "actor"),
    [
        (Action.RETURN_TO_OUTGOING, State.SUBMITTED, SENDER_MANAGER),
        (Action.RETURN_TO_OUTGOING, State.ENDORSED, NAMED_RECEIVER),
        (Action.RETURN_TO_OUTGOING, State.ACKNOWLEDGED, RECEIVER_MANAGER),
        (Action.RETURN_TO_RECEIVER, State.ACKNOWLEDGED, RECEIVER_MANAGER),
        (Action.CANCEL, State.DRAFT, OWNER),
        (Action.CANCEL, State.SUBMITTED, SENDER_MANAGER),
    ],
)
def test_returning_and_cancelling_need_a_reason_that_is_more_than_spaces(
    action: Action, state: State, actor: Actor
) -> None:
    assert refusals(action, facts(state), actor) == ["Enter a reason"]
    assert refusals(action, facts(state), actor, " \t\n ") == ["Enter a reason"]
    assert refusals(action, facts(state), actor, "Wrong team") == []


@pytest.mark.parametrize(
    ("action", "state", "actor"),
    [
        (Action.SUBMIT, State.DRAFT, OWNER),
        (Action.EDIT, State.RETURNED, OWNER),
        (Action.ENDORSE, State.SUBMITTED, SENDER_MANAGER),
        (Action.CONFIRM, State.ENDORSED, NAMED_RECEIVER),
        (Action.ACKNOWLEDGE, State.ENDORSED, NAMED_RECEIVER),
        (Action.APPROVE, State.ACKNOWLEDGED, RECEIVER_MANAGER),
        (Action.RAISE_DISAGREEMENT, State.SUBMITTED, OWNER),
        (Action.RESOLVE_DISAGREEMENT, State.ACKNOWLEDGED, RECEIVER_MANAGER),
    ],
)
def test_the_other_steps_need_no_reason(action: Action, state: State, actor: Actor) -> None:
    assert refusals(action, facts(state), actor) == []


def test_a_step_taken_without_a_reason_is_refused_when_it_needs_one() -> None:
    with pytest.raises(Refused) as refused:
        apply(Action.CANCEL, facts(State.DRAFT), OWNER)
    assert refused.value.reasons == ["Enter a reason"]
    assert apply(Action.SUBMIT, facts(State.DRAFT), OWNER) == State.SUBMITTED


def test_the_wrong_person_is_told_who_may_before_being_asked_for_a_reason() -> None:
    assert refusals(Action.CANCEL, facts(State.DRAFT), NAMED_RECEIVER, "") == [
        "Only the outgoing worker or the sending team's manager can cancel it"
    ]


def test_a_missing_reason_is_asked_for_before_anything_else_missing() -> None:
    disputed = facts(State.ACKNOWLEDGED, open_disagreements=2)
    assert refusals(Action.RETURN_TO_RECEIVER, disputed, RECEIVER_MANAGER) == ["Enter a reason"]


# --- within one team --------------------------------------------------------------------------------------------------


def test_within_one_team_submission_goes_straight_to_the_receiving_worker() -> None:
    one_team = facts(State.DRAFT, receiving_team_id=NORTH)
    assert next_state(Action.SUBMIT, one_team) == State.ENDORSED
    assert apply(Action.SUBMIT, one_team, OWNER) == State.ENDORSED
    assert next_state(Action.SUBMIT, facts(State.DRAFT)) == State.SUBMITTED


def test_within_one_team_the_other_steps_lead_where_they_always_do() -> None:
    assert next_state(Action.APPROVE, facts(State.ACKNOWLEDGED, receiving_team_id=NORTH)) == State.CLOSED
    assert next_state(Action.RETURN_TO_OUTGOING, facts(State.ENDORSED, receiving_team_id=NORTH)) == State.RETURNED
    assert next_state(Action.CONFIRM, facts(State.ENDORSED, receiving_team_id=NORTH)) == State.ENDORSED


def test_within_one_team_the_team_manager_who_did_not_endorse_approves() -> None:
    team_manager = Actor(user_id=70, manager_teams=frozenset({NORTH}))
    colleague = Actor(user_id=71, worker_teams=frozenset({NORTH}))
    acknowledged = facts(
        State.ACKNOWLEDGED, receiving_team_id=NORTH, receiver_id=71, endorsed_by=None, acknowledged_by=71
    )
    assert refusals(Action.APPROVE, acknowledged, team_manager) == []
    assert refusals(Action.APPROVE, acknowledged, colleague) == ["Only a manager of the receiving team can approve it"]
