"""The audit log: appending a hash-chained entry inside the change it records, and reading the chain back; the signed
checkpoints of the chain's end."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from service.core.audit import GENESIS, Checkpoint, Entry, StoredEntry, entry_hash
from service.db.engine import Conn, Database, _one, _rows, has_table, now, open_read_only
from service.db.records import TimelineEvent
from service.db.schema import AUDIT_CHECKPOINTS_VERSION

if TYPE_CHECKING:
    from service.settings import Settings

_details_decoder = msgspec.json.Decoder(dict[str, Any])


# ---------------------------------------------------------------- audit log


async def append_audit(
    conn: Conn,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any] | None = None,
) -> Entry:
    """Append one hash-chained entry; call inside the transaction that makes the change it records."""
    stored = await append_audit_stored(conn, actor_id, action, object_type, object_id, details)
    return stored.entry


async def append_audit_stored(
    conn: Conn,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    details: dict[str, Any] | None = None,
) -> StoredEntry:
    """As `append_audit`, returning the entry as stored: with the previous entry's hash and its own (SHA-256, hex),
    for a copy that names the entry it was made under (a document's footer)."""
    last = await _one(conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (int(last["seq"]) + 1, str(last["hash"])) if last else (1, GENESIS)
    entry = Entry(
        seq=seq,
        at=now(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
    )
    hash_ = entry_hash(prev_hash, entry)
    await conn.execute(
        "INSERT INTO audit_log (seq, at, actor_id, action, object_type, object_id, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            entry.at,
            actor_id,
            action,
            object_type,
            object_id,
            msgspec.json.encode(entry.details).decode(),
            prev_hash,
            hash_,
        ),
    )
    return StoredEntry(entry=entry, prev_hash=prev_hash, hash=hash_)


async def audit_entries(conn: Conn, after_seq: int = 0, limit: int = 5000) -> list[StoredEntry]:
    rows = await _rows(conn, "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
    return [
        StoredEntry(
            entry=Entry(
                seq=row["seq"],
                at=row["at"],
                actor_id=row["actor_id"],
                action=row["action"],
                object_type=row["object_type"],
                object_id=row["object_id"],
                details=_details_decoder.decode(row["details"]),
            ),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in rows
    ]


async def last_audit_entry(conn: Conn) -> tuple[int, str]:
    row = await _one(conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (int(row["seq"]), str(row["hash"])) if row else (0, GENESIS)


async def timeline(conn: Conn, handover_id: int) -> list[TimelineEvent]:
    """A handover's history, read from the audit log itself so the two can never disagree."""
    rows = await _rows(
        conn,
        "SELECT a.seq, a.at, u.name AS actor, a.action, a.details FROM audit_log a"
        " LEFT JOIN users u ON u.id = a.actor_id"
        " WHERE a.object_type = 'handover' AND a.object_id = ? AND a.action != 'view' ORDER BY a.seq",
        (handover_id,),
    )
    return [
        TimelineEvent(
            seq=r["seq"],
            at=r["at"],
            actor=r["actor"],
            action=r["action"],
            details=_details_decoder.decode(r["details"]),
        )
        for r in rows
    ]


@asynccontextmanager
async def reading_the_trail(settings: Settings) -> AsyncIterator[Conn]:
    """A read-only connection of its own for reading the whole trail (`handover audit verify`): SQLite's file opened
    read-only, which the service may be writing at the same time and which is not upgraded first; on PostgreSQL, one
    snapshot of the database (opening it brings its schema up to date, as every instance does)."""
    if not settings.database_url:
        async with open_read_only(settings.database, settings.busy_timeout_ms) as conn:
            yield conn
        return
    database = Database.for_settings(settings)
    async with database.opened(), database.read_only() as conn:
        yield conn


async def stream_audit(conn: Conn, batch: int = 5000) -> AsyncGenerator[StoredEntry, None]:
    """The whole audit log in order, `batch` entries at a time."""
    last = 0
    while True:
        entries = await audit_entries(conn, after_seq=last, limit=batch)
        for stored in entries:
            yield stored
        if len(entries) < batch:
            return
        last = entries[-1].entry.seq


# ---------------------------------------------------------------- signed checkpoints


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(seq=int(row["seq"]), hash=row["hash"], at=row["at"], signature=row["signature"])


async def insert_audit_checkpoint(conn: Conn, checkpoint: Checkpoint) -> bool:
    """Keep a signed checkpoint, unless one for the same entry is there already (another instance signed the same end
    of the chain first: theirs stands, and this one is not written). True if this one was written."""
    rows = await _rows(
        conn,
        "INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (seq) DO NOTHING RETURNING seq",
        (checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.signature),
    )
    return bool(rows)


async def latest_audit_checkpoint(conn: Conn) -> Checkpoint | None:
    """The checkpoint of the latest entry signed so far, by any instance."""
    row = await _one(conn, "SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
    return _checkpoint(row) if row else None


async def audit_checkpoints(conn: Conn) -> list[Checkpoint]:
    """Every checkpoint kept in the database, by entry."""
    rows = await _rows(conn, "SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq")
    return [_checkpoint(row) for row in rows]


async def stored_audit_checkpoints(conn: Conn) -> tuple[str | None, list[Checkpoint], bool]:
    """Since when (UTC) the database has kept every checkpoint signed, every checkpoint it keeps, and whether the
    record of since when has been removed from a database that keeps them (then `None` and the checkpoints kept).
    (None, [], False) from a SQLite file not yet upgraded to keep them (`handover audit verify` may run before the
    service has started on a new version)."""
    row = await _one(conn, "SELECT applied_at FROM schema_migrations WHERE version = ?", (AUDIT_CHECKPOINTS_VERSION,))
    if row is not None:
        return str(row["applied_at"]), await audit_checkpoints(conn), False
    if not await has_table(conn, "audit_checkpoints"):
        return None, [], False
    # the table is there and the record of its making is not: deleted (the table of migrations has no trigger; the
    # checkpoints' own rows, which have, are what is trusted)
    return None, await audit_checkpoints(conn), True
