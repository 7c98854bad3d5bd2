"""The auditors' report and its exports: blockers, ages in working days, filters, CSV safety, access."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date

import msgspec
import pytest

from service import actions, db, reporting
from service.core.clock import today
from service.core.report import (
    CSV_COLUMNS,
    ReportFilter,
    ReportRow,
    csv_cells,
    safe_cell,
    working_days_back,
)
from service.core.workdays import working_days_between
from service.settings import Settings
from service.web import auditor as auditor_pages
from tests.conftest import Site
from tests.helpers import APART, CHECKLISTS, actor, handover_in, raw_connection

pytestmark = pytest.mark.anyio


async def rows_for(site: Site, **wanted: object) -> dict[int, reporting.ReportRow]:
    rows, total = await reporting.page_of_rows(
        site.db,
        CHECKLISTS,
        ReportFilter(**wanted),
        1,
        500,
        today(),
    )
    assert total == len(rows)
    return {row.handover_id: row for row in rows}


# Tuesday 28 May 2024, the day after the spring bank holiday (Monday 27 May)
REPORT_DAY = date(2024, 5, 28)


async def pin_dates(site: Site, handover_id: int, started: str, submitted: str | None, since: str, active: str) -> None:
    """Dates written out, so each row can be compared with literal values: when it started, was submitted, reached
    its state (which its blocker counts from) and last saw activity."""
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE handovers SET started_at = ?, submitted_at = ?, state_since = ?, last_activity_at = ? WHERE id = ?",
            (started, submitted, since, active, handover_id),
        )


def expected_row(handover_id: int, **columns: object) -> reporting.ReportRow:
    """A handover of child C-1 from North Team's Out to Rec in the Cp Team, with the columns named changed."""
    fields: dict[str, object] = {
        "handover_id": handover_id,
        "child_reference": "C-1",
        "sibling_group": "",
        "sending_worker": "Out",
        "sending_team": "North Team",
        "receiving_worker": "Rec",
        "receiving_team": "Cp Team",
        "started": "2024-05-20T08:30:00+00:00",
        "submitted": "2024-05-21T10:00:00+00:00",
        "working_days_open": 5,
        "last_activity": "2024-05-24T16:45:00+00:00",
    }
    return ReportRow(**(fields | columns))  # type: ignore[arg-type]


async def test_each_open_state_gives_a_row_written_out_column_by_column(site: Site) -> None:
    ids = {
        state: await handover_in(site.db, site.world, state, case)
        for state, case in [("submitted", "c1"), ("returned", "c2"), ("endorsed", "c3"), ("acknowledged", "mia")]
    }
    ids["draft"] = await handover_in(site.db, site.world, "draft", "c4", complete_it=False)
    await pin_dates(site, ids["submitted"], "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-21T10:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["returned"], "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-23T23:30:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["endorsed"], "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-28T07:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["acknowledged"], "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-24T09:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["draft"], "2024-05-17T12:00:00+00:00", None, "2024-05-17T12:00:00+00:00",
                    "2024-05-24T16:45:00+00:00")  # fmt: skip
    rows, total = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(), 1, 50, REPORT_DAY)
    assert total == 5
    assert rows == [
        expected_row(
            ids["draft"], child_reference="C-4", started="2024-05-17T12:00:00+00:00", submitted="",
            working_days_open=6, working_days_waiting=6, state="Draft", waits_on="Out", due_on="2024-06-27",
            due_wait="transfer",
            blockers=[
                "Sections not complete: Handover arrangements",
                "Not yet submitted by Out (since 17 May 2024, 6 working days)",
            ],
        ),
        expected_row(
            ids["submitted"], state="Waiting for sending manager", waits_on="the manager of North Team",
            working_days_waiting=4,
            due_on="2024-05-29", due_wait="endorsement",
            blockers=["Awaiting endorsement by the manager of North Team since 21 May 2024, 4 working days"],
        ),
        expected_row(
            ids["returned"], child_reference="C-2", state="Returned to outgoing worker", waits_on="Out",
            working_days_waiting=1,
            due_on="2024-06-03", due_wait="reply",  # five working days from Friday 24 May in England
            # 23:30 UTC on Thursday 23 May is Friday 24 May in England
            blockers=["Returned with a query to Out since 24 May 2024, 1 working day"],
        ),
        expected_row(
            ids["endorsed"], child_reference="C-3", state="Waiting for receiving worker", waits_on="Rec",
            working_days_waiting=0,
            due_on="2024-06-11", due_wait="acknowledgement",
            blockers=[
                "Awaiting acknowledgement by Rec since 28 May 2024, less than a working day",
                "Not yet confirmed: Open risks",
                "Not yet confirmed: Sibling abuse history",
                "Not yet confirmed: Parenting-capacity assessment",
                "Not yet confirmed: Child protection plan and category",
            ],
        ),
        expected_row(
            ids["acknowledged"], child_reference="T-1", sibling_group="Test family",
            state="Waiting for receiving manager", waits_on="the manager of Cp Team", working_days_waiting=1,
            due_on="2024-06-10", due_wait="approval",
            blockers=["Awaiting approval by the manager of Cp Team since 24 May 2024, 1 working day"],
            # Mia handed over without Liam: the sibling staying behind, with why
            left_out_of_group=[f"Liam Test (T-2): {APART}"],
        ),
    ]  # fmt: skip


