"""Backups and restores of the whole file, through SQLite's online backup API."""

from __future__ import annotations

import os
import shutil
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


def why_not_writable(path: Path, free_bytes_min: int) -> str | None:
    """Why the database at `path` cannot take writes now (its folder has less than `free_bytes_min` bytes free, or
    the file or its folder may not be written), or None. A cheap check, made without writing."""
    folder = path.parent
    free = shutil.disk_usage(folder).free
    if free < free_bytes_min:
        return f"disk: {free // (1024 * 1024)} MB free where the database is"
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
        return "database: the file or its folder cannot be written"
    return None
