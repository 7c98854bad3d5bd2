"""The report of incomplete handovers takes the screen's width: it fits a 1280 pixel wide screen without sideways
scrolling, is wider than GOV.UK's 960 pixels there with the blockers column wider, lines up with the header, and
names the child in its Child column."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Client, Person

pytestmark = pytest.mark.browser


def test_the_report_fills_1280_pixels_and_lines_up_with_the_header(
    person: Callable[..., Person], server: Server
) -> None:
    world = server.world
    client = Client(server.url, "out")
    client.start(world.cases["c12"], world.teams["cp"])  # a draft with no receiving worker: the longest blockers
    client.close()

    aud = person("aud")
    aud.page.set_viewport_size({"width": 1280, "height": 800})
    aud.goto("/audit/incomplete")
    expect(aud.heading("Incomplete handovers")).to_be_visible()
    report = aud.page.get_by_role("table", name=re.compile("^Page 1 of"))
    row = report.get_by_role("row").filter(has_text="C-12")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_contain_text("Child 12")

    region = aud.page.get_by_role("region", name=re.compile("^Incomplete handovers table"))
    widths = region.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], f"the report scrolls sideways at 1280px: {widths[0]}px in {widths[1]}px"
    assert aud.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    header = aud.page.locator(".govuk-generic-header__container").bounding_box()
    body = aud.page.locator("#main-content").bounding_box()
    heading = aud.heading("Incomplete handovers").bounding_box()
    table = region.bounding_box()
    assert header and body and heading and table
    assert body["x"] == header["x"] and body["width"] == header["width"], (header, body)
    assert heading["x"] == table["x"] == header["x"], (header, heading, table)
    assert table["width"] > 1100, f"the report uses the screen's width, not 960px: {table['width']}px"
    # the blockers get the room they need to read as a list (in GOV.UK's width they had 220 pixels)
    blockers = report.get_by_role("columnheader", name="Blockers").bounding_box()
    assert blockers and blockers["width"] >= 300, blockers
    aud.check("the report at 1280px")
