"""Professional disagreements: rows of the checklist read into tracked disagreements, the escalation ladder, and when
one is overdue at its stage, counted in working days across bank holidays, to the day."""

from __future__ import annotations

from datetime import date

import pytest

from service.checklist import Checklist, DisagreementRows, Field, Group, Option, Section
from service.core.answers import SectionAnswers
from service.core.disagreements import (
    Overdue,
    Tracked,
    escalation_date_errors,
    escalation_stage_errors,
    first_stage,
    from_answers,
    overdue,
    overdue_at,
    overdue_before,
    row_key,
    stage_label,
    stages_above,
)
from service.core.workdays import working_days_between

LADDER = [
    Option("informal", "Informal discussion between professionals", working_days=5),
    Option("manager", "Escalated to managers", working_days=2),
    Option("head_of_service", "Escalated to head of service"),  # no time limit at this stage
    Option("partnership", "Referred to the safeguarding partnership", working_days=20),
]


def checklist(*, stage_since: str = "reached_on", ladder: list[Option] = LADDER) -> Checklist:
    fields = [
        Field(id="about", type="textarea", label="What the disagreement is about"),
        Field(id="with_whom", type="text", label="Who it is with"),
        Field(id="stage", type="radios", label="Stage reached", options=ladder),
        Field(id="next_step", type="textarea", label="Next step"),
        Field(id="next_step_by", type="date", label="Next step by", required=False),
        Field(id="reached_on", type="date", label="Date it reached this stage", required=False),
        Field(id="involved", type="checkboxes", label="Who else is involved", required=False),
    ]
    return Checklist(
        id="test",
        version=1,
        title="Test checklist",
        sections=[
            Section(
                id="disagreements",
                title="Professional disagreements",
                groups=[Group(id="rows", title="Disagreements", row_label="Disagreement", fields=fields)],
            )
        ],
        disagreements=DisagreementRows(
            section="disagreements",
            group="rows",
            about="about",
            with_whom="with_whom",
            stage="stage",
            next_step="next_step",
            next_step_by="next_step_by",
            stage_since=stage_since,
        ),
    )


WITHOUT_DISAGREEMENTS = Checklist(id="plain", version=1, title="No disagreements", sections=[])


@pytest.fixture(autouse=True)
def count_working_days_afresh() -> None:
    """The count is cached across calls: clear it, so each test checks the counting and not an earlier answer."""
    working_days_between.cache_clear()


# --- rows of the checklist --------------------------------------------------------------------------------------------


def test_a_row_key_ignores_case_and_spacing() -> None:
    assert row_key("  Contact   Plan\n", " West  Police ") == "contact plan\x1fwest police"
    assert row_key("STRASSE", "x") == row_key("straße", "X")
    assert row_key("", "") == "\x1f"


def test_each_row_becomes_a_tracked_disagreement_in_order() -> None:
    answers = {
        "disagreements": SectionAnswers(
            groups={
                "rows": [
                    {
                        "about": "  Contact plan ",
                        "with_whom": " West Police\n",
                        "stage": "manager",
                        "next_step": " Meeting ",
                        "next_step_by": "2026-04-10",
                        "reached_on": " 2026-04-02 ",
                        "involved": ["school"],
                    },
                    {"about": "   ", "with_whom": "Nobody", "stage": "informal"},  # nothing said: not a disagreement
                    {"about": "School place", "with_whom": ["a list"], "stage": "informal"},  # odd values: none
                ]
            }
        )
    }
    assert from_answers(checklist(), answers) == [
        Tracked(
            about="Contact plan",
            with_whom="West Police",
            stage="manager",
            next_step="Meeting",
            next_step_by="2026-04-10",
            stage_since="2026-04-02",
            key="contact plan\x1fwest police",
        ),
        Tracked(
            about="School place",
            with_whom="",
            stage="informal",
            next_step="",
            next_step_by="",
            stage_since="",
            key="school place\x1f",
        ),
    ]


