"""Dates typed into three boxes (day, month, year): which months are understood, what is kept, what is shown again,
and the exact sentence a person reads for each kind of mistake, with the boxes it marks, at every limit and one past.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.dates import boxes_in_error, date_parts, date_problem, join_date, month_number, parse_date
from service.core.validation import iso_date

ALL_BOXES = ("day", "month", "year")
TODAY = date(2025, 6, 18)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1", 1), ("01", 1), ("001", 1), ("0012", 12), ("12", 12), ("9", 9),
        ("January", 1), ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("may", 5), ("jun", 6), ("jul", 7),
        ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12), ("DECEMBER", 12), ("Sept.", 9),
        (" nov ", 11), ("Nov.", 11), ("july", 7), ("june", 6),
    ],
)  # fmt: skip
def test_a_month_is_understood_as_a_number_or_three_or_more_letters_of_its_name(typed: str, number: int) -> None:
    assert month_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    ["0", "00", "13", "99", "00012", "12345", "", " ", "ju", "ma", "no", "n.", "xyz", "novembers", "NovX", "DecX",
     ".Nov", "٣", "²", "-1", "1.5"],
)  # fmt: skip
def test_anything_else_is_not_a_month(typed: str) -> None:
    assert month_number(typed) is None


@pytest.mark.parametrize(
    ("day", "month", "year", "kept"),
    [
        ("14", "3", "2015", "2015-03-14"),
        (" 14 ", " March ", " 2015 ", "2015-03-14"),
        ("01", "01", "2025", "2025-01-01"),
        ("31", "12", "2025", "2025-12-31"),
        ("29", "2", "2024", "2024-02-29"),
        ("29", "Feb", "2000", "2000-02-29"),
        ("1", "11", "0099", "0099-11-01"),
        ("1/", "1/1", "/2025", "2025-11-01"),
        (" 3/ ", "No/v", "20/25", "2025-11-03"),
    ],
)  # fmt: skip
def test_boxes_that_make_a_real_date_are_kept_as_iso(day: str, month: str, year: str, kept: str) -> None:
    assert join_date(day, month, year) == kept


@pytest.mark.parametrize(
    ("day", "month", "year", "kept"),
    [
        ("31", "2", "2025", "31/2/2025"),
        ("29", "2", "2023", "29/2/2023"),
        ("29", "2", "1900", "29/2/1900"),
        ("31", "4", "2025", "31/4/2025"),
        ("0", "1", "2025", "0/1/2025"),
        ("1", "13", "2025", "1/13/2025"),
        ("1", "1", "0000", "1/1/0000"),
        ("1", "Nov", "25", "1/Nov/25"),
        ("1", "1", "20250", "1/1/20250"),
        ("x", "1", "2025", "x/1/2025"),
        ("1", "x", "2025", "1/x/2025"),
        ("1", "1", "x", "1/1/x"),
        ("", "11", "2025", "/11/2025"),
        ("", "", "2025", "//2025"),
        ("3", "", "", "3//"),
        ("x/", "No/v", "20/25", "x/Nov/2025"),
    ],
)  # fmt: skip
def test_boxes_that_do_not_make_a_real_date_are_kept_as_typed(day: str, month: str, year: str, kept: str) -> None:
    assert join_date(day, month, year) == kept


def test_boxes_all_left_empty_are_kept_as_nothing() -> None:
    assert join_date("", "", "") == ""
    assert join_date("  ", " ", "/") == ""


@pytest.mark.parametrize(
    ("stored", "parsed"),
    [("2015-03-14", date(2015, 3, 14)), ("2024-02-29", date(2024, 2, 29)), ("0099-11-01", date(99, 11, 1))],
)
def test_a_stored_iso_date_is_read_back(stored: str, parsed: date) -> None:
    assert parse_date(stored) == parsed


@pytest.mark.parametrize("stored", [None, 20150314, "", "20150314", "2015-3-14", "2015-03-14 ", "2023-02-29",
                                    "31/2/2025", "2015-03-1x"])  # fmt: skip
def test_anything_but_a_real_iso_date_is_read_as_no_date(stored: object) -> None:
    assert parse_date(stored) is None


@pytest.mark.parametrize(
    ("stored", "boxes"),
    [
        ("2015-03-04", ("4", "3", "2015")),
        ("0099-11-01", ("1", "11", "0099")),
        ("31/2/2025", ("31", "2", "2025")),
        ("1/Nov/25", ("1", "Nov", "25")),
        ("/11/2025", ("", "11", "2025")),
        ("3//", ("3", "", "")),
        ("a/b", ("a", "b", "")),
        ("a", ("a", "", "")),
        ("", ("", "", "")),
        (None, ("", "", "")),
        (20250101, ("", "", "")),
    ],
)
def test_the_boxes_shown_again_are_the_real_dates_numbers_or_what_was_typed(
    stored: object, boxes: tuple[str, str, str]
) -> None:
    assert date_parts(stored) == boxes


@pytest.mark.parametrize(
    ("typed", "message", "boxes"),
    [
        ("/11/2025", "Date of the visit must include a day", ("day",)),
        ("3//2025", "Date of the visit must include a month", ("month",)),
        ("3/11/", "Date of the visit must include a year", ("year",)),
        ("//2025", "Date of the visit must include a day and month", ("day", "month")),
        ("/11/", "Date of the visit must include a day and year", ("day", "year")),
        ("3//", "Date of the visit must include a month and year", ("month", "year")),
        ("//", "Date of the visit must include a day and month and year", ALL_BOXES),
        ("3/11/25", "Date of the visit must include a year with 4 numbers, for example 2025", ("year",)),
        ("3/Nov/025", "Date of the visit must include a year with 4 numbers, for example 2025", ("year",)),
        ("32/11/2025", "Date of the visit must be a real date", ("day",)),
        ("0/11/2025", "Date of the visit must be a real date", ("day",)),
        ("00/11/2025", "Date of the visit must be a real date", ("day",)),
        ("12345/11/2025", "Date of the visit must be a real date", ("day",)),
        ("x/11/2025", "Date of the visit must be a real date", ("day",)),
        ("3/13/2025", "Date of the visit must be a real date", ("month",)),
        ("1/13/2025", "Date of the visit must be a real date", ("month",)),
        ("31/13/2025", "Date of the visit must be a real date", ("month",)),
        ("1/11/25", "Date of the visit must include a year with 4 numbers, for example 2025", ("year",)),
        ("31/11/25", "Date of the visit must include a year with 4 numbers, for example 2025", ("year",)),
        ("3/Smarch/2025", "Date of the visit must be a real date", ("month",)),
        ("3/11/20x5", "Date of the visit must be a real date", ("year",)),
        ("3/11/20250", "Date of the visit must be a real date", ("year",)),
        ("0/13/2025", "Date of the visit must be a real date", ("day", "month")),
        ("32/11/x", "Date of the visit must be a real date", ("day", "year")),
        ("x/x/x", "Date of the visit must be a real date", ALL_BOXES),
        ("0/11/25", "Date of the visit must be a real date", ("day",)),
        ("31/2/2025", "Date of the visit must be a real date", ALL_BOXES),
        ("29/2/2023", "Date of the visit must be a real date", ALL_BOXES),
        ("31/11/2025", "Date of the visit must be a real date", ALL_BOXES),
        ("1899-12-31", "Date of the visit must be after 1900", ("year",)),
        ("0099-11-01", "Date of the visit must be after 1900", ("year",)),
        ("2025-02-29", "Date of the visit must be a real date written YYYY-MM-DD, for example 2025-03-27", ALL_BOXES),
        ("tomorrow", "Date of the visit must be a real date written YYYY-MM-DD, for example 2025-03-27", ALL_BOXES),
        ("20250301", "Date of the visit must be a real date written YYYY-MM-DD, for example 2025-03-27", ALL_BOXES),
    ],
)
def test_each_mistake_in_a_typed_date_has_its_own_sentence_and_marks_only_its_boxes(
    typed: str, message: str, boxes: tuple[str, ...]
) -> None:
    assert date_problem("Date of the visit", typed, TODAY) == (message, boxes)
    assert boxes_in_error(typed) == boxes


@pytest.mark.parametrize("typed", ["1900-01-01", "31/1/2025", "2024-02-29", "2025-12-31", "1999-01-31"])
def test_a_real_date_from_1900_is_acceptable_with_no_other_rule(typed: str) -> None:
    stored = join_date(*typed.split("/")) if "/" in typed else typed
    assert date_problem("Date of the visit", stored, TODAY) is None


def test_a_date_that_must_not_be_in_the_future_may_be_today_but_not_tomorrow() -> None:
    assert date_problem("Date of the visit", "2025-06-18", TODAY, not_in_future=True) is None
    assert date_problem("Date of the visit", "2025-06-17", TODAY, not_in_future=True) is None
    assert date_problem("Date of the visit", "2025-06-19", TODAY, not_in_future=True) == (
        "Date of the visit must be today or in the past",
        ALL_BOXES,
    )
    assert date_problem("Date of the visit", "2025-06-19", TODAY) is None


def test_a_date_that_must_not_be_before_another_may_be_that_date_but_not_the_day_before() -> None:
    birth = (date(2015, 3, 4), "the child's date of birth")
    assert date_problem("Date of the visit", "2015-03-04", TODAY, not_before=birth) is None
    assert date_problem("Date of the visit", "2015-03-05", TODAY, not_before=birth) is None
    assert date_problem("Date of the visit", "2015-03-03", TODAY, not_before=birth) == (
        "Date of the visit must be on or after the child's date of birth, 4 March 2015",
        ALL_BOXES,
    )


def test_a_date_before_1900_is_told_about_its_year_before_any_other_rule() -> None:
    birth = (date(2015, 3, 4), "the child's date of birth")
    assert date_problem("Date of birth", "1899-12-31", TODAY, not_in_future=True, not_before=birth) == (
        "Date of birth must be after 1900",
        ("year",),
    )


def test_a_date_in_the_future_is_told_so_before_being_compared_with_the_earliest() -> None:
    earliest = (date(2030, 1, 1), "the start of the plan")
    assert date_problem("Review date", "2026-01-01", TODAY, not_in_future=True, not_before=earliest) == (
        "Review date must be today or in the past",
        ALL_BOXES,
    )
    assert date_problem("Review date", "2025-01-01", TODAY, not_in_future=True, not_before=earliest) == (
        "Review date must be on or after the start of the plan, 1 January 2030",
        ALL_BOXES,
    )


def test_all_three_boxes_are_marked_for_an_empty_date_or_a_real_date_that_breaks_a_rule() -> None:
    assert boxes_in_error("") == ALL_BOXES
    assert boxes_in_error("9999-12-31") == ALL_BOXES
    assert boxes_in_error("2025-06-18") == ALL_BOXES


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)))
def test_any_real_date_typed_into_the_boxes_is_kept_as_iso_and_shown_again_as_typed(day: date) -> None:
    typed = (str(day.day), str(day.month), str(day.year))
    stored = join_date(*typed)
    assert stored == day.isoformat()
    assert parse_date(stored) == day
    assert date_parts(stored) == typed
    assert date_problem("Date", stored, date.max, not_in_future=True) is None


@given(st.dates(min_value=date(1900, 1, 2), max_value=date(9999, 12, 30)))
def test_a_real_date_is_in_the_past_by_one_day_or_in_the_future_by_one_day(day: date) -> None:
    stored = day.isoformat()
    assert date_problem("Date", stored, day + timedelta(days=1), not_in_future=True) is None
    assert date_problem("Date", stored, day - timedelta(days=1), not_in_future=True) == (
        "Date must be today or in the past",
        ALL_BOXES,
    )


# Forms that `date.fromisoformat` takes but nobody means: each is refused wherever a date arrives as text (a date answer
# or an escalation date sent by the API), never stored as typed.
NOT_YYYY_MM_DD = ["2015-W11-6", "2015W116", "20150314", "2015-073", "2015-03-14T00:00", "2015-3-14", "١٢٣٤-03-14"]


@pytest.mark.parametrize("text", NOT_YYYY_MM_DD)
def test_only_yyyy_mm_dd_is_a_date_sent_as_text(text: str) -> None:
    assert parse_date(text) is None
    assert iso_date(text) is None
    assert date_problem("Date of the last visit", text, TODAY) == (
        "Date of the last visit must be a real date written YYYY-MM-DD, for example 2025-03-27",
        ("day", "month", "year"),
    )
