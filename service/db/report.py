"""The auditors' report of incomplete handovers: every filter, sort and page runs in SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import date
from functools import partial
from typing import Any

import aiosqlite

from service.checklist import Checklist
from service.core.deadlines import WAIT_OF_STATE
from service.core.due_dates import due_on_stored
from service.core.pages import Page
from service.core.report import WAITING_FOR_STATES, IncompleteRecord, ReportFilter, ReportTerms
from service.db.cases import sibling_group_names
from service.db.engine import EVERY_ROW, Conn, Database, LoopConnection, _one, _rows
from service.db.handovers import _HANDOVER_FROM, MARKER_COLUMNS, TELLING_COLUMNS
from service.db.records import in_batches, record
from service.db.telling import SETTLED
from service.db.visibility import visible_sql

# ---------------------------------------------------------------- the auditors' report

_INCOMPLETE_SELECT = (
    """
    SELECT h.id, c.reference AS case_reference, g.name AS sibling_group, h.checklist_id, h.checklist_version,
           h.state, h.author_id, a.name AS author, h.sending_team_id, st.name AS sending_team,
           h.receiver_id, r.name AS receiver, h.receiving_team_id, rt.name AS receiving_team,
           h.started_at, h.submitted_at, h.state_since, h.last_activity_at, h.endorsed_by, h.acknowledged_by,
           h.record_flags, h.urgent_at, h.urgent_by,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved')
               AS open_disagreements,
           COALESCE((SELECT group_concat(d.stage || char(31) || d.stage_since, char(30)) FROM disagreements d
                     WHERE d.handover_id = h.id AND d.status <> 'resolved'), '') AS open_disagreement_stages,
           COALESCE((SELECT group_concat(section_id) FROM (SELECT s.section_id FROM sections s
                     WHERE s.handover_id = h.id AND s.status = 'completed' ORDER BY s.section_id) done), '')
               AS completed_sections,
           COALESCE((SELECT group_concat(section_id) FROM (SELECT s.section_id FROM sections s
                     WHERE s.handover_id = h.id AND s.critical = 1 AND NOT EXISTS (
                         SELECT 1 FROM confirmations f
                         WHERE f.handover_id = s.handover_id AND f.section_id = s.section_id)
                     ORDER BY s.section_id) unconfirmed), '')
               AS unconfirmed_critical,
           COALESCE((SELECT group_concat(xc.child_name || ' (' || xc.reference || '): ' || x.reason, char(30))
                     FROM group_exclusions x JOIN cases xc ON xc.id = x.case_id
                     WHERE x.group_handover_id = h.group_handover_id),
                    (SELECT group_concat(sc.child_name || ' (' || sc.reference || '): ' || ar.reason, char(30))
                     FROM sibling_apart_reasons ar JOIN cases oc ON oc.id = h.case_id
                     JOIN cases sc ON sc.sibling_group_id = oc.sibling_group_id AND sc.id <> oc.id
                     WHERE ar.handover_id = h.id), '') AS left_out_of_group,
