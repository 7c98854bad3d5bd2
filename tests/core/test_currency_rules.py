"""Record currency: which records are not up to date on the day a handover is judged, and the sentences people read.

Limits in calendar days, working days (bank holidays do not count) and months, a review date that must not have
passed, rules that apply only for some legal statuses, and rows of a repeatable group. Every expected sentence and
boundary is written out here, never computed with the module under test.
"""

from __future__ import annotations

import calendar
import tomllib
from datetime import date, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from service.checklist import Checklist
from service.core.answers import SectionAnswers
from service.core.currency import Flag, StaleItem, flags, reason_errors, stale_items, stored_flags

RULES = """
id = "currency-test"
version = 1
title = "Currency test"

[[currency]]
section = "records"
field = "chronology"
within = 14
what = "The chronology was last updated"
source = "chronology guidance"

[[currency]]
section = "records"
field = "visit"
within = 2
unit = "working_days"
when = { section = "summary", field = "status", any_of = ["cp_plan", "cin"] }
what = "The last visit was"
source = "visiting procedures"

[[currency]]
section = "records"
field = "plan"
within = 1
unit = "months"
what = "The plan was reviewed"
source = "planning guidance"

[[currency]]
section = "risks"
group = "risks"
field = "review"
not_past = true
what = "The review date"
source = "risk guidance"

[[sections]]
id = "summary"
title = "Summary"
[[sections.fields]]
id = "status"
type = "checkboxes"
label = "Legal status"
options = [{ value = "cp_plan", label = "CP plan" }, { value = "cin", label = "CIN" }, { value = "lac", label = "LAC" }]

[[sections]]
id = "records"
title = "Records"
[[sections.fields]]
id = "chronology"
type = "date"
label = "Chronology"
[[sections.fields]]
id = "visit"
type = "date"
label = "Visit"
[[sections.fields]]
id = "plan"
type = "date"
label = "Plan"

[[sections]]
id = "risks"
title = "Risks"
[[sections.groups]]
id = "risks"
title = "Risks"
row_label = "Risk"
[[sections.groups.fields]]
id = "about"
type = "text"
label = "About"
[[sections.groups.fields]]
id = "review"
type = "date"
label = "Review"
"""

CHECKLIST = msgspec.convert(tomllib.loads(RULES), Checklist)
TODAY = date(2026, 11, 30)


def records(status: str | list[str] = "cp_plan", **dates: str) -> dict[str, SectionAnswers]:
    """Answers with the given record dates (ISO), every other record left empty, and this legal status."""
    return {
        "summary": SectionAnswers(values={"status": status}),
        "records": SectionAnswers(values=dict(dates)),
    }


def messages(answers: dict[str, SectionAnswers], today: date = TODAY) -> list[str]:
    return [item.message for item in stale_items(CHECKLIST, answers, today)]


# Calendar days -------------------------------------------------------------------------------------------------------


def test_a_chronology_exactly_at_the_limit_in_days_is_up_to_date() -> None:
    assert stale_items(CHECKLIST, records(chronology="2026-11-16"), TODAY) == []


def test_a_chronology_one_day_past_the_limit_is_stale_with_its_sentence() -> None:
    assert stale_items(CHECKLIST, records(chronology="2026-11-15"), TODAY) == [
        StaleItem(
            key="records.chronology",
            section_id="records",
            input_id="chronology-day",
            message="The chronology was last updated: 15 November 2026, 15 days ago; the limit is 14 days "
            "(chronology guidance)",
        )
    ]


def test_the_date_in_a_sentence_has_no_leading_zero() -> None:
    assert messages(records(chronology="2026-11-01")) == [
        "The chronology was last updated: 1 November 2026, 29 days ago; the limit is 14 days (chronology guidance)"
    ]


def test_a_record_dated_today_or_later_is_up_to_date() -> None:
    assert messages(records(chronology="2026-11-30", plan="2026-12-05", visit="2026-12-01")) == []


# Working days --------------------------------------------------------------------------------------------------------


def test_two_working_days_across_the_easter_bank_holidays_are_within_the_limit() -> None:
    # Thursday 2 April 2026 to Wednesday 8 April: Good Friday and Easter Monday do not count.
    assert messages(records(visit="2026-04-02"), date(2026, 4, 8)) == []


def test_three_working_days_across_the_easter_bank_holidays_are_past_the_limit() -> None:
    assert messages(records(visit="2026-04-02"), date(2026, 4, 9)) == [
        "The last visit was: 2 April 2026, 3 working days ago; the limit is 2 working days (visiting procedures)"
    ]


def test_a_weekend_does_not_count_towards_working_days() -> None:
    # Thursday 26 November to Monday 30 November 2026: Friday and Monday.
    assert messages(records(visit="2026-11-26")) == []
    assert messages(records(visit="2026-11-25")) == [
        "The last visit was: 25 November 2026, 3 working days ago; the limit is 2 working days (visiting procedures)"
    ]