def test_a_checklist_that_does_not_ask_when_the_stage_was_reached_tracks_no_date() -> None:
    answers = {"disagreements": SectionAnswers(groups={"rows": [{"about": "Contact", "reached_on": "2026-04-02"}]})}
    [tracked] = from_answers(checklist(stage_since=""), answers)
    assert tracked.stage_since == ""
    assert tracked.about == "Contact"


@pytest.mark.parametrize(
    "answers",
    [
        {},  # the section was never saved
        {"disagreements": SectionAnswers()},  # the group has no rows key at all (it was hidden)
        {"disagreements": SectionAnswers(groups={"rows": []})},
        {"other": SectionAnswers(groups={"rows": [{"about": "Contact"}]})},
    ],
    ids=["no section", "no rows key", "no rows", "another section"],
)
def test_no_rows_means_no_disagreements(answers: dict[str, SectionAnswers]) -> None:
    assert from_answers(checklist(), answers) == []


def test_a_checklist_without_a_disagreements_section_tracks_none() -> None:
    answers = {"disagreements": SectionAnswers(groups={"rows": [{"about": "Contact"}]})}
    assert from_answers(WITHOUT_DISAGREEMENTS, answers) == []
    assert first_stage(WITHOUT_DISAGREEMENTS) == ""
    assert stages_above(WITHOUT_DISAGREEMENTS, "informal") == []
    assert overdue_before(WITHOUT_DISAGREEMENTS, date(2026, 4, 9)) == {}


# --- the ladder -------------------------------------------------------------------------------------------------------


def test_a_disagreement_raised_on_the_page_starts_at_the_lowest_stage() -> None:
    assert first_stage(checklist()) == "informal"


def test_a_stage_is_shown_by_its_label_and_an_unknown_one_as_stored() -> None:
    assert stage_label(checklist(), "manager") == "Escalated to managers"
    assert stage_label(checklist(), "retired_stage") == "retired_stage"


@pytest.mark.parametrize(
    ("current", "above"),
    [
        ("informal", ["manager", "head_of_service", "partnership"]),
        ("manager", ["head_of_service", "partnership"]),
        ("partnership", []),
        ("retired_stage", ["informal", "manager", "head_of_service", "partnership"]),
        ("", ["informal", "manager", "head_of_service", "partnership"]),
    ],
)
def test_a_disagreement_may_be_escalated_only_up_the_ladder(current: str, above: list[str]) -> None:
    assert [option.value for option in stages_above(checklist(), current)] == above


@pytest.mark.parametrize(
    ("current", "stage", "errors"),
    [
        ("informal", "manager", {}),
        ("informal", "partnership", {}),
        ("retired_stage", "informal", {}),
        (
            "manager",
            "manager",
            {"stage": "Select a stage above ‘Escalated to managers’, the stage it has already reached"},
        ),
        (
            "manager",
            "informal",
            {"stage": "Select a stage above ‘Escalated to managers’, the stage it has already reached"},
        ),
        ("informal", "", {"stage": "Select the stage the disagreement has been escalated to"}),
        ("informal", "ombudsman", {"stage": "Select the stage the disagreement has been escalated to"}),
    ],
)
def test_the_stage_of_an_escalation(current: str, stage: str, errors: dict[str, str]) -> None:
    assert escalation_stage_errors(checklist(), current, stage) == errors


