"""People, teams and memberships; service accounts' API tokens; sign-in throttling's counters."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from service.db.allocations import follow_allocation
from service.db.engine import Conn, _insert, _one, _rows, now
from service.db.records import ApiToken, Membership, Team, User, record

# ---------------------------------------------------------------- people and teams


async def create_team(conn: Conn, name: str) -> int:
    return await _insert(conn, "INSERT INTO teams (name) VALUES (?)", (name,))


async def teams(conn: Conn) -> list[Team]:
    return [Team(r["id"], r["name"]) for r in await _rows(conn, "SELECT id, name FROM teams ORDER BY name")]


async def create_user(
    conn: Conn,
    username: str,
    name: str,
    password_hash: str,
    *,
    is_auditor: bool = False,
    is_admin: bool = False,
    is_service: bool = False,
) -> int:
    return await _insert(
        conn,
        "INSERT INTO users (username, name, password_hash, is_auditor, is_admin, is_service, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (username, name, password_hash, is_auditor, is_admin, is_service, now()),
    )


async def replace_password_hash(conn: Conn, user_id: int, old_hash: str, new_hash: str) -> None:
    """Store a new hash of the same password, unless the stored hash is no longer `old_hash`."""
    await conn.execute(
        "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", (new_hash, user_id, old_hash)
    )


async def add_membership(conn: Conn, user_id: int, team_id: int, role: str) -> bool:
    """Add a membership; False if the person already had it (nothing changes then)."""
    cursor = await conn.execute(
        "INSERT INTO memberships (user_id, team_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (user_id, team_id, role),
    )
    return bool(cursor.rowcount)


# Whether a manager has recorded the person's long-term absence (`actions.caseload.record_absence`), read with the
# person: every request's actor carries it, so the state machine refuses their writes while it lasts.
_ABSENT = "EXISTS (SELECT 1 FROM absences a WHERE a.user_id = u.id) AS absent"
# The teams a person oversees from one step up: every team for the head of service, the teams of each service they
# manage otherwise (comma-separated ids; '' for none). They are told when a wait there is overdue, so they may read it.
# Asked on every request, so it must not grow with the service: the teams are listed only for the head of service
# (all of them) or through the services a person manages (`services_by_manager`, `teams_by_service`); anyone else,
# nearly everyone, costs two index lookups. (As one condition over every team, each request read every team: at a
# million handovers, 2,584 of them, doubling GET /ping.)
_OVERSEES = (
    "COALESCE(CASE WHEN EXISTS (SELECT 1 FROM head_of_service hs WHERE hs.user_id = u.id)"
    " THEN (SELECT group_concat(o.id) FROM teams o)"
    " ELSE (SELECT group_concat(o.id) FROM services s JOIN teams o ON o.service_id = s.id"
    " WHERE s.service_manager_id = u.id) END, '') AS overseen_teams"
)


async def user_by_username(conn: Conn, username: str) -> User | None:
    row = await _one(conn, f"SELECT u.*, {_ABSENT} FROM users u WHERE u.username = ?", (username,))
    return record(row, User) if row else None


async def user_by_id(conn: Conn, user_id: int) -> User | None:
    row = await _one(conn, f"SELECT u.*, {_ABSENT} FROM users u WHERE u.id = ?", (user_id,))
    return record(row, User) if row else None


async def memberships(conn: Conn, user_id: int) -> list[Membership]:
    rows = await _rows(
        conn,
        "SELECT m.team_id, t.name AS team_name, m.role FROM memberships m JOIN teams t ON t.id = m.team_id"
        " WHERE m.user_id = ? ORDER BY t.name",
        (user_id,),
    )
    return [Membership(r["team_id"], r["team_name"], r["role"]) for r in rows]


USER_AND_MEMBERSHIPS_SQL = (
    f"SELECT u.*, {_ABSENT}, {_OVERSEES}, m.team_id AS membership_team_id, t.name AS membership_team_name,"
    " m.role AS membership_role"
    " FROM users u LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN teams t ON t.id = m.team_id"
    " WHERE u.id = ? ORDER BY t.name"
)


async def user_and_memberships(conn: Conn, user_id: int) -> tuple[User, list[Membership]] | None:
    """A person and their teams in one query (every request asks: who is this, are they still allowed in)."""
    rows = await _rows(conn, USER_AND_MEMBERSHIPS_SQL, (user_id,))
    if not rows:
        return None
    teams = [
        Membership(r["membership_team_id"], r["membership_team_name"], r["membership_role"])
        for r in rows
        if r["membership_team_id"] is not None
    ]
    return record(rows[0], User), teams


# Who may hold a child's case: an enabled person (never a service account) who is a worker in the team.
_HOLDS_CASES = "m.role = 'worker' AND u.disabled = 0 AND u.is_service = 0"


async def team_workers(conn: Conn, team_id: int) -> list[tuple[int, str]]:
    """(id, name) of each person who may be allocated the team's cases, by name."""
    rows = await _rows(
        conn,
        "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
        f" WHERE m.team_id = ? AND {_HOLDS_CASES} ORDER BY u.name",
        (team_id,),
    )
    return [(r["id"], r["name"]) for r in rows]


