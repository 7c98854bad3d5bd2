"""Sessions live in the database: two instances of the service (two stores, each on its own `Database`, on one file)
see the same sessions, a sign-out on either ends the session on both for good, and an unchanged session is not
written again on every request."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from service import db
from service.app import create_app
from service.db.engine import _rows
from service.settings import Settings
from service.web.session_store import SessionStore
from tests.conftest import Browser, Site

pytestmark = pytest.mark.anyio

IDLE = 1800


@pytest.fixture
async def instances(tmp_path: Path) -> AsyncIterator[tuple[SessionStore, SessionStore]]:
    """Two instances of the service on one database file."""
    first, second = db.SqliteDatabase(tmp_path / "handover.db"), db.SqliteDatabase(tmp_path / "handover.db")
    async with first.opened(), second.opened():
        yield SessionStore(first, refresh=60), SessionStore(second, refresh=60)


async def rows(store: SessionStore) -> list[tuple[str, bytes, int]]:
    found = await _rows(store.database.reader, "SELECT key, value, ended FROM sessions ORDER BY key")
    return [(str(row["key"]), bytes(row["value"]), int(row["ended"])) for row in found]


async def test_a_session_made_on_one_instance_is_read_on_the_other(
    instances: tuple[SessionStore, SessionStore],
) -> None:
    one, other = instances
    await one.set("a", b"signed in", expires_in=IDLE)
    assert await other.get("a") == b"signed in"
    seconds = await other.expires_in("a")
    assert seconds is not None and IDLE - 5 < seconds <= IDLE
    assert await other.exists("a") and not await other.exists("nobody")
    assert await other.get("nobody") is None


async def test_a_sign_out_on_one_instance_ends_the_session_on_both_for_good(
    instances: tuple[SessionStore, SessionStore],
) -> None:
    one, other = instances
    await one.set("a", b"signed in", expires_in=IDLE)
    assert await other.get("a") == b"signed in"  # a request on the other instance has begun
    await one.delete("a")
    assert await other.get("a") is None, "the other instance sees the sign-out at its next request"
    # slow requests that began before the sign-out answer, on either instance, with the old or changed contents
    for store in (other, one):
        await store.set("a", b"signed in", expires_in=IDLE)
        await store.set("a", b"changed", expires_in=IDLE)
    assert await one.get("a") is None and await other.get("a") is None
    assert await rows(one) == [("a", b"", 1)], "kept, ended and emptied, until it would have expired"


async def test_the_same_session_stored_again_is_not_written_again(instances: tuple[SessionStore, SessionStore]) -> None:
    one, other = instances
    await one.set("a", b"data", expires_in=IDLE)
    written = one.database.commits
    for _ in range(5):
        await one.set("a", b"data", expires_in=IDLE)  # what every response does
    assert one.database.commits == written
    # a request served by the other instance reads the session, then stores it again unchanged
    assert await other.get("a") == b"data"
    await other.set("a", b"data", expires_in=IDLE)
    assert other.database.commits == 0


async def test_changed_contents_and_a_stale_expiry_are_written(instances: tuple[SessionStore, SessionStore]) -> None:
    one, other = instances
    await one.set("a", b"one", expires_in=IDLE)
    written = one.database.commits
    await one.set("a", b"two", expires_in=IDLE)
    assert one.database.commits == written + 1
    assert await other.get("a") == b"two"
    await one.set("a", b"two", expires_in=IDLE + 61)  # the expiry moved on by more than `refresh`
    seconds = await other.expires_in("a")
    assert seconds is not None and seconds > IDLE + 50
    await one.set("a", b"two", expires_in=100)  # cut short: written at once, however little it moved
    seconds = await other.expires_in("a")
    assert seconds is not None and seconds <= 100


async def test_an_expired_session_is_not_read_not_stored_again_and_cleared(
    instances: tuple[SessionStore, SessionStore],
) -> None:
    one, other = instances
    await one.set("a", b"data", expires_in=1)
    await one.set("b", b"data", expires_in=IDLE)
    await one.set("c", b"data", expires_in=IDLE)
    await one.delete("c")
    await asyncio.sleep(1.1)
    assert await other.get("a") is None and await other.expires_in("a") is None
    await one.set("a", b"changed", expires_in=IDLE)  # a request that began before the idle timeout passed
    assert await other.get("a") is None, "an idle timeout is an idle timeout"
    await other.delete_expired()
    assert [key for key, _, _ in await rows(one)] == ["b", "c"], "only rows past their expiry are removed"
    assert await one.get("b") == b"data"


async def test_a_session_id_never_issued_leaves_nothing_behind(instances: tuple[SessionStore, SessionStore]) -> None:
    one, _ = instances
    await one.delete("f" * 64)  # a browser sends an id that was never issued, or that has ended
    assert await rows(one) == [] and one.database.commits == 0


async def test_signing_everyone_out_ends_every_session(instances: tuple[SessionStore, SessionStore]) -> None:
    one, other = instances
    await one.set("a", b"data", expires_in=IDLE)
    await other.set("b", b"data", expires_in=IDLE)
    await other.delete_all()
    await one.set("a", b"data again", expires_in=IDLE)
    assert await one.get("a") is None and await one.get("b") is None


async def test_a_session_has_an_expiry(instances: tuple[SessionStore, SessionStore]) -> None:
    with pytest.raises(ValueError, match="always expires"):
        await instances[0].set("a", b"data")


# requests that two instances serve for one browser, one after another: a page (None: the session unchanged, or new
# contents 0-2) or signing out, each on instance 0 or 1
requests = st.lists(st.tuples(st.sampled_from(["page", "sign out"]), st.integers(0, 1), st.none() | st.integers(0, 2)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(served=requests)
def test_two_instances_agree_on_a_session_whatever_they_serve(served: list[tuple[str, int, int | None]]) -> None:
    """Whichever instance serves each request, a page finds the session as the last request left it, and once it is
    signed out on either, neither finds it again."""

    async def run(folder: Path) -> None:
        first, second = db.SqliteDatabase(folder / "handover.db"), db.SqliteDatabase(folder / "handover.db")
        async with first.opened(), second.opened():
            stores = SessionStore(first, refresh=60), SessionStore(second, refresh=60)
            await stores[0].set("k", b"signed in", expires_in=IDLE)
            expected: bytes | None = b"signed in"
            for request, which, contents in served:
                store = stores[which]
                found = await store.get("k")  # what the session middleware does as a request begins
                assert found == expected
                if request == "sign out":
                    await store.delete("k")
                    expected = None
                elif found is not None:  # and as it answers, for a session it found
                    expected = found if contents is None else bytes([contents])
                    await store.set("k", expected, expires_in=IDLE)
            for store in stores:
                assert await store.get("k") == expected

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(Path(folder)))


async def test_a_session_made_on_one_instance_works_on_the_other_until_signed_out_there(
    site: Site, settings: Settings
) -> None:
    person = await site.as_user("out")
    assert (await person.get("/")).status_code == 200
    key = person.jar.get("session")
    async with AsyncTestClient(app=create_app(settings)) as client:  # a second instance, or the first restarted
        elsewhere = Browser(client)
        elsewhere.jar = httpx.Cookies(person.jar)  # the same browser, sent to the other instance
        assert (await elsewhere.get("/")).status_code == 200
        await elsewhere.post("/sign-out")
    assert (await person.get("/")).status_code == 303, "signed out on the first instance too"
    stored = await _rows(site.db.reader, "SELECT ended FROM sessions WHERE key = ?", (key,))
    assert [row["ended"] for row in stored] == [1]


async def test_the_service_clears_expired_sessions_now_and_then(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, checkpoint_minutes=0.01))  # every 0.6 seconds
    async with AsyncTestClient(app=app):
        store: SessionStore = app.stores.get("sessions")  # type: ignore[assignment]
        await store.set("gone", b"data", expires_in=1)
        await store.set("kept", b"data", expires_in=IDLE)
        await asyncio.sleep(2.5)
        assert [key for key, _, _ in await rows(store)] == ["kept"]