"""
    + TELLING_COLUMNS
    + MARKER_COLUMNS
    + _HANDOVER_FROM
)

_BLOCKER_SQL = {
    "returned_with_query": "h.state = 'returned'",
    "awaiting_endorsement": "h.state = 'submitted'",
    "awaiting_acknowledgement": "h.state = 'endorsed'",
    "awaiting_approval": "h.state = 'acknowledged'",
    "stale_record": "h.record_flags <> '[]'",
    "open_disagreement": "EXISTS (SELECT 1 FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved')",
    "agency_not_told": "EXISTS (SELECT 1 FROM agency_contacts ac WHERE ac.handover_id = h.id AND NOT " + SETTLED + ")",
}
_ORDER_SQL = {
    "oldest": "h.started_at, h.id",
    "newest": "h.started_at DESC, h.id DESC",
    "last_activity": "h.last_activity_at, h.id",
    "state": "h.state, h.started_at, h.id",
    # the due date, earliest first, is how overdue, most first (see _due_on_function)
    "most_overdue": "handover_due_on(h.state, h.state_since, h.started_at, h.urgent_at), h.id",
}


def _due_on(
    checklist: Checklist, today: date, state: str, state_since: str, started_at: str, urgent_at: str | None
) -> str | None:
    """The handover's due date (ISO, in England) for the report's sort: `deadlines.due`, the one rule, itself."""
    found = due_on_stored(checklist, state, state_since, started_at, urgent_at, today)
    return found.due_on.isoformat() if found else None


def _in_sqlite(conn: Conn) -> bool:
    return isinstance(conn, LoopConnection | aiosqlite.Connection)


async def _due_on_function(conn: Conn, terms: ReportTerms) -> None:
    """Give a SQLite connection `handover_due_on(state, state_since, started_at, urgent_at)` for the sort by due
    date: the rule counts working days across bank holidays and dates in England, which SQL cannot, and the sort
    runs in SQL for the report's pages. Only the page being read is built in Python; the function is called once a
    row. PostgreSQL cannot call Python, so there the order is found by `_ids_by_due_date`."""
    function = partial(_due_on, *_due_terms(terms))
    if isinstance(conn, LoopConnection):
        conn.raw.create_function("handover_due_on", 4, function, deterministic=True)
    elif isinstance(conn, aiosqlite.Connection):
        await conn.create_function("handover_due_on", 4, function, deterministic=True)


def _due_terms(terms: ReportTerms) -> tuple[Checklist, date]:
    if terms.due_checklist is None or terms.today is None:
        raise ValueError("the report's terms carry no time limits or day to sort by")
    return terms.due_checklist, terms.today


async def _ids_by_due_date(
    conn: Conn, report_filter: ReportFilter, started_before: str | None, terms: ReportTerms
) -> list[int]:
    """The matching handovers' ids in the order of the sort by due date (`_ORDER_SQL["most_overdue"]`: no due date
    first, then earliest due, then by id), each due date found by the same rule in Python. Reads four columns of
    every incomplete handover that matches, which is what SQLite's sort reads too."""
    checklist, today = _due_terms(terms)
    where, params = _incomplete_where(report_filter, started_before, terms)
    rows = await _rows(
        conn, "SELECT h.id, h.state, h.state_since, h.started_at, h.urgent_at FROM handovers h" + where, params
    )
    keyed = [(due is not None, due or "", int(row[0])) for row in rows for due in [_due_on(checklist, today, *row[1:])]]
    return [handover_id for _, _, handover_id in sorted(keyed)]


async def _incomplete_by_ids(conn: Conn, handover_ids: list[int]) -> list[IncompleteRecord]:
    """The report's rows for these handovers, in the order given."""
    if not handover_ids:
        return []
    marks = ",".join("?" * len(handover_ids))
    rows = await _rows(conn, _INCOMPLETE_SELECT + f" WHERE h.id IN ({marks})", handover_ids)
    by_id = {int(row["id"]): record(row, IncompleteRecord) for row in rows}
    return [by_id[handover_id] for handover_id in handover_ids if handover_id in by_id]


def overdue_sql(terms: ReportTerms) -> tuple[str, list[Any]]:
    """Overdue on the report's day: the whole transfer's wait, an urgent transfer's, or its step's wait began before
    that wait's cut-off (`due_dates.overdue_cutoffs`); the earliest due date applies, so any one overdue is enough."""
    cutoffs = terms.overdue_since
    steps = [(state.value, cutoffs[wait]) for state, wait in WAIT_OF_STATE.items()]
    sql = (
        "(h.started_at < ? OR (h.urgent_at IS NOT NULL AND h.urgent_at < ?)"
        + "".join(" OR (h.state = ? AND h.state_since < ?)" for _ in steps)
        + ")"
    )
    params: list[Any] = [cutoffs["transfer"], cutoffs["urgent_completion"]]
    for state, cutoff in steps:
        params.extend([state, cutoff])
    return sql, params


