"""The worker's landing page ("My cases and handovers"): each list longer than a screenful a page at a time, each
list's page kept while the other moves; what is in progress there, and what is finished on a page of its own."""

from __future__ import annotations

import re

import pytest

from service import db
from service.web.outgoing import DASHBOARD_PAGE
from tests.conftest import Site
from tests.helpers import handover_in

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


async def finished(site: Site, count: int) -> list[int]:
    """`count` more children allocated to "out" ("Paged Child 01"…), each with a cancelled handover, child 1's the
    least recently touched; their ids in that order."""
    await allocated(site, count, with_handovers=count)
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET state = 'cancelled' WHERE transfer_reason = 'Step-up'")
        rows = await conn.execute_fetchall(
            "SELECT h.id FROM handovers h JOIN cases c ON c.id = h.case_id WHERE c.reference LIKE 'P-%'"
            " ORDER BY h.last_activity_at"
        )
    return [int(row[0]) for row in rows]


def linked(html: str, path: str) -> bool:
    return f'href="{path}"' in html


async def test_the_landing_page_lists_what_is_in_progress_and_links_to_every_finished_handover(site: Site) -> None:
    """Closed and cancelled handovers are nobody's next step: off the landing page, and every one of them (not only
    the most recent) on the finished handovers' page, which the landing page links to from both lists."""
    cancelled = [await handover_in(site.db, site.world, "cancelled", "c1") for _ in range(11)]
    closed = await handover_in(site.db, site.world, "closed", "c2")
    draft = await handover_in(site.db, site.world, "draft", "c3")
    acknowledged = await handover_in(site.db, site.world, "acknowledged", "c4")
    out = await site.as_user("out")
    page = (await out.get("/")).text
    mine = section(page, "my-handovers")
    assert linked(mine, f"/handovers/{draft}") and linked(mine, f"/handovers/{acknowledged}")
    assert not any(linked(mine, f"/handovers/{h}") for h in [*cancelled, closed])
    assert (
        '<a class="govuk-link" href="/finished#finished-started">Closed and cancelled handovers you started</a>' in mine
    )

    listed = section((await out.get("/finished")).text, "finished-started")
    assert all(linked(listed, f"/handovers/{h}") for h in [*cancelled, closed]), "every one of the twelve"
    assert not linked(listed, f"/handovers/{draft}") and not linked(listed, f"/handovers/{acknowledged}")
    assert listed.count(">Cancelled</strong>") == 11 and listed.count(">Closed</strong>") == 1

    rec = await site.as_user("rec")
    received = section((await rec.get("/")).text, "received")
    assert linked(received, f"/handovers/{acknowledged}/view") and not linked(received, f"/handovers/{closed}/view")
    assert '<a class="govuk-link" href="/finished#finished-received">Closed handovers you received</a>' in received
    received = section((await rec.get("/finished")).text, "finished-received")
    assert linked(received, f"/handovers/{closed}/view") and not linked(received, f"/handovers/{acknowledged}/view")


async def test_each_finished_list_pages_on_its_own_most_recent_first(site: Site) -> None:
    ids = await finished(site, 30)
    out = await site.as_user("out")
    first = section((await out.get("/finished")).text, "finished-started")
    assert f"Showing 1 to {DASHBOARD_PAGE} of 30, the most recent activity first." in first
    assert paged_children(first) == list(range(30, 30 - DASHBOARD_PAGE, -1))
    assert 'href="/finished?started_page=2&amp;received_page=1#finished-started" rel="next"' in first
    second = section((await out.get("/finished?started_page=2&received_page=3")).text, "finished-started")
    assert paged_children(second) == list(range(30 - DASHBOARD_PAGE, 0, -1))
    assert 'href="/finished?started_page=1&amp;received_page=3#finished-started" rel="prev"' in second, "kept"
    assert linked(second, f"/handovers/{ids[0]}")
    beyond = (await out.get("/finished?started_page=4")).text
    assert "There is no page 4: you have 30 finished handovers you started." in section(beyond, "finished-started")
    assert "None of the handovers you received has closed." in section(beyond, "finished-received")
    assert "You have no handovers in progress." in section((await out.get("/")).text, "my-handovers")


def counts_of_lists(statements: list[str]) -> list[str]:
    return [s for s in statements if re.match(r"\s*SELECT COUNT\(\*\) FROM (cases|handovers)\b", s)]


@pytest.mark.sqlite_only
async def test_a_list_that_fits_on_its_page_is_not_counted_apart(site: Site) -> None:
    """A page shorter than a page's worth is the list's last: the rows before it and its own are all there are."""
    already = len((await db.cases_allocated_to(site.db.reader, site.world.users["out"]))[0])
    assert 0 < already < DASHBOARD_PAGE
    worker = await site.as_user("out")
    statements: list[str] = []
    site.db.reader.raw.set_trace_callback(statements.append)
    try:
        page = (await worker.get("/")).text
        assert section(page, "my-cases").count('<tr class="govuk-table__row">') == already + 1
        assert counts_of_lists(statements) == []
        await allocated(site, DASHBOARD_PAGE)  # now more cases than a page holds
        total = already + DASHBOARD_PAGE
        statements.clear()
        cases = section((await worker.get("/")).text, "my-cases")
        assert len(counts_of_lists(statements)) == 1, "a full page may not be the last: that list is counted"
        assert f"Showing 1 to {DASHBOARD_PAGE} of {total}," in cases
        statements.clear()
        last = section((await worker.get("/?cases_page=2")).text, "my-cases")
        assert f"Showing {DASHBOARD_PAGE + 1} to {total} of {total}," in last and counts_of_lists(statements) == []
    finally:
        site.db.reader.raw.set_trace_callback(None)
    beyond = (await worker.get("/?cases_page=3")).text
    assert f"There is no page 3: you have {total} cases." in section(beyond, "my-cases"), "counted then"
