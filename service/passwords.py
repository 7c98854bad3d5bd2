"""Password hashing with argon2id, run off the event loop so a sign-in never stalls other requests."""

from __future__ import annotations

import time
from functools import cache

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id, 64 MiB and 3 passes (the library's defaults, RFC 9106's second recommended option) in one lane. Four
# lanes, the library's default, spread one verification over both cores of a small server, and every other request
# stalled behind it; one lane leaves a core to them. What a guess costs an attacker is set by the memory and the
# passes, which are unchanged (OWASP's recommended argon2id settings all use one lane). Hashes made with other
# settings still verify, and are remade with these at the next sign-in.
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)


@cache
def _dummy() -> tuple[str, float]:
    """A hash to verify against when the username is unknown, and how long verifying it took.

    Made on first use, on the hashing thread: argon2 takes tens of megabytes, which commands that never sign anyone
    in should not pay. A hash stored with older settings verifies at another speed (four lanes: faster), so a
    failed check is never answered sooner than this takes; otherwise the time would tell which usernames exist.
    """
    dummy = _hasher.hash("not a real password")
    started = time.perf_counter()
    _hasher.verify(dummy, "not a real password")
    return dummy, time.perf_counter() - started


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> tuple[bool, float, float]:
    """Whether the password matches, how long checking took, and the shortest a failed check may take."""
    dummy, floor = _dummy()
    started = time.perf_counter()
    try:
        matched = _hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        matched = False
    return matched, time.perf_counter() - started, floor


# One hash at a time: argon2id takes a core and 64 MiB per verification, so parallel sign-ins would starve every
# other request of CPU and memory; queued sign-ins wait a little instead.
_hashing = anyio.CapacityLimiter(1)


async def is_current_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one this hash was made from: a new password that is the current one changes
    nothing, and whoever knew it would still know it. No time floor: the person is known, so timing tells nothing."""

    def matches() -> bool:
        try:
            return password_hash is not None and _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(matches, limiter=_hashing)


async def verify_password(password_hash: str | None, password: str) -> bool:
    matched, took, floor = await anyio.to_thread.run_sync(_verify, password_hash, password, limiter=_hashing)
    if not matched:
        await anyio.sleep(max(0.0, floor - took))  # outside the limiter: the next sign-in's check is not held up
    return matched


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other settings than these."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


async def rehash(password: str) -> str:
    """A new hash of a password just verified, made off the event loop like a verification."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_hashing)
