"""The session ends while a form is open: adding a row with JavaScript on takes the browser to the sign-in page in
full (not swapped into the form), what was typed is kept, and it is saved once the worker signs in again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_adding_a_row_after_the_session_ended_goes_to_sign_in_and_keeps_what_was_typed(
    person: Callable[..., Person], server: Server
) -> None:
    world = server.world
    client = Client(server.url, "out")
    handover_id = client.start(world.cases["c5"], world.teams["cp"], world.users["rec"])
    client.close()

    out = person("out")
    out.goto(f"/handovers/{handover_id}/sections/network")
    out.type_in("Name", "Dr A. Khan")
    out.page.context.clear_cookies(name="session")  # the idle timeout passes: the server no longer knows the browser

    out.page.get_by_role("button", name="Add another professional", exact=True).click()
    expect(out.heading("Sign in to Handover")).to_be_visible()  # the whole page, not a form swapped into a form
    assert out.page.url.endswith("/sign-in?resume=1")
    expect(out.page.get_by_text("What you typed has been kept")).to_be_visible()
    expect(out.page.get_by_text("Signed in as")).to_have_count(0)
    out.check("sign-in page after the session ended")

    out.page.get_by_label("Username", exact=True).fill("out")
    out.page.get_by_label("Password", exact=True).fill(PASSWORD)
    out.press("Sign in")
    assert out.page.url.endswith(f"/handovers/{handover_id}/sections/network?resumed=saved")
    expect(out.page.get_by_text("What you typed has been saved as a draft")).to_be_visible()
    expect(out.page.get_by_label("Name", exact=True).first).to_have_value("Dr A. Khan")
