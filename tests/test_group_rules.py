"""The sibling-group rules at every door: a child of a group handed over alone needs the reason the siblings are not
moving together (asked by every route that starts a handover, found here from the app itself, and shown to both
managers and in the report); a sibling-harm incident cannot name one child twice, and a child from outside the group
is refused with nothing stored; only teams with an enabled worker can receive a case; the group's start page names
every child already in a handover; a report filtered by a group not on record is not found; and the three start
forms draw their shared fields from one macro."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from service import db
from service.actions.handovers import CHOOSE_RECEIVING_TEAM
from service.core import groups as group_rules
from service.core.answers import SectionAnswers
from service.settings import PROJECT_ROOT
from tests.conftest import Site
from tests.group_support import answers_for, member_ids, start_group
from tests.helpers import form_for
from tests.test_api import call, error_shape, tokens
from tests.test_start_page_teams import error_by, options

pytestmark = pytest.mark.anyio

WHY = "Liam is settled with his foster carers and stays with his worker"
_ISSUED: dict[int, dict[str, str]] = {}
STARTS = re.compile(r"\bstart_(child_)?handover\(")


def starting_places(app: Any) -> set[str]:
    """Every route whose handler starts a single child's handover, and the command line if it ever does: found from
    the app's own routes, so a new way in is caught here."""
    places = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if STARTS.search(inspect.getsource(handler.fn)):
                places |= {f"{method} {route.path}" for method in handler.http_methods}
    if STARTS.search((PROJECT_ROOT / "service" / "cli.py").read_text(encoding="utf-8")):
        places.add("cli")
    return places


async def reset(site: Site) -> None:
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET state = 'cancelled'")


async def api_group(site: Site) -> tuple[int, int]:
    """Two children of one sibling group allocated to api_out: (first's case id, second's), made the first time."""
    made = [await db.case_by_reference(site.db.reader, reference) for reference in ("A-1", "A-2")]
    if made[0] is not None and made[1] is not None:
        return made[0].id, made[1].id
    async with site.db.transaction() as conn:
        user = await db.user_by_username(conn, "api_out")
        assert user is not None
        group = await db.create_sibling_group(conn, "Api family")
        first = await db.create_case(conn, "A-1", "Ava Api", "2015-01-01", user.id, site.world.teams["north"], group)
        second = await db.create_case(conn, "A-2", "Ben Api", "2013-01-01", user.id, site.world.teams["north"], group)
    return first, second


async def _page_start(site: Site, who: str, url: str, case: str, reason: str) -> tuple[int, str, int | None]:
    person = await site.as_user(who)
    data = {"receiving_team": str(site.world.teams["cp"]), "transfer_reason": "Step-up", "apart_reason": reason}
    response = await person.post(url, data)
    found = await db.case_by_id(site.db.reader, site.world.cases[case])
    assert found is not None
    message = error_by(response.text, "apart_reason") if response.status_code == 400 else ""
    return response.status_code, message, found.open_handover_id


async def own_page(site: Site, reason: str) -> tuple[int, str, int | None]:
    return await _page_start(site, "out", f"/cases/{site.world.cases['mia']}/handover", "mia", reason)


async def caseload_page(site: Site, reason: str) -> tuple[int, str, int | None]:
    manager = await site.as_user("smgr")
    await manager.post(f"/caseloads/{site.world.users['out']}/transfer")
    url = f"/caseloads/{site.world.users['out']}/cases/{site.world.cases['mia']}/handover"
    return await _page_start(site, "smgr", url, "mia", reason)


async def api(site: Site, reason: str) -> tuple[int, str, int | None]:
    if id(site.app) not in _ISSUED:  # the API's accounts and tokens are made once for each app
        _ISSUED[id(site.app)] = await tokens(site)
    issued = _ISSUED[id(site.app)]
    first, _ = await api_group(site)
    body = {"receiving_team_id": site.world.teams["cp"], "transfer_reason": "Step-up", "apart_reason": reason}
    response = await call(site, issued["api_out"], "POST", f"/cases/{first}/handovers", body)
    message = ""
    if response.status_code == 422:
        details = error_shape(response, 422)["details"]
        message = next((d["message"] for d in details if d["field"] == "apart_reason"), "")
    case = await db.case_by_id(site.db.reader, first)
    assert case is not None
    return (201 if response.status_code == 201 else response.status_code), message, case.open_handover_id


