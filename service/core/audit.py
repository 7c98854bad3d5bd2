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


class ChainCheck:
    """Checks entries one at a time, in order, so a chain of any length is verified in constant memory."""

    def __init__(self, checkpoints: list[Checkpoint], key: bytes) -> None:
        genuine = [c for c in checkpoints if checkpoint_is_genuine(key, c)]
        self.problems = [f"checkpoint at entry {c.seq} has a bad signature" for c in checkpoints if c not in genuine]
        self._expected = {c.seq: c.hash for c in genuine}
        self._prev_hash = GENESIS
        self._next_seq = 1
        self.checked = 0

    def feed(self, stored: StoredEntry) -> bool:
        """False once a problem is found: everything after a break is untrustworthy."""
        seq = stored.entry.seq
        if seq != self._next_seq:
            self.problems.append(f"entry {self._next_seq} is missing or out of order (found entry {seq} next)")
            return False
        if stored.prev_hash != self._prev_hash or entry_hash(self._prev_hash, stored.entry) != stored.hash:
            self.problems.append(f"entry {seq} has been altered (its hash does not match its contents and chain)")
            return False
        if seq in self._expected and self._expected[seq] != stored.hash:
            self.problems.append(f"entry {seq} does not match the signed checkpoint: the chain was rewritten")
            return False
        self._prev_hash, self._next_seq, self.checked = stored.hash, seq + 1, seq
        return True

    def finish(self) -> list[str]:
        beyond = [seq for seq in self._expected if seq > self.checked]
        if beyond and not self.problems:
            self.problems.append(
                f"the log ends at entry {self.checked} but a signed checkpoint records entry {max(beyond)}: "
                "entries have been removed from the end"
            )
        return self.problems


def verify(entries: Iterable[StoredEntry], checkpoints: list[Checkpoint], key: bytes) -> list[str]:
    """Every problem found, first one first; an empty list means the chain is whole."""
    check = ChainCheck(checkpoints, key)
    for stored in entries:
        if not check.feed(stored):
            break
    return check.finish()
