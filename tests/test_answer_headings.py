"""A section's groups of answers ("Professionals involved") and each group's rows ("Professional 1") are headed one
level below the section they are in, on every page that shows a handover's answers: check your answers, the review,
the handover's page, its print, and a sibling group's check page. WCAG 2.2 1.3.1 (Info and Relationships): a group
headed at its section's own level reads, to a screen reader's list of headings, as a section of its own."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Site
from tests.group_support import fill_group, member_ids, start_group
from tests.helpers import CHECKLIST, handover_in

pytestmark = pytest.mark.anyio

HEADING = re.compile(r"<h([1-6])([^>]*)>(.*?)</h\1>", re.S)
SECTION_ID = re.compile(r'id="(section|heading)-')  # each page's heading of a section has the section's id
GROUP_TITLES = {group.title: group.row_label for section in CHECKLIST.sections for group in section.groups}


def _headings(page: str) -> list[tuple[int, bool, str]]:
    """Each heading: its level, whether it is a section's, its text."""
    return [
        (int(level), bool(SECTION_ID.search(attributes)), re.sub(r"<[^>]+>", "", text).strip())
        for level, attributes, text in HEADING.findall(page)
    ]


def _misplaced(page: str) -> tuple[int, list[str]]:
    """How many group headings the page has, and each one not one level below its section's heading (or a row's not
    one below its group's)."""
    wrong, groups = [], 0
    section_level = group_level = None
    for level, is_section, text in _headings(page):
        if is_section:
            section_level, group_level = level, None
        elif text in GROUP_TITLES:
            groups += 1
            group_level = level
            if section_level is None or level != section_level + 1:
                wrong.append(f"h{level} {text} under h{section_level}")
        elif group_level is not None and re.fullmatch(r".+ \d+", text) and level != group_level + 1:
            wrong.append(f"h{level} {text} under h{group_level}")
    return groups, wrong


@pytest.mark.parametrize(
    ("state", "who", "page"),
    [
        ("draft", "out", "check"),
        ("endorsed", "rec", "review"),
        ("endorsed", "rec", "view"),
        ("endorsed", "rec", "print"),
    ],
)
async def test_a_handovers_groups_of_answers_are_headed_below_their_section(
    site: Site, state: str, who: str, page: str
) -> None:
    handover_id = await handover_in(site.db, site.world, state, "mia")
    shown = await (await site.as_user(who)).get(f"/handovers/{handover_id}/{page}")
    assert shown.status_code == 200, shown.status_code
    groups, wrong = _misplaced(shown.text)
    assert groups >= 3 and not wrong, (groups, wrong)


async def test_a_sibling_groups_check_page_heads_them_below_their_section(site: Site) -> None:
    group_id = await start_group(site.db, site.world)
    await fill_group(site.db, site.world, group_id)
    assert await member_ids(site.db, group_id)
    shown = await (await site.as_user("out")).get(f"/groups/{group_id}/check")
    groups, wrong = _misplaced(shown.text)
    assert groups >= 3 and not wrong, (groups, wrong)
