"""Checking a section's answers against its definition (core.answers): the exact sentence a person reads for each
kind of missing or wrong answer, optional answers left empty, answers at exactly the maximum length and one over,
rows at exactly the maximum count and one over, and questions shown or hidden by other answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.checklist import Checklist, Field, Section, load_file
from service.core.answers import (
    ChildRecord,
    Problem,
    SectionAnswers,
    input_id,
    is_critical,
    lower_first,
    row_prefix,
    shown_fields,
    shown_groups,
    submission_problems,
    validate_field,
    validate_section,
)

TODAY = date(2025, 6, 11)
MIA = ChildRecord(name="Mia Test", date_of_birth="2015-03-14", reference="T-1", siblings=(("Liam Test", "T-2"),))

DEFINITION = """
id = "answers-under-test"
version = 1
title = "Answers under test"

[[sections]]
id = "about"
title = "About the child"

[[sections.fields]]
id = "child_name"
type = "text"
label = "Child's name"
from_case_record = "child_name"
max_length = 12

[[sections.fields]]
id = "born"
type = "date"
label = "Date of birth"
from_case_record = "date_of_birth"
message = "Enter the child's date of birth"

[[sections.fields]]
id = "reference"
type = "text"
label = "Local reference"
from_case_record = "reference"
required = false

[[sections.fields]]
id = "siblings"
type = "textarea"
label = "Brothers and sisters"
from_case_record = "siblings"
required = false

[[sections.fields]]
id = "notes"
type = "textarea"
label = "Notes"
required = false

[[sections]]
id = "visits"
title = "Visits"

[[sections.fields]]
id = "last_visit"
type = "date"
label = "Last visit"
not_before_birth = true
not_in_future = true

[[sections.fields]]
id = "next_visit"
type = "date"
label = "Next visit"
required = false

[[sections.fields]]
id = "seen_alone"
type = "radios"
label = "Seen alone"
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]

[[sections.fields]]
id = "not_alone_reason"
type = "textarea"
label = "Why not alone"
when = { field = "seen_alone", any_of = ["no"] }
message = "Enter why the child was not seen alone"

[[sections.fields]]
id = "follow_up"
type = "radios"
label = "Follow up"
when = { field = "seen_alone", any_of = ["no"] }
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]

[[sections.fields]]
id = "follow_up_detail"
type = "textarea"
label = "Follow-up detail"
when = { field = "follow_up", any_of = ["yes"] }

[[sections.fields]]
id = "concerns"
type = "checkboxes"
label = "Concerns"
options = [{ value = "school", label = "School" }, { value = "health", label = "Health" }]

[[sections.groups]]
id = "actions"
title = "Follow-up actions"
row_label = "Action"
when = { field = "follow_up", any_of = ["yes"] }
min_rows = 1
fields = [{ id = "what", type = "text", label = "What will be done" }]

[[sections]]
id = "risks"
title = "Open risks"
critical_when = { field = "has_risks", any_of = ["yes"] }

[[sections.fields]]
id = "has_risks"
type = "radios"
label = "Any open risks"
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]

[[sections.groups]]
id = "risks"
title = "Risks"
row_label = "Risk"
when = { field = "has_risks", any_of = ["yes"] }
min_rows = 1
max_rows = 3
message = "Add at least one open risk"

[[sections.groups.fields]]
id = "what"
type = "text"
label = "What the risk is"
max_length = 50

[[sections.groups.fields]]
id = "from_whom"
type = "text"
label = "Who it comes from"
required = false

[[sections]]
id = "contacts"
title = "Contacts"

[[sections.groups]]
id = "people"
title = "People involved"
row_label = "Professional contact"
min_rows = 2
max_rows = 80

[[sections.groups.fields]]
id = "name"
type = "text"
label = "Name"

[[sections.groups.fields]]
id = "met_on"
type = "date"
label = "Date met"
required = false
not_in_future = true
not_before_birth = true

