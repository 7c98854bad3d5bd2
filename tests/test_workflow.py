"""The state machine on its own: every action, from every state, by every kind of person."""

from __future__ import annotations

from datetime import date

import pytest

from service.core.workflow import (
    ANSWER_BLIND,
    Action,
    Actor,
    Facts,
    Refused,
    State,
    apply,
    blockers,
    may_view,
    next_state,
    refusals,
)

NORTH, CP, SOUTH = 10, 20, 30
PEOPLE = {
    "owner": Actor(user_id=1, worker_teams=frozenset({NORTH})),
    "sending_manager": Actor(user_id=2, manager_teams=frozenset({NORTH})),
    "receiver": Actor(user_id=3, worker_teams=frozenset({CP})),
    "receiving_manager": Actor(user_id=4, manager_teams=frozenset({CP})),
    "same_team_worker": Actor(user_id=5, worker_teams=frozenset({NORTH})),
    "other_team_worker": Actor(user_id=6, worker_teams=frozenset({SOUTH})),
    "other_team_manager": Actor(user_id=7, manager_teams=frozenset({SOUTH})),
    "auditor": Actor(user_id=8, is_auditor=True),
    "admin": Actor(user_id=9, is_admin=True),
}
PARTIES = {"owner", "sending_manager", "receiver", "receiving_manager"}
DISCUSSABLE = {State.SUBMITTED, State.ENDORSED, State.RETURNED, State.ACKNOWLEDGED}

# (action) -> {state it may start from: who may take it}
EXPECTED: dict[Action, dict[State, set[str]]] = {
    Action.EDIT: {State.DRAFT: {"owner"}, State.RETURNED: {"owner"}},
    Action.SUBMIT: {State.DRAFT: {"owner"}, State.RETURNED: {"owner"}},
    Action.ENDORSE: {State.SUBMITTED: {"sending_manager"}},
    Action.RETURN_TO_OUTGOING: {
        State.SUBMITTED: {"sending_manager"},
        State.ENDORSED: {"receiver"},
        State.ACKNOWLEDGED: {"receiving_manager"},
    },
    Action.RETURN_TO_RECEIVER: {State.ACKNOWLEDGED: {"receiving_manager"}},
    Action.CONFIRM: {State.ENDORSED: {"receiver"}},
    Action.ACKNOWLEDGE: {State.ENDORSED: {"receiver"}},
    Action.APPROVE: {State.ACKNOWLEDGED: {"receiving_manager"}},
    Action.CANCEL: {s: {"owner", "sending_manager"} for s in (State.DRAFT, State.RETURNED, State.SUBMITTED)},
    Action.RAISE_DISAGREEMENT: {s: PARTIES for s in DISCUSSABLE},
    Action.RESOLVE_DISAGREEMENT: {s: {"sending_manager", "receiving_manager"} for s in DISCUSSABLE},
}
TARGET = {
    Action.SUBMIT: State.SUBMITTED,
    Action.ENDORSE: State.ENDORSED,
    Action.RETURN_TO_OUTGOING: State.RETURNED,
    Action.RETURN_TO_RECEIVER: State.ENDORSED,
    Action.ACKNOWLEDGE: State.ACKNOWLEDGED,
    Action.APPROVE: State.CLOSED,
    Action.CANCEL: State.CANCELLED,
}


def facts(state: State, **changes: object) -> Facts:
    values: dict[str, object] = {
        "state": state,
        "author_id": 1,
        "sending_team_id": NORTH,
        "receiving_team_id": CP,
        "receiver_id": 3,
        "endorsed_by": 2,
        "acknowledged_by": 3 if state in (State.ACKNOWLEDGED, State.CLOSED) else None,
        "state_since": date(2026, 11, 20),
        "today": date(2026, 11, 27),
    }
    values.update(changes)
    return Facts(**values)  # type: ignore[arg-type]


CASES = [(action, state, who) for action in Action for state in State for who in PEOPLE]


@pytest.mark.parametrize(("action", "state", "who"), CASES, ids=[f"{a}-{s}-{w}" for a, s, w in CASES])
def test_every_action_from_every_state_by_every_person(action: Action, state: State, who: str) -> None:
    may = who in EXPECTED[action].get(state, set())
    reasons = refusals(action, facts(state), PEOPLE[who], reason="Because")
    assert (reasons == []) == may, reasons
    if may:
        assert apply(action, facts(state), PEOPLE[who], "Because") == TARGET.get(action, state)
    else:
        with pytest.raises(Refused):
            apply(action, facts(state), PEOPLE[who], "Because")


def test_closed_and_cancelled_are_final() -> None:
    for final in (State.CLOSED, State.CANCELLED):
        for action in Action:
            assert all(refusals(action, facts(final), person, "x") for person in PEOPLE.values())


def test_submission_is_refused_while_anything_is_missing() -> None:
    assert refusals(Action.SUBMIT, facts(State.DRAFT, submission_problems=3), PEOPLE["owner"]) == [
        "There are 3 things to complete or correct"
    ]


def test_acknowledgement_is_refused_listing_each_unconfirmed_item() -> None:
    pending = facts(State.ENDORSED, unconfirmed_items=("Open risks", "Sibling abuse history"))
    assert refusals(Action.ACKNOWLEDGE, pending, PEOPLE["receiver"]) == [
        "Confirm ‘Open risks’",
        "Confirm ‘Sibling abuse history’",
    ]


def test_approval_before_acknowledgement_says_whom_it_waits_on_and_for_how_long() -> None:
    waiting = facts(State.ENDORSED, receiver_name="Jo Bennett")
    reasons = refusals(Action.APPROVE, waiting, PEOPLE["receiving_manager"])
    assert reasons[0] == "It cannot be approved: it has not been acknowledged by the receiving worker"
    assert "Awaiting acknowledgement by Jo Bennett since 20 November 2026, 5 working days" in reasons


