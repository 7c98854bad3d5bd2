"""People, teams and memberships; service accounts' API tokens; sign-in throttling's counters."""

from __future__ import annotations

from collections.abc import Sequence

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
        "INSERT OR IGNORE INTO memberships (user_id, team_id, role) VALUES (?, ?, ?)", (user_id, team_id, role)
    )
    return bool(cursor.rowcount)


async def user_by_username(conn: Conn, username: str) -> User | None:
    row = await _one(conn, "SELECT * FROM users WHERE username = ?", (username,))
    return record(row, User) if row else None


async def user_by_id(conn: Conn, user_id: int) -> User | None:
    row = await _one(conn, "SELECT * FROM users WHERE id = ?", (user_id,))
    return record(row, User) if row else None


async def memberships(conn: Conn, user_id: int) -> list[Membership]:
    rows = await _rows(
        conn,
        "SELECT m.team_id, t.name AS team_name, m.role FROM memberships m JOIN teams t ON t.id = m.team_id"
        " WHERE m.user_id = ? ORDER BY t.name",
        (user_id,),
    )
    return [Membership(r["team_id"], r["team_name"], r["role"]) for r in rows]


async def user_and_memberships(conn: Conn, user_id: int) -> tuple[User, list[Membership]] | None:
    """A person and their teams in one query (every request asks: who is this, are they still allowed in)."""
    rows = await _rows(
        conn,
        "SELECT u.*, m.team_id AS membership_team_id, t.name AS membership_team_name, m.role AS membership_role"
        " FROM users u LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN teams t ON t.id = m.team_id"
        " WHERE u.id = ? ORDER BY t.name",
        (user_id,),
    )
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