@pytest.mark.parametrize(
    ("since", "stage_date", "found", "errors"),
    [
        ("2026-04-02", "2026-04-02", {}, {}),  # the same day
        ("2026-04-02", "2026-04-03", {}, {}),
        (
            "2026-04-02",
            "2026-04-01",
            {},
            {
                "stage_date-day": "The date of the escalation must be on or after 2 April 2026, when the "
                "disagreement reached ‘Escalated to managers’"
            },
        ),
        (
            "2026-04-02",
            "2026-04-01",
            {"stage": "Select the stage"},  # a message about another field: the date is still checked
            {
                "stage_date-day": "The date of the escalation must be on or after 2 April 2026, when the "
                "disagreement reached ‘Escalated to managers’"
            },
        ),
        ("2026-04-02", "2026-04-01", {"stage_date-day": "Enter a real date"}, {}),  # already has a message
        ("2026-04-02", "2026-04-01", {"stage_date-year": "Enter the year"}, {}),
        ("2026-04-02", "1/4/2026", {}, {}),  # boxes that are not a date: its own message says so
        ("", "2026-04-01", {}, {}),  # nothing to compare with
        ("not a date", "2026-04-01", {}, {}),
    ],
)
def test_an_escalation_is_dated_on_or_after_the_stage_it_leaves(
    since: str, stage_date: str, found: dict[str, str], errors: dict[str, str]
) -> None:
    assert escalation_date_errors(checklist(), "manager", since, stage_date, found) == errors


# --- overdue, to the working day --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # reached 'Escalated to managers' (2 working days) on Thursday 2 April 2026, before Easter
        (date(2026, 4, 7), None),  # Good Friday and Easter Monday do not count: 1 working day
        (date(2026, 4, 8), None),  # 2 working days: at the limit, not past it
        (
            date(2026, 4, 9),
            Overdue(stage="Escalated to managers", since=date(2026, 4, 2), working_days=3, limit=2),
        ),
    ],
)
def test_overdue_only_once_past_the_stages_limit_in_working_days(today: date, expected: Overdue | None) -> None:
    assert overdue_at(checklist(), "manager", "2026-04-02", today) == expected


def test_an_overdue_disagreement_says_where_since_when_and_against_what_limit() -> None:
    late = Overdue(stage="Escalated to managers", since=date(2026, 4, 2), working_days=3, limit=2)
    assert late.sentence() == (
        "A professional disagreement is overdue at ‘Escalated to managers’: 3 working days since 2 April 2026, "
        "against a limit of 2"
    )


@pytest.mark.parametrize(
    ("stage", "since"),
    [
        ("head_of_service", "2020-01-01"),  # no time limit at this stage
        ("retired_stage", "2020-01-01"),  # a stage the ladder no longer has
        ("manager", ""),
        ("manager", "2 April 2026"),
    ],
)
def test_never_overdue_without_a_limit_or_a_date(stage: str, since: str) -> None:
    assert overdue_at(checklist(), stage, since, date(2026, 4, 9)) is None


def test_the_open_disagreements_listed_together_keep_only_the_overdue_ones_in_order() -> None:
    listed = "\x1e".join(
        [
            "partnership\x1f2026-03-09",  # 21 working days to 9 April: overdue
            "manager\x1f2026-04-07",  # 2 working days: not yet
            "manager\x1f2026-04-06",  # 3 working days: overdue
            "head_of_service\x1f2025-01-01",
            "",
        ]
    )
    assert overdue(checklist(), listed, date(2026, 4, 9)) == (
        Overdue(stage="Referred to the safeguarding partnership", since=date(2026, 3, 9), working_days=21, limit=20),
        Overdue(stage="Escalated to managers", since=date(2026, 4, 6), working_days=3, limit=2),
    )
    assert overdue(checklist(), "", date(2026, 4, 9)) == ()
    assert overdue(checklist(), "partnership\x1f2026-03-10", date(2026, 4, 9)) == ()


def test_the_report_filters_on_the_last_date_a_disagreement_could_reach_each_stage_and_be_overdue() -> None:
    # on Thursday 9 April 2026, after Easter: each stage's limit counted back in working days
    assert overdue_before(checklist(), date(2026, 4, 9)) == {
        "informal": "2026-03-30",  # 6 working days to 9 April
        "manager": "2026-04-06",  # Easter Monday: 3 working days to 9 April
        "partnership": "2026-03-09",  # 21 working days
    }
