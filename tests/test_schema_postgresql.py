"""PostgreSQL's schema is SQLite's: the same tables, columns in the same order with the same NOT NULL, types and
defaults, the same keys, unique and partial indexes and foreign keys, the audit log append-only, and the functions
the queries use giving SQLite's answers. Both databases are migrated as the service migrates them, so a later
migration that changes one and not the other fails here."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.db.engine import SqliteDatabase
from service.db.postgresql import migrate_postgresql, to_postgresql
from service.db.schema_postgresql import COMPATIBILITY
from tests.postgres_support import start_postgres

# SQLite's declared type, as the baseline spells it
TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision", "BLOB": "bytea"}


class Both:
    """A migrated SQLite database and a migrated PostgreSQL database, each asked the same query."""

    def __init__(self, lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
        self.lite = lite
        self.pg = pg

    def sqlite(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.lite.execute(sql, params).fetchall()]

    def postgresql(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.pg.execute(to_postgresql(sql), params).fetchall()]


async def _migrate_sqlite(path: Path) -> None:
    async with SqliteDatabase(path).opened():
        pass


async def _migrate_postgresql(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate_postgresql(conn)
        await migrate_postgresql(conn)  # a second start finds it up to date
        await conn.execute(COMPATIBILITY)  # and the functions can be made again at any start


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    folder = tmp_path_factory.mktemp("schema")
    asyncio.run(_migrate_sqlite(folder / "handover.db"))
    server = start_postgres(tmp_path_factory.mktemp("postgresql"))
    try:
        url = server.create_database("schema")
        asyncio.run(_migrate_postgresql(url))
        lite = sqlite3.connect(folder / "handover.db", isolation_level=None)
        lite.execute("PRAGMA foreign_keys=ON")
        with psycopg.connect(url, autocommit=True) as pg:
            yield Both(lite, pg)
        lite.close()
    finally:
        server.stop()


def _sqlite_tables(lite: sqlite3.Connection) -> list[str]:
    rows = lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    return [row[0] for row in rows]


def _pg_one_column(pg: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return [row[0] for row in pg.execute(sql.encode(), params).fetchall()]


def test_the_same_tables(both: Both) -> None:
    tables = _pg_one_column(
        both.pg,
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    assert tables == _sqlite_tables(both.lite)
    assert "audit_log" in tables and "allocations" in tables


def _sqlite_default(value: str | None) -> str | None:
    return value


def _pg_default(value: str | None) -> str | None:
    """PostgreSQL's default as SQLite writes it: '' for ''::text, 0 for 0."""
    return None if value is None else re.sub(r"::[a-z ]+$", "", value)


def _nocase_columns(lite: sqlite3.Connection) -> set[tuple[str, str]]:
    """(table, column) declared COLLATE NOCASE in SQLite's schema."""
    found = set()
    for table, sql in lite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"):
        sql = re.sub(r"--[^\n]*", "", sql)
        for declaration in re.split(r",(?![^(]*\))", sql[sql.index("(") + 1 : sql.rindex(")")]):
            if "COLLATE NOCASE" in declaration.upper():
                found.add((table, declaration.split()[0]))
    return found


def test_each_table_has_the_same_columns_in_order_with_their_types_not_null_and_defaults(both: Both) -> None:
    nocase = _nocase_columns(both.lite)
    assert ("users", "username") in nocase and ("services", "name") in nocase
    for table in _sqlite_tables(both.lite):
        pk = {row[1] for row in both.lite.execute(f"PRAGMA table_info({table})") if row[5]}
        expected = [
            # a primary key's columns are never NULL in PostgreSQL; SQLite's are where it counts (its rowid)
            (name, TYPES[kind], bool(not_null) or name in pk, _sqlite_default(default))
            for _, name, kind, not_null, default, _ in both.lite.execute(f"PRAGMA table_info({table})")
        ]
        columns = both.pg.execute(
            "SELECT column_name, data_type, is_nullable = 'NO', column_default, collation_name"
            " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s"
            " ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        assert [(name, kind, not_null, _pg_default(default)) for name, kind, not_null, default, _ in columns] == (
            expected
        ), table
        for name, kind, _, _, collation in columns:
            # SQLite's BINARY (bytes) everywhere, but where it says NOCASE (and in the engine's own table)
            if kind == "text" and table != "schema_migrations":
                assert collation == ("nocase" if (table, name) in nocase else "C"), (table, name)