# Months --------------------------------------------------------------------------------------------------------------


def test_a_month_from_the_last_day_of_january_ends_on_the_last_day_of_february() -> None:
    assert messages(records(plan="2026-01-31"), date(2026, 2, 28)) == []
    assert messages(records(plan="2026-01-31"), date(2026, 3, 30)) == []
    assert messages(records(plan="2026-01-31"), date(2026, 3, 31)) == [
        "The plan was reviewed: 31 January 2026, 2 months ago; the limit is 1 months (planning guidance)"
    ]


def test_months_count_whole_months_only() -> None:
    assert messages(records(plan="2026-09-30"), date(2026, 11, 29)) == []
    assert messages(records(plan="2026-09-30"), TODAY) == [
        "The plan was reviewed: 30 September 2026, 2 months ago; the limit is 1 months (planning guidance)"
    ]


def test_months_count_across_the_turn_of_the_year() -> None:
    assert messages(records(plan="2025-12-15"), date(2026, 2, 14)) == []
    assert messages(records(plan="2025-12-15"), date(2026, 2, 15)) == [
        "The plan was reviewed: 15 December 2025, 2 months ago; the limit is 1 months (planning guidance)"
    ]
    assert messages(records(plan="2024-11-30"), TODAY) == [
        "The plan was reviewed: 30 November 2024, 24 months ago; the limit is 1 months (planning guidance)"
    ]


def test_a_month_in_a_leap_year_reaches_the_29th_of_february() -> None:
    assert messages(records(plan="2023-12-29"), date(2024, 2, 28)) == []
    assert messages(records(plan="2023-12-29"), date(2024, 2, 29)) == [
        "The plan was reviewed: 29 December 2023, 2 months ago; the limit is 1 months (planning guidance)"
    ]
    assert messages(records(plan="2024-01-31"), date(2024, 3, 30)) == []


def whole_months_between(start: date, end: date) -> int:
    """The most months that can be added to `start` (on the same day, or the month's last day) without passing
    `end`: counted by stepping month by month."""
    months = 0
    while True:
        index = start.month + months  # the month of the next step, months + 1 after `start` (January is 0)
        year, month = start.year + index // 12, index % 12 + 1
        later = date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
        if later > end:
            return months
        months += 1


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
)
def test_the_age_in_months_is_the_whole_months_passed(start: date, days: int) -> None:
    today = start + timedelta(days=days)
    months = whole_months_between(start, today)
    found = messages(records(plan=start.isoformat()), today)
    if months <= 1:
        assert found == []
    else:
        on = f"{start.day} {start:%B %Y}"
        assert found == [f"The plan was reviewed: {on}, {months} months ago; the limit is 1 months (planning guidance)"]


# A date that must not have passed, in the rows of a group ------------------------------------------------------------


def risk_rows(*reviews: str) -> dict[str, SectionAnswers]:
    rows: list[dict[str, str | list[str]]] = [{"about": f"Risk {n}", "review": day} for n, day in enumerate(reviews)]
    return {"summary": SectionAnswers(values={"status": "lac"}), "risks": SectionAnswers(groups={"risks": rows})}


def test_a_review_date_of_today_has_not_passed() -> None:
    assert stale_items(CHECKLIST, risk_rows("2026-11-30", "2027-01-01"), TODAY) == []


def test_each_row_whose_review_date_has_passed_is_named_by_its_number() -> None:
    assert stale_items(CHECKLIST, risk_rows("2026-11-30", "2026-11-29", "", "2026-02-03"), TODAY) == [
        StaleItem(
            key="risks.risks.review.2",
            section_id="risks",
            input_id="risks-1-review-day",
            message="Risk 2: The review date: 29 November 2026 has passed (risk guidance)",
        ),
        StaleItem(
            key="risks.risks.review.4",
            section_id="risks",
            input_id="risks-3-review-day",
            message="Risk 4: The review date: 3 February 2026 has passed (risk guidance)",
        ),
    ]


def test_a_group_with_no_rows_has_nothing_stale() -> None:
    answers = {"risks": SectionAnswers(values={"about": "2020-01-01", "review": "2020-01-01"})}
    assert stale_items(CHECKLIST, answers, TODAY) == []


# Which rules apply ---------------------------------------------------------------------------------------------------


def test_a_rule_for_some_legal_statuses_applies_to_each_of_them() -> None:
    stale = (
        "The last visit was: 20 November 2026, 6 working days ago; the limit is 2 working days (visiting procedures)"
    )
    assert messages(records("cp_plan", visit="2026-11-20")) == [stale]
    assert messages(records("cin", visit="2026-11-20")) == [stale]
    assert messages(records(["lac", "cin"], visit="2026-11-20")) == [stale]
    assert [item.key for item in stale_items(CHECKLIST, records("cin", visit="2026-11-20"), TODAY)] == [
        "records.visit.cp_plan.cin"
    ]


