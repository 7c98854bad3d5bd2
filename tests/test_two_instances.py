"""Two instances of the service on one PostgreSQL database, as behind a load balancer: a session made on one works
on the other and a sign-out on either ends it on both; twenty identical approvals sent through both make one
transition; saves through both survive SIGKILL of one instance once acknowledged; and `handover audit verify`
finds one whole chain afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest

from service.db.postgresql import PostgresDatabase
from tests.conftest import PASSWORD, seed
from tests.helpers import LATEST, TEST_DATABASE, complete, form_for, handover_in, section
from tests.postgres_support import start_postgres
from tests.test_crash import free_port

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(TEST_DATABASE == "postgresql", reason="runs once, in the first pass, on a server of its own"),
]
SECRET = "t" * 40  # every instance signs sessions and forms with the same key


def instance_env(data: Path, url: str, port: int) -> dict[str, str]:
    return {
        **os.environ, "HANDOVER_DATA_DIR": str(data), "HANDOVER_DATABASE_URL": url, "HANDOVER_SECRET_KEY": SECRET,
        "HANDOVER_PORT": str(port), "HANDOVER_MODE": "production", "HANDOVER_COUNCIL_NAME": "Riverford City Council",
        "HANDOVER_CONTACT_EMAIL": "help@riverford.example", "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
        "HANDOVER_STATEMENT_DATE": "2026-11-20",
    }  # fmt: skip


def start_instance(data: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    data.mkdir(exist_ok=True)  # each instance a folder of its own: nothing may depend on a shared local disk
    return subprocess.Popen(
        [Path(sys.executable).with_name("handover"), "serve"], env=instance_env(data, url, port),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def wait_ready(base: str, seconds: float = 90) -> None:
    """Until the instance answers ready (a loaded machine, running the other pass beside this one, is slow to start
    two instances with their connections)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(int(seconds / 0.1)):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


async def signed_in(client: httpx.AsyncClient, username: str) -> str:
    await client.get("/sign-in")
    token = client.cookies["csrftoken"]
    response = await client.post("/sign-in", data={"_csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return token


async def test_two_instances_share_one_database(tmp_path: Path) -> None:
    server = start_postgres(tmp_path / "postgresql")
    instances: list[subprocess.Popen[bytes]] = []
    try:
        url = server.create_database("handover")
        database = PostgresDatabase(url)
        await database.open()
        world = await seed(database)
        to_approve = await handover_in(database, world, "acknowledged", "c1")
        drafts = [await handover_in(database, world, "draft", f"c{n}") for n in range(2, 6)]
        await database.close()

        ports = [free_port(), free_port()]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        instances = [start_instance(tmp_path / f"instance-{n}", url, port) for n, port in enumerate(ports)]
        await asyncio.gather(*(wait_ready(base) for base in bases))

        # a session made on one instance works on the other; signing out on that one ends it on both
        async with httpx.AsyncClient(base_url=bases[0], timeout=60) as first:
            token = await signed_in(first, "rmgr")
            assert (await first.get("/ping")).text == "pong", "signed in"
            async with httpx.AsyncClient(base_url=bases[1], cookies=first.cookies, timeout=60) as second:
                assert (await second.get("/ping")).text == "pong", "signed in on the other instance too"

                # twenty identical approvals, ten through each instance at once: one transition
                handover = await _handover_version(url, to_approve)
                approvals = [
                    (first if n % 2 else second).post(
                        f"/handovers/{to_approve}/approve", data={"_csrf_token": token, "handover_version": handover}
                    )
                    for n in range(20)
                ]
                statuses = [response.status_code for response in await asyncio.gather(*approvals)]
                assert statuses.count(303) == 1, statuses
                assert set(statuses) <= {303, 409}, statuses

                await second.post("/sign-out", data={"_csrf_token": token})
                ended = await first.get("/ping")
                assert ended.status_code in (302, 303, 401) and ended.text != "pong", "signed out on both"

        # sign-ins and saves through both instances at once; then one instance is killed mid-load
        acknowledged: dict[int, tuple[int, str]] = {}
        stop = asyncio.Event()
        writers = [
            asyncio.create_task(_save_repeatedly(bases[n % 2], handover_id, acknowledged, stop))
            for n, handover_id in enumerate(drafts)
        ]
        await asyncio.sleep(3)
        os.kill(instances[0].pid, signal.SIGKILL)
        await asyncio.sleep(1)  # the other instance goes on serving its writers
        stop.set()
        await asyncio.gather(*writers)
        assert sum(version - 1 for version, _ in acknowledged.values()) > 4, "the load ran long enough to mean much"

        with psycopg.connect(url) as conn:
            closed = conn.execute("SELECT state FROM handovers WHERE id = %s", (to_approve,)).fetchone()
            assert closed is not None and closed[0] == "closed"
            approvals_logged = conn.execute(
                "SELECT COUNT(*) FROM audit_log WHERE object_id = %s AND action = 'approve'", (to_approve,)
            ).fetchone()
            assert approvals_logged == (1,), "one approval in the audit trail"
            for handover_id, (version, text) in acknowledged.items():
                row = conn.execute(
                    "SELECT version, answers FROM sections WHERE handover_id = %s AND section_id = 'childs-views'",
                    (handover_id,),
                ).fetchone()
                assert row is not None and row[0] >= version, "an acknowledged save was lost"
                if row[0] == version:
                    assert text in row[1]

        verify = subprocess.run(
            [Path(sys.executable).with_name("handover"), "audit", "verify"],
            env=instance_env(tmp_path / "instance-1", url, ports[1]), capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "intact" in verify.stdout
    finally:
        for instance in instances:
            if instance.poll() is None:
                instance.terminate()
                instance.wait(timeout=20)
        server.stop()


async def _handover_version(url: str, handover_id: int) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM handovers WHERE id = %s", (handover_id,)).fetchone()
    assert row is not None
    return str(row[0])


async def _save_repeatedly(
    base: str, handover_id: int, acknowledged: dict[int, tuple[int, str]], stop: asyncio.Event
) -> None:
    """Sign in, then save one section over and over, remembering each save the instance acknowledged (303)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = await signed_in(client, "out")
        version, n = 1, 0
        while not stop.is_set():
            n += 1
            text = f"write {n} for handover {handover_id}"
            form = form_for(
                section("childs-views", LATEST), complete(checklist=LATEST)["childs-views"], version=version
            )
            try:
                response = await client.post(
                    f"/handovers/{handover_id}/sections/childs-views",
                    data={"_csrf_token": token, **form, "views": text},
                )
            except httpx.TransportError:
                return  # the instance died mid-request: this save was never acknowledged
            if response.status_code != 303:
                return
            version += 1
            acknowledged[handover_id] = (version, text)
