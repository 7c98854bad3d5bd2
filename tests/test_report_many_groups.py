"""The report's sibling-group filter: a list of the groups to choose from while they are few, the group's number
typed once they are more than a list can usefully hold (a large service has tens of thousands)."""

from __future__ import annotations

import re

import pytest

from service import db
from service.core.report import GROUP_NOT_KNOWN_MESSAGE, GROUP_NUMBER_MESSAGE
from service.web import auditor
from tests.conftest import Site
from tests.helpers import handover_in

pytestmark = pytest.mark.anyio


async def groups(site: Site, count: int) -> list[int]:
    async with site.db.transaction() as conn:
        return [await db.create_sibling_group(conn, f"Family {n}") for n in range(count)]


async def test_a_few_groups_are_listed_and_many_are_typed_by_number(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor, "GROUPS_LISTED_MAX", 3)
    first, *_ = await groups(site, 2)
    aud = await site.as_user("aud")
    few = (await aud.get("/audit/incomplete")).text
    assert re.search(r'<select class="govuk-select[^"]*" id="group" name="group"', few)
    assert "Family 1</option>" in few

    await groups(site, 5)
    many = (await aud.get("/audit/incomplete")).text
    assert '<select class="govuk-select" id="group"' not in many and "Family 1</option>" not in many
    assert re.search(r'<input class="govuk-input govuk-input--width-5" id="group" name="group" type="text"', many)
    assert 'for="group">Sibling group number (beside its name in the table)' in many

    async with site.db.transaction() as conn:
        await conn.execute("UPDATE cases SET sibling_group_id = ? WHERE id = ?", (first, site.world.cases["c1"]))
    await handover_in(site.db, site.world, "draft", "c1")
    await handover_in(site.db, site.world, "draft", "c2")
    listed = (await aud.get("/audit/incomplete")).text
    assert f"Family 0 (group {first})</span>" in listed, "the number to type is beside the group's name"
    typed = await aud.get(f"/audit/incomplete?group={first}")
    assert typed.status_code == 200 and "1 matches these filters" in typed.text
    assert f'id="group" name="group" type="text" value="{first}"' in typed.text, "what was typed stays in the box"
    unknown = await aud.get("/audit/incomplete?group=999999&state=draft")
    assert unknown.status_code == 400, "typed: a number not on record is a mistake by the box, not a missing page"
    assert GROUP_NOT_KNOWN_MESSAGE in unknown.text and 'value="999999"' in unknown.text
    assert '<option value="draft" selected>' in unknown.text, "the other filters are kept"
    refused = await aud.get("/audit/incomplete?group=two")
    assert refused.status_code == 400 and 'id="group-error"' in refused.text
    assert GROUP_NUMBER_MESSAGE in refused.text and "from the list" not in refused.text, "there is no list"


async def test_a_typed_group_outside_a_managers_teams_reads_as_one_not_on_record(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a group exists is not told to a manager who may not see its handovers: the same answer as for a number
    no group has."""
    monkeypatch.setattr(auditor, "GROUPS_LISTED_MAX", -1)  # always the box, however few groups this manager sees
    [elsewhere] = await groups(site, 1)
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE cases SET sibling_group_id = ? WHERE id = ?", (elsewhere, site.world.cases["c1"]))
    await handover_in(site.db, site.world, "draft", "c1")  # from north to cp, a draft: cp's manager cannot see it yet
    manager = await site.as_user("rmgr")
    numbers = (elsewhere, 999999)
    answers = [await manager.get(f"/audit/incomplete?group={g}") for g in numbers]
    assert [a.status_code for a in answers] == [400, 400]
    texts = [
        re.sub(r'name="_csrf_token" value="[^"]*"|nonce="[^"]*"', "", a.text)
        .replace(f"group={g}", "group=N")
        .replace(f'name="group" type="text" value="{g}"', 'name="group" type="text" value="N"')
        for g, a in zip(numbers, answers, strict=True)
    ]
    assert texts[0] == texts[1] and GROUP_NOT_KNOWN_MESSAGE in texts[0]


async def test_a_page_past_the_last_says_so_rather_than_that_nothing_matches(site: Site) -> None:
    await handover_in(site.db, site.world, "draft", "c1")
    aud = await site.as_user("aud")
    beyond = (await aud.get("/audit/incomplete?page=5&state=draft")).text
    assert "No handovers match these filters" not in beyond
    assert re.search(r"There is no page 5: \d+ handovers? match(es)? these filters\.", beyond)
    assert 'href="/audit/incomplete?state=draft">Go to the first page</a>' in beyond, "the filters are kept"
