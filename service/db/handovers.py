"""Handovers and what hangs off them: sections, the receiver's confirmations, professional disagreements; and the
lists that people work from (the receiver's inbox, the managers' queue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from service.core.answers import SectionAnswers
from service.core.errors import Conflict
from service.db.engine import EVERY_ROW, Conn, _insert, _one, _rows, _total, now
from service.db.people import HELD_PENDING
from service.db.records import (
    Confirmation,
    Disagreement,
    Handover,
    Query,
    Received,
    SectionRecord,
    Started,
    Waiting,
    WaitingCounts,
    record,
)
from service.db.telling import FAMILY_CURRENT, SETTLED

_answers_decoder = msgspec.json.Decoder(SectionAnswers)


# ---------------------------------------------------------------- handovers

# Every query about handovers names the same people, teams and case, joined the same way.
_HANDOVER_FROM = """
    FROM handovers h
    JOIN cases c ON c.id = h.case_id
    LEFT JOIN sibling_groups g ON g.id = c.sibling_group_id
    JOIN users a ON a.id = h.author_id
    JOIN teams st ON st.id = h.sending_team_id
    JOIN teams rt ON rt.id = h.receiving_team_id
    LEFT JOIN users r ON r.id = h.receiver_id
"""

# The markers every list of handovers shows (core.case_records.markers): the case held by its team's manager after its
# worker left, and the worker the manager continues the handover for.
MARKER_COLUMNS = (
    HELD_PENDING + " AS held_pending_transfer,"
    " (SELECT ob.name FROM users ob WHERE ob.id = h.on_behalf_of) AS on_behalf_of_name"
)

# Who has been told (core.telling.status_of): any family notice recorded, and each professional on the plan neither
# told nor with a reason why not
TELLING_COLUMNS = (
    "EXISTS (SELECT 1 FROM family_notices fn WHERE fn.handover_id = h.id AND "
    + FAMILY_CURRENT
    + ") AS family_told, COALESCE((SELECT group_concat(ac.name || char(31) || ac.agency, char(30))"
    " FROM agency_contacts ac WHERE ac.handover_id = h.id AND NOT " + SETTLED + "), '') AS agencies_waiting, "
)


_HANDOVER_SELECT = (
    """
    SELECT h.*, c.reference AS case_reference, c.child_name, c.date_of_birth, g.name AS sibling_group,
           (SELECT json_group_array(json_array(s.child_name, s.reference)) FROM cases s
             WHERE s.sibling_group_id = c.sibling_group_id AND s.id <> c.id) AS siblings_on_record,
           a.name AS author, st.name AS sending_team, rt.name AS receiving_team, r.name AS receiver,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved')
               AS open_disagreements,
           COALESCE((SELECT group_concat(d.stage || char(31) || d.stage_since, char(30)) FROM disagreements d
                     WHERE d.handover_id = h.id AND d.status <> 'resolved'), '') AS open_disagreement_stages,
           (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'endorse')
               AS named_endorser,
           (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'approve')
               AS named_approver,
           c.corrected_at AS record_corrected_at,
"""
    + TELLING_COLUMNS
    + MARKER_COLUMNS
    + _HANDOVER_FROM
)


async def create_handover(
    conn: Conn,
    *,
    case_id: int,
    checklist_id: str,
    checklist_version: int,
    author_id: int,
    sending_team_id: int,
    receiving_team_id: int,
    receiver_id: int | None,
    transfer_reason: str,
) -> int:
    stamp = now()
    return await _insert(
        conn,
        "INSERT INTO handovers (case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
        " receiving_team_id, receiver_id, transfer_reason, started_at, state_since, last_activity_at)"
        " VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            checklist_id,
            checklist_version,
            author_id,
            sending_team_id,
            receiving_team_id,
            receiver_id,
            transfer_reason,
            stamp,
            stamp,
            stamp,
        ),
    )


async def handover_by_id(conn: Conn, handover_id: int) -> Handover | None:
    row = await _one(conn, _HANDOVER_SELECT + " WHERE h.id = ?", (handover_id,))
    return record(row, Handover) if row else None


async def handover_version(conn: Conn, handover_id: int) -> int | None:
    row = await _one(conn, "SELECT version FROM handovers WHERE id = ?", (handover_id,))
    return int(row[0]) if row else None


# A worker's own lists split at the handover's end: those still in progress are their landing page's, and the ones
# finished (closed or cancelled: nobody's next step) are listed on a page of their own.
_FINISHED_STATES = "('closed', 'cancelled')"

_STARTED_SELECT = (
    """
    SELECT h.id, c.child_name, h.state, rt.name AS receiving_team, r.name AS receiver, h.started_at, h.state_since,
           h.last_activity_at, h.urgent_at, """
    + MARKER_COLUMNS
    + """
    FROM handovers h
    JOIN cases c ON c.id = h.case_id
    JOIN teams rt ON rt.id = h.receiving_team_id
    LEFT JOIN users r ON r.id = h.receiver_id
