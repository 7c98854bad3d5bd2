"""Sibling-group handovers: the group handover that links one ordinary handover per child included, and the children
of the group left out of it with the reason why."""

from __future__ import annotations

import msgspec

from service.db.engine import Conn, _insert, _one, _rows, now
from service.db.people import _HOLDS_CASES
from service.db.records import Team


class GroupHandover(msgspec.Struct, frozen=True, kw_only=True):
    """One handover of a sibling group: who started it, when, and for which group."""

    id: int
    sibling_group_id: int
    sibling_group: str
    started_by: int
    started_at: str


class Exclusion(msgspec.Struct, frozen=True, kw_only=True):
    """A child of the group left out of its handover, and why."""

    case_id: int
    child_name: str
    reference: str
    reason: str


class GroupMember(msgspec.Struct, frozen=True, kw_only=True):
    """A child's handover within a group handover, as the group's lists show it."""

    handover_id: int
    case_id: int
    child_name: str
    reference: str
    state: str


async def create_group_handover(conn: Conn, sibling_group_id: int, started_by: int) -> int:
    return await _insert(
        conn,
        "INSERT INTO group_handovers (sibling_group_id, started_by, started_at) VALUES (?, ?, ?)",
        (sibling_group_id, started_by, now()),
    )


async def join_group(conn: Conn, handover_id: int, group_handover_id: int) -> None:
    """Make a child's new handover one of the group's (set once, when the group handover is started)."""
    await conn.execute(
        "UPDATE handovers SET group_handover_id = ? WHERE id = ? AND group_handover_id IS NULL",
        (group_handover_id, handover_id),
    )


async def exclude_from_group(conn: Conn, group_handover_id: int, case_id: int, reason: str) -> None:
    await conn.execute(
        "INSERT INTO group_exclusions (group_handover_id, case_id, reason) VALUES (?, ?, ?)",
        (group_handover_id, case_id, reason),
    )


async def group_handover_by_id(conn: Conn, group_handover_id: int) -> GroupHandover | None:
    row = await _one(
        conn,
        "SELECT gh.id, gh.sibling_group_id, g.name AS sibling_group, gh.started_by, gh.started_at"
        " FROM group_handovers gh JOIN sibling_groups g ON g.id = gh.sibling_group_id WHERE gh.id = ?",
        (group_handover_id,),
    )
    return GroupHandover(**dict(row)) if row else None


async def group_members(conn: Conn, group_handover_id: int) -> list[GroupMember]:
    """The children's handovers in the group handover, by the child's name."""
    rows = await _rows(
        conn,
        "SELECT h.id AS handover_id, c.id AS case_id, c.child_name, c.reference, h.state FROM handovers h"
        " JOIN cases c ON c.id = h.case_id WHERE h.group_handover_id = ? ORDER BY c.child_name, c.id",
        (group_handover_id,),
    )
    return [GroupMember(**dict(row)) for row in rows]


async def group_exclusions(conn: Conn, group_handover_id: int) -> list[Exclusion]:
    """The children of the group left out of its handover, with the reasons, by the child's name."""
    rows = await _rows(
        conn,
        "SELECT x.case_id, c.child_name, c.reference, x.reason FROM group_exclusions x"
        " JOIN cases c ON c.id = x.case_id WHERE x.group_handover_id = ? ORDER BY c.child_name, c.id",
        (group_handover_id,),
    )
    return [Exclusion(**dict(row)) for row in rows]


async def cases_in_sibling_group(conn: Conn, sibling_group_id: int) -> list[tuple[int, str, str, int, int]]:
    """Each child of the sibling group on record: case id, name, reference, allocated worker and team."""
    rows = await _rows(
        conn,
        "SELECT id, child_name, reference, allocated_worker_id, allocated_team_id FROM cases"
        " WHERE sibling_group_id = ? ORDER BY child_name, id",
        (sibling_group_id,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4])) for r in rows]


async def receiving_teams(conn: Conn) -> list[Team]:
    """The teams a case may be handed over to, by name: each has at least one enabled worker to take it on (the one
    place this rule is written; the start pages offer only these and the start actions refuse any other)."""
    rows = await _rows(
        conn,
        "SELECT t.id, t.name FROM teams t WHERE EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id"
        f" WHERE m.team_id = t.id AND {_HOLDS_CASES}) ORDER BY t.name",
    )
    return [Team(r["id"], r["name"]) for r in rows]


async def record_apart_reason(conn: Conn, handover_id: int, reason: str) -> None:
    """Why a child of a sibling group is handed over without their siblings (set once, when the handover starts)."""
    await conn.execute("INSERT INTO sibling_apart_reasons (handover_id, reason) VALUES (?, ?)", (handover_id, reason))


async def apart_from_siblings(conn: Conn, handover_id: int) -> list[Exclusion]:
    """For a child of a sibling group handed over on their own: each sibling staying behind, with the reason given
    ([] for any other handover). Shown where a group handover's children left out are."""
    rows = await _rows(
        conn,
        "SELECT s.id AS case_id, s.child_name, s.reference, r.reason FROM sibling_apart_reasons r"
        " JOIN handovers h ON h.id = r.handover_id JOIN cases c ON c.id = h.case_id"
        " JOIN cases s ON s.sibling_group_id = c.sibling_group_id AND s.id <> c.id"
        " WHERE r.handover_id = ? ORDER BY s.child_name, s.id",
        (handover_id,),
    )
    return [Exclusion(**dict(row)) for row in rows]


async def sibling_group_exists(conn: Conn, sibling_group_id: int) -> bool:
    """Whether the sibling group is on record (a report filtered by a group not on record finds nothing: 404)."""
    return await _one(conn, "SELECT 1 FROM sibling_groups WHERE id = ?", (sibling_group_id,)) is not None


async def open_group_handover(conn: Conn, sibling_group_id: int) -> int | None:
    """The sibling group's handover that is not finished (a child's handover in it neither approved nor cancelled),
    or None."""
    row = await _one(
        conn,
        "SELECT g.id FROM group_handovers g JOIN handovers h ON h.group_handover_id = g.id"
        " WHERE g.sibling_group_id = ? AND h.state NOT IN ('closed', 'cancelled') ORDER BY g.id LIMIT 1",
        (sibling_group_id,),
    )
    return None if row is None else int(row[0])
