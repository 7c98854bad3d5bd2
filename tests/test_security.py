"""Security: who may reach what, sessions, throttling, cross-site requests, headers, escaping and limits."""

from __future__ import annotations

import asyncio
import html
import re
import time

import pytest
from argon2 import PasswordHasher
from litestar.datastructures import Cookie

from service import db
from service.core.clock import today as england_today
from service.passwords import _dummy, needs_rehash, verify_password
from tests.conftest import PASSWORD, Browser, Site
from tests.helpers import (
    CHECKLISTS,
    LATEST,
    actor,
    complete,
    fill_all,
    handover_in,
    latest_form,
    raw_connection,
    section,
    start,
    version_in,
)
from tests.telling_support import v4_handover
from tests.test_letter_pages import letter_handover
from tests.test_letter_pages import valid_form as letter_form

pytestmark = pytest.mark.anyio

ROLES = ["anonymous", "owner", "same_team", "receiver", "other_receiver", "sending_manager", "receiving_manager",
         "other_team", "other_manager", "auditor", "admin"]  # fmt: skip
USERNAMES = {"owner": "out", "same_team": "out2", "receiver": "rec", "other_receiver": "rec2",
             "sending_manager": "smgr", "receiving_manager": "rmgr", "other_team": "other", "other_manager": "omgr",
             "auditor": "aud", "admin": "adm"}  # fmt: skip
EVERYONE = set(ROLES) - {"anonymous"}
READERS = {"owner", "receiver", "sending_manager", "receiving_manager", "auditor"}
PARTIES = READERS - {"auditor"}