"""
)


def started_query(user_id: int, *, finished: bool) -> tuple[str, list[Any], str]:
    """The handovers this worker started (LIMIT ? OFFSET ? to follow), read by the author's index, and the count of
    the same list: those in progress (`finished` False), returned to them with a query first (they wait for this
    worker, and must not sit pages down a long list), then the most recent activity first; or their closed and
    cancelled ones, the most recent activity first."""
    if finished:
        where = f"h.author_id = ? AND h.state IN {_FINISHED_STATES}"
        order = "h.last_activity_at DESC, h.id DESC"
    else:
        where = f"h.author_id = ? AND h.state NOT IN {_FINISHED_STATES}"
        order = "CASE WHEN h.state = 'returned' THEN 0 ELSE 1 END, h.last_activity_at DESC, h.id DESC"
    return (
        f"{_STARTED_SELECT} WHERE {where} ORDER BY {order}",
        [user_id],
        f"SELECT COUNT(*) FROM handovers h WHERE {where}",
    )


async def handovers_by_author(
    conn: Conn, user_id: int, *, finished: bool = False, limit: int = EVERY_ROW, offset: int = 0
) -> tuple[list[Started], int]:
    """One page (`limit` rows after `offset`) of the handovers this worker started (`started_query`: in progress,
    their landing page's, or `finished`), and how many that list holds."""
    sql, params, count_sql = started_query(user_id, finished=finished)
    rows = await _rows(conn, sql + " LIMIT ? OFFSET ?", [*params, limit, offset])
    return [record(r, Started) for r in rows], await _total(conn, rows, count_sql, params, limit, offset)


_RECEIVED_SELECT = (
    """
    SELECT h.id, c.child_name, h.state, h.author_id, a.name AS author, h.sending_team_id, st.name AS sending_team,
           h.receiving_team_id, rt.name AS receiving_team, h.receiver_id, r.name AS receiver, h.endorsed_by,
           h.acknowledged_by,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved')
               AS open_disagreements,
           h.state_since, h.last_activity_at, h.started_at, h.urgent_at, h.urgent_by, """
    + MARKER_COLUMNS
    + _HANDOVER_FROM
)

# What a receiving worker received and that no longer waits for them (what still does is in their inbox), in
# progress: acknowledged and waiting for approval, or sent back to the outgoing worker after it was endorsed. Each
# is a search of the receiver's index.
_RECEIVED_OPEN = (
    "SELECT id FROM handovers WHERE receiver_id = ? AND state = 'acknowledged' UNION ALL "
    "SELECT id FROM handovers WHERE receiver_id = ? AND state = 'returned' AND endorsed_at IS NOT NULL"
)


def received_query(user_id: int, *, finished: bool) -> tuple[str, list[Any], str]:
    """The handovers this worker received that no longer wait for them, most recent activity first (LIMIT ? OFFSET ?
    to follow), each searched by the receiver's index, and the count of the same list: those in progress (`finished`
    False), or the closed ones."""
    if finished:
        where, params = "h.receiver_id = ? AND h.state = 'closed'", [user_id]
    else:
        where, params = f"h.id IN ({_RECEIVED_OPEN})", [user_id, user_id]
    return (
        f"{_RECEIVED_SELECT} WHERE {where} ORDER BY h.last_activity_at DESC, h.id DESC",
        params,
        f"SELECT COUNT(*) FROM handovers h WHERE {where}",
    )


async def handovers_received_by(
    conn: Conn, user_id: int, *, finished: bool = False, limit: int = EVERY_ROW, offset: int = 0
) -> tuple[list[Received], int]:
    """One page of what this worker received as the receiving worker once it no longer waits for them
    (`received_query`: in progress, or `finished`, closed), and how many that list holds. A cancelled handover is in
    neither: it never came to them."""
    sql, params, count_sql = received_query(user_id, finished=finished)
    rows = await _rows(conn, sql + " LIMIT ? OFFSET ?", [*params, limit, offset])
    return [record(r, Received) for r in rows], await _total(conn, rows, count_sql, params, limit, offset)


def _count(where: str) -> str:
    return f"(SELECT COUNT(*) FROM handovers WHERE {where})"


def _marks(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


# Not on the sending side of the handover (not its author, its endorser, nor the worker it is written for): as the
# inbox lists them, only those the worker may take on (`workflow.sides_taken`).
_NOT_SENDING = "author_id <> ? AND endorsed_by IS DISTINCT FROM ? AND on_behalf_of IS DISTINCT FROM ?"


def waiting_counts_query(
    user_id: int, worker_team_ids: Sequence[int], manager_team_ids: Sequence[int]
) -> tuple[str, list[Any]]:
    """One row of counts (`WaitingCounts`), each a search of an index; a role the person does not have counts 0
    without a search. As the inbox and the queue list them: what is endorsed counts for workers only."""
    columns: list[str] = [
        _count("author_id = ? AND state = 'draft'") + " AS drafts",
        _count("author_id = ? AND state = 'returned'") + " AS returned",
    ]
    params: list[Any] = [user_id, user_id]
    if worker_team_ids:
        columns.append(
            _count(f"receiver_id = ? AND state = 'endorsed' AND {_NOT_SENDING}") + " + "
            + _count(f"receiver_id IS NULL AND state = 'endorsed' AND receiving_team_id IN ({_marks(worker_team_ids)})"
                     f" AND {_NOT_SENDING}")
            + " AS to_acknowledge"
        )  # fmt: skip
        params += [user_id, *[user_id] * 3, *worker_team_ids, *[user_id] * 3]
    if manager_team_ids:
        columns.append(
            _count(f"state = 'submitted' AND sending_team_id IN ({_marks(manager_team_ids)})") + " AS to_endorse"
        )
        columns.append(
            _count(f"state = 'acknowledged' AND receiving_team_id IN ({_marks(manager_team_ids)})") + " AS to_approve"
        )
        params += [*manager_team_ids, *manager_team_ids]
    return "SELECT " + ", ".join(columns), params


async def waiting_counts(
    conn: Conn, user_id: int, worker_team_ids: Sequence[int], manager_team_ids: Sequence[int]
) -> WaitingCounts:
    """How many handovers wait for this person: their own drafts and returned ones; as a worker in these teams,
    what is endorsed to them or to one of the teams with no worker named; as a manager of these teams, what was
    submitted from them or acknowledged in them."""
    sql, params = waiting_counts_query(user_id, worker_team_ids, manager_team_ids)
    row = await _one(conn, sql, params)
    assert row is not None, "a SELECT without FROM gives one row"
    return record(row, WaitingCounts)


_WAITING_SELECT = (
    """
    SELECT h.id, c.child_name, a.name AS author, st.name AS sending_team, h.receiver_id, r.name AS receiver,
           rt.name AS receiving_team, h.state_since, h.author_id, h.endorsed_by, h.acknowledged_by, h.state,
           h.sending_team_id, h.receiving_team_id, h.started_at, h.urgent_at, h.urgent_by, """
    + MARKER_COLUMNS
    + """
    FROM handovers h
    JOIN cases c ON c.id = h.case_id
    JOIN users a ON a.id = h.author_id
    JOIN teams st ON st.id = h.sending_team_id
    JOIN teams rt ON rt.id = h.receiving_team_id
    LEFT JOIN users r ON r.id = h.receiver_id
"""
)


def inbox_query(user_id: int, team_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """Endorsed handovers named to this worker, or addressed to one of their teams with no worker named: two
    searches by index (a single OR was planned as a read of every endorsed handover). Left out are those the worker
    stands on the sending side of (wrote, endorsed, or has written for them), which they may not take on
    (`workflow.sides_taken`): a manager who endorsed a handover to a team they also work in is not offered it."""
    marks = ",".join("?" * len(team_ids)) or "NULL"
    sql = (
        _WAITING_SELECT + " WHERE h.id IN ("
        "SELECT id FROM handovers WHERE receiver_id = ? AND state = 'endorsed' UNION ALL "
        f"SELECT id FROM handovers WHERE receiver_id IS NULL AND state = 'endorsed' AND receiving_team_id IN ({marks})"
        ") AND h.author_id <> ? AND h.endorsed_by IS DISTINCT FROM ? AND h.on_behalf_of IS DISTINCT FROM ?"
        " ORDER BY h.state_since"
    )
    return sql, [user_id, *team_ids, user_id, user_id, user_id]


async def handovers_waiting_for_receiver(conn: Conn, user_id: int, team_ids: Sequence[int]) -> list[Waiting]:
    sql, params = inbox_query(user_id, team_ids)
    return [record(r, Waiting) for r in await _rows(conn, sql, params)]


async def handovers_for_managers(
    conn: Conn, state: str, team_column: str, team_ids: Sequence[int], limit: int = EVERY_ROW, offset: int = 0
) -> tuple[list[Waiting], int]:
    """One page of the handovers in one state whose sending or receiving team is one of these, longest waiting
    first, and how many there are in all."""
    if team_column not in ("sending_team_id", "receiving_team_id") or not team_ids:
        return [], 0
    where = f" WHERE h.state = ? AND h.{team_column} IN ({','.join('?' * len(team_ids))})"
    total = await _one(conn, "SELECT COUNT(*) FROM handovers h" + where, (state, *team_ids))
    sql, params = queue_query(state, team_column, team_ids)
    rows = await _rows(conn, sql, [*params, limit, offset])
    return [record(r, Waiting) for r in rows], int(total[0]) if total else 0


def queue_query(state: str, team_column: str, team_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """One page (LIMIT ? OFFSET ? to follow) of a manager's queue, read in order from the team's index."""
    where = f" WHERE h.state = ? AND h.{team_column} IN ({','.join('?' * len(team_ids))})"
    return _WAITING_SELECT + where + " ORDER BY h.state_since, h.id LIMIT ? OFFSET ?", [state, *team_ids]


async def update_handover(conn: Conn, handover_id: int, expected_version: int, **changes: Any) -> None:
    """Change workflow columns if nobody else has since `expected_version`; raises Conflict otherwise."""
    allowed = {
        "state", "receiver_id", "submitted_at", "endorsed_by", "endorsed_at", "acknowledged_by", "acknowledged_at",
        "approved_by", "approved_at", "returned_reason", "returned_by", "returned_at", "state_since", "record_flags",
        "urgent_at", "urgent_by", "urgent_reason",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {unknown}")
    changes["last_activity_at"] = now()
    assignments = ", ".join(f"{column} = ?" for column in changes)
    cursor = await conn.execute(
        f"UPDATE handovers SET {assignments}, version = version + 1 WHERE id = ? AND version = ?",
        (*changes.values(), handover_id, expected_version),
    )
    if cursor.rowcount != 1:
        raise Conflict("the handover was changed by someone else")


async def touch_handover(conn: Conn, handover_id: int) -> None:
    await conn.execute("UPDATE handovers SET last_activity_at = ? WHERE id = ?", (now(), handover_id))


# ---------------------------------------------------------------- sections and confirmations


async def section_statuses(conn: Conn, handover_id: int) -> dict[str, str]:
    """Each saved section's status (completed, in_progress, has_errors), without reading the answers."""
    rows = await _rows(conn, "SELECT section_id, status FROM sections WHERE handover_id = ?", (handover_id,))
    return {r[0]: r[1] for r in rows}


async def sections_of(conn: Conn, handover_id: int) -> dict[str, SectionRecord]:
    rows = await _rows(conn, "SELECT * FROM sections WHERE handover_id = ?", (handover_id,))
    return {
        r["section_id"]: SectionRecord(
            section_id=r["section_id"],
            answers=_answers_decoder.decode(r["answers"]),
            status=r["status"],
            version=r["version"],
            updated_at=r["updated_at"],
            updated_by=r["updated_by"],
        )
        for r in rows
    }


async def section_version(conn: Conn, handover_id: int, section_id: str) -> int:
    row = await _one(
        conn, "SELECT version FROM sections WHERE handover_id = ? AND section_id = ?", (handover_id, section_id)
    )
    return int(row["version"]) if row else 0


async def save_section(
    conn: Conn,
    handover_id: int,
    section_id: str,
    answers: SectionAnswers,
    status: str,
    base_version: int,
    user_id: int,
    *,
    critical: bool = False,
) -> int:
    """Store a section's answers if it is still at `base_version`; returns the new version or raises Conflict."""
    current = await section_version(conn, handover_id, section_id)
    if current != base_version:
        raise Conflict(f"section {section_id} is at version {current}, not {base_version}")
    encoded = msgspec.json.encode(answers).decode()
    await conn.execute(
        "INSERT INTO sections (handover_id, section_id, answers, status, version, updated_at, updated_by, critical)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (handover_id, section_id) DO UPDATE SET"
        " answers = excluded.answers, status = excluded.status, version = excluded.version,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by, critical = excluded.critical",
        (handover_id, section_id, encoded, status, current + 1, now(), user_id, critical),
    )
    await touch_handover(conn, handover_id)
    return current + 1


async def confirmations_of(conn: Conn, handover_id: int) -> dict[str, Confirmation]:
    rows = await _rows(conn, "SELECT * FROM confirmations WHERE handover_id = ?", (handover_id,))
    return {r["section_id"]: record(r, Confirmation) for r in rows}


async def confirm_section(conn: Conn, handover_id: int, section_id: str, user_id: int, readback: str) -> None:
    await conn.execute(
        "INSERT INTO confirmations (handover_id, section_id, user_id, readback, confirmed_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (handover_id, section_id) DO UPDATE SET user_id = excluded.user_id,"
        " readback = excluded.readback, confirmed_at = excluded.confirmed_at",
        (handover_id, section_id, user_id, readback, now()),
    )
    await touch_handover(conn, handover_id)


async def clear_confirmations(conn: Conn, handover_id: int) -> None:
    """A returned handover may change, so what the receiver confirmed before no longer stands."""
    await conn.execute("DELETE FROM confirmations WHERE handover_id = ?", (handover_id,))


# ---------------------------------------------------------------- queries and replies

_QUERY_SELECT = """
    SELECT q.id, q.returned_by, r.name AS returned_by_name, q.returned_at, q.query,
           q.replied_by, p.name AS replied_by_name, q.replied_at, q.reply
    FROM queries q JOIN users r ON r.id = q.returned_by LEFT JOIN users p ON p.id = q.replied_by
"""


async def add_query(conn: Conn, handover_id: int, user_id: int, query: str) -> int:
    """A new round: the handover is returned to its outgoing worker with `query`; returns the round's id."""
    return await _insert(
        conn,
        "INSERT INTO queries (handover_id, returned_by, returned_at, query) VALUES (?, ?, ?, ?)",
        (handover_id, user_id, now(), query),
    )


async def answer_query(conn: Conn, handover_id: int, user_id: int, reply: str) -> bool:
    """Record the reply to the handover's latest query, if it has not been answered; False if there is none."""
    cursor = await conn.execute(
        "UPDATE queries SET reply = ?, replied_by = ?, replied_at = ?"
        " WHERE id = (SELECT MAX(id) FROM queries WHERE handover_id = ?) AND reply IS NULL",
        (reply, user_id, now(), handover_id),
    )
    return cursor.rowcount == 1


async def queries_of(conn: Conn, handover_id: int) -> list[Query]:
    """Every round of queries and replies on this handover, oldest first (the last is the latest)."""
    rows = await _rows(conn, _QUERY_SELECT + " WHERE q.handover_id = ? ORDER BY q.id", (handover_id,))
    return [record(r, Query) for r in rows]


# ---------------------------------------------------------------- disagreements

_DISAGREEMENT_SELECT = """
    SELECT d.*, r.name AS raised_by_name, m.name AS decided_by_name
    FROM disagreements d JOIN users r ON r.id = d.raised_by LEFT JOIN users m ON m.id = d.decided_by
"""


async def raise_disagreement(
    conn: Conn,
    handover_id: int,
    user_id: int,
    about: str,
    with_whom: str,
    view: str,
    *,
    stage: str,
    stage_since: str,
    checklist_key: str = "",
    next_step: str = "",
    next_step_by: str = "",
) -> int:
    """A new open disagreement at `stage` since `stage_since` (ISO date in England); `checklist_key` for one that a
    row of the checklist records (see `core.disagreements.row_key`)."""
    disagreement_id = await _insert(
        conn,
        "INSERT INTO disagreements (handover_id, raised_by, raised_at, about, with_whom, view, status, stage,"
        " stage_since, checklist_key, next_step, next_step_by) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
        (handover_id, user_id, now(), about, with_whom, view, stage, stage_since, checklist_key, next_step,
         next_step_by),
    )  # fmt: skip
    await touch_handover(conn, handover_id)
    return disagreement_id


async def disagreements_of(conn: Conn, handover_id: int) -> list[Disagreement]:
    rows = await _rows(conn, _DISAGREEMENT_SELECT + " WHERE d.handover_id = ? ORDER BY d.id", (handover_id,))
    return [record(r, Disagreement) for r in rows]


async def decide_disagreement(
    conn: Conn, disagreement_id: int, user_id: int, status: str, outcome: str, stage: str = "", stage_date: str = ""
) -> None:
    """Resolve a disagreement (`status` "resolved": it keeps the stage it reached), or record its escalation to
    `stage` on `stage_date` (ISO), from when its time at the stage counts. `Conflict` once it is resolved."""
    if status == "resolved":
        sql = "UPDATE disagreements SET status = ?, outcome = ?, decided_by = ?, decided_at = ?"
        params: tuple[object, ...] = (status, outcome, user_id, now(), disagreement_id)
    else:
        sql = ("UPDATE disagreements SET status = ?, outcome = ?, stage = ?, stage_date = ?, stage_since = ?,"
               " decided_by = ?, decided_at = ?")  # fmt: skip
        params = (status, outcome, stage, stage_date, stage_date, user_id, now(), disagreement_id)
    cursor = await conn.execute(sql + " WHERE id = ? AND status <> 'resolved'", params)
    if cursor.rowcount != 1:
        raise Conflict("the disagreement has already been resolved")


# ---------------------------------------------------------------- managers named for a step


async def name_manager(conn: Conn, handover_id: int, step: str, user_id: int, named_by: int | None) -> None:
    """Name this manager for this step of this handover (replacing whoever was named before)."""
    await conn.execute(
        "INSERT INTO named_managers (handover_id, step, user_id, named_by, named_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (handover_id, step) DO UPDATE SET user_id = excluded.user_id, named_by = excluded.named_by,"
        " named_at = excluded.named_at",
        (handover_id, step, user_id, named_by, now()),
    )
    await touch_handover(conn, handover_id)


async def named_for(conn: Conn, user_id: int) -> list[Waiting]:
    """The handovers waiting at a step this manager was named for (endorsing a submitted one, approving an
    acknowledged one), longest waiting first."""
    rows = await _rows(
        conn,
        _WAITING_SELECT + " JOIN named_managers n ON n.handover_id = h.id AND n.user_id = ?"
        " WHERE (n.step = 'endorse' AND h.state = 'submitted') OR (n.step = 'approve' AND h.state = 'acknowledged')"
        " ORDER BY h.state_since, h.id",
        (user_id,),
    )
    return [record(r, Waiting) for r in rows]


async def take_on(conn: Conn, handover_id: int, user_id: int) -> None:
    """A worker of the receiving team takes on a handover sent to the team: they become its receiving worker. The
    handover's version stays, so the pages they have open still post; anyone else is refused by the state machine."""
    await conn.execute(
        "UPDATE handovers SET receiver_id = ? WHERE id = ? AND receiver_id IS NULL", (user_id, handover_id)
    )


async def handovers_in_state(conn: Conn, state: str) -> list[Handover]:
    """Every handover in this state, longest waiting first (the administrator's look for a manager step that no
    manager may take)."""
    rows = await _rows(conn, _HANDOVER_SELECT + " WHERE h.state = ? ORDER BY h.state_since, h.id", (state,))
    return [record(r, Handover) for r in rows]
