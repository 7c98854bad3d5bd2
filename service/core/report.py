"""The auditors' report of handovers that are not complete: what blocks each, whom it waits on, for how long.

Pure: rows arrive as records from the database, the checklist says which sections exist and which are critical,
and the state machine's own `blockers()` words what stands in the way, so the report and the refusal pages agree.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import date, timedelta
from typing import Annotated, Literal

import msgspec

from service.checklist import Checklist
from service.core import telling
from service.core.accounts import HELD_PENDING_TRANSFER
from service.core.case_records import ON_BEHALF_OF
from service.core.caseload import on_behalf_words
from service.core.clock import date_in_england
from service.core.currency import stored_flags
from service.core.disagreements import overdue
from service.core.due_dates import (
    DUE_FOR_HEADING,
    DUE_HEADING,
    MOST_OVERDUE,
    OVERDUE_BY_HEADING,
    OVERDUE_FILTER,
    due_on_stored,
    first_moment_after,
    wait_label,
    words,
)
from service.core.errors import Invalid, Refused
from service.core.numbers import whole_number
from service.core.workdays import is_working_day, working_days_between
from service.core.workflow import STATE_LABELS, Actor, Facts, blockers, facts_for, waits_on

BlockerKind = Literal[
    "missing_sections",
    "returned_with_query",
    "awaiting_endorsement",
    "awaiting_acknowledgement",
    "awaiting_approval",
    "stale_record",
    "open_disagreement",
    "overdue_disagreement",
    "agency_not_told",
]
BLOCKER_LABELS: dict[str, str] = {
    "missing_sections": "Missing sections",
    "returned_with_query": "Returned with a query",
    "awaiting_endorsement": "Awaiting endorsement",
    "awaiting_acknowledgement": "Awaiting acknowledgement",
    "awaiting_approval": "Awaiting approval",
    "stale_record": "Records not up to date",
    "open_disagreement": "Open professional disagreement",
    "overdue_disagreement": "Professional disagreement overdue at its stage",
    "agency_not_told": "Waiting on agencies to be told",
}
SORTS: dict[str, str] = {
    "oldest": "Oldest first",
    "newest": "Newest first",
    "last_activity": "Least recent activity first",
    "state": "State",
    "most_overdue": MOST_OVERDUE,
}
OVERDUE_CHOICES: dict[str, str] = {"yes": OVERDUE_FILTER}  # the report's `overdue` filter: "yes", or left out
URGENT_CHOICES: dict[str, str] = {"yes": "Urgent transfers still completing"}  # the `urgent` filter: "yes", or out

# How long a handover has waited for the person it waits on now (working days since its state began: the draft's
# start, the submission, the endorsement, the acknowledgement or the return), in the bands the oversight page counts
# and the report filters by (`waited`). Each band: (fewest, most or None for no upper end), working days.
WaitBand = Literal["under-5", "5-to-9", "10-to-19", "20-or-more"]
WAIT_BANDS: dict[str, tuple[int, int | None]] = {
    "under-5": (0, 4),
    "5-to-9": (5, 9),
    "10-to-19": (10, 19),
    "20-or-more": (20, None),
}
WAIT_BAND_LABELS: dict[str, str] = {
    "under-5": "Under 5 working days",
    "5-to-9": "5 to 9 working days",
    "10-to-19": "10 to 19 working days",
    "20-or-more": "20 working days or more",
}
# Whom an open handover waits on, by role (`workflow.waits_on` names the person), and the states in which it does.
WaitingFor = Literal["outgoing_worker", "sending_manager", "receiving_worker", "receiving_manager"]
WAITING_FOR_LABELS: dict[str, str] = {
    "outgoing_worker": "The outgoing worker",
    "sending_manager": "The sending team's manager",
    "receiving_worker": "The receiving worker",
    "receiving_manager": "The receiving team's manager",
}
WAITING_FOR_STATES: dict[str, tuple[str, ...]] = {
    "outgoing_worker": ("draft", "returned"),
    "sending_manager": ("submitted",),
    "receiving_worker": ("endorsed",),
    "receiving_manager": ("acknowledged",),
}
# The two measures of time on the report, each explained once where the report is shown.
WORKING_DAYS_OPEN = "Working days open"
WORKING_DAYS_OPEN_MEANS = (
    "Working days since the handover was started, counting weekdays that are not bank holidays in England."
)
WORKING_DAYS_WAITING = "Working days waiting"
WORKING_DAYS_WAITING_MEANS = (
    "Working days the handover has waited for the person it waits on now: since it was started (a draft), submitted,"
    " endorsed, acknowledged or returned. The blocker that says whom it awaits gives this wait; the blocker of a"
    " professional disagreement counts its own time, from the date it reached its escalation stage."
)


class ReportTerms(msgspec.Struct, frozen=True, kw_only=True):
    """What the report's SQL needs to know from the checklists: how many sections each version has, and for each
    (checklist id, version, escalation stage) the latest date (ISO) at which a disagreement that reached the stage
    is overdue today (`disagreements.overdue_before`); for each wait, the stored time (UTC) before which a wait that
    began is overdue today (`due_dates.overdue_cutoffs`); and the checklist whose time limits give the due dates (the
    newest limits apply to every handover), for the sort by due date."""

    section_counts: dict[tuple[str, int], int]
    overdue_before: dict[tuple[str, int, str], str]
    overdue_since: dict[str, str] = {}
    due_checklist: Checklist | None = None
    today: date | None = None  # the report's day, in England
    # for each of `WAIT_BANDS`, the stored times (UTC) between which a handover's `state_since` falls when its wait
    # is in the band today (`wait_band_cutoffs`): at or after the first (None: no lower end), before the second
    waited_since: dict[str, tuple[str | None, str | None]] = {}


MIN_WORKING_DAYS_MAX = 10_000  # about forty years: a longer minimum age is a typing mistake


class ReportFilter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the auditor asked for; the same record drives the page, the downloads and the command line."""

    team_id: int | None = None
    team_side: Literal["either", "sending", "receiving"] = "either"
    state: Literal["draft", "submitted", "endorsed", "returned", "acknowledged"] | None = None
    blocker: BlockerKind | None = None
    min_working_days: int = msgspec.field(default=0)
    sort: Literal["oldest", "newest", "last_activity", "state", "most_overdue"] = "oldest"
    sibling_group_id: int | None = None  # only the children of this sibling group
    overdue: bool = False  # only handovers past their due date (`deadlines.due`)
    waited: WaitBand | None = None  # only handovers waiting for their current person this long (`WAIT_BANDS`)
    waiting_for: WaitingFor | None = None  # only handovers waiting on this role (`WAITING_FOR_STATES`)
    urgent: bool = False  # only urgent transfers still completing (authorised by the head of service, not closed)
    disagreement_stage: str | None = None  # only handovers with an open professional disagreement at this stage
    # Who may see which handovers (`report_scope`): None for every team; otherwise only handovers sent from or to one
    # of these teams. Set from the signed-in person, never from the query.
    scope: frozenset[int] | None = None
    # Teams of the scope whose handovers the person sees on the receiving side only once they reach it (a receiving
    # team manager: `report_receiving_only`, after `workflow.may_view`). Set from the person, never from the query.
    receiving_only: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.min_working_days <= MIN_WORKING_DAYS_MAX:
            raise ValueError(f"The minimum age must be a whole number of working days from 0 to {MIN_WORKING_DAYS_MAX}")


