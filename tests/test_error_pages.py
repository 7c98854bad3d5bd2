"""Error pages say what happened, in words for the person it happened to: a page their role does not open (they only
followed a link: nothing about forms), an action their role may not take, a form refused because its security token
was missing or out of date, and an address that shows nothing."""

from __future__ import annotations

import html
from typing import Any

import pytest
from litestar import post

from service.web.guards import managers_only
from tests.conftest import Site
from tests.helpers import start

pytestmark = pytest.mark.anyio


def words(response: Any) -> str:
    return html.unescape(response.text)  # type: ignore[no-any-return]


async def test_a_page_the_role_does_not_open_says_so_without_talking_of_forms(site: Site) -> None:
    out = await site.as_user("out")
    response = await out.get("/audit/incomplete")
    assert response.status_code == 403
    page = words(response)
    assert "<title>You do not have access to this page" in page
    assert "Only team managers, service managers and auditors can see handovers across a team." in page
    assert "ask your team manager or your service administrator" in page
    for wrong in ("reload", "submitted a form", "Go back"):
        assert wrong not in page, wrong


async def test_an_action_the_role_may_not_take_says_nothing_changed(site: Site) -> None:
    @post("/test-only/managers-action", guards=[managers_only])
    async def managers_action() -> str:
        return "done"

    site.app.register(managers_action)
    out = await site.as_user("out")
    response = await out.post("/test-only/managers-action")
    assert response.status_code == 403
    page = words(response)
    assert "<title>You cannot do this" in page
    assert "Only team managers can do this." in page and "Nothing has been changed." in page
    assert "reload" not in page


async def test_a_form_without_its_security_token_says_to_reload_and_send_again(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    for token in ("", "a-token-from-an-old-page"):
        response = await out.request("POST", url, data={"_csrf_token": token, "views": "x"} if token else {"v": "x"})
        assert response.status_code == 403
        page = words(response)
        assert "<title>Your form could not be sent" in page
        assert "Nothing has been saved or changed." in page
        assert "reload it, and send the form again" in page
        assert "You do not have access" not in page


async def test_page_not_found_explains_the_handovers_a_person_cannot_see(site: Site) -> None:
    out = await site.as_user("other")
    response = await out.get("/handovers/999999/view")
    assert response.status_code == 404
    page = words(response)
    assert "If you typed the web address, check it is correct." in page
    assert "it may be one that your role or team does not let you see" in page


async def test_other_errors_have_a_heading_and_a_sentence(site: Site) -> None:
    out = await site.as_user("out")
    response = await out.request("DELETE", "/")
    assert response.status_code == 405
    page = words(response)
    assert '<h1 class="govuk-heading-l">This page cannot be used in that way</h1>' in page
    assert "Use the links and buttons on the service's pages." in page
