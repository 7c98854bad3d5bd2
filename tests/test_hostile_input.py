"""Hostile and awkward input, by kind, everywhere input enters: every question of the checklist (each box, each row,
the row counts and the buttons, saved as a draft and with "Continue"), every other page's form fields, query
parameters and path segments (found in the app's route table), every API operation's body fields and parameters
(found in its OpenAPI document), every column of the CSV case import and every argument of the `handover` command.

The places are generated, not listed by hand, so a new question, route, operation, column or argument is walked
without anyone remembering to add it (and a route or command this suite does not know how to reach fails it).
For each (place, kind of hostile value) pair it proves: (a) no server error, and no traceback from the command line;
(b) a refusal is the documented one: a page's 400/404/409/422 shows its message, the API answers 4xx in its one
JSON error shape; (c) nothing is stored beyond what was accepted: no stored answer, case, person or handover text
holds a hidden character or is longer than its limit, a refused save leaves the section as it was, and a section
stored as completed is valid; (d) the audit chain still verifies.

`pairs()` generates every (place, kind) pair; `KNOWN_FAILURES` holds the pairs the service still gets wrong (each
test fails if a pair outside it fails, and also if a pair in it now passes, so the list shrinks as fixes land).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
import pytest

from service import actions, cli, db
from service.actions import accounts as account_actions
from service.actions.cases import IMPORT_COLUMNS
from service.actions.demo import CASE_M_LIKE
from service.app import create_app
from service.audit_trail import verify
from service.checklist import Field, Section
from service.core import accounts as account_rules
from service.core import directory, validation
from service.core import letters as letter_rules
from service.core import telling as telling_rules
from service.core.answers import (
    ANSWER_STORED_MAX,
    ROWS_PER_GROUP_MAX,
    SectionAnswers,
    unknown_errors,
    validate_section,
    without_hidden,
)
from service.core.clock import today
from service.core.numbers import ID_MAX
from service.core.pages import PAGE_NUMBER_MAX
from service.core.report import FILTER_NAMES, MIN_WORKING_DAYS_MAX, safe_cell
from service.core.text import has_hidden_characters
from service.core.tokens import token_hash
from service.core.workflow import ACTION_NAMES
from service.settings import Settings
from tests.conftest import Browser, Site, seed
from tests.group_support import V3
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete, form_for, handover_in, settings_for_tests
from tests.telling_support import v4_handover
from tests.test_letter_pages import letter_handover

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]

# ------------------------------------------------------------------------------------------------ the corpus

HUGE = "x" * 900_000  # under the 1 MB body limit on its own
JUST_OVER = "<just over this place's limit>"  # resolved for each place: one character or one more than allowed
BAD_UTF8 = "<bytes that are not UTF-8>"  # sent as raw bytes (%FF%FE in a form, \xff\xfe in JSON and CSV)
LONE_SURROGATE = "\ud800"  # as JSON's "\ud800" escape, and as Python holds undecodable command-line bytes
DEEP = "<JSON nested 5,000 levels>"

HOSTILE: dict[str, list[Any]] = {
    "non-ASCII digits": ["²", "٣", "１"],
    "huge numbers": ["9" * 5000, str(2**63), "-5", "0099"],
    "over-long text": [HUGE, JUST_OVER],
    "control characters": ["\x00", "a\x00b", "a\x1b[2Jb", "a\x85b"],
    "bidi controls": ["a\u202eb", "\u2066a\u2069"],
    "line separator": ["a\u2028b"],
    "bad UTF-8": [BAD_UTF8],
    "spreadsheet formulas": ["=1+2", " @SUM(1,2)", "＝1+1", "＋SUM(2 3)"],
    "empty or whitespace": ["", "   "],
}
JSON_ONLY: dict[str, list[Any]] = {
    "deep JSON": [DEEP],
    "wrong JSON types": [["a list"], {"an": "object"}, None],
}
BIG = 20_000  # values longer than this are posted one place at a time (several would pass the body limit)

# Which pairs the service still gets wrong: (place, kind). Emptied as the fixes land (see the module docstring).
KNOWN_FAILURES: set[tuple[str, str]] = set()


def kinds_for(area: str) -> dict[str, list[Any]]:
    return HOSTILE | JSON_ONLY if area == "api body" else HOSTILE


class Findings:
    """What one test covered and what went wrong, by (place, kind); judged against KNOWN_FAILURES at the end."""

    def __init__(self) -> None:
        self.covered: set[tuple[str, str]] = set()
        self.failures: dict[tuple[str, str], list[str]] = {}

    def cover(self, place: str, kind: str) -> None:
        self.covered.add((place, kind))

    def fail(self, place: str, kind: str, detail: str) -> None:
        self.failures.setdefault((place, kind), []).append(detail[:300])

    def verdict(self, expected: set[tuple[str, str]]) -> None:
        missing = sorted(expected - self.covered)
        assert not missing, f"generated but not walked: {missing[:20]}"
        failed = set(self.failures)
        unexpected = sorted(failed - KNOWN_FAILURES)
        fixed = sorted((KNOWN_FAILURES & self.covered) - failed)
        print(f"\n{len(self.covered)} (place, kind) pairs walked, {len(failed)} failing")
        lines = [
            f"FAILS  {place} | {kind} | {'; '.join(self.failures[(place, kind)][:3])}" for place, kind in unexpected
        ]
        lines += [f"FIXED (remove from KNOWN_FAILURES)  {place} | {kind}" for place, kind in fixed]
        assert not lines, f"{len(unexpected)} new failures, {len(fixed)} fixed:\n" + "\n".join(lines)


def kind_of(value: Any) -> str:
    for kind, values in (HOSTILE | JSON_ONLY).items():
        if any(value is v or value == v for v in values):
            return kind
    raise AssertionError(value)


# ------------------------------------------------------------------------------------------------ stored checks

TEXT_LIMITS = {  # (table, column): the longest text the service may keep there
    ("cases", "reference"): validation.CASE_REFERENCE_MAX,
    ("cases", "child_name"): validation.CHILD_NAME_MAX,
    ("users", "username"): validation.USERNAME_MAX,
    ("users", "name"): validation.FULL_NAME_MAX,
    ("teams", "name"): validation.FULL_NAME_MAX,
    ("sibling_groups", "name"): validation.SIBLING_GROUP_NAME_MAX,
    ("handovers", "transfer_reason"): validation.TRANSFER_REASON_MAX,
    ("handovers", "returned_reason"): validation.WORKFLOW_REASON_MAX,
    ("queries", "query"): validation.WORKFLOW_REASON_MAX,
    ("queries", "reply"): validation.REPLY_MAX,
    ("confirmations", "readback"): validation.READBACK_MAX,
    ("disagreements", "about"): validation.DISAGREEMENT_ABOUT_MAX,
    ("disagreements", "with_whom"): validation.DISAGREEMENT_WITH_WHOM_MAX,
    ("disagreements", "view"): validation.DISAGREEMENT_VIEW_MAX,
    ("disagreements", "stage"): max(len(stage.value) for stage in CHECKLIST.escalation_ladder),
    ("disagreements", "next_step"): CHECKLIST.disagreement_field("next_step").max_length,  # type: ignore[union-attr]
    ("disagreements", "outcome"): validation.DISAGREEMENT_OUTCOME_MAX,
    ("family_notices", "told"): telling_rules.TOLD_MAX,
    ("family_notices", "note"): telling_rules.NOTE_MAX,
    ("agency_contacts", "note"): telling_rules.NOTE_MAX,
    ("agency_contacts", "not_told_reason"): telling_rules.NOTE_MAX,
}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)


def section_problems(section: Section, status: str, stored: SectionAnswers) -> list[str]:
    """What is wrong with one stored section: a hidden character, an answer too long to keep, too many rows, an
    answer to no question, an answer to a hidden question, or a 'completed' status on answers that are not valid."""
    where = f"section {section.id}"
    problems = []
    for field_id, value in [
        *stored.values.items(),
        *((f"{g}[]", r) for g, rows in stored.groups.items() for r in rows),
    ]:
        texts = list(_texts(value))
        if any(has_hidden_characters(text) for text in texts):
            problems.append(f"{where}: {field_id} stored with a hidden character")
        if isinstance(value, str | list) and sum(len(t) for t in texts) > ANSWER_STORED_MAX:
            problems.append(f"{where}: {field_id} stored with {sum(len(t) for t in texts)} characters")
        if isinstance(value, dict) and any(len(t) > ANSWER_STORED_MAX for t in texts):
            problems.append(f"{where}: a row of {field_id} stored with an answer over the limit")
    for group in section.groups:
        if len(stored.groups.get(group.id, [])) > min(group.max_rows, ROWS_PER_GROUP_MAX):
            problems.append(f"{where}: {group.id} stored with {len(stored.groups[group.id])} rows")
    if unknown_errors(section, stored):
        problems.append(f"{where}: stored answers to no question: {sorted(unknown_errors(section, stored))[:3]}")
    if without_hidden(section, stored) != stored:
        problems.append(f"{where}: stored answers to questions the answers hide")
    if status == "completed" and validate_section(section, stored, today()):
        problems.append(f"{where}: stored as completed with errors {list(validate_section(section, stored, today()))}")
    return problems


def stored_problems(conn: sqlite3.Connection, seen: dict[str, int] | None = None) -> set[str]:
    """Everything stored that the rules would not have accepted, read straight from the database file. `seen`
    remembers which section versions and audit entries were already read, so each is read once."""
    seen = {} if seen is None else seen
    problems: set[str] = set()
    for (table, column), limit in TEXT_LIMITS.items():
        for row_id, text in conn.execute(f"SELECT rowid, {column} FROM {table}"):
            if text is None:
                continue
            if has_hidden_characters(text):
                problems.add(f"{table}.{column} #{row_id} holds a hidden character: {text[:40]!r}")
            if len(text) > limit:
                problems.add(f"{table}.{column} #{row_id} holds {len(text)} characters (limit {limit})")
            if column in ("reference", "child_name", "username", "name") and not text.strip():
                problems.add(f"{table}.{column} #{row_id} is blank")
    for row_id, born in conn.execute("SELECT id, date_of_birth FROM cases"):
        if validation.iso_date(born) is None:
            problems.add(f"cases.date_of_birth #{row_id} is not a date: {born[:40]!r}")
    for handover_id, section_id, version in conn.execute("SELECT handover_id, section_id, version FROM sections"):
        key = f"{handover_id}/{section_id}"
        if seen.get(key) == version:
            continue
        seen[key] = version
        # each handover's own checklist version (a letter needs one that records who was told)
        (checklist_version,) = conn.execute(
            "SELECT checklist_version FROM handovers WHERE id = ?", (handover_id,)
        ).fetchone()
        section = CHECKLISTS[("case-transfer", checklist_version)].section(section_id)
        if section is None:
            problems.add(f"handover {handover_id} has a section {section_id!r} the checklist does not")
            continue
        status, answers = conn.execute(
            "SELECT status, answers FROM sections WHERE handover_id = ? AND section_id = ?", (handover_id, section_id)
        ).fetchone()
        stored = msgspec.json.decode(answers, type=SectionAnswers)
        problems.update(f"handover {handover_id} {p}" for p in section_problems(section, status, stored))
    for seq, details in conn.execute("SELECT seq, details FROM audit_log WHERE seq > ?", (seen.get("audit", 0),)):
        seen["audit"] = seq
        if len(details) > 2 * ANSWER_STORED_MAX:
            problems.add(f"audit entry {seq} holds {len(details)} characters of details")
    return problems


class Store:
    """Reads the test database after each request; a new problem is blamed on the request just made."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.read: dict[str, int] = {}
        self.seen = stored_problems(self.conn, self.read)
        assert not self.seen, self.seen

    def new_problems(self) -> list[str]:
        self.conn.rollback()
        now = stored_problems(self.conn, self.read)
        new = sorted(now - self.seen)
        self.seen |= now
        return new

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------------------------------------ pages

