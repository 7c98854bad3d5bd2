"""What a person is told once they have taken a step of a handover: what happened, and whom it waits on next.

The confirmation page after each step (GOV.UK's confirmation-page pattern) says it from the handover as it now is,
so a sentence here never claims more than the state machine's facts say.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.core.workflow import (
    STEP_ROLES,
    TRANSITIONS,
    Action,
    Actor,
    Facts,
    State,
    urgent_next_steps,
    what_is_missing,
)

# The panel's title after each step a person takes with a button: the one place these words are written.
PANEL_TITLES: dict[Action, str] = {
    Action.SUBMIT: "Handover submitted",
    Action.ENDORSE: "Handover endorsed",
    Action.ACKNOWLEDGE: "Handover acknowledged",
    Action.APPROVE: "Transfer approved",
    Action.RETURN_TO_OUTGOING: "Handover returned to the outgoing worker",
    Action.RETURN_TO_RECEIVER: "Handover returned to the receiving worker",
    Action.CANCEL: "Handover cancelled",
}


def joined(names: Sequence[str]) -> str:
    """Names as a sentence lists them: "A", "A or B", "A, B or C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _managers(names: Sequence[str], team: str) -> str:
    if not names:
        return f"a manager of {team}"
    return f"{joined(names)} ({'manager' if len(names) == 1 else 'managers'} of {team})"


def _nobody_can(names: Sequence[str], team: str, step: str, *, team_has_managers: bool) -> list[str]:
    """Said when no manager of the team may take the step: it has none, or the separation of duties keeps each."""
    if names:
        return []
    if not team_has_managers:
        return [f"{team} has no team manager. An administrator must name a manager for this step."]
    return [
        f"No manager of {team} can {step} it: each of them wrote it, is to receive it, or took the other manager "
        "step. An administrator must name another manager for this step."
    ]


def _sentence(reason: str) -> str:
    return reason if reason.endswith(".") else f"{reason}."


def what_happens_next(
    facts: Facts, managers: Sequence[str], *, after: Action | None = None, team_has_managers: bool = True
) -> list[str]:
    """Whom the handover waits on now, by name, and what they will be asked to do, as sentences.

    `managers` are the names of those who may take the manager step the handover now waits for (endorsing or
    approving); empty when it waits for no manager step, or when no manager may take it (`team_has_managers` False
    when that team has no manager at all). `after` is the step just taken, where what comes next depends on it.
    """
    if facts.urgent_by is not None:  # the case has moved already: what is left is completing the handover
        return urgent_next_steps(facts)
    receiver = facts.receiver_name or f"a worker of {facts.receiving_team_name}"
    if facts.state == State.SUBMITTED:
        return [
            f"It now waits for {_managers(managers, facts.sending_team_name)} to endorse it.",
            *_nobody_can(managers, facts.sending_team_name, "endorse", team_has_managers=team_has_managers),
            "They will check that it is complete and accurate, then endorse it for transfer or return it to "
            f"{facts.author_name} with a query.",
        ]
    if facts.state == State.ENDORSED and after == Action.RETURN_TO_RECEIVER:
        return _back_with_receiver(facts, receiver)
    if facts.state == State.ENDORSED:
        return [
            f"It now waits for {receiver} to take the case on.",
            "They will be asked to read the handover, confirm each critical item in their own words, and acknowledge "
            f"it. A manager of {facts.receiving_team_name} then approves the transfer.",
        ]
    if facts.state == State.ACKNOWLEDGED:
        return [
            f"It now waits for {_managers(managers, facts.receiving_team_name)} to approve the transfer.",
            *_nobody_can(managers, facts.receiving_team_name, "approve", team_has_managers=team_has_managers),
            # what the state machine says stops approval now (an open professional disagreement)
            *(_sentence(reason) for reason in what_is_missing(Action.APPROVE, facts)),
            f"They will check the handover, then approve it, which allocates the case to {receiver}, or return it "
            f"to {receiver} with a query.",
        ]
    if facts.state == State.RETURNED:
        return [
            f"It now waits for {facts.author_name} to answer the query and submit the handover again.",
            f"Until the transfer is approved, the case stays with {facts.author_name}.",
        ]
    if facts.state == State.CLOSED:
        return [
            f"The case is now allocated to {receiver} in {facts.receiving_team_name}.",
            "Nobody needs to do anything more with this handover.",
        ]
    if facts.state == State.CANCELLED:
        return [
            f"The case stays with {facts.author_name} in {facts.sending_team_name}.",
            "Nobody needs to do anything more with this handover.",
        ]
    return [f"It now waits for {facts.author_name} to complete and submit it."]


def _back_with_receiver(facts: Facts, receiver: str) -> list[str]:
    """After a manager returns the handover to the receiving worker: their confirmations stand (a return to the
    receiver keeps them), so what they must do is what the state machine still asks before acknowledging."""
    missing = what_is_missing(Action.ACKNOWLEDGE, facts)
    confirm = (
        f"They still need to confirm {len(missing)} critical item{'s'[: len(missing) != 1]} in their own words first."
        if missing
        else "Their confirmations of the critical items are kept: they can change any of them, then acknowledge it."
    )
    return [
        f"It now waits for {receiver} to consider the query and acknowledge the handover again.",
        confirm,
        f"A manager of {facts.receiving_team_name} then approves the transfer. Until then, the case stays with "
        f"{facts.author_name}.",
    ]


def latest_step_is(action: Action, step: str | None, step_actor_id: int | None, actor: Actor) -> bool:
    """Whether the handover's latest recorded step (its audit entry's action and who took it) is this action taken by
    this person: a confirmation is shown only for what happened."""
    return step == action.value and step_actor_id is not None and step_actor_id == actor.user_id


def waits_for_step(action: Action, facts: Facts) -> bool:
    """Whether the handover is in a state this step may be taken from."""
    return facts.state in TRANSITIONS[action][0]


def explains_absence(action: Action, facts: Facts, actor: Actor) -> bool:
    """Whether a page should say why this step's button is not there for this person: the handover waits for the
    step and the person holds the role that takes it (a worker is not told why they cannot approve)."""
    role = STEP_ROLES.get(action)
    return role is not None and waits_for_step(action, facts) and role(facts, actor) and not actor.is_service
