"""Anchoring the audit chain outside its own rows, and checking the whole chain against those anchors.

A checkpoint (sequence number, hash, time) is signed with a key derived from the service's secret, which is kept
outside the database. Checkpoints are kept in the database, where every instance writes them
(`actions.write_checkpoint`), and each is appended to a file operations ship elsewhere. Anyone holding the database
could recompute a rewritten chain, but not the signatures on checkpoints already shipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import msgspec

from service import db
from service.core.audit import IN_DATABASE, ChainCheck, Checkpoint, CheckpointSource, in_file
from service.settings import Settings


def checkpoint_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"handover audit checkpoint\x00" + settings.secret_key.encode()).digest()


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints in an exported file (one JSON object a line), in the order written; none if there is no file.
    Lines that are not checkpoints are left out (`read_file` says which)."""
    return read_file(path)[0]


def read_file(path: Path) -> tuple[list[Checkpoint], list[tuple[int, str]]]:
    """The checkpoints in an exported file, in the order written, and (line number, why) for each line that is not
    one (a line half-written when the machine stopped, or altered by hand); ([], []) if there is no file."""
    if not path.exists():
        return [], []
    decoder = msgspec.json.Decoder(Checkpoint)
    found, unreadable = [], []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                found.append(decoder.decode(line))
            except msgspec.DecodeError as exc:  # ValidationError is one: a field missing or of the wrong type
                unreadable.append((number, str(exc)))
    return found, unreadable


def append_to_file(path: Path, checkpoint: Checkpoint) -> None:
    """Append one checkpoint as a line, on disk (fsync) before this returns. Raises OSError if it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as out:  # appends go to the end, wherever the file was read
        ended = True
        if out.seek(0, os.SEEK_END):
            out.seek(-1, os.SEEK_END)
            ended = out.read(1) == b"\n"
        # a line half-written when the machine stopped stays a line of its own, reported by `verify`
        out.write((b"" if ended else b"\n") + msgspec.json.encode(checkpoint) + b"\n")
        out.flush()
        os.fsync(out.fileno())


async def checkpoints_kept(conn: db.Conn, settings: Settings) -> tuple[CheckpointSource, CheckpointSource | None]:
    """The checkpoints in the database (read on `conn`), and those in this instance's exported file (None when it has
    no file)."""
    since, table, since_removed = await db.stored_audit_checkpoints(conn)
    in_database = CheckpointSource(
        where=IN_DATABASE, checkpoints=tuple(table), kept_since=since, kept_since_removed=since_removed
    )
    if not settings.checkpoint_file.exists():
        return in_database, None
    exported, unreadable = read_file(settings.checkpoint_file)
    return in_database, CheckpointSource(
        where=in_file(str(settings.checkpoint_file)), checkpoints=tuple(exported), unreadable=tuple(unreadable)
    )


async def verify(settings: Settings) -> tuple[int, list[str]]:
    """How many entries were checked, and every problem found (none means the trail is whole): the chain against
    the checkpoints in the database and in the exported file when there is one, and the file against the database."""
    async with db.reading_the_trail(settings) as conn:
        # the checkpoints first: any signed while the chain is read name entries the chain then reaches
        in_database, exported = await checkpoints_kept(conn, settings)
        copies = (exported,) if exported is not None else ()
        check = ChainCheck.against(in_database, *copies, key=checkpoint_key(settings))
        # closed here, not when the event loop shuts down, since the reading usually stops at the first problem
        async with contextlib.aclosing(db.stream_audit(conn)) as entries:
            async for stored in entries:
                if not check.feed(stored):
                    break
    return check.checked, check.finish()
