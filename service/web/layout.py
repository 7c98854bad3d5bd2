"""How a checklist section is laid out on a page: which questions are revealed by which answer.

A field or group that depends on an answer to a radios question is nested under that answer (GOV.UK's conditional
reveal; without JavaScript it is simply shown under its answer). One that depends on a single box of a checkboxes
question is nested under that box in the same way.

A question that several answers call for (the reason there is no completed assessment, for "Not started",
"Commissioned", "In progress" and "Not required") is revealed under each of them, as the GOV.UK radios guidance has
a related question sit under the answer that makes it relevant. Each copy has its own name, so the form never sends
one question twice: the copy under the answer chosen when the page was drawn (or under the first of the answers, if
none was chosen) keeps the question's own name and id, so error messages link to it; the others are named
`<name>--<answer>` (`revealed_copy_name`), and `service.web.forms` reads the copy under the answer chosen.

Only what cannot be nested (a question that depends on several boxes of a checkboxes question, where more than one
copy could be shown at once, and a group of rows that several answers call for) is shown in order, with a hint
saying when to answer it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import msgspec

from service.checklist import Condition, Field, Group, Section
from service.core.answers import Row, SectionAnswers, input_id, shown_fields, shown_groups
from service.core.dates import parse_date, typed_date_words
from service.core.text import with_indefinite_article


class Item(msgspec.Struct, kw_only=True):
    """One question or group as it is drawn, with what each of its answers reveals."""

    field: Field | None = None
    group: Group | None = None
    children: dict[str, list[Item]] = {}  # option value -> what it reveals
    only_if: str = ""  # a hint for dependent questions that are not nested
    row_items: list[Item] = []  # for a group: how each of its rows is laid out
    # For a question revealed under several answers: the answer this copy sits under, the question it depends on,
    # and every answer that reveals it.
    under: str = ""
    parent_id: str = ""
    revealed_by: list[str] = []

    @property
    def id(self) -> str:
        return self.field.id if self.field else self.group.id if self.group else ""

    def name_suffix(self, values: Mapping[str, object]) -> str:
        """What this copy adds to the question's name: nothing for the copy that keeps the question's own name."""
        if not self.revealed_by:
            return ""
        chosen = values.get(self.parent_id, "")
        kept_under = chosen if isinstance(chosen, str) and chosen in self.revealed_by else self.revealed_by[0]
        return "" if self.under == kept_under else revealed_copy_name("", self.under)

    def add_row_text(self, has_rows: bool) -> str:
        """The words of a group's "add a row" button: "Add an incident", "Add another incident"."""
        row_name = self.group.row_label.lower() if self.group else ""
        return f"Add another {row_name}" if has_rows else f"Add {with_indefinite_article(row_name)}"


def revealed_copy_name(name: str, option: str) -> str:
    """The name of the copy of question `name` revealed under answer `option` (see the module's description)."""
    return f"{name}--{option}"


def _parent(condition: Condition | None, fields: Sequence[Field]) -> Field | None:
    if condition is None:
        return None
    return next((f for f in fields if f.id == condition.field), None)


def _nesting_parent(condition: Condition | None, fields: Sequence[Field]) -> Field | None:
    """The question to nest under: a radios question, or a checkboxes question when one box reveals it."""
    parent = _parent(condition, fields)
    if parent is None or condition is None:
        return None
    if parent.type == "radios" or (parent.type == "checkboxes" and len(condition.any_of) == 1):
        return parent
    return None


def revealed_under_several(field: Field, fields: Sequence[Field]) -> list[str]:
    """The answers a field is revealed under, when it is revealed under more than one (and so drawn once under each);
    empty otherwise. `fields`: the questions beside it (its section's, or its group's)."""
    parent = _nesting_parent(field.when, fields)
    if parent is None or field.when is None or len(field.when.any_of) < 2:
        return []
    return list(field.when.any_of)


def _only_if(condition: Condition | None, fields: Sequence[Field]) -> str:
    parent = _parent(condition, fields)
    if parent is None or condition is None:
        return ""
    answers = " or ".join(f"‘{parent.option_label(value)}’" for value in condition.any_of)
    return f"Answer this only if you answered {answers} to ‘{parent.label}’."


def arrange(fields: Sequence[Field], groups: Sequence[Group] = ()) -> list[Item]:
    """The section's questions and groups in order, each dependent one nested under the answers that reveal it."""
    items = {f.id: Item(field=f) for f in fields} | {g.id: Item(group=g, row_items=arrange(g.fields)) for g in groups}
    top: list[Item] = []
    for item in items.values():
        condition = item.field.when if item.field else item.group.when if item.group else None
        parent = _nesting_parent(condition, fields)
        if parent is None or condition is None or (item.group is not None and len(condition.any_of) > 1):
            # a group is drawn once: its rows cannot be copied under several answers
            item.only_if = _only_if(condition, fields)
            top.append(item)
        elif len(condition.any_of) == 1:
            items[parent.id].children.setdefault(condition.any_of[0], []).append(item)
        else:
            for value in condition.any_of:
                copy = msgspec.structs.replace(item, under=value, parent_id=parent.id, revealed_by=condition.any_of)
                items[parent.id].children.setdefault(value, []).append(copy)
    return top


