"""The report of incomplete handovers for managers as well as auditors: each sees only the handovers sent from or to
the teams in their scope, on the page and in both downloads; the report at full width with its two measures of time
explained once; and every filter the report has, taken by the page, the API and the command line alike."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from service import actions, cli, db, reporting
from service.core.report import (
    FILTER_NAMES,
    WORKING_DAYS_OPEN,
    WORKING_DAYS_OPEN_MEANS,
    WORKING_DAYS_WAITING,
    WORKING_DAYS_WAITING_MEANS,
    ReportFilter,
)
from service.settings import Settings
from tests.conftest import Site
from tests.helpers import CHECKLISTS, handover_in
from tests.test_api import call, tokens
from tests.test_cli import env, populate  # noqa: F401 (the command line's fixture, used by name)
from tests.test_report import REPORT_DAY, exports_on_the_report_day, pin_dates

pytestmark = pytest.mark.anyio

TEAM_NOT_ON_THE_LIST = "Select a team from the list"


async def three_handovers(site: Site) -> dict[str, int]:
    """North to CP (Child 1), South to CP (Child 2) and North to CP again (Child 3), each endorsed to CP, so that
    both teams may open it."""
    ids = {name: await handover_in(site.db, site.world, "endorsed", case)
           for name, case in [("north_to_cp", "c1"), ("south_to_cp", "c2"), ("north_to_cp_again", "c3")]}  # fmt: skip
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE handovers SET sending_team_id = ? WHERE id = ?", (site.world.teams["south"], ids["south_to_cp"])
        )
    return ids


async def test_a_manager_of_another_team_never_sees_a_handover_between_two_teams_they_do_not_manage(
    site: Site,
) -> None:
    ids = await three_handovers(site)
    south_manager = await site.as_user("omgr")
    page = await south_manager.get("/audit/incomplete")
    assert page.status_code == 200
    assert "1 matches these filters" in page.text
    assert f"#{ids['south_to_cp']}<" in page.text and "Child 2" in page.text
    for hidden, child in [("north_to_cp", "Child 1"), ("north_to_cp_again", "Child 3")]:
        assert f"#{ids[hidden]}<" not in page.text and child not in page.text
    lines = (await south_manager.get("/audit/incomplete/jsonl")).text.splitlines()
    assert [json.loads(line)["handover_id"] for line in lines] == [ids["south_to_cp"]]
    table = list(
        csv.reader(io.StringIO((await south_manager.get("/audit/incomplete/csv")).content.decode("utf-8-sig")))
    )
    assert [row[0] for row in table[1:]] == [str(ids["south_to_cp"])]
    # the receiving team's manager sees all three; the sending team's manager the two from North
    receiving = await site.as_user("rmgr")
    assert "3 match these filters" in (await receiving.get("/audit/incomplete")).text
    sending = await site.as_user("smgr")
    lines = (await sending.get("/audit/incomplete/jsonl?sort=oldest")).text.splitlines()
    assert [json.loads(line)["handover_id"] for line in lines] == [ids["north_to_cp"], ids["north_to_cp_again"]]


async def test_the_head_of_service_sees_the_handovers_of_every_team_they_oversee(site: Site) -> None:
    ids = await three_handovers(site)
    await actions.set_head_of_service(site.db, username="omgr", by=None)
    head = await site.as_user("omgr")
    lines = (await head.get("/audit/incomplete/jsonl?sort=oldest")).text.splitlines()
    assert [json.loads(line)["handover_id"] for line in lines] == list(ids.values())


async def test_a_team_outside_a_managers_scope_is_not_on_their_list_and_is_refused_as_not_on_it(site: Site) -> None:
    await three_handovers(site)
    north, south = site.world.teams["north"], site.world.teams["south"]
    south_manager = await site.as_user("omgr")
    page = await south_manager.get("/audit/incomplete")
    assert f'<option value="{south}"' in page.text and f'<option value="{north}"' not in page.text
    refused = await south_manager.get(f"/audit/incomplete?team={north}")
    assert refused.status_code == 400 and TEAM_NOT_ON_THE_LIST in refused.text and 'href="#team"' in refused.text
    assert "Child 1" not in refused.text
    download = await south_manager.get(f"/audit/incomplete/csv?team={north}")
    assert download.status_code == 303
    assert [e for e in await db.audit_entries(site.db.reader) if e.entry.action == "export"] == []
    # the auditor may choose any team
    auditor = await site.as_user("aud")
    assert (await auditor.get(f"/audit/incomplete?team={north}")).status_code == 200


async def test_a_sibling_group_with_no_handover_in_scope_is_neither_offered_nor_found(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "mia")  # the Test family, North to CP
    group = (await db.sibling_group_names(site.db.reader))[0][0]
    south_manager = await site.as_user("omgr")
    assert "Test family" not in (await south_manager.get("/audit/incomplete")).text
    assert (await south_manager.get(f"/audit/incomplete?group={group}")).status_code == 404
    # the receiving team's manager may not open it until it is endorsed to them, so the family is not yet theirs
    receiving = await site.as_user("rmgr")
    assert (await receiving.get(f"/audit/incomplete?group={group}")).status_code == 404
    await handover_in(site.db, site.world, "endorsed", "liam")  # Mia's brother's, endorsed to CP
    assert "Test family" in (await receiving.get(f"/audit/incomplete?group={group}")).text


async def test_a_managers_export_records_whose_handovers_it_holds(site: Site) -> None:
    await three_handovers(site)
    south_manager = await site.as_user("omgr")
    assert (await south_manager.get("/audit/incomplete/csv?urgent=yes")).status_code == 200
    auditor = await site.as_user("aud")
    assert (await auditor.get("/audit/incomplete/jsonl")).status_code == 200
    exports = [e.entry for e in await db.audit_entries(site.db.reader) if e.entry.action == "export"]
    assert [(e.actor_id, e.details["filter"]["scope"], e.details["filter"]["urgent"]) for e in exports] == [
        (site.world.users["omgr"], [site.world.teams["south"]], True),
        (site.world.users["aud"], None, False),
    ]


async def test_the_report_is_full_width_and_explains_each_measure_once(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "c1")
    page = (await site.as_user("aud")).get("/audit/incomplete")
    text = (await page).text
    assert 'class="govuk-width-container app-width-container--wide"' in text
    assert text.count(WORKING_DAYS_OPEN_MEANS) == 1 and text.count(WORKING_DAYS_WAITING_MEANS) == 1
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', text)
    assert headers[headers.index(WORKING_DAYS_OPEN) + 1] == WORKING_DAYS_WAITING
    # and the other pages keep GOV.UK's width
    assert "app-width-container--wide" not in (await (await site.as_user("aud")).get("/search")).text


async def test_the_working_days_waiting_is_the_wait_the_blockers_give(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await exports_on_the_report_day(site, monkeypatch)
    submitted = await handover_in(site.db, site.world, "submitted", "c4")
    await pin_dates(site, submitted, "2024-05-01T08:30:00+00:00", "2024-05-01T10:00:00+00:00",
                    "2024-05-01T10:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(), 1, 50, REPORT_DAY)
    waits = {}
    for row in rows:
        [said] = [
            re.search(r"since \d+ \w+ \d{4}, (less than a|\d+) working day", b) for b in row.blockers if "since" in b
        ]
        assert said is not None
        waits[row.handover_id] = 0 if said.group(1) == "less than a" else int(said.group(1))
        assert row.working_days_waiting == waits[row.handover_id], row.blockers
    assert waits == {ids["draft"]: 6, ids["endorsed"]: 3, ids["returned"]: 0, submitted: 17}
    # the page's column says the same
    page = (await (await site.as_user("aud")).get("/audit/incomplete")).text
    for handover_id, days in waits.items():
        cells = re.search(rf"#{handover_id}<.*?</tr>", page, re.S)
        assert cells is not None
        numbers = re.findall(r'govuk-table__cell--numeric">(\d+)</td>', cells.group(0))
        assert numbers[1] == str(days)


# ---------------------------------------------------------------- every filter, everywhere the report is

# A value each filter takes; a filter named in the core without one here fails the test below, so a new filter is
# offered by the page, the API and the command line before it is called done.
GOOD = {"team": "{north}", "side": "sending", "state": "submitted", "blocker": "awaiting_endorsement",
        "min_days": "0", "sort": "newest", "group": "{group}", "overdue": "yes", "waited": "under-5",
        "waiting_for": "sending_manager", "urgent": "yes", "disagreement_stage": "manager"}  # fmt: skip
BAD = {name: "nonsense" for name in FILTER_NAMES}
FLAGS = {"overdue", "urgent"}  # on the command line, a flag without a value


def test_every_filter_has_a_value_to_try() -> None:
    assert set(GOOD) == set(FILTER_NAMES)


def good(name: str, site_or_ids: dict[str, int]) -> str:
    return GOOD[name].format(**site_or_ids)


@pytest.mark.parametrize("name", list(FILTER_NAMES))
async def test_every_filter_is_taken_by_the_page_and_the_api(site: Site, name: str) -> None:
    await handover_in(site.db, site.world, "submitted", "c1")
    known = {"north": site.world.teams["north"], "group": (await db.sibling_group_names(site.db.reader))[0][0]}
    value = good(name, known)
    auditor = await site.as_user("aud")
    page = await auditor.get(f"/audit/incomplete?{name}={value}")
    assert page.status_code == 200, (name, page.text[:2000])
    assert re.search(rf'<(select|input)[^>]*name="{name}"', page.text), f"the page offers {name}"
    assert (await auditor.get(f"/audit/incomplete/jsonl?{name}={value}")).status_code == 200
    wrong = await auditor.get(f"/audit/incomplete?{name}={BAD[name]}")
    assert wrong.status_code == 400 and f'href="#{name}"' in wrong.text
    token = (await tokens(site))["svc_aud"]
    assert (await call(site, token, "GET", f"/handovers?{name}={value}")).status_code == 200, name
    assert (await call(site, token, "GET", f"/exports/incomplete?{name}={value}")).status_code == 200, name
    refused = await call(site, token, "GET", f"/handovers?{name}={BAD[name]}")
    assert refused.status_code == 422 and name in refused.text, (name, refused.text)
    schema = (await site.client.get("/schema/openapi.json")).json()
    for path in ("/api/v1/handovers", "/api/v1/exports/incomplete"):
        assert name in [p["name"] for p in schema["paths"][path]["get"]["parameters"]], (path, name)


@pytest.mark.parametrize("name", list(FILTER_NAMES))
def test_every_filter_is_taken_by_the_command_line(
    env: Settings,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    populate(env)
    option = "--" + name.replace("_", "-")
    given = [option] if name in FLAGS else [option, good(name, {"north": 1, "group": 1})]
    out = tmp_path / "export.csv"
    assert cli.main(["export", "--incomplete", *given, "-o", str(out)]) == 0, capsys.readouterr().err
    if name not in FLAGS:
        assert exit_status(["export", "--incomplete", option, BAD[name]]) == 2
        assert option in capsys.readouterr().err


def exit_status(args: list[str]) -> int | str | None:
    """The command's exit status, whether it returns it or argparse exits with it (a choice not on its list)."""
    try:
        return cli.main(args)
    except SystemExit as exc:
        return exc.code


