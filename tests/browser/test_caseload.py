"""A leaver's caseload of three children in the browser: the administrator disables the leaver's account, and their
team manager starts a caseload transfer and starts each child's handover one by one, the first without JavaScript
and the others with it, writing each on the leaver's behalf. Every page state reached is scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser


def counts(manager: Person) -> dict[str, str]:
    """The caseload page's three counts, by label."""
    rows = manager.page.locator("#counts .govuk-summary-list__row")
    return {
        rows.nth(i).locator("dt").inner_text().strip(): rows.nth(i).locator("dd").inner_text().strip()
        for i in range(rows.count())
    }


def start_for(manager: Person, child: str, receiver: str | None) -> None:
    """On the caseload page: start this child's handover to the cp team (and this worker, if named)."""
    manager.follow(f"Start handover for {child}")
    expect(manager.heading("Start a handover")).to_be_visible()
    expect(manager.page.get_by_text("You will write this handover on Lee Leaver’s behalf")).to_be_visible()
    manager.page.get_by_label(f"Which team is {child}’s case moving to?").select_option(label="Cp Team")
    if not manager.javascript:
        manager.press("Continue to choose a receiving worker in that team")
    if receiver:
        manager.page.get_by_label("Receiving worker, if known").select_option(label=receiver)
    manager.page.get_by_label("Reason for the transfer").fill("The allocated worker has left the service")
    manager.press("Start handover")
    expect(manager.heading("Lee Leaver’s caseload")).to_be_visible()


def test_a_leavers_caseload_of_three_children_moves_one_by_one(person: Callable[..., Person], server: Server) -> None:
    leaver = server.world.users["leaver"]

    # The leaver leaves: their three children are held by a team manager pending transfer
    admin = person("adm")
    admin.goto(f"/admin/people/{leaver}/disable")
    admin.press("Disable account")
    expect(admin.heading("Account disabled")).to_be_visible()

    # Without JavaScript: the manager finds the caseload, starts the transfer and the first child's handover
    manager = person("smgr", javascript=False)
    manager.goto("/queue")
    manager.follow("Caseloads")
    expect(manager.heading("Caseloads")).to_be_visible()
    manager.follow(re.compile(r"^Lee Leaver\s?’s caseload$"))
    expect(manager.heading("Lee Leaver’s caseload")).to_be_visible()
    assert counts(manager) == {"Still with them": "3", "In transfer": "0", "Moved": "0"}
    expect(manager.page.get_by_text("Held by the team manager pending transfer", exact=True)).to_have_count(3)
    manager.press("Start caseload transfer")
    expect(manager.page.get_by_text(re.compile("^Started by Smgr on"))).to_be_visible()

    # a mistake first: no team chosen
    manager.follow("Start handover for Child 17")
    manager.press("Start handover")
    expect(manager.page).to_have_title(re.compile("^Error: "))
    summary = manager.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="Select the team the case is moving to")).to_be_visible()
    manager.follow("Back to Lee Leaver’s caseload")
    start_for(manager, "Child 17", "Rec")
    assert counts(manager) == {"Still with them": "2", "In transfer": "1", "Moved": "0"}

    # With JavaScript: the receiving team's workers are offered as the team is chosen
    manager_js = person("smgr")
    manager_js.goto(f"/caseloads/{leaver}")
    start_for(manager_js, "Child 18", "Rec2")
    start_for(manager_js, "Child 19", None)
    assert counts(manager_js) == {"Still with them": "0", "In transfer": "3", "Moved": "0"}
    expect(manager_js.page.get_by_role("button", name="Start caseload transfer")).to_have_count(0)

    # Each handover says the manager writes it on the leaver's behalf
    manager_js.follow(re.compile(r"^Draft\s?: handover for Child 17$"))
    expect(manager_js.heading("Handover for Child 17")).to_be_visible()
    expect(manager_js.page.get_by_text("Completed by the team manager on behalf of Lee Leaver")).to_be_visible()
    manager_js.goto(re.sub(r"^.*(/handovers/\d+).*$", r"\1/view", manager_js.page.url))
    expect(manager_js.page.get_by_text("Completed by the team manager on behalf of Lee Leaver.")).to_be_visible()

    # A worker on long-term absence (out2 holds nothing in these tests): recorded without JavaScript, ended with it
    manager.goto(f"/caseloads/{server.world.users['out2']}")
    expect(manager.page.get_by_text("You choose where each child goes; Out2 then writes each handover")).to_be_visible()
    manager.press("Record long-term absence")
    expect(manager.page.get_by_text(re.compile("Recorded by Smgr on"))).to_be_visible()
    expect(manager.page.get_by_text("Out2 cannot write their handovers")).to_be_visible()
    manager_js.goto(f"/caseloads/{server.world.users['out2']}")
    manager_js.press("Out2 is back")
    expect(manager_js.page.get_by_role("button", name="Record long-term absence")).to_be_visible()
