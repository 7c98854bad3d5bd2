"""The audit chain and its signed checkpoints: what each hash and each signature covers, and every sentence a
verification reports. Expected digests are written out, and recomputed here with hashlib and hmac directly, never
with the module's own functions."""

from __future__ import annotations

import hashlib
import hmac

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.audit import (
    GENESIS,
    ChainCheck,
    Checkpoint,
    Entry,
    StoredEntry,
    canonical,
    checkpoint_is_genuine,
    entry_hash,
    sign_checkpoint,
    verify,
)

KEY = b"kept outside the database"
ZEROS = "0000000000000000000000000000000000000000000000000000000000000000"

SAVE = Entry(
    seq=1,
    at="2026-03-02T09:15:00+00:00",
    actor_id=7,
    action="save_section",
    object_type="handover",
    object_id=42,
    details={"section": "open-risks", "b": {"z": 1, "a": "Zoë"}},
)
SAVE_BYTES = (
    b'{"action":"save_section","actor_id":7,"at":"2026-03-02T09:15:00+00:00",'
    b'"details":{"b":{"a":"Zo\xc3\xab","z":1},"section":"open-risks"},"object_id":42,"object_type":"handover","seq":1}'
)
SAVE_HASH = "c7775e011fa254a0a840f3babb5ee93f073d8a8d417238c4e0a861a22d0d1e2c"
CHECKPOINT_AT = "2026-03-02T18:00:00+00:00"
CHECKPOINT_SIGNATURE = "9e1a6584fd94ba89b0407632cf932eb29aad317439a00f85fe5e0ca2286e555e"


def entry(seq: int, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "seq": seq,
        "at": f"2026-03-02T09:{seq:02d}:00+00:00",
        "actor_id": 7,
        "action": "save_section",
        "object_type": "handover",
        "object_id": 42,
        "details": {"section": "open-risks"},
    }
    return Entry(**(fields | changes))  # type: ignore[arg-type]


def chain(length: int) -> list[StoredEntry]:
    """A whole chain, hashed by hand: sha256 of the previous hash, a newline and the entry's canonical bytes."""
    stored: list[StoredEntry] = []
    prev = ZEROS
    for seq in range(1, length + 1):
        item = entry(seq)
        digest = hashlib.sha256(prev.encode() + b"\n" + msgspec.json.encode(item, order="sorted")).hexdigest()
        stored.append(StoredEntry(entry=item, prev_hash=prev, hash=digest))
        prev = digest
    return stored


def signed(seq: int, hash_: str, at: str = CHECKPOINT_AT, key: bytes = KEY) -> Checkpoint:
    """A checkpoint signed by hand: HMAC-SHA256 of "seq:hash:at"."""
    signature = hmac.new(key, f"{seq}:{hash_}:{at}".encode(), hashlib.sha256).hexdigest()
    return Checkpoint(seq=seq, hash=hash_, at=at, signature=signature)


def replaced(stored: StoredEntry, **changes: object) -> StoredEntry:
    """The same stored entry, its hashes kept, with fields of the entry changed."""
    return msgspec.structs.replace(stored, entry=msgspec.structs.replace(stored.entry, **changes))


# ---------------------------------------------------------------- hashing


def test_the_chain_starts_from_sixty_four_zeros() -> None:
    assert GENESIS == ZEROS


def test_an_entry_is_encoded_with_keys_sorted_at_every_level_without_spaces_in_utf8() -> None:
    assert canonical(SAVE) == SAVE_BYTES


def test_an_entry_hash_covers_the_previous_hash_a_newline_and_the_entry() -> None:
    assert entry_hash(ZEROS, SAVE) == SAVE_HASH
    assert hashlib.sha256(ZEROS.encode() + b"\n" + SAVE_BYTES).hexdigest() == SAVE_HASH
    assert entry_hash("1" * 64, SAVE) == hashlib.sha256(b"1" * 64 + b"\n" + SAVE_BYTES).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2},
        {"at": "2026-03-02T09:15:01+00:00"},
        {"actor_id": 8},
        {"actor_id": None},
        {"action": "endorse"},
        {"object_type": "case"},
        {"object_id": 43},
        {"object_id": None},
        {"details": {"section": "open-risks", "b": {"z": 1, "a": "Zoe"}}},
        {"details": {}},
    ],
    ids=[
        "seq",
        "at",
        "actor",
        "no-actor",
        "action",
        "object-type",
        "object-id",
        "no-object-id",
        "nested-detail",
        "no-details",
    ],
)
def test_changing_any_one_field_of_an_entry_changes_its_hash(change: dict[str, object]) -> None:
    assert entry_hash(ZEROS, msgspec.structs.replace(SAVE, **change)) != SAVE_HASH