async def is_team_worker(conn: Conn, user_id: int, team_id: int) -> bool:
    """Whether this account may be allocated the team's cases: an enabled person who works in it."""
    row = await _one(
        conn,
        "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id"
        f" WHERE m.user_id = ? AND m.team_id = ? AND {_HOLDS_CASES}",
        (user_id, team_id),
    )
    return row is not None


async def create_api_token(conn: Conn, user_id: int, token_hash: str, scope: str) -> int:
    return await _insert(
        conn,
        "INSERT INTO api_tokens (user_id, token_hash, scope, created_at) VALUES (?, ?, ?, ?)",
        (user_id, token_hash, scope, now()),
    )


async def api_token(conn: Conn, token_hash: str) -> ApiToken | None:
    row = await _one(
        conn,
        "SELECT t.id, t.user_id, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
        (token_hash,),
    )
    return record(row, ApiToken) if row else None


async def revoke_api_token(conn: Conn, token_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), token_id)
    )
    return cursor.rowcount == 1


async def team_by_name(conn: Conn, name: str) -> int | None:
    row = await _one(conn, "SELECT id FROM teams WHERE name = ?", (name,))
    return int(row["id"]) if row else None


# ---------------------------------------------------------------- sign-in throttling and pending drafts


async def recent_failures(conn: Conn, keys: Sequence[str], since: float) -> dict[str, int]:
    marks = ",".join("?" * len(keys))
    rows = await _rows(
        conn,
        f"SELECT key, COUNT(*) FROM sign_in_failures WHERE key IN ({marks}) AND at > ? GROUP BY key",
        (*keys, since),
    )
    return {r[0]: int(r[1]) for r in rows}


async def record_failure(conn: Conn, keys: Sequence[str], at: float) -> None:
    await conn.executemany("INSERT INTO sign_in_failures (key, at) VALUES (?, ?)", [(key, at) for key in keys])
    await conn.execute("DELETE FROM sign_in_failures WHERE at < ?", (at - 86_400,))


async def clear_failures(conn: Conn, key: str) -> None:
    await conn.execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))


async def forget_failure(conn: Conn, key: str, at: float) -> None:
    """Remove the one attempt recorded under `key` at `at` (seconds since the epoch)."""
    await conn.execute("DELETE FROM sign_in_failures WHERE key = ? AND at = ?", (key, at))


async def team_managers(conn: Conn, team_id: int) -> list[tuple[int, str]]:
    """(id, name) of each enabled person who manages the team, by name."""
    rows = await _rows(
        conn,
        "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.team_id = ? AND m.role = 'manager' AND u.disabled = 0 AND u.is_service = 0 ORDER BY u.name",
        (team_id,),
    )
    return [(r["id"], r["name"]) for r in rows]


async def administrators(conn: Conn) -> list[str]:
    """The names of the enabled people who administer the service."""
    rows = await _rows(
        conn, "SELECT name FROM users WHERE is_admin = 1 AND disabled = 0 AND is_service = 0 ORDER BY name"
    )
    return [r["name"] for r in rows]


# ---------------------------------------------------------------- joiners, movers and leavers


class PersonSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A person as the administrator's list shows them: teams as "Team (role)" joined with "; "."""

    id: int
    username: str
    name: str
    email: str
    is_auditor: bool
    is_admin: bool
    disabled: bool
    teams: str
    cases_held: int
    cases_held_pending_transfer: int


