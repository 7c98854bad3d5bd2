"""Whether a handover's records are up to date: the checklist's currency rules applied to its answers.

A stale record does not stop a handover (some cannot be brought up to date in time, and the case must still move),
but it never passes silently: submission asks the outgoing worker to update it or say why not, and every stale item
is a flag the endorsing manager, the receiving worker, the approver and the auditors see. Rules come from the
checklist (`CurrencyRule`): a limit in calendar days, working days or months, or a date that must not have passed,
per legal status where procedures differ.

Pure: no web, no SQL. Dates are dates in England.
"""

from __future__ import annotations

import calendar
from datetime import date

import msgspec

from service.checklist import Checklist, CurrencyRule
from service.core.answers import SectionAnswers, Value, input_id, parse_date, row_prefix
from service.core.validation import text_errors
from service.core.workdays import working_days_between

STALE_REASON_MAX = 1000  # characters: why a record is not up to date

UNIT_WORDS = {"calendar_days": "days", "working_days": "working days", "months": "months"}


class StaleItem(msgspec.Struct, frozen=True, kw_only=True):
    """One record that is not up to date. `key` names the rule and, in a repeatable group, the row (the form's
    field is `stale-<key>`); `input_id` links to the date's first box on the section's page."""

    key: str
    section_id: str
    input_id: str
    message: str


class Flag(msgspec.Struct, frozen=True, kw_only=True):
    """A stale item as the handover keeps it: what was found, when it was judged (submission or approval), and the
    outgoing worker's reason, if they gave one."""

    key: str
    message: str
    judged_at: str  # "submission" or "approval"
    reason: str = ""

    def sentence(self) -> str:
        why = f" (reason given: {self.reason})" if self.reason else ""
        return f"Record not up to date at {self.judged_at}: {self.message}{why}"


def _months_later(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _age(rule: CurrencyRule, day: date, today: date) -> int:
    if rule.unit == "working_days":
        return working_days_between(day, today)
    if rule.unit == "months":
        months = (today.year - day.year) * 12 + today.month - day.month
        return months if _months_later(day, months) <= today else months - 1
    return (today - day).days


def _problem(rule: CurrencyRule, value: Value, today: date) -> str | None:
    day = parse_date(value) if isinstance(value, str) else None
    if day is None:
        return None  # missing or not a date: the section's own validation says so
    on = f"{day.day} {day:%B %Y}"
    if rule.not_past:
        return f"{rule.what}: {on} has passed ({rule.source})" if day < today else None
    assert rule.within is not None, "check_definition: a rule has within or not_past"
    age = _age(rule, day, today)
    if age <= rule.within:
        return None
    units = UNIT_WORDS[rule.unit]
    return f"{rule.what}: {on}, {age} {units} ago; the limit is {rule.within} {units} ({rule.source})"


def _applies(rule: CurrencyRule, answers: dict[str, SectionAnswers]) -> bool:
    if rule.when is None:
        return True
    given = answers.get(rule.when.section, SectionAnswers()).values.get(rule.when.field, "")
    chosen = given if isinstance(given, list) else [given]
    return any(value in rule.when.any_of for value in chosen)


def stale_items(checklist: Checklist, answers: dict[str, SectionAnswers], today: date) -> list[StaleItem]:
    """Every record the answers show is not up to date on `today`, in the checklist's order of rules."""
    found: list[StaleItem] = []
    for rule in checklist.currency:
        section = checklist.section(rule.section)
        if section is None or rule.section not in answers or not _applies(rule, answers):
            continue
        given = answers[rule.section]
        group = section.group(rule.group) if rule.group else None
        if group is None:
            field = section.field(rule.field)
            message = _problem(rule, given.values.get(rule.field, ""), today)
            if field is not None and message:
                value = given.values.get(rule.field, "")
                found.append(StaleItem(key=rule.key, section_id=section.id, input_id=input_id(field, "", value),
                                       message=message))  # fmt: skip
            continue
        field = group.field(rule.field)
        for index, row in enumerate(given.groups.get(group.id, [])):
            message = _problem(rule, row.get(rule.field, ""), today)
            if field is not None and message:
                prefix = row_prefix(group, index)
                found.append(StaleItem(key=f"{rule.key}.{index + 1}", section_id=section.id,
                                       input_id=input_id(field, prefix, row.get(rule.field, "")),
                                       message=f"{group.row_label} {index + 1}: {message}"))  # fmt: skip
    return found


def reason_errors(stale: list[StaleItem], reasons: dict[str, str]) -> dict[str, str]:
    """Each stale item needs the outgoing worker's reason at submission (or an update to the record); keyed
    `stale-<key>`, the check-answers page's fields."""
    errors: dict[str, str] = {}
    for item in stale:
        errors |= text_errors(
            f"stale-{item.key}",
            reasons.get(item.key, ""),
            missing=f"{item.message}. Update it, or say why it is not up to date",
            limit=STALE_REASON_MAX,
            what="The reason",
        )
    return errors


def flags(stale: list[StaleItem], reasons: dict[str, str], judged_at: str) -> list[Flag]:
    return [
        Flag(key=item.key, message=item.message, judged_at=judged_at, reason=reasons.get(item.key, "").strip())
        for item in stale
    ]


def stored_flags(text: str) -> list[Flag]:
    """The flags as the handover keeps them (JSON); none for text that is not a list of flags."""
    if not text or text == "[]":
        return []  # most handovers: nothing was out of date
    try:
        return msgspec.json.decode(text, type=list[Flag])
    except msgspec.DecodeError:
        return []
