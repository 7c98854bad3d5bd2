"""A handover's answers and their validation against its checklist definition.

Pure functions: no web, no SQL. Every message is addressed to the field it is about, keyed by the id of the input
the message should link to, so the form, the "check your answers" page, the API and the tests show the same thing.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from service.checklist import Checklist, Field, Group, Section
from service.core.clock import ENGLAND
from service.core.dates import boxes_in_error, date_problem
from service.core.dates import date_parts as date_parts  # re-exported: the form and the pages read dates here too
from service.core.dates import join_date as join_date
from service.core.dates import parse_date as parse_date
from service.core.text import (
    EMAIL_FORMAT_MESSAGE,
    HIDDEN_CHARACTER_MESSAGE,
    NOT_ONE_LINE_MESSAGE,
    breaks_one_line,
    has_hidden_characters,
    is_blank,
    is_email_address,
)

Value = str | list[str]
Row = dict[str, Value]

ROWS_PER_GROUP_MAX = 50  # whatever a definition says, no repeatable group is kept with more rows than this
ANSWER_STORED_MAX = 100_000  # characters: no answer is kept longer than this, even in a draft


class SectionAnswers(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What was typed into one section: single fields by id, and the rows of each repeatable group."""

    values: dict[str, Value] = {}
    groups: dict[str, list[Row]] = {}


class ChildRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the child's case record says, which the handover restates (fields with `from_case_record`) and which
    bounds its dates (`not_before_birth`). `siblings` are the other children of the sibling group: (name,
    reference) pairs."""

    name: str
    date_of_birth: str  # ISO
    reference: str
    siblings: tuple[tuple[str, str], ...] = ()
    corrected_at: str | None = None  # when an administrator last corrected the record (an ISO timestamp)

    def born(self) -> date | None:
        return parse_date(self.date_of_birth)

    def siblings_text(self) -> str:
        return "\n".join(f"{name} ({reference})" for name, reference in self.siblings)

    def prefill(self, item: str) -> str:
        """The answer a `from_case_record` field starts with."""
        return {
            "child_name": self.name,
            "date_of_birth": self.date_of_birth,
            "reference": self.reference,
            "siblings": self.siblings_text(),
        }[item]


def case_record_values(section: Section, child: ChildRecord) -> dict[str, Value]:
    """The answers a section's `from_case_record` fields start with: what the case record says."""
    return {field.id: child.prefill(field.from_case_record) for field in section.fields if field.from_case_record}


def record_corrected_note(corrected_at: str | None) -> str:
    """Why an answer restating the case record may no longer agree with it: the record was corrected after it was
    written. Empty for a record never corrected."""
    if not corrected_at:
        return ""
    day = datetime.fromisoformat(corrected_at).astimezone(ENGLAND).date()
    return f"An administrator corrected the child's case record on {day.day} {day:%B %Y}"


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def record_message(field: Field, value: Value, child: ChildRecord | None) -> str | None:
    """Where an answer restating the case record disagrees with it, the message naming the record's value (and, once
    the record has been corrected, saying so: the likely reason); None when it agrees, when the field restates
    nothing, or when there is no record to compare with."""
    message = _record_disagreement(field, value, child)
    if message is None or child is None or not child.corrected_at:
        return message
    return f"{message}. {record_corrected_note(child.corrected_at)}"


def _record_disagreement(field: Field, value: Value, child: ChildRecord | None) -> str | None:
    item = field.from_case_record
    if item is None or child is None or not isinstance(value, str):
        return None
    if item == "siblings":
        missing = [(name, ref) for name, ref in child.siblings if ref.casefold() not in value.casefold()]
        if not missing:
            return None
        listed = ", ".join(f"{name} ({ref})" for name, ref in missing)
        return f"{field.label} must include {listed}, in the same sibling group on the case record"
    if item == "date_of_birth":
        born = child.born()
        if born is None or parse_date(value) == born:
            return None
        return f"{field.label} must be as on the case record: {born.day} {born:%B %Y}"
    expected = child.name if item == "child_name" else child.reference
    if _same_text(value, expected):
        return None
    return f"{field.label} must be as on the case record: {expected}"


class Problem(msgspec.Struct, frozen=True):
    """Something that stops a handover being submitted, with the section and input it points to."""

    section_id: str
    section_title: str
    input_id: str
    message: str


