"""A child of a sibling group handed over alone, as the people do it in their browsers: the start page asks why the
siblings are not moving together (said by the field when it is left empty), both managers read the reason on the
child's handover page, the group's start page names every child already in a handover, and a manager moving a
person's caseload is asked the same. Every page state reached is scanned by axe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser

WHY = "Sibling 24 stays with the current foster carers until the court hearing"
APART_LABEL = "Why are the siblings not moving together?"
MISSING = "Enter why the siblings are not moving together"


def start_alone(out: Person, case_id: int, *, javascript: bool, why: str) -> None:
    out.goto(f"/cases/{case_id}/handover")
    out.page.get_by_label("Which team is the case moving to?").select_option(label="Cp Team")
    if not javascript:
        out.press("Continue to choose a receiving worker in that team")
    expect(out.page.get_by_label("Receiving worker, if known")).to_be_visible()
    out.type_in("Reason for the transfer", "Step-up to child protection.")
    if why:
        out.type_in(APART_LABEL, why)
    out.press("Start handover")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
def test_a_sibling_handed_over_alone_says_why_to_both_managers(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    out = person("out", javascript=javascript)
    case_id = server.world.cases["c23" if not javascript else "c24"]
    sibling = "Sibling 24 (SG-24)" if not javascript else "Sibling 23 (SG-23)"
    start_alone(out, case_id, javascript=javascript, why="")
    problem = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problem.get_by_role("link", name=MISSING)).to_be_visible()
    out.check("the start page refuses a sibling handed over alone without a reason")
    out.type_in(APART_LABEL, WHY)
    out.press("Start handover")
    expect(out.heading(f"Handover for Sibling {23 if not javascript else 24}")).to_be_visible()
    handover_path = out.page.url.split("//", 1)[1].split("/", 1)[1]

    manager = person("smgr", javascript=javascript)
    manager.goto(f"/{handover_path}/view")
    expect(manager.page.get_by_role("heading", name="Children left out of this handover")).to_be_visible()
    expect(manager.page.get_by_text(WHY)).to_be_visible()
    expect(manager.page.get_by_text(sibling)).to_be_visible()
    manager.check("the child's handover page shows why the siblings are not moving together")

    if javascript:  # both children of the Apart family now have a handover in progress: the group's start names both
        out.goto(f"/cases/{case_id}/handover/group")
        out.page.get_by_label("Which team are the cases moving to?").select_option(label="Cp Team")
        out.type_in("Reason for the transfer", "Step-up to child protection.")
        out.press("Start the group’s handover")
        names = "Sibling 23 and Sibling 24 already have handovers in progress: leave them out and say why"
        expect(out.page.get_by_role("alert").get_by_role("link", name=names)).to_be_visible()
        out.check("the group's start page names every child already in a handover")


def test_a_manager_moving_a_caseload_is_asked_why_a_sibling_moves_alone(
    person: Callable[..., Person], server: Server
) -> None:
    manager = person("smgr", javascript=False)
    mover = server.world.users["mover"]
    manager.goto(f"/caseloads/{mover}")
    manager.press("Start caseload transfer")
    manager.goto(f"/caseloads/{mover}/cases/{server.world.cases['c25']}/handover")
    expect(manager.page.get_by_label(APART_LABEL)).to_be_visible()
    manager.page.get_by_label("Which team is Sibling 25’s case moving to?").select_option(label="Cp Team")
    manager.press("Continue to choose a receiving worker in that team")
    manager.type_in("Reason for the transfer", "Mo is leaving the service.")
    manager.press("Start handover")
    problem = manager.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problem.get_by_role("link", name=MISSING)).to_be_visible()
    manager.check("the caseload's start page refuses a sibling moved alone without a reason")
    manager.type_in(APART_LABEL, "Sibling 26 is moving to a residential placement in another area.")
    manager.press("Start handover")
    expect(manager.heading("Mo Mover’s caseload", level=1)).to_be_visible()
