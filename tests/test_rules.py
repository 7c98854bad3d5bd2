"""Every conditional rule in the checklist, on its passing side and its failing side."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from service.actions.demo import filled_section
from service.core.answers import SectionAnswers, submission_problems, validate_section
from tests.helpers import CHECKLIST, complete, section

TODAY = date(2026, 11, 27)


def errors_for(section_id: str, **chosen: Any) -> dict[str, str]:
    definition = section(section_id)
    return validate_section(definition, filled_section(definition, TODAY, **chosen), TODAY)


def errors_without(section_id: str, answers: SectionAnswers, *blank: str) -> dict[str, str]:
    values = {k: ([] if isinstance(v, list) else "") if k in blank else v for k, v in answers.values.items()}
    return validate_section(section(section_id), SectionAnswers(values=values, groups=answers.groups), TODAY)


def test_sibling_harm_yes_needs_at_least_one_incident() -> None:
    assert errors_for("sibling-harm", sibling_harm="yes") == {}
    errors = errors_for("sibling-harm", sibling_harm="yes", incidents_rows=[])
    assert "incidents" in errors


def test_sibling_harm_unknown_needs_a_plan_and_a_date() -> None:
    answers = filled_section(section("sibling-harm"), TODAY, sibling_harm="unknown")
    assert validate_section(section("sibling-harm"), answers, TODAY) == {}
    errors = errors_without("sibling-harm", answers, "find_out_plan", "find_out_by")
    assert set(errors) == {"find_out_plan", "find_out_by-day"}


def test_sibling_harm_no_needs_neither_incidents_nor_plan() -> None:
    assert errors_for("sibling-harm", sibling_harm="no", incidents_rows=[]) == {}


def test_a_cp_plan_needs_categories_rationale_and_date() -> None:
    answers = filled_section(section("cp-category"), TODAY, has_cp_plan="yes", category_changed="no")
    assert validate_section(section("cp-category"), answers, TODAY) == {}
    errors = errors_without("cp-category", answers, "categories", "conference_rationale", "category_set_on")
    assert set(errors) == {"categories", "conference_rationale", "category_set_on-day"}
    assert errors_for("cp-category", has_cp_plan="no") == {}


@pytest.mark.parametrize("missing", ["previous_category", "changed_on", "reason", "risk_outcome"])
def test_every_category_change_needs_previous_category_date_reason_and_what_became_of_the_risk(missing: str) -> None:
    change = {
        "previous_category": "sexual_abuse",
        "changed_on": "2026-01-10",
        "reason": "Left home",
        "risk_outcome": "Source left; risk reduced, not ended",
    }
    assert errors_for("cp-category", has_cp_plan="yes", category_changed="yes", changes_rows=[change]) == {}
    errors = errors_for("cp-category", has_cp_plan="yes", category_changed="yes", changes_rows=[change | {missing: ""}])
    key = f"changes-0-{missing}" + ("-day" if missing == "changed_on" else "")
    assert list(errors) == [key]
    assert errors[key].startswith("Change of category 1: ")


def test_a_category_change_needs_at_least_one_recorded_change() -> None:
    errors = errors_for("cp-category", has_cp_plan="yes", category_changed="yes", changes_rows=[])
    assert "changes" in errors


@pytest.mark.parametrize("status", ["not_started", "commissioned", "in_progress"])
def test_an_unfinished_parenting_assessment_needs_a_reason_and_a_due_date(status: str) -> None:
    answers = filled_section(section("parenting-capacity"), TODAY, pca_status=status)
    assert validate_section(section("parenting-capacity"), answers, TODAY) == {}
    errors = errors_without("parenting-capacity", answers, "not_completed_reason", "due_on")
    assert set(errors) == {"not_completed_reason", "due_on-day"}


def test_a_completed_parenting_assessment_needs_type_assessor_date_and_outcome() -> None:
    answers = filled_section(section("parenting-capacity"), TODAY, pca_status="completed")
    assert validate_section(section("parenting-capacity"), answers, TODAY) == {}
    errors = errors_without("parenting-capacity", answers, "pca_type", "assessor", "completed_on", "outcome")
    assert set(errors) == {"pca_type", "assessor", "completed_on-day", "outcome"}


def test_no_open_risks_is_allowed_only_with_a_written_rationale() -> None:
    answers = filled_section(section("open-risks"), TODAY, has_open_risks="no")
    assert validate_section(section("open-risks"), answers, TODAY) == {}
    assert set(errors_without("open-risks", answers, "no_risks_rationale")) == {"no_risks_rationale"}
    assert "risks" in errors_for("open-risks", has_open_risks="yes", risks_rows=[])


def test_dates_must_be_real_and_past_dates_not_in_the_future() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert "last_visit-day" in errors_for("record-currency", last_visit=tomorrow)
    assert "last_visit-day" in errors_for("record-currency", last_visit="31/2/2026")
    assert errors_for("record-currency", last_visit=TODAY.isoformat()) == {}


def test_answers_outside_the_options_and_over_the_length_are_refused() -> None:
    assert "seen_alone" in errors_for("record-currency", seen_alone="sometimes")
    assert "pen_picture" in errors_for("case-summary", pen_picture="x" * 5000)
    assert "pen_picture" in errors_for("case-summary", pen_picture="bell \x07 character")


def test_answers_hidden_by_a_condition_are_not_checked() -> None:
    # 'seen_alone_reason' only applies when the child was not seen alone
    assert errors_for("record-currency", seen_alone="yes", seen_alone_reason="") == {}
    assert "seen_alone_reason" in errors_for("record-currency", seen_alone="no", seen_alone_reason="")


def test_submission_lists_every_unstarted_and_invalid_section() -> None:
    answers = complete(on=TODAY)
    assert submission_problems(CHECKLIST, answers, TODAY) == []
    del answers["actions"]
    answers["open-risks"] = SectionAnswers(values={"has_open_risks": "no"})
    problems = submission_problems(CHECKLIST, answers, TODAY)
    assert [(p.section_id, p.input_id) for p in problems] == [("open-risks", "no_risks_rationale"), ("actions", "")]
