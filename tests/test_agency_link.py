"""The signed link in a professional's e-mail: no account, no session; opening it stores nothing, pressing its button
acknowledges once (audited with no actor), and a link that is reused, expired, altered or for a cancelled handover is
refused with its own message."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from service import actions, db
from service.actions.telling import _LINK_SALT
from service.core import telling as rules
from service.db import telling as store
from tests.conftest import Browser, Site
from tests.helpers import CHECKLISTS, actor
from tests.telling_support import v4_handover

pytestmark = pytest.mark.anyio


async def emailed_link(site: Site, state: str = "endorsed") -> tuple[int, int, str]:
    """A handover whose GP was e-mailed by the service: its id, the contact's id and the link's token."""
    handover_id = await v4_handover(site.db, site.world, state)
    contact = next(c for c in await store.agency_contacts_of(site.db.reader, handover_id) if c.email)
    out = await actor(site.db, site.world, "out")
    await actions.email_agency(site.db, CHECKLISTS, out, handover_id, contact.id)
    rows = await site.db.reader.execute_fetchall("SELECT body_text FROM outbox ORDER BY id DESC LIMIT 1")
    found = re.search(r"/agency-acknowledgements/(\S+)", rows[0][0])
    assert found
    return handover_id, contact.id, found.group(1)


async def everything(site: Site) -> dict[str, Any]:
    """What the database holds that the link could change: every row of each table a request might write."""
    tables = ["audit_log", "agency_contacts", "family_notices", "outbox", "handovers", "notifications"]
    return {table: await site.db.reader.execute_fetchall(f"SELECT * FROM {table}") for table in tables}


async def acknowledgements(site: Site) -> list[Any]:
    return list(
        await site.db.reader.execute_fetchall(
            "SELECT actor_id, details FROM audit_log WHERE action = 'agency_acknowledged'"
        )
    )


async def press(site: Site, token: str, browser: Browser | None = None) -> Any:
    """Open the link and press its button, as the professional does (the form's CSRF token from the page's cookie)."""
    browser = browser or Browser(site.client)
    opened = await browser.get(f"/agency-acknowledgements/{token}")
    return opened, await browser.request(
        "POST", f"/agency-acknowledgements/{token}", data={"_csrf_token": browser.csrf}
    )


async def test_the_link_shows_the_reference_only_and_opening_it_stores_nothing(site: Site) -> None:
    handover_id, _, token = await emailed_link(site)
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    before = await everything(site)
    professional = Browser(site.client)
    for _ in range(2):  # a mail scanner opens it first, then the person
        page = await professional.get(f"/agency-acknowledgements/{token}")
        assert page.status_code == 200
    text = unescape(page.text)
    assert rules.LINK_HEADING in text
    assert handover.case_reference in text and "Rec" in text and handover.receiving_team in text
    assert handover.child_name not in text and "2016-05-05" not in text, "no child's name or birth date"
    assert await everything(site) == before, "opening the link stores nothing"
    assert professional.jar.get("session") is None, "no session for someone without an account"


async def test_the_button_acknowledges_once_with_one_audit_entry_and_no_actor(site: Site) -> None:
    handover_id, contact_id, token = await emailed_link(site)
    _, pressed = await press(site, token)
    assert pressed.status_code == 200
    assert rules.LINK_THANKS in unescape(pressed.text)
    contact = await store.agency_contact(site.db.reader, handover_id, contact_id)
    assert contact is not None and contact.acknowledged_at is not None and contact.acknowledged_how == "link"
    entries = await acknowledgements(site)
    assert len(entries) == 1 and entries[0][0] is None
    out = await site.as_user("out")
    status = re.search(rf'id="contact-{contact_id}".*?app-contact-status[^>]*>(.*?)<', (await out.get(
        f"/handovers/{handover_id}/telling")).text, re.S)  # fmt: skip
    assert status and status.group(1).strip().startswith("Acknowledged on")

    _, again = await press(site, token)
    assert again.status_code == 410 and rules.LINK_USED in unescape(again.text)
    reopened = await Browser(site.client).get(f"/agency-acknowledgements/{token}")
    assert reopened.status_code == 410 and rules.LINK_USED in unescape(reopened.text)
    assert len(await acknowledgements(site)) == 1, "written once"


async def test_an_expired_link_is_refused(site: Site) -> None:
    _, contact_id, token = await emailed_link(site)
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE agency_contacts SET link_expires_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (contact_id,)
        )
    opened, pressed = await press(site, token)
    for response in (opened, pressed):
        assert response.status_code == 410 and rules.LINK_EXPIRED in unescape(response.text)
    assert await acknowledgements(site) == []


async def test_an_altered_link_is_not_valid(site: Site) -> None:
    _, _, token = await emailed_link(site)
    nonce = URLSafeSerializer(site.app.state.settings.secret_key, salt=_LINK_SALT).loads(token)
    one_changed = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    other_key = URLSafeSerializer("another-key-" + "y" * 32, salt=_LINK_SALT).dumps(nonce)
    other_purpose = URLSafeSerializer(site.app.state.settings.secret_key, salt="another-purpose").dumps(nonce)
    unknown_nonce = URLSafeSerializer(site.app.state.settings.secret_key, salt=_LINK_SALT).dumps("x" * 43)
    for altered in (one_changed, other_key, other_purpose, token[:-5], token.split(".")[0], unknown_nonce):
        opened, pressed = await press(site, altered)
        for response in (opened, pressed):
            assert response.status_code == 404, altered
            assert rules.LINK_NOT_VALID in unescape(response.text), altered
    assert await acknowledgements(site) == []


async def test_a_link_for_a_cancelled_handover_is_closed(site: Site) -> None:
    handover_id, _, token = await emailed_link(site)
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET state = 'cancelled' WHERE id = ?", (handover_id,))
    opened, pressed = await press(site, token)
    for response in (opened, pressed):
        assert response.status_code == 410 and rules.LINK_CLOSED in unescape(response.text)
    assert await acknowledgements(site) == []


async def test_the_button_needs_the_forms_security_token(site: Site) -> None:
    _, _, token = await emailed_link(site)
    professional = Browser(site.client)
    await professional.get(f"/agency-acknowledgements/{token}")
    response = await professional.request("POST", f"/agency-acknowledgements/{token}", data={})
    assert response.status_code == 403
    assert await acknowledgements(site) == []


async def test_a_signed_in_person_acknowledging_is_still_recorded_with_no_actor(site: Site) -> None:
    """The signature is the proof, whoever's browser presses the button: the entry never names a session's person."""
    _, _, token = await emailed_link(site)
    _, pressed = await press(site, token, await site.as_user("rec"))
    assert pressed.status_code == 200
    assert [entry[0] for entry in await acknowledgements(site)] == [None]