def test_a_rule_for_other_legal_statuses_does_not_apply() -> None:
    assert messages(records("lac", visit="2026-01-01")) == []
    assert messages(records(["lac"], visit="2026-01-01")) == []
    assert messages(records([], visit="2026-01-01")) == []
    assert messages({"records": SectionAnswers(values={"visit": "2026-01-01"})}) == [], "status not answered"


def test_a_section_not_answered_has_nothing_stale() -> None:
    assert stale_items(CHECKLIST, {"summary": SectionAnswers(values={"status": "cp_plan"})}, TODAY) == []


def test_a_missing_or_unfinished_date_is_left_to_the_sections_own_checks() -> None:
    assert messages(records(chronology="", plan="2026-13-01", visit="2026-1-1")) == []
    answers = records()
    answers["records"].values["chronology"] = ["2020-01-01"]
    assert messages(answers) == []


def test_stale_records_are_listed_in_the_order_of_the_rules() -> None:
    answers = records(plan="2025-01-01", visit="2025-01-01", chronology="2025-01-01")
    answers["risks"] = risk_rows("2025-01-01")["risks"]
    assert [item.key for item in stale_items(CHECKLIST, answers, TODAY)] == [
        "records.chronology",
        "records.visit.cp_plan.cin",
        "records.plan",
        "risks.risks.review.1",
    ]


def test_a_rule_whose_section_or_field_is_gone_finds_nothing() -> None:
    changed = msgspec.convert(
        tomllib.loads(
            RULES.replace('field = "chronology"\nwithin', 'field = "gone"\nwithin', 1)
            .replace('group = "risks"\nfield = "review"', 'group = "risks"\nfield = "missing"', 1)
            .replace('section = "records"\nfield = "plan"', 'section = "nowhere"\nfield = "plan"', 1)
        ),
        Checklist,
    )
    answers = records(plan="2020-01-01", gone="2020-01-01")
    answers["risks"] = SectionAnswers(groups={"risks": [{"missing": "2020-01-01", "review": "2020-01-01"}]})
    assert stale_items(changed, answers, TODAY) == []


# Reasons and flags ---------------------------------------------------------------------------------------------------

CHRONOLOGY = StaleItem(key="records.chronology", section_id="records", input_id="chronology-day", message="Old")
RISK = StaleItem(key="risks.risks.review.2", section_id="risks", input_id="risks-1-review-day", message="Passed")


def test_each_stale_record_without_a_reason_asks_for_one() -> None:
    assert reason_errors([CHRONOLOGY, RISK], {"risks.risks.review.2": "   "}) == {
        "stale-records.chronology": "Old. Update it, or say why it is not up to date",
        "stale-risks.risks.review.2": "Passed. Update it, or say why it is not up to date",
    }


def test_a_reason_may_be_exactly_a_thousand_characters() -> None:
    assert reason_errors([CHRONOLOGY], {"records.chronology": "x" * 1000}) == {}
    assert reason_errors([CHRONOLOGY], {"records.chronology": "x" * 1001}) == {
        "stale-records.chronology": "The reason must be 1,000 characters or fewer"
    }


def test_reasons_given_for_every_stale_record_pass() -> None:
    assert reason_errors([CHRONOLOGY, RISK], {"records.chronology": "On leave", "risks.risks.review.2": "Set"}) == {}
    assert reason_errors([], {}) == {}


def test_flags_keep_each_message_when_it_was_judged_and_the_reason_trimmed() -> None:
    assert flags([CHRONOLOGY, RISK], {"records.chronology": "  Worker on leave \n"}, "approval") == [
        Flag(key="records.chronology", message="Old", judged_at="approval", reason="Worker on leave"),
        Flag(key="risks.risks.review.2", message="Passed", judged_at="approval", reason=""),
    ]


def test_a_flag_reads_as_a_sentence_with_its_reason_if_given() -> None:
    assert Flag(key="k", message="Old", judged_at="submission").sentence() == (
        "Record not up to date at submission: Old"
    )
    assert Flag(key="k", message="Old", judged_at="approval", reason="On leave").sentence() == (
        "Record not up to date at approval: Old (reason given: On leave)"
    )


def test_stored_flags_are_read_back_and_anything_else_is_none() -> None:
    text = '[{"key":"k","message":"Old","judged_at":"submission","reason":"On leave"},'
    text += '{"key":"j","message":"Passed","judged_at":"approval"}]'
    assert stored_flags(text) == [
        Flag(key="k", message="Old", judged_at="submission", reason="On leave"),
        Flag(key="j", message="Passed", judged_at="approval", reason=""),
    ]
    assert stored_flags("") == []
    assert stored_flags("not json") == []
    assert stored_flags('{"key": "k"}') == []
