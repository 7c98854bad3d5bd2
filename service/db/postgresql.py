"""PostgreSQL's engine: the same store on a database that several instances of the service share.

The queries are written once, for both databases (`service.db.engine.Conn`). What differs is here:

- Placeholders: the queries use SQLite's `?` and `:name`; psycopg takes `%s` and `%(name)s` (`to_postgresql`).
  SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's does not, so LIKE is sent as ILIKE.
- Values: booleans are stored as 0/1 in both; a comparison PostgreSQL answers with a boolean is read back as 0/1, and
  sums and averages (PostgreSQL's `numeric`) as int or float, as SQLite gives them.
- Functions SQLite has and PostgreSQL lacks (`group_concat`, `json_group_array`, ...) are created with the schema
  (`service.db.schema_postgresql.COMPATIBILITY`, run whenever the schema moves on); SQLite's `char(n)` is sent as
  `chr(n)`, since PostgreSQL takes no function of that name. SQLite's `+column`, which keeps its planner off an
  index, is sent as the bare column (a unary plus is always written against its column; adding always has a space
  after the `+`).
- Writers: every change of records appends to the one audit chain, so changes are serialised across every instance
  by a transaction-scoped advisory lock taken first in each (`transaction`), as SQLite's single writer serialises
  them in one process. Reads never wait for it, and short writes that append nothing to the chain (sessions, sign-in
  throttling, pending drafts) take no lock (`housekeeping`).
- Migrations: the baseline schema, then the later migrations' PostgreSQL text, under an advisory lock so that
  instances starting together do not both migrate (`migrate_postgresql`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg_pool
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.pq import Format

from service.db.engine import Conn, Database, now
from service.db.schema import MIGRATIONS, POSTGRESQL_BASELINE_VERSION, Migration

# Keys of the advisory locks (any bigint the service alone uses; these spell "handover" and "migrate" in hex-ish)
CHANGE_LOCK = 0x68616E646F766572
MIGRATION_LOCK = 0x6D69677261746500

POOL_SIZE = 10  # connections per instance: a few more than the requests one instance has in its database at once

# `?` and `:name` outside quoted strings, identifiers and comments; `%` (psycopg's own marker) escaped; LIKE
_TOKENS = re.compile(
    r"""(?P<literal>'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*)"""
    r"""|\?(?P<numbered>\d+)|(?P<question>\?)|(?<!:):(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<percent>%)|(?P<like>\bLIKE\b)"""
    r"""|(?P<char>\bchar\()|(?<=[\s(])(?P<unary>\+)(?=[A-Za-z_])""",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def to_postgresql(sql: str) -> str:
    """A query as written for both databases (SQLite's placeholders), as psycopg takes it."""

    def replace(match: re.Match[str]) -> str:
        if match["literal"] is not None:
            return match["literal"].replace("%", "%%")
        if match["numbered"] is not None:  # SQLite's ?1: the first parameter, wherever it recurs
            return f"%(_{match['numbered']})s"
        if match["question"] is not None:
            return "%s"
        if match["name"] is not None:
            return f"%({match['name']})s"
        if match["percent"] is not None:
            return "%%"
        if match["char"] is not None:
            return "chr("
        if match["unary"] is not None:
            return ""
        return "ILIKE"

    return _TOKENS.sub(replace, sql)


class Row(Sequence[Any]):
    """A row read by position or by column name, as `sqlite3.Row` is."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: tuple[Any, ...], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Row) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    def keys(self) -> list[str]:
        return list(self._names)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=True))!r})"


def _rows_by_name(cursor: psycopg.AsyncCursor[Any]) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    names: dict[str, int] = {}
    for index, column in enumerate(description):
        names.setdefault(column.name, index)
    return lambda values: Row(values, names)


class _BoolAsInt(Loader):
    """A boolean PostgreSQL computed (`a = b`, `x IS NULL`) read as SQLite gives it: 1 or 0."""

    def load(self, data: Buffer) -> int:
        return 1 if bytes(data) in (b"t", b"\x01") else 0


class _BoolAsIntBinary(_BoolAsInt):
    format = Format.BINARY


class _NumericAsNumber(Loader):
    """A sum or an average (`numeric`) read as SQLite gives it: an int when whole, else a float."""

    def load(self, data: Buffer) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class _IntDumper(Dumper):
    """Python's bool sent as the 0/1 the schema stores, so `disabled = ?` compares integers."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> Buffer:
        return b"1" if obj else b"0"


def _adapt(context: psycopg.AsyncConnection[Any]) -> None:
    context.adapters.register_loader("bool", _BoolAsInt)
    context.adapters.register_loader("bool", _BoolAsIntBinary)
    context.adapters.register_loader("numeric", _NumericAsNumber)
    context.adapters.register_dumper(bool, _IntDumper)


class Result:
    """What a statement tells its caller: how many rows it changed, and any rows it returned."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rowcount: int, rows: list[Any]) -> None:
        self.rowcount = rowcount
        self._rows = rows

    def fetchall(self) -> list[Any]:
        return self._rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


async def _run(conn: psycopg.AsyncConnection[Any], sql: str, parameters: Any) -> Result:
    async with conn.cursor() as cursor:
        query = _query(sql)
        await cursor.execute(query, _parameters(parameters, query))
        rows = await cursor.fetchall() if cursor.description is not None else []
        return Result(cursor.rowcount, rows)


def _query(sql: str) -> str:
    return to_postgresql(sql)


def _parameters(parameters: Any, query: str = "") -> Any:
    if isinstance(parameters, dict):
        return {key: _storable(value) for key, value in parameters.items()}
    if "%(_" in query:  # numbered placeholders (?1, ?2) name the parameters by their place
        return {f"_{number}": _storable(value) for number, value in enumerate(parameters, start=1)}
    return tuple(_storable(value) for value in parameters)


def _storable(value: Any) -> Any:
    """PostgreSQL's text cannot hold NUL, which SQLite stores. Nothing a person writes is kept with one (the text
    rules refuse control characters), so a NUL here is in a lookup or a sign-in throttling key made from what was
    typed: as U+FFFD it matches nothing there, as it matched nothing in SQLite, rather than failing the request."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