# 405: an empty path segment names another route; 410: an agency's signed link that has been used
ALLOWED_PAGE_STATUS = {200, 303, 400, 404, 405, 409, 410, 422}
PAGE_REFUSAL_SIGNS = (
    directory.SIGN_IN_FAILED_TITLE,  # signing in with the council's provider did not complete
    directory.NO_ACCESS_TITLE,
    "govuk-error-summary",
    "govuk-error-message",
    "Page not found",
    "This cannot be done yet",
    "has changed since you opened this page",
    "Someone else saved this section",
    "could not be read",
    "You cannot do this",
    "You do not have access to this page",
    "Your form could not be sent",
    "What you sent is too large",
    "Too many",
    "cannot be used in that way",
    "This link cannot be used",
)


def page_verdict(response: Any, allowed: set[int] = ALLOWED_PAGE_STATUS) -> str | None:
    """Why this page response is wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:120]!r}"
    if status not in allowed:
        return f"{status} is not a documented answer"
    if status >= 400 and not any(sign in response.text for sign in PAGE_REFUSAL_SIGNS):
        return f"{status} without a visible message"
    return None


def encoded(items: list[tuple[str, Any]]) -> bytes:
    """A urlencoded body; a value of BAD_UTF8 becomes the raw bytes %FF%FE."""
    flat: list[tuple[str, str]] = []
    for key, value in items:
        for one in value if isinstance(value, list) else [value]:
            flat.append((key, "\x01BAD\x01" if one is BAD_UTF8 else str(one)))
    return urlencode(flat).replace(quote("\x01BAD\x01"), "%FF%FE").encode()


async def post_form(person: Browser, url: str, items: list[tuple[str, Any]], csrf: bool = True) -> Any:
    if not person.csrf:
        await person.get("/sign-in")
    body = encoded(([("_csrf_token", person.csrf)] if csrf else []) + items)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return await person.request("POST", url, content=body, headers=headers)


URL_LONGEST = 60_000  # a URL longer than 65,536 characters cannot be sent at all (httpx refuses it; so do servers)


def in_url(value: Any) -> str:
    """The value in a path segment or query string; the over-long value as long as a URL can carry it."""
    if value is BAD_UTF8:
        return "%FF%FE"
    return quote(str(value)[:URL_LONGEST], safe="")


# ------------------------------------------------------------------------------------------------ 1. the checklist

SECTION_BUTTONS = ("draft", "continue")


class Input(msgspec.Struct, frozen=True):
    name: str
    field: Field | None  # None for a group's row count
    limit: int  # what JUST_OVER goes one over


def section_inputs(section: Section) -> list[Input]:
    """Every box a browser posts for this section's answers (one row of each group), and each group's row count."""

    def boxes(field: Field, prefix: str) -> list[Input]:
        limit = field.max_length if field.type in ("text", "textarea") else ANSWER_STORED_MAX
        if field.type == "date":
            return [Input(f"{prefix}{field.id}-{part}", field, limit) for part in ("day", "month", "year")]
        return [Input(prefix + field.id, field, limit)]

    inputs = [box for field in section.fields for box in boxes(field, "")]
    for group in section.groups:
        inputs.append(Input(f"{group.id}-rows", None, min(group.max_rows, ROWS_PER_GROUP_MAX)))
        inputs += [box for field in group.fields for box in boxes(field, f"{group.id}-0-")]
    return inputs


def controllers(section: Section) -> set[str]:
    """The questions whose answers show or hide others."""
    conditions = [f.when for f in section.fields] + [g.when for g in section.groups]
    conditions += [f.when for g in section.groups for f in g.fields]
    return {c.field for c in conditions if c is not None}


def section_places(section: Section) -> list[str]:
    places = [f"form {section.id}: {i.name} [{b}]" for i in section_inputs(section) for b in SECTION_BUTTONS]
    places += [f"form {section.id}: all answers together [{b}]" for b in (*SECTION_BUTTONS, "autosave")]
    places += [f"form {section.id}: version", f"form {section.id}: button"]
    places += [f"form {section.id}: button remove:{group.id}:…" for group in section.groups]
    return places


def resolve(value: Any, limit: int) -> Any:
    return "x" * (limit + 1) if value is JUST_OVER else value


def base_form(section: Section) -> dict[str, Any]:
    """A complete, valid form for the section, with at least one row in every group."""
    form = form_for(section, complete(**CASE_M_LIKE)[section.id])
    del form["version"], form["button"]
    for group in section.groups:
        if form[f"{group.id}-rows"] == "0":
            form[f"{group.id}-rows"] = "1"
    for box in section_inputs(section):
        form.setdefault(box.name, [] if box.field is not None and box.field.type == "checkboxes" else "")
    return form


async def test_every_question_of_the_checklist(site: Site, settings: Settings) -> None:
    """Every box of every section (each date part, each row field, each row count), the version and the buttons,
    with every kind of hostile value, posted as a draft, with Continue and by autosave."""
    findings = Findings()
    out = await site.as_user("out")
    handover_id = await handover_in(site.db, site.world, "draft", "mia", complete_it=False)
    store = Store(settings.database)

    async def section_row(section_id: str) -> tuple[int, str] | None:
        rows = await site.db.reader.execute_fetchall(
            "SELECT version, answers FROM sections WHERE handover_id = ? AND section_id = ?", (handover_id, section_id)
        )
        return (rows[0][0], rows[0][1]) if rows else None

    async def attempt(section: Section, items: dict[str, Any], button: str) -> list[str]:
        """Post once; the problems with the answer, the page and what was stored."""
        before = await section_row(section.id)
        form = items | {"version": items.get("version", str(before[0] if before else 0))}
        url = f"/handovers/{handover_id}/sections/{section.id}"
        if button == "autosave":
            response = await post_form(out, url + "/autosave", list(form.items()))
        else:
            response = await post_form(out, url, [*form.items()] + ([] if "button" in form else [("button", button)]))
        problems = []
        wrong = page_verdict(response)
        if wrong:
            problems.append(wrong)
        if response.status_code >= 400 and (await section_row(section.id)) != before:
            problems.append(f"refused with {response.status_code} but the section was changed")
        problems += store.new_problems()
        return problems

    for section in CHECKLIST.sections:
        base = base_form(section)
        inputs = section_inputs(section)
        deciding = controllers(section)
        for kind, values in HOSTILE.items():
            for value in values:
                small = [i for i in inputs if i.field is not None and len(resolve(value, i.limit)) <= BIG]
                big = [i for i in inputs if i.field is not None and i not in small]
                for button in (*SECTION_BUTTONS, "autosave"):
                    together = f"form {section.id}: all answers together [{button}]"
                    findings.cover(together, kind)
                    # the questions that show or hide others are posted apart from the questions they decide
                    for batch in (
                        [i for i in small if i.field and i.field.id not in deciding],
                        [i for i in small if i.field and i.field.id in deciding],
                    ):
                        if not batch:
                            continue
                        items = base | {i.name: resolve(value, i.limit) for i in batch}
                        problems = await attempt(section, items, button)
                        if not problems:
                            for i in batch:
                                if button != "autosave":
                                    findings.cover(f"form {section.id}: {i.name} [{button}]", kind)
                            continue
                        blamed = False
                        for i in batch:  # one at a time, to find which box it was
                            alone = await attempt(section, base | {i.name: resolve(value, i.limit)}, button)
                            if alone and button != "autosave":
                                blamed = True
                                findings.fail(f"form {section.id}: {i.name} [{button}]", kind, "; ".join(alone))
                            elif button != "autosave":
                                findings.cover(f"form {section.id}: {i.name} [{button}]", kind)
                        if not blamed:
                            findings.fail(together, kind, f"{value[:20]!r}: " + "; ".join(problems))
                    if button == "autosave":
                        continue
                    for i in big:
                        place = f"form {section.id}: {i.name} [{button}]"
                        findings.cover(place, kind)
                        problems = await attempt(section, base | {i.name: resolve(value, i.limit)}, button)
                        if problems:
                            findings.fail(place, kind, "; ".join(problems))
                # the row counts, the version and the buttons, one at a time
                singles: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
                for i in inputs:
                    if i.field is None:
                        over = str(i.limit + 1) if value is JUST_OVER else value
                        singles.append((i.name, {i.name: over}, SECTION_BUTTONS))
                number = str(ID_MAX + 1) if value is JUST_OVER else value
                singles.append(("version", {"version": number}, ("draft",)))
                button_value = "x" * (ANSWER_STORED_MAX + 1) if value is JUST_OVER else value
                singles.append(("button", {"button": button_value}, ("continue",)))
                for group in section.groups:
                    text = number if value is BAD_UTF8 or not isinstance(number, str) else f"remove:{group.id}:{number}"
                    singles.append((f"button remove:{group.id}:…", {"button": text}, ("continue",)))
                for name, change, buttons in singles:
                    for button in buttons:
                        place = f"form {section.id}: {name}" + (f" [{button}]" if name.endswith("-rows") else "")
                        findings.cover(place, kind)
                        problems = await attempt(section, base | change, button)
                        if problems:
                            findings.fail(place, kind, f"{str(value)[:20]!r}: " + "; ".join(problems))
    store.close()
    _, broken = await verify(settings)
    assert not broken, broken
    expected = {(p, k) for p, k in pairs_of("form")}
    findings.verdict(expected)


# ------------------------------------------------------------------------------------------------ 2. other pages


class PageInput(msgspec.Struct, frozen=True):
    """One parameter of one page route: where it travels (form, query or path) and its name."""

    method: str
    path: str
    where: str
    name: str
    variant: str = ""  # the workflow button, for the one route that serves them all

    @property
    def place(self) -> str:
        path = self.path.replace("{button:str}", self.variant) if self.variant else self.path
        return f"page {self.method} {path} {self.where}:{self.name}"


FILTERS = list(FILTER_NAMES)  # every filter of the report, as the core names them
SECTION_ROUTE = "/handovers/{handover_id:int}/sections/{section_id:str}"
# The letter's form, posted for the printable letter and for its PDF
LETTER_FORM = [
    ("form", name)
    for name in ("letter", "addressee", "responsible_from-day", "responsible_from-month", "responsible_from-year")
] + [("form", "contact")]
# The form and query parameters of each page route, by (method, path). Path parameters are read from the route
# itself. A route missing here fails the suite: add what it reads, so that it is walked too.
PAGE_PARAMETERS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("GET", "/sign-in"): [("query", "resume"), ("query", "ended")],
    # signing in with the council's provider (here not configured: the addresses do not exist; with a provider,
    # tests/test_oidc_sign_in.py walks the callback's parameters)
    ("GET", "/sign-in/oidc"): [],
    ("GET", "/sign-in/oidc/callback"): [("query", "code"), ("query", "state"), ("query", "error")],
    ("POST", "/session/keep-alive"): [("form", "_csrf_token")],
    ("GET", "/search"): [("query", "q"), ("query", "page")],
    ("GET", "/accessibility"): [],
    ("GET", "/privacy"): [],
    ("POST", "/sign-in"): [("form", "username"), ("form", "password")],
    ("POST", "/sign-out"): [("form", "_csrf_token")],
    ("GET", "/healthz"): [],
    ("GET", "/readyz"): [],
    ("GET", "/metrics"): [],
    ("GET", "/ping"): [],
    ("GET", "/"): [("query", "cases_page"), ("query", "handovers_page")],
    ("GET", "/inbox"): [],
    ("GET", "/finished"): [("query", "started_page"), ("query", "received_page")],
    ("GET", "/queue"): [("query", "endorse_page"), ("query", "approve_page")],
    ("GET", "/audit/incomplete"): [("query", name) for name in [*FILTERS, "page"]],
    ("GET", "/audit/incomplete/{fmt:str}"): [("query", name) for name in FILTERS],
    ("GET", "/audit/allocations/{fmt:str}"): [("query", "team"), ("query", "group")],
    ("GET", "/oversight"): [("query", "team")],
    ("GET", "/oversight/closed"): [("query", "team"), ("query", "month"), ("query", "page")],
    ("GET", "/oversight/returns"): [("query", "team"), ("query", "month"), ("query", "page")],
    ("GET", "/cases/{case_id:int}/handover"): [],
    ("POST", "/cases/{case_id:int}/handover"): [
        ("form", "receiving_team"),
        ("form", "receiver"),
        ("form", "transfer_reason"),
    ],
    ("GET", "/handovers/{handover_id:int}"): [],
    # a sibling group's handover
    ("GET", "/cases/{case_id:int}/handover/group"): [("query", "receiving_team")],
    ("POST", "/cases/{case_id:int}/handover/group"): [
        ("form", "children"),
        ("form", "receiving_team"),
        ("form", "receiver"),
        ("form", "transfer_reason"),
    ],
    ("GET", "/groups/{group_id:int}"): [],
    ("GET", "/groups/{group_id:int}/check"): [],
    ("POST", "/groups/{group_id:int}/submit"): [("form", "handover_version"), ("form", "reply")],
    ("GET", SECTION_ROUTE): [("query", "resumed")],
    ("POST", SECTION_ROUTE): [],  # its form is the checklist's: walked by test_every_question_of_the_checklist
    ("POST", SECTION_ROUTE + "/autosave"): [],  # likewise
    ("GET", "/handovers/{handover_id:int}/check"): [],
    ("POST", "/handovers/{handover_id:int}/submit"): [("form", "handover_version"), ("form", "reply")],
    ("POST", "/handovers/{handover_id:int}/confirm/{section_id:str}"): [
        ("form", "handover_version"),
        ("form", "understood"),
        ("form", "readback"),
    ],
    ("POST", "/handovers/{handover_id:int}/disagreements"): [
        ("form", "about"),
        ("form", "with_whom"),
        ("form", "view"),
    ],
    ("POST", "/handovers/{handover_id:int}/disagreements/{disagreement_id:int}"): [
        ("form", name)
        for name in ("decision", "outcome", "stage", "stage_date-day", "stage_date-month", "stage_date-year")
    ],
    ("GET", "/handovers/{handover_id:int}/urgent"): [],
    ("POST", "/handovers/{handover_id:int}/urgent"): [
        ("form", "handover_version"),
        ("form", "receiver"),
        ("form", "reason"),
    ],
    ("GET", "/handovers/{handover_id:int}/urgent/done"): [],
    ("GET", "/handovers/{handover_id:int}/review"): [],
    ("GET", "/handovers/{handover_id:int}/view"): [],
    ("GET", "/handovers/{handover_id:int}/done/{button:str}"): [],
    ("POST", "/handovers/{handover_id:int}/{button:str}"): [("form", "handover_version"), ("form", "reason")],
    ("GET", "/static/{file_path:path}"): [],
    ("GET", "/schema"): [],
    ("GET", "/schema/openapi.json"): [],
    ("GET", "/schema/{path:str}"): [],
    ("GET", "/notifications"): [("query", "page"), ("query", "done")],
    ("POST", "/notifications/{notification_id:int}/open"): [],
    ("POST", "/notifications/read-all"): [],
    ("GET", "/notifications/settings"): [],
    ("POST", "/notifications/settings"): [("form", "delivery")],
    ("GET", "/admin/outbox"): [("query", "page"), ("query", "done")],
    ("POST", "/admin/outbox"): [("form", "email_id")],
    ("GET", "/admin/people"): [],
    ("GET", "/admin/people/new"): [],
    ("POST", "/admin/people/new"): [
        ("form", name) for name in ("username", "name", "email", "password", "worker", "manager", "auditor", "admin")
    ],
    ("GET", "/admin/people/{user_id:int}"): [("query", "done")],
    ("GET", "/admin/people/{user_id:int}/roles"): [],
    ("POST", "/admin/people/{user_id:int}/roles"): [
        ("form", name) for name in ("worker", "manager", "auditor", "admin")
    ],
    ("GET", "/admin/people/{user_id:int}/password"): [],
    ("POST", "/admin/people/{user_id:int}/password"): [("form", "password")],
    ("GET", "/admin/people/{user_id:int}/disable"): [],
    ("POST", "/admin/people/{user_id:int}/disable"): [("form", "_csrf_token")],
    ("GET", "/admin/teams"): [("query", "done")],
    ("POST", "/admin/services"): [("form", "name"), ("form", "service_manager")],
    ("POST", "/admin/services/manager"): [("form", "managed_service"), ("form", "service_manager")],
    ("POST", "/admin/teams/service"): [("form", "team"), ("form", "service")],
    ("POST", "/admin/head-of-service"): [("form", "head_of_service")],
    ("GET", "/caseloads"): [],
    ("GET", "/caseloads/{person_id:int}"): [],
    ("POST", "/caseloads/{person_id:int}/transfer"): [("form", "_csrf_token")],
    ("POST", "/caseloads/{person_id:int}/absence"): [("form", "change")],
    ("GET", "/caseloads/{person_id:int}/cases/{case_id:int}/handover"): [("query", "receiving_team")],
    ("POST", "/caseloads/{person_id:int}/cases/{case_id:int}/handover"): [
        ("form", name) for name in ("receiving_team", "receiver", "transfer_reason", "button")
    ],
    ("GET", "/admin/cases"): [("query", "q")],
    ("GET", "/admin/cases/{case_id:int}"): [("query", "done")],
    ("POST", "/admin/cases/{case_id:int}"): [
        ("form", name) for name in ("child_name", "reference", "sibling_group", "version")
    ]
    + [("form", f"date_of_birth-{box}") for box in ("day", "month", "year")],
    ("GET", "/handovers/{handover_id:int}/viewers"): [("query", "page")],
    ("GET", "/handovers/{handover_id:int}/document.pdf"): [],
    ("GET", "/handovers/{handover_id:int}/print"): [],
    # the letter to the family or the child
    ("GET", "/handovers/{handover_id:int}/letters"): [],
    ("POST", "/handovers/{handover_id:int}/letters"): LETTER_FORM,
    ("POST", "/handovers/{handover_id:int}/letters/pdf"): LETTER_FORM,
    # who has been told, and the agency's signed link
    ("GET", "/handovers/{handover_id:int}/telling"): [("query", "done")],
    ("POST", "/handovers/{handover_id:int}/telling/family"): [
        ("form", name) for name in ("told", "method", "told_on-day", "told_on-month", "told_on-year")
    ],
    ("POST", "/handovers/{handover_id:int}/telling/family-not-told"): [("form", "reason")],
    ("POST", "/handovers/{handover_id:int}/telling/agencies/{contact_id:int}/email"): [],
    ("GET", "/handovers/{handover_id:int}/telling/agencies/{contact_id:int}/told"): [],
    ("POST", "/handovers/{handover_id:int}/telling/agencies/{contact_id:int}/told"): [
        ("form", name) for name in ("method", "told_on-day", "told_on-month", "told_on-year", "note")
    ],
    ("GET", "/handovers/{handover_id:int}/telling/agencies/{contact_id:int}/not-told"): [],
    ("POST", "/handovers/{handover_id:int}/telling/agencies/{contact_id:int}/not-told"): [("form", "reason")],
    ("GET", "/agency-acknowledgements/{token:str}"): [],
    ("POST", "/agency-acknowledgements/{token:str}"): [],
}
# A handover on the newest checklist version, its new worker named: one a letter can be written for.
LETTER_READY = "draft@v4"
TELLING_STATE = "endorsed v4"  # a handover on checklist version 4, whose professionals may be told
WORKFLOW_ROUTE = "/handovers/{handover_id:int}/{button:str}"
# Who uses each workflow button, and on a handover in which state.
BUTTON_USERS = {
    "endorse": ("smgr", "submitted"),
    "return": ("smgr", "submitted"),
    "cancel": ("out", "draft"),
    "return-to-receiver": ("rmgr", "acknowledged"),
    "acknowledge": ("rec", "endorsed"),
    "approve": ("rmgr", "acknowledged"),
    "submit": ("out", "draft"),
}


def page_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app serves outside the API, from its route table."""
    found = []
    for route in app.routes:
        if route.path.startswith("/api/"):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            found.append((method, route.path))
    return found


