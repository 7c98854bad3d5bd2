"""The oversight page: its figures against hand-computed values on a seeded database (working days across bank
holidays), its charts against its tables, and who sees which handovers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import db
from service.core import oversight
from service.core.clock import date_in_england
from service.core.due_dates import due_on_stored
from service.core.report import WAIT_BANDS, wait_band
from service.core.workdays import working_days_between
from service.core.workflow import STATE_LABELS, State
from tests.conftest import Site
from tests.helpers import CHECKLIST

pytestmark = pytest.mark.anyio

SUBMITTED, ENDORSED, ACKNOWLEDGED = (STATE_LABELS[s] for s in (State.SUBMITTED, State.ENDORSED, State.ACKNOWLEDGED))
TODAY = date(2026, 6, 15)  # a Monday in British Summer Time; the months shown run from July 2025 to June 2026


# ---------------------------------------------------------------- the rules, by hand


def test_nearest_rank_picks_the_value_at_the_rounded_up_position() -> None:
    assert oversight.nearest_rank([20, 1, 5, 4], 50) == 4  # sorted 1 4 5 20: position ceil(2) = 2
    assert oversight.nearest_rank([20, 1, 5, 4], 90) == 20  # position ceil(3.6) = 4
    assert oversight.nearest_rank([7], 90) == 7
    assert oversight.nearest_rank([3, 1, 2], 50) == 2  # position ceil(1.5) = 2
    assert oversight.nearest_rank(list(range(1, 11)), 90) == 9  # position ceil(9) = 9, not 10
    with pytest.raises(ValueError, match="no values"):
        oversight.nearest_rank([], 50)
    with pytest.raises(ValueError, match="from 1 to 100"):
        oversight.nearest_rank([1], 0)


@given(st.lists(st.integers(0, 200), min_size=1, max_size=60), st.integers(1, 100))
def test_nearest_rank_is_the_smallest_value_with_enough_at_or_below_it(values: list[int], percent: int) -> None:
    found = oversight.nearest_rank(values, percent)
    assert found in values
    at_or_below = sum(1 for v in values if v <= found)
    assert at_or_below * 100 >= percent * len(values)
    assert sum(1 for v in values if v < found) * 100 < percent * len(values)


def test_working_days_across_christmas_and_new_year() -> None:
    # Started Tuesday 23 December 2025, closed Friday 2 January 2026. Counted: Wed 24 Dec (1); Thu 25 and Fri 26 are
    # Christmas Day and Boxing Day; Sat 27, Sun 28; Mon 29 (2), Tue 30 (3), Wed 31 (4); Thu 1 Jan is New Year's Day;
    # Fri 2 Jan (5). Five working days.
    assert oversight.working_days_taken("2025-12-23T10:00:00+00:00", "2026-01-02T15:00:00+00:00") == 5
    # 23:30 UTC on 1 April 2026 is 00:30 on 2 April in England (BST): the start day is the 2nd, not the 1st; then
    # Good Friday (3 April) and Easter Monday (6 April) are bank holidays: Tue 7, Wed 8 make two working days
    assert oversight.working_days_taken("2026-04-01T23:30:00+00:00", "2026-04-08T09:00:00+00:00") == 2


def test_wait_bands_and_their_cut_offs_agree_with_the_pure_rule_at_the_bank_holiday() -> None:
    cutoffs = oversight.wait_cutoffs(TODAY)
    # 20 working days back from Monday 15 June 2026 crosses the spring bank holiday (Monday 25 May): a wait begun on
    # Friday 15 May has lasted 18-22 May, 26-29 May, 1-5 June, 8-12 June and 15 June; one begun that weekend too, so
    # Sunday 17 May is the latest day a 20-working-day wait can have begun on
    assert working_days_between(date(2026, 5, 15), TODAY) == 20
    assert working_days_between(date(2026, 5, 18), TODAY) == 19
    assert working_days_between(date(2026, 5, 17), TODAY) == 20
    assert cutoffs["20-or-more"] == "2026-05-17T23:00:00"  # midnight of 18 May in England (BST) in UTC
    assert wait_band(4) == "under-5" and wait_band(5) == "5-to-9"
    assert wait_band(19) == "10-to-19" and wait_band(20) == "20-or-more"


def _band_by_cutoffs(stamp: str, cutoffs: dict[str, str]) -> str:
    """What the SQL does: the longest band whose cut-off the stored time is before."""
    for band, cutoff in sorted(cutoffs.items(), key=lambda item: item[1]):
        if stamp < cutoff:
            return band
    return next(iter(WAIT_BANDS))


@given(
    st.dates(date(2025, 11, 1), date(2027, 2, 1)),
    st.integers(0, 60 * 24 * 45),
)
def test_the_sql_cut_offs_put_every_wait_in_the_band_the_rule_gives(today: date, minutes_back: int) -> None:
    moment = datetime(today.year, today.month, today.day, 23, 0, tzinfo=UTC) - timedelta(minutes=minutes_back)
    stamp = moment.isoformat(timespec="seconds")
    waited = working_days_between(date_in_england(stamp), today)
    if date_in_england(stamp) > today:
        return  # a wait cannot begin after the day it is counted on
    assert _band_by_cutoffs(stamp, oversight.wait_cutoffs(today)) == wait_band(waited)


def test_months_shown_and_their_bounds_in_england() -> None:
    months = oversight.months_shown(TODAY)
    assert months[0] == "2025-07" and months[-1] == "2026-06" and len(months) == 12
    assert oversight.month_start("2026-06") == "2026-05-31T23:00:00"  # BST
    assert oversight.month_start("2026-01") == "2026-01-01T00:00:00"  # GMT
    assert oversight.month_after("2025-12") == "2026-01" and oversight.month_after("2026-01") == "2026-02"
    assert oversight.month_of("2026-05-31T23:30:00+00:00") == "2026-06"


def test_chart_scale() -> None:
    assert [oversight.scale_top(n) for n in (0, 1, 2, 3, 7, 10, 11, 37, 120)] == [1, 1, 2, 5, 10, 10, 20, 50, 200]
    drawn = oversight.chart("c", "T", "S", ["a"], [("x", [3]), ("y", [None])])
    assert drawn.top == 5 and drawn.ticks == [0, 1, 2, 3, 4, 5]
    assert drawn.groups[0][1][0].share == 0.6 and drawn.groups[1][1] == []


# ---------------------------------------------------------------- a seeded database


async def add_handover(
    site: Site,
    state: str,
    sending: str,
    receiving: str,
    started: str,
    *,
    since: str | None = None,
    closed: str | None = None,
    urgent: bool = False,
) -> int:
    """A handover written straight into the store with the times given (stored UTC), for a case of its own."""
    world = site.world
    async with site.db.transaction() as conn:
        number = len(await conn.execute_fetchall("SELECT id FROM cases")) + 1
        case_id = await db.create_case(
            conn, f"O-{number}", f"Oversight child {number}", "2016-01-01", world.users["out"], world.teams[sending]
        )
        rows = await conn.execute_fetchall(
            "INSERT INTO handovers (case_id, checklist_id, checklist_version, state, author_id, sending_team_id,"
            " receiving_team_id, transfer_reason, started_at, state_since, last_activity_at, approved_at,"
            " approved_by, urgent_at, urgent_by) VALUES (?, 'case-transfer', 1, ?, ?, ?, ?, 'Step-up', ?, ?, ?, ?, ?,"
            " ?, ?) RETURNING id",
            (
                case_id, state, world.users["out"], world.teams[sending], world.teams[receiving], started,
                closed or since or started, closed or since or started, closed,
                world.users["rmgr"] if closed else None, started if urgent else None,
                world.users["aud"] if urgent else None,
            ),
        )  # fmt: skip
        return int(next(iter(rows))[0])


async def add_return(site: Site, handover_id: int, at: str) -> None:
    async with site.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO queries (handover_id, returned_by, returned_at, query) VALUES (?, ?, ?, 'Which school?')",
            (handover_id, site.world.users["smgr"], at),
        )


async def add_disagreement(site: Site, handover_id: int, stage: str, status: str = "escalated") -> None:
    async with site.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO disagreements (handover_id, raised_by, raised_at, about, with_whom, view, status, stage,"
            " stage_since) VALUES (?, ?, '2026-06-01T09:00:00+00:00', 'Contact', 'School', 'Unsafe', ?, ?,"
            " '2026-06-01')",
            (handover_id, site.world.users["out"], status, stage),
        )


@pytest.fixture
def on_the_day(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr("service.web.oversight.today", lambda: TODAY)
    return TODAY


async def seeded(site: Site) -> dict[str, int]:
    """North to CP handovers with hand-counted figures, and one CP to South that a North manager must never see."""
    made: dict[str, int] = {}
    # closed in January 2026: 5, 4, 20 and 1 working days (median of 1 4 5 20 by nearest rank: 4; 90th: 20)
    made["christmas"] = await add_handover(
        site, "closed", "north", "cp", "2025-12-23T10:00:00+00:00", closed="2026-01-02T15:00:00+00:00"
    )  # 24, 29, 30, 31 Dec, 2 Jan: 5
    await add_handover(site, "closed", "north", "cp", "2026-01-05T09:00:00+00:00", closed="2026-01-09T16:00:00+00:00")
    # 5 to 9 January: 6, 7, 8, 9: 4. Friday 2 January to Friday 30 January: 5-9, 12-16, 19-23, 26-30: 20
    await add_handover(site, "closed", "north", "cp", "2026-01-02T09:00:00+00:00", closed="2026-01-30T16:00:00+00:00")
    await add_handover(site, "closed", "north", "cp", "2026-01-12T09:00:00+00:00", closed="2026-01-13T09:00:00+00:00")
    # closed in June 2025: before the months shown, so never counted
    await add_handover(site, "closed", "north", "cp", "2025-06-02T09:00:00+00:00", closed="2025-06-20T09:00:00+00:00")
    # open, by how long they have waited on 15 June 2026
    made["today"] = await add_handover(site, "submitted", "north", "cp", "2026-06-15T08:00:00+00:00")  # 0: under 5
    # 23:30 UTC on 8 June is 00:30 on 9 June in England: 10, 11, 12, 15 June: 4 working days, under 5 (the UTC date,
    # 8 June, would make it 5)
    made["late"] = await add_handover(
        site, "endorsed", "north", "cp", "2026-05-01T09:00:00+00:00", since="2026-06-08T23:30:00+00:00"
    )
    made["five"] = await add_handover(
        site, "endorsed", "north", "cp", "2026-05-01T09:00:00+00:00", since="2026-06-08T09:00:00+00:00"
    )  # 9, 10, 11, 12, 15 June: 5
    # from Monday 18 May: 19 working days (25 May is the spring bank holiday); from Friday 15 May: 20
    made["nineteen"] = await add_handover(
        site, "acknowledged", "north", "cp", "2026-05-01T09:00:00+00:00", since="2026-05-18T09:00:00+00:00"
    )
    made["twenty"] = await add_handover(
        site, "acknowledged", "north", "cp", "2026-05-01T09:00:00+00:00", since="2026-05-15T09:00:00+00:00", urgent=True
    )
    await add_disagreement(site, made["nineteen"], "manager")
    await add_disagreement(site, made["nineteen"], "manager", status="open")  # one handover, counted once
    await add_disagreement(site, made["five"], "informal", status="resolved")  # resolved: not counted
    await add_return(site, made["five"], "2026-03-10T10:00:00+00:00")
    await add_return(site, made["five"], "2026-03-20T10:00:00+00:00")
    await add_return(site, made["late"], "2026-05-31T23:30:00+00:00")  # 00:30 on 1 June in England: June
    # between CP and South: none of North's business
    made["elsewhere"] = await add_handover(site, "submitted", "cp", "south", "2026-06-10T09:00:00+00:00", urgent=True)
    await add_handover(site, "closed", "cp", "south", "2026-01-05T09:00:00+00:00", closed="2026-01-06T09:00:00+00:00")
    await add_return(site, made["elsewhere"], "2026-03-11T10:00:00+00:00")
    await add_disagreement(site, made["elsewhere"], "head_of_service")
    return made


def table(html: str, table_id: str) -> list[list[str]]:
    """The rows of a table on the page, each cell's text without the words only a screen reader hears."""
    found = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    assert found, table_id
    body = re.sub(r'<span class="govuk-visually-hidden">.*?</span>', "", found.group(1), flags=re.S)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def chart_values(html: str, chart_id: str) -> list[tuple[str, list[int]]]:
    """Each group of bars in a chart: its axis label and its bars' values, read from the SVG's text."""
    found = re.search(rf'<svg[^>]*id="{chart_id}"[^>]*>(.*?)</svg>', html, re.S)
    assert found, chart_id
    groups = re.findall(r'<g class="app-chart__group">(.*?)</g>', found.group(1), re.S)
    out = []
    for group in groups:
        values = [int(v) for v in re.findall(r'<text class="app-chart__value"[^>]*>(\d+)</text>', group)]
        label = re.search(r'<text class="app-chart__label"[^>]*>(.*?)</text>', group, re.S)
        assert label
        out.append((unescape(" ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", label.group(1)))), values))
    return out


