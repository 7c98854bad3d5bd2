"""What waits for each person, counted on the page they land on; and the handovers a receiving worker received,
listed on her dashboard after she acknowledged them and after the transfer closed."""

from __future__ import annotations

import re

import pytest

from service import actions, db
from service.core.workflow import Action
from tests.conftest import Site
from tests.helpers import CHECKLISTS, act, actor, confirm_all, handover_in

pytestmark = pytest.mark.anyio


def waiting_lines(html: str) -> list[tuple[str, str]]:
    """The "Waiting for you" section's lines, as (link, words)."""
    start = html.index('id="waiting-for-you"')
    section = re.split(r"</ul>|</p>", html[start:], maxsplit=1)[0]
    return re.findall(r'<a class="govuk-link" href="([^"]+)">([^<]+)</a>', section)


def received_rows(html: str, heading: str = "received") -> list[tuple[str, str, str]]:
    """The "Handovers you received" table's rows, as (link, child, status): on the landing page, or with `heading`
    "finished-received" on the finished handovers' page."""
    start = html.index(f'id="{heading}"')
    table = html[start : html.index("</table>", start)] if "<table" in html[start:] else ""
    return re.findall(
        r'<a class="govuk-link" href="([^"]+)">([^<]+)</a></th>.*?<strong class="govuk-tag[^"]*">([^<]+)</strong>',
        table,
        re.DOTALL,
    )


async def addressed_to_the_team(site: Site, handover_id: int) -> None:
    """As if the outgoing worker had named no receiving worker: the handover is for anyone in the cp team."""
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET receiver_id = NULL WHERE id = ?", (handover_id,))


async def test_after_approval_the_receiving_worker_finds_the_handover_she_received(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "mia")
    rec = await site.as_user("rec")
    view = f"/handovers/{handover_id}/view"

    dashboard = (await rec.get("/")).text
    assert received_rows(dashboard) == [], "closed: no longer in progress"
    finished = '<a class="govuk-link" href="/finished#finished-received">Closed handovers you received</a>'
    assert finished in dashboard
    assert received_rows((await rec.get("/finished")).text, "finished-received") == [(view, "Mia Test", "Closed")]
    mia = dashboard[dashboard.index('<th scope="row" class="govuk-table__header">Mia Test</th>') :]
    mia = mia[: mia.index("</tr>")]
    assert f'href="{view}">Handover you received<span class="govuk-visually-hidden"> for Mia Test</span>' in mia
    assert "Start a handover" in mia, "she can hand the case on in turn"
    assert (await rec.get(view)).status_code == 200


async def test_an_acknowledged_handover_stays_in_the_receivers_reach_while_it_waits_for_approval(
    site: Site,
) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rec = await site.as_user("rec")
    inbox = (await rec.get("/inbox")).text  # where her confirmation page links
    assert "Nothing is waiting for you." in inbox, "it no longer waits for her"
    assert '<a class="govuk-link" href="/#received">Handovers you received</a>' in inbox
    rows = received_rows((await rec.get("/")).text)
    assert rows == [(f"/handovers/{handover_id}/view", "Mia Test", "Waiting for receiving manager")]


async def test_a_handover_sent_back_after_it_reached_the_receiver_is_listed_and_one_that_never_did_is_not(
    site: Site,
) -> None:
    sent_back = await handover_in(site.db, site.world, "endorsed", "mia")
    view = await actions.load(site.db.reader, CHECKLISTS, sent_back)
    assert view is not None
    rec_actor = await actor(site.db, site.world, "rec")
    await actions.act(
        site.db, CHECKLISTS, rec_actor, sent_back, Action.RETURN_TO_OUTGOING, view.handover.version, "A question"
    )
    await handover_in(site.db, site.world, "returned", "liam")  # returned by the sending manager, never endorsed
    rec = await site.as_user("rec")
    rows = received_rows((await rec.get("/")).text)
    assert rows == [(f"/handovers/{sent_back}/view", "Mia Test", "Returned to outgoing worker")]


