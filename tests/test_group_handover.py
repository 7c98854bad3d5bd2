"""A sibling group's handover through the pages: started from a child's start page with every child ticked, a child
left out only with a reason (said by the field), the group's task list and check answers showing the family's
sections once and each child's, submitted and signed off together; and who may reach each of its pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service import db
from tests.conftest import Site
from tests.group_support import confirm_everything, fill_group, member_ids, start_group, step
from tests.helpers import act, actor, tell_everyone, version_in
from tests.test_security import READERS, ROLES, SUCCESS, USERNAMES

pytestmark = pytest.mark.anyio

STEPS = {"draft": [], "submitted": ["submit"], "endorsed": ["submit", "endorse"]}


async def group_in(site: Site, state: str) -> int:
    """The handover of Mia and Liam's group (the seeded "Test family"), filled in and brought to `state`."""
    from service.core.workflow import Action

    group_id = await start_group(site.db, site.world)
    await fill_group(site.db, site.world, group_id)
    first = (await member_ids(site.db, group_id))[0]
    moves = {"submit": ("out", Action.SUBMIT), "endorse": ("smgr", Action.ENDORSE)}
    for name in STEPS[state]:
        who, action = moves[name]
        await step(site.db, site.world, who, first, action)
    return group_id


async def reset(site: Site) -> None:
    """Every handover cancelled and every child back with "out", for the next person to try from the start."""
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET state = 'cancelled'")
        for case in ("mia", "liam"):
            await conn.execute(
                "UPDATE cases SET allocated_worker_id = ?, allocated_team_id = ? WHERE id = ?",
                (site.world.users["out"], site.world.teams["north"], site.world.cases[case]),
            )


GROUP_MATRIX: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/cases/{case}/handover/group", "none", {"owner"}),
    ("POST", "/cases/{case}/handover/group", "none", {"owner"}),
    # people who may read but not edit see the group's progress without links to change it
    ("GET", "/groups/{id}", "draft", {"owner", "sending_manager", "auditor"}),
    ("GET", "/groups/{id}", "endorsed", READERS),
    # those who may read but not edit are sent on to the group's page (303), which they may see
    ("GET", "/groups/{id}/check", "draft", {"owner", "sending_manager", "auditor"}),
    ("POST", "/groups/{id}/submit", "draft", {"owner"}),
]


@pytest.mark.parametrize(
    ("method", "route", "state", "allowed"), GROUP_MATRIX, ids=[f"{m} {r} ({s})" for m, r, s, _ in GROUP_MATRIX]
)
async def test_group_access_matrix(site: Site, method: str, route: str, state: str, allowed: set[str]) -> None:
    for role in ROLES:
        group_id = None if state == "none" else await group_in(site, state)
        url = route.format(id=group_id, case=site.world.cases["mia"])
        person = await site.as_user(USERNAMES.get(role))
        if method == "GET":
            status = (await person.get(url)).status_code
        else:
            first = (await member_ids(site.db, group_id))[0] if group_id else None
            handover = await db.handover_by_id(site.db.reader, first) if first else None
            data: dict[str, Any] = {
                "handover_version": str(handover.version if handover else 0),
                "children": [str(site.world.cases["mia"]), str(site.world.cases["liam"])],
                "receiving_team": str(site.world.teams["cp"]), "transfer_reason": "Step-up",
            }  # fmt: skip
            status = (await person.post(url, data)).status_code
        if role == "anonymous":
            assert status == 303, (role, url)
        elif role in allowed:
            assert status in SUCCESS, (role, method, url, status)
        else:
            assert status in {403, 404, 409}, (role, method, url, status)
            if role not in READERS | {"same_team", "other_receiver"}:
                assert status == 404, (role, url, "refusals across teams must not reveal the handover exists")
        await reset(site)


