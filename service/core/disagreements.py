"""Professional disagreements: one record, however they are first written down.

A disagreement the outgoing worker records in the checklist's disagreements section becomes a tracked disagreement
when the handover is submitted (`from_answers`); one raised on the handover's page is tracked from the start. Either
way it stays open, whatever stage it is escalated to, until a team manager resolves it with an outcome; while any is
open the transfer cannot be approved (`workflow`). Escalation follows the safeguarding partnership's escalation
policy (Working Together to Safeguard Children 2023, chapter 2: "resolving professional disagreements"): the
checklist's stage options, in order, are the ladder, and each stage's time limit, in working days, comes from the
time-limits file with every other limit (`service.time_limits`, filled into `Option.working_days` when the checklists
load). A disagreement longer at its stage than the limit is overdue.

Pure: no web, no SQL. Dates are dates in England.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from service.checklist import Checklist, Option
from service.core.answers import SectionAnswers, parse_date
from service.core.workdays import working_days_between

# A stored disagreement's stage and the date it reached it, as the handover's query lists the open ones: each
# "stage<US>YYYY-MM-DD", joined by <RS> (ASCII unit and record separators, which no stage value holds).
UNIT, RECORD = "\x1f", "\x1e"


class Tracked(msgspec.Struct, frozen=True, kw_only=True):
    """A disagreement as a row of the checklist states it, ready to be tracked. `key` tells the same row apart
    on a later submission (what it is about and with whom, in any case and spacing)."""

    about: str
    with_whom: str
    stage: str
    next_step: str
    next_step_by: str  # ISO date, or "" when not given
    stage_since: str  # ISO date it reached its stage, or "" when the checklist does not ask
    key: str


class Overdue(msgspec.Struct, frozen=True, kw_only=True):
    """An open disagreement that has stayed at its stage for longer than the ladder allows."""

    stage: str  # the stage's label
    since: date
    working_days: int  # at the stage so far
    limit: int  # working days allowed at the stage

    def sentence(self) -> str:
        return (
            f"A professional disagreement is overdue at ‘{self.stage}’: {self.working_days} working days since "
            f"{self.since.day} {self.since:%B %Y}, against a limit of {self.limit}"
        )


def row_key(about: str, with_whom: str) -> str:
    return " ".join(about.split()).casefold() + UNIT + " ".join(with_whom.split()).casefold()


def from_answers(checklist: Checklist, answers: dict[str, SectionAnswers]) -> list[Tracked]:
    """Each disagreement the checklist's disagreements section records, in order; [] where the checklist has no
    such section or the answers record none (the group is hidden, so `without_hidden` kept no rows)."""
    rows_at = checklist.disagreements
    if rows_at is None or rows_at.section not in answers:
        return []
    found: list[Tracked] = []
    for row in answers[rows_at.section].groups.get(rows_at.group, []):

        def text(name: str, row: dict[str, str | list[str]] = row) -> str:
            value = row.get(getattr(rows_at, name), "") if getattr(rows_at, name) else ""
            return value.strip() if isinstance(value, str) else ""

        if not text("about"):
            continue
        found.append(
            Tracked(
                about=text("about"),
                with_whom=text("with_whom"),
                stage=text("stage"),
                next_step=text("next_step"),
                next_step_by=text("next_step_by"),
                stage_since=text("stage_since"),
                key=row_key(text("about"), text("with_whom")),
            )
        )
    return found


def first_stage(checklist: Checklist) -> str:
    """Where a disagreement raised on the handover's page starts: the ladder's lowest stage ("" without one)."""
    ladder = checklist.escalation_ladder
    return ladder[0].value if ladder else ""


def stage_label(checklist: Checklist, stage: str) -> str:
    return next((option.label for option in checklist.escalation_ladder if option.value == stage), stage)


def _stage(checklist: Checklist, stage: str) -> Option | None:
    return next((option for option in checklist.escalation_ladder if option.value == stage), None)


def overdue_at(checklist: Checklist, stage_value: str, since_text: str, today: date) -> Overdue | None:
    """Whether a disagreement at this stage since this date (ISO) is past the stage's time limit on `today`; None
    when it is not, or the ladder gives the stage no limit."""
    stage = _stage(checklist, stage_value)
    try:
        since = date.fromisoformat(since_text)
    except ValueError:
        return None
    if stage is None or stage.working_days is None:
        return None
    days = working_days_between(since, today)
    if days <= stage.working_days:
        return None
    return Overdue(stage=stage.label, since=since, working_days=days, limit=stage.working_days)


def overdue(checklist: Checklist, open_stages: str, today: date) -> tuple[Overdue, ...]:
    """The open disagreements (as the handover's query lists them, see UNIT and RECORD) that are past their stage's
    time limit on `today`."""
    if not open_stages:
        return ()  # most handovers have no open disagreement
    found = (overdue_at(checklist, *item.partition(UNIT)[::2], today) for item in open_stages.split(RECORD) if item)
    return tuple(item for item in found if item is not None)


def stages_above(checklist: Checklist, current: str) -> list[Option]:
    """The stages a disagreement at `current` may be escalated to: every stage above it on the ladder (all of them
    for a stage the ladder does not know)."""
    values = [option.value for option in checklist.escalation_ladder]
    start = values.index(current) + 1 if current in values else 0
    return checklist.escalation_ladder[start:]


def overdue_before(checklist: Checklist, today: date) -> dict[str, str]:
    """For each stage with a limit, the latest date (ISO) a disagreement could have reached it and be overdue on
    `today`: the report filters on it in SQL."""
    cutoffs: dict[str, str] = {}
    for stage in checklist.escalation_ladder:
        if stage.working_days is None:
            continue
        day = today
        while working_days_between(day, today) <= stage.working_days:
            day -= timedelta(days=1)
        cutoffs[stage.value] = day.isoformat()
    return cutoffs


def escalation_stage_errors(checklist: Checklist, current: str, stage: str) -> dict[str, str]:
    """An escalation is to a stage on the ladder above the one the disagreement has reached (escalating never
    resolves, nor goes back down). Keyed `stage`, the form's field."""
    values = [option.value for option in checklist.escalation_ladder]
    if stage not in values:
        return {"stage": "Select the stage the disagreement has been escalated to"}
    if current in values and values.index(stage) <= values.index(current):
        return {"stage": f"Select a stage above ‘{stage_label(checklist, current)}’, the stage it has already reached"}
    return {}


def escalation_date_errors(
    checklist: Checklist, current: str, since: str, stage_date: str, found: dict[str, str]
) -> dict[str, str]:
    """An escalation cannot be dated before the disagreement reached the stage it is escalated from (`since`, ISO);
    nothing to add when the date already has a message in `found`. Keyed `stage_date-day`, the date's first box."""
    if any(key.startswith("stage_date-") for key in found):
        return {}
    on = parse_date(stage_date)
    try:
        reached = date.fromisoformat(since)
    except ValueError:
        return {}
    if on is None or on >= reached:
        return {}
    return {
        "stage_date-day": f"The date of the escalation must be on or after {reached.day} {reached:%B %Y}, when the "
        f"disagreement reached ‘{stage_label(checklist, current)}’"
    }
