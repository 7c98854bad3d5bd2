"""Anchoring the audit chain outside the database, and checking the whole chain against those anchors.

A checkpoint (sequence number, hash, time) is signed with a key derived from the service's secret, which is kept
outside the database, and appended to a file operations can ship elsewhere. Anyone holding the database file could
recompute a rewritten chain, but not the signatures on checkpoints already shipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import msgspec

from service import db
from service.core.audit import ChainCheck, Checkpoint, sign_checkpoint
from service.settings import Settings


def checkpoint_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"handover audit checkpoint\x00" + settings.secret_key.encode()).digest()


def read_checkpoints(path: Path) -> list[Checkpoint]:
    if not path.exists():
        return []
    decoder = msgspec.json.Decoder(Checkpoint)
    with path.open("rb") as lines:
        return [decoder.decode(line) for line in lines if line.strip()]


def _append_line(path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        out.write(line + b"\n")
        out.flush()
        os.fsync(out.fileno())


async def write_checkpoint(database: db.Database, settings: Settings) -> Checkpoint | None:
    """Sign and record where the chain ends now; nothing is written if it has not moved since the last one."""
    seq, hash_ = await db.last_audit_entry(database.reader)
    if seq == 0:
        return None
    existing = read_checkpoints(settings.checkpoint_file)
    if existing and existing[-1].seq == seq:
        return existing[-1]
    checkpoint = sign_checkpoint(checkpoint_key(settings), seq, hash_, db.now())
    _append_line(settings.checkpoint_file, msgspec.json.encode(checkpoint))
    return checkpoint


async def verify(settings: Settings) -> tuple[int, list[str]]:
    """How many entries were checked, and every problem found (none means the trail is whole)."""
    check = ChainCheck(read_checkpoints(settings.checkpoint_file), checkpoint_key(settings))
    # closed here, not when the event loop shuts down, since the reading usually stops at the first problem
    async with contextlib.aclosing(db.stream_audit(settings.database, settings.busy_timeout_ms)) as entries:
        async for stored in entries:
            if not check.feed(stored):
                break
    return check.checked, check.finish()
