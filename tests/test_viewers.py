"""Who has viewed a handover: read from the audit trail, newest first, with who, their role, when (the time in
England) and which page; for the managers of both teams and auditors only (anyone else is told there is no such
page), and linked from the handover for them alone."""

from __future__ import annotations

import html
import re

import pytest

from service import db
from service.core import case_records
from tests.conftest import Site
from tests.helpers import handover_in

pytestmark = pytest.mark.anyio

# Who may see the page, by the handover's state: the receiving side sees the handover (and so this page) only once
# it has been endorsed to them; workers never see it, nor people of other teams, nor an administrator as such.
MATRIX = {
    "submitted": {"smgr": 200, "smgr2": 200, "both": 200, "aud": 200, "rmgr": 404, "out": 404, "rec": 404,
                  "other": 404, "omgr": 404, "adm": 404},
    "endorsed": {"smgr": 200, "rmgr": 200, "rmgr2": 200, "both": 200, "aud": 200, "out": 404, "out2": 404,
                 "rec": 404, "rec2": 404, "other": 404, "omgr": 404, "adm": 404},
    "closed": {"smgr": 200, "rmgr": 200, "aud": 200, "out": 404, "rec": 404, "omgr": 404},
}  # fmt: skip


@pytest.mark.parametrize("state", list(MATRIX))
async def test_only_both_teams_managers_and_auditors_see_who_has_viewed(site: Site, state: str) -> None:
    handover_id = await handover_in(site.db, site.world, state, "c1")
    for username, status in MATRIX[state].items():
        person = await site.as_user(username)
        response = await person.get(f"/handovers/{handover_id}/viewers")
        assert response.status_code == status, (state, username, response.status_code)
        page = await person.get(f"/handovers/{handover_id}/view")
        link = f'href="/handovers/{handover_id}/viewers"' in page.text
        assert link == (status == 200), (state, username, "the link is there exactly for those who may follow it")


async def test_signed_out_the_page_asks_for_sign_in(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "c1")
    anyone = await site.as_user(None)
    response = await anyone.get(f"/handovers/{handover_id}/viewers")
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


async def test_a_handover_that_does_not_exist_is_404(site: Site) -> None:
    aud = await site.as_user("aud")
    assert (await aud.get("/handovers/99999/viewers")).status_code == 404


def rows_of(text: str) -> list[list[str]]:
    body = text.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


async def test_the_page_lists_views_and_steps_newest_first_with_role_and_time_in_england(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "c1")
    rec = await site.as_user("rec")
    assert (await rec.get(f"/handovers/{handover_id}/review")).status_code == 200
    aud = await site.as_user("aud")
    assert (await aud.get(f"/handovers/{handover_id}/view")).status_code == 200
    smgr = await site.as_user("smgr")
    rows = rows_of((await smgr.get(f"/handovers/{handover_id}/viewers")).text)
    entries = [e.entry for e in await db.audit_entries(site.db.reader) if e.entry.object_id == handover_id
               and e.entry.object_type == "handover"]  # fmt: skip
    assert len(rows) == len(entries), "every view and every step, one row each"
    newest = entries[-1]
    assert rows[0] == ["Smgr", "Sending team manager", case_records.time_in_england(newest.at),
                       "Viewed: Who has viewed this handover"]  # fmt: skip
    assert rows[1][:2] == ["Aud", "Auditor"] and rows[1][3] == "Viewed: The handover"
    assert rows[2][:2] == ["Rec", "Receiving team social worker"]
    assert rows[2][3] == "Viewed: " + case_records.PAGE_NAMES["review"]
    steps = [row[3] for row in rows[3:]]
    assert steps[0].startswith("Endorsed it as ready to transfer") and steps[-1] == "Started the handover"
    assert all(row[1] == "Sending team social worker" for row in rows if row[0] == "Out")


async def test_a_time_is_shown_as_the_clock_in_england_read_it() -> None:
    assert case_records.time_in_england("2026-07-01T11:05:00+00:00") == "1 July 2026 at 12:05pm"  # summer time
    assert case_records.time_in_england("2026-12-01T00:30:00+00:00") == "1 December 2026 at 12:30am"


async def test_a_section_page_is_named_by_its_title(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    out = await site.as_user("out")
    assert (await out.get(f"/handovers/{handover_id}/sections/case-summary")).status_code == 200
    smgr = await site.as_user("smgr")
    rows = rows_of((await smgr.get(f"/handovers/{handover_id}/viewers")).text)
    assert rows[1][3].startswith("Viewed: Section: ") and "case-summary" not in rows[1][3]
