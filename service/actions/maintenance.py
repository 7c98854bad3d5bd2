"""Copies of the whole database, which hold every child's record: each backup and restore is in the audit trail."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from service import db

# `handover backup` and `restore` copy the SQLite file; a PostgreSQL database is backed up with its own tools.
ON_POSTGRESQL = (
    "the data is in PostgreSQL, which this command does not copy: back it up with pg_dump --format=custom and"
    " restore with pg_restore, or use your provider's point-in-time recovery (docs/operations.md)"
)


async def back_up(database: db.Database, target: Path) -> str | None:
    """Copy the live database to `target` (SQLite's online backup API, safe while the service runs), with an audit
    entry inside the copy as well as the live file; returns why there is no copy that can be restored, or None.

    An existing file is never overwritten (it may be the last good backup). A copy that cannot be written (no such
    folder, no permission, disk full) is recorded as `backup_failed`, with the reason.
    """
    if database.file is None:
        return ON_POSTGRESQL
    if target.exists():
        return f"{target} already exists: give a new file name, so that no earlier backup is overwritten"
    async with database.transaction() as conn:
        await db.append_audit(conn, None, "backup", "database", None, {"to": str(target)})
    try:
        await asyncio.to_thread(db.backup, database.file, target)
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        async with database.transaction() as conn:
            await db.append_audit(conn, None, "backup_failed", "database", None, {"to": str(target), "reason": reason})
        return f"the copy could not be written to {target}: {reason}"
    return db.check_backup(target)


async def record_restore(database: db.Database, source: Path) -> None:
    """The first entry of a restored database's continued chain says where it came from (the service is stopped)."""
    async with database.transaction() as conn:
        await db.append_audit(conn, None, "restore", "database", None, {"from": str(source)})
