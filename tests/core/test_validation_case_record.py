"""A case record (reference, child's name, date of birth) and a person's account, however they arrive: the exact
sentence for each mistake, at each limit and one past, and for real, impossible, future and too-early dates."""

from __future__ import annotations

from datetime import date

import pytest

from service.core import identity
from service.core.validation import (
    case_errors,
    group_name_key,
    iso_date,
    new_person_errors,
    reference_key,
    sibling_group_exists,
)

TODAY = date(2025, 6, 18)
HIDDEN = "contains a hidden control character: type it again rather than pasting it"
NOT_ONE_LINE = "must be on one line, without tabs or invisible characters"
REFERENCE_CHARACTERS = (
    "The local reference can contain only the letters A to Z, numbers, and spaces, hyphens (-), slashes (/), "
    "full stops and underscores between them"
)
NOT_A_DATE = "Enter the date of birth as a real date written YYYY-MM-DD, for example 2015-03-14"


def test_a_complete_case_record_is_acceptable() -> None:
    assert case_errors("CS-2015/0042", "Mia Test", "2015-03-14", TODAY) == {}


def test_a_case_record_left_empty_asks_for_each_field() -> None:
    assert case_errors("", " ", "", TODAY) == {
        "reference": "Enter the local reference",
        "child_name": "Enter the child's name",
        "date_of_birth": NOT_A_DATE,
    }


@pytest.mark.parametrize(
    "reference", ["A", "12345", "CS-2015/0042", "cs.2015_42", "AB--12", "AB - 12", "A/B/C", " AB-1 ", "AB 12\n"]
)
def test_a_reference_may_use_letters_numbers_and_separators_between_them(reference: str) -> None:
    assert case_errors(reference, "Mia Test", "2015-03-14", TODAY) == {}


@pytest.mark.parametrize(
    "reference", ["-AB12", "AB12-", "/12", "12_", "AB‐12", "ＡＢ12", "Zoë-1", "AB#12", "AB,12", "AB+12", "."]
)
def test_a_reference_with_other_characters_or_a_separator_at_an_end_is_refused(reference: str) -> None:
    assert case_errors(reference, "Mia Test", "2015-03-14", TODAY) == {"reference": REFERENCE_CHARACTERS}


def test_a_reference_may_be_exactly_50_characters_but_not_51() -> None:
    assert case_errors("A" * 50, "Mia Test", "2015-03-14", TODAY) == {}
    assert case_errors("A" * 51, "Mia Test", "2015-03-14", TODAY) == {
        "reference": "The local reference must be 50 characters or fewer"
    }


def test_a_reference_is_told_only_its_first_problem() -> None:
    assert case_errors("#" * 51, "Mia Test", "2015-03-14", TODAY) == {
        "reference": "The local reference must be 50 characters or fewer"
    }
    assert case_errors("AB\t12", "Mia Test", "2015-03-14", TODAY) == {
        "reference": f"The local reference {NOT_ONE_LINE}"
    }
    assert case_errors("AB\x0012", "Mia Test", "2015-03-14", TODAY) == {"reference": f"The local reference {HIDDEN}"}


def test_a_childs_name_is_one_line_of_at_most_200_characters() -> None:
    assert case_errors("T-1", "M" * 200, "2015-03-14", TODAY) == {}
    assert case_errors("T-1", "Zoë O’Brien-Nguyễn", "2015-03-14", TODAY) == {}
    assert case_errors("T-1", "M" * 201, "2015-03-14", TODAY) == {
        "child_name": "The child's name must be 200 characters or fewer"
    }
    assert case_errors("T-1", "Mia\nTest", "2015-03-14", TODAY) == {"child_name": f"The child's name {NOT_ONE_LINE}"}
    assert case_errors("T-1", "Mia\ufeffTest", "2015-03-14", TODAY) == {
        "child_name": f"The child's name {NOT_ONE_LINE}"
    }


@pytest.mark.parametrize(
    "typed", ["", "2015-02-29", "2015-02-30", "2015-13-01", "2015-00-10", "20150314", "2015-W11-6", "2015-3-14",
              "15-03-14", "14/03/2015", "２０１５-03-14", "2015-03-14T00:00", "2015-03-1４"],
)  # fmt: skip
def test_a_date_of_birth_must_be_a_real_date_written_yyyy_mm_dd(typed: str) -> None:
    assert case_errors("T-1", "Mia Test", typed, TODAY) == {"date_of_birth": NOT_A_DATE}


def test_a_date_of_birth_that_is_not_a_date_is_told_alongside_the_other_fields() -> None:
    assert case_errors("-", "", "soon", TODAY) == {
        "reference": REFERENCE_CHARACTERS,
        "child_name": "Enter the child's name",
        "date_of_birth": NOT_A_DATE,
    }