async def test_figures_equal_the_hand_counted_values(site: Site, on_the_day: date) -> None:
    await seeded(site)
    page = await (await site.as_user("aud")).get("/oversight")
    assert page.status_code == 200, page.text
    html = page.text
    progress = {row[0]: row[1:] for row in table(html, "table-in-progress")[1:]}
    # columns: under 5, 5 to 9, 10 to 19, 20 or more, total
    assert progress[SUBMITTED] == ["2", "0", "0", "0", "2"]  # North's today, and CP to South's
    assert progress[ENDORSED] == ["1", "1", "0", "0", "2"]  # 4 working days (BST), and 5
    assert progress[ACKNOWLEDGED] == ["0", "0", "1", "1", "2"]  # 19 and 20 across the spring bank holiday
    assert progress["Total"] == ["3", "1", "1", "1", "6"]
    closures = {row[0]: row[1:] for row in table(html, "table-closures")[1:]}
    assert closures["January 2026"] == ["5", "4", "20"]  # North's four (1 4 5 20) and CP to South's one (1)
    assert closures["June 2026"] == ["0", "–", "–"]
    assert "June 2025" not in closures
    north = {row[0]: row[1:] for row in table(html, f"table-closures-team-{site.world.teams['north']}")[1:]}
    cp = {row[0]: row[1:] for row in table(html, f"table-closures-team-{site.world.teams['cp']}")[1:]}
    assert north["January 2026"] == ["4", "4", "20"]
    assert cp["January 2026"] == ["5", "4", "20"]  # with CP to South's: 1 1 4 5 20, positions 3 and 5
    assert list(north) == [oversight.month_words(m) for m in oversight.months_shown(TODAY)]
    returns = {row[0]: row[1] for row in table(html, "table-returns")[1:]}
    assert returns["March 2026"] == "3" and returns["June 2026"] == "1" and returns["May 2026"] == "0"
    stages = {row[0]: row[1] for row in table(html, "table-disagreements")[1:]}
    assert list(stages.values()) == ["0", "1", "1", "0"]  # informal (resolved), managers, head of service, partnership
    assert re.search(r'id="urgent-count"[^>]*>2 urgent transfers', html)


