"""The sign-out warning in a real browser, on a service of its own whose idle timeout is 30 seconds (so the warning
comes after 15): the dialog takes focus, is checked with axe, "Stay signed in" and Escape really keep the session,
and when time runs out the sign-in page says why. Then finding a child and the two statements, with JavaScript on
and off."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service import db
from tests.browser.conftest import Server, _free_port, _seed, _wait_until_up
from tests.browser.support import Axe, Client, Person, new_person

pytestmark = pytest.mark.browser

IDLE_SECONDS = 30  # HANDOVER_SESSION_IDLE_MINUTES=0.5: the warning comes halfway, 15 seconds in


@pytest.fixture(scope="module")
def short_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service, as the package's `server` fixture starts it, with a 30-second idle timeout."""
    data_dir = tmp_path_factory.mktemp("handover-short-session")
    with ThreadPoolExecutor(max_workers=1) as pool:
        world = pool.submit(asyncio.run, _seed(db.SqliteDatabase(data_dir / "handover.db"))).result()
    port = _free_port()
    env = {
        **os.environ,
        "HANDOVER_DATA_DIR": str(data_dir),
        "HANDOVER_HOST": "127.0.0.1",
        "HANDOVER_PORT": str(port),
        "HANDOVER_SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
        "HANDOVER_MODE": "demo",
        "HANDOVER_SESSION_IDLE_MINUTES": str(IDLE_SECONDS / 60),
    }
    env.pop("HANDOVER_DATABASE", None)
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "handover"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log_path)
        yield Server(url=url, world=world, data_dir=data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_sign_out_warning_keeps_a_person_signed_in_and_says_why_when_it_did_not(
    browser: Browser, axe: Axe, short_session_server: Server
) -> None:
    out = new_person(browser, short_session_server.url, axe, javascript=True)
    try:
        out.sign_in("out")
        page = out.page
        dialog = page.get_by_role("dialog", name="You’re about to be signed out")
        expect(dialog).to_be_hidden()

        # the warning comes before the end, takes focus, and says how long is left
        expect(dialog).to_be_visible(timeout=(IDLE_SECONDS // 2 + 5) * 1000)
        stay = dialog.get_by_role("button", name="Stay signed in")
        expect(stay).to_be_focused()
        expect(dialog.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.locator("#timeout-countdown")).to_have_text(re.compile(r"^\d+ seconds?$"))
        expect(page.locator("#timeout-announce")).to_have_text(re.compile(r"^You will be signed out in "))
        out.check("the sign-out warning")
        out.screenshot("sign-out-warning")

        # staying signed in extends the session on the server: past the first deadline, the page still opens
        signed_in_at = time.monotonic()
        stay.click()
        expect(dialog).to_be_hidden()
        time.sleep(max(0.0, IDLE_SECONDS / 2 + 3 - (time.monotonic() - signed_in_at)))  # past the old deadline
        out.goto("/")
        expect(out.heading("Sign in to Handover")).to_have_count(0)
        expect(page.get_by_text("Signed in as Out")).to_be_visible()

        # Escape does the same as "Stay signed in"
        expect(dialog).to_be_visible(timeout=(IDLE_SECONDS // 2 + 5) * 1000)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        # doing nothing: the warning comes back, then the browser is signed out and told why
        expect(dialog).to_be_visible(timeout=(IDLE_SECONDS // 2 + 5) * 1000)
        page.wait_for_url(re.compile(r"/sign-in\?ended=idle$"), timeout=(IDLE_SECONDS + 10) * 1000)
        expect(out.heading("Sign in to Handover")).to_be_visible()
        expect(
            page.get_by_text("You were signed out because you had not done anything for 30 seconds.")
        ).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        out.check("sign-in page after the idle timeout")
    finally:
        out.context.close()


def test_without_javascript_there_is_no_dialog_and_the_sign_in_page_says_why(
    browser: Browser, axe: Axe, short_session_server: Server
) -> None:
    out = new_person(browser, short_session_server.url, axe, javascript=False)
    try:
        out.sign_in("out")
        expect(out.page.locator("#timeout-dialog")).to_be_hidden()
        out.page.context.clear_cookies(name="session")  # the idle timeout passes: the server no longer knows it
        out.goto("/")
        assert out.page.url.endswith("/sign-in?ended=idle")
        expect(out.page.get_by_text("You were signed out because you had not done anything")).to_be_visible()
    finally:
        out.context.close()


@pytest.fixture(scope="module")
def child_11(server: Server) -> int:
    """A handover for Child 11 (a case no other browser test hands over), from north to the cp team."""
    client = Client(server.url, "out")
    handover_id = client.start(server.world.cases["c11"], server.world.teams["cp"], server.world.users["rec"])
    client.close()
    return handover_id


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_manager_finds_a_child_and_opens_the_handover(
    person: Callable[..., Person], child_11: int, javascript: bool
) -> None:
    smgr = person("smgr", javascript=javascript)
    smgr.goto("/queue")
    smgr.follow("Find a child")
    expect(smgr.heading("Find a child")).to_be_visible()

    smgr.press("Search")  # nothing typed
    expect(smgr.page.get_by_role("link", name="Enter a child's name or case reference")).to_be_visible()
    expect(smgr.page).to_have_title(re.compile("^Error: Find a child"))

    smgr.page.get_by_label("Find a child").fill("CHILD 11")
    smgr.press("Search")
    results = smgr.page.get_by_role("table")
    expect(smgr.heading(re.compile(r"^1 handover found$"), level=2)).to_be_visible()
    if javascript:
        smgr.screenshot("find-a-child")
    smgr.follow(re.compile("^Child 11"), scope=results)
    assert smgr.page.url.endswith(f"/handovers/{child_11}/view")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_statements_open_from_the_footer_without_signing_in(
    person: Callable[..., Person], javascript: bool
) -> None:
    visitor = person(None, javascript=javascript)
    visitor.goto("/sign-in")
    footer = visitor.page.locator("footer")
    visitor.follow("Accessibility statement", scope=footer)
    expect(visitor.heading("Accessibility statement for Handover")).to_be_visible()
    expect(visitor.heading("Enforcement procedure", level=2)).to_be_visible()
    visitor.follow("Privacy notice", scope=visitor.page.locator("footer"))
    expect(visitor.heading("Privacy notice for Handover")).to_be_visible()
    expect(visitor.heading("How to complain", level=2)).to_be_visible()


def test_the_report_scrolls_sideways_in_a_labelled_region_on_a_narrow_screen(
    person: Callable[..., Person], child_11: int
) -> None:
    aud = person("aud")
    aud.page.set_viewport_size({"width": 400, "height": 800})
    aud.goto("/audit/incomplete")
    region = aud.page.get_by_role("region", name=re.compile("^Incomplete handovers table"))
    expect(region).to_be_visible()
    assert region.evaluate("(el) => el.scrollWidth > el.clientWidth"), "the table scrolls inside its region"
    region.focus()
    expect(region).to_be_focused()
    aud.check("the report on a narrow screen")
