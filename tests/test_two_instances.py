"""Two instances of the service on one PostgreSQL database, as behind a load balancer: a session made on one works
on the other and a sign-out on either ends it on both; twenty identical approvals sent through both make one
transition; saves through both survive SIGKILL of one instance once acknowledged; and `handover audit verify`
finds one whole chain afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from service.db.postgresql import PostgresDatabase
from tests import live_service
from tests.conftest import PASSWORD, seed
from tests.helpers import LATEST, TEST_DATABASE, complete, form_for, handover_in, section
from tests.postgres_support import start_postgres

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(TEST_DATABASE == "postgresql", reason="runs once, in the first pass, on a server of its own"),
]
SECRET = "t" * 40  # every instance signs sessions and forms with the same key


def instance(data: Path, url: str) -> Callable[[int], dict[str, str]]:
    data.mkdir(exist_ok=True)  # each instance a folder of its own: nothing may depend on a shared local disk
    return live_service.production(data, SECRET, HANDOVER_DATABASE_URL=url)


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

        # a loaded machine, running the other pass beside this one, is slow to start two instances with their pools
        started = await asyncio.gather(
            *(live_service.started(instance(tmp_path / f"instance-{n}", url), seconds=90) for n in range(2)),
            return_exceptions=True,
        )
        instances = [one.process for one in started if isinstance(one, live_service.Served)]
        served = [one for one in started if isinstance(one, live_service.Served)]
        for failed in started:
            if isinstance(failed, BaseException):
                raise failed
        bases = [one.base for one in served]

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
            [live_service.HANDOVER, "audit", "verify"],
            env=instance(tmp_path / "instance-1", url)(served[1].port), capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "intact" in verify.stdout
    finally:
        for process in instances:
            live_service.stop(process)
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
            if response.status_code != 303 or response.headers["location"] != f"/handovers/{handover_id}":
                return
            version += 1
            acknowledged[handover_id] = (version, text)