async def test_a_stale_record_and_an_overdue_disagreement_show_in_the_row_with_their_dates(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "c1")
    rec = await actor(site.db, site.world, "rec")
    for about in ("Contact", "Schooling"):
        await actions.raise_disagreement(site.db, CHECKLISTS, rec, handover_id, about=about, with_whom="Out",
                                         view_text="Unsafe")  # fmt: skip
    flags = (
        '[{"key":"case-summary.chronology","message":"The chronology was last updated on 2 January 2024",'
        '"judged_at":"approval","reason":"The worker was on leave"}]'
    )
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE handovers SET record_flags = ? WHERE id = ?", (flags, handover_id))
        await conn.execute("UPDATE disagreements SET stage = 'manager', stage_since = '2024-05-01' WHERE about = ?",
                           ("Contact",))  # fmt: skip
        await conn.execute("UPDATE disagreements SET stage_since = '2024-05-24' WHERE about = ?", ("Schooling",))
    await pin_dates(site, handover_id, "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-24T09:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(), 1, 50, REPORT_DAY)
    assert rows == [
        expected_row(
            handover_id, state="Waiting for receiving manager", waits_on="the manager of Cp Team",
            working_days_waiting=1, due_on="2024-06-10", due_wait="approval",
            blockers=[
                "Awaiting approval by the manager of Cp Team since 24 May 2024, 1 working day",
                "Record not up to date at approval: The chronology was last updated on 2 January 2024 "
                "(reason given: The worker was on leave)",
                "2 open professional disagreements, not yet resolved",
                "A professional disagreement is overdue at ‘Escalated to managers’: 17 working days since 1 May 2024, "
                "against a limit of 5",
            ],
        )
    ]  # fmt: skip
    for blocker in ("stale_record", "open_disagreement", "overdue_disagreement", "awaiting_approval"):
        found, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(blocker=blocker), 1, 50, REPORT_DAY)
        assert [row.handover_id for row in found] == [handover_id], blocker