async def test_charts_show_the_numbers_in_their_tables(site: Site, on_the_day: date) -> None:
    await seeded(site)
    html = (await (await site.as_user("aud")).get("/oversight")).text
    progress = table(html, "table-in-progress")[1:-1]
    assert chart_values(html, "chart-in-progress") == [(row[0], [int(row[-1])]) for row in progress]
    closures = table(html, "table-closures")[1:]
    drawn = chart_values(html, "chart-closures")
    assert [values for _, values in drawn] == [[int(r[2]), int(r[3])] if r[1] != "0" else [] for r in closures]
    assert [label for label, _ in drawn] == [oversight.month_short(m) for m in oversight.months_shown(TODAY)]
    returns = table(html, "table-returns")[1:]
    assert [values for _, values in chart_values(html, "chart-returns")] == [[int(r[1])] for r in returns]
    for chart_id in ("chart-in-progress", "chart-closures", "chart-returns"):
        svg = re.search(rf'<svg[^>]*id="{chart_id}"[^>]*>', html)
        assert (
            svg
            and 'role="img"' in svg.group(0)
            and f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg.group(0)
        )
        assert f'<title id="{chart_id}-title">' in html and f'<desc id="{chart_id}-desc">' in html
    assert "<script" not in re.sub(r"<script (type=\"module\" )?src=\"/static/[^\"]+\"></script>", "", html)
    assert " style=" not in html.split("<main", 1)[1]  # the CSP allows no inline styles


