"""Running the service: health, readiness, metrics, request ids and logs, backups, and the container's command."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from service import cli, db
from service.settings import Settings
from tests import live_service
from tests.conftest import Site
from tests.helpers import handover_in, start

pytestmark = pytest.mark.anyio


async def test_health_and_readiness_need_no_sign_in_and_are_not_audited(site: Site) -> None:
    anyone = await site.as_user(None)
    assert (await anyone.get("/healthz")).text == "ok"
    ready = await anyone.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert await db.audit_entries(site.db.reader) == []


async def test_readiness_fails_when_the_schema_is_behind(site: Site) -> None:
    async with site.db.transaction() as conn:
        await conn.execute("DELETE FROM schema_migrations WHERE version = ?", (len(db.MIGRATIONS),))
    ready = await (await site.as_user(None)).get("/readyz")
    assert ready.status_code == 503 and "schema" in ready.json()["reason"]


@pytest.mark.sqlite_only
async def test_readiness_fails_when_the_disk_has_no_room_for_the_database(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With less free space beside the database than sign-in and the audit trail need, the service says so."""
    from service.web import operations

    monkeypatch.setattr(operations, "READY_FREE_BYTES_MIN", 2**62)  # more room than any disk has
    ready = await (await site.as_user(None)).get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"].startswith("disk: ")