class HeldCase(msgspec.Struct, frozen=True, kw_only=True):
    """A case allocated to someone, and whether they hold it only as team manager pending transfer."""

    id: int
    reference: str
    child_name: str
    team_id: int
    team: str
    held_pending_transfer: bool


class LeaversHandover(msgspec.Struct, frozen=True, kw_only=True):
    """An open handover a leaver started or is named to receive."""

    id: int
    state: str
    author_id: int
    receiver_id: int | None
    sending_team_id: int
    sending_team: str


class ServiceRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    service_manager_id: int | None
    service_manager: str | None
    teams: str  # team names joined with "; "


class TeamRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    service_id: int | None
    service: str | None
    managers: str  # enabled managers' names joined with "; "


# A case is held pending transfer while the manager who took it on from a leaver still holds it.
HELD_PENDING = "(c.interim_holder_id IS NOT NULL AND c.interim_holder_id = c.allocated_worker_id)"


async def people_list(conn: Conn) -> list[PersonSummary]:
    """Every person (not service accounts), by name, with their teams and how many cases they hold."""
    rows = await _rows(
        conn,
        "SELECT u.id, u.username, u.name, u.email, u.is_auditor, u.is_admin, u.disabled,"
        " COALESCE((SELECT group_concat(t.name || ' (' || m.role || ')', '; ') FROM"
        "   (SELECT * FROM memberships WHERE user_id = u.id ORDER BY team_id, role) m"
        "   JOIN teams t ON t.id = m.team_id), '') AS teams,"
        " (SELECT COUNT(*) FROM cases c WHERE c.allocated_worker_id = u.id) AS cases_held,"
        f" (SELECT COUNT(*) FROM cases c WHERE c.allocated_worker_id = u.id AND {HELD_PENDING})"
        "   AS cases_held_pending_transfer"
        " FROM users u WHERE u.is_service = 0 ORDER BY u.name COLLATE NOCASE, u.id",
    )
    return [record(r, PersonSummary) for r in rows]


async def person_summary(conn: Conn, user_id: int) -> PersonSummary | None:
    """One person as `people_list` shows them (None for no such person, or a service account)."""
    return next((p for p in await people_list(conn) if p.id == user_id), None)


async def set_email(conn: Conn, user_id: int, email: str) -> None:
    await conn.execute("UPDATE users SET email = ? WHERE id = ?", (email, user_id))


async def set_service_roles(conn: Conn, user_id: int, *, is_auditor: bool, is_admin: bool) -> None:
    await conn.execute("UPDATE users SET is_auditor = ?, is_admin = ? WHERE id = ?", (is_auditor, is_admin, user_id))


async def remove_membership(conn: Conn, user_id: int, team_id: int, role: str) -> bool:
    cursor = await conn.execute(
        "DELETE FROM memberships WHERE user_id = ? AND team_id = ? AND role = ?", (user_id, team_id, role)
    )
    return bool(cursor.rowcount)


async def set_password_hash(conn: Conn, user_id: int, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


async def end_sessions_before(conn: Conn, user_id: int, moment: float) -> None:
    """Sessions of this person begun before `moment` (seconds since the epoch) stop counting from this write on."""
    await conn.execute("UPDATE users SET sessions_from_ms = ? WHERE id = ?", (round(moment * 1000), user_id))


async def disable_user(conn: Conn, user_id: int) -> None:
    """From this write on, the person's sessions and API tokens are refused: both are checked on every request."""
    await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user_id,))


async def held_cases(conn: Conn, user_id: int) -> list[HeldCase]:
    """The cases allocated to this person, by team then child's name."""
    rows = await _rows(
        conn,
        "SELECT c.id, c.reference, c.child_name, c.allocated_team_id AS team_id, t.name AS team,"
        f" {HELD_PENDING} AS held_pending_transfer"
        " FROM cases c JOIN teams t ON t.id = c.allocated_team_id"
        " WHERE c.allocated_worker_id = ? ORDER BY t.name, c.child_name, c.id",
        (user_id,),
    )
    return [record(r, HeldCase) for r in rows]


async def is_held_pending_transfer(conn: Conn, case_id: int) -> bool:
    row = await _one(conn, f"SELECT {HELD_PENDING} FROM cases c WHERE c.id = ?", (case_id,))
    return bool(row and row[0])


