"""The time limits of every wait in a handover, read from versioned data files in `checklists/time-limits/`.

Councils put a clock on every step of a transfer (see the file's own comments for the procedures its numbers come
from). The newest version applies to every handover. Every limit is a whole number of working days (weekdays that are
not bank holidays in England, `core.workdays`). A file that cannot be read, or a limit that is missing, unknown,
not a whole number, or outside 1 to 250 working days stops start-up with `TimeLimitsError`, whose message names
the file, the table and the field, as the checklist loader does.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import msgspec

FOLDER = "time-limits"  # inside the checklists folder
LONGEST = 250  # working days: about a year, beyond which a "limit" no longer limits anything
WAITS = ("endorsement", "acknowledgement", "approval", "reply", "transfer", "urgent_completion")


class TimeLimitsError(Exception):
    """A time-limits file the service must not start with."""


class Waits(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Working days allowed for each wait, from the day (in England) the handover began waiting."""

    endorsement: int  # submitted: the sending team's manager endorses
    acknowledgement: int  # endorsed: the receiving worker confirms every critical item and acknowledges
    approval: int  # acknowledged: the receiving team's manager approves
    reply: int  # returned with a query: the outgoing worker replies and resubmits
    transfer: int  # the whole transfer, from the day it was started
    urgent_completion: int  # after an urgent transfer: each missing item and every read-back


class TimeLimits(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One version of the time limits: every wait's, and each escalation stage's, by the stage's value."""

    version: int
    waits: Waits
    escalation: dict[str, int]

    def stage_limit(self, stage: str) -> int | None:
        """Working days a professional disagreement may stay at this escalation stage; None for a stage without one."""
        return self.escalation.get(stage)


def _problems(limits: TimeLimits) -> list[str]:
    problems: list[str] = []
    if limits.version < 1:
        problems.append("version must be 1 or more")
    for name in WAITS:
        days = getattr(limits.waits, name)
        if not 1 <= days <= LONGEST:
            problems.append(f"[waits]: field {name!r}: must be from 1 to {LONGEST} working days, not {days}")
    if not limits.escalation:
        problems.append("[escalation]: give a limit for each escalation stage")
    for stage, days in limits.escalation.items():
        if not 1 <= days <= LONGEST:
            problems.append(f"[escalation]: field {stage!r}: must be from 1 to {LONGEST} working days, not {days}")
    return problems


def _located(raw: dict[str, Any], message: str) -> str:
    """msgspec's "... - at `$.waits.reply`" as "[waits]: field 'reply': ..."."""
    text, _, where = message.partition(" - at `$")
    parts = [part for part in where.rstrip("`").split(".") if part]
    if not parts:
        return text
    if len(parts) == 1:
        # a table's own problem (a wait missing from [waits], one it does not know) is named by the table
        return f"[{parts[0]}]: {text}" if isinstance(raw.get(parts[0]), dict) else f"field {parts[0]!r}: {text}"
    return f"[{parts[0]}]: field {parts[1]!r}: {text}"


def load_file(path: Path) -> TimeLimits:
    """Read and check one time-limits file; `TimeLimitsError` naming the file, table and field otherwise."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TimeLimitsError(f"{path.name}: cannot be read: {exc}") from exc
    stages = raw.get("escalation")
    if isinstance(stages, dict):
        # msgspec names a table's key only as "[...]": name the stage here
        for stage, days in stages.items():
            if type(days) is not int:
                kind = {str: "str", float: "float", bool: "bool", list: "array", dict: "object"}.get(
                    type(days), "value"
                )
                raise TimeLimitsError(f"{path.name}: [escalation]: field {stage!r}: Expected `int`, got `{kind}`")
    try:
        limits = msgspec.convert(raw, TimeLimits)
    except msgspec.ValidationError as exc:
        raise TimeLimitsError(f"{path.name}: {_located(raw, str(exc))}") from exc
    problems = _problems(limits)
    if problems:
        raise TimeLimitsError(f"{path.name}: " + "; ".join(problems))
    return limits


def load_latest(checklists_dir: Path) -> tuple[Path, TimeLimits]:
    """The newest version in `<checklists_dir>/time-limits/`, with its file; every file there is checked, so a broken
    older version is found too. `TimeLimitsError` when there is none, or two files give one version."""
    folder = checklists_dir / FOLDER
    loaded: dict[int, tuple[Path, TimeLimits]] = {}
    for path in sorted(folder.glob("*.toml")):
        limits = load_file(path)
        if limits.version in loaded:
            raise TimeLimitsError(f"{path.name}: version {limits.version} is defined twice")
        loaded[limits.version] = (path, limits)
    if not loaded:
        raise TimeLimitsError(f"{folder}: no time limits (*.toml) found")
    return loaded[max(loaded)]