# The report's filters as the auditor's page, the API and the command line name them, and the field each sets.
FILTER_NAMES = {"team": "team_id", "side": "team_side", "state": "state", "blocker": "blocker",
                "min_days": "min_working_days", "sort": "sort", "group": "sibling_group_id",
                "overdue": "overdue", "waited": "waited", "waiting_for": "waiting_for", "urgent": "urgent",
                "disagreement_stage": "disagreement_stage"}  # fmt: skip
TEAM_FILTER_MESSAGE = "Select a team from the list"  # the report's and the oversight page's `team` filter
# the sibling group typed by its number, where there are too many groups to list (web/auditor.py)
GROUP_NUMBER_MESSAGE = "Enter the sibling group’s number, as shown beside its name in the table, in figures"
GROUP_NOT_KNOWN_MESSAGE = "There is no sibling group with that number among the handovers you can see"
_FILTER_MESSAGES = {
    "team": TEAM_FILTER_MESSAGE,
    "side": "Select the team's side of the transfer from the list",
    "state": "Select a state from the list",
    "blocker": "Select what the handover waits on from the list",
    "sort": "Select an order from the list",
    "group": "Select a sibling group from the list",
    "overdue": f"Select ‘{OVERDUE_FILTER}’ or leave the filter out",
    "waited": "Select how long the handover has waited from the list",
    "waiting_for": "Select whom the handover waits on from the list",
    "urgent": f"Select ‘{URGENT_CHOICES['yes']}’ or leave the filter out",
    "disagreement_stage": "Select an escalation stage from the list",
    "min_days": (
        f"Enter the minimum age as a whole number of working days from 0 to {MIN_WORKING_DAYS_MAX}, for example 10"
    ),
}


