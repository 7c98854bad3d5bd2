"""All SQL lives here: the schema and its migrations, and named queries that return typed records.

Reads go through a reader connection. Writes go through one writer connection: each change, with its audit entry,
is a savepoint that never overlaps another, and the changes made in one turn of the event loop are committed together
(see `Database.transaction`).

Statements that take microseconds (indexed lookups, single-row writes) run directly on the event loop: handing each to
a thread and back costs about ten times the statement itself (110 µs against 10 µs, measured here), and a page or a
save makes several. What can wait on something outside this process goes to a thread: COMMIT (fsync), BEGIN
IMMEDIATE when another process holds the write lock, and the report's queries, which read thousands of rows
(`scanner`).
In WAL mode a reader never waits for a writer, so the inline reads do not block on the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import operator
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import msgspec

from service.core.answers import SectionAnswers
from service.core.audit import GENESIS, Entry, StoredEntry, entry_hash
from service.core.report import ReportFilter

T = TypeVar("T")

MIGRATIONS: list[str] = [
    # 1: people, teams, cases, handovers, the audit log
    """
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_auditor INTEGER NOT NULL DEFAULT 0,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE memberships (
        user_id INTEGER NOT NULL REFERENCES users(id),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        role TEXT NOT NULL CHECK (role IN ('worker', 'manager')),
        PRIMARY KEY (user_id, team_id, role)
    );
    CREATE TABLE sibling_groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        child_name TEXT NOT NULL,
        date_of_birth TEXT NOT NULL,
        sibling_group_id INTEGER REFERENCES sibling_groups(id),
        allocated_worker_id INTEGER NOT NULL REFERENCES users(id),
        allocated_team_id INTEGER NOT NULL REFERENCES teams(id),
        allocated_since TEXT NOT NULL
    );
    CREATE INDEX cases_by_worker ON cases(allocated_worker_id);
    CREATE INDEX cases_by_sibling_group ON cases(sibling_group_id);
    CREATE TABLE handovers (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        checklist_id TEXT NOT NULL,
        checklist_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        author_id INTEGER NOT NULL REFERENCES users(id),
        sending_team_id INTEGER NOT NULL REFERENCES teams(id),
        receiving_team_id INTEGER NOT NULL REFERENCES teams(id),
        receiver_id INTEGER REFERENCES users(id),
        transfer_reason TEXT NOT NULL,
        started_at TEXT NOT NULL,
        submitted_at TEXT,
        endorsed_by INTEGER REFERENCES users(id),
        endorsed_at TEXT,
        acknowledged_by INTEGER REFERENCES users(id),
        acknowledged_at TEXT,
        approved_by INTEGER REFERENCES users(id),
        approved_at TEXT,
        returned_reason TEXT,
        returned_by INTEGER REFERENCES users(id),
        returned_at TEXT,
        state_since TEXT NOT NULL,
        last_activity_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX handovers_by_author ON handovers(author_id, state);
    CREATE INDEX handovers_by_state ON handovers(state, started_at);
    CREATE INDEX handovers_by_case ON handovers(case_id);
    CREATE UNIQUE INDEX one_open_handover_per_case ON handovers(case_id)
        WHERE state NOT IN ('closed', 'cancelled');
    CREATE TABLE sections (
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        section_id TEXT NOT NULL,
        answers TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'has_errors')),
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (handover_id, section_id)
    );
    CREATE TABLE confirmations (
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        section_id TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        readback TEXT NOT NULL DEFAULT '',
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (handover_id, section_id)
    );
    CREATE TABLE disagreements (
        id INTEGER PRIMARY KEY,
        handover_id INTEGER NOT NULL REFERENCES handovers(id),
        raised_by INTEGER NOT NULL REFERENCES users(id),
        raised_at TEXT NOT NULL,
        about TEXT NOT NULL,
        with_whom TEXT NOT NULL,
        view TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'escalated', 'resolved')),
        stage TEXT NOT NULL DEFAULT '',
        stage_date TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        decided_by INTEGER REFERENCES users(id),
        decided_at TEXT
    );
    CREATE INDEX disagreements_by_handover ON disagreements(handover_id, status);
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id INTEGER,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_by_object ON audit_log(object_type, object_id, seq);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: what the auditors' report filters on, kept current at write time instead of recomputed per request
    """
    ALTER TABLE sections ADD COLUMN critical INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX handovers_by_sending_team ON handovers(sending_team_id, state);
    CREATE INDEX handovers_by_receiving_team ON handovers(receiving_team_id, state);
    CREATE INDEX handovers_open_by_start ON handovers(started_at) WHERE state NOT IN ('closed', 'cancelled');
    """,
    # 3: sign-in throttling, and forms that arrived after their session had ended
    """
    CREATE TABLE sign_in_failures (key TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX sign_in_failures_by_key ON sign_in_failures(key, at);
    CREATE TABLE pending_drafts (
        token TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        form TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 4: case management systems: service accounts and their API tokens (stored hashed)
    """
    ALTER TABLE users ADD COLUMN is_service INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
    # 5: the receiver's inbox finds their handovers without reading every endorsed one
    """
    CREATE INDEX handovers_by_receiver ON handovers(receiver_id, state);
    """,
    # 6: a manager's queue comes out of the index in the order it is shown (no sort of every waiting handover)
    """
    DROP INDEX handovers_by_sending_team;
    CREATE INDEX handovers_by_sending_team ON handovers(sending_team_id, state, state_since);
    DROP INDEX handovers_by_receiving_team;
    CREATE INDEX handovers_by_receiving_team ON handovers(receiving_team_id, state, state_since);
    """,
]


