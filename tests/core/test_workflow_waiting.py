"""What people read about a handover that is not moving: whom it waits on, for how long (in working days, across
bank holidays), what stands in the way, and the exact sentence for each step refused in the wrong state."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from service.core.errors import Refused
from service.core.workdays import working_days_between
from service.core.workflow import (
    ACTION_NAMES,
    MANAGER_STEPS,
    Action,
    Actor,
    Facts,
    State,
    apply,
    blockers,
    facts_for,
    refusals,
    waited,
    waits_on,
)

NORTH, CP = 10, 20
OWNER = Actor(user_id=1, worker_teams=frozenset({NORTH}))
SENDING_MANAGER = Actor(user_id=2, manager_teams=frozenset({NORTH}))
RECEIVER = Actor(user_id=3, worker_teams=frozenset({CP}))
RECEIVING_MANAGER = Actor(user_id=4, manager_teams=frozenset({CP}))

OPEN_DISAGREEMENT = (
    "A professional disagreement is still open: a team manager must resolve it, with its outcome, before the "
    "transfer can be approved (escalating it does not resolve it)"
)


def facts(state: State, **changes: object) -> Facts:
    values: dict[str, object] = {
        "state": state,
        "author_id": 1,
        "sending_team_id": NORTH,
        "receiving_team_id": CP,
        "receiver_id": 3,
        "endorsed_by": 2 if state not in (State.DRAFT, State.SUBMITTED) else None,
        "acknowledged_by": 3 if state in (State.ACKNOWLEDGED, State.CLOSED) else None,
        "state_since": date(2026, 11, 20),  # a Friday
        "today": date(2026, 11, 27),  # the next Friday: five working days later
        "author_name": "Sam Okafor",
        "receiver_name": "Jo Bennett",
        "sending_team_name": "North Team",
        "receiving_team_name": "CP Team",
    }
    values.update(changes)
    return Facts(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def count_working_days_afresh() -> None:
    """The count is cached across calls: clear it, so each test checks the counting and not an earlier answer."""
    working_days_between.cache_clear()


# --- how long ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "today", "words"),
    [
        (date(2026, 11, 20), date(2026, 11, 20), "since 20 November 2026, less than a working day"),
        (date(2026, 11, 21), date(2026, 11, 22), "since 21 November 2026, less than a working day"),  # a weekend
        (date(2026, 11, 26), date(2026, 11, 27), "since 26 November 2026, 1 working day"),
        (date(2026, 11, 26), date(2026, 11, 30), "since 26 November 2026, 2 working days"),
        (date(2026, 11, 20), date(2026, 11, 27), "since 20 November 2026, 5 working days"),
        # Christmas Day on a Friday and Boxing Day's substitute on the Monday: one working day, not three
        (date(2026, 12, 24), date(2026, 12, 29), "since 24 December 2026, 1 working day"),
        (date(2026, 1, 5), date(2026, 1, 5), "since 5 January 2026, less than a working day"),
    ],
)
def test_how_long_it_has_waited_in_working_days(since: date, today: date, words: str) -> None:
    assert waited(facts(State.SUBMITTED, state_since=since, today=today)) == words


# --- on whom ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "who"),
    [
        (State.DRAFT, "Sam Okafor"),
        (State.RETURNED, "Sam Okafor"),
        (State.SUBMITTED, "the manager of North Team"),
        (State.ENDORSED, "Jo Bennett"),
        (State.ACKNOWLEDGED, "the manager of CP Team"),
        (State.CLOSED, "nobody"),
        (State.CANCELLED, "nobody"),
    ],
)
def test_whom_each_state_waits_on(state: State, who: str) -> None:
    assert waits_on(facts(state)) == who


def test_a_handover_addressed_to_a_team_waits_on_any_of_its_workers() -> None:
    assert waits_on(facts(State.ENDORSED, receiver_id=None, receiver_name="")) == "a worker in CP Team"


def test_without_names_the_facts_still_read_as_sentences() -> None:
    bare = Facts(state=State.SUBMITTED, author_id=1, sending_team_id=NORTH, receiving_team_id=CP)
    assert blockers(bare) == [
        "Awaiting endorsement by the manager of the sending team since 1 January 2000, less than a working day"
    ]
    assert waits_on(msgspec.structs.replace(bare, state=State.ENDORSED)) == "a worker in the receiving team"
    assert waits_on(msgspec.structs.replace(bare, state=State.ACKNOWLEDGED)) == "the manager of the receiving team"
    assert waits_on(msgspec.structs.replace(bare, state=State.DRAFT)) == "the outgoing worker"


# --- what stands in the way -------------------------------------------------------------------------------------------

EVERYTHING = {
    "incomplete_sections": ("Open risks", "Case summary"),
    "unconfirmed_items": ("Open risks",),
    "stale_records": ("The chronology was last updated on 1 October 2026",),
    "open_disagreements": 2,
    "overdue_disagreements": ("A professional disagreement is overdue at ‘Escalated to managers’",),
}
SINCE = "since 20 November 2026, 5 working days"
STALE = "The chronology was last updated on 1 October 2026"
DISAGREEMENTS = [
    "2 open professional disagreements, not yet resolved",
    "A professional disagreement is overdue at ‘Escalated to managers’",
]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            State.DRAFT,
            [
                "Sections not complete: Open risks, Case summary",
                f"Not yet submitted by Sam Okafor ({SINCE})",
                *DISAGREEMENTS,
            ],
        ),
        (State.RETURNED, [f"Returned with a query to Sam Okafor {SINCE}", STALE, *DISAGREEMENTS]),
        (State.SUBMITTED, [f"Awaiting endorsement by the manager of North Team {SINCE}", STALE, *DISAGREEMENTS]),
        (
            State.ENDORSED,
            [f"Awaiting acknowledgement by Jo Bennett {SINCE}", "Not yet confirmed: Open risks", STALE, *DISAGREEMENTS],
        ),
        (State.ACKNOWLEDGED, [f"Awaiting approval by the manager of CP Team {SINCE}", STALE, *DISAGREEMENTS]),
        (State.CLOSED, []),
        (State.CANCELLED, []),
    ],
)
def test_blockers_in_each_state_with_everything_outstanding(state: State, expected: list[str]) -> None:
    assert blockers(facts(state, **EVERYTHING)) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.DRAFT, [f"Not yet submitted by Sam Okafor ({SINCE})"]),
        (State.RETURNED, [f"Returned with a query to Sam Okafor {SINCE}"]),
        (State.ENDORSED, [f"Awaiting acknowledgement by Jo Bennett {SINCE}"]),
    ],
)
def test_blockers_with_nothing_outstanding_say_only_whom_it_waits_on(state: State, expected: list[str]) -> None:
    assert blockers(facts(state)) == expected


def test_one_open_disagreement_is_singular() -> None:
    assert blockers(facts(State.ACKNOWLEDGED, open_disagreements=1)) == [
        f"Awaiting approval by the manager of CP Team {SINCE}",
        "1 open professional disagreement, not yet resolved",
    ]


# --- refused in the wrong state ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "sentence"),
    [
        (Action.ENDORSE, State.DRAFT, "This cannot be done now: the handover is draft"),
        (Action.EDIT, State.SUBMITTED, "This cannot be done now: the handover is waiting for sending manager"),
        (Action.SUBMIT, State.ENDORSED, "This cannot be done now: the handover is waiting for receiving worker"),
        (Action.ENDORSE, State.RETURNED, "This cannot be done now: the handover is returned to outgoing worker"),
        (Action.CANCEL, State.ACKNOWLEDGED, "This cannot be done now: the handover is waiting for receiving manager"),
        (Action.RAISE_DISAGREEMENT, State.CLOSED, "This cannot be done now: the handover is closed"),
        (Action.EDIT, State.CANCELLED, "This cannot be done now: the handover is cancelled"),
        (Action.APPROVE, State.CLOSED, "This cannot be done now: the handover is closed"),
        (Action.APPROVE, State.CANCELLED, "This cannot be done now: the handover is cancelled"),
        (Action.ACKNOWLEDGE, State.CLOSED, "This cannot be done now: the handover is closed"),
        (Action.ACKNOWLEDGE, State.CANCELLED, "This cannot be done now: the handover is cancelled"),
    ],
)
def test_a_step_in_the_wrong_state_names_the_state(action: Action, state: State, sentence: str) -> None:
    assert refusals(action, facts(state, open_disagreements=1), RECEIVING_MANAGER, "Because") == [sentence]


def test_approval_before_acknowledgement_lists_what_stands_in_the_way() -> None:
    assert refusals(Action.APPROVE, facts(State.SUBMITTED, open_disagreements=1), RECEIVING_MANAGER) == [
        "It cannot be approved: it has not been acknowledged by the receiving worker",
        f"Awaiting endorsement by the manager of North Team {SINCE}",
        "1 open professional disagreement, not yet resolved",
    ]
    assert refusals(Action.APPROVE, facts(State.DRAFT), RECEIVING_MANAGER) == [
        "It cannot be approved: it has not been acknowledged by the receiving worker",
        f"Not yet submitted by Sam Okafor ({SINCE})",
    ]


def test_acknowledgement_before_endorsement_lists_what_stands_in_the_way() -> None:
    assert refusals(Action.ACKNOWLEDGE, facts(State.SUBMITTED), RECEIVER) == [
        "It cannot be acknowledged yet",
        f"Awaiting endorsement by the manager of North Team {SINCE}",
    ]
    assert refusals(Action.ACKNOWLEDGE, facts(State.ACKNOWLEDGED), RECEIVER) == [
        "It cannot be acknowledged yet",
        f"Awaiting approval by the manager of CP Team {SINCE}",
    ]


# --- what is missing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "sentence"),
    [
        (1, "There is 1 thing to complete or correct"),
        (2, "There are 2 things to complete or correct"),
        (11, "There are 11 things to complete or correct"),
    ],
)
def test_submission_says_how_many_things_are_missing(count: int, sentence: str) -> None:
    assert refusals(Action.SUBMIT, facts(State.DRAFT, submission_problems=count), OWNER) == [sentence]


def test_each_step_is_held_up_only_by_what_it_needs() -> None:
    everything = {"submission_problems": 3, "unconfirmed_items": ("Open risks",), "open_disagreements": 1}
    assert refusals(Action.EDIT, facts(State.DRAFT, **everything), OWNER) == []
    assert refusals(Action.ENDORSE, facts(State.SUBMITTED, **everything), SENDING_MANAGER) == []
    assert refusals(Action.CONFIRM, facts(State.ENDORSED, **everything), RECEIVER) == []
    assert refusals(Action.ACKNOWLEDGE, facts(State.ENDORSED, **everything), RECEIVER) == ["Confirm ‘Open risks’"]
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED, **everything), RECEIVING_MANAGER) == [OPEN_DISAGREEMENT]
    assert refusals(Action.SUBMIT, facts(State.RETURNED, **everything), OWNER) == [
        "There are 3 things to complete or correct"
    ]


def test_nothing_missing_means_each_step_may_be_taken() -> None:
    assert refusals(Action.SUBMIT, facts(State.DRAFT, submission_problems=0), OWNER) == []
    assert refusals(Action.ACKNOWLEDGE, facts(State.ENDORSED, unconfirmed_items=()), RECEIVER) == []
    assert refusals(Action.APPROVE, facts(State.ACKNOWLEDGED, open_disagreements=0), RECEIVING_MANAGER) == []


def test_a_refused_step_raises_every_reason_joined_in_its_message() -> None:
    pending = facts(State.ENDORSED, unconfirmed_items=("Open risks", "Health"))
    with pytest.raises(Refused) as refused:
        apply(Action.ACKNOWLEDGE, pending, RECEIVER)
    assert refused.value.reasons == ["Confirm ‘Open risks’", "Confirm ‘Health’"]
    assert str(refused.value) == "Confirm ‘Open risks’; Confirm ‘Health’"


# --- the names the pages and the API use ------------------------------------------------------------------------------


def test_the_pages_and_the_api_name_each_step() -> None:
    assert ACTION_NAMES == {
        "submit": Action.SUBMIT,
        "endorse": Action.ENDORSE,
        "return": Action.RETURN_TO_OUTGOING,
        "return-to-receiver": Action.RETURN_TO_RECEIVER,
        "acknowledge": Action.ACKNOWLEDGE,
        "approve": Action.APPROVE,
        "cancel": Action.CANCEL,
    }
    assert MANAGER_STEPS == {
        "endorse": (Action.ENDORSE, State.SUBMITTED),
        "approve": (Action.APPROVE, State.ACKNOWLEDGED),
    }


# --- the facts, built from a stored handover --------------------------------------------------------------------------


class Row(msgspec.Struct, kw_only=True):
    """A report row's shape: no named managers."""

    state: str = "endorsed"
    author_id: int = 1
    author: str = "Sam Okafor"
    sending_team_id: int = NORTH
    sending_team: str = "North Team"
    receiving_team_id: int = CP
    receiving_team: str = "CP Team"
    receiver_id: int | None = 3
    receiver: str | None = "Jo Bennett"
    endorsed_by: int | None = 2
    acknowledged_by: int | None = None
    open_disagreements: int = 1
    state_since: str = "2026-06-30T23:30:00+00:00"  # half past midnight on 1 July in England (summer time)