def parse_report_filter(
    query: Mapping[str, object],
    stages: Collection[str] = (),
    scope: frozenset[int] | None = None,
    teams: Collection[int] | None = None,
    receiving_only: frozenset[int] = frozenset(),
) -> ReportFilter:
    """The filter asked for, from a mapping of the names in `FILTER_NAMES` to text (a query string, command-line
    options) or to values already typed (the API's). Empty and missing names take their defaults.

    `stages` are the escalation stages a disagreement can be at (the values of every loaded checklist's ladder,
    `escalation_stages`); a `disagreement_stage` not among them is refused. `scope` is whose handovers the person
    asking may see (`report_scope`: None for every team); it is the filter's scope, and a `team` outside it is
    refused as a team not on the list, since the list offers only the teams in scope. `teams`, where given, are the
    teams on record: a `team` not among them is refused the same way, rather than giving an empty report or an
    empty data return that looks like a true one.

    Raises `Invalid` keyed by the name that is wrong, with a message saying what to choose or enter. Numbers are
    ASCII digits only (`str.isdigit` would take superscripts, which `int()` then refuses).
    """
    raw: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, field in FILTER_NAMES.items():
        value = query.get(name)
        if value is None or value == "":
            continue
        if name in ("team", "min_days", "group") and isinstance(value, str):
            number = whole_number(value)
            if number is None:
                errors[name] = _FILTER_MESSAGES[name]
                continue
            value = number
        if name in ("overdue", "urgent"):
            if value not in ("yes", True):
                errors[name] = _FILTER_MESSAGES[name]
                continue
            value = True
        if name == "disagreement_stage" and value not in stages:
            errors[name] = _FILTER_MESSAGES[name]
            continue
        if name == "team" and (
            (scope is not None and value not in scope) or (teams is not None and value not in teams)
        ):
            errors[name] = _FILTER_MESSAGES[name]
            continue
        raw[field] = value
    if not errors:
        try:
            return msgspec.structs.replace(
                msgspec.convert(raw, ReportFilter), scope=scope, receiving_only=receiving_only
            )
        except (msgspec.ValidationError, ValueError) as exc:
            name = next((n for n, field in FILTER_NAMES.items() if f"`$.{field}`" in str(exc)), "min_days")
            errors[name] = _FILTER_MESSAGES.get(name, "Select one of the options given")
    raise Invalid(errors)


def escalation_stages(checklists: Iterable[Checklist]) -> dict[str, str]:
    """Every escalation stage a disagreement can be at, value to label, over the checklists given (later versions'
    labels win), in ladder order: the `disagreement_stage` filter's choices."""
    stages: dict[str, str] = {}
    for checklist in checklists:
        for option in checklist.escalation_ladder:
            stages[option.value] = option.label
    return stages


NOT_AN_OVERSEER = "Only team managers, service managers and auditors can see handovers across a team"


def report_scope(actor: Actor) -> frozenset[int] | None:
    """The teams whose handovers (sent from or to them) a person may see on the report, the oversight page and their
    downloads: None for every team (an auditor); a team manager their teams; a service manager or the head of
    service also the teams they oversee (`Actor.overseen_teams`), as they may read those handovers.

    Raises `Refused` (`NOT_AN_OVERSEER`) for anyone else, a service account included."""
    if actor.is_service:
        raise Refused([NOT_AN_OVERSEER])
    if actor.is_auditor:
        return None
    teams = actor.manager_teams | actor.overseen_teams
    if not teams:
        raise Refused([NOT_AN_OVERSEER])
    return frozenset(teams)


def report_receiving_only(actor: Actor) -> frozenset[int]:
    """The teams of `report_scope(actor)` whose incoming handovers the person may see only once each has reached its
    receiving side (`workflow.may_view`: endorsed to the receiver, acknowledged, closed, returned by the receiver, or
    moved early by an urgent transfer): the teams they manage and do not oversee one step up. Handovers those teams
    send, they see from the start."""
    if actor.is_auditor:
        return frozenset()
    return frozenset(actor.manager_teams - actor.overseen_teams)