# ---------------------------------------------------------------- checkpoints


def test_a_checkpoint_is_signed_with_hmac_sha256_of_its_sequence_hash_and_time() -> None:
    checkpoint = sign_checkpoint(KEY, 3, SAVE_HASH, CHECKPOINT_AT)
    assert checkpoint == Checkpoint(seq=3, hash=SAVE_HASH, at=CHECKPOINT_AT, signature=CHECKPOINT_SIGNATURE)
    assert checkpoint == signed(3, SAVE_HASH)


def test_a_checkpoint_signed_with_the_key_is_genuine() -> None:
    assert checkpoint_is_genuine(KEY, signed(3, SAVE_HASH)) is True


@pytest.mark.parametrize(
    "change",
    [{"seq": 4}, {"seq": 30}, {"hash": SAVE_HASH[:-1] + "d"}, {"hash": ""}, {"at": "2026-03-02T18:00:01+00:00"}],
    ids=["seq", "seq-appended-digit", "hash", "hash-empty", "at"],
)
def test_a_checkpoint_with_any_field_altered_but_its_signature_kept_is_not_genuine(change: dict[str, object]) -> None:
    assert checkpoint_is_genuine(KEY, msgspec.structs.replace(signed(3, SAVE_HASH), **change)) is False


@pytest.mark.parametrize(
    "signature",
    ["", CHECKPOINT_SIGNATURE[:-1] + "f", CHECKPOINT_SIGNATURE.upper(), CHECKPOINT_SIGNATURE + "00"],
    ids=["empty", "one-digit", "upper-case", "longer"],
)
def test_a_checkpoint_with_another_signature_is_not_genuine(signature: str) -> None:
    checkpoint = Checkpoint(seq=3, hash=SAVE_HASH, at=CHECKPOINT_AT, signature=signature)
    assert checkpoint_is_genuine(KEY, checkpoint) is False


@pytest.mark.parametrize(
    "other_key", [b"", b"kept outside the databasf", b"x" + KEY], ids=["empty", "last-byte", "longer"]
)
def test_a_checkpoint_is_not_genuine_under_another_key_the_empty_key_included(other_key: bytes) -> None:
    assert checkpoint_is_genuine(other_key, signed(3, SAVE_HASH)) is False


def test_a_checkpoint_signed_with_the_empty_key_is_not_genuine_under_the_real_key() -> None:
    assert checkpoint_is_genuine(KEY, signed(3, SAVE_HASH, key=b"")) is False
    assert checkpoint_is_genuine(KEY, sign_checkpoint(b"", 3, SAVE_HASH, CHECKPOINT_AT)) is False


def test_signatures_of_checkpoints_differing_in_one_field_differ() -> None:
    base = sign_checkpoint(KEY, 3, SAVE_HASH, CHECKPOINT_AT).signature
    assert sign_checkpoint(KEY, 4, SAVE_HASH, CHECKPOINT_AT).signature != base
    assert sign_checkpoint(KEY, 3, ZEROS, CHECKPOINT_AT).signature != base
    assert sign_checkpoint(KEY, 3, SAVE_HASH, "2026-03-03T18:00:00+00:00").signature != base
    assert sign_checkpoint(b"another key", 3, SAVE_HASH, CHECKPOINT_AT).signature != base


# ---------------------------------------------------------------- verifying a chain


def test_a_whole_chain_verifies_with_no_problems() -> None:
    stored = chain(5)
    assert verify(stored, [signed(2, stored[1].hash), signed(5, stored[4].hash)], KEY) == []


def test_an_empty_log_without_checkpoints_verifies() -> None:
    assert verify([], [], KEY) == []


def test_a_checkpoint_at_the_last_entry_is_not_reported_as_removed_entries() -> None:
    stored = chain(3)
    check = ChainCheck([signed(3, stored[2].hash)], KEY)
    assert [check.feed(item) for item in stored] == [True, True, True]
    assert check.checked == 3
    assert check.finish() == []