async def listed(person: object, query: str) -> list[int]:
    """The handover ids a person's JSON Lines download lists for `query`."""
    response = await person.get(f"/audit/incomplete/jsonl?{query}")  # type: ignore[attr-defined]
    assert response.status_code == 200, query
    return sorted(json.loads(line)["handover_id"] for line in response.text.splitlines())


async def test_a_side_without_a_team_is_that_side_for_every_team_the_manager_can_see(site: Site) -> None:
    ids = await three_handovers(site)  # every one received by CP; two sent by North, one by South
    north = await site.as_user("smgr")  # manages North
    both = await site.as_user("both")  # manages North and CP
    from_north = sorted([ids["north_to_cp"], ids["north_to_cp_again"]])
    assert await listed(north, "side=receiving") == []  # North is receiving none of them
    assert await listed(north, "side=sending") == from_north
    assert await listed(north, "side=either") == from_north
    assert await listed(both, "side=receiving") == sorted(ids.values())
    assert await listed(both, "side=sending") == from_north
    page = await north.get("/audit/incomplete?side=receiving")
    assert "0 match these filters" in page.text


async def test_a_team_not_on_record_is_refused_rather_than_an_empty_report(site: Site) -> None:
    await three_handovers(site)
    auditor = await site.as_user("aud")
    page = await auditor.get("/audit/incomplete?team=9999")
    assert page.status_code == 400 and TEAM_NOT_ON_THE_LIST in page.text
    for fmt in ("csv", "jsonl"):
        download = await auditor.get(f"/audit/incomplete/{fmt}?team=9999")
        assert download.status_code == 303
    token = (await tokens(site))["svc_aud"]
    for path in ("/handovers", "/exports/incomplete"):
        refused = await call(site, token, "GET", f"{path}?team=9999")
        assert refused.status_code == 422 and "team" in refused.text
    exports = await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
    assert exports[0][0] == 0


