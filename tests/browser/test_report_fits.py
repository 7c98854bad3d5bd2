"""The report of incomplete handovers takes the screen's width: it fits a 1280 pixel wide screen without sideways
scrolling, is wider than GOV.UK's 960 pixels there with the blockers column wider, lines up with the header, and
names the child in its Child column. Printed, every column fits an A4 page (794 pixels), with a line saying which
filters made the list in place of the form."""

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


def test_the_report_prints_every_column_on_a4_with_the_filters_it_applies(
    person: Callable[..., Person], server: Server
) -> None:
    aud = person("aud")
    aud.page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 pixels to the inch
    aud.page.emulate_media(media="print")
    aud.goto("/audit/incomplete?state=draft&sort=newest")
    report = aud.page.get_by_role("table", name=re.compile("^Page 1 of"))
    expect(report.get_by_role("row")).not_to_have_count(1)
    box = report.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 794, f"the report is {box} on a 794px page"
    for name in ("Handover", "Child", "From", "To", "State", "Due", "Blockers", "Dates"):
        column = report.get_by_role("columnheader", name=name, exact=True).bounding_box()
        assert column and column["x"] + column["width"] <= 794, (name, column)
    for cell in report.get_by_role("row").nth(1).get_by_role("cell").all():
        cell_box = cell.bounding_box()
        assert cell_box and cell_box["x"] + cell_box["width"] <= 794, cell_box
    width = aud.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 794, width
    # no address is printed after the handover links in the table
    after = report.get_by_role("link").first.evaluate("(a) => getComputedStyle(a, '::after').content")
    assert after in ("none", "normal"), after
    # the form and the downloads are left off the paper; one line says which filters made this list
    expect(aud.page.locator("form.app-filters")).to_be_hidden()
    expect(aud.page.get_by_role("link", name="CSV (opens in Excel)")).to_be_hidden()
    applied = aud.page.locator("#filters-applied")
    expect(applied).to_be_visible()
    expect(applied).to_have_text("Filters applied: State: Draft. Sorted by: newest first.")
    aud.page.emulate_media(media="screen")
    expect(applied).to_be_hidden()
    expect(aud.page.locator("form.app-filters")).to_be_visible()