async def test_each_blocker_appears_exactly_when_it_should(site: Site) -> None:
    ids = {
        state: await handover_in(site.db, site.world, state, f"c{number}")
        for number, state in enumerate(
            ["draft", "submitted", "returned", "endorsed", "acknowledged", "closed", "cancelled"], start=1
        )
    }
    incomplete_draft = await handover_in(site.db, site.world, "draft", "c8", complete_it=False)
    rows = await rows_for(site)
    assert ids["closed"] not in rows and ids["cancelled"] not in rows, "closed and cancelled never appear"
    assert set(rows) == {ids[s] for s in ("draft", "submitted", "returned", "endorsed", "acknowledged")} | {
        incomplete_draft
    }
    assert rows[incomplete_draft].blockers[0] == "Sections not complete: Handover arrangements"
    assert rows[ids["draft"]].blockers[0].startswith("Not yet submitted by Out")
    assert rows[ids["submitted"]].blockers[0].startswith("Awaiting endorsement by the manager of North Team")
    assert rows[ids["returned"]].blockers[0].startswith("Returned with a query to Out")
    assert rows[ids["endorsed"]].blockers[0].startswith("Awaiting acknowledgement by Rec")
    assert "Not yet confirmed: Open risks" in rows[ids["endorsed"]].blockers
    assert "Not yet confirmed: Child protection plan and category" in rows[ids["endorsed"]].blockers
    assert rows[ids["acknowledged"]].blockers == [rows[ids["acknowledged"]].blockers[0]]
    assert rows[ids["acknowledged"]].waits_on == "the manager of Cp Team"
    for row in rows.values():
        assert not any("professional disagreement" in blocker for blocker in row.blockers)

    rec = await actor(site.db, site.world, "rec")
    await actions.raise_disagreement(site.db, CHECKLISTS, rec, ids["acknowledged"], about="Contact",
                                     with_whom="Out", view_text="Unsafe")  # fmt: skip
    rows = await rows_for(site)
    assert rows[ids["acknowledged"]].blockers[-1] == "1 open professional disagreement, not yet resolved"

    by_blocker = {
        "missing_sections": {incomplete_draft},
        "returned_with_query": {ids["returned"]},
        "awaiting_endorsement": {ids["submitted"]},
        "awaiting_acknowledgement": {ids["endorsed"]},
        "awaiting_approval": {ids["acknowledged"]},
        "open_disagreement": {ids["acknowledged"]},
    }
    for blocker, expected in by_blocker.items():
        assert set(await rows_for(site, blocker=blocker)) == expected, blocker
    assert set(await rows_for(site, state="endorsed")) == {ids["endorsed"]}
    assert set(await rows_for(site, team_id=site.world.teams["south"])) == set()
    assert len(await rows_for(site, team_id=site.world.teams["cp"], team_side="receiving")) == 6
    assert await rows_for(site, team_id=site.world.teams["cp"], team_side="sending") == {}


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    # Friday 24 May 2024 to Tuesday 28 May 2024: the weekend and the spring bank holiday (27 May) do not count
    assert working_days_between(date(2024, 5, 24), date(2024, 5, 28)) == 1
    # Christmas 2026: Friday 25 and Monday 28 (Boxing Day substitute) are bank holidays
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 27)) == 0
    assert working_days_back(date(2024, 5, 28), 1) == date(2024, 5, 24)
    assert working_days_back(date(2024, 5, 28), 0) == date(2024, 5, 28)


async def test_minimum_age_filter_counts_working_days(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    async with site.db.transaction() as conn:  # started on the Friday before the spring bank holiday
        await conn.execute("UPDATE handovers SET started_at = '2024-05-24T10:00:00+00:00' WHERE id = ?", (handover_id,))
    today = date(2024, 5, 28)
    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(min_working_days=1), 1, 50, today)
    assert [r.handover_id for r in rows] == [handover_id]
    assert rows[0].working_days_open == 1
    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(min_working_days=2), 1, 50, today)
    assert rows == []