def _filled(value: Value) -> bool:
    if isinstance(value, list):
        return any(not is_blank(item) for item in value)
    return not is_blank(value)


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def input_id(field: Field, prefix: str = "", value: Value = "") -> str:
    """The id of the element an error about this field links to: for a date, the first of its boxes in error
    (`dates.boxes_in_error`), so "must include a month" links to the month box."""
    base = f"{prefix}{field.id}"
    if field.type != "date":
        return base
    return f"{base}-{boxes_in_error(value if isinstance(value, str) else '')[0]}"


def row_prefix(group: Group, index: int) -> str:
    return f"{group.id}-{index}-"


def shown_fields(fields: list[Field], values: Row) -> list[Field]:
    """The fields whose conditions hold, in order; a field hidden by its condition hides those that depend on it."""
    shown: list[Field] = []
    visible_values: Row = {}
    for field in fields:
        if field.when is None or field.when.holds(visible_values):
            shown.append(field)
            visible_values[field.id] = values.get(field.id, "")
    return shown


def shown_groups(section: Section, answers: SectionAnswers) -> list[Group]:
    visible = {f.id: answers.values.get(f.id, "") for f in shown_fields(section.fields, answers.values)}
    return [g for g in section.groups if g.when is None or g.when.holds(visible)]


def validate_field(field: Field, value: Value, today: date, child: ChildRecord | None = None) -> str | None:
    """The message for one answer, or None when it is acceptable. `child`: the case record the answer must agree
    with (`from_case_record`) and whose date of birth bounds it (`not_before_birth`)."""
    if isinstance(value, list) != (field.type == "checkboxes"):
        return f"{field.label}: the answer is not in the expected form"
    if not _filled(value):
        if field.required:
            return _missing_message(field)
        return record_message(field, value, child)
    texts = value if isinstance(value, list) else [value]
    if any(has_hidden_characters(text) for text in texts):
        return f"{field.label} {HIDDEN_CHARACTER_MESSAGE}"
    if field.type in ("radios", "checkboxes"):
        if any(text not in field.option_values for text in texts):
            return f"Select one of the options given for ‘{field.label}’"
        return None
    if field.type == "date":
        return _date_message(field, value if isinstance(value, str) else "", today, child)
    if len(value) > field.max_length:
        return f"{field.label} must be {field.max_length:,} characters or fewer"
    if field.type in ("text", "email") and isinstance(value, str) and breaks_one_line(value.strip()):
        return f"{field.label} {NOT_ONE_LINE_MESSAGE}"  # only a client sends more than one line
    if field.type == "email" and isinstance(value, str) and not is_email_address(value):
        return f"{field.label}: {lower_first(EMAIL_FORMAT_MESSAGE)}"
    return record_message(field, value, child)


def _missing_message(field: Field) -> str:
    if field.message:
        return field.message
    verb = "Select" if field.type in ("radios", "checkboxes") else "Enter"
    return f"{verb} {lower_first(field.label)}"


def _date_message(field: Field, value: str, today: date, child: ChildRecord | None) -> str | None:
    born = child.born() if child is not None and field.not_before_birth else None
    not_before = (born, "the child's date of birth") if born is not None else None
    problem = date_problem(field.label, value, today, not_in_future=field.not_in_future, not_before=not_before)
    if problem:
        return problem[0]
    return record_message(field, value, child)


def validate_section(
    section: Section, answers: SectionAnswers, today: date, child: ChildRecord | None = None
) -> dict[str, str]:
    """Messages keyed by input id; empty when the section is complete and valid. `today` is the date in England;
    `child` the case record the answers must agree with (see `validate_field`)."""
    errors: dict[str, str] = {}
    for field in shown_fields(section.fields, answers.values):
        message = validate_field(field, _value_for(field, answers.values), today, child)
        if message:
            errors[input_id(field, "", _value_for(field, answers.values))] = message
    for group in shown_groups(section, answers):
        errors.update(_validate_group(group, answers.groups.get(group.id, []), today, child))
    return errors


def _value_for(field: Field, values: Row) -> Value:
    default: Value = [] if field.type == "checkboxes" else ""
    return values.get(field.id, default)


