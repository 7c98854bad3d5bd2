"""Who has been told of the new worker, through the pages and the API: the family told (or why not), each professional
on the plan e-mailed, told another way or not told with a reason; every field's message by the field with the input
kept; who is refused; and approval refused with the state machine's own messages until everything is recorded."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from service import actions, db
from service.core import telling as rules
from service.core.clock import today
from service.core.tokens import token_hash
from service.core.workflow import SERVICE_ACCOUNT_REFUSAL
from service.db import telling as store
from tests.conftest import Browser, Site
from tests.helpers import CHECKLISTS, actor, handover_in, version_in
from tests.telling_support import GP, SCHOOL, v4_handover

pytestmark = pytest.mark.anyio

THIRD = {
    "agency": "police",
    "name": "PC Jo Bell",
    "role": "Child abuse investigation",
    "email": "jo.bell@police.example",
}
TODAY = today()
YESTERDAY = TODAY - timedelta(days=1)


async def delivered(site: Site, handover_id: int) -> None:
    """The outbox's sender delivers every e-mail to this handover's professionals (as `service.mail` marks them)."""
    from service.db import outbox as outbox_store
    from service.db import telling as telling_store

    for contact in await telling_store.agency_contacts_of(site.db.reader, handover_id):
        if contact.outbox_id is not None and contact.email_sent_at is None:
            async with site.db.transaction() as conn:
                assert await outbox_store.mark_sent(conn, contact.outbox_id, db.now())


def told_on(day: Any = YESTERDAY) -> dict[str, str]:
    return {"told_on-day": str(day.day), "told_on-month": str(day.month), "told_on-year": str(day.year)}


async def contacts_of(site: Site, handover_id: int) -> dict[str, store.AgencyContact]:
    return {c.name: c for c in await store.agency_contacts_of(site.db.reader, handover_id)}


def banner(page: str) -> list[str]:
    return re.findall(r'govuk-notification-banner__heading">(.*?)<', page)


def statuses(page: str) -> dict[str, str]:
    """Each professional's status as the table shows it, by their name."""
    rows = re.findall(r'<tr class="govuk-table__row app-contact".*?</tr>', page, re.S)
    found = {}
    for row in rows:
        cells = re.findall(r'<td class="govuk-table__cell[^"]*"[^>]*>(.*?)</td>', row, re.S)
        name = re.sub(r"<.*", "", cells[1], flags=re.S).strip()
        found[unescape(name)] = unescape(re.sub(r"\s+", " ", cells[3]).strip())
    return found