async def test_a_north_manager_never_sees_cp_to_south(site: Site, on_the_day: date) -> None:
    await seeded(site)
    html = (await (await site.as_user("smgr")).get("/oversight")).text
    progress = {row[0]: row[1:] for row in table(html, "table-in-progress")[1:]}
    assert progress[SUBMITTED] == ["1", "0", "0", "0", "1"]
    assert progress["Total"][-1] == "5"
    closures = {row[0]: row[1:] for row in table(html, "table-closures")[1:]}
    assert closures["January 2026"] == ["4", "4", "20"]
    returns = {row[0]: row[1] for row in table(html, "table-returns")[1:]}
    assert returns["March 2026"] == "2"
    stages = {row[0]: row[1] for row in table(html, "table-disagreements")[1:]}
    assert list(stages.values()) == ["0", "1", "0", "0"]
    assert re.search(r'id="urgent-count"[^>]*>1 urgent transfer still', html)
    assert "South Team" not in html and "Cp Team" not in html.split('id="closures-by-team"')[-1]
    # the lists behind the figures, and a team outside their scope
    person = await site.as_user("smgr")
    closed = await person.get("/oversight/closed?month=2026-01")
    assert closed.status_code == 200 and "4 handovers closed" in closed.text and "South Team" not in closed.text
    returned = await person.get("/oversight/returns?month=2026-03")
    assert "2 returns" in returned.text and "South Team" not in returned.text
    refused = await person.get(f"/oversight?team={site.world.teams['south']}")
    assert refused.status_code == 400 and oversight.TEAM_MESSAGE in refused.text
    refused = await person.get(f"/oversight/closed?team={site.world.teams['cp']}&month=2026-01")
    assert refused.status_code == 400


