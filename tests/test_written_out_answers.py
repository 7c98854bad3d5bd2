"""The answers written out in templates/components/answers.html give the markup the GOV.UK summary list macro they
replace would: for every question of every section of every checklist version, answered and not, with and without
"Change" links, with each answer's revealed questions shown, with the rows of every group, and with answers that must
be escaped, run over several lines, are dates or tick several boxes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from markupsafe import escape

from service.app import template_environment
from service.checklist import Field, Section, load_all
from service.core.answers import SectionAnswers, shown_fields, shown_groups
from service.settings import PROJECT_ROOT
from tests.helpers import settings_for_tests
from tests.test_templates import _markup

# templates/components/answers.html as it was, drawing each section's answers through the GOV.UK summary list macro.
THROUGH_THE_MACROS = """{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}
{% macro _anchor(field, prefix) %}{{ prefix ~ field.id ~ ("-day" if field.type == "date" else "") }}{% endmacro %}

{% macro _rows(fields, values, change_url="", prefix="", row_title="") %}
{% set ns = namespace(rows=[]) %}
{% for field in shown_fields(fields, values) %}
{% set shown = display_value(field, values.get(field.id, "")) %}
{% set value = (('<span class="app-multiline">' | safe) ~ shown ~ ('</span>' | safe)) if shown
   else (('<span class="app-not-answered">Not answered</span>') | safe) %}
{% set actions = {"items": [{"href": change_url ~ "?return=check#" ~ _anchor(field, prefix), "text": "Change",
   "visuallyHiddenText": field.label ~ (" (" ~ row_title ~ ")" if row_title else "")}]} if change_url else none %}
{% set ns.rows = ns.rows + [{"key": {"text": field.label}, "value": {"html": value}, "actions": actions}] %}
{% endfor %}
{{ govukSummaryList({"rows": ns.rows}) if ns.rows }}
{% endmacro %}