class Record(Row, kw_only=True):
    """The full record's shape: with the managers an administrator named."""

    named_endorser: int | None = 60
    named_approver: int | None = 61


def test_facts_from_a_report_row_carry_every_party_and_the_date_in_england() -> None:
    built = facts_for(
        Row(),
        date(2026, 7, 3),
        submission_problems=2,
        unconfirmed_items=("Open risks",),
        incomplete_sections=("Health",),
        overdue_disagreements=("Overdue",),
        stale_records=("Stale",),
    )
    assert built == Facts(
        state=State.ENDORSED,
        author_id=1,
        sending_team_id=NORTH,
        receiving_team_id=CP,
        receiver_id=3,
        endorsed_by=2,
        acknowledged_by=None,
        named_endorser=None,
        named_approver=None,
        open_disagreements=1,
        overdue_disagreements=("Overdue",),
        stale_records=("Stale",),
        submission_problems=2,
        unconfirmed_items=("Open risks",),
        incomplete_sections=("Health",),
        state_since=date(2026, 7, 1),
        today=date(2026, 7, 3),
        author_name="Sam Okafor",
        receiver_name="Jo Bennett",
        sending_team_name="North Team",
        receiving_team_name="CP Team",
    )


def test_facts_from_a_full_record_carry_the_named_managers_and_a_team_addressed_receiver() -> None:
    record = Record(state="acknowledged", receiver_id=None, receiver=None, acknowledged_by=5, open_disagreements=0)
    built = facts_for(record, date(2026, 7, 3))
    assert built == Facts(
        state=State.ACKNOWLEDGED,
        author_id=1,
        sending_team_id=NORTH,
        receiving_team_id=CP,
        receiver_id=None,
        endorsed_by=2,
        acknowledged_by=5,
        named_endorser=60,
        named_approver=61,
        open_disagreements=0,
        state_since=date(2026, 7, 1),
        today=date(2026, 7, 3),
        author_name="Sam Okafor",
        receiver_name="",
        sending_team_name="North Team",
        receiving_team_name="CP Team",
    )
