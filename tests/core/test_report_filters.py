"""The report's filters as an auditor, the API or the command line give them: what each accepts, its default, and
the exact sentence shown for each one that cannot be used."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.errors import Invalid
from service.core.report import ReportFilter, parse_report_filter, repeated_filter_errors

TEAM = "Select a team from the list"
SIDE = "Select the team's side of the transfer from the list"
STATE = "Select a state from the list"
BLOCKER = "Select what the handover waits on from the list"
SORT = "Select an order from the list"
MIN_DAYS = "Enter the minimum age as a whole number of working days from 0 to 10000, for example 10"

DEFAULTS = ReportFilter(
    team_id=None, team_side="either", state=None, blocker=None, min_working_days=0, sort="oldest"
)  # fmt: skip


def errors_for(query: dict[str, object]) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        parse_report_filter(query)
    return refused.value.errors


# ---------------------------------------------------------------- accepted


def test_no_filters_give_every_default() -> None:
    assert parse_report_filter({}) == DEFAULTS


def test_empty_filters_take_their_defaults() -> None:
    empty = {"team": "", "side": "", "state": "", "blocker": "", "min_days": "", "sort": ""}
    assert parse_report_filter(empty) == DEFAULTS
    assert parse_report_filter(dict.fromkeys(empty)) == DEFAULTS


def test_every_filter_given_as_text_is_read() -> None:
    query = {"team": "12", "side": "receiving", "state": "endorsed", "blocker": "stale_record",
             "min_days": "10", "sort": "last_activity"}  # fmt: skip
    assert parse_report_filter(query) == ReportFilter(
        team_id=12, team_side="receiving", state="endorsed", blocker="stale_record", min_working_days=10,
        sort="last_activity",
    )  # fmt: skip


def test_filters_given_as_typed_values_are_read() -> None:
    assert parse_report_filter({"team": 7, "min_days": 3, "side": "sending"}) == ReportFilter(
        team_id=7, team_side="sending", min_working_days=3
    )


def test_names_that_are_not_filters_are_ignored() -> None:
    assert parse_report_filter({"page": "2", "team_id": "x", "min_working_days": "x"}) == DEFAULTS


@pytest.mark.parametrize(("text", "days"), [("0", 0), ("1", 1), ("9999", 9999), ("10000", 10000), ("007", 7)])
def test_a_minimum_age_from_0_to_10000_working_days_is_accepted(text: str, days: int) -> None:
    assert parse_report_filter({"min_days": text}).min_working_days == days


@pytest.mark.parametrize("days", [0, 10000])
def test_the_minimum_age_limits_are_inclusive(days: int) -> None:
    assert ReportFilter(min_working_days=days).min_working_days == days


@pytest.mark.parametrize("days", [-1, 10001])
def test_a_minimum_age_outside_the_limits_is_refused(days: int) -> None:
    with pytest.raises(ValueError) as refused:
        ReportFilter(min_working_days=days)
    assert str(refused.value) == "The minimum age must be a whole number of working days from 0 to 10000"


# ---------------------------------------------------------------- refused, with the sentence shown


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        pytest.param({"team": "abc"}, {"team": TEAM}, id="team-letters"),
        pytest.param({"team": "-1"}, {"team": TEAM}, id="team-negative"),
        pytest.param({"team": "1.5"}, {"team": TEAM}, id="team-decimal"),
        pytest.param({"team": "²"}, {"team": TEAM}, id="team-superscript"),
        pytest.param({"team": "99999999999999999999"}, {"team": TEAM}, id="team-too-long"),
        pytest.param({"team": [1]}, {"team": TEAM}, id="team-list"),
        pytest.param({"side": "both"}, {"side": SIDE}, id="side"),
        pytest.param({"state": "closed"}, {"state": STATE}, id="state-closed"),
        pytest.param({"state": 5}, {"state": STATE}, id="state-number"),
        pytest.param({"blocker": "anything"}, {"blocker": BLOCKER}, id="blocker"),
        pytest.param({"sort": "random"}, {"sort": SORT}, id="sort"),
        pytest.param({"min_days": "lots"}, {"min_days": MIN_DAYS}, id="min-days-letters"),
        pytest.param({"min_days": "-1"}, {"min_days": MIN_DAYS}, id="min-days-negative-text"),
        pytest.param({"min_days": "10001"}, {"min_days": MIN_DAYS}, id="min-days-above-limit-text"),
        pytest.param({"min_days": 10001}, {"min_days": MIN_DAYS}, id="min-days-above-limit"),
        pytest.param({"min_days": -1}, {"min_days": MIN_DAYS}, id="min-days-negative"),
        pytest.param({"min_days": "５"}, {"min_days": MIN_DAYS}, id="min-days-full-width-digit"),
    ],
)
def test_a_filter_that_cannot_be_used_is_refused_with_what_to_choose_or_enter(
    query: dict[str, object], errors: dict[str, str]
) -> None:
    assert errors_for(query) == errors


def test_every_number_that_cannot_be_read_is_reported_together() -> None:
    assert errors_for({"team": "north", "min_days": "ten", "state": "draft"}) == {"team": TEAM, "min_days": MIN_DAYS}


def test_a_number_that_cannot_be_read_is_reported_before_a_choice_is_checked() -> None:
    assert errors_for({"min_days": "ten", "state": "nope"}) == {"min_days": MIN_DAYS}


def test_a_refusal_reads_as_its_sentences() -> None:
    with pytest.raises(Invalid) as refused:
        parse_report_filter({"team": "north", "min_days": "ten"})
    assert str(refused.value) == f"{TEAM}; {MIN_DAYS}"


@given(st.text(max_size=6).filter(lambda text: text != "" and not (text.isascii() and text.isdigit())))
def test_a_team_that_is_not_ascii_digits_is_refused(text: str) -> None:
    assert errors_for({"team": text}) == {"team": TEAM}


# ---------------------------------------------------------------- a filter given twice


def test_a_filter_named_twice_is_refused_once_by_name() -> None:
    names = ["state", "team", "state", "page", "page", "sort", "state", "min_days", "min_days"]
    assert repeated_filter_errors(names) == {"state": "Choose this filter once", "min_days": "Choose this filter once"}


def test_filters_named_once_and_names_that_are_not_filters_are_not_refused() -> None:
    assert repeated_filter_errors(["team", "side", "state", "blocker", "min_days", "sort", "page", "page"]) == {}
    assert repeated_filter_errors([]) == {}
