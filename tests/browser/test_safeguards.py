"""Stale records in the browser: submission asks the outgoing worker to update each or say why not, the page says who
can take the next step, and the receiving worker sees the flags; every page state scanned with axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE
from service.core.clock import today
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.helpers import LATEST, complete, on_record_of

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_stale_records_are_explained_at_submission_and_flagged_to_the_receiver(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    world = server.world
    case = "c7" if javascript else "c8"
    client = Client(server.url, "out")
    handover_id = client.start(world.cases[case], world.teams["cp"], world.users["rec"])
    answers = complete(checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of(case)})
    answers["record-currency"].values["chronology_updated"] = (today() - timedelta(days=30)).isoformat()
    answers["record-currency"].values["assessment_date"] = (today() - timedelta(days=400)).isoformat()
    for section_id, section_answers in answers.items():
        client.save(handover_id, section_id, section_answers)
    client.close()

    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/check")
    expect(out.heading("Records not up to date", level=3)).to_be_visible()
    out.check("check answers with stale records")
    out.press("Submit handover")
    summary = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=re.compile("^The chronology was last updated"))).to_be_visible()
    out.check("stale records without reasons")
    out.page.get_by_role("textbox", name=re.compile("^The chronology was last updated")).fill(
        "Updated at the strategy meeting; the written record follows on Monday."
    )
    out.page.get_by_role("textbox", name=re.compile("^The latest assessment was completed")).fill(
        "A new assessment starts next week, after the transfer meeting."
    )
    out.press("Submit handover")
    expect(out.heading("Handover submitted")).to_be_visible()
    out.follow(re.compile("^View the handover for "))
    expect(out.page.get_by_text(re.compile("^Who can endorse it: "))).to_be_visible()
    expect(out.page.get_by_text("Updated at the strategy meeting", exact=False)).to_be_visible()
    out.check("submitted, with its flags and who can endorse it")

    smgr = person("smgr", javascript=javascript)
    smgr.goto(f"/handovers/{handover_id}/view")
    smgr.press("Endorse: ready to transfer")
    rec = person("rec", javascript=javascript)
    rec.goto(f"/handovers/{handover_id}/review")
    flags = rec.page.locator(".app-stale-records")
    expect(flags).to_contain_text("Records not up to date")
    expect(flags).to_contain_text("A new assessment starts next week")
    rec.check("review with stale records")
