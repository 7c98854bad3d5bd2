"""Find a child: search by the child's name or case reference, listing the handovers this person may open."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from service.actions.search import find_handovers
from service.core.clock import today
from service.core.due_dates import dues
from service.core.errors import Invalid
from service.core.pages import Page, page_number
from service.core.search import SEARCH_MAX
from service.web.context import checklists, database, page

PER_PAGE = 25


@get("/search", name="search", include_in_schema=False)
async def search(request: Request[Any, Any, Any]) -> Template:
    """The search form; with `q`, its results a page at a time. An empty form is just the form (no error until a
    search is made); a search that cannot be made is shown by the box with its message (400)."""
    asked = "q" in request.query_params
    text = request.query_params.get("q", "")
    shown = text[: SEARCH_MAX * 2]  # what the box shows again: enough to see what was wrong, never a whole body
    if not asked:
        return page(request, "search/search.html", text="", errors={}, results=None, search_max=SEARCH_MAX)
    try:
        found = await find_handovers(database(request).reader, request.user.actor, text)
    except Invalid as exc:
        return page(
            request, "search/search.html", status_code=400, text=shown, errors=exc.errors, results=None,
            search_max=SEARCH_MAX,
        )  # fmt: skip
    count = Page(1, PER_PAGE, len(found)).count
    number = min(page_number(request.query_params.get("page")), count)  # past the end: the last page
    start = Page(number, PER_PAGE, len(found)).offset
    return page(
        request,
        "search/search.html",
        text=shown,
        errors={},
        results=found[start : start + PER_PAGE],
        dues=dues(found[start : start + PER_PAGE], checklists(request).values(), today()),
        total=len(found),
        page_number=number,
        pages=count,
        base="/search?" + urlencode({"q": text.strip()}) + "&page=",
        search_max=SEARCH_MAX,
    )
