"""Turning a posted section form into answers, and the buttons that add and remove repeatable rows.

Field names follow the checklist: a field is posted under its id; a row field as `<group>-<row>-<field>`; a date as
three boxes, `<name>-day`, `<name>-month`, `<name>-year`; each group says how many rows it had in `<group>-rows`.
"""

from __future__ import annotations

from litestar.datastructures import FormMultiDict

from service.checklist import Field, Group, Section
from service.core import validation
from service.core.answers import (
    ROWS_PER_GROUP_MAX,
    ChildRecord,
    Row,
    SectionAnswers,
    Value,
    case_record_values,
    input_id,
    join_date,
    row_prefix,
)
from service.core.errors import Invalid
from service.core.numbers import whole_number
from service.web.layout import revealed_copy_name, revealed_under_several


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def _value(form: FormMultiDict, field: Field, name: str) -> Value:
    if field.type == "checkboxes":
        return [item for item in form.getall(name, []) if isinstance(item, str) and item]
    if field.type == "date":
        return join_date(_text(form, f"{name}-day"), _text(form, f"{name}-month"), _text(form, f"{name}-year"))
    return _text(form, name).replace("\r\n", "\n").strip()


def _filled(form: FormMultiDict, field: Field, name: str) -> bool:
    if field.type == "date":
        return any(_text(form, f"{name}-{box}").strip() for box in ("day", "month", "year"))
    if field.type == "checkboxes":
        return any(isinstance(item, str) and item for item in form.getall(name, []))
    return bool(_text(form, name).strip())


def _answer_name(form: FormMultiDict, field: Field, beside: list[Field], prefix: str) -> str:
    """Where the form holds the answer to `field`. For a question drawn under each of several answers (see
    `service.web.layout`), every copy is sent: the first one filled in of the copy under the answer chosen, the
    copy with the question's own name, and the others in order. So what was typed under the answer chosen wins, and
    without JavaScript, where every copy is shown, an answer typed under another is still kept."""
    name = prefix + field.id
    if field.when is None or not (answers := revealed_under_several(field, beside)):
        return name
    chosen = _text(form, prefix + field.when.field)
    copies = [revealed_copy_name(name, chosen)] if chosen in answers else []
    copies += [name] + [revealed_copy_name(name, value) for value in answers if value != chosen]
    return next((copy for copy in copies if _filled(form, field, copy)), name)


def _rows_written(form: FormMultiDict, group: Group) -> set[int]:
    """The row numbers the form holds an answer in, read as the form writes them (`risks-1-what`, never
    `risks-01-what`)."""
    prefix = f"{group.id}-"
    answered = {key[len(prefix) :].split("-", 1)[0] for key in form if key.startswith(prefix)}
    return {int(n) for n in answered if n.isascii() and n.isdigit() and len(n) <= 9 and str(int(n)) == n}


def _row_indexes(form: FormMultiDict, group: Group, written: set[int] | None = None) -> list[int]:
    """The rows the form holds, in order: the first `<group>-rows` (a count that is missing, negative or not a
    number declares none) and every row it holds an answer in (`written`, if already read), so a form that skips
    numbers loses no row."""
    declared = whole_number(_text(form, f"{group.id}-rows")) or 0
    written = _rows_written(form, group) if written is None else written
    return sorted(written | set(range(min(declared, ROWS_PER_GROUP_MAX + 1))))


def _rows_kept(form: FormMultiDict, group: Group) -> list[int]:
    return _row_indexes(form, group)[: min(group.max_rows, ROWS_PER_GROUP_MAX)]


def repeated_answers(section: Section, form: FormMultiDict) -> dict[str, str]:
    """Questions that take one answer but were sent more than once (no page sends that; which was meant cannot be
    known, and the API refuses a list there too), keyed by where they were sent; and the form's hidden version, which
    says which saved answers the person changed, keyed `version`."""
    messages = {}

    def check(field: Field, name: str) -> None:
        if field.type == "date":
            names = [f"{name}-{box}" for box in ("day", "month", "year")]
        elif field.type == "checkboxes":
            return
        else:
            names = [name]
        if any(len(form.getall(each, [])) > 1 for each in names):
            messages[input_id(field, name[: -len(field.id)])] = validation.several_answers(field.label)

    for field in section.fields:
        check(field, field.id)
    for group in section.groups:
        for index in _rows_kept(form, group):
            for field in group.fields:
                check(field, row_prefix(group, index) + field.id)
    return messages | sent_more_than_once(form, {"version": SINGLE_ANSWERS["handover_version"]})


def sent_more_than_once(form: FormMultiDict, labels: dict[str, str]) -> dict[str, str]:
    """The fields among `labels` (name: the label a person reads) that were sent more than once, each with its
    message: a form's single answers, as `repeated_answers` checks a checklist section's."""
    return {name: validation.several_answers(label) for name, label in labels.items() if len(form.getall(name, [])) > 1}


