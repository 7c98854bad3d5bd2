"""Where sessions live: in memory for every request, on disk so that a restart signs nobody out.

The session middleware stores the session again on every response (that is what makes the idle timeout an idle
timeout). Writing a file for each of those, and reading one at the start of each request, cost two thread hops and a
rename per request, which was a large share of every page's time. Here reads come from memory, and a write reaches the
disk only when the session's contents change or when the expiry on disk has fallen more than `refresh` seconds
behind. After a restart a session is read back from disk on first use, and may end up to `refresh` seconds early:
never late.

A session id that has been deleted (sign-out, sign-in rotating the id) is remembered until it could have expired, so
a slow request that started before the sign-out cannot store the old session again when it answers.

The service runs one worker process (one writer to SQLite); a second process would not see this one's memory.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from anyio import Lock
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore


class SessionStore(Store):
    """A memory-first store of sessions, written behind to a `FileStore`."""

    def __init__(self, disk: FileStore, refresh: int = 60, forget_deleted_after: int = 24 * 3600) -> None:
        self.disk = disk
        self.refresh = timedelta(seconds=refresh)
        self.forget_deleted_after = forget_deleted_after
        self._memory: dict[str, StorageObject] = {}
        self._on_disk: dict[str, StorageObject] = {}  # what the disk holds for a key, as far as this process knows
        self._deleted: dict[str, float] = {}  # key -> when it was deleted (monotonic)
        self._disk_lock = Lock()  # disk writes in the order they were made
        self._refreshing: dict[str, asyncio.Future[None]] = {}  # background expiry writes in progress

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        if key in self._deleted:
            return  # this session has ended; a late answer to an earlier request must not bring it back
        data = value.encode() if isinstance(value, str) else value
        stored = StorageObject.new(data=data, expires_in=expires_in)
        self._memory[key] = stored
        on_disk = self._on_disk.get(key)
        if on_disk is None or on_disk.data != stored.data:
            await self._write(key)  # new contents (a sign-in, say) are on disk before the answer goes out
        elif self._expiry_behind(on_disk, stored) and key not in self._refreshing:
            # only the idle timeout moved on: written in the background, so a minute's worth of sessions coming due
            # together does not hold up the requests that renewed them
            self._refreshing[key] = asyncio.ensure_future(self._refresh(key))

    def _expiry_behind(self, on_disk: StorageObject, stored: StorageObject) -> bool:
        if stored.expires_at is None or on_disk.expires_at is None:
            return stored.expires_at != on_disk.expires_at
        return stored.expires_at - on_disk.expires_at > self.refresh

    async def _write(self, key: str) -> None:
        """Write what memory holds for `key` now (nothing if it has ended meanwhile)."""
        async with self._disk_lock:
            stored = self._memory.get(key)
            if stored is None or stored.expired or key in self._deleted:
                return
            await self.disk.set(key, stored.data, expires_in=max(1, stored.expires_in) if stored.expires_at else None)
            if key not in self._deleted:  # not signed out while the file was written (delete waits for the lock)
                self._on_disk[key] = stored

    async def flush(self) -> None:
        """Wait for the background expiry writes in progress."""
        while self._refreshing:
            await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _refresh(self, key: str) -> None:
        try:
            await self._write(key)
        finally:
            self._refreshing.pop(key, None)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        stored = self._memory.get(key) or await self._read_back(key)
        if stored is None:
            return None
        if stored.expired:
            await self.delete(key)
            return None
        if renew_for and stored.expires_at:
            await self.set(key, stored.data, expires_in=renew_for)
        return stored.data

    async def _read_back(self, key: str) -> StorageObject | None:
        """A session written before this process started (or by `handover` commands): read once, then kept."""
        if key in self._deleted:
            return None
        async with self._disk_lock:
            data = await self.disk.get(key)
            seconds = await self.disk.expires_in(key) if data is not None else None
        if data is None or key in self._deleted or seconds is None or seconds <= 0:
            return None  # sessions always expire: no expiry left (or none) means it has ended
        if key in self._memory:  # another request read it back, or stored a newer one, meanwhile
            return self._memory[key]
        stored = StorageObject(expires_at=datetime.now(tz=UTC) + timedelta(seconds=seconds), data=data)
        self._memory[key] = self._on_disk[key] = stored
        return stored

    async def delete(self, key: str) -> None:
        self._deleted[key] = time.monotonic()
        self._memory.pop(key, None)
        self._on_disk.pop(key, None)
        async with self._disk_lock:
            await self.disk.delete(key)

    async def delete_all(self) -> None:
        now = time.monotonic()
        self._deleted.update(dict.fromkeys(self._memory, now))
        self._memory.clear()
        self._on_disk.clear()
        async with self._disk_lock:
            await self.disk.delete_all()

    async def delete_expired(self) -> None:
        """Forget ended sessions in memory and on disk (called now and then by the service)."""
        for key in [key for key, stored in self._memory.items() if stored.expired]:
            self._memory.pop(key, None)
        for key in [key for key in self._on_disk if key not in self._memory]:
            self._on_disk.pop(key, None)
        forget_before = time.monotonic() - self.forget_deleted_after
        self._deleted = {key: when for key, when in self._deleted.items() if when >= forget_before}
        async with self._disk_lock:
            await self.disk.delete_expired()

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        stored = self._memory.get(key) or await self._read_back(key)
        return stored.expires_in if stored is not None else None
