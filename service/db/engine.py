"""The store's engine: what every query is given (`Conn`), the database as the rest of the service sees it
(`Database`), the SQLite file with its group commit (`SqliteDatabase`), and the helpers every query module uses.
PostgreSQL's engine is `service.db.postgresql`; `Database.for_settings` chooses between them.

Reads go through a reader connection. Writes go through one writer connection: each change, with its audit entry,
is a savepoint that never overlaps another, and the changes made in one turn of the event loop are committed together
(see `Database.transaction`).

Statements that take microseconds (indexed lookups, single-row writes) run directly on the event loop, because
handing each to a thread and back costs several times the statement itself, and a page or a save makes several.
What can wait on something outside this process goes to a thread: COMMIT (fsync), BEGIN IMMEDIATE when another
process holds the write lock, and the report's queries, which read thousands of rows (`scanner`). In WAL mode a
reader never waits for a writer, so the reads on the event loop do not block on the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiosqlite

from service.db.schema import MIGRATIONS, Migration

if TYPE_CHECKING:
    from service.settings import Settings


EVERY_ROW = 1 << 62  # a LIMIT that leaves every row in, on both databases (PostgreSQL refuses SQLite's -1)
DEFAULT_BUSY_TIMEOUT_MS = 5000  # the settings' default too: how long a write waits for another process's lock


def now() -> str:
    """The current time in UTC, as stored: ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- the database


class LoopConnection:
    """A sqlite3 connection with aiosqlite's coroutine methods, run on the event loop's own thread (see the module's
    note), so that queries take the same `Conn` whichever connection they are given."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.raw = conn

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.raw.execute(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.raw.execute(sql, parameters).fetchall()

    async def execute_insert(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[int | None]:
        return (self.raw.execute(sql, parameters).lastrowid,)

    async def executemany(self, sql: str, parameters: Any) -> sqlite3.Cursor:
        return self.raw.executemany(sql, parameters)

    async def executescript(self, script: str) -> sqlite3.Cursor:
        return self.raw.executescript(script)

    async def in_thread(self, sql: str) -> None:
        """A statement that may wait on another process or on the disk, off the event loop."""
        await asyncio.to_thread(self.raw.execute, sql)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    async def close(self) -> None:
        self.raw.close()


class Cursor(Protocol):
    """What a statement tells its caller: how many rows it changed."""

    @property
    def rowcount(self) -> int: ...


class Conn(Protocol):
    """What a query is given, on either database: SQL written once, with `?` (or `:name`) placeholders; rows read by
    column name or position."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Awaitable[Cursor]: ...

    def execute_fetchall(self, sql: str, parameters: Any = ..., /) -> Awaitable[Iterable[Any]]: ...

    def executemany(self, sql: str, parameters: Any, /) -> Awaitable[Any]: ...


def database_errors(*others: type[Exception]) -> tuple[type[Exception], ...]:
    """The exceptions of a database the service could not use (a locked or damaged file, a lost connection), for
    catching: SQLite's, and the PostgreSQL driver's once it is loaded. The driver is loaded only where a PostgreSQL
    database is used (`Database.for_settings`), so none of its errors can be raised before; the commands that never
    use it (an export from SQLite) start without loading it. `others`: more exceptions to catch with them."""
    driver = sys.modules.get("psycopg")
    found: tuple[type[Exception], ...] = (*others, sqlite3.Error)
    return (*found, driver.Error) if driver is not None else found