async def test_the_start_page_offers_the_sibling_group_with_every_child_ticked(site: Site) -> None:
    out = await site.as_user("out")
    start_page = await out.get(f"/cases/{site.world.cases['mia']}/handover")
    assert f'href="/cases/{site.world.cases["mia"]}/handover/group"' in start_page.text
    assert "Hand over the sibling group" in start_page.text
    # a child in no group is not offered one
    alone = await out.get(f"/cases/{site.world.cases['c1']}/handover")
    assert "Hand over the sibling group" not in alone.text
    assert (await out.get(f"/cases/{site.world.cases['c1']}/handover/group")).status_code == 404
    form = await out.get(f"/cases/{site.world.cases['mia']}/handover/group")
    assert form.status_code == 200
    for case in ("mia", "liam"):
        assert re.search(rf'value="{site.world.cases[case]}" checked', form.text), case


async def test_leaving_a_child_out_without_a_reason_is_said_by_the_field(site: Site) -> None:
    out = await site.as_user("out")
    liam = site.world.cases["liam"]
    data = {"children": [str(site.world.cases["mia"])], "receiving_team": str(site.world.teams["cp"]),
            "transfer_reason": "Step-up", f"reason-{liam}": ""}  # fmt: skip
    refused = await out.post(f"/cases/{site.world.cases['mia']}/handover/group", data)
    assert refused.status_code == 400
    assert f'href="#reason-{liam}"' in refused.text and f'id="reason-{liam}-error"' in refused.text
    assert "Enter why Liam Test is not part of this handover" in refused.text
    assert not re.search(rf'value="{liam}" checked', refused.text), "what was unticked stays unticked"
    started = await out.post(
        f"/cases/{site.world.cases['mia']}/handover/group", data | {f"reason-{liam}": "Liam is 18 next week"}
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/groups/")
    group_page = await out.get(started.headers["location"])
    assert "Children left out of this handover" in group_page.text and "Liam is 18 next week" in group_page.text


async def test_a_group_from_start_to_closure_through_the_pages(site: Site) -> None:
    people = {name: await site.as_user(name) for name in ("out", "smgr", "rec", "rmgr")}
    data = {"children": [str(site.world.cases["mia"]), str(site.world.cases["liam"])],
            "receiving_team": str(site.world.teams["cp"]), "receiver": str(site.world.users["rec"]),
            "transfer_reason": "Step-up to child protection"}  # fmt: skip
    started = await people["out"].post(f"/cases/{site.world.cases['mia']}/handover/group", data)
    group_url = started.headers["location"]
    group_id = int(group_url.rsplit("/", 1)[1])
    liam_id, mia_id = await member_ids(site.db, group_id)
    tasks = await people["out"].get(group_url)
    assert "For the family" in tasks.text and "Liam Test (T-2)" in tasks.text and "Mia Test (T-1)" in tasks.text
    assert tasks.text.count(f'href="/handovers/{liam_id}/sections/sibling-harm"') == 1, "a family section once"
    assert f'href="/handovers/{mia_id}/sections/sibling-harm"' not in tasks.text
    for member in (liam_id, mia_id):
        assert f'href="/handovers/{member}/sections/case-summary"' in tasks.text, "a child's section for each"
    # a child's own task list is the group's
    assert (await people["out"].get(f"/handovers/{mia_id}")).headers["location"] == group_url
    section = await people["out"].get(f"/handovers/{liam_id}/sections/network")
    assert "what you save here is saved for every child" in section.text
    await fill_group(site.db, site.world, group_id)
    check = await people["out"].get(f"{group_url}/check")
    assert check.status_code == 200
    assert check.text.count('id="section-sibling-harm"') == 1
    assert (await people["out"].get(f"/handovers/{mia_id}/check")).headers["location"] == f"{group_url}/check"
    submitted = await people["out"].post(f"{group_url}/submit", {"handover_version": version_in(check.text)})
    assert submitted.status_code == 303, submitted.text
    states = {m.state for m in await db.group_members(site.db.reader, group_id)}
    assert states == {"submitted"}
    # the sending manager sees the group on each child's page, and endorses both at once from one of them
    view = await people["smgr"].get(f"/handovers/{liam_id}/view")
    assert f'href="/groups/{group_id}"' in view.text
    assert (await act(people["smgr"], liam_id, "endorse")).status_code == 303
    assert {m.state for m in await db.group_members(site.db.reader, group_id)} == {"endorsed"}
    await confirm_everything(site.db, site.world, group_id)
    assert (await act(people["rec"], mia_id, "acknowledge")).status_code == 303
    # each child's family and professionals are told before the group closes: each child's handover is checked
    untold = await act(people["rmgr"], liam_id, "approve")
    assert untold.status_code == 409 and "have been told of their new worker" in untold.text
    for member in (liam_id, mia_id):
        await tell_everyone(site.db, await actor(site.db, site.world, "out"), member)
    assert (await act(people["rmgr"], liam_id, "approve")).status_code == 303
    for case in ("mia", "liam"):
        case_row = await db.case_by_id(site.db.reader, site.world.cases[case])
        assert case_row is not None and case_row.allocated_worker_id == site.world.users["rec"]
    closed = await people["rmgr"].get(group_url)
    assert closed.status_code == 200 and "Check answers and submit" not in closed.text


async def test_a_refused_group_step_names_the_child_and_changes_nothing(site: Site) -> None:
    group_id = await start_group(site.db, site.world)
    liam_id, mia_id = await member_ids(site.db, group_id)
    await fill_group(site.db, site.world, group_id, skip=(liam_id, "childs-views"))
    out = await site.as_user("out")
    check = await out.get(f"/groups/{group_id}/check")
    assert f'href="/handovers/{liam_id}/sections/childs-views?return=check"' in check.text
    refused = await out.post(f"/groups/{group_id}/submit", {"handover_version": version_in(check.text)})
    assert refused.status_code == 409
    assert "Liam Test: There is 1 thing to complete or correct" in refused.text
    assert {m.state for m in await db.group_members(site.db.reader, group_id)} == {"draft"}
    assert mia_id


async def test_the_report_exports_and_api_name_the_group_and_filter_by_it(site: Site) -> None:
    from tests.helpers import handover_in
    from tests.test_api import call, tokens

    group_id = await start_group(site.db, site.world, left_out={"liam": "Liam is 18 next week"})
    (mia_id,) = await member_ids(site.db, group_id)
    alone = await handover_in(site.db, site.world, "draft", "c1")
    mia = await db.case_by_id(site.db.reader, site.world.cases["mia"])
    assert mia is not None and mia.sibling_group_id is not None
    auditor = await site.as_user("aud")
    report = await auditor.get(f"/audit/incomplete?group={mia.sibling_group_id}")
    assert report.status_code == 200
    assert f'href="/handovers/{mia_id}/view"' in report.text and f'href="/handovers/{alone}/view"' not in report.text
    assert "Left out of the group’s handover: Liam Test (T-2): Liam is 18 next week" in report.text
    assert "Test family" in report.text
    everyone = await auditor.get("/audit/incomplete")
    assert (
        f'href="/handovers/{alone}/view"' in everyone.text
        and f'<option value="{mia.sibling_group_id}"' in everyone.text
    )
    csv = await auditor.get(f"/audit/incomplete/csv?group={mia.sibling_group_id}")
    lines = csv.text.strip().splitlines()
    assert lines[0].endswith("Left out of the sibling group's handover") and len(lines) == 2
    assert "Test family" in lines[1] and lines[1].endswith("Liam Test (T-2): Liam is 18 next week")
    wrong = await auditor.get("/audit/incomplete?group=x")
    assert wrong.status_code == 400 and "Select a sibling group from the list" in wrong.text
    t = await tokens(site)
    listed = await call(site, t["svc_aud"], "GET", f"/handovers?group={mia.sibling_group_id}")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["handover_id"], i["sibling_group"]) for i in items] == [(mia_id, "Test family")]
    assert items[0]["left_out_of_group"] == ["Liam Test (T-2): Liam is 18 next week"]


