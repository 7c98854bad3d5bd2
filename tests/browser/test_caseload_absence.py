"""A handover returned to a worker while their long-term absence is recorded: the caseload page warns that it waits
on someone who is away, and the manager continues it on their behalf (without JavaScript, then checked with it).
Every page state reached is scanned by axe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser


def test_a_handover_returned_while_the_worker_is_away_is_continued_by_the_manager(
    person: Callable[..., Person], server: Server
) -> None:
    away = server.world.users["awayer"]
    manager = person("awaymgr", javascript=False)
    manager.goto(f"/caseloads/{away}")
    expect(manager.heading("Awayer’s caseload")).to_be_visible()
    expect(manager.page.get_by_text("waits on Awayer while they are absent")).to_be_visible()
    manager.press("Continue it on their behalf")
    expect(manager.heading("Awayer’s caseload")).to_be_visible()
    expect(manager.page.get_by_role("button", name="Continue it on their behalf")).to_have_count(0)
    expect(manager.page.get_by_text("Written by Awaymgr")).to_be_visible()

    with_js = person("awaymgr")
    with_js.goto(f"/caseloads/{away}")
    expect(with_js.page.get_by_role("button", name="Awayer is back")).to_be_visible()
    expect(with_js.page.get_by_role("button", name="Continue it on their behalf")).to_have_count(0)
