"""Copies of the whole database hold every child's record: each backup (inside the copy too) and each restore is in
the audit trail, an existing file is never overwritten, and a copy that could not be written is recorded with why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from service import db
from service.actions.maintenance import back_up, record_restore
from tests.conftest import World

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]


async def entries(database: db.Database, after: int = 0) -> list[tuple[Any, ...]]:
    return [
        (e.entry.action, e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in await db.audit_entries(database.reader, after_seq=after)
    ]


async def last_seq(database: db.Database) -> int:
    found = await db.audit_entries(database.reader, limit=100_000)
    return found[-1].entry.seq if found else 0


def last_entry_in(path: Path) -> tuple[str, Any, str, Any, dict[str, Any]]:
    with sqlite3.connect(path) as copy:
        row = copy.execute(
            "SELECT action, actor_id, object_type, object_id, details FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    return (row[0], row[1], row[2], row[3], json.loads(row[4]))


async def test_a_backup_is_recorded_in_the_live_file_and_inside_the_copy(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    target = tmp_path / "copies" / "monday.db"
    before = await last_seq(database)
    assert await back_up(database, target) is None
    recorded = ("backup", None, "database", None, {"to": str(target)})
    assert await entries(database, before) == [recorded]
    assert last_entry_in(target) == recorded
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT COUNT(*) FROM users").fetchone()[0] == len(world.users)


async def test_an_existing_file_is_never_overwritten(database: db.Database, world: World, tmp_path: Path) -> None:
    target = tmp_path / "last-good.db"
    target.write_bytes(b"the last good backup")
    before = await last_seq(database)
    assert await back_up(database, target) == (
        f"{target} already exists: give a new file name, so that no earlier backup is overwritten"
    )
    assert target.read_bytes() == b"the last good backup"
    assert await last_seq(database) == before


async def test_a_copy_that_cannot_be_written_is_recorded_with_the_reason(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / "a-file" / "monday.db"
    before = await last_seq(database)
    assert await back_up(database, target) == f"the copy could not be written to {target}: File exists"
    assert await entries(database, before) == [
        ("backup", None, "database", None, {"to": str(target)}),
        ("backup_failed", None, "database", None, {"to": str(target), "reason": "File exists"}),
    ]


@pytest.mark.parametrize(
    "error", [sqlite3.OperationalError("database or disk is full"), OSError("database or disk is full")]
)
async def test_an_error_without_a_system_reason_is_recorded_in_its_own_words(
    database: db.Database, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def failing(source: Path, target: Path) -> None:
        raise error

    monkeypatch.setattr(db, "backup", failing)
    target = tmp_path / "monday.db"
    before = await last_seq(database)
    assert await back_up(database, target) == f"the copy could not be written to {target}: database or disk is full"
    assert await entries(database, before) == [
        ("backup", None, "database", None, {"to": str(target)}),
        ("backup_failed", None, "database", None, {"to": str(target), "reason": "database or disk is full"}),
    ]


async def test_a_copy_that_is_not_a_whole_database_says_so(
    database: db.Database, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def garbled(source: Path, target: Path) -> None:
        target.write_bytes(b"\x00" * 10)

    monkeypatch.setattr(db, "backup", garbled)
    target = tmp_path / "monday.db"
    why = await back_up(database, target)
    assert why is not None and why.startswith(f"{target} is not a Handover database (")


async def test_a_restore_is_recorded_with_where_it_came_from(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    before = await last_seq(database)
    await record_restore(database, tmp_path / "monday.db")
    assert await entries(database, before) == [
        ("restore", None, "database", None, {"from": str(tmp_path / "monday.db")})
    ]
