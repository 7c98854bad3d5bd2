"""A person's caseload and its transfer: the rules a team manager meets when they move every child a person holds
(a leaver's, or one on long-term absence), one handover per child, and every message about it, said once.

A caseload transfer never moves a child by itself: each child gets their own handover, with their own receiving team
and worker, through the whole checklist. When the worker is unavailable (their account is disabled, or a manager has
recorded their long-term absence) the manager writes the handover on their behalf: the manager is its author, so
the separation of duties sends its endorsement to another manager.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Where(StrEnum):
    """Where a child on a person's caseload is now."""

    WITH_THEM = "with_them"  # still allocated to the person (or held by the team manager since they left)
    IN_TRANSFER = "in_transfer"  # a handover of the case is open
    MOVED = "moved"  # allocated to someone else since the caseload transfer began


WHERE_LABELS = {
    Where.WITH_THEM: "Still with them",
    Where.IN_TRANSFER: "In transfer",
    Where.MOVED: "Moved",
}


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """How many of a person's children are where (`Where`)."""

    with_them: int = 0
    in_transfer: int = 0
    moved: int = 0

    @property
    def total(self) -> int:
        return self.with_them + self.in_transfer + self.moved


def where(*, on_caseload: bool, open_handover: bool) -> Where:
    """Where a child is: in transfer while a handover is open; otherwise with the person while the case is still
    theirs (or held for them pending transfer), and moved once it is allocated to anyone else."""
    if open_handover:
        return Where.IN_TRANSFER
    return Where.WITH_THEM if on_caseload else Where.MOVED


def counted(places: list[Where]) -> Counts:
    return Counts(
        with_them=places.count(Where.WITH_THEM),
        in_transfer=places.count(Where.IN_TRANSFER),
        moved=places.count(Where.MOVED),
    )


def unavailable(*, disabled: bool, absent: bool) -> bool:
    """Whether the worker cannot write their own handovers: they have left, or are on long-term absence."""
    return disabled or absent


def author_for(manager_id: int, worker_id: int, *, worker_unavailable: bool) -> tuple[int, int | None]:
    """Who writes a handover a manager starts from a person's caseload, and on whose behalf: the worker themselves
    while they are available (the manager chose the receiver; the worker knows the child), otherwise the manager,
    on the worker's behalf."""
    if worker_unavailable:
        return manager_id, worker_id
    return worker_id, None


def on_behalf_words(name: str) -> str:
    """What the handover page, its history, the report's exports and the API say of a handover written by a team
    manager for a worker who could not (in the middle of a sentence; `capitalize_first` starts one with it)."""
    return f"completed by the team manager on behalf of {name}"


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def may_start_transfer(counts: Counts, *, under_way: bool) -> list[str]:
    """Why a caseload transfer may not begin now (an empty list: it may)."""
    if under_way:
        return [TRANSFER_UNDER_WAY]
    if counts.with_them + counts.in_transfer == 0:
        return [NOTHING_TO_TRANSFER]
    return []


def transfer_under_way(counts: Counts) -> bool:
    """A caseload transfer is under way until none of the children on it is still with the person or in transfer."""
    return counts.with_them + counts.in_transfer > 0


TRANSFER_UNDER_WAY = "A caseload transfer for this person is already under way"
NOTHING_TO_TRANSFER = "There are no children on this caseload to transfer"
TRANSFER_NOT_STARTED = "Start the caseload transfer first: each child's handover is started from it"
ALREADY_ABSENT = "Their long-term absence is already recorded"
NOT_ABSENT = "No long-term absence is recorded for them"
NOTHING_WAITS_ON_ABSENT = "None of their handovers is waiting for you to continue"
DISABLED_NOT_ABSENT = "Their account is disabled: they have left, so long-term absence does not apply to them"
NOT_YOURSELF = "You cannot record your own absence"
# The long-term absence form's buttons each send one of these as `change`; anything else (none, two, another word)
# did not come from the page, and nothing is changed
ABSENCE_CHANGES = ("record", "continue", "end")
ABSENCE_CHANGE_UNKNOWN = "Use a button under ‘Long-term absence’ to say what has changed"


class Sides(msgspec.Struct, frozen=True, kw_only=True):
    """The people already on a handover besides its author: its receiving worker and whoever took, or was named
    for, a manager step. None of them may become its author (nobody acts on both sides of one handover)."""

    state: str
    receiver_id: int | None = None
    endorsed_by: int | None = None
    acknowledged_by: int | None = None
    named_endorser: int | None = None
    named_approver: int | None = None


def on_other_side(sides: Sides, person_id: int) -> bool:
    """Whether this person already acts on the handover other than as its author: becoming its author would put
    them on both sides of it."""
    others = (sides.receiver_id, sides.endorsed_by, sides.acknowledged_by, sides.named_endorser, sides.named_approver)
    return person_id in others


# What is still the outgoing worker's to write: a draft, or one returned to them with a query. A handover submitted
# and on its way keeps its author, who has nothing more to do unless it comes back.
WITH_AUTHOR = frozenset({"draft", "returned"})


def passes_on_absence(sides: Sides, manager_id: int) -> bool:
    """Whether recording a worker's absence passes this handover of theirs to the manager who records it: only one
    still theirs to write, and only when the manager is on no other side of it (one the manager endorsed and then
    returned stays with the worker, and the worker's other managers see it on the caseload)."""
    return sides.state in WITH_AUTHOR and not on_other_side(sides, manager_id)


def interim_author(sides: Sides, managers: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The team manager (id, name) who continues a leaver's handover as its author: the first by name who is on no
    other side of it, or None when every one is."""
    return next((manager for manager in managers if not on_other_side(sides, manager[0])), None)


def no_interim_author_message(leaver: str, child: str, handover_id: int, team: str) -> str:
    """Why a leaver cannot be disabled yet: nobody can continue one of their handovers."""
    return (
        f"{leaver} cannot be disabled yet: the handover of {child} (handover {handover_id}) needs a manager of "
        f"{team} to continue it, and every one already acts on it for the other side. Add another manager to {team}, "
        "then disable the account"
    )
