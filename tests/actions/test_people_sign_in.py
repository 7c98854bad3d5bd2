"""Signing in and out: the right password for an enabled person signs in, anything else does not, every attempt is on
the record without what was typed as a password, and repeated failures lock the username and the address."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest

from service import db, throttle
from service.actions import people
from service.core.audit import Entry
from service.core.workflow import Actor
from tests.conftest import World

pytestmark = pytest.mark.anyio

ADDRESS = "192.0.2.7"


class Hashing:
    """A stand-in for argon2 (slow on purpose): "now:<password>" is today's hash, "old:<password>" one made with
    older settings; it records what it was asked to check."""

    def __init__(self) -> None:
        self.checked: list[tuple[str | None, str]] = []

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        self.checked.append((password_hash, password))
        return password_hash in (f"now:{password}", f"old:{password}")

    @staticmethod
    def needs_rehash(password_hash: str) -> bool:
        return password_hash.startswith("old:")

    @staticmethod
    async def rehash(password: str) -> str:
        return f"now:{password}"


@pytest.fixture
def hashing(monkeypatch: pytest.MonkeyPatch) -> Hashing:
    fake = Hashing()
    monkeypatch.setattr(people, "verify_password", fake.verify_password)
    monkeypatch.setattr(people, "needs_rehash", fake.needs_rehash)
    monkeypatch.setattr(people, "rehash", fake.rehash)
    return fake


async def person(database: db.Database, username: str, password_hash: str, **flags: bool) -> int:
    async with database.transaction() as conn:
        return await db.create_user(conn, username, username.title(), password_hash, **flags)


async def audit_after(database: db.Database, seq: int) -> list[Entry]:
    return [stored.entry for stored in await db.audit_entries(database.reader, after_seq=seq)]


async def last_seq(database: db.Database) -> int:
    return (await db.last_audit_entry(database.reader))[0]


def shape(entry: Entry) -> tuple[Any, ...]:
    return (entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.details)


async def failures(database: db.Database, username: str, address: str = ADDRESS) -> dict[str, int]:
    keys = [f"user:{username}", f"addr:{address}"]
    return await db.recent_failures(database.reader, keys, time.time() - 60)


async def stored_hash(database: db.Database, username: str) -> str:
    user = await db.user_by_username(database.reader, username)
    assert user is not None
    return user.password_hash


async def test_the_right_password_signs_in_as_the_person_with_their_teams(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    async with database.transaction() as conn:
        await db.replace_password_hash(conn, world.users["both"], await stored_hash(database, "both"), "now:right one")
    seq = await last_seq(database)
    signed_in = await people.sign_in(database, "both", "right one", ADDRESS)
    assert signed_in.user is not None and signed_in.user.id == world.users["both"] and not signed_in.locked
    assert signed_in.actor == Actor(
        user_id=world.users["both"], name="Both", manager_teams=frozenset({world.teams["north"], world.teams["cp"]})
    )
    assert hashing.checked == [("now:right one", "right one")]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["both"], "sign_in", "user", world.users["both"], {"username": "both"}),
    ]
    assert await stored_hash(database, "both") == "now:right one", "a hash with today's settings is kept"


async def test_an_auditors_roles_come_with_the_sign_in(database: db.Database, world: World, hashing: Hashing) -> None:
    user_id = await person(database, "checker", "now:a password", is_auditor=True, is_admin=True)
    signed_in = await people.sign_in(database, "checker", "a password", ADDRESS)
    assert signed_in.actor == Actor(user_id=user_id, name="Checker", is_auditor=True, is_admin=True)


@pytest.mark.parametrize(
    ("username", "password", "flags"),
    [
        ("worker", "wrong password", {}),
        ("worker", "", {}),
        ("worker", "right password ", {}),
        ("gone", "right password", {"disabled": True}),
        ("system", "right password", {"is_service": True}),
    ],
)
async def test_a_wrong_password_a_disabled_person_or_a_service_account_does_not_sign_in(
    database: db.Database, world: World, hashing: Hashing, username: str, password: str, flags: dict[str, bool]
) -> None:
    user_id = await person(database, username, "now:right password", is_service=flags.get("is_service", False))
    if flags.get("disabled"):
        async with database.transaction() as conn:
            await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user_id,))
    seq = await last_seq(database)
    assert await people.sign_in(database, username, password, ADDRESS) == people.SignedIn()
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (user_id, "sign_in_failed", "user", user_id, {"username": username}),
    ]
    assert await failures(database, username) == {f"user:{username}": 1, f"addr:{ADDRESS}": 1}


async def test_an_unknown_username_is_recorded_without_what_was_typed(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    seq = await last_seq(database)
    typed = "correct horse battery staple"  # a password typed into the username box
    assert await people.sign_in(database, typed, "anything at all", ADDRESS) == people.SignedIn()
    [entry] = await audit_after(database, seq)
    assert shape(entry) == (None, "sign_in_failed", "user", None, {"account": "none with the username typed"})
    assert hashing.checked == [(None, "anything at all")], "the check still runs, so it takes as long"
    assert await failures(database, typed) == {f"user:{typed}": 1, f"addr:{ADDRESS}": 1}


async def test_a_sign_in_clears_that_usernames_earlier_failure(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    await person(database, "worker", "now:right password")
    await people.sign_in(database, "worker", "wrong password", ADDRESS)
    assert await failures(database, "worker") == {"user:worker": 1, f"addr:{ADDRESS}": 1}
    assert (await people.sign_in(database, "worker", "right password", ADDRESS)).user is not None
    assert await failures(database, "worker") == {f"addr:{ADDRESS}": 1}, "the address's count is kept"


async def lock(database: db.Database, username: str, address: str, failures: int) -> None:
    async with database.transaction() as conn:
        for _ in range(failures):
            await throttle.failed(conn, username, address)


async def test_a_locked_username_is_refused_even_with_the_right_password_and_recorded_once(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    user_id = await person(database, "worker", "now:right password")
    await lock(database, "worker", "198.51.100.1", 5)
    seq = await last_seq(database)
    for _ in range(3):
        assert await people.sign_in(database, "worker", "right password", ADDRESS) == people.SignedIn(locked=True)
    assert hashing.checked == [], "a locked sign-in checks no password"
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (user_id, "sign_in_locked", "user", user_id, {"username": "worker"}),
    ]


async def test_a_locked_address_refuses_unknown_usernames_and_records_no_typed_name(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    await lock(database, "someone-else", ADDRESS, 20)
    seq = await last_seq(database)
    assert await people.sign_in(database, "nobody", "x", ADDRESS) == people.SignedIn(locked=True)
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "sign_in_locked", "user", None, {"account": "none with the username typed"}),
    ]


async def test_four_failures_slow_a_username_down_without_locking_it(
    database: db.Database, world: World, hashing: Hashing, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(people, "asyncio", SimpleNamespace(sleep=sleep))
    await person(database, "worker", "now:right password")
    await lock(database, "worker", "198.51.100.1", 4)
    assert (await people.sign_in(database, "worker", "right password", ADDRESS)).user is not None
    assert waited == [0.75], "repeated failures slow the next attempt"


async def test_the_longest_username_signs_in_and_one_character_more_does_not(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    longest = "u" * 200
    user_id = await person(database, longest, "now:right password")
    assert (await people.sign_in(database, longest + "x", "right password", ADDRESS)).user is None
    assert hashing.checked == [(None, "right password")]
    signed_in = await people.sign_in(database, longest, "right password", ADDRESS)
    assert signed_in.user is not None and signed_in.user.id == user_id


async def test_a_username_is_not_cut_short_to_match_a_shorter_one(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    await person(database, "u" * 199, "now:right password")
    assert (await people.sign_in(database, "u" * 200, "right password", ADDRESS)).user is None
    assert (await people.sign_in(database, "u" * 201, "right password", ADDRESS)).user is None


async def test_the_longest_password_signs_in_and_one_character_more_does_not(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    longest = "p" * 1000
    await person(database, "worker", f"now:{longest}")
    assert (await people.sign_in(database, "worker", longest + "p", ADDRESS)).user is None
    assert hashing.checked == [(None, longest)], "a password too long is checked against no hash"
    assert (await people.sign_in(database, "worker", longest, ADDRESS)).user is not None
    assert hashing.checked[1] == (f"now:{longest}", longest)


async def test_a_hash_made_with_older_settings_is_remade_at_sign_in(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    user_id = await person(database, "worker", "old:right password")
    assert (await people.sign_in(database, "worker", "wrong password", ADDRESS)).user is None
    assert await stored_hash(database, "worker") == "old:right password", "not at a failed sign-in"
    signed_in = await people.sign_in(database, "worker", "right password", ADDRESS)
    assert signed_in.user is not None and signed_in.user.id == user_id
    assert await stored_hash(database, "worker") == "now:right password"


async def test_a_password_changed_during_the_sign_in_is_not_overwritten(
    database: db.Database, world: World, hashing: Hashing, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = await person(database, "worker", "old:right password")

    async def slow_rehash(password: str) -> str:
        async with database.transaction() as conn:  # the password is changed meanwhile
            await db.replace_password_hash(conn, user_id, "old:right password", "now:a new password")
        return f"now:{password}"

    monkeypatch.setattr(people, "rehash", slow_rehash)
    assert (await people.sign_in(database, "worker", "right password", ADDRESS)).user is not None
    assert await stored_hash(database, "worker") == "now:a new password"


async def test_a_failed_rehash_still_signs_in_and_keeps_the_stored_hash(
    database: db.Database, world: World, hashing: Hashing, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    user_id = await person(database, "worker", "old:right password")

    async def broken(password: str) -> str:
        raise MemoryError("no memory for hashing")

    monkeypatch.setattr(people, "rehash", broken)
    seq = await last_seq(database)
    with caplog.at_level(logging.ERROR, logger="handover"):
        signed_in = await people.sign_in(database, "worker", "right password", ADDRESS)
    assert signed_in.user is not None and signed_in.user.id == user_id
    assert await stored_hash(database, "worker") == "old:right password"
    assert [record.getMessage() for record in caplog.records] == [
        f"could not rehash the password of user {user_id}; it keeps its stored hash"
    ]
    assert [entry.action for entry in await audit_after(database, seq)] == ["sign_in"]


async def test_signing_out_is_recorded(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    await people.sign_out(database, world.users["rec"])
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["rec"], "sign_out", "user", world.users["rec"], {}),
    ]


async def test_a_locked_username_is_recorded_once_for_each_address_it_is_tried_from(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    user_id = await person(database, "worker", "now:right password")
    await lock(database, "worker", "198.51.100.1", 5)
    seq = await last_seq(database)
    for address in (ADDRESS, "198.51.100.2", ADDRESS, "198.51.100.2"):
        assert await people.sign_in(database, "worker", "right password", address) == people.SignedIn(locked=True)
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (user_id, "sign_in_locked", "user", user_id, {"username": "worker"}),
        (user_id, "sign_in_locked", "user", user_id, {"username": "worker"}),
    ]


async def test_usernames_too_long_for_any_account_are_throttled_by_their_first_201_characters(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    start = "u" * 201
    await lock(database, start, "198.51.100.1", 5)
    assert await people.sign_in(database, start + "b", "x", ADDRESS) == people.SignedIn(locked=True)
    assert await people.sign_in(database, "u" * 200 + "b", "x", ADDRESS) == people.SignedIn()


async def test_an_account_with_a_username_longer_than_the_longest_allowed_cannot_sign_in(
    database: db.Database, world: World, hashing: Hashing
) -> None:
    await person(database, "u" * 201, "now:right password")  # stored before today's limit
    assert await people.sign_in(database, "u" * 201, "right password", ADDRESS) == people.SignedIn()
    assert hashing.checked == [(None, "right password")]
