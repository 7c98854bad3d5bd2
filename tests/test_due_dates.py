"""Every list of open handovers shows each one's due date and marks an overdue one; the auditors' report, its API
and its exports filter overdue ones and sort them by how overdue they are, in SQL, page by page."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import cli, reporting
from service.core import deadlines
from service.core.clock import date_in_england, today
from service.core.due_dates import latest_overdue_start
from service.core.report import ReportFilter
from service.core.workdays import add_working_days, working_days_between
from service.db.report import overdue_sql
from service.settings import Settings
from tests.conftest import Site
from tests.group_support import start_group
from tests.helpers import CHECKLISTS, handover_in
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio

LIMITS = CHECKLISTS[("case-transfer", 1)].time_limits
assert LIMITS is not None
OPEN_STATES = ["draft", "submitted", "endorsed", "returned", "acknowledged"]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def expected_due(state: str, since: str, started: str, on: date) -> deadlines.Due:
    """The rule itself, on the stored times' dates in England."""
    found = deadlines.due(state, date_in_england(since), date_in_england(started), LIMITS, on)
    assert found is not None
    return found


async def pin(site: Site, handover_id: int, since: str, started: str | None = None) -> None:
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE handovers SET state_since = ?, started_at = ? WHERE id = ?", (since, started or since, handover_id)
        )


# ---------------------------------------------------------------- the places that list a handover


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """Where a handover in `state` is listed for `who`: the address, and how the response shows this handover."""

    name: str
    who: str
    state: str
    address: Callable[[Site, int], str]
    kind: str = "html"  # html: a table row holding a link to it; api, api_detail, jsonl, csv: its fields


PLACES = [
    Place(name="the outgoing worker's handovers", who="out", state="submitted", address=lambda site, h: "/"),
    Place(name="the receiving worker's received list", who="rec", state="acknowledged", address=lambda site, h: "/"),
    Place(name="the receiving worker's inbox", who="rec", state="endorsed", address=lambda site, h: "/inbox"),
    Place(name="the sending manager's queue", who="smgr", state="submitted", address=lambda site, h: "/queue"),
    Place(name="the receiving manager's queue", who="rmgr", state="acknowledged", address=lambda site, h: "/queue"),
    Place(
        name="the caseload page",
        who="smgr",
        state="returned",
        address=lambda site, h: f"/caseloads/{site.world.users['out']}",
    ),
    Place(name="the auditors' report", who="aud", state="endorsed", address=lambda site, h: "/audit/incomplete"),
    Place(name="the search results", who="rmgr", state="acknowledged", address=lambda site, h: "/search?q=Child+1"),
    Place(
        name="the report's CSV", who="aud", state="draft", address=lambda site, h: "/audit/incomplete/csv", kind="csv"
    ),
    Place(
        name="the report's JSON Lines",
        who="aud",
        state="returned",
        address=lambda site, h: "/audit/incomplete/jsonl",
        kind="jsonl",
    ),
    Place(name="the API's list", who="svc_aud", state="acknowledged", address=lambda site, h: "/handovers", kind="api"),
    Place(
        name="the API's handover",
        who="api_out",
        state="submitted",
        address=lambda site, h: f"/handovers/{h}",
        kind="api_detail",
    ),
]


def html_row(html: str, handover_id: int) -> str:
    """The table rows that link to this handover (a dashboard links to it from the child's case too)."""
    rows = re.findall(r"<tr class=\"govuk-table__row\">.*?</tr>", html, flags=re.DOTALL)
    found = [row for row in rows if re.search(rf"/handovers/{handover_id}[/\"]", row)]
    assert found, f"handover {handover_id} is not listed"
    return "\n".join(found)


def fields_of(place: Place, body: bytes, handover_id: int) -> dict[str, Any]:
    """This handover's due date fields from a download or an API answer, by the JSON names."""
    if place.kind == "api_detail":
        return json.loads(body)  # type: ignore[no-any-return]
    if place.kind == "api":
        items = json.loads(body)["items"]
    elif place.kind == "jsonl":
        items = [json.loads(line) for line in body.decode().splitlines()]
    else:
        table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        heading = table[0]
        assert {"Due", "Due for", "Working days overdue"} <= set(heading)
        items = [
            {
                "handover_id": int(row[heading.index("Handover")]),
                "due_on": row[heading.index("Due")],
                "due_wait": row[heading.index("Due for")],
                "overdue_by_working_days": int(row[heading.index("Working days overdue")]),
            }
            for row in table[1:]
        ]
    [item] = [item for item in items if item.get("handover_id", item.get("id")) == handover_id]
    return item  # type: ignore[no-any-return]