class Conflict(Exception):
    """Someone else changed the record since the person loaded it."""


class NotFound(Exception):
    pass


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- records


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    username: str
    name: str
    password_hash: str
    is_auditor: bool
    is_admin: bool
    disabled: bool
    is_service: bool = False


class Team(msgspec.Struct, frozen=True):
    id: int
    name: str


class Membership(msgspec.Struct, frozen=True):
    team_id: int
    team_name: str
    role: str


class Case(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    reference: str
    child_name: str
    date_of_birth: str
    sibling_group_id: int | None
    sibling_group: str | None
    allocated_worker_id: int
    allocated_worker: str
    allocated_team_id: int
    allocated_team: str
    open_handover_id: int | None


class Handover(msgspec.Struct, frozen=True):  # positional too: _builder makes long lists of them quickly
    id: int
    case_id: int
    case_reference: str
    child_name: str
    sibling_group: str | None
    checklist_id: str
    checklist_version: int
    state: str
    author_id: int
    author: str
    sending_team_id: int
    sending_team: str
    receiving_team_id: int
    receiving_team: str
    receiver_id: int | None
    receiver: str | None
    transfer_reason: str
    started_at: str
    submitted_at: str | None
    endorsed_by: int | None
    endorsed_at: str | None
    acknowledged_by: int | None
    acknowledged_at: str | None
    approved_by: int | None
    approved_at: str | None
    returned_reason: str | None
    returned_by: int | None
    returned_at: str | None
    state_since: str
    last_activity_at: str
    version: int
    open_disagreements: int


class Waiting(msgspec.Struct, frozen=True):
    """A handover as the inbox and the manager queue list it: only what a row shows (a full Handover costs a
    correlated count and three more joins a row, which were half of the queue's reading time)."""

    id: int
    child_name: str
    author: str
    sending_team: str
    receiver_id: int | None
    receiver: str | None
    receiving_team: str
    state_since: str


class SectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    answers: SectionAnswers
    status: str
    version: int
    updated_at: str
    updated_by: int


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    user_id: int
    readback: str
    confirmed_at: str


class Disagreement(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    handover_id: int
    raised_by: int
    raised_by_name: str
    raised_at: str
    about: str
    with_whom: str
    view: str
    status: str
    stage: str
    stage_date: str
    outcome: str
    decided_by_name: str | None
    decided_at: str | None


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: str
    actor: str | None
    action: str
    details: dict[str, Any]


def _record(row: sqlite3.Row, kind: type[T]) -> T:
    key = (kind, tuple(row.keys()))
    build = _builders.get(key) or _builders.setdefault(key, _builder(kind, key[1]))
    return build(row)  # type: ignore[no-any-return]


_builders: dict[tuple[type, tuple[str, ...]], Callable[[sqlite3.Row], Any]] = {}


def _builder(kind: type[T], columns: tuple[str, ...]) -> Callable[[sqlite3.Row], T]:
    """How to make a `kind` from rows with these columns: a field per column of the same name, 0/1 to bool.

    The records hold only ints, strings and bools (checked here), so the Struct is made directly; this is several
    times quicker than msgspec.convert on a dict of the row, which the pages with long lists noticed.
    """
    fields = {field.name: field.type for field in msgspec.structs.fields(kind)}  # type: ignore[arg-type]
    if not all(t in (int, str, bool, int | None, str | None) for t in fields.values()):
        raise TypeError(f"{kind.__name__} has a field that needs converting from SQLite")
    position = {name: index for index, name in enumerate(columns)}
    positional = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in inspect.signature(kind).parameters.values())
    if positional and bool not in fields.values() and set(fields) <= set(position):
        pick = operator.itemgetter(*(position[name] for name in fields))
        return lambda row: kind(*pick(row))  # positional, in field order: the quickest way to make a Struct
    plain = [(name, index) for index, name in enumerate(columns) if name in fields and fields[name] is not bool]
    flags = [(name, index) for index, name in enumerate(columns) if fields.get(name) is bool]

    def build(row: sqlite3.Row) -> T:
        values = {name: row[index] for name, index in plain}
        for name, index in flags:
            values[name] = bool(row[index])
        return kind(**values)

    return build


_answers_decoder = msgspec.json.Decoder(SectionAnswers)
_details_decoder = msgspec.json.Decoder(dict[str, Any])


# ---------------------------------------------------------------- the database


class Inline:
    """A sqlite3 connection with aiosqlite's coroutine methods, run on the calling thread (see the module's note)."""

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


Conn = Inline | aiosqlite.Connection


class Database:
    """One file: a reader connection for queries and one serialised writer connection for changes."""

    def __init__(self, path: Path, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._reader: Inline | None = None
        self._writer: Inline | None = None
        self._scanner: aiosqlite.Connection | None = None
        self._body_lock = asyncio.Lock()
        self._group: list[asyncio.Future[None]] | None = None  # members of the open, uncommitted group
        self._committing: list[asyncio.Future[None]] | None = None  # while a COMMIT is in flight: who waits for it
        self._deferred_commit: asyncio.Future[None] | None = None
        self.commits = 0  # group COMMITs so far

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Inline(await asyncio.to_thread(self._connect))
        await migrate(self._writer)
        self._writer.raw.execute("PRAGMA busy_timeout=0")  # see _begin
        self._reader = Inline(await asyncio.to_thread(self._connect))
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
    def reader(self) -> Inline:
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
    async def transaction(self) -> AsyncIterator[Inline]:
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

    async def _commit_finished(self) -> None:
        """Wait for the COMMIT in flight (a future of this writer's own: giving up cancels nobody else's wait)."""
        if self._committing is not None:
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._committing.append(finished)
            await finished

    async def _begin(self, conn: Inline) -> None:
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

    def _undo_change(self, conn: Inline) -> None:
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

    def _start_commit(self, conn: Inline) -> None:
        """COMMIT the open group on a worker thread; `_committed` tells its members from the event loop."""
        if self._body_lock.locked():  # a transaction body is waiting on something: commit once it has finished
            self._deferred_commit = asyncio.ensure_future(self._commit_when_free(conn))
            return
        self._commit_now(conn)

    def _commit_now(self, conn: Inline) -> None:
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

    async def _commit_when_free(self, conn: Inline) -> None:
        async with self._body_lock:
            self._commit_now(conn)

    def _committed(self, conn: Inline, members: list[asyncio.Future[None]], error: BaseException | None) -> None:
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


async def migrate(conn: Conn) -> int:
    """Apply the numbered migrations not yet recorded; returns the schema version."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    rows = await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    current = int(next(iter(rows))[0])
    for number, script in enumerate(MIGRATIONS, start=1):
        if number <= current:
            continue
        # executescript commits first, so the statements and their record are grouped in one explicit transaction
        await conn.executescript(
            f"BEGIN IMMEDIATE; {script}; INSERT INTO schema_migrations VALUES ({number}, '{now()}'); COMMIT;"
        )
    return len(MIGRATIONS)


async def _rows(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))


async def _one(conn: Conn, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    rows = await _rows(conn, sql, params)
    return rows[0] if rows else None


async def _insert(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    row_id = (await conn.execute_insert(sql, params) or (None,))[0]
    return int(row_id) if row_id is not None else 0


# ---------------------------------------------------------------- audit log


async def append_audit(
    conn: Conn,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any] | None = None,
) -> Entry:
    """Append one hash-chained entry; call inside the transaction that makes the change it records."""
    last = await _one(conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (int(last["seq"]) + 1, str(last["hash"])) if last else (1, GENESIS)
    entry = Entry(
        seq=seq,
        at=now(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
    )
    await conn.execute(
        "INSERT INTO audit_log (seq, at, actor_id, action, object_type, object_id, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            entry.at,
            actor_id,
            action,
            object_type,
            object_id,
            msgspec.json.encode(entry.details).decode(),
            prev_hash,
            entry_hash(prev_hash, entry),
        ),
    )
    return entry


async def audit_entries(conn: Conn, after_seq: int = 0, limit: int = 5000) -> list[StoredEntry]:
    rows = await _rows(conn, "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
    return [
        StoredEntry(
            entry=Entry(
                seq=row["seq"],
                at=row["at"],
                actor_id=row["actor_id"],
                action=row["action"],
                object_type=row["object_type"],
                object_id=row["object_id"],
                details=_details_decoder.decode(row["details"]),
            ),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in rows
    ]


async def last_audit_entry(conn: Conn) -> tuple[int, str]:
    row = await _one(conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (int(row["seq"]), str(row["hash"])) if row else (0, GENESIS)


async def timeline(conn: Conn, handover_id: int) -> list[TimelineEvent]:
    """A handover's history, read from the audit log itself so the two can never disagree."""
    rows = await _rows(
        conn,
        "SELECT a.seq, a.at, u.name AS actor, a.action, a.details FROM audit_log a"
        " LEFT JOIN users u ON u.id = a.actor_id"
        " WHERE a.object_type = 'handover' AND a.object_id = ? AND a.action != 'view' ORDER BY a.seq",
        (handover_id,),
    )
    return [
        TimelineEvent(
            seq=r["seq"],
            at=r["at"],
            actor=r["actor"],
            action=r["action"],
            details=_details_decoder.decode(r["details"]),
        )
        for r in rows
    ]


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


async def add_membership(conn: Conn, user_id: int, team_id: int, role: str) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO memberships (user_id, team_id, role) VALUES (?, ?, ?)", (user_id, team_id, role)
    )


async def user_by_username(conn: Conn, username: str) -> User | None:
    row = await _one(conn, "SELECT * FROM users WHERE username = ?", (username,))
    return _record(row, User) if row else None


async def user_by_id(conn: Conn, user_id: int) -> User | None:
    row = await _one(conn, "SELECT * FROM users WHERE id = ?", (user_id,))
    return _record(row, User) if row else None


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
    return _record(rows[0], User), teams


async def team_workers(conn: Conn, team_id: int) -> list[tuple[int, str]]:
    rows = await _rows(
        conn,
        "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.team_id = ? AND m.role = 'worker' AND u.disabled = 0 ORDER BY u.name",
        (team_id,),
    )
    return [(r["id"], r["name"]) for r in rows]


async def is_team_worker(conn: Conn, user_id: int, team_id: int) -> bool:
    row = await _one(
        conn,
        "SELECT 1 FROM memberships WHERE user_id = ? AND team_id = ? AND role = 'worker'",
        (user_id, team_id),
    )
    return row is not None


# ---------------------------------------------------------------- cases

_CASE_SELECT = """
    SELECT c.id, c.reference, c.child_name, c.date_of_birth, c.sibling_group_id, g.name AS sibling_group,
           c.allocated_worker_id, u.name AS allocated_worker, c.allocated_team_id, t.name AS allocated_team,
           (SELECT h.id FROM handovers h WHERE h.case_id = c.id AND h.state NOT IN ('closed', 'cancelled'))
               AS open_handover_id
    FROM cases c
    JOIN users u ON u.id = c.allocated_worker_id
    JOIN teams t ON t.id = c.allocated_team_id
    LEFT JOIN sibling_groups g ON g.id = c.sibling_group_id
"""


async def create_sibling_group(conn: Conn, name: str) -> int:
    return await _insert(conn, "INSERT INTO sibling_groups (name) VALUES (?)", (name,))


async def create_case(
    conn: Conn,
    reference: str,
    child_name: str,
    date_of_birth: str,
    worker_id: int,
    team_id: int,
    sibling_group_id: int | None = None,
) -> int:
    return await _insert(
        conn,
        "INSERT INTO cases (reference, child_name, date_of_birth, sibling_group_id, allocated_worker_id,"
        " allocated_team_id, allocated_since) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (reference, child_name, date_of_birth, sibling_group_id, worker_id, team_id, now()),
    )


async def case_by_id(conn: Conn, case_id: int) -> Case | None:
    row = await _one(conn, _CASE_SELECT + " WHERE c.id = ?", (case_id,))
    return _record(row, Case) if row else None


async def cases_allocated_to(conn: Conn, user_id: int) -> list[Case]:
    rows = await _rows(conn, _CASE_SELECT + " WHERE c.allocated_worker_id = ? ORDER BY c.child_name", (user_id,))
    return [_record(r, Case) for r in rows]


async def siblings_of(conn: Conn, case: Case) -> list[Case]:
    if case.sibling_group_id is None:
        return []
    rows = await _rows(
        conn,
        _CASE_SELECT + " WHERE c.sibling_group_id = ? AND c.id != ? ORDER BY c.date_of_birth",
        (case.sibling_group_id, case.id),
    )
    return [_record(r, Case) for r in rows]


async def reallocate_case(conn: Conn, case_id: int, worker_id: int, team_id: int) -> None:
    """Move the allocation in one statement, so the case is never without exactly one allocated worker."""
    await conn.execute(
        "UPDATE cases SET allocated_worker_id = ?, allocated_team_id = ?, allocated_since = ? WHERE id = ?",
        (worker_id, team_id, now(), case_id),
    )


# ---------------------------------------------------------------- handovers

# Every query about handovers names the same people, teams and case, joined the same way.
_HANDOVER_FROM = """
    FROM handovers h
    JOIN cases c ON c.id = h.case_id
    LEFT JOIN sibling_groups g ON g.id = c.sibling_group_id
    JOIN users a ON a.id = h.author_id
    JOIN teams st ON st.id = h.sending_team_id
    JOIN teams rt ON rt.id = h.receiving_team_id
    LEFT JOIN users r ON r.id = h.receiver_id
"""

_HANDOVER_SELECT = (
    """
    SELECT h.*, c.reference AS case_reference, c.child_name, g.name AS sibling_group,
           a.name AS author, st.name AS sending_team, rt.name AS receiving_team, r.name AS receiver,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status = 'open')
               AS open_disagreements
"""
    + _HANDOVER_FROM
)


async def create_handover(
    conn: Conn,
    *,
    case_id: int,
    checklist_id: str,
    checklist_version: int,
    author_id: int,
    sending_team_id: int,
    receiving_team_id: int,
    receiver_id: int | None,
    transfer_reason: str,
) -> int:
    stamp = now()
    return await _insert(
        conn,
        "INSERT INTO handovers (case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
        " receiving_team_id, receiver_id, transfer_reason, started_at, state_since, last_activity_at)"
        " VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            checklist_id,
            checklist_version,
            author_id,
            sending_team_id,
            receiving_team_id,
            receiver_id,
            transfer_reason,
            stamp,
            stamp,
            stamp,
        ),
    )


