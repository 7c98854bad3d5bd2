"""Sibling-group handovers: the rules and messages for starting one, and for acting on every child's handover in it
at once.

A group handover is one ordinary handover per child included, moved through the workflow together: an action on the
group is allowed only when the state machine allows it on every child's handover, and its refusals say which child
each is about.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from service.core import validation
from service.core.answers import Problem
from service.core.workflow import Action, Actor, Facts, refusals, things_to_do_refusal, what_is_missing

EXCLUSION_REASON_MAX = 1000

CHOOSE_A_CHILD = "Select at least one child to hand over"
NOT_IN_GROUP = "The case is not in a sibling group on the case record"
# A child of a sibling group handed over on their own: the siblings stay behind, so the reason is asked for, kept, and
# shown to both managers and in the report (as a group handover's children left out are).
APART_REASON_MAX = EXCLUSION_REASON_MAX
APART_FIELD = "apart_reason"
APART_LABEL = "Why are the siblings not moving together?"
APART_HINT = (
    "This child is in a sibling group. Say why the other children are not part of this handover. "
    "Both managers and the auditors' report will see this."
)
# A receiving team must have someone who can take the case on (an enabled worker in it). The group's start form
# asks "Which team are the cases moving to?", and its messages say "cases" likewise.
NO_WORKER_IN_TEAM = "Select a team that has a worker who can take on the case"
NO_WORKER_IN_TEAM_FOR_GROUP = "Select a team that has a worker who can take on the cases"
CHOOSE_RECEIVING_TEAM_FOR_GROUP = "Select the team the cases are moving to"


def apart_errors(reason: str) -> dict[str, str]:
    """A single child's handover for a child in a sibling group needs the reason the siblings are not moving
    together."""
    return validation.text_errors(
        APART_FIELD,
        reason,
        missing="Enter why the siblings are not moving together",
        limit=APART_REASON_MAX,
        what="The reason the siblings are not moving together",
    )


def exclusion_errors(child_name: str, case_id: int, reason: str) -> dict[str, str]:
    """A child of the group left out of its handover needs the reason why, shown to both managers and in the report."""
    return validation.text_errors(
        f"reason-{case_id}",
        reason,
        missing=f"Enter why {child_name} is not part of this handover",
        limit=EXCLUSION_REASON_MAX,
        what=f"The reason {child_name} is not part of this handover",
    )


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def cannot_include_all(*, not_yours: list[str], in_handover: list[str]) -> str | None:
    """Why children of the group cannot be part of this handover, naming every one (None: they all can): only the
    outgoing worker's own cases, with no handover already in progress, can be handed over."""
    said = []
    if not_yours:
        verb = "is" if len(not_yours) == 1 else "are"
        said.append(f"{_names(not_yours)} {verb} not allocated to you")
    if in_handover:
        verb = "already has a handover" if len(in_handover) == 1 else "already have handovers"
        said.append(f"{_names(in_handover)} {verb} in progress")
    if not said:
        return None
    return "; ".join(said) + ": leave them out and say why"


def left_out_label(child_name: str) -> str:
    """The group start form's question for a child left out of the group's handover."""
    return f"If {child_name} is left out, why?"


def about_child(child_name: str, reason: str) -> str:
    """A refusal about one child's handover, as the group's refusals say it."""
    return f"{child_name}: {reason}"


class ThingsToDo(NamedTuple):
    """How many things stop a sibling group's submission, in the parts of its check page that list them: `family`,
    under "For the family"; `children`, under each child's own heading, in the members' order."""

    family: int
    children: list[int]


def group_things_to_do(problems: Sequence[Sequence[Problem]], family_ids: Collection[str]) -> ThingsToDo:
    """What stops a sibling group's submission, counted as its check page lists it (`problems`: each child's
    `answers.submission_problems`, in the members' order; `family_ids`: the checklist's family sections): a family
    section's problems under "For the family", a family section not started (a problem with no `input_id`) once
    however many children's handovers carry it; each child's own sections' problems under the child."""
    family = sum(
        1
        for index, child_problems in enumerate(problems)
        for problem in child_problems
        if problem.section_id in family_ids and (index == 0 or problem.input_id)
    )
    children = [sum(1 for problem in own if problem.section_id not in family_ids) for own in problems]
    return ThingsToDo(family, children)


def group_refusals(
    action: Action,
    members: list[tuple[str, Facts]],
    actor: Actor,
    reason: str = "",
    things_to_do: ThingsToDo | None = None,
) -> list[str]:
    """Why this person may not take this step for the whole group now; an empty list means the state machine allows
    it on every child's handover. What a child's handover lacks (`workflow.what_is_missing`) names the children it
    is about; what is about the person or the group's state is the same for every child and is said once.

    A submission stopped by the answers says how many things stop it in each part of the group's check page, given
    as `things_to_do` (`group_things_to_do`): "For the family: ...", then each child with their own count, each on a
    line of its own (two children with as many things each are not run together as if the count were shared)."""
    said: dict[str, list[str]] = {}
    counted = False
    for child_name, facts in members:
        missing = set(what_is_missing(action, facts))
        for refusal in refusals(action, facts, actor, reason):
            counts = things_to_do is not None and action == Action.SUBMIT
            if counts and refusal == things_to_do_refusal(facts.submission_problems):
                counted = True  # said below, part by part
                continue
            said.setdefault(refusal, [])
            if refusal in missing:
                said[refusal].append(child_name)
    lines = [about_child(", ".join(children), refusal) if children else refusal for refusal, children in said.items()]
    if counted and things_to_do is not None:
        parts = [(family_label("family"), things_to_do.family)]
        parts += [(name, count) for (name, _), count in zip(members, things_to_do.children, strict=True)]
        lines = [about_child(part, things_to_do_refusal(count)) for part, count in parts if count] + lines
    return lines


def family_label(level: str) -> str:
    """How the task list and check answers name a section's level."""
    return "For the family" if level == "family" else "For each child"
