"""The oversight page and the two lists behind its figures, in a real browser with and without JavaScript, checked by
axe: its charts are SVG images named by their title and summary, beside tables holding the same numbers. The pages
read on a 375 pixel screen without scrolling sideways, each team's closure times fit a 960 pixel page and A4 paper,
and the lists' back links are inside a landmark."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import AXE_JS, Person

pytestmark = pytest.mark.browser


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def add_closed_and_returned(server: Server) -> None:
    """Two handovers closed this month or last and one returned with a query, written straight into the running
    service's database (in WAL mode a second connection may write beside it): the page's figures are read fresh.
    Written once for the whole package (the tests that need them may run in any order)."""
    world = server.world
    now = datetime.now(UTC)
    conn = sqlite3.connect(server.data_dir / "handover.db", isolation_level=None, timeout=10)
    try:
        if conn.execute("SELECT 1 FROM cases WHERE reference = 'OV-1'").fetchone():
            return
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


# Every box on the page that reaches past the right edge of the window, outside a region that scrolls on its own
OVERFLOWING = """() => {
  const edge = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > edge + 0.5 && !el.closest('.app-table-scroll'))
    .slice(0, 5).map((el) => `${el.tagName}.${el.className}#${el.id} ${el.getBoundingClientRect().right}px`);
}"""


def _first_list_with_rows(someone: Person, table_id: str, empty: str) -> str:
    someone.page.goto("/oversight")
    return str(someone.page.locator(f"#{table_id} a").filter(has_not_text=empty).first.get_attribute("href"))


@pytest.mark.parametrize("who", ["aud", "rmgr"])
def test_the_pages_reflow_on_a_375_pixel_screen(person: Callable[..., Person], server: Server, who: str) -> None:
    add_closed_and_returned(server)
    someone = person(who)
    closed = _first_list_with_rows(someone, "table-closures", "0 closed")
    returned = _first_list_with_rows(someone, "table-returns", "0 returns")
    someone.page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/oversight", closed, returned, "/audit/incomplete"):
        someone.goto(path)
        width = someone.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide at 375px: {someone.page.evaluate(OVERFLOWING)}"
        for table in someone.page.locator("main table").all():  # a table wider than the screen scrolls in a region
            if table.evaluate("(t) => t.getBoundingClientRect().width > 345"):
                region = table.locator("xpath=ancestor::div[contains(@class, 'app-table-scroll')]")
                expect(region).to_have_attribute("role", "region")
                expect(region).to_have_attribute("tabindex", "0")
                assert region.get_attribute("aria-label")
    for chart in someone.page.locator("svg.app-chart").all() if someone.page.url.endswith("/oversight") else []:
        box = chart.bounding_box()
        assert box and box["width"] <= 345, box


def test_each_teams_closure_times_fit_a_desktop_page_and_the_paper(person: Callable[..., Person]) -> None:
    aud = person("aud")
    aud.page.set_viewport_size({"width": 1400, "height": 900})
    aud.goto("/oversight")
    teams = aud.page.locator("[id^='table-closures-team-']")
    assert teams.count() > 2
    for region in aud.page.locator(".app-table-scroll").all():  # nothing hides behind a sideways scroll at 960px
        widths = region.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1], (region.get_attribute("aria-label"), widths)
    main = aud.page.locator("#main-content").bounding_box()
    for table in teams.all():  # the last column inside the 960px page
        last = table.get_by_role("columnheader", name="90th percentile").bounding_box()
        assert main and last and last["x"] + last["width"] <= main["x"] + main["width"] + 0.5, (main, last)

    aud.page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 pixels to the inch
    aud.page.emulate_media(media="print")
    aud.page.goto("/oversight")
    expect(aud.page.locator("form.app-filters")).to_be_hidden()
    for table in aud.page.locator("main table").all():
        box = table.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 794, (table.get_attribute("id"), box)
        last = table.locator("tr").first.locator("th").last.bounding_box()
        assert last and last["x"] + last["width"] <= 794, (table.get_attribute("id"), last)
    # no link's address is printed after a figure, which would widen every cell
    after = teams.first.locator("a").first.evaluate("(a) => getComputedStyle(a, '::after').content")
    assert after in ("none", "normal"), after
    aud.page.emulate_media(media="screen")


def test_the_back_link_of_each_list_is_inside_a_landmark(person: Callable[..., Person], server: Server) -> None:
    add_closed_and_returned(server)
    rmgr = person("rmgr")
    for path in (_first_list_with_rows(rmgr, "table-closures", "0 closed"),
                 _first_list_with_rows(rmgr, "table-returns", "0 returns")):  # fmt: skip
        rmgr.goto(path)
        rmgr.page.add_script_tag(path=str(AXE_JS))
        found = rmgr.page.evaluate(
            "async () => (await axe.run(document, {runOnly: {type: 'rule', values: ['region']}})).violations"
        )
        assert found == [], (path, found)
        expect(rmgr.page.get_by_role("navigation", name="Back").get_by_role("link")).to_have_text(
            re.compile("^Back to oversight")
        )