async def test_a_team_filter_keeps_to_that_teams_handovers(site: Site, on_the_day: date) -> None:
    await seeded(site)
    html = (await (await site.as_user("aud")).get(f"/oversight?team={site.world.teams['south']}")).text
    progress = {row[0]: row[1:] for row in table(html, "table-in-progress")[1:]}
    assert progress["Total"][-1] == "1"
    assert f"/audit/incomplete?state=submitted&amp;waited=under-5&amp;team={site.world.teams['south']}" in html
    closures = {row[0]: row[1:] for row in table(html, "table-closures")[1:]}
    assert closures["January 2026"] == ["1", "1", "1"]


async def test_the_closed_list_names_each_handover_and_counts_its_working_days(site: Site, on_the_day: date) -> None:
    await seeded(site)
    page = await (await site.as_user("aud")).get(f"/oversight/closed?month=2026-01&team={site.world.teams['north']}")
    rows = table(page.text, "table-closed")[1:]
    assert len(rows) == 4
    christmas = next(row for row in rows if row[3] == "23 December 2025")
    assert christmas[4] == "2 January 2026" and christmas[5] == "5"
    assert [row[5] for row in rows] == ["5", "4", "1", "20"]  # by closure: 2, 9, 13 and 30 January


async def test_links_go_to_the_reports_filters(site: Site, on_the_day: date) -> None:
    await seeded(site)
    html = (await (await site.as_user("aud")).get("/oversight")).text
    for href in (
        "/audit/incomplete?state=acknowledged&amp;waited=20-or-more",
        "/audit/incomplete?overdue=yes&amp;waiting_for=receiving_manager",
        "/audit/incomplete?blocker=open_disagreement&amp;disagreement_stage=manager",
        "/audit/incomplete?urgent=yes",
        "/oversight/closed?month=2026-01",
        "/oversight/returns?month=2026-03",
    ):
        assert f'href="{href}"' in html, href