def test_cells_that_would_run_as_formulas_are_neutralised() -> None:
    for dangerous in ("=SUM(A1:A2)", "+44 7700", "-1", "@cmd", "\tcalc", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Ordinary name") == "Ordinary name"
    assert safe_cell(None) == ""


async def test_csv_round_trips_names_safely_and_opens_in_excel(site: Site) -> None:
    async with site.db.transaction() as conn:
        group = await db.create_sibling_group(conn, '=HYPERLINK("http://evil")')
        await conn.execute("UPDATE cases SET reference = '@SUM(1)', sibling_group_id = ? WHERE id = ?",
                           (group, site.world.cases["c1"]))  # fmt: skip
        await conn.execute("UPDATE users SET name = 'Zoë Łukasz-Ōsaka 👶' WHERE id = ?", (site.world.users["out"],))
    await handover_in(site.db, site.world, "submitted", "c1")
    aud = await site.as_user("aud")
    response = await aud.get("/audit/incomplete/csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads UTF-8"
    assert b"\r\n" in body
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    header, row = table[0], table[1]
    record = dict(zip(header, row, strict=True))
    assert record["Child reference"] == "'@SUM(1)"
    assert record["Sibling group"] == '\'=HYPERLINK("http://evil")'
    assert record["Sending worker"] == "Zoë Łukasz-Ōsaka 👶"


async def test_workers_and_administrators_cannot_reach_the_report_or_the_export(site: Site) -> None:
    for name in ("out", "rec", "other", "adm"):
        person = await site.as_user(name)
        for url in ("/audit/incomplete", "/audit/incomplete/csv", "/audit/incomplete/jsonl"):
            assert (await person.get(url)).status_code == 403, (name, url)
    assert [e for e in await db.audit_entries(site.db.reader) if e.entry.action == "export"] == []


async def test_each_export_is_in_the_audit_trail_with_its_filters(site: Site) -> None:
    await handover_in(site.db, site.world, "submitted", "c1")
    aud = await site.as_user("aud")
    assert (await aud.get("/audit/incomplete/jsonl?state=submitted&min_days=0")).status_code == 200
    exports = [e.entry for e in await db.audit_entries(site.db.reader) if e.entry.action == "export"]
    assert len(exports) == 1
    assert exports[0].actor_id == site.world.users["aud"]
    assert exports[0].details["format"] == "jsonl"
    assert exports[0].details["filter"]["state"] == "submitted"


async def test_the_report_page_filters_sorts_and_paginates(site: Site) -> None:
    ids = [await handover_in(site.db, site.world, "submitted", f"c{n}") for n in range(1, 4)]
    aud = await site.as_user("aud")
    page = await aud.get("/audit/incomplete?sort=newest")
    assert page.status_code == 200 and "3 match these filters" in page.text
    positions = [page.text.index(f"#{i}<") for i in ids]
    assert positions == sorted(positions, reverse=True), "newest first"
    bad = await aud.get("/audit/incomplete?min_days=lots")
    assert bad.status_code == 400 and "Enter the minimum age as a whole number" in bad.text
    assert 'href="#min_days"' in bad.text
    from service.web import auditor

    auditor.PER_PAGE, saved = 2, auditor.PER_PAGE
    try:
        first = await aud.get("/audit/incomplete")
        second = await aud.get("/audit/incomplete?page=2")
    finally:
        auditor.PER_PAGE = saved
    assert "Page 1 of 2" in first.text and "Page 2 of 2" in second.text
    assert f"#{ids[2]}<" in second.text and f"#{ids[2]}<" not in first.text


def test_the_reports_sql_is_told_each_checklists_sections_and_each_stages_overdue_cut_off() -> None:
    """On Tuesday 28 May 2024 a disagreement is overdue at a 5-day stage if it reached it on Sunday 19 May or
    before (6 working days, the spring bank holiday not counted), and at the 14-day stage (the last) on 6 May, the
    early May bank holiday, or before (15 working days)."""
    terms = reporting.report_terms(CHECKLISTS, REPORT_DAY)
    assert terms.section_counts == {("case-transfer", version): 11 for version in (1, 2, 3, 4)}
    cut_offs = {"informal": "2024-05-19", "manager": "2024-05-19", "head_of_service": "2024-05-19",
                "safeguarding_partnership": "2024-05-06"}  # fmt: skip
    assert terms.overdue_before == {
        ("case-transfer", version, stage): cut_off for version in (1, 2, 3, 4) for stage, cut_off in cut_offs.items()
    }


def test_the_terms_of_a_day_are_worked_out_once_and_each_day_has_its_own() -> None:
    """The report's terms are kept per (checklists, day): asked again on the same day they are the same ones, the
    next day (after the spring bank holiday) they are that day's, and other checklists get their own."""
    first = reporting.report_terms(CHECKLISTS, REPORT_DAY)
    assert reporting.report_terms(CHECKLISTS, REPORT_DAY) is first
    next_day = reporting.report_terms(CHECKLISTS, date(2024, 5, 29))
    assert next_day == reporting._work_out_terms(CHECKLISTS, date(2024, 5, 29)) != first
    assert next_day.overdue_before[("case-transfer", 4, "safeguarding_partnership")] == "2024-05-07"
    only_the_first = {key: value for key, value in CHECKLISTS.items() if key[1] == 1}
    assert reporting.report_terms(only_the_first, REPORT_DAY).section_counts == {("case-transfer", 1): 11}
    assert reporting.report_terms(CHECKLISTS, REPORT_DAY) is first


async def exports_on_the_report_day(site: Site, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A draft, an endorsed and a returned handover with every date written out, exported on REPORT_DAY."""
    monkeypatch.setattr(auditor_pages, "today", lambda: REPORT_DAY)
    ids = {state: await handover_in(site.db, site.world, state, f"c{n}")
           for n, state in enumerate(["draft", "endorsed", "returned"], start=1)}  # fmt: skip
    await pin_dates(site, ids["draft"], "2024-05-17T12:00:00+00:00", None, "2024-05-17T12:00:00+00:00",
                    "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["endorsed"], "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00",
                    "2024-05-22T11:00:00+00:00", "2024-05-24T16:45:00+00:00")  # fmt: skip
    await pin_dates(site, ids["returned"], "2024-05-21T08:30:00+00:00", "2024-05-22T10:00:00+00:00",
                    "2024-05-28T09:00:00+00:00", "2024-05-28T09:00:00+00:00")  # fmt: skip
    return ids


ENDORSED_BLOCKERS = [
    "Awaiting acknowledgement by Rec since 22 May 2024, 3 working days",
    "Not yet confirmed: Open risks",
    "Not yet confirmed: Sibling abuse history",
    "Not yet confirmed: Parenting-capacity assessment",
    "Not yet confirmed: Child protection plan and category",
]


async def test_the_json_lines_export_gives_every_column_written_out(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await exports_on_the_report_day(site, monkeypatch)
    aud = await site.as_user("aud")
    lines = (await aud.get("/audit/incomplete/jsonl?sort=oldest")).text.splitlines()
    common = {"sibling_group": "", "sending_worker": "Out", "sending_team": "North Team", "receiving_worker": "Rec",
              "receiving_team": "Cp Team", "held_pending_transfer": False, "completed_on_behalf_of": "",
              "left_out_of_group": []}  # fmt: skip
    assert [json.loads(line) for line in lines] == [
        {
            "handover_id": ids["draft"], "child_reference": "C-1", **common, "state": "Draft",
            "started": "2024-05-17T12:00:00+00:00", "submitted": "", "working_days_open": 6, "working_days_waiting": 6,
            "waits_on": "Out",
            "blockers": ["Not yet submitted by Out (since 17 May 2024, 6 working days)"],
            "last_activity": "2024-05-24T16:45:00+00:00",
            "due_on": "2024-06-27", "due_wait": "transfer", "overdue_by_working_days": 0, "urgent": False,
        },
        {
            "handover_id": ids["endorsed"], "child_reference": "C-2", **common,
            "state": "Waiting for receiving worker", "started": "2024-05-20T08:30:00+00:00",
            "submitted": "2024-05-21T10:00:00+00:00", "working_days_open": 5, "working_days_waiting": 3,
            "waits_on": "Rec",
            "blockers": ENDORSED_BLOCKERS, "last_activity": "2024-05-24T16:45:00+00:00",
            "due_on": "2024-06-06", "due_wait": "acknowledgement", "overdue_by_working_days": 0, "urgent": False,
        },
        {
            "handover_id": ids["returned"], "child_reference": "C-3", **common,
            "state": "Returned to outgoing worker", "started": "2024-05-21T08:30:00+00:00",
            "submitted": "2024-05-22T10:00:00+00:00", "working_days_open": 4, "working_days_waiting": 0,
            "waits_on": "Out",
            "blockers": ["Returned with a query to Out since 28 May 2024, less than a working day"],
            "last_activity": "2024-05-28T09:00:00+00:00",
            "due_on": "2024-06-04", "due_wait": "reply", "overdue_by_working_days": 0, "urgent": False,
        },
    ]  # fmt: skip


async def test_the_csv_export_gives_every_column_written_out(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await exports_on_the_report_day(site, monkeypatch)
    aud = await site.as_user("aud")
    response = await aud.get("/audit/incomplete/csv?sort=newest")
    assert "incomplete-handovers-2024-05-28.csv" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert table == [
        ["Handover", "Child reference", "Sibling group", "Sending worker", "Sending team", "Receiving worker",
         "Receiving team", "State", "Started", "Submitted", "Working days open", "Working days waiting", "Waits on",
         "Due", "Due for",
         "Working days overdue", "Blockers", "Last activity", "Held by the team manager pending transfer",
         "Completed by the team manager on behalf of", "Left out of the sibling group's handover"],
        [str(ids["returned"]), "C-3", "", "Out", "North Team", "Rec", "Cp Team", "Returned to outgoing worker",
         "2024-05-21T08:30:00+00:00", "2024-05-22T10:00:00+00:00", "4", "0", "Out",
         "2024-06-04", "Reply to the returned query", "0",
         "Returned with a query to Out since 28 May 2024, less than a working day", "2024-05-28T09:00:00+00:00",
         "No", "", ""],
        [str(ids["endorsed"]), "C-2", "", "Out", "North Team", "Rec", "Cp Team", "Waiting for receiving worker",
         "2024-05-20T08:30:00+00:00", "2024-05-21T10:00:00+00:00", "5", "3", "Rec",
         "2024-06-06", "Acknowledgement by the receiving worker", "0", "; ".join(ENDORSED_BLOCKERS),
         "2024-05-24T16:45:00+00:00", "No", "", ""],
        [str(ids["draft"]), "C-1", "", "Out", "North Team", "Rec", "Cp Team", "Draft", "2024-05-17T12:00:00+00:00",
         "", "6", "6", "Out", "2024-06-27", "The whole transfer", "0",
         "Not yet submitted by Out (since 17 May 2024, 6 working days)", "2024-05-24T16:45:00+00:00", "No", "", ""],
    ]  # fmt: skip


async def test_the_minimum_age_filter_of_an_export_counts_back_from_the_report_day(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open 6, 5 and 4 working days on Tuesday 28 May 2024: at least 5 keeps the two oldest, at least 6 the oldest."""
    ids = await exports_on_the_report_day(site, monkeypatch)
    aud = await site.as_user("aud")
    for days, expected in [(4, ["draft", "endorsed", "returned"]), (5, ["draft", "endorsed"]), (6, ["draft"]),
                           (7, [])]:  # fmt: skip
        lines = (await aud.get(f"/audit/incomplete/jsonl?min_days={days}")).text.splitlines()
        assert [json.loads(line)["handover_id"] for line in lines] == [ids[state] for state in expected], days


@pytest.mark.sqlite_only
async def test_only_quick_pages_are_read_on_the_event_loop(database: db.Database, settings: Settings) -> None:
    """What is read on the event loop is read in index order; a blocker filter, another sort, a team filter or a deep
    page can take tens of milliseconds and goes to the scanner's thread."""
    inline = 0
    for state, before, sort, team, blocker in itertools.product(
        (None, "returned"), (None, "2026-01-01"), ("oldest", "newest", "last_activity", "state"), (None, 3),
        (None, "missing_sections", "open_disagreement"),
    ):  # fmt: skip
        wanted = ReportFilter(state=state, sort=sort, team_id=team, blocker=blocker)
        if reporting.reader_for(database, wanted, 1, 50) is not database.reader:
            continue
        inline += 1
        assert reporting.reader_for(database, wanted, 3, 50) is database.reader
        assert reporting.reader_for(database, wanted, 4, 50) is database.scanner
        assert reporting.reader_for(database, wanted, 1, 500) is database.scanner
        sql, params = db.incomplete_query(wanted, before, {("case-transfer", 1): 11})
        with raw_connection(settings) as conn:
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql + " LIMIT 50", params))
        assert "TEMP B-TREE" not in plan and "INDEX" in plan.split("|")[0], (wanted, plan)
    assert inline == 8  # oldest and newest, with or without a state and an age


FORMULA_STARTS = [
    *(("", sign) for sign in "\t\r"),  # whitespace that starts a formula itself
    *((before, sign) for before in ("", " ", "  ", "\u00a0", "\u3000", "\n") for sign in "=+-@＝＋－＠"),
]


@pytest.mark.parametrize(("before", "sign"), FORMULA_STARTS)
@pytest.mark.parametrize(
    "column",
    [
        key
        for key, _ in CSV_COLUMNS
        if key
        not in (
            "handover_id",
            "working_days_open",
            "working_days_waiting",
            "held_pending_transfer",
            "overdue_by_working_days",
        )
    ],
)
def test_no_cell_of_the_csv_can_run_as_a_formula(column: str, before: str, sign: str) -> None:
    """Every text column, every formula sign (ASCII and full-width), with and without leading whitespace."""
    value = f"{before}{sign}SUM(1,2)"
    row = ReportRow(
        handover_id=1, child_reference="R", sibling_group="", sending_worker="A", sending_team="T",
        receiving_worker="", receiving_team="U", state="Draft", started="", submitted="", working_days_open=0,
        working_days_waiting=0, waits_on="", blockers=[], last_activity="",
    )  # fmt: skip
    fields = msgspec.structs.asdict(row)
    fields[column] = [value] if column in ("blockers", "left_out_of_group") else value
    cells = dict(zip([key for key, _ in CSV_COLUMNS], csv_cells(msgspec.convert(fields, ReportRow)), strict=True))
    assert cells[column] == "'" + value, "neutralised, and otherwise as it was"


@pytest.mark.parametrize("query", ["state=draft&state=nope", "team=1&team=abc", "sort=oldest&sort=newest"])
async def test_a_filter_given_twice_is_refused_by_the_filter_on_the_page_and_the_downloads(
    site: Site, query: str
) -> None:
    """Which of two values was meant cannot be known; the first was used without a word."""
    auditor = await site.as_user("aud")
    name = query.split("=")[0]
    page = await auditor.get(f"/audit/incomplete?{query}")
    assert page.status_code == 400 and "Choose this filter once" in page.text and f'href="#{name}"' in page.text
    download = await auditor.get(f"/audit/incomplete/csv?{query}")
    assert download.status_code == 303 and download.headers["location"].startswith("/audit/incomplete?")
