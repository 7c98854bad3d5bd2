"""When each wait in a handover is due, and how overdue it is: the time limits (`service.time_limits`, the council's
data file) applied to the day the handover began waiting, in working days (weekdays that are not bank holidays in
England) and dates in England.

A handover waits on one person or team at a time (`workflow.waits_on`), and the whole transfer has its own limit from
the day it was started; its due date is the earlier of the two, so a handover cannot drift past the transfer's
limit one step at a time. A wait is due on its due date and overdue from the next working day. An urgent transfer
(the head of service moved the case before sign-off) is due within `urgent_completion` of its authorisation.
"""

from __future__ import annotations

from datetime import date

import msgspec

from service.core.workdays import add_working_days, working_days_between
from service.core.workflow import State
from service.time_limits import TimeLimits

# Which wait each open state is, by its name in the time-limits file's [waits] table
WAIT_OF_STATE: dict[State, str] = {
    State.SUBMITTED: "endorsement",
    State.ENDORSED: "acknowledgement",
    State.ACKNOWLEDGED: "approval",
    State.RETURNED: "reply",
}
WAIT_LABELS: dict[str, str] = {
    "endorsement": "Endorsement by the sending team's manager",
    "acknowledgement": "Acknowledgement by the receiving worker",
    "approval": "Approval by the receiving team's manager",
    "reply": "Reply to the returned query",
    "transfer": "The whole transfer",
    "urgent_completion": "Completing the urgent transfer",
}


class Due(msgspec.Struct, frozen=True, kw_only=True):
    """When the handover's current wait is due, and where it stands on `today` (dates in England)."""

    wait: str  # which limit set the date: a key of WAIT_LABELS
    due_on: date
    overdue_by: int  # working days past the due date; 0 when it is not overdue
    due_tomorrow: bool  # the due date is the next working day after today

    @property
    def overdue(self) -> bool:
        return self.overdue_by > 0

    @property
    def label(self) -> str:
        return WAIT_LABELS[self.wait]

    def words(self) -> str:
        """ "Due 4 December 2026", "Due today", or "Overdue by 3 working days (due 4 December 2026)"."""
        on = f"{self.due_on.day} {self.due_on:%B %Y}"
        if self.overdue_by:
            days = self.overdue_by
            return f"Overdue by {days} working day{'s'[: days != 1]} (due {on})"
        return f"Due {on}"


def due(
    state: State | str,
    state_since: date,
    started_on: date,
    limits: TimeLimits,
    today: date,
    *,
    urgent_since: date | None = None,
) -> Due | None:
    """The due date of the handover's current wait, or None for a closed or cancelled one.

    `state_since` is the date (in England) it began waiting in its state, `started_on` the date it was started,
    `urgent_since` the date an urgent transfer was authorised (None for an ordinary one). Every limit is in working
    days from `limits`; the earlier of the step's and the whole transfer's due date applies (`Due.wait` says which).
    """
    state = State(state)
    if state not in (State.DRAFT, *WAIT_OF_STATE):
        return None
    candidates = [(add_working_days(started_on, limits.waits.transfer), "transfer")]
    step = WAIT_OF_STATE.get(state)
    if step is not None:
        candidates.append((add_working_days(state_since, getattr(limits.waits, step)), step))
    if urgent_since is not None:
        candidates.append((add_working_days(urgent_since, limits.waits.urgent_completion), "urgent_completion"))
    due_on, wait = min(candidates, key=lambda candidate: (candidate[0], candidate[1] == "transfer"))
    overdue_by = working_days_between(due_on, today) if today > due_on else 0
    return Due(wait=wait, due_on=due_on, overdue_by=overdue_by, due_tomorrow=working_days_between(today, due_on) == 1)