class Database(ABC):
    """The service's database: SQLite in one file (`SqliteDatabase`), or PostgreSQL shared by several instances
    (`service.db.postgresql.PostgresDatabase`)."""

    commits: int  # changes committed so far (SQLite: group COMMITs)

    @classmethod
    def for_settings(cls, settings: Settings) -> Database:
        """The service's database as its settings describe it: the one way the app and every command make it."""
        if settings.database_url:
            from service.db.postgresql import PostgresDatabase  # the driver is loaded only where it is used

            return PostgresDatabase(settings.database_url)
        return SqliteDatabase(settings.database, settings.synchronous, settings.busy_timeout_ms)

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[Database]:
        """Open for the length of a `with` block (a command's whole run), closing it however the block ends."""
        await self.open()
        try:
            yield self
        finally:
            await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Connect, and bring the schema up to date."""

    @abstractmethod
    async def close(self) -> None:
        """Finish what was committed and disconnect."""

    @property
    @abstractmethod
    def reader(self) -> Conn:
        """For lookups by key and other queries that read a few rows."""

    @property
    @abstractmethod
    def scanner(self) -> Conn:
        """For queries that read many rows (the auditors' report, counts by state)."""

    @abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """One change of records with its audit entry: committed, and durable, when the block ends; rolled back
        alone if anything inside fails. Such changes are serialised with one another (they append to one chain)."""

    @abstractmethod
    def housekeeping(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A short write that changes no record and appends nothing to the audit chain (a session, a sign-in
        throttle's count, a pending draft)."""

    @abstractmethod
    def read_only(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A read-only connection of its own, for a long read (an export) that must hold up nobody."""

    @property
    def description(self) -> str:
        """Where the data is, for messages to an operator (never a password)."""
        return ""

    @property
    def file(self) -> Path | None:
        """The SQLite file the data is in; None on PostgreSQL (which `handover backup` does not copy)."""
        return None

    async def why_not_writable(self) -> str | None:
        """Why the database cannot take writes now, or None; for SQLite, `maintenance.why_not_writable` on `file`."""
        return None


class SqliteDatabase(Database):
    """One file: a reader connection for queries and one serialised writer connection for changes."""

    def __init__(self, path: Path, synchronous: str = "FULL", busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._reader: LoopConnection | None = None
        self._writer: LoopConnection | None = None
        self._scanner: aiosqlite.Connection | None = None
        self._body_lock = asyncio.Lock()
        self._group: list[asyncio.Future[None]] | None = None  # members of the open, uncommitted group
        self._committing: list[asyncio.Future[None]] | None = None  # while a COMMIT is in flight: who waits for it
        self._deferred_commit: asyncio.Future[None] | None = None
        self.commits = 0  # group COMMITs so far

    @property
    def description(self) -> str:
        return str(self.path)

    @property
    def file(self) -> Path | None:
        return self.path

    def read_only(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        """A read-only connection of its own, for a long read (an export) that must hold up nobody."""
        return open_read_only(self.path, self.busy_timeout_ms)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = LoopConnection(await asyncio.to_thread(self._connect))
        await migrate(self._writer)
        self._writer.raw.execute("PRAGMA busy_timeout=0")  # see _begin
        self._reader = LoopConnection(await asyncio.to_thread(self._connect))
        self._scanner = await aiosqlite.connect(self.path, isolation_level=None)
        self._scanner.row_factory = sqlite3.Row
        await self._scanner.executescript(self._pragmas)

    @property
    def _pragmas(self) -> str:
        return (
            f"PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={self.busy_timeout_ms}; "
            f"PRAGMA synchronous={self.synchronous};"
        )

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread off: COMMIT (and a BEGIN that must wait) run on a worker thread, while nothing else uses
        # the connection
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.executescript(self._pragmas)
        return conn

    async def close(self) -> None:
        """Commit what has been written and not yet committed, wait for any COMMIT in flight, then close."""
        if self._writer is not None:
            async with self._body_lock:
                if self._group:
                    self._commit_now(self._writer)
        while self._committing is not None:
            await self._commit_finished()
        for conn in (self._reader, self._writer, self._scanner):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = self._scanner = None

    @property
    def reader(self) -> LoopConnection:
        """For lookups by key and other queries that read a few rows."""
        if self._reader is None:
            raise RuntimeError("the database is not open")
        return self._reader

    @property
    def scanner(self) -> aiosqlite.Connection:
        """For queries that read many rows (the auditors' report, counts by state): run on a thread of its own."""
        if self._scanner is None:
            raise RuntimeError("the database is not open")
        return self._scanner

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LoopConnection]:
        """One logical write transaction, rolled back alone if anything inside fails.

        Group commit: each transaction is a savepoint inside one open SQLite transaction, and one COMMIT (one fsync,
        on a thread) ends the group after the event loop's current turn, for every change made in that turn. Writers
        that arrive while a COMMIT is in flight wait for it together and are woken together. Nobody's `async with`
        returns before the COMMIT that contains their change, so a response is only sent for work that is durable;
        if that COMMIT fails, every member of the group gets the error.

        Each turn of the event loop a writer waits for is a turn of every other request in progress, so the path is
        kept short: woken straight from the COMMIT's thread, no task or lock hand-over in between. The statements
        inside run on the event loop and do not wait, so transactions do not overlap; the body lock keeps that true
        if one ever does wait (and is then the only time it is contended).
        """
        if self._writer is None:
            raise RuntimeError("the database is not open")
        conn = self._writer
        while self._committing is not None:
            await self._commit_finished()
        async with self._body_lock:
            while self._committing is not None:  # began while this writer waited for a body that waited
                await self._commit_finished()
            if self._group is None:
                await self._begin(conn)
                self._group = []
            conn.raw.execute("SAVEPOINT change")
            try:
                yield conn
                conn.raw.execute("RELEASE change")
            except BaseException:
                self._undo_change(conn)
                raise
            committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._group.append(committed)
            if len(self._group) == 1:  # the first of a group: commit once this turn of the event loop is over
                asyncio.get_running_loop().call_soon(self._start_commit, conn)
        await committed

    def housekeeping(self) -> contextlib.AbstractAsyncContextManager[LoopConnection]:
        """Here the same as `transaction`: SQLite has one writer."""
        return self.transaction()

    async def _commit_finished(self) -> None:
        """Wait for the COMMIT in flight (a future of this writer's own: giving up cancels nobody else's wait)."""
        if self._committing is not None:
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._committing.append(finished)
            await finished

    async def _begin(self, conn: LoopConnection) -> None:
        """BEGIN IMMEDIATE on the event loop while the write lock is free, which it is unless another process (a
        `handover` command) is writing; then, and only then, wait for it on a thread."""
        try:
            conn.raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # BUSY and its extended codes
                raise
        conn.raw.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        waiting = asyncio.ensure_future(conn.in_thread("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # given up (the client went away): the thread still has the connection; let it finish, and undo a
            # BEGIN that got through, so that no transaction is left open without an owner
            with contextlib.suppress(BaseException):
                await waiting
            if conn.in_transaction:
                conn.raw.execute("ROLLBACK")
            raise
        finally:
            if waiting.done():
                conn.raw.execute("PRAGMA busy_timeout=0")

    def _undo_change(self, conn: LoopConnection) -> None:
        """Roll back one member's change; the rest of its group stands, unless SQLite abandoned all of it."""
        with contextlib.suppress(sqlite3.Error):
            conn.raw.execute("ROLLBACK TO change")
            conn.raw.execute("RELEASE change")
        if conn.in_transaction and self._group:
            return  # the others' changes wait for the COMMIT already scheduled
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:  # nobody else in the group: end it rather than hold the write lock
                conn.raw.execute("ROLLBACK")
        members, self._group = self._group or [], None
        for member in members:  # SQLite rolled the whole group back (a full disk, for example)
            if not member.done():
                member.set_exception(sqlite3.OperationalError("the change was rolled back; try again"))

    def _start_commit(self, conn: LoopConnection) -> None:
        """COMMIT the open group on a worker thread; `_committed` tells its members from the event loop."""
        if self._body_lock.locked():  # a transaction body is waiting on something: commit once it has finished
            self._deferred_commit = asyncio.ensure_future(self._commit_when_free(conn))
            return
        self._commit_now(conn)

    def _commit_now(self, conn: LoopConnection) -> None:
        """Start the COMMIT (the caller knows no transaction body is running)."""
        members, self._group = self._group or [], None
        if not members:
            return
        self._committing = []
        self.commits += 1
        loop = asyncio.get_running_loop()

        def commit() -> None:
            try:
                conn.raw.execute("COMMIT")
            except BaseException as exc:
                loop.call_soon_threadsafe(self._committed, conn, members, exc)
            else:
                loop.call_soon_threadsafe(self._committed, conn, members, None)

        loop.run_in_executor(None, commit)

    async def _commit_when_free(self, conn: LoopConnection) -> None:
        async with self._body_lock:
            self._commit_now(conn)

    def _committed(
        self, conn: LoopConnection, members: list[asyncio.Future[None]], error: BaseException | None
    ) -> None:
        """Tell every member how their COMMIT went (rolling the group back if it failed), then wake the waiters."""
        if error is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.raw.execute("ROLLBACK")
        for member in members:
            if member.done():  # its writer gave up waiting; the change stands or falls with the others all the same
                continue
            if error is None:
                member.set_result(None)
            else:
                member.set_exception(error)
        waiting, self._committing = self._committing or [], None
        for finished in waiting:
            if not finished.done():
                finished.set_result(None)


async def _rows(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))


async def _one(conn: Conn, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    rows = await _rows(conn, sql, params)
    return rows[0] if rows else None


async def _total(
    conn: Conn, rows: Sequence[Any], count_sql: str, params: Sequence[Any], limit: int, offset: int
) -> int:
    """How many rows a whole list holds, given one page of it (`limit` rows read after `offset`): a page that is not
    full is the list's last, so the list holds the rows before it and its own, uncounted (most lists people work
    from fit on their first page). Only a full page, or an empty one past the start (an address kept from a longer
    list), is counted by `count_sql`."""
    if (rows and len(rows) < limit) or (not rows and offset == 0):
        return offset + len(rows)
    total = await _one(conn, count_sql, params)
    return int(total[0]) if total else 0


async def _insert(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    """INSERT one row into a table with an `id` column; returns the new row's id."""
    row = await _one(conn, sql + " RETURNING id", params)
    return int(row[0]) if row else 0


async def migrate(conn: LoopConnection) -> int:
    """Apply the numbered migrations not yet recorded; returns the schema version."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    rows = await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    current = int(next(iter(rows))[0])
    for number, script in enumerate(MIGRATIONS, start=1):
        if number <= current:
            continue
        if isinstance(script, Migration):
            script = script.sqlite
        # executescript commits first, so the statements and their record are grouped in one explicit transaction
        await conn.executescript(
            f"BEGIN IMMEDIATE; {script}; INSERT INTO schema_migrations VALUES ({number}, '{now()}'); COMMIT;"
        )
    return len(MIGRATIONS)


@asynccontextmanager
async def open_read_only(
    path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> AsyncIterator[aiosqlite.Connection]:
    """A read-only aiosqlite connection to the file at `path` (rows as sqlite3.Row), closed when the block ends."""
    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        yield conn


async def has_table(conn: Conn, name: str) -> bool:
    """Whether the database `conn` reads has a table called `name`: from SQLite's catalogue, or PostgreSQL's."""
    if isinstance(conn, LoopConnection | aiosqlite.Connection):
        row = await _one(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return row is not None
    row = await _one(conn, "SELECT to_regclass(?) IS NOT NULL", (name,))
    return bool(row and row[0])


async def schema_version(conn: Conn) -> int:
    row = await _one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(row[0]) if row else 0
