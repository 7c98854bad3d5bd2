"""A leaver's caseload: a team manager moves every child a person holds, one handover per child, writing it on the
worker's behalf when they cannot, and sees how many are still with them, in transfer, or moved."""

from __future__ import annotations

import csv
import io
import re
import secrets
from urllib.parse import urlencode

import pytest

from service import actions, db
from service.actions import caseload as caseload_actions
from service.actions.demo import CASE_M_LIKE, naming_children
from service.core import caseload as rules
from service.core.errors import Invalid, NotFound
from service.core.tokens import token_hash
from service.core.workflow import Action, eligible, person_refusals
from service.settings import Settings
from tests.conftest import PASSWORD_HASH, Site, World, seed
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete, on_record, tell_everyone
from tests.test_queries import UNDO_LATER_MIGRATIONS

FORM_TYPE = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.anyio

# who the access rows sign in as: a manager of the person's team, managers of other teams, and people who manage none
MANAGER, OTHER_MANAGERS, NOT_MANAGERS = "smgr", ["omgr", "rmgr"], ["out", "rec", "aud", "adm"]


async def add_leaver(database: db.Database, world: World, children: int = 3) -> tuple[int, list[int]]:
    """A worker in the north team ("leaver") with `children` cases of their own."""
    async with database.transaction() as conn:
        leaver = await db.create_user(conn, "leaver", "Lee Leaver", PASSWORD_HASH, is_auditor=False, is_admin=False)
        await db.add_membership(conn, leaver, world.teams["north"], "worker")
        cases = [
            await db.create_case(conn, f"L-{n}", f"Leaver Child {n}", "2016-05-05", leaver, world.teams["north"])
            for n in range(1, children + 1)
        ]
    world.users["leaver"] = leaver
    return leaver, cases


def counts_in(html: str) -> dict[str, int]:
    """The three counts as the caseload page shows them."""
    found = {}
    for label in rules.WHERE_LABELS.values():
        match = re.search(rf"{label}\s*</dt>\s*<dd[^>]*>\s*(\d+)", html)
        assert match, label
        found[label] = int(match.group(1))
    return found


START = {"receiving_team": "", "receiver": "", "transfer_reason": "The allocated worker has left the service"}


# ---------------------------------------------------------------- who may reach what


async def test_only_managers_of_the_persons_team_reach_the_caseload_pages(site: Site) -> None:
    leaver, cases = await add_leaver(site.db, site.world)
    base = f"/caseloads/{leaver}"
    start_url = f"{base}/cases/{cases[0]}/handover"
    routes = [("GET", "/caseloads"), ("GET", base), ("POST", f"{base}/transfer"), ("POST", f"{base}/absence"),
              ("GET", start_url), ("POST", start_url)]  # fmt: skip
    start_form = START | {"receiving_team": str(site.world.teams["cp"])}
    # the caseload's own manager: every page and form works (the transfer first, so a child's handover can start)
    manager = await site.as_user(MANAGER)
    assert (await manager.get("/caseloads")).status_code == 200
    assert (await manager.get(base)).status_code == 200
    assert (await manager.post(f"{base}/transfer")).status_code == 303
    assert (await manager.get(start_url)).status_code == 200
    assert (await manager.post(start_url, start_form)).status_code == 303
    assert (await manager.post(f"{base}/absence", {"change": "record"})).status_code == 303
    other_start = f"{base}/cases/{cases[1]}/handover"
    for username in OTHER_MANAGERS:  # managers elsewhere: no such caseload (the list itself is theirs to see)
        person = await site.as_user(username)
        for method, url in [*routes[1:], ("GET", other_start), ("POST", other_start)]:
            response = await (person.get(url) if method == "GET" else person.post(url, start_form))
            assert response.status_code == 404, (username, method, url, response.status_code)
        listing = await person.get("/caseloads")
        assert listing.status_code == 200 and "Lee Leaver" not in listing.text
    for username in NOT_MANAGERS:
        person = await site.as_user(username)
        for method, url in routes:
            response = await (person.get(url) if method == "GET" else person.post(url, start_form))
            assert response.status_code == 403, (username, method, url, response.status_code)
    anonymous = await site.as_user(None)
    for method, url in routes:
        response = await (anonymous.get(url) if method == "GET" else anonymous.post(url, start_form))
        assert response.status_code == 303 and "/sign-in" in response.headers["location"], (method, url)
    # a case not on the person's caseload is not found through it, even by their manager
    mia = f"{base}/cases/{site.world.cases['mia']}/handover"
    assert (await manager.get(mia)).status_code == 404
    assert (await manager.post(mia, start_form)).status_code == 404