async def shown(site: Site, place: Place, handover_id: int) -> tuple[str, dict[str, Any]]:
    """The page row (html) or the fields (everything else) for this handover at this place."""
    address = place.address(site, handover_id)
    if place.kind in ("api", "api_detail"):
        token = (await tokens(site, "read"))[place.who]
        if place.kind == "api_detail":  # the API's own worker writes it: move the handover to them
            async with site.db.transaction() as conn:
                await conn.execute(
                    "UPDATE handovers SET author_id = (SELECT id FROM users WHERE username = ?) WHERE id = ?",
                    (place.who, handover_id),
                )
        response = await call(site, token, "GET", address)
    else:
        response = await (await site.as_user(place.who)).get(address)
    assert response.status_code == 200, response.text
    if place.kind == "html":
        return html_row(response.text, handover_id), {}
    return "", fields_of(place, response.content, handover_id)


@pytest.mark.parametrize("place", PLACES, ids=[place.name for place in PLACES])
async def test_a_handover_past_its_limit_is_marked_overdue_wherever_it_is_listed(site: Site, place: Place) -> None:
    handover_id = await handover_in(site.db, site.world, place.state, "c1")
    long_ago = stamp(datetime.now(UTC) - timedelta(days=90))  # past every limit, the whole transfer's too
    await pin(site, handover_id, long_ago)
    due = expected_due(place.state, long_ago, long_ago, today())
    assert due.overdue
    row, fields = await shown(site, place, handover_id)
    if place.kind == "html":
        assert re.search(r'<strong class="govuk-tag govuk-tag--red[^"]*">' + re.escape(due.words()) + "</strong>", row)
        assert f"Overdue by {due.overdue_by} working days" in row
        return
    wait = deadlines.WAIT_LABELS[due.wait] if place.kind == "csv" else due.wait
    assert (fields["due_on"], fields["due_wait"], fields["overdue_by_working_days"]) == (
        due.due_on.isoformat(),
        wait,
        due.overdue_by,
    )


@pytest.mark.parametrize("place", PLACES, ids=[place.name for place in PLACES])
async def test_a_handover_within_its_limit_shows_its_due_date_wherever_it_is_listed(site: Site, place: Place) -> None:
    handover_id = await handover_in(site.db, site.world, place.state, "c1")
    now = stamp(datetime.now(UTC))
    await pin(site, handover_id, now)
    due = expected_due(place.state, now, now, today())
    assert not due.overdue and due.due_on > today()
    row, fields = await shown(site, place, handover_id)
    if place.kind == "html":
        assert f"Due {due.due_on.day} {due.due_on:%B %Y}" in row
        assert "Overdue" not in row and "govuk-tag--red" not in row
        return
    assert (fields["due_on"], fields["overdue_by_working_days"]) == (due.due_on.isoformat(), 0)


async def test_each_childs_handover_on_the_sibling_groups_page_shows_its_due_date(site: Site) -> None:
    group_id = await start_group(site.db, site.world)
    members = [row[0] for row in await site.db.reader.execute_fetchall("SELECT id FROM handovers ORDER BY id")]
    long_ago = stamp(datetime.now(UTC) - timedelta(days=90))
    await pin(site, members[0], long_ago)
    page = (await (await site.as_user("out")).get(f"/groups/{group_id}")).text
    overdue = expected_due("draft", long_ago, long_ago, today())
    assert re.search(rf'id="due-{members[0]}"><strong class="govuk-tag govuk-tag--red[^"]*">', page)
    assert overdue.words() in page
    for other in members[1:]:
        assert re.search(rf'id="due-{other}"><span class="app-due">Due \d+ \w+ \d{{4}}</span>', page)


async def test_a_closed_handover_among_the_finished_ones_has_no_due_date(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "c1")
    row = html_row((await (await site.as_user("out")).get("/finished")).text, handover_id)
    assert "Due " not in row and "Overdue" not in row


# ---------------------------------------------------------------- the report: a literal day


# Tuesday 28 May 2024, the day after the spring bank holiday (Monday 27 May)
REPORT_DAY = date(2024, 5, 28)