DRIVERS = {
    "POST /cases/{case_id:int}/handover": (own_page, 303, "Liam Test (T-2)"),
    "POST /caseloads/{person_id:int}/cases/{case_id:int}/handover": (caseload_page, 303, "Liam Test (T-2)"),
    "POST /api/v1/cases/{case_id:int}/handovers": (api, 201, "Ben Api (A-2)"),
}


async def test_every_way_to_start_one_childs_handover_asks_why_the_siblings_are_not_moving(site: Site) -> None:
    places = starting_places(site.app)
    assert places == set(DRIVERS), "every way to start a handover must ask why a sibling moves alone"
    for place, (drive, success, sibling) in DRIVERS.items():
        kept_before = await count_reasons(site)
        for missing in ("", "   "):
            status, message, open_id = await drive(site, missing)
            assert status in {400, 422}, place
            assert message == "Enter why the siblings are not moving together", place
            assert open_id is None, f"{place}: nothing is started when the reason is missing"
        assert await count_reasons(site) == kept_before
        status, message, open_id = await drive(site, f"  {WHY}  ")
        assert status == success and open_id is not None, (place, message)
        [kept] = await db.apart_from_siblings(site.db.reader, open_id)
        assert (f"{kept.child_name} ({kept.reference})", kept.reason) == (sibling, WHY), place
        # shown to the worker, both managers and the auditors, on the page and in the exports
        for who in ("smgr", "aud"):  # the receiving manager: see the next test
            view = await (await site.as_user(who)).get(f"/handovers/{open_id}/view")
            assert view.status_code == 200, (place, who)
            assert "Children left out of this handover" in view.text and WHY in view.text, (place, who)
            assert 'id="apart"' in view.text
        auditor = await site.as_user("aud")
        report = await auditor.get("/audit/incomplete")
        assert f"Left out of the group’s handover: {sibling}: {WHY}" in report.text, place
        csv = await auditor.get("/audit/incomplete/csv")
        assert f"{sibling}: {WHY}" in csv.text, place
        await reset(site)


async def test_the_receiving_manager_sees_why_the_siblings_are_not_moving(site: Site) -> None:
    from tests.helpers import APART, handover_in

    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    for who in ("rmgr", "rec", "smgr"):
        view = await (await site.as_user(who)).get(f"/handovers/{handover_id}/view")
        assert view.status_code == 200, who
        assert "Liam Test (T-2)" in view.text and APART in view.text, who


async def count_reasons(site: Site) -> int:
    from service.db.engine import _one

    row = await _one(site.db.reader, "SELECT COUNT(*) FROM sibling_apart_reasons", ())
    assert row is not None
    return int(row[0])


async def test_a_child_outside_any_group_needs_no_reason_and_none_is_kept(site: Site) -> None:
    out = await site.as_user("out")
    page = await out.get(f"/cases/{site.world.cases['c1']}/handover")
    assert 'name="apart_reason"' not in page.text
    assert 'name="apart_reason"' in (await out.get(f"/cases/{site.world.cases['mia']}/handover")).text
    data = {"receiving_team": str(site.world.teams["cp"]), "transfer_reason": "Step-up"}
    assert (await out.post(f"/cases/{site.world.cases['c1']}/handover", data)).status_code == 303
    assert await count_reasons(site) == 0


async def test_an_over_long_reason_is_said_by_the_field_and_nothing_starts(site: Site) -> None:
    status, message, open_id = await own_page(site, "x" * (group_rules.APART_REASON_MAX + 1))
    assert status == 400 and open_id is None
    limit = f"{group_rules.APART_REASON_MAX:,}"
    assert message == f"The reason the siblings are not moving together must be {limit} characters or fewer"


