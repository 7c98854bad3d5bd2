"""Who writes while a worker is away or has left.

A leaver's case held by a team manager is handed over on the leaver's behalf by whichever route the manager starts it
from (their own start page, the API, or the leaver's caseload). While a worker's long-term absence is recorded they
may read their handovers but not start or change any, by page or API; once the absence ends they write again."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest

from service import actions, db
from service.actions import caseload as caseload_actions
from service.core.caseload import on_behalf_words
from service.core.tokens import token_hash
from service.core.workflow import ABSENT_REFUSAL, Action, Facts, State, absent_refusals, person_refusals, refusals
from tests.conftest import Site
from tests.helpers import APART, CHECKLIST, actor, handover_in
from tests.test_caseload import add_leaver

pytestmark = pytest.mark.anyio

FORM = {"receiver": "", "transfer_reason": "The allocated worker has left the service", "apart_reason": APART}


async def _token(site: Site, username: str) -> str:
    token = "hov_" + secrets.token_urlsafe(16)
    async with site.db.transaction() as conn:
        await db.create_api_token(conn, site.world.users[username], token_hash(token), "write")
    return token


async def _api(site: Site, token: str, method: str, url: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return await site.client.request(method, f"/api/v1{url}", json=body, headers=headers)


async def _start_details(site: Site, handover_id: int) -> dict[str, Any]:
    rows = await site.db.reader.execute_fetchall(
        "SELECT details FROM audit_log WHERE action = 'start' AND object_type = 'handover' AND object_id = ?",
        (handover_id,),
    )
    assert len(list(rows)) == 1
    return json.loads(next(iter(rows))["details"])  # type: ignore[no-any-return]


def _start_routes(site: Site) -> set[str]:
    """Every address in the app that starts one child's handover of a case (by POST): read from the app itself, so a
    new way to start a handover has to be added to this test."""
    found = set()
    for route in site.app.routes:
        if "POST" in getattr(route, "methods", ()) and re.search(r"/cases/\{case_id:int\}/handovers?$", route.path):
            found.add(route.path)
    return found


# ---------------------------------------------------------------- a leaver's held case: every route, one rule


async def test_every_route_that_starts_a_handover_of_a_held_case_writes_it_on_the_leavers_behalf(site: Site) -> None:
    leaver, cases = await add_leaver(site.db, site.world, children=3)
    await actions.disable_person(site.db, user_id=leaver, by=site.world.users["adm"])
    holder = site.world.users["both"]  # north's first manager by name holds the leaver's cases pending transfer
    for case_id in cases:
        case = await db.case_by_id(site.db.reader, case_id)
        assert case is not None and case.allocated_worker_id == holder
    both = await site.as_user("both")
    token = await _token(site, "both")
    south = site.world.teams["south"]
    assert (await both.post(f"/caseloads/{leaver}/transfer")).status_code == 303

    async def own_page(path: str, case_id: int) -> int:
        response = await both.post(path.format(case_id=case_id), {"receiving_team": str(south), **FORM})
        assert response.status_code == 303, response.text
        return int(re.findall(r"/handovers/(\d+)", response.headers["location"])[0])

    async def api(path: str, case_id: int) -> int:
        body = {"receiving_team_id": south, "transfer_reason": FORM["transfer_reason"]}
        response = await _api(site, token, "POST", path.removeprefix("/api/v1").format(case_id=case_id), body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def caseload(path: str, case_id: int) -> int:
        address = path.format(person_id=leaver, case_id=case_id)
        response = await both.post(address, {"receiving_team": str(south), **FORM})
        assert response.status_code == 303, response.text
        found = await db.case_by_id(site.db.reader, case_id)
        assert found is not None and found.open_handover_id is not None
        return found.open_handover_id

    starters = {
        "/cases/{case_id:int}/handover": own_page,
        "/api/v1/cases/{case_id:int}/handovers": api,
        "/caseloads/{person_id:int}/cases/{case_id:int}/handover": caseload,
    }
    assert _start_routes(site) == set(starters)
    recorded = []
    for (path, starter), case_id in zip(starters.items(), cases, strict=True):
        handover_id = await starter(path.replace(":int}", "}"), case_id)
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None
        assert (handover.author_id, handover.on_behalf_of, handover.on_behalf_of_name) == (
            holder,
            leaver,
            "Lee Leaver",
        ), path
        details = await _start_details(site, handover_id)
        recorded.append({key: details.get(key) for key in ("caseload_of", "author_user_id", "on_behalf_name")})
        page = (await both.get(f"/handovers/{handover_id}/view")).text
        assert on_behalf_words("Lee Leaver") in page, path
    assert recorded == [{"caseload_of": leaver, "author_user_id": holder, "on_behalf_name": "Lee Leaver"}] * 3


async def test_a_managers_own_case_is_still_written_by_them_alone(site: Site) -> None:
    """Only a held leaver's case is written on someone's behalf: a case simply allocated to a person is theirs."""
    out = await site.as_user("out")
    response = await out.post(
        f"/cases/{site.world.cases['c1']}/handover", {"receiving_team": str(site.world.teams["cp"]), **FORM}
    )
    assert response.status_code == 303
    found = await db.case_by_id(site.db.reader, site.world.cases["c1"])
    assert found is not None and found.open_handover_id is not None
    handover = await db.handover_by_id(site.db.reader, found.open_handover_id)
    assert handover is not None and handover.on_behalf_of is None and handover.author_id == site.world.users["out"]


# ---------------------------------------------------------------- an absent worker reads, and does not write


async def test_an_absent_worker_may_read_but_not_start_save_or_act_and_writes_again_once_back(site: Site) -> None:
    world = site.world
    submitted = await handover_in(site.db, world, "submitted", "c2")
    manager = await site.as_user("smgr")
    out_id = world.users["out"]
    assert (await manager.post(f"/caseloads/{out_id}/absence", {"change": "record"})).status_code == 303
    # a handover on its way keeps its author; returned to them while away, it waits for the manager
    smgr = await actor(site.db, world, "smgr")
    view = await actions.load(site.db.reader, {(CHECKLIST.id, CHECKLIST.version): CHECKLIST}, submitted)
    assert view is not None
    await actions.act(
        site.db, {(CHECKLIST.id, CHECKLIST.version): CHECKLIST}, smgr, submitted, Action.RETURN_TO_OUTGOING,
        view.handover.version, "Please add the school's details",
    )  # fmt: skip
    returned = await db.handover_by_id(site.db.reader, submitted)
    assert returned is not None and returned.author_id == out_id and returned.state == "returned"

    out = await site.as_user("out")
    token = await _token(site, "out")
    cp = world.teams["cp"]
    section = CHECKLIST.sections[0].id
    # reading is unchanged
    assert (await out.get(f"/handovers/{submitted}/view")).status_code == 200
    assert (await _api(site, token, "GET", f"/handovers/{submitted}", None)).status_code == 200
    # the start pages say so before a form is filled in
    for address in (f"/cases/{world.cases['c3']}/handover", f"/cases/{world.cases['mia']}/handover/group"):
        shown = await out.get(address)
        assert shown.status_code == 409 and ABSENT_REFUSAL in shown.text and "transfer_reason" not in shown.text
    # starting, by page (one child, or the sibling group) and by API, is refused with the reason
    started = await out.post(f"/cases/{world.cases['c3']}/handover", {"receiving_team": str(cp), **FORM})
    assert started.status_code == 409 and ABSENT_REFUSAL in started.text
    group = await out.post(
        f"/cases/{world.cases['mia']}/handover/group",
        {
            "receiving_team": str(cp),
            "receiver": "",
            "transfer_reason": "Step-up",
            "children": [str(world.cases["mia"]), str(world.cases["liam"])],
        },
    )
    assert group.status_code == 409 and ABSENT_REFUSAL in group.text
    by_api = await _api(site, token, "POST", f"/cases/{world.cases['c4']}/handovers",
                        {"receiving_team_id": cp, "transfer_reason": "Step-up"})  # fmt: skip
    assert by_api.status_code == 409 and ABSENT_REFUSAL in by_api.text
    # saving, by API and page, and acting on the handover returned to them are refused
    saved = await _api(site, token, "PUT", f"/handovers/{submitted}/sections/{section}",
                       {"answers": {"values": {}}, "base_version": 0})  # fmt: skip
    assert saved.status_code == 409 and ABSENT_REFUSAL in saved.text
    version = returned.version
    cancelled = await _api(site, token, "POST", f"/handovers/{submitted}/actions/cancel",
                           {"handover_version": version, "reason": "No longer needed"})  # fmt: skip
    assert cancelled.status_code == 409 and ABSENT_REFUSAL in cancelled.text
    on_page = await out.post(f"/handovers/{submitted}/cancel", {"handover_version": str(version), "reason": "No"})
    assert on_page.status_code == 409 and ABSENT_REFUSAL in on_page.text, on_page.text
    page_save = await out.post(f"/handovers/{submitted}/sections/{section}", {"section_version": "0"})
    assert page_save.status_code == 409 and ABSENT_REFUSAL in page_save.text, page_save.text
    after = await db.handover_by_id(site.db.reader, submitted)
    assert after is not None and after.state == "returned" and after.version == version  # nothing changed
    c3 = await db.case_by_id(site.db.reader, world.cases["c3"])
    assert c3 is not None and c3.open_handover_id is None

    # the manager ends the absence: the worker writes again
    assert (await manager.post(f"/caseloads/{out_id}/absence", {"change": "end"})).status_code == 303
    again = await out.post(f"/cases/{world.cases['c3']}/handover", {"receiving_team": str(cp), **FORM})
    assert again.status_code == 303, again.text
    stored = (await db.sections_of(site.db.reader, submitted)).get(section)
    saved = await _api(site, token, "PUT", f"/handovers/{submitted}/sections/{section}",
                       {"answers": {"values": {}}, "base_version": stored.version if stored else 0})  # fmt: skip
    assert saved.status_code == 200, saved.text


async def test_absence_is_read_with_the_person_on_every_request(site: Site) -> None:
    """The actor built for a request carries the recorded absence: the state machine asks it, and nothing else."""
    world = site.world
    smgr = await actor(site.db, world, "smgr")
    before = await actor(site.db, world, "out")
    assert not before.absent and absent_refusals(before) == []
    await caseload_actions.record_absence(site.db, smgr, world.users["out"])
    during = await actor(site.db, world, "out")
    assert during.absent and absent_refusals(during) == [ABSENT_REFUSAL]
    north, cp = world.teams["north"], world.teams["cp"]
    facts = Facts(state=State.DRAFT, author_id=during.user_id, sending_team_id=north, receiving_team_id=cp)
    for action in (Action.EDIT, Action.SUBMIT, Action.CANCEL):
        assert refusals(action, facts, before, "No longer needed") == [], action
        assert refusals(action, facts, during, "No longer needed") == [ABSENT_REFUSAL], action
        assert person_refusals(action, facts, during) == [ABSENT_REFUSAL], action
    await caseload_actions.end_absence(site.db, smgr, world.users["out"])
    assert not (await actor(site.db, world, "out")).absent


# ---------------------------------------------------------------- disabling an interim author names the real worker


async def test_disabling_an_interim_author_says_the_handover_is_still_written_for_the_leaver(site: Site) -> None:
    from tests.test_caseload_holders import _held_and_handed_over

    leaver, _, handover_id = await _held_and_handed_over(site.db, site.world)
    both = site.world.users["both"]
    admin = await site.as_user("adm")
    check = (await admin.get(f"/admin/people/{both}/disable")).text
    assert (
        f"Handover {handover_id}, which Both is writing, will continue with Smgr2 acting on behalf of Lee Leaver"
        in (check)
    )
    assert "on behalf of Both" not in check
    done = await admin.post(f"/admin/people/{both}/disable")
    assert done.status_code in (200, 303), done.text
    outcome = done if done.status_code == 200 else await admin.get(done.headers["location"])
    assert f"Handover {handover_id} continues with Smgr2 acting on behalf of Lee Leaver" in outcome.text
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.on_behalf_of == leaver
    rows = await site.db.reader.execute_fetchall(
        "SELECT details FROM audit_log WHERE action = 'continue_on_behalf' AND object_id = ? ORDER BY seq",
        (handover_id,),
    )
    assert [json.loads(row["details"])["on_behalf_of"] for row in rows] == ["leaver"]  # the username of the leaver


async def test_a_held_leavers_sibling_group_is_handed_over_on_their_behalf(database: db.Database, world: Any) -> None:
    leaver, _ = await add_leaver(database, world, children=0)
    async with database.transaction() as conn:
        family = await db.create_sibling_group(conn, "Leaver family")
        cases = [
            await db.create_case(
                conn, f"LF-{n}", f"Leaver Sibling {n}", "2015-05-05", leaver, world.teams["north"], family
            )
            for n in (1, 2)
        ]
    await actions.disable_person(database, user_id=leaver, by=world.users["adm"])
    holder_id = (await db.case_by_id(database.reader, cases[0])).allocated_worker_id  # type: ignore[union-attr]
    holder_name = next(name for name, user_id in world.users.items() if user_id == holder_id)
    holder = await actor(database, world, holder_name)
    group_id = await actions.start_group_handover(
        database, holder, CHECKLIST, case_id=cases[0], included=cases, left_out={},
        receiving_team_id=world.teams["cp"], receiver_id=None, transfer_reason="The allocated worker has left",
    )  # fmt: skip
    rows = await database.reader.execute_fetchall(
        "SELECT author_id, on_behalf_of FROM handovers WHERE group_handover_id = ?", (group_id,)
    )
    assert [tuple(row) for row in rows] == [(holder_id, leaver), (holder_id, leaver)]
