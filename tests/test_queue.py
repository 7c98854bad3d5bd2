"""The manager queue: longest waiting first, a page at a time."""

from __future__ import annotations

import re

import pytest

from service import db
from tests.conftest import Site

pytestmark = pytest.mark.anyio


async def waiting_for_endorsement(site: Site, count: int) -> None:
    """`count` handovers from the north team, submitted one day apart: child 1 has waited longest."""
    world = site.world
    async with site.db.transaction() as conn:
        for number in range(1, count + 1):
            case_id = await db.create_case(
                conn,
                f"Q-{number}",
                f"Queued Child {number:02d}",
                "2016-05-05",
                world.users["out"],
                world.teams["north"],
            )
            handover_id = await db.create_handover(
                conn, case_id=case_id, checklist_id="case-transfer", checklist_version=1,
                author_id=world.users["out"], sending_team_id=world.teams["north"],
                receiving_team_id=world.teams["cp"], receiver_id=None, transfer_reason="Step-up",
            )  # fmt: skip
            await conn.execute(
                "UPDATE handovers SET state = 'submitted', state_since = ? WHERE id = ?",
                (f"2026-01-{number:02d}T09:00:00+00:00", handover_id),
            )


def children(html: str) -> list[str]:
    return re.findall(r"Queued Child (\d\d)", html)


async def test_a_long_queue_is_shown_a_page_at_a_time_longest_waiting_first(site: Site) -> None:
    await waiting_for_endorsement(site, 30)
    manager = await site.as_user("smgr")
    first = await manager.get("/queue")
    assert children(first.text) == [f"{n:02d}" for n in range(1, 26)]
    assert "Showing 1 to 25 of 30, longest waiting first." in first.text
    assert 'href="/queue?endorse_page=2&amp;approve_page=1#to-endorse" rel="next"' in first.text
    here = 'href="/queue?endorse_page=1&amp;approve_page=1#to-endorse" aria-label="Page 1" aria-current="page"'
    assert here in first.text
    assert 'rel="prev"' not in first.text

    second = await manager.get("/queue?endorse_page=2&approve_page=1")
    assert children(second.text) == [f"{n:02d}" for n in range(26, 31)]
    assert "Showing 26 to 30 of 30" in second.text
    assert 'href="/queue?endorse_page=1&amp;approve_page=1#to-endorse" rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    assert "No handovers are waiting for approval." in second.text


async def test_a_page_that_does_not_exist_says_so(site: Site) -> None:
    await waiting_for_endorsement(site, 3)
    manager = await site.as_user("smgr")
    assert children((await manager.get("/queue?endorse_page=nonsense")).text) == ["01", "02", "03"]
    beyond = await manager.get("/queue?endorse_page=7")
    assert beyond.status_code == 200
    assert "There is no page 7: 3 handovers are waiting." in beyond.text
    assert "Showing" not in (await manager.get("/queue")).text, "one page needs no page links"


async def test_the_queue_of_ascii_names_is_an_ascii_page(site: Site) -> None:
    """The layout's dashes are entities: one character outside ASCII makes Python hold the whole page two bytes a
    character, and join and encode it several times slower."""
    await waiting_for_endorsement(site, 3)
    manager = await site.as_user("smgr")
    page = await manager.get("/queue")
    assert children(page.text) == ["01", "02", "03"]
    assert page.content.isascii()
    assert "&ndash; Handover</title>" in page.text