async def test_nobody_else_sees_the_handovers_a_worker_received(site: Site) -> None:
    mine = await handover_in(site.db, site.world, "closed", "mia")
    theirs = await handover_in(site.db, site.world, "endorsed", "liam")
    await addressed_to_the_team(site, theirs)
    rec2 = await site.as_user("rec2")  # takes on the handover addressed to the team
    await confirm_all(rec2, theirs)
    assert (await act(rec2, theirs, "acknowledge")).status_code == 303

    rec = await site.as_user("rec")
    closed = received_rows((await rec.get("/finished")).text, "finished-received")
    assert [row[0] for row in closed] == [f"/handovers/{mine}/view"]
    assert [row[0] for row in received_rows((await rec2.get("/")).text)] == [f"/handovers/{theirs}/view"]
    for name in ("other", "out", "out2"):
        person = await site.as_user(name)
        page = (await person.get("/")).text
        assert received_rows(page) == [], name
        assert "None of the handovers you received is still open." in page
        assert "Handover you received" not in page, "no case came to them by a handover"
        finished = (await person.get("/finished")).text
        assert received_rows(finished, "finished-received") == [], name
        assert "None of the handovers you received has closed." in finished
    for name in ("smgr", "rmgr", "aud", "adm"):
        for finished in (False, True):
            received = await actions.received_by(
                site.db.reader, await actor(site.db, site.world, name), finished=finished
            )
            assert received == ([], 0), name


async def every_kind_of_waiting(site: Site) -> None:
    """Out's handovers in every state that waits for someone: a draft and one returned to Out; two submitted; one
    endorsed to Rec and one to the cp team with no worker named; one acknowledged; and one closed."""
    for state, case in (("draft", "c1"), ("returned", "c2"), ("submitted", "c3"), ("submitted", "c4"),
                        ("endorsed", "c5"), ("endorsed", "c6"), ("acknowledged", "c7"), ("closed", "c8")):  # fmt: skip
        handover_id = await handover_in(site.db, site.world, state, case)
        if case == "c6":
            await addressed_to_the_team(site, handover_id)
    async with site.db.transaction() as conn:  # Out2 works in the north team and manages the cp team
        await db.add_membership(conn, site.world.users["out2"], site.world.teams["cp"], "manager")


COUNTS = {
    "out": db.WaitingCounts(drafts=1, returned=1),
    "out2": db.WaitingCounts(to_approve=1),
    "rec": db.WaitingCounts(to_acknowledge=2),
    "rec2": db.WaitingCounts(to_acknowledge=1),
    "other": db.WaitingCounts(),
    "smgr": db.WaitingCounts(to_endorse=2),
    "rmgr": db.WaitingCounts(to_approve=1),
    "both": db.WaitingCounts(to_endorse=2, to_approve=1),
    "omgr": db.WaitingCounts(),
    "aud": db.WaitingCounts(),
    "adm": db.WaitingCounts(),
}


async def test_each_person_is_counted_only_what_waits_for_them(site: Site) -> None:
    await every_kind_of_waiting(site)
    for name, expected in COUNTS.items():
        assert await actions.waiting_for(site.db.reader, await actor(site.db, site.world, name)) == expected, name


# (person, where they land, the lines of "Waiting for you" there)
LANDING = [
    ("out", "/", [("/#my-handovers", "1 handover returned to you with a query"),
                  ("/#my-handovers", "1 draft handover to complete and submit")]),
    ("rec", "/", [("/inbox", "2 handovers waiting for you to acknowledge")]),
    ("rec2", "/", [("/inbox", "1 handover waiting for you to acknowledge")]),
    ("out2", "/", [("/queue#to-approve", "1 handover waiting for your approval")]),
    ("smgr", "/queue", [("/queue#to-endorse", "2 handovers waiting for your endorsement")]),
    ("rmgr", "/queue", [("/queue#to-approve", "1 handover waiting for your approval")]),
    ("both", "/queue", [("/queue#to-endorse", "2 handovers waiting for your endorsement"),
                        ("/queue#to-approve", "1 handover waiting for your approval")]),
    ("other", "/", []),
    ("omgr", "/queue", []),
    ("adm", "/admin/people", []),
]  # fmt: skip


async def test_every_landing_page_counts_what_waits_for_the_person_and_links_to_it(site: Site) -> None:
    await every_kind_of_waiting(site)
    for name, landing, lines in LANDING:
        person = await site.as_user(name)
        first = await person.get("/")
        if landing != "/":
            assert (first.status_code, first.headers["location"]) == (303, landing), name
        page = (await person.get(landing)).text
        assert waiting_lines(page) == lines, name
        assert ("Nothing is waiting for you." in page) == (not lines), name


async def test_an_auditor_lands_on_the_report_with_nothing_counted_as_waiting_for_them(site: Site) -> None:
    await every_kind_of_waiting(site)
    auditor = await site.as_user("aud")
    first = await auditor.get("/")
    assert (first.status_code, first.headers["location"]) == (303, "/audit/incomplete")
    page = (await auditor.get("/audit/incomplete")).text
    assert "Incomplete handovers" in page
    assert "Waiting for you" not in page and "waiting for your" not in page
