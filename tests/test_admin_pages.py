"""The administrator's pages for joiners, movers and leavers, through HTTP: who may reach them, what each form does
and says when something is wrong, and that a leaver's sessions and API tokens stop the moment the account is
disabled."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from service import actions, db
from service.core import accounts as rules
from service.core.errors import Invalid
from tests.conftest import PASSWORD, Site
from tests.helpers import act, handover_in, submit
from tests.test_api import call

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a brand new long password"


def admin_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every route under /admin, read from the app's own route table."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/admin"):
            found += [(method, route.path) for method in sorted(route.methods) if method not in ("OPTIONS", "HEAD")]
    return found


def filled(path: str, site: Site) -> str:
    path = re.sub(r"\{case_id:int\}", str(site.world.cases["zoe"]), path)
    return re.sub(r"\{user_id:int\}", str(site.world.users["rec2"]), path)


async def test_there_are_admin_routes_to_check(site: Site) -> None:
    routes = admin_routes(site.app)
    assert ("GET", "/admin/people") in routes and ("POST", "/admin/people/{user_id:int}/disable") in routes
    assert len(routes) >= 14


@pytest.mark.parametrize("username", ["out", "smgr", "rec", "aud"])
async def test_nobody_but_an_administrator_reaches_any_admin_route(site: Site, username: str) -> None:
    person = await site.as_user(username)
    for method, path in admin_routes(site.app):
        response = await person.request(method, filled(path, site), data={"_csrf_token": person.csrf})
        assert response.status_code == 403, (method, path, response.status_code)
    rec2 = await db.user_by_id(site.db.reader, site.world.users["rec2"])
    assert rec2 is not None and not rec2.disabled


async def test_signed_out_the_admin_routes_ask_for_sign_in(site: Site) -> None:
    anyone = await site.as_user(None)
    for method, path in admin_routes(site.app):
        if method == "GET":
            response = await anyone.get(filled(path, site))
            assert (response.status_code, response.headers["location"]) == (303, "/sign-in"), path


async def test_every_admin_form_needs_the_csrf_token(site: Site) -> None:
    admin = await site.as_user("adm")
    for method, path in admin_routes(site.app):
        if method == "POST":
            response = await admin.request("POST", filled(path, site), data={"name": "x"})
            assert response.status_code == 403, path
    rec2 = await db.user_by_id(site.db.reader, site.world.users["rec2"])
    assert rec2 is not None and not rec2.disabled


async def test_the_people_list_shows_who_everyone_is_and_what_they_hold(site: Site) -> None:
    await actions.add_person(
        site.db, username="jo", full_name="Jo Joiner", email="jo@example.gov.uk", password=NEW_PASSWORD,
        roles=actions.TeamRoles(worker=["South Team"]), by=None,
    )  # fmt: skip
    page = (await (await site.as_user("adm")).get("/admin/people")).text
    assert "Jo Joiner" in page and "jo@example.gov.uk" in page and "South Team (worker)" in page
    row = page[page.index(">Out<") :]
    row = row[: row.index("</tr>")]
    assert "North Team (worker)" in row and "Enabled" in row and ">10<" in row
    assert "Administrator" in page and "Auditor" in page


async def test_adding_a_person_with_mistakes_shows_each_message_by_its_field(site: Site) -> None:
    admin = await site.as_user("adm")
    response = await admin.post(
        "/admin/people/new", {"name": "Jo", "username": "", "email": "jo@nowhere", "password": "short"}
    )
    assert response.status_code == 400
    page = response.text
    assert "There is a problem" in page and 'href="#username"' in page and 'href="#email"' in page
    assert 'href="#worker"' in page, "no team chosen: the message links to the first team checkbox"
    assert "Enter an email address in the correct format" in page
    assert 'id="email-error"' in page and 'value="jo@nowhere"' in page
    assert "short" not in re.findall(r'name="password"[^>]*', page)[0], "a password is never shown again"
    assert await db.user_by_username(site.db.reader, "Jo") is None


async def test_an_administrator_adds_a_person_who_can_then_sign_in(site: Site) -> None:
    admin = await site.as_user("adm")
    response = await admin.post(
        "/admin/people/new",
        {"name": "Jo Joiner", "username": "jo", "email": "jo@example.gov.uk", "password": NEW_PASSWORD,
         "worker": "Cp Team"},  # one box ticked arrives as a single value
    )  # fmt: skip
    assert response.status_code == 303
    page = (await admin.get(response.headers["location"])).text
    assert "Jo Joiner has been added" in page and "jo@example.gov.uk" in page and "Cp Team (worker)" in page
    jo = await site.as_user(None)
    assert (await jo.sign_in("jo", NEW_PASSWORD)).status_code == 303
    entry = (await db.last_audit_entry(site.db.reader))[1]
    assert entry is not None


async def test_an_administrator_moves_a_person_between_teams(site: Site) -> None:
    admin = await site.as_user("adm")
    user_id = site.world.users["out2"]
    form = (await admin.get(f"/admin/people/{user_id}/roles")).text
    assert re.search(r'value="North Team"\s+checked', form)
    response = await admin.post(f"/admin/people/{user_id}/roles", {"worker": ["South Team"], "manager": "Cp Team"})
    assert response.status_code == 303
    page = (await admin.get(response.headers["location"])).text
    assert "teams and roles have been changed" in page and "South Team (worker)" in page
    refused = await admin.post(f"/admin/people/{site.world.users['out']}/roles", {"worker": "South Team"})
    assert refused.status_code == 400 and "still holds cases in North Team" in refused.text


async def test_an_administrator_resets_a_password(site: Site) -> None:
    before = await site.as_user("rec2")  # a session begun with the old password
    assert (await before.get("/")).status_code == 200
    admin = await site.as_user("adm")
    user_id = site.world.users["rec2"]
    assert (await admin.post(f"/admin/people/{user_id}/password", {"password": "short"})).status_code == 400
    assert (await before.get("/")).status_code == 200, "a refused reset ends nothing"
    response = await admin.post(f"/admin/people/{user_id}/password", {"password": NEW_PASSWORD})
    assert response.status_code == 303
    assert "password has been reset" in (await admin.get(response.headers["location"])).text
    ended = await before.get("/")  # the reset ends the sessions begun before it, and the sign-in page says why
    assert (ended.status_code, ended.headers["location"]) == (303, "/sign-in?ended=reset")
    assert "an administrator reset your password" in (await before.get("/sign-in")).text
    assert (await admin.get("/admin/people")).status_code == 200, "the administrator's own session goes on"
    assert (await (await site.as_user(None)).sign_in("rec2", PASSWORD)).status_code == 400
    assert (await (await site.as_user(None)).sign_in("rec2", NEW_PASSWORD)).status_code == 303


async def test_disabling_a_leaver_moves_their_cases_and_ends_their_session_and_token_at_once(site: Site) -> None:
    await handover_in(site.db, site.world, "draft", "mia")
    _, token = await actions.issue_personal_api_token(site.db, username="out", scope="read")
    leaver = await site.as_user("out")
    assert (await leaver.get("/")).status_code == 200
    assert (await call(site, token, "GET", f"/cases/{site.world.cases['mia']}")).status_code == 200
    admin = await site.as_user("adm")
    user_id = site.world.users["out"]
    check = (await admin.get(f"/admin/people/{user_id}/disable")).text
    assert "Check before you disable this account" in check and "Mia Test (T-1)" in check
    done = await admin.post(f"/admin/people/{user_id}/disable")
    assert done.status_code == 200 and "Account disabled" in done.text
    assert "Mia Test: held by Both" in done.text and "continues with Both acting on behalf of Out" in done.text
    # the leaver's open session and token stop on their next request
    after = await leaver.get("/")
    assert (after.status_code, after.headers["location"]) == (303, "/sign-in?ended=disabled")
    told = (await leaver.get("/sign-in")).text
    assert "your account is no longer enabled" in told and "had not done anything" not in told
    assert (await call(site, token, "GET", f"/cases/{site.world.cases['mia']}")).status_code == 401
    holder = (await admin.get(f"/admin/people/{site.world.users['both']}")).text
    assert rules.HELD_PENDING_TRANSFER in holder
    people = (await admin.get("/admin/people")).text
    row = people[people.index(">Out<") :]
    assert "Disabled" in row[: row.index("</tr>")]


async def test_a_leaver_whose_team_has_no_manager_is_refused_with_what_to_do(site: Site) -> None:
    await actions.disable_person(site.db, user_id=site.world.users["omgr"], by=None)
    admin = await site.as_user("adm")
    response = await admin.post(f"/admin/people/{site.world.users['other']}/disable")
    assert response.status_code == 400
    assert 'href="#disable"' in response.text and "Add a manager to South Team first" in response.text


async def test_a_person_who_is_not_there_is_not_found(site: Site) -> None:
    admin = await site.as_user("adm")
    assert (await admin.get("/admin/people/99999")).status_code == 404


async def test_services_and_the_head_of_service_are_set_on_the_teams_page(site: Site) -> None:
    admin = await site.as_user("adm")
    blank = await admin.post("/admin/services", {"name": " ", "service_manager": ""})
    assert blank.status_code == 400 and "Enter the service&#39;s name" in blank.text
    assert (await admin.post("/admin/services", {"name": "Early help", "service_manager": "smgr"})).status_code == 303
    placed = await admin.post("/admin/teams/service", {"team": "North Team", "service": "Early help"})
    assert placed.status_code == 303
    moved = await admin.post("/admin/services/manager", {"managed_service": "Early help", "service_manager": "rmgr"})
    assert moved.status_code == 303
    wrong = await admin.post("/admin/services/manager", {"managed_service": "Nope", "service_manager": "rmgr"})
    assert wrong.status_code == 400 and 'href="#managed_service"' in wrong.text
    assert (await admin.post("/admin/head-of-service", {"head_of_service": "omgr"})).status_code == 303
    page = (await admin.get("/admin/teams?done=head")).text
    assert "Head of service: <strong>Omgr</strong>" in page and "The head of service has been changed" in page
    services = page[page.index("Services</caption>") :]
    assert "Early help" in services and "Rmgr" in services and "North Team" in services


async def test_the_team_manager_continues_a_handover_the_leaver_started(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "draft", "mia")
    await actions.disable_person(site.db, user_id=site.world.users["out"], by=site.world.users["adm"])
    manager = await site.as_user("both")
    assert (await manager.get(f"/handovers/{handover_id}")).status_code == 200
    response = await submit(manager, handover_id)
    assert response.status_code == 303, response.text
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and (handover.state, handover.author_id) == ("submitted", site.world.users["both"])
    # the manager is its author now, so another manager of the sending team endorses it
    endorsed = await act(await site.as_user("smgr"), handover_id, "endorse")
    assert endorsed.status_code == 303
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.state == "endorsed"


async def test_nobody_can_leave_the_service_without_an_administrator(site: Site) -> None:
    admin = await site.as_user("adm")
    own = await admin.post(f"/admin/people/{site.world.users['adm']}/roles", {"auditor": "yes"})
    assert own.status_code == 400 and "You cannot remove your own administrator role" in own.text
    assert 'href="#service-roles"' in own.text and 'id="service-roles-error"' in own.text
    assert (await admin.get("/admin/people")).status_code == 200, "still an administrator"
    with pytest.raises(Invalid) as refused:  # the command line (no administrator named) is held to it too
        await actions.change_roles(
            site.db, user_id=site.world.users["adm"], roles=actions.TeamRoles(auditor=True), by=None
        )
    assert refused.value.errors == {"service-roles": rules.LAST_ADMINISTRATOR}