def error_summary(page: str) -> dict[str, str]:
    """The error summary's messages, by the id each links to."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.S)
    if block is None:
        return {}
    return {href: unescape(text.strip()) for href, text in re.findall(r'href="#([^"]+)">(.*?)</a>', block.group(1))}


def message_by(page: str, element_id: str) -> str:
    """The error message shown by the field whose element has this id (in its form group)."""
    at = page.find(f'id="{element_id}"')
    assert at >= 0, element_id
    group = page.rfind('class="govuk-error-message', 0, at)
    if group < 0 or 'class="govuk-fieldset"' in page[group:at] or "<form" in page[group:at]:
        return ""  # the nearest message before the field belongs to another field or form
    found = re.search(
        r'govuk-error-message"?[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</',
        page[group:at],
        re.S,
    )
    return unescape(found.group(1)) if found else ""


# ---------------------------------------------------------------- recording through the pages


async def test_the_outgoing_worker_records_the_family_told_and_the_page_says_so(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    out = await site.as_user("out")
    page = (await out.get(f"/handovers/{handover_id}/telling")).text
    assert rules.FAMILY_NOT_TOLD in page
    assert f'href="/handovers/{handover_id}/letters"' in page
    response = await out.post(
        f"/handovers/{handover_id}/telling/family", {"told": "Ms Ashford (mother)", "method": "letter", **told_on()}
    )
    assert response.status_code == 303
    page = (await out.get(response.headers["location"])).text
    assert banner(page) == [rules.RECORDED["family-told"]]
    assert f"Ms Ashford (mother), told by letter on {YESTERDAY.day} {YESTERDAY:%B %Y}" in unescape(page)
    assert "recorded by Out" in page
    assert rules.FAMILY_NOT_TOLD not in page
    notices = await store.family_notices_of(site.db.reader, handover_id)
    assert [(n.told, n.method, n.told_on) for n in notices] == [
        ("Ms Ashford (mother)", "letter", YESTERDAY.isoformat())
    ]


async def test_a_reason_the_family_is_not_told_stands_in_for_telling_them(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    smgr = await site.as_user("smgr")
    reason = "Telling the mother now would put Mia at risk before the strategy meeting."
    response = await smgr.post(f"/handovers/{handover_id}/telling/family-not-told", {"reason": reason})
    assert response.status_code == 303
    page = (await smgr.get(response.headers["location"])).text
    assert banner(page) == [rules.RECORDED["family-not-told"]]
    assert f"Not told: {reason}" in unescape(page)
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None and rules.FAMILY_NOT_TOLD not in view.facts.telling_missing


async def test_each_professional_is_emailed_told_another_way_or_not_told(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "endorsed", contacts=[GP, SCHOOL, THIRD])
    contacts = await contacts_of(site, handover_id)
    out = await site.as_user("out")
    page = (await out.get(f"/handovers/{handover_id}/telling")).text
    assert set(statuses(page).values()) == {"Not yet told"}
    assert f"/telling/agencies/{contacts['Tom Reed'].id}/email" not in page, "no address: no e-mail button"

    response = await out.post(f"/handovers/{handover_id}/telling/agencies/{contacts['Dr Asha Khan'].id}/email")
    assert response.status_code == 303 and response.headers["location"].endswith("done=emailed")
    async with site.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT recipient, subject, body_text, body_html, sent_at FROM outbox")
    assert [row[0] for row in rows] == [GP["email"]]
    _, subject, text, html, _ = rows[0]
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    for part in (subject, text, html):
        assert handover.child_name not in part, "no child's name in the e-mail"
        assert handover.case_reference in part
    assert "/agency-acknowledgements/" in text

    tom = contacts["Tom Reed"].id
    form = (await out.get(f"/handovers/{handover_id}/telling/agencies/{tom}/told")).text
    assert "How was Tom Reed told?" in form
    note = "Told the DSL at the core group; she will tell the class teacher."
    response = await out.post(
        f"/handovers/{handover_id}/telling/agencies/{tom}/told", {"method": "meeting", "note": note, **told_on()}
    )
    assert response.status_code == 303
    jo = contacts["PC Jo Bell"].id
    response = await out.post(
        f"/handovers/{handover_id}/telling/agencies/{jo}/not-told", {"reason": "No longer involved since June."}
    )
    assert response.status_code == 303
    page = (await out.get(response.headers["location"])).text
    assert banner(page) == [rules.RECORDED["agency-not-told"]]
    assert statuses(page) == {
        "Dr Asha Khan": f"E-mail waiting to be sent (queued on {today().day} {today():%B %Y}): they count as told once"
        " it is delivered",
        "Tom Reed": f"Told at a meeting on {YESTERDAY.day} {YESTERDAY:%B %Y}. Note: {note}",
        "PC Jo Bell": "Not told: No longer involved since June.",
    }
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET sent_at = ?", (db.now(),))
    assert statuses((await out.get(f"/handovers/{handover_id}/telling")).text)["Dr Asha Khan"] == (
        f"E-mailed on {today().day} {today():%B %Y}"
    )
    stored = await contacts_of(site, handover_id)
    assert (stored["Tom Reed"].told_method, stored["Tom Reed"].note) == ("meeting", note)
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None and view.facts.telling_missing == (rules.FAMILY_NOT_TOLD,)
    history = unescape((await out.get(f"/handovers/{handover_id}/view")).text).split('id="history"')[1]
    assert "e-mailed a professional on the plan about the new worker (Dr Asha Khan, GP)" in history
    assert "recorded why a professional on the plan has not been told of the new worker (PC Jo Bell, Police)" in history
    # a professional settled already is refused, by the page and its form
    again = await out.post(
        f"/handovers/{handover_id}/telling/agencies/{tom}/not-told", {"reason": "Told twice by mistake"}
    )
    assert again.status_code == 409 and rules.ALREADY_SETTLED in unescape(again.text)
    assert (await out.get(f"/handovers/{handover_id}/telling/agencies/{tom}/told")).status_code == 409


async def test_a_professional_not_on_this_handover_is_not_found(site: Site) -> None:
    first = await v4_handover(site.db, site.world, "submitted", "c1")
    second = await v4_handover(site.db, site.world, "submitted", "c2")
    theirs = (await contacts_of(site, second))["Dr Asha Khan"].id
    out = await site.as_user("out")
    assert (await out.post(f"/handovers/{first}/telling/agencies/{theirs}/email")).status_code == 404
    assert (await out.get(f"/handovers/{first}/telling/agencies/{theirs}/told")).status_code == 404
    assert not await site.db.reader.execute_fetchall("SELECT id FROM outbox")


async def test_before_submission_the_page_says_where_the_professionals_come_from(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "draft")
    page = (await (await site.as_user("out")).get(f"/handovers/{handover_id}/telling")).text
    assert rules.NOT_SUBMITTED in page


async def test_an_earlier_checklist_version_keeps_telling_in_its_answers(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    out = await site.as_user("out")
    page = (await out.get(f"/handovers/{handover_id}/telling")).text
    assert rules.NO_TELLING in unescape(page) and "/telling/family" not in page
    response = await out.post(
        f"/handovers/{handover_id}/telling/family", {"told": "Ms A", "method": "visit", **told_on()}
    )
    assert response.status_code == 409 and rules.NO_TELLING in unescape(response.text)
    view_page = (await out.get(f"/handovers/{handover_id}/view")).text
    assert 'id="telling"' not in view_page


async def test_the_handover_page_links_to_who_has_been_told_with_its_status(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    out = await site.as_user("out")
    line = re.search(r'id="telling">(.*?)</p>', (await out.get(f"/handovers/{handover_id}/view")).text, re.S)
    assert line and f'href="/handovers/{handover_id}/telling"' in line.group(1)
    assert rules.telling_line((rules.FAMILY_NOT_TOLD, "a", "b")) in unescape(line.group(1))
    await tell(site, handover_id)
    line = re.search(r'id="telling">(.*?)</p>', (await out.get(f"/handovers/{handover_id}/view")).text, re.S)
    assert line and rules.telling_line(()) in unescape(line.group(1))


async def tell(site: Site, handover_id: int) -> None:
    from tests.helpers import tell_everyone

    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)


# ---------------------------------------------------------------- every field's message, by the field


# A valid value for each field the forms hold, and one the rules refuse (generated cases take the fields from the
# rendered forms, so a field added to a form without a value here fails the test).
VALID = {"told": "Ms Ashford (mother)", "method": None, "reason": "No longer involved since June.",
         "note": "Said by phone.", **told_on()}  # fmt: skip
REFUSED = {"told": "", "method": "carrier-pigeon", "reason": "", "note": "x" * (rules.NOTE_MAX + 1),
           "told_on-day": "", "told_on-month": "13", "told_on-year": "99"}  # fmt: skip


def forms_in(page: str) -> list[tuple[str, dict[str, list[str]]]]:
    """Each form that posts to a telling address: its action and its fields (name: the values offered)."""
    found = []
    for action, body in re.findall(r'<form method="post" action="([^"]*/telling/[^"]*)"[^>]*>(.*?)</form>', page, re.S):
        fields: dict[str, list[str]] = {}
        for tag in re.findall(r"<(?:input|textarea)[^>]*>", body):
            name = re.search(r'name="([^"]+)"', tag)
            if name is None or name.group(1) == "_csrf_token":
                continue
            value = re.search(r'value="([^"]*)"', tag)
            fields.setdefault(name.group(1), []).append(value.group(1) if value and "radio" in tag else "")
        if fields:
            found.append((action, fields))
    return found


async def test_every_field_of_every_form_has_its_message_by_the_field_and_the_input_is_kept(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "endorsed")
    tom = (await contacts_of(site, handover_id))["Tom Reed"].id
    out = await site.as_user("out")
    pages = [f"/handovers/{handover_id}/telling", f"/handovers/{handover_id}/telling/agencies/{tom}/told",
             f"/handovers/{handover_id}/telling/agencies/{tom}/not-told"]  # fmt: skip
    walked = set()
    for url in pages:
        for action, fields in forms_in((await out.get(url)).text):
            good = {name: VALID[name] or offered[0] for name, offered in fields.items()}
            for name in fields:
                walked.add((action, name))
                response = await out.post(action, {**good, name: REFUSED[name]})
                assert response.status_code == 400, (action, name, response.status_code)
                summary = error_summary(response.text)
                assert len(summary) == 1, (action, name, summary)
                ((target, message),) = summary.items()
                tag = re.search(rf'<(?:input|textarea)[^>]*id="{re.escape(target)}"[^>]*>', response.text)
                assert tag and f'name="{name}"' in tag.group(0), (action, name, target)
                assert message_by(response.text, target) == message, (action, name)
                for other, value in good.items():  # what else was typed is still there
                    if other != name and other not in ("method",) and not other.startswith("told_on"):
                        assert unescape(value) in unescape(response.text), (action, name, other)
    assert {name for _, name in walked} == set(REFUSED), "every field of the forms was walked"
    assert not await store.family_notices_of(site.db.reader, handover_id)


async def test_a_field_sent_twice_is_refused_by_its_name(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    out = await site.as_user("out")
    response = await out.post(
        f"/handovers/{handover_id}/telling/family",
        {"told": ["Ms A", "Mr B"], "method": "letter", **told_on()},
    )
    assert response.status_code == 400 and "told" in error_summary(response.text)
    assert not await store.family_notices_of(site.db.reader, handover_id)


# ---------------------------------------------------------------- who is refused


async def test_who_may_not_record_is_refused(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "endorsed")
    gp = (await contacts_of(site, handover_id))["Dr Asha Khan"].id
    family = {"told": "Ms A (mother)", "method": "visit", **told_on()}
    posts = [("/telling/family", family), ("/telling/family-not-told", {"reason": "Because the order has ended"}),
             (f"/telling/agencies/{gp}/email", {}), (f"/telling/agencies/{gp}/told", {"method": "phone", **told_on()}),
             (f"/telling/agencies/{gp}/not-told", {"reason": "Because the order has ended"})]  # fmt: skip
    async with site.db.transaction() as conn:  # the outgoing worker is away: recorded absent by their manager
        await conn.execute(
            "INSERT INTO absences (user_id, recorded_by, recorded_at) VALUES (?, ?, ?)",
            (site.world.users["out"], site.world.users["smgr"], db.now()),
        )
    for username, status in (("out", 409), ("aud", 409), ("other", 404), ("omgr", 404)):
        person = await site.as_user(username)
        page = await person.get(f"/handovers/{handover_id}/telling")
        assert page.status_code == (200 if status == 409 else 404), username
        if status == 409:
            assert "/telling/family" not in page.text, "no forms for someone who may not record"
        for path, data in posts:
            response = await person.post(f"/handovers/{handover_id}{path}", data)
            assert response.status_code == status, (username, path, response.status_code)
        if username == "aud":
            assert rules.NOT_A_PARTY in response.text
    assert not await store.family_notices_of(site.db.reader, handover_id)
    assert all(not c.settled for c in (await contacts_of(site, handover_id)).values())


async def test_nothing_is_recorded_on_a_closed_handover(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "closed")
    out = await site.as_user("out")
    response = await out.post(
        f"/handovers/{handover_id}/telling/family-not-told", {"reason": "Too late to tell them now"}
    )
    assert response.status_code == 409 and rules.NOT_OPEN in response.text
    page = (await out.get(f"/handovers/{handover_id}/telling")).text
    assert "/telling/family" not in page


# ---------------------------------------------------------------- closure waits for telling


async def test_approval_is_refused_with_each_missing_record_until_all_are_recorded(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "acknowledged")
    contacts = await contacts_of(site, handover_id)
    rmgr = await site.as_user("rmgr")
    out = await site.as_user("out")

    async def approve() -> Any:
        view_page = await rmgr.get(f"/handovers/{handover_id}/view")
        return await rmgr.post(f"/handovers/{handover_id}/approve", {"handover_version": version_in(view_page.text)})

    expected = rules.closure_refusals(rules.Status(required=True, family_done=False, agencies_waiting=(
        ("Dr Asha Khan", "GP"), ("Tom Reed", "School or nursery"))))  # fmt: skip
    view_page = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    why = re.search(r'id="why-not-approve">(.*?)</div>', view_page, re.S)
    assert why and f'href="/handovers/{handover_id}/telling"' in why.group(1)
    response = await approve()
    assert response.status_code == 409
    assert [unescape(r) for r in re.findall(r"<li>(.*?)</li>", response.text.split("app-refusals")[1])] == expected
    await out.post(
        f"/handovers/{handover_id}/telling/family", {"told": "Ms A (mother)", "method": "phone", **told_on()}
    )
    await out.post(f"/handovers/{handover_id}/telling/agencies/{contacts['Dr Asha Khan'].id}/email")
    response = await approve()
    assert expected[1] in unescape(response.text), "an e-mail still in the outbox has told nobody"
    await delivered(site, handover_id)
    response = await approve()
    assert response.status_code == 409 and expected[0] not in unescape(response.text)
    assert expected[2] in unescape(response.text) and expected[1] not in unescape(response.text)
    await out.post(
        f"/handovers/{handover_id}/telling/agencies/{contacts['Tom Reed'].id}/not-told",
        {"reason": "Left the school in June"},
    )
    response = await approve()
    assert response.status_code == 303
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.state == "closed"


# ---------------------------------------------------------------- the API


async def token_for(site: Site, username: str, *, service: bool = False) -> str:
    token = "hov_" + secrets.token_urlsafe(16)
    async with site.db.transaction() as conn:
        user_id = site.world.users.get(username)
        if user_id is None:  # a case management system's account, which reads every handover
            user_id = await db.create_user(conn, username, username, "!", is_auditor=True, is_service=service)
        await db.create_api_token(conn, user_id, token_hash(token), "write")
    return token


async def call(site: Site, token: str, method: str, url: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return await site.client.request(method, f"/api/v1{url}", json=body, headers=headers)


def error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    return body  # type: ignore[no-any-return]


async def test_the_api_reads_and_records_who_has_been_told(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "acknowledged", contacts=[GP, SCHOOL, THIRD])
    token = await token_for(site, "out")
    read = await call(site, token, "GET", f"/handovers/{handover_id}/telling")
    assert read.status_code == 200
    body = read.json()
    assert body["required"] is True and body["family_notices"] == []
    assert [(c["name"], c["status"]) for c in body["agency_contacts"]] == [
        ("Dr Asha Khan", "not_yet_told"), ("Tom Reed", "not_yet_told"), ("PC Jo Bell", "not_yet_told")]  # fmt: skip
    assert body["missing"][0] == rules.FAMILY_NOT_TOLD
    detail = (await call(site, token, "GET", f"/handovers/{handover_id}")).json()
    assert detail["telling_missing"] == body["missing"]
    ids = {c["name"]: c["id"] for c in body["agency_contacts"]}

    bad = await call(site, token, "POST", f"/handovers/{handover_id}/family-notices",
                     {"told": "", "method": "fax", "told_on": "2026-02-30"})  # fmt: skip
    assert {d["field"] for d in error_shape(bad, 422)["details"]} == {"told", "method", "told_on"}
    done = await call(site, token, "POST", f"/handovers/{handover_id}/family-notices",
                      {"told": "Jamie (the child)", "method": "visit", "told_on": YESTERDAY.isoformat()})  # fmt: skip
    assert done.status_code == 201
    assert done.json()["telling"]["family_notices"][0]["told"] == "Jamie (the child)"
    reason = await call(site, token, "POST", f"/handovers/{handover_id}/family-notices/not-told", {"reason": ""})
    assert [d["field"] for d in error_shape(reason, 422)["details"]] == ["reason"]

    emailed = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['Dr Asha Khan']}/email")
    assert emailed.status_code == 200
    no_address = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['Tom Reed']}/email")
    assert rules.NO_EMAIL_ADDRESS in error_shape(no_address, 409)["message"] + str(no_address.json()["details"])
    told = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['Tom Reed']}/told",
                      {"method": "letter", "told_on": TODAY.isoformat(), "note": ""})  # fmt: skip
    assert told.status_code == 200
    bad_told = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['PC Jo Bell']}/told",
                          {"method": "", "told_on": ""})  # fmt: skip
    assert {d["field"] for d in error_shape(bad_told, 422)["details"]} == {"method", "told_on"}
    not_told = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['PC Jo Bell']}/not-told",
                          {"reason": "Retired from the practice"})  # fmt: skip
    assert not_told.status_code == 200
    final = not_told.json()["telling"]
    assert [c["status"] for c in final["agency_contacts"]] == ["email_queued", "told", "not_told"]
    assert final["missing"] == [rules.agency_not_told("Dr Asha Khan", "GP")], "counted once delivered"
    await delivered(site, handover_id)
    final = (await call(site, token, "GET", f"/handovers/{handover_id}/telling")).json()
    assert [c["status"] for c in final["agency_contacts"]] == ["emailed", "told", "not_told"]
    assert final["missing"] == []
    again = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/{ids['PC Jo Bell']}/not-told",
                       {"reason": "Told twice by mistake"})  # fmt: skip
    error_shape(again, 409)
    missing = await call(site, token, "POST", f"/handovers/{handover_id}/agency-contacts/999999/not-told",
                         {"reason": "Nobody to tell at all"})  # fmt: skip
    error_shape(missing, 404)


async def test_the_api_refuses_a_service_account_an_outsider_and_a_read_only_token(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    service = await token_for(site, "svc_cms", service=True)
    refused = await call(
        site, service, "POST", f"/handovers/{handover_id}/family-notices/not-told", {"reason": "Not involved any more"}
    )
    assert SERVICE_ACCOUNT_REFUSAL in str(error_shape(refused, 409))
    outsider = await token_for(site, "other")
    error_shape(await call(site, outsider, "GET", f"/handovers/{handover_id}/telling"), 404)
    error_shape(await call(site, outsider, "POST", f"/handovers/{handover_id}/family-notices/not-told",
                           {"reason": "Not involved any more"}), 404)  # fmt: skip
    async with site.db.transaction() as conn:
        read_only = "hov_" + secrets.token_urlsafe(16)
        await db.create_api_token(conn, site.world.users["out"], token_hash(read_only), "read")
    error_shape(await call(site, read_only, "POST", f"/handovers/{handover_id}/family-notices/not-told",
                           {"reason": "Not involved any more"}), 403)  # fmt: skip
    assert not await store.family_notices_of(site.db.reader, handover_id)


async def test_the_api_operations_are_in_the_openapi_document(site: Site) -> None:
    schema = (await site.client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    contact = "/api/v1/handovers/{handover_id}/agency-contacts/{contact_id}"
    family = "/api/v1/handovers/{handover_id}/family-notices"
    operations = [
        ("/api/v1/handovers/{handover_id}/telling", "get"), (family, "post"), (f"{family}/not-told", "post"),
        (f"{contact}/email", "post"), (f"{contact}/told", "post"), (f"{contact}/not-told", "post"),
    ]  # fmt: skip
    for path, method in operations:
        assert method in paths[path], path
    assert not any("agency-acknowledgements" in path or "/telling/" in path for path in paths)


async def test_anonymous_people_are_sent_to_sign_in(site: Site) -> None:
    handover_id = await v4_handover(site.db, site.world, "submitted")
    anonymous = Browser(site.client)
    assert (await anonymous.get(f"/handovers/{handover_id}/telling")).status_code == 303
    assert (
        await anonymous.post(f"/handovers/{handover_id}/telling/family-not-told", {"reason": "Not involved any more"})
    ).status_code == 303