async def hold_pending_transfer(conn: Conn, case_id: int, manager_id: int) -> None:
    """Allocate the case to its team's manager as interim holder, in one statement (never without a holder),
    keeping who held it before (the leaver, whose caseload it stays on: SQLite reads the old row on the right)."""
    stamp = now()
    await conn.execute(
        "UPDATE cases SET held_from_id = allocated_worker_id, allocated_worker_id = ?, interim_holder_id = ?,"
        " allocated_since = ? WHERE id = ?",
        (manager_id, manager_id, stamp, case_id),
    )
    await follow_allocation(conn, case_id, stamp, "held_pending_transfer")


async def open_handovers_of(conn: Conn, user_id: int) -> list[LeaversHandover]:
    """The open handovers this person started or is named to receive."""
    rows = await _rows(
        conn,
        "SELECT h.id, h.state, h.author_id, h.receiver_id, h.sending_team_id, t.name AS sending_team"
        " FROM handovers h JOIN teams t ON t.id = h.sending_team_id"
        " WHERE (h.author_id = ? OR h.receiver_id = ?) AND h.state NOT IN ('closed', 'cancelled') ORDER BY h.id",
        (user_id, user_id),
    )
    return [record(r, LeaversHandover) for r in rows]


async def continue_on_behalf(conn: Conn, handover_id: int, manager_id: int, leaver_id: int) -> None:
    """The manager becomes the handover's author, acting on behalf of the worker who started it (kept if it was
    already continued for someone)."""
    await conn.execute(
        "UPDATE handovers SET author_id = ?, on_behalf_of = COALESCE(on_behalf_of, ?), version = version + 1,"
        " last_activity_at = ? WHERE id = ?",
        (manager_id, leaver_id, now(), handover_id),
    )


async def release_receiver(conn: Conn, handover_id: int, state: str) -> None:
    """The named receiver left: the handover goes to their team (any of its workers may take it on). One they had
    acknowledged waits for a receiving worker again, without the leaver's confirmations."""
    stamp = now()
    if state == "acknowledged":
        await conn.execute(
            "UPDATE handovers SET receiver_id = NULL, acknowledged_by = NULL, acknowledged_at = NULL,"
            " state = 'endorsed', state_since = ?, last_activity_at = ?, version = version + 1 WHERE id = ?",
            (stamp, stamp, handover_id),
        )
    else:
        await conn.execute(
            "UPDATE handovers SET receiver_id = NULL, last_activity_at = ?, version = version + 1 WHERE id = ?",
            (stamp, handover_id),
        )
    await conn.execute("DELETE FROM confirmations WHERE handover_id = ?", (handover_id,))


async def unname_manager(conn: Conn, user_id: int) -> list[tuple[int, str]]:
    """Remove this person from the steps they were named for on open handovers; (handover id, step) of each."""
    rows = await _rows(
        conn,
        "SELECT n.handover_id, n.step FROM named_managers n JOIN handovers h ON h.id = n.handover_id"
        " WHERE n.user_id = ? AND h.state NOT IN ('closed', 'cancelled')",
        (user_id,),
    )
    for row in rows:
        await conn.execute(
            "DELETE FROM named_managers WHERE handover_id = ? AND step = ?", (row["handover_id"], row["step"])
        )
    return [(int(r["handover_id"]), str(r["step"])) for r in rows]


async def team_name(conn: Conn, team_id: int) -> str | None:
    row = await _one(conn, "SELECT name FROM teams WHERE id = ?", (team_id,))
    return str(row["name"]) if row else None


async def services(conn: Conn) -> list[ServiceRecord]:
    rows = await _rows(
        conn,
        "SELECT s.id, s.name, s.service_manager_id, u.name AS service_manager,"
        " COALESCE((SELECT group_concat(name, '; ') FROM (SELECT name FROM teams WHERE service_id = s.id"
        "   ORDER BY name) named), '') AS teams"
        " FROM services s LEFT JOIN users u ON u.id = s.service_manager_id ORDER BY s.name",
    )
    return [record(r, ServiceRecord) for r in rows]


async def service_by_name(conn: Conn, name: str) -> int | None:
    row = await _one(conn, "SELECT id FROM services WHERE name = ?", (name,))
    return int(row["id"]) if row else None


async def create_service(conn: Conn, name: str, service_manager_id: int | None) -> int:
    return await _insert(
        conn, "INSERT INTO services (name, service_manager_id) VALUES (?, ?)", (name, service_manager_id)
    )


