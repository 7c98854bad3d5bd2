"""The outgoing worker's GOV.UK patterns in the browser, with JavaScript and without: the start page offers only the
chosen team's workers, a change made from "check your answers" comes back to it, and a question several answers call
for is revealed under the one chosen. Every page state is scanned with axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE
from service.core.answers import SectionAnswers
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.helpers import LATEST, complete, on_record_of

pytestmark = pytest.mark.browser

BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])


def receiver_options(out: Person) -> list[str]:
    select = out.page.get_by_label("Receiving worker, if known", exact=True)
    expect(select).to_be_visible()
    return [text.strip() for text in select.locator("option").all_inner_texts()]


@BOTH
def test_the_start_page_offers_only_the_workers_of_the_team_chosen(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    out = person("out", javascript=javascript)
    out.goto(f"/cases/{server.world.cases['c9']}/handover")
    expect(out.page.get_by_label("Receiving worker, if known", exact=True)).to_have_count(0)
    out.type_in("Reason for the transfer", "Step-up after the strategy meeting.")
    team = out.page.get_by_label("Which team is the case moving to?", exact=True)
    continue_button = out.page.get_by_role("button", name="Continue to choose a receiving worker in that team")
    for name, workers in (("Cp Team", ["Rec", "Rec2"]), ("South Team", ["Other"])):
        team.select_option(label=name)
        if javascript:  # the list follows the team, in place: no "Continue", and nothing typed is lost
            expect(continue_button).to_be_hidden()
            expect(out.page.get_by_role("status")).to_contain_text(f"the workers in {name}")
        else:
            out.press("Continue to choose a receiving worker in that team")
        assert receiver_options(out) == ["Not known yet: the team will allocate", *workers]
        expect(out.page.get_by_label("Reason for the transfer", exact=True)).to_have_value(
            "Step-up after the strategy meeting."
        )
        out.check(f"start page, {name} chosen")


@BOTH
def test_a_change_from_check_answers_comes_back_to_it_and_questions_are_revealed_under_their_answer(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    world = server.world
    case = "c9" if javascript else "c10"
    client = Client(server.url, "out")
    handover_id = client.start(world.cases[case], world.teams["cp"], world.users["rec"])
    answers = complete(checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of(case)})
    answers["arrangements"] = SectionAnswers(
        values={**answers["arrangements"].values, "transfer_meeting": "joint_visit", "meeting_on": ""}
    )
    for section_id, section_answers in answers.items():
        if section_id != "arrangements":
            client.save(handover_id, section_id, section_answers)
    url = f"/handovers/{handover_id}/sections/arrangements"
    client.post(url, {"transfer_meeting": "joint_visit", "family_told": "yes", "family_told_how": "By phone.",
                      "button": "continue", "version": "0"})  # fmt: skip
    client.close()

    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/check")
    # the problem is shown under its section from the start, linked to the question
    problems = out.page.locator("#problems-arrangements")
    expect(problems.get_by_role("link", name="Enter the date of the meeting or visit")).to_be_visible()
    if javascript:  # the README's pictures are of what a person with JavaScript sees
        out.screenshot("check-answers", down_to=problems)
    out.follow("Enter the date of the meeting or visit", scope=problems)
    expect(out.page).to_have_url(re.compile(r"\?return=check#meeting_on-day$"))
    # the date is asked under the answer chosen (and, without JavaScript, under each answer that calls for it)
    joint_visit = out.page.get_by_role("radio", name="Joint visit with the family", exact=True)
    expect(joint_visit).to_be_checked()
    under_joint_visit = out.page.locator('[name="meeting_on-day"]')  # under the answer chosen: the question's own name
    under_meeting = out.page.locator('[name="meeting_on--meeting-day"]')
    if javascript:
        expect(under_joint_visit).to_be_visible()
        expect(under_meeting).to_be_hidden()
        out.choose("Is there a transfer meeting or joint visit?", "Neither")
        expect(under_joint_visit).to_be_hidden()
        expect(out.page.get_by_label("Why is there no transfer meeting or joint visit?", exact=True)).to_be_visible()
        out.choose("Is there a transfer meeting or joint visit?", "Transfer meeting")
        expect(under_meeting).to_be_visible()
        out.check("arrangements, the date revealed under 'Transfer meeting'")
        out.choose("Is there a transfer meeting or joint visit?", "Joint visit with the family")
    else:
        expect(under_joint_visit).to_be_visible()
        expect(under_meeting).to_be_visible()
    expect(under_joint_visit).to_be_visible()
    for box, value in (("day", "3"), ("month", "2"), ("year", "2026")):
        out.page.locator(f'[name="meeting_on-{box}"]').fill(value)
    out.press("Save and continue")
    expect(out.heading("Check your answers before submitting")).to_be_visible()
    expect(out.page.locator("#problems-arrangements")).to_have_count(0)
    expect(out.page.get_by_text("3 February 2026", exact=True).first).to_be_visible()

    # each answer has its own Change link, and saving comes back here
    out.follow("Change What have the child and their siblings said?")
    expect(out.heading("The child's views")).to_be_visible()
    out.type_in("What have the child and their siblings said?", "Mia says she feels safe at her nan's house.")
    out.press("Save and continue")
    expect(out.heading("Check your answers before submitting")).to_be_visible()
    expect(out.page.get_by_text("Mia says she feels safe at her nan's house.")).to_be_visible()
