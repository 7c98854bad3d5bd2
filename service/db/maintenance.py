"""Backups and restores of the whole file, through SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.db.schema import MIGRATIONS


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