def may_oversee(actor: Actor | None) -> bool:
    """Whether `report_scope` gives this person a scope: the report, the oversight page and their downloads are
    theirs to see, and the service navigation offers them."""
    if actor is None:
        return False
    try:
        report_scope(actor)
    except Refused:
        return False
    return True


FILTER_ONCE = "Choose this filter once"  # by each filter given twice, on the page and on the command line
REPEATED_FILTERS = "Give each filter once"  # the API's answer when a filter is repeated; each filter's own is below


def repeated_filter_errors(names: Iterable[str]) -> dict[str, str]:
    """For a query string's names in order, the filters given more than once (a page sends each once; which of
    two values was meant cannot be known), keyed by name."""
    counted = Counter(name for name in names if name in FILTER_NAMES)
    return {name: FILTER_ONCE for name, count in counted.items() if count > 1}


class IncompleteRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One open handover as the database gives it."""

    id: int
    case_reference: str
    sibling_group: str | None
    checklist_id: str
    checklist_version: int
    state: str
    author_id: int
    author: str
    sending_team_id: int
    sending_team: str
    receiver_id: int | None
    receiver: str | None
    receiving_team_id: int
    receiving_team: str
    started_at: str
    submitted_at: str | None
    state_since: str
    last_activity_at: str
    endorsed_by: int | None
    acknowledged_by: int | None
    record_flags: str
    open_disagreements: int
    open_disagreement_stages: str
    completed_sections: str  # comma-separated section ids
    unconfirmed_critical: str  # comma-separated section ids
    left_out_of_group: str = ""  # the children of the group left out of its handover, with why, split by char(30)
    held_pending_transfer: bool = False  # the case is held by its team's manager after its worker left
    on_behalf_of_name: str | None = None  # the worker the team manager continues the handover for
    urgent_at: str | None = None  # when the head of service authorised an urgent transfer (UTC), if they did
    urgent_by: int | None = None  # who did (workflow.Facts: the state machine's rules for an urgent transfer)
    family_told: bool = False  # any family notice recorded (core.telling.status_of)
    agencies_waiting: str = ""  # each professional neither told nor with a reason (core.telling.status_of)


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the report and of its exports."""

    handover_id: int
    child_reference: str
    sibling_group: str
    sending_worker: str
    sending_team: str
    receiving_worker: str
    receiving_team: str
    state: str
    started: str
    submitted: str
    working_days_open: Annotated[
        int,
        msgspec.Meta(description="Working days since the handover was started (bank holidays in England not counted)"),
    ]
    working_days_waiting: Annotated[
        int,
        msgspec.Meta(
            description="Working days since the handover reached its state: how long it has waited for the person it "
            "waits on now (the time given in its blockers)"
        ),
    ]
    waits_on: str
    blockers: list[str]
    last_activity: str
    held_pending_transfer: Annotated[
        bool, msgspec.Meta(description="The case is held by its team manager pending transfer: its worker left")
    ] = False
    completed_on_behalf_of: Annotated[
        str, msgspec.Meta(description="The worker who left, on whose behalf the team manager completes the handover")
    ] = ""
    left_out_of_group: list[str] = []  # "name (reference): why", for a child's handover within a group's
    due_on: Annotated[
        str, msgspec.Meta(description="When the handover's current wait is due: an ISO date in England")
    ] = ""
    due_wait: Annotated[
        str,
        msgspec.Meta(
            description="Which time limit set the due date: endorsement, acknowledgement, approval, reply, transfer "
            "(the whole transfer's) or urgent_completion"
        ),
    ] = ""
    overdue_by_working_days: Annotated[
        int, msgspec.Meta(description="Working days past the due date; 0 when it is not overdue")
    ] = 0
    urgent: Annotated[
        bool,
        msgspec.Meta(
            description="Urgent, completing after transfer: the head of service moved the case before sign-off"
        ),
    ] = False

    def due_words(self) -> str:
        """The due date as every list says it ("Due 4 December 2026", "Overdue by 3 working days (due ...)")."""
        return words(date.fromisoformat(self.due_on), self.overdue_by_working_days) if self.due_on else ""


def working_days_back(today: date, days: int) -> date:
    """The latest date that is at least `days` working days before `today`."""
    day = today
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        counted += is_working_day(day)
    return day


