"""The checklist's questions, written out in templates/components/fields.html, give the markup the GOV.UK macros
they replace would: for every question of every section of every checklist version, empty, answered (with text that
must be escaped), in error, with several boxes ticked and with each answer's revealed questions shown."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from markupsafe import escape

from service.app import template_environment
from service.checklist import Field, Section, load_all
from service.settings import PROJECT_ROOT
from service.web.layout import Item, arrange
from tests.helpers import settings_for_tests
from tests.test_templates import _markup

# templates/components/fields.html as it was, drawing every question through the GOV.UK Frontend macros.
THROUGH_THE_MACROS = """{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}
{% from "govuk_frontend_jinja/components/character-count/macro.html" import govukCharacterCount %}
{% from "govuk_frontend_jinja/components/date-input/macro.html" import govukDateInput %}
{% from "govuk_frontend_jinja/components/radios/macro.html" import govukRadios %}
{% from "govuk_frontend_jinja/components/checkboxes/macro.html" import govukCheckboxes %}
{% from "govuk_frontend_jinja/components/error-message/macro.html" import govukErrorMessage %}

{#- GOV.UK date input: the error is keyed by the first box in error (see service.core.dates), and only the boxes in
    error are marked. -#}
{% macro date_input(name, legend, value, errors, hint=none, id=none) %}
{% set id = id or name %}
{% set parts = date_parts(value) %}
{% set keys = [id ~ "-day", id ~ "-month", id ~ "-year"] | select("in", errors) | list %}
{% set error = {"text": errors[keys[0]]} if keys else none %}
{% set marked = date_boxes_in_error(value) if error else [] %}
{{ govukDateInput({"id": id, "namePrefix": name, "fieldset": {"legend": legend}, "hint": hint, "errorMessage": error,
   "items": [
     {"name": "day", "id": id ~ "-day", "label": "Day",
      "classes": "govuk-input--width-2" ~ (" govuk-input--error" if "day" in marked else ""), "value": parts[0]},
     {"name": "month", "id": id ~ "-month", "label": "Month",
      "classes": "govuk-input--width-2" ~ (" govuk-input--error" if "month" in marked else ""), "value": parts[1]},
     {"name": "year", "id": id ~ "-year", "label": "Year",
      "classes": "govuk-input--width-4" ~ (" govuk-input--error" if "year" in marked else ""), "value": parts[2]}]}) }}
{% endmacro %}

{% macro _error(errors, key) %}{{ {"text": errors[key]} if key in errors else none }}{% endmacro %}

{% macro render_item(item, prefix, values, rows_by_group, errors, form_action) %}
{% if item.group %}
{{ group_input(item, rows_by_group, errors, form_action) }}
{% else %}
{{ field_input(item, prefix, values, rows_by_group, errors, form_action) }}
{% endif %}
{% endmacro %}

{% macro field_input(item, prefix, values, rows_by_group, errors, form_action) %}
{% set field = item.field %}
{#- a question revealed under several answers is drawn under each; see service/web/layout.py for the names -#}
{% set name = prefix ~ field.id ~ item.name_suffix(values) %}
{% set value = values.get(field.id, [] if field.type == "checkboxes" else "") %}
{% set error = {"text": errors[name]} if name in errors else none %}
{% set hint_text = [field.hint, item.only_if] | select | join(" ") %}
{% set hint = {"text": hint_text} if hint_text else none %}
{% set legend = {"text": field.label, "classes": "govuk-fieldset__legend--s"} %}
{% set label = {"text": field.label, "classes": "govuk-label--s"} %}
{% if field.type == "text" %}
{{ govukInput({"id": name, "name": name, "label": label, "hint": hint, "value": value, "errorMessage": error,
   "spellcheck": true}) }}
{% elif field.type == "email" %}
{{ govukInput({"id": name, "name": name, "type": "email", "autocomplete": "off", "label": label, "hint": hint,
   "value": value, "errorMessage": error, "spellcheck": false}) }}
{% elif field.type == "textarea" %}
{{ govukCharacterCount({"id": name, "name": name, "label": label, "hint": hint, "value": value,
   "errorMessage": error, "maxlength": field.max_length, "rows": 4, "spellcheck": true}) }}
{% elif field.type == "date" %}
{{ date_input(name, legend, value, errors, hint) }}
{% else %}
{% set ns = namespace(items=[]) %}
{% for option in field.options %}
{% set revealed = item.children.get(option.value, []) %}
{% set inner %}{% for child in revealed %}
{{ render_item(child, prefix, values, rows_by_group, errors, form_action) }}
{% endfor %}{% endset %}
{% set checked = (option.value in value) if field.type == "checkboxes" else (option.value == value) %}
{% set ns.items = ns.items + [{"value": option.value, "text": option.label, "checked": checked,
     "hint": {"text": option.hint} if option.hint else none,
     "conditional": {"html": inner} if revealed else none}] %}
{% endfor %}
{% set params = {"name": name, "idPrefix": name, "fieldset": {"legend": legend}, "hint": hint, "errorMessage": error,
   "items": ns.items} %}
{% if field.type == "radios" %}{{ govukRadios(params) }}{% else %}{{ govukCheckboxes(params) }}{% endif %}
{% endif %}
{% endmacro %}

{% macro group_input(item, rows_by_group, errors, form_action) %}
{% set group = item.group %}
{% set rows = rows_by_group.get(group.id, []) %}
{% set row_name = group.row_label | lower %}
<div class="govuk-form-group app-group{% if group.id in errors %} govuk-form-group--error{% endif %}"
  id="{{ group.id }}">
  <fieldset class="govuk-fieldset"
    aria-describedby="{{ group.id }}-hint{% if group.id in errors %} {{ group.id }}-error{% endif %}">
    <legend class="govuk-fieldset__legend govuk-fieldset__legend--m">
      <h2 class="govuk-fieldset__heading">{{ group.title }}</h2>
    </legend>
    <div id="{{ group.id }}-hint" class="govuk-hint">
      {{ [group.hint, item.only_if] | select | join(" ") or ("Add each " ~ row_name ~ " separately.") }}</div>
    {% if group.id in errors %}{{ govukErrorMessage({"id": group.id ~ "-error", "text": errors[group.id]}) }}{% endif %}
    <input type="hidden" name="{{ group.id }}-rows" value="{{ rows | length }}">
    {% for row in rows %}
    {% set index = loop.index0 %}
    <div class="app-row" id="{{ group.id }}-{{ index }}">
      <h3 class="govuk-heading-s">{{ group.row_label }} {{ loop.index }}</h3>
      {% for child in item.row_items %}
      {{ render_item(child, group.id ~ "-" ~ index ~ "-", row, {}, errors, form_action) }}
      {% endfor %}
      <button type="submit" name="button" value="remove:{{ group.id }}:{{ index }}"
        class="govuk-button govuk-button--secondary" data-module="govuk-button"
        hx-post="{{ form_action }}" hx-target="#section-form" hx-select="#section-form" hx-swap="outerHTML">
        Remove {{ row_name }} {{ loop.index }}</button>
    </div>
    {% endfor %}
    {% if rows | length < group.max_rows %}
    <button type="submit" name="button" value="add:{{ group.id }}" class="govuk-button govuk-button--secondary"
      data-module="govuk-button"
      hx-post="{{ form_action }}" hx-target="#section-form" hx-select="#section-form" hx-swap="outerHTML">
      {{ item.add_row_text(rows | length > 0) }}</button>
    {% endif %}
  </fieldset>
</div>
{% endmacro %}
"""

CHECKLISTS = load_all(PROJECT_ROOT / "checklists")
SECTIONS = [
    pytest.param(section, id=f"{checklist_id}-v{version}-{section.id}")
    for (checklist_id, version), checklist in sorted(CHECKLISTS.items())
    for section in checklist.sections
]

# Typed text a browser could send: every character HTML gives a meaning to, and some that it does not.
TEXTS = ["<script>alert(\"x\")</script> & 'quoted'", "Line one\nLine two — ‘curly’ & <b>", "a"]
# Stored dates as the form keeps them: a real date, and boxes typed wrong in each way service.core.dates tells apart.
DATES = ["2024-02-29", "31/2/2024", "40/13/24", "1//2024", "<b>/&/\"'", "//"]
ERROR = 'Enter <this> & "that"'
ROWS = 2  # each group drawn with two rows


def _answer(field: Field, state: int) -> str | list[str]:
    """Field's answer in the `state`-th filled state: over the states, each answer of a radios question is chosen in
    turn (so each one's revealed questions are shown once), and boxes are ticked two at a time."""
    values = [option.value for option in field.options]
    if field.type == "radios":
        return values[state] if state < len(values) else ""
    if field.type == "checkboxes":
        return values[state : state + 2]
    if field.type == "date":
        return DATES[state % len(DATES)]
    return TEXTS[state % len(TEXTS)]


def _questions(section: Section) -> list[Field]:
    return section.fields + [field for group in section.groups for field in group.fields]


def _names(
    items: list[Item], prefix: str, values: Mapping[str, object], rows_by_group: Mapping[str, list[dict[str, Any]]]
) -> Iterator[tuple[Field, str]]:
    """Every question drawn, with the name the form gives it (as the template names it: service/web/layout.py)."""
    for item in items:
        if item.group:
            for index, row in enumerate(rows_by_group.get(item.group.id, [])):
                yield from _names(item.row_items, f"{item.group.id}-{index}-", row, {})
        elif item.field:
            yield item.field, prefix + item.field.id + item.name_suffix(values)
            for revealed in item.children.values():
                yield from _names(revealed, prefix, values, rows_by_group)


def _states(
    section: Section, layout: list[Item]
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]]:
    """(what the state is, values, rows of each group, errors) for the section's form."""
    questions = _questions(section)
    choices = max((len(field.options) for field in questions), default=0)
    yield "empty", {}, {}, {}
    yield "groups with empty rows", {}, {group.id: [{}] * ROWS for group in section.groups}, {}
    every_box = {
        field.id: [option.value for option in field.options] for field in questions if field.type == "checkboxes"
    }
    for state in range(max(choices, len(DATES))):
        for all_ticked in (False, True):
            values = {field.id: _answer(field, state) for field in questions} | (every_box if all_ticked else {})
            rows = {group.id: [values] * ROWS for group in section.groups}
            yield f"answers {state}{', every box ticked' if all_ticked else ''}", values, rows, {}
            errors: dict[str, str] = {group.id: ERROR for group in section.groups}
            for field, name in _names(layout, "", values, rows):
                # a date's error is keyed by its first box in error: a different box each state
                box = ["-day", "-month", "-year"][state % 3] if field.type == "date" else ""
                errors[name + box] = f"{ERROR} ({name})"
            yield f"answers {state}, every question in error", values, rows, errors


def _environment() -> Environment:
    return template_environment(settings_for_tests(Path("unused")))


OURS = '{% from "components/fields.html" import render_item %}'
DRAW = "{% for item in layout %}{{ render_item(item, prefix, values, rows_by_group, errors, form_action) }}{% endfor %}"


@pytest.mark.parametrize("section", SECTIONS)
def test_every_question_is_drawn_as_the_govuk_macros_draw_it(section: Section) -> None:
    env = _environment()
    ours, theirs = env.from_string(OURS + DRAW), env.from_string(THROUGH_THE_MACROS + DRAW)
    layout = arrange(section.fields, section.groups)
    for state, values, rows, errors in _states(section, layout):
        page = {"layout": layout, "values": values, "rows_by_group": rows, "errors": errors, "form_action": "/f"}
        drawn = ours.render(page, prefix="")
        assert _markup(drawn) == _markup(theirs.render(page, prefix="")), f"{section.id}, {state}"
        for field, name in _names(layout, "", values, rows):
            assert f'name="{name}' in drawn, f"{name} not drawn ({section.id}, {state})"
            if field.type == "textarea":  # sent back as it is shown: a space added here is added to what is kept
                shown = re.search(rf'<textarea[^>]* id="{re.escape(name)}"[^>]*>(.*?)</textarea>', drawn, re.DOTALL)
                assert shown and shown.group(1) == escape(values.get(field.id, "")), f"{name} ({section.id}, {state})"


def test_the_states_show_every_answer_s_revealed_questions_and_every_kind_of_question_in_error() -> None:
    """What the comparison above covers: every question of every checklist in error, and every answer that reveals
    questions chosen (radios) or ticked (checkboxes) with its questions shown."""
    env = _environment()
    ours = env.from_string(OURS + DRAW)
    shown: set[str] = set()
    in_error: set[str] = set()
    for (checklist_id, version), checklist in CHECKLISTS.items():
        for section in checklist.sections:
            layout = arrange(section.fields, section.groups)
            for _, values, rows, errors in _states(section, layout):
                page = ours.render(layout=layout, values=values, rows_by_group=rows, errors=errors, prefix="")
                shown.update(f"{checklist_id}-{version}:{id}" for id in _shown_conditionals(page))
                for field, name in _names(layout, "", values, rows):
                    if f'id="{name}-error"' in page:
                        in_error.add(f"{checklist_id}-{version}:{section.id}:{field.id}")
    revealing = {
        f"{checklist_id}-{version}:conditional-{prefix}{field.id}" + ("" if index == 1 else f"-{index}")
        for (checklist_id, version), checklist in CHECKLISTS.items()
        for section in checklist.sections
        for item, prefix in _all_items(arrange(section.fields, section.groups), "")
        if (field := item.field) and not item.revealed_by
        for index, option in enumerate(field.options, 1)
        if option.value in item.children
    }
    assert revealing and revealing <= shown
    every = {
        f"{checklist_id}-{version}:{section.id}:{field.id}"
        for (checklist_id, version), checklist in CHECKLISTS.items()
        for section in checklist.sections
        for field in _questions(section)
    }
    assert every == in_error


def _all_items(items: list[Item], prefix: str) -> Iterator[tuple[Item, str]]:
    """Every question and group of a layout, with the prefix of its name in the first row of its group."""
    for item in items:
        yield item, prefix
        if item.group:
            yield from _all_items(item.row_items, f"{item.group.id}-0-")
        for revealed in item.children.values():
            yield from _all_items(revealed, prefix)


def _shown_conditionals(page: str) -> list[str]:
    return re.findall(r'class="govuk-(?:radios|checkboxes)__conditional" id="([^"]+)"', page)


@pytest.mark.parametrize("hint", [None, {"text": "For example, 27 3 2026 & <not> later"}])
@pytest.mark.parametrize("value", ["", *DATES])
@pytest.mark.parametrize("in_error", [[], ["told_on-month"], ["told_on-day", "told_on-year"]])
@pytest.mark.parametrize(("name", "id"), [("told_on", None), ("stage_date", "told_on")])
def test_the_date_input_other_pages_use_is_drawn_as_the_govuk_macro_draws_it(
    hint: dict[str, str] | None, value: str, in_error: list[str], name: str, id: str | None
) -> None:
    env = _environment()
    call = "{{ date_input(name, legend, value, errors, hint=hint, id=id) }}"
    ours = env.from_string('{% from "components/fields.html" import date_input %}' + call)
    theirs = env.from_string(THROUGH_THE_MACROS + call)
    page = {
        "name": name,
        "id": id,
        "legend": {"text": "When were they <told>?", "classes": "govuk-fieldset__legend--m"},
        "value": value,
        "errors": {key: f"{ERROR} {key}" for key in in_error},
        "hint": hint,
    }
    assert _markup(ours.render(page)) == _markup(theirs.render(page))


# every combination the handover page's forms use (and more): a hint or none, an error or none, label classes or
# none, values empty, needing escaping and over several lines of every kind
_FORM_VALUES = ["", 'He said "no" & <left>', "first line\nsecond line\r\nthird\n\n", "  spaced  "]


@pytest.mark.parametrize("value", _FORM_VALUES)
@pytest.mark.parametrize("hint", ["", "Say what is missing & <why>."])
@pytest.mark.parametrize("error", [None, "", "Enter a reason & <why>"])
@pytest.mark.parametrize("label_classes", ["govuk-label--s", ""])
def test_written_out_character_count_and_text_input_match_the_govuk_macros(
    value: str, hint: str, error: str | None, label_classes: str
) -> None:
    env = template_environment(settings_for_tests(Path("unused")))
    ours = env.from_string(
        '{% from "components/fields.html" import character_count, text_input %}'
        '{{ character_count("reason-return", "reason", "Return to A & B", value, 5000, 3, hint, error,'
        " label_classes) }}"
        "=="
        '{{ text_input("disagreement-with_whom", "with_whom", "Who do you <disagree> with?", value, error,'
        " label_classes) }}"
    )
    theirs = env.from_string(
        '{% from "govuk_frontend_jinja/components/character-count/macro.html" import govukCharacterCount %}'
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
        '{{ govukCharacterCount({"id": "reason-return", "name": "reason", "maxlength": 5000, "rows": 3,'
        ' "label": {"text": "Return to A & B", "classes": label_classes}, "hint": {"text": hint} if hint else none,'
        ' "value": value, "errorMessage": {"text": error} if error is not none else none}) }}'
        "=="
        '{{ govukInput({"id": "disagreement-with_whom", "name": "with_whom",'
        ' "label": {"text": "Who do you <disagree> with?", "classes": label_classes}, "value": value,'
        ' "errorMessage": {"text": error} if error is not none else none}) }}'
    )
    values = {"value": value, "hint": hint, "error": error, "label_classes": label_classes}
    drawn, expected = ours.render(values), theirs.render(values)
    assert _markup(drawn) == _markup(expected)
    # what the person typed comes back exactly, line breaks and spaces included
    typed = re.compile(r"<textarea[^>]*>(.*?)</textarea>", re.S)
    assert typed.findall(drawn) == typed.findall(expected) == [str(escape(value))]


def test_the_handover_page_draws_its_forms_written_out() -> None:
    """The handover's page takes its character counts and text inputs from components/fields.html (compared with the
    macros above), not from the GOV.UK macros, which were a fifth of its time."""
    page = (PROJECT_ROOT / "templates" / "handover" / "view.html").read_text()
    assert "govukCharacterCount" not in page and "govukInput" not in page
    assert "character_count(" in page and "text_input(" in page
