"""A manager's notifications: the list with its unread count in the header, opening one (which marks it read and goes
to the handover), marking them all read, and choosing a daily summary, without JavaScript and then with it. Every page
state reached is scanned by axe."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from service import db
from service.core import notifications as rules
from service.db import notifications as store
from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser

# Nobody else's browser test signs in as this manager of the sending team, who may open the draft of case c20.
MANAGER = "smgr2"
MESSAGES = ("The handover for Robin Vale is waiting for your endorsement", "The handover for Robin Vale is overdue by "
            "2 working days (endorsement by the sending team's manager)")  # fmt: skip


def tell(server: Server) -> None:
    """Two notifications for the manager about c20's handover, written while the service runs."""

    async def write() -> None:
        async with db.SqliteDatabase(server.data_dir / "handover.db").opened() as database:
            (row,) = await database.reader.execute_fetchall(
                "SELECT id FROM handovers WHERE case_id = ?", (server.world.cases["c20"],)
            )
            async with database.transaction() as conn:
                for kind, message in zip(("submitted", "overdue"), MESSAGES, strict=True):
                    await store.add_notification(
                        conn, user_id=server.world.users[MANAGER], handover_id=int(row[0]), kind=kind,
                        message=message, now=db.now(),
                    )  # fmt: skip

    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API runs an event loop in this thread
        pool.submit(asyncio.run, write()).result()


@pytest.mark.parametrize("javascript", [False, True], ids=["without JavaScript", "with JavaScript"])
def test_a_manager_reads_their_notifications_and_chooses_a_daily_summary(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    tell(server)
    manager = person(MANAGER, javascript=javascript)
    manager.goto("/notifications")
    expect(manager.heading("Notifications")).to_be_visible()
    expect(manager.page.get_by_role("link", name=re.compile(r"^Notifications \(\d+ unread\)$"))).to_be_visible()
    expect(manager.page.get_by_text("Unread", exact=True).first).to_be_visible()

    newest = manager.page.get_by_role("table").get_by_role("row").nth(1)  # after the header row: newest first
    expect(newest).to_contain_text("Unread")
    manager.press(MESSAGES[1], scope=newest)
    expect(manager.page).to_have_url(re.compile(r"/handovers/\d+/view$"))

    manager.goto("/notifications")
    manager.press("Mark all as read")
    expect(manager.flash()).to_contain_text(rules.DONE["read"])
    expect(manager.page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(manager.page.get_by_role("button", name="Mark all as read")).to_have_count(0)

    manager.follow("Choose how you get emails about notifications")
    expect(manager.heading("How do you want to get emails about notifications?")).to_be_visible()
    chosen = "digest" if javascript else "each"
    manager.choose("How do you want to get emails about notifications?", rules.DELIVERY_CHOICES[chosen])
    manager.press("Save")
    expect(manager.flash()).to_contain_text(rules.DONE["settings"])
