"""The sign-out warning's server side: pages say how long the session has, "Stay signed in" really extends it (a
form post like any other: signed in, with the CSRF token), and the sign-in page says why a person was signed out when
the session ended by itself, and only then."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pytest

from service.settings import SettingsError, settings_from_env
from service.web.timeout import IDLE, LIMIT
from tests.conftest import Site

pytestmark = pytest.mark.anyio

IDLE_MESSAGE = "You were signed out because you had not done anything for 30 minutes."
LIMIT_MESSAGE = "You were signed out because you had been signed in for 12 hours"


def text_of(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


async def test_every_signed_in_page_says_how_long_the_session_has(site: Site) -> None:
    out = await site.as_user("out")
    page = (await out.get("/")).text
    assert 'data-session-idle="1800"' in page
    left = int(page.split('data-session-left="', 1)[1].split('"', 1)[0])
    assert 12 * 3600 - 60 < left <= 12 * 3600
    assert 'id="timeout-dialog"' in page and "/static/session-timeout.js" in page
    anonymous = (await (await site.as_user(None)).get("/sign-in")).text
    assert "data-session-idle" not in anonymous and "timeout-dialog" not in anonymous


async def test_staying_signed_in_extends_the_session(site: Site) -> None:
    out = await site.as_user("out")
    session_id = out.jar.get("session")
    assert session_id
    store = site.app.stores.get("sessions")
    data = await store.get(session_id)
    assert data is not None
    await store.set(session_id, data, expires_in=100)  # 28 minutes have passed with nothing done
    response = await out.post("/session/keep-alive", headers={"x-csrftoken": out.csrf})
    assert response.status_code == 200
    assert response.json()["idle"] == 1800 and response.json()["left"] > 12 * 3600 - 60
    renewed = await store.expires_in(session_id)
    assert renewed is not None and renewed > 1700, "the idle timeout starts again"


async def test_staying_signed_in_needs_the_csrf_token(site: Site) -> None:
    out = await site.as_user("out")
    refused = await out.request("POST", "/session/keep-alive")
    assert refused.status_code == 403
    assert "Your form could not be sent" in text_of(refused)
    wrong = await out.request("POST", "/session/keep-alive", headers={"x-csrftoken": "not-the-token"})
    assert wrong.status_code == 403 and "Your form could not be sent" in text_of(wrong)


async def test_staying_signed_in_is_refused_once_signed_out(site: Site) -> None:
    out = await site.as_user("out")
    await out.post("/sign-out")
    response = await out.post("/session/keep-alive", headers={"x-csrftoken": out.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    nobody = await site.as_user(None)
    response = await nobody.post("/session/keep-alive", headers={"x-csrftoken": nobody.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


async def test_the_sign_in_page_says_so_after_an_idle_timeout(site: Site) -> None:
    out = await site.as_user("out")
    await site.app.stores.get("sessions").delete(out.jar.get("session"))  # 30 minutes pass with nothing done
    response = await out.get("/")
    assert response.status_code == 303 and response.headers["location"] == f"/sign-in?ended={IDLE}"
    page = text_of(await out.get(response.headers["location"]))
    assert IDLE_MESSAGE in page
    assert "With JavaScript on, a handover section's answers are saved as you type" in page
    assert "Anything else you had typed but not sent has not been kept." in page
    assert "govuk-notification-banner" in page
    htmx = await out.get("/", headers={"hx-request": "true"})
    assert htmx.headers["hx-redirect"] == f"/sign-in?ended={IDLE}", "an htmx request loads the same page in full"


async def test_the_sign_in_page_says_so_after_the_absolute_limit(site: Site) -> None:
    out = await site.as_user("out")
    site.app.state.absolute_timeout = 0
    response = await out.get("/")
    assert response.status_code == 303 and response.headers["location"] == f"/sign-in?ended={LIMIT}"
    site.app.state.absolute_timeout = 12 * 3600
    assert LIMIT_MESSAGE in text_of(await out.get(response.headers["location"]))


async def test_the_sign_in_page_says_nothing_of_a_timeout_after_signing_out(site: Site) -> None:
    out = await site.as_user("out")
    signed_out = await out.post("/sign-out")
    assert signed_out.headers["location"] == "/sign-in"
    assert IDLE_MESSAGE not in text_of(await out.get("/sign-in"))
    later = await out.get("/")
    assert later.status_code == 303 and later.headers["location"] == "/sign-in", "signed out: no timeout to explain"
    never = await site.as_user(None)
    assert (await never.get("/")).headers["location"] == "/sign-in", "never signed in: nothing to explain"


async def test_a_live_session_is_not_told_it_ended(site: Site) -> None:
    """Another tab kept the session going while this one's countdown ran out."""
    out = await site.as_user("out")
    assert IDLE_MESSAGE not in text_of(await out.get(f"/sign-in?ended={IDLE}"))


async def test_the_idle_time_may_be_short_for_trying_the_warning_out(tmp_path: Path) -> None:
    base = {"HANDOVER_DATA_DIR": str(tmp_path)}
    assert settings_from_env({**base, "HANDOVER_SESSION_IDLE_MINUTES": "0.5"}).session_idle_minutes == 0.5
    with pytest.raises(SettingsError):
        settings_from_env({**base, "HANDOVER_SESSION_IDLE_MINUTES": "0.1"})


async def test_the_keep_alive_is_not_counted_as_a_page_in_the_audit_trail(site: Site) -> None:
    from service import db

    out = await site.as_user("out")
    before = await db.last_audit_entry(site.db.reader)
    started = time.monotonic()
    await out.post("/session/keep-alive", headers={"x-csrftoken": out.csrf})
    assert time.monotonic() - started < 5
    assert await db.last_audit_entry(site.db.reader) == before
