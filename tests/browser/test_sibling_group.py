"""A sibling group of four handed over together, from the start page to closure, as the four people do it in their
browsers: with JavaScript (the children move from North Team to Cp Team) and again without it (they move back).

The outgoing worker starts the group's handover from one child's start page (leaving a child out first without a
reason, which the page refuses by the field), answers the family's sibling harm once, naming the children of the
group, and submits the group from its check answers page; the sending manager endorses it from one child's page;
the receiving worker confirms each child's critical items (the family's once) and acknowledges the group; the
receiving manager approves, and all four children move together.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE, complete_answers, naming_children
from service.checklist import latest
from service.core.answers import ChildRecord, case_record_values
from service.core.clock import today
from tests.browser.conftest import BROWSER_FAMILY, Server
from tests.browser.support import Client, Person, tell_everyone
from tests.browser.test_journeys import confirm_every_critical_item
from tests.helpers import CHECKLISTS, form_for, version_in

pytestmark = pytest.mark.browser

REFERENCES = [f"C-{number}" for number in range(13, 17)]
FAMILY = tuple(zip(BROWSER_FAMILY, REFERENCES, strict=True))
NEWEST = latest(CHECKLISTS, "case-transfer").for_children(FAMILY)
# Who does what, by where the children are now: North Team's worker and managers, or Cp Team's.
SIDES = {
    "north": {"worker": "out", "manager": "smgr", "team": "North Team"},
    "cp": {"worker": "rec", "manager": "rmgr", "team": "Cp Team"},
}


def holder(server: Server) -> str:
    """Which side holds the four children now (the JavaScript run moves them to Cp Team, the other back)."""
    with sqlite3.connect(f"file:{server.data_dir / 'handover.db'}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT DISTINCT allocated_team_id FROM cases WHERE reference IN (?, ?, ?, ?)", REFERENCES
        ).fetchall()
    assert len(rows) == 1, "the four children are always held together"
    return "north" if rows[0][0] == server.world.teams["north"] else "cp"


def child_answers(index: int) -> dict[str, object]:
    """Every section's answers for one child of the four, restating their case record."""
    name, reference = FAMILY[index]
    child = ChildRecord(name=name, date_of_birth="2014-04-04", reference=reference,
                        siblings=tuple(sorted(pair for pair in FAMILY if pair[1] != reference)))  # fmt: skip
    summary = case_record_values(NEWEST.sections[0], child)
    return naming_children(NEWEST, complete_answers(NEWEST, today(), **CASE_M_LIKE, **{"case-summary": summary}))


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_sibling_group_of_four_from_start_to_closure(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    side = holder(server)
    other = "cp" if side == "north" else "north"
    sending, receiving = SIDES[side], SIDES[other]
    first = server.world.cases["c13"]

    # 1. The outgoing worker starts the group's handover from Ada's start page.
    out = person(sending["worker"], javascript=javascript)
    out.goto(f"/cases/{first}/handover")
    out.follow("Hand over the sibling group")
    expect(out.heading("Hand over the sibling group")).to_be_visible()
    for name, reference in FAMILY:
        expect(out.page.get_by_label(f"{name} ({reference})", exact=True)).to_be_checked()
    out.page.get_by_label(f"Dot Browser ({REFERENCES[3]})", exact=True).uncheck()
    out.page.get_by_label("Which team are the cases moving to?").select_option(label=receiving["team"])
    if not javascript:
        out.press("Continue to choose a receiving worker in that team")
    out.page.get_by_label("Receiving worker, if known").select_option(label=receiving["worker"].title())
    out.type_in("Reason for the transfer", "The family moved to the other team's area.")
    out.press("Start the group’s handover")
    problem = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problem.get_by_role("link", name="Enter why Dot Browser is not part of this handover")).to_be_visible()
    expect(out.page).to_have_title(re.compile("^Error: "))
    # Dot goes too after all: brothers and sisters move together
    out.page.get_by_label(f"Dot Browser ({REFERENCES[3]})", exact=True).check()
    out.press("Start the group’s handover")
    expect(out.heading("Handover of the sibling group")).to_be_visible()
    group_page = out.page.url
    group_id = int(group_page.rsplit("/", 1)[1])
    expect(out.page.get_by_role("heading", name="For the family")).to_be_visible()
    for name, reference in FAMILY:
        expect(out.heading(f"{name} ({reference})", level=2)).to_be_visible()

    # The family's sibling harm, once: the child harmed is Ada, of the group; the one who harmed is outside it.
    ada = child_answers(0)
    harm = ada["sibling-harm"]
    row = {key: value for key, value in harm.groups["incidents"][0].items() if key != "child_harmed_outside"}  # type: ignore[attr-defined]
    harm.groups["incidents"][0] = row | {"child_harmed": REFERENCES[0]}  # type: ignore[attr-defined]
    out.follow("Sibling abuse history")
    expect(out.page.get_by_text("what you save here is saved for every child")).to_be_visible()
    section = NEWEST.section("sibling-harm")
    assert section is not None
    out.fill_section(section, harm)  # type: ignore[arg-type]
    out.press("Save and continue")
    expect(out.page).to_have_url(group_page)

    # The rest through the same forms, over plain HTTP: the family's sections once, each child's for each child.
    handover_ids = [int(href.split("/")[2]) for href in re.findall(
        r'href="(/handovers/\d+/view)"', out.page.content())]  # fmt: skip
    client = Client(server.url, sending["worker"])
    try:
        for index, handover_id in enumerate(handover_ids):
            answers = child_answers(index)
            for each in NEWEST.sections:
                if each.id == "sibling-harm" or (each.level == "family" and index > 0):
                    continue
                url = f"/handovers/{handover_id}/sections/{each.id}"
                version = int(version_in(client.http.get(url).text, "version"))
                response = client.post(url, form_for(each, answers[each.id], version=version))  # type: ignore[arg-type]
                assert response.status_code == 303, (each.id, response.text[:2000])
    finally:
        client.close()
    out.goto(group_page)
    expect(out.page.get_by_text(f"You have completed {5 + 4 * 6} of {5 + 4 * 6} sections.")).to_be_visible()
    out.follow("Check answers and submit")
    expect(out.heading("For the family", level=2)).to_be_visible()
    expect(out.page.get_by_text(f"Ada Browser ({REFERENCES[0]})").first).to_be_visible()
    out.press("Submit the group’s handover")
    expect(out.heading("Handover submitted")).to_be_visible()

    # 2. The sending manager endorses the group from one child's page.
    manager = person(sending["manager"], javascript=javascript)
    manager.goto(f"/handovers/{handover_ids[2]}/view")
    expect(manager.page.get_by_role("link", name="handover of the Browser family sibling group")).to_be_visible()
    manager.press("Endorse: ready to transfer")
    expect(manager.heading("Handover endorsed")).to_be_visible()
    manager.goto(group_page)
    expect(manager.page.get_by_text("Awaiting acknowledgement", exact=False).first).to_be_visible()

    # 3. The receiving worker confirms each child's critical items (the family's once), then acknowledges.
    rec = person(receiving["worker"], javascript=javascript)
    for handover_id in handover_ids:
        rec.goto(f"/handovers/{handover_id}/review")
        confirm_every_critical_item(rec)
    expect(rec.page.get_by_text("You have confirmed every critical item.")).to_be_visible()
    rec.press("Acknowledge handover")
    expect(rec.heading("Handover acknowledged")).to_be_visible()

    # 4. Each child's family and professionals are told, then the receiving manager approves: all four children move
    # together.
    for handover_id in handover_ids:
        tell_everyone(out, handover_id, today().isoformat())
    approver = person(receiving["manager"], javascript=javascript)
    approver.goto(f"/handovers/{handover_ids[0]}/view")
    approver.press("Approve transfer")
    expect(approver.heading("Transfer approved")).to_be_visible()
    assert holder(server) == other
    rec.goto("/")
    cases = rec.page.get_by_role("table", name="My cases")
    for name in BROWSER_FAMILY:
        expect(cases.get_by_role("rowheader", name=name)).to_be_visible()
    rec.goto(f"/groups/{group_id}")
    expect(rec.heading("Handover of the sibling group")).to_be_visible()