{% macro section_answers(section, answers, change_url="") %}
{{ _rows(section.fields, answers.values, change_url) }}
{% for group in shown_groups(section, answers) %}
<h3 class="govuk-heading-s">{{ group.title }}</h3>
{% set rows = answers.groups.get(group.id, []) %}
{% if not rows %}
<p class="govuk-body app-not-answered">None recorded.</p>
{% if change_url %}<p class="govuk-body"><a class="govuk-link" href="{{ change_url }}?return=check#{{ group.id }}">
Change<span class="govuk-visually-hidden"> {{ group.title | lower }}</span></a></p>{% endif %}
{% endif %}
{% for row in rows %}
{% set row_title = group.row_label ~ " " ~ loop.index %}
<h4 class="govuk-heading-s govuk-!-font-weight-regular">{{ row_title }}</h4>
{{ _rows(group.fields, row, change_url, group.id ~ "-" ~ loop.index0 ~ "-", row_title | lower) }}
{% endfor %}
{% endfor %}
{% endmacro %}
"""

OURS = '{% from "components/answers.html" import section_answers %}'
DRAW = "{{ section_answers(section, answers, change_url) }}"

CHECKLISTS = load_all(PROJECT_ROOT / "checklists")
SECTIONS = [
    pytest.param(section, id=f"{checklist_id}-v{version}-{section.id}")
    for (checklist_id, version), checklist in sorted(CHECKLISTS.items())
    for section in checklist.sections
]

# Stored text: every character HTML gives a meaning to, lines broken every way (white-space: pre-wrap shows where
# the lines start), blank lines, and a line break at the end.
TEXTS = [
    "<script>alert(\"x\")</script> & 'quoted'",
    "Line one\nLine two — ‘curly’ & <b>\n\n  indented line\n",
    "Windows\r\nlines\rand\u2028separators",
    "a",
]
# Stored dates: real ones shown in words, and text that is no date (kept as typed when the form was saved).
DATES = ["2024-02-29", "2026-12-01", "31/2/2024", "<b>/&/\"'"]
CHANGE_URL = '/handovers/7/sections/s?x=<"&">'


def _answer(field: Field, state: int) -> str | list[str]:
    """Field's answer in the `state`-th answered state: over the states, each answer of a radios question is chosen
    in turn (so the questions it reveals are shown), boxes are ticked two at a time, and an answer no option has."""
    values = [option.value for option in field.options]
    if field.type == "radios":
        return values[state] if state < len(values) else ("<not an option> & 'x'" if state == len(values) else "")
    if field.type == "checkboxes":
        return values[state : state + 2] or ["<not an option>", values[0]]
    if field.type == "date":
        return DATES[state % len(DATES)]
    return TEXTS[state % len(TEXTS)]


def _states(section: Section) -> Iterator[tuple[str, SectionAnswers]]:
    """(what the state is, the section's answers)."""
    questions = section.fields + [field for group in section.groups for field in group.fields]
    choices = max((len(field.options) for field in questions), default=0)
    conditions = [item.when for item in questions + section.groups if item.when]
    controlling = {condition.field for condition in conditions}
    yield "nothing answered", SectionAnswers()
    yield "groups with empty rows", SectionAnswers(groups={group.id: [{}, {}] for group in section.groups})
    for state in range(max(choices + 2, len(TEXTS), len(DATES))):
        values: dict[str, Any] = {field.id: _answer(field, state) for field in questions}
        yield f"answers {state}, no rows", SectionAnswers(values=values)
        rows = {group.id: [values, {}] for group in section.groups}
        yield f"answers {state}, a full row and an empty one", SectionAnswers(values=values, groups=rows)
        # the questions that reveal others answered, and the questions they reveal not (nor, in the second state,
        # those that are revealed and reveal others in turn)
        for revealed_too in (True, False):
            revealing = {
                field.id: values[field.id]
                for field in questions
                if field.id in controlling and (revealed_too or field.when is None)
            }
            rows = {group.id: [revealing] for group in section.groups}
            yield f"answers {state}, revealed questions not answered", SectionAnswers(values=revealing, groups=rows)


def _environment() -> Environment:
    return template_environment(settings_for_tests(Path("unused")))


def _multiline(page: str) -> list[str]:
    """The answers as they are shown: under white-space: pre-wrap every space and line break counts."""
    return re.findall(r'<span class="app-multiline">(.*?)</span>', page, re.DOTALL)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_answer_is_drawn_as_the_govuk_summary_list_draws_it(section: Section) -> None:
    env = _environment()
    ours, theirs = env.from_string(OURS + DRAW), env.from_string(THROUGH_THE_MACROS + DRAW)
    for state, answers in _states(section):
        for change_url in ("", CHANGE_URL):
            page = {"section": section, "answers": answers, "change_url": change_url}
            drawn, expected = ours.render(page), theirs.render(page)
            where = f"{section.id}, {state}, {'with' if change_url else 'without'} change links"
            assert _markup(drawn) == _markup(expected), where
            # the macro's indent(6) put six spaces before every line after an answer's first, which pre-wrap shows
            assert _multiline(drawn) == [text.replace("\n      ", "\n") for text in _multiline(expected)], where
            assert drawn.count('class="govuk-summary-list__row"') == expected.count("govuk-summary-list__row"), where


def test_the_states_show_every_question_and_every_group_s_rows() -> None:
    """What the comparison above covers: every question of every checklist shown answered and unanswered (those
    revealed by an answer too), and every group shown with its rows."""
    answered: set[str] = set()
    unanswered: set[str] = set()
    groups_with_rows: set[str] = set()
    for (checklist_id, version), checklist in CHECKLISTS.items():
        for section in checklist.sections:
            for _, answers in _states(section):
                where = f"{checklist_id}-{version}:{section.id}"
                for field in shown_fields(section.fields, answers.values):
                    (answered if answers.values.get(field.id) else unanswered).add(f"{where}:{field.id}")
                for group in shown_groups(section, answers):
                    for row in answers.groups.get(group.id, []):
                        groups_with_rows.add(f"{where}:{group.id}")
                        for field in shown_fields(group.fields, row):
                            (answered if row.get(field.id) else unanswered).add(f"{where}:{field.id}")
    every = {
        f"{checklist_id}-{version}:{section.id}:{field.id}"
        for (checklist_id, version), checklist in CHECKLISTS.items()
        for section in checklist.sections
        for field in section.fields + [field for group in section.groups for field in group.fields]
    }
    assert every == answered
    assert every == unanswered
    assert groups_with_rows == {
        f"{checklist_id}-{version}:{section.id}:{group.id}"
        for (checklist_id, version), checklist in CHECKLISTS.items()
        for section in checklist.sections
        for group in section.groups
    }


# The receiver's readback and confirmation of a critical section in templates/receiving/review.html as it was,
# through the GOV.UK Frontend macros.
CONFIRMATION_THROUGH_THE_MACROS = """
{% from "govuk_frontend_jinja/components/checkboxes/macro.html" import govukCheckboxes %}
{% from "govuk_frontend_jinja/components/character-count/macro.html" import govukCharacterCount %}
{{ govukCharacterCount({"id": "readback-" ~ section.id, "name": "readback", "maxlength": limits.READBACK_MAX, "rows": 4,
   "label": {"text": "In your own words, what are you taking on from ‘" ~ section.title ~ "’?",
             "classes": "govuk-label--s"},
   "hint": {"text": "Say what it means for the child, what you will do and by when (at least " ~ readback_min
            ~ " characters). You can quote a few words, but do not copy the handover back."},
   "value": value,
   "errorMessage": {"text": readback_error} if readback_error is not none else none}) }}
{{ govukCheckboxes({"name": "understood", "idPrefix": "understood-" ~ section.id,
   "fieldset": {"legend": {"text": "Confirm ‘" ~ section.title ~ "’", "classes": "govuk-fieldset__legend--s"}},
   "errorMessage": {"text": understood_error} if understood_error is not none else none,
   "items": [{"value": "yes", "text": "I have read and understood this section", "checked": confirmed}]}) }}
"""
CONFIRMATION = (
    '{% from "components/answers.html" import confirmation_fields %}'
    "{{ confirmation_fields(section, value, readback_error, understood_error, confirmed, readback_min) }}"
)


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("value", ["", *TEXTS])
def test_a_section_s_confirmation_is_drawn_as_the_govuk_macros_draw_it(section: Section, value: str) -> None:
    env = _environment()
    ours, theirs = env.from_string(CONFIRMATION), env.from_string(CONFIRMATION_THROUGH_THE_MACROS)
    for readback_error in (None, 'Write <at least> 40 characters & "more"'):
        for understood_error in (None, "Confirm <that> you have read & understood it"):
            for confirmed in (False, True):
                page = {
                    "section": section,
                    "value": value,
                    "readback_error": readback_error,
                    "understood_error": understood_error,
                    "confirmed": confirmed,
                    "readback_min": 40,
                }
                drawn, expected = ours.render(page), theirs.render(page)
                where = f"{section.id}, {readback_error=}, {understood_error=}, {confirmed=}"
                assert _markup(drawn) == _markup(expected), where
                textarea = r"<textarea[^>]*>(.*?)</textarea>"
                assert re.findall(textarea, drawn, re.DOTALL) == re.findall(textarea, expected, re.DOTALL), where


def test_a_multi_line_answer_is_shown_exactly_as_typed() -> None:
    """Under white-space: pre-wrap every space shows: the answer's lines, their own leading spaces and blank lines are
    the author's, and nothing is added to them (the GOV.UK macro added six spaces to each line after the first)."""
    section = next(s for c in CHECKLISTS.values() for s in c.sections if any(f.type == "textarea" for f in s.fields))
    field = next(f for f in section.fields if f.type == "textarea")
    typed = "Line one\nLine two\n\n  indented & <b>kept</b>"
    drawn = (
        _environment()
        .from_string(OURS + DRAW)
        .render({"section": section, "answers": SectionAnswers(values={field.id: typed}), "change_url": ""})
    )
    assert "Line one\nLine two\n\n  indented &amp; &lt;b&gt;kept&lt;/b&gt;" in _multiline(drawn)


_FACTS = [
    "plain",
    'needs "escaping" & <more>',
    "over\nseveral\r\nlines",
]


@pytest.mark.parametrize("value", _FACTS)
@pytest.mark.parametrize("as_html", [False, True])
def test_a_list_of_facts_is_drawn_as_the_govuk_summary_list_draws_it(value: str, as_html: bool) -> None:
    """components/answers.html's summary_list (the handover's page: its status, who from and to, the reason for the
    transfer...) against govukSummaryList, each value as text and as HTML (a multi-line span), beside a tag."""
    env = template_environment(settings_for_tests(Path("unused")))
    tag = '<strong class="govuk-tag">Endorsed</strong>'
    ours = env.from_string(
        '{% from "components/answers.html" import summary_list %}'
        '{{ summary_list([("Status", tag | safe), ("Reason & <why>", multiline(value) if as_html else value)]) }}'
    )
    theirs = env.from_string(
        '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}'
        '{{ govukSummaryList({"rows": [{"key": {"text": "Status"}, "value": {"html": tag | safe}},'
        ' {"key": {"text": "Reason & <why>"},'
        ' "value": {"html": multiline(value)} if as_html else {"text": value}}]}) }}'
    )
    values = {"tag": tag, "value": value, "as_html": as_html}
    drawn = ours.render(values)
    assert _markup(drawn) == _markup(theirs.render(values))
    if as_html:  # shown exactly as typed, each line break a <br> (tests/test_multiline_as_typed.py)
        spans = re.findall(r'<span class="app-multiline">(.*?)</span>', drawn, flags=re.S)
        assert spans == ["<br>".join(str(escape(line)) for line in value.splitlines())]
