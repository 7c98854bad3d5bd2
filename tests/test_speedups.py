"""service/web/speedups.py relies on libraries' private internals: these fail, loudly, when a library changes under
it, and check that each piece gives what the library itself gives."""

from __future__ import annotations

import inspect
from collections import ChainMap
from importlib.metadata import version
from pathlib import Path

import jinja2
import markupsafe
import pytest
from jinja2 import DictLoader, Environment, Template
from markupsafe import Markup, escape

from service.app import template_environment
from service.web import speedups
from service.web.speedups import PageEnvironment, quick_escape
from tests.helpers import settings_for_tests


def _minor(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


@pytest.mark.parametrize("package", sorted(speedups.WRITTEN_AGAINST))
def test_each_library_is_the_minor_release_its_piece_was_written_against(package: str) -> None:
    written, installed = speedups.WRITTEN_AGAINST[package], version(package)
    assert _minor(installed) == _minor(written), (
        f"{package} {installed} is installed; service/web/speedups.py was written against {written}: check each "
        f"piece that names {package} against the new release, then update WRITTEN_AGAINST and pyproject.toml"
    )


# ---------------------------------------------------------------- MarkupSafe and Jinja: printing values


class Shown:
    def __str__(self) -> str:
        return "<shown & told>"


VALUES = ["plain", '<b>O\'Brien & "Sons"</b>', "", 0, -7, 2**70, 1.5, True, None, Markup("<i>kept</i>"), Shown()]


def test_markupsafe_still_escapes_through_its_private_core() -> None:
    inner = markupsafe._escape_inner  # type: ignore[attr-defined]
    assert speedups._escape_inner is inner
    assert inspect.getsource(markupsafe.escape).count("_escape_inner(") >= 1, "escape no longer calls _escape_inner"
    for text in ("plain", '<b>O\'Brien & "Sons"</b>', ""):
        assert type(inner(text)) is str
        assert inner(text) == str(escape(text))


def test_quick_escape_gives_markupsafes_text() -> None:
    for value in VALUES:
        assert str(quick_escape(value)) == str(escape(value)), value


def test_jinja_still_prints_autoescaped_values_through_a_global_named_escape() -> None:
    source = Environment(autoescape=True).compile("{{ value }}", raw=True)
    assert "escape(" in source and "def root(" in source, source
    template = Environment(autoescape=True).from_string("{{ value }}")
    assert template.root_render_func.__globals__["escape"] is escape  # what PageTemplate.from_code replaces


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


def test_jinja_still_writes_the_delegating_lines_the_code_generator_rewrites() -> None:
    # PageCodeGenerator matches these lines as text: if Jinja writes them differently it silently stops joining
    def generated(env: Environment, name: str) -> str:
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        return env.compile(source, name, raw=True)

    plain = Environment(loader=DictLoader(NESTED), autoescape=True)
    ours = PageEnvironment(loader=DictLoader(NESTED), autoescape=True)
    theirs = generated(plain, "page.html")
    assert "yield from " in theirs and "for event in gen:" in theirs, theirs
    mine = generated(ours, "page.html")
    assert "yield from " not in mine and "for event in gen:" not in mine, mine
    assert "yield environment.concat(" in mine and "for event in (environment.concat(gen),):" in mine


# ---------------------------------------------------------------- Jinja: rendering, `a.b`, globals


def test_jinjas_render_is_still_the_one_page_template_repeats() -> None:
    # PageTemplate.render is Jinja's own, plus emptying the context: a Jinja whose render does more needs a look
    source = inspect.getsource(Template.render)
    for step in (
        "ctx = self.new_context(dict(*args, **kwargs))",
        "return self.environment.concat(self.root_render_func(ctx))",
        "self.environment.handle_exception()",
    ):
        assert step in source, step


def test_the_render_context_is_emptied_after_rendering_and_after_an_error() -> None:
    env = PageEnvironment(loader=DictLoader({"p.html": "{% macro m() %}x{% endmacro %}{{ m() }}{{ 1 // n }}"}))
    template = env.get_template("p.html")
    seen: list[jinja2.runtime.Context] = []
    original = template.new_context

    def recording(*args: object, **kwargs: object) -> jinja2.runtime.Context:
        seen.append(original(*args, **kwargs))  # type: ignore[arg-type]
        return seen[-1]

    template.new_context = recording  # type: ignore[method-assign]
    assert template.render(n=1) == "x1"
    with pytest.raises(ZeroDivisionError):
        template.render(n=0)
    assert len(seen) == 2 and all(context.vars == {} for context in seen)


SOURCE = "{{ d.name }}|{{ d.items is callable }}|{{ d.missing is undefined }}|{{ d.get('name') }}|{{ o.real }}"


def test_dict_lookups_match_jinja() -> None:
    values = {"d": {"name": "Mia", "items": [1, 2]}, "o": 3}
    assert PageEnvironment().from_string(SOURCE).render(values) == Environment().from_string(SOURCE).render(values)
    assert PageEnvironment().from_string(SOURCE).render(values) == "Mia|True|True|Mia|3"


def test_jinja_still_looks_up_a_b_through_environment_getattr_attribute_first() -> None:
    assert "environment.getattr(" in Environment().compile("{{ d.name }}", raw=True)
    plain = Environment()
    assert plain.getattr({"name": "Mia"}, "name") == "Mia"
    shadowed = {"items": 1}
    assert plain.getattr(shadowed, "items") == shadowed.items  # the attribute wins, as PageEnvironment keeps


def test_jinja_still_makes_template_globals_through_make_globals() -> None:
    plain = Environment()
    plain.globals["shared"] = 1
    assert isinstance(plain.make_globals({"own": 2}), ChainMap), "Jinja changed how it builds a template's globals"
    ours = PageEnvironment()
    ours.globals["shared"] = 1
    made = ours.from_string("{{ shared }}{{ own }}", globals={"own": 2})
    assert made.globals == {**plain.globals, "own": 2} and made.render() == "12"
