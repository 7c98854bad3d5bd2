"""Where the service relies on libraries' private internals, all in one place.

Each piece below depends on how a library works inside, not on its documented interface, so it names the version it
was written against. pyproject.toml keeps those libraries below their next minor release, and
tests/test_speedups.py fails if the version moves out of that range or if what a piece relies on is gone; whoever
raises a bound checks the piece against the new release first.

Kept, because the load benchmark showed each worth more than a tenth on the pages with long lists (the README's
benchmark section has the figures): printing values through MarkupSafe's escaping core, handing each block's output
up joined, and a direct dict lookup for `a.b`. Kept too, for memory rather than speed: the render context emptied
after rendering, which keeps a page's macros from holding everything it was given until the garbage collector's next
full pass (tests/test_memory.py requires it).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import markupsafe
from jinja2 import Environment, Template, nodes
from jinja2.compiler import CodeGenerator
from markupsafe import escape

# The releases each piece was written against; tests/test_speedups.py holds the installed ones to the same minor.
WRITTEN_AGAINST = {"jinja2": "3.1.6", "markupsafe": "3.0.4"}


# ---------------------------------------------------------------- MarkupSafe 3.0.4, Jinja 3.1.6

_escape_inner = markupsafe._escape_inner  # type: ignore[attr-defined]  # its C escaping (pure Python without it)


def quick_escape(value: Any) -> str:
    """What compiled templates print a value through: markupsafe.escape's text, quicker for the strings and numbers
    that make up most of a page.

    In compiled code `escape(...)` wraps only a value being printed, and printed pieces are only ever joined by
    `"".join`, which gives a plain str whatever they are; where joined output is kept (macros, `{% set %}` and
    `{% filter %}` blocks) Jinja marks the whole of it safe. So a Markup per printed value was a copy of every string
    for nothing: plain escaped text (the same object when there was nothing to escape) prints the same page.
    """
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is int:
        return str(value)
    return escape(value)


# ---------------------------------------------------------------- Jinja 3.1.6


class PageTemplate(Template):
    """A template that prints through `quick_escape`, and whose render context is emptied once the page is rendered.

    A macro defined in a template keeps the render context alive (context -> its variables -> the macro -> the
    context), so every page with one would otherwise wait, with everything it was given, for the garbage
    collector's full pass; under load those passes stall every request in flight.
    """

    @classmethod
    def from_code(cls, environment: Environment, code: Any, globals: Any, uptodate: Any = None) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = quick_escape  # the name compiled templates print through
        return template

    def render(self, *args: Any, **kwargs: Any) -> str:
        # Jinja's own Template.render (its async branch left out: pages are rendered synchronously), plus the clear
        context = self.new_context(dict(*args, **kwargs))
        try:
            return self.environment.concat(self.root_render_func(context))
        except Exception:
            self.environment.handle_exception()
        finally:
            context.vars.clear()


class PageCodeGenerator(CodeGenerator):
    """Jinja's compiler, with each block, include and parent layout handed up as one joined string.

    Jinja streams a page: every piece of text a block prints is passed up through `yield from` to the page that
    included it, that page's layout, and so on, one generator frame per level, for every piece. The pages are
    always rendered whole (`PageTemplate.render` joins them), so joining each level's output where it is made prints
    exactly the same text with one hand-off instead of several per piece. Only the lines Jinja writes to delegate to
    another generator change, matched as Jinja 3.1 writes them.
    """

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        if x.startswith("yield from "):  # a block, a parent layout, or an include without context
            x = f"yield environment.concat({x.removeprefix('yield from ')})"
        elif x == "for event in gen:":  # an include with context: its body yields `event`, now the one joined string
            x = "for event in (environment.concat(gen),):"
        super().writeline(x, node, extra)


class PageEnvironment(Environment):
    """Jinja for pages: PageTemplate, PageCodeGenerator, one globals dict per template, and a quicker `a.b`.

    `a.b` on plain dicts is what the GOV.UK component macros do on every parameter. Jinja tries the attribute first
    and falls back to the key after an AttributeError; for a dict key that is not also a dict method the answer is
    the same, so it is looked up directly instead of through an exception.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            if attribute not in DICT_ATTRIBUTES and attribute in obj:
                return obj[attribute]
        else:  # Jinja's own first try, here without a call through super() for every attribute a page prints
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)

    template_class = PageTemplate
    code_generator_class = PageCodeGenerator

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one dict rather than Jinja's ChainMap over the environment's. Every `{% from ...
        import %}` compares the importing page's global names with the imported template's, and a ChainMap's keys
        are compared in Python. The globals are all set before the first template loads, as Jinja asks, so a copy
        sees the same names."""
        return {**self.globals, **(d or {})}


DICT_ATTRIBUTES = frozenset(dir(dict))