def test_the_command_line_refuses_a_team_not_on_record(
    env: Settings,  # noqa: F811 (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    populate(env)
    assert exit_status(["export", "--incomplete", "--team", "9999"]) == 2
    assert f"--team: {TEAM_NOT_ON_THE_LIST}" in capsys.readouterr().err


@pytest.mark.parametrize("username", ["smgr", "rmgr", "both", "omgr", "aud"])
async def test_a_person_is_listed_and_counted_exactly_the_handovers_they_may_open(site: Site, username: str) -> None:
    """The report, its downloads and the oversight page follow the rule of the handover page itself
    (`workflow.may_view`): a receiving team's manager is not shown a draft or a handover still waiting for the sending
    manager, which they could not open."""
    ids = [await handover_in(site.db, site.world, state, case)
           for state, case in [("draft", "c1"), ("submitted", "c2"), ("endorsed", "c3"), ("acknowledged", "c4"),
                               ("returned", "c5")]]  # fmt: skip
    person = await site.as_user(username)
    may_open = {handover for handover in ids if (await person.get(f"/handovers/{handover}/view")).status_code == 200}
    assert await listed(person, "") == sorted(may_open)
    dashboard = await person.get("/oversight")
    assert dashboard.status_code == 200
    assert f"{len(may_open)} in progress." in dashboard.text