def test_the_check_counts_the_entries_it_has_checked() -> None:
    stored = chain(4)
    check = ChainCheck([], KEY)
    assert check.checked == 0
    for item in stored[:2]:
        check.feed(item)
    assert check.checked == 2
    assert check.problems == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"at": "2026-03-02T10:00:00+00:00"}, "at"),
        ({"actor_id": 8}, "actor_id"),
        ({"actor_id": None}, "actor_id"),
        ({"action": "approve"}, "action"),
        ({"object_type": "case"}, "object_type"),
        ({"object_id": 43}, "object_id"),
        ({"details": {"section": "forged"}}, "details"),
    ],
)
def test_an_entry_with_one_field_altered_is_reported_as_altered(change: dict[str, object], field: str) -> None:
    stored = chain(4)
    stored[2] = replaced(stored[2], **change)
    problems = verify(stored, [], KEY)
    assert problems == ["entry 3 has been altered (its hash does not match its contents and chain)"], field


def test_an_entry_renumbered_into_a_gap_keeping_its_hash_is_reported_as_altered() -> None:
    stored = chain(3)
    moved = replaced(stored[2], seq=2)
    assert verify([stored[0], moved], [], KEY) == [
        "entry 2 has been altered (its hash does not match its contents and chain)"
    ]


def test_an_entry_whose_stored_previous_hash_was_changed_is_reported_as_altered() -> None:
    stored = chain(3)
    stored[1] = msgspec.structs.replace(stored[1], prev_hash="f" * 64)
    assert verify(stored, [], KEY) == ["entry 2 has been altered (its hash does not match its contents and chain)"]


def test_an_entry_whose_stored_hash_was_changed_is_reported_as_altered() -> None:
    stored = chain(3)
    stored[2] = msgspec.structs.replace(stored[2], hash="f" * 64)
    assert verify(stored, [], KEY) == ["entry 3 has been altered (its hash does not match its contents and chain)"]


def test_an_altered_first_entry_is_caught_against_the_genesis_hash() -> None:
    stored = chain(2)
    stored[0] = msgspec.structs.replace(stored[0], prev_hash="1" * 64)
    assert verify(stored, [], KEY) == ["entry 1 has been altered (its hash does not match its contents and chain)"]


def test_an_entry_moved_from_another_chain_is_reported_as_altered() -> None:
    """Each entry hashes from the one before it: a second entry copied from a chain with another first entry
    matches its own contents but not this chain."""
    stored = chain(2)
    other_first = entry(1, action="approve")
    other_first_hash = hashlib.sha256(
        ZEROS.encode() + b"\n" + msgspec.json.encode(other_first, order="sorted")
    ).hexdigest()
    second = entry(2)
    foreign = StoredEntry(
        entry=second,
        prev_hash=other_first_hash,
        hash=hashlib.sha256(
            other_first_hash.encode() + b"\n" + msgspec.json.encode(second, order="sorted")
        ).hexdigest(),
    )
    assert verify([stored[0], foreign], [], KEY) == [
        "entry 2 has been altered (its hash does not match its contents and chain)"
    ]


def test_a_missing_entry_is_reported_with_the_one_found_in_its_place() -> None:
    stored = chain(5)
    assert verify([stored[0], stored[1], stored[3], stored[4]], [], KEY) == [
        "entry 3 is missing or out of order (found entry 4 next)"
    ]


def test_a_log_that_does_not_start_at_entry_one_is_reported() -> None:
    stored = chain(3)
    assert verify(stored[1:], [], KEY) == ["entry 1 is missing or out of order (found entry 2 next)"]


def test_two_entries_swapped_are_reported_at_the_first() -> None:
    stored = chain(4)
    assert verify([stored[0], stored[2], stored[1], stored[3]], [], KEY) == [
        "entry 2 is missing or out of order (found entry 3 next)"
    ]


def test_only_the_first_break_is_reported_because_what_follows_cannot_be_trusted() -> None:
    stored = chain(6)
    broken = [stored[0], replaced(stored[1], action="approve"), stored[3], replaced(stored[4], action="x")]
    assert verify(broken, [signed(6, stored[5].hash)], KEY) == [
        "entry 2 has been altered (its hash does not match its contents and chain)"
    ]


def test_feeding_stops_being_true_at_the_first_problem() -> None:
    stored = chain(3)
    check = ChainCheck([], KEY)
    assert check.feed(stored[0]) is True
    assert check.feed(stored[2]) is False
    assert check.problems == ["entry 2 is missing or out of order (found entry 3 next)"]