def _validate_group(group: Group, rows: list[Row], today: date, child: ChildRecord | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(rows) < group.min_rows:
        errors[group.id] = group.message or f"Add at least {group.min_rows} {lower_first(group.row_label)}"
    if len(rows) > min(group.max_rows, ROWS_PER_GROUP_MAX):
        errors[group.id] = f"{group.title} can have at most {min(group.max_rows, ROWS_PER_GROUP_MAX)} rows"
    for index, row in enumerate(rows):
        prefix = row_prefix(group, index)
        for field in shown_fields(group.fields, row):
            message = validate_field(field, _value_for(field, row), today, child)
            if message:
                errors[input_id(field, prefix, _value_for(field, row))] = f"{group.row_label} {index + 1}: {message}"
        for key, message in _same_child_errors(group, row, child).items():
            errors.setdefault(prefix + key, f"{group.row_label} {index + 1}: {message}")
    return errors


def same_child_message(field: Field, earlier: Field) -> str:
    """Two questions of one row that each choose a child of the sibling group (`options_from`), given the same
    child: for example the child who harmed cannot also be the child who was harmed."""
    return f"Select a different child for ‘{field.label}’: they cannot also be the ‘{lower_first(earlier.label)}’"


def _same_child_errors(group: Group, row: Row, child: ChildRecord | None) -> dict[str, str]:
    """The message, keyed by the later field's id, for a row that names the same child of the group in two of its
    `options_from` questions; {} when the children are different (or someone outside the group is named)."""
    if child is None:
        return {}
    children = {child.reference} | {reference for _, reference in child.siblings}
    chosen: dict[str, Field] = {}
    errors: dict[str, str] = {}
    for field in shown_fields(group.fields, row):
        value = row.get(field.id, "")
        if field.options_from is None or not isinstance(value, str) or value not in children:
            continue
        if value in chosen:
            errors[field.id] = same_child_message(field, chosen[value])
        else:
            chosen[value] = field
    return errors


def storage_errors(section: Section, answers: SectionAnswers) -> dict[str, str]:
    """What cannot be kept even in a draft: an answer over `ANSWER_STORED_MAX` characters or with a character the
    text policy refuses (`service.core.text`), or more rows than a group may have. Keyed like `validate_section`'s
    messages, each naming its question (and row); empty when the answers may be stored."""
    errors: dict[str, str] = {}

    def check(key: str, label: str, value: Value) -> None:
        texts = value if isinstance(value, list) else [value]
        if sum(len(text) for text in texts) > ANSWER_STORED_MAX:
            errors[key] = f"{label} was not saved: it must be {ANSWER_STORED_MAX:,} characters or fewer"
        elif any(has_hidden_characters(text) for text in texts):
            errors[key] = f"{label} was not saved: it {HIDDEN_CHARACTER_MESSAGE}"

    labels = {field.id: field.label for field in section.fields}
    for field_id, value in answers.values.items():
        check(field_id, labels.get(field_id, "This answer"), value)
    for group in section.groups:
        rows = answers.groups.get(group.id, [])
        limit = min(group.max_rows, ROWS_PER_GROUP_MAX)
        if len(rows) > limit:
            errors[group.id] = f"{group.title} can have at most {limit} rows"
        row_labels = {field.id: field.label for field in group.fields}
        for index, row in enumerate(rows):
            for field_id, value in row.items():
                label = f"{group.row_label} {index + 1}: {row_labels.get(field_id, 'this answer')}"
                check(row_prefix(group, index) + field_id, label, value)
    return errors


def keeping_what_fits(
    section: Section, answers: SectionAnswers, unkeepable: dict[str, str], previous: SectionAnswers
) -> SectionAnswers:
    """`answers` with each answer that `storage_errors` named (`unkeepable`, keyed as it keys them) put back to
    what `previous` (the section as stored) held in that place, or left out where it held nothing; rows past a
    group's limit are left out. Everything else that was typed is kept."""
    values = {key: value for key, value in answers.values.items() if key not in unkeepable}
    values |= {key: previous.values[key] for key in answers.values if key in unkeepable and key in previous.values}
    groups: dict[str, list[Row]] = {}
    for group_id, rows in answers.groups.items():
        group = section.group(group_id)
        limit = min(group.max_rows, ROWS_PER_GROUP_MAX) if group else len(rows)
        earlier = previous.groups.get(group_id, [])
        kept_rows = []
        for index, row in enumerate(rows[:limit]):
            prefix = f"{group_id}-{index}-"
            before = earlier[index] if index < len(earlier) else {}
            kept = {key: value for key, value in row.items() if prefix + key not in unkeepable}
            kept |= {key: before[key] for key in row if prefix + key in unkeepable and key in before}
            kept_rows.append(kept)
        groups[group_id] = kept_rows
    return SectionAnswers(values=values, groups=groups)


def unknown_errors(section: Section, answers: SectionAnswers) -> dict[str, str]:
    """Answers to questions the section does not have, or of the wrong shape (a list for a question with one answer,
    text for checkboxes), keyed by where they were sent (a field id, a group id, or `<group>-<row>-<field>`); empty
    when every answer fits the section's definition."""
    errors: dict[str, str] = {}
    fields = {field.id: field for field in section.fields}
    for field_id, value in answers.values.items():
        if field_id not in fields:
            errors[field_id] = f"‘{section.title}’ has no question ‘{field_id}’"
        elif isinstance(value, list) != (fields[field_id].type == "checkboxes"):
            errors[field_id] = _shape_message(fields[field_id])
    groups = {group.id: group for group in section.groups}
    for group_id, rows in answers.groups.items():
        group = groups.get(group_id)
        if group is None:
            errors[group_id] = f"‘{section.title}’ has no list ‘{group_id}’"
            continue
        row_fields = {field.id: field for field in group.fields}
        for index, row in enumerate(rows):
            for field_id, value in row.items():
                if field_id not in row_fields:
                    errors[row_prefix(group, index) + field_id] = f"{group.title} has no question ‘{field_id}’"
                elif isinstance(value, list) != (row_fields[field_id].type == "checkboxes"):
                    errors[row_prefix(group, index) + field_id] = _shape_message(row_fields[field_id])
                elif _not_a_child_offered(row_fields[field_id], value):
                    errors[row_prefix(group, index) + field_id] = _not_offered_message(row_fields[field_id])
    for field_id, value in answers.values.items():
        if field_id in fields and _not_a_child_offered(fields[field_id], value):
            errors[field_id] = _not_offered_message(fields[field_id])
    return errors


def _not_a_child_offered(field: Field, value: Value) -> bool:
    """A child of the sibling group chosen (`options_from`) who is not one of the children offered: a reference
    from outside the group, which only an altered form sends. Refused, so nothing of the save is stored."""
    if field.options_from is None or not isinstance(value, str):
        return False
    return bool(value) and value not in field.option_values


def _not_offered_message(field: Field) -> str:
    return f"Select one of the children given for ‘{field.label}’"


def _shape_message(field: Field) -> str:
    if field.type == "checkboxes":
        return f"{field.label}: send a list of the options chosen"
    return f"{field.label}: send one answer as text, not a list"


def without_hidden(section: Section, answers: SectionAnswers) -> SectionAnswers:
    """Only the answers to questions the answers themselves ask: an answer to a question hidden by its condition
    (text under "No" after the answer became "Yes") is dropped, so what is stored is what a reader is shown."""
    values = {field.id: answers.values[field.id] for field in shown_fields(section.fields, answers.values)
              if field.id in answers.values}  # fmt: skip
    kept = SectionAnswers(values=values)
    groups = {
        group.id: [
            {field.id: row[field.id] for field in shown_fields(group.fields, row) if field.id in row}
            for row in answers.groups[group.id]
        ]
        for group in shown_groups(section, kept)
        if group.id in answers.groups
    }
    return SectionAnswers(values=values, groups=groups)


def is_critical(section: Section, answers: SectionAnswers) -> bool:
    """Critical sections need the receiving worker's own confirmation."""
    if section.critical:
        return True
    return section.critical_when is not None and section.critical_when.holds(answers.values)


def submission_problems(
    checklist: Checklist, answers: dict[str, SectionAnswers], today: date, child: ChildRecord | None = None
) -> list[Problem]:
    """Everything that stops the handover being submitted, section by section, in checklist order (`today` and
    `child` as for `validate_section`)."""
    problems: list[Problem] = []
    for section in checklist.sections:
        section_answers = answers.get(section.id)
        if section_answers is None:
            problems.append(Problem(section.id, section.title, "", f"Complete the section ‘{section.title}’"))
            continue
        for key, message in validate_section(section, section_answers, today, child).items():
            problems.append(Problem(section.id, section.title, key, message))
    return problems