async def set_service_manager(conn: Conn, service_id: int, user_id: int | None) -> None:
    await conn.execute("UPDATE services SET service_manager_id = ? WHERE id = ?", (user_id, service_id))


async def set_team_service(conn: Conn, team_id: int, service_id: int | None) -> None:
    await conn.execute("UPDATE teams SET service_id = ? WHERE id = ?", (service_id, team_id))


async def teams_overview(conn: Conn) -> list[TeamRecord]:
    rows = await _rows(
        conn,
        "SELECT t.id, t.name, t.service_id, s.name AS service,"
        " COALESCE((SELECT group_concat(name, '; ') FROM (SELECT u.name FROM memberships m"
        "   JOIN users u ON u.id = m.user_id WHERE m.team_id = t.id AND m.role = 'manager' AND u.disabled = 0"
        "   ORDER BY u.name) named), '') AS managers"
        " FROM teams t LEFT JOIN services s ON s.id = t.service_id ORDER BY t.name",
    )
    return [record(r, TeamRecord) for r in rows]


async def head_of_service(conn: Conn) -> tuple[int, str] | None:
    row = await _one(
        conn, "SELECT u.id, u.name FROM head_of_service h JOIN users u ON u.id = h.user_id WHERE h.only_one = 1"
    )
    return (int(row["id"]), str(row["name"])) if row else None


async def set_head_of_service(conn: Conn, user_id: int) -> None:
    await conn.execute(
        "INSERT INTO head_of_service (only_one, user_id) VALUES (1, ?)"
        " ON CONFLICT (only_one) DO UPDATE SET user_id = excluded.user_id",
        (user_id,),
    )


# ---------------------------------------------------------------- the rules an administrator's changes keep


async def usernames(conn: Conn) -> list[str]:
    """Every account's username, people and service accounts alike (a new one must not look like any of them)."""
    return [r["username"] for r in await _rows(conn, "SELECT username FROM users")]


async def emails_of_others(conn: Conn, user_id: int | None) -> list[str]:
    """The work e-mail addresses of every person other than this one (None: of everyone)."""
    rows = await _rows(conn, "SELECT email FROM users WHERE email != '' AND id IS DISTINCT FROM ?", (user_id,))
    return [r["email"] for r in rows]


async def waiting_on_team(conn: Conn, team_id: int) -> tuple[int, int]:
    """(open handovers the team sends or receives, its cases held by a manager pending transfer)."""
    row = await _one(
        conn,
        "SELECT (SELECT COUNT(*) FROM handovers WHERE (sending_team_id = ?1 OR receiving_team_id = ?1)"
        "   AND state NOT IN ('closed', 'cancelled')) AS handovers,"
        f" (SELECT COUNT(*) FROM cases c WHERE c.allocated_team_id = ?1 AND {HELD_PENDING}) AS cases",
        (team_id,),
    )
    return (int(row["handovers"]), int(row["cases"])) if row else (0, 0)


async def services_managed_by(conn: Conn, user_id: int) -> list[tuple[int, str]]:
    """(id, name) of each service this person manages."""
    rows = await _rows(conn, "SELECT id, name FROM services WHERE service_manager_id = ? ORDER BY name", (user_id,))
    return [(r["id"], r["name"]) for r in rows]


async def vacate_head_of_service(conn: Conn) -> None:
    await conn.execute("DELETE FROM head_of_service")


async def services_without_manager(conn: Conn) -> list[str]:
    """The names of the services nobody (with an enabled account) manages."""
    rows = await _rows(
        conn,
        "SELECT s.name FROM services s LEFT JOIN users u ON u.id = s.service_manager_id"
        " WHERE u.id IS NULL OR u.disabled = 1 ORDER BY s.name",
    )
    return [r["name"] for r in rows]


async def has_services(conn: Conn) -> bool:
    return await _one(conn, "SELECT 1 FROM services LIMIT 1") is not None


async def enabled_team_managers(conn: Conn) -> list[tuple[str, str]]:
    """(username, name) of each enabled person who manages a team, by name: who may be a service manager or the
    head of service."""
    rows = await _rows(
        conn,
        "SELECT u.username, u.name FROM users u WHERE u.disabled = 0 AND u.is_service = 0"
        " AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'manager')"
        " ORDER BY u.name COLLATE NOCASE, u.username",
    )
    return [(r["username"], r["name"]) for r in rows]
