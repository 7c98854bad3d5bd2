"""The handover's page as a manager reads it: a contents list with each section's status, "Back to top" after each
part, the decision at the end; the words on it name people and sections as a practitioner knows them."""

from __future__ import annotations

import re

import pytest

from service.actions.demo import CASE_M_DISAGREEMENT
from tests.conftest import Site
from tests.helpers import CHECKLIST, act, handover_in

pytestmark = pytest.mark.anyio


def contents_of(html: str) -> str:
    found = re.search(r'<nav class="app-contents[^"]*" id="contents".*?</nav>', html, re.S)
    assert found, "no contents list"
    return found.group(0)


async def test_the_contents_list_links_every_section_with_its_status(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    page = (await (await site.as_user("rmgr")).get(f"/handovers/{handover_id}/view")).text
    contents = contents_of(page)
    assert page.index('id="contents"') < page.index('id="the-handover"'), "the contents come first"
    for section in CHECKLIST.sections:
        link = re.search(
            rf'<a class="govuk-link" href="#section-{section.id}">([^<]+)</a>\s*<span[^>]*>\(([^)]+)\)', contents
        )
        assert link, section.id
        assert link.group(1).replace("&#39;", "'") == section.title
        assert link.group(2).startswith("Completed")
        assert f'<h3 class="govuk-heading-m" id="section-{section.id}">' in page, "the link's target is the heading"
    assert "(Completed, critical item confirmed)" in contents
    assert "(1 open)" in contents
    assert "Raised by Out (written in the handover), " in page, "says where the disagreement was recorded"
    for anchor in ("#disagreements", "#history", "#decision", "#waiting-for", "#the-handover"):
        assert f'href="{anchor}"' in contents and f'id="{anchor[1:]}"' in page, anchor


async def test_a_section_not_started_or_an_item_not_confirmed_says_so_in_the_contents(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    contents = contents_of((await (await site.as_user("smgr")).get(f"/handovers/{handover_id}/view")).text)
    assert "(Completed, critical item not yet confirmed)" in contents
    draft = await handover_in(site.db, site.world, "draft", "liam", complete_it=False)
    contents = contents_of((await (await site.as_user("out")).get(f"/handovers/{draft}/view")).text)
    assert "(Not started)" in contents and "critical item" not in contents, "a draft has not reached the receiver"


async def test_each_part_ends_with_back_to_top_and_the_decision_comes_last(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    page = (await (await site.as_user("smgr")).get(f"/handovers/{handover_id}/view")).text
    back = (
        '<a class="govuk-link govuk-link--no-visited-state" href="#main-content">'
        '<span aria-hidden="true">&uarr; </span>Back to top</a>'
    )
    assert page.count(back) >= len(CHECKLIST.sections) + 2
    assert 'id="main-content"' in page
    markers = ['id="contents"', 'id="the-handover"', 'id="disagreements"', 'id="history"', 'id="decision"']
    order = [page.index(marker) for marker in [*markers, "Endorse: ready to transfer"]]
    assert order == sorted(order)
    last_section = page.index(f'id="section-{CHECKLIST.sections[-1].id}"')
    assert page.index(back, last_section) < page.index('id="disagreements"'), "back to top after each section"


async def test_a_confirmation_names_the_receiving_worker_and_when(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    page = (await (await site.as_user("rmgr")).get(f"/handovers/{handover_id}/view")).text
    assert "Confirmed by the receiving worker" not in page
    confirmed = re.findall(
        r"<strong>Confirmed by Rec</strong> \(receiving worker\) on (\d+ \w+ \d{4} at \d\d:\d\d)", page
    )
    assert confirmed, "the person and the date are named"


async def test_the_history_names_sections_by_their_titles(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    page = (await (await site.as_user("rmgr")).get(f"/handovers/{handover_id}/view")).text
    history = page[page.index('id="history"') :]
    history = history[: history.index("</ol>")]
    for section in CHECKLIST.sections:
        assert f"({section.id})" not in history
    assert "saved a section (‘Case summary’)" in history
    assert "confirmed a critical item (‘Open risks’)" in history


async def test_the_disagreement_form_and_record_say_whose_view_it_is(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    rec_side = await site.as_user("smgr")
    page = (await rec_side.get(f"/handovers/{handover_id}/view")).text
    assert ">Your view of the disagreement<" in page.replace("\n", "").replace("  ", "")
    form = {"about": "Whether the plan protects Mia.", "with_whom": "The school", "view": "Visit weekly."}
    response = await rec_side.post(f"/handovers/{handover_id}/disagreements", form)
    assert response.status_code == 303, response.text[:300]
    page = (await rec_side.get(f"/handovers/{handover_id}/view")).text
    assert "Their view" not in page
    assert re.search(r"View of Smgr\s*</dt>", page)
    assert re.search(r"Disagrees with\s*</dt>", page)


async def test_a_return_reaches_the_history_with_who_returned_it(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    smgr = await site.as_user("smgr")
    assert (await act(smgr, handover_id, "return", reason="Add the meeting date.")).status_code == 303
    page = (await smgr.get(f"/handovers/{handover_id}/view")).text
    assert "Smgr: returned it to the outgoing worker: “Add the meeting date.”" in page