def _incomplete_where(
    report_filter: ReportFilter, started_before: str | None, terms: ReportTerms
) -> tuple[str, list[Any]]:
    """The WHERE clause for a ReportFilter: every filter runs in SQL, so only one page is ever built in Python."""
    clauses = ["h.state NOT IN ('closed', 'cancelled')"]
    params: list[Any] = []
    sides = {"sending": ["h.sending_team_id"], "receiving": ["h.receiving_team_id"]}.get(
        report_filter.team_side, ["h.sending_team_id", "h.receiving_team_id"]
    )
    # the side is the chosen team's, or else the side of any team in the person's scope: "receiving" for a manager of
    # two teams is what is coming to either of them
    sided = (
        [report_filter.team_id]
        if report_filter.team_id is not None
        else sorted(report_filter.scope)
        if report_filter.scope is not None and report_filter.team_side != "either"
        else None
    )
    if sided is not None:
        marks = ",".join("?" * len(sided)) or "NULL"
        clauses.append("(" + " OR ".join(f"{side} IN ({marks})" for side in sides) + ")")
        params.extend(sided * len(sides))
    if report_filter.state is not None:
        clauses.append("h.state = ?")
        params.append(report_filter.state)
    if report_filter.sibling_group_id is not None:
        # by subquery, not the cases join: the count reads the handovers alone
        clauses.append("h.case_id IN (SELECT id FROM cases WHERE sibling_group_id = ?)")
        params.append(report_filter.sibling_group_id)
    if report_filter.blocker == "missing_sections":
        cases = " ".join("WHEN ? THEN ?" for _ in terms.section_counts)
        clauses.append(
            "h.state IN ('draft', 'returned') AND (SELECT COUNT(*) FROM sections s WHERE s.handover_id = h.id"
            f" AND s.status = 'completed') < (CASE h.checklist_id || ':' || h.checklist_version {cases} ELSE 0 END)"
        )
        for (checklist_id, version), count in terms.section_counts.items():
            params.extend([f"{checklist_id}:{version}", count])
    elif report_filter.blocker == "overdue_disagreement":
        # overdue: reached its stage on or before the stage's cut-off date (core.disagreements.overdue_before)
        cases = " ".join("WHEN ? THEN ?" for _ in terms.overdue_before)
        clauses.append(
            "EXISTS (SELECT 1 FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved'"
            " AND d.stage_since <= (CASE h.checklist_id || ':' || h.checklist_version || ':' || d.stage"
            f" {cases} ELSE '' END))"
        )
        for (checklist_id, version, stage), cutoff in terms.overdue_before.items():
            params.extend([f"{checklist_id}:{version}:{stage}", cutoff])
    elif report_filter.blocker is not None:
        clauses.append(_BLOCKER_SQL[report_filter.blocker])
    if report_filter.overdue:
        overdue_clause, overdue_params = overdue_sql(terms)
        clauses.append(overdue_clause)
        params.extend(overdue_params)
    if report_filter.waited is not None:
        # the wait's band as stored times (core.report.wait_band_cutoffs): SQL cannot count working days in England
        if report_filter.waited not in terms.waited_since:
            raise ValueError("the report's terms carry no cut-offs for how long a handover has waited")
        since, before = terms.waited_since[report_filter.waited]
        if since is not None:
            clauses.append("h.state_since >= ?")
            params.append(since)
        if before is not None:
            clauses.append("h.state_since < ?")
            params.append(before)
    if report_filter.waiting_for is not None:
        states = WAITING_FOR_STATES[report_filter.waiting_for]
        clauses.append(f"h.state IN ({','.join('?' * len(states))})")
        params.extend(states)
    if report_filter.urgent:
        clauses.append("h.urgent_by IS NOT NULL")  # still completing: the first clause leaves out closed ones
    if report_filter.disagreement_stage is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM disagreements d WHERE d.handover_id = h.id AND d.status <> 'resolved'"
            " AND d.stage = ?)"
        )
        params.append(report_filter.disagreement_stage)
    if report_filter.scope is not None:
        visible, visible_params = visible_sql(report_filter.scope, report_filter.receiving_only)
        clauses.append(visible)
        params.extend(visible_params)
    if started_before is not None:
        clauses.append("h.started_at < ?")
        params.append(started_before)
    return " WHERE " + " AND ".join(clauses), params


async def count_incomplete(
    conn: Conn, report_filter: ReportFilter, started_before: str | None, terms: ReportTerms
) -> int:
    where, params = _incomplete_where(report_filter, started_before, terms)
    row = await _one(conn, "SELECT COUNT(*) FROM handovers h" + where, params)
    return int(row[0]) if row else 0


async def child_names(conn: Conn, handover_ids: list[int]) -> dict[int, str]:
    """The name of the child each handover is about, for the report's page (its exports carry the reference)."""
    if not handover_ids:
        return {}
    marks = ",".join("?" * len(handover_ids))
    rows = await _rows(
        conn,
        f"SELECT h.id, c.child_name FROM handovers h JOIN cases c ON c.id = h.case_id WHERE h.id IN ({marks})",
        handover_ids,
    )
    return {int(row[0]): str(row[1]) for row in rows}


