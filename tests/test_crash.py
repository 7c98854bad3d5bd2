"""Crash test: the server is killed (SIGKILL) in the middle of concurrent saves; after a restart every write that was
acknowledged to a user is there, the database is intact and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service import audit_trail, db
from tests.conftest import PASSWORD, seed
from tests.helpers import LATEST, complete, form_for, handover_in, section, settings_for_tests

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]
CLIENTS = 6
SECRET = "c" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HANDOVER_DATA_DIR": str(data), "HANDOVER_SECRET_KEY": SECRET, "HANDOVER_PORT": str(port),
           "HANDOVER_MODE": "production", "HANDOVER_COUNCIL_NAME": "Riverford City Council",
           "HANDOVER_CONTACT_EMAIL": "help@riverford.example",
           "HANDOVER_DPO_EMAIL": "dpo@riverford.example", "HANDOVER_STATEMENT_DATE": "2026-11-20"}  # fmt: skip
    return subprocess.Popen([Path(sys.executable).with_name("handover"), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(200):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not become ready")


async def writer(
    base: str, handover_id: int, acknowledged: dict[int, tuple[int, str]], ready: asyncio.Semaphore,
    stop: asyncio.Event,
) -> None:  # fmt: skip
    """Save one section over and over, remembering each save the server confirmed (303)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await client.get("/sign-in")
        token = client.cookies["csrftoken"]
        await client.post("/sign-in", data={"_csrf_token": token, "username": "out", "password": PASSWORD})
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
            if response.status_code != 303:
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

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    acknowledged: dict[int, tuple[int, str]] = {}
    try:
        await wait_ready(base)
        stop, ready = asyncio.Event(), asyncio.Semaphore(0)
        tasks = [asyncio.create_task(writer(base, h, acknowledged, ready, stop)) for h in handover_ids]
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

    server = start_server(tmp_path, port)
    try:
        await wait_ready(base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
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
