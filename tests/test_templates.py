"""The page environment's quicker dict lookup gives what Jinja itself gives; markup written out in our templates
is the markup the GOV.UK macros it replaces would give."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment
from markupsafe import Markup, escape

from service.app import PageEnvironment, choice_items, quick_escape, template_environment
from tests.helpers import settings_for_tests

SOURCE = "{{ d.name }}|{{ d.items is callable }}|{{ d.missing is undefined }}|{{ d.get('name') }}|{{ o.real }}"


def test_dict_lookups_match_jinja() -> None:
    values = {"d": {"name": "Mia", "items": [1, 2]}, "o": 3}
    assert PageEnvironment().from_string(SOURCE).render(values) == Environment().from_string(SOURCE).render(values)
    assert PageEnvironment().from_string(SOURCE).render(values) == "Mia|True|True|Mia|3"


def _markup(html: str) -> str:
    """HTML with the layout whitespace taken out, for comparing markup made by different templates."""
    return re.sub(r"\s+", " ", re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html))).strip()


@pytest.mark.parametrize("error", ["", "Choose a team from the list"])
def test_written_out_filters_match_the_govuk_macros(error: str) -> None:
    env = template_environment(settings_for_tests(Path("unused")))
    items = choice_items({"1": "North & <South>", "2": 'The "Cp" team'}, "2", "All teams")
    ours = env.from_string(
        '{% from "components/filters.html" import select, number_input %}'
        '{{ select("team", "Team & side", items, error) }}'
        '{{ number_input("min_days", "Open for at least", value, "govuk-input--width-4", error) }}'
    )
    theirs = env.from_string(
        '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
        '{{ govukSelect({"id": "team", "name": "team", "label": {"text": "Team & side"}, "items": items,'
        ' "errorMessage": {"text": error} if error else none}) }}'
        '{{ govukInput({"id": "min_days", "name": "min_days", "label": {"text": "Open for at least"},'
        ' "classes": "govuk-input--width-4", "inputmode": "numeric", "value": value,'
        ' "errorMessage": {"text": error} if error else none}) }}'
    )
    values = {"items": items, "error": error, "value": '3 "days"'}
    assert _markup(ours.render(values)) == _markup(theirs.render(values))


class Shown:
    def __str__(self) -> str:
        return "<shown & told>"


VALUES = ["plain", '<b>O\'Brien & "Sons"</b>', "", 0, -7, 2**70, 1.5, True, None, Markup("<i>kept</i>"), Shown()]


def test_quick_escape_gives_markupsafes_text() -> None:
    for value in VALUES:
        assert str(quick_escape(value)) == str(escape(value)), value


def test_page_templates_print_through_the_quick_escape() -> None:
    env = template_environment(settings_for_tests(Path("unused")))
    for name in ("base.html", "managers/_table.html", "components/filters.html"):
        assert env.get_template(name).root_render_func.__globals__["escape"] is quick_escape, name


def test_pages_print_values_as_jinja_does() -> None:
    # printed pieces are plain text, so every construct that keeps printed output and prints it again is here:
    # {% set %} blocks, {% filter %} blocks, macros (also through caller() and from inside another macro)
    source = (
        "{% for v in values %}[{{ v }}|{{ v ~ '&' }}|{{ v | string }}]{% endfor %}"
        "{% set x %}{{ values[1] }}{% endset %}{{ x }}{{ x ~ values[1] }}"
        "{% filter upper %}{{ values[1] }}{{ x }}{% endfilter %}"
        "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}"
        "{% macro row() %}<tr>{{ caller() }}{{ cell(values[1]) }}</tr>{% endmacro %}"
        "{% call row() %}{{ values[1] }}{{ cell(values[9]) }}{% endcall %}{{ cell(cell(values[1])) }}"
    )
    ours = template_environment(settings_for_tests(Path("unused"))).from_string(source)
    plain = Environment(autoescape=True).from_string(source)
    assert ours.render(values=VALUES) == plain.render(values=VALUES)
    assert "&lt;b&gt;O&#39;Brien &amp; &#34;Sons&#34;&lt;/b&gt;" in ours.render(values=VALUES)


NESTED = {
    "layout.html": "<html>{% block title %}T{% endblock %}|{% block body %}layout body{% endblock %}|"
    "{% for i in [1, 2] %}{% block item scoped %}<{{ i }}>{% endblock %}{% endfor %}</html>",
    "page.html": '{% extends "layout.html" %}{% from "macros.html" import cell %}'
    "{% block title %}{{ super() }} & {{ name }}{% endblock %}"
    "{% block body %}{% for v in values %}{{ cell(v) }}{% endfor %}"
    '{% with extra="with" %}{% include "part.html" %}{% endwith %}'
    '{% include "plain.html" without context %}{{ self.title() }}{% endblock %}'
    "{% block item %}[{{ i }}]{{ super() }}{% endblock %}",
    "macros.html": "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}",
    "part.html": "{% for v in values %}({{ v }}{{ extra }}){% endfor %}{% block inner %}in{% endblock %}",
    "plain.html": "plain",
}


def test_pages_with_layouts_blocks_and_includes_render_as_jinja_does_in_fewer_pieces() -> None:

    ours = PageEnvironment(loader=DictLoader(NESTED), autoescape=True)
    plain = Environment(loader=DictLoader(NESTED), autoescape=True)
    context = {"name": "<Mia>", "values": VALUES}
    assert ours.get_template("page.html").render(context) == plain.get_template("page.html").render(context)
    assert "&lt;Mia&gt;" in ours.get_template("page.html").render(context)

    def pieces(env: Environment) -> int:
        template = env.get_template("page.html")
        return len(list(template.root_render_func(template.new_context(context))))

    # each block, include and the layout hand up one joined string instead of every piece they print: the page is one
    assert pieces(ours) == 1 < pieces(plain)
