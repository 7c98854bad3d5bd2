"""Each child's allocation history: kept by every write that moves a case's allocation, and read as the allocations
data return (`core.allocations`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from service.core.allocations import AllocationFilter, AllocationReason, AllocationRecord
from service.db.engine import Conn, Database, _rows
from service.db.records import in_batches, record
from service.db.visibility import visible_sql


async def follow_allocation(
    conn: Conn, case_id: int, at: str, why: AllocationReason, handover_id: int | None = None
) -> None:
    """After a write to the case's allocated worker or team, in the same transaction: if the case's current
    allocation is no longer its worker and team, close it at `at` (UTC, as stored) and open the case's allocation as
    it now is, from `at`, with `why` and the handover that moved it. A write that left the worker and team as they
    were (an urgent transfer's approval) changes nothing. A case has exactly one current allocation (the schema's
    unique index `one_current_allocation_per_case`)."""
    await conn.execute(
        "UPDATE allocations SET allocated_to = ? WHERE case_id = ? AND allocated_to IS NULL AND EXISTS ("
        " SELECT 1 FROM cases c WHERE c.id = allocations.case_id"
        " AND (c.allocated_worker_id <> allocations.worker_id OR c.allocated_team_id <> allocations.team_id))",
        (at, case_id),
    )
    await conn.execute(
        "INSERT INTO allocations (case_id, worker_id, team_id, allocated_from, handover_id, why)"
        " SELECT c.id, c.allocated_worker_id, c.allocated_team_id, ?, ?, ? FROM cases c WHERE c.id = ?"
        " AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.case_id = c.id AND a.allocated_to IS NULL)",
        (at, handover_id, why, case_id),
    )


_ALLOCATION_SELECT = """
    SELECT a.case_id, c.reference AS child_reference, a.worker_id, u.name AS worker, a.team_id, t.name AS team,
           a.allocated_from, a.allocated_to, a.handover_id, a.why AS reason
    FROM allocations a
    JOIN cases c ON c.id = a.case_id
    JOIN users u ON u.id = a.worker_id
    JOIN teams t ON t.id = a.team_id
"""


def allocations_query(allocation_filter: AllocationFilter) -> tuple[str, list[Any]]:
    """The allocations the filter asks for, each case's together and oldest first (the JSON groups them by child)."""
    clauses: list[str] = []
    params: list[Any] = []
    teams = (
        [allocation_filter.team_id]
        if allocation_filter.team_id is not None
        else None
        if allocation_filter.scope is None
        else sorted(allocation_filter.scope)
    )
    if teams is not None:
        # the children whose case those teams held, or is in transfer from or to one of them: each child's whole
        # history, so that the return says where the child came from and where they went
        marks = ",".join("?" * len(teams)) or "NULL"
        chosen = frozenset(teams)
        # a transfer into a team the person only receives for counts once it has reached them (`visible_sql`)
        visible, visible_params = visible_sql(chosen, allocation_filter.receiving_only & chosen)
        clauses.append(
            f"a.case_id IN (SELECT x.case_id FROM allocations x WHERE x.team_id IN ({marks})"
            f" UNION SELECT h.case_id FROM handovers h WHERE h.state NOT IN ('closed', 'cancelled') AND {visible})"
        )
        params.extend([*teams, *visible_params])
    if allocation_filter.sibling_group_id is not None:
        clauses.append("c.sibling_group_id = ?")
        params.append(allocation_filter.sibling_group_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return _ALLOCATION_SELECT + where + " ORDER BY a.case_id, a.allocated_from, a.id", params


async def allocations_of(conn: Conn, allocation_filter: AllocationFilter) -> list[AllocationRecord]:
    """Every matching allocation at once: for a case's page and for tests; exports stream (`stream_allocations`)."""
    sql, params = allocations_query(allocation_filter)
    return [record(row, AllocationRecord) for row in await _rows(conn, sql, params)]


async def stream_allocations(
    database: Database, allocation_filter: AllocationFilter, batch: int = 1000
) -> AsyncIterator[AllocationRecord]:
    """Every matching allocation, a batch at a time, on a read-only connection of its own so that a long export holds
    up nobody."""
    sql, params = allocations_query(allocation_filter)
    # the rows are closed here, before the connection is, also when the reader stops early
    async with (
        database.read_only() as conn,
        aclosing(in_batches(conn, sql, params, batch, AllocationRecord)) as found_rows,
    ):
        async for found in found_rows:
            yield found