def page_inputs(app: Any) -> list[PageInput]:
    inputs = []
    for method, path in page_routes(app):
        assert (method, path) in PAGE_PARAMETERS, f"{method} {path} is not walked: add its parameters"
        variants = [name for name in ACTION_NAMES if name != "submit"] if path == WORKFLOW_ROUTE else [""]
        for variant in variants:
            named = [("path", n) for n in re.findall(r"{(\w+):", path) if not (variant and n == "button")]
            for where, name in named + PAGE_PARAMETERS[(method, path)]:
                inputs.append(PageInput(method, path, where, name, variant))
    return inputs


class Pool:
    """Handovers in each state, made afresh once a request has moved the last one on; and fresh cases."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.made: dict[str, int] = {}
        self.cases = 0

    async def case(self, worker: str = "out") -> int:
        self.cases += 1
        async with self.site.db.transaction() as conn:
            return await db.create_case(
                conn,
                f"POOL-{self.cases}",
                f"Pool Child {self.cases}",
                "2016-05-05",
                self.site.world.users[worker],
                self.site.world.teams["north"],
            )

    async def handover(self, state: str) -> int:
        if state not in self.made:
            case = await self.case()
            self.site.world.cases[f"pool{case}"] = case
            if state == LETTER_READY:
                made = await letter_handover(self.site.db, self.site.world, case=f"pool{case}")
            elif state.endswith(" v4"):
                await self.present("out")
                made = await v4_handover(self.site.db, self.site.world, state.removesuffix(" v4"), f"pool{case}")
            else:
                made = await handover_in(self.site.db, self.site.world, state, f"pool{case}")
            self.made[state] = made
        return self.made[state]

    async def present(self, username: str) -> None:
        """End this person's recorded absence (the caseload's absence form records one, and an absent worker may
        record nothing), so that what they write next meets the rules of the fields rather than the absence."""
        async with self.site.db.transaction() as conn:
            await conn.execute("DELETE FROM absences WHERE user_id = ?", (self.site.world.users[username],))

    async def contact(self, handover_id: int) -> int:
        """A professional on this handover not yet told, with an e-mail address; 0 when none is left."""
        rows = await self.site.db.reader.execute_fetchall(
            "SELECT id FROM agency_contacts WHERE handover_id = ? AND email != '' AND told_method IS NULL"
            " AND not_told_reason IS NULL ORDER BY id LIMIT 1",
            (handover_id,),
        )
        return int(rows[0][0]) if rows else 0

    async def link(self, handover_id: int) -> str:
        """The token of a signed link the service e-mailed to a professional on this handover (one not yet used)."""
        contact = await self.contact(handover_id)
        if contact:
            out = await actor(self.site.db, self.site.world, "out")
            await actions.email_agency(self.site.db, CHECKLISTS, out, handover_id, contact)
        rows = await self.site.db.reader.execute_fetchall(
            "SELECT o.body_text FROM agency_contacts ac JOIN outbox o ON o.id = ac.outbox_id"
            " WHERE ac.handover_id = ? AND ac.acknowledged_at IS NULL ORDER BY ac.id DESC LIMIT 1",
            (handover_id,),
        )
        return str(rows[0][0]).split("/agency-acknowledgements/")[1].split()[0] if rows else "spent"

    async def settled(self, handover_id: int) -> bool:
        """Whether every professional with an e-mail address on it is told or has a reason (its forms are then
        refused), or it holds more family notices than its page should list."""
        notices = await self.site.db.reader.execute_fetchall(
            "SELECT count(*) FROM family_notices WHERE handover_id = ?", (handover_id,)
        )
        return not await self.contact(handover_id) or notices[0][0] > 10

    async def version(self, handover_id: int) -> int:
        found = await db.handover_by_id(self.site.db.reader, handover_id)
        return found.version if found else 0

    async def state(self, handover_id: int) -> str:
        found = await db.handover_by_id(self.site.db.reader, handover_id)
        return found.state if found else ""

    def spend(self, handover_id: int) -> None:
        self.made = {state: made for state, made in self.made.items() if made != handover_id}


async def test_every_other_page_form_query_and_path(
    site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every parameter of every page route in the app's route table (form fields, query parameters, path
    segments), with every kind of hostile value, sent by someone the route is for, on a handover it can act on."""
    from service.actions import people as people_actions

    real_check = people_actions.verify_password

    async def quick_check(password_hash: str | None, password: str) -> bool:
        """No such user: refused at once, rather than after the deliberately slow dummy hash."""
        return False if password_hash is None else await real_check(password_hash, password)

    monkeypatch.setattr(people_actions, "verify_password", quick_check)
    findings = Findings()
    pool = Pool(site)
    await pool.handover(LETTER_READY)  # made while its author may still start one (the walk records absences)
    people: dict[str, Browser] = {}
    store = Store(settings.database)

    async def person(name: str | None) -> Browser:
        if name is None:
            return Browser(site.client)
        if name not in people:
            people[name] = await site.as_user(name)
        return people[name]

    async def disagreement(handover_id: int) -> int:
        smgr = await actions_actor("smgr")
        await actions.raise_disagreement(
            site.db, CHECKLISTS_, smgr, handover_id, about="About the plan", with_whom="The GP", view_text="My view"
        )
        found = await db.disagreements_of(site.db.reader, handover_id)
        return found[-1].id

    async def grouped_case() -> int:
        """A fresh case in a sibling group of two, both allocated to "out": its group can be handed over."""
        first = await pool.case()
        second = await pool.case()
        async with site.db.transaction() as conn:
            group = await db.create_sibling_group(conn, f"Pool family {first}")
            await conn.execute("UPDATE cases SET sibling_group_id = ? WHERE id IN (?, ?)", (group, first, second))
        return first

    groups: list[int] = []

    async def group_handover() -> int:
        """The handover of a sibling group of two, made once and kept a draft."""
        if not groups:
            case_id = await grouped_case()
            case = await db.case_by_id(site.db.reader, case_id)
            assert case is not None and case.sibling_group_id is not None
            children = [child[0] for child in await db.cases_in_sibling_group(site.db.reader, case.sibling_group_id)]
            groups.append(await actions.start_group_handover(
                site.db, await actions_actor("out"), V3, case_id=case_id,
                included=children, left_out={}, receiving_team_id=site.world.teams["cp"], receiver_id=None,
                transfer_reason="Step-up",
            ))  # fmt: skip
        return groups[0]

    async def actions_actor(name: str) -> Any:
        from tests.helpers import actor

        return await actor(site.db, site.world, name)

    for page_input in page_inputs(site.app):
        method, path = page_input.method, page_input.path
        button = page_input.variant
        for kind, values in HOSTILE.items():
            findings.cover(page_input.place, kind)
            for value in values:
                user: str | None = "out"
                state = "draft"
                if button:
                    user, state = BUTTON_USERS[button]
                elif path.endswith("/submit"):
                    state = "returned"  # a resubmission: the form's reply is required
                elif "/confirm/" in path or path.endswith("/review"):
                    user, state = "rec", "endorsed"
                elif "/disagreements" in path:
                    user, state = "smgr", "submitted"
                elif path.endswith(("/letters", "/letters/pdf")):
                    user, state = "smgr", LETTER_READY  # a party the walk never records absent
                elif "/telling" in path:
                    state = TELLING_STATE
                elif path.startswith("/agency-acknowledgements/"):
                    user, state = None, TELLING_STATE
                elif path.startswith("/audit"):
                    user = "aud"
                elif path.startswith("/oversight"):
                    user = "smgr"  # a team manager: the page keeps to their teams, so a team filter is checked too
                elif path.startswith("/admin"):
                    user = "adm"
                elif path == "/queue" or path.startswith(("/caseloads", "/notifications/settings")):
                    user = "smgr"
                elif path == "/inbox":
                    user = "rec"
                elif path.startswith(("/sign-in", "/static", "/schema", "/healthz", "/readyz", "/metrics")):
                    user = None
                elif path == "/sign-out":
                    user = "out2"
                handover_id = await pool.handover(state)
                if state == TELLING_STATE:
                    await pool.present("out")
                version = await pool.version(handover_id)
                params: dict[str, Any] = {
                    "handover_id": handover_id,
                    "case_id": (await grouped_case() if path.endswith("/group") else await pool.case())
                    if "/cases/" in path
                    else 0,
                    "group_id": await group_handover() if "{group_id" in path else 0,
                    "section_id": "open-risks" if "/confirm/" in path else "case-summary",
                    "fmt": "csv",
                    "disagreement_id": 0,
                    "button": button,
                    "file_path": "app.css",
                    "path": "openapi.json",
                    "user_id": site.world.users["rec2"],  # the person the administrator's pages change
                    "person_id": site.world.users["out"],  # the person whose caseload a manager moves
                }
                if "{disagreement_id" in path:
                    params["disagreement_id"] = await disagreement(handover_id)
                if "{contact_id" in path:
                    params["contact_id"] = await pool.contact(handover_id)
                if "{token" in path:
                    params["token"] = await pool.link(handover_id)
                form: dict[str, Any] = {}
                if method == "POST":
                    letter_day = today() + timedelta(days=7)
                    form = {
                        "handover_version": str(version),
                        "reason": "Because",
                        "reply": "Added what was asked",
                        "understood": "yes",
                        "readback": "I take on the risk from Liam to Mia.",
                        "about": "About",
                        "with_whom": "GP",
                        "view": "My view",
                        "decision": "escalated",
                        "outcome": "Escalated",
                        "stage": "Stage 2",
                        "stage_date-day": "1",
                        "stage_date-month": "3",
                        "stage_date-year": "2026",
                        "receiving_team": str(site.world.teams["cp"]),
                        "receiver": "",
                        "transfer_reason": "Step-up",
                        "children": "",
                        "username": "nobody",
                        "password": "wrong password",
                        "name": "New Person",
                        "email": "new.person@example.gov.uk",
                        "worker": "South Team",
                        "service_manager": "smgr",
                        "managed_service": "Early help",
                        "team": "North Team",
                        "service": "Early help",
                        "head_of_service": "omgr",
                        "change": "record",
                        "child_name": "Corrected Child",
                        "date_of_birth-day": "5",
                        "date_of_birth-month": "5",
                        "date_of_birth-year": "2016",
                        "version": "1",
                        "letter": "family",
                        "addressee": "Ms Ashford",
                        "responsible_from-day": str(letter_day.day),
                        "responsible_from-month": str(letter_day.month),
                        "responsible_from-year": str(letter_day.year),
                        "contact": "on 01632 960 001",
                        "told": "Ms Pool (mother)",
                        "method": "phone",
                        "told_on-day": "1",
                        "told_on-month": "3",
                        "told_on-year": "2026",
                        "note": "Told at the core group",
                    }
                    form = {k: v for k, v in form.items() if ("form", k) in PAGE_PARAMETERS[(method, path)]}
                query: dict[str, Any] = {}
                limit = {
                    "transfer_reason": validation.TRANSFER_REASON_MAX,
                    "reason": validation.WORKFLOW_REASON_MAX,
                    "reply": validation.REPLY_MAX,
                    "readback": validation.READBACK_MAX,
                    "about": validation.DISAGREEMENT_ABOUT_MAX,
                    "with_whom": validation.DISAGREEMENT_WITH_WHOM_MAX,
                    "view": validation.DISAGREEMENT_VIEW_MAX,
                    "outcome": validation.DISAGREEMENT_OUTCOME_MAX,
                    "username": validation.USERNAME_MAX,
                    "password": validation.PASSWORD_MAX,
                    "page": PAGE_NUMBER_MAX,
                    "endorse_page": PAGE_NUMBER_MAX,
                    "approve_page": PAGE_NUMBER_MAX,
                    "cases_page": PAGE_NUMBER_MAX,
                    "handovers_page": PAGE_NUMBER_MAX,
                    "started_page": PAGE_NUMBER_MAX,
                    "received_page": PAGE_NUMBER_MAX,
                    "min_days": MIN_WORKING_DAYS_MAX,
                    "name": validation.FULL_NAME_MAX,
                    "email": account_rules.EMAIL_MAX,
                    "service_manager": validation.USERNAME_MAX,
                    "head_of_service": validation.USERNAME_MAX,
                    "addressee": letter_rules.ADDRESSEE_MAX,
                    "contact": letter_rules.CONTACT_MAX,
                    "told": telling_rules.TOLD_MAX,
                    "note": telling_rules.NOTE_MAX,
                    # the reason of the telling forms is longer than a workflow step's
                    **({"reason": telling_rules.NOTE_MAX} if "/telling/" in path else {}),
                }.get(page_input.name)
                if value is JUST_OVER:
                    numeric = page_input.name in (
                        "page",
                        "endorse_page",
                        "approve_page",
                        "cases_page",
                        "handovers_page",
                        "started_page",
                        "received_page",
                        "min_days",
                    )
                    if limit is None:
                        hostile: Any = str(ID_MAX + 1)
                    else:
                        hostile = str(limit + 1) if numeric else "x" * (limit + 1)
                else:
                    hostile = value
                if page_input.where == "path":
                    params[page_input.name] = hostile
                elif page_input.where == "form":
                    form[page_input.name] = hostile
                else:
                    query[page_input.name] = hostile
                url = re.sub(r"{(\w+):\w+}", lambda m, p=params: in_url(p[m.group(1)]), path)
                if query:
                    url += "?" + "&".join(f"{k}={in_url(v)}" for k, v in query.items())
                browser = await person(user)
                if path == "/sign-in" and method == "POST":
                    async with site.db.transaction() as conn:  # each attempt meets the rules, not the lock
                        await conn.execute("DELETE FROM sign_in_failures")
                if method == "POST":
                    response = (
                        await post_form(browser, url, list(form.items()), csrf=page_input.name != "_csrf_token")
                        if page_input.name != "_csrf_token"
                        else await post_form(browser, url, [("_csrf_token", hostile)], csrf=False)
                    )
                else:
                    response = await browser.get(url)
                allowed = ALLOWED_PAGE_STATUS | ({403} if page_input.name == "_csrf_token" else set())
                problems = []
                wrong = page_verdict(response, allowed)
                if path.startswith("/schema/") and response.status_code == 404 and "404 Not found" in response.text:
                    wrong = None  # the OpenAPI router's own page for a document it does not have: a plain 404
                if wrong:
                    problems.append(wrong)
                if page_input.where == "path" and response.status_code == 200 and method == "GET":
                    text = str(hostile)
                    named = text.strip() and page_input.name not in ("file_path", "path")  # "" is another address
                    if named and not (text.isascii() and text.isdigit()):
                        problems.append(f"{text[:10]!r} taken as {page_input.name}")
                problems += store.new_problems()
                if problems:
                    findings.fail(page_input.place, kind, f"{str(value)[:20]!r}: " + "; ".join(problems))
                stored_state = state.split("@")[0].removesuffix(" v4")  # LETTER_READY and TELLING_STATE name a version
                if method == "POST" and handover_id and await pool.state(handover_id) != stored_state:
                    pool.spend(handover_id)
                if state == TELLING_STATE and await pool.settled(handover_id):
                    pool.spend(handover_id)
                if "/disagreements" in path and len(await db.disagreements_of(site.db.reader, handover_id)) > 3:
                    pool.spend(handover_id)  # its page lists every disagreement: keep it short
                if path == "/sign-out" and response.status_code == 303:
                    people.pop("out2", None)
    store.close()
    _, broken = await verify(settings)
    assert not broken, broken
    findings.verdict(set(pairs_of("page", site.app)))


