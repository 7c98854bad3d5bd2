"""Dates typed into three boxes (day, month, year), read and checked as the GOV.UK Design System's date-input pattern
says (https://design-system.service.gov.uk/components/date-input/): a month may be typed as a number, a name or a
common abbreviation ("11", "November", "Nov", "sept"); a date with a box left empty is told which part it must
include; a year must have 4 numbers; the message links to the first box that is wrong, and only the wrong boxes are
marked.

A date is kept as ISO text (YYYY-MM-DD) when it is a real date, and otherwise as the three boxes exactly as typed,
joined as "day/month/year", so that a person who typed "31/2/2025" or "1/Nov/25" sees it again to correct it.
Dates are calendar dates in England; `today` is always passed in (`service.core.clock.today`).
"""

from __future__ import annotations

import re
from datetime import date

BOXES = ("day", "month", "year")
EARLIEST_YEAR = 1900  # no date this service records is older; an earlier year is a typing slip
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def _number(text: str) -> int | None:
    """ASCII digits only: `str.isdigit` would take "²" and "٣", which `int` then refuses or misreads."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def month_number(text: str) -> int | None:
    """A month typed as 1-12 (or 01-12), as its English name or as 3 or more of its first letters ("Nov", "sept",
    "Sept."), in any case; None for anything else."""
    number = _number(text)
    if number is not None:
        return number if 1 <= number <= 12 else None
    name = text.strip().rstrip(".").casefold()
    if len(name) < 3:
        return None
    return next((index for index, month in enumerate(_MONTHS, start=1) if month.startswith(name)), None)


def join_date(day: str, month: str, year: str) -> str:
    """The stored form of three typed boxes: ISO when they make a real date with a 4-number year, "" when all are
    empty, and otherwise "day/month/year" exactly as typed (spaces trimmed, slashes removed from each box)."""
    day, month, year = (part.strip().replace("/", "") for part in (day, month, year))
    if not (day or month or year):
        return ""
    day_number, month_value, year_number = _number(day), month_number(month), _number(year)
    if day_number is not None and month_value is not None and year_number is not None and len(year) == 4:
        try:
            return date(year_number, month_value, day_number).isoformat()
        except ValueError:
            pass
    return f"{day}/{month}/{year}"


# A date exactly as stored and as the API takes it: `date.fromisoformat` alone would also take 20150314 and week
# dates such as 2015-W11-6, which nobody means and which would be stored as typed.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: object) -> date | None:
    """The date a stored value holds (exactly YYYY-MM-DD), or None when it holds boxes that do not make one."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def date_parts(value: object) -> tuple[str, str, str]:
    """The three boxes to show again for a stored value: a real date's numbers (the year always with 4 numbers, so
    "0099" comes back as typed), or the boxes as they were typed."""
    parsed = parse_date(value)
    if parsed is not None:
        return (str(parsed.day), str(parsed.month), f"{parsed.year:04d}")
    parts = (value if isinstance(value, str) else "").split("/")[:3]
    parts += [""] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


def typed_date_words(value: str) -> str:
    """A stored date that is not a real date (`join_date` keeps such boxes as typed, so a draft loses nothing), as a
    reader is shown it on check your answers and in print: each box named with what was typed in it, or "missing"
    ("Not a complete date: day 3, month missing, year 2026"; all three typed but no such day: "Not a real date: ...").
    A value that is not three boxes (text sent by the API: "n/a", "3/12/2026") is shown as it is; "" stays "". A
    real date is for the caller to write in words (`parse_date` first)."""
    parts = tuple(part.strip() for part in value.split("/"))
    if len(parts) != 3 or not any(parts) or parse_date(join_date(*parts)) is not None:
        return value  # not three boxes as `join_date` keeps them (text sent by the API), or a date after all
    said = ", ".join(f"{box} {part}" if part else f"{box} missing" for box, part in zip(BOXES, parts, strict=True))
    return f"Not a {'real' if all(parts) else 'complete'} date: {said}"


def date_problem(
    label: str, value: str, today: date, *, not_in_future: bool = False, not_before: tuple[date, str] | None = None
) -> tuple[str, tuple[str, ...]] | None:
    """What is wrong with a date that was typed (`value` as `join_date` stores it, not empty), and which boxes to
    mark, in order (the message links to the first); None when it is acceptable.

    `not_in_future`: the date must be `today` or earlier. `not_before`: (earliest date, what that date is, for the
    message), for example the child's date of birth.
    """
    parsed = parse_date(value)
    if parsed is None and "/" not in value:  # not three boxes: a date sent as text, by the API
        return f"{label} must be a real date written YYYY-MM-DD, for example 2025-03-27", BOXES
    if parsed is None:
        day, month, year = date_parts(value)
        missing = tuple(box for box, part in zip(BOXES, (day, month, year), strict=True) if not part)
        if missing:
            return f"{label} must include a {' and '.join(missing)}", missing
        day_number = _number(day)
        day_fits = day_number is not None and 1 <= day_number <= 31
        fits = (day_fits, month_number(month) is not None, _number(year) is not None)
        wrong = tuple(box for box, ok in zip(BOXES, fits, strict=True) if not ok)
        if not wrong and len(year) != 4:
            return f"{label} must include a year with 4 numbers, for example 2025", ("year",)
        return f"{label} must be a real date", wrong or BOXES
    if parsed.year < EARLIEST_YEAR:
        return f"{label} must be after {EARLIEST_YEAR}", ("year",)
    if not_in_future and parsed > today:
        return f"{label} must be today or in the past", BOXES
    if not_before is not None and parsed < not_before[0]:
        earliest, what = not_before
        return f"{label} must be on or after {what}, {earliest.day} {earliest:%B %Y}", BOXES
    return None


def boxes_in_error(value: str) -> tuple[str, ...]:
    """The boxes to mark when the date `value` has an error: those `date_problem` names for what was typed, and all
    three when it was left empty or is a real date that breaks a rule (in the future, say)."""
    problem = date_problem("", value, date.max) if value else None
    return problem[1] if problem else BOXES
