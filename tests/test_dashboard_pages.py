"""The worker's landing page ("My cases and handovers"): each list longer than a screenful a page at a time, each
list's page kept while the other moves."""

from __future__ import annotations

import re

import pytest

from service import db
from service.web.outgoing import DASHBOARD_PAGE
from tests.conftest import Site

pytestmark = pytest.mark.anyio


async def allocated(site: Site, count: int, with_handovers: int = 0) -> None:
    """`count` more children allocated to the worker "out", named "Paged Child 01"…; the first `with_handovers` of
    them each with a draft handover, child 1's the least recently touched."""
    world = site.world
    async with site.db.transaction() as conn:
        for number in range(1, count + 1):
            case_id = await db.create_case(
                conn, f"P-{number}", f"Paged Child {number:02d}", "2016-05-05", world.users["out"],
                world.teams["north"],
            )  # fmt: skip
            if number <= with_handovers:
                handover_id = await db.create_handover(
                    conn, case_id=case_id, checklist_id="case-transfer", checklist_version=1,
                    author_id=world.users["out"], sending_team_id=world.teams["north"],
                    receiving_team_id=world.teams["cp"], receiver_id=None, transfer_reason="Step-up",
                )  # fmt: skip
                await conn.execute(
                    "UPDATE handovers SET last_activity_at = ? WHERE id = ?",
                    (f"2026-01-{number:02d}T09:00:00+00:00", handover_id),
                )


def section(html: str, heading_id: str) -> str:
    """The part of the page under one list's heading, up to the next heading of its level."""
    start = html.index(f'id="{heading_id}"')
    end = html.find('<h2 class="govuk-heading-m"', start + 1)
    return html[start : end if end > 0 else len(html)]


def paged_children(html: str) -> list[int]:
    return [int(n) for n in re.findall(r">Paged Child (\d\d)<", html)]


async def test_a_long_caseload_is_listed_a_page_at_a_time_by_name(site: Site) -> None:
    already = len((await db.cases_allocated_to(site.db.reader, site.world.users["out"]))[0])
    await allocated(site, 30)
    total = already + 30
    worker = await site.as_user("out")
    first = (await worker.get("/")).text
    cases = section(first, "my-cases")
    assert cases.count('<tr class="govuk-table__row">') == DASHBOARD_PAGE + 1, "a page of rows and the head"
    assert f"Showing 1 to {DASHBOARD_PAGE} of {total}, by the child’s name." in cases
    assert 'href="/?cases_page=2&amp;handovers_page=1#my-cases" rel="next"' in cases
    assert 'rel="prev"' not in cases

    second = (await worker.get("/?cases_page=2&handovers_page=1")).text
    cases = section(second, "my-cases")
    assert f"Showing {DASHBOARD_PAGE + 1} to {total} of {total}" in cases
    assert 'href="/?cases_page=1&amp;handovers_page=1#my-cases" rel="prev"' in cases
    shown = paged_children(section(first, "my-cases")) + paged_children(cases)
    assert sorted(shown) == list(range(1, 31)), "every child once across the pages"


async def test_the_handovers_list_pages_on_its_own_most_recent_first(site: Site) -> None:
    await allocated(site, 30, with_handovers=30)
    worker = await site.as_user("out")
    page = (await worker.get("/?cases_page=2&handovers_page=2")).text
    handovers = section(page, "my-handovers")
    listed = paged_children(handovers)
    assert listed == sorted(listed, reverse=True) and listed[-1] == 1, "the least recently touched last"
    assert 'href="/?cases_page=2&amp;handovers_page=1#my-handovers" rel="prev"' in handovers, "cases stay on page 2"
    first_handovers = paged_children(section((await worker.get("/")).text, "my-handovers"))
    assert first_handovers[0] == 30 and not set(first_handovers) & set(listed)


async def test_a_handover_returned_with_a_query_heads_the_list_however_long_the_list(site: Site) -> None:
    """ "Waiting for you" says a handover came back with a query and links to the list: it must be on its first page."""
    await allocated(site, 30, with_handovers=30)
    async with site.db.transaction() as conn:  # the least recently touched of them is returned
        await conn.execute(
            "UPDATE handovers SET state = 'returned' WHERE case_id = (SELECT id FROM cases WHERE reference = 'P-1')"
        )
    worker = await site.as_user("out")
    page = (await worker.get("/")).text
    assert paged_children(section(page, "my-handovers"))[0] == 1
    assert "those returned to you first, then the most recent activity" in page


async def test_a_page_past_the_end_says_so_and_nonsense_is_the_first_page(site: Site) -> None:
    await allocated(site, 3)
    worker = await site.as_user("out")
    beyond = await worker.get("/?cases_page=9&handovers_page=2")
    assert beyond.status_code == 200
    assert re.search(r"There is no page 9: you have \d+ cases\.", section(beyond.text, "my-cases"))
    first = 'href="/?cases_page=1&amp;handovers_page=2#my-cases">Go to the first page'
    assert first in beyond.text, "the other list stays where it was"
    for nonsense in ("0", "-1", "x", "1e3", "２", ""):
        page = (await worker.get("/", params={"cases_page": nonsense})).text
        assert paged_children(section(page, "my-cases")) == [1, 2, 3]
    assert "Showing" not in (await worker.get("/")).text, "one page needs no page links"