async def handover_by_id(conn: Conn, handover_id: int) -> Handover | None:
    row = await _one(conn, _HANDOVER_SELECT + " WHERE h.id = ?", (handover_id,))
    return _record(row, Handover) if row else None


async def handover_version(conn: Conn, handover_id: int) -> int | None:
    row = await _one(conn, "SELECT version FROM handovers WHERE id = ?", (handover_id,))
    return int(row[0]) if row else None


async def handovers_by_author(conn: Conn, user_id: int, finished_limit: int = 10) -> list[Handover]:
    """Everything this worker has in progress, and only the most recent of their closed or cancelled ones."""
    rows = await _rows(
        conn,
        "SELECT * FROM (" + _HANDOVER_SELECT + " WHERE h.author_id = ? AND h.state NOT IN ('closed', 'cancelled'))"
        " UNION ALL SELECT * FROM ("
        + _HANDOVER_SELECT
        + " WHERE h.author_id = ? AND h.state IN ('closed', 'cancelled')"
        " ORDER BY h.last_activity_at DESC LIMIT ?) ORDER BY last_activity_at DESC",
        (user_id, user_id, finished_limit),
    )
    return [_record(r, Handover) for r in rows]


_WAITING_SELECT = """
    SELECT h.id, c.child_name, a.name AS author, st.name AS sending_team, h.receiver_id, r.name AS receiver,
           rt.name AS receiving_team, h.state_since
    FROM handovers h
    JOIN cases c ON c.id = h.case_id
    JOIN users a ON a.id = h.author_id
    JOIN teams st ON st.id = h.sending_team_id
    JOIN teams rt ON rt.id = h.receiving_team_id
    LEFT JOIN users r ON r.id = h.receiver_id
"""