async def test_the_report_counts_overdue_working_days_across_the_bank_holiday(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submitted on Monday 13 May 2024: endorsement (5 working days) was due on Monday 20 May, and on Tuesday 28 May
    it is overdue by 21, 22, 23, 24 and 28 May: 5 working days (the bank holiday on the 27th does not count)."""
    from service.web import api, auditor

    monkeypatch.setattr(auditor, "today", lambda: REPORT_DAY)
    monkeypatch.setattr(api, "today", lambda: REPORT_DAY)
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    await pin(site, handover_id, "2024-05-13T09:00:00+00:00", "2024-05-10T09:00:00+00:00")
    page = (await (await site.as_user("aud")).get("/audit/incomplete")).text
    assert "Overdue by 5 working days (due 20 May 2024)" in html_row(page, handover_id)
    token = (await tokens(site, "read"))["svc_aud"]
    [item] = (await call(site, token, "GET", "/handovers")).json()["items"]
    assert (item["due_on"], item["due_wait"], item["overdue_by_working_days"]) == ("2024-05-20", "endorsement", 5)


# ---------------------------------------------------------------- the filter and the sort, with paging


SPREAD = [("c1", "submitted", 40), ("c2", "endorsed", 3), ("c3", "returned", 25), ("c4", "acknowledged", 60),
          ("c5", "draft", 70), ("c6", "submitted", 1), ("c7", "endorsed", 16), ("c8", "draft", 5)]  # fmt: skip


async def spread_out(site: Site) -> dict[int, deadlines.Due]:
    """Eight handovers that began waiting a few to seventy days ago, each with its due date by the rule."""
    dues = {}
    for case, state, days_ago in SPREAD:
        handover_id = await handover_in(site.db, site.world, state, case)
        since = stamp(datetime.now(UTC) - timedelta(days=days_ago))
        await pin(site, handover_id, since)
        dues[handover_id] = expected_due(state, since, since, today())
    return dues


def most_overdue_first(dues: dict[int, deadlines.Due], overdue_only: bool) -> list[int]:
    kept = [h for h, due in dues.items() if due.overdue or not overdue_only]
    return sorted(kept, key=lambda h: (dues[h].due_on, h))


async def test_overdue_only_and_most_overdue_first_page_through_the_api(site: Site) -> None:
    dues = await spread_out(site)
    token = (await tokens(site, "read"))["svc_aud"]
    for query, overdue_only in (("overdue=yes&sort=most_overdue", True), ("sort=most_overdue", False)):
        expected = most_overdue_first(dues, overdue_only)
        assert 3 <= len(expected) <= 8
        seen: list[int] = []
        for page in range(1, 6):
            body = (await call(site, token, "GET", f"/handovers?{query}&per_page=2&page={page}")).json()
            assert body["total"] == len(expected)
            seen += [item["handover_id"] for item in body["items"]]
        assert seen == expected, query
        # how overdue, most first, then the rest by due date
        overdue_by = [dues[h].overdue_by for h in seen]
        assert overdue_by == sorted(overdue_by, reverse=True)


async def test_overdue_only_keeps_the_other_filters_and_any_sort(site: Site) -> None:
    dues = await spread_out(site)
    overdue = {h for h, due in dues.items() if due.overdue}
    assert overdue and overdue != set(dues)
    for sort in ("oldest", "newest", "last_activity", "state", "most_overdue"):
        rows, total = await reporting.page_of_rows(
            site.db,
            CHECKLISTS,
            ReportFilter(overdue=True, sort=sort),
            1,
            500,
            today(),  # type: ignore[arg-type]
        )
        assert {row.handover_id for row in rows} == overdue and total == len(overdue), sort
        assert all(row.overdue_by_working_days > 0 for row in rows)
    drafts, _ = await reporting.page_of_rows(
        site.db, CHECKLISTS, ReportFilter(overdue=True, state="draft"), 1, 500, today()
    )
    draft_ids = {h for h, (_, state, _) in zip(dues, SPREAD, strict=True) if state == "draft"}
    assert {row.handover_id for row in drafts} == overdue & draft_ids


async def test_the_report_page_filters_and_sorts_and_keeps_both_in_its_links(site: Site) -> None:
    dues = await spread_out(site)
    auditor = await site.as_user("aud")
    page = (await auditor.get("/audit/incomplete?overdue=yes&sort=most_overdue")).text
    listed = [int(h) for h in re.findall(r'href="/handovers/(\d+)/view">#', page)]
    assert listed == most_overdue_first(dues, overdue_only=True)
    assert 'href="/audit/incomplete/csv?sort=most_overdue&amp;overdue=yes"' in page
    assert '<option value="yes" selected>Overdue only</option>' in page
    assert '<option value="most_overdue" selected>Most overdue first</option>' in page
    lines = (await auditor.get("/audit/incomplete/jsonl?overdue=yes&sort=most_overdue")).text.splitlines()
    assert [json.loads(line)["handover_id"] for line in lines] == listed


@pytest.mark.parametrize("query", ["overdue=no", "overdue=1", "overdue=YES", "sort=overdue"])
async def test_a_wrong_overdue_filter_or_sort_is_refused_by_name(site: Site, query: str) -> None:
    name = query.split("=")[0]
    page = await (await site.as_user("aud")).get(f"/audit/incomplete?{query}")
    assert page.status_code == 400 and f'id="{name}-error"' in page.text
    token = (await tokens(site, "read"))["svc_aud"]
    body = error_shape(await call(site, token, "GET", f"/handovers?{query}"), 422)
    assert [detail["field"] for detail in body["details"]] == [name]


async def test_the_overdue_filter_given_twice_is_refused(site: Site) -> None:
    page = await (await site.as_user("aud")).get("/audit/incomplete?overdue=yes&overdue=yes")
    assert page.status_code == 400 and "Choose this filter once" in page.text
    token = (await tokens(site, "read"))["svc_aud"]
    assert (await call(site, token, "GET", "/handovers?overdue=yes&overdue=yes")).status_code == 400


def test_the_command_line_export_filters_overdue_and_sorts_most_overdue_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from service import db
    from tests.conftest import seed
    from tests.helpers import settings_for_tests

    settings: Settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)

    async def populate() -> dict[int, deadlines.Due]:
        async with db.Database.for_settings(settings).opened() as database:
            world = await seed(database)
            dues = {}
            for case, state, days_ago in SPREAD:
                handover_id = await handover_in(database, world, state, case)
                since = stamp(datetime.now(UTC) - timedelta(days=days_ago))
                async with database.transaction() as conn:
                    await conn.execute(
                        "UPDATE handovers SET state_since = ?, started_at = ? WHERE id = ?",
                        (since, since, handover_id),
                    )
                dues[handover_id] = expected_due(state, since, since, today())
            return dues

    dues = asyncio.run(populate())
    out = tmp_path / "overdue.jsonl"
    argv = ["export", "--incomplete", "--format", "jsonl", "--overdue", "--sort", "most_overdue", "-o", str(out)]
    assert cli.main(argv) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["handover_id"] for row in rows] == most_overdue_first(dues, overdue_only=True)
    assert all(row["overdue_by_working_days"] > 0 for row in rows)


# ---------------------------------------------------------------- the SQL cut-offs agree with the rule


@settings(max_examples=500, deadline=None)
@given(
    back=st.integers(0, 120),
    days=st.integers(1, 60),
    today_=st.dates(date(2023, 1, 1), date(2027, 6, 30)),
)
def test_a_wait_begun_on_or_before_the_cut_off_is_overdue_and_none_after(back: int, days: int, today_: date) -> None:
    """Starts within a few months of the day, so that weekends and bank holidays next to the cut-off come up."""
    start = today_ - timedelta(days=back)
    due_on = add_working_days(start, days)
    overdue = today_ > due_on and working_days_between(due_on, today_) > 0
    assert (start <= latest_overdue_start(days, today_)) == overdue


# up to about two months back from the day, to the second: near midnight too, in summer time and out of it
before = st.tuples(st.integers(0, 60), st.integers(0, 24 * 3600 - 1))


@settings(max_examples=500, deadline=None)
@given(
    state=st.sampled_from(OPEN_STATES),
    since_back=before,
    started_back=before,
    urgent_back=st.none() | before,
    today_=st.dates(date(2023, 1, 1), date(2027, 3, 31)),
)
def test_the_reports_overdue_filter_in_sql_agrees_with_the_rule(
    state: str,
    since_back: tuple[int, int],
    started_back: tuple[int, int],
    urgent_back: tuple[int, int] | None,
    today_: date,
) -> None:
    """Stored times in UTC against `deadlines.due` on their dates in England: the report's SQL keeps a handover
    exactly when the rule calls it overdue."""
    midnight = datetime(today_.year, today_.month, today_.day, tzinfo=UTC)

    def back(days_seconds: tuple[int, int]) -> str:
        return stamp(midnight - timedelta(days=days_seconds[0], seconds=days_seconds[1]))

    since, started = back(since_back), back(started_back)
    urgent = back(urgent_back) if urgent_back else None
    terms = reporting.report_terms(CHECKLISTS, today_)
    where, params = overdue_sql(terms)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE handovers (state TEXT, state_since TEXT, started_at TEXT, urgent_at TEXT)")
    conn.execute("INSERT INTO handovers VALUES (?, ?, ?, ?)", (state, since, started, urgent))
    [(kept,)] = conn.execute(f"SELECT COUNT(*) FROM handovers h WHERE {where}", params).fetchall()
    rule = deadlines.due(
        state,
        date_in_england(since),
        date_in_england(started),
        LIMITS,
        today_,
        urgent_since=date_in_england(urgent) if urgent else None,
    )
    assert rule is not None
    assert bool(kept) == rule.overdue
