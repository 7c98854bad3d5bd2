"""Long lists a page at a time: the auditors' report, the managers' queue and the API's list share one rule."""

from __future__ import annotations

import msgspec

from service.core.numbers import whole_number

PAGE_NUMBER_MAX = 100_000


def page_number(text: object) -> int:
    """The page asked for in a query string: ASCII digits from 1 to `PAGE_NUMBER_MAX`; anything else is page 1."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 1 <= text <= PAGE_NUMBER_MAX else 1
    number = whole_number(text, PAGE_NUMBER_MAX)
    return number if number else 1


class Page(msgspec.Struct, frozen=True):
    """Page `number` (from 1) of `total` items, `size` to a page."""

    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """How many items come before this page (SQL's OFFSET)."""
        return (self.number - 1) * self.size

    @property
    def count(self) -> int:
        """How many pages there are (at least one, even when the list is empty)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position (from 1) of this page's first item."""
        return self.offset + 1

    @property
    def has_previous(self) -> bool:
        return 1 < self.number <= self.count + 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count
