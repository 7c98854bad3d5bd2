"""Whole numbers as people and clients type them, and the page of a long list they ask for: the edges of each."""

from __future__ import annotations

import pytest

from service.core.numbers import whole_number
from service.core.pages import Page, page_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("7", 7),
        ("007", 7),
        ("2147483647", 2147483647),  # the largest id
        ("2147483648", None),  # one more
        ("9999999999", None),  # as many digits as the largest, and larger
        ("02147483647", None),  # more digits than the largest has, whatever their value
        ("", None),
        (" 7", None),
        ("7 ", None),
        ("-7", None),
        ("+7", None),
        ("7.0", None),
        ("1e3", None),
        ("²", None),  # a superscript: str.isdigit says yes
        ("٣", None),  # an Arabic-Indic three
        ("３", None),  # a full-width three
        (7, None),  # not text
        (None, None),
        (b"7", None),
    ],
)
def test_a_whole_number_is_ascii_digits_up_to_the_largest_id(text: object, expected: int | None) -> None:
    assert whole_number(text) == expected


def test_a_whole_number_up_to_a_maximum_of_its_own() -> None:
    assert whole_number("20", 20) == 20
    assert whole_number("21", 20) is None
    assert whole_number("99", 20) is None
    assert whole_number("020", 20) is None, "three digits where the maximum has two"
    assert whole_number("0", 20) == 0


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("1", 1),
        ("2", 2),
        ("100000", 100000),  # the last page anyone may ask for
        ("100001", 1),
        ("0", 1),
        ("", 1),
        ("two", 1),
        ("-3", 1),
        (None, 1),
        (1, 1),
        (2, 2),
        (100000, 100000),
        (100001, 1),
        (0, 1),
        (-5, 1),
        (2.0, 1),
    ],
)
def test_the_page_asked_for_is_a_number_from_one_to_a_hundred_thousand(asked: object, expected: int) -> None:
    number = page_number(asked)
    assert number == expected
    assert type(number) is int


def test_true_is_not_page_one_by_accident() -> None:
    number = page_number(True)
    assert number == 1 and type(number) is int


@pytest.mark.parametrize(
    ("page", "offset", "count", "first", "has_previous", "has_next"),
    [
        (Page(1, 10, 0), 0, 1, 1, False, False),  # an empty list still has one page
        (Page(1, 10, 10), 0, 1, 1, False, False),  # exactly one page
        (Page(1, 10, 11), 0, 2, 1, False, True),  # one item over
        (Page(2, 10, 11), 10, 2, 11, True, False),
        (Page(2, 10, 30), 10, 3, 11, True, True),
        (Page(3, 10, 30), 20, 3, 21, True, False),
        (Page(4, 10, 30), 30, 3, 31, True, False),  # one past the end: a way back
        (Page(5, 10, 30), 40, 3, 41, False, False),  # far past the end: nothing to go back to
        (Page(3, 25, 51), 50, 3, 51, True, False),
    ],
)
def test_a_page_knows_its_place_in_the_list(
    page: Page, offset: int, count: int, first: int, has_previous: bool, has_next: bool
) -> None:
    assert (page.offset, page.count, page.first, page.has_previous, page.has_next) == (
        offset,
        count,
        first,
        has_previous,
        has_next,
    )
