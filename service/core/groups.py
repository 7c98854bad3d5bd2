"""Sibling-group handovers: the rules and messages for starting one, and for acting on every child's handover in it
at once.

A group handover is one ordinary handover per child included, moved through the workflow together: an action on the
group is allowed only when the state machine allows it on every child's handover, and its refusals say which child
each is about.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

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


def about_child(child_name: str, reason: str) -> str:
    """A refusal about one child's handover, as the group's refusals say it."""
    return f"{child_name}: {reason}"


def group_things_to_do(problems: Sequence[Sequence[Problem]], family_ids: Collection[str]) -> list[int]:
    """How many things stop each child's handover in a sibling group's submission, counted as the group's check page
    lists them: each child's problems (`answers.submission_problems`), in the children's order, except that a family
    section not started (a problem with no `input_id`) is one "Not started", under the first child, however many
    children's handovers carry it. `family_ids`: the ids of the checklist's family sections."""
    return [
        sum(1 for problem in child_problems if index == 0 or problem.input_id or problem.section_id not in family_ids)
        for index, child_problems in enumerate(problems)
    ]


def group_refusals(
    action: Action,
    members: list[tuple[str, Facts]],
    actor: Actor,
    reason: str = "",
    things_to_do: Sequence[int] = (),
) -> list[str]:
    """Why this person may not take this step for the whole group now; an empty list means the state machine allows
    it on every child's handover. What a child's handover lacks (`workflow.what_is_missing`) names the children it
    is about; what is about the person or the group's state is the same for every child and is said once.

    A submission stopped by the answers says for each child how many things stop it as the group's check page lists
    them, given as `things_to_do` in the members' order (`group_things_to_do`): each child's own count would count a
    family section not started once for every child, where the page lists it once."""
    said: dict[str, list[str]] = {}
    for index, (child_name, facts) in enumerate(members):
        missing = set(what_is_missing(action, facts))
        counted = things_to_do_refusal(facts.submission_problems) if action == Action.SUBMIT else None
        for refusal in refusals(action, facts, actor, reason):
            about_the_child = refusal in missing
            if refusal == counted and index < len(things_to_do):
                if not things_to_do[index]:  # only family sections not started, said under the first child
                    continue
                refusal = things_to_do_refusal(things_to_do[index])
            said.setdefault(refusal, [])
            if about_the_child:
                said[refusal].append(child_name)
    return [about_child(", ".join(children), refusal) if children else refusal for refusal, children in said.items()]


def family_label(level: str) -> str:
    """How the task list and check answers name a section's level."""
    return "For the family" if level == "family" else "For each child"
