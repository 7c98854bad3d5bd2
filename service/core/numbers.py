"""Whole numbers as people and clients type them: one strict reading for ids, versions, row counts and pages."""

from __future__ import annotations

ID_MAX = 2**31 - 1  # ids, versions and counts never come near this; SQLite's own limit is 2**63 - 1


def whole_number(text: object, maximum: int = ID_MAX) -> int | None:
    """`text` as a whole number from 0 to `maximum`, or None.

    Only ASCII digits count: `str.isdigit` also accepts superscripts and other scripts' digits, which `int()` then
    refuses or reads differently; and a length limit comes before `int()`, which refuses very long numbers.
    """
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None
