"""The start page offers as receiving worker only the workers of the team chosen: without JavaScript the team is
chosen first ("Continue"), and the page drawn for a team (`?receiving_team=<id>`) is what the script asks for."""

from __future__ import annotations

import html
import re

import pytest

from service import db
from tests.conftest import Browser, Site

pytestmark = pytest.mark.anyio


def options(page: str, name: str) -> dict[str, str]:
    """The options of the select called `name`: value -> words."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, flags=re.S)
    assert match, f"no select {name}"
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', match.group(1))
    return {value: html.unescape(text).strip() for value, text in found}


def error_by(page: str, field_id: str) -> str:
    """The error message drawn by a field, '' if none."""
    match = re.search(rf'<p id="{field_id}-error" class="govuk-error-message">(.*?)</p>', page, flags=re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).replace("Error:", "").strip() if match else ""


async def expected_workers(site: Site, team_id: int, me: int) -> dict[str, str]:
    workers = await db.team_workers(site.app.state.db.reader, team_id)
    return {"": "Not known yet: the team will allocate"} | {str(i): name for i, name in workers if i != me}


async def test_before_a_team_is_chosen_no_worker_is_offered(site: Site) -> None:
    out = await site.as_user("out")
    page = (await out.get(f"/cases/{site.world.cases['mia']}/handover")).text
    assert 'name="receiver"' not in page
    assert 'value="choose-team"' in page and "To name the receiving worker, choose the team" in page
    for name in ("Rec", "Rec2", "Other", "Out2"):
        assert f">{name}<" not in page and f"{name} (" not in page


async def test_continue_offers_only_the_workers_of_each_team_and_keeps_what_was_typed(site: Site) -> None:
    out = await site.as_user("out")
    url = f"/cases/{site.world.cases['mia']}/handover"
    for team_id in site.world.teams.values():
        typed = {"receiving_team": str(team_id), "transfer_reason": "Step-up <after> the strategy meeting"}
        page = await out.post(url, {**typed, "button": "choose-team"})
        assert page.status_code == 200
        assert options(page.text, "receiver") == await expected_workers(site, team_id, site.world.users["out"])
        assert options(page.text, "receiving_team")[str(team_id)]
        assert re.search(rf'<option value="{team_id}" selected', page.text)
        assert "Step-up &lt;after&gt; the strategy meeting" in page.text
        # the same list is drawn for the address the page's script asks
        drawn = await out.get(url, params={"receiving_team": str(team_id)})
        assert drawn.status_code == 200
        assert options(drawn.text, "receiver") == options(page.text, "receiver")
    assert (await db.case_by_id(site.app.state.db.reader, site.world.cases["mia"])).open_handover_id is None  # type: ignore[union-attr]


@pytest.mark.parametrize("team", ["", "999", "abc", "-1", "1.0"])
async def test_a_team_that_is_not_one_of_the_teams_is_said_by_the_field(site: Site, team: str) -> None:
    out = await site.as_user("out")
    url = f"/cases/{site.world.cases['mia']}/handover"
    for response in (
        await out.post(url, {"receiving_team": team, "button": "choose-team"}),
        await out.get(url, params={"receiving_team": team}),
    ):
        assert response.status_code == 400
        assert error_by(response.text, "receiving_team") == "Select the team the case is moving to"
        assert 'href="#receiving_team"' in response.text and 'name="receiver"' not in response.text


async def test_the_start_still_refuses_a_worker_from_another_team(site: Site) -> None:
    out = await site.as_user("out")
    cp, other = site.world.teams["cp"], site.world.users["other"]
    typed = {"receiving_team": str(cp), "receiver": str(other), "transfer_reason": "x"}
    response = await out.post(f"/cases/{site.world.cases['mia']}/handover", typed)
    assert response.status_code == 400
    assert error_by(response.text, "receiver").startswith("Select a worker in the receiving team")
    assert options(response.text, "receiver") == await expected_workers(site, cp, site.world.users["out"])


async def test_only_the_allocated_worker_sees_the_team_step(site: Site) -> None:
    other: Browser = await site.as_user("out2")
    url = f"/cases/{site.world.cases['mia']}/handover"
    cp = str(site.world.teams["cp"])
    assert (await other.get(url, params={"receiving_team": cp})).status_code == 404
    assert (await other.post(url, {"receiving_team": cp, "button": "choose-team"})).status_code == 404