async def test_a_refused_group_submit_gives_the_check_page_back_to_its_author_only(site: Site) -> None:
    """Submitting a group with something still to complete gives its author the check page again, every child's
    problems listed; anyone else who may read the group (its sending manager, an auditor) is refused without it: the
    check page shows every child's answers, and reading them that way would not be recorded as a view."""
    group_id = await start_group(site.db, site.world)
    first = (await member_ids(site.db, group_id))[0]
    handover = await db.handover_by_id(site.db.reader, first)
    assert handover is not None
    form = {"handover_version": str(handover.version), "reply": ""}
    author = await (await site.as_user("out")).post(f"/groups/{group_id}/submit", form)
    assert author.status_code == 409 and "Check your answers before submitting" in author.text
    for role in ("sending_manager", "auditor"):
        response = await (await site.as_user(USERNAMES[role])).post(f"/groups/{group_id}/submit", form)
        assert response.status_code in {403, 409}, (role, response.status_code)
        assert "Check your answers before submitting" not in response.text, role
        assert "app-multiline" not in response.text and "govuk-summary-list" not in response.text, role


def _listed_to_do(page: str) -> int:
    """What the group's check page lists to complete or correct: each problem linked under its section, and each
    section not started."""
    insets = re.findall(r'<div class="govuk-inset-text" id="problems-.*?</div>', page, re.S)
    return sum(inset.count("<li>") for inset in insets) + page.count('<p class="govuk-body">Not started.')