# ---------------------------------------------------------------- sibling harm


async def _harm_row(site: Site, handover_id: int, **chosen: str) -> SectionAnswers:
    row = dict((await answers_for(site.db, handover_id))["sibling-harm"].groups["incidents"][0])
    row |= {"child_harmed_outside": "", "child_who_harmed_outside": ""} | chosen
    return SectionAnswers(values={"sibling_harm": "yes"}, groups={"incidents": [row]})


async def test_one_child_cannot_be_both_who_harmed_and_who_was_harmed(site: Site) -> None:
    group_id = await start_group(site.db, site.world)
    liam_id, mia_id = await member_ids(site.db, group_id)
    out = await site.as_user("out")
    from tests.helpers import section as section_of

    harm = section_of("sibling-harm")
    same = await _harm_row(site, mia_id, child_harmed="T-1", child_who_harmed="T-1")
    response = await out.post(f"/handovers/{mia_id}/sections/sibling-harm", form_for(harm, same))
    assert response.status_code == 200
    expected = (
        "Incident 1: Select a different child for ‘Child who harmed’: they cannot also be the ‘child who was harmed’"
    )
    assert error_by(response.text, "incidents-0-child_who_harmed") == expected
    assert 'href="#incidents-0-child_who_harmed"' in response.text
    for member in (liam_id, mia_id):  # the family's answer is the same for both, and is not complete
        assert (await db.sections_of(site.db.reader, member))["sibling-harm"].status == "has_errors"
    # two different children are accepted
    version = await db.section_version(site.db.reader, mia_id, "sibling-harm")
    answers = await _harm_row(site, mia_id, child_harmed="T-1", child_who_harmed="T-2")
    response = await out.post(f"/handovers/{mia_id}/sections/sibling-harm", form_for(harm, answers, version=version))
    assert response.status_code == 303
    assert (await db.sections_of(site.db.reader, mia_id))["sibling-harm"].status == "completed"


async def test_a_child_from_outside_the_group_is_refused_and_nothing_is_stored(site: Site) -> None:
    from tests.helpers import section as section_of

    group_id = await start_group(site.db, site.world)
    liam_id, mia_id = await member_ids(site.db, group_id)
    harm = section_of("sibling-harm")
    out = await site.as_user("out")
    for tampered in ("T-3", "Z-9"):  # Zoe, a child in no group; and a reference no one has
        for field in ("child_harmed", "child_who_harmed"):
            answers = await _harm_row(
                site, mia_id, **{"child_harmed": "T-1", "child_who_harmed": "T-2", field: tampered}
            )
            page = await out.post(f"/handovers/{mia_id}/sections/sibling-harm", form_for(harm, answers))
            assert page.status_code == 400, (tampered, field)
            assert "Select one of the children given for" in page.text
            autosaved = await out.post(f"/handovers/{liam_id}/sections/sibling-harm/autosave", form_for(harm, answers))
            assert "Not saved automatically" in autosaved.text
            for member in (liam_id, mia_id):
                assert "sibling-harm" not in await db.sections_of(site.db.reader, member), (tampered, field, member)


# ---------------------------------------------------------------- receiving teams


async def add_team_without_worker(site: Site) -> int:
    """A team with only a manager and a disabled worker: nobody there can take a case on."""
    async with site.db.transaction() as conn:
        team = await db.create_team(conn, "Empty Team")
        for username, role in (("emgr", "manager"), ("egone", "worker")):
            user = await db.create_user(conn, username, username.title(), "!")
            await db.add_membership(conn, user, team, role)
        gone = await db.user_by_username(conn, "egone")
        assert gone is not None
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (gone.id,))
    return team


