"""What a confirmation page says happens next, and when a page says why a step's button is not there: pure rules."""

from __future__ import annotations

import itertools
from datetime import date

import msgspec
import pytest

from service.core.next_steps import (
    PANEL_TITLES,
    STEP_ROLES,
    explains_absence,
    joined,
    latest_step_is,
    waits_for_step,
    what_happens_next,
)
from service.core.workflow import ACTION_NAMES, TRANSITIONS, Action, Actor, Facts, State, person_refusals

NORTH, CP = 1, 2
AUTHOR, RECEIVER, SMGR, RMGR, OTHER = 10, 20, 30, 40, 50
FACTS = Facts(
    state=State.SUBMITTED, author_id=AUTHOR, sending_team_id=NORTH, receiving_team_id=CP, receiver_id=RECEIVER,
    state_since=date(2026, 1, 5), today=date(2026, 1, 6), author_name="Olive Out", receiver_name="Rae Rec",
    sending_team_name="North Team", receiving_team_name="CP Team",
)  # fmt: skip


def at(state: State, **changes: object) -> Facts:
    return msgspec.structs.replace(FACTS, state=state, **changes)


def test_names_are_listed_as_a_sentence_lists_them() -> None:
    assert [joined(names) for names in ([], ["A"], ["A", "B"], ["A", "B", "C"])] == ["", "A", "A or B", "A, B or C"]


def test_every_button_step_has_a_panel_title_and_nothing_else_does() -> None:
    assert set(PANEL_TITLES) == set(ACTION_NAMES.values())


@pytest.mark.parametrize(
    ("state", "managers", "first"),
    [
        (State.SUBMITTED, ["Sam", "Sue"], "It now waits for Sam or Sue (managers of North Team) to endorse it."),
        (State.SUBMITTED, ["Sam"], "It now waits for Sam (manager of North Team) to endorse it."),
        (State.ENDORSED, [], "It now waits for Rae Rec to take the case on."),
        (State.ACKNOWLEDGED, ["Ron"], "It now waits for Ron (manager of CP Team) to approve the transfer."),
        (State.RETURNED, [], "It now waits for Olive Out to answer the query and submit the handover again."),
        (State.CLOSED, [], "The case is now allocated to Rae Rec in CP Team."),
        (State.CANCELLED, [], "The case stays with Olive Out in North Team."),
    ],
)
def test_what_happens_next_names_whom_it_waits_on(state: State, managers: list[str], first: str) -> None:
    said = what_happens_next(at(state), managers)
    assert said[0] == first
    assert all(sentence.endswith(".") for sentence in said)


def test_a_handover_for_a_team_waits_on_a_worker_of_that_team() -> None:
    said = what_happens_next(at(State.ENDORSED, receiver_id=None, receiver_name=""), [])
    assert said[0] == "It now waits for a worker of CP Team to take the case on."


@pytest.mark.parametrize(("state", "step"), [(State.SUBMITTED, "endorse"), (State.ACKNOWLEDGED, "approve")])
def test_when_no_manager_may_take_the_step_an_administrator_must_name_one(state: State, step: str) -> None:
    said = what_happens_next(at(state), [])
    assert said[0].startswith("It now waits for a manager of ")
    assert any(s.startswith("No manager of ") and f"can {step} it" in s and "administrator" in s for s in said)
    assert not any("administrator" in s for s in what_happens_next(at(state), ["Sam"]))


def test_a_confirmation_is_only_for_the_step_that_happened_and_the_person_who_took_it() -> None:
    me = Actor(user_id=SMGR)
    assert latest_step_is(Action.ENDORSE, "endorse", SMGR, me)
    assert not latest_step_is(Action.ENDORSE, "endorse", RMGR, me), "someone else's step"
    assert not latest_step_is(Action.ENDORSE, "submit", SMGR, me), "another step"
    assert not latest_step_is(Action.ENDORSE, None, None, me), "no step yet"
    assert not latest_step_is(Action.ENDORSE, "endorse", None, me), "a step by the system"


def people() -> list[Actor]:
    """Everyone a handover can meet, by role: each mix of worker and manager in both teams, as each party."""
    found = []
    roles = [frozenset(), frozenset({NORTH}), frozenset({CP}), frozenset({NORTH, CP})]
    for user_id, workers, managers in itertools.product((AUTHOR, RECEIVER, SMGR, RMGR, OTHER), roles, roles):
        found.append(Actor(user_id=user_id, worker_teams=workers, manager_teams=managers))
    return found


