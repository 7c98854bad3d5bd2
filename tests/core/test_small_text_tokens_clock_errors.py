"""The small rules every adapter leans on: which characters text may hold, how a token is stored, the date in England
whatever the machine's time zone, and the errors the rules raise with their messages."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.core.clock import date_in_england, today
from service.core.errors import Invalid, Refused
from service.core.text import HIDDEN_CHARACTER_MESSAGE, NOT_ONE_LINE_MESSAGE, breaks_one_line, has_hidden_characters
from service.core.tokens import token_hash

# --- characters -------------------------------------------------------------------------------------------------------

HIDDEN = {
    "\x00": "NUL, the first C0 control",
    "\x07": "a bell",
    "\x08": "backspace, just before tab",
    "\x0b": "vertical tab, just after line feed",
    "\x0c": "form feed, just before carriage return",
    "\x0e": "shift out, just after carriage return",
    "\x1b": "escape, which starts terminal sequences",
    "\x1f": "the unit separator, the last C0 control",
    "\x7f": "delete",
    "\x85": "next line, a C1 control",
    "\x9f": "the last C1 control",
    "\u2028": "the line separator",
    "\u2029": "the paragraph separator",
    "\u202a": "left-to-right embedding, the first bidirectional embedding control",
    "\u202e": "right-to-left override, the last",
    "\u2066": "left-to-right isolate, the first isolate control",
    "\u2069": "pop directional isolate, the last",
}
ALLOWED = {
    "\t": "tab",
    "\n": "line feed",
    "\r": "carriage return",
    " ": "space, just after the C0 controls",
    "~": "tilde, just before delete",
    "\xa0": "no-break space, just after the C1 controls",
    "\u200e": "left-to-right mark, which names in Arabic or Hebrew script use",
    "\u200f": "right-to-left mark",
    "\u2027": "hyphenation point, just before the line separator",
    "\u202f": "narrow no-break space, just after the embedding controls",
    "\u2065": "just before the isolate controls",
    "\u206a": "just after them",
    "é": "a letter",
}


@pytest.mark.parametrize("character", list(HIDDEN), ids=list(HIDDEN.values()))
def test_hidden_control_characters_are_refused_anywhere_in_text(character: str) -> None:
    assert has_hidden_characters(character)
    assert has_hidden_characters(f"Jo{character}Bennett")


@pytest.mark.parametrize("character", list(ALLOWED), ids=list(ALLOWED.values()))
def test_ordinary_characters_and_line_breaks_are_allowed_in_text(character: str) -> None:
    assert not has_hidden_characters(f"Jo{character}Bennett")


@pytest.mark.parametrize(
    "character",
    ["\t", "\n", "\r", "\u00ad", "\u200b", "\u2060", "\ufeff"],
    ids=["tab", "line feed", "carriage return", "soft hyphen", "zero-width space", "word joiner", "byte-order mark"],
)
def test_one_line_text_refuses_line_breaks_tabs_and_invisible_characters(character: str) -> None:
    assert breaks_one_line(f"Jo{character}Bennett")
    assert breaks_one_line(character)


@pytest.mark.parametrize("text", ["Jo Bennett", "Jo\xa0Bennett", "Siân O’Neill-Ó Briain", "\u200fعلي", ""])
def test_one_line_text_may_hold_any_visible_name(text: str) -> None:
    assert not breaks_one_line(text)


def test_the_messages_tell_the_person_what_to_do() -> None:
    assert HIDDEN_CHARACTER_MESSAGE == "contains a hidden control character: type it again rather than pasting it"
    assert NOT_ONE_LINE_MESSAGE == "must be on one line, without tabs or invisible characters"


# --- tokens -----------------------------------------------------------------------------------------------------------


def test_a_token_is_stored_as_its_sha256_in_hex() -> None:
    assert token_hash("hv_3f9a") == "4b652b7a77dcf3fa5cece45a7e4423f12aa7c02cdf47bd4580987263792fe145"
    assert token_hash("clé-ü") == "fd42634613344938d8850b91fc53db13900a1f32eb3f41f0b2d41158ee25ef9f"  # as UTF-8
    assert token_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- the date in England ----------------------------------------------------------------------------------------------


@contextmanager
def machine_time_zone(name: str) -> Iterator[None]:
    """Run as if the machine's own clock were set to another time zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-06-30T22:59:59+00:00", date(2026, 6, 30)),  # 23:59:59 in summer time
        ("2026-06-30T23:00:00+00:00", date(2026, 7, 1)),  # midnight in summer time
        ("2026-06-30T23:30:00", date(2026, 7, 1)),  # no offset: taken as UTC
        ("2026-06-30T19:30:00-05:00", date(2026, 7, 1)),  # 00:30 UTC
        ("2026-07-01T01:30:00+02:00", date(2026, 7, 1)),  # 23:30 UTC, 00:30 in England
        ("2026-01-15T23:30:00+00:00", date(2026, 1, 15)),  # winter: England is on UTC
        ("2026-01-15T23:30:00", date(2026, 1, 15)),
    ],
)
def test_the_date_in_england_of_a_stored_timestamp(stamp: str, expected: date) -> None:
    for zone in ("UTC", "Asia/Tokyo", "America/New_York"):
        with machine_time_zone(zone):
            assert date_in_england(stamp) == expected, zone


def test_today_is_the_date_in_england_whatever_the_machines_clock_says() -> None:
    # far enough east and west that one of them is on another date from England at any time of day
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        with machine_time_zone(zone):
            assert today() == datetime.now(ZoneInfo("Europe/London")).date(), zone


# --- errors -----------------------------------------------------------------------------------------------------------


def test_invalid_input_keeps_each_fields_message_and_says_them_all() -> None:
    error = Invalid({"name": "Enter the child's name", "date_of_birth-day": "Enter a real date of birth"})
    assert error.errors == {"name": "Enter the child's name", "date_of_birth-day": "Enter a real date of birth"}
    assert str(error) == "Enter the child's name; Enter a real date of birth"


def test_a_refusal_keeps_every_reason_and_says_them_all() -> None:
    refused = Refused(["Enter a reason", "Confirm ‘Open risks’"])
    assert refused.reasons == ["Enter a reason", "Confirm ‘Open risks’"]
    assert str(refused) == "Enter a reason; Confirm ‘Open risks’"
    assert str(Refused(["Only the receiving worker can do this"])) == "Only the receiving worker can do this"
