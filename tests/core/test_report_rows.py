"""The auditors' report rows: each column of a row, for each open state, against values written out by hand; the
sections, confirmations, disagreements and stale records that block a handover, in the checklist's order; ages in
working days across a bank holiday; and the CSV cells, formula signs neutralised."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.checklist import Checklist, DisagreementRows, Field, Group, Option, Section
from service.core.report import (
    CSV_COLUMNS,
    IncompleteRecord,
    ReportRow,
    csv_cells,
    report_row,
    safe_cell,
    section_titles,
    working_days_back,
)
from service.time_limits import TimeLimits, Waits

# Tuesday 28 May 2024, the day after the spring bank holiday (Monday 27 May)
TODAY = date(2024, 5, 28)

STAGE = Field(
    id="stage",
    type="radios",
    label="Stage reached",
    options=[
        Option("informal", "Informal discussion", working_days=5),
        Option("manager", "Escalated to managers", working_days=5),
        Option("partnership", "Referred to the partnership"),
    ],
)
CHECKLIST = Checklist(
    id="case-transfer",
    version=1,
    title="Case transfer",
    sections=[
        Section(id="summary", title="Case summary"),
        Section(id="risks", title="Open risks", critical=True),
        Section(id="views", title="The child's views"),
        Section(id="plan", title="Child protection plan", critical=True),
        Section(
            id="disagreements",
            title="Professional disagreements",
            groups=[
                Group(
                    id="rows",
                    title="Disagreements",
                    row_label="Disagreement",
                    fields=[
                        Field(id="about", type="text", label="About"),
                        Field(id="with", type="text", label="With whom"),
                        STAGE,
                        Field(id="next", type="text", label="Next step"),
                        Field(id="by", type="date", label="By"),
                    ],
                )
            ],
        ),
    ],
    time_limits=TimeLimits(
        version=1,
        waits=Waits(endorsement=5, acknowledgement=10, approval=10, reply=5, transfer=28, urgent_completion=2),
        escalation={"informal": 5, "manager": 5},
    ),
    disagreements=DisagreementRows(
        section="disagreements",
        group="rows",
        about="about",
        with_whom="with",
        stage="stage",
        next_step="next",
        next_step_by="by",
    ),
)

ALL_SECTIONS = "summary,risks,views,plan,disagreements"


def record(**changes: object) -> IncompleteRecord:
    """A handover from North Team to Rec Sharma in the CP Team, started late on Thursday 23 May 2024 (UTC), which
    is Friday 24 May in England."""
    fields: dict[str, object] = {
        "id": 31,
        "case_reference": "C-1042",
        "sibling_group": "SG-7",
        "checklist_id": "case-transfer",
        "checklist_version": 1,
        "state": "submitted",
        "author_id": 3,
        "author": "Olu Out",
        "sending_team_id": 1,
        "sending_team": "North Team",
        "receiver_id": 5,
        "receiver": "Rec Sharma",
        "receiving_team_id": 2,
        "receiving_team": "CP Team",
        "started_at": "2024-05-23T23:30:00+00:00",
        "submitted_at": "2024-05-24T09:00:00+00:00",
        "state_since": "2024-05-24T09:00:00+00:00",
        "last_activity_at": "2024-05-24T09:05:00+00:00",
        "endorsed_by": None,
        "acknowledged_by": None,
        "record_flags": "",
        "open_disagreements": 0,
        "open_disagreement_stages": "",
        "completed_sections": ALL_SECTIONS,
        "unconfirmed_critical": "",
    }
    return IncompleteRecord(**(fields | changes))  # type: ignore[arg-type]


def undated(built: ReportRow) -> ReportRow:
    """The row without its due date, which `tests/test_due_dates.py` and `tests/core/test_deadlines.py` check."""
    return msgspec.structs.replace(built, due_on="", due_wait="", overdue_by_working_days=0)


def row(**changes: object) -> ReportRow:
    """The row a submitted `record()` gives, with the columns named changed."""
    fields: dict[str, object] = {
        "handover_id": 31,
        "child_reference": "C-1042",
        "sibling_group": "SG-7",
        "sending_worker": "Olu Out",
        "sending_team": "North Team",
        "receiving_worker": "Rec Sharma",
        "receiving_team": "CP Team",
        "state": "Waiting for sending manager",
        "started": "2024-05-23T23:30:00+00:00",
        "submitted": "2024-05-24T09:00:00+00:00",
        "working_days_open": 1,
        "working_days_waiting": 1,
        "waits_on": "the manager of North Team",
        "blockers": ["Awaiting endorsement by the manager of North Team since 24 May 2024, 1 working day"],
        "last_activity": "2024-05-24T09:05:00+00:00",
    }
    return ReportRow(**(fields | changes))  # type: ignore[arg-type]


# ---------------------------------------------------------------- one row per open state, every column


def test_a_submitted_handover_waits_on_the_sending_teams_manager() -> None:
    assert undated(report_row(record(), CHECKLIST, TODAY)) == row()


def test_a_draft_with_sections_to_do_lists_them_in_the_checklists_order() -> None:
    draft = record(state="draft", submitted_at=None, completed_sections="views,,summary,", state_since="2024-05-28")
    assert undated(report_row(draft, CHECKLIST, TODAY)) == row(
        state="Draft",
        submitted="",
        waits_on="Olu Out",
        working_days_waiting=0,
        blockers=[
            "Sections not complete: Open risks, Child protection plan, Professional disagreements",
            "Not yet submitted by Olu Out (since 28 May 2024, less than a working day)",
        ],
    )


def test_a_draft_with_every_section_done_waits_only_on_its_submission() -> None:
    draft = record(state="draft", submitted_at=None, state_since="2024-05-23T23:30:00+00:00")
    assert report_row(draft, CHECKLIST, TODAY).blockers == [
        "Not yet submitted by Olu Out (since 24 May 2024, 1 working day)"
    ]


def test_a_returned_handover_waits_on_the_outgoing_worker() -> None:
    returned = record(state="returned", state_since="2024-05-21T12:00:00+00:00")
    assert undated(report_row(returned, CHECKLIST, TODAY)) == row(
        state="Returned to outgoing worker",
        waits_on="Olu Out",
        working_days_waiting=4,
        blockers=["Returned with a query to Olu Out since 21 May 2024, 4 working days"],
    )


def test_an_endorsed_handover_lists_the_critical_items_not_yet_confirmed_in_the_checklists_order() -> None:
    endorsed = record(state="endorsed", endorsed_by=9, unconfirmed_critical="plan,risks")
    assert undated(report_row(endorsed, CHECKLIST, TODAY)) == row(
        state="Waiting for receiving worker",
        waits_on="Rec Sharma",
        blockers=[
            "Awaiting acknowledgement by Rec Sharma since 24 May 2024, 1 working day",
            "Not yet confirmed: Open risks",
            "Not yet confirmed: Child protection plan",
        ],
    )


def test_a_handover_addressed_to_a_team_waits_on_any_worker_in_it_and_names_no_receiving_worker() -> None:
    endorsed = record(state="endorsed", receiver_id=None, receiver=None)
    assert undated(report_row(endorsed, CHECKLIST, TODAY)) == row(
        state="Waiting for receiving worker",
        receiving_worker="",
        waits_on="a worker in CP Team",
        blockers=["Awaiting acknowledgement by a worker in CP Team since 24 May 2024, 1 working day"],
    )


def test_an_acknowledged_handover_waits_on_the_receiving_teams_manager() -> None:
    acknowledged = record(state="acknowledged", endorsed_by=9, acknowledged_by=5, state_since="2024-05-28T07:00:00Z")
    assert undated(report_row(acknowledged, CHECKLIST, TODAY)) == row(
        state="Waiting for receiving manager",
        waits_on="the manager of CP Team",
        working_days_waiting=0,
        blockers=["Awaiting approval by the manager of CP Team since 28 May 2024, less than a working day"],
    )


def test_a_child_in_no_sibling_group_and_a_handover_not_yet_submitted_have_empty_cells() -> None:
    draft = record(state="draft", sibling_group=None, submitted_at=None)
    built = report_row(draft, CHECKLIST, TODAY)
    assert (built.sibling_group, built.submitted) == ("", "")


# ---------------------------------------------------------------- ages in working days, dates in England


@pytest.mark.parametrize(
    ("started_at", "days"),
    [
        ("2024-05-23T22:59:00+00:00", 2),  # 23:59 on Thursday 23 May in England (British Summer Time)
        ("2024-05-23T23:00:00+00:00", 1),  # midnight in England: Friday 24 May
        ("2024-05-24T12:00:00", 1),  # no offset: taken as UTC
        ("2024-05-28T08:00:00+00:00", 0),
        ("2024-05-17T08:00:00+00:00", 6),  # a week before, the bank holiday not counted
    ],
)
def test_a_handover_is_open_for_the_working_days_since_its_start_in_england(started_at: str, days: int) -> None:
    assert report_row(record(started_at=started_at), CHECKLIST, TODAY).working_days_open == days


# ---------------------------------------------------------------- what else blocks: stale records, disagreements

STALE = (
    '[{"key":"summary.chronology","message":"The chronology was last updated on 2 January 2024",'
    '"judged_at":"submission","reason":"The worker was on leave"},'
    '{"key":"plan.review","message":"The review was due on 1 May 2024","judged_at":"submission"}]'
)


def test_stale_records_are_listed_after_what_the_handover_waits_on_with_any_reason_given() -> None:
    endorsed = record(state="endorsed", record_flags=STALE, unconfirmed_critical="risks")
    assert report_row(endorsed, CHECKLIST, TODAY).blockers == [
        "Awaiting acknowledgement by Rec Sharma since 24 May 2024, 1 working day",
        "Not yet confirmed: Open risks",
        "Record not up to date at submission: The chronology was last updated on 2 January 2024 "
        "(reason given: The worker was on leave)",
        "Record not up to date at submission: The review was due on 1 May 2024",
    ]


def test_stale_records_kept_as_text_that_is_not_a_list_of_flags_add_nothing() -> None:
    assert undated(report_row(record(record_flags="not json"), CHECKLIST, TODAY)) == row()


def test_open_disagreements_are_counted_and_each_overdue_one_is_worded() -> None:
    stages = "manager\x1f2024-05-01\x1einformal\x1f2024-05-24\x1epartnership\x1f2024-01-02\x1e"
    acknowledged = record(state="acknowledged", open_disagreements=3, open_disagreement_stages=stages)
    assert report_row(acknowledged, CHECKLIST, TODAY).blockers == [
        "Awaiting approval by the manager of CP Team since 24 May 2024, 1 working day",
        "3 open professional disagreements, not yet resolved",
        "A professional disagreement is overdue at ‘Escalated to managers’: 17 working days since 1 May 2024, "
        "against a limit of 5",
    ]


def test_one_open_disagreement_is_worded_in_the_singular() -> None:
    acknowledged = record(state="acknowledged", open_disagreements=1, open_disagreement_stages="informal\x1f2024-05-24")
    assert report_row(acknowledged, CHECKLIST, TODAY).blockers == [
        "Awaiting approval by the manager of CP Team since 24 May 2024, 1 working day",
        "1 open professional disagreement, not yet resolved",
    ]


def test_a_disagreement_one_day_past_its_stages_limit_is_overdue() -> None:
    # informal, limit 5: from Friday 17 May, 5 working days is Friday 24 May, 6 is Tuesday 28 May
    on_the_limit = record(state="submitted", open_disagreements=1, open_disagreement_stages="informal\x1f2024-05-20")
    past_it = record(state="submitted", open_disagreements=1, open_disagreement_stages="informal\x1f2024-05-17")
    assert report_row(on_the_limit, CHECKLIST, TODAY).blockers[2:] == []
    assert report_row(past_it, CHECKLIST, TODAY).blockers[2:] == [
        "A professional disagreement is overdue at ‘Informal discussion’: 6 working days since 17 May 2024, "
        "against a limit of 5"
    ]


def test_a_disagreement_is_judged_overdue_on_the_reports_own_date() -> None:
    stages = "informal\x1f2024-05-20"
    submitted = record(state="submitted", open_disagreements=1, open_disagreement_stages=stages)
    assert report_row(submitted, CHECKLIST, date(2024, 5, 29)).blockers[2:] == [
        "A professional disagreement is overdue at ‘Informal discussion’: 6 working days since 20 May 2024, "
        "against a limit of 5"
    ]


# ---------------------------------------------------------------- working days back, for the minimum-age filter


@pytest.mark.parametrize(
    ("today", "days", "expected"),
    [
        (date(2024, 5, 28), 0, date(2024, 5, 28)),
        (date(2024, 5, 28), 1, date(2024, 5, 24)),  # over the weekend and the spring bank holiday
        (date(2024, 5, 28), 2, date(2024, 5, 23)),
        (date(2024, 5, 28), 6, date(2024, 5, 17)),
        (date(2024, 5, 27), 1, date(2024, 5, 24)),  # from the bank holiday itself
        (date(2024, 5, 25), 1, date(2024, 5, 24)),  # from a Saturday
        (date(2024, 5, 22), 1, date(2024, 5, 21)),
        (date(2024, 5, 22), 3, date(2024, 5, 17)),
        (date(2025, 1, 2), 2, date(2024, 12, 30)),  # back over New Year's Day
        (date(2025, 1, 2), 4, date(2024, 12, 24)),  # and over Christmas and Boxing Day
    ],
)
def test_working_days_back_is_the_latest_date_that_many_working_days_before(
    today: date, days: int, expected: date
) -> None:
    assert working_days_back(today, days) == expected


# ---------------------------------------------------------------- CSV cells


@pytest.mark.parametrize(
    "text",
    ["=SUM(A1:A2)", "+44 7700", "-1", "@cmd", "\tcalc", "\rx", "\uff1d1", "\uff0b1", "\uff0d1", "\uff201", "=", "\t"],
    ids=[
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "carriage-return",
        "full-width-equals",
        "full-width-plus",
        "full-width-minus",
        "full-width-at",
        "equals-alone",
        "tab-alone",
    ],
)
def test_a_cell_starting_with_a_formula_sign_gets_a_single_quote_in_front(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    [" =SUM(1)", "  +1", "\u00a0-1", "\u3000@x", "\n=1", " \uff1d1"],
    ids=["space", "two-spaces", "no-break-space", "ideographic-space", "newline", "space-full-width"],
)
def test_a_cell_whose_first_sign_after_leading_spaces_is_a_formula_sign_gets_a_single_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("", ""),
        ("   ", "   "),
        ("Ordinary name", "Ordinary name"),
        ("O'Brien = friend", "O'Brien = friend"),
        ("a-b", "a-b"),
        (" x=1", " x=1"),
        ("x\t", "x\t"),
        (12, "12"),
        (0, "0"),
        (-3, "'-3"),
    ],
    ids=[
        "none",
        "empty",
        "spaces",
        "name",
        "sign-inside",
        "hyphen-inside",
        "sign-after-a-letter",
        "trailing-tab",
        "number",
        "zero",
        "negative-number",
    ],
)
def test_any_other_cell_is_its_text_unchanged(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_a_csv_line_has_every_column_in_order_and_the_blockers_joined_by_semicolons() -> None:
    endorsed = record(state="endorsed", unconfirmed_critical="risks,plan", sibling_group=None)
    assert csv_cells(report_row(endorsed, CHECKLIST, TODAY)) == [
        "31",
        "C-1042",
        "",
        "Olu Out",
        "North Team",
        "Rec Sharma",
        "CP Team",
        "Waiting for receiving worker",
        "2024-05-23T23:30:00+00:00",
        "2024-05-24T09:00:00+00:00",
        "1",
        "1",
        "Rec Sharma",
        "2024-06-10",
        "Acknowledgement by the receiving worker",
        "0",
        "Awaiting acknowledgement by Rec Sharma since 24 May 2024, 1 working day; Not yet confirmed: Open risks; "
        "Not yet confirmed: Child protection plan",
        "2024-05-24T09:05:00+00:00",
        "No",
        "",
        "",
    ]


def test_the_csv_header_names_each_column() -> None:
    assert [title for _, title in CSV_COLUMNS] == [
        "Handover",
        "Child reference",
        "Sibling group",
        "Sending worker",
        "Sending team",
        "Receiving worker",
        "Receiving team",
        "State",
        "Started",
        "Submitted",
        "Working days open",
        "Working days waiting",
        "Waits on",
        "Due",
        "Due for",
        "Working days overdue",
        "Blockers",
        "Last activity",
        "Held by the team manager pending transfer",
        "Completed by the team manager on behalf of",
        "Left out of the sibling group's handover",
    ]


def test_a_blocker_starting_with_a_formula_sign_is_neutralised_in_the_joined_cell() -> None:
    cells = csv_cells(msgspec.structs.replace(row(), blockers=["=HYPERLINK(1)", "ok"], waits_on="@x"))
    assert [cells[12], cells[16]] == ["'@x", "'=HYPERLINK(1); ok"]


def test_a_row_with_no_blockers_has_an_empty_blockers_cell() -> None:
    assert csv_cells(msgspec.structs.replace(row(), blockers=[]))[16] == ""


SECTION_IDS = [section.id for section in CHECKLIST.sections]


@given(
    ids=st.lists(st.sampled_from([*SECTION_IDS, "not-a-section", ""]), max_size=8),
    listed=st.booleans(),
)
def test_the_titles_of_the_sections_named_or_not_are_the_checklists_in_its_order(ids: list[str], listed: bool) -> None:
    """The report names a draft's incomplete sections and an endorsed handover's unconfirmed ones from the ids its
    query gives; the titles kept for the same ids are the ones worked out afresh, and another checklist object with
    the same id and version gets its own."""
    text = ",".join(ids)
    wanted = [section.title for section in CHECKLIST.sections if (section.id in ids) is listed]
    assert list(section_titles(CHECKLIST, text, listed)) == wanted
    assert section_titles(CHECKLIST, text, listed) == tuple(wanted)  # kept
    renamed = msgspec.structs.replace(
        CHECKLIST, sections=[msgspec.structs.replace(s, title=s.title.upper()) for s in CHECKLIST.sections]
    )
    assert section_titles(renamed, text, listed) == tuple(title.upper() for title in wanted)
