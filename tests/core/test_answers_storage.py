"""What a draft may keep (core.answers): answers over the stored limit or with hidden characters refused with a
sentence naming the question and row, rows past a group's limit left out, answers to questions the section does not
have or of the wrong shape named, and answers to hidden questions dropped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.checklist import Checklist, Section, load_file
from service.core.answers import (
    ChildRecord,
    SectionAnswers,
    case_record_values,
    keeping_what_fits,
    storage_errors,
    unknown_errors,
    without_hidden,
)

DEFINITION = """
id = "storage-under-test"
version = 1
title = "Storage under test"

[[sections]]
id = "summary"
title = "Case summary"

[[sections.fields]]
id = "child_name"
type = "text"
label = "Child's name"
from_case_record = "child_name"

[[sections.fields]]
id = "born"
type = "date"
label = "Date of birth"
from_case_record = "date_of_birth"

[[sections.fields]]
id = "reference"
type = "text"
label = "Reference"
from_case_record = "reference"

[[sections.fields]]
id = "siblings"
type = "textarea"
label = "Siblings"
from_case_record = "siblings"
required = false

[[sections.fields]]
id = "notes"
type = "textarea"
label = "Notes"
required = false

[[sections.fields]]
id = "concerns"
type = "checkboxes"
label = "Concerns"
options = [{ value = "school", label = "School" }, { value = "health", label = "Health" }]

[[sections.fields]]
id = "has_risks"
type = "radios"
label = "Any open risks"
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]

[[sections.fields]]
id = "no_risks_reason"
type = "textarea"
label = "Why there are no open risks"
when = { field = "has_risks", any_of = ["no"] }

[[sections.groups]]
id = "risks"
title = "Open risks"
row_label = "Risk"
when = { field = "has_risks", any_of = ["yes"] }
max_rows = 2

[[sections.groups.fields]]
id = "what"
type = "text"
label = "What the risk is"

[[sections.groups.fields]]
id = "escalated"
type = "radios"
label = "Escalated"
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]

[[sections.groups.fields]]
id = "escalated_to"
type = "text"
label = "Escalated to"
when = { field = "escalated", any_of = ["yes"] }

[[sections.groups.fields]]
id = "roles"
type = "checkboxes"
label = "Roles"
required = false
options = [{ value = "police", label = "Police" }]

