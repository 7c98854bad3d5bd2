"""Sign-in throttling: repeated failures for a username, or from an address, are slowed and then locked.

The lock is by the username as typed, whether or not such a user exists, so a locked answer reveals nothing.
"""

from __future__ import annotations

import time

from service import db

WINDOW_SECONDS = 15 * 60
USER_LIMIT = 5  # failures for one username within the window before it is locked
ADDRESS_LIMIT = 20  # failures from one address within the window before it is locked
LOCKED_MESSAGE = "Too many failed attempts. Wait 15 minutes, then try again."


def keys_for(username: str, address: str) -> tuple[str, str]:
    return (f"user:{username.strip().lower()}", f"addr:{address}")


async def check(conn: db.Conn, username: str, address: str) -> tuple[bool, float]:
    """Whether sign-in is locked for this username or address, and how long to slow this attempt."""
    user_key, address_key = keys_for(username, address)
    counts = await db.recent_failures(conn, [user_key, address_key], time.time() - WINDOW_SECONDS)
    user_failures, address_failures = counts.get(user_key, 0), counts.get(address_key, 0)
    locked = user_failures >= USER_LIMIT or address_failures >= ADDRESS_LIMIT
    delay = min(2.0, 0.25 * max(0, max(user_failures, address_failures // 4) - 1))
    return locked, delay


async def failed(conn: db.Conn, username: str, address: str) -> None:
    await db.record_failure(conn, keys_for(username, address), time.time())


async def attempt(conn: db.Conn, username: str, address: str) -> tuple[bool, float, float | None]:
    """Check the lock and, unless locked, count this attempt as a failure before its password is checked: whether
    locked, how long to slow it, and when it was counted (None when locked). Call it in a transaction serialised with
    the others (`Database.transaction`), so that guesses sent at once each take one of the attempts the window allows
    rather than all being checked before any is counted. A success takes its count back (`succeeded`)."""
    locked, delay = await check(conn, username, address)
    if locked:
        return True, delay, None
    at = time.time()
    await db.record_failure(conn, keys_for(username, address), at)
    return False, delay, at


async def address_locked(conn: db.Conn, address: str) -> bool:
    """Whether sign-in from this address is locked: a provider's sign-in that failed before anyone was known (a
    wrong state, a token that does not check out) counts against the address alone."""
    address_key = keys_for("", address)[1]
    counts = await db.recent_failures(conn, [address_key], time.time() - WINDOW_SECONDS)
    return counts.get(address_key, 0) >= ADDRESS_LIMIT


async def failed_from(conn: db.Conn, address: str) -> None:
    """A failure that names nobody: counted against the address only."""
    await db.record_failure(conn, [keys_for("", address)[1]], time.time())


async def succeeded(conn: db.Conn, username: str, address: str = "", counted_at: float | None = None) -> None:
    """Clear the username's failures, and take back the address's count of this attempt (`attempt`): people signing
    in from one office address do not lock it by succeeding."""
    user_key, address_key = keys_for(username, address)
    await db.clear_failures(conn, user_key)
    if counted_at is not None:
        await db.forget_failure(conn, address_key, counted_at)


async def first_refusal(conn: db.Conn, username: str, address: str) -> bool:
    """Whether this is the first locked refusal for this username and address within the window; the refusal is
    noted, so that a client hammering a locked sign-in adds one audit entry a window, not one a request."""
    keys = ["locked:{}|{}".format(*keys_for(username, address))]
    now = time.time()
    if await db.recent_failures(conn, keys, now - WINDOW_SECONDS):
        return False
    await db.record_failure(conn, keys, now)
    return True
