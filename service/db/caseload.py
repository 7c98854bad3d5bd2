"""A person's caseload as their team managers see it: the people whose children a manager may transfer, each
child on a caseload and where they are now, caseload transfers, and long-term absences."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from service.core.caseload import Sides
from service.db.allocations import follow_allocation
from service.db.engine import Conn, _insert, _one, now
from service.db.records import record


class CaseloadPerson(msgspec.Struct, frozen=True, kw_only=True):
    """A worker in a team the manager manages (or a leaver whose cases it holds), with how many children are theirs."""

    id: int
    name: str
    disabled: bool
    absent: bool
    teams: str  # the manager's teams the person works in, joined with "; "
    children: int  # allocated to them, or held by a manager pending transfer since they left
    # their groups at the council's provider give them no access any more, while they are kept in a team (they hold
    # cases there): they cannot sign in (actions.directory)
    left_directory: bool = False


class CaseloadChild(msgspec.Struct, frozen=True, kw_only=True):
    """A child on a person's caseload: theirs now, held pending transfer since they left, or on the caseload
    transfer when it began."""

    id: int
    reference: str
    child_name: str
    team_id: int
    team: str
    allocated_worker_id: int
    allocated_worker: str
    on_caseload: bool  # allocated to the person, or held for them pending transfer
    held_pending_transfer: bool
    handover_id: int | None  # the open handover of the case, if any
    handover_state: str | None
    handover_author: str | None
    # what the open handover's due date is worked out from (core.due_dates): stored times, UTC
    handover_state_since: str | None = None
    handover_started_at: str | None = None
    handover_urgent_at: str | None = None
    handover_urgent_by: int | None = None  # the head of service who authorised it urgently


class CaseloadTransfer(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    person_id: int
    started_by: int
    started_by_name: str
    started_at: str


class Absence(msgspec.Struct, frozen=True, kw_only=True):
    recorded_by_name: str
    recorded_at: str


async def _named_rows(conn: Conn, sql: str, params: Mapping[str, Any]) -> list[sqlite3.Row]:
    """Rows for SQL with named parameters (the person's id recurs, and the teams are a list)."""
    return list(await conn.execute_fetchall(sql, params))


# A case is on a person's caseload while it is allocated to them, or held by its team's manager since they left.
_ON_CASELOAD = (
    "(c.allocated_worker_id = :person OR (c.held_from_id = :person AND c.interim_holder_id IS NOT NULL"
    " AND c.interim_holder_id = c.allocated_worker_id))"
)


def _named(team_ids: Sequence[int]) -> dict[str, int]:
    return {f"t{index}": team_id for index, team_id in enumerate(team_ids)}


def _in_teams(column: str, team_ids: Sequence[int]) -> str:
    return f"{column} IN ({','.join(':' + name for name in _named(team_ids))})" if team_ids else "0"


async def people_with_caseloads(conn: Conn, team_ids: Sequence[int]) -> list[CaseloadPerson]:
    """The workers of these teams, enabled or disabled, and anyone whose cases in them are held pending transfer
    since they left, by name."""
    teams = _in_teams("m.team_id", team_ids)
    rows = await _named_rows(
        conn,
        "SELECT u.id, u.name, u.disabled, EXISTS (SELECT 1 FROM absences a WHERE a.user_id = u.id) AS absent,"
        " COALESCE((SELECT group_concat(name, '; ') FROM (SELECT t.name FROM memberships m"
        f"   JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id AND m.role = 'worker' AND {teams}"
        "   ORDER BY t.name) named), '') AS teams,"
        " (SELECT COUNT(*) FROM cases c WHERE "
        + _ON_CASELOAD.replace(":person", "u.id")
        + " AND "
        + _in_teams("c.allocated_team_id", team_ids)
        + ") AS children,"
        " EXISTS (SELECT 1 FROM oidc_identities i WHERE i.user_id = u.id AND i.groups_lost_at IS NOT NULL)"
        " AS left_directory"
        " FROM users u WHERE u.is_service = 0 AND ("
        f"  EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'worker' AND {teams})"
        "  OR EXISTS (SELECT 1 FROM cases c WHERE c.held_from_id = u.id AND "
        + _in_teams("c.allocated_team_id", team_ids)
        + "))"
        " ORDER BY u.disabled, u.name COLLATE NOCASE, u.id",
        _named(team_ids),
    )
    return [record(r, CaseloadPerson) for r in rows]


async def person_with_caseload(conn: Conn, person_id: int, team_ids: Sequence[int]) -> CaseloadPerson | None:
    """One person as `people_with_caseloads` lists them, or None when they are not among them."""
    return next((p for p in await people_with_caseloads(conn, team_ids) if p.id == person_id), None)


async def caseload(conn: Conn, person_id: int, team_ids: Sequence[int], transfer_id: int | None) -> list[CaseloadChild]:
    """The children on this person's caseload in these teams, and those on the caseload transfer when it began,
    by child's name."""
    rows = await _named_rows(
        conn,
        "SELECT c.id, c.reference, c.child_name, c.allocated_team_id AS team_id, t.name AS team,"
        " c.allocated_worker_id, u.name AS allocated_worker,"
        f" {_ON_CASELOAD} AS on_caseload,"
        " (c.held_from_id = :person AND c.interim_holder_id IS NOT NULL"
        "  AND c.interim_holder_id = c.allocated_worker_id) AS held_pending_transfer,"
        " h.id AS handover_id, h.state AS handover_state, a.name AS handover_author,"
        " h.state_since AS handover_state_since, h.started_at AS handover_started_at,"
        " h.urgent_at AS handover_urgent_at, h.urgent_by AS handover_urgent_by"
        " FROM cases c JOIN teams t ON t.id = c.allocated_team_id JOIN users u ON u.id = c.allocated_worker_id"
        " LEFT JOIN handovers h ON h.case_id = c.id AND h.state NOT IN ('closed', 'cancelled')"
        " LEFT JOIN users a ON a.id = h.author_id"
        f" WHERE ({_ON_CASELOAD} AND {_in_teams('c.allocated_team_id', team_ids)})"
        "  OR c.id IN (SELECT case_id FROM caseload_cases WHERE transfer_id = :transfer)"
        " ORDER BY c.child_name COLLATE NOCASE, c.id",
        {"person": person_id, "transfer": transfer_id or 0, **_named(team_ids)},
    )
    return [record(r, CaseloadChild) for r in rows]


async def on_caseload(conn: Conn, case_id: int, person_id: int, team_ids: Sequence[int]) -> bool:
    """Whether the case is on this person's caseload in one of these teams."""
    rows = await _named_rows(
        conn,
        f"SELECT 1 FROM cases c WHERE c.id = :case AND {_ON_CASELOAD} AND {_in_teams('c.allocated_team_id', team_ids)}",
        {"case": case_id, "person": person_id, **_named(team_ids)},
    )
    return bool(rows)


async def held_for(conn: Conn, case_id: int) -> int | None:
    """The leaver whose case this is, while a team manager holds it pending transfer since they left; else None."""
    row = await _one(
        conn,
        "SELECT held_from_id FROM cases WHERE id = ? AND held_from_id IS NOT NULL AND interim_holder_id IS NOT NULL"
        " AND interim_holder_id = allocated_worker_id",
        (case_id,),
    )
    return None if row is None else int(row["held_from_id"])


async def latest_transfer(conn: Conn, person_id: int) -> CaseloadTransfer | None:
    row = await _one(
        conn,
        "SELECT x.id, x.person_id, x.started_by, u.name AS started_by_name, x.started_at"
        " FROM caseload_transfers x JOIN users u ON u.id = x.started_by"
        " WHERE x.person_id = ? ORDER BY x.id DESC LIMIT 1",
        (person_id,),
    )
    return record(row, CaseloadTransfer) if row else None


async def create_transfer(conn: Conn, person_id: int, started_by: int, case_ids: Sequence[int]) -> int:
    """A caseload transfer, with the cases on the caseload as it begins."""
    transfer_id = await _insert(
        conn,
        "INSERT INTO caseload_transfers (person_id, started_by, started_at) VALUES (?, ?, ?)",
        (person_id, started_by, now()),
    )
    await conn.executemany(
        "INSERT INTO caseload_cases (transfer_id, case_id) VALUES (?, ?)", [(transfer_id, c) for c in case_ids]
    )
    return transfer_id


async def absence(conn: Conn, person_id: int) -> Absence | None:
    """The person's long-term absence as recorded, or None."""
    row = await _one(
        conn,
        "SELECT u.name AS recorded_by_name, a.recorded_at FROM absences a JOIN users u ON u.id = a.recorded_by"
        " WHERE a.user_id = ?",
        (person_id,),
    )
    return record(row, Absence) if row else None


async def record_absence(conn: Conn, person_id: int, recorded_by: int) -> None:
    await conn.execute(
        "INSERT INTO absences (user_id, recorded_by, recorded_at) VALUES (?, ?, ?)", (person_id, recorded_by, now())
    )


async def end_absence(conn: Conn, person_id: int) -> None:
    await conn.execute("DELETE FROM absences WHERE user_id = ?", (person_id,))


async def set_on_behalf(conn: Conn, handover_id: int, person_id: int) -> None:
    """The handover's author writes it for this person (see `core.caseload.author_for`)."""
    await conn.execute("UPDATE handovers SET on_behalf_of = ? WHERE id = ?", (person_id, handover_id))


class AuthoredHandover(msgspec.Struct, frozen=True, kw_only=True):
    """An open handover a person wrote, with the people already on its other side (`core.caseload.Sides`)."""

    id: int
    state: str
    child_name: str
    sending_team_id: int
    sending_team: str
    receiver_id: int | None
    endorsed_by: int | None
    acknowledged_by: int | None
    named_endorser: int | None
    named_approver: int | None
    on_behalf_of: int | None  # whom it is already written for (a leaver whose handover a manager continued), if anyone
    on_behalf_name: str | None
    on_behalf_username: str | None

    def written_for(self, author_name: str) -> str:
        """Whom the handover is really written for: the person it already continues on behalf of, or its author."""
        return self.on_behalf_name or author_name

    @property
    def sides(self) -> Sides:
        return Sides(
            state=self.state, receiver_id=self.receiver_id, endorsed_by=self.endorsed_by,
            acknowledged_by=self.acknowledged_by, named_endorser=self.named_endorser,
            named_approver=self.named_approver,
        )  # fmt: skip


async def authored_open_handovers(conn: Conn, person_id: int) -> list[AuthoredHandover]:
    """The open handovers this person is the author of, oldest first."""
    rows = await _named_rows(
        conn,
        "SELECT h.id, h.state, c.child_name, h.sending_team_id, t.name AS sending_team, h.receiver_id,"
        " h.endorsed_by, h.acknowledged_by,"
        " (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'endorse')"
        "  AS named_endorser,"
        " (SELECT n.user_id FROM named_managers n WHERE n.handover_id = h.id AND n.step = 'approve')"
        "  AS named_approver,"
        " h.on_behalf_of, ob.name AS on_behalf_name, ob.username AS on_behalf_username"
        " FROM handovers h JOIN cases c ON c.id = h.case_id JOIN teams t ON t.id = h.sending_team_id"
        " LEFT JOIN users ob ON ob.id = h.on_behalf_of"
        " WHERE h.author_id = :person AND h.state NOT IN ('closed', 'cancelled') ORDER BY h.id",
        {"person": person_id},
    )
    return [record(r, AuthoredHandover) for r in rows]


async def hold_pending_transfer(conn: Conn, case_id: int, holder_id: int) -> None:
    """Allocate the case to a manager as interim holder, in one statement (never without a holder). It stays on the
    caseload of the worker it was first held from: a case already held pending transfer (its holder is leaving in
    turn) keeps naming that worker, and any other case names the worker who holds it now (SQLite reads the old row
    on the right)."""
    stamp = now()
    await conn.execute(
        "UPDATE cases SET held_from_id = CASE WHEN interim_holder_id IS NOT NULL"
        "  AND interim_holder_id = allocated_worker_id AND held_from_id IS NOT NULL"
        "  THEN held_from_id ELSE allocated_worker_id END,"
        " allocated_worker_id = ?, interim_holder_id = ?, allocated_since = ? WHERE id = ?",
        (holder_id, holder_id, stamp, case_id),
    )
    await follow_allocation(conn, case_id, stamp, "held_pending_transfer")
