"""Signing in with the council's provider in a real browser: the service (its own process, configured with a real
OpenID provider on loopback) and the provider's own sign-in page, with axe-core on every page of the service's."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from service import db
from tests.browser.conftest import _free_port, _wait_until_up
from tests.browser.support import Axe, Person, new_person
from tests.conftest import seed
from tests.oidc_support import OpenIdProvider, running_provider


async def _seed(path: Path) -> None:
    database = db.SqliteDatabase(path)
    await database.open()
    try:
        await seed(database)
    finally:
        await database.close()


@pytest.fixture(scope="module")
def oidc_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, OpenIdProvider]]:
    """The service on a loopback port, signing people in with a provider of its own."""
    data_dir = tmp_path_factory.mktemp("handover-oidc-browser")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    for council in running_provider(data_dir / "provider", [url]):
        council.set_accounts({
            "ann": {"name": "Ann Example", "email": "ann@example.gov.uk", "email_verified": True,
                    "groups": ["g-north-workers"]},
            "nat": {"name": "Nat Nobody", "email": "nat@example.gov.uk", "email_verified": True, "groups": []},
        })  # fmt: skip
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API may be running a loop in this thread
            pool.submit(asyncio.run, _seed(data_dir / "handover.db")).result()
        env = {
            **os.environ,
            "HANDOVER_DATA_DIR": str(data_dir),
            "HANDOVER_HOST": "127.0.0.1",
            "HANDOVER_PORT": str(port),
            "HANDOVER_SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
            "HANDOVER_MODE": "demo",
            "HANDOVER_BASE_URL": url,
            **council.settings(),
        }
        env.pop("HANDOVER_DATABASE", None)
        log_path = data_dir / "server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "handover"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            _wait_until_up(url, process, log_path)
            yield url, council
        finally:
            process.terminate()
            process.wait(timeout=10)


def _at_the_provider(person: Person, login: str) -> None:
    """Press the service's button, then sign in on the provider's own page (not the service's: axe is not run)."""
    person.goto("/sign-in")
    with person.page.expect_navigation():
        person.page.get_by_role("button", name="Sign in with Example Council").click()
    person.page.locator('input[name="login"]').fill(login)
    person.page.locator('input[name="password"]').fill("anything")
    with person.page.expect_navigation(url=lambda address: address.startswith(person.base_url)):
        person.page.locator('button[type="submit"]').click()
    # what the provider's own development page could not load (a web font, offline here) is not the service's
    person.errors[:] = [error for error in person.errors if "fonts.googleapis.com" not in error]


def _person(browser: Browser, url: str, axe: Axe, javascript: bool) -> Person:
    someone = new_person(browser, url, axe, javascript=javascript)
    someone.base_url = url  # type: ignore[attr-defined]
    return someone


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_a_worker_signs_in_with_the_council_account_and_out_again_at_the_provider(
    browser: Browser, axe: Axe, oidc_service: tuple[str, OpenIdProvider], javascript: bool
) -> None:
    url, council = oidc_service
    ann = _person(browser, url, axe, javascript)
    try:
        _at_the_provider(ann, "ann")
        ann.check("home after signing in with the council's provider")
        expect(ann.page.get_by_text("Signed in as Ann Example")).to_be_visible()
        with ann.page.expect_navigation(url=lambda address: address.startswith(f"{council.issuer}/session/end")):
            ann.page.get_by_role("button", name="Sign out").click()
        with ann.page.expect_navigation(url=lambda address: address.startswith(f"{url}/sign-in")):
            ann.page.locator('button[autofocus], button[type="submit"]').first.click()  # the provider's "Yes, sign out"
        ann.errors[:] = [error for error in ann.errors if "fonts.googleapis.com" not in error]
        ann.check("sign-in page after signing out at the provider")
        ann.page.goto("/")
        expect(ann.page).to_have_url(f"{url}/sign-in")
    finally:
        ann.context.close()


def test_a_person_in_no_handover_group_is_told_whom_to_ask(
    browser: Browser, axe: Axe, oidc_service: tuple[str, OpenIdProvider]
) -> None:
    url, _ = oidc_service
    nat = _person(browser, url, axe, True)
    try:
        _at_the_provider(nat, "nat")
        nat.check("no access page")
        expect(nat.page.get_by_role("heading", name="You do not have access to Handover")).to_be_visible()
        expect(nat.page.get_by_text("is not in any group that gives access to Handover")).to_be_visible()
    finally:
        nat.context.close()