async def sibling_group_ids(conn: Conn, handover_ids: list[int]) -> dict[int, int]:
    """The sibling group of the child each handover is about, for the handovers whose child is in one: the report's
    page shows its number beside its name, to filter by."""
    if not handover_ids:
        return {}
    marks = ",".join("?" * len(handover_ids))
    rows = await _rows(
        conn,
        f"SELECT h.id, c.sibling_group_id FROM handovers h JOIN cases c ON c.id = h.case_id WHERE h.id IN ({marks})"
        " AND c.sibling_group_id IS NOT NULL",
        handover_ids,
    )
    return {int(row[0]): int(row[1]) for row in rows}


def incomplete_query(
    report_filter: ReportFilter, started_before: str | None, terms: ReportTerms
) -> tuple[str, list[Any]]:
    where, params = _incomplete_where(report_filter, started_before, terms)
    return _INCOMPLETE_SELECT + where + " ORDER BY " + _ORDER_SQL[report_filter.sort], params


async def incomplete_page(
    conn: Conn,
    report_filter: ReportFilter,
    started_before: str | None,
    terms: ReportTerms,
    page: Page,
) -> list[IncompleteRecord]:
    if report_filter.sort == "most_overdue" and not _in_sqlite(conn):
        ordered = await _ids_by_due_date(conn, report_filter, started_before, terms)
        return await _incomplete_by_ids(conn, ordered[page.offset : page.offset + page.size])
    sql, params = incomplete_query(report_filter, started_before, terms)
    if report_filter.sort == "most_overdue":
        await _due_on_function(conn, terms)
    rows = await _rows(conn, sql + " LIMIT ? OFFSET ?", [*params, page.size, page.offset])
    return [record(row, IncompleteRecord) for row in rows]


async def stream_incomplete(
    database: Database,
    report_filter: ReportFilter,
    started_before: str | None,
    terms: ReportTerms,
    batch: int = 1000,
) -> AsyncIterator[IncompleteRecord]:
    """Every matching row, a batch at a time, on a connection of its own so a long export holds up nobody."""
    sql, params = incomplete_query(report_filter, started_before, terms)
    async with database.read_only() as conn:
        if report_filter.sort == "most_overdue" and not _in_sqlite(conn):
            ordered = await _ids_by_due_date(conn, report_filter, started_before, terms)
            for start in range(0, len(ordered), batch):
                for found in await _incomplete_by_ids(conn, ordered[start : start + batch]):
                    yield found
            return
        if report_filter.sort == "most_overdue":
            await _due_on_function(conn, terms)
        # closed here, before the connection is, also when the reader stops early
        async with aclosing(in_batches(conn, sql, params, batch, IncompleteRecord)) as found_rows:
            async for found in found_rows:
                yield found


async def handover_counts(conn: Conn) -> tuple[dict[str, int], str | None]:
    """How many handovers are in each state, and when the oldest incomplete one started."""
    rows = await _rows(conn, "SELECT state, COUNT(*) FROM handovers GROUP BY state")
    oldest = await _one(conn, "SELECT MIN(started_at) FROM handovers WHERE state NOT IN ('closed', 'cancelled')")
    return {r[0]: int(r[1]) for r in rows}, (oldest[0] if oldest else None)


async def sibling_groups_in_scope(
    conn: Conn, scope: frozenset[int] | None, receiving_only: frozenset[int] = frozenset(), limit: int = EVERY_ROW
) -> list[tuple[int, str]]:
    """The sibling groups a person whose report is limited to `scope` (team ids; None for every team) may choose
    from, as (id, name), oldest first, the first `limit` of them: every group for everyone, otherwise the groups with
    a child whose handover was sent from or to one of the teams (a group's name is its family's, not to be shown to
    other teams' managers)."""
    if scope is None:
        return await sibling_group_names(conn, limit)
    visible, params = visible_sql(scope, receiving_only)
    rows = await _rows(
        conn,
        "SELECT DISTINCT g.id, g.name FROM sibling_groups g JOIN cases c ON c.sibling_group_id = g.id"
        f" JOIN handovers h ON h.case_id = c.id WHERE {visible} ORDER BY g.id LIMIT ?",
        [*params, limit],
    )
    return [(int(row[0]), str(row[1])) for row in rows]
