"""Password hashing with argon2id, run off the event loop so a sign-in never stalls other requests."""

from __future__ import annotations

from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


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
