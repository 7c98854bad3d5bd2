"""Correcting a child's case record, finding a case to correct, and who has viewed a handover (read from the audit
trail)."""

from __future__ import annotations

import msgspec

from service.db.cases import _CASE_SELECT
from service.db.engine import Conn, _rows, now
from service.db.records import Case, record


async def cases_matching(conn: Conn, pattern: str, limit: int) -> list[Case]:
    """Cases whose child's name or reference matches the LIKE `pattern` (escape `\\`), by the child's name."""
    rows = await _rows(
        conn,
        _CASE_SELECT + " WHERE c.child_name LIKE ? ESCAPE '\\' OR c.reference LIKE ? ESCAPE '\\'"
        " ORDER BY c.child_name COLLATE NOCASE, c.id LIMIT ?",
        (pattern, pattern, limit),
    )
    return [record(r, Case) for r in rows]


async def correct_case(
    conn: Conn,
    case_id: int,
    version: int,
    *,
    reference: str,
    child_name: str,
    date_of_birth: str,
    sibling_group_id: int | None,
) -> bool:
    """Write the corrected record if it is still at `version`; False (nothing written) when it has changed since."""
    cursor = await conn.execute(
        "UPDATE cases SET reference = ?, child_name = ?, date_of_birth = ?, sibling_group_id = ?,"
        " version = version + 1, corrected_at = ? WHERE id = ? AND version = ?",
        (reference, child_name, date_of_birth, sibling_group_id, now(), case_id, version),
    )
    return bool(cursor.rowcount)


async def sibling_group_by_name(conn: Conn, key: str) -> int | None:
    """The group whose name, in lower case with its spaces run together, is `key` (`validation.group_name_key`)."""
    for row in await _rows(conn, "SELECT id, name FROM sibling_groups ORDER BY id"):
        if " ".join(str(row["name"]).split()).lower() == key:
            return int(row["id"])
    return None


class Viewing(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the audit trail about a handover: a view of one of its pages, or a step taken on it, with who
    it was and what they are to the handover (their roles now)."""

    seq: int
    at: str
    action: str
    details: str  # JSON, as stored
    actor_id: int | None
    actor: str | None
    is_auditor: bool
    is_admin: bool
    is_service: bool
    sending_manager: bool
    receiving_manager: bool
    receiving_worker: bool
    sending_worker: bool


async def viewings(conn: Conn, handover_id: int, limit: int, offset: int = 0) -> list[Viewing]:
    """Who has viewed the handover or taken a step on it, newest first."""
    rows = await _rows(
        conn,
        "SELECT a.seq, a.at, a.action, a.details, a.actor_id, u.name AS actor,"
        " COALESCE(u.is_auditor, 0) AS is_auditor, COALESCE(u.is_admin, 0) AS is_admin,"
        " COALESCE(u.is_service, 0) AS is_service,"
        " EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = a.actor_id AND m.team_id = h.sending_team_id"
        "   AND m.role = 'manager') AS sending_manager,"
        " EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = a.actor_id AND m.team_id = h.receiving_team_id"
        "   AND m.role = 'manager') AS receiving_manager,"
        " EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = a.actor_id AND m.team_id = h.receiving_team_id"
        "   AND m.role = 'worker') AS receiving_worker,"
        " EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = a.actor_id AND m.team_id = h.sending_team_id"
        "   AND m.role = 'worker') AS sending_worker"
        " FROM audit_log a JOIN handovers h ON h.id = a.object_id"
        " LEFT JOIN users u ON u.id = a.actor_id"
        " WHERE a.object_type = 'handover' AND a.object_id = ? ORDER BY a.seq DESC LIMIT ? OFFSET ?",
        (handover_id, limit, offset),
    )
    return [record(r, Viewing) for r in rows]


async def count_viewings(conn: Conn, handover_id: int) -> int:
    rows = await _rows(
        conn, "SELECT COUNT(*) FROM audit_log WHERE object_type = 'handover' AND object_id = ?", (handover_id,)
    )
    return int(rows[0][0])