CHECKLISTS_ = {("case-transfer", 1): CHECKLIST}


# ------------------------------------------------------------------------------------------------ 3. the API

API_STATUS = {400, 401, 403, 404, 405, 409, 413, 422}
API_LIMITS = {
    "reference": validation.CASE_REFERENCE_MAX,
    "child_name": validation.CHILD_NAME_MAX,
    "name": validation.SIBLING_GROUP_NAME_MAX,
    "transfer_reason": validation.TRANSFER_REASON_MAX,
    "reason": validation.WORKFLOW_REASON_MAX,
    "reply": validation.REPLY_MAX,
    "readback": validation.READBACK_MAX,
    "page": PAGE_NUMBER_MAX,
    "per_page": 500,
    "min_days": MIN_WORKING_DAYS_MAX,
    "told": telling_rules.TOLD_MAX,
    "note": telling_rules.NOTE_MAX,
}


class ApiInput(msgspec.Struct, frozen=True):
    method: str
    path: str
    where: str  # path, query or body
    name: str  # a dotted path into the body ("" for the whole body)
    type: str  # the schema's type: string, integer, boolean, object, array

    @property
    def place(self) -> str:
        return f"api {self.method.upper()} {self.path} {self.where}:{self.name}"


def api_inputs(schema: dict[str, Any]) -> list[ApiInput]:
    """Every parameter and body field of every operation in the OpenAPI document (nested objects included)."""
    components = schema["components"]["schemas"]

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    def type_of(node: dict[str, Any]) -> str:
        node = resolved(node)
        if "type" in node:
            return node["type"] if isinstance(node["type"], str) else node["type"][0]
        options = [resolved(o).get("type") for o in node.get("oneOf", node.get("anyOf", []))]
        return next((str(o) for o in options if o and o != "null"), "string")

    def body_fields(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
        node = resolved(node)
        for name, child in node.get("properties", {}).items():
            yield prefix + name, type_of(child)
            if resolved(child).get("properties"):
                yield from body_fields(child, prefix + name + ".")

    inputs = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                inputs.append(
                    ApiInput(method, path, parameter["in"], parameter["name"], type_of(parameter.get("schema", {})))
                )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                inputs.append(ApiInput(method, path, "body", "", "object"))
                inputs += [ApiInput(method, path, "body", name, kind) for name, kind in body_fields(body, "")]
    return inputs


def json_value(value: Any, type_: str, limit: int | None) -> bytes:
    """The value as JSON text of the field's own type where it can be (numbers as numbers), or as it is."""
    if value is DEEP:
        return b"[" * 5000 + b"]" * 5000
    if value is BAD_UTF8:
        return b'"\xff\xfe"'
    if value is JUST_OVER:
        if type_ == "integer":
            return str((limit or ID_MAX) + 1).encode()
        return json.dumps("x" * ((limit or validation.USERNAME_MAX) + 1)).encode()
    if isinstance(value, str) and type_ == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return value.encode()  # 9 repeated 5,000 times, 2**63 and -5 as JSON numbers
    return json.dumps(value).encode()


def body_with(base: dict[str, Any], dotted: str, raw: bytes) -> bytes:
    """The base body as JSON text with the value at `dotted` replaced by raw JSON text."""
    marker = "\x01HOSTILE\x01"
    if not dotted:
        return raw
    body = json.loads(json.dumps(base))
    node = body
    keys = dotted.split(".")
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = marker
    return json.dumps(body).encode().replace(json.dumps(marker).encode(), raw)


async def api_token(site: Site, username: str) -> str:
    token = "hov_hostile_" + username
    async with site.db.transaction() as conn:
        if not await db.api_token(conn, token_hash(token)):
            await db.create_api_token(conn, site.world.users[username], token_hash(token), "write")
    return token


async def test_every_api_operation_field_and_parameter(site: Site, settings: Settings) -> None:
    """Every body field and parameter of every operation in the OpenAPI document, with every kind of hostile
    value and, in bodies, deep nesting and the wrong JSON types: 2xx or 4xx in the API's error shape, never 5xx."""
    schema = (await site.client.get("/schema/openapi.json")).json()
    findings = Findings()
    pool = Pool(site)
    store = Store(settings.database)
    made = 0
    for api_input in api_inputs(schema):
        method, path = api_input.method.upper(), api_input.path
        kinds = kinds_for("api body") if api_input.where == "body" else HOSTILE
        for kind, values in kinds.items():
            findings.cover(api_input.place, kind)
            for value in values:
                user, state = "aud", "draft"
                base: dict[str, Any] = {}
                params: dict[str, Any] = {"group_id": 1, "section_id": "case-summary", "name": "return"}
                if path.endswith("/handovers") and method == "POST":
                    user = "out"
                    base = {
                        "receiving_team_id": site.world.teams["cp"],
                        "receiver_id": None,
                        "transfer_reason": "Step-up",
                    }
                elif "/sections/" in path:
                    user = "out"
                elif "/actions/" in path:
                    user, state = "smgr", "submitted"
                elif "/confirmations/" in path:
                    user, state, params["section_id"] = "rec", "endorsed", "open-risks"
                elif path.startswith("/api/v1/cases") or path.startswith("/api/v1/sibling-groups"):
                    user = "adm"
                elif "/telling" in path or "/family-notices" in path or "/agency-contacts/" in path:
                    user, state = "out", TELLING_STATE
                handover_id = await pool.handover(state)
                if state == TELLING_STATE:
                    await pool.present("out")
                params["handover_id"] = handover_id
                params["contact_id"] = await pool.contact(handover_id)
                params["case_id"] = await pool.case() if method == "POST" else site.world.cases["mia"]
                version = await pool.version(handover_id)
                if "/sections/" in path:
                    rows = await site.db.reader.execute_fetchall(
                        "SELECT version FROM sections WHERE handover_id = ? AND section_id = 'case-summary'",
                        (handover_id,),
                    )
                    answers = msgspec.to_builtins(complete(**CASE_M_LIKE)["case-summary"])
                    base = {"answers": answers, "base_version": rows[0][0] if rows else 0}
                elif "/actions/" in path:
                    base = {"handover_version": version, "reason": "Because"}
                elif "/confirmations/" in path:
                    base = {
                        "handover_version": version,
                        "understood": True,
                        "readback": "I take on the risk from Liam to Mia.",
                    }
                elif path == "/api/v1/cases":
                    made += 1
                    base = {
                        "reference": f"API-H-{made}",
                        "child_name": "Ava New",
                        "date_of_birth": "2016-02-03",
                        "allocated_worker_id": site.world.users["out"],
                        "allocated_team_id": site.world.teams["north"],
                        "sibling_group_id": None,
                    }
                elif path == "/api/v1/sibling-groups":
                    base = {"name": "Hart family"}
                elif path.endswith("/family-notices"):
                    base = {"told": "Ms Pool (mother)", "method": "visit", "told_on": "2026-03-01"}
                elif path.endswith("/told"):
                    base = {"method": "phone", "told_on": "2026-03-01", "note": "At the core group"}
                elif path.endswith("/not-told"):
                    base = {"reason": "No longer involved"}
                leaf = api_input.name.rsplit(".", 1)[-1]
                limit = API_LIMITS.get(leaf)
                raw = json_value(value, api_input.type, limit)
                query = ""
                if api_input.where == "path":
                    params[api_input.name] = in_url(str(ID_MAX + 1) if value is JUST_OVER else value)
                elif api_input.where == "query":
                    text = (
                        ("x" * (limit + 1) if api_input.type == "string" and limit else str((limit or ID_MAX) + 1))
                        if value is JUST_OVER
                        else value
                    )
                    query = "?" + f"{api_input.name}={in_url(text)}"
                url = re.sub(r"{(\w+)}", lambda m, p=params: str(p[m.group(1)]), path) + query
                headers = {"Authorization": f"Bearer {await api_token(site, user)}"}
                content = None
                if method in ("POST", "PUT"):
                    content = (
                        body_with(base, api_input.name, raw) if api_input.where == "body" else json.dumps(base).encode()
                    )
                    headers["Content-Type"] = "application/json"
                response = await site.client.request(method, url, content=content, headers=headers)
                problems = []
                if response.status_code >= 500:
                    problems.append(f"{response.status_code}: {response.text[:120]!r}")
                elif response.status_code >= 400:
                    try:
                        body = response.json()
                        shaped = set(body) == {"code", "message", "details"} and all(
                            set(d) == {"field", "message"} for d in body["details"]
                        )
                    except ValueError:
                        shaped = False
                    if response.status_code not in API_STATUS or not shaped:
                        problems.append(f"{response.status_code} not in the error shape: {response.text[:120]!r}")
                elif (
                    api_input.where == "path"
                    and method == "GET"
                    and str(value).strip()  # an empty segment is another address
                    and not re.fullmatch(r"[0-9]+", str(value))
                ):
                    problems.append(f"{response.status_code}: {str(value)[:10]!r} taken as {api_input.name}")
                problems += store.new_problems()
                if problems:
                    findings.fail(api_input.place, kind, f"{str(value)[:20]!r}: " + "; ".join(problems))
                if await pool.state(handover_id) != state.removesuffix(" v4"):
                    pool.spend(handover_id)
                if state == TELLING_STATE and await pool.settled(handover_id):
                    pool.spend(handover_id)
    store.close()
    _, broken = await verify(settings)
    assert not broken, broken
    findings.verdict(set(pairs_of("api", site.app)))


# ------------------------------------------------------------------------------------------------ 4. the CSV import


def csv_file(path: Path, column: str, value: Any, number: int) -> None:
    good = {
        "reference": f"CSV-{number}",
        "child_name": "Evie Hart",
        "date_of_birth": "2016-02-03",
        "worker_username": "out",
        "team": "North Team",
        "sibling_group": "",
    }
    marker = "HOSTILEMARK"
    if value is JUST_OVER:
        limits = {
            "reference": validation.CASE_REFERENCE_MAX,
            "child_name": validation.CHILD_NAME_MAX,
            "sibling_group": validation.SIBLING_GROUP_NAME_MAX,
            "worker_username": validation.USERNAME_MAX,
        }
        value = "x" * (limits.get(column, validation.FULL_NAME_MAX) + 1)
    good[column] = marker
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(IMPORT_COLUMNS)
    writer.writerow([good[c] for c in IMPORT_COLUMNS])
    raw = b"\xff\xfe" if value is BAD_UTF8 else str(value).encode("utf-8", "surrogatepass")
    quoted = b'"' + raw.replace(b'"', b'""') + b'"'
    path.write_bytes(buffer.getvalue().encode().replace(marker.encode(), quoted))


async def test_every_column_of_the_case_import(site: Site, settings: Settings, tmp_path: Path) -> None:
    """Every column of `handover import cases` with every kind of hostile value: refused by line and column or
    imported within the rules; and a formula that is imported is not run by a spreadsheet opening the export."""
    findings = Findings()
    store = Store(settings.database)
    number = 0
    for column in IMPORT_COLUMNS:
        place = f"csv {column}"
        for kind, values in HOSTILE.items():
            findings.cover(place, kind)
            for value in values:
                number += 1
                path = tmp_path / f"cases-{number}.csv"
                csv_file(path, column, value, number)
                problems = []
                try:
                    imported, refusals = await actions.import_cases(site.db, path)
                except Exception as exc:  # a traceback on the command line
                    problems.append(f"raised {type(exc).__name__}: {str(exc)[:100]}")
                else:
                    if not imported and not refusals:
                        problems.append("neither imported nor refused")
                    if refusals and not all(re.match(r"(line \d+: \w+: |\S+: )", p) for p in refusals):
                        problems.append(f"a refusal without its line and column: {refusals[:2]}")
                problems += store.new_problems()
                if problems:
                    findings.fail(place, kind, f"{str(value)[:20]!r}: " + "; ".join(problems))
    # what was imported goes into the auditors' export through a handover: no cell of it runs as a formula
    out = await _actor(site, "out")
    cases = await site.db.reader.execute_fetchall(
        "SELECT id FROM cases WHERE reference LIKE 'CSV-%' OR reference NOT LIKE '%-%'"
    )
    for (case_id,) in cases:
        with contextlib.suppress(Exception):
            await actions.start_handover(
                site.db,
                out,
                CHECKLIST,
                case_id=case_id,
                receiving_team_id=site.world.teams["cp"],
                receiver_id=None,
                apart_reason=APART,
                transfer_reason="Step-up",
            )
    auditor = await site.as_user("aud")
    export = await auditor.get("/audit/incomplete/csv")
    findings.cover("csv export of imported cases", "spreadsheet formulas")
    for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))):
        for cell in row:
            if cell and safe_cell(cell) != cell and not cell.startswith("'"):
                findings.fail("csv export of imported cases", "spreadsheet formulas", f"cell {cell[:30]!r}")
    store.close()
    _, broken = await verify(settings)
    assert not broken, broken
    findings.verdict(set(pairs_of("csv")))


