"""The oversight page's counts and its two lists: SQL groups what it can, on a read-only connection.

Every query keeps to the handovers sent from or to a team in scope (`report.report_scope`), and to the one team
asked for; times are compared as stored (UTC, ISO 8601) with cut-offs the core works out in England's time.
"""

from __future__ import annotations

from typing import Any

import msgspec

from service.core.oversight import ClosedRecord, Counts
from service.core.pages import Page
from service.core.report import WAIT_BANDS, ReportTerms
from service.db.engine import Conn, _one, _rows
from service.db.handovers import MARKER_COLUMNS
from service.db.report import overdue_sql
from service.db.visibility import visible_sql

_OPEN = "h.state NOT IN ('closed', 'cancelled')"


def _teams_sql(
    scope: frozenset[int] | None, team_id: int | None, receiving_only: frozenset[int] = frozenset()
) -> tuple[str, list[Any]]:
    """ " AND ..." keeping to the handovers a person whose scope is `scope` (None: every team) may see
    (`report.visible_sql`: a team in `receiving_only` sees its incoming handovers once they reach it), and to those
    sent from or to `team_id`."""
    sql = ""
    params: list[Any] = []
    if scope is not None:
        visible, params = visible_sql(scope, receiving_only)
        sql += f" AND {visible}"
    if team_id is not None:
        sql += " AND (h.sending_team_id = ? OR h.receiving_team_id = ?)"
        params += [team_id, team_id]
    return sql, params


async def oversight_counts(
    conn: Conn,
    scope: frozenset[int] | None,
    team_id: int | None,
    *,
    wait_cutoffs: dict[str, str],
    terms: ReportTerms,
    closed_since: str,
    receiving_only: frozenset[int] = frozenset(),
) -> Counts:
    """The counts behind the oversight page (`core.oversight.Counts`). `wait_cutoffs`: `core.oversight.wait_cutoffs`;
    `terms`: the report's, for its overdue rule; `closed_since`: the stored time (UTC) the months shown begin."""
    teams, team_params = _teams_sql(scope, team_id, receiving_only)
    # bands from the longest wait down: a wait begun before a band's cut-off has lasted at least its fewest days
    ordered = sorted(wait_cutoffs.items(), key=lambda item: item[1])
    band_sql = "CASE" + "".join(" WHEN h.state_since < ? THEN ?" for _ in ordered) + " ELSE ? END"
    band_params: list[Any] = [value for band, cutoff in ordered for value in (cutoff, band)]
    first_band = next(iter(WAIT_BANDS))  # the shortest waits: begun after every cut-off
    overdue_clause, overdue_params = overdue_sql(terms)
    # one pass over the open handovers: by state and wait, how many, how many overdue, how many urgent
    open_rows = await _rows(
        conn,
        f"SELECT h.state, {band_sql} AS band, COUNT(*), SUM({overdue_clause}), SUM(h.urgent_by IS NOT NULL)"
        f" FROM handovers h WHERE {_OPEN}{teams} GROUP BY 1, 2",
        [*band_params, first_band, *overdue_params, *team_params],
    )
    overdue: dict[str, int] = {}
    for row in open_rows:
        overdue[row[0]] = overdue.get(row[0], 0) + int(row[3])
    stages = await _rows(
        conn,
        "SELECT d.stage, COUNT(DISTINCT d.handover_id) FROM disagreements d JOIN handovers h ON h.id = d.handover_id"
        f" WHERE d.status <> 'resolved' AND {_OPEN}{teams} GROUP BY d.stage",
        team_params,
    )
    returns = await _rows(
        conn,
        "SELECT substr(q.returned_at, 1, 13), COUNT(*) FROM queries q JOIN handovers h ON h.id = q.handover_id"
        f" WHERE q.returned_at >= ?{teams} GROUP BY 1",
        [closed_since, *team_params],
    )
    closed = await _rows(
        conn,
        "SELECT h.id, h.sending_team_id, h.receiving_team_id, h.started_at, h.approved_at FROM handovers h"
        f" WHERE h.state = 'closed' AND h.approved_at >= ?{teams}",
        [closed_since, *team_params],
    )
    return Counts(
        by_state_band={(row[0], row[1]): int(row[2]) for row in open_rows},
        overdue_by_state=overdue,
        disagreements_by_stage={row[0]: int(row[1]) for row in stages},
        returns_by_hour={row[0]: int(row[1]) for row in returns},
        urgent=sum(int(row[4]) for row in open_rows),
        closed=[
            ClosedRecord(
                id=row[0], sending_team_id=row[1], receiving_team_id=row[2], started_at=row[3], closed_at=row[4]
            )
            for row in closed
        ],
    )