class PgConnection:
    """One PostgreSQL connection held for a transaction or a long read: the methods every query uses (`Conn`)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.raw = conn

    async def execute(self, sql: str, parameters: Any = ()) -> Result:
        return await _run(self.raw, sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[Any]:
        return (await _run(self.raw, sql, parameters)).fetchall()

    async def executemany(self, sql: str, parameters: Any) -> Result:
        async with self.raw.cursor() as cursor:
            query = _query(sql)
            await cursor.executemany(query, [_parameters(p, query) for p in parameters])
            return Result(cursor.rowcount, [])

    async def batches(self, sql: str, parameters: Any, size: int) -> AsyncIterator[list[Any]]:
        """Every row of `sql`, `size` rows at a time, through a server-side cursor (a long export holds one batch)."""
        async with self.raw.cursor(name="batches") as cursor:
            query = _query(sql)
            await cursor.execute(query, _parameters(parameters, query))
            while rows := await cursor.fetchmany(size):
                yield rows


class PooledReader:
    """Reads on whichever pooled connection is free, each statement on its own (autocommit): lookups by key and the
    queries of a page, which need no snapshot shared between them."""

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    async def execute(self, sql: str, parameters: Any = ()) -> Result:
        async with self.pool.connection() as conn:
            return await _run(conn, sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[Any]:
        return (await self.execute(sql, parameters)).fetchall()

    async def executemany(self, sql: str, parameters: Any) -> Result:
        async with self.pool.connection() as conn:
            return await PgConnection(conn).executemany(sql, parameters)


async def _one_row(conn: Conn, sql: str) -> Any:
    rows = list(await conn.execute_fetchall(sql, ()))
    return rows[0] if rows else None


def without_password(url: str) -> str:
    """The URL for messages and logs: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(Database):
    """A PostgreSQL database (15 or later) at `url`, through a pool of psycopg connections."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool_size = pool_size
        self.commits = 0
        self._pool: psycopg_pool.AsyncConnectionPool[Any] | None = None
        self._reader: PooledReader | None = None

    @property
    def description(self) -> str:
        return without_password(self.url)

    async def open(self) -> None:
        async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
            _adapt(conn)
            conn.row_factory = _rows_by_name
            # times are stored as UTC text made in Python; the session's zone matters only to now(), never used
            await conn.execute("SET TIME ZONE 'UTC'")

        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            self.url,
            # every connection opened at start and kept: a request never waits for the pool to grow, and the pool's
            # size is what the operator plans the database's max_connections by (instances x POOL_SIZE)
            min_size=self.pool_size,
            max_size=self.pool_size,
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            name="handover",
        )
        await pool.open(wait=True, timeout=30)
        try:
            async with pool.connection() as conn:
                await migrate_postgresql(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        self._reader = PooledReader(pool)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = self._reader = None

    async def why_not_writable(self) -> str | None:
        """Why this database cannot take the service's writes now (a standby in recovery, a role without INSERT on a
        table the service writes to), or None."""
        row = await _one_row(
            self.reader,
            "SELECT pg_is_in_recovery(), (SELECT COUNT(*) FROM information_schema.tables t"
            " WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND NOT has_table_privilege(format('%I.%I', t.table_schema, t.table_name), 'INSERT'))",
        )
        if row is not None and row[0]:
            return "database: a standby in recovery, which takes no writes"
        if row is not None and row[1]:
            return "database: the role may not write to every table the service writes to"
        return None

    @property
    def pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    @property
    def reader(self) -> Conn:
        if self._reader is None:
            raise RuntimeError("the database is not open")
        return self._reader

    @property
    def scanner(self) -> Conn:
        return self.reader

    @asynccontextmanager
    async def _transaction(self, lock: int | None) -> AsyncIterator[Conn]:
        async with self.pool.connection() as raw, raw.transaction():
            if lock is not None:
                await raw.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            yield PgConnection(raw)
        self.commits += 1

    def transaction(self) -> Any:
        """One change of records with its audit entry, serialised with every other such change on every instance (the
        advisory lock, held until COMMIT or ROLLBACK), so the audit chain stays one strict chain."""
        return self._transaction(CHANGE_LOCK)

    def housekeeping(self) -> Any:
        return self._transaction(None)

    @asynccontextmanager
    async def _read_only(self) -> AsyncIterator[Conn]:
        async with self.pool.connection() as raw, raw.transaction():
            # one snapshot for the whole read, as SQLite's read transaction gives an export
            await raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgConnection(raw)

    def read_only(self) -> Any:
        return self._read_only()


async def migrate_postgresql(conn: psycopg.AsyncConnection[Any]) -> int:
    """Bring the schema up to date: the baseline on an empty database, then each later migration's PostgreSQL text,
    each recorded in `schema_migrations`; returns the schema version. Instances starting together take turns."""
    from service.db.schema_postgresql import BASELINE, COMPATIBILITY

    cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    exists = await cursor.fetchone()
    if exists and exists[0]:
        cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        found = await cursor.fetchone()
        if found and int(found[0]) == len(MIGRATIONS):
            return len(MIGRATIONS)  # up to date: the usual start, which needs no lock
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        found = await cursor.fetchone()
        current = int(found[0]) if found else 0
        # with every migration: a version of the service that changes these functions brings a migration with it
        await conn.execute(COMPATIBILITY)
        if current == 0:
            await conn.execute(BASELINE)
            await conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) SELECT n, %s FROM generate_series(1, %s) n",
                (now(), POSTGRESQL_BASELINE_VERSION),
            )
            current = POSTGRESQL_BASELINE_VERSION
        elif current < POSTGRESQL_BASELINE_VERSION:
            raise RuntimeError(f"schema version {current} on PostgreSQL is older than its baseline")
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            if not isinstance(migration, Migration):
                raise RuntimeError(f"migration {number} has no PostgreSQL text")
            await conn.execute(migration.postgresql)
            await conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)", (number, now()))
    return len(MIGRATIONS)


# ---------------------------------------------------------------- moving a SQLite database across


def _copy_order(source: sqlite3.Connection) -> list[str]:
    """The SQLite file's tables (but the migrations' own record), each after the tables its foreign keys name, so
    that PostgreSQL, which checks every reference as a row arrives, accepts them in this order."""
    tables = [
        str(row[0])
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> 'schema_migrations' ORDER BY rowid"
        )
    ]
    needs = {
        table: {str(row[2]) for row in source.execute(f'PRAGMA foreign_key_list("{table}")')} - {table}
        for table in tables
    }
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and needs[t] <= set(ordered)]
        if not ready:
            raise RuntimeError(f"the tables' references go round in a circle: {sorted(set(tables) - set(ordered))}")
        ordered.extend(ready)
    return ordered


async def copy_from_sqlite(
    source: Path, target: PostgresDatabase, check: Callable[[Conn], Awaitable[None]], batch: int = 5000
) -> dict[str, int]:
    """Copy every row of the SQLite database at `source` into `target`, whose schema is at the same version, in one
    transaction (all of it or none), ids kept; `check` then reads the copy inside that transaction, and whatever it
    raises rolls the copy back. Returns how many rows each table had.

    Raises ValueError if the two schemas' versions differ or `target` holds any row already: copying into a database
    in use would interleave two audit chains."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live:
        version = int(live.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
        order = _copy_order(live)
    if version != len(MIGRATIONS):
        raise ValueError(
            f"{source} is at schema version {version}, not {len(MIGRATIONS)}: start this version of the service on it"
            " once, or run handover init-db with HANDOVER_DATABASE set to it"
        )
    counts: dict[str, int] = {}
    async with target.pool.connection() as raw, raw.transaction():
        await raw.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGE_LOCK,))
        for table in order:
            found = await (await raw.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')).fetchone()
            if found and found[0]:
                raise ValueError(f"the PostgreSQL database is not empty (table {table} has rows): give an empty one")
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live:
            live.execute("BEGIN")  # one snapshot of the whole file
            for table in order:
                cursor = live.execute(f'SELECT * FROM "{table}"')
                columns = ", ".join(f'"{d[0]}"' for d in cursor.description)
                counts[table] = 0
                async with raw.cursor().copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    while rows := cursor.fetchmany(batch):
                        for row in rows:
                            await copy.write_row(row)
                        counts[table] += len(rows)
            live.execute("ROLLBACK")
        identities = await (
            await raw.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE is_identity = 'YES' AND table_schema = current_schema()"
            )
        ).fetchall()
        for table, column in identities:  # the next id each table gives comes after the last one copied
            await raw.execute(
                f'SELECT setval(pg_get_serial_sequence(%s, %s), MAX("{column}")) FROM "{table}"'
                f' HAVING MAX("{column}") IS NOT NULL',
                (f'"{table}"', column),
            )
        await check(PgConnection(raw))
    return counts