def handovers() -> list[Facts]:
    found = []
    for state in State:
        for receiver in (RECEIVER, None):
            for endorser, acknowledger in ((None, None), (SMGR, None), (SMGR, RECEIVER), (RMGR, RMGR)):
                found.append(at(state, receiver_id=receiver, endorsed_by=endorser, acknowledged_by=acknowledger))
    return found


@pytest.mark.parametrize("action", list(STEP_ROLES))
def test_the_step_roles_are_the_state_machines_whoever_may_take_a_step_holds_its_role(action: Action) -> None:
    """Generated from the state machine: anybody it lets take the step (in a state the step is taken from) holds
    the step's role, so a person who may act is never told why they may not, and nobody without the role is."""
    checked = 0
    for facts, actor in itertools.product(handovers(), people()):
        if not waits_for_step(action, facts):
            assert not explains_absence(action, facts, actor)
            continue
        if not person_refusals(action, facts, actor):
            assert STEP_ROLES[action](facts, actor), (facts, actor)
            checked += 1
    assert checked, "some case lets a person take the step"


def test_a_service_account_is_never_told_why_it_cannot_press_a_button() -> None:
    service = Actor(user_id=OTHER, manager_teams=frozenset({NORTH, CP}), is_service=True)
    assert not any(explains_absence(action, at(state), service) for action in STEP_ROLES for state in State)


def test_a_worker_is_not_told_why_they_cannot_approve_and_the_receiving_manager_is() -> None:
    acknowledged = at(State.ACKNOWLEDGED)
    assert not explains_absence(Action.APPROVE, acknowledged, Actor(user_id=OTHER, worker_teams=frozenset({CP})))
    assert explains_absence(Action.APPROVE, acknowledged, Actor(user_id=RMGR, manager_teams=frozenset({CP})))
    assert not explains_absence(Action.APPROVE, at(State.ENDORSED), Actor(user_id=RMGR, manager_teams=frozenset({CP})))


def test_each_step_with_a_role_is_taken_from_some_state() -> None:
    assert all(TRANSITIONS[action][0] for action in STEP_ROLES)


# --- after review: what happens next says what the state machine requires -------------------------------------------


def test_after_a_return_to_the_receiver_they_consider_the_query_and_keep_their_confirmations() -> None:
    said = " ".join(what_happens_next(at(State.ENDORSED), [], after=Action.RETURN_TO_RECEIVER))
    assert "It now waits for Rae Rec to consider the query and acknowledge the handover again." in said
    assert "confirmations of the critical items are kept" in said
    assert "confirm each critical item" not in said  # their confirmations stand: nothing asks for them again
    still = " ".join(
        what_happens_next(at(State.ENDORSED, unconfirmed_items=("Risks",)), [], after=Action.RETURN_TO_RECEIVER)
    )
    assert "still need to confirm 1 critical item" in still


def test_an_endorsement_still_asks_the_receiver_to_confirm_each_item() -> None:
    said = " ".join(what_happens_next(at(State.ENDORSED), [], after=Action.ENDORSE))
    assert "confirm each critical item in their own words" in said


def test_awaiting_approval_with_an_open_disagreement_says_it_must_be_resolved_first() -> None:
    from service.core.workflow import OPEN_DISAGREEMENT_REFUSAL

    said = what_happens_next(at(State.ACKNOWLEDGED, open_disagreements=1), ["Ron"])
    assert f"{OPEN_DISAGREEMENT_REFUSAL}." in said
    assert said.index(f"{OPEN_DISAGREEMENT_REFUSAL}.") < next(i for i, s in enumerate(said) if "then approve" in s)
    assert not any("disagreement" in s for s in what_happens_next(at(State.ACKNOWLEDGED), ["Ron"]))


@pytest.mark.parametrize(("state", "team"), [(State.SUBMITTED, "North Team"), (State.ACKNOWLEDGED, "CP Team")])
def test_a_team_with_no_manager_is_named_as_such(state: State, team: str) -> None:
    said = " ".join(what_happens_next(at(state), [], team_has_managers=False))
    assert f"{team} has no team manager." in said and "administrator" in said
    assert "each of them wrote it" not in said
    kept_out = " ".join(what_happens_next(at(state), []))
    assert "each of them wrote it" in kept_out and "has no team manager" not in kept_out


def test_the_step_roles_are_the_workflows_own() -> None:
    from service.core import next_steps, workflow

    assert next_steps.STEP_ROLES is workflow.STEP_ROLES
    assert not hasattr(next_steps, "_returner")
