"""The sign-in page explains a timeout only when the service itself found this browser's session ended: the
address alone (`/sign-in?ended=idle`) cannot make it tell someone they were signed out."""

from __future__ import annotations

import html
import time

import pytest

from service.web.timeout import ENDED_COOKIE, IDLE, LIMIT
from tests.conftest import Site

pytestmark = pytest.mark.anyio

IDLE_MESSAGE = "You were signed out because you had not done anything for 30 minutes."
LIMIT_MESSAGE = "You were signed out because you had been signed in"


def text_of(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


async def test_a_browser_never_signed_in_is_not_told_it_timed_out(site: Site) -> None:
    never = await site.as_user(None)
    for reason in (IDLE, LIMIT):
        page = text_of(await never.get(f"/sign-in?ended={reason}"))
        assert "You were signed out" not in page


async def test_a_made_up_or_stale_flag_is_not_believed(site: Site) -> None:
    never = await site.as_user(None)
    old = str(int(time.time()) - 3600)
    for value in (f"{IDLE}.{int(time.time())}.{'0' * 64}", "idle", f"{IDLE}.{old}.{'a' * 64}"):
        never.jar.set(ENDED_COOKIE, value)
        assert "You were signed out" not in text_of(await never.get(f"/sign-in?ended={IDLE}"))


async def test_the_message_follows_the_timeout_once_then_clears(site: Site) -> None:
    out = await site.as_user("out")
    await site.app.stores.get("sessions").delete(out.jar.get("session"))  # 30 minutes pass with nothing done
    ended = await out.get("/")
    assert ended.status_code == 303
    assert IDLE_MESSAGE in text_of(await out.get("/sign-in"))  # the address says nothing: the flag does
    assert out.jar.get(ENDED_COOKIE) is None, "said once"
    assert "You were signed out" not in text_of(await out.get(f"/sign-in?ended={IDLE}"))


async def test_an_htmx_request_that_finds_the_session_ended_sets_the_flag_too(site: Site) -> None:
    out = await site.as_user("out")
    await site.app.stores.get("sessions").delete(out.jar.get("session"))
    htmx = await out.get("/", headers={"hx-request": "true"})
    assert htmx.headers["hx-redirect"] == f"/sign-in?ended={IDLE}"
    assert IDLE_MESSAGE in text_of(await out.get(htmx.headers["hx-redirect"]))


async def test_another_browser_cannot_borrow_the_message_by_address(site: Site) -> None:
    out = await site.as_user("out")
    site.app.state.absolute_timeout = 0
    assert (await out.get("/")).headers["location"] == f"/sign-in?ended={LIMIT}"
    site.app.state.absolute_timeout = 12 * 3600
    assert LIMIT_MESSAGE in text_of(await out.get(f"/sign-in?ended={LIMIT}"))
    other = await site.as_user(None)
    assert LIMIT_MESSAGE not in text_of(await other.get(f"/sign-in?ended={LIMIT}"))