async def test_only_teams_with_an_enabled_worker_are_offered_or_accepted(site: Site) -> None:
    empty = await add_team_without_worker(site)
    out, smgr = await site.as_user("out"), await site.as_user("smgr")
    await smgr.post(f"/caseloads/{site.world.users['out']}/transfer")
    mia = site.world.cases["mia"]
    pages = {
        f"/cases/{mia}/handover": out,
        f"/cases/{mia}/handover/group": out,
        f"/caseloads/{site.world.users['out']}/cases/{mia}/handover": smgr,
    }
    for url, person in pages.items():
        # the group's form asks "Which team are the cases moving to?", and its messages say "cases" too
        expected = group_rules.NO_WORKER_IN_TEAM_FOR_GROUP if url.endswith("/group") else group_rules.NO_WORKER_IN_TEAM
        offered = options((await person.get(url)).text, "receiving_team")
        assert str(empty) not in offered and str(site.world.teams["cp"]) in offered, url
        data = {"receiving_team": str(empty), "transfer_reason": "Step-up", "apart_reason": WHY,
                "children": [str(mia), str(site.world.cases["liam"])]}  # fmt: skip
        for posted in (data, data | {"button": "choose-team"}):
            refused = await person.post(url, posted)
            assert refused.status_code == 400, url
            assert error_by(refused.text, "receiving_team") == expected, url
        drawn = await person.get(url, params={"receiving_team": str(empty)})
        if not url.startswith("/caseloads"):  # the caseload's page draws the team's workers without judging it
            assert error_by(drawn.text, "receiving_team") == expected, url
        chosen_none = await person.post(url, data | {"receiving_team": ""})
        none_expected = group_rules.CHOOSE_RECEIVING_TEAM_FOR_GROUP if url.endswith("/group") else CHOOSE_RECEIVING_TEAM
        assert error_by(chosen_none.text, "receiving_team") == none_expected, url
    found = await db.case_by_id(site.db.reader, mia)
    assert found is not None and found.open_handover_id is None
    issued = await tokens(site)
    first, _ = await api_group(site)
    body = {"receiving_team_id": empty, "transfer_reason": "Step-up", "apart_reason": WHY}
    details = error_shape(await call(site, issued["api_out"], "POST", f"/cases/{first}/handovers", body), 422)[
        "details"
    ]
    assert {"field": "receiving_team_id", "message": group_rules.NO_WORKER_IN_TEAM} in details


# ---------------------------------------------------------------- the group's start page


async def test_the_group_start_names_every_child_already_in_a_handover(site: Site) -> None:
    out = await site.as_user("out")
    for case in ("mia", "liam"):
        data = {"receiving_team": str(site.world.teams["cp"]), "transfer_reason": "Step-up", "apart_reason": WHY}
        assert (await out.post(f"/cases/{site.world.cases[case]}/handover", data)).status_code == 303
    data = {"receiving_team": str(site.world.teams["cp"]), "transfer_reason": "Step-up",
            "children": [str(site.world.cases["mia"]), str(site.world.cases["liam"])]}  # fmt: skip
    refused = await out.post(f"/cases/{site.world.cases['mia']}/handover/group", data)
    assert refused.status_code == 400
    expected = "Liam Test and Mia Test already have handovers in progress: leave them out and say why"
    assert error_by(refused.text, "children") == expected


def test_the_names_of_children_who_cannot_be_included_are_all_said() -> None:
    said = group_rules.cannot_include_all(not_yours=["Ann", "Bo", "Cy"], in_handover=["Di"])
    assert (
        said
        == "Ann, Bo and Cy are not allocated to you; Di already has a handover in progress: leave them out and say why"
    )
    assert group_rules.cannot_include_all(not_yours=[], in_handover=[]) is None


# ---------------------------------------------------------------- the report's group filter