# The single answers of the workflow's own forms, as a message names each (`refuse_repeats`)
SINGLE_ANSWERS = {
    "handover_version": "The version of the page",
    "reason": "The reason",
    "reply": "Your reply",
    "about": "What the disagreement is about",
    "with_whom": "Who the disagreement is with",
    "view": "Your view",
    "decision": "The decision",
    "outcome": "The outcome",
    "stage": "The stage",
    "stage_date-day": "The day",
    "stage_date-month": "The month",
    "stage_date-year": "The year",
    # the receiver's confirmation of a critical item (keyed on the review page by the item: `confirmation_repeats`)
    "readback": "What you are taking on, in your own words",
    "understood": "I have read and understood this section",
}


def confirmation_repeats(form: FormMultiDict, section_id: str) -> dict[str, str]:
    """The receiver's confirmation of one critical item, when one of its single answers was sent more than once:
    each message keyed as the review page names its box (`readback-<section>`, `understood-<section>`; the page's
    version unlinked), in the form's order."""
    repeated = sent_more_than_once(form, {name: SINGLE_ANSWERS[name] for name in ("readback", "understood")})
    keyed = {f"{name}-{section_id}": message for name, message in repeated.items()}
    return keyed | sent_more_than_once(form, {"handover_version": SINGLE_ANSWERS["handover_version"]})


def refuse_repeats(form: FormMultiDict, names: tuple[str, ...]) -> None:
    """`Invalid`, keyed by each name, when one of these single answers was sent more than once (no page sends that;
    which was meant cannot be known, so nothing is taken)."""
    repeated = sent_more_than_once(form, {name: SINGLE_ANSWERS[name] for name in names})
    if repeated:
        raise Invalid(repeated)


def rows_not_kept(section: Section, form: FormMultiDict) -> dict[str, str]:
    """For each group of the section whose form held answers in more rows than a handover keeps, the message that
    says so, keyed by the group's id (the rows kept are the first ones, as `parse_section` reads them)."""
    messages = {}
    for group in section.groups:
        limit = min(group.max_rows, ROWS_PER_GROUP_MAX)
        written = _rows_written(form, group)
        lost = len([index for index in _row_indexes(form, group, written)[limit:] if index in written])
        if lost:
            messages[group.id] = (
                f"‘{group.title}’ can have at most {limit} rows: the first {limit} were saved, "
                f"and the other {lost:,} were not"
            )
    return messages


def parse_section(section: Section, form: FormMultiDict) -> SectionAnswers:
    fields = section.fields
    values: dict[str, Value] = {f.id: _value(form, f, _answer_name(form, f, fields, "")) for f in fields}
    groups: dict[str, list[Row]] = {}
    for group in section.groups:
        rows = []
        for index in _rows_kept(form, group):
            prefix = row_prefix(group, index)
            rows.append({f.id: _value(form, f, _answer_name(form, f, group.fields, prefix)) for f in group.fields})
        groups[group.id] = rows
    return SectionAnswers(values=values, groups=groups)


def apply_row_button(section: Section, answers: SectionAnswers, button: str) -> SectionAnswers | None:
    """Apply 'add:<group>' or 'remove:<group>:<row>'; None if the button is not one of those."""
    parts = button.split(":")
    group = section.group(parts[1]) if len(parts) in (2, 3) else None
    if group is None:
        return None
    rows = list(answers.groups.get(group.id, []))
    if parts[0] == "add" and len(parts) == 2:
        if len(rows) < min(group.max_rows, ROWS_PER_GROUP_MAX):
            rows.append({})
    elif parts[0] == "remove" and len(parts) == 3 and (index := whole_number(parts[2])) is not None:
        if index < len(rows):
            del rows[index]
    else:
        return None
    return SectionAnswers(values=answers.values, groups={**answers.groups, group.id: rows})


def from_case_record(section: Section, child: ChildRecord) -> SectionAnswers:
    """A section not yet saved starts with what the case record says (fields with `from_case_record`), so the
    worker restates the record instead of retyping it."""
    return SectionAnswers(values=case_record_values(section, child))


def with_minimum_rows(section: Section, answers: SectionAnswers) -> SectionAnswers:
    """Show one empty row for a group that needs rows and has none, so the form starts ready to fill."""
    groups = dict(answers.groups)
    for group in section.groups:
        if not groups.get(group.id) and group.min_rows > 0:
            groups[group.id] = [{}]
    return SectionAnswers(values=answers.values, groups=groups)


def form_number(value: object) -> int | None:
    """A whole number posted in a form field (ids, versions, row counts), or None for anything else."""
    return whole_number(value)