def test_rowids_are_identities_that_still_take_an_explicit_id(both: Both) -> None:
    for table in _sqlite_tables(both.lite):
        rowid_key = [
            row[1] for row in both.lite.execute(f"PRAGMA table_info({table})") if row[5] and row[2] == "INTEGER"
        ]
        identities = _pg_one_column(
            both.pg,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s AND is_identity = 'YES'"
            " AND identity_generation = 'BY DEFAULT'",
            (table,),
        )
        single_key = len([row for row in both.lite.execute(f"PRAGMA table_info({table})") if row[5]]) == 1
        referring = {row[3] for row in both.lite.execute(f"PRAGMA foreign_key_list({table})")}
        # numbered by the database: a rowid, unless it is given from elsewhere (another row's id; the head of
        # service's only row, always 1; a migration's number, in the engine's own table)
        given = bool(set(rowid_key) & referring) or table in ("head_of_service", "schema_migrations")
        numbered = rowid_key if single_key and not given else []
        assert identities == numbered, table
    with both.pg.transaction(force_rollback=True):
        copied = both.pg.execute("INSERT INTO sibling_groups (id, name) VALUES (41, 'copied') RETURNING id").fetchone()
        new = both.pg.execute("INSERT INTO sibling_groups (name) VALUES ('numbered') RETURNING id").fetchone()
        assert (copied, new) == ((41,), (1,))


def _sqlite_keys(lite: sqlite3.Connection, table: str) -> tuple[set[tuple[str, ...]], tuple[str, ...]]:
    """The columns of each UNIQUE constraint, and the primary key's columns in order."""
    unique = set()
    for _, name, _, origin, _ in lite.execute(f"PRAGMA index_list({table})"):
        if origin == "u":
            unique.add(tuple(row[2] for row in lite.execute(f"PRAGMA index_info({name})")))
    info = sorted((row[5], row[1]) for row in lite.execute(f"PRAGMA table_info({table})") if row[5])
    return unique, tuple(name for _, name in info)


def _pg_keys(pg: psycopg.Connection[Any], table: str) -> tuple[set[tuple[str, ...]], tuple[str, ...]]:
    rows = pg.execute(
        "SELECT c.contype, array_agg(a.attname ORDER BY k.n) FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'p') GROUP BY c.oid, c.contype",
        (table,),
    ).fetchall()
    unique = {tuple(columns) for kind, columns in rows if kind == "u"}
    primary = [tuple(columns) for kind, columns in rows if kind == "p"]
    return unique, primary[0] if primary else ()


def test_the_same_primary_keys_and_unique_constraints(both: Both) -> None:
    for table in _sqlite_tables(both.lite):
        assert _pg_keys(both.pg, table) == _sqlite_keys(both.lite, table), table


def test_the_same_foreign_keys(both: Both) -> None:
    for table in _sqlite_tables(both.lite):
        expected = {(row[3], row[2], row[4]) for row in both.lite.execute(f"PRAGMA foreign_key_list({table})")}
        found = both.pg.execute(
            "SELECT a.attname, c.confrelid::regclass::text, r.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
            (table,),
        ).fetchall()
        assert set(found) == expected, table


def test_the_same_number_of_checks(both: Both) -> None:
    for table in _sqlite_tables(both.lite):
        (sql,) = both.lite.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        checks = both.pg.execute(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'", (table,)
        ).fetchone()
        assert checks == (len(re.findall(r"\bCHECK\s*\(", sql)),), table


def _sqlite_indexes(lite: sqlite3.Connection) -> dict[str, tuple[str, bool, bool, tuple[str | None, ...]]]:
    """Each index made by CREATE INDEX: its table, whether unique, whether partial, its columns (None: an
    expression)."""
    found = {}
    for table in _sqlite_tables(lite):
        for _, name, unique, origin, partial in lite.execute(f"PRAGMA index_list({table})"):
            if origin == "c":
                columns = tuple(row[2] for row in lite.execute(f"PRAGMA index_info({name})"))
                found[name] = (table, bool(unique), bool(partial), columns)
    return found


def test_the_same_indexes_by_name_unique_and_partial_alike(both: Both) -> None:
    rows = both.pg.execute(
        "SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL,"
        " array(SELECT CASE WHEN k = 0 THEN NULL ELSE (SELECT attname FROM pg_attribute"
        "                   WHERE attrelid = t.oid AND attnum = k) END FROM unnest(x.indkey) k)"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    ).fetchall()
    found = {name: (table, unique, partial, tuple(columns)) for name, table, unique, partial, columns in rows}
    expected = _sqlite_indexes(both.lite)
    assert found == expected
    assert expected["one_open_handover_per_case"][1:3] == (True, True)
    assert expected["one_current_allocation_per_case"][1:3] == (True, True)


def _refused(run: Any, sql: str, error: type[Exception]) -> str:
    with pytest.raises(error) as raised:
        run(sql)
    return str(raised.value)


