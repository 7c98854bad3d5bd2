"""The audit chain: each entry's hash covers its canonical encoding and the previous entry's hash.

Altering, removing, inserting or reordering an entry breaks every hash after it. Checkpoints (sequence number and
hash, signed with a key kept outside the database) catch a chain that was rewritten end to end. They are kept in the
database, where every instance writes them, and in an exported file shipped elsewhere: a verification names the place
of each checkpoint the chain does not match, and reports a copy that disagrees with the database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

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


def another_key_message(seq: int) -> str:
    """Why an instance must not sign checkpoints: its secret did not sign the latest one kept (entry `seq`)."""
    return (
        f"HANDOVER_SECRET_KEY is not the secret that signed the audit checkpoints in this database (the latest is at"
        f" entry {seq}): every instance must have the same secret, or its checkpoints would make the audit trail look"
        " tampered with. Nothing was signed."
    )


def checkpoint_is_genuine(key: bytes, checkpoint: Checkpoint) -> bool:
    expected = sign_checkpoint(key, checkpoint.seq, checkpoint.hash, checkpoint.at).signature
    return hmac.compare_digest(expected, checkpoint.signature)


class CheckpointSource(msgspec.Struct, frozen=True, kw_only=True):
    """The checkpoints read from one place, and how a message names that place (`IN_DATABASE`, `in_file(...)`;
    empty for checkpoints whose place needs no name). `kept_since` (UTC, ISO 8601, as `Checkpoint.at`): the place has
    kept every checkpoint signed after then; None if that is not known."""

    where: str
    checkpoints: tuple[Checkpoint, ...]
    kept_since: str | None = None
    kept_since_removed: bool = False  # the place keeps checkpoints, but its record of since when has been removed
    unreadable: tuple[tuple[int, str], ...] = ()  # (line number, why) of each line of a file that is no checkpoint


# A database that keeps checkpoints but no longer says since when: tampering in itself, and any checkpoint of a file
# could have been removed there since
KEPT_SINCE_REMOVED = (
    "the record of when the database began keeping checkpoints has been removed from its schema_migrations: every"
    " checkpoint in an exported file is looked for in the database"
)


IN_DATABASE = "in the database"


def in_file(path: str) -> str:
    return f"in the file {path}"


def _at(where: str) -> str:
    return f" {where}" if where else ""


def disagreements(reference: CheckpointSource, other: CheckpointSource, key: bytes) -> list[str]:
    """Where `other` (an exported copy) and `reference` (the database) record the same entry with different hashes,
    and where `other` holds a checkpoint the reference should have but has not: one signed with `key` after the
    reference's `kept_since` (a copy's older lines may date from before the reference was kept; a line whose signature
    is bad, reported as such, is no evidence that the reference lost a checkpoint)."""
    kept = {checkpoint.seq: checkpoint.hash for checkpoint in reference.checkpoints}
    since = "" if reference.kept_since_removed else reference.kept_since  # "": before any time a line records
    problems = []
    for checkpoint in other.checkpoints:
        seq = checkpoint.seq
        if seq in kept and kept[seq] != checkpoint.hash:
            problems.append(
                f"the checkpoint at entry {seq}{_at(other.where)} records another hash than the one"
                f"{_at(reference.where)}"
            )
        elif seq not in kept and since is not None and checkpoint.at > since and checkpoint_is_genuine(key, checkpoint):
            problems.append(
                f"the checkpoint at entry {seq}{_at(other.where)} is missing{_at(reference.where)}: "
                "checkpoints have been removed there"
            )
    return problems


class ChainCheck:
    """Checks entries one at a time, in order, so a chain of any length is verified in constant memory."""

    def __init__(self, checkpoints: Sequence[Checkpoint], key: bytes) -> None:
        """Against checkpoints from one place, which messages need not name."""
        self._key = key
        self.problems: list[str] = []
        self._expected: dict[int, dict[tuple[str, str], None]] = {}  # seq: (hash, where), each once, in order read
        self._take(CheckpointSource(where="", checkpoints=tuple(checkpoints)))
        self._prev_hash = GENESIS
        self._next_seq = 1
        self.checked = 0
        self._stopped = False  # at a break in the chain, before its end

    @classmethod
    def against(cls, reference: CheckpointSource, *copies: CheckpointSource, key: bytes) -> ChainCheck:
        """Against the checkpoints of several places, each named in the messages about it; each copy is also
        compared with the reference (`disagreements`)."""
        check = cls((), key)
        if reference.kept_since_removed:
            check.problems.append(KEPT_SINCE_REMOVED)
        for source in (reference, *copies):
            check._take(source)
        for copy in copies:
            check.problems += disagreements(reference, copy, key)
        return check

    def _take(self, source: CheckpointSource) -> None:
        for number, why in source.unreadable:  # half-written by a crash, or altered: reported, and the rest read
            self.problems.append(f"line {number}{_at(source.where)} is not a checkpoint: {why}")
        for checkpoint in source.checkpoints:
            if checkpoint_is_genuine(self._key, checkpoint):
                self._expected.setdefault(checkpoint.seq, {})[(checkpoint.hash, source.where)] = None
            else:
                self.problems.append(f"checkpoint at entry {checkpoint.seq}{_at(source.where)} has a bad signature")

    def feed(self, stored: StoredEntry) -> bool:
        """False once a problem is found: everything after a break is untrustworthy."""
        seq = stored.entry.seq
        if seq != self._next_seq:
            self.problems.append(f"entry {self._next_seq} is missing or out of order (found entry {seq} next)")
            self._stopped = True
            return False
        if stored.prev_hash != self._prev_hash or entry_hash(self._prev_hash, stored.entry) != stored.hash:
            self.problems.append(f"entry {seq} has been altered (its hash does not match its contents and chain)")
            self._stopped = True
            return False
        unmatched = [where for hash_, where in self._expected.get(seq, {}) if hash_ != stored.hash]
        if unmatched:
            self.problems += [
                f"entry {seq} does not match the signed checkpoint{_at(where)}: the chain was rewritten"
                for where in unmatched
            ]
            self._stopped = True
            return False
        self._prev_hash, self._next_seq, self.checked = stored.hash, seq + 1, seq
        return True

    def finish(self) -> list[str]:
        beyond = [(seq, where) for seq, found in self._expected.items() for _, where in found if seq > self.checked]
        # whatever else was found (a checkpoint's bad signature, one removed), entries missing from the end are said
        # too; after a break in the chain, where the log ends is not known
        if beyond and not self._stopped:
            seq, where = max(beyond, key=lambda item: item[0])  # the first place read, of those that record it
            self.problems.append(
                f"the log ends at entry {self.checked} but a signed checkpoint{_at(where)} records entry {seq}: "
                "entries have been removed from the end"
            )
        return self.problems


def verify(entries: Iterable[StoredEntry], checkpoints: Sequence[Checkpoint], key: bytes) -> list[str]:
    """Every problem found, first one first; an empty list means the chain is whole."""
    check = ChainCheck(checkpoints, key)
    for stored in entries:
        if not check.feed(stored):
            break
    return check.finish()