async def test_the_manager_menu_leads_to_caseloads_and_each_caseload_from_the_list(site: Site) -> None:
    leaver, _ = await add_leaver(site.db, site.world)
    manager = await site.as_user(MANAGER)
    assert 'href="/caseloads"' in (await manager.get("/queue")).text
    listing = await manager.get("/caseloads")
    assert f'href="/caseloads/{leaver}"' in listing.text and "Out2" in listing.text
    worker = await site.as_user("out")
    assert 'href="/caseloads"' not in (await worker.get("/")).text


# ---------------------------------------------------------------- a leaver's caseload, through the pages


async def test_a_leavers_three_children_move_one_by_one_each_written_on_their_behalf(site: Site) -> None:
    leaver, cases = await add_leaver(site.db, site.world)
    disabled = await actions.disable_person(site.db, user_id=leaver, by=site.world.users["adm"])
    assert len(disabled.cases_moved) == 3
    manager = await site.as_user(MANAGER)
    page = await manager.get(f"/caseloads/{leaver}")
    assert page.status_code == 200
    assert "Left" in page.text and page.text.count("Held by the team manager pending transfer") == 3
    assert counts_in(page.text) == {"Still with them": 3, "In transfer": 0, "Moved": 0}
    assert "Start the caseload transfer first" in page.text
    # no handover starts before the caseload transfer does
    start_url = f"/caseloads/{leaver}/cases/{cases[0]}/handover"
    assert (await manager.get(start_url)).status_code == 303
    # nor is its form judged: a field sent twice before then is told the transfer comes first, on the caseload
    early = await manager.post(start_url, {"transfer_reason": ["One", "Two"]})
    assert early.status_code == 400 and "Start the caseload transfer first" in early.text
    assert "send one answer, not several" not in early.text

    assert (await manager.post(f"/caseloads/{leaver}/transfer")).status_code == 303
    page = await manager.get(f"/caseloads/{leaver}")
    assert "Started by Smgr" in page.text and page.text.count("Start handover") == 3
    # a second caseload transfer cannot begin while this one is under way
    again = await manager.post(f"/caseloads/{leaver}/transfer")
    assert again.status_code == 400 and rules.TRANSFER_UNDER_WAY in again.text

    # each child's receiver is chosen on its own: a worker in the cp team for the first, the team for the second
    form = await manager.get(start_url)
    assert "You will write this handover on Lee Leaver’s behalf" in form.text
    missing = await manager.post(start_url, START)
    assert missing.status_code == 400 and "Select the team the case is moving to" in missing.text
    team = str(site.world.teams["cp"])
    chosen = await manager.post(start_url, START | {"receiving_team": team, "button": "choose-team"})
    assert chosen.status_code == 200 and ">Rec<" in chosen.text and "Lee Leaver<" not in chosen.text
    started = await manager.post(start_url, START | {"receiving_team": team, "receiver": str(site.world.users["rec"])})
    assert started.status_code == 303
    second = f"/caseloads/{leaver}/cases/{cases[1]}/handover"
    assert (await manager.post(second, START | {"receiving_team": team})).status_code == 303

    page = await manager.get(f"/caseloads/{leaver}")
    assert counts_in(page.text) == {"Still with them": 1, "In transfer": 2, "Moved": 0}
    # a child already in transfer cannot be started again from the caseload
    assert (await manager.get(start_url)).status_code == 404

    first = (await db.case_by_id(site.db.reader, cases[0])).open_handover_id  # type: ignore[union-attr]
    assert first is not None
    handover = await db.handover_by_id(site.db.reader, first)
    assert handover is not None
    assert handover.author_id == site.world.users[MANAGER] and handover.on_behalf_of_name == "Lee Leaver"
    view = await manager.get(f"/handovers/{first}/view")
    assert "Completed by the team manager on behalf of Lee Leaver." in view.text
    assert "started the handover, completed by the team manager on behalf of Lee Leaver" in view.text
    task_list = await manager.get(f"/handovers/{first}")
    assert "Completed by the team manager on behalf of Lee Leaver: you are writing it for them" in task_list.text

    # the auditors' export and the API say so too
    auditor = await site.as_user("aud")
    export = await auditor.get("/audit/incomplete/csv")
    rows = {row["Handover"]: row for row in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"), newline=""))}
    assert rows[str(first)]["Sending worker"] == "Smgr (completed by the team manager on behalf of Lee Leaver)"
    token = "hov_" + secrets.token_urlsafe(16)
    async with site.db.transaction() as conn:
        service = await db.create_user(conn, "svc_aud", "svc_aud", "!", is_auditor=True, is_admin=False,
                                       is_service=True)  # fmt: skip
        await db.create_api_token(conn, service, token_hash(token), "read")
    api = await site.client.get(f"/api/v1/handovers/{first}", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["on_behalf_of"] == "completed by the team manager on behalf of Lee Leaver"

    # the first child's handover goes all the way: another manager endorses it, and the child moves
    await _through_to_closure(site, first)
    page = await manager.get(f"/caseloads/{leaver}")
    assert counts_in(page.text) == {"Still with them": 1, "In transfer": 1, "Moved": 1}
    assert "Rec, Cp Team" in page.text


async def _through_to_closure(site: Site, handover_id: int) -> None:
    """Filled in and submitted by its author (the sending manager), endorsed by another manager of the team, and
    taken on and approved in cp."""
    people = {name: await actor(site.db, site.world, name) for name in (MANAGER, "smgr2", "rec", "rmgr")}
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    given = await on_record(site.db, handover_id, complete(checklist=view.checklist, **CASE_M_LIKE))
    given = naming_children(view.checklist, given)  # the newest checklist's sibling harm rows choose children
    given["case-summary"] = given["case-summary"].__class__(
        values={**given["case-summary"].values, "siblings": ""}, groups=given["case-summary"].groups
    )
    for section_id, answers in given.items():
        await actions.save_section(site.db, CHECKLISTS, people[MANAGER], handover_id, section_id, answers, 0,
                                   finished=True)  # fmt: skip
    steps = [(MANAGER, Action.SUBMIT), ("smgr2", Action.ENDORSE), ("rec", Action.ACKNOWLEDGE), ("rmgr", Action.APPROVE)]
    for who, action in steps:
        view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert view is not None
        if action == Action.ENDORSE:  # the author may not endorse what they wrote, on anyone's behalf
            assert person_refusals(Action.ENDORSE, view.facts, people[MANAGER])
        if action == Action.ACKNOWLEDGE:
            for item in view.critical_sections():
                await actions.confirm_item(site.db, CHECKLISTS, people["rec"], handover_id, item.id,
                                           view.handover.version, understood=True,
                                           readback="I take on these risks and the plan to manage them.")  # fmt: skip
            view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
            assert view is not None
        if action == Action.APPROVE:
            await tell_everyone(site.db, people[MANAGER], handover_id)
            view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
            assert view is not None
        await actions.act(site.db, CHECKLISTS, people[who], handover_id, action, view.handover.version, "Because")


async def test_a_present_worker_writes_the_handovers_their_manager_starts_for_them(site: Site) -> None:
    out = site.world.users["out"]
    manager = await site.as_user(MANAGER)
    page = await manager.get(f"/caseloads/{out}")
    assert "You choose where each child goes; Out then writes each handover" in page.text
    assert counts_in(page.text)["Still with them"] == 10
    await manager.post(f"/caseloads/{out}/transfer")
    url = f"/caseloads/{out}/cases/{site.world.cases['c3']}/handover"
    assert "Out will write this handover" in (await manager.get(url)).text
    response = await manager.post(url, START | {"receiving_team": str(site.world.teams["cp"])})
    assert response.status_code == 303
    case = await db.case_by_id(site.db.reader, site.world.cases["c3"])
    assert case is not None and case.open_handover_id is not None
    handover = await db.handover_by_id(site.db.reader, case.open_handover_id)
    assert handover is not None and handover.author_id == out and handover.on_behalf_of_name is None
    # it is on the worker's own list to write
    assert f"/handovers/{handover.id}" in (await (await site.as_user("out")).get("/")).text


async def test_long_term_absence_passes_the_workers_handovers_to_the_manager_and_back_again(site: Site) -> None:
    out2 = site.world.users["out2"]
    async with site.db.transaction() as conn:
        case_id = await db.create_case(conn, "A-1", "Absent Child", "2016-05-05", out2, site.world.teams["north"])
    worker = await actor(site.db, site.world, "out2")
    draft = await actions.start_handover(site.db, worker, CHECKLIST, case_id=case_id,
                                         receiving_team_id=site.world.teams["cp"], receiver_id=None,
                                         apart_reason=APART, transfer_reason="Step-up")  # fmt: skip
    manager = await site.as_user(MANAGER)
    assert (await manager.post(f"/caseloads/{out2}/absence", {"change": "record"})).status_code == 303
    page = await manager.get(f"/caseloads/{out2}")
    assert "Long-term absence" in page.text and "Recorded by Smgr" in page.text
    assert "Out2 cannot write their handovers, so you write each one on their behalf" in page.text
    handover = await db.handover_by_id(site.db.reader, draft)
    assert handover is not None
    assert handover.author_id == site.world.users[MANAGER] and handover.on_behalf_of_name == "Out2"
    twice = await manager.post(f"/caseloads/{out2}/absence", {"change": "record"})
    assert twice.status_code == 400 and rules.ALREADY_ABSENT in twice.text
    history = (await manager.get(f"/handovers/{draft}/view")).text
    assert "took the handover on as its author, completed by the team manager on behalf of Out2" in history
    assert (await manager.post(f"/caseloads/{out2}/absence", {"change": "end"})).status_code == 303
    page = await manager.get(f"/caseloads/{out2}")
    assert "Recorded by" not in page.text and "Record long-term absence" in page.text
    ended = await manager.post(f"/caseloads/{out2}/absence", {"change": "end"})
    assert ended.status_code == 400 and rules.NOT_ABSENT in ended.text
    rows = await site.db.reader.execute_fetchall("SELECT action, actor_id FROM audit_log")
    audited = {action for action, by in rows if by == site.world.users[MANAGER]}
    assert {"record_absence", "end_absence", "continue_on_behalf"} <= audited


# ---------------------------------------------------------------- the actions


@pytest.mark.parametrize(
    "form",
    [[], [("change", "")], [("change", "remove")], [("change", "RECORD")], [("change", "record"), ("change", "end")]],
    ids=["none", "empty", "another word", "another case", "two"],
)
async def test_an_absence_form_that_says_no_known_change_changes_nothing(
    site: Site, form: list[tuple[str, str]]
) -> None:
    """Only the page's three buttons change an absence: a form without one of their values (or with two) records
    nothing and says so by the buttons, rather than recording an absence nobody asked for."""
    out2 = site.world.users["out2"]
    manager = await site.as_user(MANAGER)
    await manager.get(f"/caseloads/{out2}")
    body = urlencode([*form, ("_csrf_token", manager.csrf)])
    url = f"/caseloads/{out2}/absence"
    refused = await manager.request("POST", url, content=body, headers={"content-type": FORM_TYPE})
    assert refused.status_code == 400 and rules.ABSENCE_CHANGE_UNKNOWN in refused.text
    assert 'href="#absence"' in refused.text and 'id="absence-error"' in refused.text
    assert await caseload_actions.store.absence(site.db.reader, out2) is None
    rows = await site.db.reader.execute_fetchall("SELECT action FROM audit_log WHERE action LIKE '%absence%'")
    assert not rows


async def test_a_sole_manager_writing_on_behalf_meets_no_dead_end(database: db.Database, world: World) -> None:
    """South has one manager: once they write a handover for their absent worker, nobody in the team may endorse
    it, and an administrator names another manager, who can."""
    omgr = await actor(database, world, "omgr")
    other = world.users["other"]
    await caseload_actions.record_absence(database, omgr, other)
    transfer = await caseload_actions.start_transfer(database, omgr, other)
    assert transfer
    handover_id = await caseload_actions.start_child_handover(
        database, omgr, CHECKLIST, person_id=other, case_id=world.cases["zoe"],
        receiving_team_id=world.teams["cp"], receiver_id=world.users["rec"],
        apart_reason=APART, transfer_reason="Worker absent",
    )  # fmt: skip
    answers = await on_record(database, handover_id, complete(**CASE_M_LIKE))
    loaded = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert loaded is not None
    answers = naming_children(loaded.checklist, answers)
    answers["case-summary"] = answers["case-summary"].__class__(
        values={**answers["case-summary"].values, "siblings": ""}, groups=answers["case-summary"].groups
    )
    for section_id, given in answers.items():
        await actions.save_section(database, CHECKLISTS, omgr, handover_id, section_id, given, 0, finished=True)
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(database, CHECKLISTS, omgr, handover_id, Action.SUBMIT, view.handover.version)
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None and view.handover.state == "submitted"
    assert eligible(Action.ENDORSE, view.facts, [omgr]) == []  # the only manager of south wrote it
    named = await actions.name_step_manager(
        database, handover_id, step="endorse", manager="smgr", by=await actor(database, world, "adm")
    )
    assert named == "Smgr"
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    state = await actions.act(
        database, CHECKLISTS, await actor(database, world, "smgr"), handover_id, Action.ENDORSE, view.handover.version
    )
    assert state == "endorsed"
    loaded = await caseload_actions.caseload(database.reader, omgr, other)
    assert loaded.counts == rules.Counts(with_them=0, in_transfer=1, moved=0)


async def test_caseload_actions_refuse_what_they_must(database: db.Database, world: World) -> None:
    smgr = await actor(database, world, "smgr")
    omgr = await actor(database, world, "omgr")
    out = world.users["out"]
    with pytest.raises(NotFound):
        await caseload_actions.caseload(database.reader, omgr, out)
    with pytest.raises(NotFound):
        await caseload_actions.start_transfer(database, omgr, out)
    with pytest.raises(Invalid) as no_transfer:
        await caseload_actions.start_child_handover(
            database, smgr, CHECKLIST, person_id=out, case_id=world.cases["c1"],
            receiving_team_id=world.teams["cp"], receiver_id=None, apart_reason=APART, transfer_reason="Moving",
        )  # fmt: skip
    assert no_transfer.value.errors == {"transfer": rules.TRANSFER_NOT_STARTED}
    await caseload_actions.start_transfer(database, smgr, out)
    with pytest.raises(NotFound):  # a case on someone else's caseload
        await caseload_actions.start_child_handover(
            database, smgr, CHECKLIST, person_id=out, case_id=world.cases["zoe"],
            receiving_team_id=world.teams["cp"], receiver_id=None, apart_reason=APART, transfer_reason="Moving",
        )  # fmt: skip
    with pytest.raises(NotFound):  # a manager who is no worker of the team has no caseload there
        await caseload_actions.record_absence(database, smgr, world.users["both"])


async def test_the_leaver_a_held_case_came_from_is_kept(database: db.Database, world: World) -> None:
    leaver, cases = await add_leaver(database, world, children=1)
    await actions.disable_person(database, user_id=leaver, by=world.users["adm"])
    smgr = await actor(database, world, "smgr")
    loaded = await caseload_actions.caseload(database.reader, smgr, leaver)
    assert [c.child.id for c in loaded.children] == cases
    assert loaded.children[0].child.held_pending_transfer and loaded.unavailable
    transfer = await caseload_actions.start_transfer(database, smgr, leaver)
    rows = await database.reader.execute_fetchall(
        "SELECT action, actor_id, details FROM audit_log WHERE object_type = 'user' AND object_id = ?", (leaver,)
    )
    started = [row for row in rows if row[0] == "start_caseload_transfer"]
    assert started and started[0][1] == world.users["smgr"] and f'"transfer_id":{transfer}' in started[0][2]


@pytest.mark.sqlite_only
async def test_cases_held_before_the_migration_learn_their_leaver_from_the_audit_trail(settings: Settings) -> None:
    database = db.Database.for_settings(settings)
    await database.open()
    world = await seed(database)
    leaver, cases = await add_leaver(database, world, children=2)
    await actions.disable_person(database, user_id=leaver, by=world.users["adm"])
    number = next(n for n, script in enumerate(db.MIGRATIONS, start=1) if "CREATE TABLE caseload_transfers" in script)
    async with database.transaction() as conn:  # the database as it was before the migration
        undo_this_and_later = UNDO_LATER_MIGRATIONS[UNDO_LATER_MIGRATIONS.index("DROP TABLE caseload_cases") :]
        for undo in undo_this_and_later:
            await conn.execute(undo)
        await conn.execute("DELETE FROM schema_migrations WHERE version >= ?", (number,))
    await database.close()
    database = db.Database.for_settings(settings)
    await database.open()
    try:
        rows = await database.reader.execute_fetchall(
            "SELECT id, held_from_id FROM cases WHERE held_from_id IS NOT NULL"
        )
        assert sorted(tuple(row) for row in rows) == sorted((case_id, leaver) for case_id in cases)
    finally:
        await database.close()


@pytest.mark.parametrize("change", ["record", "end", "continue", ""])
async def test_an_absence_sent_for_someone_who_has_left_is_refused_by_the_reason(site: Site, change: str) -> None:
    """A disabled person's caseload has no absence buttons: whatever is sent, the page says why no absence is
    recorded for them, under a heading the error summary can link to, and records nothing."""
    out2 = site.world.users["out2"]
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (out2,))
    manager = await site.as_user(MANAGER)
    refused = await manager.post(f"/caseloads/{out2}/absence", {"change": change} if change else {})
    assert refused.status_code == 400 and rules.DISABLED_NOT_ABSENT in refused.text
    assert 'href="#absence"' in refused.text and 'id="absence"' in refused.text
    assert await caseload_actions.store.absence(site.db.reader, out2) is None
