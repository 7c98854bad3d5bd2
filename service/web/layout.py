"""How a checklist section is laid out on a page: which questions are revealed by which answer.

A field or group that depends on a single answer of a radios question is nested under that answer (GOV.UK's
conditional reveal; without JavaScript it is simply shown). Anything else that depends on an answer is shown in
order, with a hint saying when to answer it.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from service.checklist import Condition, Field, Group


class Item(msgspec.Struct, kw_only=True):
    field: Field | None = None
    group: Group | None = None
    children: dict[str, list[Item]] = {}  # option value -> what it reveals
    only_if: str = ""  # a hint for dependent questions that are not nested
    row_items: list[Item] = []  # for a group: how each of its rows is laid out

    @property
    def id(self) -> str:
        return self.field.id if self.field else self.group.id if self.group else ""


def _nesting_parent(condition: Condition | None, fields: Sequence[Field]) -> Field | None:
    if condition is None or len(condition.any_of) != 1:
        return None
    parent = next((f for f in fields if f.id == condition.field), None)
    return parent if parent is not None and parent.type == "radios" else None


def _only_if(condition: Condition | None, fields: Sequence[Field]) -> str:
    if condition is None:
        return ""
    parent = next((f for f in fields if f.id == condition.field), None)
    if parent is None:
        return ""
    answers = " or ".join(f"‘{parent.option_label(value)}’" for value in condition.any_of)
    return f"Answer this only if you answered {answers} to ‘{parent.label}’."


def arrange(fields: Sequence[Field], groups: Sequence[Group] = ()) -> list[Item]:
    items = {f.id: Item(field=f) for f in fields} | {g.id: Item(group=g, row_items=arrange(g.fields)) for g in groups}
    top: list[Item] = []
    for item in items.values():
        condition = item.field.when if item.field else item.group.when if item.group else None
        parent = _nesting_parent(condition, fields)
        if parent is not None and condition is not None:
            items[parent.id].children.setdefault(condition.any_of[0], []).append(item)
        else:
            item.only_if = _only_if(condition, fields)
            top.append(item)
    return top


def display_value(field: Field, value: object) -> str:
    """An answer as a reader sees it: option labels rather than values, dates in words."""
    from service.core.answers import parse_date

    if isinstance(value, list):
        return ", ".join(field.option_label(v) for v in value if isinstance(v, str))
    text = value if isinstance(value, str) else ""
    if field.type == "radios":
        return field.option_label(text) if text else ""
    if field.type == "date":
        parsed = parse_date(text)
        return f"{parsed.day} {parsed:%B %Y}" if parsed else text
    return text