def test_a_date_of_birth_may_be_today_but_not_tomorrow() -> None:
    assert case_errors("T-1", "Mia Test", "2025-06-18", TODAY) == {}
    assert case_errors("T-1", "Mia Test", "2025-06-19", TODAY) == {
        "date_of_birth": "The date of birth must be today or in the past"
    }


def test_a_date_of_birth_may_be_1_january_1990_but_not_the_day_before() -> None:
    assert case_errors("T-1", "Mia Test", "1990-01-01", TODAY) == {}
    assert case_errors("T-1", "Mia Test", "1989-12-31", TODAY) == {
        "date_of_birth": "The date of birth must be on or after 1 January 1990"
    }


def test_a_leap_day_is_a_date_of_birth_only_in_a_leap_year() -> None:
    assert case_errors("T-1", "Mia Test", "2016-02-29", TODAY) == {}
    assert case_errors("T-1", "Mia Test", "2000-02-29", TODAY) == {}
    assert case_errors("T-1", "Mia Test", "2100-02-29", date(2200, 1, 1)) == {"date_of_birth": NOT_A_DATE}


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [("2015-03-14", date(2015, 3, 14)), (" 2015-03-14\n", date(2015, 3, 14)), ("2024-02-29", date(2024, 2, 29))],
)
def test_an_iso_date_is_read_with_spaces_around_it(typed: str, parsed: date) -> None:
    assert iso_date(typed) == parsed


@pytest.mark.parametrize("typed", ["", "20150314", "2015-W11-6", "2015-074", "2023-02-29", "2015-3-14", "x2015-03-14"])
def test_anything_but_yyyy_mm_dd_is_no_iso_date(typed: str) -> None:
    assert iso_date(typed) is None


def test_references_that_differ_only_in_case_or_surrounding_spaces_are_the_same_case() -> None:
    assert reference_key("  CS-2015/0042 ") == "cs-2015/0042"
    assert reference_key("cs-2015/0042") == reference_key("CS-2015/0042")
    assert reference_key("CS-2015 0042") != reference_key("CS-20150042")


def test_sibling_group_names_that_differ_only_in_case_or_spacing_are_the_same_group() -> None:
    assert group_name_key("  The   Smith\tFamily ") == "the smith family"
    assert group_name_key("the smith family") == group_name_key("THE SMITH FAMILY")


def test_a_sibling_group_that_exists_is_named_by_its_id_with_what_to_do() -> None:
    assert sibling_group_exists(7) == (
        "A sibling group of this name already exists (id 7): a new group would not link these children to it. "
        "Give the new group another name, or add the children to that group through the API's sibling_group_id"
    )


PASSWORD = "correct horse battery staple"


def test_a_new_persons_account_with_every_field_given_is_acceptable() -> None:
    assert new_person_errors("jo.bloggs", "Jo Bloggs", PASSWORD) == {}


def test_a_new_persons_account_left_empty_asks_for_each_field() -> None:
    assert new_person_errors("", " ", "") == {
        "username": "Enter a username",
        "name": "Enter the person's full name",
        "password": "The password must be at least 12 characters",
    }


def test_a_username_and_a_name_are_each_one_line_of_at_most_200_characters() -> None:
    assert new_person_errors("u" * 200, "N" * 200, PASSWORD) == {}
    assert new_person_errors("u" * 201, "N" * 201, PASSWORD) == {
        "username": "The username must be 200 characters or fewer",
        "name": "The name must be 200 characters or fewer",
    }
    assert new_person_errors("jo\tbloggs", "Jo\nBloggs", PASSWORD) == {
        "username": f"The username {NOT_ONE_LINE}",
        "name": f"The name {NOT_ONE_LINE}",
    }
    assert new_person_errors("jo\x1fbloggs", "Jo\u2066Bloggs", PASSWORD) == {
        "username": f"The username {HIDDEN}",
        "name": f"The name {HIDDEN}",
    }


def test_a_password_may_be_12_to_1000_characters() -> None:
    assert new_person_errors("jo", "Jo", "p" * 11) == {"password": "The password must be at least 12 characters"}
    assert new_person_errors("jo", "Jo", "tall ferns g") == {}
    assert new_person_errors("jo", "Jo", ("tall ferns grow quietly " * 42)[:1000]) == {}
    assert new_person_errors("jo", "Jo", "p" * 1001) == {"password": "The password must be 1,000 characters or fewer"}


def test_a_password_of_spaces_counts_its_spaces() -> None:
    assert new_person_errors("jo", "Jo", " " * 11) == {"password": "The password must be at least 12 characters"}
    # twelve spaces are long enough, and then refused as the easiest of guesses
    assert new_person_errors("jo", "Jo", " " * 12) == {"password": identity.PASSWORD_COMMON}