[[sections.groups.fields]]
id = "roles"
type = "checkboxes"
label = "Roles"
options = [{ value = "police", label = "Police" }, { value = "school", label = "School" }]

[[sections]]
id = "plan"
title = "The plan"
critical = true
fields = [{ id = "plan", type = "textarea", label = "Plan" }]
"""


@pytest.fixture(scope="module")
def checklist(tmp_path_factory: pytest.TempPathFactory) -> Checklist:
    path: Path = tmp_path_factory.mktemp("checklists") / "answers.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    return load_file(path)


def section_of(checklist: Checklist, section_id: str) -> Section:
    found = checklist.section(section_id)
    assert found is not None
    return found


def field_of(checklist: Checklist, section_id: str, field_id: str) -> Field:
    found = section_of(checklist, section_id).field(field_id)
    assert found is not None
    return found


def row_field(checklist: Checklist, section_id: str, group_id: str, field_id: str) -> Field:
    group = section_of(checklist, section_id).group(group_id)
    assert group is not None
    found = group.field(field_id)
    assert found is not None
    return found


def check(checklist: Checklist, section_id: str, field_id: str, value: str | list[str], child=None) -> str | None:
    return validate_field(field_of(checklist, section_id, field_id), value, TODAY, child)


# Missing answers: the definition's own sentence, or one made from the label with the verb the input needs.


def test_a_missing_answer_with_its_own_message_shows_that_message(checklist: Checklist) -> None:
    assert check(checklist, "about", "born", "") == "Enter the child's date of birth"
    assert check(checklist, "visits", "not_alone_reason", "  \n ") == "Enter why the child was not seen alone"


def test_a_missing_text_answer_asks_to_enter_the_label_starting_in_lower_case(checklist: Checklist) -> None:
    assert check(checklist, "about", "child_name", "") == "Enter child's name"
    assert check(checklist, "about", "child_name", "   ") == "Enter child's name"
    assert check(checklist, "visits", "last_visit", "") == "Enter last visit"


def test_a_missing_choice_asks_to_select_it(checklist: Checklist) -> None:
    assert check(checklist, "visits", "seen_alone", "") == "Select seen alone"
    assert check(checklist, "visits", "concerns", []) == "Select concerns"
    assert check(checklist, "visits", "concerns", ["", " "]) == "Select concerns"


def test_lower_first_lowers_only_the_first_letter() -> None:
    assert lower_first("Child's Name") == "child's Name"
    assert lower_first("X") == "x"
    assert lower_first("") == ""


def test_an_optional_answer_left_empty_is_accepted(checklist: Checklist) -> None:
    assert check(checklist, "about", "notes", "") is None
    assert check(checklist, "about", "reference", "  ") is None
    assert check(checklist, "visits", "next_visit", "", MIA) is None


def test_an_optional_answer_restating_the_case_record_left_empty_must_still_agree_with_it(checklist: Checklist) -> None:
    assert check(checklist, "about", "reference", "  ", MIA) == "Local reference must be as on the case record: T-1"


def test_an_optional_sibling_list_left_empty_still_names_the_siblings_on_the_case_record(checklist: Checklist) -> None:
    assert check(checklist, "about", "siblings", "", MIA) == (
        "Brothers and sisters must include Liam Test (T-2), in the same sibling group on the case record"
    )
    assert check(checklist, "about", "siblings", "") is None
    only_child = ChildRecord(name="Mia Test", date_of_birth="2015-03-14", reference="T-1")
    assert check(checklist, "about", "siblings", "", only_child) is None


def test_an_answer_of_the_wrong_shape_is_refused(checklist: Checklist) -> None:
    assert check(checklist, "about", "child_name", ["Mia"]) == "Child's name: the answer is not in the expected form"
    assert check(checklist, "about", "child_name", []) == "Child's name: the answer is not in the expected form"
    assert check(checklist, "visits", "concerns", "school") == "Concerns: the answer is not in the expected form"
    assert check(checklist, "visits", "last_visit", ["2025-01-01"]) == (
        "Last visit: the answer is not in the expected form"
    )


# Hidden characters and choices.

HIDDEN = "contains a hidden control character: type it again rather than pasting it"


def test_an_answer_with_a_hidden_control_character_is_refused(checklist: Checklist) -> None:
    assert check(checklist, "about", "notes", "Seen at school\x07") == f"Notes {HIDDEN}"
    assert check(checklist, "visits", "concerns", ["school", "health\x00"]) == f"Concerns {HIDDEN}"
    assert check(checklist, "visits", "seen_alone", "no\u202e") == f"Seen alone {HIDDEN}"


def test_a_choice_must_be_one_of_the_options(checklist: Checklist) -> None:
    assert check(checklist, "visits", "seen_alone", "maybe") == "Select one of the options given for ‘Seen alone’"
    assert check(checklist, "visits", "seen_alone", "No") == "Select one of the options given for ‘Seen alone’"
    assert check(checklist, "visits", "seen_alone", "no") is None
    assert check(checklist, "visits", "concerns", ["school", "housing"]) == (
        "Select one of the options given for ‘Concerns’"
    )
    assert check(checklist, "visits", "concerns", ["school", ""]) == "Select one of the options given for ‘Concerns’"
    assert check(checklist, "visits", "concerns", ["school", "health"]) is None


# Length and lines.


def test_an_answer_of_exactly_the_maximum_length_is_accepted_and_one_more_is_refused(checklist: Checklist) -> None:
    assert check(checklist, "about", "child_name", "A" * 12) is None
    assert check(checklist, "about", "child_name", "A" * 13) == "Child's name must be 12 characters or fewer"


def test_the_default_maximum_is_2000_characters_written_with_a_comma(checklist: Checklist) -> None:
    assert check(checklist, "about", "notes", "a" * 2000) is None
    assert check(checklist, "about", "notes", "a" * 2001) == "Notes must be 2,000 characters or fewer"


def test_a_one_line_answer_may_not_break_lines_but_may_end_with_one(checklist: Checklist) -> None:
    one_line = "must be on one line, without tabs or invisible characters"
    assert check(checklist, "about", "child_name", "Mia\nTest") == f"Child's name {one_line}"
    assert check(checklist, "about", "child_name", "Mia\u200bTest") == f"Child's name {one_line}"
    assert check(checklist, "about", "child_name", " Mia Test\n") is None
    assert check(checklist, "about", "notes", "Seen at school.\nSeen at home.") is None


# What the case record says.


def test_a_name_must_match_the_case_record_ignoring_case_and_spacing(checklist: Checklist) -> None:
    assert check(checklist, "about", "child_name", " mia   TEST ", MIA) is None
    assert check(checklist, "about", "child_name", "Mia Tess", MIA) == (
        "Child's name must be as on the case record: Mia Test"
    )
    assert check(checklist, "about", "child_name", "MiaTest", MIA) == (
        "Child's name must be as on the case record: Mia Test"
    )
    assert check(checklist, "about", "child_name", "Mia Tess") is None


def test_a_reference_must_match_the_case_record(checklist: Checklist) -> None:
    assert check(checklist, "about", "reference", "t-1", MIA) is None
    assert check(checklist, "about", "reference", "T-2", MIA) == "Local reference must be as on the case record: T-1"


def test_the_sibling_list_must_name_every_sibling_by_reference(checklist: Checklist) -> None:
    two = ChildRecord(
        name="Mia Test", date_of_birth="2015-03-14", reference="T-1", siblings=(("Liam Test", "T-2"), ("Ava", "a-9"))
    )
    assert check(checklist, "about", "siblings", "Liam (t-2), Ava (A-9)", two) is None
    assert check(checklist, "about", "siblings", "Liam (T-2)", two) == (
        "Brothers and sisters must include Ava (a-9), in the same sibling group on the case record"
    )
    assert check(checklist, "about", "siblings", "Liam Test and Ava", two) == (
        "Brothers and sisters must include Liam Test (T-2), Ava (a-9), in the same sibling group on the case record"
    )


def test_a_date_of_birth_must_match_the_case_record_written_as_a_person_writes_it(checklist: Checklist) -> None:
    born_on_the_4th = ChildRecord(name="Ava", date_of_birth="2016-07-04", reference="T-9")
    assert check(checklist, "about", "born", "2016-07-04", born_on_the_4th) is None
    assert check(checklist, "about", "born", "2016-07-05", born_on_the_4th) == (
        "Date of birth must be as on the case record: 4 July 2016"
    )
    unknown_birth = ChildRecord(name="Ava", date_of_birth="", reference="T-9")
    assert check(checklist, "about", "born", "2016-07-05", unknown_birth) is None


# Dates.


def test_a_date_is_checked_for_being_real_complete_and_not_in_the_future(checklist: Checklist) -> None:
    assert check(checklist, "visits", "last_visit", "31/2/2025") == "Last visit must be a real date"
    assert check(checklist, "visits", "last_visit", "1//2025") == "Last visit must include a month"
    assert check(checklist, "visits", "last_visit", "2025-06-12") == "Last visit must be today or in the past"
    assert check(checklist, "visits", "last_visit", "2025-06-11") is None
    assert check(checklist, "visits", "next_visit", "2025-06-12") is None


def test_a_visit_may_not_be_before_the_child_was_born(checklist: Checklist) -> None:
    assert check(checklist, "visits", "last_visit", "2015-03-13", MIA) == (
        "Last visit must be on or after the child's date of birth, 14 March 2015"
    )
    assert check(checklist, "visits", "last_visit", "2015-03-14", MIA) is None
    assert check(checklist, "visits", "last_visit", "2015-03-13") is None
    assert check(checklist, "visits", "next_visit", "2015-03-13", MIA) is None


# A section: messages keyed by the input they link to, hidden questions not asked.


def test_each_message_is_keyed_by_the_input_it_links_to(checklist: Checklist) -> None:
    visits = section_of(checklist, "visits")
    answers = SectionAnswers(values={"last_visit": "1//2025", "next_visit": "2026-01-01", "seen_alone": "yes"})
    assert validate_section(visits, answers, TODAY) == {
        "last_visit-month": "Last visit must include a month",
        "concerns": "Select concerns",
    }
    future = SectionAnswers(values={"last_visit": "2025-07-01", "seen_alone": "yes", "concerns": ["health"]})
    assert validate_section(visits, future, TODAY) == {"last_visit-day": "Last visit must be today or in the past"}
    assert validate_section(visits, SectionAnswers(values={"seen_alone": "yes", "concerns": ["health"]}), TODAY) == {
        "last_visit-day": "Enter last visit"
    }


def test_input_ids_name_the_first_date_box_in_error_and_the_row(checklist: Checklist) -> None:
    last_visit = field_of(checklist, "visits", "last_visit")
    assert input_id(last_visit) == "last_visit-day"
    assert input_id(last_visit, "", "12//") == "last_visit-month"
    assert input_id(last_visit, "", "//2025") == "last_visit-day"
    assert input_id(last_visit, "", "12/5/") == "last_visit-year"
    assert input_id(last_visit, "people-3-", ["12//"]) == "people-3-last_visit-day"
    assert input_id(field_of(checklist, "about", "child_name"), "people-3-", "x") == "people-3-child_name"
    group = section_of(checklist, "contacts").group("people")
    assert group is not None and row_prefix(group, 4) == "people-4-"


def test_a_question_shown_by_an_answer_is_asked_and_hidden_otherwise(checklist: Checklist) -> None:
    visits = section_of(checklist, "visits")
    base = {"last_visit": "2025-06-01", "concerns": ["school"]}
    assert validate_section(visits, SectionAnswers(values=base | {"seen_alone": "yes"}), TODAY) == {}
    assert validate_section(visits, SectionAnswers(values=base | {"seen_alone": "no"}), TODAY) == {
        "not_alone_reason": "Enter why the child was not seen alone",
        "follow_up": "Select follow up",
    }


def test_a_question_hidden_with_the_question_it_depends_on_is_not_asked(checklist: Checklist) -> None:
    visits = section_of(checklist, "visits")
    stale = {"last_visit": "2025-06-01", "concerns": ["school"], "seen_alone": "yes", "follow_up": "yes"}
    assert validate_section(visits, SectionAnswers(values=stale), TODAY) == {}
    ids = [field.id for field in shown_fields(visits.fields, stale)]
    assert ids == ["last_visit", "next_visit", "seen_alone", "concerns"]
    asked = stale | {"seen_alone": "no", "not_alone_reason": "At school", "follow_up": "yes"}
    ids = [field.id for field in shown_fields(visits.fields, asked)]
    assert ids == ["last_visit", "next_visit", "seen_alone", "not_alone_reason", "follow_up", "follow_up_detail",
                   "concerns"]  # fmt: skip
    assert validate_section(visits, SectionAnswers(values=asked), TODAY) == {
        "follow_up_detail": "Enter follow-up detail",
        "actions": "Add at least 1 action",
    }


def test_a_group_hidden_with_the_question_it_depends_on_is_not_asked(checklist: Checklist) -> None:
    visits = section_of(checklist, "visits")
    stale = SectionAnswers(values={"seen_alone": "yes", "follow_up": "yes"})
    assert shown_groups(visits, stale) == []
    shown = SectionAnswers(values={"seen_alone": "no", "follow_up": "yes"})
    assert [group.id for group in shown_groups(visits, shown)] == ["actions"]
    assert shown_groups(visits, SectionAnswers(values={"seen_alone": "no", "follow_up": "no"})) == []


# Repeatable groups: counts at the boundaries, and each row's messages.


def risks_answers(rows: list[dict[str, str | list[str]]]) -> SectionAnswers:
    return SectionAnswers(values={"has_risks": "yes"}, groups={"risks": rows})


def test_a_group_with_too_few_rows_shows_its_own_message(checklist: Checklist) -> None:
    risks = section_of(checklist, "risks")
    assert validate_section(risks, risks_answers([]), TODAY) == {"risks": "Add at least one open risk"}
    assert validate_section(risks, SectionAnswers(values={"has_risks": "yes"}), TODAY) == {
        "risks": "Add at least one open risk"
    }
    assert validate_section(risks, risks_answers([{"what": "Father"}]), TODAY) == {}
    assert validate_section(risks, SectionAnswers(values={"has_risks": "no"}), TODAY) == {}


def test_a_group_without_its_own_message_names_the_number_of_rows_needed(checklist: Checklist) -> None:
    contacts = section_of(checklist, "contacts")
    one = SectionAnswers(groups={"people": [{"name": "Ann", "roles": ["police"]}]})
    assert validate_section(contacts, one, TODAY) == {"people": "Add at least 2 professional contact"}
    two = SectionAnswers(groups={"people": [{"name": "Ann", "roles": ["police"]}] * 2})
    assert validate_section(contacts, two, TODAY) == {}


def test_a_group_of_exactly_the_maximum_rows_is_accepted_and_one_more_is_refused(checklist: Checklist) -> None:
    risks = section_of(checklist, "risks")
    assert validate_section(risks, risks_answers([{"what": "Father"}] * 3), TODAY) == {}
    assert validate_section(risks, risks_answers([{"what": "Father"}] * 4), TODAY) == {
        "risks": "Risks can have at most 3 rows"
    }


def test_no_group_keeps_more_than_50_rows_whatever_its_definition_says(checklist: Checklist) -> None:
    contacts = section_of(checklist, "contacts")
    row = {"name": "Ann", "roles": ["school"]}
    assert validate_section(contacts, SectionAnswers(groups={"people": [row] * 50}), TODAY) == {}
    assert validate_section(contacts, SectionAnswers(groups={"people": [row] * 51}), TODAY) == {
        "people": "People involved can have at most 50 rows"
    }


def test_each_rows_message_names_its_row_counting_from_one(checklist: Checklist) -> None:
    risks = section_of(checklist, "risks")
    rows: list[dict[str, str | list[str]]] = [{"what": "Father"}, {"what": "", "from_whom": "x"}, {"what": "B" * 51}]
    assert validate_section(risks, risks_answers(rows), TODAY) == {
        "risks-1-what": "Risk 2: Enter what the risk is",
        "risks-2-what": "Risk 3: What the risk is must be 50 characters or fewer",
    }
    contacts = section_of(checklist, "contacts")
    people = SectionAnswers(groups={"people": [{"name": "Ann", "roles": ["police"]}, {"name": "Bo", "met_on": "3/5/"}]})
    assert validate_section(contacts, people, TODAY) == {
        "people-1-met_on-year": "Professional contact 2: Date met must include a year",
        "people-1-roles": "Professional contact 2: Select roles",
    }


def test_a_rows_date_may_not_be_before_the_child_was_born(checklist: Checklist) -> None:
    contacts = section_of(checklist, "contacts")
    row = {"name": "Ann", "roles": ["police"]}
    early = SectionAnswers(groups={"people": [row | {"met_on": "2015-03-14"}, row | {"met_on": "2015-03-13"}]})
    assert validate_section(contacts, early, TODAY, MIA) == {
        "people-1-met_on-day": "Professional contact 2: Date met must be on or after the child's date of birth, "
        "14 March 2015"
    }
    assert validate_section(contacts, early, TODAY) == {}


def test_a_critical_section_or_one_made_critical_by_an_answer_needs_confirming(checklist: Checklist) -> None:
    assert is_critical(section_of(checklist, "plan"), SectionAnswers()) is True
    risks = section_of(checklist, "risks")
    assert is_critical(risks, SectionAnswers(values={"has_risks": "yes"})) is True
    assert is_critical(risks, SectionAnswers(values={"has_risks": "no"})) is False
    assert is_critical(section_of(checklist, "visits"), SectionAnswers(values={"seen_alone": "no"})) is False


def test_submission_lists_every_problem_in_checklist_order(checklist: Checklist) -> None:
    answers = {
        "about": SectionAnswers(values={"child_name": "Mia Test", "born": "2015-03-14", "reference": "T-1"}),
        "visits": SectionAnswers(values={"last_visit": "2025-06-01", "seen_alone": "yes", "concerns": ["school"]}),
        "risks": risks_answers([{"what": ""}]),
    }
    assert submission_problems(checklist, answers, TODAY, MIA) == [
        Problem("about", "About the child", "siblings",
                "Brothers and sisters must include Liam Test (T-2), in the same sibling group on the case record"),
        Problem("risks", "Open risks", "risks-0-what", "Risk 1: Enter what the risk is"),
        Problem("contacts", "Contacts", "", "Complete the section ‘Contacts’"),
        Problem("plan", "The plan", "", "Complete the section ‘The plan’"),
    ]  # fmt: skip
    complete = answers | {
        "about": SectionAnswers(
            values={"child_name": "Mia Test", "born": "2015-03-14", "reference": "T-1", "siblings": "Liam (T-2)"}
        ),
        "risks": SectionAnswers(values={"has_risks": "no"}),
        "contacts": SectionAnswers(groups={"people": [{"name": "Ann", "roles": ["police"]}] * 2}),
        "plan": SectionAnswers(values={"plan": "Visit weekly"}),
    }
    assert submission_problems(checklist, complete, TODAY, MIA) == []
    assert submission_problems(checklist, complete, TODAY) == []