class ClosedListed(msgspec.Struct, frozen=True, kw_only=True):
    """A closed handover on the list behind a closure-time figure."""

    id: int
    child_name: str
    child_reference: str
    sending_team: str
    receiving_team: str
    started_at: str
    closed_at: str
    held_pending_transfer: bool = False  # the markers every list carries (`core.case_records.markers`)
    on_behalf_of_name: str | None = None


class ReturnListed(msgspec.Struct, frozen=True, kw_only=True):
    """A return with a query on the list behind a month's returns."""

    handover_id: int
    child_name: str
    child_reference: str
    sending_team: str
    receiving_team: str
    returned_at: str
    replied_at: str | None
    held_pending_transfer: bool = False  # the markers every list carries (`core.case_records.markers`)
    on_behalf_of_name: str | None = None


_LISTED_FROM = (
    " JOIN cases c ON c.id = h.case_id JOIN teams st ON st.id = h.sending_team_id"
    " JOIN teams rt ON rt.id = h.receiving_team_id"
)


async def _listed_page(
    conn: Conn, source: str, columns: str, where: str, order: str, params: list[Any], page_size: int, number: int
) -> tuple[list[Any], int]:
    """Page `number` of `page_size` of a list behind a figure (`columns` of the handovers in `source` matching
    `where`, in `order`, with the case, the teams and the markers every list carries), and how many there are."""
    total_row = await _one(conn, f"SELECT COUNT(*) FROM {source}{where}", params)
    total = int(total_row[0]) if total_row else 0
    page = Page(number, page_size, total)
    rows = await _rows(
        conn,
        f"SELECT {columns}, {MARKER_COLUMNS} FROM {source}{_LISTED_FROM}{where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, page.size, page.offset],
    )
    return list(rows), total


async def closed_in(
    conn: Conn,
    scope: frozenset[int] | None,
    team_id: int | None,
    since: str,
    before: str,
    page_size: int,
    number: int,
    receiving_only: frozenset[int] = frozenset(),
) -> tuple[list[ClosedListed], int]:
    """Handovers closed from `since` up to `before` (stored times, UTC), earliest closure first: page `number` of
    `page_size`, and how many there are in all."""
    teams, params = _teams_sql(scope, team_id, receiving_only)
    where = f" WHERE h.state = 'closed' AND h.approved_at >= ? AND h.approved_at < ?{teams}"
    rows, total = await _listed_page(
        conn, "handovers h", "h.id, c.child_name, c.reference, st.name, rt.name, h.started_at, h.approved_at",
        where, "h.approved_at, h.id", [since, before, *params], page_size, number,
    )  # fmt: skip
    listed = [
        ClosedListed(id=r[0], child_name=r[1], child_reference=r[2], sending_team=r[3], receiving_team=r[4],
                     started_at=r[5], closed_at=r[6], held_pending_transfer=bool(r[7]), on_behalf_of_name=r[8])
        for r in rows
    ]  # fmt: skip
    return listed, total


async def returns_in(
    conn: Conn,
    scope: frozenset[int] | None,
    team_id: int | None,
    since: str,
    before: str,
    page_size: int,
    number: int,
    receiving_only: frozenset[int] = frozenset(),
) -> tuple[list[ReturnListed], int]:
    """Returns with a query from `since` up to `before` (stored times, UTC), earliest first: page `number` of
    `page_size`, and how many there are in all."""
    teams, params = _teams_sql(scope, team_id, receiving_only)
    where = f" WHERE q.returned_at >= ? AND q.returned_at < ?{teams}"
    rows, total = await _listed_page(
        conn, "queries q JOIN handovers h ON h.id = q.handover_id",
        "h.id, c.child_name, c.reference, st.name, rt.name, q.returned_at, q.replied_at",
        where, "q.returned_at, q.id", [since, before, *params], page_size, number,
    )  # fmt: skip
    listed = [
        ReturnListed(handover_id=r[0], child_name=r[1], child_reference=r[2], sending_team=r[3], receiving_team=r[4],
                     returned_at=r[5], replied_at=r[6], held_pending_transfer=bool(r[7]), on_behalf_of_name=r[8])
        for r in rows
    ]  # fmt: skip
    return listed, total