def latest_start_for(today: date, days: int) -> date:
    """The latest date (in England) on which something can have begun and have lasted at least `days` working days
    (`days` >= 1) on `today`, as `working_days_between(start, today)` counts them (working days after the start, up
    to and including today): the day before the `days`-th working day counted back from today, today included.

    For example on Tuesday 28 May 2024 (after the spring bank holiday on Monday 27 May) one working day is reached
    by a start on Monday 27 May or earlier, two by a start on Thursday 23 May or earlier."""
    if days < 1:
        raise ValueError("a wait of at least no working days has no latest start")
    day = today
    counted = 0
    while True:
        counted += is_working_day(day)
        if counted == days:
            return day - timedelta(days=1)
        day -= timedelta(days=1)


def wait_band(days: int) -> str:
    """The band of `WAIT_BANDS` a wait of `days` working days falls in."""
    return next(
        band for band, (fewest, most) in WAIT_BANDS.items() if fewest <= days and (most is None or days <= most)
    )


def wait_band_cutoffs(today: date) -> dict[str, tuple[str | None, str | None]]:
    """For each of `WAIT_BANDS`, the stored times (UTC, as `due_dates.first_moment_after` writes them) between which
    a wait that began falls in the band on `today` (England): at or after the first (None: no lower end), before the
    second (None: no upper end). A wait's length is `working_days_between(date_in_england(began), today)`, so a
    band's bounds are the first moments of the days after `latest_start_for` its fewest and one more than its most
    days, in England (midnight there is 23:00 UTC in summer)."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for band, (fewest, most) in WAIT_BANDS.items():
        before = first_moment_after(latest_start_for(today, fewest)) if fewest > 0 else None
        since = first_moment_after(latest_start_for(today, most + 1)) if most is not None else None
        found[band] = (since, before)
    return found


def _ids(text: str) -> set[str]:
    return {part for part in text.split(",") if part}


def _titles(checklist: Checklist, ids: str, listed: bool) -> tuple[str, ...]:
    """The titles, in the checklist's order, of its sections whose ids are (`listed`) or are not in `ids` (comma-
    separated, as the report's query gives them)."""
    chosen = _ids(ids)
    return tuple(section.title for section in checklist.sections if (section.id in chosen) is listed)


# the titles for each (checklist, ids, listed) asked for: an export's rows name the same few sets of sections again
# and again. Each entry holds its checklist, so the id in its key is never another checklist's while it is kept.
_TITLES_KEPT = 4096
_titles_kept: dict[tuple[int, str, bool], tuple[Checklist, tuple[str, ...]]] = {}


def section_titles(checklist: Checklist, ids: str, listed: bool) -> tuple[str, ...]:
    """`_titles`, worked out once for each checklist, set of ids and choice."""
    key = (id(checklist), ids, listed)
    kept = _titles_kept.get(key)
    if kept is not None and kept[0] is checklist:
        return kept[1]
    titles = _titles(checklist, ids, listed)
    if len(_titles_kept) >= _TITLES_KEPT:
        _titles_kept.clear()
    _titles_kept[key] = (checklist, titles)
    return titles


def _facts(record: IncompleteRecord, checklist: Checklist, today: date) -> Facts:
    return facts_for(
        record,
        today,
        incomplete_sections=section_titles(checklist, record.completed_sections, False),
        unconfirmed_items=section_titles(checklist, record.unconfirmed_critical, True),
        overdue_disagreements=tuple(
            item.sentence() for item in overdue(checklist, record.open_disagreement_stages, today)
        ),
        stale_records=tuple(flag.sentence() for flag in stored_flags(record.record_flags)),
        telling_missing=telling.missing(checklist, record.family_told, record.agencies_waiting),
    )


