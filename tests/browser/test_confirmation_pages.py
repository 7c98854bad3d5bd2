"""One handover through submit, endorse, acknowledge and approve in real browsers, with JavaScript and without: each
step lands on its confirmation page (what happened, whom it waits on now, the way back to the person's work); the
receiver who acknowledges too soon is linked to each item to confirm; the long handover page has a contents list and
"Back to top" links. Every page reached is scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE
from tests.browser.conftest import Server
from tests.browser.support import Client, Person, tell_everyone
from tests.browser.test_journeys import confirm_every_critical_item
from tests.helpers import LATEST, complete, on_record_of

pytestmark = pytest.mark.browser


def landed(someone: Person, handover_id: int, button: str, title: str, child: str, next_step: str, work: str) -> None:
    """On the confirmation page of this step: the panel, what happens next, and the links on from it."""
    expect(someone.page).to_have_url(re.compile(rf"/handovers/{handover_id}/done/{button}$"))
    panel = someone.page.locator(".govuk-panel")
    expect(panel.get_by_role("heading", level=1)).to_have_text(title)
    expect(panel).to_contain_text(child)
    expect(someone.heading("What happens next", level=2)).to_be_visible()
    expect(someone.page.get_by_text(next_step)).to_be_visible()
    expect(someone.page.get_by_role("link", name=work, exact=True)).to_be_visible()
    expect(someone.page.get_by_role("link", name=f"View the handover for {child}", exact=True)).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_each_step_lands_on_its_confirmation_page(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    world = server.world
    case = "c4" if javascript else "c6"
    child = on_record_of(case)["child_name"]
    client = Client(server.url, "out")
    handover_id = client.start(world.cases[case], world.teams["cp"], world.users["rec"])
    for section_id, answers in complete(
        checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of(case)}
    ).items():
        client.save(handover_id, section_id, answers)
    client.close()

    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/check")
    out.press("Submit handover")
    landed(out, handover_id, "submit", "Handover submitted", child,
           "It now waits for Both, Smgr or Smgr2 (managers of North Team) to endorse it.",
           "Go to your cases and handovers")  # fmt: skip
    out.follow("Go to your cases and handovers")
    expect(out.heading("My cases and handovers")).to_be_visible()

    # The sending manager's long page: a contents list whose links reach each section, and "Back to top".
    smgr = person("smgr", javascript=javascript)
    smgr.goto(f"/handovers/{handover_id}/view")
    contents = smgr.page.get_by_role("navigation", name="Contents")
    expect(contents.get_by_role("link", name="Open risks")).to_be_visible()
    if javascript:  # the README's pictures are of what a person with JavaScript sees
        smgr.screenshot("handover-contents", down_to=contents)
    expect(contents).to_contain_text("Open risks (Completed)")
    contents.get_by_role("link", name="Open risks").click()
    expect(smgr.page).to_have_url(re.compile("#section-open-risks$"))
    back = smgr.page.get_by_role("link", name="Back to top").first
    back.focus()  # a plain link: reached and followed from the keyboard
    smgr.page.keyboard.press("Enter")
    expect(smgr.page).to_have_url(re.compile("#main-content$"))
    smgr.press("Endorse: ready to transfer")
    landed(smgr, handover_id, "endorse", "Handover endorsed", child, "It now waits for Rec to take the case on.",
           "Go to the manager queue")  # fmt: skip
    if javascript:
        smgr.screenshot("confirmation-page")

    # The receiving worker acknowledges too soon: each item still to confirm links to its place on the review page.
    rec = person("rec", javascript=javascript)
    rec.goto(f"/handovers/{handover_id}/review")
    rec.press("Acknowledge handover")
    expect(rec.heading("This cannot be done yet")).to_be_visible()
    if javascript:
        rec.screenshot("cannot-be-done-yet")
    rec.follow("Confirm ‘Open risks’")
    expect(rec.page).to_have_url(re.compile(rf"/handovers/{handover_id}/review#item-open-risks$"))
    confirm_every_critical_item(rec)
    rec.press("Acknowledge handover")
    landed(rec, handover_id, "acknowledge", "Handover acknowledged", child,
           "It now waits for Both, Rmgr or Rmgr2 (managers of Cp Team) to approve the transfer.",
           "Go to your inbox")  # fmt: skip

    tell_everyone(person("out", javascript=javascript), handover_id, date.today().isoformat())
    rmgr = person("rmgr", javascript=javascript)
    rmgr.goto(f"/handovers/{handover_id}/view")
    rmgr.press("Approve transfer")
    landed(rmgr, handover_id, "approve", "Transfer approved", child, "The case is now allocated to Rec in Cp Team.",
           "Go to the manager queue")  # fmt: skip

    # An address claiming a step this person did not take shows no panel: it is the handover's own page.
    rmgr.goto(f"/handovers/{handover_id}/done/endorse")
    expect(rmgr.heading(f"Handover for {child}")).to_be_visible()
    expect(rmgr.page.locator(".govuk-panel")).to_have_count(0)
    rmgr.follow("Back to the manager queue")
    expect(rmgr.heading("Manager queue")).to_be_visible()