def _page_order(items: Sequence[Item], prefix: str, rows: int) -> Iterator[str]:
    """The names of the questions drawn for `items`, in the order the form draws them: each question, then what each
    of its answers reveals, in the order of the answers; a group's own name, then each of its first `rows` rows."""
    for item in items:
        if item.field is not None:
            yield prefix + item.field.id
            known = item.field.option_values
            for value in [*known, *(value for value in item.children if value not in known)]:
                yield from _page_order(item.children.get(value, []), prefix, rows)
        elif item.group is not None:
            yield prefix + item.group.id
            for row in range(rows):
                yield from _page_order(item.row_items, f"{prefix}{item.group.id}-{row}-", rows)


def in_page_order(items: Sequence[Item], errors: dict[str, str]) -> dict[str, str]:
    """A section form's `errors` (keyed by question, a group's row's question as `<group>-<row>-<question>`) in the
    order the form (`arrange`) draws their questions, which its error summary lists them in (GOV.UK error summary:
    "in the same order as they appear on the page"); validation finds them section field by field, then group by
    group, but a group or a revealed question may be drawn before a later question. Keys of no question drawn, and
    a date's box (`<question>-day`), keep their place after / with their question."""
    rows = 1 + max((int(part) for key in errors for part in key.split("-") if part.isdigit()), default=0)
    order = {name: place for place, name in enumerate(dict.fromkeys(_page_order(items, "", rows)))}

    def place(key: str) -> int:
        question = key.rsplit("-", 1)[0] if key.endswith(("-day", "-month", "-year")) else key
        return order.get(key, order.get(question, len(order)))

    return dict(sorted(errors.items(), key=lambda item: place(item[0])))


# the page's own hidden inputs: a message about one (sent twice, which no page does) has no box to go to
HIDDEN_INPUTS = ("handover_version", "version")


def error_summary_items(errors: Mapping[str, str], href_prefix: str = "") -> list[dict[str, str]]:
    """The GOV.UK error summary's list for `errors` (keyed by the id of the field each is about, a step's own
    prefixed as `<field>-<step>`), in their order: each message linking to its field, but one about a hidden input,
    which is said without a link."""
    return [
        {"text": message} if key.split("-")[0] in HIDDEN_INPUTS else {"text": message, "href": f"{href_prefix}#{key}"}
        for key, message in errors.items()
    ]


def display_value(field: Field, value: object) -> str:
    """An answer as a reader sees it: option labels rather than values, dates in words."""
    if isinstance(value, list):
        return ", ".join(field.option_label(v) for v in value if isinstance(v, str))
    text = value if isinstance(value, str) else ""
    if field.type == "radios":
        return field.option_label(text) if text else ""
    if field.type == "date":
        parsed = parse_date(text)
        return f"{parsed.day} {parsed:%B %Y}" if parsed else typed_date_words(text)
    return text


def summary_rows(fields: list[Field], values: Row, prefix: str = "") -> list[tuple[str, str, str]]:
    """What a summary list of answers prints, in one call: for each question shown (`answers.shown_fields`: its
    condition holds), its label, its answer as a reader sees it (`display_value`; empty: not answered) with every
    kind of line break made one "\n" as Jinja's `indent(0)` filter makes them, and the id its "Change" link goes to
    on the form (`answers.input_id`: `prefix` + its id, a date's first box).

    Through a call and a filter for each answer in the template, this was a tenth of the pages that show answers."""
    rows: list[tuple[str, str, str]] = []
    for field in shown_fields(fields, values):
        shown = display_value(field, values.get(field.id, ""))
        # indent(0): the text with a line break added, split at every kind of line break, joined by "\n"
        rows.append(
            (
                field.label,
                "\n".join((shown + "\n").splitlines()) if shown else "",
                input_id(field, prefix),  # the first box of a date, as the form's own error links
            )
        )
    return rows


class AnswerPart(msgspec.Struct, frozen=True):
    """One piece of a section's answers as a summary shows them, in order (`answer_parts`). `kind`:
    "rows": a summary list of `rows` (`summary_rows`; none: nothing is drawn), whose "Change" links name
    `row_title` for screen readers; "group": the heading of `group`;
    "none recorded": `group` has no rows; "row": the heading `row_title` of one of a group's rows."""

    kind: str
    rows: list[tuple[str, str, str]] = []
    group: Group | None = None
    row_title: str = ""


def answer_parts(section: Section, answers: SectionAnswers) -> list[AnswerPart]:
    """A section's answers as a summary shows them, worked out in one call: its questions shown, then each group its
    conditions show, with each of the group's rows ("Child 1", "Child 2", ...) or "none recorded". Drawn by
    templates/components/answers.html, which through a macro call per list of answers spent most of the time of the
    pages that show them."""
    parts = [AnswerPart("rows", summary_rows(section.fields, answers.values))]
    for group in shown_groups(section, answers):
        parts.append(AnswerPart("group", group=group))
        rows = answers.groups.get(group.id, [])
        if not rows:
            parts.append(AnswerPart("none recorded", group=group))
        for index, row in enumerate(rows):
            row_title = f"{group.row_label} {index + 1}"
            parts.append(AnswerPart("row", row_title=row_title))
            rows_shown = summary_rows(group.fields, row, f"{group.id}-{index}-")
            parts.append(AnswerPart("rows", rows_shown, row_title=row_title.lower()))
    return parts
