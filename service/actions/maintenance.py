"""Copies of the whole database, which hold every child's record: each backup and restore is in the audit trail."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from service import db
from service.core import audit

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


async def _chain_end(
    conn: db.Conn, checkpoints: list[audit.Checkpoint], key: bytes, batch: int = 5000
) -> tuple[int, str, list[str]]:
    """Walk a whole audit chain against its checkpoints signed with `key`: the last entry's number and hash, and the
    problems found (none: it is whole and every checkpoint is genuine and matched)."""
    check = audit.ChainCheck(checkpoints, key)
    last, last_hash = 0, audit.GENESIS
    while entries := await db.audit_entries(conn, after_seq=last, limit=batch):
        for stored in entries:
            if not check.feed(stored):
                return last, last_hash, check.finish()
            last, last_hash = stored.entry.seq, stored.hash
    return last, last_hash, check.finish()


async def migrate_to_postgresql(source: Path, target: db.Database, key: bytes) -> str:
    """Copy the SQLite database at `source` into the empty PostgreSQL database `target`, ids and audit chain as
    they are, then check the chain there: the same length, the same last hash, every link whole. The move is then
    the chain's next entry. Returns what was copied; raises MigrationRefused with the reason when nothing could be
    (not a Handover database, a broken chain, another schema version, a target in use) or the copy's chain differs
    (the copy is then rolled back: nothing is left in `target`)."""
    from service.db.postgresql import PostgresDatabase, copy_from_sqlite

    if not isinstance(target, PostgresDatabase):
        raise MigrationRefused("HANDOVER_DATABASE_URL must name the PostgreSQL database to copy into")
    problem = db.check_backup(source)
    if problem:
        raise MigrationRefused(problem)
    async with db.open_read_only(source) as conn:
        # checked with the secret the instances will have: a checkpoint another secret signed would fail every
        # `handover audit verify` once copied, where the table keeps it for good
        checkpoints = await db.audit_checkpoints(conn)
        entries, last_hash, problems = await _chain_end(conn, checkpoints, key)
    if problems:
        raise MigrationRefused(f"the audit trail in {source} is not whole ({problems[0]}); nothing was copied")

    async def same_chain(conn: db.Conn) -> None:
        copied, copied_hash, problems = await _chain_end(conn, checkpoints, key)
        if problems or (copied, copied_hash) != (entries, last_hash):
            found = problems[0] if problems else f"it ends at entry {copied}, not {entries}"
            raise MigrationRefused(f"the copied audit trail does not match the original ({found}); nothing was kept")

    try:
        counts = await copy_from_sqlite(source, target, same_chain)
    except ValueError as exc:
        raise MigrationRefused(str(exc)) from None
    async with target.transaction() as conn:
        await db.append_audit(
            conn, None, "migrate_from_sqlite", "database", None, {"from": str(source), "entries": entries}
        )
    rows = sum(counts.values())
    return f"Copied {rows} rows in {len(counts)} tables; the audit trail's {entries} entries verified, unchanged."


class MigrationRefused(Exception):
    """Why a database was not moved to PostgreSQL (nothing was copied)."""