[[sections.groups]]
id = "contacts"
title = "Contacts"
row_label = "Contact"
max_rows = 90
fields = [{ id = "name", type = "text", label = "Name" }]
"""

LIMIT = 100_000
HIDDEN = "contains a hidden control character: type it again rather than pasting it"


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Section:
    path: Path = tmp_path_factory.mktemp("checklists") / "storage.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    checklist: Checklist = load_file(path)
    found = checklist.section("summary")
    assert found is not None
    return found


# storage_errors: what cannot be kept even in a draft.


def test_an_answer_of_exactly_100000_characters_is_kept_and_one_more_is_not(summary: Section) -> None:
    assert storage_errors(summary, SectionAnswers(values={"notes": "a" * LIMIT})) == {}
    assert storage_errors(summary, SectionAnswers(values={"notes": "a" * (LIMIT + 1)})) == {
        "notes": "Notes was not saved: it must be 100,000 characters or fewer"
    }


def test_the_limit_counts_every_option_of_a_list_together(summary: Section) -> None:
    half = "a" * (LIMIT // 2)
    assert storage_errors(summary, SectionAnswers(values={"concerns": [half, half]})) == {}
    assert storage_errors(summary, SectionAnswers(values={"concerns": [half, half + "a"]})) == {
        "concerns": "Concerns was not saved: it must be 100,000 characters or fewer"
    }


def test_an_answer_with_a_hidden_character_is_not_kept(summary: Section) -> None:
    assert storage_errors(summary, SectionAnswers(values={"notes": "Seen\x1b[2J"})) == {
        "notes": f"Notes was not saved: it {HIDDEN}"
    }
    assert storage_errors(summary, SectionAnswers(values={"concerns": ["school", "\x85"]})) == {
        "concerns": f"Concerns was not saved: it {HIDDEN}"
    }


def test_an_answer_both_too_long_and_hidden_is_named_for_its_length(summary: Section) -> None:
    assert storage_errors(summary, SectionAnswers(values={"notes": "\x07" * (LIMIT + 1)})) == {
        "notes": "Notes was not saved: it must be 100,000 characters or fewer"
    }


def test_an_answer_to_an_unknown_question_is_named_as_this_answer(summary: Section) -> None:
    assert storage_errors(summary, SectionAnswers(values={"extra": "\x00"})) == {
        "extra": f"This answer was not saved: it {HIDDEN}"
    }


def test_a_row_answer_that_cannot_be_kept_names_its_row_and_question(summary: Section) -> None:
    rows: list[dict[str, str | list[str]]] = [{"what": "Father"}, {"what": "\x07", "extra": "b" * (LIMIT + 1)}]
    assert storage_errors(summary, SectionAnswers(groups={"risks": rows})) == {
        "risks-1-what": f"Risk 2: What the risk is was not saved: it {HIDDEN}",
        "risks-1-extra": "Risk 2: this answer was not saved: it must be 100,000 characters or fewer",
    }


def test_a_group_may_keep_exactly_its_maximum_rows_and_never_more_than_50(summary: Section) -> None:
    assert storage_errors(summary, SectionAnswers(groups={"risks": [{"what": "x"}] * 2})) == {}
    assert storage_errors(summary, SectionAnswers(groups={"risks": [{"what": "x"}] * 3})) == {
        "risks": "Open risks can have at most 2 rows"
    }
    assert storage_errors(summary, SectionAnswers(groups={"contacts": [{"name": "x"}] * 50})) == {}
    assert storage_errors(summary, SectionAnswers(groups={"contacts": [{"name": "x"}] * 51})) == {
        "contacts": "Contacts can have at most 50 rows"
    }


# keeping_what_fits: everything typed is kept except what could not be.


def test_an_answer_that_cannot_be_kept_goes_back_to_what_was_stored(summary: Section) -> None:
    typed = SectionAnswers(values={"notes": "\x07new", "concerns": ["school"], "child_name": "\x00"})
    stored = SectionAnswers(values={"notes": "old notes", "concerns": ["health"]})
    unkeepable = storage_errors(summary, typed)
    assert keeping_what_fits(summary, typed, unkeepable, stored) == SectionAnswers(
        values={"notes": "old notes", "concerns": ["school"]}, groups={}
    )


def test_a_row_answer_that_cannot_be_kept_goes_back_to_that_rows_stored_answer(summary: Section) -> None:
    typed = SectionAnswers(
        groups={"risks": [{"what": "\x07", "escalated": "no"}, {"what": "Uncle", "escalated": "\x00"}]}
    )
    stored = SectionAnswers(groups={"risks": [{"what": "Father", "escalated": "yes"}]})
    unkeepable = storage_errors(summary, typed)
    assert keeping_what_fits(summary, typed, unkeepable, stored) == SectionAnswers(
        values={}, groups={"risks": [{"what": "Father", "escalated": "no"}, {"what": "Uncle"}]}
    )


def test_rows_past_a_groups_limit_are_left_out(summary: Section) -> None:
    typed = SectionAnswers(groups={"risks": [{"what": "a"}, {"what": "b"}, {"what": "c"}]})
    kept = keeping_what_fits(summary, typed, storage_errors(summary, typed), SectionAnswers())
    assert kept == SectionAnswers(values={}, groups={"risks": [{"what": "a"}, {"what": "b"}]})
    contacts = SectionAnswers(groups={"contacts": [{"name": str(n)} for n in range(51)]})
    kept = keeping_what_fits(summary, contacts, {}, SectionAnswers())
    assert kept.groups["contacts"] == [{"name": str(n)} for n in range(50)]


def test_rows_of_a_group_the_section_does_not_have_are_all_passed_on(summary: Section) -> None:
    typed = SectionAnswers(groups={"other": [{"x": "1"}, {"x": "2"}, {"x": "3"}]})
    assert keeping_what_fits(summary, typed, {"other-1-x": "refused"}, SectionAnswers()) == SectionAnswers(
        values={}, groups={"other": [{"x": "1"}, {}, {"x": "3"}]}
    )


# unknown_errors: answers that do not fit the section's definition.


def test_answers_to_questions_the_section_does_not_have_are_named(summary: Section) -> None:
    answers = SectionAnswers(
        values={"notes": "fine", "colour": "red"},
        groups={"pets": [{"x": "1"}], "hobbies": [], "risks": [{"what": "x", "weapon": "knife"}, {"how": ["a"]}]},
    )
    assert unknown_errors(summary, answers) == {
        "colour": "‘Case summary’ has no question ‘colour’",
        "pets": "‘Case summary’ has no list ‘pets’",
        "hobbies": "‘Case summary’ has no list ‘hobbies’",
        "risks-0-weapon": "Open risks has no question ‘weapon’",
        "risks-1-how": "Open risks has no question ‘how’",
    }


def test_answers_of_the_wrong_shape_are_named_with_the_shape_wanted(summary: Section) -> None:
    answers = SectionAnswers(
        values={"notes": ["a"], "concerns": "school", "has_risks": "yes"},
        groups={"risks": [{"what": "x", "roles": ["police"]}, {"what": ["x"], "roles": "police"}]},
    )
    assert unknown_errors(summary, answers) == {
        "notes": "Notes: send one answer as text, not a list",
        "concerns": "Concerns: send a list of the options chosen",
        "risks-1-what": "What the risk is: send one answer as text, not a list",
        "risks-1-roles": "Roles: send a list of the options chosen",
    }


def test_answers_that_fit_the_definition_have_no_unknown_errors(summary: Section) -> None:
    answers = SectionAnswers(values={"concerns": [], "notes": ""}, groups={"risks": [{"roles": []}], "contacts": []})
    assert unknown_errors(summary, answers) == {}


# without_hidden: what is stored is what a reader is shown.


def test_answers_to_questions_hidden_by_a_later_answer_are_dropped(summary: Section) -> None:
    answers = SectionAnswers(
        values={"notes": "n", "has_risks": "yes", "no_risks_reason": "Nothing known"},
        groups={"risks": [{"what": "Father", "escalated": "no", "escalated_to": "Police"}], "contacts": []},
    )
    assert without_hidden(summary, answers) == SectionAnswers(
        values={"notes": "n", "has_risks": "yes"},
        groups={"risks": [{"what": "Father", "escalated": "no"}], "contacts": []},
    )


def test_rows_of_a_hidden_group_are_dropped_and_nothing_is_added(summary: Section) -> None:
    answers = SectionAnswers(
        values={"has_risks": "no", "no_risks_reason": "Nothing known"},
        groups={"risks": [{"what": "Father"}], "contacts": [{"name": "Ann"}]},
    )
    assert without_hidden(summary, answers) == SectionAnswers(
        values={"has_risks": "no", "no_risks_reason": "Nothing known"}, groups={"contacts": [{"name": "Ann"}]}
    )
    shown = SectionAnswers(values={"has_risks": "yes"}, groups={"risks": [{"escalated": "yes", "escalated_to": "Pc"}]})
    assert without_hidden(summary, shown) == shown


# The case record that a case summary restates.


def test_a_case_summary_starts_with_what_the_case_record_says(summary: Section) -> None:
    child = ChildRecord(
        name="Mia Test", date_of_birth="2015-03-14", reference="T-1", siblings=(("Liam Test", "T-2"), ("Ava", "T-3"))
    )
    assert case_record_values(summary, child) == {
        "child_name": "Mia Test",
        "born": "2015-03-14",
        "reference": "T-1",
        "siblings": "Liam Test (T-2)\nAva (T-3)",
    }


def test_a_child_record_reads_its_date_of_birth_and_lists_no_siblings_as_empty() -> None:
    child = ChildRecord(name="Mia", date_of_birth="2015-03-14", reference="T-1")
    assert child.born() == date(2015, 3, 14)
    assert child.siblings_text() == ""
    assert child.prefill("siblings") == ""
    assert ChildRecord(name="Mia", date_of_birth="14/3/2015", reference="T-1").born() is None