async def test_overdue_waits_follow_the_due_date_rule(site: Site, on_the_day: date) -> None:
    made = await seeded(site)
    html = (await (await site.as_user("aud")).get("/oversight")).text
    overdue = {row[0]: int(row[1]) for row in table(html, "table-overdue")[1:]}
    expected: dict[str, int] = {}
    roles = {"submitted": "The sending team's manager", "endorsed": "The receiving worker",
             "acknowledged": "The receiving team's manager"}  # fmt: skip
    for handover_id in made.values():
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None
        due = due_on_stored(CHECKLIST, handover.state, handover.state_since, handover.started_at,
                            handover.urgent_at, TODAY)  # fmt: skip
        if handover.state in roles and due is not None and due.overdue_by > 0:
            expected[roles[handover.state]] = expected.get(roles[handover.state], 0) + 1
    assert sum(overdue.values()) > 0
    for role, count in overdue.items():
        assert count == expected.get(role, 0), role


async def test_bad_filters_get_their_messages(site: Site, on_the_day: date) -> None:
    person = await site.as_user("aud")
    for url, name, message in (
        ("/oversight?team=x", "team", oversight.TEAM_MESSAGE),
        ("/oversight?team=99999", "team", oversight.TEAM_MESSAGE),
        ("/oversight/closed?month=2025-06", "month", oversight.MONTH_MESSAGE),
        ("/oversight/returns?month=June", "month", oversight.MONTH_MESSAGE),
        ("/oversight/returns?team=99999", "team", oversight.TEAM_MESSAGE),
    ):
        page = await person.get(url)
        assert page.status_code == 400 and message in unescape(page.text), url
        # by the field that was wrong, which the summary links to
        assert f'id="{name}-error"' in page.text and f'href="#{name}"' in page.text, url


async def test_a_list_offers_the_months_shown_and_the_teams_in_scope(site: Site, on_the_day: date) -> None:
    html = (await (await site.as_user("smgr")).get("/oversight/closed?month=2026-01")).text
    months = re.findall(r'<option value="(\d{4}-\d{2})"( selected)?>', html)
    assert [m for m, _ in months] == oversight.months_shown(TODAY)[::-1]
    assert [m for m, chosen in months if chosen] == ["2026-01"]
    teams = re.findall(r'<select[^>]*id="team".*?</select>', html, re.S)[0]
    assert "North Team" in teams and "Cp Team" not in teams and "South Team" not in teams


@pytest.mark.parametrize("who", ["out", "rec", "adm"])
async def test_people_who_do_not_oversee_are_refused(site: Site, who: str) -> None:
    person = await site.as_user(who)
    for url in ("/oversight", "/oversight/closed", "/oversight/returns"):
        assert (await person.get(url)).status_code == 403
    assert 'href="/oversight"' not in (await person.get("/search")).text


async def test_the_navigation_offers_oversight_to_overseers_and_marks_it_current(site: Site) -> None:
    person = await site.as_user("rmgr")
    home = await person.get("/queue")
    assert 'href="/oversight">Oversight</a>' in home.text
    page = await person.get("/oversight")
    assert 'href="/oversight" aria-current="page"' in page.text


async def test_anonymous_requests_are_sent_to_sign_in(site: Site) -> None:
    anonymous: Any = await site.as_user(None)
    assert (await anonymous.get("/oversight")).status_code == 303


