"""The oversight page and the two lists behind its figures, in a real browser with and without JavaScript, checked by
axe: its charts are SVG images named by their title and summary, beside tables holding the same numbers."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def add_closed_and_returned(server: Server) -> None:
    """Two handovers closed this month or last and one returned with a query, written straight into the running
    service's database (in WAL mode a second connection may write beside it): the page's figures are read fresh."""
    world = server.world
    now = datetime.now(UTC)
    conn = sqlite3.connect(server.data_dir / "handover.db", isolation_level=None, timeout=10)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for number, (started_days, closed_days) in enumerate([(30, 2), (12, 1)], start=1):
            case_id = conn.execute(
                "INSERT INTO cases (reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
                " allocated_since) VALUES (?, ?, '2016-01-01', ?, ?, ?)",
                (f"OV-{number}", f"Oversight Child {number}", world.users["rec"], world.teams["cp"], _stamp(now)),
            ).lastrowid
            started, closed = _stamp(now - timedelta(days=started_days)), _stamp(now - timedelta(days=closed_days))
            handover_id = conn.execute(
                "INSERT INTO handovers (case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
                " receiving_team_id, receiver_id, transfer_reason, started_at, state_since, last_activity_at,"
                " approved_at, approved_by) VALUES (?, 'case-transfer', 1, 'closed', ?, ?, ?, ?, 'Step-up', ?, ?, ?,"
                " ?, ?)",
                (case_id, world.users["out"], world.teams["north"], world.teams["cp"], world.users["rec"], started,
                 closed, closed, closed, world.users["rmgr"]),
            ).lastrowid  # fmt: skip
            conn.execute(
                "INSERT INTO queries (handover_id, returned_by, returned_at, query, replied_by, replied_at, reply)"
                " VALUES (?, ?, ?, 'Which school?', ?, ?, 'St Mary''s')",
                (handover_id, world.users["smgr"], started, world.users["out"], started),
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_manager_reads_the_oversight_page_and_the_lists_behind_it(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    if javascript:
        add_closed_and_returned(server)
    rmgr = person("rmgr", javascript=javascript)
    rmgr.follow("Oversight")
    expect(rmgr.heading("Oversight")).to_be_visible()
    for name in ("Transfers in progress by stage", "Working days from start to closure, by month",
                 "Returns with a query per month"):  # fmt: skip
        expect(rmgr.page.get_by_role("img", name=name)).to_be_visible()
    expect(rmgr.page.get_by_role("link", name="Oversight")).to_have_attribute("aria-current", "page")
    if javascript:
        rmgr.screenshot("oversight")

    rmgr.page.get_by_label("Team", exact=True).select_option(label="Cp Team")
    rmgr.press("Show figures")
    expect(rmgr.page.get_by_role("table", name="Cp Team: working days from start to closure by month")).to_be_visible()

    rmgr.goto("/oversight")
    closed = rmgr.page.locator("#table-closures a").filter(has_not_text="0 closed").first
    with rmgr.page.expect_navigation():
        closed.click()
    rmgr.check()
    expect(rmgr.heading(re.compile("^Handovers closed in"))).to_be_visible()
    expect(rmgr.page.get_by_role("table").get_by_role("row").filter(has_text="Oversight Child")).not_to_have_count(0)

    rmgr.goto("/oversight")
    returned = rmgr.page.locator("#table-returns a").filter(has_not_text="0 returns").first
    with rmgr.page.expect_navigation():
        returned.click()
    rmgr.check()
    expect(rmgr.heading(re.compile("^Returns with a query in"))).to_be_visible()
    rmgr.goto("/oversight/returns?month=1999-01")  # the field's message, on a page that passes axe too
    expect(rmgr.page.get_by_role("link", name="Select a month from the last 12 months")).to_be_visible()


def test_a_worker_is_not_offered_the_page(person: Callable[..., Person]) -> None:
    out = person("out", javascript=False)
    expect(out.page.get_by_role("link", name="Oversight", exact=True)).to_have_count(0)
    out.goto("/oversight")
    expect(out.heading("You do not have access to this page")).to_be_visible()