def inbox_query(user_id: int, team_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """Endorsed handovers named to this worker, or addressed to one of their teams with no worker named: two
    searches by index (a single OR was planned as a read of every endorsed handover)."""
    marks = ",".join("?" * len(team_ids)) or "NULL"
    sql = (
        _WAITING_SELECT + " WHERE h.id IN ("
        "SELECT id FROM handovers WHERE receiver_id = ? AND state = 'endorsed' UNION ALL "
        f"SELECT id FROM handovers WHERE receiver_id IS NULL AND state = 'endorsed' AND receiving_team_id IN ({marks})"
        ") ORDER BY h.state_since"
    )
    return sql, [user_id, *team_ids]


async def handovers_waiting_for_receiver(conn: Conn, user_id: int, team_ids: Sequence[int]) -> list[Waiting]:
    sql, params = inbox_query(user_id, team_ids)
    return [_record(r, Waiting) for r in await _rows(conn, sql, params)]


async def handovers_for_managers(
    conn: Conn, state: str, team_column: str, team_ids: Sequence[int], limit: int = -1, offset: int = 0
) -> tuple[list[Waiting], int]:
    """One page of the handovers in one state whose sending or receiving team is one of these, longest waiting
    first, and how many there are in all."""
    if team_column not in ("sending_team_id", "receiving_team_id") or not team_ids:
        return [], 0
    where = f" WHERE h.state = ? AND h.{team_column} IN ({','.join('?' * len(team_ids))})"
    total = await _one(conn, "SELECT COUNT(*) FROM handovers h" + where, (state, *team_ids))
    sql, params = queue_query(state, team_column, team_ids)
    rows = await _rows(conn, sql, [*params, limit, offset])
    return [_record(r, Waiting) for r in rows], int(total[0]) if total else 0


def queue_query(state: str, team_column: str, team_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """One page (LIMIT ? OFFSET ? to follow) of a manager's queue, read in order from the team's index."""
    where = f" WHERE h.state = ? AND h.{team_column} IN ({','.join('?' * len(team_ids))})"
    return _WAITING_SELECT + where + " ORDER BY h.state_since, h.id LIMIT ? OFFSET ?", [state, *team_ids]


async def update_handover(conn: Conn, handover_id: int, expected_version: int, **changes: Any) -> None:
    """Change workflow columns if nobody else has since `expected_version`; raises Conflict otherwise."""
    allowed = {
        "state", "receiver_id", "submitted_at", "endorsed_by", "endorsed_at", "acknowledged_by", "acknowledged_at",
        "approved_by", "approved_at", "returned_reason", "returned_by", "returned_at", "state_since",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {unknown}")
    changes["last_activity_at"] = now()
    assignments = ", ".join(f"{column} = ?" for column in changes)
    cursor = await conn.execute(
        f"UPDATE handovers SET {assignments}, version = version + 1 WHERE id = ? AND version = ?",
        (*changes.values(), handover_id, expected_version),
    )
    if cursor.rowcount != 1:
        raise Conflict("the handover was changed by someone else")


async def touch_handover(conn: Conn, handover_id: int) -> None:
    await conn.execute("UPDATE handovers SET last_activity_at = ? WHERE id = ?", (now(), handover_id))


# ---------------------------------------------------------------- sections and confirmations


async def section_statuses(conn: Conn, handover_id: int) -> dict[str, str]:
    """Each saved section's status (completed, in_progress, has_errors), without reading the answers."""
    rows = await _rows(conn, "SELECT section_id, status FROM sections WHERE handover_id = ?", (handover_id,))
    return {r[0]: r[1] for r in rows}


async def sections_of(conn: Conn, handover_id: int) -> dict[str, SectionRecord]:
    rows = await _rows(conn, "SELECT * FROM sections WHERE handover_id = ?", (handover_id,))
    return {
        r["section_id"]: SectionRecord(
            section_id=r["section_id"],
            answers=_answers_decoder.decode(r["answers"]),
            status=r["status"],
            version=r["version"],
            updated_at=r["updated_at"],
            updated_by=r["updated_by"],
        )
        for r in rows
    }


async def section_version(conn: Conn, handover_id: int, section_id: str) -> int:
    row = await _one(
        conn, "SELECT version FROM sections WHERE handover_id = ? AND section_id = ?", (handover_id, section_id)
    )
    return int(row["version"]) if row else 0


async def save_section(
    conn: Conn,
    handover_id: int,
    section_id: str,
    answers: SectionAnswers,
    status: str,
    base_version: int,
    user_id: int,
    *,
    critical: bool = False,
) -> int:
    """Store a section's answers if it is still at `base_version`; returns the new version or raises Conflict."""
    current = await section_version(conn, handover_id, section_id)
    if current != base_version:
        raise Conflict(f"section {section_id} is at version {current}, not {base_version}")
    encoded = msgspec.json.encode(answers).decode()
    await conn.execute(
        "INSERT INTO sections (handover_id, section_id, answers, status, version, updated_at, updated_by, critical)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (handover_id, section_id) DO UPDATE SET"
        " answers = excluded.answers, status = excluded.status, version = excluded.version,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by, critical = excluded.critical",
        (handover_id, section_id, encoded, status, current + 1, now(), user_id, critical),
    )
    await touch_handover(conn, handover_id)
    return current + 1


async def confirmations_of(conn: Conn, handover_id: int) -> dict[str, Confirmation]:
    rows = await _rows(conn, "SELECT * FROM confirmations WHERE handover_id = ?", (handover_id,))
    return {r["section_id"]: _record(r, Confirmation) for r in rows}


async def confirm_section(conn: Conn, handover_id: int, section_id: str, user_id: int, readback: str) -> None:
    await conn.execute(
        "INSERT INTO confirmations (handover_id, section_id, user_id, readback, confirmed_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (handover_id, section_id) DO UPDATE SET user_id = excluded.user_id,"
        " readback = excluded.readback, confirmed_at = excluded.confirmed_at",
        (handover_id, section_id, user_id, readback, now()),
    )
    await touch_handover(conn, handover_id)


async def clear_confirmations(conn: Conn, handover_id: int) -> None:
    """A returned handover may change, so what the receiver confirmed before no longer stands."""
    await conn.execute("DELETE FROM confirmations WHERE handover_id = ?", (handover_id,))


# ---------------------------------------------------------------- disagreements

_DISAGREEMENT_SELECT = """
    SELECT d.*, r.name AS raised_by_name, m.name AS decided_by_name
    FROM disagreements d JOIN users r ON r.id = d.raised_by LEFT JOIN users m ON m.id = d.decided_by
"""


async def raise_disagreement(conn: Conn, handover_id: int, user_id: int, about: str, with_whom: str, view: str) -> int:
    disagreement_id = await _insert(
        conn,
        "INSERT INTO disagreements (handover_id, raised_by, raised_at, about, with_whom, view, status)"
        " VALUES (?, ?, ?, ?, ?, ?, 'open')",
        (handover_id, user_id, now(), about, with_whom, view),
    )
    await touch_handover(conn, handover_id)
    return disagreement_id


async def disagreements_of(conn: Conn, handover_id: int) -> list[Disagreement]:
    rows = await _rows(conn, _DISAGREEMENT_SELECT + " WHERE d.handover_id = ? ORDER BY d.id", (handover_id,))
    return [_record(r, Disagreement) for r in rows]


async def decide_disagreement(
    conn: Conn, disagreement_id: int, user_id: int, status: str, outcome: str, stage: str = "", stage_date: str = ""
) -> None:
    cursor = await conn.execute(
        "UPDATE disagreements SET status = ?, outcome = ?, stage = ?, stage_date = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND status = 'open'",
        (status, outcome, stage, stage_date, user_id, now(), disagreement_id),
    )
    if cursor.rowcount != 1:
        raise Conflict("the disagreement has already been decided")


# ---------------------------------------------------------------- the auditors' report

_INCOMPLETE_SELECT = (
    """
    SELECT h.id, c.reference AS case_reference, g.name AS sibling_group, h.checklist_id, h.checklist_version,
           h.state, h.author_id, a.name AS author, h.sending_team_id, st.name AS sending_team,
           h.receiver_id, r.name AS receiver, h.receiving_team_id, rt.name AS receiving_team,
           h.started_at, h.submitted_at, h.state_since, h.last_activity_at, h.endorsed_by, h.acknowledged_by,
           (SELECT COUNT(*) FROM disagreements d WHERE d.handover_id = h.id AND d.status = 'open')
               AS open_disagreements,
           COALESCE((SELECT group_concat(s.section_id) FROM sections s
                     WHERE s.handover_id = h.id AND s.status = 'completed'), '') AS completed_sections,
           COALESCE((SELECT group_concat(s.section_id) FROM sections s
                     WHERE s.handover_id = h.id AND s.critical = 1 AND NOT EXISTS (
                         SELECT 1 FROM confirmations f
                         WHERE f.handover_id = s.handover_id AND f.section_id = s.section_id)), '')
               AS unconfirmed_critical
"""
    + _HANDOVER_FROM
)

_BLOCKER_SQL = {
    "returned_with_query": "h.state = 'returned'",
    "awaiting_endorsement": "h.state = 'submitted'",
    "awaiting_acknowledgement": "h.state = 'endorsed'",
    "awaiting_approval": "h.state = 'acknowledged'",
    "open_disagreement": "EXISTS (SELECT 1 FROM disagreements d WHERE d.handover_id = h.id AND d.status = 'open')",
}
_ORDER_SQL = {
    "oldest": "h.started_at, h.id",
    "newest": "h.started_at DESC, h.id DESC",
    "last_activity": "h.last_activity_at, h.id",
    "state": "h.state, h.started_at, h.id",
}


def _incomplete_where(
    wanted: ReportFilter, started_before: str | None, section_counts: dict[tuple[str, int], int]
) -> tuple[str, list[Any]]:
    """The WHERE clause for a ReportFilter: every filter runs in SQL, so only one page is ever built in Python."""
    clauses = ["h.state NOT IN ('closed', 'cancelled')"]
    params: list[Any] = []
    if wanted.team_id is not None:
        sides = {"sending": ["h.sending_team_id"], "receiving": ["h.receiving_team_id"]}.get(
            wanted.team_side, ["h.sending_team_id", "h.receiving_team_id"]
        )
        clauses.append("(" + " OR ".join(f"{side} = ?" for side in sides) + ")")
        params.extend([wanted.team_id] * len(sides))
    if wanted.state is not None:
        clauses.append("h.state = ?")
        params.append(wanted.state)
    if wanted.blocker == "missing_sections":
        cases = " ".join("WHEN ? THEN ?" for _ in section_counts)
        clauses.append(
            "h.state IN ('draft', 'returned') AND (SELECT COUNT(*) FROM sections s WHERE s.handover_id = h.id"
            f" AND s.status = 'completed') < (CASE h.checklist_id || ':' || h.checklist_version {cases} ELSE 0 END)"
        )
        for (checklist_id, version), count in section_counts.items():
            params.extend([f"{checklist_id}:{version}", count])
    elif wanted.blocker is not None:
        clauses.append(_BLOCKER_SQL[wanted.blocker])
    if started_before is not None:
        clauses.append("h.started_at < ?")
        params.append(started_before)
    return " WHERE " + " AND ".join(clauses), params


async def count_incomplete(
    conn: Conn, wanted: ReportFilter, started_before: str | None, section_counts: dict[tuple[str, int], int]
) -> int:
    where, params = _incomplete_where(wanted, started_before, section_counts)
    row = await _one(conn, "SELECT COUNT(*) FROM handovers h" + where, params)
    return int(row[0]) if row else 0


def incomplete_query(
    wanted: ReportFilter, started_before: str | None, section_counts: dict[tuple[str, int], int]
) -> tuple[str, list[Any]]:
    where, params = _incomplete_where(wanted, started_before, section_counts)
    return _INCOMPLETE_SELECT + where + " ORDER BY " + _ORDER_SQL[wanted.sort], params


async def incomplete_page(
    conn: Conn,
    wanted: ReportFilter,
    started_before: str | None,
    section_counts: dict[tuple[str, int], int],
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    sql, params = incomplete_query(wanted, started_before, section_counts)
    return [dict(row) for row in await _rows(conn, sql + " LIMIT ? OFFSET ?", [*params, limit, offset])]


async def stream_incomplete(
    path: Path,
    wanted: ReportFilter,
    started_before: str | None,
    section_counts: dict[tuple[str, int], int],
    batch: int = 1000,
) -> AsyncIterator[dict[str, Any]]:
    """Every matching row, a batch at a time, on a connection of its own so a long export holds up nobody."""
    sql, params = incomplete_query(wanted, started_before, section_counts)
    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA busy_timeout=5000")
        async with conn.execute(sql, params) as cursor:
            while rows := await cursor.fetchmany(batch):
                for row in rows:
                    yield dict(row)


async def stream_audit(path: Path, batch: int = 5000) -> AsyncIterator[StoredEntry]:
    """The whole audit log in order, read on a connection of its own."""
    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        last = 0
        while True:
            entries = await audit_entries(conn, after_seq=last, limit=batch)
            for stored in entries:
                yield stored
            if len(entries) < batch:
                return
            last = entries[-1].entry.seq


# ---------------------------------------------------------------- operations


async def schema_version(conn: Conn) -> int:
    row = await _one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(row[0]) if row else 0


async def handover_counts(conn: Conn) -> tuple[dict[str, int], str | None]:
    """How many handovers are in each state, and when the oldest incomplete one started."""
    rows = await _rows(conn, "SELECT state, COUNT(*) FROM handovers GROUP BY state")
    oldest = await _one(conn, "SELECT MIN(started_at) FROM handovers WHERE state NOT IN ('closed', 'cancelled')")
    return {r[0]: int(r[1]) for r in rows}, (oldest[0] if oldest else None)


def backup(source: Path, target: Path) -> None:
    """A consistent copy of a live database (SQLite's online backup API), safe while the service runs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    # a rollback-journal copy needs no -wal/-shm files beside it, so it can be read from a read-only place
    with sqlite3.connect(target) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")


def check_backup(path: Path) -> str | None:
    """Why this file cannot be restored, or None if it is a whole Handover database."""
    if not path.is_file():
        return f"{path} does not exist"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return f"{path} is damaged (integrity check failed)"
            version = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return f"{path} is not a Handover database ({exc})"
    if version is None or version > len(MIGRATIONS):
        return f"{path} has schema version {version}, which this version of Handover cannot use"
    return None


def restore(source: Path, target: Path) -> None:
    """Replace the database with a backup, in one step, through SQLite (so its WAL files stay consistent)."""
    with sqlite3.connect(source) as copy, sqlite3.connect(target) as live:
        copy.backup(live)


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


async def keep_pending_draft(conn: Conn, token: str, path: str, form: str, at: float) -> None:
    await conn.execute("DELETE FROM pending_drafts WHERE created_at < ?", (at - 86_400,))
    await conn.execute(
        "INSERT OR REPLACE INTO pending_drafts (token, path, form, created_at) VALUES (?, ?, ?, ?)",
        (token, path, form, at),
    )


async def take_pending_draft(conn: Conn, token: str, newer_than: float) -> tuple[str, str] | None:
    row = await _one(
        conn, "SELECT path, form FROM pending_drafts WHERE token = ? AND created_at > ?", (token, newer_than)
    )
    await conn.execute("DELETE FROM pending_drafts WHERE token = ?", (token,))
    return (str(row["path"]), str(row["form"])) if row else None


# ---------------------------------------------------------------- API tokens


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    scope: str


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
    return _record(row, ApiToken) if row else None


async def revoke_api_token(conn: Conn, token_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), token_id)
    )
    return cursor.rowcount == 1


async def sibling_group(conn: Conn, group_id: int) -> tuple[int, str] | None:
    row = await _one(conn, "SELECT id, name FROM sibling_groups WHERE id = ?", (group_id,))
    return (int(row["id"]), str(row["name"])) if row else None


async def team_by_name(conn: Conn, name: str) -> int | None:
    row = await _one(conn, "SELECT id FROM teams WHERE name = ?", (name,))
    return int(row["id"]) if row else None


async def case_by_reference(conn: Conn, reference: str) -> Case | None:
    row = await _one(conn, _CASE_SELECT + " WHERE c.reference = ?", (reference,))
    return _record(row, Case) if row else None


async def case_ids_in_group(conn: Conn, group_id: int) -> list[int]:
    return [
        int(r[0]) for r in await _rows(conn, "SELECT id FROM cases WHERE sibling_group_id = ? ORDER BY id", (group_id,))
    ]