async def test_a_group_not_on_record_is_not_found_in_the_report_exports_and_api(site: Site) -> None:
    auditor = await site.as_user("aud")
    for url in ("/audit/incomplete?group=99", "/audit/incomplete/csv?group=99", "/audit/incomplete/jsonl?group=99"):
        assert (await auditor.get(url)).status_code == 404, url
    mia = await db.case_by_id(site.db.reader, site.world.cases["mia"])
    assert mia is not None and mia.sibling_group_id is not None
    assert (await auditor.get(f"/audit/incomplete?group={mia.sibling_group_id}")).status_code == 200
    issued = await tokens(site)
    for url in ("/handovers?group=99", "/exports/incomplete?group=99&format=csv"):
        error_shape(await call(site, issued["svc_aud"], "GET", url), 404)
    listed = await call(site, issued["svc_aud"], "GET", f"/handovers?group={mia.sibling_group_id}")
    assert listed.status_code == 200


# ---------------------------------------------------------------- one macro for the start forms


def test_the_three_start_forms_draw_their_shared_fields_from_one_macro() -> None:
    templates = PROJECT_ROOT / "templates"
    for name in ("outgoing/start.html", "outgoing/group_start.html", "caseload/start.html"):
        text = (templates / name).read_text(encoding="utf-8")
        assert "{% call start_form(receiving, " in text, name
        for repeated in ('"id": "receiving_team"', '"id": "receiver"', '"id": "transfer_reason"', "receiver-choice"):
            assert repeated not in text, (name, repeated)
    macro = (templates / "components" / "start_fields.html").read_text(encoding="utf-8")
    assert all(part in macro for part in ('"id": "receiving_team"', '"id": "receiver"', '"id": "transfer_reason"'))


@pytest.mark.parametrize("form", ["own", "group", "caseload"])
async def test_a_start_form_with_an_answer_sent_twice_starts_nothing(site: Site, form: str) -> None:
    """Every start form (a worker's own, a sibling group's, a manager's from a caseload) refuses each single answer
    it asks for sent twice, by its field and in its label's words, and starts nothing: which was meant cannot be
    known. An answer to a question the form does not draw (the worker before a team is chosen; why the siblings
    stay, on the group's form) is not judged, sent once or twice."""
    from service.web.start_form import REASON_LABEL, RECEIVER_LABEL

    smgr, out = await site.as_user("smgr"), await site.as_user("out")
    await smgr.post(f"/caseloads/{site.world.users['out']}/transfer")
    mia, liam = site.world.cases["mia"], site.world.cases["liam"]
    url, person, team_label = {
        "own": (f"/cases/{mia}/handover", out, "Which team is the case moving to?"),
        "group": (f"/cases/{mia}/handover/group", out, "Which team are the cases moving to?"),
        "caseload": (
            f"/caseloads/{site.world.users['out']}/cases/{mia}/handover",
            smgr,
            "Which team is Mia Test’s case moving to?",
        ),
    }[form]
    data: dict[str, Any] = {
        "receiving_team": str(site.world.teams["cp"]),
        "receiver": str(site.world.users["rec"]),
        "transfer_reason": "Step-up",
        "apart_reason": WHY,
    }
    fields = {"receiving_team": team_label, "receiver": RECEIVER_LABEL, "transfer_reason": REASON_LABEL}
    if form == "group":
        data |= {"children": [str(mia)], f"reason-{liam}": WHY}
        fields |= {f"reason-{liam}": group_rules.left_out_label("Liam Test")}
    else:
        fields |= {"apart_reason": group_rules.APART_LABEL}
    for name, label in fields.items():
        refused = await person.post(url, data | {name: [data[name], data[name] + "9"]})
        assert refused.status_code == 400, (name, refused.status_code)
        assert error_by(refused.text, name) == f"{label}: send one answer, not several", name
        for case in (mia, liam):
            found = await db.case_by_id(site.db.reader, case)
            assert found is not None and found.open_handover_id is None, name
    no_team = await person.post(url, data | {"receiving_team": "", "receiver": ["1", "2"]})
    assert no_team.status_code == 400 and "send one answer, not several" not in no_team.text
    if form == "group":  # its form has no box for why siblings stay: what is sent there is not the person's
        started = await person.post(url, data | {"apart_reason": ["One", "Two"]})
        assert started.status_code == 303, started.text[:300]