async def test_the_lists_come_a_page_at_a_time(site: Site, on_the_day: date) -> None:
    for day in range(51):  # 51 closed in March 2026, one a day from the 1st
        moment = datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(hours=day * 14)
        handover_id = await add_handover(site, "closed", "north", "cp", _stamp(moment), closed=_stamp(moment))
        await add_return(site, handover_id, _stamp(moment))
    person = await site.as_user("rmgr")
    for path, table_id in (("/oversight/closed", "table-closed"), ("/oversight/returns", "table-returned")):
        first = await person.get(f"{path}?month=2026-03")
        assert len(table(first.text, table_id)) == 51  # a heading row and 50
        assert f'href="{path}?month=2026-03&amp;page=2"' in first.text
        second = await person.get(f"{path}?month=2026-03&page=2")
        assert len(table(second.text, table_id)) == 2 and "Page 2 of 2" in second.text


async def test_the_demos_team_manager_and_auditor_see_the_demo_handovers(tmp_path: Any) -> None:
    from litestar.testing import AsyncTestClient

    from service.actions import demo
    from service.app import create_app
    from tests.conftest import Browser
    from tests.helpers import CHECKLISTS, LATEST, settings_for_tests

    app = create_app(settings_for_tests(tmp_path))
    async with AsyncTestClient(app=app) as client:
        assert await demo.load(app.state.db, CHECKLISTS, LATEST)
        for username in ("taylor", "ruth"):  # the README's hint: a manager of two teams, and an auditor
            person = Browser(client)
            response = await person.sign_in(username, "handover-demo-2026")
            assert response.status_code == 303, response.text
            page = await person.get("/oversight")
            assert page.status_code == 200
            total = table(page.text, "table-in-progress")[-1][-1]
            assert int(total) > 0, username
            closed_this_month = table(page.text, "table-closures")[-1][1]
            assert int(closed_this_month) >= 1, username  # the demo's closed handover, approved today


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@pytest.mark.parametrize("who", ["aud", "smgr"])
async def test_every_figure_is_the_number_of_handovers_its_link_lists(
    site: Site, on_the_day: date, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    monkeypatch.setattr("service.web.auditor.today", lambda: TODAY)  # the report on the same day as the page
    await seeded(site)
    person = await site.as_user(who)
    for team in ("", f"?team={site.world.teams['north']}"):
        html = (await person.get(f"/oversight{team}")).text
        links = re.findall(r'<a class="govuk-link"[^>]* href="(/audit/incomplete[^"]*)">(\d+)', html)
        assert len(links) > 25
        for href, figure in links:
            report = await person.get(unescape(href))
            assert report.status_code == 200, href
            listed = re.search(r"(\d+) match(es)? these filters", report.text)
            assert listed and listed.group(1) == figure, (who, href, figure)


def _hidden_words(cell: str) -> str:
    """A cell as a screen reader reads it: its text with the visually hidden words, tags left out."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell))).strip()


def _cells(html: str, table_id: str) -> dict[str, list[str]]:
    """Each row of a table by its heading, its cells as a screen reader reads them."""
    found = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    assert found, table_id
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    read = [[_hidden_words(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]
    return {row[0]: row[1:] for row in read[1:]}


async def test_each_teams_closure_times_read_month_by_month_and_an_empty_month_has_no_median(
    site: Site, on_the_day: date
) -> None:
    await seeded(site)
    html = (await (await site.as_user("aud")).get("/oversight")).text
    north_id = site.world.teams["north"]
    north = table(html, f"table-closures-team-{north_id}")
    assert north[0] == ["Month closed", "Closed", oversight.MEDIAN, oversight.P90]  # four columns, not twelve
    by_month = {row[0]: row[1:] for row in north[1:]}
    assert by_month["June 2026"] == ["0", "–", "–"]  # no closures: no median of "0 working days"
    heard = _cells(html, f"table-closures-team-{north_id}")
    assert heard["January 2026"] == [
        "4 closed in January 2026, North Team",
        "4 working days, median of 4 closed in January 2026, North Team",
        "20 working days, 90th percentile of 4 closed in January 2026, North Team",
    ]
    assert heard["June 2026"][1:] == ["– none closed", "– none closed"]
    one = _cells(html, f"table-closures-team-{site.world.teams['south']}")["January 2026"]
    assert one[0] == "1 closed in January 2026, South Team" and "of 1 closed" in one[1]  # no bare "(1)"
    # every figure of a team's table lists its handovers: that team's, in that month
    links = re.findall(
        r'href="([^"]+)"', re.search(rf'id="table-closures-team-{north_id}".*?</table>', html, re.S).group(0)
    )
    assert unescape(links[0]).startswith(f"/oversight/closed?team={north_id}&month=")
    assert f"/oversight/closed?team={north_id}&amp;month=2026-01" in html
    assert len([href for href in links if href.endswith("month=2026-01")]) == 3


async def test_returns_are_counted_in_words_a_person_would_say(site: Site, on_the_day: date) -> None:
    await seeded(site)
    html = (await (await site.as_user("aud")).get("/oversight")).text
    heard = _cells(html, "table-returns")
    assert heard["June 2026"] == ["1 return in June 2026"]
    assert heard["March 2026"] == ["3 returns in March 2026"]
    assert heard["May 2026"] == ["0 returns in May 2026"]


# Each page's query-string names and two values each that would be accepted alone
REPEATABLE = [
    ("/oversight", "team", ("north", "cp")),
    ("/oversight/closed", "team", ("north", "cp")),
    ("/oversight/closed", "month", ("2026-01", "2026-03")),
    ("/oversight/closed", "page", ("2", "1")),
    ("/oversight/returns", "team", ("north", "cp")),
    ("/oversight/returns", "month", ("2026-01", "2026-03")),
    ("/oversight/returns", "page", ("2", "1")),
]


@pytest.mark.parametrize(("path", "name", "values"), REPEATABLE, ids=[f"{p} {n}" for p, n, _ in REPEATABLE])
async def test_a_filter_given_twice_is_refused_by_its_name(
    site: Site, on_the_day: date, path: str, name: str, values: tuple[str, str]
) -> None:
    from service.core.report import FILTER_ONCE

    await seeded(site)
    person = await site.as_user("aud")
    chosen = [str(site.world.teams[v]) if name == "team" else v for v in values]
    for one in chosen:
        alone = await person.get(path, params={name: one})
        assert alone.status_code == 200, (path, name, one)
    twice = await person.get(path, params={name: chosen})
    assert twice.status_code == 400, (path, name)
    assert f'href="#{name}">{FILTER_ONCE}</a>' in twice.text
    if name == "page":  # the summary's link goes to the count of the list, which starts again at its first page
        assert 'id="page"' in twice.text and "page=2" not in twice.text.split('id="page"')[0]
    else:  # by the field itself, which is left at its default
        assert f'id="{name}-error"' in twice.text and FILTER_ONCE in twice.text.split(f'id="{name}-error"')[1][:200]
    # neither value was used: the page shows what it shows with no filter
    assert oversight.MONTH_MESSAGE not in twice.text
    same = await person.get(path)
    assert table_ids(twice.text) == table_ids(same.text)
    assert heading(twice.text) == heading(same.text)


@given(st.lists(st.sampled_from(["team", "month", "page", "sort", "q"]), max_size=8))
def test_only_this_pages_names_given_twice_are_refused(names: list[str]) -> None:
    found = oversight.repeated_parameter_errors(names, oversight.LIST_PARAMETERS)
    assert set(found) == {n for n in oversight.LIST_PARAMETERS if names.count(n) > 1}
    assert set(oversight.repeated_parameter_errors(names, oversight.DASHBOARD_PARAMETERS)) <= {"team"}


def table_ids(html: str) -> list[str]:
    return re.findall(r'<table[^>]*id="([^"]+)"', html)


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found
    return found.group(1)
