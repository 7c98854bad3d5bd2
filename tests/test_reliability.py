"""No lost work: sessions that end mid-form, storage faults, hostile input, and any input at all to the parser."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.datastructures import FormMultiDict

from service import db
from service.core.answers import validate_section
from service.db.engine import _rows
from service.web import forms
from tests.conftest import Browser, Site
from tests.helpers import (
    CHECKLIST,
    LATEST,
    complete,
    form_for,
    handover_in,
    latest_form,
    raw_connection,
    section,
    start,
    version_in,
)

pytestmark = pytest.mark.anyio


async def test_what_was_typed_after_the_session_ended_is_saved_after_signing_in_again(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    typed = latest_form("childs-views", button="continue") | {"views": "Typed for an hour; the session ended meanwhile"}
    session_id = out.jar.get("session")
    assert session_id
    await site.app.stores.get("sessions").delete(session_id)  # the idle timeout passes
    kept = await out.post(url, typed)
    assert kept.status_code == 303 and kept.headers["location"] == "/sign-in?resume=1"
    assert await db.sections_of(site.db.reader, handover_id) == {}
    signed_in = await out.sign_in("out")
    assert signed_in.headers["location"] == f"{url}?resumed=saved"
    page = await out.get(signed_in.headers["location"])
    assert "What you typed has been saved as a draft" in page.text
    saved = await db.sections_of(site.db.reader, handover_id)
    assert saved["childs-views"].answers.values["views"] == "Typed for an hour; the session ended meanwhile"


@pytest.mark.parametrize("button", ["add:risks", "remove:risks:0", "continue", "draft"])
async def test_an_htmx_post_after_the_session_ended_loads_the_sign_in_page_in_full_and_keeps_the_form(
    site: Site, button: str
) -> None:
    """Adding or removing a row with JavaScript on, after the session ended: htmx is told to navigate
    (HX-Redirect) rather than swap the sign-in page into the form, and what was typed is kept as ever."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/open-risks"
    typed = form_for(section("open-risks"), complete()["open-risks"], button=button)
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    response = await out.post(url, typed, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/sign-in?resume=1"
    assert response.text == "", "nothing to swap into the form"
    signed_in = await out.sign_in("out")
    assert signed_in.headers["location"] == f"{url}?resumed=saved"
    assert "open-risks" in await db.sections_of(site.db.reader, handover_id)


async def test_a_kept_form_with_an_answer_too_long_saves_the_rest_and_says_so_and_both_steps_are_audited(
    site: Site,
) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    typed = latest_form("childs-views") | {"views": "x" * 100_001}
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    assert (await out.post(url, typed)).headers["location"] == "/sign-in?resume=1"
    signed_in = await out.sign_in("out")
    assert signed_in.headers["location"] == f"{url}?resumed=partly"
    page = await out.get(signed_in.headers["location"])
    assert page.status_code == 200 and "except an answer that was too long" in page.text
    saved = (await db.sections_of(site.db.reader, handover_id))["childs-views"].answers.values
    assert "views" not in saved and saved["how_gathered"] == typed["how_gathered"], "the rest was saved"
    actions = [e.entry.action for e in await db.audit_entries(site.db.reader) if e.entry.object_id == handover_id]
    assert "keep_pending_draft" in actions and "take_pending_draft" in actions


@pytest.mark.parametrize("twice", ["views", "version"])
async def test_a_kept_form_with_an_answer_sent_twice_is_not_saved_after_signing_in(site: Site, twice: str) -> None:
    """A form kept when the session ended is read as its page reads one: with an answer (or its version) sent twice
    the page would save nothing, so nothing is saved after signing in either, and the person is told so."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    typed = latest_form("childs-views")
    typed[twice] = [str(typed.get(twice, "0")), str(typed.get(twice, "0")) + " again"]
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    assert (await out.post(url, typed)).headers["location"] == "/sign-in?resume=1"
    signed_in = await out.sign_in("out")
    assert signed_in.headers["location"] == f"{url}?resumed=twice"
    page = await out.get(signed_in.headers["location"])
    assert "an answer was sent more than once" in page.text
    assert await db.sections_of(site.db.reader, handover_id) == {}


@pytest.mark.parametrize("who", ["out2", "smgr", "aud"])
async def test_a_kept_form_sent_twice_is_never_shown_to_someone_else(site: Site, who: str) -> None:
    """Someone else signing in on the same browser is not sent to the author's section, whatever the kept form held:
    they go to their own home page, as with a form kept without repeats."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    typed = latest_form("childs-views")
    typed["views"] = ["One", "Two"]
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    assert (await out.post(url, typed)).headers["location"] == "/sign-in?resume=1"
    signed_in = await out.sign_in(who)
    assert signed_in.headers["location"] == "/"
    assert await db.sections_of(site.db.reader, handover_id) == {}


async def test_a_kept_form_is_never_saved_for_someone_else(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    url = f"/handovers/{handover_id}/sections/childs-views"
    await out.post(url, latest_form("childs-views"))
    signed_in = await out.sign_in("out2")  # a colleague signs in on the same browser
    assert signed_in.headers["location"] == "/"
    assert await db.sections_of(site.db.reader, handover_id) == {}


async def test_a_form_without_any_session_is_not_kept(site: Site) -> None:
    stranger = Browser(site.client)
    await stranger.get("/sign-in")
    response = await stranger.post("/handovers/1/sections/childs-views", {"views": "x"})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    rows = raw_connection(site.db).execute("SELECT COUNT(*) FROM pending_drafts").fetchone()[0]
    assert rows == 0


def _kept_rows(site: Site) -> int:
    return int(raw_connection(site.db).execute("SELECT COUNT(*) FROM pending_drafts").fetchone()[0])


@pytest.mark.parametrize("forged", ["1", "x.1.y", "abc.99999999999.0", "a.b.c.d", "", "a." + "9" * 5000 + ".b"])
async def test_a_browser_that_only_claims_to_have_signed_in_keeps_nothing(site: Site, forged: str) -> None:
    """The signed-in cookie is the service's signed mark; one made up by hand keeps nothing and writes nothing."""
    stranger = Browser(site.client)
    await stranger.get("/sign-in")
    stranger.jar.set("handover-signed-in", forged)
    before = len(await db.audit_entries(site.db.reader))
    response = await stranger.post("/handovers/1/sections/childs-views", {"views": "x" * 900_000})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert _kept_rows(site) == 0 and len(await db.audit_entries(site.db.reader)) == before


async def test_kept_forms_are_bounded_per_browser_and_say_so_when_not_kept(site: Site) -> None:
    from service.actions.drafts import KEPT_FORM_MAX_BYTES, KEPT_PER_BROWSER

    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    typed = latest_form("childs-views")
    for _ in range(KEPT_PER_BROWSER):
        assert (await out.post(url, typed)).headers["location"] == "/sign-in?resume=1"
    refused = await out.post(url, typed)
    assert refused.headers["location"] == "/sign-in?resume=lost"
    assert _kept_rows(site) == KEPT_PER_BROWSER
    page = await out.get("/sign-in?resume=lost")
    assert "what you last typed could not be kept" in page.text
    assert "What you typed has been kept" in (await out.get("/sign-in?resume=1")).text

    other = await site.as_user("out2")
    await site.app.stores.get("sessions").delete(other.jar.get("session") or "")
    too_big = typed | {"views": "x" * KEPT_FORM_MAX_BYTES}
    assert (await other.post(url, too_big)).headers["location"] == "/sign-in?resume=lost"
    assert _kept_rows(site) == KEPT_PER_BROWSER


async def test_kept_forms_are_bounded_per_address(site: Site) -> None:
    from service.actions import keep_pending_draft
    from service.actions.drafts import KEPT_PER_ADDRESS

    path = "/handovers/1/sections/childs-views"
    kept = [
        await keep_pending_draft(site.db, path, [("views", "x")], kept_for=f"browser-{n}", address="10.0.0.9")
        for n in range(KEPT_PER_ADDRESS + 2)
    ]
    assert all(kept[:KEPT_PER_ADDRESS]) and kept[KEPT_PER_ADDRESS:] == [None, None]
    assert await keep_pending_draft(site.db, path, [("views", "x")], kept_for="browser-x", address="10.0.0.10")


async def test_anonymous_pages_create_no_session(site: Site) -> None:
    """Nothing is stored for a browser that has not signed in: no session, on any page it can reach."""

    async def stored() -> list[tuple[str, int]]:
        found = await _rows(site.db.reader, "SELECT key, ended FROM sessions ORDER BY key")
        return [(str(row["key"]), int(row["ended"])) for row in found]

    before = await stored()
    stranger = Browser(site.client)
    for url in ("/sign-in", "/sign-in?resume=1", "/healthz", "/readyz", "/no/such/page", "/handovers/1/view"):
        response = await stranger.get(url)
        assert "session=" not in response.headers.get("set-cookie", ""), url
    assert await stored() == before
    stranger.jar.set("session", "f" * 64)  # a session id that was never issued, or has ended
    response = await stranger.get("/sign-in")
    assert 'session="null"' in response.headers.get("set-cookie", "") or "session=null" in response.headers.get(
        "set-cookie", ""
    )
    assert await stored() == before


# ---------------------------------------------------------------- storage faults


async def save_childs_views(person: Browser, handover_id: int) -> int:
    url = f"/handovers/{handover_id}/sections/childs-views"
    version = version_in((await person.get(url)).text, "version")
    form = latest_form("childs-views", version=int(version))
    return (await person.post(url, form)).status_code


@pytest.mark.parametrize(
    ("fault", "clear"),
    [
        ("PRAGMA query_only = 1", "PRAGMA query_only = 0"),  # the database cannot be written
    ],
    ids=["read-only"],
)
@pytest.mark.sqlite_only
async def test_storage_faults_give_a_plain_page_and_the_service_recovers(site: Site, fault: str, clear: str) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    writer = site.db._writer
    assert writer is not None
    url = f"/handovers/{handover_id}/sections/childs-views"
    version = version_in((await out.get(url)).text, "version")  # the page was open before the fault
    await writer.execute(fault)
    form = latest_form("childs-views", version=int(version))
    response = await out.post(url, form)
    assert response.status_code == 503
    assert "Nothing was half-saved" in response.text and "Traceback" not in response.text
    assert await db.sections_of(site.db.reader, handover_id) == {}
    await writer.execute(clear)
    assert await save_childs_views(out, handover_id) == 303, "recovers by itself once the fault clears"


@pytest.mark.sqlite_only
async def test_a_write_lock_held_by_another_process_gives_a_plain_page(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    writer = site.db._writer
    assert writer is not None
    await writer.execute("PRAGMA busy_timeout = 100")
    url = f"/handovers/{handover_id}/sections/childs-views"
    version = version_in((await out.get(url)).text, "version")
    holder = sqlite3.connect(site.db.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        form = form_for(
            section("childs-views", LATEST), complete(checklist=LATEST)["childs-views"], version=int(version)
        )
        assert (await out.post(url, form)).status_code == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await save_childs_views(out, handover_id) == 303


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    "' OR 1=1; DROP TABLE handovers; --",
    "{{ config }}{% for x in range(9999999) %}",
    "${7*7}#{7*7}",
    "\x00\x01\x02\x1b[2J\x1b]0;owned\x07",
    "line one\r\nSet-Cookie: injected=1",
    "مرحبا 你好 Здравствуйте 👩🏽‍⚕️ \u202eevil",
    "A" * 100_000,
    "",
]


async def test_hostile_input_to_every_form_never_breaks_anything(site: Site) -> None:
    people = {name: await site.as_user(name) for name in ("out", "smgr", "rec", "rmgr")}
    draft = await handover_in(site.db, site.world, "draft", "c1")
    endorsed = await handover_in(site.db, site.world, "endorsed", "c2")
    targets = [("out", f"/handovers/{draft}/sections/{s.id}") for s in CHECKLIST.sections]
    targets += [
        ("out", f"/cases/{site.world.cases['c3']}/handover"),
        ("rec", f"/handovers/{endorsed}/confirm/open-risks"),
        ("rec", f"/handovers/{endorsed}/return"),
        ("rec", f"/handovers/{endorsed}/disagreements"),
        ("smgr", f"/handovers/{endorsed}/endorse"),
        ("out", "/sign-in"),
    ]
    tried = 0
    for who, url in targets:
        for text in HOSTILE:
            fields = ["views", "how_gathered", "reason", "readback", "about", "with_whom", "view", "transfer_reason",
                      "receiving_team", "version", "handover_version", "button", "username", "password",
                      "contacts-rows", "has_open_risks", "legal_status", "date_of_birth-day"]  # fmt: skip
            data = {name: text for name in fields} | {"unknown_field": text, "understood": [text, "yes"]}
            response = await people[who].post(url, data)
            tried += 1
            assert response.status_code < 500, (url, repr(text[:30]), response.status_code)
            assert "Traceback" not in response.text
    wrong_method = await people["out"].request("PUT", f"/handovers/{draft}/submit")
    assert wrong_method.status_code == 405
    assert tried == len(targets) * len(HOSTILE)
    handover = await db.handover_by_id(site.db.reader, endorsed)
    assert handover is not None and handover.state == "endorsed", "hostile input changed no state"
    entries = await db.audit_entries(site.db.reader)
    assert [e.entry.seq for e in entries] == list(range(1, len(entries) + 1))


form_keys = st.sampled_from(
    ["views", "how_gathered", "has_open_risks", "no_risks_rationale", "risks-rows", "risks-0-what", "risks-0-rating",
     "risks-1-review_date-day", "risks-0-review_date-month", "legal_status", "date_of_birth-day",
     "date_of_birth-year", "categories", "changes-rows", "changes-0-previous_category", "x", "button", "version"]
)  # fmt: skip
form_values = st.one_of(st.text(max_size=50), st.sampled_from(["yes", "no", "2", "99999", "-1", "31", "2026"]))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(items=st.lists(st.tuples(form_keys, form_values), max_size=30), section_index=st.integers(0, 10))
def test_any_form_gives_answers_or_field_messages_never_an_error(
    items: list[tuple[str, str]], section_index: int
) -> None:
    definition = CHECKLIST.sections[section_index]
    answers = forms.parse_section(definition, FormMultiDict(items))
    errors = validate_section(definition, answers, date(2026, 11, 27))
    assert all(isinstance(key, str) and message for key, message in errors.items())
    for group in definition.groups:
        assert len(answers.groups[group.id]) <= group.max_rows


async def test_autosave_keeps_a_draft_and_says_when(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    page = await out.get(url)
    assert f'hx-post="{url}/autosave"' in page.text and 'id="save-status"' in page.text
    form = latest_form("childs-views", version=0) | {"views": "Half a sentence"}
    saved = await out.post(f"{url}/autosave", form, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Draft saved at" in saved.text
    assert 'id="section-version"' in saved.text and 'hx-swap-oob="true"' in saved.text and 'value="1"' in saved.text
    stored = await db.sections_of(site.db.reader, handover_id)
    assert stored["childs-views"].answers.values["views"] == "Half a sentence"
    assert stored["childs-views"].status == "completed"
    stale = await out.post(f"{url}/autosave", form, headers={"HX-Request": "true"})
    assert "someone else saved this section" in stale.text
    await site.app.stores.get("sessions").delete(out.jar.get("session") or "")
    signed_out = await out.post(f"{url}/autosave", form | {"version": "1"}, headers={"HX-Request": "true"})
    assert "you have been signed out" in signed_out.text
    assert (await db.sections_of(site.db.reader, handover_id))["childs-views"].version == 1


@pytest.mark.parametrize("declared", ["-5", "²", "", "0", "3", "99999"])
async def test_posted_rows_are_kept_whatever_count_the_form_declares_and_any_over_the_limit_are_named(
    site: Site, declared: str
) -> None:
    """Rows are read from what the form holds, not only from its `<group>-rows` count; rows past the limit are
    not kept, and the page says how many were not."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/open-risks"
    answers = complete()["open-risks"]
    row = answers.groups["risks"][0]
    answers.groups["risks"] = [dict(row, what=f"Risk {n}") for n in range(25)]
    form = form_for(section("open-risks"), answers, button="draft") | {"risks-rows": declared}
    page = await out.post(url, form)
    assert page.status_code == 200
    assert "‘Open risks’ can have at most 20 rows: the first 20 were saved, and the other 5 were not" in page.text
    saved = (await db.sections_of(site.db.reader, handover_id))["open-risks"].answers.groups["risks"]
    assert [r["what"] for r in saved] == [f"Risk {n}" for n in range(20)]

    if declared in ("-5", "²", "", "0"):  # a count that declares no rows: the rows posted are what is kept
        two = dict(answers.groups) | {"risks": answers.groups["risks"][:2]}
        form = form_for(section("open-risks"), type(answers)(values=answers.values, groups=two), button="draft")
        form |= {"risks-rows": declared, "version": version_in(page.text, "version")}
        assert (await out.post(url, form)).status_code == 303
        saved = (await db.sections_of(site.db.reader, handover_id))["open-risks"].answers.groups["risks"]
        assert [r["what"] for r in saved] == ["Risk 0", "Risk 1"]


async def test_autosave_says_when_rows_were_not_kept(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete()["open-risks"]
    answers.groups["risks"] = [dict(answers.groups["risks"][0], what=f"Risk {n}") for n in range(25)]
    form = form_for(section("open-risks"), answers, button="draft")
    status = await out.post(f"/handovers/{handover_id}/sections/open-risks/autosave", form)
    assert "Draft saved at" in status.text and "Some rows were not saved" in status.text
    saved = (await db.sections_of(site.db.reader, handover_id))["open-risks"].answers.groups["risks"]
    assert len(saved) == 20


@pytest.mark.parametrize(
    ("names", "kept"),
    [
        (["risks-0000001-what"], []),  # not a row number the form writes: not read as row 1
        (["risks-999999-what"], ["risks-999999-what"]),  # a form that skips numbers loses no row
        (["risks-3-what", "risks-1-what"], ["risks-1-what", "risks-3-what"]),
    ],
)
async def test_rows_are_read_as_the_form_writes_them_and_none_is_lost_to_a_gap(
    site: Site, names: list[str], kept: list[str]
) -> None:
    from service.web import forms

    form = FormMultiDict([("has_open_risks", "yes"), ("risks-rows", "0"), *((name, name) for name in names)])
    answers = forms.parse_section(section("open-risks"), form)
    assert [row["what"] for row in answers.groups["risks"]] == kept
    assert forms.rows_not_kept(section("open-risks"), form) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([("has_open_risks", "no")], "Are there any open risks to the child?: send one answer, not several"),
        ([("risks-0-what", "Another")], "What is the risk?: send one answer, not several"),
        ([("risks-0-review_date-day", "2")], "When will this risk next be reviewed?: send one answer, not several"),
        ([("version", "7")], "The version of the page: send one answer, not several"),
    ],
)
async def test_a_question_answered_twice_in_one_form_is_refused_not_read_as_the_first(
    site: Site, extra: list[tuple[str, str]], message: str
) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/open-risks"
    from urllib.parse import urlencode

    form = list(form_for(section("open-risks"), complete()["open-risks"], button="draft").items()) + extra
    body = urlencode([*form, ("_csrf_token", out.csrf)], doseq=True)
    page = await out.request("POST", url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert page.status_code == 400 and message in page.text
    assert await db.sections_of(site.db.reader, handover_id) == {}


@pytest.mark.parametrize(
    ("who", "state"), [("smgr", "draft"), ("aud", "draft"), ("out", "submitted"), ("out", "closed")]
)
@pytest.mark.parametrize(
    "extra",
    [[("version", "7")], [("has_open_risks", "no")], [("button", "add:risks")]],
    ids=["version twice", "answer twice", "row button"],
)
async def test_a_section_form_is_drawn_again_only_for_someone_who_may_change_it(
    site: Site, who: str, state: str, extra: list[tuple[str, str]]
) -> None:
    """An answer sent twice, or a button that adds a row, draws the section's form again without saving: for its
    author on a handover they may change. Anyone else (its manager, an auditor, the author once it has gone on) is
    told why they may not change it, as a save would tell them, and is not given the form."""
    from urllib.parse import urlencode

    from tests.helpers import handover_in

    handover_id = await handover_in(site.db, site.world, state, "mia")
    person = await site.as_user(who)
    url = f"/handovers/{handover_id}/sections/open-risks"
    form = list(form_for(section("open-risks"), complete()["open-risks"], button="draft").items())
    if extra[0][0] == "button":
        form = [(name, value) for name, value in form if name != "button"]
    body = urlencode([*form, *extra, ("_csrf_token", person.csrf)])
    page = await person.request(
        "POST", url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert page.status_code in {403, 404, 409}, (who, state, page.status_code)
    assert 'name="has_open_risks"' not in page.text and "send one answer, not several" not in page.text