@pytest.mark.parametrize("filled", ["nothing", "all but a family section", "all but a child's section"])
async def test_the_group_check_page_counts_what_it_lists(site: Site, filled: str) -> None:
    group_id = await start_group(site.db, site.world)
    first, second = await member_ids(site.db, group_id)  # the family's sections are saved from the first's handover
    if filled == "all but a family section":
        await fill_group(site.db, site.world, group_id, skip=(first, "sibling-harm"))
    elif filled == "all but a child's section":
        await fill_group(site.db, site.world, group_id, skip=(second, "childs-views"))
    page = (await (await site.as_user("out")).get(f"/groups/{group_id}/check")).text
    said = re.search(r"You need to complete or correct (1 thing|(\d+) things)", page)
    assert said, page
    count = int(said.group(2) or 1)
    assert count == _listed_to_do(page) > 0, (count, _listed_to_do(page))


@pytest.mark.parametrize(
    "filled", ["nothing", "all but a family section", "all but a child's section", "all but one section each"]
)
async def test_a_refused_group_submit_counts_what_its_check_page_lists(site: Site, filled: str) -> None:
    """The refusal says how many things stop the submission in each part of the check page, each on its own line
    linked to that part: the family's sections (one not started counted once) and each child's own. Two children
    with as many things each are not run together."""
    group_id = await start_group(site.db, site.world)
    first, second = await member_ids(site.db, group_id)
    if filled == "all but a family section":
        await fill_group(site.db, site.world, group_id, skip=(first, "sibling-harm"))
    elif filled == "all but a child's section":
        await fill_group(site.db, site.world, group_id, skip=(second, "childs-views"))
    elif filled == "all but one section each":
        await fill_group(site.db, site.world, group_id, skip=[(first, "childs-views"), (second, "childs-views")])
    out = await site.as_user("out")
    check = await out.get(f"/groups/{group_id}/check")
    refused = await out.post(f"/groups/{group_id}/submit", {"handover_version": version_in(check.text)})
    assert refused.status_code == 409
    summary = refused.text.split('govuk-error-summary__list">', 1)[1].split("</ul>", 1)[0]
    said = re.findall(
        r'<a href="#([\w-]+)">([^<:]+): There (?:is (1) thing|are (\d+) things) to complete or correct</a>', summary
    )
    assert said, summary
    parts = {"For the family": "family", "Liam Test": f"child-{first}", "Mia Test": f"child-{second}"}
    assert all(parts[part] == href for href, part, _, _ in said), said
    assert len({part for _, part, _, _ in said}) == len(said)
    assert sum(int(one or many) for _, _, one, many in said) == _listed_to_do(refused.text) > 0, summary
