"""An administrator reads the outbox in the browser, with JavaScript and without it: from the admin navigation to
the table of e-mails, one e-mail's text opened, a held e-mail sent once more, and the next page. Every page state
reached is scanned by axe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from service import db
from service.db import outbox as store
from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser
EMAILS = 27  # more than a page (25)


async def _queue(server: Server) -> None:
    database = db.SqliteDatabase(server.data_dir / "handover.db")
    async with database.opened(), database.transaction() as conn:
        ids = [
            await store.queue_email(
                conn, user_id=None, recipient=f"outbox{i}@example.gov.uk", subject=f"Outbox e-mail {i}",
                body_text=f"A handover waits for you.\n\nOpen it: http://127.0.0.1/queue ({i})",
                body_html=f"<p>A handover waits for you. ({i})</p>", now=db.now(),
            )
            for i in range(EMAILS)
        ]  # fmt: skip
        await store.mark_failed(conn, ids[-1], next_attempt_at=db.now(), error="451 4.3.0 Mailbox busy")
        await conn.execute("UPDATE outbox SET in_doubt = 2 WHERE id = ?", (ids[-2],))
        await store.mark_sent(conn, ids[-3], db.now())


@pytest.fixture
def outbox(server: Server) -> Server:
    """E-mails of this test's own, the newest in the outbox: a page and a bit of them."""
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API may be running an event loop here
        pool.submit(asyncio.run, _queue(server)).result()
    return server


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_an_administrator_reads_the_outbox(outbox: Server, person: Callable[..., Person], javascript: bool) -> None:
    admin = person("adm", javascript=javascript)
    admin.goto("/admin/people")
    admin.follow("Outbox")
    expect(admin.heading("Outbox")).to_be_visible()
    expect(admin.page.get_by_text("No mail server is set up")).to_be_visible()
    rows = admin.page.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Retrying")
    expect(rows.nth(1)).to_contain_text("451 4.3.0 Mailbox busy")
    expect(rows.nth(2)).to_contain_text("Held")
    expect(rows.nth(3)).to_contain_text("Sent")

    body = admin.page.get_by_text("Open it: http://127.0.0.1/queue (26)")
    expect(body).to_be_hidden()
    admin.page.get_by_text(f"Outbox e-mail {EMAILS - 1}", exact=True).click()
    expect(body).to_be_visible()
    admin.check("Outbox, one e-mail open")

    held = rows.nth(2)
    admin.press("Send it once more to outbox25@example.gov.uk", scope=held)
    expect(admin.flash()).to_contain_text("The e-mail will be sent once more")
    expect(admin.page.get_by_role("row").nth(2)).to_contain_text("Retrying")

    admin.follow("Next page")
    expect(admin.page.get_by_text("Outbox e-mail 0", exact=True)).to_be_visible()
    expect(admin.page.get_by_role("link", name="Previous page")).to_be_visible()
