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
    IN_DATABASE,
    ChainCheck,
    Checkpoint,
    CheckpointSource,
    Entry,
    StoredEntry,
    canonical,
    checkpoint_is_genuine,
    disagreements,
    entry_hash,
    in_file,
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


# ---------------------------------------------------------------- checkpoints kept in the database and in a file

FILE = in_file("/data/audit-checkpoints.jsonl")


def kept(where: str, *checkpoints: Checkpoint, since: str | None = None) -> CheckpointSource:
    return CheckpointSource(where=where, checkpoints=checkpoints, kept_since=since)


def check_against(stored: list[StoredEntry], *sources: CheckpointSource) -> list[str]:
    check = ChainCheck.against(sources[0], *sources[1:], key=KEY)
    for item in stored:
        if not check.feed(item):
            break
    return check.finish()


def test_the_places_are_named_as_an_operator_reads_them() -> None:
    assert (IN_DATABASE, FILE) == ("in the database", "in the file /data/audit-checkpoints.jsonl")


def test_a_chain_matching_the_checkpoints_in_both_places_verifies() -> None:
    stored = chain(5)
    both = (signed(2, stored[1].hash), signed(5, stored[4].hash))
    assert check_against(stored, kept(IN_DATABASE, *both), kept(FILE, *both)) == []


def test_a_rewritten_chain_names_each_place_whose_checkpoint_it_does_not_match() -> None:
    stored = chain(4)
    assert check_against(stored, kept(IN_DATABASE, signed(3, "e" * 64)), kept(FILE, signed(3, "e" * 64))) == [
        "entry 3 does not match the signed checkpoint in the database: the chain was rewritten",
        "entry 3 does not match the signed checkpoint in the file /data/audit-checkpoints.jsonl: "
        "the chain was rewritten",
    ]


def test_a_checkpoint_in_the_file_alone_that_the_chain_does_not_match_is_named() -> None:
    stored = chain(4)
    assert check_against(stored, kept(IN_DATABASE, signed(4, stored[3].hash)), kept(FILE, signed(2, "e" * 64))) == [
        "entry 2 does not match the signed checkpoint in the file /data/audit-checkpoints.jsonl: "
        "the chain was rewritten"
    ]


def test_a_bad_signature_is_named_by_its_place() -> None:
    stored = chain(3)
    good = signed(3, stored[2].hash)
    forged = msgspec.structs.replace(good, at="2026-03-03T18:00:00+00:00")
    assert check_against(stored, kept(IN_DATABASE, forged), kept(FILE, good)) == [
        "checkpoint at entry 3 in the database has a bad signature"
    ]


def test_entries_removed_from_the_end_name_the_database_when_both_places_record_the_last_checkpoint() -> None:
    stored = chain(5)
    last = signed(5, stored[4].hash)
    assert check_against(stored[:2], kept(IN_DATABASE, last), kept(FILE, last)) == [
        "the log ends at entry 2 but a signed checkpoint in the database records entry 5: "
        "entries have been removed from the end"
    ]
    assert check_against(stored[:2], kept(IN_DATABASE), kept(FILE, last)) == [
        "the log ends at entry 2 but a signed checkpoint in the file /data/audit-checkpoints.jsonl records entry 5: "
        "entries have been removed from the end"
    ]


def test_a_file_line_recording_another_hash_than_the_database_is_reported() -> None:
    row, line = signed(3, "a" * 64), signed(3, "b" * 64)
    assert disagreements(kept(IN_DATABASE, row), kept(FILE, line), KEY) == [
        "the checkpoint at entry 3 in the file /data/audit-checkpoints.jsonl records another hash than the one in the "
        "database"
    ]


def test_a_file_line_signed_at_another_time_for_the_same_hash_agrees_with_the_database() -> None:
    """An instance stopped and started again in the same place signs the same end of the chain again, later."""
    row, line = signed(3, "a" * 64), signed(3, "a" * 64, at="2026-03-02T18:05:00+00:00")
    assert disagreements(kept(IN_DATABASE, row), kept(FILE, line), KEY) == []


def test_a_file_line_signed_since_the_database_kept_checkpoints_but_missing_there_is_reported() -> None:
    line = signed(3, "a" * 64, at="2026-03-02T18:00:01+00:00")
    assert disagreements(kept(IN_DATABASE, since="2026-03-02T18:00:00+00:00"), kept(FILE, line), KEY) == [
        "the checkpoint at entry 3 in the file /data/audit-checkpoints.jsonl is missing in the database: "
        "checkpoints have been removed there"
    ]


def test_a_file_line_with_a_bad_signature_is_no_evidence_that_the_database_lost_a_checkpoint() -> None:
    """The line is reported for its signature (`ChainCheck`); it does not also accuse the database of anything."""
    line = signed(3, "a" * 64, at="2026-03-02T18:00:01+00:00", key=b"another key")
    assert disagreements(kept(IN_DATABASE, since="2026-03-02T18:00:00+00:00"), kept(FILE, line), KEY) == []


@pytest.mark.parametrize(
    "since", [None, "2026-03-02T18:00:00+00:00", "2026-03-02T18:00:01+00:00"], ids=["never", "same second", "later"]
)
def test_a_file_line_signed_before_the_database_kept_checkpoints_is_not_missing_there(since: str | None) -> None:
    line = signed(3, "a" * 64, at="2026-03-02T18:00:00+00:00")
    assert disagreements(kept(IN_DATABASE, since=since), kept(FILE, line), KEY) == []


@given(length=st.integers(min_value=1, max_value=8), data=st.data())
def test_any_checkpoint_in_either_place_that_the_chain_does_not_match_is_named_by_its_place(
    length: int, data: st.DataObject
) -> None:
    """Checkpoints of the chain in both places, as instances write them; then one of them, in one place, records a
    hash the chain never had and is signed (as by a chain rewritten before it was signed elsewhere)."""
    stored = chain(length)
    seqs = data.draw(st.lists(st.integers(min_value=1, max_value=length), min_size=1, unique=True))
    genuine = {seq: signed(seq, stored[seq - 1].hash) for seq in seqs}
    places = {IN_DATABASE: dict(genuine), FILE: dict(genuine)}
    assert check_against(stored, *(kept(where, *found.values()) for where, found in places.items())) == []
    where = data.draw(st.sampled_from(sorted(places)))
    seq = data.draw(st.sampled_from(seqs))
    places[where][seq] = signed(seq, "e" * 64)
    problems = check_against(stored, *(kept(w, *found.values()) for w, found in places.items()))
    assert problems[-1] == f"entry {seq} does not match the signed checkpoint {where}: the chain was rewritten"
    other = FILE if where == IN_DATABASE else IN_DATABASE
    assert problems[:-1] == [f"the checkpoint at entry {seq} {FILE} records another hash than the one {IN_DATABASE}"]
    assert other not in problems[-1]
