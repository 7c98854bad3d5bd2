"""Crash test: the server is killed (SIGKILL) in the middle of concurrent saves; after a restart every write that was
acknowledged to a user is there, the database is intact and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from service import audit_trail, db
from tests import live_service
from tests.conftest import PASSWORD, seed
from tests.helpers import LATEST, complete, form_for, handover_in, section, settings_for_tests

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]
CLIENTS = 6
SECRET = "c" * 40


async def writer(
    base: str, handover_id: int, acknowledged: dict[int, tuple[int, str]], ready: asyncio.Semaphore,
    stop: asyncio.Event, signing_in: asyncio.Lock,
) -> None:  # fmt: skip
    """Save one section over and over, remembering each save the server confirmed (a 303 to the handover).

    The writers sign in one at a time: the same username's sign-ins sent at once would each take one of the five
    attempts the throttle allows, as guesses would."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        async with signing_in:
            await client.get("/sign-in")
            token = client.cookies["csrftoken"]
            signed_in = await client.post(
                "/sign-in", data={"_csrf_token": token, "username": "out", "password": PASSWORD}
            )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/", "signed in"
        ready.release()
        version, n = 1, 0
        url = f"/handovers/{handover_id}/sections/childs-views"
        while not stop.is_set():
            n += 1
            text = f"write {n} for handover {handover_id}"
            form = form_for(
                section("childs-views", LATEST), complete(checklist=LATEST)["childs-views"], version=version
            ) | {"views": text}
            try:
                response = await client.post(url, data={"_csrf_token": token, **form})
            except httpx.TransportError:
                return  # the server died mid-request: this write was never acknowledged
            if response.status_code != 303 or response.headers["location"] != f"/handovers/{handover_id}":
                return
            version += 1
            acknowledged[handover_id] = (version, text)


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path, secret_key=SECRET)
    database = db.Database.for_settings(settings)
    await database.open()
    world = await seed(database)
    handover_ids = [await handover_in(database, world, "draft", f"c{n}") for n in range(1, CLIENTS + 1)]
    await database.close()

    production = live_service.production(tmp_path, SECRET)
    served = await live_service.started(production)
    server, base = served.process, served.base
    acknowledged: dict[int, tuple[int, str]] = {}
    try:
        stop, ready, signing_in = asyncio.Event(), asyncio.Semaphore(0), asyncio.Lock()
        tasks = [asyncio.create_task(writer(base, h, acknowledged, ready, stop, signing_in)) for h in handover_ids]
        for _ in handover_ids:  # everyone signed in: the load is on
            await ready.acquire()
        await asyncio.sleep(2.5)
        os.kill(server.pid, signal.SIGKILL)  # mid-load, no warning
        stop.set()
        await asyncio.gather(*tasks)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    acknowledged_count = sum(version - 1 for version, _ in acknowledged.values())
    assert acknowledged_count > 20, "the load ran long enough to mean something"

    restarted = await live_service.started(production)  # its start recovers the file
    live_service.stop(restarted.process)
    conn = sqlite3.connect(settings.database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = 0
    for handover_id, (version, text) in acknowledged.items():
        stored_version, answers = conn.execute(
            "SELECT version, answers FROM sections WHERE handover_id = ? AND section_id = 'childs-views'",
            (handover_id,),
        ).fetchone()
        assert stored_version >= version, "an acknowledged write was lost"
        if stored_version == version:
            assert text in answers
        found += 1
    saves = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'save_section' AND details LIKE "
                         "'%childs-views%' AND json_extract(details, '$.new_version') > 1").fetchone()[0]  # fmt: skip
    conn.close()
    assert saves >= acknowledged_count, "every acknowledged save has its audit entry"
    checked, problems = await audit_trail.verify(settings)
    assert problems == [] and checked > 0
    print(f"crash test: {acknowledged_count} writes acknowledged before SIGKILL, {saves} found after restart "
          f"across {found} handovers; integrity ok; audit chain of {checked} entries verifies")  # fmt: skip
