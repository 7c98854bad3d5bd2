"""Telling the family and the professionals, in a real browser with and without JavaScript: the outgoing worker
submits a version 4 handover listing two professionals, records the family told by letter, e-mails one professional
and (later) records the other told by phone; the receiving worker confirms and acknowledges; the receiving manager
first finds approval refused while a professional is still to be told, then approves and the transfer closes. The
professional's signed link too. Every page state is scanned by axe."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from service import db
from service.core import telling as rules
from service.core.clock import today
from tests.browser.conftest import Server
from tests.browser.support import Person
from tests.browser.test_journeys import confirm_every_critical_item
from tests.telling_support import GP, SCHOOL, v4_handover

pytestmark = pytest.mark.browser


def _in_database(server: Server, work: Callable[[db.Database], Any]) -> Any:
    """Run `work` against the running service's database (in a thread of its own: Playwright holds this one's loop)."""

    async def run() -> Any:
        database = db.SqliteDatabase(server.data_dir / "handover.db")
        await database.open()
        try:
            return await work(database)
        finally:
            await database.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _deliver(server: Server, handover_id: int) -> None:
    """The outbox's e-mails to this handover's professionals delivered, as `service.mail` records a delivery."""
    from service.db import outbox as outbox_store
    from service.db import telling as telling_store

    async def deliver(database: db.Database) -> None:
        for contact in await telling_store.agency_contacts_of(database.reader, handover_id):
            if contact.outbox_id is not None and contact.email_sent_at is None:
                async with database.transaction() as conn:
                    await outbox_store.mark_sent(conn, contact.outbox_id, db.now())

    _in_database(server, deliver)


def _written_v4_handover(server: Server, reference: str, child: str) -> int:
    """A case of out's of its own, and out's version 4 handover of it to rec, every section written, not submitted;
    its network lists a GP with an e-mail address and a school without one."""

    async def make(database: db.Database) -> int:
        async with database.transaction() as conn:
            server.world.cases[reference] = await db.create_case(
                conn, reference, child, "2016-05-05", server.world.users["out"], server.world.teams["north"]
            )
        return await v4_handover(database, server.world, "draft", reference, contacts=[GP, SCHOOL])

    return int(_in_database(server, make))


def _link_token(server: Server, handover_id: int) -> str:
    async def read(database: db.Database) -> str:
        rows = await database.reader.execute_fetchall(
            "SELECT o.body_text FROM agency_contacts ac JOIN outbox o ON o.id = ac.outbox_id WHERE ac.handover_id = ?",
            (handover_id,),
        )
        return str(rows[0][0]).split("/agency-acknowledgements/")[1].split()[0]

    return str(_in_database(server, read))


def _status_of(person: Person, name: str) -> str:
    row = person.page.locator("tr.app-contact").filter(has_text=name)
    return (row.locator(".app-contact-status").text_content() or "").strip()


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_the_family_and_two_professionals_are_told_and_the_transfer_closes(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    reference = f"TELL-{'J' if javascript else 'N'}"
    child = f"Telling {'Js' if javascript else 'Nojs'}"
    handover_id = _written_v4_handover(server, reference, child)
    on = today()

    # 1. The outgoing worker submits; the professionals are then on the "Who has been told" page.
    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/telling")
    expect(out.page.get_by_text(rules.NOT_SUBMITTED)).to_be_visible()
    out.goto(f"/handovers/{handover_id}/check")
    out.press("Submit handover")
    out.goto(f"/handovers/{handover_id}/view")
    out.follow("Who has been told")
    expect(out.heading("Who has been told")).to_be_visible()
    assert _status_of(out, "Dr Asha Khan") == "Not yet told"
    assert _status_of(out, "Tom Reed") == "Not yet told"

    # 2. The family told by letter: sent empty first, the form comes back with each message by its field.
    out.press("Record who was told")
    summary = out.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link")).to_have_count(3)
    expect(out.page.locator("#told-error")).to_be_visible()
    out.type_in("Who was told?", "Ms Ashford (mother)")
    out.choose("How were they told?", "Letter")
    out.type_date("When were they told?", on.isoformat())
    out.press("Record who was told")
    expect(out.flash()).to_contain_text(rules.RECORDED["family-told"])
    expect(out.page.locator(".app-family-notice")).to_contain_text("Ms Ashford (mother), told by letter")

    # 3. The GP is e-mailed by the service; the school (no address) waits.
    out.press("Send e-mail to Dr Asha Khan")
    expect(out.flash()).to_contain_text(rules.RECORDED["emailed"])
    assert _status_of(out, "Dr Asha Khan").startswith(("E-mail waiting to be sent", "E-mailed on"))

    # 4. The sending manager endorses; the receiving worker confirms each critical item and acknowledges.
    smgr = person("smgr", javascript=javascript)
    smgr.goto(f"/handovers/{handover_id}/view")
    smgr.press("Endorse: ready to transfer")
    rec = person("rec", javascript=javascript)
    rec.goto(f"/handovers/{handover_id}/review")
    confirmed = confirm_every_critical_item(rec)
    assert "The child's views" in confirmed, "the child's views are a critical item, read back in their own words"
    rec.press("Acknowledge handover")
    expect(rec.heading("Handover acknowledged")).to_be_visible()

    # 5. The receiving manager cannot approve yet: the school is still to be told, and the page says so.
    rmgr = person("rmgr", javascript=javascript)
    rmgr.goto(f"/handovers/{handover_id}/view")
    expect(rmgr.page.get_by_role("button", name="Approve transfer")).to_have_count(0)
    why = rmgr.page.locator("#why-not-approve")
    expect(why).to_contain_text(rules.agency_not_told("Tom Reed", "School or nursery")[1:])  # its first letter lowered
    rmgr.follow("Record who has been told", scope=why)
    expect(rmgr.heading("Who has been told")).to_be_visible()

    # 6. The outgoing worker records the school told by phone.
    out.goto(f"/handovers/{handover_id}/telling")
    out.follow(re.compile(r"^Record how they were told \(Tom Reed\)"))
    out.press("Record how they were told")  # empty: the messages by the fields
    expect(out.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    out.choose("How were they told of the new worker?", "Phone call")
    out.type_date("When were they told?", on.isoformat())
    out.press("Record how they were told")
    expect(out.flash()).to_contain_text(rules.RECORDED["agency-told"])
    assert _status_of(out, "Tom Reed") == f"Told by phone on {on.day} {on:%B %Y}"

    # 7. The service's e-mail to the GP is delivered (these tests run no mail server: the outbox is marked as the
    # sender marks it), which is when it counts as telling them; now the receiving manager approves, and it closes.
    _deliver(server, handover_id)
    out.goto(f"/handovers/{handover_id}/telling")
    assert _status_of(out, "Dr Asha Khan") == f"E-mailed on {on.day} {on:%B %Y}"
    rmgr.goto(f"/handovers/{handover_id}/view")
    expect(rmgr.page.locator("#telling")).to_contain_text(rules.telling_line(()))
    rmgr.press("Approve transfer")
    rmgr.goto(f"/handovers/{handover_id}/view")
    expect(rmgr.page.locator(".app-state-closed")).to_be_visible()


def test_the_professional_confirms_through_the_signed_link_without_an_account(
    person: Callable[..., Person], server: Server
) -> None:
    handover_id = _written_v4_handover(server, "TELL-LINK", "Telling Link")

    async def submit(database: db.Database) -> None:
        from service import actions
        from service.core.workflow import Action
        from tests.helpers import CHECKLISTS, actor

        out = await actor(database, server.world, "out")
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, view.handover.version, "")

    _in_database(server, submit)
    out = person("out", javascript=False)  # the service signs the link with its own secret: e-mailed from its page
    out.goto(f"/handovers/{handover_id}/telling")
    out.press("Send e-mail to Dr Asha Khan")
    token = _link_token(server, handover_id)
    professional = person(None, javascript=False)
    professional.goto(f"/agency-acknowledgements/{token}")
    expect(professional.heading(rules.LINK_HEADING)).to_be_visible()
    expect(professional.page.get_by_text("TELL-LINK")).to_be_visible()
    expect(professional.page.get_by_text("Telling Link")).to_have_count(0)
    professional.press("Confirm I have been told")
    expect(professional.heading("Thank you")).to_be_visible()
    professional.goto(f"/agency-acknowledgements/{token}")
    expect(professional.page.get_by_text(rules.LINK_USED)).to_be_visible()
    professional.goto(f"/agency-acknowledgements/{token[:-4]}")
    expect(professional.page.get_by_text(rules.LINK_NOT_VALID)).to_be_visible()
