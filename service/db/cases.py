"""Cases (one child each), their allocation, and sibling groups."""

from __future__ import annotations

from typing import Any

from service.core.allocations import AllocationReason
from service.db.allocations import follow_allocation
from service.db.engine import EVERY_ROW, Conn, _insert, _one, _rows, _total, now
from service.db.people import HELD_PENDING
from service.db.records import AllocatedCase, Case, record

# ---------------------------------------------------------------- cases

# The case's handovers are read through the case's index: the unary plus keeps the planner off the receiver's index,
# which would read every handover its allocated worker ever received, once for each of their cases.
_CASE_SELECT = (
    """
    SELECT c.id, c.reference, c.child_name, c.date_of_birth, c.sibling_group_id, g.name AS sibling_group,
           c.allocated_worker_id, u.name AS allocated_worker, c.allocated_team_id, t.name AS allocated_team,
           (SELECT h.id FROM handovers h WHERE h.case_id = c.id AND h.state NOT IN ('closed', 'cancelled'))
               AS open_handover_id,
           (SELECT MAX(h.id) FROM handovers h
             WHERE h.case_id = c.id AND +h.state = 'closed' AND +h.receiver_id = c.allocated_worker_id)
               AS received_by_handover_id,
           c.version, c.corrected_at, """
    + HELD_PENDING
    + """ AS held_pending_transfer
    FROM cases c
    JOIN users u ON u.id = c.allocated_worker_id
    JOIN teams t ON t.id = c.allocated_team_id
    LEFT JOIN sibling_groups g ON g.id = c.sibling_group_id
"""
)


async def create_sibling_group(conn: Conn, name: str) -> int:
    return await _insert(conn, "INSERT INTO sibling_groups (name) VALUES (?)", (name,))


async def sibling_group_names(conn: Conn, limit: int = EVERY_ROW) -> list[tuple[int, str]]:
    """Every sibling group (the first `limit`), as (id, name), oldest first."""
    rows = await _rows(conn, "SELECT id, name FROM sibling_groups ORDER BY id LIMIT ?", (limit,))
    return [(int(row["id"]), str(row["name"])) for row in rows]


async def create_case(
    conn: Conn,
    reference: str,
    child_name: str,
    date_of_birth: str,
    worker_id: int,
    team_id: int,
    sibling_group_id: int | None = None,
    *,
    why: AllocationReason = "opened",
) -> int:
    """Add a case allocated to `worker_id` in `team_id`, with its first allocation (`why`: opened or imported)."""
    stamp = now()
    case_id = await _insert(
        conn,
        "INSERT INTO cases (reference, child_name, date_of_birth, sibling_group_id, allocated_worker_id,"
        " allocated_team_id, allocated_since) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (reference, child_name, date_of_birth, sibling_group_id, worker_id, team_id, stamp),
    )
    await follow_allocation(conn, case_id, stamp, why)
    return case_id


async def case_by_id(conn: Conn, case_id: int) -> Case | None:
    row = await _one(conn, _CASE_SELECT + " WHERE c.id = ?", (case_id,))
    return record(row, Case) if row else None


# A case as its worker's own list shows it: the worker and their team, whom a full Case names, are the reader. Its
# handovers are read through the case's index, as in `_CASE_SELECT`.
_ALLOCATED_SELECT = (
    """
    SELECT c.id, c.reference, c.child_name, c.date_of_birth, g.name AS sibling_group,
           (SELECT h.id FROM handovers h WHERE h.case_id = c.id AND h.state NOT IN ('closed', 'cancelled'))
               AS open_handover_id,
           (SELECT MAX(h.id) FROM handovers h
             WHERE h.case_id = c.id AND +h.state = 'closed' AND +h.receiver_id = c.allocated_worker_id)
               AS received_by_handover_id, """
    + HELD_PENDING
    + """ AS held_pending_transfer
    FROM cases c
    LEFT JOIN sibling_groups g ON g.id = c.sibling_group_id
"""
)


def allocated_query(user_id: int) -> tuple[str, list[Any], str]:
    """The cases allocated to this worker, by the child's name (LIMIT ? OFFSET ? to follow), read by the worker's
    index, and the count of the same list."""
    where = "c.allocated_worker_id = ?"
    return (
        f"{_ALLOCATED_SELECT} WHERE {where} ORDER BY c.child_name, c.id",
        [user_id],
        f"SELECT COUNT(*) FROM cases c WHERE {where}",
    )


async def cases_allocated_to(
    conn: Conn, user_id: int, limit: int = EVERY_ROW, offset: int = 0
) -> tuple[list[AllocatedCase], int]:
    """One page (`limit` rows after `offset`) of the cases allocated to this worker, by the child's name, and how
    many there are in all."""
    sql, params, count_sql = allocated_query(user_id)
    rows = await _rows(conn, sql + " LIMIT ? OFFSET ?", [*params, limit, offset])
    return [record(r, AllocatedCase) for r in rows], await _total(conn, rows, count_sql, params, limit, offset)


async def reallocate_case(
    conn: Conn,
    case_id: int,
    worker_id: int,
    team_id: int,
    *,
    why: AllocationReason = "reallocated",
    handover_id: int | None = None,
) -> None:
    """Move the allocation in one statement, so the case is never without exactly one allocated worker, and its
    history with it (`why`: a closed handover, an urgent transfer; `handover_id` the handover that moved it)."""
    stamp = now()
    await conn.execute(
        "UPDATE cases SET allocated_worker_id = ?, allocated_team_id = ?, allocated_since = ? WHERE id = ?",
        (worker_id, team_id, stamp, case_id),
    )
    await follow_allocation(conn, case_id, stamp, why, handover_id)


async def sibling_group(conn: Conn, group_id: int) -> tuple[int, str] | None:
    row = await _one(conn, "SELECT id, name FROM sibling_groups WHERE id = ?", (group_id,))
    return (int(row["id"]), str(row["name"])) if row else None


async def case_by_reference(conn: Conn, reference: str) -> Case | None:
    row = await _one(conn, _CASE_SELECT + " WHERE c.reference = ?", (reference,))
    return record(row, Case) if row else None


async def case_by_reference_key(conn: Conn, key: str) -> Case | None:
    """The case whose reference, in lower case, is `key` (`validation.reference_key`)."""
    row = await _one(conn, _CASE_SELECT + " WHERE lower(c.reference) = ?", (key,))
    return record(row, Case) if row else None


async def case_ids_in_group(conn: Conn, group_id: int) -> list[int]:
    return [
        int(r[0]) for r in await _rows(conn, "SELECT id FROM cases WHERE sibling_group_id = ? ORDER BY id", (group_id,))
    ]
