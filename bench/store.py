"""Where a benchmark's data is, read and written behind the service's back: the SQLite file, or the PostgreSQL
database that the service's instances share.

The benchmarks read the store to plan their requests (each draft's section versions, the case record a summary must
match) and to check what a phase left behind (handovers moved on, notifications written, e-mails still unsent), and
add rows before a phase (`bench.seed.add_action_sets`). Queries are written once, in the service's own dialect
(`?` placeholders, standard SQL), and sent to PostgreSQL as the service's engine sends them
(`service.db.postgresql.to_postgresql`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# tables whose ids the benchmark sets itself when it adds rows: on PostgreSQL their identity sequences are moved on
# past them afterwards, so that the service's own inserts do not collide with them
NUMBERED_TABLES = ("teams", "users", "cases", "handovers")


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class _PostgresConnection:
    """A psycopg connection taking the service's dialect."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        from service.db.postgresql import to_postgresql

        return self.conn.execute(to_postgresql(sql), list(parameters))  # type: ignore[no-any-return]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        from service.db.postgresql import to_postgresql

        with self.conn.cursor() as cursor:
            cursor.executemany(to_postgresql(sql), [list(row) for row in rows])


@dataclass(frozen=True)
class Store:
    """The SQLite file at `path` when `url` is empty, else the PostgreSQL database at `url`."""

    path: Path
    url: str = ""

    @property
    def kind(self) -> str:
        return "postgresql" if self.url else "sqlite"

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection that only reads (SQLite: opened read-only; PostgreSQL: a read-only transaction)."""
        if not self.url:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                yield conn
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.url) as shared:
            shared.read_only = True
            yield _PostgresConnection(shared)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction, committed when the block ends without an error. On SQLite it waits (up to a
        minute) for the running service's write lock; on PostgreSQL it takes the service's change lock first, so
        that nothing the service writes meanwhile interleaves with it, and moves the ids' sequences on at the end."""
        if not self.url:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()
            return
        import psycopg

        from service.db.postgresql import CHANGE_LOCK

        with psycopg.connect(self.url) as shared, shared.transaction():
            shared.execute("SELECT pg_advisory_xact_lock(%s)", [CHANGE_LOCK])
            yield _PostgresConnection(shared)
            for table in NUMBERED_TABLES:
                shared.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), MAX(id)) FROM {table}",
                    [table],
                )

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        with self.reading() as conn:
            return conn.execute(sql, parameters).fetchall()

    def row(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        with self.reading() as conn:
            return conn.execute(sql, parameters).fetchone()


def placeholders(values: Sequence[Any]) -> str:
    """`?, ?, ?` for an IN list of these values (both databases take tens of thousands of parameters)."""
    return ", ".join("?" for _ in values)
