"""`handover migrate-to-postgres SQLITE_FILE`: a council's SQLite database moved into an empty PostgreSQL database,
every row and id kept, the audit chain verified to the same end, or nothing copied at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anyio
import psycopg
import pytest

from service import actions, cli, db
from tests.conftest import seed
from tests.helpers import TEST_DATABASE, handover_in, settings_for_tests
from tests.postgres_support import PostgresServer, start_postgres

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(TEST_DATABASE == "postgresql", reason="runs once, in the first pass, on a server of its own"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    running = start_postgres(tmp_path_factory.mktemp("postgresql"))
    yield running
    running.stop()


async def sqlite_database(folder: Path) -> Path:
    """A SQLite database with people, cases and handovers in several states, as a council's would have."""
    database = db.SqliteDatabase(folder / "handover.db")
    async with database.opened():
        world = await seed(database)
        for state, case in (("closed", "c1"), ("endorsed", "c2"), ("returned", "c3"), ("draft", "c4")):
            await handover_in(database, world, state, case)
    return folder / "handover.db"


async def command(*argv: str) -> int:
    """The command line, as an operator runs it (on a thread: it runs an event loop of its own)."""
    return await anyio.to_thread.run_sync(cli.main, list(argv))


async def move(monkeypatch: pytest.MonkeyPatch, folder: Path, url: str, source: Path) -> int:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(folder))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    return await command("migrate-to-postgres", str(source))


def counts_in_sqlite(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {
            t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables if t != "schema_migrations"
        }


def counts_in_postgresql(url: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]


async def test_every_row_moves_across_with_its_id_and_the_chain_verifies(
    tmp_path: Path, server: PostgresServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await sqlite_database(tmp_path)
    before = counts_in_sqlite(source)
    url = server.create_database("moved")
    assert await move(monkeypatch, tmp_path, url, source) == 0
    said = capsys.readouterr().out
    assert "verified, unchanged" in said and "postgresql://postgres@" in said
    after = counts_in_postgresql(url, list(before))
    assert after == before | {"audit_log": before["audit_log"] + 1}, "the move is the chain's next entry"
    with sqlite3.connect(source) as old, psycopg.connect(url) as new:
        assert old.execute("SELECT id, reference FROM cases ORDER BY id").fetchall() == [
            tuple(row) for row in new.execute("SELECT id, reference FROM cases ORDER BY id").fetchall()
        ]
        last = new.execute("SELECT action, details FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        assert last is not None and last[0] == "migrate_from_sqlite"

    # the service goes on there: a new case takes the next id, and the whole trail verifies
    settings = settings_for_tests(tmp_path, database_url=url)
    async with db.Database.for_settings(settings).opened() as database:
        async with database.transaction() as conn:
            new_id = await db.create_case(conn, "N-1", "New Child", "2019-01-01", 1, 1)
        assert new_id == before_max_case_id(source) + 1
    assert await command("audit", "verify") == 0
    assert "The audit trail is intact" in capsys.readouterr().out

    assert await move(monkeypatch, tmp_path, url, source) == 1, "a database in use is never copied into"
    assert "not empty" in capsys.readouterr().err


def before_max_case_id(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT MAX(id) FROM cases").fetchone()[0])


async def test_a_broken_chain_is_not_moved_and_nothing_is_copied(
    tmp_path: Path, server: PostgresServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await sqlite_database(tmp_path)
    with sqlite3.connect(source) as conn:
        conn.executescript("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET action = 'x' WHERE seq = 3;")
    url = server.create_database("refused")
    assert await move(monkeypatch, tmp_path, url, source) == 1
    assert "is not whole" in capsys.readouterr().err
    assert set(counts_in_postgresql(url, ["audit_log", "cases", "users"]).values()) == {0}


async def test_without_a_postgresql_url_it_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await sqlite_database(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HANDOVER_DATABASE_URL", raising=False)
    assert await command("migrate-to-postgres", str(source)) == 2
    assert "HANDOVER_DATABASE_URL" in capsys.readouterr().err


async def test_checkpoints_signed_with_another_secret_are_not_moved_until_the_secret_is_right(
    tmp_path: Path, server: PostgresServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await sqlite_database(tmp_path)
    signed = settings_for_tests(tmp_path)
    async with db.SqliteDatabase(source).opened() as database:
        assert await actions.write_checkpoint(database, signed) is not None
    url = server.create_database("keyed")
    monkeypatch.setenv("HANDOVER_SECRET_KEY", "another-secret-" + "y" * 30)
    assert await move(monkeypatch, tmp_path, url, source) == 1
    assert "bad signature" in capsys.readouterr().err
    assert set(counts_in_postgresql(url, ["audit_log", "audit_checkpoints", "cases"]).values()) == {0}
    monkeypatch.setenv("HANDOVER_SECRET_KEY", signed.secret_key)
    assert await move(monkeypatch, tmp_path, url, source) == 0
    assert await command("audit", "verify") == 0
