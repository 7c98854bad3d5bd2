"""Finding handovers by the child's name or case reference (the "Find a child" page)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from service.db.engine import Conn, _rows
from service.db.handovers import _HANDOVER_FROM, MARKER_COLUMNS
from service.db.records import record


class Found(msgspec.Struct, frozen=True):
    """A handover as a search result shows it, with what the state machine's `may_view` reads
    (`workflow.HandoverParties`, and the managers an administrator named)."""

    id: int
    child_name: str
    case_reference: str
    state: str
    author_id: int
    author: str
    sending_team_id: int
    sending_team: str
    receiving_team_id: int
    receiving_team: str
    receiver_id: int | None
    receiver: str | None
    endorsed_by: int | None
    acknowledged_by: int | None
    open_disagreements: int
    state_since: str
    last_activity_at: str
    named_endorser: int | None
    named_approver: int | None
    held_pending_transfer: int = 0  # the markers (core.case_records.markers)
    on_behalf_of_name: str | None = None
    on_behalf_of: int | None = None  # the worker a manager writes it for, who may read it (workflow.may_view)
    started_at: str = ""  # with state_since and urgent_at, what its due date is worked out from (core.due_dates)
    urgent_at: str | None = None
    urgent_by: int | None = None  # the head of service who authorised an urgent transfer (workflow.Facts)


_FOUND_SELECT = (
    """
    SELECT h.id, c.child_name, c.reference AS case_reference, h.state, h.author_id, a.name AS author,
           h.sending_team_id, st.name AS sending_team, h.receiving_team_id, rt.name AS receiving_team,
           h.receiver_id, r.name AS receiver, h.endorsed_by, h.acknowledged_by,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved')
               AS open_disagreements,
           h.state_since, h.last_activity_at, h.on_behalf_of, h.started_at, h.urgent_at, h.urgent_by,
           (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'endorse')
               AS named_endorser,
           (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'approve')
               AS named_approver,
"""
    + MARKER_COLUMNS
    + _HANDOVER_FROM
)


def _marks(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


async def handovers_matching(
    conn: Conn,
    pattern: str,
    *,
    everyone: bool,
    user_id: int,
    manager_teams: Sequence[int] = (),
    worker_teams: Sequence[int] = (),
) -> list[Found]:
    """Handovers whose child's name or case reference matches the LIKE `pattern` (escape `\\`), newest activity
    first. Unless `everyone` (an auditor), only those this person is a party to in some way: theirs, addressed to
    them, written on their behalf, of a team they manage or work in on the receiving side, or naming them as a
    step's manager. That is wider than who may see each one (a receiving team sees a handover only once it is
    endorsed): the caller asks the state machine about each row."""
    where = "(c.child_name LIKE ? ESCAPE '\\' OR c.reference LIKE ? ESCAPE '\\')"
    params: list[object] = [pattern, pattern]
    if not everyone:
        parties = [
            "h.author_id = ?",
            "h.receiver_id = ?",
            "h.on_behalf_of = ?",
            "EXISTS (SELECT 1 FROM named_managers n WHERE n.handover_id = h.id AND n.user_id = ?)",
        ]
        params += [user_id, user_id, user_id, user_id]
        if manager_teams:
            parties.append(f"h.sending_team_id IN ({_marks(manager_teams)})")
            params += list(manager_teams)
        receiving = sorted({*manager_teams, *worker_teams})
        if receiving:
            parties.append(f"h.receiving_team_id IN ({_marks(receiving)})")
            params += receiving
        where += " AND (" + " OR ".join(parties) + ")"
    rows = await _rows(conn, _FOUND_SELECT + " WHERE " + where + " ORDER BY h.last_activity_at DESC, h.id DESC", params)
    return [record(row, Found) for row in rows]