async def _actor(site: Site, name: str) -> Any:
    from tests.helpers import actor

    return await actor(site.db, site.world, name)


# ------------------------------------------------------------------------------------------------ 5. the command line

# A command line that works, for each command that takes arguments; the hostile value replaces one argument's.
CLI_BASE: dict[str, list[str]] = {
    "create-user": [
        "create-user",
        "newperson",
        "--name",
        "New Person",
        "--password",
        "a long enough password",
        "--worker",
        "North Team",
    ],
    "export": ["export", "--incomplete", "--format", "csv", "-o", "export.csv"],
    "export allocations": ["export", "allocations", "--format", "csv", "-o", "allocations.csv"],
    "backup": ["backup", "backup.db"],
    "restore": ["restore", "no-such-backup.db"],
    "migrate-to-postgres": ["migrate-to-postgres", "no-such-database.db"],
    "token create": ["token", "create", "--account", "svc_new", "--name", "CMS", "--scope", "read"],
    "token revoke": ["token", "revoke", "1"],
    "import cases": ["import", "cases", "cases.csv"],
    "name-manager": ["name-manager", "1", "--step", "approve", "--manager", "newperson"],
    "add-person": [
        "add-person",
        "newjoiner",
        "--name",
        "New Joiner",
        "--email",
        "new.joiner@example.gov.uk",
        "--password",
        "a long enough password",
        "--worker",
        "North Team",
    ],
    "set-roles": ["set-roles", "rec2", "--worker", "Cp Team"],
    "reset-password": ["reset-password", "rec2", "--password", "a long enough password"],
    "disable-user": ["disable-user", "rec2"],
    "service create": ["service", "create", "Early help", "--manager", "smgr"],
    "service manager": ["service", "manager", "Early help", "smgr"],
    "service add-team": ["service", "add-team", "Early help", "North Team"],
    "service head": ["service", "head", "omgr"],
    "correct-case": ["correct-case", "T-3", "--name", "Zoe Corrected"],
}
CLI_NO_ARGUMENTS = {"serve", "init-db", "demo", "audit verify", "audit checkpoint", "remind"}


