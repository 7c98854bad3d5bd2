"""Password hashing with argon2id, run off the event loop so a sign-in never stalls other requests."""

from __future__ import annotations

from functools import cache

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
def _dummy_hash() -> str:
    """Verifying against this when the username is unknown keeps the timing the same, so it reveals nothing.
    Made on first use: argon2 takes tens of megabytes, which commands that never sign anyone in should not pay."""
    return _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# One hash at a time: argon2id takes a core and 64 MiB per verification, so parallel sign-ins would starve every
# other request of CPU and memory; queued sign-ins wait a little instead.
_hashing = anyio.CapacityLimiter(1)


async def verify_password(password_hash: str | None, password: str) -> bool:
    result = await anyio.to_thread.run_sync(_verify, password_hash or _dummy_hash(), password, limiter=_hashing)
    return result and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other settings than these."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


async def rehash(password: str) -> str:
    """A new hash of a password just verified, made off the event loop like a verification."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_hashing)