def _people_and_a_case(run: Any) -> None:
    run("INSERT INTO users (id, username, name, password_hash, created_at) VALUES (901, 'w', 'W', 'h', 't')")
    run("INSERT INTO teams (id, name) VALUES (901, 'team 901')")
    run(
        "INSERT INTO cases (id, reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
        " allocated_since) VALUES (901, 'R901', 'C', '2015-01-01', 901, 901, 't')"
    )


HANDOVER = (
    "INSERT INTO handovers (case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
    " receiving_team_id, transfer_reason, started_at, state_since, last_activity_at)"
    " VALUES (901, 'c', 1, '{state}', 901, 901, 901, 'r', 't', 't', 't')"
)
ALLOCATION = (
    "INSERT INTO allocations (case_id, worker_id, team_id, allocated_from, allocated_to, why)"
    " VALUES (901, 901, 901, 't', {to}, 'opened')"
)


@contextmanager
def _rolled_back(both: Both, database: str) -> Iterator[tuple[Callable[[str], Any], type[Exception]]]:
    """Run statements on one of the two databases (how it refuses one that breaks a unique rule too); all undone
    after."""
    if database == "sqlite":
        both.lite.execute("BEGIN")
        try:
            yield both.lite.execute, sqlite3.IntegrityError
        finally:
            both.lite.execute("ROLLBACK")
        return

    def run(sql: str) -> None:
        with both.pg.transaction():  # a savepoint: a refused statement leaves the others standing
            both.pg.execute(sql.encode())

    with both.pg.transaction(force_rollback=True):
        yield run, psycopg.errors.UniqueViolation


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_open_handover_and_one_current_allocation_per_case_are_the_databases_own_rules(
    both: Both, database: str
) -> None:
    with _rolled_back(both, database) as (run, refusal):
        _people_and_a_case(run)
        run(HANDOVER.format(state="closed"))
        run(HANDOVER.format(state="cancelled"))
        run(HANDOVER.format(state="draft"))
        refused = _refused(run, HANDOVER.format(state="submitted"), refusal)
        assert "one_open_handover_per_case" in refused or refused == "UNIQUE constraint failed: handovers.case_id"
        run(ALLOCATION.format(to="'t2'"))
        run(ALLOCATION.format(to="NULL"))
        refused = _refused(run, ALLOCATION.format(to="NULL"), refusal)
        assert "one_current_allocation_per_case" in refused or refused == (
            "UNIQUE constraint failed: allocations.case_id"
        )


def test_the_audit_log_refuses_updates_deletes_and_truncation(both: Both) -> None:
    append = (
        "INSERT INTO audit_log (seq, at, action, object_type, details, prev_hash, hash)"
        " VALUES (1, 't', 'a', 'o', '{}', 'p', 'h')"
    )
    both.lite.execute("BEGIN")
    both.lite.execute(append)
    for change in ("UPDATE audit_log SET hash = 'x'", "DELETE FROM audit_log"):
        assert "append-only" in _refused(both.lite.execute, change, sqlite3.IntegrityError)
    both.lite.execute("ROLLBACK")
    for change in ("UPDATE audit_log SET hash = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with both.pg.transaction(force_rollback=True):
            both.pg.execute(append)
            # an integrity error, as SQLite's RAISE(ABORT) is
            assert "append-only" in _refused(both.pg.execute, change, psycopg.errors.RestrictViolation)


def test_usernames_and_service_names_ignore_case_as_in_sqlite(both: Both) -> None:
    add = "INSERT INTO users (username, name, password_hash, created_at) VALUES ('{}', 'O', 'h', 't')"
    with both.pg.transaction(force_rollback=True):
        both.pg.execute(add.format("out"))
        assert "users_username_key" in _refused(both.pg.execute, add.format("Out"), psycopg.errors.UniqueViolation)
    with both.pg.transaction(force_rollback=True):
        both.pg.execute(add.format("out"))
        assert both.pg.execute("SELECT username FROM users WHERE username = 'OUT'").fetchall() == [("out",)]
        both.pg.execute("INSERT INTO services (name) VALUES ('Children in Care')")
        _refused(
            both.pg.execute, "INSERT INTO services (name) VALUES ('children in care')", psycopg.errors.UniqueViolation
        )
    both.lite.execute("BEGIN")
    both.lite.execute(add.format("out"))
    _refused(both.lite.execute, add.format("Out"), sqlite3.IntegrityError)
    assert both.sqlite("SELECT username FROM users WHERE username = 'OUT'") == [("out",)]
    both.lite.execute("ROLLBACK")
    order = "WITH v(x) AS (VALUES ('b'), ('A'), ('a'), ('B')) SELECT x FROM v ORDER BY x COLLATE NOCASE, x"
    assert both.postgresql(order) == both.sqlite(order) == [("A",), ("a",), ("B",), ("b",)]


# ------------------------------------------------------------------ SQLite's functions, with SQLite's answers

# the queries' own uses, word for word where they can be
EXAMPLES = [
    "WITH v(x) AS (VALUES (3), (1), (NULL), (2)) SELECT group_concat(x) FROM v",
    "WITH v(x) AS (VALUES ('Ash Team'), ('Birch Team')) SELECT group_concat(x, '; ') FROM v",
    "WITH v(x, y) AS (VALUES ('North', 'worker'), ('CP', 'manager')) SELECT group_concat(x || ' (' || y || ')', '; ')"
    " FROM v",
    "WITH v(x) AS (VALUES (1)) SELECT COALESCE((SELECT group_concat(x) FROM v WHERE x > 1), '')",
    "WITH v(x, y) AS (VALUES ('Mia \"M\" Jones', 'R1'), ('Liam', 'R2'))"
    " SELECT json_group_array(json_array(x, y)) FROM v",
    "WITH v(x, y) AS (VALUES ('Mia', 'R1')) SELECT json_group_array(json_array(x, y)) FROM v WHERE x = 'nobody'",
    "SELECT max(2 - 1, 0), max(0 - 1, 0), max(NULL, 1)",
    "WITH v(x) AS (VALUES (1), (NULL), (3)) SELECT SUM(x IS NOT NULL), SUM(x > 1), COUNT(*) FROM v",
    "WITH v(x) AS (VALUES (1)) SELECT SUM(x > 1) FROM v WHERE x > 5",
    "SELECT substr('2026-12-01T23:45:00+00:00', 1, 13)",
]


@pytest.mark.parametrize("query", EXAMPLES)
def test_each_function_gives_sqlites_answer(both: Both, query: str) -> None:
    assert both.postgresql(query) == both.sqlite(query)


values = st.lists(
    st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))),
    max_size=6,
)
# of one type in both: at least one number among the NULLs
numbers = st.lists(st.one_of(st.none(), st.integers(-(2**62), 2**62)), max_size=6).filter(
    lambda items: not items or any(item is not None for item in items)
)