async def test_metrics_need_the_token(site: Site, settings: Settings) -> None:
    anyone = await site.as_user(None)
    assert (await anyone.get("/metrics")).status_code == 404, "no token configured: not served"
    site.app.state.settings = Settings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__},
                                          "metrics_token": "scrape-me-please"})  # fmt: skip
    await handover_in(site.db, site.world, "submitted", "c1")
    await anyone.get("/sign-in")
    assert (await anyone.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
    scraped = await anyone.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert scraped.status_code == 200
    assert 'handover_handovers{state="submitted"} 1' in scraped.text
    assert "handover_oldest_incomplete_working_days 0" in scraped.text
    assert 'handover_requests_total{app_name="handover",method="GET",path="/sign-in",status_code="200"}' in scraped.text


async def test_every_response_carries_a_request_id_that_is_in_the_log(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    anyone = await site.as_user(None)
    with caplog.at_level(logging.INFO, logger="handover.access"):
        response = await anyone.get("/sign-in?child=Mia+Secret", headers={"X-Request-ID": "proxy-id-12345"})
    assert response.headers["x-request-id"] == "proxy-id-12345"
    record = next(r for r in caplog.records if r.name == "handover.access")
    assert record.fields["status"] == 200 and record.fields["route"] == "/sign-in"  # type: ignore[attr-defined]
    assert "Mia" not in record.getMessage(), "query strings are never logged"
    assert record.funcName == "(unknown function)" and record.threadName is None, "nothing per line it never shows"
    forged = await anyone.get("/healthz", headers={"X-Request-ID": "bad id\r\nx"})
    assert len(forged.headers["x-request-id"]) == 32


@pytest.mark.sqlite_only
def test_backup_while_running_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", "k" * 40)
    assert cli.main(["demo"]) == 0
    live = tmp_path / "data" / "handover.db"
    reader = sqlite3.connect(live)  # an open reader, as a running service would have
    assert cli.main(["backup", str(tmp_path / "copy.db")]) == 0
    count = reader.execute("SELECT COUNT(*) FROM handovers").fetchone()[0]
    reader.execute("PRAGMA foreign_keys=OFF")
    reader.execute("DELETE FROM confirmations")
    reader.execute("DELETE FROM sections")
    reader.execute("DELETE FROM disagreements")
    reader.execute("DELETE FROM handovers")
    reader.commit()
    reader.close()
    assert cli.main(["restore", str(tmp_path / "missing.db")]) == 1
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert cli.main(["restore", str(tmp_path / "junk.db")]) == 1
    assert cli.main(["restore", str(tmp_path / "copy.db")]) == 0
    restored = sqlite3.connect(live)
    assert restored.execute("SELECT COUNT(*) FROM handovers").fetchone()[0] == count > 0
    assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored.close()
    assert cli.main(["audit", "verify"]) == 0


def test_the_container_command_starts_a_ready_service(tmp_path: Path) -> None:
    """Exactly the image's entry point and production settings: `handover serve`, then /readyz."""
    production = live_service.production(tmp_path, "p" * 48)
    missing_secret = {k: v for k, v in production(live_service.free_port()).items() if k != "HANDOVER_SECRET_KEY"}
    refused = subprocess.run([live_service.HANDOVER, "serve"], env=missing_secret,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and "HANDOVER_SECRET_KEY must be set" in refused.stderr
    log = tmp_path / "server.log"
    served = live_service.start(production, log=log)
    try:
        with urllib.request.urlopen(f"{served.base}/readyz", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ready"}
    finally:
        live_service.stop(served.process)
    output = log.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get("route") == "/readyz" and line.get("request_id") not in (None, "-") for line in lines)


async def test_demo_database_has_no_unmigrated_schema(site: Site) -> None:
    assert await db.schema_version(site.db.reader) == len(db.MIGRATIONS)
    await asyncio.sleep(0)


async def test_ping_needs_a_signed_in_person(site: Site) -> None:
    assert (await (await site.as_user(None)).get("/ping")).status_code == 303
    assert (await (await site.as_user("out")).get("/ping")).text == "pong"


async def test_errors_answered_outside_the_handlers_are_logged_as_answered_and_carry_the_id(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A body over the size limit (413), a form without its CSRF token (403) and a route that does not exist (404)
    are logged with the status the person got, and the response carries the request id."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    with caplog.at_level("INFO", logger="handover.access"):
        too_big = await out.post(url, {"views": "x" * (site.app.state.settings.max_body_bytes + 1)})
        no_token = await site.client.post(url, data={"views": "x"}, headers={"x-request-id": "no-token-123"})
        nowhere = await out.get("/no/such/page")
    for response, status in ((too_big, 413), (no_token, 403), (nowhere, 404)):
        assert response.status_code == status
        rid = response.headers["x-request-id"]
        lines = [r for r in caplog.records if r.name == "handover.access" and r.request_id == rid]
        assert [r.getMessage().rsplit(" ", 1)[1] for r in lines] == [str(status)], [r.getMessage() for r in lines]
    assert no_token.headers["x-request-id"] == "no-token-123"


async def test_an_export_that_stops_part_way_is_recorded_as_failed(site: Site) -> None:
    from service import actions
    from service.core.report import ReportFilter

    async def rows_then_a_dropped_connection() -> Any:
        yield b"reference,child\n"
        raise ConnectionResetError("the browser went away")

    settings = site.app.state.settings
    export_id = await actions.record_export(site.db, settings, None, ReportFilter(), "csv", "web")
    sent = []
    with pytest.raises(ConnectionResetError):
        async for chunk in actions.delivering(rows_then_a_dropped_connection(), site.db, None, export_id):
            sent.append(chunk)
    entries = await db.audit_entries(site.db.reader)
    assert entries[-1].entry.action == "export_failed"
    assert entries[-1].entry.details == {"export": export_id, "reason": "the browser went away"}

    auditor = await site.as_user("aud")
    assert (await auditor.get("/audit/incomplete/csv")).status_code == 200
    last = (await db.audit_entries(site.db.reader))[-2:]
    assert [e.entry.action for e in last] == ["export", "export_delivered"]


async def test_an_address_cannot_forge_a_log_line(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="handover.access"):
        await site.client.get("/nope%0A2026-11-30 INFO handover.access: POST /sign-in 200%1b[31m" + "x" * 5000)
    lines = [r.getMessage() for r in caplog.records if r.name == "handover.access"]
    assert lines and all("\n" not in line and "\x1b" not in line and len(line) < 400 for line in lines), lines


async def test_the_periodic_checkpoint_tries_again_after_the_database_refused_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint the database could not take (its lock held too long by a command) is tried again at the next
    interval: one failure does not end the signing of the chain's end until the service restarts."""
    from litestar.testing import AsyncTestClient

    from service import app as app_module
    from tests.helpers import settings_for_tests

    attempts: list[float] = []

    async def refused_once(database: db.Database, settings: Settings) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(app_module, "write_checkpoint", refused_once)
    settings = settings_for_tests(tmp_path, checkpoint_minutes=0.001)  # every 60 ms
    async with AsyncTestClient(app=app_module.create_app(settings)):
        for _ in range(100):
            if len(attempts) >= 3:
                break
            await asyncio.sleep(0.05)
    assert len(attempts) >= 3
