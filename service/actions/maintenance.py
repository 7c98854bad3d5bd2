"""Copies of the whole database, which hold every child's record: each backup and restore is in the audit trail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from service import db


async def back_up(database: db.Database, target: Path) -> str | None:
    """Copy the live database to `target` (SQLite's online backup API, safe while the service runs), with an audit
    entry inside the copy as well as the live file; returns why the copy cannot be restored, or None."""
    async with database.transaction() as conn:
        await db.append_audit(conn, None, "backup", "database", None, {"to": str(target)})
    await asyncio.to_thread(db.backup, database.path, target)
    return db.check_backup(target)


async def record_restore(database: db.Database, source: Path) -> None:
    """The first entry of a restored database's continued chain says where it came from (the service is stopped)."""
    async with database.transaction() as conn:
        await db.append_audit(conn, None, "restore", "database", None, {"from": str(source)})
