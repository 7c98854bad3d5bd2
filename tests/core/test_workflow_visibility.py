"""Who may read a handover, in every state, including the cases the demo never reaches: a returned handover that had
a named receiver (they keep seeing it) or was addressed to a team (its workers no longer do), named managers, and
people who hold roles in both teams."""

from __future__ import annotations

from datetime import date

import pytest

from service.core.workflow import Actor, Facts, State, may_view

NORTH, CP, SOUTH = 10, 20, 30

PEOPLE = {
    "owner": Actor(user_id=1, worker_teams=frozenset({NORTH})),
    "sending_manager": Actor(user_id=2, manager_teams=frozenset({NORTH})),
    "named_receiver": Actor(user_id=3, worker_teams=frozenset({CP})),
    "receiving_manager": Actor(user_id=4, manager_teams=frozenset({CP})),
    "receiving_colleague": Actor(user_id=5, worker_teams=frozenset({CP})),
    "sending_colleague": Actor(user_id=6, worker_teams=frozenset({NORTH})),
    "outsider_manager": Actor(user_id=7, manager_teams=frozenset({SOUTH})),
    "auditor": Actor(user_id=8, is_auditor=True),
    "admin": Actor(user_id=9, is_admin=True),
    "named_endorser": Actor(user_id=60, manager_teams=frozenset({SOUTH})),
    "named_approver": Actor(user_id=61, manager_teams=frozenset({SOUTH})),
}

ALWAYS = {"owner", "sending_manager", "auditor", "named_endorser"}
RECEIVING_SIDE_NAMED = ALWAYS | {"named_receiver", "receiving_manager", "named_approver"}
RECEIVING_SIDE_TEAM = ALWAYS | {"named_receiver", "receiving_colleague", "receiving_manager", "named_approver"}

# state -> (who may read it when a receiver is named, who may when it is addressed to the receiving team)
EXPECTED: dict[State, tuple[set[str], set[str]]] = {
    State.DRAFT: (ALWAYS, ALWAYS),
    State.SUBMITTED: (ALWAYS, ALWAYS),
    State.ENDORSED: (RECEIVING_SIDE_NAMED, RECEIVING_SIDE_TEAM),
    State.ACKNOWLEDGED: (RECEIVING_SIDE_NAMED, RECEIVING_SIDE_TEAM),
    State.CLOSED: (RECEIVING_SIDE_NAMED, RECEIVING_SIDE_TEAM),
    # returned: the named receiver already saw it and is waiting for it to come back; a team's workers are not
    State.RETURNED: (RECEIVING_SIDE_NAMED, ALWAYS),
    State.CANCELLED: (ALWAYS, ALWAYS),
}


def facts(state: State, receiver_id: int | None) -> Facts:
    return Facts(
        state=state,
        author_id=1,
        sending_team_id=NORTH,
        receiving_team_id=CP,
        receiver_id=receiver_id,
        named_endorser=60,
        named_approver=61,
        state_since=date(2026, 11, 20),
        today=date(2026, 11, 27),
    )


@pytest.mark.parametrize("state", list(State))
def test_who_may_read_a_handover_with_a_named_receiver(state: State) -> None:
    readers = {who for who, actor in PEOPLE.items() if may_view(facts(state, receiver_id=3), actor)}
    assert readers == EXPECTED[state][0]


@pytest.mark.parametrize("state", list(State))
def test_who_may_read_a_handover_addressed_to_the_receiving_team(state: State) -> None:
    readers = {who for who, actor in PEOPLE.items() if may_view(facts(state, receiver_id=None), actor)}
    assert readers == EXPECTED[state][1]


def test_a_returned_handover_stays_hidden_from_the_receiving_team_when_nobody_was_named() -> None:
    returned = facts(State.RETURNED, receiver_id=None)
    assert not may_view(returned, PEOPLE["receiving_colleague"])
    assert not may_view(returned, PEOPLE["receiving_manager"])
    assert not may_view(returned, PEOPLE["named_receiver"])


def test_a_returned_handover_with_a_named_receiver_is_not_shown_to_the_rest_of_their_team() -> None:
    returned = facts(State.RETURNED, receiver_id=3)
    assert may_view(returned, PEOPLE["named_receiver"])
    assert may_view(returned, PEOPLE["receiving_manager"])
    assert not may_view(returned, PEOPLE["receiving_colleague"])


def test_a_draft_naming_a_receiver_is_not_shown_to_them_yet() -> None:
    assert not may_view(facts(State.DRAFT, receiver_id=3), PEOPLE["named_receiver"])
    assert not may_view(facts(State.SUBMITTED, receiver_id=3), PEOPLE["named_receiver"])


def test_an_auditor_reads_every_state_without_any_team() -> None:
    for state in State:
        assert may_view(facts(state, receiver_id=3), PEOPLE["auditor"]), state