def cli_arguments() -> list[tuple[str, str]]:
    """Every (command, argument) of the `handover` command, read from its parser."""
    import argparse

    found = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subcommands:
            for name, sub in subcommands[0].choices.items():
                walk(sub, [*words, name])
            return
        command = " ".join(words)
        arguments = [a for a in parser._actions if a.nargs != 0 and not isinstance(a, argparse._HelpAction)]
        if arguments:
            assert command in CLI_BASE, f"`handover {command}` is not walked: add a working command line for it"
        else:
            assert command in CLI_NO_ARGUMENTS, f"`handover {command}` is new: add it to CLI_NO_ARGUMENTS"
        for argument in arguments:
            found.append((command, argument.option_strings[-1] if argument.option_strings else argument.dest))

    walk(cli.parser(), [])
    walk(cli.allocations_parser(), ["export", "allocations"])  # parsed on its own, before the main parser
    return found


def cli_argv(command: str, argument: str, value: str) -> list[str]:
    argv = list(CLI_BASE[command])
    if argument.startswith("-"):
        if argument in argv:
            argv[argv.index(argument) + 1] = value
        else:
            argv += [argument, value]
        return argv
    positions: dict[str | tuple[str, str], int] = {
        "create-user": 1, "backup": 1, "restore": 1, "migrate-to-postgres": 1, "token revoke": 2, "import cases": 2,
        "name-manager": 1,
        "add-person": 1, "set-roles": 1, "reset-password": 1, "disable-user": 1, "service create": 2,
        "service manager": 2, ("service manager", "manager"): 3, "service add-team": 2,
        ("service add-team", "team"): 3, "service head": 2, "correct-case": 1,
    }  # fmt: skip
    argv[positions.get((command, argument), positions[command])] = value
    return argv