def test_a_chain_rewritten_end_to_end_is_caught_by_the_signed_checkpoint() -> None:
    stored = chain(4)
    checkpoint = signed(3, "e" * 64)  # the hash entry 3 had when the checkpoint was signed
    assert verify(stored, [checkpoint], KEY) == [
        "entry 3 does not match the signed checkpoint: the chain was rewritten"
    ]


def test_a_rewritten_chain_stops_the_check_at_the_checkpoint() -> None:
    stored = chain(4)
    check = ChainCheck([signed(2, "e" * 64)], KEY)
    assert [check.feed(item) for item in stored[:2]] == [True, False]
    assert check.checked == 1


def test_a_checkpoint_with_a_bad_signature_is_reported_and_not_trusted() -> None:
    stored = chain(4)
    forged = msgspec.structs.replace(signed(3, stored[2].hash), hash="e" * 64)
    assert verify(stored, [forged], KEY) == ["checkpoint at entry 3 has a bad signature"]


def test_only_the_checkpoints_with_bad_signatures_are_reported() -> None:
    stored = chain(4)
    good = signed(2, stored[1].hash)
    forged = msgspec.structs.replace(signed(4, stored[3].hash), signature="0" + CHECKPOINT_SIGNATURE[1:])
    assert verify(stored, [good, forged], KEY) == ["checkpoint at entry 4 has a bad signature"]
    assert ChainCheck([good, forged], KEY).problems == ["checkpoint at entry 4 has a bad signature"]


def test_a_checkpoint_signed_with_the_empty_key_is_reported_as_bad() -> None:
    stored = chain(2)
    assert verify(stored, [signed(2, stored[1].hash, key=b"")], KEY) == ["checkpoint at entry 2 has a bad signature"]


def test_entries_removed_from_the_end_are_caught_by_the_latest_checkpoint() -> None:
    stored = chain(6)
    checkpoints = [signed(2, stored[1].hash), signed(5, stored[4].hash), signed(6, stored[5].hash)]
    assert verify(stored[:3], checkpoints, KEY) == [
        "the log ends at entry 3 but a signed checkpoint records entry 6: entries have been removed from the end"
    ]


def test_an_emptied_log_is_caught_by_a_checkpoint() -> None:
    stored = chain(1)
    assert verify([], [signed(1, stored[0].hash)], KEY) == [
        "the log ends at entry 0 but a signed checkpoint records entry 1: entries have been removed from the end"
    ]


def test_entries_removed_from_the_end_are_not_reported_again_after_an_earlier_problem() -> None:
    stored = chain(5)
    broken = [stored[0], replaced(stored[1], action="approve"), stored[2]]
    assert verify(broken, [signed(5, stored[4].hash)], KEY) == [
        "entry 2 has been altered (its hash does not match its contents and chain)"
    ]


def test_a_bad_checkpoint_beyond_the_end_does_not_count_as_removed_entries() -> None:
    stored = chain(2)
    forged = msgspec.structs.replace(signed(5, "e" * 64), at="2026-03-03T18:00:00+00:00")
    assert verify(stored, [forged], KEY) == ["checkpoint at entry 5 has a bad signature"]


# ---------------------------------------------------------------- any single alteration, anywhere


FIELD_CHANGES = {
    "at": "2026-04-01T00:00:00+00:00",
    "actor_id": 999,
    "action": "forged",
    "object_type": "forged",
    "object_id": 999,
    "details": {"forged": True},
}


@given(
    length=st.integers(min_value=1, max_value=8),
    data=st.data(),
    field=st.sampled_from(sorted(FIELD_CHANGES)),
)
def test_any_one_field_of_any_entry_altered_is_found_at_that_entry(
    length: int, data: st.DataObject, field: str
) -> None:
    stored = chain(length)
    position = data.draw(st.integers(min_value=0, max_value=length - 1))
    stored[position] = replaced(stored[position], **{field: FIELD_CHANGES[field]})
    seq = position + 1
    assert verify(stored, [], KEY) == [f"entry {seq} has been altered (its hash does not match its contents and chain)"]


@given(length=st.integers(min_value=2, max_value=8), data=st.data())
def test_any_entry_removed_from_the_middle_is_found(length: int, data: st.DataObject) -> None:
    stored = chain(length)
    position = data.draw(st.integers(min_value=0, max_value=length - 2))
    del stored[position]
    seq = position + 1
    assert verify(stored, [], KEY) == [f"entry {seq} is missing or out of order (found entry {seq + 1} next)"]