def report_row(record: IncompleteRecord, checklist: Checklist, today: date) -> ReportRow:
    facts = _facts(record, checklist, today)
    due = due_on_stored(checklist, record.state, record.state_since, record.started_at, record.urgent_at, today)
    return ReportRow(
        handover_id=record.id,
        child_reference=record.case_reference,
        sibling_group=record.sibling_group or "",
        sending_worker=record.author
        + (f" ({on_behalf_words(record.on_behalf_of_name)})" if record.on_behalf_of_name else ""),
        sending_team=record.sending_team,
        receiving_worker=record.receiver or "",
        receiving_team=record.receiving_team,
        state=STATE_LABELS[facts.state],
        started=record.started_at,
        submitted=record.submitted_at or "",
        working_days_open=working_days_between(date_in_england(record.started_at), today),
        # the blockers' "since ..., N working days" counts the same days (`workflow.waited`)
        working_days_waiting=working_days_between(facts.state_since, today),
        waits_on=waits_on(facts),
        blockers=blockers(facts),
        last_activity=record.last_activity_at,
        held_pending_transfer=record.held_pending_transfer,
        completed_on_behalf_of=record.on_behalf_of_name or "",
        left_out_of_group=[text for text in record.left_out_of_group.split("\x1e") if text],
        due_on=due.due_on.isoformat() if due else "",
        due_wait=due.wait if due else "",
        overdue_by_working_days=due.overdue_by if due else 0,
        urgent=record.urgent_by is not None,
    )


# CSV injection (OWASP, "CSV Injection"): a spreadsheet runs a cell as a formula when its text starts with =, +, -
# or @, and tab and carriage return can start one too. Spreadsheets skip leading spaces before deciding, and some
# (LibreOffice, Excel with East Asian input) read the full-width forms U+FF1D, U+FF0B, U+FF0D and U+FF20 as the
# ASCII signs, so those count as well.
_FORMULA_SIGNS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def safe_cell(value: object) -> str:
    """Text for a CSV cell that a spreadsheet shows as text, never runs: a cell whose first character, or first after
    leading whitespace, is a formula sign gets OWASP's single quote in front; the text is otherwise unchanged, so it
    stays readable."""
    if isinstance(value, int):  # bool too: a count, an id or a yes/no is never read as a formula (no sign: >= 0)
        return "'" + str(value) if value < 0 else str(value)
    text = "" if value is None else str(value)
    if not text or (text[0] not in _FORMULA_SIGNS and not text[0].isspace()):
        return text  # most cells: the first character decides, with no whitespace to look past
    first = text.lstrip()[:1]  # after any leading whitespace, Unicode's included (no-break and ideographic spaces)
    return "'" + text if text[:1] in _FORMULA_SIGNS or first in _FORMULA_SIGNS else text


CSV_COLUMNS = [
    ("handover_id", "Handover"),
    ("child_reference", "Child reference"),
    ("sibling_group", "Sibling group"),
    ("sending_worker", "Sending worker"),
    ("sending_team", "Sending team"),
    ("receiving_worker", "Receiving worker"),
    ("receiving_team", "Receiving team"),
    ("state", "State"),
    ("started", "Started"),
    ("submitted", "Submitted"),
    ("working_days_open", WORKING_DAYS_OPEN),
    ("working_days_waiting", WORKING_DAYS_WAITING),
    ("waits_on", "Waits on"),
    ("due_on", DUE_HEADING),
    ("due_wait", DUE_FOR_HEADING),
    ("overdue_by_working_days", OVERDUE_BY_HEADING),
    ("blockers", "Blockers"),
    ("last_activity", "Last activity"),
    ("held_pending_transfer", HELD_PENDING_TRANSFER),
    ("completed_on_behalf_of", ON_BEHALF_OF),
    ("left_out_of_group", "Left out of the sibling group's handover"),
]


_CSV_VALUES = operator.attrgetter(*(key for key, _ in CSV_COLUMNS))
_CSV_KEYS = [key for key, _ in CSV_COLUMNS]
_CSV_LISTS = [_CSV_KEYS.index("blockers"), _CSV_KEYS.index("left_out_of_group")]  # several texts, joined by "; "
_CSV_HELD = _CSV_KEYS.index("held_pending_transfer")
_CSV_WAIT = _CSV_KEYS.index("due_wait")


def csv_cells(row: ReportRow) -> list[str]:
    """The row's cells in `CSV_COLUMNS` order, each made safe by `safe_cell` (an export writes tens of thousands of
    rows: the columns are read in one go, and only a cell whose first character could start a formula is looked at
    further)."""
    values = list(_CSV_VALUES(row))
    for index in _CSV_LISTS:
        values[index] = "; ".join(values[index])
    values[_CSV_HELD] = "Yes" if values[_CSV_HELD] else "No"
    values[_CSV_WAIT] = wait_label(values[_CSV_WAIT])
    cells = [str(value) for value in values]
    return [
        cell if not cell or (cell[0] not in _FORMULA_SIGNS and not cell[0].isspace()) else safe_cell(cell)
        for cell in cells
    ]