def test_every_argument_of_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every argument of every `handover` command with every kind of hostile value: a message and a non-zero exit,
    or done within the rules; never a traceback; and the audit trail still verifies."""
    settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": "")  # an empty --password asks: Enter is pressed

    async def quick_hash(password: str) -> str:
        """Any hash will do: what is stored is checked, not how slowly it was made."""
        return "!" + str(len(password))

    from service.actions import people as people_actions

    monkeypatch.setattr(people_actions, "rehash", quick_hash)
    monkeypatch.setattr(account_actions, "rehash", quick_hash)

    async def seeded() -> None:
        async with db.Database.for_settings(settings).opened() as database:
            await seed(database)

    asyncio.run(seeded())
    findings = Findings()
    store = Store(settings.database)
    for command, argument in cli_arguments():
        place = f"cli {command} {argument}"
        folder = tmp_path / f"run-{len(findings.covered)}"  # files one command writes are not another's input
        folder.mkdir()
        monkeypatch.chdir(folder)
        (folder / "cases.csv").write_text(",".join(IMPORT_COLUMNS) + "\n", encoding="utf-8")
        for kind, values in HOSTILE.items():
            findings.cover(place, kind)
            for value in values:
                if value is BAD_UTF8:
                    text = "\udcff\udcfe"  # how Python holds command-line bytes that are not UTF-8
                elif value is JUST_OVER:
                    text = "x" * (validation.USERNAME_MAX + 1)
                else:
                    text = value
                problems = []
                try:
                    status = cli.main(cli_argv(command, argument, text))
                except SystemExit as exc:  # argparse, or a refusal: a message and a status
                    status = exc.code if isinstance(exc.code, int) else 1
                except Exception as exc:
                    problems.append(f"traceback: {type(exc).__name__}: {str(exc)[:100]}")
                    status = None
                captured = capsys.readouterr()
                if "Traceback" in captured.err:
                    problems.append("printed a traceback")
                if status not in (0, 1, 2, None):
                    problems.append(f"exit status {status!r}")
                problems += store.new_problems()
                if problems:
                    findings.fail(place, kind, f"{text[:20]!r}: " + "; ".join(problems))
    store.close()
    assert cli.main(["audit", "verify"]) == 0, capsys.readouterr().out
    findings.verdict(set(pairs_of("cli")))


# ------------------------------------------------------------------------------------------------ every pair


def pairs_of(area: str, app: Any = None) -> Iterator[tuple[str, str]]:
    """The (place, kind) pairs of one area: form, page, api, csv or cli."""
    if area == "form":
        for section in CHECKLIST.sections:
            for place in section_places(section):
                for kind in HOSTILE:
                    yield place, kind
    elif area == "page":
        for page_input in page_inputs(app):
            for kind in HOSTILE:
                yield page_input.place, kind
    elif area == "api":
        for api_input in api_inputs(app.openapi_schema.to_schema()):
            for kind in kinds_for("api body") if api_input.where == "body" else HOSTILE:
                yield api_input.place, kind
    elif area == "csv":
        for column in IMPORT_COLUMNS:
            for kind in HOSTILE:
                yield f"csv {column}", kind
        yield "csv export of imported cases", "spreadsheet formulas"
    elif area == "cli":
        for command, argument in cli_arguments():
            for kind in HOSTILE:
                yield f"cli {command} {argument}", kind


def pairs() -> list[tuple[str, str]]:
    """Every (place, kind) pair this suite walks, generated from the checklist, the route table, the OpenAPI
    document, the import's columns and the command's parser."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(settings_for_tests(Path(folder)))
        return [pair for area in ("form", "page", "api", "csv", "cli") for pair in pairs_of(area, app)]


PAIRS_AT_LEAST = 3000


def test_the_pairs_are_counted() -> None:
    """How many (place, kind) pairs are walked, so it can be quoted; and every known failure is one of them."""
    every = pairs()
    print(f"\n{len(every)} (place, kind) pairs, {len({p for p, _ in every})} places, {len(HOSTILE) + 2} kinds")
    assert len(every) == len(set(every)), "each pair once"
    assert len(every) >= PAIRS_AT_LEAST
    assert set(every) >= KNOWN_FAILURES, sorted(KNOWN_FAILURES - set(every))
