"""Sessions: read from memory, written behind to disk, kept across a restart, never brought back once ended."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar.stores.file import FileStore
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.web.session_store import SessionStore
from tests.conftest import Browser, Site

pytestmark = pytest.mark.anyio


def disk_files(folder: Path) -> dict[str, float]:
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}


async def test_the_same_session_stored_again_is_not_written_again(tmp_path: Path) -> None:
    store = SessionStore(FileStore(tmp_path), refresh=60)
    await store.set("a", b"data", expires_in=1800)
    written = disk_files(tmp_path)
    assert len(written) == 1
    for _ in range(5):
        await store.set("a", b"data", expires_in=1800)  # what every response does
    assert disk_files(tmp_path) == written
    assert await store.get("a") == b"data"


async def test_changed_contents_and_a_stale_expiry_reach_the_disk(tmp_path: Path) -> None:
    store = SessionStore(FileStore(tmp_path), refresh=0)
    await store.set("a", b"one", expires_in=1800)
    await store.set("a", b"two", expires_in=1800)
    assert await FileStore(tmp_path).get("a") == b"two"
    await store.set("a", b"two", expires_in=3600)  # the expiry moved on by more than `refresh`
    await store.flush()  # written in the background
    seconds = await FileStore(tmp_path).expires_in("a")
    assert seconds is not None and seconds > 3000


async def test_a_new_process_reads_sessions_back_from_disk(tmp_path: Path) -> None:
    await SessionStore(FileStore(tmp_path)).set("a", b"data", expires_in=1800)
    restarted = SessionStore(FileStore(tmp_path))
    assert await restarted.get("a") == b"data"
    seconds = await restarted.expires_in("a")
    assert seconds is not None and 1700 < seconds <= 1800
    assert await restarted.get("nobody") is None


async def test_an_ended_session_cannot_be_stored_again(tmp_path: Path) -> None:
    store = SessionStore(FileStore(tmp_path))
    await store.set("a", b"data", expires_in=1800)
    await store.delete("a")
    await store.set("a", b"data", expires_in=1800)  # a slow request that began before sign-out answers
    assert await store.get("a") is None
    assert await SessionStore(FileStore(tmp_path)).get("a") is None


async def test_expired_sessions_are_gone_from_memory_and_disk(tmp_path: Path) -> None:
    store = SessionStore(FileStore(tmp_path))
    await store.set("a", b"data", expires_in=1)
    await store.set("b", b"data", expires_in=1800)
    await asyncio.sleep(1.1)
    await store.delete_expired()
    assert len(disk_files(tmp_path)) == 1
    assert await store.get("a") is None
    assert await FileStore(tmp_path).get("b") == b"data"


async def test_signed_in_people_stay_signed_in_across_a_restart(site: Site, settings: Settings) -> None:
    person = await site.as_user("out")
    assert (await person.get("/")).status_code == 200
    restarted = create_app(settings)
    async with AsyncTestClient(app=restarted) as client:
        again = Browser(client)
        again.jar = person.jar
        assert (await again.get("/")).status_code == 200
        await again.post("/sign-out")
        assert (await again.get("/")).status_code == 303
    assert await FileStore(settings.sessions_dir).get(person.jar.get("session") or "") is None, "gone from disk"