def test_approval_with_an_open_disagreement_is_refused() -> None:
    disputed = facts(State.ACKNOWLEDGED, open_disagreements=1)
    assert refusals(Action.APPROVE, disputed, PEOPLE["receiving_manager"]) == [
        "A professional disagreement is still open: a team manager must resolve it, with its outcome, before the "
        "transfer can be approved (escalating it does not resolve it)"
    ]


def test_nobody_approves_what_they_wrote_acknowledged_or_endorsed() -> None:
    manages_both = Actor(user_id=2, manager_teams=frozenset({NORTH, CP}))
    assert "another manager must approve it" in refusals(Action.APPROVE, facts(State.ACKNOWLEDGED), manages_both)[0]
    author_manager = Actor(user_id=1, manager_teams=frozenset({CP}))
    assert "You cannot approve a handover you wrote" in refusals(
        Action.APPROVE, facts(State.ACKNOWLEDGED, endorsed_by=9), author_manager
    )
    acknowledger = Actor(user_id=3, manager_teams=frozenset({CP}))
    assert "You cannot approve a handover you acknowledged" in refusals(
        Action.APPROVE, facts(State.ACKNOWLEDGED), acknowledger
    )
    self_endorser = Actor(user_id=1, manager_teams=frozenset({NORTH}))
    assert refusals(Action.ENDORSE, facts(State.SUBMITTED), self_endorser) == [
        "You cannot endorse a handover you wrote"
    ]


def test_returns_and_cancellation_need_a_reason() -> None:
    assert refusals(Action.RETURN_TO_OUTGOING, facts(State.ENDORSED), PEOPLE["receiver"], "  ") == ["Enter a reason"]
    assert refusals(Action.CANCEL, facts(State.DRAFT), PEOPLE["owner"]) == ["Enter a reason"]


def test_a_handover_addressed_to_a_team_can_be_taken_by_any_worker_in_it() -> None:
    team_addressed = facts(State.ENDORSED, receiver_id=None)
    colleague = Actor(user_id=11, worker_teams=frozenset({CP}))
    assert refusals(Action.ACKNOWLEDGE, team_addressed, colleague) == []
    assert refusals(Action.ACKNOWLEDGE, team_addressed, PEOPLE["other_team_worker"])


def test_who_may_read_a_handover() -> None:
    draft, endorsed = facts(State.DRAFT), facts(State.ENDORSED)
    assert may_view(draft, PEOPLE["owner"]) and may_view(draft, PEOPLE["sending_manager"])
    assert not may_view(draft, PEOPLE["receiver"]), "the receiver sees it only once endorsed"
    assert may_view(endorsed, PEOPLE["receiver"]) and may_view(endorsed, PEOPLE["receiving_manager"])
    assert may_view(draft, PEOPLE["auditor"])
    for outsider in ("same_team_worker", "other_team_worker", "other_team_manager", "admin"):
        assert not may_view(endorsed, PEOPLE[outsider]), outsider


def test_blockers_name_what_stands_in_the_way() -> None:
    assert blockers(facts(State.DRAFT, incomplete_sections=("Open risks",)))[0] == "Sections not complete: Open risks"
    assert blockers(facts(State.ACKNOWLEDGED, open_disagreements=1))[-1] == (
        "1 open professional disagreement, not yet resolved"
    )
    assert blockers(facts(State.CLOSED)) == []


def test_next_state_of_a_non_moving_action_is_the_same_state() -> None:
    assert next_state(Action.CONFIRM, facts(State.ENDORSED)) == State.ENDORSED


@pytest.mark.parametrize("state", list(State))
def test_who_may_edit_or_read_never_depends_on_the_answers(state: State) -> None:
    """A section save checks the handover's parties and state only (answers are not loaded for it)."""
    with_problems = facts(
        state, submission_problems=4, unconfirmed_items=("Open risks",), incomplete_sections=("Open risks",)
    )
    for actor in PEOPLE.values():
        assert refusals(Action.EDIT, facts(state), actor) == refusals(Action.EDIT, with_problems, actor)
        assert may_view(facts(state), actor) == may_view(with_problems, actor)
    assert Action.EDIT in ANSWER_BLIND


# Manages the sending team and works in the receiving one: by roles alone, able to act on both sides.
BOTH_SIDES = Actor(user_id=11, manager_teams=frozenset({NORTH}), worker_teams=frozenset({CP}))


@pytest.mark.parametrize("action", [Action.CONFIRM, Action.ACKNOWLEDGE])
def test_whoever_endorsed_a_handover_cannot_take_it_on(action: Action) -> None:
    """Addressed to the receiving team, the endorser is one of its workers; the four sign-offs stay four people."""
    endorsed = facts(State.ENDORSED, receiver_id=None, endorsed_by=BOTH_SIDES.user_id)
    assert refusals(action, endorsed, BOTH_SIDES) == [
        "You endorsed this handover for the sending team; another receiving worker must take it on"
    ]
    assert not refusals(action, endorsed, PEOPLE["receiver"]), "another worker of the team may"


def test_the_named_receiver_cannot_endorse_it() -> None:
    submitted = facts(State.SUBMITTED, receiver_id=BOTH_SIDES.user_id, endorsed_by=None)
    assert refusals(Action.ENDORSE, submitted, BOTH_SIDES) == [
        "You are named as the receiving worker; another manager of the sending team must endorse it"
    ]
    assert not refusals(Action.ENDORSE, submitted, PEOPLE["sending_manager"])
