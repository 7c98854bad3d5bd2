"""The audit chain: each entry's hash covers its canonical encoding and the previous entry's hash.

Altering, removing, inserting or reordering an entry breaks every hash after it. Checkpoints (sequence number and
hash, signed with a key kept outside the database) catch a chain that was rewritten end to end.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import msgspec

GENESIS = "0" * 64


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: str  # ISO 8601, UTC
    actor_id: int | None
    action: str
    object_type: str
    object_id: int | None
    details: dict[str, object] = {}


class StoredEntry(msgspec.Struct, frozen=True, kw_only=True):
    entry: Entry
    prev_hash: str
    hash: str


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    hash: str
    at: str
    signature: str = ""


_encoder = msgspec.json.Encoder(order="sorted")


def canonical(entry: Entry) -> bytes:
    """A stable encoding: keys sorted at every level, no whitespace, UTF-8."""
    return _encoder.encode(entry)


def entry_hash(prev_hash: str, entry: Entry) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


def sign_checkpoint(key: bytes, seq: int, hash_: str, at: str) -> Checkpoint:
    message = f"{seq}:{hash_}:{at}".encode("ascii")
    return Checkpoint(seq=seq, hash=hash_, at=at, signature=hmac.new(key, message, hashlib.sha256).hexdigest())


def checkpoint_is_genuine(key: bytes, checkpoint: Checkpoint) -> bool:
    expected = sign_checkpoint(key, checkpoint.seq, checkpoint.hash, checkpoint.at).signature
    return hmac.compare_digest(expected, checkpoint.signature)


def verify(entries: Iterable[StoredEntry], checkpoints: list[Checkpoint], key: bytes) -> list[str]:
    """Every problem found, first one first; an empty list means the chain is whole."""
    problems = [
        f"checkpoint at entry {c.seq} has a bad signature" for c in checkpoints if not checkpoint_is_genuine(key, c)
    ]
    expected_at = {c.seq: c.hash for c in checkpoints if checkpoint_is_genuine(key, c)}
    prev_hash, expected_seq, last_seq = GENESIS, 1, 0
    for stored in entries:
        seq = stored.entry.seq
        if seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing or out of order (found {seq} next)")
            return problems
        if stored.prev_hash != prev_hash or entry_hash(prev_hash, stored.entry) != stored.hash:
            problems.append(f"entry {seq} has been altered (its hash does not match)")
            return problems
        if seq in expected_at and expected_at[seq] != stored.hash:
            problems.append(f"entry {seq} does not match the signed checkpoint: the chain was rewritten")
            return problems
        prev_hash, expected_seq, last_seq = stored.hash, seq + 1, seq
    beyond = [seq for seq in expected_at if seq > last_seq]
    if beyond:
        problems.append(
            f"the log ends at entry {last_seq} but a checkpoint records entry {max(beyond)}: "
            "entries have been removed from the end"
        )
    return problems