# (method, route, state the handover is in, roles that succeed); every other role is refused. Anonymous people are
# always sent to sign in; refusals across teams are 404 so that nobody learns a handover exists.
MATRIX: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/", "endorsed", EVERYONE),
    ("GET", "/inbox", "endorsed", {"owner", "same_team", "receiver", "other_receiver", "other_team"}),
    # a person's own finished handovers: workers, and managers (authors of what they continue on a leaver's behalf)
    ("GET", "/finished", "endorsed", EVERYONE - {"auditor", "admin"}),
    ("GET", "/queue", "endorsed", {"sending_manager", "receiving_manager", "other_manager"}),
    # the report and its downloads: auditors, and managers for their own teams (tests/test_report_for_managers.py)
    ("GET", "/audit/incomplete", "endorsed", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    ("GET", "/audit/incomplete/csv", "endorsed", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    (
        "GET",
        "/audit/incomplete/jsonl",
        "endorsed",
        {"sending_manager", "receiving_manager", "other_manager", "auditor"},
    ),
    # each child's allocation history: whoever oversees teams (report_scope), each for their own teams
    ("GET", "/audit/allocations/csv", "none", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    ("GET", "/audit/allocations/json", "none", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    # the oversight page and its lists: everyone `report_scope` allows, each seeing only their teams' handovers
    ("GET", "/oversight", "endorsed", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    ("GET", "/oversight/closed", "endorsed", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    ("GET", "/oversight/returns", "endorsed", {"sending_manager", "receiving_manager", "other_manager", "auditor"}),
    ("GET", "/cases/{case}/handover", "none", {"owner"}),
    ("POST", "/cases/{case}/handover", "none", {"owner"}),
    # people who may read but not edit are sent on to the read-only view (303), which they may see
    ("GET", "/handovers/{id}", "draft", {"owner", "sending_manager", "auditor"}),
    ("GET", "/handovers/{id}/view", "draft", {"owner", "sending_manager", "auditor"}),
    ("GET", "/handovers/{id}/view", "endorsed", READERS),
    ("GET", "/handovers/{id}/sections/open-risks", "draft", {"owner", "sending_manager", "auditor"}),
    ("POST", "/handovers/{id}/sections/childs-views", "draft", {"owner"}),
    ("GET", "/handovers/{id}/check", "draft", {"owner", "sending_manager", "auditor"}),
    ("POST", "/handovers/{id}/submit", "draft", {"owner"}),
    ("POST", "/handovers/{id}/endorse", "submitted", {"sending_manager"}),
    ("POST", "/handovers/{id}/return", "submitted", {"sending_manager"}),
    ("POST", "/handovers/{id}/cancel", "submitted", {"owner", "sending_manager"}),
    ("GET", "/handovers/{id}/review", "endorsed", READERS),
    ("POST", "/handovers/{id}/confirm/open-risks", "endorsed", {"receiver"}),
    ("POST", "/handovers/{id}/return", "endorsed", {"receiver"}),
    ("POST", "/handovers/{id}/acknowledge", "endorsed", set()),  # nobody: items unconfirmed
    ("POST", "/handovers/{id}/approve", "acknowledged", {"receiving_manager"}),
    ("POST", "/handovers/{id}/return-to-receiver", "acknowledged", {"receiving_manager"}),
    (
        "POST",
        "/handovers/{id}/disagreements",
        "endorsed",
        {"owner", "receiver", "sending_manager", "receiving_manager"},
    ),
    # who has viewed a handover: both teams' managers (once they may see it) and auditors; never workers
    ("GET", "/handovers/{id}/viewers", "draft", {"sending_manager", "auditor"}),
    ("GET", "/handovers/{id}/viewers", "endorsed", {"sending_manager", "receiving_manager", "auditor"}),
    # the whole handover as a PDF for the case record, and its printable page: whoever may read the handover
    ("GET", "/handovers/{id}/document.pdf", "draft", {"owner", "sending_manager", "auditor"}),
    ("GET", "/handovers/{id}/document.pdf", "endorsed", READERS),
    ("GET", "/handovers/{id}/print", "endorsed", READERS),
    # correcting a case record (the POST's rows are in tests/test_case_record_correction.py)
    ("GET", "/admin/cases", "none", {"admin"}),
    ("GET", "/admin/cases/{case}", "none", {"admin"}),
    # who has been told, on a handover of a checklist version that records it ("v4"): read by its readers, recorded by
    # its parties; {contact} is the professional with an e-mail address
    ("GET", "/handovers/{id}/telling", "endorsed v4", READERS),
    ("POST", "/handovers/{id}/telling/family", "endorsed v4", PARTIES),
    ("POST", "/handovers/{id}/telling/family-not-told", "endorsed v4", PARTIES),
    ("POST", "/handovers/{id}/telling/agencies/{contact}/email", "endorsed v4", PARTIES),
    ("GET", "/handovers/{id}/telling/agencies/{contact}/told", "endorsed v4", PARTIES),
    ("POST", "/handovers/{id}/telling/agencies/{contact}/told", "endorsed v4", PARTIES),
    ("GET", "/handovers/{id}/telling/agencies/{contact}/not-told", "endorsed v4", PARTIES),
    ("POST", "/handovers/{id}/telling/agencies/{contact}/not-told", "endorsed v4", PARTIES),
    # the professional's signed link from the service's e-mail: anyone who holds it, with no account
    ("GET", "/agency-acknowledgements/{token}", "endorsed v4", {"anonymous", *EVERYONE}),
    ("POST", "/agency-acknowledgements/{token}", "endorsed v4", {"anonymous", *EVERYONE}),
]
SUCCESS = {200, 303}


async def request_as(site: Site, role: str, method: str, url: str, handover_id: int | None) -> int:
    person = await site.as_user(USERNAMES.get(role))
    if method == "GET":
        return (await person.get(url)).status_code
    version = "0"
    if handover_id:
        handover = await db.handover_by_id(site.db.reader, handover_id)
        version = str(handover.version) if handover else "0"
    told_on = england_today()
    data = {"handover_version": version, "version": "0", "reason": "Because it is needed", "understood": "yes",
            "readback": "I take on the risk to the child as described.", "receiving_team": str(site.world.teams["cp"]),
            "transfer_reason": "Step-up", "about": "Contact", "with_whom": "Out", "view": "Unsafe", "told": "Ms A",
            "method": "phone", "told_on-day": str(told_on.day), "told_on-month": str(told_on.month),
            "told_on-year": str(told_on.year)}  # fmt: skip
    if "/sections/" in url:
        data |= latest_form("childs-views", version=1)
    return (await person.post(url, data)).status_code


@pytest.mark.parametrize(
    ("method", "route", "state", "allowed"), MATRIX, ids=[f"{m} {r} ({s})" for m, r, s, _ in MATRIX]
)
async def test_access_matrix(site: Site, method: str, route: str, state: str, allowed: set[str]) -> None:
    for role in ROLES:
        handover_id = None if state == "none" else await made(site, state)
        contact, token = await emailed(site, handover_id, "{token}" in route) if state.endswith(" v4") else (0, "")
        url = route.format(id=handover_id, case=site.world.cases["c2"], contact=contact, token=token)
        status = await request_as(site, role, method, url, handover_id)
        if role == "anonymous" and role not in allowed:
            assert status == 303, (role, url)
        elif role in allowed:
            assert status in SUCCESS, (role, method, url, status)
        else:
            assert status in {403, 404, 409}, (role, method, url, status)
            if "/handovers/" in url and role not in READERS | {"same_team", "other_receiver"}:
                assert status == 404, (role, url, "refusals across teams must not reveal the handover exists")
        if handover_id:  # start again from a fresh handover for the next person
            async with site.db.transaction() as conn:
                await conn.execute("UPDATE handovers SET state = 'cancelled' WHERE id = ?", (handover_id,))
                await conn.execute(
                    "UPDATE cases SET allocated_worker_id = ?, allocated_team_id = ? WHERE id = ?",
                    (site.world.users["out"], site.world.teams["north"], site.world.cases["c1"]),
                )


# Signing in with the council's OpenID Connect provider: open to everyone, since the person is known only at its end
# (tests/test_oidc_sign_in.py drives the addresses with a provider, for each role). Without one they do not exist.
@pytest.mark.parametrize("url", ["/sign-in/oidc", "/sign-in/oidc/callback?code=a-code&state=a-state"])
async def test_the_provider_sign_in_addresses_do_not_exist_without_a_provider(site: Site, url: str) -> None:
    for role in ROLES:
        person = await site.as_user(USERNAMES.get(role))
        response = await person.get(url)
        assert response.status_code == 404, (role, url, response.status_code)


# The letter to the family or the child, on a handover whose checklist version records who was told: those who may
# record who was told write one; an auditor reads the handover but is refused; nobody else learns it exists.
LETTER_MATRIX: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/handovers/{id}/letters", "endorsed", {"owner", "receiver", "sending_manager", "receiving_manager"}),
    ("POST", "/handovers/{id}/letters", "endorsed", {"owner", "receiver", "sending_manager", "receiving_manager"}),
    ("GET", "/handovers/{id}/letters", "draft", {"owner", "sending_manager"}),
    ("POST", "/handovers/{id}/letters", "draft", {"owner", "sending_manager"}),
    ("POST", "/handovers/{id}/letters/pdf", "endorsed", {"owner", "receiver", "sending_manager", "receiving_manager"}),
]


@pytest.mark.parametrize(
    ("method", "route", "state", "allowed"), LETTER_MATRIX, ids=[f"{m} {r} ({s})" for m, r, s, _ in LETTER_MATRIX]
)
async def test_access_matrix_for_letters(site: Site, method: str, route: str, state: str, allowed: set[str]) -> None:
    for role in ROLES:
        handover_id = await letter_handover(site.db, site.world, state, "c1")
        person = await site.as_user(USERNAMES.get(role))
        url = route.format(id=handover_id)
        response = await (person.get(url) if method == "GET" else person.post(url, letter_form()))
        status = response.status_code
        if role == "anonymous":
            assert status == 303, (role, url)
        elif role in allowed:
            assert status == 200, (role, method, url, status)
        else:
            assert status in {404, 409}, (role, method, url, status)
            if role not in READERS:
                assert status == 404, (role, url, "refusals across teams must not reveal the handover exists")
        async with site.db.transaction() as conn:
            await conn.execute("UPDATE handovers SET state = 'cancelled' WHERE id = ?", (handover_id,))


async def made(site: Site, state: str) -> int:
    """A handover in `state` ("<state> v4": on checklist version 4, which records who has been told)."""
    if state.endswith(" v4"):
        return await v4_handover(site.db, site.world, state.removesuffix(" v4"), "c1")
    return await handover_in(site.db, site.world, state, "c1")


async def emailed(site: Site, handover_id: int | None, send: bool) -> tuple[int, str]:
    """The professional with an e-mail address on this handover, and (`send`) the token of the link the service's
    e-mail to them carries."""
    from service import actions
    from service.db import telling as telling_store

    assert handover_id is not None
    contact = next(c for c in await telling_store.agency_contacts_of(site.db.reader, handover_id) if c.email)
    if not send:
        return contact.id, ""
    await actions.email_agency(site.db, CHECKLISTS, await actor(site.db, site.world, "out"), handover_id, contact.id)
    rows = await site.db.reader.execute_fetchall("SELECT body_text FROM outbox ORDER BY id DESC LIMIT 1")
    return contact.id, rows[0][0].split("/agency-acknowledgements/")[1].split()[0]


async def test_the_session_id_changes_at_sign_in_and_a_planted_id_is_dead(site: Site) -> None:
    victim = Browser(site.client)
    await victim.get("/sign-in")
    victim.jar.set("session", "a" * 64, domain="testserver.local")  # planted by an attacker before the victim signs in
    assert (await victim.sign_in("out")).status_code == 303
    new_id = victim.jar.get("session")
    assert new_id and new_id != "a" * 64
    attacker = Browser(site.client)
    attacker.jar.set("session", "a" * 64, domain="testserver.local")
    assert (await attacker.get("/")).status_code == 303, "the planted id is not signed in"
    assert (await victim.get("/")).status_code == 200


async def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    person = await site.as_user("out")
    stolen = person.jar.get("session")
    await person.post("/sign-out")
    thief = Browser(site.client)
    thief.jar.set("session", stolen or "", domain="testserver.local")
    assert (await thief.get("/")).status_code == 303


async def test_disabling_an_account_ends_its_sessions(site: Site) -> None:
    person = await site.as_user("out")
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE username = 'out'")
    assert (await person.get("/")).status_code == 303
    assert (await person.sign_in("out")).status_code == 400


async def test_idle_and_absolute_timeouts(site: Site) -> None:
    person = await site.as_user("out")
    session_id = person.jar.get("session")
    assert session_id
    store = site.app.stores.get("sessions")
    data = await store.get(session_id)
    assert data is not None
    await store.set(session_id, data, expires_in=100)
    assert (await person.get("/")).status_code == 200
    renewed = await store.expires_in(session_id)
    assert renewed is not None and renewed > 1700, "activity renews the idle timeout"
    await store.set(session_id, data, expires_in=1)
    await asyncio.sleep(1.2)
    assert (await person.get("/")).status_code == 303, "idle too long"
    person = await site.as_user("out")
    site.app.state.absolute_timeout = 0
    assert (await person.get("/")).status_code == 303, "signed in too long ago"


async def test_session_cookie_flags(site: Site) -> None:
    person = await site.as_user(None)
    await person.get("/sign-in")
    response = await person.post("/sign-in", {"username": "out", "password": PASSWORD})
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=1800" in cookie
    session_id = cookie.split(";")[0].removeprefix("session=")
    written = Cookie(key="session", value=session_id, max_age=1800, httponly=True, samesite="lax", secure=False)
    assert cookie == written.to_header(header=""), "the line the framework's own Cookie writes"
    again = await person.get("/")
    assert again.headers.get_list("set-cookie") == [cookie], "each page renews the same cookie"
    signed_out = await person.post("/sign-out", {})
    ended = next(v for v in signed_out.headers.get_list("set-cookie") if v.startswith("session="))
    assert ended.startswith("session=null;") and "expires=" in ended.lower()


@pytest.mark.usefixtures("service_hashing")
async def test_a_password_hashed_with_older_settings_is_rehashed_at_sign_in(site: Site) -> None:
    four_lanes = PasswordHasher(parallelism=4).hash(PASSWORD)
    user = await db.user_by_username(site.db.reader, "out")
    assert user is not None
    async with site.db.transaction() as conn:
        await db.replace_password_hash(conn, user.id, user.password_hash, four_lanes)
    person = await site.as_user(None)
    assert (await person.sign_in("out", "wrong guess")).status_code == 400
    assert (await db.user_by_username(site.db.reader, "out")).password_hash == four_lanes  # type: ignore[union-attr]
    assert (await person.sign_in("out")).status_code == 303
    rehashed = (await db.user_by_username(site.db.reader, "out")).password_hash  # type: ignore[union-attr]
    assert rehashed != four_lanes and ",p=1$" in rehashed, "one lane, so one sign-in takes one core, not both"
    assert not needs_rehash(rehashed)
    assert (await (await site.as_user(None)).sign_in("out")).status_code == 303, "the new hash verifies"
    async with site.db.transaction() as conn:  # a password changed while a sign-in was rehashing the old one
        await db.replace_password_hash(conn, user.id, four_lanes, "stale")
    assert (await db.user_by_username(site.db.reader, "out")).password_hash == rehashed  # type: ignore[union-attr]


@pytest.mark.usefixtures("service_hashing")
async def test_a_wrong_password_takes_as_long_whether_or_not_the_username_exists() -> None:
    four_lanes = PasswordHasher(parallelism=4).hash("right")  # stored before the settings changed: quicker to check
    dummy_check = _dummy()[1]
    for stored in (four_lanes, None):
        started = time.perf_counter()
        assert not await verify_password(stored, "wrong")
        assert time.perf_counter() - started >= dummy_check
    assert await verify_password(four_lanes, "right")


async def test_repeated_failures_lock_sign_in_without_revealing_the_username(site: Site) -> None:
    person = await site.as_user(None)
    for name in ("out", "no-such-person"):
        for _ in range(5):
            assert (await person.sign_in(name, "wrong guess")).status_code == 400
        for _ in range(3):  # hammering a lock adds one entry a window, not one a request
            locked = await person.sign_in(name, PASSWORD if name == "out" else "wrong guess")
            assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    actions = [e.entry.action for e in await db.audit_entries(site.db.reader)]
    assert actions.count("sign_in_failed") == 10 and actions.count("sign_in_locked") == 2
    assert (await person.sign_in("out2")).status_code == 303, "other people are not locked out"


async def test_forms_without_the_csrf_token_or_from_another_site_are_refused(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    form = latest_form("childs-views")
    no_token = await out.request("POST", url, data=form)
    assert no_token.status_code == 403
    cross = await out.post(url, form, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    foreign_origin = await out.post(url, form, headers={"Origin": "https://evil.example"})
    assert foreign_origin.status_code == 403
    assert await db.sections_of(site.db.reader, handover_id) == {}
    page = (await out.get(url)).text
    carried = re.search(r"""hx-headers='\{"x-csrftoken": "([^"]+)"\}'""", page)
    assert carried, "every page gives htmx the token to send as a header"
    via_header = await out.request("POST", url, data=form, headers={"x-csrftoken": carried.group(1),
                                   "HX-Request": "true", "Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert via_header.status_code == 303, "htmx sends the token as a header"


async def test_security_headers_on_every_response(site: Site) -> None:
    out = await site.as_user("out")
    for url in ("/", "/sign-in", "/static/app.css", "/healthz", "/no-such-page"):
        headers = (await out.get(url)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        if url in ("/", "/sign-in", "/no-such-page"):
            assert headers["content-type"] == "text/html; charset=utf-8", "pages say what they are (with nosniff)"
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    assert (await out.get(f"/handovers/{handover_id}")).headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in (await out.get("/")).headers


HOSTILE_TEXT = '<script>alert("x")</script><img src=x onerror=alert(1)>{{7*7}}{% raw %}'


async def test_every_free_text_answer_comes_back_inert(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete(checklist=LATEST)
    for section_id, section_answers in answers.items():
        definition = section(section_id, LATEST)
        for field in definition.fields:
            # the name and reference must be the case record's; every other text field, siblings too, takes it
            if field.type in ("text", "textarea") and field.from_case_record not in ("child_name", "reference"):
                section_answers.values[field.id] = str(section_answers.values.get(field.id, "")) + HOSTILE_TEXT
        for group in definition.groups:
            for row in section_answers.groups.get(group.id, []):
                for field in group.fields:
                    if field.type in ("text", "textarea"):
                        row[field.id] = HOSTILE_TEXT
    await fill_all(out, handover_id, answers)
    for url in (f"/handovers/{handover_id}/check", f"/handovers/{handover_id}/view",
                f"/handovers/{handover_id}/sections/open-risks"):  # fmt: skip
        page = (await out.get(url)).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page and "{{7*7}}" in html.unescape(page) and ">49<" not in page


async def test_oversized_and_malformed_requests_get_a_clear_refusal_and_change_nothing(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    huge = latest_form("childs-views") | {"views": "x" * 2_000_000}
    too_big = await out.post(url, huge)
    assert too_big.status_code == 413 and "too large" in too_big.text
    body = b"_csrf_token=" + out.csrf.encode() + b"&button=continue&version=0&views=\xff\xfe&how_gathered=ok"
    garbled = await out.request("POST", url, content=body,
                                headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert garbled.status_code in (303, 400, 200), garbled.status_code
    long_answer = latest_form("childs-views") | {"views": "y" * 5000}
    refused = await out.post(url, long_answer | {"version": version_in((await out.get(url)).text, "version")})
    assert refused.status_code == 200 and "must be 4,000 characters or fewer" in refused.text
    rows = latest_form("network") | {"contacts-rows": "100000"}
    capped = await out.post(f"/handovers/{handover_id}/sections/network", rows)
    assert capped.status_code in (200, 303)
    saved = await db.sections_of(site.db.reader, handover_id)
    assert len(saved["network"].answers.groups["contacts"]) <= 20


@pytest.mark.parametrize("bad", [b"%FF%FE", b"%ED%A0%80", b"x%C3y", b"%C0%AF", b"\xff\xfeabc", "caf\u00e9".encode()])
async def test_a_form_that_is_not_utf8_is_refused_on_every_page_and_nothing_stored(site: Site, bad: bytes) -> None:
    """Percent-escaped bytes that are not UTF-8 are refused, not stored as U+FFFD, on every form the pages take."""
    from service.web.errors import UNREADABLE_FORM

    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    posts = 0
    for route in site.app.routes:
        if "POST" not in getattr(route, "methods", ()) or route.path.startswith("/api"):
            continue
        path = route.path.replace("{handover_id:int}", str(handover_id)).replace("{case_id:int}", "1")
        path = re.sub(r"\{section_id:str\}", "childs-views", re.sub(r"\{\w+:int\}", "1", path))
        body = b"_csrf_token=" + out.csrf.encode() + b"&button=draft&version=0"
        body += b"&views=" + bad + b"&reason=" + bad + b"&reply=" + bad
        response = await out.request(
            "POST", path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        posts += 1
        assert response.status_code < 500, (path, response.status_code)
        if path.endswith("/sections/childs-views"):
            assert response.status_code == 400 and UNREADABLE_FORM in html.unescape(response.text)
    assert posts >= 10
    raw = raw_connection(site.db)
    for table in ("sections", "audit_log", "disagreements", "handovers", "queries", "pending_drafts"):
        for row in raw.execute(f"SELECT * FROM {table}"):
            assert not any(isinstance(v, str) and "\ufffd" in v for v in row), (table, row)
    genuine = latest_form("childs-views", button="draft") | {"views": "a \ufffd b"}
    assert (await out.post(f"/handovers/{handover_id}/sections/childs-views", genuine)).status_code == 303


@pytest.mark.parametrize("who", [None, "out", "aud"])
async def test_every_route_answers_options_and_head_without_a_server_error(site: Site, who: str | None) -> None:
    """The framework answers OPTIONS for every route before anyone signs in; a guard on a whole controller must
    not turn that into a 500 (it did on the auditor's pages)."""
    person = await site.as_user(who)
    paths = sorted({re.sub(r"\{\w+:\w+\}", "1", route.path) for route in site.app.routes})
    assert len(paths) >= 20
    for path in paths:
        for method in ("OPTIONS", "HEAD"):
            response = await person.request(method, path)
            assert response.status_code < 500, (method, path, response.status_code)


async def test_a_file_sent_in_place_of_text_is_refused_on_every_form_and_nothing_stored(site: Site) -> None:
    """Read as text, an uploaded file became "<name> - <type>" and was stored as a transfer reason or read-back."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    before = raw_connection(site.db).execute("SELECT COUNT(*) FROM audit_log").fetchone()
    for route in site.app.routes:
        if "POST" not in getattr(route, "methods", ()) or route.path.startswith("/api"):
            continue
        path = re.sub(r"\{\w+:\w+\}", "1", route.path.replace("{handover_id:int}", str(handover_id)))
        response = await out.request(
            "POST", path, data={"_csrf_token": out.csrf, "receiving_team": "2"},
            files={"transfer_reason": ("a.txt", b"typed", "text/plain"), "readback": ("b.txt", b"x", "text/plain")},
        )  # fmt: skip
        assert response.status_code in (400, 403, 404, 405), (path, response.status_code)
    raw = raw_connection(site.db)
    assert raw.execute("SELECT COUNT(*) FROM handovers WHERE transfer_reason LIKE '%text/plain%'").fetchone() == (0,)
    assert raw.execute("SELECT COUNT(*) FROM audit_log").fetchone() == before


async def test_a_password_longer_than_any_allowed_is_wrong_not_cut_short(site: Site) -> None:
    """Cut to 1,000 characters, a password of exactly 1,000 would also sign in with anything typed after it."""
    from service.core import validation
    from service.passwords import hash_password

    long_password = "p" * validation.PASSWORD_MAX
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", (hash_password(long_password), site.world.users["out2"])
        )
    person = await site.as_user(None)
    assert (await person.sign_in("out2", long_password + "extra")).status_code == 400
    assert (await person.sign_in("out2", long_password)).status_code == 303


async def test_guesses_sent_at_once_each_take_one_of_the_attempts_a_window_allows(site: Site) -> None:
    """The limit holds however the guesses arrive: each is counted before its password is checked, so sixteen sent at
    once get five checks and eleven refusals, not sixteen checks."""
    from service import actions, throttle

    results = await asyncio.gather(
        *(actions.sign_in(site.db, "out", f"wrong guess {n}", f"10.0.0.{n}") for n in range(16))
    )
    assert sum(result.locked for result in results) == 16 - throttle.USER_LIMIT
    entries = [e.entry.action for e in await db.audit_entries(site.db.reader)]
    assert entries.count("sign_in_failed") == throttle.USER_LIMIT


async def test_signing_in_from_one_office_address_does_not_lock_it(site: Site) -> None:
    from service import actions, throttle

    for _ in range(throttle.ADDRESS_LIMIT + 2):
        assert (await actions.sign_in(site.db, "out", PASSWORD, "192.0.2.10")).user is not None
