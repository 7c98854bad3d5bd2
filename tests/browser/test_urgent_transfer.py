"""The head of service authorises an urgent transfer in a real browser, with and without JavaScript: the form, the
form sent back with its errors, the confirmation and the handover's page after it, each scanned by axe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from service import actions, db
from service.core.workflow import URGENT_LABEL, URGENT_REASON_LABEL, URGENT_REASON_MISSING, URGENT_RECEIVER_MISSING
from tests.browser.conftest import Server
from tests.browser.support import Person
from tests.helpers import CHECKLIST, actor

pytestmark = pytest.mark.browser

REASON = "The child was placed in an emergency foster home near the receiving team tonight"


def _in_database(server: Server, work: Callable[[db.Database], Any]) -> Any:
    """Run `work` against the running service's database (in a thread of its own, as Playwright holds this one's
    event loop)."""

    async def run() -> Any:
        database = db.SqliteDatabase(server.data_dir / "handover.db")
        await database.open()
        try:
            return await work(database)
        finally:
            await database.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def head_of_service(server: Server) -> Iterator[None]:
    """Omgr is the head of service for the test; whoever held the post before holds it again after."""

    async def swap(database: db.Database, user_id: int | None) -> int | None:
        before = await db.head_of_service(database.reader)
        async with database.transaction() as conn:
            if user_id is None:
                await db.vacate_head_of_service(conn)
            else:
                await db.set_head_of_service(conn, user_id)
        return before[0] if before else None

    previous = _in_database(server, lambda database: swap(database, server.world.users["omgr"]))
    yield
    _in_database(server, lambda database: swap(database, previous))


def _draft_handover(server: Server, reference: str, child: str) -> int:
    """A case of out's of its own, and out's draft handover of it to the cp team (no worker named)."""

    async def make(database: db.Database) -> int:
        async with database.transaction() as conn:
            case_id = await db.create_case(
                conn, reference, child, "2016-05-05", server.world.users["out"], server.world.teams["north"]
            )
        out = await actor(database, server.world, "out")
        return await actions.start_handover(
            database, out, CHECKLIST, case_id=case_id, receiving_team_id=server.world.teams["cp"], receiver_id=None,
            transfer_reason="Moving to the child protection team",
        )  # fmt: skip

    return int(_in_database(server, make))


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_the_head_of_service_authorises_an_urgent_transfer(
    person: Callable[..., Person], server: Server, head_of_service: None, javascript: bool
) -> None:
    child = f"Urgent {'Js' if javascript else 'Nojs'}"
    handover_id = _draft_handover(server, f"UT-{'J' if javascript else 'N'}", child)
    head = person("omgr", javascript=javascript)
    head.goto(f"/handovers/{handover_id}/urgent")  # scanned by axe: the form
    expect(head.heading("Authorise an urgent transfer")).to_be_visible()
    expect(
        head.page.get_by_text("The case moves to the worker you choose as soon as you authorise this")
    ).to_be_visible()

    # Sent with nothing chosen: the form comes back with each message in the summary and by its field
    head.press("Authorise urgent transfer")  # scanned by axe: the form with its errors
    summary = head.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=URGENT_RECEIVER_MISSING)).to_be_visible()
    expect(summary.get_by_role("link", name=URGENT_REASON_MISSING)).to_be_visible()
    expect(head.page.locator("#reason-error")).to_contain_text(URGENT_REASON_MISSING)
    expect(head.page.locator("#receiver-error")).to_contain_text(URGENT_RECEIVER_MISSING)

    # Chosen and explained: the confirmation says where the case is now
    head.choose("Who will the case move to?", "Rec2")
    head.type_in(URGENT_REASON_LABEL, REASON)
    head.press("Authorise urgent transfer")  # scanned by axe: the confirmation
    expect(head.heading("Urgent transfer authorised")).to_be_visible()
    expect(head.page.get_by_text("The case is now allocated to Rec2 in Cp Team.")).to_be_visible()

    # The handover's page, which the head of service now follows, lists it as urgent with who, when and why
    head.follow(f"View the handover for {child}")
    expect(head.page.locator(".app-urgent-tag")).to_have_text(URGENT_LABEL)
    expect(head.page.locator("#urgent").get_by_text(REASON)).to_be_visible()
    expect(head.page.locator(".app-timeline")).to_contain_text("authorised an urgent transfer")
    expect(head.page.locator(".app-blockers li").first).to_contain_text(URGENT_LABEL)