def _rows(items: list[Any], like: Any) -> tuple[str, tuple[Any, ...]]:
    """A query (with `{}` for its select list) over `items` in order, as both databases read it; `like`, a value of
    the items' type, stands for them when there are none."""
    rows = ", ".join("(?, ?)" for _ in items) or "(?, 0)"
    params = tuple(value for n, item in enumerate(items) for value in (item, n)) if items else (like,)
    where = "" if items else " WHERE n > 0"
    return f"WITH v(x, n) AS (VALUES {rows}) SELECT {{}} FROM (SELECT x FROM v{where} ORDER BY n) ordered", params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=values, separator=st.sampled_from([",", "; ", "\x1e", ""]))
def test_group_concat_of_any_text_gives_sqlites_answer(both: Both, items: list[str | None], separator: str) -> None:
    source, params = _rows(items, "")
    for query, query_params in (
        (source.format("group_concat(x)"), params),
        (source.format("group_concat(x, ?)"), (*params, separator)),
    ):
        assert both.postgresql(query, query_params) == both.sqlite(query, query_params)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=numbers)
def test_sums_and_group_concat_of_numbers_give_sqlites_answers(both: Both, items: list[int | None]) -> None:
    source, params = _rows(items, 0)
    query = source.format("group_concat(x), SUM(x > 0), SUM(x IS NULL)")
    assert both.postgresql(query, params) == both.sqlite(query, params)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(values.map(lambda v: v[0] if v else "a"), st.text(max_size=5)), max_size=5))
def test_json_group_array_of_json_arrays_decodes_to_sqlites_answer(
    both: Both, pairs: list[tuple[str | None, str]]
) -> None:
    import json

    rows = ", ".join("(?, ?, ?)" for _ in pairs) or "(NULL, NULL, 0)"
    params = tuple(value for n, (a, b) in enumerate(pairs) for value in (a, b.replace("\x00", ""), n))
    where = "" if pairs else " WHERE n > 0"
    query = (
        f"WITH v(x, y, n) AS (VALUES {rows}) SELECT json_group_array(json_array(x, y)) FROM"
        f" (SELECT x, y FROM v{where} ORDER BY n) ordered"
    )
    ((on_postgresql,),) = both.postgresql(query, params)
    ((on_sqlite,),) = both.sqlite(query, params)
    assert isinstance(on_postgresql, str)  # text, which the store decodes
    assert json.loads(on_postgresql) == json.loads(on_sqlite)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.one_of(st.none(), st.integers(-(2**62), 2**62)), b=st.one_of(st.none(), st.integers(-(2**62), 2**62)))
def test_max_of_two_gives_sqlites_answer(both: Both, a: int | None, b: int | None) -> None:
    query = "SELECT max(?, ?)"
    assert both.postgresql(query, (a, b)) == both.sqlite(query, (a, b))
