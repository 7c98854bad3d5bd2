"""Sessions: who is signed in, kept in the database so that every instance of the service sees the same ones.

A row holds the session's serialised contents and when it expires (UTC, ISO 8601 to the second, as every time is
stored). A session that ends (signing out, or the id given up at sign-in) keeps its row, marked ended and emptied,
until it would have expired: the upsert refuses an ended row, so a slow request that began before the sign-out, on
this instance or any other, cannot store the session again. Expired rows are removed now and then
(`delete_expired_sessions`).

Writes here append nothing to the audit chain: callers make them through `Database.housekeeping`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from service.db.engine import Conn, _one, _rows


class StoredSession(msgspec.Struct, frozen=True):
    """A live session's row: its contents and when it expires (UTC)."""

    value: bytes
    expires_at: datetime


def stored_time(moment: datetime) -> str:
    """`moment` (timezone-aware) as the schema stores times: UTC, ISO 8601, to the second (cut, never rounded up,
    so a stored expiry is never later than the one asked for)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


async def live_session(conn: Conn, key: str, now: str) -> StoredSession | None:
    """The session stored under `key`, unless it has ended or expired by `now` (UTC, as stored)."""
    row = await _one(
        conn, "SELECT value, expires_at FROM sessions WHERE key = ? AND ended = 0 AND expires_at > ?", (key, now)
    )
    if row is None:
        return None
    return StoredSession(value=bytes(row["value"]), expires_at=datetime.fromisoformat(str(row["expires_at"])))


async def store_session(conn: Conn, key: str, value: bytes, expires_at: str, now: str) -> bool:
    """Store a session's contents and expiry (UTC, as stored) under `key`; returns False, storing nothing, when the
    session under `key` has ended or has expired by `now`: an ended session is never brought back."""
    stored = await _rows(
        conn,
        "INSERT INTO sessions (key, value, expires_at, ended) VALUES (?, ?, ?, 0)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
        " WHERE sessions.ended = 0 AND sessions.expires_at > ?"
        " RETURNING key",
        (key, value, expires_at, now),
    )
    return bool(stored)


async def end_session(conn: Conn, key: str) -> None:
    """Mark the session under `key` ended and forget its contents; its row stays until it would have expired. A key
    with no row (never issued, or long gone) stores nothing: a browser that is not signed in leaves nothing behind."""
    await conn.execute("UPDATE sessions SET ended = 1, value = ? WHERE key = ?", (b"", key))


async def end_all_sessions(conn: Conn) -> None:
    """Mark every session ended (everyone is signed out), forgetting their contents."""
    await conn.execute("UPDATE sessions SET ended = 1, value = ? WHERE ended = 0", (b"",))


async def delete_expired_sessions(conn: Conn, now: str) -> None:
    """Remove the rows of sessions that expired by `now` (UTC, as stored), ended ones included: past its expiry a
    session could not be used again anyway."""
    await conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
