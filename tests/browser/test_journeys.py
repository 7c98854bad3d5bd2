"""The whole transfer, as the five people do it in their browsers: with JavaScript, and again without it.

Outgoing worker starts and completes the handover; the sending manager endorses it; the receiving worker returns it
with a query; the outgoing worker answers and resubmits; the manager endorses again; the receiving worker confirms
every critical item in their own words and acknowledges; the receiving manager approves and the case moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_DISAGREEMENT, CASE_M_LIKE, naming_children
from service.checklist import latest
from tests.browser.conftest import Server
from tests.browser.support import Person, tell_everyone
from tests.helpers import CHECKLIST, CHECKLISTS, LATEST, complete, on_record_of, section

pytestmark = pytest.mark.browser

TODAY = date.today()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_handover_from_start_to_transfer(person: Callable[..., Person], server: Server, javascript: bool) -> None:
    child = "Mia Test" if javascript else "Liam Test"
    shots = javascript  # screenshots come from the run a person with JavaScript sees

    # 1. The outgoing worker signs in (a wrong password first), starts a handover and completes every section.
    out = person(None, javascript=javascript)
    out.goto("/sign-in")
    out.page.get_by_label("Username", exact=True).fill("out")
    out.page.get_by_label("Password", exact=True).fill("not my password")
    out.press("Sign in")
    expect(out.page.get_by_role("link", name="Enter a correct username and password")).to_be_visible()
    out.sign_in("out")
    expect(out.heading("My cases and handovers")).to_be_visible()

    out.follow(f"Start a handover for {child}")
    out.press("Start handover")  # nothing chosen: the page says what is missing
    expect(out.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    out.page.get_by_label("Which team is the case moving to?").select_option(label="Cp Team")
    if not javascript:  # the team first, then its workers; with JavaScript the list follows the team chosen
        out.press("Continue to choose a receiving worker in that team")
    out.page.get_by_label("Receiving worker, if known").select_option(label="Rec")
    out.type_in("Reason for the transfer", "Step-up to the child protection team after the strategy meeting.")
    # Mia and Liam are a sibling group: one handed over alone says why the other is not moving
    out.type_in("Why are the siblings not moving together?", "Only this child was discussed at the strategy meeting.")
    out.press("Start handover")
    expect(out.heading(f"Handover for {child}")).to_be_visible()
    task_list = out.page.url

    # The case summary starts as the case record says; saved with nothing else answered, it shows its errors.
    out.follow("Case summary")
    expect(out.page.get_by_label("Child's full name", exact=True)).to_have_value(child)
    out.press("Save and continue")
    summary = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(out.page).to_have_title(re.compile("^Error: "))
    if javascript:  # GOV.UK Frontend focuses the summary, and its links move focus to the question
        assert summary.evaluate("el => el.closest('.govuk-error-summary') === document.activeElement"), (
            out.page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        )
        summary.get_by_role("link", name="Select the child's current legal status").click()
        expect(out.page.get_by_label("Child in need", exact=True)).to_be_focused()
    if shots:
        out.screenshot("section-with-errors")
    answers = complete(
        checklist=LATEST,
        **CASE_M_LIKE,
        **CASE_M_DISAGREEMENT,
        **{"case-summary": on_record_of("mia" if javascript else "liam")},
    )
    out.fill_section(section("case-summary"), answers["case-summary"])
    out.press("Save and continue")
    expect(out.page).to_have_url(task_list)

    # Submitting before everything is done: the check page lists what is missing, each linked to its question.
    out.follow("Check answers and submit")
    out.press("Submit handover")
    problems = out.page.get_by_role("alert").filter(has_text="You cannot submit the handover yet")
    expect(problems.get_by_role("link", name="Complete the section ‘Open risks’")).to_be_visible()
    out.follow("Back to the task list")

    # the newest checklist, whose sibling harm rows choose the children of the child's sibling group
    newest = latest(CHECKLISTS, "case-transfer").for_children((("Mia Test", "T-1"), ("Liam Test", "T-2")))
    answers = naming_children(newest, answers)
    for each in [newest.section(s.id) or s for s in CHECKLIST.sections[1:]]:
        out.follow(each.title)
        if each.id == "open-risks":
            fill_open_risks(out)
        elif each.id == "cp-category":
            fill_cp_category(out)
        else:
            out.fill_section(each, answers[each.id])
        if javascript and each.id == "childs-views":
            # Autosave (htmx): after a pause the draft is saved in place, and the form's version follows it, so
            # "Save and continue" afterwards is not taken for someone else's save.
            out.page.evaluate("() => { window.__marker = 1 }")
            saved = out.page.get_by_role("status").filter(has_text=re.compile(r"^Draft saved at \d\d:\d\d$"))
            expect(saved).to_be_visible(timeout=10_000)
            assert out.page.evaluate("() => window.__marker") == 1
            out.check("section after an autosave")
        out.press("Save and continue")
        expect(out.page).to_have_url(task_list)
        status = out.page.get_by_role("listitem").filter(has=out.page.get_by_role("link", name=each.title))
        expect(status).to_contain_text("Completed")
        if shots and each.id == "cp-category":
            out.screenshot("task-list")
    expect(out.page.get_by_text(f"You have completed {len(CHECKLIST.sections)} of")).to_be_visible()

    out.follow("Check answers and submit")
    expect(out.page.get_by_text("Sexual harm by an older sibling")).to_be_visible()
    expect(out.page.get_by_text("Mother will not allow unsupervised contact between the children.")).to_be_visible()
    out.press("Submit handover")
    expect(out.heading("Handover submitted")).to_be_visible()
    waits = "It now waits for Both, Smgr or Smgr2 (managers of North Team) to endorse it."
    expect(out.page.get_by_text(waits)).to_be_visible()
    if javascript:
        assert_nothing_stored(out)

    # 2. The sending manager endorses it.
    smgr = person("smgr", javascript=javascript)
    expect(smgr.heading("Manager queue")).to_be_visible()
    smgr.follow(child, scope=smgr.page.get_by_role("table", name=re.compile("waiting for your endorsement")))
    smgr.press("Endorse: ready to transfer")
    expect(smgr.heading("Handover endorsed")).to_be_visible()

    # 3. The receiving worker returns it with a query (trying first without saying why).
    rec = person("rec", javascript=javascript)
    rec.follow("Inbox")
    rec.follow(child)
    expect(rec.heading("Review and confirm the handover")).to_be_visible()
    rec.follow("Back to the handover")
    rec.press("Return to outgoing worker")
    expect(rec.page.get_by_role("link", name=re.compile("Enter the reason"))).to_be_visible()
    query = "Please add when the transfer meeting is booked, and who will chair it."
    rec.type_in("Return to Out (outgoing worker)", query)
    rec.press("Return to outgoing worker")
    expect(rec.heading("Handover returned to the outgoing worker")).to_be_visible()
    expect(rec.page.get_by_text("It now waits for Out to answer the query")).to_be_visible()

    # ... the outgoing worker answers the query (trying first without a reply) and submits again ...
    out.follow("My handovers")
    out.follow(child, scope=out.page.get_by_role("table", name="My handovers"))
    expect(out.page.get_by_text("Rec returned this handover to you with a query")).to_be_visible()
    expect(out.page.get_by_text(query)).to_be_visible()
    out.follow("Handover arrangements")
    out.choose("Is there a transfer meeting or joint visit?", "Transfer meeting")
    out.type_date("Date of the meeting or visit", (TODAY + timedelta(days=2)).isoformat())
    out.press("Save and continue")
    out.follow("Check answers and submit")
    expect(out.page.get_by_text(query)).to_be_visible()
    out.press("Submit handover")
    missing = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(missing.get_by_role("link", name="Enter your reply to the query")).to_be_visible()
    expect(out.page).to_have_title(re.compile("^Error: "))
    if javascript:  # the summary's link moves focus to the reply's box
        missing.get_by_role("link", name="Enter your reply to the query").click()
        expect(out.page.get_by_label("Your reply to the query", exact=True)).to_be_focused()
    reply = "The transfer meeting is booked for two days from now; the receiving team's manager will chair it."
    out.type_in("Your reply to the query", reply)
    out.press("Submit handover")
    expect(out.heading("Handover submitted")).to_be_visible()

    # ... and the sending manager reads the query and the reply above the handover, and endorses it again below it.
    smgr.follow("Manager queue")
    smgr.follow(child)
    expect(smgr.heading("Query and reply", level=2)).to_be_visible()
    round_ = smgr.page.locator(".govuk-summary-card").filter(has=smgr.heading(re.compile("^Returned by Rec on "), 3))
    expect(round_).to_contain_text(query)
    expect(round_).to_contain_text(reply)
    top = [
        smgr.page.locator("#queries").bounding_box(),
        smgr.heading(CHECKLIST.sections[-1].title, 3).bounding_box(),  # the handover's last answers
        smgr.page.get_by_role("button", name="Endorse: ready to transfer").bounding_box(),
        smgr.page.get_by_label("Return to Out (outgoing worker)", exact=True).bounding_box(),
    ]
    assert all(top) and [b["y"] for b in top if b] == sorted(b["y"] for b in top if b), f"not in order: {top}"
    smgr.press("Endorse: ready to transfer")
    expect(smgr.heading("Handover endorsed")).to_be_visible()

    # 4. The receiving worker confirms every critical item in their own words, then acknowledges.
    rec.follow("Inbox")
    rec.follow(child)
    with rec.page.expect_navigation():  # confirming without ticking the box: the page asks for it
        rec.page.get_by_role("button", name=re.compile(r"^Confirm ")).first.click()
    rec.check("review with errors")
    expect(rec.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    confirmed = confirm_every_critical_item(rec)
    assert {"Open risks", "Sibling abuse history", "Parenting-capacity assessment"} <= set(confirmed)
    expect(rec.page.get_by_text("You have confirmed every critical item.")).to_be_visible()
    if shots:  # the top of the page, down to the first critical item: the page itself is very long
        rec.screenshot("receiver-confirmation", down_to=rec.page.get_by_role("region", name=re.compile("^Open risks")))
    rec.press("Acknowledge handover")
    expect(rec.heading("Handover acknowledged")).to_be_visible()

    # 5. The receiving manager approves: the case moves to the receiving worker.
    rmgr = person("rmgr", javascript=javascript)
    table = rmgr.page.get_by_role("table", name=re.compile("waiting for your approval"))
    expect(table.get_by_role("link", name=child)).to_be_visible()
    if shots:
        rmgr.screenshot("manager-queue")
    rmgr.follow(child, scope=table)
    # Case M's disagreement, written in the checklist, is tracked: approval waits until it is resolved, and
    # escalating it does not count.
    about = CASE_M_DISAGREEMENT["disagreements"]["disagreements_rows"][0]["about"]
    expect(rmgr.page.get_by_text(about).first).to_be_visible()
    expect(rmgr.page.get_by_text("1 open professional disagreement, not yet resolved")).to_be_visible()
    expect(rmgr.page.get_by_role("button", name="Approve transfer")).to_have_count(0)
    rmgr.choose("Decision", "Escalated to a higher stage")
    rmgr.choose("Stage it has been escalated to", "Escalated to managers (5 working days)")
    rmgr.type_date("Date of the escalation", TODAY.isoformat())
    rmgr.type_in("The resolution, or what the escalation asks", "Heads of both services to agree a CASP-R assessment.")
    rmgr.press("Record decision")
    rmgr.check("disagreement escalated")
    expect(rmgr.page.get_by_text("Last escalation")).to_be_visible()
    rmgr.choose("Decision", "Resolved")
    rmgr.type_in("The resolution, or what the escalation asks", "CASP-R assessment of the mother agreed by both.")
    rmgr.press("Record decision")
    # nor can it close before the family and each professional on the plan are told: the outgoing worker records it
    expect(rmgr.page.get_by_role("button", name="Approve transfer")).to_have_count(0)
    expect(rmgr.page.locator("#why-not-approve")).to_contain_text("have been told of their new worker")
    handover_id = int(task_list.rstrip("/").rsplit("/", 1)[1])
    tell_everyone(out, handover_id, TODAY.isoformat())
    rmgr.goto(f"/handovers/{handover_id}/view")
    rmgr.press("Approve transfer")
    expect(rmgr.heading("Transfer approved")).to_be_visible()
    expect(rmgr.page.get_by_text("The case is now allocated to Rec in Cp Team.")).to_be_visible()
    rmgr.follow(f"View the handover for {child}")
    expect(rmgr.page.get_by_text("Closed", exact=True)).to_be_visible()

    rec.follow("My handovers")
    expect(rec.page.get_by_role("table", name="My cases").get_by_role("rowheader", name=child)).to_be_visible()
    rec.follow("Closed handovers you received")  # closed: no longer in progress, so with her finished handovers
    received = rec.page.get_by_role("table", name="Handovers you received").get_by_role("row").filter(has_text=child)
    expect(received).to_contain_text("Closed")
    rec.follow("My handovers")
    rec.follow(f"Handover you received for {child}")  # the case she now holds links to the handover that brought it
    expect(rec.page.get_by_text("Closed", exact=True)).to_be_visible()
    if javascript:
        assert_nothing_stored(rec)


def fill_open_risks(out: Person) -> None:
    """Open risks by hand, by the labels on the page: two risks, the second added with "Add another risk"."""
    out.choose("Are there any open risks to the child?", "Yes", name="has_open_risks")
    risks = [
        ("Sexual harm by an older sibling", "Mia (10)", "Liam (17), now in foster care", "High"),
        ("Neglect of basic care at home", "Mia and her younger brother", "Their mother's low mood", "Medium"),
    ]
    for index, (what, to_whom, from_whom, rating) in enumerate(risks):
        if index:
            out.add_row("Add another risk", f"Risk {index + 1}")
        out.type_in("What is the risk?", what, index)
        out.type_in("Who is at risk?", to_whom, index)
        out.type_in("Who or what does the risk come from?", from_whom, index)
        out.choose("How serious is the risk?", rating, index)
        out.type_in("What currently reduces the risk?", "Contact with Liam is supervised by the foster carer.", index)
        out.type_in("Protective factors", "Mia trusts her teacher and has told her before.", index)
        out.type_in(
            "What should happen if the situation changes?",
            "If any unsupervised contact happens, then hold a strategy meeting the same day.",
            index,
        )
        out.type_in("Who is responsible for managing this risk?", "Allocated social worker", index)
        out.type_date("When will this risk next be reviewed?", (TODAY + timedelta(days=28)).isoformat(), index)
    # A third row added by mistake, and taken away again.
    out.add_row("Add another risk", "Risk 3")
    out.remove_row("Remove risk 3", "Risk 3")
    expect(out.page.get_by_label("What is the risk?", exact=True).nth(1)).to_have_value(risks[1][0])


def fill_cp_category(out: Person) -> None:
    """The child protection category by hand: the plan, its category, and each change of category."""
    out.choose("Does the child have a child protection plan?", "Yes", name="has_cp_plan")
    out.tick("Current category or categories", ["Neglect"])
    out.type_date("Date the current category was set", (TODAY - timedelta(days=60)).isoformat())
    out.type_in("Why did the conference decide on this category?", "Neglect of Mia's basic care at home.")
    out.choose("Has the category changed since the plan began?", "Yes", name="category_changed")
    changes = [("Sexual abuse", 200, "Liam left the home; conference changed the category to neglect.")]
    changes.append(("Physical abuse", 100, "An injury was explained; physical abuse was no longer the main concern."))
    for index, (previous, days_ago, why) in enumerate(changes):
        if index:
            out.add_row("Add another change of category", f"Change of category {index + 1}")
        out.choose("Previous category", previous, index)
        out.type_date("Date the category changed", (TODAY - timedelta(days=days_ago)).isoformat(), index)
        out.type_in("Why did the category change?", why, index)
        out.type_in(
            "What became of the risk the previous category named?",
            "The source left the home but could return; the risk is reduced, not ended.",
            index,
        )


def confirm_every_critical_item(rec: Person) -> list[str]:
    """Write a read-back in the receiver's own words and tick "I have read and understood this section", for each
    critical item."""
    confirmed = []
    while (buttons := rec.page.get_by_role("button", name=re.compile(r"^Confirm "))).count():
        title = (buttons.first.text_content() or "").strip().removeprefix("Confirm").strip()
        readback = rec.page.get_by_label(f"In your own words, what are you taking on from ‘{title}’?", exact=True)
        if readback.count():
            readback.fill(
                f"I take on '{title}': the risk from Liam to Mia, the safety plan, and what to do if it changes."
            )
        rec.question(f"Confirm ‘{title}’").get_by_label("I have read and understood this section").check()
        rec.press(f"Confirm {title}")
        expect(rec.page.get_by_text("You confirmed this").first).to_be_visible()
        confirmed.append(title)
        assert len(confirmed) < 20
    return confirmed


def assert_nothing_stored(someone: Person) -> None:
    """Nothing about a child may stay in the browser: htmx's history cache is off, and nothing else stores."""
    stored = someone.page.evaluate(
        """() => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage),
                  cache: htmx.config.historyCacheSize})"""
    )
    assert stored == {"local": [], "session": [], "cache": 0}
