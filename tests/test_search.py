"""Find a child: a search by the child's name or case reference lists exactly the handovers the person could open,
whoever they are; a search that cannot be made is named by the box; results come a page at a time."""

from __future__ import annotations

import html
import re

import pytest

from service import actions, db
from service.actions.search import find_handovers
from service.core.errors import Invalid, NotFound
from service.core.search import SEARCH_MAX, SEARCH_MISSING
from service.web import search as search_page
from tests.conftest import PEOPLE, Site
from tests.helpers import actor, handover_in

pytestmark = pytest.mark.anyio

# one handover in each state, across the seeded cases (every one from the north team to the cp team)
STATES = {
    "mia": "draft",
    "liam": "submitted",
    "c1": "returned",
    "c2": "endorsed",
    "c3": "acknowledged",
    "c4": "closed",
    "c5": "cancelled",
}


async def every_state(site: Site) -> dict[int, tuple[str, str]]:
    """Handovers in every state; by id, the child's name and case reference."""
    made = {}
    for case, state in STATES.items():
        handover_id = await handover_in(site.db, site.world, state, case)
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None
        made[handover_id] = (handover.child_name, handover.case_reference)
    return made


def searches(made: dict[int, tuple[str, str]]) -> list[str]:
    """Every piece of one to four characters of every name and reference on record, in the case it is written and
    in the other; and some that match nothing, or would match everything if taken as patterns."""
    pieces = set()
    for text in {part for pair in made.values() for part in pair}:
        for size in range(1, 5):
            for start in range(len(text) - size + 1):
                piece = text[start : start + size]
                if piece.strip():
                    pieces.update({piece, piece.upper(), piece.lower()})
    return sorted(pieces | {"%", "_", "\\", "Nobody", "T-1%", "C_1"})


def matches(text: str, name: str, reference: str) -> bool:
    wanted = text.strip().lower()
    return wanted in name.lower() or wanted in reference.lower()


async def test_the_search_lists_exactly_the_handovers_each_person_could_open(site: Site) -> None:
    """Generated over every seeded person and every piece of every name and reference: what the search lists is
    what `actions.visible_record` (the question every page asks) lets them open, and nothing else."""
    made = await every_state(site)
    texts = searches(made)
    assert len(texts) > 100
    for username in PEOPLE:
        person = await actor(site.db, site.world, username)
        may_open = set()
        for handover_id in made:
            try:
                await actions.visible_record(site.db.reader, person, handover_id)
                may_open.add(handover_id)
            except NotFound:
                pass
        for text in texts:
            found = [h.id for h in await find_handovers(site.db.reader, person, text)]
            expected = {h for h in may_open if matches(text, *made[h])}
            assert set(found) == expected, (username, text)
            assert len(found) == len(set(found)), (username, text)
    # the generated people cover every kind of seeing: nothing, some, and everything
    counts = {}
    for username in ("adm", "other", "rec", "out", "aud"):
        person = await actor(site.db, site.world, username)
        counts[username] = len(await find_handovers(site.db.reader, person, "-"))
    assert counts["adm"] == counts["other"] == 0
    assert 0 < counts["rec"] < counts["out"] <= counts["aud"] == len(made)


async def test_a_receiving_worker_finds_a_handover_only_once_it_has_reached_them(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "liam")
    rec = await site.as_user("rec")
    page = await rec.get("/search?q=liam")
    assert page.status_code == 200
    assert "0 handovers found" in page.text and "Liam Test" not in page.text.split("Find a child")[-1]
    await handover_in(site.db, site.world, "endorsed", "c2")
    page = await rec.get("/search?q=child+2")
    assert "1 handover found" in page.text and "Child 2" in page.text


async def test_managers_and_auditors_find_a_child_by_name_or_reference_in_any_letter_case(site: Site) -> None:
    made = await every_state(site)
    by_name = {name: handover_id for handover_id, (name, _) in made.items()}
    for username in ("smgr", "aud"):
        person = await site.as_user(username)
        for text in ("mia", "MIA TEST", "t-1", "  Mia  "):
            page = await person.get("/search", params={"q": text})
            assert page.status_code == 200, (username, text)
            assert f'href="/handovers/{by_name["Mia Test"]}/view"' in page.text, (username, text)
            assert "1 handover found" in page.text
        page = await person.get("/search?q=Test")  # Mia Test and Liam Test
        assert "2 handovers found" in page.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", SEARCH_MISSING),
        ("   ", SEARCH_MISSING),
        ("x" * (SEARCH_MAX + 1), f"Your search must be {SEARCH_MAX} characters or fewer"),
        ("Mia\x00", "Your search contains a hidden control character"),
        ("Mia\u202eTest", "Your search contains a hidden control character"),
        ("Mia\tTest", "Your search must be on one line"),
    ],
)
async def test_a_search_that_cannot_be_made_is_named_by_the_box(site: Site, text: str, message: str) -> None:
    aud = await site.as_user("aud")
    page = await aud.get("/search", params={"q": text})
    assert page.status_code == 400
    assert message in html.unescape(page.text)
    assert 'href="#q"' in page.text, "the error summary links to the box"
    assert 'id="q-error"' in page.text and "govuk-input--error" in page.text
    assert "<title>Error: Find a child" in page.text
    with pytest.raises(Invalid):
        await find_handovers(site.db.reader, await actor(site.db, site.world, "aud"), text)


async def test_the_empty_form_asks_without_an_error_and_is_in_everyones_menu(site: Site) -> None:
    for username in ("out", "smgr", "aud"):
        page = await (await site.as_user(username)).get("/search")
        assert page.status_code == 200
        assert "There is a problem" not in page.text
        assert re.search(r'<label class="govuk-label govuk-label--l" for="q">\s*Find a child', page.text)
        assert 'href="/search" aria-current="page"' in page.text
    assert (await (await site.as_user(None)).get("/search?q=mia")).status_code == 303, "signed in only"


async def test_results_come_a_page_at_a_time(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    await every_state(site)
    monkeypatch.setattr(search_page, "PER_PAGE", 2)
    aud = await site.as_user("aud")
    seen = []
    for number in (1, 2, 3, 4):
        page = await aud.get(f"/search?q=-&page={number}")
        assert page.status_code == 200
        assert "7 handovers found" in page.text
        assert f"page {number} of 4" in page.text
        seen += re.findall(r'href="/handovers/(\d+)/view"', page.text)
        assert ('rel="next"' in page.text) == (number < 4)
        assert ('rel="prev"' in page.text) == (number > 1)
    assert len(seen) == len(set(seen)) == 7
    past_the_end = await aud.get("/search?q=-&page=99")
    assert "page 4 of 4" in past_the_end.text


async def test_searching_writes_nothing_to_the_audit_trail_and_opening_a_result_does(site: Site) -> None:
    """Lists are not audited anywhere in the service (the queue, the report); each handover opened is."""
    handover_id = await handover_in(site.db, site.world, "endorsed", "c2")
    aud = await site.as_user("aud")
    before = await db.last_audit_entry(site.db.reader)
    await aud.get("/search?q=child")
    assert await db.last_audit_entry(site.db.reader) == before
    await aud.get(f"/handovers/{handover_id}/view")
    after = await db.last_audit_entry(site.db.reader)
    assert after is not None and after != before
