"""Where sessions live: in the database, so that every instance of the service sees the same ones.

Every request reads its session from the database (`db.live_session`, a lookup by key on the reader). No instance
keeps session contents in memory, so a sign-out made on one instance is seen by every other at its next request, and
a restart signs nobody out.

The session middleware stores the session again on every response (that is what makes the idle timeout an idle
timeout). A database write for each of those would be a write per page view. Here a write is made only when the
session's contents differ from what this instance last read or wrote under its key, when its expiry is cut short, or
when the stored expiry has fallen more than `refresh` seconds behind. A session may therefore end up to `refresh`
seconds early (and up to a second early, as times are stored to the second): never late. Each write is made before
the response goes out, so what a response says (signed in, or signed in for longer) holds on every instance.

A session that ends (signing out, or the id given up at sign-in) keeps its row, marked ended, until it would have
expired, and the database itself refuses to store an ended or expired session again (`db.store_session`): a slow
request that began before a sign-out, on this instance or another, cannot bring the session back when it answers.
Expired rows are removed now and then (`delete_expired`, from the service's periodic housekeeping).

Writes go through `Database.housekeeping`: they change no record and append nothing to the audit chain.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from litestar.stores.base import Store

from service import db


class _Seen(NamedTuple):
    """What the database held under a key when this instance last read or wrote it: a digest of the contents (the
    contents themselves are never kept) and the stored expiry (UTC)."""

    digest: bytes
    expires_at: datetime


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _stored_now() -> str:
    return db.stored_time(datetime.now(UTC))


class SessionStore(Store):
    """Sessions in the service's database (SQLite or PostgreSQL alike), shared by every instance."""

    def __init__(self, database: db.Database, refresh: int = 60) -> None:
        """`refresh`: seconds the stored expiry may fall behind before an unchanged session is written again."""
        self.database = database
        self.refresh = timedelta(seconds=refresh)
        # only to tell whether a write is needed, never to answer a read: every request reads its session first, so
        # an unchanged session is one whose contents are as this request found them
        self._seen: dict[str, _Seen] = {}

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        """Store the session `value` under `key` for `expires_in` seconds from now. Nothing is stored if the session
        under `key` has ended or expired. Raises ValueError without `expires_in`: a session always expires."""
        if expires_in is None:
            raise ValueError("a session always expires: give expires_in")
        data = value.encode() if isinstance(value, str) else value
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
        seen = self._seen.get(key)
        if (
            seen is None
            or seen.digest != _digest(data)
            # an expiry cut short is written however little it moved: a session never lasts longer than it was given
            or expires_at < seen.expires_at
            or expires_at - seen.expires_at > self.refresh
        ):
            await self._write(key, data, expires_at)

    async def _write(self, key: str, data: bytes, expires_at: datetime) -> None:
        stored_at = db.stored_time(expires_at)
        async with self.database.housekeeping() as conn:
            stored = await db.store_session(conn, key, data, stored_at, _stored_now())
        if stored:
            self._seen[key] = _Seen(_digest(data), datetime.fromisoformat(stored_at))
        else:  # ended (signed out, maybe on another instance) or expired: it stays that way
            self._seen.pop(key, None)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """The session stored under `key`, or None if there is none, or it has ended or expired. `renew_for`
        (seconds) stores it again with that long to run."""
        stored = await db.live_session(self.database.reader, key, _stored_now())
        if stored is None:
            self._seen.pop(key, None)
            return None
        self._seen[key] = _Seen(_digest(stored.value), stored.expires_at)
        if renew_for:
            await self.set(key, stored.value, expires_in=renew_for)
        return stored.value

    async def delete(self, key: str) -> None:
        """End the session under `key` on every instance: it is never stored again. A key with no live session (a
        browser sending an id never issued, or one already ended) writes nothing."""
        self._seen.pop(key, None)
        if await db.live_session(self.database.reader, key, _stored_now()) is None:
            return  # an expired session is refused by the database already; an unknown one must not leave a row
        async with self.database.housekeeping() as conn:
            await db.end_session(conn, key)

    async def delete_all(self) -> None:
        """End every session: everyone is signed out, on every instance."""
        self._seen.clear()
        async with self.database.housekeeping() as conn:
            await db.end_all_sessions(conn)

    async def delete_expired(self) -> None:
        """Remove the rows of sessions past their expiry, ended ones included (called now and then)."""
        now = _stored_now()
        async with self.database.housekeeping() as conn:
            await db.delete_expired_sessions(conn, now)
        moment = datetime.fromisoformat(now)
        self._seen = {key: seen for key, seen in self._seen.items() if seen.expires_at > moment}

    async def exists(self, key: str) -> bool:
        return await db.live_session(self.database.reader, key, _stored_now()) is not None

    async def expires_in(self, key: str) -> int | None:
        """Whole seconds until the session under `key` expires, or None if it has ended or expired."""
        stored = await db.live_session(self.database.reader, key, _stored_now())
        if stored is None:
            return None
        return max(0, int((stored.expires_at - datetime.now(UTC)).total_seconds()))
